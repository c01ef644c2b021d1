package recovery_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// benchPeople is how many people the benchmarks load: each referred to team
// A and allocated to the world's worker, with a DIALOG+ session every
// month for a year (so outcomes pair 3,000 people over 36,000 sessions and
// 396,000 ratings), two goals and a planned review.
const benchPeople = 3000

func loadBench(b *testing.B, engine store.Dialect) (*testkit.World, int64) {
	b.Helper()
	ctx := context.Background()
	db := storetest.Open(b, engine)
	w := testkit.NewWorld(b, db)
	rng := rand.New(rand.NewPCG(1, 2))
	now := w.Clock.Now()
	items := recovery.ItemCodes()
	var first int64
	for start := 0; start < benchPeople; start += 250 {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i := start; i < start+250 && i < benchPeople; i++ {
				var pid, rid int64
				if err := tx.QueryRowContext(ctx, "INSERT INTO people (preferred_name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
					fmt.Sprintf("Bench %d", i), now).Scan(&pid); err != nil {
					return err
				}
				if first == 0 {
					first = pid
				}
				if err := tx.QueryRowContext(ctx, `INSERT INTO referrals (reference, person_id, source, status, team_id, allocated_worker_id, consent,
					received_at, allocated_at, first_contact_at, updated_at) VALUES ($1, $2, 'staff', 'active', $3, $4, 'given', $5, $5, $5, $5) RETURNING id`,
					fmt.Sprintf("MUT-B%07d", i), pid, w.TeamA.ID, w.Users["worker"].ID, now.AddDate(-1, 0, 0)).Scan(&rid); err != nil {
					return err
				}
				var vals []string
				a := store.NewArgs()
				for m := range 12 {
					var sid int64
					if err := tx.QueryRowContext(ctx, `INSERT INTO dialog_sessions (person_id, team_id, at, stage, alone, created_at)
						VALUES ($1, $2, $3, 'between', FALSE, $3) RETURNING id`, pid, w.TeamA.ID, now.AddDate(0, m-12, 1)).Scan(&sid); err != nil {
						return err
					}
					for _, it := range items {
						vals = append(vals, "("+a.Add(sid)+", "+a.Add(it)+", "+a.Add(1+rng.IntN(7))+", FALSE)")
					}
				}
				if _, err := tx.ExecContext(ctx, "INSERT INTO dialog_ratings (session_id, item, rating, more_help) VALUES "+strings.Join(vals, ", "), a.Values()...); err != nil {
					return err
				}
				for g := range 2 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_goals (person_id, team_id, description, progress, created_at, updated_at)
						VALUES ($1, $2, $3, 'on_the_way', $4, $4)`, pid, w.TeamA.ID, fmt.Sprintf("Goal %d", g), now.AddDate(0, -6, 0)); err != nil {
						return err
					}
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_reviews (person_id, team_id, status, due_at, created_at, updated_at)
					VALUES ($1, $2, 'planned', $3, $4, $4)`, pid, w.TeamA.ID, now.AddDate(0, 0, rng.IntN(60)-20), now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Analyze(ctx, true); err != nil {
		b.Fatal(err)
	}
	return w, first
}

// BenchmarkRecovery measures, on each engine, the outcomes for a year over
// every team (pairing 3,000 people's first and latest DIALOG+), one person's
// plan page, their DIALOG+ history with its eleven charts, and a peer
// lead's list of reviews due across 3,000 people in support.
func BenchmarkRecovery(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			w, pid := loadBench(b, engine)
			ctx := context.Background()
			analyst, person := w.Principal(b, "analyst"), w.Principal(b, "lead")
			now := w.Clock.Now()
			b.Run("Outcomes", func(b *testing.B) {
				for b.Loop() {
					o, err := w.Recovery.Outcomes(ctx, analyst, recovery.OutcomeQuery{From: now.AddDate(-1, 0, -1), To: now.AddDate(0, 0, 1)})
					if err != nil || o.PeopleWithRepeatDialog.Value == nil || *o.PeopleWithRepeatDialog.Value != benchPeople {
						b.Fatalf("%+v %v", o.PeopleWithRepeatDialog, err)
					}
				}
			})
			b.Run("PlanPage", func(b *testing.B) {
				for b.Loop() {
					if _, err := w.Recovery.GetPlan(ctx, person, pid); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("DialogWithCharts", func(b *testing.B) {
				for b.Loop() {
					d, err := w.Recovery.GetDialog(ctx, person, pid)
					if err != nil || len(d.Sessions) != 12 {
						b.Fatal(err)
					}
					recovery.Charts(d.Sessions, app.London)
				}
			})
			b.Run("ReviewsDue", func(b *testing.B) {
				for b.Loop() {
					if _, err := w.Recovery.ReviewsDue(ctx, person); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
