package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// untick clears a ticked checkbox by clicking its label, as a person would.
func (p *page) untick(name, value string) {
	p.t.Helper()
	if !p.isChecked(name, value) {
		p.t.Fatalf("%s=%s is not ticked on %s", name, value, p.where())
	}
	input := `document.querySelector('input[name=' + CSS.escape(` + quote(name) + `) + '][value=' + CSS.escape(` + quote(value) + `) + ']')`
	lbl := p.mark(fmt.Sprintf("option %s=%s", name, value), `(() => { const i = `+input+`; return i && i.id ? document.querySelector('label[for=' + CSS.escape(i.id) + ']') : null; })()`)
	p.do(fmt.Sprintf("unticking %s=%s", name, value), chromedp.Click(lbl))
	if p.isChecked(name, value) {
		p.t.Fatalf("clicking the label of %s=%s did not clear it on %s", name, value, p.where())
	}
}

// TestClaimRecordWithACode: a care co-ordinator prints a code for someone
// whose record they made; that person, on a phone with JavaScript off,
// creates an account with the code and finds the referral made for them.
func TestClaimRecordWithACode(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	r := e.StaffReferral(t, "clinician", "Rowan Claimer")

	clin := b.newPage(t, e, "clinician")
	clin.signIn(e.Users["clinician"].Email, testkit.Password)
	if st := clin.open("/people/" + itoa(r.PersonID)); st != 200 {
		t.Fatalf("the person's page: %d", st)
	}
	clin.wantText("has no account joined to this record")
	clin.choose("how", "print")
	if st := clin.press("Invite them to claim their record"); st != 200 {
		t.Fatalf("printing a code: %d", st)
	}
	code := clin.text("#claim-code")
	if !person.LooksLikeCode(code) {
		t.Fatalf("the printed code %q is not a code", code)
	}
	clin.wantText("116 123", "shown once")

	p := b.newPage(t, e, "the person, on a phone without JavaScript")
	p.setViewport(mobile)
	p.disableJS()
	p.open("/sign-up")
	p.fill("name", "Rowan")
	p.fill("email", "rowan@example.org")
	p.choose("role", "person")
	p.fill("claim", "not a code")
	if st := p.press("Create account"); st != 422 {
		t.Fatalf("a mistyped code: %d, want 422", st)
	}
	p.wantSummaryError("Enter the code as it is written", "claim")
	if v := p.value("email"); v != "rowan@example.org" {
		t.Errorf("what was typed was lost: email %q", v)
	}
	p.fill("claim", strings.ToLower(code))
	if st := p.press("Create account"); st != 200 {
		t.Fatalf("creating the account: %d", st)
	}
	link := e.LastMailLink(t, "rowan@example.org")
	p.open(link)
	p.fill("password", "a long password for rowan")
	p.fill("confirm", "a long password for rowan")
	p.press("Set password and continue")
	p.wantPath("/")
	p.press("See your referrals and where they are")
	p.wantPath("/my/referrals")
	p.wantText(r.Reference)
	if strings.Contains(p.mainText(), "You have not asked for peer support yet") {
		t.Error("after claiming, the page says they have not asked for peer support")
	}
	p.follow("See the details, and choose who can see it")
	p.wantText("Test clinician referred you for peer support", "Who can see this referral")
	p.open("/my/record-access")
	if strings.Contains(p.mainText(), "Nobody else has looked at your record yet") {
		t.Error("after claiming, record access says nobody has looked")
	}
	p.wantText("Test clinician")
}

// TestWithdrawConsent: a person stops sharing their referral with whoever
// referred them, from their phone with JavaScript off; the referrer sees
// only that they made it from then on.
func TestWithdrawConsent(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	r := e.StaffReferral(t, "clinician", "Sage Sharer") // made with share_with_referrer
	inv, err := e.People.InviteToClaim(ctx, e.Principal(t, "clinician"), r.PersonID, person.InviteByPrint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Accounts.CreateUser(ctx, app.Operator("t"), account.NewUser{Email: "sage@example.org", Name: "Sage",
		Memberships: []app.Membership{{Role: app.RolePerson}}, Password: testkit.Password, Claim: inv.Code}); err != nil {
		t.Fatal(err)
	}
	clin := b.newPage(t, e, "clinician")
	clin.signIn(e.Users["clinician"].Email, testkit.Password)
	clin.open("/referrals/" + itoa(r.ID))
	clin.wantText("Someone to talk to who has been there")

	p := b.newPage(t, e, "the person")
	p.setViewport(mobile)
	p.disableJS()
	p.signIn("sage@example.org", testkit.Password)
	p.open("/my/referrals")
	p.follow("See the details, and choose who can see it")
	p.wantText("Who referred you: Test clinician")
	p.untick("share_with_referrer", "yes")
	if st := p.press("Save who can see it"); st != 200 {
		t.Fatalf("saving: %d", st)
	}
	if f := p.flash(); !strings.HasPrefix(f, "Saved") {
		t.Errorf("flash %q", f)
	}
	if p.isChecked("share_with_referrer", "yes") {
		t.Error("the choice was not kept")
	}

	clin.open("/referrals/" + itoa(r.ID))
	clin.wantText("not agreed to share updates")
	if strings.Contains(clin.mainText(), "Someone to talk to who has been there") {
		t.Error("the referrer still reads the referral after the person withdrew their agreement")
	}
}

// TestDownloadMyData: a person reads everything Mutual holds about them
// and downloads it as a file.
func TestDownloadMyData(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf,
		AskedFor: "Walking with others", TeamID: e.TeamA.ID})
	if err != nil {
		t.Fatal(err)
	}
	p := b.newPage(t, e, "the person")
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.press("Get a copy of everything Mutual holds about you")
	p.wantPath("/my/data")
	p.wantText("Your details", "Referrals and being told about peer support", "Walking with others", r.Reference, "Download it as a file (JSON)")
	p.setViewport(mobile)
	p.check()
	p.setViewport(desktop)
	href := eval[string](p, `(() => { const a = [...document.querySelectorAll('main a[download]')][0]; return a ? a.getAttribute('href') : ''; })()`)
	if href != "/my/data?format=json" {
		t.Fatalf("the download link is %q", href)
	}
	// The file the link downloads, fetched with the same session.
	got := eval[string](p, `fetch('/my/data?format=json').then(r => r.headers.get('Content-Disposition') + '\n' + r.status).catch(e => String(e))`)
	if !strings.Contains(got, "attachment") || !strings.HasSuffix(got, "200") {
		t.Fatalf("the download: %q", got)
	}
	body := eval[string](p, `fetch('/my/data?format=json').then(r => r.text())`)
	var c datarights.Copy
	if err := json.Unmarshal([]byte(body), &c); err != nil || len(c.Sections) < 2 || !strings.Contains(body, "Walking with others") {
		t.Fatalf("the downloaded copy: %v %.200s", err, body)
	}
}
