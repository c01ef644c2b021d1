package support_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func date(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

func datePtr(s string) *time.Time { t := date(s); return &t }

func TestPrompts(t *testing.T) {
	today := date("2026-11-02")
	kinds := func(ps []support.Prompt) string {
		s := ""
		for _, p := range ps {
			s += p.Kind + "@" + p.Due.Format(time.DateOnly) + " "
		}
		return s
	}
	for _, c := range []struct {
		name string
		e    support.Episode
		want string
	}{
		{"OnTheWard", support.Episode{Setting: "acute_ward", Start: date("2026-10-30")}, "in_reach@2026-10-30 "},
		{"AdmittedTomorrow", support.Episode{Setting: "acute_ward", Start: date("2026-11-03")}, ""},
		{"DischargedToday", support.Episode{Setting: "acute_ward", Start: date("2026-10-01"), End: datePtr("2026-11-02")},
			"in_reach@2026-10-01 discharge_follow_up@2026-11-09 "},
		{"DischargedLastWeek", support.Episode{Setting: "acute_ward", Start: date("2026-10-01"), End: datePtr("2026-10-26")}, "discharge_follow_up@2026-11-02 "},
		{"DischargedLongAgo", support.Episode{Setting: "acute_ward", Start: date("2026-01-01"), End: datePtr("2026-09-01")}, ""},
		{"Community", support.Episode{Setting: "community", Start: date("2026-10-30")}, ""},
		{"CAMHSTurned17", support.Episode{Setting: "camhs_transition", Start: date("2025-01-01"), DateOfBirth: datePtr("2009-11-01")}, "camhs_transition@2026-11-01 "},
		{"CAMHSStill16", support.Episode{Setting: "camhs_transition", Start: date("2025-01-01"), DateOfBirth: datePtr("2009-11-03")}, ""},
		{"CAMHSNoBirthDate", support.Episode{Setting: "camhs_transition", Start: date("2025-01-01")}, ""},
		{"CAMHSEnded", support.Episode{Setting: "camhs_transition", Start: date("2025-01-01"), End: datePtr("2026-10-01"), DateOfBirth: datePtr("2000-01-01")}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := kinds(support.Prompts(c.e, today, 7)); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// The job raises each prompt once however many instances run it at once;
// the worker sees their people's prompts; a discharge follow-up not done by
// its day shows overdue, and a contact since makes it done.
func TestTransitionPrompts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		r := w.Allocated(t, "person", "worker")
		young := w.Allocated(t, "person2", "worker")
		today := w.Clock.Now().Truncate(24 * time.Hour)
		episode := func(personID, team int64, ref, setting string, start time.Time, end any) {
			if _, err := db.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, end_date, setting, imported_at)
				VALUES ($1, $2, $3, 'clinician@test.example', $4, $5, $6, $7)`, personID, ref, team, start, end, setting, w.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		// Admitted ten days ago, discharged yesterday; a young person on a
		// CAMHS transition caseload who turned 17 last week.
		episode(r.PersonID, w.TeamB.ID, "WARD-1", "acute_ward", today.AddDate(0, 0, -10), today.AddDate(0, 0, -1))
		episode(young.PersonID, w.TeamA.ID, "CAMHS-1", "camhs_transition", today.AddDate(-1, 0, 0), nil)
		if _, err := db.Exec(ctx, "UPDATE people SET date_of_birth = $1 WHERE id = $2", today.AddDate(-17, 0, -7), young.PersonID); err != nil {
			t.Fatal(err)
		}
		// (Discharged already: no in-reach visit, only the follow-up.)
		if n := atOnce(t, 3, w.Support.RaiseTransitionPrompts); n != 2 {
			t.Fatalf("prompts raised by three instances at once: %d, want 2", n)
		}
		if n, _ := w.Support.RaiseTransitionPrompts(ctx); n != 0 {
			t.Fatalf("raised again: %d", n)
		}
		worker := w.Principal(t, "worker")
		list, err := w.Support.MyPrompts(ctx, worker)
		if err != nil || len(list) != 2 {
			t.Fatalf("the worker's prompts: %+v %v", list, err)
		}
		follow := func() support.TransitionPrompt {
			list, err := w.Support.MyPrompts(ctx, worker)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range list {
				if p.Kind == support.PromptDischargeFollowUp {
					return p
				}
			}
			t.Fatal("no discharge follow-up")
			return support.TransitionPrompt{}
		}
		if f := follow(); f.Overdue || f.Done || !f.Due.Equal(today.AddDate(0, 0, 6)) {
			t.Fatalf("follow-up on day one: %+v", f)
		}
		if other, _ := w.Support.MyPrompts(ctx, w.Principal(t, "workerB")); len(other) != 0 {
			t.Fatalf("another worker sees %d prompts", len(other))
		}
		w.Clock.Advance(8 * 24 * time.Hour)
		if f := follow(); !f.Overdue {
			t.Fatalf("follow-up past its day with no contact: %+v", f)
		}
		// A contact entered in error does not count as the follow-up.
		wrong, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now().Add(-2 * time.Hour), Mode: "phone", Minutes: 5})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.MarkEnteredInError(ctx, worker, wrong.ID, referral.ErrorMark{Reason: "Wrong person", Version: wrong.Version}); err != nil {
			t.Fatal(err)
		}
		if f := follow(); f.Done || !f.Overdue {
			t.Fatalf("follow-up after a contact entered in error: %+v", f)
		}
		if _, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Hour), Mode: "phone", Minutes: 20}); err != nil {
			t.Fatal(err)
		}
		if f := follow(); !f.Done || f.Overdue {
			t.Fatalf("follow-up after a contact: %+v", f)
		}
	})
}

// A prompt is marked done by hand, with what was done, by the person's
// worker only, once: a second mark or three at once leave one note. A
// CAMHS transition plan is done only when marked: a contact is not a plan.
func TestPromptsMarkedDoneByHand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		ward := w.Allocated(t, "person", "worker")
		young := w.Allocated(t, "person2", "worker")
		today := w.Clock.Now().Truncate(24 * time.Hour)
		for _, e := range []struct {
			person int64
			ref    string
			set    string
			start  time.Time
		}{{ward.PersonID, "WARD-2", "acute_ward", today.AddDate(0, 0, -2)}, {young.PersonID, "CAMHS-2", "camhs_transition", today.AddDate(-1, 0, 0)}} {
			if _, err := db.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, setting, imported_at)
				VALUES ($1, $2, $3, 'clinician@test.example', $4, $5, $6)`, e.person, e.ref, w.TeamB.ID, e.start, e.set, w.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(ctx, "UPDATE people SET date_of_birth = $1 WHERE id = $2", today.AddDate(-17, 0, -3), young.PersonID); err != nil {
			t.Fatal(err)
		}
		if n, err := w.Support.RaiseTransitionPrompts(ctx); err != nil || n != 2 {
			t.Fatalf("raised %d, %v; want an in-reach visit and a transition plan", n, err)
		}
		worker := w.Principal(t, "worker")
		prompt := func(kind string) support.TransitionPrompt {
			t.Helper()
			list, err := w.Support.MyPrompts(ctx, worker)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range list {
				if p.Kind == kind {
					return p
				}
			}
			t.Fatalf("no %s prompt in %+v", kind, list)
			return support.TransitionPrompt{}
		}
		plan := prompt(support.PromptCAMHSTransition)
		w.Clock.Advance(2 * time.Hour)
		if _, err := w.Referrals.RecordContact(ctx, worker, young.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Hour), Mode: "phone", Minutes: 15}); err != nil {
			t.Fatal(err)
		}
		if p := prompt(support.PromptCAMHSTransition); p.Done {
			t.Fatalf("a contact made the transition plan done: %+v", p)
		}
		for name, who := range map[string]string{"another team's worker": "workerB", "the person": "person2", "a lead": "lead"} {
			if _, err := w.Support.MarkPromptDone(ctx, w.Principal(t, who), plan.ID, support.PromptDone{Note: "Plan agreed"}); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s marking it: %v, want not found", name, err)
			}
		}
		if _, err := w.Support.MarkPromptDone(ctx, worker, plan.ID, support.PromptDone{Note: "  "}); !app.IsCode(err, app.CodeInvalid) || app.As(err).Fields[0].Field != "note" {
			t.Fatalf("an empty note: %v", err)
		}
		if _, err := w.Support.MarkPromptDone(ctx, worker, plan.ID, support.PromptDone{Note: strings.Repeat("ō", 501)}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("501 letters: %v", err)
		}
		if p := prompt(support.PromptCAMHSTransition); p.Done || p.DoneAt != nil {
			t.Fatalf("refused marks changed it: %+v", p)
		}
		done, err := w.Support.MarkPromptDone(ctx, worker, plan.ID, support.PromptDone{Note: " Transition plan agreed with the adult team "})
		if err != nil || !done.Done || done.Overdue || done.DoneAt == nil || done.DoneNote != "Transition plan agreed with the adult team" {
			t.Fatalf("marked: %+v %v", done, err)
		}
		if _, err := w.Support.MarkPromptDone(ctx, worker, plan.ID, support.PromptDone{Note: "Again"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("a second mark: %v, want a conflict", err)
		}
		// Three marks of the in-reach visit at once: one wins, its note stays.
		visit := prompt(support.PromptInReach)
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Support.MarkPromptDone(ctx, worker, visit.ID, support.PromptDone{Note: fmt.Sprintf("Visited on the ward (%d)", i)})
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil:
				t.Errorf("marks %d and %d both won", won, i)
			case !app.IsCode(err, app.CodeConflict):
				t.Errorf("mark %d: %v, want done or a conflict", i, err)
			}
		}
		if p := prompt(support.PromptInReach); won < 0 || p.DoneNote != fmt.Sprintf("Visited on the ward (%d)", won) {
			t.Fatalf("after three at once: %+v (winner %d)", p, won)
		}
		var marks int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action = 'transition_prompt.done' AND outcome = 'ok'").Scan(&marks); err != nil || marks != 2 {
			t.Fatalf("audited marks: %d %v, want 2", marks, err)
		}
		// What the worker said was done is in the person's copy.
		if err := db.Read(ctx, func(tx *store.Tx) error {
			held, err := support.Holder{}.Export(ctx, tx, young.PersonID)
			if err != nil {
				return err
			}
			if got := fmt.Sprintf("%+v", held); !strings.Contains(got, "Transition plan agreed with the adult team") {
				t.Errorf("the person's copy lacks what was done: %s", got)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
