package browsertest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestGroupBookingWithoutJavaScript: two members of the public, on phones
// with JavaScript off, book the last place and join the waiting list; the
// first cancels, the second is offered the place, says yes, then cancels.
// Then a facilitator takes the register on a phone, drop-ins included.
// Every page is checked with axe at 1280 and 375 px.
func TestGroupBookingWithoutJavaScript(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	lead := e.Principal(t, "lead")
	g, err := e.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: e.TeamA.ID, Title: "Hearing Voices Group",
		Summary: "A peer-led group for anyone who hears voices.", Repeats: groups.Weekly, Visibility: groups.Public, Capacity: 1, MaxPlaces: 1,
		Venue:          groups.Venue{Name: "Recovery College", Address: "12 Mill Lane", StepFree: true, HearingLoop: true, Transport: "Bus 3"},
		FacilitatorIDs: []int64{e.Users["worker"].ID}})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := e.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: e.Clock.Now().AddDate(0, 0, 7).In(app.London).Format("2006-01-02") + "T10:30", Minutes: 90})
	if err != nil {
		t.Fatal(err)
	}
	session := "/sessions/" + strconv.FormatInt(ss[0].ID, 10)

	ann := b.newPage(t, e, "Ann, on a phone, no JavaScript")
	ann.setViewport(mobile)
	ann.disableJS()
	if st := ann.open("/groups"); st != 200 {
		t.Fatalf("/groups: %d", st)
	}
	ann.wantText("Hearing Voices Group", "1 place left")
	ann.open(session)
	// Nothing typed: each problem by its field.
	if st := ann.press("Book"); st != 422 {
		t.Fatalf("empty booking form: %d", st)
	}
	ann.wantSummaryError("Enter your name", "name")
	ann.wantSummaryError("Enter an email address or a phone number", "email")
	ann.fill("name", "Ann")
	ann.fill("email", "ann@example.org")
	if st := ann.press("Book"); st != 200 {
		t.Fatalf("booking: %d", st)
	}
	ann.wantText("You have a place", "Keep this link", "Add it to your calendar")

	bo := b.newPage(t, e, "Bo, on a phone, no JavaScript")
	bo.setViewport(mobile)
	bo.disableJS()
	bo.open(session)
	bo.wantText("This session is full")
	bo.fill("name", "Bo")
	bo.fill("phone", "07700 900 123")
	if st := bo.press("Join the waiting list"); st != 200 {
		t.Fatalf("joining the list: %d", st)
	}
	bo.wantText("You are number 1 on the waiting list")
	boBooking := bo.Path()

	// Ann cannot come: one step, and the place goes to Bo.
	if st := ann.press("Cancel my booking"); st != 200 {
		t.Fatalf("cancelling: %d", st)
	}
	if !strings.Contains(ann.flash(), "Your booking is cancelled") {
		t.Errorf("flash after cancelling: %q", ann.flash())
	}
	bo.open(boBooking)
	bo.wantText("A place is yours if you want it", "We are holding 1 place for you until")
	if st := bo.press("Yes, I will come"); st != 200 {
		t.Fatalf("accepting: %d", st)
	}
	bo.wantText("You have a place")
	if st := bo.press("Cancel my booking"); st != 200 {
		t.Fatalf("Bo cancelling: %d", st)
	}
	bo.wantText("This booking is cancelled")

	// On the day, the facilitator takes the register on a phone.
	book := func(name string) groups.BookingResult {
		r, err := e.Groups.Book(ctx, app.Public("t"), ss[0].ID, groups.BookingRequest{Name: name, Email: strings.ToLower(name) + "@example.org", Places: 1})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	came := book("Cy")
	e.Clock.Advance(7 * 24 * time.Hour)
	w := b.newPage(t, e, "facilitator, on a phone, no JavaScript")
	w.setViewport(mobile)
	w.disableJS()
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.open("/groups")
	w.wantText("Sessions you run")
	w.press("Participants and register")
	w.wantText("Cy", "Booked (1)")
	w.choose("outcome-"+strconv.FormatInt(came.ID, 10), "attended")
	w.fill("dropin_name", "D")
	w.fill("dropin_people", "2")
	if st := w.press("Save the register"); st != 200 {
		t.Fatalf("saving the register: %d", st)
	}
	if !strings.Contains(w.flash(), "Register saved") {
		t.Errorf("flash: %q", w.flash())
	}
	w.wantText("Came without booking", "D (2 people)")
	if !w.isChecked("outcome-"+strconv.FormatInt(came.ID, 10), "attended") {
		t.Error("the register does not show what was saved")
	}
	var people int
	if err := e.DB.QueryRow(ctx, "SELECT COALESCE(SUM(people), 0) FROM group_attendance WHERE session_id = $1", ss[0].ID).Scan(&people); err != nil || people != 3 {
		t.Fatalf("%d people recorded as coming (%v), want 3", people, err)
	}
}

// TestLeadRunsAGroup: a lead makes a group at 1280 px with JavaScript,
// adds weekly sessions, sees the waiting list and moves someone up with a
// reason; the person sees why.
func TestLeadRunsAGroup(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	p := b.newPage(t, e, "lead")
	p.signIn(e.Users["lead"].Email, testkit.Password)
	p.open("/groups/new")
	if st := p.press("Make it"); st != 422 {
		t.Fatalf("empty form: %d", st)
	}
	p.wantSummaryError("Enter the group's name", "title")
	p.fill("title", "Walk and Talk")
	p.fill("capacity", "1")
	p.fill("max_places", "1")
	p.fill("venue.name", "Park gates")
	if st := p.press("Make it"); st != 200 {
		t.Fatalf("making the group: %d", st)
	}
	p.wantText("Add sessions")
	next := e.Clock.Now().AddDate(0, 0, 7).In(app.London)
	p.fill("start-day", strconv.Itoa(next.Day()))
	p.fill("start-month", strconv.Itoa(int(next.Month())))
	p.fill("start-year", strconv.Itoa(next.Year()))
	p.fill("start-time", "14:00")
	p.fill("count", "3")
	if st := p.press("Add sessions"); st != 200 {
		t.Fatalf("adding sessions: %d", st)
	}
	if !strings.Contains(p.flash(), "3 sessions added") {
		t.Errorf("flash: %q", p.flash())
	}
	var sid int64
	if err := e.DB.QueryRow(context.Background(), "SELECT MIN(id) FROM group_sessions").Scan(&sid); err != nil {
		t.Fatal(err)
	}
	var keys []groups.BookingResult
	for _, n := range []string{"First", "Second", "Third"} {
		r, err := e.Groups.Book(context.Background(), app.Public("t"), sid, groups.BookingRequest{Name: n, Email: strings.ToLower(n) + "@example.org", Places: 1})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, r)
	}
	p.open("/sessions/" + strconv.FormatInt(sid, 10) + "/participants")
	p.wantText("Waiting list (2)", "1. Second")
	p.fill("booking_id", strconv.FormatInt(keys[2].ID, 10))
	p.fill("position", "1")
	if st := p.press("Move"); st != 422 {
		t.Fatalf("a move without a reason: %d", st)
	}
	p.wantSummaryError("Say why: the person will see the reason", "reason")
	p.fill("reason", "They can only come this week")
	if st := p.press("Move"); st != 200 {
		t.Fatalf("moving: %d", st)
	}
	third := b.newPage(t, e, "the person moved up")
	third.open("/bookings/" + strconv.FormatInt(keys[2].ID, 10) + "?key=" + keys[2].Key)
	third.wantText("You are number 1 on the waiting list", "because: They can only come this week (by the team)")
}
