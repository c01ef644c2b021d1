package support_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// The person chooses when to be reminded: each choice sends what it says
// at the right time — the day before, 2 hours before, both, or nothing —
// each reminder once however many instances send them at the same moment,
// never for a cancelled appointment, and nothing after the person chose
// none, even with a reminder already due. Staff (the person's worker)
// record a choice for them; a worker of another team cannot see it.
func TestRemindersAsChosen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, person := w.Principal(t, "worker"), w.Principal(t, "person")

		r, err := w.Support.GetReminders(ctx, person, 0)
		if err != nil || r.Choice != support.RemindDayBefore || !r.Default {
			t.Fatalf("the default: %+v %v", r, err)
		}
		_, err = w.Support.SetReminders(ctx, person, 0, support.SetReminders{Choice: "weekly"})
		wantField(t, err, "choice")
		_, err = w.Support.GetReminders(ctx, w.Principal(t, "workerB"), pid)
		wantCode(t, err, app.CodeNotFound)
		_, err = w.Support.SetReminders(ctx, w.Principal(t, "person2"), pid, support.SetReminders{Choice: support.RemindNone})
		wantCode(t, err, app.CodeNotFound)

		// sends counts the reminders for appointment id in the outbox.
		sends := func(id int64) int {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE to_address = 'person@test.example' AND subject LIKE 'Reminder: peer support%' AND body LIKE $1",
				"%/appointments/"+strconv.FormatInt(id, 10)+"\n%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, c := range []struct {
			choice    support.ReminderChoice
			by        string
			day, soon int
		}{
			{support.RemindDayBefore, "person", 1, 0},
			{support.RemindSoon, "worker", 0, 1},
			{support.RemindBoth, "person", 1, 1},
			{support.RemindNone, "person", 0, 0},
		} {
			set, err := w.Support.SetReminders(ctx, w.Principal(t, c.by), pid, support.SetReminders{Choice: c.choice})
			if err != nil || set.Choice != c.choice || set.Default || set.ByStaff != (c.by == "worker") {
				t.Fatalf("%s by %s: %+v %v", c.choice, c.by, set, err)
			}
			at := tomorrow10(w).Add(48 * time.Hour)
			a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Minutes: 60, Place: "home", PlaceDetail: "CANARY-LANE", Agreed: true})
			if err != nil {
				t.Fatal(err)
			}
			if n := atOnce(t, 3, w.Support.SendReminders); n != 0 {
				t.Fatalf("%s: %d sent two days ahead", c.choice, n)
			}
			w.Clock.Advance(at.Add(-23 * time.Hour).Sub(w.Clock.Now()))
			if n := atOnce(t, 3, w.Support.SendReminders); n != c.day || sends(a.ID) != c.day {
				t.Fatalf("%s: %d sent the day before (%d in the outbox), want %d", c.choice, n, sends(a.ID), c.day)
			}
			w.Clock.Advance(at.Add(-3 * time.Hour).Sub(w.Clock.Now()))
			if n := atOnce(t, 3, w.Support.SendReminders); n != 0 {
				t.Fatalf("%s: %d sent 3 hours before", c.choice, n)
			}
			w.Clock.Advance(at.Add(-110 * time.Minute).Sub(w.Clock.Now()))
			if n := atOnce(t, 3, w.Support.SendReminders); n != c.soon || sends(a.ID) != c.day+c.soon {
				t.Fatalf("%s: %d sent 2 hours before (%d in all), want %d", c.choice, n, sends(a.ID), c.soon)
			}
			w.Clock.Advance(100 * time.Minute)
			if n := atOnce(t, 3, w.Support.SendReminders); n != 0 {
				t.Fatalf("%s: %d sent again", c.choice, n)
			}
			w.Clock.Advance(2 * time.Hour) // past it, before the next choice
		}
		var body string
		if err := db.QueryRow(ctx, "SELECT body FROM outbox WHERE to_address = 'person@test.example' AND subject LIKE 'Reminder: peer support%' ORDER BY id DESC LIMIT 1").Scan(&body); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body, "CANARY") || strings.Contains(body, "Test worker") {
			t.Fatalf("a reminder carries the place or the worker: %s", body)
		}

		// Both, booked an hour ahead: one reminder, not two at once.
		if _, err := w.Support.SetReminders(ctx, person, 0, support.SetReminders{Choice: support.RemindBoth}); err != nil {
			t.Fatal(err)
		}
		late, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: w.Clock.Now().Add(time.Hour), Minutes: 30, Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := atOnce(t, 3, w.Support.SendReminders); n != 1 || sends(late.ID) != 1 {
			t.Fatalf("booked late with both: %d sent", n)
		}

		// Cancelled: no reminder of either kind.
		at := tomorrow10(w).Add(48 * time.Hour)
		gone, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Minutes: 30, Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Transition(ctx, worker, gone.ID, support.Move{To: support.Cancelled, Reason: "Person unwell"}); err != nil {
			t.Fatal(err)
		}
		// The day-before reminder of another goes; then the person
		// chooses none, and its 2-hour reminder never goes.
		kept, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(3 * time.Hour), Minutes: 30, Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(at.Add(-20 * time.Hour).Sub(w.Clock.Now()))
		if n := atOnce(t, 3, w.Support.SendReminders); n != 1 || sends(kept.ID) != 1 || sends(gone.ID) != 0 {
			t.Fatalf("the day before: %d sent", n)
		}
		if _, err := w.Support.SetReminders(ctx, person, 0, support.SetReminders{Choice: support.RemindNone}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(at.Add(2 * time.Hour).Sub(w.Clock.Now()))
		if n := atOnce(t, 3, w.Support.SendReminders); n != 0 || sends(kept.ID) != 1 || sends(gone.ID) != 0 {
			t.Fatalf("after choosing none: %d sent", n)
		}
	})
}
