package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// apiDoc loads and validates the server's OpenAPI document.
func apiDoc(t *testing.T, e *webtest.Env) (*openapi3.T, routers.Router) {
	t.Helper()
	resp := e.Client(t).Get("/api/v1/openapi.json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(resp.Body))
	if err != nil {
		t.Fatalf("loading the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: e.URL}}
	router, err := webtest.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

func TestOpenAPIDescribesEveryOperation(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	doc, _ := apiDoc(t, e)
	for _, rt := range e.Server.Routes() {
		if rt.API() == nil {
			continue
		}
		method, path, _ := strings.Cut(rt.DocPattern(), " ")
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s is not in the OpenAPI document", rt.Pattern)
			continue
		}
		op := item.GetOperation(method)
		if op.Extensions["x-permission"] != string(rt.Perm) {
			t.Errorf("%s: x-permission %v, want %s", rt.Pattern, op.Extensions["x-permission"], rt.Perm)
		}
		if op.Summary == "" {
			t.Errorf("%s has no summary", rt.Pattern)
		}
		if rt.API().Request != nil {
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Example == nil {
				t.Errorf("%s: request body has no example", rt.Pattern)
				continue
			}
			schema := mt.Schema
			if schema.Ref != "" {
				schema = doc.Components.Schemas[strings.TrimPrefix(schema.Ref, "#/components/schemas/")]
			}
			if len(schema.Value.Required) == 0 {
				t.Errorf("%s: request schema marks no required fields", rt.Pattern)
			}
		}
		if len(op.Responses.Map()) < 2 {
			t.Errorf("%s documents too few responses", rt.Pattern)
		}
	}
}

// validateResponse checks a real response against the OpenAPI document.
func validateResponse(t *testing.T, router routers.Router, r *webtest.Response) {
	t.Helper()
	route, params, err := router.FindRoute(r.Request)
	if err != nil {
		t.Errorf("%s %s: no route in the OpenAPI document: %v", r.Request.Method, r.Request.URL.Path, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r.Request, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: r.StatusCode, Header: r.Header, Body: io.NopCloser(strings.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s → %d does not match the OpenAPI document: %v\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, err, r.Body)
	}
}

func decode[T any](t *testing.T, r *webtest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decoding %q: %v", r.Body, err)
	}
	return v
}

func want(t *testing.T, r *webtest.Response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.Body)
	}
}

func TestAPIReferralJourney(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		_, router := apiDoc(t, e)
		check := func(r *webtest.Response, status int) *webtest.Response {
			t.Helper()
			want(t, r, status)
			validateResponse(t, router, r)
			return r
		}
		anon := e.Client(t)
		self := decode[map[string]any](t, check(anon.JSON(http.MethodPost, "/api/v1/self-referrals", map[string]any{
			"preferred_name": "Ash", "email": "ash@example.org", "contact_preference": "email", "asked_for": "Someone who gets it"}), http.StatusCreated))
		if self["id"] == nil || !strings.HasPrefix(self["reference"].(string), "MUT-") || self["status"] != "received" {
			t.Fatalf("self-referral answer: %v", self)
		}
		clin := e.Bearer(t, "clinician")
		check(clin.Get("/api/v1/me"), http.StatusOK)
		created := decode[map[string]any](t, check(clin.JSON(http.MethodPost, "/api/v1/referrals", map[string]any{
			"person":    map[string]any{"preferred_name": "Bo", "phone": "07700 900444", "ethnicity": "black_caribbean"},
			"asked_for": "Getting out more", "person_knows": true, "consent": "given", "share_with_referrer": true, "not_duplicate": true}), http.StatusCreated))
		id := strconv.FormatInt(int64(created["id"].(float64)), 10)

		lead := e.Bearer(t, "lead")
		list := decode[map[string]any](t, check(lead.Get("/api/v1/referrals?status=received"), http.StatusOK))
		if list["total"].(float64) != 2 {
			t.Fatalf("lead's waiting list: %v", list)
		}
		check(lead.Get("/api/v1/referrals?status=nonsense"), http.StatusUnprocessableEntity)
		detail := decode[map[string]any](t, check(lead.Get("/api/v1/referrals/"+id), http.StatusOK))
		version := detail["referral"].(map[string]any)["version"]
		check(lead.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "accepted", "version": version}), http.StatusOK)
		// The same stale version again is a conflict; so is an impossible move.
		stale := check(lead.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "declined", "reason": "other", "note": "x", "version": version}), http.StatusConflict)
		if !strings.Contains(stale.Body, "Someone else changed") {
			t.Errorf("stale version message: %s", stale.Body)
		}
		check(lead.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "ended", "ending": "planned", "reason": "goals_met", "outcome_summary": "x"}), http.StatusConflict)
		bad := decode[map[string]any](t, check(lead.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "allocated"}), http.StatusUnprocessableEntity))
		if !strings.Contains(fmt.Sprint(bad["errors"]), "worker_id") {
			t.Errorf("allocation without a worker: %v", bad)
		}
		check(lead.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "allocated", "worker_id": e.Users["worker"].ID}), http.StatusOK)
		worker := e.Bearer(t, "worker")
		check(worker.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/contacts", map[string]any{"at": e.Clock.Now().Format("2006-01-02T15:04:05Z"), "mode": "phone", "minutes": 15}), http.StatusCreated)
		check(worker.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "active"}), http.StatusOK)
		final := decode[map[string]any](t, check(clin.Get("/api/v1/referrals/"+id), http.StatusOK))
		if len(final["history"].([]any)) != 4 || final["referral"].(map[string]any)["fhir_status"] != "active" {
			t.Fatalf("history: %v", final["history"])
		}
		notes := decode[[]any](t, check(clin.Get("/api/v1/notifications"), http.StatusOK))
		if len(notes) != 2 {
			t.Fatalf("referrer notifications: %v", notes)
		}
		// Offers and people.
		personID := strconv.FormatInt(int64(final["referral"].(map[string]any)["person_id"].(float64)), 10)
		check(clin.JSON(http.MethodPost, "/api/v1/offers", map[string]any{"person_id": final["referral"].(map[string]any)["person_id"], "method": "review", "response": "not_now"}), http.StatusCreated)
		offers := decode[[]any](t, check(clin.Get("/api/v1/people/"+personID+"/offers"), http.StatusOK))
		if len(offers) != 1 {
			t.Fatalf("offers: %v", offers)
		}
		check(clin.Get("/api/v1/people/"+personID), http.StatusOK)
		check(e.Bearer(t, "clinicianB").Get("/api/v1/people/"+personID+"/offers"), http.StatusNotFound)
		check(clin.JSON(http.MethodPost, "/api/v1/people", map[string]any{"preferred_name": "Bo", "phone": "07700 900444"}), http.StatusConflict)
		person := e.Bearer(t, "person")
		check(person.JSON(http.MethodPost, "/api/v1/my/offers", map[string]any{"told": false}), http.StatusCreated)
		check(person.Get("/api/v1/my/referrals"), http.StatusOK)
		check(e.Bearer(t, "admin").Get("/api/v1/users"), http.StatusOK)
		check(e.Bearer(t, "admin").Get("/api/v1/teams"), http.StatusOK)
	})
}

