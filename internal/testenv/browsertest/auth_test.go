package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestSignIn signs in with a wrong and then the right password and signs
// out, on SQLite and PostgreSQL.
func TestSignIn(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			e := webtest.Start(t, engine, webtest.Options{})
			p := b.newPage(t, e, "person")
			u := e.Users["person"]

			if st := p.open("/sign-in"); st != 200 {
				t.Fatalf("GET /sign-in: %d", st)
			}
			p.fill("email", u.Email)
			p.fill("password", "not the password at all")
			if st := p.press("Sign in"); st != 422 {
				t.Errorf("wrong password: status %d, want 422", st)
			}
			p.wantPath("/sign-in")
			p.wantSummaryError("Enter a correct email address and password", "email")
			if msg := p.fieldError("email"); !strings.Contains(msg, "Enter a correct email address and password") {
				t.Errorf("message next to the email field = %q", msg)
			}
			if v := p.value("email"); v != u.Email {
				t.Errorf("email field after a failed sign-in = %q, want it kept as %q", v, u.Email)
			}
			if v := p.value("password"); v != "" {
				t.Errorf("password field after a failed sign-in = %q, want it empty", v)
			}
			if title := eval[string](p, `document.title`); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title with errors = %q, want it to start with \"Error: \"", title)
			}

			p.fill("password", testkit.Password)
			if st := p.press("Sign in"); st != 200 {
				t.Fatalf("right password: landed with status %d", st)
			}
			p.wantPath("/")
			if h := p.header(); !strings.Contains(h, u.Name) {
				t.Errorf("header after signing in = %q, want the name %q", h, u.Name)
			}
			if h1 := p.h1(); h1 != "Home" {
				t.Errorf("h1 after signing in = %q, want Home", h1)
			}
			p.wantText("See your referrals and where they are")

			// The session cookie is the __Host- cookie, Secure and HttpOnly,
			// and the browser keeps it on http://127.0.0.1.
			ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
			defer cancel()
			res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.URL}})
			if err != nil {
				t.Fatal(err)
			}
			var found *network.Cookie
			for _, c := range res.Cookies {
				if c.Name == "__Host-mutual" {
					found = c
				}
			}
			if found == nil {
				t.Fatalf("no __Host-mutual cookie in the browser after signing in: %+v", res.Cookies)
			}
			if !found.Secure || !found.HTTPOnly || found.Path != "/" || found.Domain != "127.0.0.1" {
				t.Errorf("session cookie = %+v, want Secure, HttpOnly, Path=/, host-only", found)
			}

			p.signOut()
			p.wantPath("/")
			if f := p.flash(); f != "You have signed out" {
				t.Errorf("flash after signing out = %q", f)
			}
			// Signed out really means signed out: the account page sends
			// you to sign in.
			p.open("/account")
			p.wantPath("/sign-in")
		})
	}
}

