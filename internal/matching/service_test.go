package matching_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching"
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waiting makes a staff referral for a new person and accepts it onto team
// A's waiting list.
func waiting(t *testing.T, w *testkit.World, name string) referral.Referral {
	t.Helper()
	r := w.StaffReferral(t, "clinician", name)
	got, err := w.Referrals.Transition(context.Background(), w.Principal(t, "lead"), r.ID, referral.Move{To: referral.Accepted})
	must(t, err)
	return got
}

// selfReferral has the person account ask for peer support in team A and
// accepts it, giving the account its own person record.
func selfReferral(t *testing.T, w *testkit.World, who, team string) referral.Referral {
	t.Helper()
	ctx := context.Background()
	teamID, lead := w.TeamA.ID, "lead"
	if team == "B" {
		teamID, lead = w.TeamB.ID, "leadB"
	}
	r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, who), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "Company", TeamID: teamID})
	must(t, err)
	r, err = w.Referrals.Transition(ctx, w.Principal(t, lead), r.ID, referral.Move{To: referral.Accepted})
	must(t, err)
	return r
}

func setCap(t *testing.T, w *testkit.World, worker string, cap int) {
	t.Helper()
	ctx := context.Background()
	lead := "lead"
	if strings.HasSuffix(worker, "B") {
		lead = "leadB"
	}
	id := w.Users[worker].ID
	prof, err := w.Matching.WorkerProfile(ctx, w.Principal(t, lead), id)
	must(t, err)
	_, err = w.Matching.SaveWorkerProfile(ctx, w.Principal(t, lead), id, matching.SaveWorkerProfile{Version: prof.Version,
		Capacity: &matching.Capacity{HoursPerWeek: 37.5, CapOverride: &cap}})
	must(t, err)
}

func TestChoicesAreVersionedAndKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		// The person records their own choices: their account is given a
		// person record.
		own, err := w.Matching.SaveOwnChoices(ctx, w.Principal(t, "person"), matching.SaveChoices{
			Choices: matching.Choices{WorkerGender: "woman", WorkerGenderMust: true, Languages: []string{" polish ", "Polish"}, Places: []string{"phone", "home"}}})
		must(t, err)
		if own.Version != 1 || own.Choices.WorkerGender != "woman" || !slices.Equal(own.Choices.Languages, []string{"polish"}) ||
			!slices.Equal(own.Choices.Places, []string{"home", "phone"}) || !own.History[0].ByPerson {
			t.Fatalf("own choices: %+v", own)
		}
		person := w.Principal(t, "person")
		if person.PersonID == 0 {
			t.Fatal("saving choices gave the account no person record")
		}
		// A worker in scope records a change with the person.
		r, err := w.Referrals.CreateReferral(ctx, person, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "x", TeamID: w.TeamA.ID})
		must(t, err)
		_, err = w.Referrals.Transition(ctx, w.Principal(t, "lead"), r.ID, referral.Move{To: referral.Accepted})
		must(t, err)
		worker := w.Principal(t, "worker")
		_, err = w.Matching.SaveChoices(ctx, worker, person.PersonID, matching.SaveChoices{Version: 1, Choices: matching.Choices{WorkerGender: "man"}})
		if ae := app.As(err); ae.Code != app.CodeInvalid || ae.Fields[0].Field != "with_person" {
			t.Fatalf("staff without the person: %v", err)
		}
		staff, err := w.Matching.SaveChoices(ctx, worker, person.PersonID, matching.SaveChoices{Version: 1, WithPerson: true,
			Choices: matching.Choices{WorkerGender: "man", Themes: []string{"parent"}, SameWorker: new(false)}})
		must(t, err)
		if staff.Version != 2 || len(staff.History) != 2 || !staff.History[0].WithPerson || staff.History[0].RecordedBy != "Test worker" ||
			staff.History[1].Choices.WorkerGender != "woman" {
			t.Fatalf("history: %+v", staff.History)
		}
		// A save on an old version is refused, and says who changed it.
		_, err = w.Matching.SaveOwnChoices(ctx, w.Principal(t, "person"), matching.SaveChoices{Version: 1})
		if ae := app.As(err); ae.Code != app.CodeConflict || !strings.Contains(ae.Message, "Test worker") {
			t.Fatalf("stale save: %v", err)
		}
		// Bad input: every field named, nothing stored.
		_, err = w.Matching.SaveOwnChoices(ctx, w.Principal(t, "person"), matching.SaveChoices{Version: 2, Choices: matching.Choices{
			WorkerGender: "robot", Themes: []string{"nonsense"}, Places: []string{"moon"}, Days: []string{"funday"}, ReviewFrequency: "hourly",
			LanguagesMust: true, AvoidTopics: strings.Repeat("x", 2001)}})
		ae := app.As(err)
		var fields []string
		for _, f := range ae.Fields {
			fields = append(fields, f.Field)
		}
		for _, want := range []string{"worker_gender", "themes", "places", "days", "review_frequency", "languages_must", "avoid_topics"} {
			if !slices.Contains(fields, want) {
				t.Errorf("no problem for %s in %v", want, fields)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM choice_profiles"); n != 2 {
			t.Fatalf("%d versions stored, want 2", n)
		}
		// Someone out of scope is not found, and the attempt is audited.
		_, err = w.Matching.Choices(ctx, w.Principal(t, "clinicianB"), person.PersonID)
		if !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("out of scope: %v", err)
		}
		_, err = w.Matching.SaveChoices(ctx, w.Principal(t, "clinicianB"), person.PersonID, matching.SaveChoices{Version: 2, WithPerson: true})
		if !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("out of scope save: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'choices.%' AND outcome = 'denied'"); n != 2 {
			t.Fatalf("%d denied attempts audited, want 2", n)
		}
	})
}

