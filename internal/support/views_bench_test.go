package support_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

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
// fortnight): the benchmarked worker's 25 people in team A, everyone else
// another worker's (team A's second lead, or team B's worker), so the
// worker's own list stays the same size while the service around grows.
// It returns one of the worker's people.
func loadViews(b *testing.B, w *testkit.World, contacts int) int64 {
	b.Helper()
	ids := w.LoadSupportVolume(b, contacts/50, func(i int) testkit.VolumePerson {
		switch {
		case i < 25:
			return testkit.VolumePerson{TeamID: w.TeamA.ID, WorkerID: w.Users["worker"].ID, Upcoming: 2}
		case i%2 == 0:
			return testkit.VolumePerson{TeamID: w.TeamA.ID, WorkerID: w.Users["lead2"].ID, Upcoming: 2}
		default:
			return testkit.VolumePerson{TeamID: w.TeamB.ID, WorkerID: w.Users["workerB"].ID, Upcoming: 2}
		}
	})
	if err := w.DB.Analyze(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	return ids[0]
}

// BenchmarkWorkerViews measures a peer worker's day — "my people", "my
// diary" and a person's contact history (the newest 50) — at 10,000
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
			for _, x := range worlds {
				w, person := x.w, x.person
				worker := w.Principal(b, "worker")
				b.Run(fmt.Sprintf("contacts=%d/my_people", x.size), func(b *testing.B) {
					for b.Loop() {
						if people, err := w.Support.MyPeople(ctx, worker); err != nil || len(people) != 25 {
							b.Fatalf("%d people: %v", len(people), err)
						}
					}
				})
				b.Run(fmt.Sprintf("contacts=%d/my_diary", x.size), func(b *testing.B) {
					for b.Loop() {
						if d, err := w.Support.MyDiary(ctx, worker, w.Clock.Now().AddDate(0, 0, 7)); err != nil || len(d.Days) != 7 {
							b.Fatalf("%+v %v", d, err)
						}
					}
				})
				b.Run(fmt.Sprintf("contacts=%d/contact_history", x.size), func(b *testing.B) {
					for b.Loop() {
						if page, err := w.Referrals.PersonContacts(ctx, worker, person, 50, 0); err != nil || len(page.Contacts) != 50 || page.Total != 50 {
							b.Fatalf("%d of %d: %v", len(page.Contacts), page.Total, err)
						}
					}
				})
			}
		})
	}
}
