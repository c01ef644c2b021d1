package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestRiskSelfReferralReachesTheLead: someone on a phone, with JavaScript
// off, asks for peer support and writes that they are thinking of ending
// their life. They are shown where to get help now, in words that do not
// blame them; the team's peer lead finds the alert on their home page and
// the referral at the top of the waiting list, marked possible risk, reads
// what was written with the words marked, sees how to get in touch, and
// records what they did — also without JavaScript.
func TestRiskSelfReferralReachesTheLead(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	// Others already waiting, longer.
	for i := range 3 {
		e.StaffReferral(t, "clinician", fmt.Sprintf("Earlier %d", i))
	}
	e.Clock.Advance(10 * 24 * time.Hour)

	p := b.newPage(t, e, "someone on a phone, no JavaScript")
	p.setViewport(mobile)
	p.disableJS()
	p.open("/refer/self")
	p.fill("preferred_name", "Robin")
	p.fill("phone", "07700 900 765")
	p.fill("team_id", itoa(e.TeamA.ID))
	p.fill("asked_for", "Honestly I'm thinking of ending my life tonight. I don't know who to talk to.")
	start := time.Now()
	if st := p.follow("Send my request"); st != 200 {
		t.Fatalf("sending the request: %d", st)
	}
	took := time.Since(start)
	// The lead's alert and its email were written with the referral: they
	// exist the moment the person sees their confirmation.
	var alerts, emails int
	_ = e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL").Scan(&alerts)
	_ = e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE to_address = $1", e.Users["lead"].Email).Scan(&emails)
	if alerts != 1 || emails != 1 {
		t.Fatalf("when the confirmation shows: %d open alerts, %d emails to the lead; want 1 and 1", alerts, emails)
	}
	t.Logf("from sending the form to the confirmation page, with the lead's alert and email already stored: %v", took.Round(time.Millisecond))
	p.check()
	p.wantPath("/refer/received")
	p.wantText("You can get help now", "Thank you for telling us", "You do not have to wait for peer support",
		"We have also asked the peer support team to read your request first")
	tels := eval[[]string](p, `[...document.querySelectorAll('#help-now a[href^="tel:"], #help-now a[href^="sms:"]')].map(a => a.getAttribute('href'))`)
	for _, n := range []string{"tel:999", "tel:111", "tel:116123", "sms:85258?body=SHOUT"} {
		if !contains(tels, n) {
			t.Errorf("%s is not linked in the help-now card; links: %v", n, tels)
		}
	}
	// The card comes before everything else on the page.
	if first := eval[string](p, `document.querySelector('main').firstElementChild.id`); first != "help-now" {
		t.Errorf("the first thing on the confirmation is %q, want the help-now card", first)
	}
	for _, word := range []string{"concern", "worrying", "flagged", "alarming"} {
		if strings.Contains(strings.ToLower(p.text("#help-now")), word) {
			t.Errorf("the help-now card says %q", word)
		}
	}
	ref := p.text(".nhsuk-panel__body strong")

	// The lead.
	lead := b.newPage(t, e, "peer lead")
	lead.signIn(e.Users["lead"].Email, testkit.Password)
	lead.wantPath("/")
	lead.wantText("1 possible-risk alert is waiting for you to record what you did")
	lead.press("See the alerts and respond")
	lead.wantPath("/alerts")
	lead.wantText(ref, "North Community Team", "Waiting for a response")
	lead.open("/referrals")
	rows := lead.texts("main table tbody tr")
	if len(rows) != 4 || !strings.Contains(rows[0], "Robin") || !strings.Contains(rows[0], "Possible risk") {
		t.Fatalf("the waiting list does not start with Robin, marked possible risk: %q", rows)
	}
	lead.disableJS()
	lead.press("Robin")
	lead.wantText("Possible risk: record what you did", "07700900765", "Words about suicide were found")
	if marked := lead.text("mark.app-mark"); marked != "ending my life" {
		t.Errorf("marked words: %q", marked)
	}
	// Nothing chosen: the problem is named next to the field, what was
	// typed is kept.
	lead.fill("alert_note", "Rang twice")
	if st := lead.press("Record what you did"); st != 422 {
		t.Fatalf("recording nothing: %d", st)
	}
	lead.wantSummaryError("Choose what you did", "alert_outcome")
	if v := lead.value("alert_note"); v != "Rang twice" {
		t.Errorf("the note typed was not kept: %q", v)
	}
	lead.choose("alert_outcome", "called_person")
	lead.fill("alert_note", "Spoke to Robin; they have the crisis line numbers and we meet tomorrow.")
	lead.press("Record what you did")
	if f := lead.flash(); !strings.Contains(f, "Response recorded") {
		t.Errorf("flash %q", f)
	}
	lead.wantText("Possible risk: answered", "Contacted the person", "we meet tomorrow")
	var outcome string
	_ = e.DB.QueryRow(ctx, "SELECT outcome FROM alerts").Scan(&outcome)
	if outcome != "called_person" {
		t.Errorf("stored outcome %q", outcome)
	}
	lead.open("/")
	if strings.Contains(lead.mainText(), "waiting for you to record what you did") {
		t.Error("the answered alert is still on the lead's home page")
	}
}