// The audience rules, written out: who may read an item shared with whom.
func TestDisclosureAudienceTable(t *testing.T) {
	type who = string
	cases := map[string][]who{
		matching.AudienceNobody:    {"self"},
		matching.AudienceLead:      {"self", "lead"},
		matching.AudienceSupported: {"self", "supported"},
		matching.AudienceTeam:      {"self", "lead", "team"},
		matching.AudiencePublic:    {"self", "lead", "team", "supported", "anyone"},
	}
	for audience, want := range cases {
		for _, c := range []who{"self", "lead", "team", "supported", "anyone"} {
			got := matching.MayRead(audience, c)
			if got != slices.Contains(want, c) {
				t.Errorf("%s reading an item for %s: %v", c, audience, got)
			}
		}
	}
}

func TestDisclosuresFollowTheirAudience(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		wb := w.Users["workerB"].ID
		self := w.Principal(t, "workerB")
		items := map[string]int64{}
		for _, aud := range []string{"nobody", "lead", "supported", "team", "public"} {
			d, err := w.Matching.AddDisclosure(ctx, self, wb, matching.NewDisclosure{Text: "item for " + aud, Audience: aud, Themes: []string{"psychosis"}, ForMatching: aud == "nobody"})
			must(t, err)
			items[aud] = d.ID
		}
		// person2 is supported by workerB.
		r := selfReferral(t, w, "person2", "B")
		_, err := w.Referrals.Transition(ctx, w.Principal(t, "leadB"), r.ID, referral.Move{To: referral.Allocated, WorkerID: wb})
		must(t, err)
		see := func(name string) []string {
			t.Helper()
			d, err := w.Matching.ListDisclosures(ctx, w.Principal(t, name), wb)
			must(t, err)
			var out []string
			for _, it := range d.Items {
				out = append(out, strings.TrimPrefix(it.Text, "item for "))
			}
			return out
		}
		want := map[string][]string{
			"workerB":    {"nobody", "lead", "supported", "team", "public"},
			"leadB":      {"lead", "team", "public"},
			"clinicianB": {"team", "public"},
			"person2":    {"supported", "public"},
			"lead":       {"public"},
			"person":     {"public"},
			"analyst":    {"public"},
		}
		for name, items := range want {
			if got := see(name); !slices.Equal(got, items) {
				t.Errorf("%s sees %v, want %v", name, got, items)
			}
		}
		// Every read by someone else is recorded for the worker.
		reads, err := w.Matching.DisclosureReads(ctx, self, wb, 0)
		must(t, err)
		if len(reads) != 6 {
			t.Fatalf("%d reads recorded, want 6: %+v", len(reads), reads)
		}
		if _, err := w.Matching.DisclosureReads(ctx, w.Principal(t, "leadB"), wb, 0); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a lead reading who read: %v", err)
		}
		// A lead cannot change an item, shared with them or not.
		_, err = w.Matching.ChangeDisclosure(ctx, w.Principal(t, "leadB"), wb, items["lead"], matching.DisclosureChange{Version: 1, Text: new("changed")})
		if !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("lead changing an item shared with them: %v", err)
		}
		_, err = w.Matching.ChangeDisclosure(ctx, w.Principal(t, "leadB"), wb, items["nobody"], matching.DisclosureChange{Version: 1, Text: new("changed")})
		if !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("lead changing an item not shared with them: %v", err)
		}
		if err := w.Matching.WithdrawDisclosure(ctx, w.Principal(t, "leadB"), wb, items["supported"]); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("lead withdrawing an item not shared with them: %v", err)
		}
		// Narrowing an audience, and withdrawing, take effect at once.
		_, err = w.Matching.ChangeDisclosure(ctx, self, wb, items["team"], matching.DisclosureChange{Version: 1, Audience: new("nobody")})
		must(t, err)
		must(t, w.Matching.WithdrawDisclosure(ctx, self, wb, items["public"]))
		if got := see("leadB"); !slices.Equal(got, []string{"lead"}) {
			t.Errorf("after narrowing and withdrawing, the lead sees %v", got)
		}
		if got := see("analyst"); len(got) != 0 {
			t.Errorf("after withdrawing, others see %v", got)
		}
		// Stale and bad changes.
		_, err = w.Matching.ChangeDisclosure(ctx, self, wb, items["team"], matching.DisclosureChange{Version: 1, Text: new("again")})
		if !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("stale change: %v", err)
		}
		_, err = w.Matching.AddDisclosure(ctx, self, wb, matching.NewDisclosure{Text: " ", Audience: "everyone", Themes: []string{"x"}})
		if ae := app.As(err); ae.Code != app.CodeInvalid || len(ae.Fields) != 3 {
			t.Fatalf("bad item: %v", err)
		}
		// Someone else adding to a worker's disclosures: not found.
		if _, err := w.Matching.AddDisclosure(ctx, w.Principal(t, "leadB"), wb, matching.NewDisclosure{Text: "x", Audience: "public"}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("lead adding an item: %v", err)
		}
	})
}

