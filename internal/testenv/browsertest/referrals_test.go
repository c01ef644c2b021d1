package browsertest

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

var referenceRE = regexp.MustCompile(`MUT-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}`)

// TestSelfReferralWithoutJavaScript asks for peer support with no account,
// on a phone-sized screen with JavaScript switched off.
func TestSelfReferralWithoutJavaScript(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	p := b.newPage(t, e, "someone on a phone, no JavaScript")
	p.setViewport(mobile)
	p.disableJS()

	if st := p.open("/"); st != 200 {
		t.Fatalf("GET /: %d", st)
	}
	if eval[bool](p, `document.body.classList.contains('js-enabled')`) {
		t.Fatal("the page's script ran: JavaScript is not switched off")
	}
	if w := eval[int](p, `document.documentElement.clientWidth`); w != 375 {
		t.Errorf("viewport width = %d, want 375", w)
	}
	p.open("/refer")
	if h1 := p.h1(); h1 != "Ask for peer support" {
		t.Errorf("h1 on /refer = %q", h1)
	}
	p.press("For myself")
	p.wantPath("/refer/self")

	// Sending the empty form shows each problem next to its field.
	if st := p.press("Send my request"); st != 422 {
		t.Errorf("empty form: status %d, want 422", st)
	}
	p.wantPath("/refer/self")
	for _, want := range []struct{ id, text string }{
		{"preferred_name", "Enter a name"},
		{"phone", "Enter a phone number or an email address"},
		{"asked_for", "Tell us a little about what you would like support with"},
	} {
		p.wantSummaryError(want.text, want.id)
		if msg := p.fieldError(want.id); !strings.Contains(msg, want.text) {
			t.Errorf("message next to %s = %q, want %q", want.id, msg, want.text)
		}
		// The message is inside the field's own form group, and the field
		// is described by it.
		ok := eval[bool](p, `(() => { const f = document.getElementById(`+quote(want.id)+`), m = document.getElementById(`+quote(want.id+"-error")+`);
  return !!(f && m && m.closest('.nhsuk-form-group--error') && m.closest('.nhsuk-form-group--error').contains(f) && (f.getAttribute('aria-describedby') || '').split(' ').includes(m.id)); })()`)
		if !ok {
			t.Errorf("the error for %s is not next to the field or not tied to it with aria-describedby", want.id)
		}
	}

	p.fill("preferred_name", "Sam")
	p.fill("phone", "07700 900 123")
	p.fill("asked_for", "Someone to talk to who has been there")
	if st := p.press("Send my request"); st != 200 {
		t.Fatalf("sending the request: status %d", st)
	}
	p.wantPath("/refer/received")
	if h1 := p.h1(); h1 != "We have your request" {
		t.Errorf("h1 = %q", h1)
	}
	ref := p.text(".nhsuk-panel__body strong")
	if !referenceRE.MatchString(ref) || len(ref) != 13 {
		t.Fatalf("reference on the confirmation page = %q, want MUT-XXXX-XXXX", ref)
	}
	p.wantText("What happens next", "Someone from the peer support team will read your request", "If things get worse while you wait")
	tels := eval[[]string](p, `[...document.querySelectorAll('main a[href^="tel:"]')].map(a => a.getAttribute('href'))`)
	for _, n := range []string{"tel:999", "tel:111", "tel:116123"} {
		if !contains(tels, n) {
			t.Errorf("crisis number %s not linked on the confirmation page; tel: links are %v", n, tels)
		}
	}

	// The referral is in the database as the person gave it.
	var source, status, askedFor, name, phone string
	err := e.DB.QueryRow(context.Background(), `SELECT r.source, r.status, r.asked_for, p.preferred_name, p.phone
		FROM referrals r JOIN people p ON p.id = r.person_id WHERE r.reference = $1`, ref).Scan(&source, &status, &askedFor, &name, &phone)
	if err != nil {
		t.Fatalf("referral %s not in the database: %v", ref, err)
	}
	if source != "self" || status != "received" || askedFor != "Someone to talk to who has been there" || name != "Sam" || !strings.Contains(strings.ReplaceAll(phone, " ", ""), "07700900123") {
		t.Errorf("stored referral = %s %s %q %q %q", source, status, askedFor, name, phone)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestReferralDoors makes referrals through the carer, staff, partner and
// community doors, then the peer lead triages one, the worker supports
// the person and the referrer is kept informed.
func TestReferralDoors(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})

	// A carer refers someone they care for who could not be asked.
	carer := b.newPage(t, e, "carer")
	carer.signIn(e.Users["carer"].Email, testkit.Password)
	carer.press("Refer someone you care for")
	carer.wantPath("/referrals/new")
	carer.fill("relationship", "Mother")
	carer.fill("person.preferred_name", "Robin")
	carer.fill("person.phone", "07700 900 201")
	carer.fill("asked_for", "Getting out of the house and meeting people")
	carer.choose("person_knows", "yes")
	carer.choose("consent", "not_obtained")
	carer.fill("consent_reason", "Robin was too unwell to talk about it this week")
	if st := carer.press("Send referral"); st != 200 {
		t.Fatalf("carer referral: status %d", st)
	}
	carer.wantPath("/my/referrals")
	carerRef := referenceRE.FindString(carer.flash())
	if carerRef == "" {
		t.Errorf("carer: flash %q has no reference", carer.flash())
	}
	carer.wantText("Referral for Robin")

	// A clinician refers someone new, with their agreement.
	clin := b.newPage(t, e, "clinician")
	clin.signIn(e.Users["clinician"].Email, testkit.Password)
	clin.press("Make a referral for peer support")
	clin.wantPath("/referrals/new")
	clin.fill("person.preferred_name", "Jordan")
	clin.fill("person.full_name", "Jordan Ellis")
	clin.fill("person.email", "jordan@test.example")
	clin.fill("asked_for", "Someone who has been through psychosis")
	clin.choose("person_knows", "yes")
	clin.choose("consent", "given")
	clin.choose("share_with_referrer", "yes") // Jordan agreed that the clinician follows it
	if st := clin.press("Send referral"); st != 200 {
		t.Fatalf("clinician referral: status %d", st)
	}
	jordanPath := clin.Path()
	if !strings.HasPrefix(jordanPath, "/referrals/") {
		t.Fatalf("after the clinician's referral: at %s", jordanPath)
	}
	jordanRef := referenceRE.FindString(clin.h1())
	if jordanRef == "" || !strings.Contains(clin.flash(), jordanRef) {
		t.Errorf("clinician: h1 %q, flash %q", clin.h1(), clin.flash())
	}
	clin.wantText("Received", "Jordan")

	// A partner-agency worker refers someone.
	partner := b.newPage(t, e, "partner")
	partner.signIn(e.Users["partner"].Email, testkit.Password)
	partner.open("/referrals/new")
	partner.fill("person.preferred_name", "Morgan")
	partner.fill("person.phone", "07700 900 305")
	partner.fill("asked_for", "Help to go to a group")
	partner.choose("person_knows", "yes")
	partner.choose("consent", "given")
	if st := partner.press("Send referral"); st != 200 {
		t.Fatalf("partner referral: status %d", st)
	}
	partnerRef := referenceRE.FindString(partner.flash())
	if partnerRef == "" {
		t.Errorf("partner: flash %q", partner.flash())
	}

	// A peer worker records someone they met at a group.
	worker := b.newPage(t, e, "worker")
	worker.signIn(e.Users["worker"].Email, testkit.Password)
	worker.open("/referrals/new")
	if st := worker.press("Send referral"); st != 422 {
		t.Errorf("empty community referral: status %d, want 422", st)
	}
	worker.wantSummaryError("Say where you met the person", "met_at")
	worker.fill("person.preferred_name", "Casey")
	worker.fill("met_at", "Tuesday hearing voices group")
	worker.fill("asked_for", "Keeping in touch between groups")
	worker.choose("person_knows", "yes")
	worker.choose("consent", "given")
	if st := worker.press("Send referral"); st != 200 {
		t.Fatalf("community referral: status %d", st)
	}
	caseyRef := referenceRE.FindString(worker.flash())
	if caseyRef == "" {
		t.Errorf("worker: flash %q", worker.flash())
	}
	worker.wantText("Tuesday hearing voices group")

	for _, c := range []struct{ ref, source, consent, reason, relationship, metAt string }{
		{carerRef, "carer", "not_obtained", "Robin was too unwell to talk about it this week", "Mother", ""},
		{jordanRef, "staff", "given", "", "", ""},
		{partnerRef, "partner", "given", "", "", ""},
		{caseyRef, "community", "given", "", "", "Tuesday hearing voices group"},
	} {
		var source, consent, reason, relationship, metAt string
		err := e.DB.QueryRow(context.Background(), `SELECT source, consent, consent_reason, referrer_relationship, met_at
			FROM referrals WHERE reference = $1`, c.ref).Scan(&source, &consent, &reason, &relationship, &metAt)
		if err != nil || source != c.source || consent != c.consent || reason != c.reason || relationship != c.relationship || metAt != c.metAt {
			t.Errorf("referral %s stored as %q %q %q %q %q (%v), want %q %q %q %q %q", c.ref, source, consent, reason, relationship, metAt, err,
				c.source, c.consent, c.reason, c.relationship, c.metAt)
		}
	}

	// Three days later the peer lead looks at the waiting list.
	e.Clock.Advance(3 * 24 * time.Hour)
	lead := b.newPage(t, e, "lead")
	lead.signIn(e.Users["lead"].Email, testkit.Password)
	lead.press("The waiting list")
	lead.wantPath("/referrals")
	rows := lead.texts("main table tbody tr")
	for _, ref := range []string{carerRef, jordanRef, partnerRef, caseyRef} {
		var row string
		for _, r := range rows {
			if strings.Contains(r, ref) {
				row = r
			}
		}
		if row == "" {
			t.Errorf("lead's waiting list has no row for %s; rows: %q", ref, rows)
		} else if !strings.Contains(row, "3 days") {
			t.Errorf("row for %s does not say it has waited 3 days: %q", ref, row)
		}
	}

	// The lead accepts the clinician's referral and allocates the worker:
	// the list links each person to their referral.
	lead.press("Jordan")
	lead.wantPath(jordanPath)
	lead.wantText("Waiting so far", "3 days")
	lead.openDetails("Accept onto the waiting list")
	lead.press("Accept referral")
	if f := lead.flash(); f != "Referral "+jordanRef+" is now: on the waiting list" {
		t.Errorf("after accepting: flash %q", f)
	}
	lead.openDetails("Allocate a peer worker")
	lead.choose("worker_id", itoa(e.Users["worker"].ID))
	lead.fill("allocated-note", "Casey's group facilitator knows Jordan's area")
	lead.press("Allocate")
	if f := lead.flash(); f != "Referral "+jordanRef+" is now: peer worker allocated" {
		t.Errorf("after allocating: flash %q", f)
	}
	lead.wantText("Test worker has been allocated")

	// The worker records a first contact and starts peer support.
	worker.signIn(e.Users["worker"].Email, testkit.Password) // the session idled out over three days
	worker.open(jordanPath)
	worker.openDetails("Record a contact")
	worker.choose("mode", "in_person")
	worker.fill("minutes", "45")
	worker.fill("contact_note", "We met at the library cafe and talked about the hearing voices group.")
	worker.press("Record contact")
	if f := worker.flash(); f != "Contact recorded" {
		t.Errorf("after recording a contact: flash %q", f)
	}
	worker.wantText("We met at the library cafe", "In person", "45")
	worker.openDetails("Start peer support")
	worker.press("Start peer support")
	if f := worker.flash(); f != "Referral "+jordanRef+" is now: receiving peer support" {
		t.Errorf("after starting support: flash %q", f)
	}
	worker.wantText("Receiving peer support from Test worker")
	var status string
	if err := e.DB.QueryRow(context.Background(), "SELECT status FROM referrals WHERE reference = $1", jordanRef).Scan(&status); err != nil || status != "active" {
		t.Errorf("stored status %q (%v), want active", status, err)
	}

	// The clinician who referred sees what happened on their home page.
	clin.signIn(e.Users["clinician"].Email, testkit.Password)
	clin.wantPath("/")
	updates := clin.texts("main ul.nhsuk-list--border li")
	var accepted, allocated bool
	for _, u := range updates {
		accepted = accepted || strings.Contains(u, jordanRef) && strings.Contains(u, "accepted onto the peer support waiting list")
		allocated = allocated || strings.Contains(u, jordanRef) && strings.Contains(u, "allocated to a peer support worker, Test.")
	}
	if !accepted || !allocated {
		t.Errorf("clinician's updates = %q, want the acceptance and the allocation of %s", updates, jordanRef)
	}
	clin.wantText("new updates")
	clin.press("Mark all as read")
	if strings.Contains(clin.mainText(), "new updates") {
		t.Error("updates still new after marking them read")
	}
}

