package demo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
)

var firstNames = []string{"Amira", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Harun", "Isla", "Jamal", "Kiran", "Lena",
	"Marek", "Nadia", "Oisin", "Priya", "Qasim", "Rosa", "Stefan", "Tia", "Umar", "Vicky", "Wes", "Xin", "Yara", "Zak",
	"Abdi", "Bethan", "Callum", "Darnell", "Eilidh", "Farah", "Gethin", "Hana", "Ifeoma", "Joel", "Kasia", "Leon", "Maya",
	"Nathan", "Olu", "Paige", "Rhys", "Sana", "Tomasz", "Uzma", "Viktor", "Winston", "Yusra", "Zoe"}

var surnames = []string{"Adeyemi", "Baker", "Campbell", "Davies", "Evans", "Fitzgerald", "Gill", "Hussain", "Ibrahim", "Jones",
	"Kaur", "Lewis", "Mahmood", "Nowak", "O'Brien", "Patel", "Quinn", "Roberts", "Singh", "Thomas", "Uddin", "Walker",
	"Wright", "Young", "Zielinski", "Ahmed", "Brown", "Clarke", "Dlamini", "Edwards", "Francis", "Green", "Hall", "Iqbal",
	"Johnson", "Khan", "Lee", "Morris", "Nkemelu", "Owusu"}

var languages = []string{"English", "English", "English", "English", "English", "English", "English", "English", "Polish", "Urdu", "Punjabi", "Arabic", "Somali", "Romanian", "Bengali"}

func (l *loader) pick(xs []string) string { return xs[l.rng.IntN(len(xs))] }

// demoPerson is one demo person on a caseload.
type demoPerson struct {
	ref, name, ethnicity, gender string
	birthYear                    int
	coord                        int
	start                        time.Time
	open                         bool
	id                           int64
}

// caseloads imports about 1,600 people on the co-ordinators' caseloads,
// with characteristics drawn so that Black and Black British people and
// young men are referred less often: the pattern the equity view should
// bring out.
func (l *loader) caseloads(ctx context.Context) error {
	now := l.Clock.Now()
	svc := &caseload.Service{DB: l.DB, Clock: l.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}
	ethnicities := []struct {
		code   string
		weight int
	}{{"white_british", 62}, {"white_other", 5}, {"white_irish", 2}, {"asian_pakistani", 6}, {"asian_indian", 4}, {"asian_bangladeshi", 2},
		{"black_caribbean", 5}, {"black_african", 5}, {"mixed_white_black_caribbean", 3}, {"other_arab", 1}, {"prefer_not_to_say", 3}, {"", 2}}
	total := 0
	for _, e := range ethnicities {
		total += e.weight
	}
	var eps []caseload.Episode
	for ci, c := range coordinators {
		size := 40 + l.rng.IntN(110)
		if c.team == "ward" || c.team == "forensic" || c.name == "Marcus Reid" {
			size = 12 + l.rng.IntN(20)
		}
		for range size {
			w := l.rng.IntN(total)
			eth := ""
			for _, e := range ethnicities {
				if w < e.weight {
					eth = e.code
					break
				}
				w -= e.weight
			}
			gender := []string{"woman", "man", "woman", "man", "non_binary", "prefer_not_to_say", ""}[l.rng.IntN(7)]
			p := demoPerson{ref: fmt.Sprintf("RX%07d", 1000000+len(l.people)), name: l.pick(firstNames) + " " + l.pick(surnames),
				ethnicity: eth, gender: gender, birthYear: now.Year() - 18 - l.rng.IntN(60), coord: ci,
				start: now.AddDate(0, 0, -30-l.rng.IntN(700)), open: l.rng.IntN(10) < 8}
			if c.team == "transitions" {
				p.birthYear = now.Year() - 17 - l.rng.IntN(4)
			}
			l.people = append(l.people, p)
			e := caseload.Episode{PersonRef: p.ref, Team: l.teams[c.team].Name, CoordinatorEmail: emailFor(c.name),
				StartDate: p.start.Format("2006-01-02"), BirthYear: p.birthYear, Gender: gender, Ethnicity: eth,
				Disability:    []string{"yes", "no", "no", "", "prefer_not_to_say"}[l.rng.IntN(5)],
				FirstLanguage: l.pick(languages), PreferredName: p.name}
			if !p.open {
				e.EndDate = now.AddDate(0, 0, -l.rng.IntN(25)).Format("2006-01-02")
			}
			eps = append(eps, e)
		}
	}
	for i := 0; i < len(eps); i += caseload.MaxBatch {
		rep, err := svc.ImportEpisodes(ctx, app.Actor{RequestID: "demo"}, eps[i:min(i+caseload.MaxBatch, len(eps))], caseload.ImportOptions{})
		if err != nil {
			return err
		}
		if rep.Invalid > 0 {
			return fmt.Errorf("demo caseload rows invalid: %+v", rep.Problems)
		}
		l.res.Episodes += rep.Inserted
	}
	rows, err := l.DB.Query(ctx, "SELECT id, trust_ref FROM people WHERE trust_ref IS NOT NULL")
	if err != nil {
		return err
	}
	defer rows.Close()
	ids := map[string]int64{}
	for rows.Next() {
		var id int64
		var ref string
		if err := rows.Scan(&id, &ref); err != nil {
			return err
		}
		ids[ref] = id
	}
	for i := range l.people {
		l.people[i].id = ids[l.people[i].ref]
	}
	return rows.Err()
}

