package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/matching"
)

// demoWorker is a peer worker's profile in the story.
type demoWorker struct {
	key      string
	hours    float64
	cap      int // 0: the cap the hours give
	details  matching.WorkerDetails
	items    []matching.NewDisclosure
	phased   bool // returning to work after sick leave
	capExtra int  // a cap this many above their caseload now
}

var demoWorkers = []demoWorker{
	{key: "peer", hours: 37.5, capExtra: 3, details: matching.WorkerDetails{Gender: "man", GenderForMatching: true, Languages: []string{"English", "Twi"},
		Settings: []string{"community"}, Places: []string{"community", "phone", "home"}, Areas: "North of the river", Days: []string{"mon", "tue", "wed", "thu"},
		Times: []string{"morning", "afternoon"}},
		items: []matching.NewDisclosure{
			{Text: "I heard voices for years before I found people who understood. A hearing voices group changed things for me.", Themes: []string{"psychosis"}, Audience: "supported", ForMatching: true},
			{Text: "I am a dad of two and know how hard it is to look after yourself and the kids at the same time.", Themes: []string{"parent"}, Audience: "public", ForMatching: true},
			{Text: "Self-harm was part of my life as a teenager.", Themes: []string{"self_harm"}, Audience: "nobody", ForMatching: true},
		}},
	{key: "peer2", hours: 30, details: matching.WorkerDetails{Gender: "woman", GenderForMatching: true, Languages: []string{"English"},
		Settings: []string{"community"}, Places: []string{"community", "team_base", "video"}, Days: []string{"tue", "wed", "thu", "fri"}, Times: []string{"afternoon", "evening"}},
		items: []matching.NewDisclosure{
			{Text: "My dad died when I was nineteen, and grief hit my mental health hard.", Themes: []string{"bereavement"}, Audience: "lead"},
			{Text: "I am in recovery from alcohol use, eight years now.", Themes: []string{"substance_use"}, Audience: "team", ForMatching: true},
			{Text: "I have been where you are: struggling, and not sure anyone gets it.", Audience: "supported"},
		}},
	{key: "peer5", hours: 37.5, details: matching.WorkerDetails{Gender: "woman", GenderForMatching: true, Languages: []string{"English", "Urdu", "Punjabi"},
		Settings: []string{"community", "acute_ward"}, Places: []string{"community", "home", "phone", "ward"}, Days: []string{"mon", "wed", "fri"}, Times: []string{"morning"}},
		items: []matching.NewDisclosure{
			{Text: "I was admitted to an acute ward twice in my twenties.", Themes: []string{"ward"}, Audience: "public", ForMatching: true},
			{Text: "I know what it is like to be treated differently because of the colour of my skin.", Themes: []string{"racism"}, Audience: "supported", ForMatching: true},
		}},
	{key: "peer6", hours: 22.5, details: matching.WorkerDetails{Gender: "non_binary", GenderForMatching: true, Languages: []string{"English", "Polish"},
		Settings: []string{"community"}, Places: []string{"video", "phone", "text", "community"}, Days: []string{"mon", "tue", "sat"}, Times: []string{"evening"}},
		items: []matching.NewDisclosure{
			{Text: "Coming out as non-binary was hard on my mental health, and good for it too.", Themes: []string{"lgbtq"}, Audience: "public", ForMatching: true},
			{Text: "I lived with an eating disorder through university.", Themes: []string{"eating"}, Audience: "nobody", ForMatching: true},
		}},
	{key: "peer3", hours: 37.5, capExtra: 1, details: matching.WorkerDetails{Gender: "man", GenderForMatching: true, Languages: []string{"English", "Arabic"},
		Settings: []string{"community"}, Places: []string{"community", "home"}, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Times: []string{"morning", "afternoon"}},
		items: []matching.NewDisclosure{{Text: "I spent two years in prison before my recovery started.", Themes: []string{"prison"}, Audience: "lead", ForMatching: true}}},
	{key: "peer4", hours: 30, capExtra: 2, details: matching.WorkerDetails{Gender: "woman", Languages: []string{"English", "Welsh"},
		Settings: []string{"community"}, Places: []string{"phone", "video", "community"}, Days: []string{"wed", "thu", "fri"}, Times: []string{"afternoon"}},
		items: []matching.NewDisclosure{{Text: "Psychosis after having my first child.", Themes: []string{"psychosis", "parent"}, Audience: "team", ForMatching: true}}},
	{key: "peer7", hours: 37.5, phased: true, details: matching.WorkerDetails{Gender: "woman", GenderForMatching: true, Languages: []string{"English", "Somali"},
		Settings: []string{"community"}, Places: []string{"community", "home", "phone"}, Days: []string{"mon", "tue", "thu"}, Times: []string{"morning", "afternoon"}}},
	{key: "peer.ward", hours: 37.5, capExtra: 2, details: matching.WorkerDetails{Gender: "woman", GenderForMatching: true, Languages: []string{"English"},
		Settings: []string{"acute_ward"}, Places: []string{"ward", "phone"}, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Times: []string{"morning", "afternoon"}},
		items: []matching.NewDisclosure{{Text: "I have been sectioned, and I know how frightening a ward can be.", Themes: []string{"ward"}, Audience: "supported", ForMatching: true}}},
	{key: "peer.transitions", hours: 22.5, capExtra: 2, details: matching.WorkerDetails{Gender: "man", Languages: []string{"English"},
		Settings: []string{"camhs_transition", "secure_ward"}, Places: []string{"team_base", "ward", "video"}, Days: []string{"tue", "thu"}, Times: []string{"afternoon"}}},
	// The lead takes a few people themselves.
	{key: "lead", hours: 7.5, details: matching.WorkerDetails{Languages: []string{"English"}, Places: []string{"team_base", "phone"}}},
	{key: "lead.ward", hours: 7.5, details: matching.WorkerDetails{Languages: []string{"English"}, Places: []string{"ward"}}},
}

