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

// handoverWorld is the world with the person supported by the worker, and
// a second worker of team A (incoming) who supports person2.
type handoverWorld struct {
	pid, p2                int64
	incoming, worker, lead *app.Principal
	at                     time.Time
}

func newHandoverWorld(t *testing.T, db *store.DB) (*testkit.World, handoverWorld) {
	t.Helper()
	w := testkit.NewWorld(t, db)
	h := handoverWorld{pid: supported(t, w), incoming: w.AddWorker(t, "incoming", "A")}
	h.p2 = allocate(t, w, "person2", "incoming")
	h.worker, h.lead, h.at = w.Principal(t, "worker"), w.Principal(t, "lead"), tomorrow10(w)
	return w, h
}

// A warm handover meeting books both workers: a clash for either is
// refused, saying which worker is not free; both see it in their diary
// (and the incoming worker in their calendar feed);
// the incoming worker sees the meeting (and the person's name) but not
// the person's record, and changes nothing on it; when the referral is
// then handed over to them, the meeting is kept (the two swap places), not
// cancelled or duplicated.
func TestWarmHandoverMeeting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, hw := newHandoverWorld(t, db)
		ctx, pid, p2, incoming, worker, lead, at := context.Background(), hw.pid, hw.p2, hw.incoming, hw.worker, hw.lead, hw.at
		if _, err := w.Support.Create(ctx, incoming, support.NewAppointment{PersonID: p2, Start: at.Add(2 * time.Hour), Place: "phone", Agreed: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(5 * time.Hour), Place: "phone", Agreed: true}); err != nil {
			t.Fatal(err)
		}
		_, err := w.Support.Create(ctx, lead, support.NewAppointment{PersonID: pid, Start: at.Add(150 * time.Minute), Place: "team_base", Agreed: true, HandoverWorkerID: incoming.UserID})
		if !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "Test incoming (the incoming peer worker) is already booked") {
			t.Fatalf("incoming busy: %v", err)
		}
		_, err = w.Support.Create(ctx, lead, support.NewAppointment{PersonID: pid, Start: at.Add(5 * time.Hour), Place: "team_base", Agreed: true, HandoverWorkerID: incoming.UserID})
		if !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "Test worker (the person's peer worker) is already booked") {
			t.Fatalf("worker busy: %v", err)
		}
		for _, bad := range []int64{worker.UserID, w.Users["workerB"].ID, 999999} {
			_, err = w.Support.Create(ctx, lead, support.NewAppointment{PersonID: pid, Start: at, Place: "team_base", HandoverWorkerID: bad})
			wantField(t, err, "handover_worker_id")
		}
		h, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Place: "team_base", Agreed: true, HandoverWorkerID: incoming.UserID})
		if err != nil || h.HandoverWorkerID != incoming.UserID || h.HandoverWorkerName != "Test incoming" || h.Status != support.Booked {
			t.Fatalf("%v %+v", err, h)
		}
		// The incoming worker is booked by it: their own person cannot
		// have them then.
		_, err = w.Support.Create(ctx, incoming, support.NewAppointment{PersonID: p2, Start: at.Add(30 * time.Minute), Place: "phone"})
		wantCode(t, err, app.CodeConflict)

		for name, p := range map[string]*app.Principal{"worker": worker, "incoming": incoming} {
			d, err := w.Support.MyDiary(ctx, p, at)
			if err != nil || !strings.Contains(testkit.JSON(t, d), `"handover_worker_id":`) {
				t.Fatalf("%s's diary lacks the handover: %v", name, err)
			}
		}
		// And in the incoming worker's calendar feed.
		feed, err := w.Support.RenewFeed(ctx, incoming)
		if err != nil {
			t.Fatal(err)
		}
		ics, err := w.Support.Feed(ctx, strings.TrimSuffix(strings.TrimPrefix(feed.URL, "https://mutual.test/calendar/"), ".ics"))
		if err != nil || !strings.Contains(string(ics), fmt.Sprintf("appointment-%d@mutual", h.ID)) {
			t.Fatalf("the incoming worker's feed lacks the handover: %v", err)
		}
		got, err := w.Support.Get(ctx, incoming, h.ID)
		if err != nil || got.PersonName == "" || len(got.Next) != 0 {
			t.Fatalf("incoming reads the meeting: %v %+v", err, got)
		}
		_, err = w.Support.Transition(ctx, incoming, h.ID, support.Move{To: support.Cancelled, Reason: "no"})
		wantCode(t, err, app.CodeForbidden)
		if _, err := w.Referrals.PersonContacts(ctx, incoming, pid, 10, 0); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("incoming reads the person's contacts before the handover: %v", err)
		}
		if _, err := w.Support.Get(ctx, w.Principal(t, "workerB"), h.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another worker: %v", err)
		}

		before := count(t, db, "SELECT COUNT(*) FROM appointments WHERE person_id = $1", pid)
		if _, err := w.Referrals.Transition(ctx, lead, h.ReferralID, referral.Move{To: referral.Allocated, WorkerID: incoming.UserID}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM appointments WHERE person_id = $1", pid); n != before {
			t.Fatalf("appointments %d, were %d", n, before)
		}
		after, err := w.Support.Get(ctx, incoming, h.ID)
		if err != nil || after.Status != support.Booked || after.WorkerID != incoming.UserID || after.HandoverWorkerID != worker.UserID || len(after.Next) == 0 {
			t.Fatalf("after the handover: %v %+v", err, after)
		}
		if old, err := w.Support.Get(ctx, worker, h.ID); err != nil || old.Status != support.Booked {
			t.Fatalf("the outgoing worker still comes: %v %+v", err, old)
		}
	})
}

