package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// supportAuditCalls are the support routes for TestAuditOneRowPerCall:
// person pid is allocated to the world's worker.
func supportAuditCalls(t *testing.T, e *webtest.Env, pid int64, person, worker, personAPI, workerAPI *webtest.Client) []auditCall {
	ctx := context.Background()
	id := strconv.FormatInt(pid, 10)
	latest := func() string {
		var n int64
		if err := e.DB.QueryRow(ctx, "SELECT MAX(id) FROM appointments").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(n, 10)
	}
	// Days well after anything else the test does, at 10:00 London time.
	day := func(n int) time.Time {
		d := e.Clock.Now().In(app.London).AddDate(0, 0, 30+n)
		return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, app.London)
	}
	dateForm := func(t time.Time, kv ...string) map[string][]string {
		m := map[string][]string{"start-day": {strconv.Itoa(t.Day())}, "start-month": {strconv.Itoa(int(t.Month()))},
			"start-year": {strconv.Itoa(t.Year())}, "start-time": {t.Format("15:04")}}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	var first string
	// A home visit starting soon, to check in to and out of.
	visit, err := e.Support.Create(ctx, e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: e.Clock.Now().Add(30 * time.Minute),
		Minutes: 30, Place: "home", Agreed: true})
	if err != nil {
		t.Fatal(err)
	}
	vid := strconv.FormatInt(visit.ID, 10)
	visit2, err := e.Support.Create(ctx, e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: e.Clock.Now().Add(60 * time.Minute),
		Minutes: 30, Place: "community", Agreed: true})
	if err != nil {
		t.Fatal(err)
	}
	second := strconv.FormatInt(visit2.ID, 10)
	feed, err := e.Support.RenewFeed(ctx, e.Principal(t, "worker"))
	if err != nil {
		t.Fatal(err)
	}
	feedPath := strings.TrimPrefix(feed.URL, "https://mutual.test")
	// A ward admission and a CAMHS caseload give two transition prompts
	// to mark done.
	for _, set := range []string{"acute_ward", "camhs_transition"} {
		if _, err := e.DB.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, setting, imported_at)
			VALUES ($1, $2, $3, 'clinician@test.example', $4, $5, $6)`, pid, "AUDIT-"+set, e.TeamA.ID, e.Clock.Now().AddDate(0, 0, -1).Truncate(24*time.Hour), set, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.DB.Exec(ctx, "UPDATE people SET date_of_birth = $1 WHERE id = $2", e.Clock.Now().AddDate(-17, 0, -1), pid); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Support.RaiseTransitionPrompts(ctx); err != nil {
		t.Fatal(err)
	}
	prompt := func(kind string) string {
		var n int64
		if err := e.DB.QueryRow(ctx, "SELECT id FROM transition_prompts WHERE person_id = $1 AND kind = $2", pid, kind).Scan(&n); err != nil {
			t.Fatalf("the %s prompt: %v", kind, err)
		}
		return strconv.FormatInt(n, 10)
	}
	return []auditCall{
		{"POST /my/transitions/{id}/done", func() *webtest.Response {
			return worker.PostForm("/my/transitions/"+prompt("in_reach")+"/done", map[string][]string{"note": {"Visited on the ward"}})
		}, 303},
		{"POST /api/v1/transition-prompts/{id}/done", func() *webtest.Response {
			return workerAPI.JSON("POST", "/api/v1/transition-prompts/"+prompt("camhs_transition")+"/done", map[string]any{"note": "Plan agreed"})
		}, 200},
		{"GET /calendar/{file}", func() *webtest.Response { return e.Client(t).Get(feedPath) }, 200},
		{"POST /appointments/{id}/check-in", func() *webtest.Response { return worker.PostForm("/appointments/"+vid+"/check-in", nil) }, 303},
		{"POST /api/v1/appointments/{id}/check-out", func() *webtest.Response {
			return workerAPI.JSON("POST", "/api/v1/appointments/"+vid+"/check-out", map[string]any{})
		}, 200},
		{"GET /people/{id}/appointments/new", func() *webtest.Response { return worker.Get("/people/" + id + "/appointments/new") }, 200},
		{"POST /people/{id}/appointments", func() *webtest.Response {
			r := worker.PostForm("/people/"+id+"/appointments", dateForm(day(0), "minutes", "60", "place", "home"))
			first = latest()
			return r
		}, 303},
		{"POST /api/v1/appointments", func() *webtest.Response {
			return workerAPI.JSON("POST", "/api/v1/appointments", map[string]any{"person_id": pid, "start": day(1), "place": "phone"})
		}, 201},
		{"GET /my/appointments", func() *webtest.Response { return person.Get("/my/appointments") }, 200},
		{"POST /my/appointments", func() *webtest.Response {
			return person.PostForm("/my/appointments", dateForm(day(2), "minutes", "30", "place", "video"))
		}, 303},
		{"GET /appointments/{id}", func() *webtest.Response { return person.Get("/appointments/" + first) }, 200},
		{"POST /appointments/{id}/transitions", func() *webtest.Response {
			return person.PostForm("/appointments/"+first+"/transitions", map[string][]string{"to": {"booked"}, "version": {"1"}})
		}, 303},
		{"POST /api/v1/appointments/{id}/transitions", func() *webtest.Response {
			return workerAPI.JSON("POST", "/api/v1/appointments/"+latest()+"/transitions", map[string]any{"to": "cancelled", "reason": "On leave that day"})
		}, 200},
		{"POST /appointments/{id}/reschedule", func() *webtest.Response {
			return worker.PostForm("/appointments/"+first+"/reschedule", dateForm(day(3), "move_reason", "Training day"))
		}, 303},
		{"POST /api/v1/appointments/{id}/reschedule", func() *webtest.Response {
			return personAPI.JSON("POST", "/api/v1/appointments/"+latest()+"/reschedule", map[string]any{"start": day(4)})
		}, 201},
		{"GET /api/v1/appointments", func() *webtest.Response { return personAPI.Get("/api/v1/appointments") }, 200},
		{"GET /api/v1/appointments/{id}", func() *webtest.Response { return workerAPI.Get("/api/v1/appointments/" + latest()) }, 200},
		{"GET /fhir/R4/Appointment/{id}", func() *webtest.Response { return worker.Get("/fhir/R4/Appointment/" + latest()) }, 200},
		{"GET /fhir/R4/Appointment", func() *webtest.Response { return worker.Get("/fhir/R4/Appointment?patient=" + id) }, 200},
		{"POST /api/v1/appointments/{id}/check-in", func() *webtest.Response {
			return workerAPI.JSON("POST", "/api/v1/appointments/"+second+"/check-in", map[string]any{})
		}, 200},
		{"POST /appointments/{id}/check-out", func() *webtest.Response { return worker.PostForm("/appointments/"+second+"/check-out", nil) }, 303},
		{"GET /my/people", func() *webtest.Response { return worker.Get("/my/people") }, 200},
		{"POST /my/reminders", func() *webtest.Response {
			return person.PostForm("/my/reminders", map[string][]string{"choice": {"both"}})
		}, 303},
		{"POST /people/{id}/reminders", func() *webtest.Response {
			return worker.PostForm("/people/"+id+"/reminders", map[string][]string{"choice": {"2h"}})
		}, 303},
		{"GET /api/v1/my/reminders", func() *webtest.Response { return personAPI.Get("/api/v1/my/reminders") }, 200},
		{"PUT /api/v1/my/reminders", func() *webtest.Response {
			return personAPI.JSON("PUT", "/api/v1/my/reminders", map[string]any{"choice": "none"})
		}, 200},
		{"GET /api/v1/people/{id}/reminders", func() *webtest.Response { return workerAPI.Get("/api/v1/people/" + id + "/reminders") }, 200},
		{"PUT /api/v1/people/{id}/reminders", func() *webtest.Response {
			return workerAPI.JSON("PUT", "/api/v1/people/"+id+"/reminders", map[string]any{"choice": "24h"})
		}, 200},
		{"GET /my/transitions", func() *webtest.Response { return worker.Get("/my/transitions") }, 200},
		{"GET /api/v1/my/transitions", func() *webtest.Response { return workerAPI.Get("/api/v1/my/transitions") }, 200},
		{"GET /api/v1/my/people", func() *webtest.Response { return workerAPI.Get("/api/v1/my/people") }, 200},
		{"GET /my/diary", func() *webtest.Response { return worker.Get("/my/diary?week=" + day(3).Format("2006-01-02")) }, 200},
		{"GET /api/v1/my/diary", func() *webtest.Response { return workerAPI.Get("/api/v1/my/diary") }, 200},
	}
}
