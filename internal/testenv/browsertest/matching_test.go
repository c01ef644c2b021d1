package browsertest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestPersonFillsInChoices: a person records their choices on a phone with
// JavaScript off, is told plainly what is wrong, fixes it, and sees what
// was recorded; then, with a worker allocated, sees who their worker is
// and what the worker shares with them, and asks for someone else.
func TestPersonFillsInChoices(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	p := b.newPage(t, e, "person on a phone, no JavaScript")
	p.setViewport(mobile)
	p.disableJS()
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.press("Your choices about who supports you, and your peer worker")
	p.wantPath("/my/choices")
	p.wantText("You do not have a peer worker yet", "Nothing has been recorded yet")

	// A must with nothing to be a must about.
	p.choose("worker_gender_must", "yes")
	if st := p.press("Save my choices"); st != 422 {
		t.Fatalf("a must with no gender: status %d, want 422", st)
	}
	p.wantSummaryError("Choose a gender before saying it is a must", "worker_gender_must")
	if !p.isChecked("worker_gender_must", "yes") {
		t.Error("what was ticked was not kept")
	}
	p.choose("worker_gender", "woman")
	p.fill("languages", "Polish")
	p.choose("themes", "psychosis")
	p.choose("places", "community")
	p.choose("places", "phone")
	p.choose("days", "tue")
	p.choose("review_frequency", "every_3_months")
	p.fill("avoid_topics", "My brother")
	if st := p.press("Save my choices"); st != 200 {
		t.Fatalf("saving choices: status %d", st)
	}
	if f := p.flash(); !strings.HasPrefix(f, "Your choices are saved") {
		t.Errorf("flash %q", f)
	}
	p.wantText("Worker: a woman (a must)", "Languages: Polish", "Meet: at a café or community place, by phone", "Not to talk about: My brother")
	if !p.isChecked("worker_gender", "woman") || p.value("languages") != "Polish" {
		t.Error("the form does not show what is recorded")
	}

	// A worker is allocated, who shares one thing with the people they
	// support and keeps another to themselves.
	ctx := context.Background()
	person := e.Principal(t, "person")
	r, err := e.Referrals.CreateReferral(ctx, person, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "Company", TeamID: e.TeamA.ID})
	if err != nil {
		t.Fatal(err)
	}
	lead, wid := e.Principal(t, "lead"), e.Users["worker"].ID
	if _, err := e.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: wid}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []matching.NewDisclosure{{Text: "I was on a ward too, a few years ago.", Audience: "supported"}, {Text: "Kept to myself.", Audience: "nobody"}} {
		if _, err := e.Matching.AddDisclosure(ctx, e.Principal(t, "worker"), wid, d); err != nil {
			t.Fatal(err)
		}
	}
	p.open("/my/choices")
	p.wantText("Test worker", "What Test worker has chosen to share with you", "I was on a ward too")
	if strings.Contains(p.mainText(), "Kept to myself") {
		t.Error("the person sees an item the worker kept to themselves")
	}
	p.press("Ask for a different worker")
	if f := p.flash(); !strings.Contains(f, "You do not need to give a reason") {
		t.Errorf("flash %q", f)
	}
	p.wantText("You have asked for a different worker")
}