// Two bookings at once that clash on either worker of a handover meeting:
// exactly one wins — including two handover meetings of the same two
// workers the other way round (the locks are taken in one order, so
// neither waits for the other for ever).
func TestHandoverBookingsUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, hw := newHandoverWorld(t, db)
		ctx, pid, p2, incoming, worker, lead, at := context.Background(), hw.pid, hw.p2, hw.incoming, hw.worker, hw.lead, hw.at
		for i := range 6 {
			slot := at.Add(time.Duration(i) * 3 * time.Hour)
			errs := testkit.Race(2, func(j int) error {
				var err error
				switch {
				case j == 0:
					_, err = w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: slot, Place: "team_base", Agreed: true, HandoverWorkerID: incoming.UserID})
				case i%2 == 0:
					// The incoming worker's own person, at the same time.
					_, err = w.Support.Create(ctx, incoming, support.NewAppointment{PersonID: p2, Start: slot.Add(15 * time.Minute), Place: "phone", Agreed: true})
				default:
					// A handover the other way round: person2 from the
					// incoming worker to the first.
					_, err = w.Support.Create(ctx, lead, support.NewAppointment{PersonID: p2, Start: slot, Place: "team_base", Agreed: true, HandoverWorkerID: worker.UserID})
				}
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("slot %d: %d bookings won (%v)", i, won, errs)
			}
		}
		for _, u := range []int64{worker.UserID, incoming.UserID} {
			if n := count(t, db, `SELECT COUNT(*) FROM appointments a JOIN appointments b ON a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
				WHERE $1 IN (a.worker_user_id, a.handover_worker_id) AND $1 IN (b.worker_user_id, b.handover_worker_id) AND a.status = 'booked' AND b.status = 'booked'`, u); n != 0 {
				t.Fatalf("worker %d double-booked %d times", u, n)
			}
		}
	})
}

// When the referral goes to a worker other than the one a warm handover
// meeting was booked with, the meeting becomes one with the new worker: the
// displaced worker is no longer booked, and no longer sees it (nor the
// address). A meeting the service cancels (back to the waiting list) frees
// its other worker the same way.
func TestDisplacedIncomingWorkerLosesTheMeeting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, hw := newHandoverWorld(t, db)
		ctx, pid, incoming, worker, lead, at := context.Background(), hw.pid, hw.incoming, hw.worker, hw.lead, hw.at
		third := w.AddWorker(t, "third", "A")
		meeting, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Place: "home", PlaceDetail: "12 Acacia Avenue",
			Agreed: true, HandoverWorkerID: incoming.UserID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Get(ctx, incoming, meeting.ID); err != nil {
			t.Fatalf("the incoming worker before: %v", err)
		}
		var rid int64
		if err := db.QueryRow(ctx, "SELECT id FROM referrals WHERE person_id = $1", pid).Scan(&rid); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(time.Minute)
		if _, err := w.Referrals.Transition(ctx, lead, rid, referral.Move{To: referral.Allocated, WorkerID: third.UserID}); err != nil {
			t.Fatal(err)
		}
		if a, err := w.Support.Get(ctx, incoming, meeting.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("the displaced worker still reads the meeting: %+v %v", a, err)
		}
		a, err := w.Support.Get(ctx, third, meeting.ID)
		if err != nil || a.WorkerID != third.UserID || a.HandoverWorkerID != 0 || a.Status != support.Booked {
			t.Fatalf("the new worker's meeting: %+v %v", a, err)
		}
		// A second meeting booked with the third worker's colleague, then the
		// referral goes back to the waiting list: cancelled, and the
		// colleague freed.
		second, err := w.Support.Create(ctx, third, support.NewAppointment{PersonID: pid, Start: at.Add(3 * time.Hour), Place: "phone", Agreed: true,
			HandoverWorkerID: incoming.UserID})
		if err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(time.Minute)
		if _, err := w.Referrals.Transition(ctx, lead, rid, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Get(ctx, incoming, second.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("the other worker of a cancelled meeting still reads it: %v", err)
		}
	})
}
