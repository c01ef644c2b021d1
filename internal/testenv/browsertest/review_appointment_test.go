package browsertest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// A worker on a phone, without JavaScript, arranges the next review at an
// appointment already booked; the plan shows it; after the meeting the
// appointment's page leads to the review form with the appointment
// chosen, and recording it links them. A manager reads the support
// report. Every page is checked with axe at both widths.
func TestWorkerArrangesReviewAtAppointment(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	pid := supported(t, e)
	ctx := context.Background()
	d := e.Clock.Now().In(app.London).AddDate(0, 0, 4)
	at := time.Date(d.Year(), d.Month(), d.Day(), 10, 30, 0, 0, app.London)
	appt, err := e.Support.Create(ctx, e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: at, Place: "community",
		PlaceDetail: "The library café", Agreed: true})
	if err != nil {
		t.Fatal(err)
	}
	w := b.newPage(t, e, "worker, no JavaScript")
	w.setViewport(mobile)
	w.disableJS()
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.open("/people/" + itoa(pid) + "/reviews/new")
	w.fill("plan_appointment_id", strconv.FormatInt(appt.ID, 10))
	if st := w.press("Save the next review"); st != 200 {
		t.Fatalf("arranging the review at the appointment: %d", st)
	}
	w.wantPath("/people/" + itoa(pid) + "/plan")
	w.wantText("At the appointment with Test worker", "The library café")

	// The meeting happens; the worker records it from the appointment.
	e.Clock.Advance(at.Sub(e.Clock.Now()) + 2*time.Hour)
	if _, err := e.Support.Transition(ctx, e.Principal(t, "worker"), appt.ID, support.Move{To: support.Fulfilled}); err != nil {
		t.Fatal(err)
	}
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.open("/appointments/" + strconv.FormatInt(appt.ID, 10))
	w.press("Record a review held at this appointment")
	w.fill("reviewed", "Goals and the crisis plan")
	w.fill("agreed", "Try the walking group")
	if st := w.press("Record the review"); st != 200 {
		t.Fatalf("recording the review: %d", st)
	}
	w.wantText("Reviews held", "Try the walking group", "At the appointment with Test worker")

	m := b.newPage(t, e, "analyst")
	m.signIn(e.Users["analyst"].Email, testkit.Password)
	m.open("/insight/support")
	m.wantText("The support given", "People supported", "Contacts by kind of support")
	m.setViewport(mobile)
	m.open("/insight/support")
	m.checkNoSidewaysScroll("the support report")
}