// event is one step of the story, run at its time on the simulated clock.
type event struct {
	at  time.Time
	run func(ctx context.Context) error
}

// plan is one referral's path: who makes it, through which door, and how
// far it gets.
type plan struct {
	door   referral.Source
	by     string // account key making it ("" for the public form)
	person *demoPerson
	name   string
	final  referral.Status
	start  time.Time
	team   string
	id     int64
	// noConsent: made without the person's agreement, so a lead records
	// why the team goes ahead (or that they have agreed) before taking it on.
	noConsent bool
}

// story plays out referrals and offers together, in time order.
func (l *loader) story(ctx context.Context) error {
	now := l.Clock.Now()
	events := append(append(l.referralEvents(now), l.offerEvents(now)...), l.riskEvents(now)...)
	events = append(events, l.personSideEvents(now)...)
	events = append(events, l.feedbackEvents(now)...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	for _, e := range events {
		l.at(e.at)
		if err := e.run(ctx); err != nil {
			return err
		}
	}
	for _, pl := range l.plans {
		if pl.id != 0 {
			l.res.Referrals++
		}
	}
	l.at(now)
	// Alerts nobody answered in time go to the service managers, as the
	// serve command's job would have done.
	if _, err := l.alerts.EscalateDue(ctx); err != nil {
		return err
	}
	someone, err := l.principal(ctx, "person")
	if err != nil {
		return err
	}
	if _, err := l.ref.RecordOwnOffer(ctx, someone, false, "Nobody mentioned it until I read about it online."); err != nil {
		return err
	}
	l.res.Offers++
	return nil
}

func (l *loader) referralEvents(now time.Time) []event {
	story := now.AddDate(0, -8, 0)
	var plans []*plan
	// Every door in every state, so every page has something to show.
	doors := []struct {
		door referral.Source
		by   string
		team string
	}{{referral.SourceSelf, "", "north"}, {referral.SourceCarer, "carer", "south"}, {referral.SourceStaff, "nurse", "ward"},
		{referral.SourcePartner, "partner", ""}, {referral.SourceCommunity, "peer", "north"}}
	for _, d := range doors {
		for _, st := range referral.Statuses {
			plans = append(plans, &plan{door: d.door, by: d.by, team: d.team, final: st, name: l.pick(firstNames) + " " + l.pick(surnames),
				start: story.Add(time.Duration(l.rng.Int64N(int64(now.Sub(story) / 2))))})
		}
	}
	// The gatekeeping picture: co-ordinators refer the people on their
	// caseloads at their own rates; some groups are referred less.
	for i := range l.people {
		p := &l.people[i]
		c := coordinators[p.coord]
		rate := c.referRate
		if p.ethnicity == "black_caribbean" || p.ethnicity == "black_african" || p.ethnicity == "mixed_white_black_caribbean" {
			rate *= 0.35
		}
		if p.gender == "man" && now.Year()-p.birthYear <= 25 {
			rate *= 0.5
		}
		if !p.open || l.rng.Float64() >= rate {
			continue
		}
		from := story
		if p.start.After(from) {
			from = p.start
		}
		finals := []referral.Status{referral.Received, referral.Accepted, referral.Allocated, referral.Active, referral.Active,
			referral.Ended, referral.Ended, referral.Ended, referral.Declined, referral.Withdrawn}
		plans = append(plans, &plan{door: referral.SourceStaff, by: fmt.Sprintf("coord%d", p.coord), person: p, team: c.team,
			final: finals[l.rng.IntN(len(finals))], start: from.Add(time.Duration(l.rng.Int64N(int64(now.Sub(from)))))})
	}
	// The person with an account asked for themselves while signed in, a
	// little over a year ago, and has had peer support since.
	plans = append(plans, &plan{door: referral.SourceSelf, by: "person", team: "north", final: referral.Active,
		start: now.AddDate(-1, -1, 0)})
	l.plans = plans
	var events []event
	for _, pl := range plans {
		events = append(events, l.planEvents(pl, now)...)
	}
	return events
}

// planEvents lays out a referral's steps in time. Steps that would fall in
// the future are dropped, so recent referrals are still early in their
// lifecycle; the fixed "every door in every state" plans are timed to
// finish.
func (l *loader) planEvents(pl *plan, now time.Time) []event {
	days := func(lo, hi int) time.Duration { return time.Duration(lo+l.rng.IntN(hi-lo+1)) * 24 * time.Hour }
	t := pl.start
	var out []event
	add := func(d time.Duration, fn func(ctx context.Context) error) {
		t = t.Add(d)
		if t.Before(now) {
			out = append(out, event{at: t, run: fn})
		}
	}
	add(0, func(ctx context.Context) error { return l.create(ctx, pl) })
	lead := "lead"
	if pl.team == "ward" || pl.team == "crisis" || pl.team == "transitions" || pl.team == "forensic" {
		lead = "lead.ward"
	}
	worker := map[string]string{"north": "peer", "south": "peer3", "ward": "peer.ward", "crisis": "peer.ward",
		"transitions": "peer.transitions", "forensic": "peer.transitions", "": "peer2"}[pl.team]
	if pl.team == "north" && l.rng.IntN(2) == 0 {
		worker = "peer2"
	}
	if pl.team == "south" && l.rng.IntN(2) == 0 {
		worker = "peer4"
	}
	if pl.team == "" {
		pl.team = "north"
	}
	move := func(who string, m referral.Move) func(ctx context.Context) error {
		return func(ctx context.Context) error { return l.move(ctx, pl, who, m) }
	}
	switch pl.final {
	case referral.Received:
		return out
	case referral.Declined:
		add(days(2, 12), move(lead, referral.Move{To: referral.Declined, Reason: []string{"unable_to_contact", "person_declined", "no_longer_needed"}[l.rng.IntN(3)],
			Note: "Tried three times by phone and once by letter."}))
		return out
	case referral.Redirected:
		add(days(2, 12), move(lead, referral.Move{To: referral.Redirected, RedirectedTo: "Recovery College",
			RedirectMessage: "They asked mainly for courses; the Recovery College's next term starts soon and has places."}))
		return out
	case referral.Withdrawn:
		add(days(3, 20), move(lead, referral.Move{To: referral.Withdrawn, Note: "The person let us know they would rather not go ahead for now."}))
		return out
	}
	accept := referral.Move{To: referral.Accepted}
	if pl.door == referral.SourcePartner {
		accept.TeamID = l.teams[pl.team].ID
	}
	proceed := pl.final == referral.Active
	add(days(1, 5), func(ctx context.Context) error {
		if pl.id == 0 || !pl.noConsent {
			return nil
		}
		p, err := l.principal(ctx, lead)
		if err != nil {
			return err
		}
		d := referral.ConsentDecision{Decision: "given"}
		if proceed {
			d = referral.ConsentDecision{Decision: "proceed", Reason: "Their support worker at Horizons says they asked for it and would like a call; we will check with them on the first call."}
		}
		_, err = l.ref.RecordConsent(ctx, p, pl.id, d)
		return err
	})
	add(days(1, 14), move(lead, accept))
	if pl.final == referral.Accepted {
		return out
	}
	add(days(5, 35), move(lead, referral.Move{To: referral.Allocated, WorkerID: l.users[worker].ID}))
	if l.rng.IntN(3) == 0 {
		add(days(1, 7), func(ctx context.Context) error {
			return l.contact(ctx, pl, worker, "phone", "Called to say hello while they wait, and shared the times of the walking group.")
		})
	}
	if pl.final == referral.Allocated {
		return out
	}
	add(days(2, 10), func(ctx context.Context) error {
		return l.contact(ctx, pl, worker, "in_person", "First meeting at the café near the library. Talked about what they'd like from peer support.")
	})
	add(time.Hour, move(worker, referral.Move{To: referral.Active}))
	active := t
	for range l.rng.IntN(4) {
		add(days(6, 10), func(ctx context.Context) error {
			return l.contact(ctx, pl, worker, []string{"in_person", "phone", "video", "group"}[l.rng.IntN(4)], "Met as planned.")
		})
	}
	if pl.final == referral.Active {
		return append(out, l.recoveryEvents(pl, worker, active, time.Time{}, now)...)
	}
	end := referral.Move{To: referral.Ended, Ending: referral.EndingPlanned, Reason: []string{"goals_met", "goals_met", "person_chose_to_stop", "moved_service"}[l.rng.IntN(4)],
		OutcomeSummary: "We met regularly over the weeks; they have joined the Tuesday walking group and feel more confident getting out."}
	switch end.Reason {
	case "goals_met":
		end.WhatHelped = "Having someone who had been there, and walking instead of sitting in a room."
	case "person_chose_to_stop":
		end.Ending = referral.EndingUnplanned
	}
	add(days(20, 60), move(worker, end))
	if !t.Before(now) {
		return append(out, l.recoveryEvents(pl, worker, active, time.Time{}, now)...)
	}
	return append(out, l.recoveryEvents(pl, worker, active, t, now)...)
}

func (l *loader) create(ctx context.Context, pl *plan) error {
	asked := []string{"Someone to talk to who has been through something similar.",
		"Getting back out of the house and meeting people again.", "Support with going back to work.",
		"Understanding my diagnosis and medication from someone who has lived it.", "Help finding groups nearby.",
		"Feeling less alone after leaving hospital."}[l.rng.IntN(6)]
	prefs := []string{"", "I'd prefer a woman.", "Someone who understands my culture.", "The same person each time, please.", ""}[l.rng.IntN(5)]
	phone := fmt.Sprintf("07700 9%05d", l.rng.IntN(100000))
	if pl.door == referral.SourceSelf && pl.by != "" {
		p, err := l.principal(ctx, pl.by)
		if err != nil {
			return err
		}
		r, err := l.ref.CreateReferral(ctx, p, referral.NewReferral{Source: referral.SourceSelf, AskedFor: asked, WorkerPreferences: prefs, TeamID: l.teams[pl.team].ID})
		pl.id = r.ID
		return err
	}
	if pl.door == referral.SourceSelf {
		res, err := l.ref.CreateSelfReferral(ctx, app.Public("demo"), referral.SelfReferral{
			Details: person.Details{PreferredName: pl.name, Phone: phone, ContactPreference: "text", ContactTimes: "Weekday afternoons",
				Gender: []string{"woman", "man", "non_binary"}[l.rng.IntN(3)], Ethnicity: "white_british"},
			AskedFor: asked, WorkerPreferences: prefs, TeamID: l.teams[pl.team].ID})
		pl.id = res.ID
		return err
	}
	p, err := l.principal(ctx, pl.by)
	if err != nil {
		return err
	}
	yes := true
	in := referral.NewReferral{Source: pl.door, AskedFor: asked, WorkerPreferences: prefs, PersonKnows: &yes, Consent: "given",
		ContactHow: "Phone or text", ContactWhen: "Mornings", NotDuplicate: true}
	if referral.UrgencyDoor(pl.door) {
		// Most referrals are routine; some are urgent, a few very urgent.
		switch n := l.rng.IntN(100); {
		case n < 4:
			in.Urgency = referral.VeryUrgent
		case n < 15:
			in.Urgency = referral.Urgent
		}
	}
	if pl.person != nil {
		in.PersonID = pl.person.id
	} else {
		in.Person = person.Details{PreferredName: pl.name, Phone: phone, Ethnicity: []string{"asian_pakistani", "white_british", "black_african"}[l.rng.IntN(3)]}
	}
	switch pl.door {
	case referral.SourceCarer:
		in.Relationship = []string{"parent", "partner", "sister"}[l.rng.IntN(3)]
		in.ShareWithReferrer = l.rng.IntN(2) == 0
		in.TeamID = l.teams[pl.team].ID
	case referral.SourceCommunity:
		in.MetAt = []string{"Hearing Voices Peer Group", "Men's walking group", "Online peer forum"}[l.rng.IntN(3)]
	case referral.SourcePartner:
		if l.rng.IntN(3) == 0 || pl.final == referral.Received || pl.final == referral.Active {
			in.Consent, in.ConsentReason, in.PersonKnows = "not_obtained", "They were too unwell to talk it through today; we will ask again.", &yes
			pl.noConsent = true
		}
	}
	if in.Consent == "given" && pl.door != referral.SourceCarer {
		// Most people agree that whoever referred them follows it; some
		// also agree to it being shared beyond the peer support team.
		in.ShareWithReferrer = l.rng.IntN(5) > 0
		in.ShareBeyondTeam = l.rng.IntN(2) == 0
	}
	r, err := l.ref.CreateReferral(ctx, p, in)
	if pl.person != nil && app.IsCode(err, app.CodeConflict) {
		return nil // already referred after saying yes to an offer
	}
	if err != nil {
		return fmt.Errorf("%s referral: %w", pl.door, err)
	}
	pl.id = r.ID
	return nil
}

func (l *loader) move(ctx context.Context, pl *plan, who string, m referral.Move) error {
	if pl.id == 0 {
		return nil
	}
	p, err := l.principal(ctx, who)
	if err != nil {
		return err
	}
	if _, err := l.ref.Transition(ctx, p, pl.id, m); err != nil {
		return fmt.Errorf("moving a %s referral to %s: %w", pl.door, m.To, err)
	}
	return nil
}

func (l *loader) contact(ctx context.Context, pl *plan, who, mode, note string) error {
	if pl.id == 0 {
		return nil
	}
	p, err := l.principal(ctx, who)
	if err != nil {
		return err
	}
	_, err = l.ref.RecordContact(ctx, p, pl.id, referral.NewContact{At: l.clock.Now(), Mode: mode, Minutes: 30 + 15*l.rng.IntN(4), Note: note})
	return err
}

// offerEvents has co-ordinators tell people about peer support, some much
// more often than others.
func (l *loader) offerEvents(now time.Time) []event {
	var events []event
	for i := range l.people {
		p := &l.people[i]
		c := coordinators[p.coord]
		rate := 0.2 + c.referRate*1.2
		if c.referRate < 0.12 {
			rate = 0.08
		}
		if !p.open || l.rng.Float64() >= rate {
			continue
		}
		at := now.AddDate(0, 0, -1-l.rng.IntN(230))
		resp := []string{"not_now", "not_now", "declined", "interested"}[l.rng.IntN(4)]
		method := []string{"conversation", "leaflet", "review", "review", "text_email"}[l.rng.IntN(5)]
		key := fmt.Sprintf("coord%d", p.coord)
		events = append(events, event{at: at, run: func(ctx context.Context) error {
			pr, err := l.principal(ctx, key)
			if err != nil {
				return err
			}
			_, err = l.ref.CreateOffer(ctx, pr, referral.NewOffer{PersonID: p.id, Method: method, Response: resp})
			if err == nil {
				l.res.Offers++
			}
			return err
		}})
	}
	return events
}

// riskEvents are referrals whose words raise alerts of possible risk: one
// answered in time, one nobody answered (escalated to the service manager
// when the story ends), one raised in the last hour for every peer lead, and
// one that only signposts.
func (l *loader) riskEvents(now time.Time) []event {
	selfRefer := func(name, phone, team, asked string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			var teamID int64
			if team != "" {
				teamID = l.teams[team].ID
			}
			_, err := l.ref.CreateSelfReferral(ctx, app.Public("demo"), referral.SelfReferral{
				Details:  person.Details{PreferredName: name, Phone: phone, ContactPreference: "phone", ContactTimes: "Any time"},
				AskedFor: asked, TeamID: teamID})
			return err
		}
	}
	var wardRisk int64
	return []event{
		{at: now.AddDate(0, 0, -9), run: func(ctx context.Context) error {
			p, err := l.principal(ctx, "nurse")
			if err != nil {
				return err
			}
			yes := true
			r, err := l.ref.CreateReferral(ctx, p, referral.NewReferral{Source: referral.SourceStaff, TeamID: l.teams["ward"].ID, Urgency: referral.Urgent,
				Person:      person.Details{PreferredName: "Carys Rowe", Phone: "07700 900871", ContactPreference: "phone"},
				AskedFor:    "Since her last admission she has been self-harming again. She would like someone who has been there to talk to before she goes home.",
				PersonKnows: &yes, Consent: "given", NotDuplicate: true})
			wardRisk = r.ID
			return err
		}},
		{at: now.AddDate(0, 0, -9).Add(2 * time.Hour), run: func(ctx context.Context) error {
			p, err := l.principal(ctx, "lead.ward")
			if err != nil {
				return err
			}
			list, err := l.alerts.List(ctx, p, alert.Filter{})
			if err != nil {
				return err
			}
			for _, a := range list {
				if a.ReferralID == wardRisk {
					_, err = l.alerts.Resolve(ctx, p, a.ID, alert.Response{Outcome: "called_person",
						Note: "Spoke to her on the ward. She has a safety plan with her care team and agreed to meet Dee this week."})
				}
			}
			return err
		}},
		{at: now.AddDate(0, 0, -6), run: selfRefer("Sky Lawson", "07700 900872", "north",
			"Most days I feel like I want to end it all. I don't know who else to tell. I'd like to talk to someone who has been through it.")},
		{at: now.AddDate(0, 0, -2), run: func(ctx context.Context) error {
			p, err := l.principal(ctx, "peer")
			if err != nil {
				return err
			}
			yes := true
			_, err = l.ref.CreateReferral(ctx, p, referral.NewReferral{Source: referral.SourceCommunity, Urgency: referral.Urgent,
				Person:   person.Details{PreferredName: "Dana Whyte", Phone: "07700 900873"},
				AskedFor: "Met at the walking group. Says she has felt hopeless since losing her job and would like regular peer support.",
				MetAt:    "Men's walking group", PersonKnows: &yes, Consent: "given", NotDuplicate: true})
			return err
		}},
		{at: now.Add(-50 * time.Minute), run: selfRefer("Rene Ford", "07700 900874", "",
			"Honestly some nights I think everyone would be better off without me. I'd like to talk to someone who gets it.")},
	}
}
