package recovery_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// supported gives the world's "person" account a record, referred for
// themselves to team A and allocated to the world's worker; it returns the
// person's id.
func supported(t *testing.T, w *testkit.World) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: w.TeamA.ID})
	if err != nil {
		t.Fatal(err)
	}
	lead := w.Principal(t, "lead")
	if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: w.Users["worker"].ID}); err != nil {
		t.Fatal(err)
	}
	return r.PersonID
}

func str(s string) *string { return &s }
func yes() *bool           { b := true; return &b }
func no() *bool            { b := false; return &b }

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	ae := app.As(err)
	if ae.Code != app.CodeInvalid {
		t.Fatalf("want a field problem with %s, got %v", field, err)
	}
	for _, f := range ae.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("want a field problem with %s, got %+v", field, ae.Fields)
}

func wantCode(t *testing.T, err error, code app.Code) {
	t.Helper()
	if !app.IsCode(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
}

// The plan is the person's: they write it; a worker drafts with them
// (recorded as such); the crisis plan and advance choices reach the care
// team only with the person's consent, given by the person; everyone else
// gets not found, audited as denied.
func TestPlanBelongsToThePerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		saved, err := w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{Version: 0, WhatMatters: str("My allotment and my dog"),
			Crisis:  &recovery.CrisisPlan{EarlySigns: "Not sleeping", WhatHelps: "Walking the dog", Contacts: "My sister", NotWanted: "Being admitted far away"},
			Advance: &recovery.AdvanceChoices{WouldNotTake: "Olanzapine"}, ShareWithCareTeam: no()})
		if err != nil || saved.Version != 1 {
			t.Fatalf("saving my plan: %+v %v", saved, err)
		}
		// The worker sees the plan but not the private parts.
		pv, err := w.Recovery.GetPlan(ctx, worker, pid)
		if err != nil {
			t.Fatal(err)
		}
		if pv.Plan.WhatMatters != "My allotment and my dog" || pv.Plan.Crisis != nil || pv.Plan.Advance != nil || !pv.Plan.Withheld || !pv.StaffView {
			t.Fatalf("the worker's view: %+v", pv.Plan)
		}
		for _, v := range pv.History {
			for _, c := range v.Changes {
				if strings.HasPrefix(c.Section, "crisis.") && (!c.Withheld || c.After != "") {
					t.Fatalf("history shows the worker a private part: %+v", c)
				}
			}
		}
		// The worker may not change the private parts, nor give consent for
		// someone with an account.
		_, err = w.Recovery.SavePlan(ctx, worker, pid, recovery.PlanChange{Version: 1, Crisis: &recovery.CrisisPlan{EarlySigns: "x"}})
		wantField(t, err, "crisis.early_signs")
		_, err = w.Recovery.SavePlan(ctx, worker, pid, recovery.PlanChange{Version: 1, ShareWithCareTeam: yes()})
		wantField(t, err, "share_with_care_team")
		// The worker drafts what matters with the person: recorded as such,
		// and the person is told.
		if _, err := w.Recovery.SavePlan(ctx, worker, pid, recovery.PlanChange{Version: 1, WhatMatters: str("My allotment, my dog, and getting back to work"),
			Reviews: &recovery.ReviewChoices{Weeks: 6, Attendees: "My sister and my worker", Place: "The café by the library"}}); err != nil {
			t.Fatal(err)
		}
		// A stale version is a conflict and changes nothing.
		_, err = w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{Version: 1, WhatMatters: str("overwritten")})
		wantCode(t, err, app.CodeConflict)
		mine, err := w.Recovery.GetPlan(ctx, me, pid)
		if err != nil {
			t.Fatal(err)
		}
		if mine.Plan.Crisis == nil || mine.Plan.Crisis.EarlySigns != "Not sleeping" || mine.Plan.Version != 2 || mine.Plan.Reviews.Weeks != 6 || !mine.Self {
			t.Fatalf("my view: %+v", mine.Plan)
		}
		if len(mine.History) != 2 || !mine.History[0].DraftedWithWorker || mine.History[0].By != "Test worker" || mine.History[1].DraftedWithWorker {
			t.Fatalf("history: %+v", mine.History)
		}
		var sawChange bool
		for _, c := range mine.History[0].Changes {
			if c.Section == "what_matters" && c.Before == "My allotment and my dog" && c.After == "My allotment, my dog, and getting back to work" {
				sawChange = true
			}
		}
		if !sawChange {
			t.Fatalf("the person does not see what changed: %+v", mine.History[0].Changes)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%changed your plan with you%'", w.Users["person"].ID); n != 1 {
			t.Fatalf("%d notifications to the person about the change", n)
		}
		// The person shares: now the worker sees the crisis plan.
		if _, err := w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{Version: 2, ShareWithCareTeam: yes()}); err != nil {
			t.Fatal(err)
		}
		pv, _ = w.Recovery.GetPlan(ctx, worker, pid)
		if pv.Plan.Crisis == nil || pv.Plan.Crisis.WhatHelps != "Walking the dog" || pv.Plan.Advance.WouldNotTake != "Olanzapine" {
			t.Fatalf("shared, the worker still cannot see it: %+v", pv.Plan)
		}
		// Someone else — another person, another team — finds nothing.
		for _, name := range []string{"person2", "clinicianB", "workerB", "partner", "carer"} {
			if _, err := w.Recovery.GetPlan(ctx, w.Principal(t, name), pid); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s reading the plan: %v", name, err)
			}
			if _, err := w.Recovery.SavePlan(ctx, w.Principal(t, name), pid, recovery.PlanChange{Version: 3, WhatMatters: str("x")}); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s changing the plan: %v", name, err)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'plan.read' AND outcome = 'denied'"); n != 5 {
			t.Errorf("%d denied reads audited, want 5", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'plan.read' AND outcome = 'ok' AND subject_person_id = $1", pid); n != 3 {
			t.Errorf("%d reads audited, want 3", n)
		}
	})
}