func TestCapsAndReductions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		id := w.Users["worker"].ID
		prof, err := w.Matching.WorkerProfile(ctx, lead, id)
		must(t, err)
		if prof.HoursRecorded || prof.Cap != 14 || prof.CapNow != 14 {
			t.Fatalf("a worker with no hours has the full-time cap: %+v", prof)
		}
		// 22.5 hours of 37.5 is 0.6 of 14: 8.4, so 8; a 50% return to work halves it.
		today := w.Clock.Now().Format("2006-01-02")
		later := w.Clock.Now().AddDate(0, 0, 28).Format("2006-01-02")
		prof, err = w.Matching.SaveWorkerProfile(ctx, lead, id, matching.SaveWorkerProfile{Version: 0, Capacity: &matching.Capacity{HoursPerWeek: 22.5,
			Reductions: []matching.Reduction{{Percent: 50, StartsOn: today, EndsOn: later, Note: "Phased return"}}}})
		must(t, err)
		if prof.HoursCap != 8 || prof.Cap != 8 || prof.CapNow != 4 || prof.ReductionNow == nil || prof.ReductionNow.Percent != 50 {
			t.Fatalf("caps: %+v", prof)
		}
		// The worker may not change their own cap; the lead may not
		// change what the worker says about themselves.
		_, err = w.Matching.SaveWorkerProfile(ctx, w.Principal(t, "worker"), id, matching.SaveWorkerProfile{Version: 1, Capacity: &matching.Capacity{HoursPerWeek: 37.5}})
		if !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("worker changing their cap: %v", err)
		}
		_, err = w.Matching.SaveWorkerProfile(ctx, lead, id, matching.SaveWorkerProfile{Version: 1, Details: &matching.WorkerDetails{Gender: "man"}})
		if !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("lead changing the worker's details: %v", err)
		}
		// Bad periods are refused field by field.
		_, err = w.Matching.SaveWorkerProfile(ctx, lead, id, matching.SaveWorkerProfile{Version: 1, Capacity: &matching.Capacity{HoursPerWeek: 70,
			Reductions: []matching.Reduction{{Percent: 120, StartsOn: later, EndsOn: today}}}})
		ae := app.As(err)
		var fields []string
		for _, f := range ae.Fields {
			fields = append(fields, f.Field)
		}
		if !slices.Equal(fields, []string{"capacity.hours_per_week", "capacity.reductions[0].percent", "capacity.reductions[0].ends_on"}) {
			t.Fatalf("problems: %v", fields)
		}
		// After the period, the full cap again.
		w.Clock.Advance(30 * 24 * time.Hour)
		prof, err = w.Matching.WorkerProfile(ctx, w.Principal(t, "worker"), id)
		must(t, err)
		if prof.CapNow != 8 || prof.ReductionNow != nil {
			t.Fatalf("after the period: %+v", prof)
		}
		// Someone else's worker is not found.
		if _, err := w.Matching.WorkerProfile(ctx, w.Principal(t, "leadB"), id); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another team's lead: %v", err)
		}
	})
}

func TestCapEnforcedAtAllocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		setCap(t, w, "worker", 1)
		lead := w.Principal(t, "lead")
		wid := w.Users["worker"].ID
		a, b, c := waiting(t, w, "Ana"), waiting(t, w, "Bo"), waiting(t, w, "Cy")
		_, err := w.Referrals.Transition(ctx, lead, a.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
		must(t, err)
		_, err = w.Referrals.Transition(ctx, lead, b.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
		if ae := app.As(err); ae.Code != app.CodeConflict || !strings.Contains(ae.Message, "no free places") {
			t.Fatalf("over the cap without a reason: %v", err)
		}
		// With a reason it goes ahead, is recorded, and the supervisor
		// (the other lead of the team) is told.
		_, err = w.Referrals.Transition(ctx, lead, b.ID, referral.Move{To: referral.Allocated, WorkerID: wid, OverCapReason: "They asked for Test by name"})
		must(t, err)
		if n := count(t, db, "SELECT COUNT(*) FROM allocation_matches WHERE over_cap AND over_cap_reason = 'They asked for Test by name'"); n != 1 {
			t.Fatalf("over-cap allocation recorded %d times", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%above their caseload cap%'", w.Users["lead2"].ID); n != 1 {
			t.Fatalf("the supervisor was told %d times", n)
		}
		prof, err := w.Matching.WorkerProfile(ctx, w.Principal(t, "lead2"), wid)
		must(t, err)
		if len(prof.OverCap) != 1 || prof.OverCap[0].Reason != "They asked for Test by name" || prof.Caseload != 2 {
			t.Fatalf("the worker's profile: %+v", prof)
		}
		// Moving back to the waiting list frees a place.
		_, err = w.Referrals.Transition(ctx, lead, a.ID, referral.Move{To: referral.Accepted})
		must(t, err)
		_, err = w.Referrals.Transition(ctx, lead, c.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
		if !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("still at 1 of 1: %v", err)
		}
	})
}

func TestAllocationRecordsChoicesAndChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		person := "person"
		r := selfReferral(t, w, person, "A")
		p := w.Principal(t, person)
		_, err := w.Matching.SaveOwnChoices(ctx, p, matching.SaveChoices{Choices: matching.Choices{WorkerGender: "woman", Languages: []string{"Polish"}, Days: []string{"mon"}}})
		must(t, err)
		wid := w.Users["worker"].ID
		_, err = w.Matching.SaveWorkerProfile(ctx, w.Principal(t, "worker"), wid, matching.SaveWorkerProfile{Details: &matching.WorkerDetails{
			Gender: "woman", GenderForMatching: true, Languages: []string{"English"}, Days: []string{"mon", "tue"}}})
		must(t, err)
		lead := w.Principal(t, "lead")
		sl, err := w.Matching.MatchesFor(ctx, lead, r.ID)
		must(t, err)
		if len(sl.Workers) != 3 || sl.Workers[0].WorkerID != wid || !slices.Equal(sl.Workers[0].Met, []string{"A woman", "Available on Monday"}) ||
			!slices.Equal(sl.Workers[0].Unmet, []string{"Speaks Polish"}) {
			t.Fatalf("shortlist: %+v", sl.Workers)
		}
		_, err = w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
		must(t, err)
		if n := count(t, db, "SELECT COUNT(*) FROM unmet_choices WHERE kind = 'language' AND code = 'polish' AND team_id = $1", w.TeamA.ID); n != 1 {
			t.Fatalf("%d unmet-choice events for the language", n)
		}
		// The person asks for someone else: no reason asked; the leads are
		// told; that worker is left out from now on.
		res, err := w.Matching.AskForDifferentWorker(ctx, w.Principal(t, person), r.ID)
		must(t, err)
		if res.WorkerID != wid || res.Already {
			t.Fatalf("change: %+v", res)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE message LIKE '%asked for a different peer worker%'"); n != 2 {
			t.Fatalf("%d leads told", n)
		}
		sl, err = w.Matching.MatchesFor(ctx, lead, r.ID)
		must(t, err)
		last := sl.Workers[len(sl.Workers)-1]
		if last.WorkerID != wid || last.Rank != 0 || last.Why != "The person asked for a different worker" || len(sl.AskedNotToHave) != 1 {
			t.Fatalf("the worker is not left out: %+v", sl)
		}
		_, err = w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
		if ae := app.As(err); ae.Code != app.CodeInvalid || ae.Fields[0].Field != "worker_id" {
			t.Fatalf("allocating the worker they asked to change from: %v", err)
		}
		lead2 := w.Users["lead2"].ID
		_, err = w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: lead2})
		must(t, err)
		// Someone else's referral, or one without a worker: refused.
		other := waiting(t, w, "Other")
		if _, err := w.Matching.AskForDifferentWorker(ctx, w.Principal(t, person), other.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("someone else's referral: %v", err)
		}
	})
}

