package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

var knownPerms = []app.Permission{app.PermPublic, app.PermMFAPending, app.PermSignedIn, app.PermOwnRecord, app.PermReferralCreate,
	app.PermReferralRead, app.PermReferralView, app.PermReferralTriage, app.PermReferralWork, app.PermPersonRead, app.PermOfferCreate, app.PermSubjectAccess, app.PermInsightRead,
	app.PermInsightNamed, app.PermCaseloadImport, app.PermAdminUsers, app.PermAdminOutbox, app.PermAuditRead, app.PermMetrics,
	app.PermGroupManage, app.PermGroupRun, app.PermNetworkJoin, app.PermChoicesRecord, app.PermWorkerProfile,
	app.PermAlertRead, app.PermAlertRespond, app.PermSafetySettings,
	app.PermRecoveryPlan, app.PermRecoveryWork, app.PermFeedbackRead, app.PermFeedbackManage, app.PermModerate, app.PermSafeguarding, app.PermCommunityLead, app.PermInsightOwn,
	app.PermAppointments, app.PermSupportWork, app.PermSupportSettings}

// Every route declares a known permission; nothing is served that is not
// in the table.
func TestRouteTableDeclaresPermissions(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	seen := map[string]bool{}
	for _, rt := range e.Server.Routes() {
		if rt.Perm == "" {
			t.Errorf("%s declares no permission", rt.Pattern)
		}
		if !slices.Contains(knownPerms, rt.Perm) {
			t.Errorf("%s declares unknown permission %q", rt.Pattern, rt.Perm)
		}
		if seen[rt.Pattern] {
			t.Errorf("%s is declared twice", rt.Pattern)
		}
		seen[rt.Pattern] = true
		if rt.API() != nil && !strings.Contains(rt.Pattern, " /api/") && rt.API().ContentType == "" {
			t.Errorf("%s is an API operation outside /api/", rt.Pattern)
		}
		method, path, ok := strings.Cut(rt.Pattern, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			t.Errorf("%s must name its method", rt.Pattern)
		}
		if rt.Perm == app.PermPublic && method != http.MethodGet && !publicWrites[rt.Pattern] {
			t.Errorf("%s changes state without sign-in and is not a known public form", rt.Pattern)
		}
	}
	// Unknown paths are not found, not served by a catch-all.
	c := e.Client(t)
	if r := c.Get("/no/such/page"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown path: %d", r.StatusCode)
	}
}

var publicWrites = map[string]bool{
	"POST /sign-in": true, "POST /sign-out": true, "POST /sign-up": true, "POST /invitation/{token}": true,
	"POST /password-reset": true, "POST /password-reset/{token}": true, "POST /refer/self": true, "POST /api/v1/self-referrals": true,
	// Booking a group needs no account; a booking is cancelled, and an
	// offered place answered, with the key from its link.
	"POST /sessions/{id}/book": true, "POST /api/v1/sessions/{id}/bookings": true, "POST /bookings/{id}/cancel": true,
	"DELETE /api/v1/bookings/{id}": true, "POST /offers/{id}/accept": true, "POST /offers/{id}/decline": true,
	"POST /api/v1/offers/{id}/accept": true, "POST /api/v1/offers/{id}/decline": true,
	"POST /feedback": true, "POST /api/v1/feedback": true,
}

// canary is in a fixture only team B may see: it must never appear in a
// response to anyone else, on any route, whatever the status.
const canary = "Zed CANARY-7f3a9"

var roleNames = []string{"person", "person2", "carer", "worker", "workerB", "lead", "lead2", "leadB", "clinician", "clinicianB",
	"partner", "moderator", "analyst", "manager", "admin"}

// mayCanary are the accounts whose scope includes the canary's referral.
var mayCanary = map[string]bool{"clinicianB": true, "leadB": true, "workerB": true}

// consentCanary is in a referral team A's clinician made for someone on
// team A's caseload, to team B's peer support, with the person's agreement
// to the referral but not to sharing it: only team B's peer support team
// may read it — not its referrer, not team A's or team B's clinicians.
const consentCanary = "CONSENT-CANARY-5e1f"

var mayConsentCanary = map[string]bool{"leadB": true, "workerB": true}

