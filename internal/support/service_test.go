package support_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// supported gives the world's "person" account a record, referred for
// themselves to team A and allocated to the world's worker; it returns the
// person's id.
func supported(t *testing.T, w *testkit.World) int64 {
	t.Helper()
	return allocate(t, w, "person", "worker")
}

func allocate(t *testing.T, w *testkit.World, account, worker string) int64 {
	t.Helper()
	return w.Allocated(t, account, worker).PersonID
}

func wantCode(t *testing.T, err error, code app.Code) {
	t.Helper()
	if !app.IsCode(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	for _, f := range app.As(err).Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("want a problem with %s, got %v", field, err)
}

// tomorrow10 is 10:00 London time on the day after the world's clock.
func tomorrow10(w *testkit.World) time.Time {
	d := w.Clock.Now().In(app.London).AddDate(0, 0, 1)
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, app.London)
}

// A worker proposes at the person's chosen place; the person accepts; the
// worker records arrived and happened. The person cannot record those;
// cancelling needs a reason and says who.
func TestAppointmentLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, person := w.Principal(t, "worker"), w.Principal(t, "person")
		at := tomorrow10(w)

		_, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at})
		wantField(t, err, "place") // no choice recorded, none given
		if _, err := w.Matching.SaveOwnChoices(ctx, person, matching.SaveChoices{Choices: matching.Choices{Places: []string{"community", "phone"}}}); err != nil {
			t.Fatal(err)
		}
		_, err = w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: w.Clock.Now().Add(-time.Hour), Minutes: 5})
		wantField(t, err, "start")
		wantField(t, err, "minutes")

		a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, PlaceDetail: "Library café"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != support.Proposed || a.Place != "community" || a.Minutes != 60 || a.WorkerID != w.Users["worker"].ID || a.AskedBy != support.SideWorker {
			t.Fatalf("proposed: %+v", a)
		}
		// The person sees it in their account and accepts it.
		mine, err := w.Support.List(ctx, person, support.Filter{})
		if err != nil || len(mine) != 1 || mine[0].ID != a.ID {
			t.Fatalf("person's list: %v %+v", err, mine)
		}
		if a, err = w.Support.Transition(ctx, person, a.ID, support.Move{To: support.Booked, Version: a.Version}); err != nil || a.Status != support.Booked {
			t.Fatalf("accept: %v %+v", err, a)
		}
		_, err = w.Support.Transition(ctx, person, a.ID, support.Move{To: support.Fulfilled})
		wantCode(t, err, app.CodeForbidden)
		_, err = w.Support.Transition(ctx, worker, a.ID, support.Move{To: support.Cancelled, Reason: "x", Version: a.Version - 1})
		wantCode(t, err, app.CodeConflict) // stale version
		_, err = w.Support.Transition(ctx, worker, a.ID, support.Move{To: support.Arrived})
		wantCode(t, err, app.CodeConflict) // not started yet
		w.Clock.Advance(25 * time.Hour)
		if a, err = w.Support.Transition(ctx, worker, a.ID, support.Move{To: support.Arrived}); err != nil {
			t.Fatal(err)
		}
		if a, err = w.Support.Transition(ctx, worker, a.ID, support.Move{To: support.Fulfilled}); err != nil || a.Status != support.Fulfilled {
			t.Fatalf("fulfilled: %v %+v", err, a)
		}

		b, err := w.Support.Create(ctx, person, support.NewAppointment{Start: tomorrow10(w), Place: "phone"})
		if err != nil || b.AskedBy != support.SidePerson || b.Status != support.Proposed {
			t.Fatalf("person asks: %v %+v", err, b)
		}
		_, err = w.Support.Transition(ctx, person, b.ID, support.Move{To: support.Booked})
		wantCode(t, err, app.CodeConflict) // the worker answers a person's request
		_, err = w.Support.Transition(ctx, person, b.ID, support.Move{To: support.Cancelled})
		wantField(t, err, "reason")
		if b, err = w.Support.Transition(ctx, person, b.ID, support.Move{To: support.Cancelled, Reason: "Feeling better today"}); err != nil {
			t.Fatal(err)
		}
		if b.CancelledBy != support.SidePerson || b.CancelReason != "Feeling better today" {
			t.Fatalf("cancelled: %+v", b)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'appointment.%'"); n < 6 {
			t.Fatalf("audit rows: %d", n)
		}
	})
}

