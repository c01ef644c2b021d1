package testkit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

// VolumePerson says who supports one person of a benchmark volume, and
// how their support stands.
type VolumePerson struct {
	TeamID, WorkerID int64
	Ended            bool // ended yesterday, goals met
	Upcoming         int  // appointments booked in the coming weeks, one a week from tomorrow
}

// LoadSupportVolume writes a benchmark volume straight into the tables, as
// no service would one by one: people, each with one referral begun a year
// ago, 50 contacts a week apart (modes, minutes and kinds of support
// varying), an appointment for every fifth (one in three of those not
// attended), and any upcoming ones; shape says who supports person i. The
// contacts are written without the support roll-ups (build them after).
// It returns the people's ids in order.
func (w *World) LoadSupportVolume(tb testing.TB, people int, shape func(i int) VolumePerson) []int64 {
	tb.Helper()
	ctx := context.Background()
	now := w.Clock.Now()
	modes := []string{"in_person", "phone", "video", "text_email", "group"}
	types := []string{"emotional", "emotional,practical", "social", "care,recovery", "practical"}
	ids := make([]int64, 0, people)
	for start := 0; start < people; start += 200 {
		err := w.DB.Write(ctx, func(tx *store.Tx) error {
			var contacts, appts [][]any
			for i := start; i < start+200 && i < people; i++ {
				v := shape(i)
				var pid, rid int64
				if err := tx.QueryRowContext(ctx, "INSERT INTO people (preferred_name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
					fmt.Sprintf("Bench %d", i), now).Scan(&pid); err != nil {
					return err
				}
				ids = append(ids, pid)
				began := now.AddDate(-1, 0, 0)
				status, reason := "active", ""
				var closed any
				if v.Ended {
					status, reason, closed = "ended", "goals_met", now.AddDate(0, 0, -1)
				}
				if err := tx.QueryRowContext(ctx, `INSERT INTO referrals (reference, person_id, source, status, status_reason, team_id, allocated_worker_id, consent,
					received_at, allocated_at, first_contact_at, closed_at, updated_at) VALUES ($1, $2, 'staff', $3, $4, $5, $6, 'given', $7, $7, $7, $8, $7) RETURNING id`,
					fmt.Sprintf("MUT-B%07d", i), pid, status, reason, v.TeamID, v.WorkerID, began, closed).Scan(&rid); err != nil {
					return err
				}
				for c := range 50 {
					at := began.Add(time.Duration(c) * 7 * 24 * time.Hour)
					contacts = append(contacts, []any{rid, v.WorkerID, at, modes[c%5], 30 + c%4*15, types[(i+c)%5], "community", fmt.Sprintf("Met for coffee, week %d", c), at})
					if c%5 == 0 {
						st := "fulfilled"
						if c%15 == 0 {
							st = "noshow"
						}
						appts = append(appts, []any{pid, rid, v.TeamID, v.WorkerID, at, at.Add(time.Hour), 60, "community", st, "worker", at, at})
					}
				}
				for d := range v.Upcoming {
					at := now.Add(time.Duration(24*(1+d*7)+i%48) * time.Hour)
					appts = append(appts, []any{pid, rid, v.TeamID, v.WorkerID, at, at.Add(time.Hour), 60, "community", "booked", "worker", now, now})
				}
			}
			if err := storetest.Bulk(ctx, tx, "INSERT INTO contacts (referral_id, worker_user_id, at, mode, minutes, support_types, setting, note, created_at)", contacts); err != nil {
				return err
			}
			return storetest.Bulk(ctx, tx, `INSERT INTO appointments (person_id, referral_id, team_id, worker_user_id, starts_at, ends_at, minutes, place, status, asked_by,
				created_at, updated_at)`, appts)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}
