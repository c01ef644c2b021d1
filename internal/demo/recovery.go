package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
)

// The recovery story: everyone who starts peer support does DIALOG+ at the
// start, at each review (every twelve weeks, or as they chose) and at the
// end; sets goals with their worker and makes progress on them; and has
// their reviews recorded. Jordan, the person with an account, has a year of
// it: their own plan and crisis plan (shared with their care team), DIALOG+
// filled in on their own every month between reviews, and feedback given.
// Feedback also comes in from the public to every team, and the leads move
// it through to published answers.

var whatMatters = []string{
	"My kids, and being well enough to do the school run.",
	"Getting back to my allotment and seeing my friends from the choir.",
	"Keeping my flat, and my cat. Being able to go to the shops without panicking.",
	"My faith and my community. Going back to the mosque on Fridays.",
	"Working again one day, even a few hours a week. Feeling useful.",
	"Football with my brother on Sundays, and sleeping through the night.",
}

var demoGoals = []struct {
	desc, who string
	steps     []string
}{
	{"Go to the walking group on Tuesdays", "My peer worker, to start with", []string{"Find out where it meets", "Go once with my peer worker", "Go on my own"}},
	{"Sleep better", "", []string{"Phone off at 11", "Walk every afternoon", "Talk to my GP about my tablets"}},
	{"Do some volunteering", "The volunteer centre", []string{"Call the volunteer centre", "Go to a taster morning", "Try one shift a week"}},
	{"See my sister more", "My sister", []string{"Message her on Sundays", "Meet for coffee once a month"}},
	{"Sort out my benefits", "Citizens Advice", []string{"Book an appointment", "Take my letters along"}},
	{"Cook a proper meal twice a week", "", []string{"Plan two meals", "Shop with a list"}},
}

var demoActions = map[recovery.Item]string{
	recovery.MentalHealth:   "Try the grounding exercise when things get loud; tell my worker how it went.",
	recovery.PhysicalHealth: "Book a GP appointment about my back.",
	recovery.Job:            "Call the volunteer centre about Tuesday mornings.",
	recovery.Accommodation:  "Ask the housing officer about the damp, with my worker there.",
	recovery.Leisure:        "Go to the walking group once before we next meet.",
	recovery.Friendships:    "Reply to my old friend's message and suggest a coffee.",
	recovery.PartnerFamily:  "Tell my sister about the crisis plan so she knows what helps.",
	recovery.Safety:         "Save the crisis line number in my phone and the Samaritans number.",
	recovery.Medication:     "Write down the side effects and take the list to the next review.",
	recovery.PracticalHelp:  "Take my benefit letters to Citizens Advice on Thursday.",
	recovery.Meetings:       "Say at my next appointment that I want fewer people in the room.",
}

