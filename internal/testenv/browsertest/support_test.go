package browsertest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
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
