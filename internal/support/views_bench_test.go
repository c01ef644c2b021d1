package support_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

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
// fortnight): the benchmarked worker's 25 people in team A, everyone else
// another worker's (team A's second lead, or team B's worker), so the
// worker's own list stays the same size while the service around grows.
// It returns one of the worker's people.
func loadViews(b *testing.B, w *testkit.World, contacts int) int64 {
	b.Helper()
	ctx := context.Background()
	now := w.Clock.Now()
	people := contacts / 50
	modes := []string{"in_person", "phone", "video", "text_email", "group"}
	var mine int64
	for start := 0; start < people; start += 200 {
		err := w.DB.Write(ctx, func(tx *store.Tx) error {
			var cs, appts [][]any
			for i := start; i < start+200 && i < people; i++ {
				team, worker := w.TeamA.ID, w.Users["worker"].ID
				switch {
				case i < 25:
				case i%2 == 0:
					worker = w.Users["lead2"].ID
				default:
					team, worker = w.TeamB.ID, w.Users["workerB"].ID
				}
				var pid, rid int64
				if err := tx.QueryRowContext(ctx, "INSERT INTO people (preferred_name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
					fmt.Sprintf("View %d", i), now).Scan(&pid); err != nil {
					return err
				}
				if i == 0 {
					mine = pid
				}
				began := now.AddDate(-1, 0, 0)
				if err := tx.QueryRowContext(ctx, `INSERT INTO referrals (reference, person_id, source, status, team_id, allocated_worker_id, consent,
					received_at, allocated_at, first_contact_at, updated_at) VALUES ($1, $2, 'staff', 'active', $3, $4, 'given', $5, $5, $5, $5) RETURNING id`,
					fmt.Sprintf("MUT-V%07d", i), pid, team, worker, began).Scan(&rid); err != nil {
					return err
				}
				for c := range 50 {
					at := began.Add(time.Duration(c) * 7 * 24 * time.Hour)
					cs = append(cs, []any{rid, worker, at, modes[c%5], 30, "emotional", "community", fmt.Sprintf("Met for coffee, week %d", c), at})
					if c%5 == 0 {
						appts = append(appts, []any{pid, rid, team, worker, at, at.Add(time.Hour), 60, "community", "fulfilled", "worker", at, at})
					}
				}
				for d := range 2 {
					at := now.Add(time.Duration(24*(1+d*7)+i%48) * time.Hour)
					appts = append(appts, []any{pid, rid, team, worker, at, at.Add(time.Hour), 60, "community", "booked", "worker", now, now})
				}
			}
			if err := storetest.Bulk(ctx, tx, "INSERT INTO contacts (referral_id, worker_user_id, at, mode, minutes, support_types, setting, note, created_at)", cs); err != nil {
				return err
			}
			return storetest.Bulk(ctx, tx, `INSERT INTO appointments (person_id, referral_id, team_id, worker_user_id, starts_at, ends_at, minutes, place, status, asked_by,
				created_at, updated_at)`, appts)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := w.DB.Analyze(ctx, true); err != nil {
		b.Fatal(err)
	}
	return mine
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