// Bad input to a plan is named field by field and nothing is stored.
func TestPlanBadInputStoresNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		_, err := w.Recovery.SavePlan(ctx, w.Principal(t, "person"), pid, recovery.PlanChange{WhatMatters: str(strings.Repeat("a", 4001)),
			Reviews: &recovery.ReviewChoices{Weeks: 60}})
		wantField(t, err, "what_matters")
		wantField(t, err, "reviews.weeks")
		if n := count(t, db, "SELECT COUNT(*) FROM recovery_plans") + count(t, db, "SELECT COUNT(*) FROM recovery_plan_versions"); n != 0 {
			t.Fatalf("%d rows stored", n)
		}
	})
}

// Risk language in a person's own words shows them how to get help now and
// raises a concern; the same words written by a worker drafting with them
// signpost but raise nothing (the worker is there).
func TestRiskLanguageSignposts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me := w.Principal(t, "person")
		saved, err := w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{WhatMatters: str("Some days I feel " + testkit.RiskMarker)})
		if err != nil || saved.Signpost == nil || !strings.Contains(strings.Join(saved.Signpost.Numbers, " "), "116 123") {
			t.Fatalf("no signposting: %+v %v", saved, err)
		}
		quiet, err := w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{Version: 1, WhatMatters: str("A calmer week")})
		if err != nil || quiet.Signpost != nil {
			t.Fatalf("signposting without risk language: %+v %v", quiet, err)
		}
		s, err := w.Recovery.RecordSession(ctx, me, pid, recovery.NewSession{Ratings: ratings(4), Discussions: []recovery.Discussion{{Item: recovery.Safety, Understanding: testkit.RiskMarker}}})
		if err != nil || s.Signpost == nil {
			t.Fatalf("DIALOG+ note: %+v %v", s, err)
		}
		_, gs, err := w.Recovery.CreateGoal(ctx, w.Principal(t, "worker"), pid, recovery.NewGoal{Description: "Get through " + testkit.RiskMarker})
		if err != nil || gs.Signpost == nil {
			t.Fatalf("goal: %+v %v", gs, err)
		}
		fb, err := w.Recovery.GiveFeedback(ctx, app.Public("t"), recovery.NewFeedback{About: recovery.AboutService, Body: "I am " + testkit.RiskMarker, Anonymous: true})
		if err != nil || fb.Signpost == nil {
			t.Fatalf("feedback: %+v %v", fb, err)
		}
		var sources []string
		for _, c := range w.Concerns.List() {
			sources = append(sources, c.Source)
		}
		if strings.Join(sources, ",") != "plan,dialog,feedback" {
			t.Fatalf("concerns raised: %v", sources)
		}
		// Low personal safety is signposted too.
		low := ratings(4)
		for i := range low {
			if low[i].Item == recovery.Safety {
				low[i].Rating = 1
			}
		}
		if s, err := w.Recovery.RecordSession(ctx, me, pid, recovery.NewSession{Ratings: low}); err != nil || s.Signpost == nil {
			t.Fatalf("low safety: %+v %v", s, err)
		}
	})
}

func ratings(r int) []recovery.Rating {
	var out []recovery.Rating
	for _, it := range recovery.Items {
		out = append(out, recovery.Rating{Item: it.Code, Rating: r, MoreHelp: it.Code == recovery.Job})
	}
	return out
}