// recoveryEvents are a person's recovery story from when support began
// (active) to when it ended (zero while it goes on), as events on the story
// clock; those after now are left out.
func (l *loader) recoveryEvents(pl *plan, worker string, active, ended, now time.Time) []event {
	var out []event
	at := func(t time.Time, fn func(ctx context.Context) error) {
		if t.Before(now) && (ended.IsZero() || !t.After(ended)) {
			out = append(out, event{at: t, run: func(ctx context.Context) error {
				if pl.id == 0 {
					return nil
				}
				return fn(ctx)
			}})
		}
	}
	jordan := pl.by == "person"
	weeks := 12
	if jordan {
		weeks = 8
	}
	// Each person's own starting point and how things move for them.
	base := make([]int, len(recovery.Items))
	for i := range base {
		base[i] = 2 + l.rrng.IntN(3)
	}
	ratings := func() []recovery.Rating {
		out := make([]recovery.Rating, len(recovery.Items))
		for i, it := range recovery.Items {
			if r := l.rrng.IntN(10); r < 5 && base[i] < 7 {
				base[i]++
			} else if r == 9 && base[i] > 1 {
				base[i]--
			}
			out[i] = recovery.Rating{Item: it.Code, Rating: base[i], MoreHelp: base[i] <= 3 && l.rrng.IntN(2) == 0}
		}
		return out
	}
	lowest := func(rs []recovery.Rating, n int) []recovery.Discussion {
		var ds []recovery.Discussion
		for r := 1; r <= 7 && len(ds) < n; r++ {
			for _, rt := range rs {
				if rt.Rating == r && len(ds) < n {
					ds = append(ds, recovery.Discussion{Item: rt.Item, Understanding: "Talked about what makes " + lowerLabel(rt.Item) + " hard at the moment.",
						LookingForward: "A small change would be enough for now.", Options: "What I could do, what my worker could do, and who else could help.",
						Actions: demoActions[rt.Item]})
				}
			}
		}
		return ds
	}
	session := func(who string, stage recovery.Stage, self bool) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			p, err := l.principal(ctx, who)
			if err != nil {
				return err
			}
			pid, err := l.personOf(ctx, pl)
			if err != nil {
				return err
			}
			rs := ratings()
			in := recovery.NewSession{Stage: stage, Ratings: rs}
			if !self {
				in.Discussions = lowest(rs, 1+l.rrng.IntN(2))
				in.Followup = []string{"Managed most of it.", "Did some of it; the rest got in the way.", "Went well, glad I tried.", "Didn't get to it this time."}[l.rrng.IntN(4)]
			}
			if _, err := l.rec.RecordSession(ctx, p, pid, in); err != nil {
				return fmt.Errorf("DIALOG+: %w", err)
			}
			l.res.Sessions++
			return nil
		}
	}
	// The start: DIALOG+ with the worker, then what matters and goals.
	at(active.Add(2*time.Hour), session(worker, recovery.StageStart, false))
	at(active.Add(3*time.Hour), func(ctx context.Context) error {
		pid, err := l.personOf(ctx, pl)
		if err != nil {
			return err
		}
		who := worker
		if jordan {
			who = "person"
		}
		p, err := l.principal(ctx, who)
		if err != nil {
			return err
		}
		in := recovery.PlanChange{WhatMatters: new(whatMatters[l.rrng.IntN(len(whatMatters))]), Reviews: &recovery.ReviewChoices{Weeks: weeks}}
		if jordan {
			in.WhatMatters = new("Getting back to my allotment, my dog Bramble, and one day some work at the garden centre.")
			in.Crisis = &recovery.CrisisPlan{EarlySigns: "I stop answering my phone and sleep in the day. I stop feeding myself properly.",
				WhatHelps: "My mum coming round. A walk with Bramble. Someone I trust checking in by text.",
				Contacts:  "Mum first. Then the crisis team on the number on my fridge, or NHS 111 option 2.", NotWanted: "Being admitted to a ward out of area."}
			in.Advance = &recovery.AdvanceChoices{WouldTake: "Sertraline", WouldNotTake: "Olanzapine: I put on a lot of weight last time.",
				SecondOpinion: "Yes, before any change of medication.", Refused: "Depot injections."}
			in.ShareWithCareTeam = new(true)
			in.Reviews.Attendees, in.Reviews.Place = "Mum and my peer worker", "The café by the library"
		}
		if _, err := l.rec.SavePlan(ctx, p, pid, in); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		for range 1 + l.rrng.IntN(2) {
			g := demoGoals[l.rrng.IntN(len(demoGoals))]
			ng := recovery.NewGoal{Description: g.desc, WhoHelps: g.who}
			for _, st := range g.steps {
				ng.Steps = append(ng.Steps, recovery.Step{Description: st})
			}
			if _, _, err := l.rec.CreateGoal(ctx, p, pid, ng); err != nil {
				return fmt.Errorf("goal: %w", err)
			}
			l.res.Goals++
		}
		return nil
	})
	// Reviews, each with DIALOG+ and progress on goals.
	for t := active.Add(time.Duration(weeks) * 7 * 24 * time.Hour); ; t = t.Add(time.Duration(weeks) * 7 * 24 * time.Hour) {
		t := t.Add(time.Duration(l.rrng.IntN(9)-2) * 24 * time.Hour) // a few days either side of due
		if !t.Before(now) || (!ended.IsZero() && t.After(ended)) {
			break
		}
		if !jordan && now.Sub(t) < 21*24*time.Hour && l.rrng.IntN(3) == 0 {
			break // not held yet: overdue on the worker's and lead's lists
		}
		at(t, session(worker, recovery.StageReview, false))
		at(t.Add(time.Hour), func(ctx context.Context) error {
			p, err := l.principal(ctx, worker)
			if err != nil {
				return err
			}
			pid, err := l.personOf(ctx, pl)
			if err != nil {
				return err
			}
			pv, err := l.rec.GetPlan(ctx, p, pid)
			if err != nil {
				return err
			}
			in := recovery.NewReview{Held: true, Attendees: []string{"The person and their peer worker", "The person, their mum and their peer worker",
				"The person, their care co-ordinator and their peer worker"}[l.rrng.IntN(3)],
				Reviewed: "Goals, DIALOG+ ratings and the crisis plan.", Agreed: "Keep going with the goals; look again at what is hardest next time."}
			if pv.NextReview != nil {
				in.PlannedID = pv.NextReview.ID
			}
			if _, err := l.rec.RecordReview(ctx, p, pid, in); err != nil {
				return fmt.Errorf("review: %w", err)
			}
			l.res.Reviews++
			for _, g := range pv.Goals {
				if g.Progress == recovery.Achieved || g.Progress == recovery.ChangedMind {
					continue
				}
				next := recovery.OnTheWay
				switch r := l.rrng.IntN(10); {
				case r < 4 && g.Progress == recovery.OnTheWay:
					next = recovery.Achieved
				case r == 9:
					next = recovery.ChangedMind
				}
				steps := append([]recovery.Step{}, g.Steps...)
				for i := range steps {
					if !steps[i].Done && (next == recovery.Achieved || l.rrng.IntN(2) == 0) {
						steps[i].Done = true
						if next != recovery.Achieved {
							break
						}
					}
				}
				if _, _, err := l.rec.UpdateGoal(ctx, p, g.ID, recovery.GoalChange{Version: g.Version, Progress: &next, Steps: &steps}); err != nil {
					return fmt.Errorf("goal progress: %w", err)
				}
			}
			return nil
		})
	}
	// Jordan fills DIALOG+ in on their own every month between reviews.
	if jordan {
		for t := active.Add(30 * 24 * time.Hour); t.Before(now); t = t.Add(30 * 24 * time.Hour) {
			at(t.Add(19*time.Hour), session("person", recovery.StageBetween, true))
		}
	}
	if !ended.IsZero() {
		at(ended.Add(-time.Hour), session(worker, recovery.StageEnd, false))
	}
	return out
}