// TestLeadMatchesAndPlans: a lead opens the best matches for one referral,
// is refused the last place of a full worker without a reason, gives one,
// and allocates; then plans the whole waiting list, changes a line, and
// commits it; and a plan made stale is refused with what changed.
func TestLeadMatchesAndPlans(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	lead := e.Principal(t, "lead")
	wid := e.Users["worker"].ID
	cap := 0
	if _, err := e.Matching.SaveWorkerProfile(ctx, lead, wid, matching.SaveWorkerProfile{Capacity: &matching.Capacity{HoursPerWeek: 37.5, CapOverride: &cap}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Matching.SaveWorkerProfile(ctx, e.Principal(t, "worker"), wid, matching.SaveWorkerProfile{Version: 1,
		Details: &matching.WorkerDetails{Gender: "woman", GenderForMatching: true}}); err != nil {
		t.Fatal(err)
	}
	accepted := func(name string) referral.Referral {
		r := e.StaffReferral(t, "clinician", name)
		r, err := e.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	sam := accepted("Sam")
	if _, err := e.Matching.SaveChoices(ctx, lead, sam.PersonID, matching.SaveChoices{WithPerson: true, Choices: matching.Choices{WorkerGender: "woman"}}); err != nil {
		t.Fatal(err)
	}
	others := []referral.Referral{accepted("Ali"), accepted("Bea")}

	p := b.newPage(t, e, "lead")
	p.signIn(e.Users["lead"].Email, testkit.Password)
	p.open("/referrals/" + strconv.FormatInt(sam.ID, 10))
	p.openDetails("Allocate a peer worker")
	p.press("See the best matches for Sam")
	p.wantPath("/referrals/" + strconv.FormatInt(sam.ID, 10) + "/matches")
	p.wantText("A woman", "Meets: A woman", "0 free places")
	p.choose("worker_id", strconv.FormatInt(wid, 10))
	if st := p.press("Allocate"); st != 409 {
		t.Fatalf("allocating a full worker without a reason: status %d, want 409", st)
	}
	p.wantText("Test worker has no free places")
	p.fill("over_cap_reason", "Sam asked for a woman and she is the only one")
	if st := p.press("Allocate"); st != 200 {
		t.Fatalf("allocating with a reason: status %d", st)
	}
	if f := p.flash(); f != "Referral "+sam.Reference+" is now allocated to Test worker" {
		t.Errorf("flash %q", f)
	}

	// The whole waiting list, without JavaScript.
	p.disableJS()
	p.press("Allocation")
	p.wantPath("/matching/plans/new")
	if st := p.press("Make a plan"); st != 200 {
		t.Fatalf("making a plan: status %d", st)
	}
	p.wantText("2 people waiting: 2 could be allocated now", "How the plan is made")
	planPath := p.Path()
	// Something changes before it is committed.
	late := accepted("Cal")
	if st := p.press("Commit the plan"); st != 409 {
		t.Fatalf("committing a stale plan: status %d, want 409", st)
	}
	p.wantText("This plan is out of date", late.Reference+" joined the waiting list")
	p.follow("Make a new plan")
	if st := p.press("Make a plan"); st != 200 {
		t.Fatalf("making a new plan: status %d", st)
	}
	if p.Path() == planPath {
		t.Fatal("the new plan is the old one")
	}
	// The lead keeps Bea waiting, and commits the rest.
	p.fill("worker_"+strconv.FormatInt(others[1].ID, 10), "0")
	if st := p.press("Commit the plan"); st != 200 {
		t.Fatalf("committing: status %d", st)
	}
	if f := p.flash(); f != "Plan committed: 2 people allocated, 1 person still waiting." {
		t.Errorf("flash %q", f)
	}
	var status string
	if err := e.DB.QueryRow(ctx, "SELECT status FROM referrals WHERE id = $1", others[1].ID).Scan(&status); err != nil || status != "accepted" {
		t.Errorf("Bea: %s %v, want still waiting", status, err)
	}
	if err := e.DB.QueryRow(ctx, "SELECT status FROM referrals WHERE id = $1", others[0].ID).Scan(&status); err != nil || status != "allocated" {
		t.Errorf("Ali: %s %v, want allocated", status, err)
	}
}

// TestWorkerRevokesDisclosure: a worker adds an experience for their lead
// only, the lead reads it, the worker sees that the lead read it and
// withdraws it, and the lead no longer sees it.
func TestWorkerRevokesDisclosure(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	w := b.newPage(t, e, "worker, no JavaScript")
	w.disableJS()
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.press("Your peer worker profile, disclosures and caseload")
	w.wantPath("/my/profile")
	w.wantText("People allocated now", "Nobody else has been shown your disclosures yet")
	// An empty item is refused field by field.
	w.openDetails("Add something about your experience")
	if st := w.press("Add"); st != 422 {
		t.Fatalf("adding nothing: status %d, want 422", st)
	}
	w.wantSummaryError("Write a short sentence about the experience", "text")
	w.fill("text", "I have been a carer for my mum.")
	w.choose("audience", "lead")
	if st := w.press("Add"); st != 200 {
		t.Fatalf("adding: status %d", st)
	}
	w.wantText("I have been a carer for my mum.", "My team lead")

	l := b.newPage(t, e, "lead")
	l.setViewport(mobile)
	l.signIn(e.Users["lead"].Email, testkit.Password)
	path := "/workers/" + strconv.FormatInt(e.Users["worker"].ID, 10)
	l.open(path)
	l.wantText("I have been a carer for my mum.")

	w.open("/my/profile")
	w.wantText("Who has read your disclosures", "Test lead")
	w.press("Withdraw")
	if f := w.flash(); f != "Withdrawn. Nobody can see it any more." {
		t.Errorf("flash %q", f)
	}
	l.open(path)
	if strings.Contains(l.mainText(), "I have been a carer") {
		t.Error("the lead still sees a withdrawn item")
	}
	l.wantText("Test worker has not shared anything about their own experience with you here")
}
