package support_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// viewsContacts is the larger volume the worker's views are measured at
// (MUTUAL_BENCH_VIEWS_CONTACTS; small by default so make bench stays
// short; the bar is 1,000,000 contacts and 200,000 appointments).
func viewsContacts() int {
	if n, err := strconv.Atoi(os.Getenv("MUTUAL_BENCH_VIEWS_CONTACTS")); err == nil && n > 0 {
		return n
	}
	return 50_000
}

// loadViews loads contacts people (50 contacts each, weekly over the last
// year, an appointment for every fifth, two more booked in the coming
// fortnight), 25 to a peer worker as in a real service: the benchmarked
// worker's 25 in team A, everyone else another worker's in team A or B,
// so the worker's own list stays the same size while the service around
// grows (and the planners' statistics see workers of a real size, not
// three workers holding every appointment). It returns one of the
// worker's people.
func loadViews(b *testing.B, w *testkit.World, contacts int) int64 {
	b.Helper()
	people := contacts / 50
	workers := []int64{w.Users["worker"].ID}
	for k := 1; k*25 < people; k++ {
		team := "A"
		if k%2 == 1 {
			team = "B"
		}
		workers = append(workers, w.AddWorker(b, fmt.Sprintf("volume%04d", k), team).UserID)
	}
	ids := w.LoadSupportVolume(b, people, func(i int) testkit.VolumePerson {
		k := i / 25
		team := w.TeamA.ID
		if k%2 == 1 {
			team = w.TeamB.ID
		}
		return testkit.VolumePerson{TeamID: team, WorkerID: workers[k], Upcoming: 2}
	})
	if err := w.DB.Analyze(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	return ids[0]
}

// BenchmarkWorkerViews measures a peer worker's day — "my people", "my
// diary", their calendar feed and a person's contact history (the newest
// 50) — at 10,000
// contacts and at viewsContacts, on each engine: the bar is each
// within 1.5 times its time at 10,000 when the service holds 1,000,000
// contacts and 200,000 appointments.
func BenchmarkWorkerViews(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			// Both volumes are loaded first, so their times are measured
			// one after the other, under the same load.
			type world struct {
				w      *testkit.World
				person int64
				size   int
			}
			var worlds []world
			for _, size := range []int{10_000, viewsContacts()} {
				w := testkit.NewWorld(b, storetest.Open(b, engine))
				worlds = append(worlds, world{w, loadViews(b, w, size), size})
			}
			ctx := context.Background()
			if engine == store.Postgres {
				// A bulk load leaves the checkpointer writing for minutes
				// after, and every audited read waits for its audit row's
				// commit: measure the views, not the load's aftermath.
				if _, err := worlds[0].w.DB.Exec(ctx, "CHECKPOINT"); err != nil {
					b.Fatal(err)
				}
			}
			// Each view is measured at both sizes one straight after the
			// other, so a slower spell of a shared machine falls on both.
			views := []struct {
				name string
				run  func(b *testing.B, x world, worker *app.Principal, token string)
			}{
				{"my_people", func(b *testing.B, x world, worker *app.Principal, _ string) {
					if people, err := x.w.Support.MyPeople(ctx, worker); err != nil || len(people) != 25 {
						b.Fatalf("%d people: %v", len(people), err)
					}
				}},
				{"my_diary", func(b *testing.B, x world, worker *app.Principal, _ string) {
					if d, err := x.w.Support.MyDiary(ctx, worker, x.w.Clock.Now().AddDate(0, 0, 7)); err != nil || len(d.Days) != 7 {
						b.Fatalf("%+v %v", d, err)
					}
				}},
				{"calendar_feed", func(b *testing.B, x world, _ *app.Principal, token string) {
					if ics, err := x.w.Support.Feed(ctx, token); err != nil || len(ics) == 0 {
						b.Fatalf("%d bytes: %v", len(ics), err)
					}
				}},
				{"contact_history", func(b *testing.B, x world, worker *app.Principal, _ string) {
					if page, err := x.w.Referrals.PersonContacts(ctx, worker, x.person, 50, 0); err != nil || len(page.Contacts) != 50 || page.Total != 50 {
						b.Fatalf("%d of %d: %v", len(page.Contacts), page.Total, err)
					}
				}},
			}
			workers := make([]*app.Principal, len(worlds))
			tokens := make([]string, len(worlds))
			for i, x := range worlds {
				workers[i] = x.w.Principal(b, "worker")
				feed, err := x.w.Support.RenewFeed(ctx, workers[i])
				if err != nil {
					b.Fatal(err)
				}
				tokens[i] = strings.TrimSuffix(feed.URL[strings.LastIndex(feed.URL, "/")+1:], ".ics")
			}
			for _, v := range views {
				for i, x := range worlds {
					b.Run(fmt.Sprintf("contacts=%d/%s", x.size, v.name), func(b *testing.B) {
						for b.Loop() {
							v.run(b, x, workers[i], tokens[i])
						}
					})
				}
			}
		})
	}
}