// Goals in the person's words, with steps and progress; achieving one is
// dated; bad input and stale versions store nothing.
func TestGoals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		_, _, err := w.Recovery.CreateGoal(ctx, me, pid, recovery.NewGoal{Description: "  "})
		wantField(t, err, "description")
		_, _, err = w.Recovery.CreateGoal(ctx, me, pid, recovery.NewGoal{Description: "x", TargetDate: "2026-02-30", Steps: []recovery.Step{{Description: ""}}})
		wantField(t, err, "target_date")
		wantField(t, err, "steps[0].description")
		if n := count(t, db, "SELECT COUNT(*) FROM recovery_goals"); n != 0 {
			t.Fatalf("%d goals stored from bad input", n)
		}
		g, _, err := w.Recovery.CreateGoal(ctx, me, pid, recovery.NewGoal{Description: "Go back to the walking group", WhoHelps: "Kofi",
			TargetDate: "2027-01-31", Steps: []recovery.Step{{Description: "Find out when it meets"}, {Description: "Go once with Kofi"}}})
		if err != nil || g.Progress != recovery.NotStarted || len(g.Steps) != 2 || g.DraftedWithWorker {
			t.Fatalf("goal: %+v %v", g, err)
		}
		steps := []recovery.Step{{Description: "Find out when it meets", Done: true}, {Description: "Go once with Kofi", Done: true}}
		progress := recovery.Achieved
		up, _, err := w.Recovery.UpdateGoal(ctx, worker, g.ID, recovery.GoalChange{Version: g.Version, Steps: &steps, Progress: &progress})
		if err != nil || up.AchievedAt == nil || up.StepsDone() != 2 || up.Version != 2 {
			t.Fatalf("achieved: %+v %v", up, err)
		}
		_, _, err = w.Recovery.UpdateGoal(ctx, me, g.ID, recovery.GoalChange{Version: g.Version, Description: str("stale")})
		wantCode(t, err, app.CodeConflict)
		bad := recovery.Progress("finished")
		_, _, err = w.Recovery.UpdateGoal(ctx, me, g.ID, recovery.GoalChange{Version: 2, Progress: &bad})
		wantField(t, err, "progress")
		if _, _, err := w.Recovery.UpdateGoal(ctx, w.Principal(t, "person2"), g.ID, recovery.GoalChange{Version: 2, Description: str("x")}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another person changing my goal: %v", err)
		}
		list, err := w.Recovery.ListGoals(ctx, me, pid)
		if err != nil || len(list) != 1 || list[0].Description != "Go back to the walking group" || list[0].Progress != recovery.Achieved {
			t.Fatalf("goals: %+v %v", list, err)
		}
	})
}

// DIALOG+: the person fills it in alone; the worker records the meeting,
// starting from those ratings, with up to three items through the four
// steps; the agreed actions come back next time.
func TestDialogSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		bad := ratings(4)
		bad[0].Rating = 9
		_, err := w.Recovery.RecordSession(ctx, me, pid, recovery.NewSession{Ratings: bad})
		wantField(t, err, "ratings.mental_health")
		if n := count(t, db, "SELECT COUNT(*) FROM dialog_sessions"); n != 0 {
			t.Fatalf("%d sessions stored from bad input", n)
		}
		if _, err := w.Recovery.RecordSession(ctx, me, pid, recovery.NewSession{Ratings: ratings(3)}); err != nil {
			t.Fatal(err)
		}
		d, err := w.Recovery.GetDialog(ctx, worker, pid)
		if err != nil || len(d.Sessions) != 1 || !d.Sessions[0].Alone || d.Prefill == nil || d.Sessions[0].Mean != 3 {
			t.Fatalf("after the person's own ratings: %+v %v", d, err)
		}
		w.Clock.Advance(2 * 24 * time.Hour)
		if _, err := w.Recovery.RecordSession(ctx, worker, pid, recovery.NewSession{Stage: recovery.StageStart, Ratings: ratings(3),
			Discussions: []recovery.Discussion{{Item: recovery.Job, Understanding: "Misses work", LookingForward: "Some volunteering",
				Options: "Volunteer centre", Actions: "Call the volunteer centre by Friday"}}}); err != nil {
			t.Fatal(err)
		}
		d, _ = w.Recovery.GetDialog(ctx, me, pid)
		if len(d.Sessions) != 2 || d.Sessions[0].Alone || d.Sessions[0].RecordedBy != "Test worker" || d.Prefill != nil {
			t.Fatalf("after the meeting: %+v", d)
		}
		if len(d.LastActions) != 1 || d.LastActions[0].Actions != "Call the volunteer centre by Friday" {
			t.Fatalf("agreed actions do not come back: %+v", d.LastActions)
		}
		if _, err := w.Recovery.GetDialog(ctx, w.Principal(t, "workerB"), pid); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another team's worker: %v", err)
		}
		got, err := w.Recovery.GetSession(ctx, me, d.Sessions[0].ID)
		if err != nil || len(got.Discussions) != 1 || len(got.Ratings) != 11 {
			t.Fatalf("one session: %+v %v", got, err)
		}
		if _, err := w.Recovery.GetSession(ctx, w.Principal(t, "person2"), d.Sessions[0].ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another person's session: %v", err)
		}
	})
}