// The same worker cannot be booked twice at once: an overlap is refused
// with the clash, a slot next to another is fine, a cancelled one frees
// the slot, and of many bookings of one slot at once exactly one wins.
func TestNoDoubleBooking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		p1 := supported(t, w)
		p2 := allocate(t, w, "person2", "worker")
		worker := w.Principal(t, "worker")
		at := tomorrow10(w)
		a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p1, Start: at, Minutes: 60, Place: "home"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p2, Start: at.Add(30 * time.Minute), Place: "phone"})
		wantCode(t, err, app.CodeConflict)
		if msg := app.As(err).Message; !strings.Contains(msg, "10:00") || !strings.Contains(msg, "11:00") {
			t.Fatalf("clash message: %q", msg)
		}
		// The person asking is told their worker is busy, without whom with.
		_, err = w.Support.Create(ctx, w.Principal(t, "person2"), support.NewAppointment{Start: at, Place: "phone"})
		wantCode(t, err, app.CodeConflict)
		if msg := app.As(err).Message; !strings.Contains(msg, "Your peer worker is not free") || strings.Contains(msg, "10:00") {
			t.Fatalf("person's clash message: %q", msg)
		}
		if _, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p2, Start: at.Add(time.Hour), Place: "phone"}); err != nil {
			t.Fatalf("back to back: %v", err)
		}
		if _, err := w.Support.Transition(ctx, worker, a.ID, support.Move{To: support.Cancelled, Reason: "Worker unwell"}); err != nil {
			t.Fatal(err)
		}

		// Eight bookings of the freed slot at once, for two people.
		slot := at.Add(-30 * time.Minute)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pid := p1
				if i%2 == 1 {
					pid = p2
				}
				_, errs[i] = w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: slot, Minutes: 60, Place: "phone"})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !app.IsCode(err, app.CodeConflict):
				t.Fatalf("unexpected: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d bookings of one slot won", won)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM appointments WHERE starts_at = $1 AND status <> 'cancelled'", slot.UTC()); n != 1 {
			t.Fatalf("%d appointments in the slot", n)
		}
	})
}

// Rescheduling keeps the same worker, cancels the old one saying so, and
// proposes the new time to the other side; a clash is refused and leaves
// the old appointment as it was.
func TestRescheduleKeepsTheWorker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		p1 := supported(t, w)
		p2 := allocate(t, w, "person2", "worker")
		worker, person := w.Principal(t, "worker"), w.Principal(t, "person")
		at := tomorrow10(w)
		a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p1, Start: at, Place: "home", Agreed: true})
		if err != nil || a.Status != support.Booked {
			t.Fatalf("%v %+v", err, a)
		}
		if _, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p2, Start: at.Add(3 * time.Hour), Place: "phone"}); err != nil {
			t.Fatal(err)
		}
		_, err = w.Support.Move(ctx, person, a.ID, support.Reschedule{Start: at.Add(3 * time.Hour)})
		wantCode(t, err, app.CodeConflict)
		if got, _ := w.Support.Get(ctx, person, a.ID); got.Status != support.Booked {
			t.Fatalf("old after refused move: %+v", got)
		}
		b, err := w.Support.Move(ctx, person, a.ID, support.Reschedule{Start: at.Add(24 * time.Hour), Reason: "Hospital appointment"})
		if err != nil {
			t.Fatal(err)
		}
		if b.WorkerID != a.WorkerID || b.RescheduledFrom != a.ID || b.Status != support.Proposed || b.AskedBy != support.SidePerson || b.Place != "home" {
			t.Fatalf("moved: %+v", b)
		}
		old, _ := w.Support.Get(ctx, worker, a.ID)
		if old.Status != support.Cancelled || old.CancelledBy != support.SidePerson || !strings.Contains(old.CancelReason, "Hospital") {
			t.Fatalf("old: %+v", old)
		}
		if b, err = w.Support.Transition(ctx, worker, b.ID, support.Move{To: support.Booked}); err != nil || b.Status != support.Booked {
			t.Fatalf("worker accepts: %v", err)
		}
	})
}

