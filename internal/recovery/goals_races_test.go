package recovery_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// The person and their worker changing one goal from the same version at
// once: one change is saved; the other is told the goal changed.
func TestUpdateGoalUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		editors := []*app.Principal{w.Principal(t, "person"), w.Principal(t, "worker"), w.Principal(t, "person")}
		for round := range 5 {
			g, _, err := w.Recovery.CreateGoal(ctx, editors[0], pid, recovery.NewGoal{Description: fmt.Sprintf("Goal %d", round)})
			if err != nil {
				t.Fatal(err)
			}
			texts := []string{"Walk on Mondays", "Walk on Tuesdays", "Walk on Fridays"}
			errs := testkit.Race(len(editors), func(i int) error {
				_, _, err := w.Recovery.UpdateGoal(ctx, editors[i], g.ID, recovery.GoalChange{Version: g.Version, Description: &texts[i]})
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("round %d: %d changes saved from one version", round, won)
			}
			var desc string
			var version int
			if err := db.QueryRow(ctx, "SELECT description, version FROM recovery_goals WHERE id = $1", g.ID).Scan(&desc, &version); err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if err == nil && (desc != texts[i] || version != g.Version+1) {
					t.Fatalf("round %d: stored %q at version %d; the winner saved %q", round, desc, version, texts[i])
				}
			}
		}
	})
}
