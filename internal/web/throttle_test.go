package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

const (
	wrongPasswordMessage = "Enter a correct email address and password"
	tooManySignIns       = "Too many attempts to sign in"
	wrongCodeMessage     = "Enter the 6-digit code from your authenticator app, or a recovery code"
	tooManyCodes         = "Too many incorrect codes"
)

// tally sorts sign-in answers into those that were checked (the wrong
// password or code was looked at) and those refused before any check.
func tally(t *testing.T, rs []*webtest.Response, checkedMsg, refusedMsg string) (checked, refused int) {
	t.Helper()
	for i, r := range rs {
		switch {
		case r.StatusCode != http.StatusUnprocessableEntity:
			t.Errorf("request %d: status %d, want 422", i, r.StatusCode)
		case strings.Contains(r.Body, checkedMsg):
			checked++
		case strings.Contains(r.Body, refusedMsg):
			refused++
		default:
			t.Errorf("request %d: neither %q nor %q in the page", i, checkedMsg, refusedMsg)
		}
	}
	return checked, refused
}

// TestSignInFloodChecksAtMostTheLimit: 200 wrong passwords sent at once
// for one account (from 200 addresses) are checked at most 8 times, the
// account's limit; 200 at once from one address (for 200 accounts, known
// and unknown alike) at most 40 times, the address's limit. The rest are
// refused before any password is checked.
func TestSignInFloodChecksAtMostTheLimit(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{TrustLoopbackProxy: true}, func(t *testing.T, e *webtest.Env) {
		lead := e.Users["lead"]
		calls := make([]webtest.Call, 200)
		for i := range calls {
			c := e.Client(t)
			c.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)}}
			calls[i] = webtest.Call{Client: c, Method: http.MethodPost, Path: "/sign-in",
				Form: url.Values{"email": {lead.Email}, "password": {fmt.Sprintf("wrong guess %d", i)}}}
		}
		checked, refused := tally(t, webtest.Parallel(t, calls), wrongPasswordMessage, tooManySignIns)
		t.Logf("one account: %d checked, %d refused", checked, refused)
		if checked > 8 || checked+refused != 200 {
			t.Fatalf("one account: %d passwords checked (limit 8), %d refused", checked, refused)
		}
		// Each checked wrong password of a known account is audited as a
		// denied sign-in: the audit trail agrees.
		if n := count(t, e, "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.sign_in' AND outcome = 'denied' AND actor_user_id = $1", lead.ID); n != checked {
			t.Fatalf("%d denied sign-ins audited, %d answered as checked", n, checked)
		}
		// The account is now locked for the window, even with its password.
		c := e.Client(t)
		c.Header = http.Header{"X-Forwarded-For": {"10.9.9.9"}}
		if r := c.PostForm("/sign-in", url.Values{"email": {lead.Email}, "password": {testkit.Password}}); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tooManySignIns) {
			t.Fatalf("the right password during the lock-out: %d", r.StatusCode)
		}

		// One address, 200 accounts (half of them unknown): at most 40.
		names := []string{"worker", "workerB", "clinician", "clinicianB", "partner", "person", "person2", "carer", "analyst", "moderator"}
		for i := range calls {
			c := e.Client(t)
			c.Header = http.Header{"X-Forwarded-For": {"192.0.2.77"}}
			email := fmt.Sprintf("nobody%d@test.example", i)
			if i%2 == 0 {
				email = e.Users[names[i/2%len(names)]].Email
			}
			calls[i] = webtest.Call{Client: c, Method: http.MethodPost, Path: "/sign-in",
				Form: url.Values{"email": {email}, "password": {fmt.Sprintf("wrong guess %d", i)}}}
		}
		checked, refused = tally(t, webtest.Parallel(t, calls), wrongPasswordMessage, tooManySignIns)
		t.Logf("one address: %d checked, %d refused", checked, refused)
		if checked > 40 || checked+refused != 200 {
			t.Fatalf("one address: %d passwords checked (limit 40), %d refused", checked, refused)
		}
		// Another address is not affected.
		other := e.Client(t)
		other.Header = http.Header{"X-Forwarded-For": {"192.0.2.78"}}
		if r := other.PostForm("/sign-in", url.Values{"email": {e.Users["manager"].Email}, "password": {testkit.Password}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("another address signing in: %d", r.StatusCode)
		}

		// Correct passwords give back the attempt they were counted as:
		// 45 sign-ins in a row from one address (a trust's shared
		// address) are not limited.
		shared := e.Client(t)
		shared.Header = http.Header{"X-Forwarded-For": {"192.0.2.79"}}
		for i := range 45 {
			if r := shared.PostForm("/sign-in", url.Values{"email": {e.Users["manager"].Email}, "password": {testkit.Password}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in %d from a shared address: %d", i+1, r.StatusCode)
			}
		}
	})
}

