package browsertest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestAWorkersWeek: a peer worker on a phone, with JavaScript off, finds
// someone on My people, arranges an appointment at the place the person
// chose, is told clearly when the slot clashes, and sees it in My diary;
// the person accepts it from their account. Every page passes axe at 1280
// and 375 px with no sideways scrolling.
func TestAWorkersWeek(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	pid := e.Allocated(t, "person", "worker").PersonID
	d := e.Clock.Now().In(app.London).AddDate(0, 0, 2)
	at := time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, app.London)

	w := b.newPage(t, e, "peer worker on a phone, no JavaScript")
	w.setViewport(mobile)
	w.disableJS()
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.open("/my/people")
	w.check()
	w.wantText("Test person", "Not met yet")
	w.press("Arrange an appointment")
	w.wantPath("/people/" + strconv.FormatInt(pid, 10) + "/appointments/new")
	arrange := func(hour string) int64 {
		w.fill("start-day", strconv.Itoa(at.Day()))
		w.fill("start-month", strconv.Itoa(int(at.Month())))
		w.fill("start-year", strconv.Itoa(at.Year()))
		w.fill("start-time", hour)
		w.choose("place", "community")
		w.fill("place_detail", "The library café")
		return w.press("Arrange the appointment")
	}
	if st := arrange("10:00"); st != 200 {
		t.Fatalf("arranging: %d", st)
	}
	w.wantText("Appointment proposed", "The library café", "Waiting for an answer")
	// The same time again: refused, saying when the worker is busy.
	w.open("/people/" + strconv.FormatInt(pid, 10) + "/appointments/new")
	if st := arrange("10:30"); st != 422 {
		t.Fatalf("a clash: %d", st)
	}
	w.wantText("already booked from 10:00")
	if v := w.value("place_detail"); v != "The library café" {
		t.Errorf("what was typed was not kept: %q", v)
	}
	w.open("/my/diary?week=" + at.Format("2006-01-02"))
	w.check()
	w.checkNoSidewaysScroll("my diary")
	w.wantText("10:00–11:00", "Test person", "Waiting for an answer")

	p := b.newPage(t, e, "the person, on a phone")
	p.setViewport(mobile)
	p.disableJS()
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.open("/my/appointments")
	p.check()
	p.wantText("Please answer", "The library café")
	var id int64
	if err := e.DB.QueryRow(t.Context(), "SELECT MAX(id) FROM appointments").Scan(&id); err != nil {
		t.Fatal(err)
	}
	p.open("/appointments/" + strconv.FormatInt(id, 10))
	p.check()
	p.press("Accept")
	if f := p.flash(); !strings.Contains(f, "booked") {
		t.Errorf("flash %q", f)
	}
	p.wantText("Booked")
}

// TestALeadAnswersAMissedCheckOut: a worker checks in to a home visit and
// does not check out; the job raises a lone-working alert. Their lead sees
// it on the home page, finds it in the alerts, opens the visit from there
// and records what they did — first forgetting to choose, told clearly,
// then on a phone with JavaScript off. Every page passes axe at 1280 and
// 375 px with no sideways scrolling.
func TestALeadAnswersAMissedCheckOut(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := t.Context()
	pid := e.Allocated(t, "person", "worker").PersonID
	worker := e.Principal(t, "worker")
	at := e.Clock.Now().Add(2 * time.Hour).Truncate(time.Hour)
	visit, err := e.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Minutes: 60, Place: "home", Agreed: true})
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(at.Sub(e.Clock.Now()) - 5*time.Minute)
	if _, err := e.Support.CheckIn(ctx, worker, visit.ID); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(65*time.Minute + 31*time.Minute) // past the end and the 30 minutes' grace
	if n, err := e.Support.RaiseMissedCheckOuts(ctx); err != nil || n != 1 {
		t.Fatalf("alerts raised: %d %v", n, err)
	}
	ref := fmt.Sprintf("V-%d", visit.ID)

	l := b.newPage(t, e, "peer lead at a desk")
	l.signIn(e.Users["lead"].Email, testkit.Password)
	l.open("/")
	l.check()
	l.wantText("lone worker not checked out of a visit")
	l.follow("See the alerts and respond")
	l.wantPath("/alerts")
	l.check()
	l.wantText(ref, "North Community Team")
	l.follow(ref)
	l.wantPath("/appointments/" + strconv.FormatInt(visit.ID, 10))
	l.check()
	l.wantText("did not check out of this visit in time", "They have not checked out yet")
	if st := l.press("Record what you did"); st != 422 && st != 400 {
		t.Fatalf("answering without an outcome: %d", st)
	}
	l.check()
	l.wantSummaryError("Choose what you did", "alert_outcome")

	m := b.newPage(t, e, "peer lead on a phone, no JavaScript")
	m.setViewport(mobile)
	m.disableJS()
	m.signIn(e.Users["lead"].Email, testkit.Password)
	m.open("/appointments/" + strconv.FormatInt(visit.ID, 10))
	m.check()
	m.choose("alert_outcome", "worker_safe")
	m.fill("alert_note", "Rang them: their phone had died, they are home")
	m.press("Record what you did")
	if f := m.flash(); f == "" {
		t.Error("no message after recording what was done")
	}
	m.check()
	if strings.Contains(m.mainText(), "did not check out of this visit in time") {
		t.Error("the alert still asks for a response")
	}
	var resolved int
	if err := e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE kind = 'lone_working' AND resolved_at IS NOT NULL AND outcome = 'worker_safe'").Scan(&resolved); err != nil || resolved != 1 {
		t.Fatalf("resolved alerts: %d %v", resolved, err)
	}
	m.open("/")
	if strings.Contains(m.mainText(), "not checked out of a visit") {
		t.Error("the home page still counts the alert")
	}
}