// TestTwoFactor sets up TOTP at a staff member's first sign-in, then signs
// in again with a wrong and a right code.
func TestTwoFactor(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{RequireMFA: true})
	u := e.Users["lead"]
	p := b.newPage(t, e, "lead")

	p.signIn(u.Email, testkit.Password)
	p.wantPath("/account/two-factor/setup")
	if h1 := p.h1(); h1 != "Set up two-factor sign-in" {
		t.Errorf("h1 = %q", h1)
	}
	// The QR code is an image that has loaded and is visible.
	type img struct {
		Src           string
		Alt           string
		Width, Height int
		Complete      bool
	}
	qr := eval[img](p, `(() => { const i = document.querySelector('main img'); return i ? {Src: i.src.slice(0, 22), Alt: i.alt, Width: i.naturalWidth, Height: i.getBoundingClientRect().height, Complete: i.complete} : {}; })()`)
	if qr.Src != "data:image/png;base64," || !qr.Complete || qr.Width == 0 || qr.Height == 0 || qr.Alt == "" {
		t.Errorf("QR code image = %+v, want a loaded, visible PNG with alt text", qr)
	}
	// The key is there for typing by hand.
	if key := p.text("main code"); len(key) < 16 {
		t.Errorf("manual key = %q", key)
	}

	// A wrong code first.
	wrong := wrongCode(e.TOTPCode(t, u.Email))
	p.fill("code", wrong)
	if st := p.press("Turn on two-factor sign-in"); st != 422 {
		t.Errorf("wrong set-up code: status %d, want 422", st)
	}
	if errs := p.errorSummary(); len(errs) == 0 || errs[0].Href != "#code" {
		t.Errorf("wrong set-up code: error summary = %+v, want an entry linked to #code", errs)
	}
	// The secret is read after the page has made it (the error page may
	// have made a new one).
	p.fill("code", e.TOTPCode(t, u.Email))
	if st := p.press("Turn on two-factor sign-in"); st != 200 {
		t.Fatalf("set-up code: status %d", st)
	}
	if h1 := p.h1(); h1 != "Save your recovery codes" {
		t.Fatalf("after setting up two-factor: h1 = %q: %s", h1, p.excerpt())
	}
	codes := p.texts("main ol li code")
	if len(codes) < 5 {
		t.Errorf("recovery codes = %v, want several", codes)
	}
	p.press("I have saved my codes")
	p.wantPath("/")
	if h := p.header(); !strings.Contains(h, u.Name) {
		t.Errorf("header on home = %q, want %q", h, u.Name)
	}
	p.wantText("Referrals to triage")

	p.signOut()
	p.signIn(u.Email, testkit.Password)
	p.wantPath("/sign-in/two-factor")
	if h1 := p.h1(); h1 != "Enter your security code" {
		t.Errorf("h1 = %q", h1)
	}
	// The code just used cannot be used again and a wrong one is refused.
	p.fill("code", wrongCode(e.TOTPCode(t, u.Email)))
	if st := p.press("Continue"); st != 422 {
		t.Errorf("wrong code: status %d, want 422", st)
	}
	p.wantPath("/sign-in/two-factor")
	errs := p.errorSummary()
	if len(errs) == 0 || errs[0].Href != "#code" || errs[0].Target != "INPUT" {
		t.Errorf("wrong code: error summary = %+v, want an entry linked to the code field", errs)
	}
	if msg := p.fieldError("code"); msg == "" {
		t.Error("wrong code: no error message next to the field")
	}
	if h := p.header(); strings.Contains(h, u.Name) {
		t.Errorf("header shows the name before the second step: %q", h)
	}

	e.Clock.Advance(30 * time.Second)
	p.fill("code", e.TOTPCode(t, u.Email))
	if st := p.press("Continue"); st != 200 {
		t.Fatalf("right code: status %d", st)
	}
	p.wantPath("/")
	if h := p.header(); !strings.Contains(h, u.Name) {
		t.Errorf("header after the second step = %q, want %q", h, u.Name)
	}
}

func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

// TestPasswordReset resets a password through the emailed link.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	u := e.Users["person"]
	p := b.newPage(t, e, "person")

	p.open("/sign-in")
	p.press("Forgotten your password?")
	p.wantPath("/password-reset")
	p.fill("email", u.Email)
	if st := p.press("Send the link"); st != 200 {
		t.Fatalf("asking for a reset: status %d", st)
	}
	if h1 := p.h1(); h1 != "Check your email" {
		t.Errorf("h1 = %q, want Check your email", h1)
	}
	p.wantText("we have sent it a link to choose a new password")

	link := e.LastMailLink(t, u.Email)
	if !strings.HasPrefix(link, "/password-reset/") {
		t.Fatalf("link in the email = %q", link)
	}
	if st := p.open(link); st != 200 {
		t.Fatalf("opening the link: status %d", st)
	}
	if h1 := p.h1(); h1 != "Choose a new password" {
		t.Errorf("h1 = %q", h1)
	}
	const newPassword = "a brand new passphrase 99"
	p.fill("password", newPassword)
	p.fill("confirm", newPassword+" oops")
	if st := p.press("Change password"); st != 422 {
		t.Errorf("mismatched passwords: status %d, want 422", st)
	}
	p.wantSummaryError("The two passwords do not match", "confirm")
	if msg := p.fieldError("confirm"); msg != "The two passwords do not match" {
		t.Errorf("message next to the confirm field = %q", msg)
	}
	if p.value("password") != "" || p.value("confirm") != "" {
		t.Error("passwords were sent back to the browser")
	}

	p.fill("password", newPassword)
	p.fill("confirm", newPassword)
	p.press("Change password")
	p.wantPath("/sign-in")
	if f := p.flash(); !strings.Contains(f, "Your password has been changed") {
		t.Errorf("flash = %q", f)
	}

	// The old password no longer works; the new one does.
	p.fill("email", u.Email)
	p.fill("password", testkit.Password)
	if st := p.press("Sign in"); st != 422 {
		t.Errorf("old password after the reset: status %d, want 422", st)
	}
	p.fill("password", newPassword)
	p.press("Sign in")
	p.wantPath("/")
	if h := p.header(); !strings.Contains(h, u.Name) {
		t.Errorf("header = %q, want %q", h, u.Name)
	}

	// The link works once.
	other := b.newPage(t, e, "someone else")
	if st := other.open(link); st != 404 {
		t.Errorf("using the link again: status %d, want 404", st)
	}
	if h1 := other.h1(); h1 != "This link has expired" {
		t.Errorf("used link: h1 = %q", h1)
	}
}

