package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestAWorkersWeek: a peer worker on a phone, with JavaScript off, finds
// someone on My people, arranges an appointment at the place the person
// chose, is told clearly when the slot clashes, and sees it in My diary;
// the person chooses when to be reminded and accepts it from their
// account. Every page passes axe at 1280
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
	p.wantText("Please answer", "The library café", "When should we remind you?")
	// The person chooses to be reminded 2 hours before, not the day before.
	p.choose("choice", "2h")
	p.press("Save my reminder choice")
	if f := p.flash(); !strings.Contains(f, "2 hours before") {
		t.Errorf("flash after choosing reminders: %q", f)
	}
	if !p.isChecked("choice", "2h") {
		t.Errorf("the reminder choice is not shown as chosen")
	}
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

// TestAWorkersWeekAsAGrid: a worker's diary with an appointment and a group
// session they facilitate, JavaScript off. At 1280 px the seven days sit
// side by side as the week's columns, the appointment and the group session
// each in its own day; at 375 px the days are a list, one under another.
// The markup is the same list of days with headings either way, so a screen
// reader reads it in order; axe passes at both widths. Screenshots of both
// are saved in the test's temporary folder.
func TestAWorkersWeekAsAGrid(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := t.Context()
	pid := e.Allocated(t, "person", "worker").PersonID
	week := support.WeekOf(e.Clock.Now()).AddDate(0, 0, 7) // next Monday, London
	tuesday := time.Date(week.Year(), week.Month(), week.Day()+1, 10, 0, 0, 0, app.London)
	if _, err := e.Support.Create(ctx, e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: tuesday, Minutes: 60, Place: "community",
		PlaceDetail: "The library café", Agreed: true}); err != nil {
		t.Fatal(err)
	}
	lead := e.Principal(t, "lead")
	g, err := e.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: e.TeamA.ID, Title: "Hearing Voices Group", Repeats: groups.Once,
		Visibility: groups.Members, Venue: groups.Venue{Name: "Recovery College"}, FacilitatorIDs: []int64{e.Users["worker"].ID}})
	if err != nil {
		t.Fatal(err)
	}
	thursday := week.AddDate(0, 0, 3).Format("2006-01-02")
	ss, err := e.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: thursday + "T14:00", Minutes: 90})
	if err != nil || len(ss) != 1 {
		t.Fatalf("the session: %v %v", ss, err)
	}

	w := b.newPage(t, e, "peer worker at a desk, no JavaScript")
	w.disableJS()
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.open("/my/diary?week=" + week.Format("2006-01-02"))
	w.check()
	w.wantText("10:00–11:00", "Test person", "The library café", "14:00–15:30", "Group: Hearing Voices Group", "Recovery College")

	type box struct {
		Left, Top float64
		Text      string
	}
	days := func() []box {
		return eval[[]box](w, `[...document.querySelectorAll('.app-week > li')].map(li => {
  const r = li.getBoundingClientRect(); return {Left: r.left, Top: r.top, Text: li.innerText};
})`)
	}
	shot := func(name string) {
		buf, err := chromedp.Run(w.ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		path := filepath.Join(t.TempDir(), name+".png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	// Wide: seven columns in one row, left to right, Monday first.
	grid := days()
	if len(grid) != 7 {
		t.Fatalf("days: %d", len(grid))
	}
	for i := 1; i < 7; i++ {
		if grid[i].Top != grid[0].Top || grid[i].Left <= grid[i-1].Left {
			t.Errorf("PRODUCT: at 1280 px day %d is not the next column of the week: %+v after %+v", i+1, grid[i], grid[i-1])
		}
	}
	if !strings.Contains(grid[1].Text, "Test person") || !strings.Contains(grid[3].Text, "Group: Hearing Voices Group") {
		t.Errorf("PRODUCT: the appointment is not on Tuesday or the group session on Thursday: %q / %q", grid[1].Text, grid[3].Text)
	}
	shot("diary-1280")
	if href := w.text(`a[href="/sessions/` + strconv.FormatInt(ss[0].ID, 10) + `"]`); !strings.Contains(href, "Hearing Voices Group") {
		t.Errorf("the group session does not link to its page: %q", href)
	}

	// Narrow: the same list, one day under another.
	w.setViewport(mobile)
	list := days()
	for i := 1; i < 7; i++ {
		if list[i].Top <= list[i-1].Top || list[i].Left != list[0].Left {
			t.Errorf("PRODUCT: at 375 px day %d is not under day %d: %+v after %+v", i+1, i, list[i], list[i-1])
		}
	}
	w.checkNoSidewaysScroll("my diary as a list")
	shot("diary-375")
}
