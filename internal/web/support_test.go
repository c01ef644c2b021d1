package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// Appointments over HTTP on both engines: two bookings of one slot sent at
// once — exactly one wins, the other is told the worker is busy; a clash
// on the form keeps what was typed; the person sees and accepts theirs;
// nobody else sees it (a canary in the place never leaks).
func TestAppointmentsOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		pid := supportedPerson(t, e)
		d := e.Clock.Now().In(app.London).AddDate(0, 0, 2)
		at := time.Date(d.Year(), d.Month(), d.Day(), 14, 0, 0, 0, app.London)
		workerAPI, leadAPI := e.Bearer(t, "worker"), e.Bearer(t, "lead")
		body := map[string]any{"person_id": pid, "start": at, "minutes": 60, "place": "community", "place_detail": "CANARY-CAFE"}
		res := webtest.Parallel(t, []webtest.Call{
			{Client: workerAPI, Method: http.MethodPost, Path: "/api/v1/appointments", JSON: body},
			{Client: leadAPI, Method: http.MethodPost, Path: "/api/v1/appointments", JSON: body},
		})
		var won, lost int
		var id string
		for _, r := range res {
			switch r.StatusCode {
			case http.StatusCreated:
				won++
				id = strings.TrimPrefix(r.Header.Get("Location"), "/api/v1/appointments/")
			case http.StatusConflict:
				lost++
				if !strings.Contains(r.Body, "already booked from 14:00") {
					t.Errorf("loser's message: %s", r.Body)
				}
			default:
				t.Fatalf("booking: %d %s", r.StatusCode, r.Body)
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("won %d, lost %d", won, lost)
		}

		// The form: the same slot is refused next to the date, with what was typed kept.
		worker := e.As(t, "worker")
		f := url.Values{"start-day": {strconv.Itoa(at.Day())}, "start-month": {strconv.Itoa(int(at.Month()))}, "start-year": {strconv.Itoa(at.Year())},
			"start-time": {"14:30"}, "minutes": {"60"}, "place": {"phone"}, "place_detail": {"KEEP-THIS"}}
		r := worker.PostForm("/people/"+strconv.FormatInt(pid, 10)+"/appointments", f)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "already booked from 14:00") || !strings.Contains(r.Body, "KEEP-THIS") {
			t.Fatalf("clash on the form: %d %s", r.StatusCode, r.Body)
		}

		// The person sees it in their account and accepts it.
		person := e.As(t, "person")
		if r := person.Get("/my/appointments"); !strings.Contains(r.Body, "Please answer") || !strings.Contains(r.Body, "CANARY-CAFE") {
			t.Fatalf("my appointments: %d %s", r.StatusCode, r.Body)
		}
		if r := person.PostForm("/appointments/"+id+"/transitions", url.Values{"to": {"booked"}, "version": {"1"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept: %d %s", r.StatusCode, r.Body)
		}
		if r := person.PostForm("/appointments/"+id+"/transitions", url.Values{"to": {"cancelled"}}); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(r.Body, "Say why the appointment is cancelled") {
			t.Fatalf("cancel without a reason: %d", r.StatusCode)
		}
		if n := rows(t, e.DB, "SELECT COUNT(*) FROM appointments WHERE status = 'booked'"); n != 1 {
			t.Fatalf("booked: %d", n)
		}

		// Nobody else sees it: not found (or not allowed), never the canary.
		for _, who := range []string{"person2", "workerB", "leadB", "clinician", "partner"} {
			c := e.Bearer(t, who)
			for _, path := range []string{"/api/v1/appointments/" + id, "/api/v1/appointments"} {
				r := c.Get(path)
				if strings.Contains(r.Body, "CANARY") || (r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden && r.Body != "[]\n" && r.Body != "[]") {
					t.Errorf("%s %s: %d %s", who, path, r.StatusCode, r.Body)
				}
			}
		}
		// It happens: the worker records what happened; the person reads the
		// note written for them with their referral's contacts.
		e.Clock.Advance(at.Sub(e.Clock.Now()) + 5*time.Minute)
		if r := workerAPI.JSON(http.MethodPost, "/api/v1/appointments/"+id+"/transitions", map[string]any{"to": "arrived"}); r.StatusCode != http.StatusOK {
			t.Fatalf("arrived: %d %s", r.StatusCode, r.Body)
		}
		worker, person = e.As(t, "worker"), e.As(t, "person") // sessions idled out while the clock moved
		page := worker.Get("/appointments/" + id)
		if !strings.Contains(page.Body, "Record what happened") {
			t.Fatalf("appointment page: %s", page.Body)
		}
		var refID int64
		if err := e.DB.QueryRow(t.Context(), "SELECT referral_id FROM appointments WHERE id = $1", id).Scan(&refID); err != nil {
			t.Fatal(err)
		}
		rec := url.Values{"appointment_id": {id}, "contact_at-day": {strconv.Itoa(at.Day())}, "contact_at-month": {strconv.Itoa(int(at.Month()))},
			"contact_at-year": {strconv.Itoa(at.Year())}, "contact_at-time": {"14:00"}, "mode": {"in_person"}, "minutes": {"60"},
			"support_types": {"emotional", "social"}, "contact_note": {"NOTE-FOR-PERSON: we planned the walking group"}}
		if r := worker.PostForm("/referrals/"+strconv.FormatInt(refID, 10)+"/contacts", rec); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("record contact: %d %s", r.StatusCode, r.Body)
		}
		if r := person.Get("/my/referrals/" + strconv.FormatInt(refID, 10)); !strings.Contains(r.Body, "NOTE-FOR-PERSON") || !strings.Contains(r.Body, "Emotional, social support") {
			t.Fatalf("the person's view: %s", r.Body)
		}
		if r := e.As(t, "workerB").Get("/referrals/" + strconv.FormatInt(refID, 10)); strings.Contains(r.Body, "NOTE-FOR-PERSON") || r.StatusCode != http.StatusNotFound {
			t.Fatalf("another team's worker: %d", r.StatusCode)
		}

		// The worker's day.
		if r := worker.Get("/my/people"); !strings.Contains(r.Body, `href="/people/`+strconv.FormatInt(pid, 10)+`"`) || !strings.Contains(r.Body, "0 days ago") {
			t.Errorf("my people: %s", r.Body)
		}
		if r := worker.Get("/my/diary?week=" + at.Format("2006-01-02")); !strings.Contains(r.Body, "14:00–15:00") {
			t.Errorf("my diary: %d %s", r.StatusCode, r.Body)
		}
	})
}

