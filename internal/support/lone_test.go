package support_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/icaltest"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A lone worker unaccounted for: a home visit not checked out by its end
// plus the grace period (30 minutes unless the organisation sets it)
// alerts the worker's team's leads once — also when several instances run
// the job at once — by email with no one's name or place, and stays on the
// lead's home page until a lead records what they did. Only the visit's
// worker checks in and out; phone calls and cancelled visits never alert.
func TestLoneWorkingAlertsTheLead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, lead := w.Principal(t, "worker"), w.Principal(t, "lead")
		at := tomorrow10(w)
		visit, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Minutes: 60, Place: "home", PlaceDetail: "CANARY-STREET", Agreed: true})
		if err != nil || !visit.Visit {
			t.Fatalf("%v %+v", err, visit)
		}
		phone, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(2 * time.Hour), Minutes: 30, Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		gone, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(4 * time.Hour), Minutes: 30, Place: "community", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Transition(ctx, worker, gone.ID, support.Move{To: support.Cancelled, Reason: "Person unwell"}); err != nil {
			t.Fatal(err)
		}

		_, err = w.Support.CheckIn(ctx, worker, visit.ID)
		wantCode(t, err, app.CodeConflict) // a day early
		w.Clock.Advance(at.Sub(w.Clock.Now()) - 10*time.Minute)
		_, err = w.Support.CheckIn(ctx, lead, visit.ID)
		wantCode(t, err, app.CodeForbidden)
		_, err = w.Support.CheckIn(ctx, w.Principal(t, "person"), visit.ID)
		wantCode(t, err, app.CodeForbidden)
		_, err = w.Support.CheckIn(ctx, worker, phone.ID)
		wantCode(t, err, app.CodeConflict) // not a visit
		if v, err := w.Support.CheckIn(ctx, worker, visit.ID); err != nil || v.CheckedIn == nil {
			t.Fatalf("check in: %v %+v", err, v)
		}
		_, err = w.Support.CheckIn(ctx, worker, visit.ID)
		wantCode(t, err, app.CodeConflict)

		// 11:00 + 29 minutes: still within the grace period.
		w.Clock.Advance(70*time.Minute + 29*time.Minute)
		if n, err := w.Support.RaiseMissedCheckOuts(ctx); err != nil || n != 0 {
			t.Fatalf("within grace: %d %v", n, err)
		}
		w.Clock.Advance(2 * time.Minute)
		if n := atOnce(t, 3, w.Support.RaiseMissedCheckOuts); n != 1 {
			t.Fatalf("alerts raised by three instances at once: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE kind = 'lone_working' AND team_id = $1 AND person_id IS NULL", w.TeamA.ID); n != 1 {
			t.Fatalf("lone-working alerts: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM outbox WHERE to_address = 'lead@test.example' AND subject LIKE '%lone worker%'"); n != 1 {
			t.Fatalf("emails to the lead: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM outbox WHERE body LIKE '%CANARY%' OR body LIKE '%Test person%' OR subject LIKE '%CANARY%'"); n != 0 {
			t.Fatalf("emails naming the person or place: %d", n)
		}
		c, err := w.Alerts.CountsFor(ctx, lead)
		if err != nil || c.Open != 1 || c.LoneWorking != 1 {
			t.Fatalf("lead's home figures: %+v %v", c, err)
		}
		if c, _ := w.Alerts.CountsFor(ctx, w.Principal(t, "leadB")); c.Open != 0 {
			t.Fatalf("another team's lead: %+v", c)
		}
		if n, _ := w.Support.RaiseMissedCheckOuts(ctx); n != 0 {
			t.Fatalf("raised again: %d", n)
		}
		// Nobody answers in four working hours: the service managers are told
		// what kind of alert it is.
		w.Clock.Advance(5 * time.Hour)
		if n, err := w.Alerts.EscalateDue(ctx); err != nil || n != 1 {
			t.Fatalf("escalated: %d %v", n, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%lone-working alert for visit V-%'", w.Users["manager"].ID); n != 1 {
			t.Fatalf("managers told: %d", n)
		}
		// The worker checks out late; the alert stays until a lead answers.
		if v, err := w.Support.CheckOut(ctx, worker, visit.ID); err != nil || v.CheckedOut == nil || v.AlertedAt == nil {
			t.Fatalf("check out: %v %+v", err, v)
		}
		list, err := w.Alerts.List(ctx, lead, alert.Filter{})
		if err != nil || len(list) != 1 || list[0].Link != "/appointments/"+strconv.FormatInt(visit.ID, 10) || list[0].Kind != alert.LoneWorking {
			t.Fatalf("lead's alerts: %v %+v", err, list)
		}
		_, err = w.Alerts.Resolve(ctx, lead, list[0].ID, alert.Response{Outcome: "no_risk"})
		if err == nil {
			t.Fatal("a possible-risk outcome was accepted for a lone worker")
		}
		if _, err := w.Alerts.Resolve(ctx, lead, list[0].ID, alert.Response{Outcome: "checked_out_late"}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(time.Minute) // the home figures are reused for a few seconds
		if c, _ := w.Alerts.CountsFor(ctx, w.Principal(t, "lead2")); c.Open != 0 {
			t.Fatalf("after the answer: %+v", c)
		}
		// Later that day nothing else alerts: the phone call and the cancelled visit are not lone working.
		w.Clock.Advance(6 * time.Hour)
		if n, _ := w.Support.RaiseMissedCheckOuts(ctx); n != 0 {
			t.Fatalf("phone or cancelled raised: %d", n)
		}
	})
}

// The organisation's grace period, and a visit never checked in: it is
// unaccounted for too.
func TestLoneWorkingGraceIsASetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker := w.Principal(t, "worker")
		var org int64
		if err := db.QueryRow(ctx, "SELECT organisation_id FROM teams WHERE id = $1", w.TeamA.ID).Scan(&org); err != nil {
			t.Fatal(err)
		}
		_, err := w.Support.SetSettings(ctx, w.Principal(t, "admin"), org, support.Settings{OverdueDays: 14, GraceMinutes: 2})
		wantField(t, err, "grace_minutes")
		if s, err := w.Support.SetSettings(ctx, w.Principal(t, "admin"), org, support.Settings{OverdueDays: 14, GraceMinutes: 60}); err != nil || s.GraceMinutes != 60 {
			t.Fatalf("%v %+v", err, s)
		}
		at := tomorrow10(w)
		if _, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Minutes: 30, Place: "community", Agreed: true}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(at.Sub(w.Clock.Now()) + 30*time.Minute + 45*time.Minute)
		if n, _ := w.Support.RaiseMissedCheckOuts(ctx); n != 0 {
			t.Fatalf("within an hour's grace: %d", n)
		}
		w.Clock.Advance(20 * time.Minute)
		if n, err := w.Support.RaiseMissedCheckOuts(ctx); err != nil || n != 1 {
			t.Fatalf("after the grace: %d %v", n, err)
		}
	})
}