// TestWaitingListOf200 is a working list at 375 and 1280 pixels: one line
// per referral on a desktop, no sideways scrolling and no word broken
// mid-word on a phone, a page of 50 with numbered paging and the total.
func TestWaitingListOf200(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	clin := e.Principal(t, "clinician")
	urgencies := []referral.Urgency{referral.Routine, referral.Routine, referral.Routine, referral.Urgent, referral.VeryUrgent}
	for i := range 200 {
		asked := "Company and someone who has been there"
		if i%67 == 0 {
			asked = "Says they have been self-harming again"
		}
		if _, err := e.Referrals.CreateReferral(ctx, clin, referral.NewReferral{
			Person:   person.Details{PreferredName: fmt.Sprintf("%s %s", firstNames[i%len(firstNames)], lastNames[i%len(lastNames)]), Phone: fmt.Sprintf("07700 9%05d", i)},
			AskedFor: asked, PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, Urgency: urgencies[i%len(urgencies)]}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(3 * time.Hour)
	}
	lead := b.newPage(t, e, "peer lead")
	lead.signIn(e.Users["lead"].Email, testkit.Password)
	lead.setViewport(mobile)
	lead.open("/referrals") // checks no sideways scrolling at 375 px, and axe at both sizes
	lead.wantText("Showing 1 to 50 of 200 referrals")
	pages := lead.texts("main .nhsuk-pagination__item")
	if len(pages) == 0 || pages[len(pages)-1] != "4" {
		t.Errorf("numbered pages: %q", pages)
	}
	rows := lead.texts("main table tbody tr")
	if len(rows) != 50 || !strings.Contains(rows[0], "Possible risk") || !strings.Contains(rows[3], "Very urgent") {
		t.Errorf("the first rows: %q", rows[:min(5, len(rows))])
	}
	type layout struct {
		Height, MaxRow, MinRow float64
		Broken                 []string
	}
	measure := func() layout {
		return eval[layout](lead, `(() => {
  const rows = [...document.querySelectorAll('main table tbody tr')].map(r => r.getBoundingClientRect().height);
  const broken = [...document.querySelectorAll('main table td, main table td *')].filter(el => {
    const s = getComputedStyle(el);
    return s.wordBreak === 'break-all' || s.wordBreak === 'break-word' || s.overflowWrap === 'anywhere' || s.overflowWrap === 'break-word';
  }).map(el => el.outerHTML.slice(0, 80));
  return {Height: document.documentElement.scrollHeight, MaxRow: Math.max(...rows), MinRow: Math.min(...rows), Broken: broken.slice(0, 3)};
})()`)
	}
	phone := measure()
	lead.setViewport(desktop)
	wide := measure()
	t.Logf("a page of 50: %.0f px tall at 375 px (rows %.0f–%.0f px), %.0f px at 1280 px (rows %.0f–%.0f px)",
		phone.Height, phone.MinRow, phone.MaxRow, wide.Height, wide.MinRow, wide.MaxRow)
	if len(phone.Broken) > 0 || len(wide.Broken) > 0 {
		t.Errorf("PRODUCT: cells that may break words mid-word: %v %v", phone.Broken, wide.Broken)
	}
	// One line per referral on a desktop: the tallest row is no taller
	// than one line of text and its padding (a tag is a little taller).
	if wide.MaxRow > 60 {
		t.Errorf("PRODUCT: a row is %.0f px tall at 1280 px: more than one line", wide.MaxRow)
	}
	// On a phone each referral is a compact block, not a line per cell
	// (seven cells of about 44 px each would be over 300 px).
	if phone.MaxRow > 160 {
		t.Errorf("PRODUCT: a row is %.0f px tall at 375 px", phone.MaxRow)
	}
	lead.setViewport(mobile)
	lead.press("Next")
	lead.wantText("Showing 51 to 100 of 200 referrals")
	lead.open("/referrals?offset=150")
	lead.wantText("Showing 151 to 200 of 200 referrals")
	if got := lead.texts("main table tbody tr"); len(got) != 50 {
		t.Errorf("the last page has %d rows", len(got))
	}
}

var firstNames = []string{"Amira", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Harun", "Isla", "Jamal", "Kiran", "Lena", "Marek"}
var lastNames = []string{"Adeyemi", "Baker", "Campbell", "Davies", "Evans", "Gill", "Hussain", "Jones", "Kaur", "Lewis", "Nowak"}

// TestAdministratorKeepsTheWatchedWords: an administrator, without
// JavaScript, makes the organisation's list its own by adding a phrase,
// is told what is wrong with a phrase that cannot be matched, and sets the
// time to respond.
func TestAdministratorKeepsTheWatchedWords(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	admin := b.newPage(t, e, "administrator")
	admin.signIn(e.Users["admin"].Email, testkit.Password)
	admin.disableJS()
	admin.press("Risk words and alerts")
	admin.press("Test Trust")
	admin.wantText("Mutual's defaults", "Make a copy to change", "ending my life")
	admin.fill("phrase", "ov*")
	admin.fill("category", "means")
	if st := admin.press("Add to the list"); st != 422 {
		t.Fatalf("a phrase that cannot be matched: %d", st)
	}
	admin.wantSummaryError("This phrase cannot be matched", "phrase")
	if v := admin.value("phrase"); v != "ov*" {
		t.Errorf("what was typed was not kept: %q", v)
	}
	admin.fill("phrase", "no longer feel safe")
	admin.fill("category", "distress")
	admin.choose("action", "signpost")
	admin.press("Add to the list")
	if f := admin.flash(); !strings.Contains(f, "no longer feel safe") {
		t.Errorf("flash %q", f)
	}
	admin.wantText("no longer feel safe", "Remove")
	admin.fill("respond_hours", "2")
	admin.press("Save alert settings")
	if f := admin.flash(); f != "Alert settings saved" {
		t.Errorf("flash %q", f)
	}
	res, err := e.Referrals.CreateSelfReferral(context.Background(), app.Public("t"), referral.SelfReferral{
		Details: person.Details{PreferredName: "Sol", Phone: "07700 900877"}, AskedFor: "I no longer feel safe at home", TeamID: e.TeamA.ID})
	if err != nil || !res.Signpost || res.PossibleRisk {
		t.Fatalf("the new phrase at the door: %+v %v", res, err)
	}
}

// TestHomesForManagerAndModerator: a service manager sees the waiting list,
// the alerts (an escalated one among them) and equity at a glance; a
// moderator, who has nothing to do until the community opens, is told so.
func TestHomesForManagerAndModerator(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	e.StaffReferral(t, "clinician", "Waiting One")
	if _, err := e.Referrals.CreateSelfReferral(ctx, app.Public("t"), referral.SelfReferral{
		Details: person.Details{PreferredName: "Unanswered", Phone: "07700 900878"}, AskedFor: "I want to die", TeamID: e.TeamB.ID}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(6 * time.Hour)
	if n, err := e.Alerts.EscalateDue(ctx); err != nil || n != 1 {
		t.Fatalf("escalating: %d %v", n, err)
	}
	m := b.newPage(t, e, "service manager")
	m.signIn(e.Users["manager"].Email, testkit.Password)
	m.wantPath("/")
	m.check()
	m.wantText("At a glance, across every team", "people are waiting", "1 was not answered in time", "Equity of access")
	m.press("Possible-risk alerts")
	m.wantPath("/alerts")
	m.wantText("Sent to the service managers", "Ward 4")
	if strings.Contains(m.mainText(), "Unanswered") {
		t.Error("the manager sees the person's name")
	}

	mod := b.newPage(t, e, "moderator")
	mod.setViewport(mobile)
	mod.signIn(e.Users["moderator"].Email, testkit.Password)
	mod.check()
	mod.wantText("Moderation queue", "Where people can get help now")
}