// A worker records a review: the next is set in the weeks the person chose
// with the people they chose; two recording at once make one review and
// one conflict; overdue reviews are on the worker's and lead's lists; and
// reminders go once to the person and the worker.
func TestReviews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me, worker, lead := w.Principal(t, "person"), w.Principal(t, "worker"), w.Principal(t, "lead")
		if _, err := w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{Reviews: &recovery.ReviewChoices{Weeks: 6, Attendees: "My sister", Place: "Home"}}); err != nil {
			t.Fatal(err)
		}
		_, err := w.Recovery.RecordReview(ctx, me, pid, recovery.NewReview{Held: true, Reviewed: "x"})
		wantCode(t, err, app.CodeForbidden)
		_, err = w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Held: true})
		wantField(t, err, "reviewed")
		// Planned: the first review in three weeks.
		first := w.Clock.Now().Add(21 * 24 * time.Hour)
		planned, err := w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Next: &recovery.NextReview{At: first, Place: "The café"}})
		if err != nil || planned.Status != "planned" || planned.Attendees != "My sister" || planned.Place != "The café" {
			t.Fatalf("planning: %+v %v", planned, err)
		}
		// Reminders go a week before, once.
		w.Clock.Advance(15 * 24 * time.Hour)
		var wg sync.WaitGroup
		sent := make([]int, 3)
		for i := range sent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := w.Recovery.SendReviewReminders(ctx)
				if err != nil {
					t.Error(err)
				}
				sent[i] = n
			}()
		}
		wg.Wait()
		if sent[0]+sent[1]+sent[2] != 1 {
			t.Fatalf("reminders sent %v, want one in all", sent)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE 'Your review is due%'", w.Users["person"].ID); n != 1 {
			t.Fatalf("%d reminders to the person", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE 'A review with someone you support%'", w.Users["worker"].ID); n != 1 {
			t.Fatalf("%d reminders to the worker", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM outbox WHERE to_address = $1 AND subject = 'Your review is coming up'", "person@test.example"); n != 1 {
			t.Fatalf("%d reminder emails", n)
		}
		// Overdue: on the worker's and the lead's lists, not another team's.
		w.Clock.Advance(20 * 24 * time.Hour)
		for _, who := range []*app.Principal{worker, lead} {
			due, err := w.Recovery.ReviewsDue(ctx, who)
			if err != nil || len(due) != 1 || !due[0].Overdue || due[0].PersonID != pid || !due[0].Planned {
				t.Fatalf("due list: %+v %v", due, err)
			}
		}
		if due, _ := w.Recovery.ReviewsDue(ctx, w.Principal(t, "leadB")); len(due) != 0 {
			t.Fatalf("another team's lead sees %+v", due)
		}
		// Two workers record the review at the same moment.
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Recovery.RecordReview(ctx, []*app.Principal{worker, lead}[i], pid, recovery.NewReview{Held: true, PlannedID: planned.ID, Attendees: "Me, my sister, Kofi",
					Reviewed: "Goals and DIALOG+", Agreed: "Keep going to the group"})
			}()
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case app.IsCode(err, app.CodeConflict):
				conflicts++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("%d recorded, %d conflicts", ok, conflicts)
		}
		rs, err := w.Recovery.ListReviews(ctx, me, pid)
		if err != nil || len(rs) != 2 || rs[0].Status != "planned" || rs[1].Status != "held" {
			t.Fatalf("reviews: %+v %v", rs, err)
		}
		wantNext := w.Clock.Now().Add(6 * 7 * 24 * time.Hour)
		if !rs[0].DueAt.Equal(wantNext) || rs[0].Attendees != "My sister" || rs[0].Place != "Home" {
			t.Fatalf("the next review is not as the person chose: %+v (want %v)", rs[0], wantNext)
		}
		if rs[1].OnTime == nil || *rs[1].OnTime {
			t.Fatalf("held two weeks late, yet on time: %+v", rs[1])
		}
		if n := count(t, db, "SELECT COUNT(*) FROM recovery_reviews WHERE status = 'planned'"); n != 1 {
			t.Fatalf("%d planned reviews", n)
		}
		if due, _ := w.Recovery.ReviewsDue(ctx, worker); len(due) != 0 {
			t.Fatalf("still due after the review: %+v", due)
		}
	})
}

