package browsertest

import (
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestAWorkerMarksATransitionDone: a young person on the worker's list
// turned 17 on a CAMHS transition caseload. The worker, on a phone with
// JavaScript off, finds the prompt, forgets to say what was done and is
// told clearly with the prompt's form still open, then marks it done. The
// page passes axe at 1280 and 375 px with no sideways scrolling.
func TestAWorkerMarksATransitionDone(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	pid := e.Allocated(t, "person", "worker").PersonID
	ctx := t.Context()
	if _, err := e.DB.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, setting, imported_at)
		VALUES ($1, 'CAMHS-B1', $2, 'clinician@test.example', $3, 'camhs_transition', $4)`, pid, e.TeamA.ID, e.Clock.Now().AddDate(-1, 0, 0).Truncate(24*time.Hour), e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(ctx, "UPDATE people SET date_of_birth = $1 WHERE id = $2", e.Clock.Now().AddDate(-17, 0, -2), pid); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Support.RaiseTransitionPrompts(ctx); err != nil || n != 1 {
		t.Fatalf("raised %d %v", n, err)
	}
	w := b.newPage(t, e, "peer worker on a phone, no JavaScript")
	w.setViewport(mobile)
	w.disableJS()
	w.signIn(e.Users["worker"].Email, testkit.Password)
	w.open("/my/transitions")
	w.check()
	w.checkNoSidewaysScroll("transitions")
	w.wantText("17 on a CAMHS caseload", "Test person")
	w.openDetails("Mark done")
	if st := w.press("Mark done"); st != 422 {
		t.Fatalf("marking with nothing said: %d", st)
	}
	w.wantSummaryError("Say in a few words what was done", "note")
	w.check()
	w.fill("note", "Transition plan agreed with the adult team")
	if st := w.press("Mark done"); st != 200 {
		t.Fatalf("marking: %d", st)
	}
	if f := w.flash(); f != "Marked done" {
		t.Errorf("flash %q", f)
	}
	w.wantText("Transition plan agreed with the adult team", "Done")
	w.screenshot("transition-marked")
}
