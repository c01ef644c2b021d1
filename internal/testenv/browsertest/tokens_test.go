package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestAPITokenPages makes an API token on the account page (a problem
// first), sees it once, lists and revokes it; an administrator sees an
// account's tokens, and their own page without a roles form. Every page
// is checked with axe.
func TestAPITokenPages(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	clin := b.newPage(t, e, "clinician")
	clin.signIn(e.Users["clinician"].Email, testkit.Password)
	clin.wantPath("/")
	clin.open("/account")
	clin.fill("name", "")
	clin.fill("expires_in_days", "400")
	if st := clin.press("Create token"); st != 422 {
		t.Fatalf("token form with problems: status %d", st)
	}
	clin.wantSummaryError("Enter a name for the token, so you can tell your tokens apart", "name")
	if v := clin.value("expires_in_days"); v != "400" {
		t.Errorf("days after the error = %q, want what was typed", v)
	}
	clin.fill("name", "Weekly report")
	clin.fill("expires_in_days", "30")
	if st := clin.press("Create token"); st != 200 {
		t.Fatalf("creating a token: status %d", st)
	}
	token := clin.text("code")
	if !strings.HasPrefix(token, "mut_") {
		t.Fatalf("the new token is not shown: %q", token)
	}
	clin.press("I have copied the token")
	clin.wantPath("/account")
	clin.wantText("Weekly report")
	if strings.Contains(clin.mainText(), token) {
		t.Error("the account page shows the token again")
	}

	// An administrator sees it on the account's page, and their own page
	// says why it has no roles form.
	admin := b.newPage(t, e, "admin")
	admin.signIn(e.Users["admin"].Email, testkit.Password)
	admin.open("/admin/users/" + itoa(e.Users["admin"].ID))
	admin.wantText("Ask another administrator to change your own roles")
	admin.open("/admin/users/" + itoa(e.Users["clinician"].ID))
	admin.wantText("Weekly report")

	// Revoked by its owner.
	if st := clin.press("Revoke the token Weekly report"); st != 200 {
		t.Fatalf("revoking: status %d", st)
	}
	if f := clin.flash(); !strings.Contains(f, "revoked") {
		t.Errorf("flash = %q", f)
	}
	if _, err := e.Accounts.AuthenticateBearer(context.Background(), token, "t"); !app.IsCode(err, app.CodeUnauthorized) {
		t.Errorf("the revoked token still works: %v", err)
	}
}
