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

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// Canary details of a person only team B may see.
const (
	canaryPrefs = "CANARY-PREFS-91c2"
	canaryPhone = "07700 900777"
	canaryEmail = "zed.canary@example.org"
)

// bodyFor turns an operation's sample request into one aimed at the
// canary: every id, phone number and email address in it points at them.
func bodyFor(sample any, ids map[string]int64) map[string]any {
	b, _ := json.Marshal(sample)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	var aim func(m map[string]any)
	aim = func(m map[string]any) {
		for k, v := range m {
			switch k {
			case "person_id", "worker_id", "team_id", "referral_id":
				m[k] = ids[k]
			case "teams":
				m[k] = []int64{ids["team_id"]}
			case "phone":
				m[k] = canaryPhone
			case "email":
				m[k] = canaryEmail
			case "not_duplicate":
				m[k] = false
			}
			if sub, ok := v.(map[string]any); ok {
				aim(sub)
			}
			if list, ok := v.([]any); ok {
				for _, x := range list {
					if sub, ok := x.(map[string]any); ok {
						aim(sub)
					}
				}
			}
		}
	}
	aim(m)
	return m
}

// Every API operation, called as every role with a request aimed at a
// person outside the caller's scope, answers without a trace of them: not
// in what it returns, not in an error, not in a created object or a
// possible match. And what those calls set in motion (a self-referral with
// the person's phone number, an offer, a referral) shows them to nobody
// outside the scope afterwards.
func TestOutOfScopeSideEffects(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		// Team A's clinician added the person, so may see them; team B has
		// them on its caseload and referred them, with details only team B
		// may read.
		pe, err := e.People.Create(ctx, e.Principal(t, "clinician"), person.Details{PreferredName: canary,
			Phone: canaryPhone, Email: canaryEmail, DateOfBirth: "1980-02-03"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, imported_at)
			VALUES ($1, 'CAN-1', $2, 'clinicianb@test.example', $3, $4)`, pe.ID, e.TeamB.ID, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "clinicianB"), referral.NewReferral{PersonID: pe.ID,
			AskedFor: "canary request", WorkerPreferences: canaryPrefs, PersonKnows: testkit.Yes(), Consent: "given"})
		if err != nil {
			t.Fatal(err)
		}
		// leaked reports canary text the account may not see: the person's
		// name only to those who may see the person, the referral's words
		// only to team B.
		leaked := func(name, body string) string {
			for _, c := range []string{canary, canaryPrefs, "canary request"} {
				if c == canary && name == "clinician" {
					continue
				}
				if strings.Contains(body, c) {
					return c
				}
			}
			return ""
		}
		ids := map[string]int64{"person_id": r.PersonID, "worker_id": e.Users["workerB"].ID, "team_id": e.TeamB.ID, "referral_id": r.ID}
		gc := makeGroupCanary(t, e)
		pathIDs := func(pattern string) string {
			if p := gc.path(pattern); p != "" {
				return p
			}
			id := r.ID
			if strings.Contains(pattern, "/people/") {
				id = r.PersonID
			}
			return fill(pattern, map[string]string{"id": strconv.FormatInt(id, 10)})
		}
		for _, name := range roleNames {
			if mayCanary[name] {
				continue
			}
			api := e.Bearer(t, name)
			for _, rt := range e.Server.Routes() {
				op := rt.API()
				// Account routes act on the test's own accounts (disabling
				// them, ending their sessions) and show no person's data;
				// TestRoleRouteMatrix checks who may use them.
				if op == nil || strings.Contains(rt.Pattern, "/users") {
					continue
				}
				method, _, _ := strings.Cut(rt.Pattern, " ")
				send := func() *webtest.Response {
					if op.Request != nil {
						return api.JSON(method, pathIDs(rt.Pattern), bodyFor(op.Request, ids))
					}
					return api.Do(method, pathIDs(rt.Pattern), nil, nil)
				}
				resp := send()
				if resp.StatusCode == http.StatusUnauthorized {
					// An earlier call ended this account's own tokens (its
					// sessions and tokens page, or signing out everywhere):
					// sign in again, so every later route is still tried.
					api = e.Bearer(t, name)
					resp = send()
				}
				c := leaked(name, resp.Body)
				if c != "" && rt.Pattern == "POST /api/v1/people/{id}/subject-access-copies" && name == "clinician" && resp.StatusCode == http.StatusOK {
					// The one deliberate exception: a subject access copy is
					// everything held about a person, made for them by staff
					// who may see the person, with a reason that is kept and
					// shown to the person (TestSubjectAccessCopy).
					c = ""
				}
				if c != "" {
					t.Errorf("%s: %s answered %d with %q", name, rt.Pattern, resp.StatusCode, c)
				}
				if resp.StatusCode >= 500 {
					t.Errorf("%s: %s answered %d", name, rt.Pattern, resp.StatusCode)
				}
				// A read aimed at the canary's referral, or at the person
				// by someone who may not see them, finds nothing: 404, or
				// 403 for a role that may not use the route at all.
				aimed := strings.Contains(rt.Pattern, "/referrals/{id}") || strings.Contains(rt.Pattern, "/people/{id}") && name != "clinician"
				if method == http.MethodGet && aimed && gc.path(rt.Pattern) == "" && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: %s answered %d, want 404 (or 403)", name, rt.Pattern, resp.StatusCode)
				}
			}
			// The same through the pages.
			page := e.As(t, name)
			pid := strconv.FormatInt(r.PersonID, 10)
			for path, form := range map[string]url.Values{
				"/people/" + pid + "/offers": {"method": {"conversation"}, "response": {"interested"}},
				"/referrals":                 {"source": {"staff"}, "person_id": {pid}, "asked_for": {"x"}, "person_knows": {"yes"}, "consent": {"given"}},
				"/people":                    {"person.preferred_name": {"Someone"}, "person.phone": {canaryPhone}},
			} {
				resp := page.PostForm(path, form)
				if c := leaked(name, resp.Body); c != "" {
					t.Errorf("%s: POST %s answered %d with %q", name, path, resp.StatusCode, c)
				}
			}
		}
		// Afterwards: everyone outside the scope opens every referral they
		// can list, and finds no trace.
		for _, name := range roleNames {
			if mayCanary[name] {
				continue
			}
			api := e.Bearer(t, name)
			list := api.Get("/api/v1/referrals?limit=200")
			if c := leaked(name, list.Body); c != "" {
				t.Errorf("%s: the list shows %q", name, c)
			}
			var pg referral.Page
			_ = json.Unmarshal([]byte(list.Body), &pg)
			for _, ref := range pg.Referrals {
				one := api.Get("/api/v1/referrals/" + strconv.FormatInt(ref.ID, 10))
				if c := leaked(name, one.Body); c != "" {
					t.Errorf("%s: referral %d shows %q", name, ref.ID, c)
				}
			}
			if resp := api.Get("/api/v1/people/" + strconv.FormatInt(r.PersonID, 10)); name != "clinician" && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: the person answers %d, want 404 (or 403 for a role that reads no one)", name, resp.StatusCode)
			}
		}
		// The person was never linked to anything made in these calls.
		var n int
		_ = e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM referrals WHERE person_id = $1", r.PersonID).Scan(&n)
		if n != 1 {
			t.Fatalf("the canary now has %d referrals", n)
		}
	})
}
