package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// A review at an appointment, end to end (#13 with #12): the worker
// arranges the next review at an appointment already booked (page), the
// plan shows it to the person, the appointment's page offers "record a
// review held at this appointment", which preselects it; the API takes
// appointment_id too, and two workers recording reviews at the same
// appointment at once: one wins. Bad choices keep what was typed.
func TestReviewAtAnAppointmentOverHTTP(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		pid := supportedPerson(t, e)
		id := strconv.FormatInt(pid, 10)
		d := e.Clock.Now().In(app.London).AddDate(0, 0, 3)
		at := time.Date(d.Year(), d.Month(), d.Day(), 11, 0, 0, 0, app.London)
		worker := e.Principal(t, "worker")
		first, err := e.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Place: "community", PlaceDetail: "Library café", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.AddDate(0, 0, 7), Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		page := e.As(t, "worker")
		form := page.Get("/people/" + id + "/reviews/new")
		if form.StatusCode != http.StatusOK || !strings.Contains(form.Body, `name="plan_appointment_id"`) || !strings.Contains(form.Body, "Library café") {
			t.Fatalf("review form offers no appointments: %d", form.StatusCode)
		}
		// Both an appointment and a date: refused, with what was typed kept.
		r := page.PostForm("/people/"+id+"/reviews", url.Values{"held": {"no"}, "plan_appointment_id": {strconv.FormatInt(first.ID, 10)},
			"plan_at-day": {"1"}, "plan_at-month": {"1"}, "plan_at-year": {"2027"}, "plan_attendees": {"KEEP-THIS"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "not both") || !strings.Contains(r.Body, "KEEP-THIS") {
			t.Fatalf("appointment and date: %d", r.StatusCode)
		}
		// Another person's appointment id: a field problem, no review stored.
		r = page.PostForm("/people/"+id+"/reviews", url.Values{"held": {"no"}, "plan_appointment_id": {"987654"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Choose one of this person&#39;s appointments") {
			t.Fatalf("unknown appointment: %d %s", r.StatusCode, r.Body)
		}
		if n := rows(t, e.DB, "SELECT COUNT(*) FROM recovery_reviews"); n != 0 {
			t.Fatalf("%d reviews stored from bad input", n)
		}
		r = page.PostForm("/people/"+id+"/reviews", url.Values{"held": {"no"}, "plan_appointment_id": {strconv.FormatInt(first.ID, 10)}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("arrange at the appointment: %d %s", r.StatusCode, r.Body)
		}
		// The person's plan shows the review at the appointment.
		plan := e.As(t, "person").Get("/my/plan")
		if !strings.Contains(plan.Body, "/appointments/"+strconv.FormatInt(first.ID, 10)) || !strings.Contains(plan.Body, "Library café") {
			t.Fatalf("the person's plan does not show the appointment: %s", plan.Body)
		}

		// The appointment happens; its page offers the review, which
		// preselects the appointment.
		e.Clock.Advance(at.Sub(e.Clock.Now()) + 90*time.Minute)
		if _, err := e.Support.Transition(ctx, worker, first.ID, support.Move{To: support.Fulfilled}); err != nil {
			t.Fatal(err)
		}
		page = e.As(t, "worker") // the clock moved on: sign in again
		ap := page.Get("/appointments/" + strconv.FormatInt(first.ID, 10))
		link := "/people/" + id + "/reviews/new?appointment=" + strconv.FormatInt(first.ID, 10)
		if !strings.Contains(ap.Body, strings.ReplaceAll(link, "&", "&amp;")) {
			t.Fatalf("the appointment page has no review link: %s", ap.Body)
		}
		form = page.Get(link)
		if !strings.Contains(form.Body, `value="`+strconv.FormatInt(first.ID, 10)+`" selected`) {
			t.Fatalf("the appointment is not preselected")
		}
		// The person cannot see another's choices: they have no review form.
		if r := e.As(t, "person").Get(link); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
			t.Fatalf("the person opened the staff review form: %d", r.StatusCode)
		}

		// Over the API, two workers record a review at the same appointment
		// at once: one wins, the other is told, and one review is held.
		var planned struct {
			NextReview struct {
				ID int64 `json:"id"`
			} `json:"next_review"`
		}
		if r := e.Bearer(t, "worker").Get("/api/v1/people/" + id + "/plan"); r.StatusCode != http.StatusOK {
			t.Fatalf("plan: %d", r.StatusCode)
		} else if err := json.Unmarshal([]byte(r.Body), &planned); err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"held": true, "planned_review_id": planned.NextReview.ID, "reviewed": "Goals", "appointment_id": first.ID,
			"next": map[string]any{"appointment_id": second.ID}}
		res := webtest.Parallel(t, []webtest.Call{
			{Client: e.Bearer(t, "worker"), Method: http.MethodPost, Path: "/api/v1/people/" + id + "/reviews", JSON: body},
			{Client: e.Bearer(t, "lead"), Method: http.MethodPost, Path: "/api/v1/people/" + id + "/reviews", JSON: body},
		})
		ok, conflicts := tallyStatus(t, res, http.StatusCreated)
		if ok != 1 || conflicts != 1 {
			t.Fatalf("two reviews at one appointment: %d won, %d conflicts", ok, conflicts)
		}
		if n := rows(t, e.DB, "SELECT COUNT(*) FROM recovery_reviews WHERE status = 'held' AND appointment_id = $1", first.ID); n != 1 {
			t.Fatalf("%d held reviews at the appointment", n)
		}
		if n := rows(t, e.DB, "SELECT COUNT(*) FROM recovery_reviews WHERE status = 'planned' AND appointment_id = $1", second.ID); n != 1 {
			t.Fatalf("%d planned reviews at the next appointment", n)
		}
	})
}