// Bad input of every kind answers 4xx problem+json with a useful message,
// never a 500.
func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	_, router := apiDoc(t, e)
	bearers := map[string]*webtest.Client{}
	bearerFor := func(perm app.Permission) *webtest.Client {
		for _, name := range roleNames {
			if e.Principal(t, name).Can(perm) {
				if bearers[name] == nil {
					bearers[name] = e.Bearer(t, name)
				}
				return bearers[name]
			}
		}
		return e.Client(t)
	}
	cases := []struct {
		name, contentType string
		body              []byte
		field             bool
	}{
		{"Malformed", "application/json", []byte(`{"asked_for": "x",`), false},
		{"NotAnObject", "application/json", []byte(`[1,2,3]`), false},
		{"WrongType", "application/json", []byte(`{"asked_for": 5, "preferred_name": 5, "to": 5, "person_id": "seven", "told": "yes", "email": 5, "roles": "x", "episodes": 5}`), true},
		{"UnknownField", "application/json", []byte(`{"surprise": true}`), true},
		{"InvalidUTF8", "application/json", []byte("{\"asked_for\": \"\xff\xfe\"}"), false},
		{"Oversized", "application/json", append(append([]byte(`{"asked_for": "`), bytes.Repeat([]byte("a"), 5<<20)...), '"', '}'), false},
		{"Empty", "application/json", nil, false},
		{"NotJSON", "text/plain", []byte(`asked_for=x`), false},
		{"Trailing", "application/json", []byte(`{"told": true} {"told": false}`), false},
	}
	for _, rt := range e.Server.Routes() {
		if rt.API() == nil || rt.API().Request == nil {
			continue
		}
		method, _, _ := strings.Cut(rt.Pattern, " ")
		path := fill(rt.Pattern, map[string]string{"id": "1"})
		c := bearerFor(rt.Perm)
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(rt.Pattern, "/", "_")+"/"+tc.name, func(t *testing.T) {
				r := c.Do(method, path, bytes.NewReader(tc.body), http.Header{"Content-Type": {tc.contentType}})
				if r.StatusCode < 400 || r.StatusCode >= 500 {
					t.Fatalf("status %d\n%s", r.StatusCode, r.Body)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("Content-Type %q", ct)
				}
				p := decode[map[string]any](t, r)
				if p["detail"] == "" || p["status"].(float64) != float64(r.StatusCode) || p["title"] == "" {
					t.Fatalf("problem document incomplete: %v", p)
				}
				if tc.field && r.StatusCode == http.StatusUnprocessableEntity {
					errs, _ := p["errors"].([]any)
					if len(errs) == 0 {
						t.Fatalf("no field named: %v", p)
					}
				}
				validateResponse(t, router, r)
			})
		}
	}
}