// matching gives the peer workers profiles and disclosures at every
// audience, records choices with some of the people waiting, and plans and
// commits the South team's waiting list, leaving the North team's for a
// lead to plan. From here on every allocation goes through the caps.
func (l *loader) matching(ctx context.Context) error {
	auditLog := audit.NewLog(l.DB, l.clock, audit.LogOptions{})
	auditLog.Start()
	defer auditLog.Close()
	ms := &matching.Service{DB: l.DB, Clock: l.clock, Audit: auditLog, Notify: l.acc.Notify, Referrals: l.ref, Accounts: l.acc, Suppress: stats.Suppressor{Threshold: 5}}
	l.ref.Allocation = ms
	l.ref.Audit = auditLog
	now := l.clock.Now()
	for _, dw := range demoWorkers {
		self, err := l.principal(ctx, dw.key)
		if err != nil {
			return err
		}
		id := l.users[dw.key].ID
		d := dw.details
		if _, err := ms.SaveWorkerProfile(ctx, self, id, matching.SaveWorkerProfile{Details: &d}); err != nil {
			return fmt.Errorf("%s's details: %w", dw.key, err)
		}
		lead := "lead"
		if dw.key == "peer.ward" || dw.key == "peer.transitions" || dw.key == "lead.ward" {
			lead = "lead.ward"
		}
		lp, err := l.principal(ctx, lead)
		if err != nil {
			return err
		}
		prof, err := ms.WorkerProfile(ctx, lp, id)
		if err != nil {
			return err
		}
		c := matching.Capacity{HoursPerWeek: dw.hours}
		if dw.capExtra > 0 {
			cp := prof.Caseload + dw.capExtra
			c.CapOverride = &cp
		}
		if dw.phased {
			// Back from sick leave two weeks ago: half the cap for four
			// weeks, then three quarters for four more.
			start := now.AddDate(0, 0, -14)
			c.Reductions = []matching.Reduction{
				{Percent: 50, StartsOn: dayOf(start), EndsOn: dayOf(start.AddDate(0, 0, 27)), Note: "Phased return after sick leave"},
				{Percent: 75, StartsOn: dayOf(start.AddDate(0, 0, 28)), EndsOn: dayOf(start.AddDate(0, 0, 55)), Note: "Phased return after sick leave"},
			}
		}
		if _, err := ms.SaveWorkerProfile(ctx, lp, id, matching.SaveWorkerProfile{Version: prof.Version, Capacity: &c}); err != nil {
			return fmt.Errorf("%s's capacity: %w", dw.key, err)
		}
		for _, it := range dw.items {
			if _, err := ms.AddDisclosure(ctx, self, id, it); err != nil {
				return fmt.Errorf("%s's disclosure: %w", dw.key, err)
			}
		}
	}
	if err := l.demoChoices(ctx, ms); err != nil {
		return err
	}
	// The South team's waiting list is planned and committed, so the
	// insight pages have allocations with choices met and unmet.
	lead, err := l.principal(ctx, "lead")
	if err != nil {
		return err
	}
	pl, err := ms.ProposePlan(ctx, lead, matching.NewPlan{Teams: []int64{l.teams["south"].ID}})
	if err != nil {
		return err
	}
	var lines []matching.PlanLine
	for _, a := range pl.Assignments {
		lines = append(lines, matching.PlanLine{ReferralID: a.ReferralID, WorkerID: a.WorkerID})
	}
	if _, err := ms.Commit(ctx, lead, pl.ID, matching.CommitPlan{Assignments: lines}); err != nil {
		return fmt.Errorf("committing the South plan: %w", err)
	}
	return nil
}