func TestPlanCommitsOrRefusesWhenStale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		setCap(t, w, "worker", 2)
		var refs []referral.Referral
		for _, n := range []string{"Ada", "Ben", "Cal", "Dee"} {
			refs = append(refs, waiting(t, w, n))
		}
		// Team A has three who may be allocated: the worker (2 places) and
		// two leads (14 each); everyone is placed.
		pl, err := w.Matching.ProposePlan(ctx, lead, matching.NewPlan{Teams: []int64{w.TeamA.ID}})
		must(t, err)
		if pl.ID == 0 || len(pl.Assignments) != 4 || len(pl.People) != 4 || len(pl.Workers) != 3 {
			t.Fatalf("plan: %+v", pl)
		}
		if _, err := w.Matching.ProposePlan(ctx, lead, matching.NewPlan{Teams: []int64{w.TeamB.ID}}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("planning another team: %v", err)
		}
		// Something changes: a new person joins the waiting list.
		late := waiting(t, w, "Eve")
		lines := func(pl matching.Plan) matching.CommitPlan {
			var c matching.CommitPlan
			for _, a := range pl.Assignments {
				c.Assignments = append(c.Assignments, matching.PlanLine{ReferralID: a.ReferralID, WorkerID: a.WorkerID})
			}
			return c
		}
		_, err = w.Matching.Commit(ctx, lead, pl.ID, lines(pl))
		var stale *matching.StaleError
		if !errors.As(err, &stale) || len(stale.Changes) != 1 || stale.Changes[0].ReferralID != late.ID || !strings.Contains(stale.Changes[0].What, "joined the waiting list") {
			t.Fatalf("stale plan: %v %+v", err, stale)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE status = 'allocated'"); n != 0 {
			t.Fatalf("a refused plan allocated %d", n)
		}
		// A fresh plan, edited: the last person is left waiting.
		pl, err = w.Matching.ProposePlan(ctx, lead, matching.NewPlan{Teams: []int64{w.TeamA.ID}})
		must(t, err)
		c := lines(pl)
		var left int64
		left, c.Assignments[len(c.Assignments)-1].WorkerID = c.Assignments[len(c.Assignments)-1].ReferralID, 0
		done, err := w.Matching.Commit(ctx, lead, pl.ID, c)
		must(t, err)
		if len(done.Allocated) != 4 || !slices.Equal(done.Waiting, []int64{left}) {
			t.Fatalf("committed: %+v", done)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM allocation_matches WHERE plan_id = $1", pl.ID); n != 4 {
			t.Fatalf("%d allocations recorded with the plan", n)
		}
		if _, err := w.Matching.Commit(ctx, lead, pl.ID, c); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("committing twice: %v", err)
		}
		// Another team's lead cannot see or commit the plan.
		if _, err := w.Matching.GetPlan(ctx, w.Principal(t, "leadB"), pl.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another team's lead reading the plan: %v", err)
		}
		_ = refs
	})
}

func TestInsightSuppressesSmallNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		wid := w.Users["worker"].ID
		// Six people who asked for Somali; nobody speaks it.
		for i, n := range []string{"A", "B", "C", "D", "E", "F"} {
			r := waiting(t, w, "Somali speaker "+n)
			_, err := w.Matching.SaveChoices(ctx, lead, r.PersonID, matching.SaveChoices{WithPerson: true, Choices: matching.Choices{Languages: []string{"Somali"}}})
			must(t, err)
			worker := wid
			if i%2 == 1 {
				worker = w.Users["lead2"].ID
			}
			_, err = w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: worker})
			must(t, err)
		}
		// Two who asked for a woman; nobody recorded a gender.
		for _, n := range []string{"G", "H"} {
			r := waiting(t, w, "Person "+n)
			_, err := w.Matching.SaveChoices(ctx, lead, r.PersonID, matching.SaveChoices{WithPerson: true, Choices: matching.Choices{WorkerGender: "woman"}})
			must(t, err)
			_, err = w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
			must(t, err)
		}
		ins, err := w.Matching.Insight(ctx, w.Principal(t, "analyst"), matching.InsightQuery{})
		must(t, err)
		kinds := map[string]matching.KindCount{}
		for _, k := range ins.UnmetByKind {
			kinds[k.Kind] = k
		}
		if k := kinds["language"]; k.Count == nil || *k.Count != 6 || k.Suppressed {
			t.Errorf("language: %+v", k)
		}
		if k := kinds["gender"]; k.Count != nil || !k.Suppressed {
			t.Errorf("gender (2) should be suppressed: %+v", k)
		}
		if a := ins.Allocations; len(a) != 1 || *a[0].Allocations != 8 || *a[0].WithChoices != 8 || *a[0].EveryChoiceMet != 0 || *a[0].Share != 0 {
			t.Errorf("allocations: %+v", ins.Allocations)
		}
		if ins.Named || len(ins.Caseloads) != 2 || ins.Caseloads[0].WorkerID != 0 || strings.Contains(ins.Caseloads[0].Worker, "Test") {
			t.Errorf("an analyst sees named workers: %+v", ins.Caseloads)
		}
		named, err := w.Matching.Insight(ctx, w.Principal(t, "manager"), matching.InsightQuery{})
		must(t, err)
		if !named.Named || named.Caseloads[0].Worker != "Test worker" || named.Caseloads[0].Caseload != 5 {
			t.Errorf("a service manager: %+v", named.Caseloads)
		}
	})
}

