package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/fhirschema"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// supportedPerson gives the world's "person" a record, referred to team A
// and allocated to the world's worker, and returns their id.
func supportedPerson(t *testing.T, e *webtest.Env) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: e.TeamA.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: e.Users["worker"].ID}} {
		if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), r.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	return r.PersonID
}

func rows(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Bad input on the recovery forms: each problem next to its field, what
// was typed kept, and nothing stored.
func TestRecoveryFormsKeepWhatWasTyped(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	supportedPerson(t, e)
	person := e.As(t, "person")
	f := url.Values(dialogForm("4"))
	f.Set("rating.job", "9")
	f.Del("help.leisure")
	f.Set("d2.actions", "Phone the centre KEEP-THIS")
	r := person.PostForm("/my/dialog", f)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad DIALOG+: %d", r.StatusCode)
	}
	for _, want := range []string{"Choose a rating for job situation from 1 (totally dissatisfied) to 7", "Say whether you would like more help with leisure activities",
		"Choose which item this conversation is about", "KEEP-THIS", `href="#rating-job"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if n := rows(t, e.DB, "SELECT COUNT(*) FROM dialog_sessions"); n != 0 {
		t.Fatalf("%d sessions stored", n)
	}
	r = person.PostForm("/my/goals", url.Values{"description": {" "}, "steps": {"One\nTwo"}, "target_date-day": {"31"}, "target_date-month": {"2"}, "target_date-year": {"2027"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Write the goal in your own words") || !strings.Contains(r.Body, "Date must be a real date") {
		t.Fatalf("empty goal: %d", r.StatusCode)
	}
	long := strings.Repeat("word ", 900)
	r = person.PostForm("/my/plan", url.Values{"version": {"0"}, "what_matters": {long}, "reviews.weeks": {"often"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Enter how often reviews happen as a number of weeks") || !strings.Contains(r.Body, "word word word") {
		t.Fatalf("bad plan: %d", r.StatusCode)
	}
	r = person.PostForm("/my/plan", url.Values{"version": {"0"}, "what_matters": {long}, "reviews.weeks": {"12"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "What matters to you must be 4000 characters or fewer") {
		t.Fatalf("over-long plan: %d", r.StatusCode)
	}
	if n := rows(t, e.DB, "SELECT COUNT(*) FROM recovery_goals") + rows(t, e.DB, "SELECT COUNT(*) FROM recovery_plans"); n != 0 {
		t.Fatalf("%d rows stored from bad input", n)
	}
	// Over the API, the same problems name their fields.
	api := e.Bearer(t, "person")
	pid := strconv.FormatInt(e.Principal(t, "person").PersonID, 10)
	body := dialogJSON(4)
	rs := body["ratings"].([]map[string]any)
	rs[0]["rating"] = 0
	rs[1]["item"] = "weather"
	bad := api.JSON(http.MethodPost, "/api/v1/people/"+pid+"/dialog", body)
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, `"ratings.mental_health"`) || !strings.Contains(bad.Body, `"ratings[1].item"`) {
		t.Fatalf("bad API DIALOG+: %d %s", bad.StatusCode, bad.Body)
	}
}

// The FHIR views are valid R4 against the official schema, served as
// application/fhir+json, and answer not found to anyone who may not see
// the person.
func TestFHIRResourcesOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		pid := supportedPerson(t, e)
		id := strconv.FormatInt(pid, 10)
		person := e.Bearer(t, "person")
		g := decode[map[string]any](t, person.JSON(http.MethodPost, "/api/v1/people/"+id+"/goals", map[string]any{"description": "Walk to the park",
			"steps": []map[string]any{{"description": "Buy boots"}}, "target_date": "2027-03-31"}))
		gid := strconv.FormatInt(int64(g["id"].(float64)), 10)
		body := dialogJSON(4)
		body["discussions"] = []map[string]any{{"item": "job", "actions": "Call the volunteer centre"}}
		s := decode[map[string]any](t, person.JSON(http.MethodPost, "/api/v1/people/"+id+"/dialog", body))
		sid := strconv.FormatInt(int64(s["id"].(float64)), 10)
		worker := e.As(t, "worker")
		for path, def := range map[string]string{
			"/fhir/R4/Goal/" + gid:                                 "Goal",
			"/fhir/R4/Goal?patient=" + id:                          "Bundle",
			"/fhir/R4/QuestionnaireResponse/" + sid:                "QuestionnaireResponse",
			"/fhir/R4/QuestionnaireResponse?patient=Patient/" + id: "Bundle",
			"/fhir/R4/Questionnaire/dialog-plus":                   "Questionnaire",
		} {
			r := worker.Get(path)
			if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/fhir+json") {
				t.Fatalf("%s: %d %s", path, r.StatusCode, r.Header.Get("Content-Type"))
			}
			fhirschema.Validate(t, def, []byte(r.Body))
		}
		if r := worker.Get("/fhir/R4/Goal?patient=" + id); !strings.Contains(r.Body, "Walk to the park") || !strings.Contains(r.Body, `"total": 1`) {
			t.Fatalf("search: %s", r.Body)
		}
		for _, name := range []string{"person2", "workerB", "leadB"} {
			c := e.As(t, name)
			for _, path := range []string{"/fhir/R4/Goal/" + gid, "/fhir/R4/QuestionnaireResponse/" + sid, "/fhir/R4/Goal?patient=" + id, "/fhir/R4/QuestionnaireResponse?patient=" + id} {
				r := c.Get(path)
				if r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "Walk to the park") {
					t.Errorf("%s: %s answered %d", name, path, r.StatusCode)
				}
				fhirschema.Validate(t, "OperationOutcome", []byte(r.Body))
			}
		}
		// Errors are OperationOutcomes, as FHIR clients expect.
		if r := e.Client(t).Get("/fhir/R4/Goal/" + gid); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, `"code": "login"`) {
			t.Errorf("anonymous: %d %s", r.StatusCode, r.Body)
		} else {
			fhirschema.Validate(t, "OperationOutcome", []byte(r.Body))
		}
		r := worker.Get("/fhir/R4/Goal?patient=nobody")
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/fhir+json") ||
			!strings.Contains(r.Body, `"code": "invalid"`) || !strings.Contains(r.Body, `"patient"`) {
			t.Errorf("a search without a patient: %d %s", r.StatusCode, r.Body)
		}
		fhirschema.Validate(t, "OperationOutcome", []byte(r.Body))
	})
}

// Feedback canaries: words and the giver's details reach only the team's
// leads and the service manager; the worker it is about sees the words only
// once shared, never the giver; the public page shows neither unless the
// giver agreed to be quoted.
func TestFeedbackCanaries(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		const words, giver = "WORDS-CANARY-51a", "GIVER-CANARY-77b"
		anon := e.Client(t)
		r := anon.PostForm("/feedback", url.Values{"about": {"worker"}, "about_name": {"Test workerB"}, "team_id": {strconv.FormatInt(e.TeamB.ID, 10)},
			"body": {"They were dismissive. " + words}, "who": {"named"}, "name": {giver}, "email": {"giver.canary@example.org"}, "contact_ok": {"yes"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("giving feedback: %d %s", r.StatusCode, r.Body)
		}
		var fid int64
		if err := e.DB.QueryRow(context.Background(), "SELECT id FROM feedback").Scan(&fid); err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(fid, 10)
		check := func(stage string, may map[string][2]bool) {
			t.Helper()
			for _, name := range roleNames {
				page, api := e.As(t, name), e.Bearer(t, name)
				var seen strings.Builder
				for _, path := range []string{"/feedback/inbox", "/feedback/inbox/" + id, "/my/feedback", "/you-said-we-did/" + strconv.FormatInt(e.TeamB.ID, 10)} {
					seen.WriteString(page.Get(path).Body)
				}
				for _, path := range []string{"/api/v1/feedback", "/api/v1/feedback/" + id, "/api/v1/my/feedback", "/api/v1/teams/" + strconv.FormatInt(e.TeamB.ID, 10) + "/you-said-we-did"} {
					seen.WriteString(api.Get(path).Body)
				}
				got := [2]bool{strings.Contains(seen.String(), words), strings.Contains(seen.String(), giver) || strings.Contains(seen.String(), "giver.canary@")}
				if got != may[name] {
					t.Errorf("%s: %s sees the words %v and the giver %v, want %v", stage, name, got[0], got[1], may[name])
				}
			}
		}
		check("received", map[string][2]bool{"leadB": {true, true}, "manager": {true, true}})
		// The lead answers and publishes a summary; the giver did not agree
		// to be quoted, so the public page has the summary only.
		lead := e.Bearer(t, "leadB")
		for v, m := range []map[string]any{{"to": "acknowledged"}, {"to": "considered", "theme": "worker"},
			{"to": "answered", "answer": "We have talked with the team about how we listen.", "public_summary": "Someone felt not listened to.", "publish": true}} {
			m["version"] = v + 1
			if r := lead.JSON(http.MethodPost, "/api/v1/feedback/"+id+"/transitions", m); r.StatusCode != http.StatusOK {
				t.Fatalf("%v: %d %s", m, r.StatusCode, r.Body)
			}
		}
		if r := lead.JSON(http.MethodPost, "/api/v1/feedback/"+id+"/transitions", map[string]any{"to": "changed", "version": 4, "quote": true, "change_made": "x"}); r.StatusCode != http.StatusOK {
			t.Fatalf("changed: %d %s", r.StatusCode, r.Body)
		}
		pub := anon.Get("/you-said-we-did/" + strconv.FormatInt(e.TeamB.ID, 10))
		if !strings.Contains(pub.Body, "Someone felt not listened to.") || strings.Contains(pub.Body, words) || strings.Contains(pub.Body, giver) {
			t.Fatalf("the public page: %d %s", pub.StatusCode, pub.Body)
		}
		check("answered", map[string][2]bool{"leadB": {true, true}, "manager": {true, true}})
	})
}

// Feedback about a named worker, from a signed-in person choosing their
// worker: the worker sees nothing until their lead shares it, then the
// words without the giver; a lead named in feedback cannot read it.
func TestFeedbackAboutAWorker(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		supportedPerson(t, e)
		person := e.Bearer(t, "person")
		r := person.JSON(http.MethodPost, "/api/v1/feedback", map[string]any{"about": "worker", "about_worker_id": e.Users["worker"].ID,
			"body": "Kofi really listens. SHARED-WORDS", "email": "me@example.org", "phone": "07700 900111"})
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
		var fid int64
		_ = e.DB.QueryRow(context.Background(), "SELECT id FROM feedback").Scan(&fid)
		id := strconv.FormatInt(fid, 10)
		worker := e.Bearer(t, "worker")
		if r := worker.Get("/api/v1/feedback/" + id); r.StatusCode != http.StatusNotFound {
			t.Fatalf("the worker before sharing: %d", r.StatusCode)
		}
		if r := worker.Get("/api/v1/feedback"); strings.Contains(r.Body, "SHARED-WORDS") {
			t.Fatal("the worker's list shows feedback about them before it is shared")
		}
		lead := e.Bearer(t, "lead")
		if r := lead.JSON(http.MethodPost, "/api/v1/feedback/"+id+"/transitions", map[string]any{"to": "acknowledged", "version": 1, "share_with_worker": true}); r.StatusCode != http.StatusOK {
			t.Fatalf("sharing: %d %s", r.StatusCode, r.Body)
		}
		got := worker.Get("/api/v1/feedback/" + id)
		if got.StatusCode != http.StatusOK || !strings.Contains(got.Body, "SHARED-WORDS") || strings.Contains(got.Body, "me@example.org") ||
			strings.Contains(got.Body, "07700") || strings.Contains(got.Body, `"giver"`) {
			t.Fatalf("the worker after sharing: %d %s", got.StatusCode, got.Body)
		}
		if r := worker.JSON(http.MethodPost, "/api/v1/feedback/"+id+"/transitions", map[string]any{"to": "considered", "version": 2, "theme": "worker"}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("the worker moving it on: %d", r.StatusCode)
		}
		page := e.As(t, "worker").Get("/feedback/inbox/" + id)
		if page.StatusCode != http.StatusOK || strings.Contains(page.Body, "me@example.org") || strings.Contains(page.Body, "/transitions") {
			t.Fatalf("the worker's page: %d", page.StatusCode)
		}
	})
}

// A person never sees another person's plan, goals, DIALOG+ or reviews,
// through the pages, the API or FHIR.
func TestPersonNeverSeesAnothersPlan(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		pid := supportedPerson(t, e)
		ctx := context.Background()
		if _, err := e.Recovery.SavePlan(ctx, e.Principal(t, "person"), pid, recovery.PlanChange{WhatMatters: new("PLAN-CANARY"),
			Crisis: &recovery.CrisisPlan{EarlySigns: "CRISIS-CANARY"}}); err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(pid, 10)
		other := e.Bearer(t, "person2")
		for _, path := range []string{"/api/v1/people/" + id + "/plan", "/api/v1/people/" + id + "/goals", "/api/v1/people/" + id + "/dialog",
			"/api/v1/people/" + id + "/reviews", "/fhir/R4/Goal?patient=" + id} {
			if r := other.Get(path); r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "CANARY") {
				t.Errorf("%s: %d", path, r.StatusCode)
			}
		}
		if r := other.JSON(http.MethodPut, "/api/v1/people/"+id+"/plan", map[string]any{"version": 1, "what_matters": "mine now"}); r.StatusCode != http.StatusNotFound {
			t.Errorf("changing another's plan: %d", r.StatusCode)
		}
		// Their own plan page holds nothing of the first person's.
		if r := e.As(t, "person2").Get("/my/plan"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "CANARY") {
			t.Errorf("person2's own plan page: %d", r.StatusCode)
		}
		// The worker sees the plan but not the unshared crisis plan.
		if r := e.As(t, "worker").Get("/people/" + id + "/plan"); !strings.Contains(r.Body, "PLAN-CANARY") || strings.Contains(r.Body, "CRISIS-CANARY") {
			t.Errorf("the worker's view of the plan: %d", r.StatusCode)
		}
		if n := rows(t, e.DB, "SELECT COUNT(*) FROM audit_events WHERE outcome = 'denied' AND actor_user_id = $1", e.Users["person2"].ID); n < 5 {
			t.Errorf("%d denied attempts audited, want at least 5", n)
		}
	})
}

// Races over real HTTP: several saves of one plan version, several moves of
// one piece of feedback, and several records of one review: one wins, the
// rest are told it changed, and nothing is written twice.
func TestRecoveryRacesOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		pid := supportedPerson(t, e)
		id := strconv.FormatInt(pid, 10)
		person, worker, lead := e.Bearer(t, "person"), e.Bearer(t, "worker"), e.Bearer(t, "lead")
		var calls []webtest.Call
		for i := range 6 {
			c := person
			if i%2 == 1 {
				c = worker
			}
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodPut, Path: "/api/v1/people/" + id + "/plan",
				JSON: map[string]any{"version": 0, "what_matters": "Version " + strconv.Itoa(i)}})
		}
		ok, conflicts := tallyStatus(t, webtest.Parallel(t, calls), http.StatusOK)
		if ok != 1 || conflicts != 5 || rows(t, e.DB, "SELECT COUNT(*) FROM recovery_plan_versions") != 1 {
			t.Fatalf("plan: %d saved, %d conflicts", ok, conflicts)
		}
		r := e.Client(t).JSON(http.MethodPost, "/api/v1/feedback", map[string]any{"about": "service", "team_id": e.TeamA.ID, "body": "Race", "anonymous": true})
		if r.StatusCode != http.StatusCreated {
			t.Fatal(r.Body)
		}
		var fid int64
		_ = e.DB.QueryRow(context.Background(), "SELECT id FROM feedback").Scan(&fid)
		calls = nil
		for i := range 6 {
			c := lead
			if i%2 == 1 {
				c = e.Bearer(t, "manager")
			}
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodPost, Path: "/api/v1/feedback/" + strconv.FormatInt(fid, 10) + "/transitions",
				JSON: map[string]any{"to": "acknowledged", "version": 1}})
		}
		ok, conflicts = tallyStatus(t, webtest.Parallel(t, calls), http.StatusOK)
		if ok != 1 || conflicts != 5 || rows(t, e.DB, "SELECT COUNT(*) FROM feedback_events WHERE to_status = 'acknowledged'") != 1 {
			t.Fatalf("feedback: %d moved, %d conflicts", ok, conflicts)
		}
		calls = nil
		for range 6 {
			calls = append(calls, webtest.Call{Client: worker, Method: http.MethodPost, Path: "/api/v1/people/" + id + "/reviews",
				JSON: map[string]any{"held": true, "reviewed": "Goals", "agreed": "Keep going"}})
		}
		ok, conflicts = tallyStatus(t, webtest.Parallel(t, calls), http.StatusCreated)
		if ok != 1 || conflicts != 5 || rows(t, e.DB, "SELECT COUNT(*) FROM recovery_reviews WHERE status = 'held'") != 1 ||
			rows(t, e.DB, "SELECT COUNT(*) FROM recovery_reviews WHERE status = 'planned'") != 1 {
			t.Fatalf("reviews: %d recorded, %d conflicts", ok, conflicts)
		}
	})
}

func tallyStatus(t *testing.T, rs []*webtest.Response, success int) (ok, conflicts int) {
	t.Helper()
	for _, r := range rs {
		switch r.StatusCode {
		case success:
			ok++
		case http.StatusConflict:
			conflicts++
		default:
			t.Fatalf("%s %s: %d %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body)
		}
	}
	return ok, conflicts
}

// The public feedback form is limited per address like the self-referral
// form, and a robot filling the hidden field is told it worked while
// nothing is stored.
func TestFeedbackFormLimitedAndHoneypotted(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{TrustLoopbackProxy: true})
	robot := e.Client(t)
	robot.Header = http.Header{"X-Forwarded-For": {"203.0.113.50"}}
	r := robot.PostForm("/feedback", url.Values{"about": {"service"}, "body": {"Buy cheap things"}, "website": {"http://spam.example"}})
	if r.StatusCode != http.StatusSeeOther || rows(t, e.DB, "SELECT COUNT(*) FROM feedback") != 0 {
		t.Fatalf("honeypot: %d, %d stored", r.StatusCode, rows(t, e.DB, "SELECT COUNT(*) FROM feedback"))
	}
	if api := robot.JSON(http.MethodPost, "/api/v1/feedback", map[string]any{"about": "service", "body": "spam", "website": "x"}); api.StatusCode != http.StatusCreated ||
		rows(t, e.DB, "SELECT COUNT(*) FROM feedback") != 0 {
		t.Fatalf("API honeypot: %d", api.StatusCode)
	}
	flood := e.Client(t)
	flood.Header = http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	limited, stored := 0, 0
	start := time.Now()
	for range 40 {
		switch r := flood.PostForm("/feedback", url.Values{"about": {"service"}, "body": {"Again"}, "who": {"anonymous"}}); r.StatusCode {
		case http.StatusTooManyRequests:
			limited++
			if !strings.Contains(r.Body, "Again") {
				t.Fatal("a refused form lost what was typed")
			}
		case http.StatusSeeOther:
			stored++
		default:
			t.Fatalf("flood: %d", r.StatusCode)
		}
	}
	if allowed := publicFormsAllowed(start); stored > allowed || limited < 40-allowed {
		t.Fatalf("%d stored, %d limited", stored, limited)
	}
	other := e.Client(t)
	other.Header = http.Header{"X-Forwarded-For": {"192.0.2.10"}}
	if r := other.PostForm("/feedback", url.Values{"about": {"service"}, "body": {"Thank you"}, "who": {"anonymous"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("someone else during the flood: %d", r.StatusCode)
	}
	if n := rows(t, e.DB, "SELECT COUNT(*) FROM feedback"); n != stored+1 {
		t.Fatalf("%d stored, want %d", n, stored+1)
	}
}

// publicBurst is how many public forms one address may send at once; one
// more is allowed every publicEvery, up to publicPerHour an hour
// (internal/web's publicFormBurst, publicFormEvery, publicFormPerHour).
const (
	publicBurst   = 5
	publicEvery   = 20 * time.Second
	publicPerHour = 20
)

// publicFormsAllowed is the most public forms one address can have sent
// since start: the burst, and one for each interval that has passed. A
// flood under the race detector on a busy machine can take longer than one
// interval, so a flood test's bound must grow with its own time, not
// assume the flood was instant.
func publicFormsAllowed(start time.Time) int {
	return min(publicBurst+int(time.Since(start)/publicEvery), publicPerHour)
}

// The plan shows the person's choices about their support, to them and to
// their worker (the worker's read audited as a read of the person's data),
// and says so when there are none.
func TestPlanShowsTheirChoices(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	pid := supportedPerson(t, e)
	person := e.As(t, "person")
	r := person.Get("/my/plan")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "You have not recorded any choices yet") {
		t.Fatalf("plan without choices: %d", r.StatusCode)
	}
	if r := person.PostForm("/my/choices", url.Values{"version": {"0"}, "worker_gender": {"woman"}, "places": {"phone"}, "days": {"mon"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving choices: %d", r.StatusCode)
	}
	// The worker shares an item with the people they support: the plan
	// shows choices, not the worker's disclosures, so none is read.
	if _, err := e.Matching.AddDisclosure(context.Background(), e.Principal(t, "worker"), e.Users["worker"].ID,
		matching.NewDisclosure{Text: "I have heard voices", Audience: matching.AudienceSupported}); err != nil {
		t.Fatal(err)
	}
	r = person.Get("/my/plan")
	if n := rows(t, e.DB, "SELECT COUNT(*) FROM disclosure_reads"); n != 0 {
		t.Fatalf("viewing the plan recorded %d disclosure reads", n)
	}
	for _, want := range []string{`id="choices"`, "Worker: a woman", "Meet: by phone", "Days: Monday", `href="/my/choices"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the person's plan lacks %q", want)
		}
	}
	before := rows(t, e.DB, "SELECT COUNT(*) FROM audit_events WHERE action = 'choices.read' AND subject_person_id = $1", pid)
	r = e.As(t, "worker").Get("/people/" + strconv.FormatInt(pid, 10) + "/plan")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Worker: a woman") || !strings.Contains(r.Body, "See or record their choices with") {
		t.Fatalf("the worker's view of the plan lacks the choices: %d", r.StatusCode)
	}
	if after := rows(t, e.DB, "SELECT COUNT(*) FROM audit_events WHERE action = 'choices.read' AND subject_person_id = $1", pid); after != before+1 {
		t.Fatalf("the worker's read of the choices was audited %d times", after-before)
	}
}