// TestAdminInvite invites a peer worker: a form with problems first, then
// the invitation, accepted in another browser.
func TestAdminInvite(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	admin := b.newPage(t, e, "admin")
	admin.signIn(e.Users["admin"].Email, testkit.Password)
	admin.wantPath("/")

	admin.open("/admin/users")
	admin.press("Invite someone")
	admin.wantPath("/admin/users/new")
	roleValue := "peer_worker:" + itoa(e.TeamA.ID)
	admin.fill("name", "")
	admin.fill("email", "not-an-email")
	admin.choose("role", roleValue)
	if st := admin.press("Send invitation"); st != 422 {
		t.Errorf("invalid invitation: status %d, want 422", st)
	}
	admin.wantSummaryError("Enter the person's full name", "name")
	errs := admin.errorSummary()
	var emailErr bool
	for _, er := range errs {
		if er.Href == "#email" && er.Target == "INPUT" {
			emailErr = true
		}
	}
	if !emailErr || len(errs) < 2 {
		t.Errorf("error summary = %+v, want problems with the name and the email address", errs)
	}
	if admin.fieldError("name") == "" || admin.fieldError("email") == "" {
		t.Errorf("want messages next to the name and email fields; name %q, email %q", admin.fieldError("name"), admin.fieldError("email"))
	}
	if v := admin.value("email"); v != "not-an-email" {
		t.Errorf("email field after the error = %q, want what was typed", v)
	}
	if !admin.isChecked("role", roleValue) {
		t.Error("the role ticked before the error is no longer ticked")
	}

	admin.fill("name", "Priya Shah")
	admin.fill("email", "priya.shah@test.example")
	if !admin.isChecked("role", roleValue) {
		admin.choose("role", roleValue)
	}
	if st := admin.press("Send invitation"); st != 200 {
		t.Fatalf("invitation: status %d", st)
	}
	if !strings.HasPrefix(admin.Path(), "/admin/users/") {
		t.Fatalf("after inviting: at %s", admin.Path())
	}
	if f := admin.flash(); f != "Invitation sent to priya.shah@test.example" {
		t.Errorf("flash = %q", f)
	}
	if h1 := admin.h1(); h1 != "Priya Shah" {
		t.Errorf("h1 = %q", h1)
	}
	if st := admin.text(".nhsuk-summary-list .nhsuk-tag"); st != "Invited" {
		t.Errorf("status tag = %q, want Invited", st)
	}
	admin.wantText("Peer support worker (North Community Team)")

	link := e.LastMailLink(t, "priya.shah@test.example")
	if !strings.HasPrefix(link, "/invitation/") {
		t.Fatalf("link in the invitation = %q", link)
	}
	priya := b.newPage(t, e, "invited worker")
	if st := priya.open(link); st != 200 {
		t.Fatalf("opening the invitation: %d", st)
	}
	if h1 := priya.h1(); h1 != "Choose a password" {
		t.Errorf("h1 = %q", h1)
	}
	priya.wantText("Welcome to Mutual, Priya Shah")
	priya.fill("password", "short")
	priya.fill("confirm", "short")
	if st := priya.press("Set password and continue"); st != 422 {
		t.Errorf("a too short password: status %d, want 422", st)
	}
	if len(priya.errorSummary()) == 0 || priya.fieldError("password") == "" {
		t.Error("a too short password: no error shown")
	}
	priya.fill("password", "priya's long passphrase 2026")
	priya.fill("confirm", "priya's long passphrase 2026")
	priya.press("Set password and continue")
	priya.wantPath("/")
	if f := priya.flash(); f != "Your account is ready" {
		t.Errorf("flash = %q", f)
	}
	if h := priya.header(); !strings.Contains(h, "Priya Shah") {
		t.Errorf("header = %q, want the new account's name", h)
	}
	priya.wantText("The waiting list")

	// The administrator now sees the account as active.
	admin.nav(admin.Path())
	if st := admin.text(".nhsuk-summary-list .nhsuk-tag"); st != "Active" {
		t.Errorf("status tag after the invitation was used = %q, want Active", st)
	}
}
