package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// supported gives the world's "person" a record, referred to team A and
// allocated to the world's worker, and returns their id.
func supported(t *testing.T, e *webtest.Env) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: e.TeamA.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: e.Users["worker"].ID}} {
		if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), r.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	return r.PersonID
}

// rateAll answers every DIALOG+ item by clicking its labels, as a person
// would.
func rateAll(p *page, rating func(i int) string, help func(i int) string) {
	p.t.Helper()
	for i, it := range recovery.Items {
		p.choose("rating."+string(it.Code), rating(i))
		p.choose("help."+string(it.Code), help(i))
	}
}

// TestPersonCompletesDialogAndSeesTrend: someone on a phone with
// JavaScript off fills in DIALOG+ on their own before a meeting, is told
// what is missing, agrees an action with their worker, fills it in again
// three months later and sees each area's trend as a chart with its table,
// compared with last time.
func TestPersonCompletesDialogAndSeesTrend(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	supported(t, e)
	p := b.newPage(t, e, "person on a phone, no JavaScript")
	p.setViewport(mobile)
	p.disableJS()
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.press("My plan")
	p.wantPath("/my/plan")
	p.wantText("This plan is yours", "No DIALOG+ ratings yet")
	p.press("Fill in DIALOG+ before your next meeting")
	p.wantPath("/my/dialog/new")

	// Sending it empty names what is missing, linked to the first box.
	if st := p.press("Save ratings"); st != 422 {
		t.Fatalf("empty DIALOG+: %d, want 422", st)
	}
	p.wantSummaryError("Rate how satisfied you are with mental health, from 1 to 7", "rating-mental_health")
	p.wantSummaryError("Say whether you would like more help with mental health", "help-mental_health")

	// The first time: mostly 3s, the job situation low, and help wanted.
	rateAll(p, func(i int) string {
		if recovery.Items[i].Code == recovery.Job {
			return "2"
		}
		return "3"
	}, func(i int) string {
		if recovery.Items[i].Code == recovery.Job {
			return "yes"
		}
		return "no"
	})
	p.fill("d1.item", "job")
	p.fill("d1.understanding", "I miss having a routine and some days I feel "+testkit.RiskMarker)
	p.fill("d1.actions", "Ask the volunteer centre about Tuesdays")
	if st := p.press("Save ratings"); st != 200 {
		t.Fatalf("saving DIALOG+: %d", st)
	}
	p.wantPath("/my/dialog")
	if f := p.flash(); f != "Your ratings are saved" {
		t.Errorf("flash %q", f)
	}
	p.wantText("Compared with last time", "First time", "Ask the volunteer centre about Tuesdays")
	// Words that sound like distress bring how to get help now to the top.
	p.wantText("If things are hard right now, you can get help straight away")
	tels := eval[[]string](p, `[...document.querySelectorAll('main .app-signpost a[href^="tel:"]')].map(a => a.getAttribute('href'))`)
	for _, n := range []string{"tel:999", "tel:111", "tel:116123"} {
		if !contains(tels, n) {
			t.Errorf("signposting lacks %s: %v", n, tels)
		}
	}
	if len(e.Concerns.List()) != 1 {
		t.Errorf("concerns raised: %+v", e.Concerns.List())
	}

	// Three months later, the action comes back and things are better.
	e.Clock.Advance(91 * 24 * time.Hour)
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.open("/my/dialog/new")
	p.wantText("Last time, you agreed", "Ask the volunteer centre about Tuesdays")
	p.fill("followup", "I went twice and liked it")
	rateAll(p, func(i int) string {
		if recovery.Items[i].Code == recovery.Job {
			return "5"
		}
		return "4"
	}, func(int) string { return "no" })
	if st := p.press("Save ratings"); st != 200 {
		t.Fatalf("saving DIALOG+ again: %d", st)
	}
	p.wantPath("/my/dialog")

	// The trend: eleven charts, each an image with a text alternative and
	// a table of the same ratings beside it, and the comparison table.
	charts := eval[int](p, `document.querySelectorAll('main svg[role=img]').length`)
	if charts != 11 {
		t.Errorf("%d charts, want 11", charts)
	}
	desc := eval[string](p, `document.getElementById('chart-job-desc').textContent`)
	if !strings.Contains(desc, "rated 5 out of 7") || !strings.Contains(desc, "2 the time before") {
		t.Errorf("the job chart's description: %q", desc)
	}
	jobRows := p.texts("main table caption")
	if !contains(jobRows, "Job situation") {
		t.Errorf("no table beside the job chart; captions %q", jobRows)
	}
	var jobChange string
	for _, row := range p.texts("main table tbody tr") {
		if strings.HasPrefix(row, "Area Job situation") || strings.HasPrefix(row, "Job situation") {
			jobChange = row
			break
		}
	}
	if !strings.Contains(jobChange, "Up 3") {
		t.Errorf("the comparison row for the job situation = %q, want Up 3", jobChange)
	}
	p.wantText("How last time's actions went", "I went twice and liked it")

	// The plan page shows the latest against last time too.
	p.open("/my/plan")
	p.wantText("Rated 2 times", "Up 3")
}