func dayOf(t time.Time) string { return t.In(app.London).Format("2006-01-02") }

// demoChoices records choices: Jordan's own, and, with the person, those
// of most people waiting in the North and South teams.
func (l *loader) demoChoices(ctx context.Context, ms *matching.Service) error {
	jordan, err := l.principal(ctx, "person")
	if err != nil {
		return err
	}
	if _, err := ms.SaveOwnChoices(ctx, jordan, matching.SaveChoices{Choices: matching.Choices{WorkerGender: "man", Themes: []string{"psychosis"},
		Places: []string{"community", "phone"}, Days: []string{"tue", "thu"}, Times: []string{"afternoon"}, ReviewFrequency: "every_3_months",
		ReviewWith: []string{"peer_worker", "care_coordinator"}, AvoidTopics: "My time at school"}}); err != nil {
		return err
	}
	lead, err := l.principal(ctx, "lead")
	if err != nil {
		return err
	}
	rows, err := l.DB.Query(ctx, `SELECT r.person_id FROM referrals r WHERE r.status = 'accepted' AND r.team_id IN ($1, $2) ORDER BY r.id`,
		l.teams["north"].ID, l.teams["south"].ID)
	if err != nil {
		return err
	}
	var people []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		people = append(people, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	themes := []string{"psychosis", "self_harm", "eating", "parent", "lgbtq", "racism", "prison", "bereavement", "substance_use", "ward"}
	for i, pid := range people {
		if i%5 == 4 {
			continue // some have not said
		}
		c := matching.Choices{}
		switch l.rng.IntN(6) {
		case 0, 1:
			c.WorkerGender, c.WorkerGenderMust = "woman", l.rng.IntN(3) == 0
		case 2:
			c.WorkerGender = "man"
		}
		if l.rng.IntN(6) == 0 {
			c.Languages = []string{[]string{"Polish", "Urdu", "Somali", "Arabic", "Bengali"}[l.rng.IntN(5)]}
			c.LanguagesMust = l.rng.IntN(2) == 0
		}
		if l.rng.IntN(2) == 0 {
			c.Themes = []string{themes[l.rng.IntN(len(themes))]}
		}
		c.Places = [][]string{{"community"}, {"phone", "video"}, {"home"}, {"community", "phone"}}[l.rng.IntN(4)]
		if l.rng.IntN(2) == 0 {
			c.Days = [][]string{{"mon", "tue"}, {"wed"}, {"thu", "fri"}, {"sat"}}[l.rng.IntN(4)]
		}
		if l.rng.IntN(3) == 0 {
			c.Times = []string{[]string{"morning", "afternoon", "evening"}[l.rng.IntN(3)]}
		}
		if _, err := ms.SaveChoices(ctx, lead, pid, matching.SaveChoices{WithPerson: true, Choices: c}); err != nil {
			return fmt.Errorf("choices for person %d: %w", pid, err)
		}
	}
	return nil
}