// personDataCalls makes one successful call to each route that touches a
// person's data. The test below checks each writes exactly one audit row,
// and that every such route in the table is covered here.
// pd is the details of a new person with a phone number of their own.
func pd(name string) person.Details {
	return person.Details{PreferredName: name, Phone: fmt.Sprintf("07700 9%05d", len(name)*997%100000)}
}

// auditCall is one call of TestAuditOneRowPerCall and the status it expects.
type auditCall struct {
	pattern string
	do      func() *webtest.Response
	status  int
}

func TestAuditOneRowPerCall(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		r := e.StaffReferral(t, "clinician", "Audit Person")
		id := strconv.FormatInt(r.ID, 10)
		pid := strconv.FormatInt(r.PersonID, 10)
		// Someone asks for themselves with the same phone number: the lead
		// links their request to the person already known.
		known := e.StaffReferral(t, "clinician", "Known Before")
		if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), known.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
			t.Fatal(err)
		}
		var phone string
		_ = e.DB.QueryRow(ctx, "SELECT phone FROM people WHERE id = $1", known.PersonID).Scan(&phone)
		again, err := e.Referrals.CreateSelfReferral(ctx, app.Public("t"), referral.SelfReferral{Details: person.Details{PreferredName: "Known Before", Phone: phone}, AskedFor: "x"})
		if err != nil {
			t.Fatal(err)
		}
		// Two self-referrals whose words raise alerts for team A's leads.
		var alertIDs []string
		for _, name := range []string{"Risk One", "Risk Two"} {
			res, err := e.Referrals.CreateSelfReferral(ctx, app.Public("t"), referral.SelfReferral{Details: person.Details{PreferredName: name, Phone: "07700 900" + fmt.Sprint(100+len(alertIDs))},
				AskedFor: "I want to kill myself", TeamID: e.TeamA.ID})
			if err != nil || !res.PossibleRisk {
				t.Fatalf("risk self-referral: %+v %v", res, err)
			}
			var aid int64
			_ = e.DB.QueryRow(ctx, "SELECT id FROM alerts WHERE referral_id = $1", res.ID).Scan(&aid)
			alertIDs = append(alertIDs, strconv.FormatInt(aid, 10))
		}
		lead, clin, worker, person := e.As(t, "lead"), e.As(t, "clinician"), e.As(t, "worker"), e.As(t, "person")
		leadAPI, clinAPI, personAPI := e.Bearer(t, "lead"), e.Bearer(t, "clinician"), e.Bearer(t, "person")
		// The person's own side: a referral of their own, referrals made
		// without agreement, and codes to claim records.
		// An earlier referral of theirs has ended: they say what helped.
		earlier := e.Allocated(t, "person", "worker")
		if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), earlier.ID, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned,
			Reason: "goals_met", OutcomeSummary: "x"}); err != nil {
			t.Fatal(err)
		}
		earlierID := strconv.FormatInt(earlier.ID, 10)
		own, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "x", TeamID: e.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		ownID := strconv.FormatInt(own.ID, 10)
		// The person is allocated the worker, so the recovery and matching
		// routes have someone to act on.
		for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: e.Users["worker"].ID}} {
			if own, err = e.Referrals.Transition(ctx, e.Principal(t, "lead"), own.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		noConsent := func(name string) string {
			r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "clinician"), referral.NewReferral{Person: pd(name),
				AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "not_obtained", ConsentReason: "too unwell", NotDuplicate: true})
			if err != nil {
				t.Fatal(err)
			}
			return strconv.FormatInt(r.ID, 10)
		}
		consent1, consent2 := noConsent("Consent One"), noConsent("Consent Two")
		code := func(name string) string {
			pe, err := e.People.Create(ctx, e.Principal(t, "clinician"), pd(name), true)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := e.People.InviteToClaim(ctx, e.Principal(t, "clinician"), pe.ID, "print")
			if err != nil {
				t.Fatal(err)
			}
			return inv.Code
		}
		code1, code2 := code("Claim One"), code("Claim Two")
		person2, carerAPI := e.As(t, "person2"), e.Bearer(t, "carer")
		workerAPI, anon := e.Bearer(t, "worker"), e.Client(t)
		recoveryCalls := recoveryAuditCalls(t, e, own.PersonID, person, worker, lead, anon, personAPI, workerAPI, leadAPI)
		form := func(kv ...string) map[string][]string {
			m := map[string][]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = append(m[kv[i]], kv[i+1])
			}
			return m
		}
		calls := []auditCall{
			{"GET /referrals", func() *webtest.Response { return lead.Get("/referrals") }, 200},
			{"GET /referrals/{id}", func() *webtest.Response { return lead.Get("/referrals/" + id) }, 200},
			{"POST /referrals/{id}/transitions", func() *webtest.Response {
				return lead.PostForm("/referrals/"+id+"/transitions", form("to", "accepted", "version", "1"))
			}, 303},
			{"POST /referrals/{id}/contacts", func() *webtest.Response {
				return worker.PostForm("/referrals/"+id+"/contacts", form("mode", "phone", "minutes", "10", "contact_note", "hello"))
			}, 303},
			{"POST /referrals/{id}/link-person", func() *webtest.Response {
				return lead.PostForm("/referrals/"+id+"/link-person", form("person_id", "999999"))
			}, 422},
			{"POST /referrals", func() *webtest.Response {
				return clin.PostForm("/referrals", form("source", "staff", "person.preferred_name", "Another", "person.phone", "07700 900123",
					"asked_for", "x", "person_knows", "yes", "consent", "given", "match", "new"))
			}, 303},
			{"GET /people", func() *webtest.Response { return clin.Get("/people?q=Audit") }, 200},
			{"POST /people", func() *webtest.Response {
				return clin.PostForm("/people", form("person.preferred_name", "Newcomer", "match", "new"))
			}, 303},
			{"GET /people/{id}", func() *webtest.Response { return clin.Get("/people/" + pid) }, 200},
			{"POST /people/{id}/offers", func() *webtest.Response {
				return clin.PostForm("/people/"+pid+"/offers", form("method", "conversation", "response", "not_now"))
			}, 303},
			{"GET /my/referrals", func() *webtest.Response { return person.Get("/my/referrals") }, 200},
			{"POST /my/offers", func() *webtest.Response { return person.PostForm("/my/offers", form("told", "no")) }, 303},
			{"GET /my/record-access", func() *webtest.Response { return person.Get("/my/record-access") }, 200},
			{"POST /api/v1/referrals", func() *webtest.Response {
				return clinAPI.JSON(http.MethodPost, "/api/v1/referrals", map[string]any{"person": map[string]any{"preferred_name": "Api Person"},
					"asked_for": "x", "person_knows": true, "consent": "given", "not_duplicate": true})
			}, 201},
			{"GET /api/v1/referrals", func() *webtest.Response { return leadAPI.Get("/api/v1/referrals") }, 200},
			{"GET /api/v1/referrals/{id}", func() *webtest.Response { return leadAPI.Get("/api/v1/referrals/" + id) }, 200},
			{"POST /api/v1/referrals/{id}/transitions", func() *webtest.Response {
				return leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "allocated", "worker_id": e.Users["worker"].ID})
			}, 200},
			{"POST /api/v1/referrals/{id}/contacts", func() *webtest.Response {
				return leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/contacts", map[string]any{"at": e.Clock.Now().Format("2006-01-02T15:04:05Z"), "mode": "video"})
			}, 201},
			{"GET /api/v1/my/referrals", func() *webtest.Response { return personAPI.Get("/api/v1/my/referrals") }, 200},
			{"GET /api/v1/my/record-access", func() *webtest.Response { return personAPI.Get("/api/v1/my/record-access") }, 200},
			{"GET /api/v1/people", func() *webtest.Response { return clinAPI.Get("/api/v1/people?q=Audit") }, 200},
			{"POST /api/v1/referrals/{id}/link-person", func() *webtest.Response {
				return leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+strconv.FormatInt(again.ID, 10)+"/link-person", map[string]any{"person_id": known.PersonID})
			}, 204},
			{"POST /api/v1/people", func() *webtest.Response {
				return clinAPI.JSON(http.MethodPost, "/api/v1/people", map[string]any{"preferred_name": "Api Newcomer", "not_duplicate": true})
			}, 201},
			{"GET /api/v1/people/{id}", func() *webtest.Response { return clinAPI.Get("/api/v1/people/" + pid) }, 200},
			{"POST /api/v1/offers", func() *webtest.Response {
				return clinAPI.JSON(http.MethodPost, "/api/v1/offers", map[string]any{"person_id": r.PersonID, "method": "leaflet", "response": "declined"})
			}, 201},
			{"GET /api/v1/people/{id}/offers", func() *webtest.Response { return clinAPI.Get("/api/v1/people/" + pid + "/offers") }, 200},
			{"POST /api/v1/my/offers", func() *webtest.Response {
				return personAPI.JSON(http.MethodPost, "/api/v1/my/offers", map[string]any{"told": true})
			}, 201},
			{"POST /referrals/{id}/consent", func() *webtest.Response {
				return lead.PostForm("/referrals/"+consent1+"/consent", form("decision", "given"))
			}, 303},
			{"POST /api/v1/referrals/{id}/consent", func() *webtest.Response {
				return leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+consent2+"/consent", map[string]any{"decision": "proceed", "reason": "best interests"})
			}, 200},
			{"POST /people/{id}/claim-invitations", func() *webtest.Response {
				return clin.PostForm("/people/"+pid+"/claim-invitations", form("how", "print"))
			}, 200},
			{"POST /api/v1/people/{id}/claim-invitations", func() *webtest.Response {
				return clinAPI.JSON(http.MethodPost, "/api/v1/people/"+pid+"/claim-invitations", map[string]any{"how": "print"})
			}, 201},
			{"POST /my/claim", func() *webtest.Response { return person2.PostForm("/my/claim", form("code", code1)) }, 303},
			{"POST /api/v1/my/claim", func() *webtest.Response {
				return carerAPI.JSON(http.MethodPost, "/api/v1/my/claim", map[string]any{"code": code2})
			}, 200},
			{"POST /my/claim/code", func() *webtest.Response {
				return person.PostForm("/my/claim/code", form("email", "someone@example.org"))
			}, 200},
			{"POST /api/v1/my/claim-codes", func() *webtest.Response {
				return personAPI.JSON(http.MethodPost, "/api/v1/my/claim-codes", map[string]any{"email": "someone@example.org"})
			}, 202},
			{"GET /my/details", func() *webtest.Response { return person.Get("/my/details") }, 200},
			{"POST /my/details", func() *webtest.Response {
				return person.PostForm("/my/details", form("preferred_name", "Pat", "phone", "07700 900555", "contact_preference", "phone"))
			}, 303},
			{"GET /api/v1/my/details", func() *webtest.Response { return personAPI.Get("/api/v1/my/details") }, 200},
			{"PUT /api/v1/my/details", func() *webtest.Response {
				return personAPI.JSON(http.MethodPut, "/api/v1/my/details", map[string]any{"preferred_name": "Pat", "contact_preference": "letter"})
			}, 200},
			{"GET /my/referrals/{id}", func() *webtest.Response { return person.Get("/my/referrals/" + ownID) }, 200},
			{"GET /api/v1/my/referrals/{id}", func() *webtest.Response { return personAPI.Get("/api/v1/my/referrals/" + ownID) }, 200},
			{"POST /my/referrals/{id}/sharing", func() *webtest.Response {
				return person.PostForm("/my/referrals/"+ownID+"/sharing", form("share_beyond_team", "yes"))
			}, 303},
			{"PUT /api/v1/my/referrals/{id}/sharing", func() *webtest.Response {
				return personAPI.JSON(http.MethodPut, "/api/v1/my/referrals/"+ownID+"/sharing", map[string]any{"share_with_referrer": true, "share_beyond_team": false})
			}, 200},
			{"POST /my/referrals/{id}/handover-sharing", func() *webtest.Response {
				return person.PostForm("/my/referrals/"+ownID+"/handover-sharing", form("handover_share", "none", "handover_version", "0"))
			}, 303},
			{"PUT /api/v1/my/referrals/{id}/handover-sharing", func() *webtest.Response {
				return personAPI.JSON(http.MethodPut, "/api/v1/my/referrals/"+ownID+"/handover-sharing", map[string]any{"share": "all", "version": 1})
			}, 200},
			{"POST /referrals/{id}/handover-sharing", func() *webtest.Response {
				return lead.PostForm("/referrals/"+ownID+"/handover-sharing", form("handover_share", "summary", "handover_version", "2", "handover_agreement", "Told me today"))
			}, 303},
			{"PUT /api/v1/referrals/{id}/handover-sharing", func() *webtest.Response {
				return leadAPI.JSON(http.MethodPut, "/api/v1/referrals/"+ownID+"/handover-sharing", map[string]any{"share": "all", "version": 3, "agreement": "By phone"})
			}, 200},
			{"POST /my/referrals/{id}/what-helped", func() *webtest.Response {
				return person.PostForm("/my/referrals/"+earlierID+"/what-helped", form("what_helped", "Being listened to"))
			}, 303},
			{"PUT /api/v1/my/referrals/{id}/what-helped", func() *webtest.Response {
				return personAPI.JSON(http.MethodPut, "/api/v1/my/referrals/"+earlierID+"/what-helped", map[string]any{"what_helped": "Walking, not sitting"})
			}, 200},
			{"GET /my/data", func() *webtest.Response { return person.Get("/my/data") }, 200},
			{"GET /api/v1/my/data", func() *webtest.Response { return personAPI.Get("/api/v1/my/data") }, 200},
			{"POST /people/{id}/subject-access", func() *webtest.Response {
				return clin.PostForm("/people/"+pid+"/subject-access", form("reason", "their request of 2 November"))
			}, 200},
			{"POST /api/v1/people/{id}/subject-access-copies", func() *webtest.Response {
				return clinAPI.JSON(http.MethodPost, "/api/v1/people/"+pid+"/subject-access-copies", map[string]any{"reason": "their request"})
			}, 200},
			{"POST /referrals/{id}/urgency", func() *webtest.Response {
				return lead.PostForm("/referrals/"+id+"/urgency", form("urgency", "urgent", "urgency_reason", "Just discharged and on their own"))
			}, 303},
			{"POST /api/v1/referrals/{id}/urgency", func() *webtest.Response {
				return leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/urgency", map[string]any{"urgency": "very_urgent", "reason": "Crisis team asked us to call today"})
			}, 200},
			{"GET /alerts", func() *webtest.Response { return lead.Get("/alerts") }, 200},
			{"GET /api/v1/alerts", func() *webtest.Response { return leadAPI.Get("/api/v1/alerts") }, 200},
			{"GET /insight/mine", func() *webtest.Response { return clin.Get("/insight/mine") }, 200},
			{"GET /api/v1/insight/mine", func() *webtest.Response { return clinAPI.Get("/api/v1/insight/mine") }, 200},
			{"POST /alerts/{id}/response", func() *webtest.Response {
				return lead.PostForm("/alerts/"+alertIDs[0]+"/response", form("alert_outcome", "no_risk", "alert_note", "History only"))
			}, 303},
			{"POST /api/v1/alerts/{id}/response", func() *webtest.Response {
				return leadAPI.JSON(http.MethodPost, "/api/v1/alerts/"+alertIDs[1]+"/response", map[string]any{"outcome": "called_person"})
			}, 200},
		}
		calls = append(calls, groupAuditCalls(t, e)...)
		calls = append(calls, communityAuditCalls(t, e)...)
		calls = append(calls, safeguardingAuditCalls(t, e)...)
		more, rows := matchingAuditCalls(t, e, own)
		calls = append(calls, more...)
		calls = append(calls, recoveryCalls...)
		calls = append(calls, supportAuditCalls(t, e, own.PersonID, person, worker, personAPI, workerAPI)...)
		contactCalls, contactRows := contactAuditCalls(t, e, own)
		calls = append(calls, contactCalls...)
		maps.Copy(rows, contactRows)
		covered := map[string]bool{}
		for _, c := range calls {
			covered[c.pattern] = true
			before, _ := audit.Count(ctx, e.DB, "")
			resp := c.do()
			if resp.StatusCode != c.status {
				t.Errorf("%s: %d, want %d\n%s", c.pattern, resp.StatusCode, c.status, resp.Body)
				continue
			}
			// One row per call: the refused link is shown again with the
			// referral, which is a read.
			after, _ := audit.Count(ctx, e.DB, "")
			// A move the referrer is told about is also seen by them; an
			// allocation, by the worker allocated too.
			want := int64(1)
			switch c.pattern {
			case "POST /referrals/{id}/transitions":
				want = 2
			case "POST /api/v1/referrals/{id}/transitions":
				want = 3
			case "GET /my/plan", "GET /people/{id}/plan":
				// The plan page shows the person's choices too, read (and
				// recorded) by matching, which owns them.
				want = 2
			case "GET /my/appointments":
				// The appointments and, separately, the reminder choice.
				want = 2
			}
			if n, ok := rows[c.pattern]; ok {
				want = n
			}
			if after-before != want {
				t.Errorf("%s wrote %d audit rows, want %d", c.pattern, after-before, want)
			}
		}
		for _, rt := range e.Server.Routes() {
			if rt.PersonData && !covered[rt.Pattern] {
				t.Errorf("%s touches a person's data but is not in this test", rt.Pattern)
			}
		}
		res, err := audit.Verify(ctx, e.DB)
		if err != nil || !res.OK() {
			t.Fatalf("audit chain after the calls: %+v %v", res, err)
		}
	})
}