// The thanks page shows the reference and the private link once: the
// cookie carrying them is cleared as it is read, so the next person to open
// the page on a shared phone finds neither.
func TestFeedbackThanksShownOnce(t *testing.T) {
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	phone := e.Client(t)
	if r := phone.PostForm("/feedback", url.Values{"about": {"service"}, "body": {"Thank you all"}, "who": {"anonymous"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("giving feedback: %d %s", r.StatusCode, r.Body)
	}
	first := phone.Get("/feedback/thanks")
	if first.StatusCode != http.StatusOK || !strings.Contains(first.Body, "FB-") || !strings.Contains(first.Body, "/feedback/status/") {
		t.Fatalf("the thanks page does not show the reference and link: %d %s", first.StatusCode, first.Body)
	}
	again := phone.Get("/feedback/thanks")
	if again.StatusCode != http.StatusOK || strings.Contains(again.Body, "FB-") || strings.Contains(again.Body, "/feedback/status/") {
		t.Fatalf("a second visit still shows the reference or link: %s", again.Body)
	}
}

// A form refused because someone else changed the record first is shown
// again over the record as it now stands, read once: one audit row for the
// read, not two.
func TestConflictReRenderReadsOnce(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		pid := supportedPerson(t, e)
		id := strconv.FormatInt(pid, 10)
		personAPI, workerAPI, leadAPI := e.Bearer(t, "person"), e.Bearer(t, "worker"), e.Bearer(t, "lead")
		g := decode[map[string]any](t, personAPI.JSON(http.MethodPost, "/api/v1/people/"+id+"/goals", map[string]any{"description": "Walk to the park"}))
		gid := strconv.FormatInt(int64(g["id"].(float64)), 10)
		if r := personAPI.JSON(http.MethodPatch, "/api/v1/goals/"+gid, map[string]any{"version": 1, "progress": "on_the_way"}); r.StatusCode != http.StatusOK {
			t.Fatalf("goal: %d %s", r.StatusCode, r.Body)
		}
		for v := range 2 {
			if r := personAPI.JSON(http.MethodPut, "/api/v1/people/"+id+"/plan", map[string]any{"version": v, "what_matters": "My dog " + strconv.Itoa(v)}); r.StatusCode != http.StatusOK {
				t.Fatalf("plan: %d %s", r.StatusCode, r.Body)
			}
		}
		if r := e.Client(t).JSON(http.MethodPost, "/api/v1/feedback", map[string]any{"about": "service", "team_id": e.TeamA.ID, "body": "Hello", "anonymous": true}); r.StatusCode != http.StatusCreated {
			t.Fatal(r.Body)
		}
		var fid int64
		_ = e.DB.QueryRow(ctx, "SELECT id FROM feedback").Scan(&fid)
		if r := leadAPI.JSON(http.MethodPost, "/api/v1/feedback/"+strconv.FormatInt(fid, 10)+"/transitions", map[string]any{"to": "acknowledged", "version": 1}); r.StatusCode != http.StatusOK {
			t.Fatalf("feedback: %d %s", r.StatusCode, r.Body)
		}
		next := e.Clock.Now().AddDate(0, 0, 30)
		if r := workerAPI.JSON(http.MethodPost, "/api/v1/people/"+id+"/reviews", map[string]any{"held": false,
			"next": map[string]any{"at": next.Format(time.RFC3339)}}); r.StatusCode != http.StatusCreated {
			t.Fatalf("review: %d %s", r.StatusCode, r.Body)
		}
		day := url.Values{"plan_at-day": {strconv.Itoa(next.Day())}, "plan_at-month": {strconv.Itoa(int(next.Month()))}, "plan_at-year": {strconv.Itoa(next.Year())},
			"held": {"no"}, "planned_review_id": {"0"}}
		for _, c := range []struct {
			name, path, want string
			client           *webtest.Client
			form             url.Values
		}{
			{"goal", "/goals/" + gid, `name="version" value="2"`, e.As(t, "person"), url.Values{"version": {"1"}, "description": {"Walk further"}, "progress": {"on_the_way"}}},
			{"plan", "/my/plan", `name="version" value="2"`, e.As(t, "person"), url.Values{"version": {"1"}, "what_matters": {"My cat"}, "reviews.weeks": {"12"}}},
			{"feedback", "/feedback/inbox/" + strconv.FormatInt(fid, 10) + "/transitions", `name="version" value="2"`, e.As(t, "lead"),
				url.Values{"version": {"1"}, "to": {"acknowledged"}}},
			{"review", "/people/" + id + "/reviews", `name="planned_review_id" value="`, e.As(t, "worker"), day},
		} {
			before, _ := audit.Count(ctx, e.DB, "")
			r := c.client.PostForm(c.path, c.form)
			after, _ := audit.Count(ctx, e.DB, "")
			if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, c.want) {
				t.Errorf("%s: %d, want 409 with %s\n%s", c.name, r.StatusCode, c.want, r.Body)
			}
			if after-before != 1 {
				t.Errorf("%s: the conflict wrote %d audit rows, want 1 (one read)", c.name, after-before)
			}
		}
	})
}
