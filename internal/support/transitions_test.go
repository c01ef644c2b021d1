package support_test

import (
	"context"
	"testing"
	"time"

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