// Reminders: the person of a booked appointment is emailed once, the day
// before (however many instances send them), with a calendar file that
// calendar programs read — "Peer support" at the London time, no place, no
// worker's name; proposed and cancelled ones are not reminded.
func TestRemindersTheDayBefore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker := w.Principal(t, "worker")
		at := tomorrow10(w).Add(24 * time.Hour) // 49 hours ahead
		a, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Minutes: 60, Place: "home", PlaceDetail: "CANARY-ROAD", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(3 * time.Hour), Place: "phone"}); err != nil {
			t.Fatal(err)
		}
		if n, _ := w.Support.SendReminders(ctx); n != 0 {
			t.Fatalf("two days ahead: %d", n)
		}
		w.Clock.Advance(26 * time.Hour)
		if n := atOnce(t, 3, w.Support.SendReminders); n != 1 {
			t.Fatalf("reminders sent by three instances at once: %d", n)
		}
		var body, attachments string
		if err := db.QueryRow(ctx, "SELECT body, attachments FROM outbox WHERE to_address = 'person@test.example' AND subject LIKE 'Reminder: peer support%'").Scan(&body, &attachments); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body+attachments, "CANARY") || strings.Contains(body, "Test worker") || !strings.Contains(body, "/appointments/"+strconv.FormatInt(a.ID, 10)) {
			t.Fatalf("reminder: %s", body)
		}
		var files []mail.Attachment
		if err := json.Unmarshal([]byte(attachments), &files); err != nil || len(files) != 1 || !strings.HasSuffix(files[0].Name, ".ics") {
			t.Fatalf("attachments: %v %s", err, attachments)
		}
		cal := icaltest.Parse(t, files[0].Data)
		if len(cal.Events) != 1 || cal.Events[0].Summary != "Peer support" || cal.Events[0].TZID != "Europe/London" ||
			cal.Events[0].StartWall != at.In(app.London).Format("2006-01-02T15:04") || cal.Events[0].Location != "" {
			t.Fatalf("calendar: %+v", cal)
		}
	})
}

// atOnce runs a background job as n instances would, at the same moment,
// and returns how much they did in all.
func atOnce(t *testing.T, n int, job func(context.Context) (int, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	counts := make([]int, n)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := job(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = c
		}()
	}
	wg.Wait()
	total := 0
	for _, c := range counts {
		total += c
	}
	return total
}
