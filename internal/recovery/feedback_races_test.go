package recovery_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Two pieces of feedback given at the same moment are given the same
// reference (a clash forced by the test): one keeps it and the other is
// given another. When every reference tried is taken, the giver is told to
// try again and nothing of it is written.
func TestFeedbackReferenceClashUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		give := func(body string) (recovery.FeedbackReceipt, error) {
			return w.Recovery.GiveFeedback(ctx, app.Public("t"), recovery.NewFeedback{About: recovery.AboutService, TeamID: w.TeamA.ID,
				Body: body, Anonymous: true})
		}
		for round := range 5 {
			clash := fmt.Sprintf("FB-CLSH-%04d", round)
			w.Recovery.FeedbackReferences = testkit.Clashing(clash, fmt.Sprintf("FB-FREE-%d-", round))
			got := make([]recovery.FeedbackReceipt, 2)
			errs := testkit.Race(len(got), func(i int) error {
				var err error
				got[i], err = give(fmt.Sprintf("The drop-in was closed (%d, %d)", round, i))
				return err
			})
			if won := testkit.Winners(t, errs); won != 2 {
				t.Fatalf("round %d: %v", round, errs)
			}
			if got[0].Reference == got[1].Reference || (got[0].Reference != clash && got[1].Reference != clash) {
				t.Fatalf("round %d: references %q and %q", round, got[0].Reference, got[1].Reference)
			}
		}
		w.Recovery.FeedbackReferences = func() string { return "FB-CLSH-0000" }
		rows := func() [3]int {
			return [3]int{count(t, db, "SELECT COUNT(*) FROM feedback"), count(t, db, "SELECT COUNT(*) FROM feedback_events"),
				count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'feedback.create'")}
		}
		was := rows()
		_, err := give("Unlucky")
		if !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "try again") {
			t.Fatalf("every reference taken: %v", err)
		}
		if now := rows(); now != was {
			t.Fatalf("failed feedback left rows behind: %v before, %v after", was, now)
		}
	})
}