// A lead opening a visit that alerted sees that visit's alert, read with
// the appointment and audited as reading it: not through the list of every
// alert they may see (no alert.list row naming other people), and not
// another visit's alert.
func TestVisitPageShowsItsOwnAlert(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		pid := supportedPerson(t, e)
		worker := e.Principal(t, "worker")
		at := e.Clock.Now().Add(2 * time.Hour)
		visit, err := e.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at, Minutes: 30, Place: "home", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		other, err := e.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: at.Add(time.Hour), Minutes: 30, Place: "community", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(4*time.Hour + 5*time.Minute)
		if n, err := e.Support.RaiseMissedCheckOuts(ctx); err != nil || n != 2 {
			t.Fatalf("alerts raised: %d %v", n, err)
		}
		var otherRef string
		if err := e.DB.QueryRow(ctx, "SELECT reference FROM alerts WHERE link = $1", "/appointments/"+strconv.FormatInt(other.ID, 10)).Scan(&otherRef); err != nil {
			t.Fatal(err)
		}
		lead := e.As(t, "lead")
		r := lead.Get("/appointments/" + strconv.FormatInt(visit.ID, 10))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "alert_outcome") || strings.Contains(r.Body, otherRef) {
			t.Fatalf("the visit's page: %d %s", r.StatusCode, r.Body)
		}
		if n := rows(t, e.DB, "SELECT COUNT(*) FROM audit_events WHERE action = 'alert.list'"); n != 0 {
			t.Fatalf("the visit's page read the list of alerts: %d rows", n)
		}
		if n := rows(t, e.DB, "SELECT COUNT(*) FROM audit_events WHERE action = 'appointment.read' AND subject_person_id = $1", pid); n != 1 {
			t.Fatalf("the visit's page audited as reading it: %d", n)
		}
		// The worker, who may not respond, is not shown the alert form.
		workerPage := e.As(t, "worker")
		if r := workerPage.Get("/appointments/" + strconv.FormatInt(visit.ID, 10)); strings.Contains(r.Body, "alert_outcome") {
			t.Fatalf("the worker's view: %s", r.Body)
		}
		vid := strconv.FormatInt(visit.ID, 10)
		var alertID int64
		if err := e.DB.QueryRow(ctx, "SELECT id FROM alerts WHERE link = $1", "/appointments/"+vid).Scan(&alertID); err != nil {
			t.Fatal(err)
		}
		// A response with a problem shows the visit's page again, with the problem.
		r = lead.PostForm("/alerts/"+strconv.FormatInt(alertID, 10)+"/response", url.Values{"alert_outcome": {"other"}, "alert_version": {"1"},
			"appointment_id": {vid}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Say what you did") || !strings.Contains(r.Body, "did not check out of this visit") {
			t.Fatalf("a response with a problem: %d %s", r.StatusCode, r.Body)
		}
		// Recording what happened with a problem keeps the note typed, on the visit's page.
		if r := workerPage.PostForm("/appointments/"+vid+"/transitions", url.Values{"to": {"fulfilled"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("fulfilled: %d %s", r.StatusCode, r.Body)
		}
		r = workerPage.PostForm("/referrals/"+strconv.FormatInt(visit.ReferralID, 10)+"/contacts", url.Values{"appointment_id": {vid}, "from": {"appointment"},
			"contact_at-day": {"1"}, "contact_at-month": {"1"}, "contact_at-year": {"2020"}, "contact_at-time": {"10:00"}, "mode": {"in_person"},
			"minutes": {"30"}, "support_types": {"gossip"}, "contact_note": {"KEEP-THIS-NOTE"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "KEEP-THIS-NOTE") || !strings.Contains(r.Body, "Record what happened") ||
			!strings.Contains(r.Body, "Choose the kinds of support from the list") {
			t.Fatalf("a contact with a problem: %d %s", r.StatusCode, r.Body)
		}
		// A problem with what the page filled in itself is shown at the top.
		r = workerPage.PostForm("/referrals/"+strconv.FormatInt(visit.ReferralID, 10)+"/contacts", url.Values{"appointment_id": {vid}, "from": {"appointment"},
			"contact_at-day": {"1"}, "contact_at-month": {"1"}, "contact_at-year": {"2020"}, "contact_at-time": {"10:00"}, "mode": {"in_person"},
			"minutes": {"30"}, "support_types": {"emotional"}, "contact_note": {"KEEP-THIS-NOTE"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "KEEP-THIS-NOTE") || !strings.Contains(r.Body, "after the referral was made") {
			t.Fatalf("a contact with a problem in the filled-in time: %d %s", r.StatusCode, r.Body)
		}
	})
}

// The person chooses when to be reminded from their appointments page
// (and the API); their worker records it for them from the booking page;
// a choice not in the list is refused next to the choices, writes nothing,
// and keeps the page. Someone else's choice is not found.
func TestReminderChoiceOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		pid := supportedPerson(t, e)
		id := strconv.FormatInt(pid, 10)
		person, worker := e.As(t, "person"), e.As(t, "worker")
		count := func() int {
			var n int
			if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM reminder_choices").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		page := person.Get("/my/appointments")
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `value="24h" checked`) {
			t.Fatalf("the default: %d %s", page.StatusCode, page.Body)
		}
		r := person.PostForm("/my/reminders", url.Values{"choice": {"weekly"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Choose when to be reminded") || !strings.Contains(r.Body, "When should we remind you?") || count() != 0 {
			t.Fatalf("a choice not in the list: %d, %d written\n%s", r.StatusCode, count(), r.Body)
		}
		if r := person.PostForm("/my/reminders", url.Values{"choice": {"2h"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("choosing: %d %s", r.StatusCode, r.Body)
		}
		if page := person.Get("/my/appointments"); !strings.Contains(page.Body, `value="2h" checked`) {
			t.Fatalf("the choice is not shown: %s", page.Body)
		}
		got := decode[support.Reminders](t, e.Bearer(t, "worker").Get("/api/v1/people/"+id+"/reminders"))
		if got.Choice != support.RemindSoon || got.Default || got.ByStaff {
			t.Fatalf("the worker sees: %+v", got)
		}
		if r := worker.PostForm("/people/"+id+"/reminders", url.Values{"choice": {"none"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("the worker records it: %d %s", r.StatusCode, r.Body)
		}
		got = decode[support.Reminders](t, e.Bearer(t, "person").Get("/api/v1/my/reminders"))
		if got.Choice != support.RemindNone || !got.ByStaff {
			t.Fatalf("the person sees: %+v", got)
		}
		bad := e.Bearer(t, "person").JSON(http.MethodPut, "/api/v1/my/reminders", map[string]any{"choice": "sometimes"})
		if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, `"choice"`) {
			t.Fatalf("the API refuses: %d %s", bad.StatusCode, bad.Body)
		}
		want(t, e.Bearer(t, "workerB").Get("/api/v1/people/"+id+"/reminders"), http.StatusNotFound)
		want(t, e.Bearer(t, "person2").JSON(http.MethodPut, "/api/v1/people/"+id+"/reminders", map[string]any{"choice": "none"}), http.StatusNotFound)
	})
}

// My diary holds the group sessions the worker facilitates beside their
// appointments: the page shows each with its time, the group's name and
// venue and a link to the session's page; the API gives them as a kind of
// their own. Times stay right in Europe/London in the week the clocks go
// forward (the session on that Sunday at 10:00 London, 09:00 UTC; the
// appointment on the Monday at 10:00, 10:00 UTC). Another worker's diary
// has neither.
func TestDiaryHoldsFacilitatedGroupSessions(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		pid := supportedPerson(t, e)
		monday := time.Date(2027, 3, 22, 10, 0, 0, 0, app.London)
		a, err := e.Support.Create(ctx, e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: monday, Minutes: 60, Place: "phone", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		lead := e.Principal(t, "lead")
		g, err := e.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: e.TeamA.ID, Title: "Sunday Walk", Repeats: groups.Once,
			Visibility: groups.Members, Venue: groups.Venue{Name: "Park gates", Address: "Roundhay Park"}, FacilitatorIDs: []int64{e.Users["worker"].ID}})
		if err != nil {
			t.Fatal(err)
		}
		ss, err := e.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: "2027-03-28T10:00", Minutes: 90})
		if err != nil || len(ss) != 1 {
			t.Fatalf("the session: %v %v", ss, err)
		}
		sid := strconv.FormatInt(ss[0].ID, 10)
		// A session overnight from the Sunday before the week into its
		// Monday: in the week, on its first day.
		if night, err := e.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: "2027-03-21T23:00", Minutes: 120}); err != nil || len(night) != 1 {
			t.Fatalf("the overnight session: %v %v", night, err)
		}

		d := decode[map[string]any](t, e.Bearer(t, "worker").Get("/api/v1/my/diary?week=2027-03-24"))
		days := d["days"].([]any)
		if len(days) != 7 {
			t.Fatalf("days: %d", len(days))
		}
		first, last := days[0].(map[string]any), days[6].(map[string]any)
		if n := len(first["appointments"].([]any)); n != 1 || len(first["group_sessions"].([]any)) != 1 {
			t.Fatalf("Monday: %v", first)
		}
		gs := last["group_sessions"].([]any)
		if len(gs) != 1 {
			t.Fatalf("Sunday: %v", last)
		}
		s := gs[0].(map[string]any)
		if s["kind"] != "group_session" || s["group_title"] != "Sunday Walk" || s["venue"] != "Park gates" || s["start"] != "2027-03-28T09:00:00Z" ||
			s["session_id"].(float64) != float64(ss[0].ID) {
			t.Fatalf("the group session: %v", s)
		}
		if a0 := first["appointments"].([]any)[0].(map[string]any); a0["start"] != "2027-03-22T10:00:00Z" {
			t.Fatalf("the appointment: %v", a0)
		}

		page := e.As(t, "worker").Get("/my/diary?week=2027-03-24")
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `href="/sessions/`+sid+`"`) || !strings.Contains(page.Body, "10:00–11:30") ||
			!strings.Contains(page.Body, "Group: Sunday Walk") || !strings.Contains(page.Body, "Park gates") ||
			!strings.Contains(page.Body, `href="/appointments/`+strconv.FormatInt(a.ID, 10)+`"`) {
			t.Fatalf("the diary page: %d %s", page.StatusCode, page.Body)
		}
		other := e.As(t, "workerB").Get("/my/diary?week=2027-03-24")
		if strings.Contains(other.Body, "Sunday Walk") || strings.Contains(other.Body, "/appointments/"+strconv.FormatInt(a.ID, 10)) {
			t.Fatalf("another worker's diary: %s", other.Body)
		}
	})
}