// TestWorkerRecordsReview: a worker, without JavaScript, records a review
// with the person: told what is missing, then the review is on the plan and
// the next one is set in the weeks and with the people the person chose.
func TestWorkerRecordsReview(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	pid := supported(t, e)
	ctx := context.Background()
	if _, err := e.Recovery.SavePlan(ctx, e.Principal(t, "person"), pid, recovery.PlanChange{WhatMatters: new("My dog"),
		Reviews: &recovery.ReviewChoices{Weeks: 6, Attendees: "My sister Ana", Place: "The library café"}}); err != nil {
		t.Fatal(err)
	}
	// Support began; the first review falls due.
	e.Clock.Advance(7 * 7 * 24 * time.Hour)
	w := b.newPage(t, e, "worker, no JavaScript")
	w.disableJS()
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.press("Reviews due")
	w.wantPath("/recovery/reviews")
	w.wantText("Test person", "Overdue")
	w.press("Test person")
	w.wantPath("/people/" + itoa(pid) + "/plan")
	w.wantText("My dog", "Every 6 weeks", "My sister Ana")
	w.press("Record a review, or arrange the next one")
	if st := w.press("Record the review"); st != 422 {
		t.Fatalf("an empty review: %d, want 422", st)
	}
	w.wantSummaryError("Say what was reviewed and what was agreed", "reviewed")
	w.fill("attendees", "Sam, Ana and me")
	w.fill("reviewed", "Goals and DIALOG+ ratings")
	w.fill("agreed", "Keep going to the walking group")
	if st := w.press("Record the review"); st != 200 {
		t.Fatalf("recording the review: %d", st)
	}
	if f := w.flash(); f != "Review recorded, and the next one set" {
		t.Errorf("flash %q", f)
	}
	w.wantText("Reviews held", "Keep going to the walking group", "Sam, Ana and me", "The library café")
	next := e.Clock.Now().Add(6 * 7 * 24 * time.Hour).In(time.FixedZone("", 0))
	w.wantText(next.Format("2 January 2006"))
	w.open("/recovery/reviews")
	w.wantText("No reviews are overdue or due in the next two weeks")

	// The person sees it on their own plan, and who changed what.
	p := b.newPage(t, e, "person")
	p.setViewport(mobile)
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.open("/my/plan")
	p.wantText("Keep going to the walking group", "Every 6 weeks", "Changes to this plan")
}

// TestAnonymousFeedbackToPublishedAnswer: someone with no account gives
// feedback on a phone without JavaScript, keeps the private link, and the
// lead moves it through every step to a published answer: the public page
// shows the answer and a summary, never the person's words.
func TestAnonymousFeedbackToPublishedAnswer(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	a := b.newPage(t, e, "anonymous on a phone, no JavaScript")
	a.setViewport(mobile)
	a.disableJS()
	a.open("/")
	a.press("Give feedback")
	a.wantPath("/feedback")
	if st := a.press("Send feedback"); st != 422 {
		t.Fatalf("empty feedback: %d, want 422", st)
	}
	a.wantSummaryError("Choose what your feedback is about", "about")
	a.wantSummaryError("Tell us what you would like to say", "body")
	a.choose("about", "group")
	a.fill("about_name", "Tuesday walking group")
	a.fill("team_id", itoa(e.TeamA.ID))
	a.fill("body", "Please run it in the evening too, I work days. PRIVATE-WORDS")
	a.choose("who", "anonymous")
	if st := a.press("Send feedback"); st != 200 {
		t.Fatalf("sending feedback: %d", st)
	}
	a.wantPath("/feedback/thanks")
	ref := a.text(".nhsuk-panel__body strong")
	if !strings.HasPrefix(ref, "FB-") {
		t.Fatalf("reference %q", ref)
	}
	link := a.text("main a[href*='/feedback/status/']")
	statusPath := link[strings.Index(link, "/feedback/status/"):]
	a.open(statusPath)
	a.wantText("To be acknowledged by", "Being considered")

	// The lead moves it on, step by step, to a published answer.
	l := b.newPage(t, e, "lead")
	l.signIn(e.Users["lead"].Email, testkit.Password)
	l.press("Feedback")
	l.wantPath("/feedback/inbox")
	l.press(ref)
	l.wantText("PRIVATE-WORDS", "Anonymous")
	l.press("Save")
	l.wantText("Record that it has been considered")
	if st := l.press("Save"); st != 422 {
		t.Fatalf("considered without a theme: %d", st)
	}
	l.wantSummaryError("Choose what the feedback is about", "theme")
	l.fill("theme", "groups")
	l.press("Save")
	l.wantText("Answer it")
	l.fill("answer", "We are starting an evening walk on Thursdays from January.")
	l.choose("publish", "yes")
	l.fill("public_summary", "People who work in the day asked for an evening walk.")
	l.press("Save")
	l.wantText("Record what changed", "Published on the team")
	l.fill("change_made", "The Thursday evening walk started on 8 January.")
	l.press("Save")
	if f := l.flash(); f != "Feedback "+ref+" is now: changed" {
		t.Errorf("flash %q", f)
	}

	// The public page: the answer and the summary, not the words.
	a.open("/you-said-we-did")
	a.press("North Community Team")
	a.wantText("People who work in the day asked for an evening walk.", "We are starting an evening walk", "The Thursday evening walk started")
	if strings.Contains(a.mainText(), "PRIVATE-WORDS") {
		t.Error("the public page shows the person's words")
	}
	a.open(statusPath)
	a.wantText("Our answer", "We are starting an evening walk", "What changed")
}