// twoFactorLead sets up two-factor sign-in for the world's lead through the
// pages, signs that session out, and returns the secret.
func twoFactorLead(t *testing.T, e *webtest.Env) string {
	t.Helper()
	lead := e.Users["lead"]
	c := e.Client(t)
	c.SignIn(lead.Email, testkit.Password)
	if r := c.Get("/account/two-factor/setup"); r.StatusCode != http.StatusOK {
		t.Fatalf("set-up page: %d", r.StatusCode)
	}
	if r := c.PostForm("/account/two-factor/setup", url.Values{"code": {e.TOTPCode(t, lead.Email)}}); r.StatusCode != http.StatusOK {
		t.Fatalf("two-factor set-up: %d\n%s", r.StatusCode, r.Body)
	}
	c.PostForm("/sign-out", nil)
	var secret string
	if err := e.DB.QueryRow(t.Context(), "SELECT totp_secret FROM users WHERE id = $1", lead.ID).Scan(&secret); err != nil {
		t.Fatal(err)
	}
	// The code used for set-up is spent; move on to the next one.
	e.Clock.Advance(30 * time.Second)
	return secret
}

// pendingClients signs n clients in as the lead, each stopping at the
// two-factor step.
func pendingClients(t *testing.T, e *webtest.Env, n int) []*webtest.Client {
	t.Helper()
	out := make([]*webtest.Client, n)
	for i := range out {
		out[i] = e.Client(t)
		if r := out[i].SignIn(e.Users["lead"].Email, testkit.Password); !strings.HasPrefix(r.Header.Get("Location"), "/sign-in/two-factor") {
			t.Fatalf("sign-in went to %q, want the two-factor step", r.Header.Get("Location"))
		}
	}
	return out
}

// TestTwoFactorCodeSignsInOnce: one valid code sent at once, many times,
// from several half-signed-in sessions of one account completes exactly
// one sign-in.
func TestTwoFactorCodeSignsInOnce(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{RequireMFA: true}, func(t *testing.T, e *webtest.Env) {
		secret := twoFactorLead(t, e)
		clients := pendingClients(t, e, 3)
		code := account.CurrentTOTPCode(secret, e.Clock.Now())
		var calls []webtest.Call
		for i := range 30 {
			calls = append(calls, webtest.Call{Client: clients[i%3], Method: http.MethodPost, Path: "/sign-in/two-factor",
				Form: url.Values{"code": {code}, "next": {"/referrals"}}})
		}
		signedIn := 0
		for _, r := range webtest.Parallel(t, calls) {
			if r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/referrals" {
				signedIn++
			}
		}
		full := count(t, e, "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND mfa_ok = TRUE", e.Users["lead"].ID)
		if signedIn != 1 || full != 1 {
			t.Fatalf("one code completed %d sign-ins (%d fully signed-in sessions stored), want 1", signedIn, full)
		}
	})
}

// TestTwoFactorFloodChecksAtMostTheLimit: 200 wrong codes sent at once for
// one account are checked at most 6 times; the rest are refused unchecked,
// and so is the right code until the window has passed.
func TestTwoFactorFloodChecksAtMostTheLimit(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{RequireMFA: true}, func(t *testing.T, e *webtest.Env) {
		secret := twoFactorLead(t, e)
		clients := pendingClients(t, e, 4)
		now := e.Clock.Now()
		valid := map[string]bool{}
		for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
			valid[account.CurrentTOTPCode(secret, now.Add(d))] = true
		}
		var calls []webtest.Call
		for i := 0; len(calls) < 200; i++ {
			code := fmt.Sprintf("%06d", 100000+i*7919%900000)
			if valid[code] {
				continue
			}
			calls = append(calls, webtest.Call{Client: clients[i%len(clients)], Method: http.MethodPost, Path: "/sign-in/two-factor",
				Form: url.Values{"code": {code}}})
		}
		checked, refused := tally(t, webtest.Parallel(t, calls), wrongCodeMessage, tooManyCodes)
		t.Logf("%d codes checked, %d refused", checked, refused)
		if checked > 6 || checked+refused != 200 {
			t.Fatalf("%d wrong codes checked (limit 6), %d refused", checked, refused)
		}
		right := url.Values{"code": {account.CurrentTOTPCode(secret, now)}}
		if r := clients[0].PostForm("/sign-in/two-factor", right); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tooManyCodes) {
			t.Fatalf("the right code during the lock-out: %d", r.StatusCode)
		}
		e.Clock.Advance(15 * time.Minute)
		right.Set("code", account.CurrentTOTPCode(secret, e.Clock.Now()))
		if r := clients[1].PostForm("/sign-in/two-factor", right); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("the right code after the window: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
	})
}