// Only the person, their worker and their team's lead see an appointment;
// another person, another team's worker, a clinician and a partner worker
// get not found, audited as denied.
func TestWhoSeesAppointments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		a, err := w.Support.Create(ctx, w.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: tomorrow10(w), Place: "video"})
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"person", "worker", "lead"} {
			if _, err := w.Support.Get(ctx, w.Principal(t, who), a.ID); err != nil {
				t.Errorf("%s: %v", who, err)
			}
		}
		for _, who := range []string{"person2", "workerB", "leadB", "clinician", "partner", "manager"} {
			p := w.Principal(t, who)
			_, err := w.Support.Get(ctx, p, a.ID)
			wantCode(t, err, app.CodeNotFound)
			_, err = w.Support.Transition(ctx, p, a.ID, support.Move{To: support.Cancelled, Reason: "x"})
			wantCode(t, err, app.CodeNotFound)
			if list, err := w.Support.List(ctx, p, support.Filter{}); err != nil || len(list) != 0 {
				t.Errorf("%s lists %d: %v", who, len(list), err)
			}
		}
		_, err = w.Support.Create(ctx, w.Principal(t, "workerB"), support.NewAppointment{PersonID: pid, Start: tomorrow10(w), Place: "video"})
		wantCode(t, err, app.CodeNotFound)
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'appointment.%' AND outcome = 'denied'"); n < 12 {
			t.Fatalf("denied audit rows: %d", n)
		}
	})
}

// My people: everyone allocated to the worker with next and last contact,
// days since, overdue after the organisation's setting (14 days unless
// set), the overdue first.
func TestMyPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		p1 := supported(t, w)
		p2 := allocate(t, w, "person2", "worker")
		worker := w.Principal(t, "worker")
		if _, err := w.Matching.SaveOwnChoices(ctx, w.Principal(t, "person"), matching.SaveChoices{Choices: matching.Choices{Places: []string{"home"}, Times: []string{"morning"}}}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(10 * 24 * time.Hour)
		var refID int64
		if err := db.QueryRow(ctx, "SELECT id FROM referrals WHERE person_id = $1", p2).Scan(&refID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.RecordContact(ctx, worker, refID, referral.NewContact{At: w.Clock.Now().Add(-time.Hour), Mode: "phone", Minutes: 20}); err != nil {
			t.Fatal(err)
		}
		next, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p1, Start: tomorrow10(w)})
		if err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(5 * 24 * time.Hour)
		people, err := w.Support.MyPeople(ctx, worker)
		if err != nil || len(people) != 2 {
			t.Fatalf("%v %+v", err, people)
		}
		first, second := people[0], people[1]
		if first.PersonID != p1 || !first.Overdue || !first.NeverMet || first.DaysSince != 15 || first.Next != nil {
			// the appointment arranged has passed without being recorded as happening
			t.Fatalf("first: %+v", first)
		}
		if len(first.Preferences.Places) != 1 || first.PlaceLabels()[0] != "At home" {
			t.Fatalf("preferences: %+v", first.Preferences)
		}
		if second.PersonID != p2 || second.Overdue || second.LastContact == nil || second.DaysSince != 5 {
			t.Fatalf("second: %+v", second)
		}
		_ = next
		// The organisation says 4 days: both are overdue.
		var org int64
		if err := db.QueryRow(ctx, "SELECT organisation_id FROM teams WHERE id = $1", w.TeamA.ID).Scan(&org); err != nil {
			t.Fatal(err)
		}
		_, err = w.Support.SetSettings(ctx, worker, org, support.Settings{OverdueDays: 4})
		wantCode(t, err, app.CodeForbidden)
		_, err = w.Support.SetSettings(ctx, w.Principal(t, "admin"), org, support.Settings{OverdueDays: 0})
		wantField(t, err, "overdue_days")
		if _, err := w.Support.SetSettings(ctx, w.Principal(t, "admin"), org, support.Settings{OverdueDays: 4}); err != nil {
			t.Fatal(err)
		}
		// Each person's next appointment is their own soonest, read for
		// everyone at once.
		soon, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p2, Start: tomorrow10(w), Place: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p2, Start: tomorrow10(w).Add(48 * time.Hour), Place: "phone"}); err != nil {
			t.Fatal(err)
		}
		later, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p1, Start: tomorrow10(w).Add(2 * time.Hour), Place: "home"})
		if err != nil {
			t.Fatal(err)
		}
		people, _ = w.Support.MyPeople(ctx, worker)
		if !people[0].Overdue || !people[1].Overdue || people[1].OverdueDays != 4 {
			t.Fatalf("after setting: %+v", people)
		}
		for _, m := range people {
			want := soon.ID
			if m.PersonID == p1 {
				want = later.ID
			}
			if m.Next == nil || m.Next.ID != want || m.Next.PersonID != m.PersonID {
				t.Fatalf("next for %d: %+v", m.PersonID, m.Next)
			}
		}
		// Another worker's list does not hold them.
		if other, err := w.Support.MyPeople(ctx, w.Principal(t, "workerB")); err != nil || len(other) != 0 {
			t.Fatalf("workerB: %v %+v", err, other)
		}
	})
}

