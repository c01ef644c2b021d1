package recovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Reviews link to appointments (#13 with #12): the next review is arranged
// at an appointment already made with the person (its time and place
// become the review's); a review held there is linked to it without being
// told again; another person's appointment, one still to come (for a review
// held) or one past (for the next) is refused; one review per appointment.
func TestReviewsAtAppointments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, workerB := w.Principal(t, "worker"), w.Principal(t, "workerB")
		at := w.Clock.Now().Add(10 * 24 * time.Hour).Truncate(time.Hour)
		appt, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Place: "community", PlaceDetail: "Library café", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		later, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(14 * 24 * time.Hour), Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}

		// A review held at an appointment still to come is refused.
		_, err = w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Held: true, Reviewed: "Goals", AppointmentID: appt.ID})
		wantField(t, err, "appointment_id")
		// Someone else's appointment, or an unknown one, is not offered.
		_, err = w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Next: &recovery.NextReview{AppointmentID: 999999}})
		wantField(t, err, "next.appointment_id")
		// Staff who may not see the person learn nothing of the appointment.
		_, err = w.Recovery.RecordReview(ctx, workerB, pid, recovery.NewReview{Next: &recovery.NextReview{AppointmentID: appt.ID}})
		if err == nil || app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("a worker of another team arranged a review at the appointment: %v", err)
		}

		// Arranged at the appointment: its time and place become the review's.
		planned, err := w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Next: &recovery.NextReview{AppointmentID: appt.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if !planned.DueAt.Equal(at) || planned.Place != "At a café or community place: Library café" || planned.Appointment == nil || planned.Appointment.ID != appt.ID {
			t.Fatalf("planned at the appointment: %+v (appointment %+v)", planned, planned.Appointment)
		}
		pv, err := w.Recovery.GetPlan(ctx, worker, pid)
		if err != nil || pv.NextReview == nil || pv.NextReview.Appointment == nil || len(pv.Appointments) != 2 {
			t.Fatalf("plan: next %+v, appointments %+v, %v", pv.NextReview, pv.Appointments, err)
		}
		// A clinician who may see the person's plan may not open their
		// appointments (support's rule): none is offered or shown, and none
		// can be named.
		// (The person is on team A's caseload, so team A's clinician sees them.)
		if _, err := db.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, imported_at)
			VALUES ($1, 'RA-1', $2, 'clinician@test.example', '2026-01-05', $3)`, pid, w.TeamA.ID, w.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		clin := w.Principal(t, "clinician")
		cp, err := w.Recovery.GetPlan(ctx, clin, pid)
		if err != nil || !cp.StaffView || cp.NextReview == nil {
			t.Fatalf("the clinician's view of the plan: %+v %v", cp.NextReview, err)
		}
		if len(cp.Appointments) != 0 || cp.NextReview.Appointment != nil {
			t.Fatalf("a clinician sees appointments: %+v %+v", cp.Appointments, cp.NextReview.Appointment)
		}
		_, err = w.Recovery.RecordReview(ctx, clin, pid, recovery.NewReview{PlannedID: planned.ID, Next: &recovery.NextReview{AppointmentID: later.ID}})
		wantField(t, err, "next.appointment_id")
		// The person's own view of their plan lists no appointments to choose.
		if own, err := w.Recovery.GetPlan(ctx, w.Principal(t, "person"), pid); err != nil || own.Appointments != nil || own.NextReview.Appointment == nil {
			t.Fatalf("own plan: %+v %v", own.Appointments, err)
		}

		// The appointment happens; the review is recorded without saying
		// where: it was held at the appointment it was arranged for, on its
		// day. The next is arranged at the later appointment.
		w.Clock.Advance(10*24*time.Hour + 2*time.Hour)
		if _, err := w.Support.Transition(ctx, worker, appt.ID, support.Move{To: support.Fulfilled}); err != nil {
			t.Fatal(err)
		}
		held, err := w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Held: true, PlannedID: planned.ID, Reviewed: "Goals", Agreed: "Keep going",
			Next: &recovery.NextReview{AppointmentID: later.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if held.Status != "held" || held.HeldAt == nil || !held.HeldAt.Equal(at) || held.Appointment == nil || held.Appointment.ID != appt.ID {
			t.Fatalf("held: %+v (appointment %+v)", held, held.Appointment)
		}
		pv, err = w.Recovery.GetPlan(ctx, worker, pid)
		if err != nil || pv.NextReview == nil || pv.NextReview.Appointment == nil || pv.NextReview.Appointment.ID != later.ID || !pv.NextReview.DueAt.Equal(later.Start) {
			t.Fatalf("next review: %+v %v", pv.NextReview, err)
		}

		// One review per appointment: a second review recorded at the
		// appointment already reviewed is refused, and nothing is written.
		before := count(t, db, "SELECT COUNT(*) FROM recovery_reviews WHERE person_id = $1", pid)
		_, err = w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{Held: true, PlannedID: pv.NextReview.ID, Reviewed: "Again", AppointmentID: appt.ID})
		wantCode(t, err, app.CodeConflict)
		if after := count(t, db, "SELECT COUNT(*) FROM recovery_reviews WHERE person_id = $1", pid); after != before {
			t.Fatalf("%d reviews after a refused one, want %d", after, before)
		}
		// The next review cannot be arranged at an appointment gone by.
		_, err = w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{PlannedID: pv.NextReview.ID, Next: &recovery.NextReview{AppointmentID: appt.ID}})
		wantField(t, err, "next.appointment_id")

		// When the arranged appointment is cancelled, the plan says so.
		if _, err := w.Support.Transition(ctx, worker, later.ID, support.Move{To: support.Cancelled, Reason: "Worker off sick"}); err != nil {
			t.Fatal(err)
		}
		pv, err = w.Recovery.GetPlan(ctx, worker, pid)
		if err != nil || pv.NextReview.Appointment == nil || pv.NextReview.Appointment.Live() {
			t.Fatalf("cancelled appointment: %+v %v", pv.NextReview.Appointment, err)
		}
		// A clinician records a review a worker arranged at an appointment
		// the clinician may not see: the link stays, unseen by them.
		third, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: w.Clock.Now().Add(24 * time.Hour), Place: "home", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		pv, err = w.Recovery.GetPlan(ctx, worker, pid)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Recovery.RecordReview(ctx, worker, pid, recovery.NewReview{PlannedID: pv.NextReview.ID, Next: &recovery.NextReview{AppointmentID: third.ID}}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(26 * time.Hour)
		if _, err := w.Support.Transition(ctx, worker, third.ID, support.Move{To: support.Fulfilled}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(time.Hour) // the clinician's session is recent
		byClin, err := w.Recovery.RecordReview(ctx, w.Principal(t, "clinician"), pid, recovery.NewReview{Held: true, PlannedID: pv.NextReview.ID, Reviewed: "Crisis plan"})
		if err != nil || byClin.Appointment != nil {
			t.Fatalf("a clinician's review: %+v %v", byClin.Appointment, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM recovery_reviews WHERE id = $1 AND appointment_id = $2", byClin.ID, third.ID); n != 1 {
			t.Fatalf("the link was lost when a clinician recorded the review")
		}

		// Forgetting the person, support's holder first, then recovery's:
		// no order between them is needed.
		if err := db.Write(ctx, func(tx *store.Tx) error {
			if err := (support.Holder{}).Forget(ctx, tx, pid); err != nil {
				return err
			}
			return recovery.NewHolder(w.Recovery).Forget(ctx, tx, pid)
		}); err != nil {
			t.Fatalf("forgetting a person with reviews at appointments: %v", err)
		}
	})
}