// TestOffersLedger records that a clinician told someone about peer
// support and they were interested, which makes a referral.
func TestOffersLedger(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	pe, err := e.People.Create(context.Background(), e.Principal(t, "clinician"),
		person.Details{PreferredName: "Taylor", FullName: "Taylor Green", Phone: "07700 900 411"}, true)
	if err != nil {
		t.Fatal(err)
	}
	p := b.newPage(t, e, "clinician")
	p.signIn(e.Users["clinician"].Email, testkit.Password)
	path := "/people/" + itoa(pe.ID)
	if st := p.open(path); st != 200 {
		t.Fatalf("GET %s: %d", path, st)
	}
	p.wantText("No record that Taylor has been told about peer support in the last 12 months",
		"There is no record of anyone telling Taylor about peer support")

	// Time the clinician's part: from the page loading to the
	// confirmation, without the accessibility checks.
	p.nav(path)
	start := time.Now()
	p.choose("method", "review")
	p.follow("Interested — refer now")
	took := time.Since(start)
	t.Logf("from the person's page loading to the confirmation: %v", took.Round(time.Millisecond))
	p.check()

	p.wantPath(path)
	f := p.flash()
	ref := referenceRE.FindString(f)
	if ref == "" || !strings.Contains(f, "referral "+ref+" made with their agreement") {
		t.Errorf("flash = %q, want it to say a referral was made", f)
	}
	if strings.Contains(p.mainText(), "No record that Taylor has been told") {
		t.Error("the prompt to tell Taylor is still shown after recording it")
	}
	p.wantText("At a care review", "Test clinician", "See referral", ref)
	var method, response string
	var referralID *int64
	if err := e.DB.QueryRow(context.Background(), "SELECT method, response, referral_id FROM offers WHERE person_id = $1", pe.ID).Scan(&method, &response, &referralID); err != nil {
		t.Fatalf("offer not stored: %v", err)
	}
	if method != "review" || response != "interested" || referralID == nil {
		t.Errorf("stored offer = %s %s %v", method, response, referralID)
	}
}