// The diary is Monday to Sunday in London time, also across the change of
// the clocks, with each appointment on its London day.
func TestDiaryWeeks(t *testing.T) {
	// Sunday 25 October 2026 the clocks go back.
	mon := support.WeekOf(time.Date(2026, 10, 28, 12, 0, 0, 0, time.UTC))
	if got := mon.In(app.London).Format("Mon 2 Jan 15:04"); got != "Mon 26 Oct 00:00" {
		t.Fatalf("week of 28 Oct: %s", got)
	}
	before := support.WeekOf(time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC))
	if got := before.In(app.London).Format("Mon 2 Jan 15:04 MST"); got != "Mon 19 Oct 00:00 BST" {
		t.Fatalf("week of the change: %s", got)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker := w.Principal(t, "worker")
		// 23:30 on Wednesday London time is Wednesday in the diary.
		d := w.Clock.Now().In(app.London)
		late := time.Date(d.Year(), d.Month(), d.Day()+2, 23, 30, 0, 0, app.London)
		if _, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: late, Minutes: 30, Place: "phone"}); err != nil {
			t.Fatal(err)
		}
		diary, err := w.Support.MyDiary(ctx, worker, w.Clock.Now())
		if err != nil || len(diary.Days) != 7 {
			t.Fatalf("%v %+v", err, diary)
		}
		for i, day := range diary.Days {
			want := 0
			if day.Date.Weekday() == late.Weekday() {
				want = 1
			}
			if len(day.Appointments) != want {
				t.Errorf("day %d (%s): %d appointments", i, day.Date.Weekday(), len(day.Appointments))
			}
		}
		if other, err := w.Support.MyDiary(ctx, w.Principal(t, "workerB"), w.Clock.Now()); err != nil || len(other.Days[late.Weekday()-1].Appointments) != 0 {
			t.Fatalf("workerB: %v", err)
		}
	})
}

// A contact records the kinds of support it gave (several may apply) and
// the appointment it records — only one of this referral's; the setting is
// the team's unless given; the person reads the note with their referral.
func TestContactsBySupportType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		p1 := supported(t, w)
		p2 := allocate(t, w, "person2", "worker")
		worker := w.Principal(t, "worker")
		a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p1, Start: tomorrow10(w), Place: "home", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		b, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: p2, Start: tomorrow10(w).Add(2 * time.Hour), Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(26 * time.Hour)
		at := w.Clock.Now().Add(-time.Hour)
		_, err = w.Referrals.RecordContact(ctx, worker, a.ReferralID, referral.NewContact{At: at, Mode: "in_person", SupportTypes: []string{"emotional", "gossip"}})
		wantField(t, err, "support_types")
		_, err = w.Referrals.RecordContact(ctx, worker, a.ReferralID, referral.NewContact{At: at, Mode: "in_person", AppointmentID: b.ID})
		wantField(t, err, "appointment_id")
		c, err := w.Referrals.RecordContact(ctx, worker, a.ReferralID, referral.NewContact{At: at, Mode: "in_person", Minutes: 60, AppointmentID: a.ID,
			SupportTypes: []string{"social", "emotional", "social"}, Note: "We went to the café and planned the walking group"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(c.SupportTypes, ",") != "emotional,social" || c.Setting != "community" {
			t.Fatalf("contact: %+v", c)
		}
		mine, err := w.Referrals.MyReferral(ctx, w.Principal(t, "person"), a.ReferralID)
		if err != nil || len(mine.Contacts) != 1 || mine.Contacts[0].Note != c.Note || len(mine.Contacts[0].SupportTypes) != 2 {
			t.Fatalf("the person's view: %v %+v", err, mine)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM contacts WHERE appointment_id = $1", a.ID); n != 1 {
			t.Fatalf("linked contacts: %d", n)
		}
	})
}

