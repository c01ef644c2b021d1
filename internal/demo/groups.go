package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/insight/stats"
)

// groupsStory tells seven weeks of groups and events through the groups
// service, on a simulated clock of its own that ends now: weekly groups
// with registers taken, full sessions to come with waiting lists (one
// reordered by a lead, with the reason), places offered and held, a
// cancelled session, a drop-in, a partner agency's and the peer network's
// own events, and the network's ideas — answered and waiting — one taken
// up as a workshop that then moves room.
func (l *loader) groupsStory(ctx context.Context) error {
	end := l.Clock.Now()
	clock := app.NewFakeClock(end.AddDate(0, 0, -49))
	auditLog := audit.NewLog(l.DB, clock, audit.LogOptions{})
	auditLog.Start()
	defer auditLog.Close()
	g := &groups.Service{DB: l.DB, Clock: clock, Audit: auditLog, Notify: l.acc.Notify, BaseURL: l.Referrals.BaseURL, Suppress: stats.Suppressor{Threshold: 5}}
	p := func(key string) *app.Principal {
		pr, err := l.principal(ctx, key)
		if err != nil {
			panic(err) // the demo accounts were just made
		}
		return pr
	}
	lead, leadWard, partner, person, carer := p("lead"), p("lead.ward"), p("partner"), p("person"), p("carer")
	first := func(days int, hhmm string) string {
		return clock.Now().AddDate(0, 0, days).In(app.London).Format("2006-01-02") + "T" + hhmm
	}
	type made struct {
		g        groups.Group
		sessions []groups.Session
	}
	newGroup := func(by *app.Principal, in groups.NewGroup, s groups.NewSessions) (made, error) {
		gr, err := g.CreateGroup(ctx, by, in)
		if err != nil {
			return made{}, fmt.Errorf("%s: %w", in.Title, err)
		}
		ss, err := g.AddSessions(ctx, by, gr.ID, s)
		return made{gr, ss}, err
	}
	voices, err := newGroup(lead, groups.NewGroup{TeamID: l.teams["north"].ID, Title: "Hearing Voices Group",
		Summary: "A peer-led group for anyone who hears voices, sees visions or has other unusual experiences. Come as you are; listen or talk.",
		Repeats: groups.Weekly, Visibility: groups.Public, Capacity: 10, MaxPlaces: 2,
		Venue: groups.Venue{Name: "Riverside Recovery College", Address: "12 Mill Lane, Riverside RV1 2AB", StepFree: true, HearingLoop: true,
			QuietRoom: true, Transport: "Riverside station, 5 minutes' walk; buses 3 and 12 stop outside"},
		FacilitatorIDs: []int64{l.users["peer"].ID, l.users["peer2"].ID}},
		groups.NewSessions{Start: first(1, "10:30"), Minutes: 90, Count: 10})
	if err != nil {
		return err
	}
	walk, err := newGroup(lead, groups.NewGroup{TeamID: l.teams["south"].ID, Title: "Walk and Talk",
		Summary: "A gentle hour's walk round the park with peer workers. Drop in: no need to book.", Repeats: groups.Weekly, Visibility: groups.Public,
		Booking: "drop_in", Capacity: 20, Venue: groups.Venue{Name: "Park gates, Victoria Park", Address: "Park Road, Riverside", StepFree: true,
			Transport: "Bus 7 to Park Road"}, FacilitatorIDs: []int64{l.users["peer3"].ID, l.users["peer4"].ID}},
		groups.NewSessions{Start: first(2, "14:00"), Minutes: 60, Count: 9})
	if err != nil {
		return err
	}
	coffee, err := newGroup(partner, groups.NewGroup{TeamID: l.teams["horizons"].ID, Title: "Horizons Coffee and Chat",
		Summary: "A relaxed morning at the Horizons centre, for anyone who uses mental health services and the people who care for them.",
		Repeats: groups.Fortnightly, Visibility: groups.Public, Capacity: 15, MaxPlaces: 3,
		Venue:          groups.Venue{Name: "Horizons Centre", Address: "4 Bridge Street, Riverside RV2 9CD", StepFree: true, QuietRoom: true},
		FacilitatorIDs: []int64{l.users["partner"].ID}},
		groups.NewSessions{Start: first(3, "10:00"), Minutes: 120, Count: 5})
	if err != nil {
		return err
	}
	art, err := newGroup(leadWard, groups.NewGroup{TeamID: l.teams["ward"].ID, Title: "Ward 4 Art Group",
		Summary: "Art on the ward, led by a peer worker, for people staying on Ward 4.", Repeats: groups.Weekly, Visibility: groups.Members,
		Capacity: 8, MaxPlaces: 1, Venue: groups.Venue{Name: "Ward 4 day room", StepFree: true},
		FacilitatorIDs: []int64{l.users["peer.ward"].ID, l.users["nurse"].ID}},
		groups.NewSessions{Start: first(1, "15:00"), Minutes: 60, Count: 8})
	if err != nil {
		return err
	}
	// Bookings arrive over the weeks; registers are taken on the day.
	names := []string{"Sam", "Priya", "Alex", "Chris", "Jo", "Maya", "Tom", "Aisha", "Ben", "Kat", "Dev", "Ellie", "Femi", "Gus", "Hana", "Ivan"}
	publicBooking := func(s groups.Session, i, places int) (groups.BookingResult, error) {
		n := names[i%len(names)]
		return g.Book(ctx, app.Public("demo"), s.ID, groups.BookingRequest{Name: n, Email: strings.ToLower(n) + fmt.Sprintf(".%d@example.org", i),
			Places: places})
	}
	to := func(t time.Time) {
		if d := t.Sub(clock.Now()); d > 0 {
			clock.Advance(d)
		}
	}
	for wk, s := range voices.sessions {
		if !s.StartsAt.Before(end) {
			break
		}
		to(s.StartsAt.Add(-3 * 24 * time.Hour))
		var booked []groups.BookingResult
		for i := range 9 + wk%4 {
			places := 1
			if i%5 == 3 {
				places = 2
			}
			r, err := publicBooking(s, wk*13+i, places)
			if err != nil {
				return err
			}
			booked = append(booked, r)
		}
		// Someone cancels the day before; the place moves down the list.
		to(s.StartsAt.Add(-26 * time.Hour))
		if _, err := g.Cancel(ctx, app.Public("demo"), booked[1].ID, booked[1].Key); err != nil {
			return err
		}
		to(s.StartsAt.Add(-20 * time.Hour))
		if _, err := g.ExpireOffers(ctx, app.Operator("demo")); err != nil {
			return err
		}
		if _, err := g.SendReminders(ctx, app.Operator("demo")); err != nil {
			return err
		}
		to(s.StartsAt.Add(2 * time.Hour))
		if _, err := g.ExpireOffers(ctx, app.Operator("demo")); err != nil {
			return err
		}
		reg := groups.Register{Entries: []groups.RegisterEntry{}, DropIns: []groups.DropIn{{Name: "R", People: 1}}}
		for i, b := range booked {
			if b.Status != groups.StatusBooked || i == 1 {
				continue
			}
			outcome := "attended"
			if i == 4 && wk%2 == 0 {
				outcome = "no_show"
			}
			reg.Entries = append(reg.Entries, groups.RegisterEntry{BookingID: b.ID, Outcome: outcome})
		}
		if _, err := g.RecordAttendance(ctx, p("peer"), s.ID, reg); err != nil {
			return err
		}
	}
	// The drop-in and the coffee mornings that have been.
	for _, s := range append(append([]groups.Session{}, walk.sessions...), coffee.sessions...) {
		if !s.StartsAt.Before(end) {
			continue
		}
		to(s.StartsAt.Add(90 * time.Minute))
		by := p("peer3")
		if s.GroupID == coffee.g.ID {
			by = partner
		}
		if _, err := g.RecordAttendance(ctx, by, s.ID, groups.Register{Entries: []groups.RegisterEntry{},
			DropIns: []groups.DropIn{{People: 6 + int(s.ID%5)}}}); err != nil {
			return err
		}
	}
	to(end.Add(-2 * time.Hour))
	// The next Hearing Voices session is full, with a waiting list: Jordan
	// (an account) booked in one click, a lead moved a carer up with a
	// reason, and a place is being held for the first person waiting.
	var next groups.Session
	for _, s := range voices.sessions {
		if s.StartsAt.After(end) {
			next = s
			break
		}
	}
	if _, err := g.Book(ctx, person, next.ID, groups.BookingRequest{Places: 1}); err != nil {
		return err
	}
	var rest []groups.BookingResult
	for i := 0; i < 14; i++ {
		r, err := publicBooking(next, 200+i, 1)
		if err != nil {
			return err
		}
		rest = append(rest, r)
	}
	if _, err := g.Book(ctx, carer, next.ID, groups.BookingRequest{Places: 2, AccessNeeds: "Coming with the person I care for"}); err != nil {
		return err
	}
	var carerID int64
	if err := l.DB.QueryRow(ctx, "SELECT id FROM group_bookings WHERE session_id = $1 AND user_id = $2", next.ID, l.users["carer"].ID).Scan(&carerID); err != nil {
		return err
	}
	if _, err := g.MoveOnList(ctx, lead, carerID, groups.Move{Position: 1, Reason: "Tuesday is the only day their carer's respite is booked"}); err != nil {
		return err
	}
	if _, err := g.Cancel(ctx, app.Public("demo"), rest[0].ID, rest[0].Key); err != nil {
		return err
	}
	// The coming Art Group on the ward is cancelled, with the reason.
	for _, s := range art.sessions {
		if s.StartsAt.After(end) {
			if _, err := g.CancelSession(ctx, leadWard, s.ID, groups.SessionCancel{Reason: "The ward is closed to visitors this week"}); err != nil {
				return err
			}
			break
		}
	}
	// The network's ideas: one taken up as a workshop, one not for now,
	// and one waiting for an answer with people interested.
	allotment, err := g.Propose(ctx, person, groups.NewProposal{Title: "Allotment mornings",
		Summary: "Growing vegetables together on Saturday mornings. Being outside helps me more than anything."})
	if err != nil {
		return err
	}
	if _, err := g.ShowInterest(ctx, carer, allotment.ID); err != nil {
		return err
	}
	if _, err := g.ShowInterest(ctx, p("peer"), allotment.ID); err != nil {
		return err
	}
	poetry, err := g.Propose(ctx, carer, groups.NewProposal{Title: "Poetry and spoken word evening"})
	if err != nil {
		return err
	}
	if _, err := g.AnswerProposal(ctx, lead, poetry.ID, groups.ProposalAnswer{Outcome: groups.ProposalNotTakenUp,
		Answer: "We have no evening venue yet. We are asking the library, and will come back to this in the spring."}); err != nil {
		return err
	}
	planning, err := g.Propose(ctx, person, groups.NewProposal{Title: "Wellbeing planning workshop",
		Summary: "A workshop on writing your own wellbeing and crisis plan, led by people who have done it."})
	if err != nil {
		return err
	}
	for _, key := range []string{"carer", "peer2", "peer3"} {
		if _, err := g.ShowInterest(ctx, p(key), planning.ID); err != nil {
			return err
		}
	}
	workshop, err := newGroup(lead, groups.NewGroup{TeamID: l.teams["north"].ID, Title: "Recovery College: Wellbeing Planning",
		Summary: "A two-hour workshop, proposed by members of the peer network: writing your own wellbeing and crisis plan.", Repeats: groups.Once,
		Visibility: groups.Public, Capacity: 8, MaxPlaces: 1, HoldHours: 48, ProposalID: planning.ID,
		Venue:          groups.Venue{Name: "Riverside Recovery College", Address: "12 Mill Lane, Riverside RV1 2AB", StepFree: true, HearingLoop: true},
		FacilitatorIDs: []int64{l.users["peer"].ID}},
		groups.NewSessions{Start: first(12, "13:30"), Minutes: 120})
	if err != nil {
		return err
	}
	for i := 0; i < 12; i++ {
		if _, err := publicBooking(workshop.sessions[0], 300+i, 1); err != nil {
			return err
		}
	}
	// The workshop moves to a ground-floor room, with a second facilitator:
	// everyone booked is told where, behind the link in their email.
	cur, err := g.GetGroup(ctx, lead, workshop.g.ID, "")
	if err != nil {
		return err
	}
	change := groups.GroupChange{Version: cur.Version, Title: cur.Title, Summary: cur.Summary, Repeats: cur.Repeats, Visibility: cur.Visibility,
		Booking: cur.Booking, Capacity: cur.Capacity, MaxPlaces: cur.MaxPlaces, HoldHours: cur.HoldHours, Venue: cur.Venue,
		FacilitatorIDs: []int64{l.users["peer"].ID, l.users["peer2"].ID}}
	change.Venue.Name = "Riverside Recovery College, Room 3 (ground floor)"
	_, err = g.EditGroup(ctx, lead, workshop.g.ID, change)
	return err
}
