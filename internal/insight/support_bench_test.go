package insight_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// benchContacts is how many contacts the support report benchmark loads
// (MUTUAL_BENCH_CONTACTS; the bar is 1,000,000), 50 per person over
// a year, with one appointment for every five contacts (200,000 at the
// bar), a tenth of the referrals ended.
func benchContacts() int {
	if n, err := strconv.Atoi(os.Getenv("MUTUAL_BENCH_CONTACTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func loadSupportBench(b *testing.B, engine store.Dialect) *testkit.World {
	b.Helper()
	ctx := context.Background()
	db := storetest.Open(b, engine)
	w := testkit.NewWorld(b, db)
	now := w.Clock.Now()
	people := benchContacts() / 50
	worker := w.Users["worker"].ID
	modes := []string{"in_person", "phone", "video", "text_email", "group"}
	types := []string{"emotional", "emotional,practical", "social", "care,recovery", "practical"}
	for start := 0; start < people; start += 200 {
		err := db.Write(ctx, func(tx *store.Tx) error {
			var contacts, appts [][]any
			for i := start; i < start+200 && i < people; i++ {
				var pid, rid int64
				if err := tx.QueryRowContext(ctx, "INSERT INTO people (preferred_name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
					fmt.Sprintf("Bench %d", i), now).Scan(&pid); err != nil {
					return err
				}
				began := now.AddDate(-1, 0, 0)
				status, reason := "active", ""
				var closed any
				if i%10 == 0 {
					status, reason, closed = "ended", "goals_met", now.AddDate(0, 0, -1)
				}
				if err := tx.QueryRowContext(ctx, `INSERT INTO referrals (reference, person_id, source, status, status_reason, team_id, allocated_worker_id, consent,
					received_at, allocated_at, first_contact_at, closed_at, updated_at) VALUES ($1, $2, 'staff', $3, $4, $5, $6, 'given', $7, $7, $7, $8, $7) RETURNING id`,
					fmt.Sprintf("MUT-S%07d", i), pid, status, reason, w.TeamA.ID, worker, began, closed).Scan(&rid); err != nil {
					return err
				}
				for c := range 50 {
					at := began.Add(time.Duration(c) * 7 * 24 * time.Hour)
					contacts = append(contacts, []any{rid, worker, at, modes[c%5], 30 + c%4*15, types[(i+c)%5], "community", at})
					if c%5 == 0 {
						st := "fulfilled"
						if c%15 == 0 {
							st = "noshow"
						}
						appts = append(appts, []any{pid, rid, w.TeamA.ID, worker, at, at.Add(time.Hour), 60, "community", st, "worker", at, at})
					}
				}
			}
			if err := storetest.Bulk(ctx, tx, "INSERT INTO contacts (referral_id, worker_user_id, at, mode, minutes, support_types, setting, created_at)", contacts); err != nil {
				return err
			}
			return storetest.Bulk(ctx, tx, `INSERT INTO appointments (person_id, referral_id, team_id, worker_user_id, starts_at, ends_at, minutes, place, status, asked_by,
				created_at, updated_at)`, appts)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The contacts went in without the roll-up: build it, as the
	// background job would, timed.
	began := time.Now()
	if err := w.Referrals.RebuildSupportRollup(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: support roll-up built from %d contacts in %s", engine, benchContacts(), time.Since(began).Round(time.Millisecond))
	if err := db.Analyze(ctx, true); err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkSupportReport measures the support report for a year over every
// team and for one team, on each engine, at benchContacts contacts (the
// issue's bar: under 1 s at 1,000,000 contacts and 200,000 appointments).
func BenchmarkSupportReport(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			w := loadSupportBench(b, engine)
			svc := service(w)
			svc.Suppress = stats.Suppressor{Threshold: 5}
			ctx := context.Background()
			analyst := w.Principal(b, "analyst")
			period := insight.Period{From: w.Clock.Now().AddDate(-1, 0, -1), To: w.Clock.Now()}
			// From the roll-up, then counted straight from the contacts (as
			// while the roll-up is stale) for comparison.
			for _, from := range []string{"rollup", "direct"} {
				if from == "direct" {
					if err := w.DB.Write(ctx, func(tx *store.Tx) error { return referral.MarkSupportRollupStale(ctx, tx) }); err != nil {
						b.Fatal(err)
					}
				}
				for _, teams := range [][]int64{nil, {w.TeamA.ID}} {
					b.Run(fmt.Sprintf("%s/teams=%d", from, len(teams)), func(b *testing.B) {
						for b.Loop() {
							rep, err := svc.SupportReport(ctx, analyst, period, teams)
							if err != nil || rep.Contacts == nil || *rep.Contacts != benchContacts()/50*50 {
								b.Fatalf("%v %v", show(rep.Contacts), err)
							}
						}
					})
				}
				// The roll-up's worst period: half a month at each end,
				// each counted from the contacts one by one.
				if from == "rollup" {
					b.Run("rollup/mid-month", func(b *testing.B) {
						mid := insight.Period{From: time.Date(2025, 11, 16, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)}
						for b.Loop() {
							if rep, err := svc.SupportReport(ctx, analyst, mid, nil); err != nil || rep.Contacts == nil {
								b.Fatalf("%v %v", show(rep.Contacts), err)
							}
						}
					})
				}
			}
		})
	}
}