func fill(pattern string, ids map[string]string) string {
	_, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	for k, v := range ids {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

func TestRoleRouteMatrix(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		// Its words raise an alert for team B's leads: the alert is a
		// canary too.
		r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "clinicianB"), referral.NewReferral{
			Person: person.Details{PreferredName: canary, Phone: "07700 900777"}, AskedFor: "canary request: they are thinking of ending their life",
			PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		withheld, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "clinician"), referral.NewReferral{
			Person: person.Details{PreferredName: "Consenting Person", Phone: "07700 900778"}, AskedFor: "asked " + consentCanary,
			TeamID: e.TeamB.ID, PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, imported_at)
			VALUES ($1, 'CONSENT-1', $2, 'clinician@test.example', $3, $4)`, withheld.PersonID, e.TeamA.ID, e.Clock.Now().Truncate(24*time.Hour), e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		var alertID int64
		if err := e.DB.QueryRow(ctx, "SELECT id FROM alerts WHERE referral_id = $1", r.ID).Scan(&alertID); err != nil {
			t.Fatalf("the canary's alert: %v", err)
		}
		alertIDs := map[string]string{"id": strconv.FormatInt(alertID, 10)}
		ids := map[string]string{"id": strconv.FormatInt(r.ID, 10), "token": "not-a-real-token", "action": "end-sessions"}
		personIDs := map[string]string{"id": strconv.FormatInt(r.PersonID, 10)}
		// The canary's recovery plan, written with them by team B: what
		// matters, the crisis plan (shared with their care team), a goal and
		// DIALOG+ notes, each holding the canary.
		goalID, sessionID := recoveryCanary(t, e, r.PersonID)
		goalIDs := map[string]string{"id": strconv.FormatInt(goalID, 10)}
		sessionIDs := map[string]string{"id": strconv.FormatInt(sessionID, 10)}
		// Account administration acts on an account of its own, so the
		// matrix never changes the roles or sessions of the callers.
		victim, err := e.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "victim@test.example", Name: "Victim",
			Memberships: []app.Membership{{Role: app.RoleModerator}}, Password: testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		userIDs := map[string]string{"id": strconv.FormatInt(victim.ID, 10), "action": "end-sessions"}
		// A contact on the canary's referral, recorded by team B's lead
		// (who triages it), with the canary in its note, a comment, and a
		// restricted note only the lead and clinicians who see the referral
		// may read.
		contactIDs, commentIDs := contactCanary(t, e, r)
		gc := makeGroupCanary(t, e)
		// Team B's worker has a canary disclosure at every audience; the
		// worker's routes are aimed at them and their most private item.
		discs, wid, item, plan := matrixCanaries(t, e, r)
		workerIDs := map[string]string{"id": strconv.FormatInt(wid, 10), "item": strconv.FormatInt(item, 10)}
		planIDs := map[string]string{"id": strconv.FormatInt(plan, 10)}
		clients := map[string]*webtest.Client{"anonymous": e.Client(t)}
		for _, n := range roleNames {
			clients[n] = e.As(t, n)
		}
		// The worker's own calls (which may withdraw a canary) come last.
		order := append([]string{"anonymous"}, slices.DeleteFunc(slices.Clone(roleNames), func(n string) bool { return n == "workerB" })...)
		order = append(order, "workerB")
		for _, name := range order {
			c := clients[name]
			p := &app.Principal{}
			if name != "anonymous" {
				p = e.Principal(t, name)
			} else {
				p = nil
			}
			for _, rt := range e.Server.Routes() {
				if strings.HasPrefix(rt.Pattern, "GET /assets/") || rt.Pattern == "POST /sign-out" || strings.HasSuffix(rt.Pattern, "sign-out-everywhere") {
					continue
				}
				use := ids
				switch {
				case strings.Contains(rt.Pattern, "/people/"):
					use = personIDs
				case strings.Contains(rt.Pattern, "/contacts/"):
					use = contactIDs
				case strings.Contains(rt.Pattern, "/contact-comments/"):
					use = commentIDs
				case strings.Contains(rt.Pattern, "/users/"):
					use = userIDs
				case strings.Contains(rt.Pattern, "/workers/"):
					use = workerIDs
				case strings.Contains(rt.Pattern, "plans/"):
					use = planIDs
				case strings.Contains(rt.Pattern, "/alerts/"):
					use = alertIDs
				case strings.Contains(rt.Pattern, "/goals/") || strings.Contains(rt.Pattern, "/Goal/"):
					use = goalIDs
				case strings.Contains(rt.Pattern, "/QuestionnaireResponse/"):
					use = sessionIDs
				}
				path := fill(rt.Pattern, use)
				if p := gc.path(rt.Pattern); p != "" {
					path = p
				}
				method, _, _ := strings.Cut(rt.Pattern, " ")
				var resp *webtest.Response
				switch {
				case method == http.MethodGet:
					resp = c.Get(path)
				case rt.API() != nil:
					resp = c.JSON(method, path, "{}")
				default:
					resp = c.PostForm(path, url.Values{})
				}
				// Email subjects carry references by design, and the
				// outbox shows administrators subjects only.
				refLeak := strings.Contains(resp.Body, r.Reference) && !strings.Contains(rt.Pattern, "/outbox")
				if (strings.Contains(resp.Body, canary) || strings.Contains(resp.Body, canaryChoice) || refLeak) && !mayCanary[name] {
					t.Errorf("%s: %s leaked the canary (status %d)", name, rt.Pattern, resp.StatusCode)
				}
				if strings.Contains(resp.Body, restrictedCanary) && !mayRestrictedCanary[name] {
					t.Errorf("%s: %s showed a restricted note (status %d)", name, rt.Pattern, resp.StatusCode)
				}
				if strings.Contains(resp.Body, consentCanary) && !mayConsentCanary[name] {
					t.Errorf("%s: %s leaked a referral the person did not agree to share with them (status %d)", name, rt.Pattern, resp.StatusCode)
				}
				for _, d := range discs {
					if strings.Contains(resp.Body, d.text) && !d.may[name] {
						t.Errorf("%s: %s showed the disclosure %s, not shared with them (status %d)", name, rt.Pattern, d.text, resp.StatusCode)
					}
				}
				if resp.StatusCode >= 500 {
					t.Errorf("%s: %s answered %d", name, rt.Pattern, resp.StatusCode)
				}
				if p != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/sign-in")) {
					// If a route ended the account's session, every later
					// route would be tried signed out and prove nothing for
					// this role.
					if still := c.Get("/account"); still.StatusCode != http.StatusOK {
						t.Fatalf("%s: %s ended the account's session (%d %s)", name, rt.Pattern, resp.StatusCode, resp.Header.Get("Location"))
					}
				}
				if p.Can(rt.Perm) {
					continue
				}
				// Denied by the route's permission.
				switch {
				case p == nil && (rt.API() != nil || strings.Contains(rt.Pattern, " /fhir/")):
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("anonymous %s: %d, want 401", rt.Pattern, resp.StatusCode)
					}
				case p == nil:
					if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/sign-in") {
						t.Errorf("anonymous %s: %d %s, want a redirect to sign in", rt.Pattern, resp.StatusCode, resp.Header.Get("Location"))
					}
				default:
					if resp.StatusCode != http.StatusForbidden {
						t.Errorf("%s %s: %d, want 403", name, rt.Pattern, resp.StatusCode)
					}
				}
			}
		}
		// Someone else's record answers 404 to roles that may read referrals.
		for _, name := range []string{"clinician", "lead", "worker", "partner"} {
			if resp := clients[name].Get("/referrals/" + ids["id"]); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s opening another team's referral: %d, want 404", name, resp.StatusCode)
			}
			if resp := clients[name].Get("/people/" + personIDs["id"]); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s opening another team's person: %d, want 404", name, resp.StatusCode)
			}
		}
		if resp := clients["clinicianB"].Get("/referrals/" + ids["id"]); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, canary) {
			t.Errorf("the referrer cannot see their own referral: %d", resp.StatusCode)
		}
		// Consent that holds: the peer team reads the referral; its
		// referrer sees only that they made it; clinicians beyond the peer
		// team (the caseload's, the referral team's) do not see it at all.
		withheldPath := "/referrals/" + strconv.FormatInt(withheld.ID, 10)
		for name, want := range map[string]int{"leadB": 200, "workerB": 200, "clinician": 200, "clinicianB": 404, "lead": 404, "worker": 404} {
			resp := clients[name].Get(withheldPath)
			if resp.StatusCode != want {
				t.Errorf("%s opening a referral not shared beyond the peer team: %d, want %d", name, resp.StatusCode, want)
			}
			if reads := strings.Contains(resp.Body, consentCanary); reads != mayConsentCanary[name] {
				t.Errorf("%s reads the referral: %v, want %v", name, reads, mayConsentCanary[name])
			}
		}
		// The restricted note is there to be found by those who may.
		for name := range mayRestrictedCanary {
			if resp := clients[name].Get("/contacts/" + contactIDs["id"]); !strings.Contains(resp.Body, restrictedCanary) {
				t.Errorf("%s cannot read the restricted note: %d", name, resp.StatusCode)
			}
		}
		// The recovery canaries are there to be found by those who may.
		for _, path := range []string{"/people/" + personIDs["id"] + "/plan", "/goals/" + goalIDs["id"], "/people/" + personIDs["id"] + "/dialog",
			"/fhir/R4/QuestionnaireResponse/" + sessionIDs["id"]} {
			if resp := clients["leadB"].Get(path); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, canary) {
				t.Errorf("team B's lead cannot see %s: %d", path, resp.StatusCode)
			}
		}
	})
}

// recoveryCanary writes recovery data holding the canary for a person only
// team B may see, and returns the goal's and DIALOG+ session's ids.
func recoveryCanary(t *testing.T, e *webtest.Env, personID int64) (goalID, sessionID int64) {
	t.Helper()
	ctx := context.Background()
	staff := e.Principal(t, "clinicianB")
	share := true
	if _, err := e.Recovery.SavePlan(ctx, staff, personID, recovery.PlanChange{WhatMatters: new("What matters to " + canary),
		Crisis: &recovery.CrisisPlan{EarlySigns: "Early signs " + canary}, ShareWithCareTeam: &share}); err != nil {
		t.Fatal(err)
	}
	g, _, err := e.Recovery.CreateGoal(ctx, staff, personID, recovery.NewGoal{Description: "Goal " + canary})
	if err != nil {
		t.Fatal(err)
	}
	var ratings []recovery.Rating
	for _, it := range recovery.Items {
		ratings = append(ratings, recovery.Rating{Item: it.Code, Rating: 4})
	}
	s, err := e.Recovery.RecordSession(ctx, staff, personID, recovery.NewSession{Ratings: ratings,
		Discussions: []recovery.Discussion{{Item: recovery.Job, Actions: "Actions " + canary}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Recovery.RecordReview(ctx, staff, personID, recovery.NewReview{Held: true, Reviewed: "Reviewed " + canary}); err != nil {
		t.Fatal(err)
	}
	return g.ID, s.ID
}

func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	c := e.Client(t)
	resp := c.Do(http.MethodPost, "/sign-in", strings.NewReader(url.Values{"email": {e.Users["admin"].Email}, "password": {testkit.Password}}.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-in: %d, want 403", resp.StatusCode)
	}
	if len(resp.Cookies()) > 0 {
		t.Fatal("a cross-site post got a session cookie")
	}
	lead := e.As(t, "lead")
	resp = lead.Do(http.MethodPost, "/referrals", strings.NewReader("asked_for=x"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
		"Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post while signed in: %d, want 403", resp.StatusCode)
	}
	var n int
	_ = e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM referrals").Scan(&n)
	if n != 0 {
		t.Fatal("a cross-site post made a referral")
	}
}

var nonceRE = regexp.MustCompile(`'nonce-([A-Za-z0-9_-]{16,})'`)

func checkHeaders(t *testing.T, label string, r *webtest.Response, signedIn bool) {
	t.Helper()
	h := r.Header
	csp := h.Get("Content-Security-Policy")
	m := nonceRE.FindStringSubmatch(csp)
	if m == nil || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: weak CSP %q", label, csp)
	}
	if strings.Contains(h.Get("Content-Type"), "text/html") && m != nil && strings.Contains(r.Body, "<script") && !strings.Contains(r.Body, `nonce="`+m[1]+`"`) {
		t.Errorf("%s: a script does not carry this response's nonce", label)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if h.Get(k) != want {
			t.Errorf("%s: %s = %q, want %q", label, k, h.Get(k), want)
		}
	}
	if !strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("%s: no HSTS", label)
	}
	if signedIn && h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q on a signed-in page", label, h.Get("Cache-Control"))
	}
}

func TestHeadersOnEveryPage(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	anon := e.Client(t)
	signIn := anon.SignIn(e.Users["admin"].Email, testkit.Password)
	var session *http.Cookie
	for _, c := range signIn.Cookies() {
		if strings.HasPrefix(c.Name, "__Host-mutual") && c.Value != "" && c.Name == "__Host-mutual" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.Path != "/" || session.Domain != "" || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie not __Host-, Secure, HttpOnly, SameSite=Lax: %+v", session)
	}
	admin := anon
	other := e.Client(t)
	for _, rt := range e.Server.Routes() {
		method, _, _ := strings.Cut(rt.Pattern, " ")
		if method != http.MethodGet || rt.API() != nil || strings.HasPrefix(rt.Pattern, "GET /assets/") || strings.Contains(rt.Pattern, "{") {
			continue
		}
		path := fill(rt.Pattern, nil)
		checkHeaders(t, "admin "+path, admin.Get(path), true)
		checkHeaders(t, "anonymous "+path, other.Get(path), false)
	}
	// A new session id at sign-in: the pre-sign-in cookie (if any) is not reused.
	again := e.Client(t).SignIn(e.Users["admin"].Email, testkit.Password)
	for _, c := range again.Cookies() {
		if c.Name == "__Host-mutual" && c.Value == session.Value {
			t.Fatal("two sign-ins got the same session id")
		}
	}
}

// The public self-referral form survives a flood: 1,000 rapid posts from
// one address are limited, other people are not held up, and earlier real
// requests are intact.
func TestPublicFormSurvivesAFlood(t *testing.T) {
	t.Parallel()
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			e := webtest.Start(t, engine, webtest.Options{TrustLoopbackProxy: true})
			first := e.Client(t)
			first.Header = http.Header{"X-Forwarded-For": {"198.51.100.7"}}
			ok := first.JSON(http.MethodPost, "/api/v1/self-referrals", map[string]any{"preferred_name": "Early Bird", "phone": "07700 900111", "asked_for": "company"})
			if ok.StatusCode != http.StatusCreated {
				t.Fatalf("first self-referral: %d %s", ok.StatusCode, ok.Body)
			}
			flood := e.Client(t)
			flood.Header = http.Header{"X-Forwarded-For": {"203.0.113.9"}}
			form := url.Values{"preferred_name": {"Flood"}, "phone": {"07700 900222"}, "asked_for": {"spam"}}
			limited, created := 0, 0
			start := time.Now()
			for i := 0; i < 1000; i++ {
				r := flood.PostForm("/refer/self", form)
				switch r.StatusCode {
				case http.StatusTooManyRequests:
					limited++
				case http.StatusSeeOther:
					created++
				default:
					t.Fatalf("flood post %d: %d", i, r.StatusCode)
				}
			}
			if allowed := publicFormsAllowed(start); limited < 1000-allowed || created > allowed {
				t.Fatalf("flood: %d created, %d limited", created, limited)
			}
			// Someone else, at another address, is not limited. (httptest
			// serves every client from 127.0.0.1; a trusted proxy header
			// stands in for a second address.)
			other := e.Client(t)
			other.Header = http.Header{"X-Forwarded-For": {"192.0.2.44"}}
			start = time.Now()
			if r := other.PostForm("/refer/self", url.Values{"preferred_name": {"Second Person"}, "phone": {"07700 900333"}, "asked_for": {"support"}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("another person was refused during the flood: %d", r.StatusCode)
			}
			t.Logf("another person's request during the flood took %v", time.Since(start))
			created++
			var n int
			_ = e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM people WHERE preferred_name = 'Early Bird'").Scan(&n)
			if n != 1 {
				t.Fatalf("the earlier request is gone: %d", n)
			}
			_ = e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM referrals").Scan(&n)
			if n != 1+created {
				t.Fatalf("%d referrals stored, want %d", n, 1+created)
			}
		})
	}
}

// Metrics and request logs name the route pattern that handled each request
// (never the path with its ids), so operators can tell pages apart.
func TestMetricsNameTheRoute(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	admin := e.As(t, "admin")
	lead := e.As(t, "lead")
	lead.Get("/referrals/123456")
	e.Client(t).Get("/healthz")
	e.Client(t).Get("/no/such/page")
	body := admin.Get("/metrics").Body
	for _, want := range []string{`{code="404",route="GET /referrals/{id}"}`, `{code="200",route="GET /healthz"}`, `{code="404",route="/"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "123456") {
		t.Error("a record id reached the metrics")
	}
}