// Answers that used to break the OpenAPI document: the outline a carer
// sees without the person's agreement (an empty status outside the enum),
// an offset past int32 echoed back, and an offer for a person who is not
// there (404, undocumented). The client checks every API response against
// the document; the statuses are checked here.
func TestAPIAnswersMatchTheDocument(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		carer := e.Bearer(t, "carer")
		made := decode[map[string]any](t, carer.JSON(http.MethodPost, "/api/v1/referrals", map[string]any{"source": "carer",
			"person": map[string]any{"preferred_name": "Outline Person", "phone": "07700 900321"}, "asked_for": "Company",
			"person_knows": true, "consent": "given", "relationship": "Sister", "not_duplicate": true}))
		id := strconv.FormatInt(int64(made["id"].(float64)), 10)
		outline := carer.Get("/api/v1/referrals/" + id)
		want(t, outline, http.StatusOK)
		d := decode[map[string]any](t, outline)
		if d["limited"] != true || d["referral"].(map[string]any)["asked_for"] != "" {
			t.Fatalf("the carer should see only the outline: %s", outline.Body)
		}
		mine := carer.Get("/api/v1/my/referrals")
		want(t, mine, http.StatusOK)
		if !strings.Contains(mine.Body, `"limited": true`) {
			t.Fatalf("the carer's own list should hold the outline: %s", mine.Body)
		}

		lead := e.Bearer(t, "lead")
		want(t, lead.Get("/api/v1/referrals?offset=2147483648"), http.StatusUnprocessableEntity)
		want(t, lead.Get("/api/v1/referrals?offset=1000000000"), http.StatusOK)

		want(t, e.Bearer(t, "clinician").JSON(http.MethodPost, "/api/v1/offers", map[string]any{"person_id": 999999, "method": "review", "response": "not_now"}),
			http.StatusNotFound)

		// The private calendar feed, an operation outside /api/: the
		// calendar at its address, and 404 (a problem) for an unknown
		// address and for one renewed since, each as the document says.
		_, router := apiDoc(t, e)
		feed := decode[map[string]any](t, e.Bearer(t, "worker").JSON(http.MethodPost, "/api/v1/my/calendar", nil))
		old := strings.TrimPrefix(feed["url"].(string), "https://mutual.test")
		anon := e.Client(t)
		cal := anon.Get(old)
		if cal.StatusCode != http.StatusOK || !strings.HasPrefix(cal.Header.Get("Content-Type"), "text/calendar") || !strings.HasPrefix(cal.Body, "BEGIN:VCALENDAR") {
			t.Fatalf("the feed: %d %s %s", cal.StatusCode, cal.Header.Get("Content-Type"), cal.Body)
		}
		validateResponse(t, router, cal)
		unknown := anon.Get("/calendar/not-a-real-token.ics")
		want(t, unknown, http.StatusNotFound)
		validateResponse(t, router, unknown)
		e.Bearer(t, "worker").JSON(http.MethodPost, "/api/v1/my/calendar", nil)
		renewed := anon.Get(old)
		if renewed.StatusCode != http.StatusNotFound || renewed.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("a renewed feed's old address: %d %s", renewed.StatusCode, renewed.Header.Get("Content-Type"))
		}
		validateResponse(t, router, renewed)
	})
}
