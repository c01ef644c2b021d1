package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// These tests send requests that race for the same account at once, and
// check that what each "read, decide, write" in the account capability
// decided still holds when it is written (see account/concurrency.go).

// roleSet is an account's roles as sorted "role:team" strings.
func roleSet(t *testing.T, e *webtest.Env, userID int64) []string {
	t.Helper()
	rows, err := e.DB.Query(context.Background(), "SELECT role, COALESCE(team_id, 0) FROM memberships WHERE user_id = $1", userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var role string
		var team int64
		if err := rows.Scan(&role, &team); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d", role, team))
	}
	slices.Sort(out)
	return out
}

// Two administrators changing one account's roles at once: one change
// follows the other, so the account ends with exactly one of the two sets
// of roles, never a mixture, and neither request fails.
func TestConcurrentRoleChangesDoNotMix(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		admin2, err := e.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "admin2@test.example", Name: "Second Admin",
			Memberships: []app.Membership{{Role: app.RoleAdmin}}, Password: testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		e.Users["admin2"] = admin2
		victim, err := e.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "moved@test.example", Name: "Moved Around",
			Memberships: []app.Membership{{Role: app.RoleModerator}}, Password: testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		a, b := e.Bearer(t, "admin"), e.Bearer(t, "admin2")
		path := fmt.Sprintf("/api/v1/users/%d/roles", victim.ID)
		setA := map[string]any{"roles": []map[string]any{{"role": "clinician", "team_id": e.TeamA.ID}, {"role": "analyst"}}}
		setB := map[string]any{"roles": []map[string]any{{"role": "peer_worker", "team_id": e.TeamB.ID}, {"role": "analyst"}, {"role": "moderator"}}}
		wantA := []string{"analyst:0", fmt.Sprintf("clinician:%d", e.TeamA.ID)}
		wantB := []string{"analyst:0", "moderator:0", fmt.Sprintf("peer_worker:%d", e.TeamB.ID)}
		for round := range 8 {
			var calls []webtest.Call
			for range 3 {
				calls = append(calls, webtest.Call{Client: a, Method: http.MethodPut, Path: path, JSON: setA},
					webtest.Call{Client: b, Method: http.MethodPut, Path: path, JSON: setB})
			}
			for i, r := range webtest.Parallel(t, calls) {
				if r.StatusCode != http.StatusNoContent {
					t.Fatalf("round %d, change %d: %d %s", round, i, r.StatusCode, r.Body)
				}
			}
			if got := roleSet(t, e, victim.ID); !slices.Equal(got, wantA) && !slices.Equal(got, wantB) {
				t.Fatalf("round %d: roles %v are neither %v nor %v", round, got, wantA, wantB)
			}
		}
	})
}

var secretRE = regexp.MustCompile(`<code class="nhsuk-code__content">([A-Z2-7]+)</code>`)

// Two-factor set-up opened in several tabs at once shows one secret, the
// one kept; the code from it, sent several times at once, sets two-factor
// up once, and the recovery codes shown are the ones that work.
func TestTwoFactorSetUpOnce(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{RequireMFA: true}, func(t *testing.T, e *webtest.Env) {
		lead := e.Users["lead"]
		c := e.Client(t)
		c.SignIn(lead.Email, testkit.Password)
		var calls []webtest.Call
		for range 6 {
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodGet, Path: "/account/two-factor/setup"})
		}
		secrets := map[string]bool{}
		for _, r := range webtest.Parallel(t, calls) {
			m := secretRE.FindStringSubmatch(r.Body)
			if r.StatusCode != http.StatusOK || m == nil {
				t.Fatalf("set-up page: %d", r.StatusCode)
			}
			secrets[m[1]] = true
		}
		var stored string
		_ = e.DB.QueryRow(context.Background(), "SELECT totp_secret FROM users WHERE id = $1", lead.ID).Scan(&stored)
		if len(secrets) != 1 || !secrets[stored] {
			t.Fatalf("set-up pages opened at once showed %d secrets; the stored one among them: %v", len(secrets), secrets[stored])
		}

		code := account.CurrentTOTPCode(stored, e.Clock.Now())
		calls = calls[:0]
		for range 10 {
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodPost, Path: "/account/two-factor/setup", Form: url.Values{"code": {code}}})
		}
		var shown []string
		for _, r := range webtest.Parallel(t, calls) {
			if r.StatusCode == http.StatusOK && strings.Contains(r.Body, "Save your recovery codes") {
				shown = append(shown, r.Body)
			}
		}
		if len(shown) != 1 {
			t.Fatalf("two-factor set up %d times from one code, want once", len(shown))
		}
		recovery := regexp.MustCompile(`<code>([a-z2-9]{5}-[a-z2-9]{5})</code>`).FindStringSubmatch(shown[0])
		if recovery == nil {
			t.Fatal("no recovery code on the page")
		}
		again := e.Client(t)
		again.SignIn(lead.Email, testkit.Password)
		if r := again.PostForm("/sign-in/two-factor", url.Values{"code": {recovery[1]}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("a recovery code that was shown does not work: %d", r.StatusCode)
		}
	})
}