// TestMyRecord shows a signed-in person their referral and who has seen
// their record.
func TestMyRecord(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ref, err := e.Referrals.CreateReferral(context.Background(), e.Principal(t, "person"), referral.NewReferral{
		Source: referral.SourceSelf, TeamID: e.TeamA.ID, AskedFor: "Feeling less alone"})
	if err != nil {
		t.Fatal(err)
	}

	// A peer lead opens the referral.
	lead := b.newPage(t, e, "lead")
	lead.signIn(e.Users["lead"].Email, testkit.Password)
	if st := lead.open("/referrals/" + itoa(ref.ID)); st != 200 {
		t.Fatalf("lead opening the referral: %d", st)
	}
	lead.wantText(ref.Reference, "Feeling less alone")

	p := b.newPage(t, e, "person")
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.press("See your referrals and where they are")
	p.wantPath("/my/referrals")
	p.wantText(ref.Reference, "Your request for peer support", "Feeling less alone", "North Community Team")

	p.open("/")
	p.press("See who has looked at your record")
	p.wantPath("/my/record-access")
	rows := p.texts("main table tbody tr")
	var sawLead bool
	for _, r := range rows {
		if strings.Contains(r, "Test lead") {
			sawLead = true
		}
	}
	if !sawLead {
		t.Errorf("record access rows = %q, want the peer lead who opened the referral", rows)
	}
	for _, r := range rows {
		if strings.Contains(r, "Test person") {
			t.Errorf("the person's own views are listed: %q", r)
		}
	}
}
