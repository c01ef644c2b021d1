package support_test

import (
	"context"
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

// status reads an appointment's status, who cancelled it and why, and its
// worker, straight from the table.
func apptRow(t *testing.T, db *store.DB, id int64) (status, by, reason string, worker int64) {
	t.Helper()
	if err := db.QueryRow(context.Background(), "SELECT status, cancelled_by, cancel_reason, worker_user_id FROM appointments WHERE id = $1", id).
		Scan(&status, &by, &reason, &worker); err != nil {
		t.Fatal(err)
	}
	return
}

// notes are every notification of an account's, joined.
func notes(t *testing.T, db *store.DB, userID int64) string {
	t.Helper()
	return strings.Join(testkit.Column[string](t, db, "SELECT message FROM notifications WHERE user_id = $1 ORDER BY id", userID), "\n")
}

// Ending a referral cancels its appointments still to come, by the service
// and saying why; one that already happened is left as it was; the person
// is told in Mutual and never reminded of a visit that will not happen.
func TestEndingCancelsAppointments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, lead := w.Principal(t, "worker"), w.Principal(t, "lead")
		booked, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w), Place: "home", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		proposed, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w).Add(48 * time.Hour), Place: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, lead, booked.ReferralID, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned, Reason: "goals_met",
			OutcomeSummary: "Back at the allotment."}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{booked.ID, proposed.ID} {
			status, by, reason, _ := apptRow(t, db, id)
			if status != "cancelled" || by != string(support.SideService) || reason != support.ReasonSupportEnded {
				t.Fatalf("appointment %d after ending: %s by %q (%q)", id, status, by, reason)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'appointment.cancelled_by_service' AND subject_person_id = $1", pid); n != 2 {
			t.Fatalf("%d audit rows for the cancellations, want 2", n)
		}
		if msg := notes(t, db, w.Users["person"].ID); !strings.Contains(msg, "2 appointments were cancelled") || !strings.Contains(msg, "not be reminded") {
			t.Fatalf("the person was told %q", msg)
		}
		w.Clock.Advance(2 * time.Hour) // within 24 hours of the booked visit
		if sent, err := w.Support.SendReminders(ctx); err != nil || sent != 0 {
			t.Fatalf("reminders after ending: %d, %v", sent, err)
		}
		// The worker cannot book it again: it is cancelled.
		_, err = w.Support.Transition(ctx, worker, proposed.ID, support.Move{To: support.Booked})
		wantCode(t, err, app.CodeConflict)
	})
}

// Reallocating gives each appointment still to come to the new worker when
// they are free then (the same double-booking rule) and cancels it
// otherwise; the person is told which happened.
func TestReallocationMovesOrCancelsAppointments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		p2 := allocate(t, w, "person2", "lead2")
		worker, lead, newWorker := w.Principal(t, "worker"), w.Principal(t, "lead"), w.Principal(t, "lead2")
		at := tomorrow10(w)
		busy, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Place: "home", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		free, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(24 * time.Hour), Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		// The new worker already sees someone at the first one's time.
		if _, err := w.Support.Create(ctx, newWorker, support.NewAppointment{PersonID: p2, Start: at.Add(30 * time.Minute), Place: "phone"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, lead, busy.ReferralID, referral.Move{To: referral.Allocated, WorkerID: newWorker.UserID}); err != nil {
			t.Fatal(err)
		}
		status, by, reason, _ := apptRow(t, db, busy.ID)
		if status != "cancelled" || by != "service" || reason != support.ReasonNewWorkerBusy {
			t.Fatalf("clashing appointment: %s by %q (%q)", status, by, reason)
		}
		status, _, _, wid := apptRow(t, db, free.ID)
		if status != "booked" || wid != newWorker.UserID {
			t.Fatalf("free appointment: %s with %d, want booked with %d", status, wid, newWorker.UserID)
		}
		// The new worker sees it; the old one no longer does.
		if _, err := w.Support.Get(ctx, newWorker, free.ID); err != nil {
			t.Fatalf("new worker: %v", err)
		}
		_, err = w.Support.Get(ctx, worker, free.ID)
		wantCode(t, err, app.CodeNotFound)
		msg := notes(t, db, w.Users["person"].ID)
		if !strings.Contains(msg, "One appointment will be with your new worker") || !strings.Contains(msg, "One appointment was cancelled because your new worker is not free") {
			t.Fatalf("the person was told %q", msg)
		}
		// Told the support goes on with someone else, not that a first
		// meeting will be arranged.
		if !strings.Contains(msg, "another peer support worker, who will be in touch") || strings.Count(msg, "first meeting") != 1 {
			t.Fatalf("the person was told %q", msg)
		}
	})
}

// A reallocation and a booking of the new worker's time at once: the new
// worker is never booked twice, whichever comes first (the reallocation
// takes the new worker's lock before it looks).
func TestReallocationRacesABooking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		p2 := allocate(t, w, "person2", "lead2")
		worker, lead, newWorker := w.Principal(t, "worker"), w.Principal(t, "lead"), w.Principal(t, "lead2")
		at := tomorrow10(w)
		a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		errs := testkit.Race(2, func(i int) error {
			if i == 0 {
				_, err := w.Referrals.Transition(ctx, lead, a.ReferralID, referral.Move{To: referral.Allocated, WorkerID: newWorker.UserID})
				return err
			}
			_, err := w.Support.Create(ctx, newWorker, support.NewAppointment{PersonID: p2, Start: at, Place: "phone", Agreed: true})
			return err
		})
		if errs[0] != nil {
			t.Fatalf("reallocation: %v", errs[0])
		}
		status, _, _, wid := apptRow(t, db, a.ID)
		bookedToo := errs[1] == nil
		if !bookedToo {
			wantCode(t, errs[1], app.CodeConflict)
		}
		if bookedToo == (status == "booked") {
			t.Fatalf("booking won: %v; moved appointment: %s with %d", bookedToo, status, wid)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM appointments WHERE worker_user_id = $1 AND starts_at = $2 AND status <> 'cancelled'",
			newWorker.UserID, at.UTC()); n != 1 {
			t.Fatalf("the new worker holds %d appointments at one time", n)
		}
	})
}
