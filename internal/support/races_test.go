package support_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A worker checking out of a visit several times at once (a double tap)
// checks out once; checking in and out at the same moment never leaves a
// visit checked in after it was checked out.
func TestCheckOutOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker := w.Principal(t, "worker")
		at := tomorrow10(w)
		var visits []support.Appointment
		for i := range 10 {
			v, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(time.Duration(i) * 2 * time.Hour), Minutes: 60,
				Place: "home", PlaceDetail: fmt.Sprintf("%d High Street", i), Agreed: true})
			if err != nil {
				t.Fatal(err)
			}
			visits = append(visits, v)
		}
		for i, v := range visits {
			w.Clock.Advance(v.Start.Add(-10 * time.Minute).Sub(w.Clock.Now()))
			if i%2 == 0 {
				errs := testkit.Race(3, func(int) error {
					_, err := w.Support.CheckOut(ctx, worker, v.ID)
					return err
				})
				if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
					t.Fatalf("visit %d: checked out %d times", i, won)
				}
				if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'visit.check_out' AND object_id = $1", fmt.Sprint(v.ID)); n != 1 {
					t.Fatalf("visit %d: %d check-outs audited", i, n)
				}
				continue
			}
			errs := testkit.Race(2, func(j int) error {
				var err error
				if j == 0 {
					_, err = w.Support.CheckIn(ctx, worker, v.ID)
				} else {
					_, err = w.Support.CheckOut(ctx, worker, v.ID)
				}
				return err
			})
			if errs[1] != nil {
				t.Fatalf("visit %d: checking out: %v", i, errs[1])
			}
			checkedIn := count(t, db, "SELECT COUNT(*) FROM appointments WHERE id = $1 AND checked_in_at IS NOT NULL", v.ID)
			if errs[0] == nil && checkedIn != 1 || errs[0] != nil && (checkedIn != 0 || !app.IsCode(errs[0], app.CodeConflict)) {
				t.Fatalf("visit %d: check-in answered %v, recorded %d", i, errs[0], checkedIn)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM appointments WHERE id = $1 AND checked_out_at IS NOT NULL AND (checked_in_at IS NULL OR checked_in_at <= checked_out_at)", v.ID); n != 1 {
				t.Fatalf("visit %d: not checked in, then out", i)
			}
		}
	})
}

// Renewing one's calendar feed several times at once leaves one live feed,
// and it is one whose address was given back.
func TestRenewFeedUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		worker := w.Principal(t, "worker")
		for round := range 5 {
			feeds := make([]support.FeedStatus, 4)
			errs := testkit.Race(len(feeds), func(i int) error {
				var err error
				feeds[i], err = w.Support.RenewFeed(ctx, worker)
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won == 0 {
				t.Fatalf("round %d: no feed renewed", round)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL", worker.UserID); n != 1 {
				t.Fatalf("round %d: %d live feeds", round, n)
			}
			var live string
			if err := db.QueryRow(ctx, "SELECT token_hash FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL", worker.UserID).Scan(&live); err != nil {
				t.Fatalf("round %d: one live feed: %v", round, err)
			}
			given := false
			for i, f := range feeds {
				token := strings.TrimSuffix(strings.TrimPrefix(f.URL, "https://mutual.test/calendar/"), ".ics")
				given = given || errs[i] == nil && app.HashSecret(token) == live
			}
			if !given {
				t.Fatalf("round %d: the live feed is not one given back", round)
			}
			w.Clock.Advance(time.Minute)
		}
	})
}

// Two or more steps from one version of an appointment at once (the person
// accepting twice, the person and the worker cancelling): one is taken,
// the others are told it changed. Accepting while the lead takes the worker
// off the referral: the acceptance holds only if it came first.
func TestTransitionOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, person, lead := w.Principal(t, "worker"), w.Principal(t, "person"), w.Principal(t, "lead")
		for round := range 5 {
			a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w).Add(time.Duration(2*round) * time.Hour), Place: "phone"})
			if err != nil {
				t.Fatal(err)
			}
			errs := testkit.Race(4, func(i int) error {
				var err error
				switch i {
				case 0, 1:
					_, err = w.Support.Transition(ctx, person, a.ID, support.Move{To: support.Booked, Version: a.Version})
				case 2:
					_, err = w.Support.Transition(ctx, person, a.ID, support.Move{To: support.Cancelled, Reason: "Not that day", Version: a.Version})
				default:
					_, err = w.Support.Transition(ctx, worker, a.ID, support.Move{To: support.Cancelled, Reason: "Off sick", Version: a.Version})
				}
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("round %d: %d steps taken from one version", round, won)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action IN ('appointment.booked', 'appointment.cancelled') AND object_id = $1", fmt.Sprint(a.ID)); n != 1 {
				t.Fatalf("round %d: %d steps audited", round, n)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM appointments WHERE id = $1 AND version = $2", a.ID, a.Version+1); n != 1 {
				t.Fatalf("round %d: the appointment was changed more than once", round)
			}
		}
		for round := range 5 {
			a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w).Add(time.Duration(12+2*round) * time.Hour), Place: "phone"})
			if err != nil {
				t.Fatal(err)
			}
			errs := testkit.Race(2, func(i int) error {
				if i == 0 {
					_, err := w.Support.Transition(ctx, person, a.ID, support.Move{To: support.Booked})
					return err
				}
				_, err := w.Referrals.Transition(ctx, lead, a.ReferralID, referral.Move{To: referral.Accepted})
				return err
			})
			if errs[1] != nil {
				t.Fatalf("round %d: taking the worker off: %v", round, errs[1])
			}
			testkit.Winners(t, errs, app.CodeConflict)
			if errs[0] == nil {
				var accepted, unallocated int64
				if err := db.QueryRow(ctx, "SELECT MAX(id) FROM audit_events WHERE action = 'appointment.booked' AND object_id = $1", fmt.Sprint(a.ID)).Scan(&accepted); err != nil {
					t.Fatal(err)
				}
				if err := db.QueryRow(ctx, "SELECT MAX(id) FROM audit_events WHERE action = 'referral.transition.accepted' AND object_id = $1", fmt.Sprint(a.ReferralID)).Scan(&unallocated); err != nil {
					t.Fatal(err)
				}
				if accepted > unallocated {
					t.Fatalf("round %d: an appointment was accepted with a worker already taken off the referral", round)
				}
			}
			if _, err := w.Referrals.Transition(ctx, lead, a.ReferralID, referral.Move{To: referral.Allocated, WorkerID: w.Users["worker"].ID}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