// A password reset link used several times at once sets one password.
func TestResetLinkUsedOnce(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		worker := e.Users["worker"]
		if err := e.Accounts.RequestPasswordReset(context.Background(), worker.Email, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		link := e.LastMailLink(t, worker.Email)
		var calls []webtest.Call
		for i := range 8 {
			pw := fmt.Sprintf("new passphrase number %d", i)
			calls = append(calls, webtest.Call{Client: e.Client(t), Method: http.MethodPost, Path: link, Form: url.Values{"password": {pw}, "confirm": {pw}}})
		}
		var set []int
		for i, r := range webtest.Parallel(t, calls) {
			if r.StatusCode == http.StatusSeeOther {
				set = append(set, i)
			}
		}
		if len(set) != 1 {
			t.Fatalf("one link set the password %d times", len(set))
		}
		e.Client(t).SignIn(worker.Email, fmt.Sprintf("new passphrase number %d", set[0]))
	})
}

var claimRE = regexp.MustCompile(`claim=([A-Za-z0-9_-]+)`)

// Several sign-ups at once with one claim from a self-referral: every one
// is answered alike, and exactly one account is joined to the person.
func TestClaimJoinsOneAccount(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{TrustLoopbackProxy: true}, func(t *testing.T, e *webtest.Env) {
		r := e.Client(t).JSON(http.MethodPost, "/api/v1/self-referrals", map[string]any{"preferred_name": "Claimant", "phone": "07700 900555", "asked_for": "company"})
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("self-referral: %d %s", r.StatusCode, r.Body)
		}
		claim := claimRE.FindStringSubmatch(r.Body)[1]
		var calls []webtest.Call
		for i := range 8 {
			c := e.Client(t)
			c.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i+1)}}
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodPost, Path: "/sign-up",
				Form: url.Values{"email": {fmt.Sprintf("claimant%d@test.example", i)}, "name": {"Claimant"}, "role": {"person"}, "claim": {claim}}})
		}
		for i, r := range webtest.Parallel(t, calls) {
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Check your email") {
				t.Errorf("sign-up %d: %d", i, r.StatusCode)
			}
		}
		var personID int64
		_ = e.DB.QueryRow(context.Background(), "SELECT id FROM people WHERE preferred_name = 'Claimant' ORDER BY id LIMIT 1").Scan(&personID)
		if n := count(t, e, "SELECT COUNT(*) FROM users WHERE person_id = $1", personID); n != 1 {
			t.Fatalf("%d accounts joined to the claimed person, want 1", n)
		}
		if n := count(t, e, "SELECT COUNT(*) FROM users WHERE email LIKE 'claimant%'"); n != 8 {
			t.Fatalf("%d accounts made, want 8", n)
		}
	})
}

// Sign-ups with one new address at once all get the same answer; one
// account is made and the others are told by email that it exists.
func TestSignUpRaceAnswersAlike(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{TrustLoopbackProxy: true}, func(t *testing.T, e *webtest.Env) {
		var calls []webtest.Call
		for i := range 3 { // three sign-ups an hour per address are allowed
			c := e.Client(t)
			c.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i+1)}}
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodPost, Path: "/sign-up",
				Form: url.Values{"email": {"same@test.example"}, "name": {"Same"}, "role": {"carer"}}})
		}
		for i, r := range webtest.Parallel(t, calls) {
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Check your email") {
				t.Errorf("sign-up %d: %d", i, r.StatusCode)
			}
		}
		if n := count(t, e, "SELECT COUNT(*) FROM users WHERE email = 'same@test.example'"); n != 1 {
			t.Fatalf("%d accounts", n)
		}
		if n := count(t, e, "SELECT COUNT(*) FROM outbox WHERE to_address = 'same@test.example'"); n != 3 {
			t.Fatalf("%d emails, want 3 (an invitation, and one saying the account exists for each other sign-up)", n)
		}
	})
}