func lowerLabel(it recovery.Item) string {
	l := it.Label()
	if l == "" {
		return "things"
	}
	return string(append([]byte{l[0] | 0x20}, l[1:]...))
}

// personOf is the person a plan's referral is for.
func (l *loader) personOf(ctx context.Context, pl *plan) (int64, error) {
	var id int64
	err := l.DB.QueryRow(ctx, "SELECT person_id FROM referrals WHERE id = $1", pl.id).Scan(&id)
	return id, err
}

var feedbackStories = []struct {
	about    recovery.About
	name     string
	body     string
	theme    string
	summary  string
	answer   string
	change   string
	mayQuote bool
}{
	{recovery.AboutGroup, "Tuesday walking group", "Could the walking group run in the evening too? I work days and can't come.", "groups",
		"People who work in the day asked for an evening walking group.", "We are starting a Thursday evening walk from January, led by two peer workers.",
		"The Thursday evening walk started, meeting at 6pm at the library.", false},
	{recovery.AboutService, "", "I waited seven weeks to hear anything after I asked for peer support. A text to say you'd got it would have helped.", "access",
		"Someone waited weeks without hearing anything after asking for peer support.", "We now text everyone within two working days to say we have their request and how long the wait is.",
		"Everyone who asks now gets a text within two working days.", false},
	{recovery.AboutWorker, "Kofi", "Kofi never made me feel like a case. He listened, and he remembered what I'd said last time.", "thanks",
		"", "Thank you. We have passed this on to Kofi and the team.", "", true},
	{recovery.AboutService, "", "The leaflets only come in English. My mum reads Urdu and Punjabi.", "communication",
		"Someone asked for information in Urdu and Punjabi.", "We are having the leaflet translated into Urdu, Punjabi, Polish and Arabic.",
		"The leaflet is now available in five languages, on paper and online.", false},
	{recovery.AboutGroup, "Hearing Voices group", "The room is up two flights of stairs. I use a stick and couldn't get up.", "places",
		"The group's room was hard to reach for someone who uses a walking stick.", "We have moved the group to the ground-floor room at the community centre.",
		"The group now meets on the ground floor, with step-free access.", true},
	{recovery.AboutService, "", "I want to choose whether my worker is a man or a woman. Nobody asked me.", "choice",
		"Someone was not asked whether they would prefer a man or a woman as their worker.", "Everyone is now asked about their choices when they first meet the team, and we record them.",
		"", false},
	{recovery.AboutService, "", "Reviews are always at the clinic. Could we meet somewhere less formal?", "choice",
		"People asked for reviews somewhere other than the clinic.", "You can now choose where your review happens, and who comes, in your plan.", "", true},
	{recovery.AboutGroup, "Men's walking group", "Brilliant group. Best thing I've done this year.", "thanks", "", "Thank you: we have told the group's facilitators.", "", true},
}

