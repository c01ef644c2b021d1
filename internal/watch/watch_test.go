package watch_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/watch"
)

func orgOf(t *testing.T, db *store.DB, teamID int64) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow(context.Background(), "SELECT organisation_id FROM teams WHERE id = $1", teamID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// Each organisation's list is its own: the defaults until an administrator
// changes it, then a copy that the change is made to, used at once. Text
// for no team yet is checked against every organisation's list. Only
// administrators change lists, every change is audited, and two making the
// first change at once copy the defaults once.
func TestOrganisationListsAreTheirOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		trust, charity := orgOf(t, db, w.TeamA.ID), orgOf(t, db, w.Partner.ID)
		admin := w.Principal(t, "admin")
		found := func(teamID int64, text string) watch.Action {
			t.Helper()
			r, err := w.Watch.CheckForTeam(ctx, teamID, text)
			if err != nil {
				t.Fatal(err)
			}
			return r.Strongest()
		}
		if found(w.TeamA.ID, "I want to kill myself") != watch.Flag || found(w.Partner.ID, "hopeless") != watch.Signpost {
			t.Fatal("the default list does not apply")
		}
		if _, err := w.Watch.AddTerm(ctx, w.Principal(t, "lead"), trust, watch.Term{Phrase: "feel unsafe", Category: watch.Distress, Action: watch.Flag}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a lead changed the list: %v", err)
		}
		// Two administrators make the first change at once.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, phrase := range []string{"feel unsafe", "no longer safe"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Watch.AddTerm(ctx, admin, trust, watch.Term{Phrase: phrase, Category: watch.Distress, Action: watch.Flag})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM watch_terms WHERE organisation_id = $1", trust).Scan(&n)
		if n != len(watch.DefaultTerms)+2 {
			t.Fatalf("%d terms on the trust's list, want the %d defaults and 2", n, len(watch.DefaultTerms))
		}
		if _, err := w.Watch.AddTerm(ctx, admin, trust, watch.Term{Phrase: "FEEL  Unsafe", Category: watch.Means, Action: watch.Flag}); err == nil {
			t.Error("the same phrase written differently was added twice")
		}
		// Used at once, for the trust only, and for text with no team.
		if found(w.TeamA.ID, "I feel unsafe") != watch.Flag || found(w.Partner.ID, "I feel unsafe") != "" || found(0, "I feel unsafe") != watch.Flag {
			t.Error("the new phrase is not used where it should be")
		}
		// Removing a default from the trust's list: gone for the trust, still
		// there for the charity and for text with no team.
		l, err := w.Watch.List(ctx, admin, trust)
		if err != nil || !l.Own {
			t.Fatalf("list: %+v %v", l, err)
		}
		for _, term := range l.Terms {
			if term.Phrase == "hopeless" {
				if err := w.Watch.DeleteTerm(ctx, admin, trust, term.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if found(w.TeamA.ID, "hopeless") != "" || found(w.Partner.ID, "hopeless") != watch.Signpost || found(0, "hopeless") != watch.Signpost {
			t.Error("removing a word from one organisation's list did not do just that")
		}
		if cl, _ := w.Watch.List(ctx, admin, charity); cl.Own || len(cl.Terms) != len(watch.DefaultTerms) {
			t.Errorf("the charity's list changed: own %v, %d terms", cl.Own, len(cl.Terms))
		}
		if err := w.Watch.DeleteTerm(ctx, admin, charity, l.Terms[0].ID); !app.IsCode(err, app.CodeNotFound) {
			t.Errorf("removing another organisation's term: %v", err)
		}
		if _, err := w.Watch.List(ctx, admin, 999999); !app.IsCode(err, app.CodeNotFound) {
			t.Errorf("an unknown organisation: %v", err)
		}
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'watch.%'").Scan(&n)
		if n != 3 {
			t.Errorf("%d changes audited, want 3", n)
		}
	})
}

// The same phrase added by several administrators at once is on the list
// once; the others are told it is already there (a field problem, not a
// server error).
func TestSamePhraseAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		trust := orgOf(t, db, w.TeamA.ID)
		admin := w.Principal(t, "admin")
		// The list is the trust's own already, so the adds do not take turns
		// over copying the defaults.
		if _, err := w.Watch.MakeOwn(ctx, admin, trust); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = w.Watch.AddTerm(ctx, admin, trust, watch.Term{Phrase: "Feel unsafe", Category: watch.Distress, Action: watch.Flag})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !app.IsCode(err, app.CodeInvalid) || app.As(err).Fields[0].Field != "phrase":
				t.Fatalf("unexpected: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d adds of one phrase won", won)
		}
	})
}