// A worker marks a transition prompt done from the page (an empty note is
// refused with the prompt's form open and nothing marked) and through the
// API; two marks at once over HTTP: one 200, one 409, the first note kept.
func TestMarkingAPromptDoneOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		pid := supportedPerson(t, e)
		for _, set := range []string{"acute_ward", "camhs_transition"} {
			if _, err := e.DB.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, setting, imported_at)
				VALUES ($1, $2, $3, 'clinician@test.example', $4, $5, $6)`, pid, "HTTP-"+set, e.TeamA.ID, e.Clock.Now().AddDate(0, 0, -1).Truncate(24*time.Hour), set, e.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.DB.Exec(ctx, "UPDATE people SET date_of_birth = $1 WHERE id = $2", e.Clock.Now().AddDate(-17, 0, -1), pid); err != nil {
			t.Fatal(err)
		}
		if n, err := e.Support.RaiseTransitionPrompts(ctx); err != nil || n != 2 {
			t.Fatalf("raised %d %v", n, err)
		}
		prompt := func(kind string) (id, note string) {
			var n int64
			if err := e.DB.QueryRow(ctx, "SELECT id, done_note FROM transition_prompts WHERE person_id = $1 AND kind = $2", pid, kind).Scan(&n, &note); err != nil {
				t.Fatal(err)
			}
			return strconv.FormatInt(n, 10), note
		}
		worker := e.As(t, "worker")
		visit, _ := prompt("in_reach")
		bad := worker.PostForm("/my/transitions/"+visit+"/done", url.Values{"note": {"   "}})
		if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "Say in a few words what was done") ||
			!strings.Contains(bad.Body, `href="#note"`) || !strings.Contains(bad.Body, `id="note"`) || !strings.Contains(bad.Body, " open>") {
			t.Fatalf("an empty note: %d %s", bad.StatusCode, bad.Body)
		}
		if _, note := prompt("in_reach"); note != "" {
			t.Fatalf("a refused mark wrote %q", note)
		}
		if r := worker.PostForm("/my/transitions/"+visit+"/done", url.Values{"note": {"Visited on the ward"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("marking from the page: %d %s", r.StatusCode, r.Body)
		}
		if page := worker.Get("/my/transitions"); !strings.Contains(page.Body, "Visited on the ward") {
			t.Fatalf("the page after marking: %s", page.Body)
		}
		// Another team's worker gets 404 and changes nothing.
		plan, _ := prompt("camhs_transition")
		if r := e.Bearer(t, "workerB").JSON(http.MethodPost, "/api/v1/transition-prompts/"+plan+"/done", map[string]any{"note": "Not theirs"}); r.StatusCode != http.StatusNotFound {
			t.Fatalf("another team's worker: %d %s", r.StatusCode, r.Body)
		}
		api := e.Bearer(t, "worker")
		res := webtest.Parallel(t, []webtest.Call{
			{Client: api, Method: http.MethodPost, Path: "/api/v1/transition-prompts/" + plan + "/done", JSON: map[string]any{"note": "Plan agreed (first)"}},
			{Client: api, Method: http.MethodPost, Path: "/api/v1/transition-prompts/" + plan + "/done", JSON: map[string]any{"note": "Plan agreed (second)"}},
		})
		won := ""
		for i, r := range res {
			switch r.StatusCode {
			case http.StatusOK:
				if won != "" {
					t.Fatalf("both marks won")
				}
				won = []string{"Plan agreed (first)", "Plan agreed (second)"}[i]
			case http.StatusConflict:
			default:
				t.Fatalf("a mark at once: %d %s", r.StatusCode, r.Body)
			}
		}
		if _, note := prompt("camhs_transition"); won == "" || note != won {
			t.Fatalf("after two at once: %q, the winner said %q", note, won)
		}
	})
}
