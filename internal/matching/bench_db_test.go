package matching_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// BenchmarkPlanFromDatabase makes and commits a plan of one team's waiting
// list of 2,000 people for 50 workers, from the database, on each engine:
// what a lead waits for. The waiting list and workers are written straight
// into the tables, as a data load would.
func BenchmarkPlanFromDatabase(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			w := testkit.NewWorld(b, db)
			ctx := context.Background()
			now := w.Clock.Now()
			must := func(err error) {
				if err != nil {
					b.Fatal(err)
				}
			}
			err := db.Write(ctx, func(tx *store.Tx) error {
				for i := range 50 {
					var uid int64
					if err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, status, created_at, updated_at) VALUES ($1, $2, 'active', $3, $3) RETURNING id`,
						fmt.Sprintf("bench%d@test.example", i), fmt.Sprintf("Bench Worker %d", i), now).Scan(&uid); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO memberships (user_id, role, team_id, created_at) VALUES ($1, 'peer_worker', $2, $3)`, uid, w.TeamA.ID, now); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO worker_profiles (user_id, version, minutes_per_week, gender, gender_for_matching, details, updated_at)
						VALUES ($1, 1, 2250, $2, TRUE, '{"languages":["English"],"places":["community","phone"],"days":["mon","tue","wed"]}', $3)`,
						uid, []string{"woman", "man"}[i%2], now); err != nil {
						return err
					}
				}
				for i := range 2000 {
					var pid, rid int64
					if err := tx.QueryRowContext(ctx, `INSERT INTO people (preferred_name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`,
						fmt.Sprintf("Bench Person %d", i), now).Scan(&pid); err != nil {
						return err
					}
					received := now.Add(-time.Duration(i%90) * 24 * time.Hour)
					if err := tx.QueryRowContext(ctx, `INSERT INTO referrals (reference, person_id, source, status, team_id, consent, received_at, accepted_at, updated_at)
						VALUES ($1, $2, 'staff', 'accepted', $3, 'given', $4, $4, $4) RETURNING id`, fmt.Sprintf("MUT-B%07d", i), pid, w.TeamA.ID, received).Scan(&rid); err != nil {
						return err
					}
					if i%2 == 0 {
						if _, err := tx.ExecContext(ctx, `INSERT INTO choice_profiles (person_id, version, choices, recorded_by_role, by_person, with_person, recorded_at)
							VALUES ($1, 1, $2, 'person', TRUE, FALSE, $3)`, pid, []string{`{"worker_gender":"woman"}`, `{"places":["phone"],"days":["mon"]}`}[i%4/2], now); err != nil {
							return err
						}
					}
				}
				return nil
			})
			must(err)
			must(db.Analyze(ctx, true))
			lead := w.Principal(b, "lead")
			var pl matching.Plan
			b.Run("propose", func(b *testing.B) {
				for b.Loop() {
					pl, err = w.Matching.ProposePlan(ctx, lead, matching.NewPlan{Teams: []int64{w.TeamA.ID}})
					must(err)
				}
				b.ReportMetric(float64(len(pl.Assignments)), "allocated")
			})
			b.Run("commit", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					pl, err = w.Matching.ProposePlan(ctx, lead, matching.NewPlan{Teams: []int64{w.TeamA.ID}})
					must(err)
					var c matching.CommitPlan
					for _, a := range pl.Assignments {
						c.Assignments = append(c.Assignments, matching.PlanLine{ReferralID: a.ReferralID, WorkerID: a.WorkerID})
					}
					b.StartTimer()
					done, err := w.Matching.Commit(ctx, lead, pl.ID, c)
					must(err)
					b.ReportMetric(float64(len(done.Allocated)), "allocated")
				}
			})
		})
	}
}
