package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestPersonChoosesWhatANewWorkerSees: a person, on a phone with
// JavaScript off, reads that a new peer worker would see a summary until
// they choose, chooses to share nothing, is told plainly when their worker
// changed the choice on their say meanwhile (409, what they chose kept),
// and settles on a summary; the new worker, after the handover, reads the
// earlier contact as a summary without its note. Axe at 1280 and 375 px on
// each page.
func TestPersonChoosesWhatANewWorkerSees(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	r := e.Allocated(t, "person", "worker")
	e.Clock.Advance(time.Hour)
	const canary = "WALKED-TO-THE-LIBRARY-CANARY"
	if _, err := e.Referrals.RecordContact(ctx, e.Principal(t, "worker"), r.ID, referral.NewContact{At: e.Clock.Now().Add(-time.Minute), Mode: "phone",
		Minutes: 20, SupportTypes: []string{"practical"}, Note: "We " + canary}); err != nil {
		t.Fatal(err)
	}

	p := b.newPage(t, e, "the person, on a phone without JavaScript")
	p.setViewport(mobile)
	p.disableJS()
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.open("/my/referrals/" + itoa(r.ID))
	p.wantText("If your peer worker changes", "You have not chosen yet, so a new worker would see a summary only")
	if !p.isChecked("handover_share", "summary") {
		t.Error("no choice yet does not show the summary chosen")
	}
	p.check()
	p.choose("handover_share", "none")
	if st := p.press("Save what a new worker sees"); st != 200 {
		t.Fatalf("saving: %d", st)
	}
	if f := p.flash(); !strings.HasPrefix(f, "Saved") || !strings.Contains(f, "none of the contacts") {
		t.Errorf("flash %q", f)
	}
	if !p.isChecked("handover_share", "none") {
		t.Error("the choice was not kept")
	}
	p.wantText("You chose: none of the contacts: a fresh start")
	p.check()

	// Their worker records a change on their say while the page is open.
	if _, err := e.Referrals.ChooseHandoverSharing(ctx, e.Principal(t, "worker"), r.ID, referral.HandoverChoice{Share: "all", Version: 1,
		Agreement: "Told me on the phone"}); err != nil {
		t.Fatal(err)
	}
	p.choose("handover_share", "summary")
	if st := p.press("Save what a new worker sees"); st != 409 {
		t.Fatalf("a stale choice: %d, want 409", st)
	}
	p.wantSummaryError("changed by someone else", "handover_share")
	if !p.isChecked("handover_share", "summary") {
		t.Error("what was chosen was lost")
	}
	p.check()
	p.open("/my/referrals/" + itoa(r.ID))
	p.wantText("Test worker recorded it for you", "Told me on the phone")
	p.choose("handover_share", "summary")
	if st := p.press("Save what a new worker sees"); st != 200 {
		t.Fatalf("saving again: %d", st)
	}

	// The handover; the new worker reads the earlier contact as a summary.
	e.AddWorker(t, "incoming", "A")
	if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), r.ID, referral.Move{To: referral.Allocated, WorkerID: e.Users["incoming"].ID}); err != nil {
		t.Fatal(err)
	}
	w := b.newPage(t, e, "the new worker")
	w.signIn(e.Users["incoming"].Email, testkit.Password)
	w.open("/referrals/" + itoa(r.ID))
	w.wantText("If the peer worker changes", "The person chose: a summary only", "Summary only: the person did not agree to share notes")
	if strings.Contains(w.mainText(), canary) {
		t.Error("the new worker reads the earlier note")
	}
	w.check()
}