// Feedback: anyone may give it; the team's leads hear of it, never the
// worker it is about until a lead shares it, and then without the giver's
// details; it moves on one step at a time to a published answer; no one can
// edit or delete it.
func TestFeedbackJourney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me, worker, lead, manager := w.Principal(t, "person"), w.Principal(t, "worker"), w.Principal(t, "lead"), w.Principal(t, "manager")
		_, err := w.Recovery.GiveFeedback(ctx, me, recovery.NewFeedback{About: "weather", Body: " "})
		wantField(t, err, "about")
		wantField(t, err, "body")
		_, err = w.Recovery.GiveFeedback(ctx, me, recovery.NewFeedback{About: recovery.AboutWorker, AboutWorkerID: w.Users["workerB"].ID, Body: "x"})
		wantField(t, err, "about_worker_id")
		_, err = w.Recovery.GiveFeedback(ctx, app.Public("t"), recovery.NewFeedback{About: recovery.AboutService, Body: "x", ContactOK: true})
		wantField(t, err, "email")
		if n := count(t, db, "SELECT COUNT(*) FROM feedback"); n != 0 {
			t.Fatalf("%d feedback stored from bad input", n)
		}
		rc, err := w.Recovery.GiveFeedback(ctx, me, recovery.NewFeedback{About: recovery.AboutWorker, AboutWorkerID: w.Users["worker"].ID,
			Body: "Kofi was late three times and I felt I did not matter.", MayQuote: true, Email: "me@example.org", Phone: "07700 900111", ContactOK: true})
		if err != nil || !strings.HasPrefix(rc.Reference, "FB-") || rc.Token == "" {
			t.Fatalf("giving feedback: %+v %v", rc, err)
		}
		// The leads of team A hear, the worker does not.
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE message LIKE $1", "New feedback "+rc.Reference+"%"); n != 2 {
			t.Fatalf("%d leads told, want 2 (lead, lead2)", n)
		}
		// (The worker has been told of their allocation; nothing about
		// feedback.)
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND (message LIKE '%eedback%' OR message LIKE $2)", w.Users["worker"].ID, "%"+rc.Reference+"%"); n != 0 {
			t.Fatalf("the worker was told about feedback on them")
		}
		if n := count(t, db, "SELECT COUNT(*) FROM outbox WHERE to_address = 'me@example.org'"); n != 1 {
			t.Fatalf("%d confirmation emails", n)
		}
		if _, err := w.Recovery.GetFeedback(ctx, worker, rc.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("the worker reads feedback about them before it is shared: %v", err)
		}
		for _, who := range []string{"leadB", "clinician", "person2", "analyst"} {
			if _, err := w.Recovery.GetFeedback(ctx, w.Principal(t, who), rc.ID); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s reads the feedback: %v", who, err)
			}
		}
		fb, err := w.Recovery.GetFeedback(ctx, lead, rc.ID)
		if err != nil || fb.Giver == nil || fb.Giver.Email != "me@example.org" || fb.Giver.PersonID != pid || fb.Next != recovery.Acknowledged {
			t.Fatalf("the lead's view: %+v %v", fb, err)
		}
		// One step at a time, with what each needs.
		_, err = w.Recovery.MoveFeedback(ctx, lead, rc.ID, recovery.FeedbackMove{To: recovery.Answered, Version: 1, Answer: "x"})
		wantField(t, err, "to")
		if _, err := w.Recovery.MoveFeedback(ctx, worker, rc.ID, recovery.FeedbackMove{To: recovery.Acknowledged, Version: 1}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("the worker moving it on: %v", err)
		}
		fb, err = w.Recovery.MoveFeedback(ctx, lead, rc.ID, recovery.FeedbackMove{To: recovery.Acknowledged, Version: 1, ShareWithWorker: true, Note: "Talked to Kofi"})
		if err != nil || fb.Status != recovery.Acknowledged || !fb.SharedWithWorker || fb.AcknowledgedLate {
			t.Fatalf("acknowledged: %+v %v", fb, err)
		}
		_, err = w.Recovery.MoveFeedback(ctx, lead, rc.ID, recovery.FeedbackMove{To: recovery.Considered, Version: 1, Theme: "worker"})
		wantCode(t, err, app.CodeConflict)
		// Shared: the worker now reads it, without the giver's details, and
		// may not move it on.
		seen, err := w.Recovery.GetFeedback(ctx, worker, rc.ID)
		if err != nil || seen.Giver != nil || seen.History != nil || seen.Body == "" || seen.Next != "" {
			t.Fatalf("the worker's view once shared: %+v %v", seen, err)
		}
		if _, err := w.Recovery.MoveFeedback(ctx, worker, rc.ID, recovery.FeedbackMove{To: recovery.Considered, Version: 2, Theme: "worker"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("the worker moving shared feedback on: %v", err)
		}
		if _, err := w.Recovery.MoveFeedback(ctx, lead, rc.ID, recovery.FeedbackMove{To: recovery.Considered, Version: 2, Theme: "worker"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Recovery.MoveFeedback(ctx, manager, rc.ID, recovery.FeedbackMove{To: recovery.Answered, Version: 3,
			Answer: "We have changed how visits are planned so workers are not double-booked.", Publish: true, Quote: true}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM outbox WHERE to_address = 'me@example.org'"); n != 2 {
			t.Fatalf("%d emails to the giver, want 2 (received, answered)", n)
		}
		fb, err = w.Recovery.MoveFeedback(ctx, lead, rc.ID, recovery.FeedbackMove{To: recovery.Changed, Version: 4, ChangeMade: "A shared diary for visits"})
		if err != nil || fb.Status != recovery.Changed || len(fb.History) != 5 {
			t.Fatalf("changed: %+v %v", fb, err)
		}
		// The giver follows it by the private link: no words, no names.
		own, err := w.Recovery.FeedbackByLink(ctx, rc.Token)
		if err != nil || own.Status != recovery.Changed || own.ChangeMade != "A shared diary for visits" || own.Body != "" {
			t.Fatalf("by the link: %+v %v", own, err)
		}
		if _, err := w.Recovery.FeedbackByLink(ctx, "not-a-link"); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a made-up link: %v", err)
		}
		mine, err := w.Recovery.MyFeedback(ctx, me)
		if err != nil || len(mine) != 1 || mine[0].Body == "" {
			t.Fatalf("my feedback: %+v %v", mine, err)
		}
		// No one edits or deletes it, not even with SQL.
		if _, err := db.Exec(ctx, "UPDATE feedback SET body = 'nicer words' WHERE id = $1", rc.ID); err == nil {
			t.Fatal("the words of feedback were edited")
		}
		if _, err := db.Exec(ctx, "UPDATE feedback SET giver_email = '' WHERE id = $1", rc.ID); err == nil {
			t.Fatal("the giver's details were edited")
		}
		if _, err := db.Exec(ctx, "DELETE FROM feedback WHERE id = $1", rc.ID); err == nil {
			t.Fatal("feedback was deleted")
		}
		if _, err := db.Exec(ctx, "DELETE FROM feedback_events WHERE feedback_id = $1", rc.ID); err == nil {
			t.Fatal("feedback history was deleted")
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'feedback.transition.%'"); n != 4 {
			t.Fatalf("%d transitions audited", n)
		}
	})
}

