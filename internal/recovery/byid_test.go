package recovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// One DIALOG+ session or review is found by its id however many newer ones
// the person has; someone else's answers not found.
func TestSessionAndReviewByIDHoweverOld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		me, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		old, err := w.Recovery.RecordSession(ctx, worker, pid, recovery.NewSession{Ratings: ratings(2),
			Discussions: []recovery.Discussion{{Item: recovery.Job, Actions: "Call the volunteer centre"}}})
		if err != nil {
			t.Fatal(err)
		}
		// 200 newer sessions, written straight in: more than the history shows.
		for i := 1; i <= 200; i++ {
			if _, err := db.Exec(ctx, `INSERT INTO dialog_sessions (person_id, at, stage, alone, followup, recorded_role, created_at)
				VALUES ($1, $2, 'between', false, '', 'peer_worker', $2)`, pid, w.Clock.Now().Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := w.Recovery.GetSession(ctx, me, old.ID)
		if err != nil || got.ID != old.ID || len(got.Ratings) != 11 || got.Mean != 2 || len(got.Discussions) != 1 {
			t.Fatalf("the oldest session: %+v %v", got, err)
		}
		if _, err := w.Recovery.GetSession(ctx, w.Principal(t, "person2"), old.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another person's session: %v", err)
		}
		if _, err := w.Recovery.GetSession(ctx, w.Principal(t, "workerB"), old.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another team's worker: %v", err)
		}
		rv, err := w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Next: &recovery.NextReview{At: w.Clock.Now().Add(21 * 24 * time.Hour), Place: "The café"}})
		if err != nil {
			t.Fatal(err)
		}
		gotR, err := w.Recovery.GetReview(ctx, me, rv.ID)
		if err != nil || gotR.ID != rv.ID || gotR.Status != "planned" || gotR.Place != "The café" || gotR.PersonID != pid {
			t.Fatalf("one review: %+v %v", gotR, err)
		}
		for _, who := range []string{"person2", "workerB"} {
			if _, err := w.Recovery.GetReview(ctx, w.Principal(t, who), rv.ID); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("%s reads the review: %v", who, err)
			}
		}
		if _, err := w.Recovery.GetReview(ctx, me, rv.ID+1000); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("no such review: %v", err)
		}
	})
}
