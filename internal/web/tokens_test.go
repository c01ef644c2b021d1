package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

var shownTokenRE = regexp.MustCompile(`<code>(mut_[A-Za-z0-9_-]+)</code>`)

// API tokens: made on the account page (shown once) or by the API from a
// signed-in session, never by a token; listed with name, dates and last
// use; they stop working when they expire or are revoked by their owner or
// an administrator; someone else's token is not found.
func TestAPITokens(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		_, router := apiDoc(t, e)
		check := func(r *webtest.Response, status int) *webtest.Response {
			t.Helper()
			want(t, r, status)
			if strings.HasPrefix(r.Request.URL.Path, "/api/") {
				validateResponse(t, router, r)
			}
			return r
		}
		clin := e.As(t, "clinician")

		// The page: problems keep what was typed; a good form shows the
		// token once.
		page := check(clin.Get("/account"), http.StatusOK)
		if !strings.Contains(page.Body, `action="/account/tokens"`) || !strings.Contains(page.Body, "No API tokens") {
			t.Fatal("the account page has no token form")
		}
		bad := check(clin.PostForm("/account/tokens", url.Values{"name": {strings.Repeat("n", 101)}, "expires_in_days": {"soon"}}), http.StatusUnprocessableEntity)
		for _, w := range []string{"Name must be 100 characters or fewer", "Enter the number of days as a whole number", `value="soon"`} {
			if !strings.Contains(bad.Body, w) {
				t.Errorf("the token form with problems does not show %q", w)
			}
		}
		check(clin.PostForm("/account/tokens", url.Values{"name": {"Script"}, "expires_in_days": {"366"}}), http.StatusUnprocessableEntity)
		made := check(clin.PostForm("/account/tokens", url.Values{"name": {"Nightly report"}, "expires_in_days": {"30"}}), http.StatusOK)
		m := shownTokenRE.FindStringSubmatch(made.Body)
		if m == nil {
			t.Fatal("the new token is not shown")
		}
		pageToken := m[1]
		bearer := e.Client(t)
		bearer.Token = pageToken
		me := decode[map[string]any](t, check(bearer.Get("/api/v1/me"), http.StatusOK))
		if me["authenticated_by"] != "token" || me["email"] != e.Users["clinician"].Email {
			t.Fatalf("/me with the new token: %v", me)
		}
		page = check(clin.Get("/account"), http.StatusOK)
		if !strings.Contains(page.Body, "Nightly report") || strings.Contains(page.Body, pageToken) || !strings.Contains(page.Body, "/revoke") {
			t.Fatal("the account page should list the token by name, with a Revoke button, and never show it again")
		}

		// The API, from the session: made, listed, and with a token refused.
		created := decode[map[string]any](t, check(clin.JSON(http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "Import"}), http.StatusCreated))
		expires, _ := time.Parse(time.RFC3339, created["expires_at"].(string))
		if !strings.HasPrefix(created["token"].(string), "mut_") || !expires.Equal(e.Clock.Now().Add(90*24*time.Hour)) {
			t.Fatalf("new token: %v (expires %v)", created, expires)
		}
		apiToken := e.Client(t)
		apiToken.Token = created["token"].(string)
		refused := check(apiToken.JSON(http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "Extend myself", "expires_in_days": 365}), http.StatusForbidden)
		if !strings.Contains(refused.Body, "cannot be used to create API tokens") {
			t.Fatalf("a token making a token: %s", refused.Body)
		}
		if r := apiToken.PostForm("/account/tokens", url.Values{"name": {"Extend myself"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("a token making a token through the page: %d", r.StatusCode)
		}
		problems := decode[map[string]any](t, check(clin.JSON(http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": " ", "expires_in_days": 0}), http.StatusUnprocessableEntity))
		if !strings.Contains(fmt.Sprint(problems["errors"]), "Enter a name for the token") {
			t.Fatalf("nameless token: %v", problems)
		}
		list := decode[[]map[string]any](t, check(apiToken.Get("/api/v1/me/tokens"), http.StatusOK))
		if len(list) != 2 || list[0]["name"] != "Import" || list[1]["name"] != "Nightly report" || list[0]["last_used_at"] == nil ||
			list[1]["status"] != "active" || strings.Contains(fmt.Sprint(list), "mut_") {
			t.Fatalf("listed tokens: %v", list)
		}
		if n := count(t, e, "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1", e.Users["clinician"].ID); n != 2 {
			t.Fatalf("%d tokens stored, want 2: nothing half-made from the refused requests", n)
		}

		// Someone else's token is not found, and stays working.
		other := e.As(t, "lead")
		importID := fmt.Sprint(int64(list[0]["id"].(float64)))
		check(other.Do(http.MethodDelete, "/api/v1/me/tokens/"+importID, nil, nil), http.StatusNotFound)
		check(other.PostForm("/account/tokens/"+importID+"/revoke", nil), http.StatusNotFound)
		check(apiToken.Get("/api/v1/me"), http.StatusOK)

		// Revoked by the owner: at once.
		check(clin.Do(http.MethodDelete, "/api/v1/me/tokens/"+importID, nil, nil), http.StatusNoContent)
		check(apiToken.Get("/api/v1/me"), http.StatusUnauthorized)

		// An administrator sees and revokes an account's tokens.
		admin := e.As(t, "admin")
		userPath := fmt.Sprintf("/admin/users/%d", e.Users["clinician"].ID)
		if r := check(admin.Get(userPath), http.StatusOK); !strings.Contains(r.Body, "Nightly report") {
			t.Fatal("the administrator's page for the account does not list its tokens")
		}
		adminAPI := e.Bearer(t, "admin")
		tokens := decode[[]map[string]any](t, check(adminAPI.Get(fmt.Sprintf("/api/v1/users/%d/tokens", e.Users["clinician"].ID)), http.StatusOK))
		if len(tokens) != 2 || tokens[0]["status"] != "revoked" {
			t.Fatalf("the administrator's list: %v", tokens)
		}
		nightlyID := fmt.Sprint(int64(tokens[1]["id"].(float64)))
		check(adminAPI.Do(http.MethodDelete, fmt.Sprintf("/api/v1/users/%d/tokens/%s", e.Users["lead"].ID, nightlyID), nil, nil), http.StatusNotFound)
		check(bearer.Get("/api/v1/me"), http.StatusOK)
		check(admin.PostForm(userPath+"/tokens/"+nightlyID+"/revoke", nil), http.StatusSeeOther)
		check(bearer.Get("/api/v1/me"), http.StatusUnauthorized)

		// Expiry: a token for one day works for a day.
		day := decode[map[string]any](t, check(clin.JSON(http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "One day", "expires_in_days": 1}), http.StatusCreated))
		short := e.Client(t)
		short.Token = day["token"].(string)
		check(short.Get("/api/v1/me"), http.StatusOK)
		e.Clock.Advance(24*time.Hour - time.Second)
		check(short.Get("/api/v1/me"), http.StatusOK)
		e.Clock.Advance(time.Second)
		if r := check(short.Get("/api/v1/me"), http.StatusUnauthorized); !strings.Contains(r.Body, "expired") {
			t.Fatalf("expired token: %s", r.Body)
		}
	})
}

// A half-signed-in staff session cannot make tokens: two-factor first.
func TestTokensNeedTwoFactor(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, "sqlite", webtest.Options{RequireMFA: true})
	c := e.Client(t)
	c.SignIn(e.Users["lead"].Email, testkit.Password)
	if r := c.JSON(http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "Early"}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token from a half-signed-in session by the API: %d", r.StatusCode)
	}
	if r := c.PostForm("/account/tokens", url.Values{"name": {"Early"}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/two-factor/setup" {
		t.Fatalf("token from a half-signed-in session by the page: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if n := count(t, e, "SELECT COUNT(*) FROM api_tokens"); n != 0 {
		t.Fatalf("%d tokens made", n)
	}
}