// The public page names no one: small counts are suppressed, answers
// appear in the team's words, and a person's own words only when they
// agreed to be quoted.
func TestYouSaidWeDid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		give := func(body string, quote bool) int64 {
			rc, err := w.Recovery.GiveFeedback(ctx, app.Public("t"), recovery.NewFeedback{About: recovery.AboutService, TeamID: w.TeamA.ID, Body: body,
				MayQuote: quote, Name: "Secret Giver", Email: "secret@example.org", ContactOK: true})
			if err != nil {
				t.Fatal(err)
			}
			return rc.ID
		}
		answer := func(id int64, m recovery.FeedbackMove) {
			for v, step := range []recovery.FeedbackMove{{To: recovery.Acknowledged}, {To: recovery.Considered, Theme: "groups"}, m} {
				step.Version = v + 1
				if _, err := w.Recovery.MoveFeedback(ctx, lead, id, step); err != nil {
					t.Fatal(err)
				}
			}
		}
		a := give("Please run a group in the evenings, I work days. WORDS-NOT-AGREED", false)
		answer(a, recovery.FeedbackMove{To: recovery.Answered, Answer: "We are starting an evening group in January.", Publish: true,
			PublicSummary: "People who work in the day asked for evening groups."})
		b := give("The Tuesday group is brilliant. WORDS-AGREED", true)
		answer(b, recovery.FeedbackMove{To: recovery.Answered, Answer: "Thank you: we have told the group's facilitators.", Publish: true, Quote: true})
		c := give("Private thoughts PRIVATE-NOT-PUBLISHED", true)
		answer(c, recovery.FeedbackMove{To: recovery.Answered, Answer: "Answered privately."})
		y, err := w.Recovery.YouSaidWeDidFor(ctx, w.TeamA.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !y.Received.Suppressed || y.Received.Value != nil || !y.AnsweredWithinTarget.Suppressed {
			t.Fatalf("3 pieces of feedback are not suppressed: %+v", y)
		}
		if len(y.Published) != 2 {
			t.Fatalf("published: %+v", y.Published)
		}
		var all strings.Builder
		for _, p := range y.Published {
			all.WriteString(p.YouSaid + " " + p.WeDid + " ")
		}
		for _, never := range []string{"WORDS-NOT-AGREED", "PRIVATE-NOT-PUBLISHED", "Secret Giver", "secret@example.org", "Answered privately"} {
			if strings.Contains(all.String(), never) {
				t.Errorf("the public page shows %q", never)
			}
		}
		for _, want := range []string{"WORDS-AGREED", "People who work in the day asked for evening groups.", "We are starting an evening group in January."} {
			if !strings.Contains(all.String(), want) {
				t.Errorf("the public page lacks %q", want)
			}
		}
		// With five, the counts show.
		for range 3 {
			give("More please", false)
		}
		y, _ = w.Recovery.YouSaidWeDidFor(ctx, w.TeamA.ID)
		if y.Received.Value == nil || *y.Received.Value != 6 {
			t.Fatalf("six pieces of feedback: %+v", y.Received)
		}
		if _, err := w.Recovery.YouSaidWeDidFor(ctx, 99999); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("an unknown team: %v", err)
		}
		teams, err := w.Recovery.PublicTeams(ctx)
		if err != nil || len(teams) != 1 || teams[0].ID != w.TeamA.ID {
			t.Fatalf("public teams: %+v %v", teams, err)
		}
	})
}

