package demo

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/watch"
)

// The community story: the moderator opens a few spaces; Jordan joins as
// "Quiet Heron" (agreeing that moderators may tell their care team if
// worried), Linda the carer as "Kind Otter", and Kofi posts as himself,
// under his role. Ideas are shared and thanked; Linda's first post, as a
// new member's, waits in the moderator's queue; a post about a hard night
// is flagged by a worried member and waits there too, first.
func (l *loader) communityStory(ctx context.Context) error {
	auditLog := audit.NewLog(l.DB, l.clock, audit.LogOptions{})
	auditLog.Start()
	defer auditLog.Close()
	c := &community.Service{DB: l.DB, Clock: l.clock, Audit: auditLog, Watch: &watch.Service{DB: l.DB, Clock: l.clock, Audit: auditLog},
		Alerts: l.alerts, Notify: l.acc.Notify, Limits: &ratelimit.Counters{DB: l.DB, Clock: l.clock}, Referrals: l.ref}
	who := map[string]*app.Principal{}
	for _, k := range []string{"moderator", "person", "carer", "peer", "lead"} {
		p, err := l.principal(ctx, k)
		if err != nil {
			return err
		}
		who[k] = p
	}
	spaces := map[string]community.Space{}
	for _, sp := range []community.Space{
		{Name: "Ideas for our service", Description: "What would make peer support better? Everyone's ideas welcome.", ForPeople: true, ForCarers: true, ForStaff: true},
		{Name: "Living with voices", Description: "For people who hear voices or see things others do not.", ForPeople: true, ForStaff: true},
		{Name: "Carers' corner", Description: "For family and friends who support someone.", ForCarers: true, ForStaff: true},
		{Name: "Peer workers only", Description: "Supervision questions, training, looking after ourselves.", ForStaff: true},
		{Name: "Tuesday walking group", Description: "The walking group's own space.", InvitationOnly: true},
	} {
		made, err := c.CreateSpace(ctx, who["moderator"], sp)
		if err != nil {
			return err
		}
		spaces[sp.Name] = made
	}
	if err := c.Invite(ctx, who["moderator"], spaces["Tuesday walking group"].ID, who["person"].UserID); err != nil {
		return err
	}
	for k, s := range map[string]community.Settings{"person": {DisplayName: "Quiet Heron", CareTeamConsent: true},
		"carer": {DisplayName: "Kind Otter"}, "peer": {DisplayName: who["peer"].Name}} {
		if _, err := c.SaveSettings(ctx, who[k], s); err != nil {
			return err
		}
	}
	for _, k := range []string{"person", "peer"} {
		if _, err := c.SetTrust(ctx, who["moderator"], who[k].UserID, community.TrustChange{Level: community.LevelMember, Reason: "Known to the peer support team"}); err != nil {
			return err
		}
	}
	ideas, err := c.CreateTopic(ctx, who["peer"], spaces["Ideas for our service"].ID, community.NewTopic{Title: "An evening drop-in?", Tags: "evenings, drop-in, ideas",
		Body: "Several of you have said evenings are the hardest time.\nWould a drop-in from 6 to 8 on Thursdays help? Where should it be?"})
	if err != nil {
		return err
	}
	reply, err := c.Reply(ctx, who["person"], ideas.Topic.ID, community.NewPost{Body: "Yes please. Somewhere that isn't the hospital would be good: the library has a room."})
	if err != nil {
		return err
	}
	for _, k := range []string{"thank_you", "me_too"} {
		if _, err := c.React(ctx, who["peer"], reply.Post.ID, k); err != nil {
			return err
		}
	}
	night, err := c.CreateTopic(ctx, who["person"], spaces["Living with voices"].ID, community.NewTopic{Title: "Rough nights", Tags: "sleep, hearing voices",
		Body: "The voices are loudest at night and some nights I can't cope. What helps you?"})
	if err != nil {
		return err
	}
	if _, err := c.Reply(ctx, who["peer"], night.Topic.ID, community.NewPost{Body: "Thank you for saying this. Music at low volume helps some people. Keep the crisis numbers in your phone too."}); err != nil {
		return err
	}
	if _, err := c.React(ctx, who["peer"], night.Post.ID, "strength"); err != nil {
		return err
	}
	// Linda's first post waits for a moderator.
	if _, err := c.CreateTopic(ctx, who["carer"], spaces["Carers' corner"].ID, community.NewTopic{Title: "Hello from a new carer", Tags: "carers, looking after yourself",
		Body: "My son was discharged last month. How do other carers look after themselves?"}); err != nil {
		return err
	}
	// A member is worried about Quiet Heron's post.
	if err := c.Flag(ctx, who["peer"], night.Post.ID, community.NewFlag{Kind: "worried", Note: "Just checking someone sees this tonight."}); err != nil {
		return err
	}
	// A later reply worried the moderators: they recorded a concern, and as
	// Quiet Heron agreed that their care team may be told, it went to the
	// team's duty leads as an alert.
	risky, err := c.Reply(ctx, who["person"], night.Topic.ID, community.NewPost{Body: "Last night I thought about ending it all. I'm still here, and reading this helps."})
	if err != nil {
		return err
	}
	if _, err := c.Escalate(ctx, who["moderator"], risky.Post.ID, community.NewEscalation{Reason: "Wrote about ending it all last night"}); err != nil {
		return err
	}
	// Kind Otter was made read-only for three days and has appealed: the
	// appeal waits for a peer lead.
	sn, err := c.ApplySanction(ctx, who["moderator"], who["carer"].UserID, community.NewSanction{Kind: "read_only", Days: 3,
		Reason: "Several replies in a row argued with other members about their medication."})
	if err != nil {
		return err
	}
	if _, err := c.AppealSanction(ctx, who["carer"], sn.ID, community.NewAppeal{Words: "I was trying to warn people about side effects, not argue. I'm sorry if it came across badly."}); err != nil {
		return err
	}
	// Mo is on duty this evening and the next two (6pm to 11pm, UK time);
	// outside those times the spaces say nobody is online.
	day := l.clock.Now().In(app.London)
	for i := range 3 {
		from := time.Date(day.Year(), day.Month(), day.Day()+i, 18, 0, 0, 0, app.London)
		if !from.Add(5 * time.Hour).After(l.clock.Now()) {
			continue
		}
		if _, err := c.AddDuty(ctx, who["lead"], community.NewDuty{ModeratorID: who["moderator"].UserID, From: from, To: from.Add(5 * time.Hour)}); err != nil {
			return err
		}
	}
	return nil
}
