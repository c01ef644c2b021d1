package matching_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Leads saving one worker's profile from the same version at once: one
// save is kept, the others are told it changed. A cap lowered while the
// worker is being allocated their last free place: the allocation is
// decided on the cap as it is when it commits — it succeeds only if it
// went first (its audit line comes before the save's), and is otherwise
// refused for want of a free place.
func TestWorkerProfileUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		id := w.Users["worker"].ID
		caseload := 0
		for round := range 5 {
			prof, err := w.Matching.WorkerProfile(ctx, lead, id)
			must(t, err)
			errs := testkit.Race(3, func(i int) error {
				c := caseload + 1
				_, err := w.Matching.SaveWorkerProfile(ctx, lead, id, matching.SaveWorkerProfile{Version: prof.Version,
					Capacity: &matching.Capacity{HoursPerWeek: 30 + float64(i), CapOverride: &c}})
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("round %d: %d saves of version %d kept", round, won, prof.Version)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM worker_profiles WHERE user_id = $1 AND version = $2", id, prof.Version+1); n != 1 {
				t.Fatalf("round %d: the profile is not at version %d", round, prof.Version+1)
			}
			// One free place; the lead lowers the cap to the caseload as
			// another lead allocates the place.
			r := w.StaffReferral(t, "clinician", fmt.Sprintf("Capped %d", round))
			_, err = w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted})
			must(t, err)
			errs = testkit.Race(2, func(i int) error {
				if i == 0 {
					_, err := w.Referrals.Transition(ctx, w.Principal(t, "lead2"), r.ID, referral.Move{To: referral.Allocated, WorkerID: id})
					return err
				}
				c := caseload
				_, err := w.Matching.SaveWorkerProfile(ctx, lead, id, matching.SaveWorkerProfile{Version: prof.Version + 1,
					Capacity: &matching.Capacity{HoursPerWeek: 30, CapOverride: &c}})
				return err
			})
			if errs[1] != nil {
				t.Fatalf("round %d: lowering the cap: %v", round, errs[1])
			}
			testkit.Winners(t, errs, app.CodeConflict)
			if errs[0] == nil {
				caseload++
				var allocated, saved int64
				must(t, db.QueryRow(ctx, "SELECT MAX(id) FROM audit_events WHERE action = 'referral.transition.allocated' AND object_id = $1", fmt.Sprint(r.ID)).Scan(&allocated))
				must(t, db.QueryRow(ctx, "SELECT MAX(id) FROM audit_events WHERE action = 'worker_profile.update' AND object_id = $1", fmt.Sprint(id)).Scan(&saved))
				if allocated > saved {
					t.Fatalf("round %d: the last free place was allocated after the cap that took it away was saved", round)
				}
			}
			if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE allocated_worker_id = $1 AND status = 'allocated'", id); n != caseload {
				t.Fatalf("round %d: %d allocated, want %d", round, n, caseload)
			}
		}
	})
}

// Administrators saving an organisation's matching settings at the same
// moment, the first time it has any: every save is answered, and one is
// kept whole.
func TestSaveSettingsUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		admin := w.Principal(t, "admin")
		var org int64
		must(t, db.QueryRow(ctx, "SELECT organisation_id FROM teams WHERE id = $1", w.TeamA.ID).Scan(&org))
		for round := range 5 {
			errs := testkit.Race(4, func(i int) error {
				_, err := w.Matching.SaveSettings(ctx, admin, org, matching.SettingsChange{PeoplePerFTE: 10 + i, FullTimeHours: float64(30 + i),
					Themes: []matching.Theme{{Label: fmt.Sprintf("Theme %d-%d", round, i)}}})
				return err
			})
			if won := testkit.Winners(t, errs); won != 4 {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM matching_settings WHERE organisation_id = $1", org); n != 1 {
				t.Fatalf("round %d: %d rows of settings", round, n)
			}
			got, err := w.Matching.Settings(ctx, admin, org)
			must(t, err)
			i := got.PeoplePerFTE - 10
			if i < 0 || i > 3 || got.FullTimeHours != float64(30+i) || len(got.Themes) != 1 || got.Themes[0].Label != fmt.Sprintf("Theme %d-%d", round, i) {
				t.Fatalf("round %d: the settings kept are no one save: %+v", round, got)
			}
		}
	})
}