// feedbackEvents are a year of feedback to the teams, moved on by their
// leads, most within the targets and some late.
func (l *loader) feedbackEvents(now time.Time) []event {
	var out []event
	start := now.AddDate(-1, 0, 14)
	teams := []struct{ key, lead string }{{"north", "lead"}, {"south", "lead"}, {"ward", "lead.ward"}}
	for i := range 36 {
		st := feedbackStories[i%len(feedbackStories)]
		tm := teams[i%len(teams)]
		if i%4 == 0 {
			tm = teams[0]
		}
		received := start.Add(time.Duration(l.rrng.Int64N(int64(now.Sub(start) - 10*24*time.Hour))))
		var id int64
		var version int
		out = append(out, event{at: received, run: func(ctx context.Context) error {
			giver := app.Public("demo")
			in := recovery.NewFeedback{About: st.about, AboutName: st.name, TeamID: l.teams[tm.key].ID, Body: st.body, MayQuote: st.mayQuote,
				Anonymous: l.rrng.IntN(2) == 0}
			if !in.Anonymous {
				in.Name, in.Email, in.ContactOK = firstNames[l.rrng.IntN(len(firstNames))], fmt.Sprintf("feedback%d@example.org", i), true
			}
			if i == 5 {
				// Jordan gives feedback from their account.
				p, err := l.principal(ctx, "person")
				if err != nil {
					return err
				}
				giver, in.Anonymous, in.Name, in.Email, in.ContactOK = p, false, "", "", false
			}
			rc, err := l.rec.GiveFeedback(ctx, giver, in)
			id = rc.ID
			version = 1
			l.res.Feedback++
			return err
		}})
		late := l.rrng.IntN(6) == 0
		step := func(days int) time.Duration {
			d := time.Duration(1+l.rrng.IntN(days)) * 24 * time.Hour
			if late {
				d += 8 * 24 * time.Hour
			}
			return d
		}
		t := received
		moves := []recovery.FeedbackMove{{To: recovery.Acknowledged}, {To: recovery.Considered, Theme: st.theme},
			{To: recovery.Answered, Answer: st.answer, PublicSummary: st.summary, Publish: true, Quote: st.mayQuote && st.summary == ""}}
		if st.change != "" {
			moves = append(moves, recovery.FeedbackMove{To: recovery.Changed, ChangeMade: st.change})
		}
		if st.summary == "" && !st.mayQuote {
			moves[2].Publish = false
		}
		// The most recent are still on their way.
		switch {
		case i%9 == 0:
			moves = nil
		case i%5 == 0:
			moves = moves[:1]
		case i%7 == 0:
			moves = moves[:2]
		}
		for j, m := range moves {
			if j == 0 {
				t = t.Add(step(4))
			} else {
				t = t.Add(step(10))
			}
			if !t.Before(now) {
				break
			}
			out = append(out, event{at: t, run: func(ctx context.Context) error {
				if id == 0 {
					return nil
				}
				p, err := l.principal(ctx, tm.lead)
				if err != nil {
					return err
				}
				m.Version = version
				if _, err := l.rec.MoveFeedback(ctx, p, id, m); err != nil {
					return fmt.Errorf("feedback %d to %s: %w", id, m.To, err)
				}
				version++
				return nil
			}})
		}
	}
	return out
}