// A person may have only a few requests their worker has not answered, so
// requests cannot fill the worker's diary; cancelling one makes room.
func TestOpenRequestsAreFew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		supported(t, w)
		me := w.Principal(t, "person")
		at := tomorrow10(w)
		var first support.Appointment
		for i := range support.MaxOpenRequests {
			a, err := w.Support.Create(ctx, me, support.NewAppointment{Start: at.Add(time.Duration(i) * 24 * time.Hour), Minutes: 60, Place: "phone"})
			if err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
			if i == 0 {
				first = a
			}
		}
		_, err := w.Support.Create(ctx, me, support.NewAppointment{Start: at.Add(10 * 24 * time.Hour), Minutes: 60, Place: "phone"})
		wantCode(t, err, app.CodeConflict)
		if msg := app.As(err).Message; !strings.Contains(msg, "not answered yet") {
			t.Fatalf("message: %q", msg)
		}
		if _, err := w.Support.Transition(ctx, me, first.ID, support.Move{To: support.Cancelled, Reason: "Changed my mind"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Create(ctx, me, support.NewAppointment{Start: at.Add(10 * 24 * time.Hour), Minutes: 60, Place: "phone"}); err != nil {
			t.Fatalf("after cancelling one: %v", err)
		}
	})
}

// One contact records one appointment: four "record what happened" for
// the same appointment at once (a double submit, the worker and their
// lead) give one contact; the others are told it is already recorded.
func TestOneContactPerAppointment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, lead := w.Principal(t, "worker"), w.Principal(t, "lead")
		a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w), Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(26 * time.Hour)
		at := w.Clock.Now().Add(-time.Hour)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				by := worker
				if i%2 == 1 {
					by = lead
				}
				_, errs[i] = w.Referrals.RecordContact(ctx, by, a.ReferralID, referral.NewContact{At: at, Mode: "phone", AppointmentID: a.ID})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "already been recorded"):
				t.Fatalf("unexpected: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d contacts for one appointment", won)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM contacts WHERE appointment_id = $1", a.ID); n != 1 {
			t.Fatalf("linked contacts: %d", n)
		}
		// A contact with no appointment is never refused for it.
		for range 2 {
			if _, err := w.Referrals.RecordContact(ctx, worker, a.ReferralID, referral.NewContact{At: at, Mode: "phone"}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// A booking relies on the person's allocated worker: a lead taking the
// worker off the referral while the worker books waits for the booking
// (or the booking sees it and is refused) — never a booking written after
// the worker was taken off. Moving or accepting an appointment afterwards
// is refused: its worker is no longer the person's.
func TestBookingHoldsTheAllocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, lead, person := w.Principal(t, "worker"), w.Principal(t, "lead"), w.Principal(t, "person")
		proposed, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w).Add(24 * time.Hour), Place: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		booked, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w), Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		// While the booking below is between reading the allocation and
		// writing, the lead takes the worker off the referral.
		unallocated := make(chan error, 1)
		var finishedFirst bool
		w.Support.Preferences = func(_ context.Context, _ *store.Tx, ids []int64) (map[int64]support.Preferences, error) {
			go func() {
				_, err := w.Referrals.Transition(ctx, lead, booked.ReferralID, referral.Move{To: referral.Accepted})
				unallocated <- err
			}()
			select {
			case err := <-unallocated:
				finishedFirst = true
				unallocated <- err
			case <-time.After(700 * time.Millisecond):
			}
			return map[int64]support.Preferences{ids[0]: {Places: []string{"phone"}}}, nil
		}
		_, err = w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: tomorrow10(w).Add(3 * time.Hour)})
		if uerr := <-unallocated; uerr != nil {
			t.Fatalf("taking the worker off: %v", uerr)
		}
		if finishedFirst && err == nil {
			t.Fatal("an appointment was booked with a worker taken off the referral before it was written")
		}
		w.Support.Preferences = testkit.SupportPreferences

		// Back on the waiting list, the appointments still to come were
		// cancelled by the service in the same move (TestEndingCancelsAppointments).
		_, err = w.Support.Move(ctx, person, booked.ID, support.Reschedule{Start: tomorrow10(w).Add(48 * time.Hour)})
		wantCode(t, err, app.CodeConflict)
		_, err = w.Support.Transition(ctx, person, proposed.ID, support.Move{To: support.Booked})
		wantCode(t, err, app.CodeConflict)
		if n := count(t, db, "SELECT COUNT(*) FROM appointments WHERE status IN ('proposed', 'booked')"); n != 0 {
			t.Fatalf("%d appointments still to come with a worker no longer allocated", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM appointments WHERE cancelled_by = 'service' AND cancel_reason = $1", support.ReasonBackToWaiting); n < 2 {
			t.Fatalf("%d appointments cancelled by the service, want at least 2", n)
		}
	})
}