// Outcomes: change in each item between people's first and latest
// DIALOG+ with a 95% interval, suppressed below five people.
func TestOutcomes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead, analyst := w.Principal(t, "lead"), w.Principal(t, "analyst")
		start := w.Clock.Now()
		var people []int64
		for i := range 6 {
			r := w.StaffReferral(t, "clinician", "Outcome "+string(rune('A'+i)))
			if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted, TeamID: w.TeamA.ID}); err != nil {
				t.Fatal(err)
			}
			people = append(people, r.PersonID)
		}
		record := func(pid int64, r int) {
			if _, err := w.Recovery.RecordSession(ctx, lead, pid, recovery.NewSession{Ratings: ratings(r)}); err != nil {
				t.Fatal(err)
			}
		}
		// Four people: too few.
		for i, pid := range people[:4] {
			record(pid, 2)
			w.Clock.Advance(time.Hour)
			record(pid, 3+i%2)
		}
		q := recovery.OutcomeQuery{From: start.AddDate(0, 0, -1), To: start.AddDate(0, 0, 2), Teams: []int64{w.TeamA.ID}}
		if _, err := w.Recovery.Outcomes(ctx, lead, q); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a lead asking for outcomes: %v", err)
		}
		o, err := w.Recovery.Outcomes(ctx, analyst, q)
		if err != nil {
			t.Fatal(err)
		}
		if !o.PeopleWithRepeatDialog.Suppressed || !o.Items[0].Suppressed || o.Items[0].Change != nil || !o.Overall.Suppressed {
			t.Fatalf("four people are not suppressed: %+v", o)
		}
		// Six: changes 1, 2, 1, 2, 3, 3 → mean 2, sd √0.8, se 0.36515,
		// t(0.975, 5) = 2.570582, half-width 0.93866.
		record(people[4], 1)
		record(people[4], 4)
		record(people[5], 2)
		w.Clock.Advance(time.Hour)
		record(people[5], 5)
		o, err = w.Recovery.Outcomes(ctx, analyst, q)
		if err != nil {
			t.Fatal(err)
		}
		it := o.Items[0]
		if it.Suppressed || it.People.Value == nil || *it.People.Value != 6 || it.Change == nil || *it.Change != 2 {
			t.Fatalf("six people: %+v", it)
		}
		if *it.Lower95 != 1.061 || *it.Upper95 != 2.939 {
			t.Fatalf("interval %v to %v, want 1.061 to 2.939", *it.Lower95, *it.Upper95)
		}
		if *it.FirstMean != 1.833 || *it.LaterMean != 3.833 {
			t.Fatalf("means %v → %v", *it.FirstMean, *it.LaterMean)
		}
		// Another team's outcomes do not include them.
		o, _ = w.Recovery.Outcomes(ctx, analyst, recovery.OutcomeQuery{From: q.From, To: q.To, Teams: []int64{w.TeamB.ID}})
		if o.PeopleWithRepeatDialog.Value == nil || *o.PeopleWithRepeatDialog.Value != 0 {
			t.Fatalf("team B: %+v", o.PeopleWithRepeatDialog)
		}
	})
}

