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
	w.LoadSupportVolume(b, benchContacts()/50, func(i int) testkit.VolumePerson {
		return testkit.VolumePerson{TeamID: w.TeamA.ID, WorkerID: w.Users["worker"].ID, Ended: i%10 == 0}
	})
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
