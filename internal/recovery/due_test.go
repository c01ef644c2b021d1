package recovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A review due is on the list however many people not due come before it:
// whether a review is due is decided before the list is cut short.
func TestReviewsDueFilteredBeforeTheLimit(t *testing.T) {
	defer recovery.SetMaxDue(2)()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead, worker := w.Principal(t, "lead"), w.Principal(t, "worker")
		allocated := w.Clock.Now()
		var people []int64
		for _, name := range []string{"Due Ann", "Due Bea", "Due Cat"} {
			r := w.StaffReferral(t, "clinician", name)
			for _, m := range []referral.Move{{To: referral.Accepted, TeamID: w.TeamA.ID}, {To: referral.Allocated, WorkerID: w.Users["worker"].ID}} {
				if _, err := w.Referrals.Transition(ctx, lead, r.ID, m); err != nil {
					t.Fatal(err)
				}
			}
			people = append(people, r.PersonID)
		}
		// The first two (the lowest referrals) have a review far ahead.
		for _, pid := range people[:2] {
			if _, err := w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Next: &recovery.NextReview{At: allocated.Add(300 * 24 * time.Hour)}}); err != nil {
				t.Fatal(err)
			}
		}
		// Eleven weeks on, the third's review (12 weeks after support
		// began, none planned) is due within two weeks.
		w.Clock.Advance(11 * 7 * 24 * time.Hour)
		due, err := w.Recovery.ReviewsDue(ctx, worker)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 1 || due[0].PersonID != people[2] || due[0].Planned || due[0].Overdue {
			t.Fatalf("due: %+v, want %d only", due, people[2])
		}
		if d := due[0].DueAt.Sub(allocated); d < 12*7*24*time.Hour-time.Minute || d > 12*7*24*time.Hour+time.Minute {
			t.Fatalf("due %v after support began, want twelve weeks", d)
		}
		// Fifteen days on, it is eight days overdue; the others still not due.
		w.Clock.Advance(15 * 24 * time.Hour)
		due, _ = w.Recovery.ReviewsDue(ctx, lead)
		if len(due) != 1 || !due[0].Overdue || due[0].DaysOverdue != 8 {
			t.Fatalf("overdue: %+v", due)
		}
	})
}