// The recovery capability gives a person a copy of everything it holds
// about them, and forgets it: the plan and its history, goals, DIALOG+,
// reviews, and their words and details in feedback.
func TestHolder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		if _, err := w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{WhatMatters: str("HOLDER-PLAN"), Crisis: &recovery.CrisisPlan{EarlySigns: "HOLDER-CRISIS"}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.Recovery.CreateGoal(ctx, me, pid, recovery.NewGoal{Description: "HOLDER-GOAL"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Recovery.RecordSession(ctx, me, pid, recovery.NewSession{Ratings: ratings(4)}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Held: true, Reviewed: "HOLDER-REVIEW"}); err != nil {
			t.Fatal(err)
		}
		rc, err := w.Recovery.GiveFeedback(ctx, me, recovery.NewFeedback{About: recovery.AboutService, Body: "HOLDER-FEEDBACK", Email: "h@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		h := recovery.NewHolder(w.Recovery)
		var exported any
		var last time.Time
		if err := db.Read(ctx, func(tx *store.Tx) error {
			var err error
			if exported, err = h.Export(ctx, tx, pid); err != nil {
				return err
			}
			last, err = h.LastActivity(ctx, tx, pid)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		e := exported.(recovery.Export)
		if e.Plan.Crisis == nil || e.Plan.Crisis.EarlySigns != "HOLDER-CRISIS" || len(e.Goals) != 1 || len(e.Sessions) != 1 || len(e.Reviews) != 2 ||
			len(e.Feedback) != 1 || e.Feedback[0].Body != "HOLDER-FEEDBACK" || len(e.History) != 1 {
			t.Fatalf("export: %+v", e)
		}
		if !last.Equal(w.Clock.Now()) {
			t.Fatalf("last activity %v, want %v", last, w.Clock.Now())
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return h.Forget(ctx, tx, pid) }); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"recovery_plans", "recovery_plan_versions", "recovery_goals", "recovery_goal_steps", "dialog_sessions", "dialog_ratings", "recovery_reviews"} {
			if n := count(t, db, "SELECT COUNT(*) FROM "+table); n != 0 {
				t.Errorf("%s still has %d rows", table, n)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM feedback WHERE id = $1 AND body = '' AND giver_email = '' AND giver_person_id IS NULL AND forgotten_at IS NOT NULL", rc.ID); n != 1 {
			t.Fatal("the feedback still holds the person's words or details")
		}
		if res, err := audit.Verify(ctx, db); err != nil || !res.OK() {
			t.Fatalf("audit chain: %+v %v", res, err)
		}
	})
}

// As wired in cmd/mutual: the organisation's watched words find distress
// in a person's own words, and the concern reaches their team's peer leads
// as an alert on their referral; a second concern joins the open alert;
// anonymous feedback raises its own, under the feedback's reference. No
// alert carries what was written.
func TestConcernsReachTheLeadsAsAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		w.Recovery.RiskCheck = func(ctx context.Context, orgID int64, text string) bool {
			r, err := w.Watch.Check(ctx, orgID, text)
			return err == nil && r.Signpost()
		}
		w.Recovery.RaiseConcern = recovery.AlertConcerns(w.Alerts)
		pid := supported(t, w)
		me := w.Principal(t, "person")
		words := "Some nights I want to kill myself"
		if saved, err := w.Recovery.SavePlan(ctx, me, pid, recovery.PlanChange{WhatMatters: str(words)}); err != nil || saved.Signpost == nil {
			t.Fatalf("the plan: %+v %v", saved, err)
		}
		if s, err := w.Recovery.RecordSession(ctx, me, pid, recovery.NewSession{Ratings: ratings(4),
			Discussions: []recovery.Discussion{{Item: recovery.Safety, Understanding: words}}}); err != nil || s.Signpost == nil {
			t.Fatalf("DIALOG+: %+v %v", s, err)
		}
		open, err := w.Alerts.List(ctx, w.Principal(t, "lead"), alert.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var mine []alert.Alert
		for _, a := range open {
			if a.PersonID == pid {
				mine = append(mine, a)
			}
		}
		if len(mine) != 1 || mine[0].ReferralID == 0 || mine[0].Kind != alert.PossibleRisk {
			t.Fatalf("the lead's alerts for the person: %+v", mine)
		}
		if _, err := w.Recovery.GiveFeedback(ctx, app.Public("t"), recovery.NewFeedback{About: recovery.AboutService, Body: words,
			Anonymous: true, TeamID: w.TeamA.ID}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE referral_id IS NULL AND person_id IS NULL AND team_id = $1", w.TeamA.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the feedback's alert: %d %v", n, err)
		}
		var leaked int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE body LIKE $1 OR subject LIKE $1", "%kill myself%").Scan(&leaked); err != nil || leaked != 0 {
			t.Fatalf("emails carrying the words: %d %v", leaked, err)
		}
	})
}
