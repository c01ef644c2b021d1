package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestReadingAndCommentingOnANote: a person, on a phone with JavaScript
// off, reads the note of a contact (told that a restricted note exists,
// never its words), asks for a correction (an empty request is refused
// with the choice kept), and reads the worker's answer; the worker answers
// on the contact's page at desktop size. axe runs on every page at 1280 and
// 375 px.
func TestReadingAndCommentingOnANote(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	own := e.Allocated(t, "person", "worker")
	c, err := e.Referrals.RecordContact(ctx, e.Principal(t, "worker"), own.ID, referral.NewContact{At: e.Clock.Now(), Mode: "in_person", Minutes: 45,
		Note: "We walked to the library and talked about the art group", SupportTypes: []string{"social"}})
	if err != nil {
		t.Fatal(err)
	}
	const restricted = "RESTRICTED-BROWSER-CANARY"
	if _, err := e.Referrals.AddRestrictedNote(ctx, e.Principal(t, "worker"), c.ID, referral.NewRestrictedNote{Note: restricted, Reason: "Safeguarding"}); err != nil {
		t.Fatal(err)
	}

	p := b.newPage(t, e, "the person, on a phone without JavaScript")
	p.setViewport(mobile)
	p.disableJS()
	p.signIn(e.Users["person"].Email, testkit.Password)
	if st := p.open("/my/referrals/" + itoa(own.ID)); st != 200 {
		t.Fatalf("their referral: %d", st)
	}
	p.wantText("We walked to the library", "There is also a restricted note")
	if strings.Contains(p.mainText(), restricted) {
		t.Fatal("the person's page shows the restricted note")
	}
	p.openDetails("Comment or ask for a correction")
	p.choose("kind", "correction")
	if st := p.press("Send"); st != 422 {
		t.Fatalf("an empty request: %d, want 422", st)
	}
	p.wantSummaryError("Enter what should be corrected", "body")
	if !p.isChecked("kind", "correction") {
		t.Error("the choice of a correction was lost")
	}
	p.fill("body", "It was the museum, not the library")
	if st := p.press("Send"); st != 200 {
		t.Fatalf("asking for a correction: %d", st)
	}
	p.wantText("Your request has been sent", "Waiting for an answer")

	w := b.newPage(t, e, "the worker")
	w.signIn(e.Users["worker"].Email, testkit.Password)
	if st := w.open("/contacts/" + itoa(c.ID)); st != 200 {
		t.Fatalf("the contact: %d", st)
	}
	w.wantText("It was the museum, not the library", restricted)
	var kid int64
	if err := e.DB.QueryRow(ctx, "SELECT id FROM contact_comments WHERE contact_id = $1", c.ID).Scan(&kid); err != nil {
		t.Fatal(err)
	}
	w.choose("answer", "corrected")
	w.fill("answer-"+itoa(kid)+"-note", "We walked to the museum and talked about the art group")
	if st := w.press("Record the answer"); st != 200 {
		t.Fatalf("correcting: %d", st)
	}
	w.wantText("Answer recorded", "We walked to the library")

	if st := p.open("/my/referrals/" + itoa(own.ID)); st != 200 {
		t.Fatalf("their referral again: %d", st)
	}
	p.wantText("We walked to the museum", "This note was edited", "Corrected by")
}