// Matching uses a worker's experience and gender only with their consent,
// whoever may read the words; the shortlist never shows the words.
func TestMatchingUsesOnlyWhatWorkersAgreed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		wid := w.Users["worker"].ID
		self := w.Principal(t, "worker")
		_, err := w.Matching.SaveWorkerProfile(ctx, self, wid, matching.SaveWorkerProfile{Details: &matching.WorkerDetails{Gender: "woman"}})
		must(t, err)
		item, err := w.Matching.AddDisclosure(ctx, self, wid, matching.NewDisclosure{Text: "SECRET-WORDS on a ward", Themes: []string{"ward"}, Audience: "public"})
		must(t, err)
		r := waiting(t, w, "Chooser")
		lead := w.Principal(t, "lead")
		_, err = w.Matching.SaveChoices(ctx, lead, r.PersonID, matching.SaveChoices{WithPerson: true, Choices: matching.Choices{WorkerGender: "woman", Themes: []string{"ward"}}})
		must(t, err)
		metOf := func() []string {
			sl, err := w.Matching.MatchesFor(ctx, lead, r.ID)
			must(t, err)
			for _, sw := range sl.Workers {
				if sw.WorkerID == wid {
					return sw.Met
				}
			}
			t.Fatal("the worker is not on the shortlist")
			return nil
		}
		if met := metOf(); len(met) != 0 {
			t.Fatalf("without consent, matching used %v", met)
		}
		_, err = w.Matching.SaveWorkerProfile(ctx, self, wid, matching.SaveWorkerProfile{Version: 1, Details: &matching.WorkerDetails{Gender: "woman", GenderForMatching: true}})
		must(t, err)
		_, err = w.Matching.ChangeDisclosure(ctx, self, wid, item.ID, matching.DisclosureChange{Version: 1, ForMatching: new(true), Audience: new("nobody")})
		must(t, err)
		met := metOf()
		if !slices.Equal(met, []string{"A woman", "Shared experience: being on a ward"}) {
			t.Fatalf("with consent, matching used %v", met)
		}
		sl, err := w.Matching.MatchesFor(ctx, lead, r.ID)
		must(t, err)
		for _, sw := range sl.Workers {
			for _, s := range append(sw.Met, sw.Unmet...) {
				if strings.Contains(s, "SECRET-WORDS") {
					t.Fatal("a shortlist shows a worker's words")
				}
			}
		}
		// The gender is not shown to the lead until it may be used.
		prof, err := w.Matching.WorkerProfile(ctx, lead, wid)
		must(t, err)
		if prof.Details.Gender != "woman" {
			t.Fatalf("the lead should see a gender agreed for matching: %+v", prof.Details)
		}
	})
}

// A plan reads each referral's urgency from the waiting list and marks a
// very urgent referral past its standard after four hours, putting it
// before a routine referral that has waited longer.
func TestPlanReadsUrgency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		old := waiting(t, w, "Ada")
		w.Clock.Advance(3 * 24 * time.Hour)
		urgent := waiting(t, w, "Ben")
		_, err := w.Referrals.SetUrgency(ctx, lead, urgent.ID, referral.UrgencyChange{Urgency: referral.VeryUrgent, Reason: "Just discharged and on their own."})
		must(t, err)
		w.Clock.Advance(5 * time.Hour)
		pl, err := w.Matching.ProposePlan(ctx, lead, matching.NewPlan{Teams: []int64{w.TeamA.ID}})
		must(t, err)
		if len(pl.People) != 2 || pl.People[0].ReferralID != urgent.ID || pl.People[1].ReferralID != old.ID {
			t.Fatalf("plan order: %+v", pl.People)
		}
		if p := pl.People[0]; p.Urgency != "very_urgent" || !p.Urgent || p.Risk {
			t.Fatalf("the very urgent referral: %+v", p)
		}
		if p := pl.People[1]; p.Urgency != "routine" || p.Urgent {
			t.Fatalf("the routine referral, 3 days in: %+v", p)
		}
	})
}
