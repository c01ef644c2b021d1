package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

func count(t *testing.T, e *webtest.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Bad input is named next to each field, what was typed is kept, and
// nothing half-written remains.
func TestBadFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		c := e.Client(t)
		r := c.PostForm("/refer/self", url.Values{"preferred_name": {"Sam O'Neill"}, "email": {"not-an-email"},
			"asked_for": {"Someone to talk to on Tuesdays"}, "date_of_birth-day": {"31"}, "date_of_birth-month": {"2"}, "date_of_birth-year": {"1990"}})
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", r.StatusCode)
		}
		for _, want := range []string{
			`<title>Error: `, `class="nhsuk-error-summary"`, `href="#email"`, `href="#date_of_birth-day"`,
			`value="Sam O&#39;Neill"`, `Someone to talk to on Tuesdays</textarea>`, `value="not-an-email"`,
			`id="email-error"`, "Enter an email address in the correct format", "Date must be a real date",
		} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("the page does not contain %q", want)
			}
		}
		if n := count(t, e, "SELECT COUNT(*) FROM people WHERE preferred_name = 'Sam O''Neill'"); n != 0 {
			t.Fatalf("%d people stored from a form with problems", n)
		}
		// Too long is a problem too, not a failure.
		r = c.PostForm("/refer/self", url.Values{"preferred_name": {strings.Repeat("x", 101)}, "phone": {"07700 900123"}, "asked_for": {"x"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "100 characters or fewer") {
			t.Fatalf("too-long name: %d", r.StatusCode)
		}
		// A form far too big is refused with a message, not a 500.
		r = c.PostForm("/refer/self", url.Values{"asked_for": {strings.Repeat("y", 100<<10)}})
		if r.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized form: %d", r.StatusCode)
		}
		// Invalid UTF-8 is refused clearly.
		r = c.Do(http.MethodPost, "/refer/self", strings.NewReader("preferred_name=%ff%fe&asked_for=x"), http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"same-origin"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "characters that are not UTF-8 text") {
			t.Fatalf("invalid UTF-8: %d", r.StatusCode)
		}
	})
}

// A referral for someone new whose details match a known person offers
// the match instead of creating a duplicate, keeping everything typed.
func TestReferralFormOffersPossibleMatches(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	known := e.StaffReferral(t, "clinician", "Robin")
	var phone string
	_ = e.DB.QueryRow(context.Background(), "SELECT phone FROM people WHERE id = $1", known.PersonID).Scan(&phone)
	e.Clock.Advance(1)
	clin := e.As(t, "clinician")
	form := url.Values{"source": {"staff"}, "person.preferred_name": {"Robin"}, "person.phone": {phone}, "asked_for": {"Company on walks"},
		"person_knows": {"yes"}, "consent": {"given"}}
	r := clin.PostForm("/referrals", form)
	if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "same phone number") || !strings.Contains(r.Body, "Company on walks") {
		t.Fatalf("possible match not offered: %d", r.StatusCode)
	}
	// Choosing the known person makes a re-referral... which is refused,
	// because Robin's first referral is still open; the page says so.
	form.Set("match", "new")
	r = clin.PostForm("/referrals", form)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed new person: %d\n%s", r.StatusCode, r.Body)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM people WHERE preferred_name = 'Robin'"); n != 2 {
		t.Fatalf("%d Robins", n)
	}
}

func TestStaffMustFinishTwoFactor(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{RequireMFA: true})
	c := e.Client(t)
	r := c.SignIn(e.Users["lead"].Email, testkit.Password)
	if loc := r.Header.Get("Location"); loc != "/account/two-factor/setup" {
		t.Fatalf("first staff sign-in went to %q", loc)
	}
	if r := c.Get("/referrals"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/two-factor/setup" {
		t.Fatalf("a half-signed-in staff member reached the waiting list: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.Get("/api/v1/me"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API with a half-signed-in session: %d", r.StatusCode)
	}
	if r := c.Get("/account/two-factor/setup"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `src="data:image/png;base64,`) {
		t.Fatalf("set-up page: %d", r.StatusCode)
	}
	if r := c.PostForm("/account/two-factor/setup", url.Values{"code": {"123456"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	r = c.PostForm("/account/two-factor/setup", url.Values{"code": {e.TOTPCode(t, e.Users["lead"].Email)}})
	if r.StatusCode != http.StatusOK || strings.Count(r.Body, "<li") < 10 {
		t.Fatalf("recovery codes page: %d", r.StatusCode)
	}
	if r := c.Get("/referrals"); r.StatusCode != http.StatusOK {
		t.Fatalf("after two-factor set-up: %d", r.StatusCode)
	}
	// People who use services and carers are not asked for a second factor.
	p := e.Client(t)
	if r := p.SignIn(e.Users["person"].Email, testkit.Password); r.Header.Get("Location") != "/" {
		t.Fatalf("person sign-in went to %q", r.Header.Get("Location"))
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	c := e.As(t, "clinician")
	if r := c.Get("/people"); r.StatusCode != http.StatusOK {
		t.Fatal(r.StatusCode)
	}
	stolen := c.HTTP.Jar.Cookies(&url.URL{Scheme: "https", Host: strings.TrimPrefix(e.URL, "http://")})
	c.PostForm("/sign-out", nil)
	// Even the old cookie no longer works.
	thief := e.Client(t)
	thief.HTTP.Jar.SetCookies(&url.URL{Scheme: "https", Host: strings.TrimPrefix(e.URL, "http://")}, stolen)
	if r := thief.Get("/people"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a signed-out session still works: %d", r.StatusCode)
	}
}
