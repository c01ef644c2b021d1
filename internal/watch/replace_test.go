package watch_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/watch"
)

func fieldsOf(err error) map[string]string {
	out := map[string]string{}
	var ae *app.Error
	if errors.As(err, &ae) {
		for _, f := range ae.Fields {
			out[f.Field] = f.Message
		}
	}
	return out
}

// A whole list replaces an organisation's list in one step from the
// version the administrator saw: every problem is named by its place and
// nothing changes; a stale version changes nothing; of several
// replacements from one version at once exactly one wins, and the list is
// wholly that one's; the new list is used at once.
func TestReplaceWholeList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		trust := orgOf(t, db, w.TeamA.ID)
		admin := w.Principal(t, "admin")
		list := func() watch.List {
			t.Helper()
			l, err := w.Watch.List(ctx, admin, trust)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if l := list(); l.Own || l.Version != 0 {
			t.Fatalf("a new organisation's list: own %v version %d, want the defaults at version 0", l.Own, l.Version)
		}
		two := []watch.Term{{Phrase: "feel unsafe", Category: watch.Distress, Action: watch.Flag}, {Phrase: "overdos*", Category: watch.Means, Action: watch.Hold}}
		if _, err := w.Watch.ReplaceTerms(ctx, w.Principal(t, "lead"), trust, watch.Replacement{Terms: two}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a lead replaced the list: %v", err)
		}

		// Problems, each named by its place; nothing changes.
		for _, c := range []struct {
			in   watch.Replacement
			want map[string]string
		}{
			{watch.Replacement{}, map[string]string{"terms": "Give at least one word or phrase: an empty list would let risk language go unseen"}},
			{watch.Replacement{Terms: []watch.Term{two[0], {Phrase: "FEEL   unsafe", Category: watch.Means, Action: watch.Block}}},
				map[string]string{"terms[1].phrase": "This word or phrase is already in the list, at number 1"}},
			{watch.Replacement{Terms: []watch.Term{two[0], {Phrase: "feel unsafe", Category: "weather", Action: watch.Flag}}},
				map[string]string{"terms[1].phrase": "This word or phrase is already in the list, at number 1", "terms[1].category": "Choose what the term is about"}},
			{watch.Replacement{Terms: []watch.Term{two[0], {Phrase: " ", Category: "weather", Action: "shout"}}},
				map[string]string{"terms[1].phrase": "Enter a word or phrase", "terms[1].category": "Choose what the term is about",
					"terms[1].action": "Choose what should happen when it is found"}},
		} {
			_, err := w.Watch.ReplaceTerms(ctx, admin, trust, c.in)
			if !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("%+v: %v, want invalid", c.in, err)
			}
			if got := fieldsOf(err); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("problems %v, want %v", got, c.want)
			}
		}
		if l := list(); l.Own || l.Version != 0 {
			t.Fatal("a list with problems changed something")
		}

		// From the defaults (version 0) to the organisation's own list.
		l, err := w.Watch.ReplaceTerms(ctx, admin, trust, watch.Replacement{Version: 0, Terms: two})
		if err != nil {
			t.Fatal(err)
		}
		if !l.Own || l.Version != 1 || len(l.Terms) != 2 || l.Terms[0].Phrase != "feel unsafe" || l.Terms[1].Action != watch.Hold {
			t.Fatalf("after replacing: %+v", l)
		}
		r, err := w.Watch.CheckForTeam(ctx, w.TeamA.ID, "I feel unsafe", "I want to kill myself")
		if err != nil || r.Strongest() != watch.Flag || len(r.Matches) != 1 {
			t.Fatalf("the new list is not the one used at once: %+v %v", r, err)
		}
		if r, _ := w.Watch.CheckForTeam(ctx, w.Partner.ID, "I feel unsafe"); r.Strongest() != "" {
			t.Error("another organisation's text was checked against the trust's list")
		}

		// A stale version changes nothing, and says so.
		_, err = w.Watch.ReplaceTerms(ctx, admin, trust, watch.Replacement{Version: 0, Terms: two[:1]})
		if !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("replacing from version 0 again: %v, want a conflict", err)
		}
		if l := list(); l.Version != 1 || len(l.Terms) != 2 {
			t.Fatalf("a stale replacement changed the list: %+v", l)
		}

		// Six administrators replace from version 1 at once: one wins, the
		// list is wholly the winner's.
		errs := testkit.Race(6, func(i int) error {
			terms := []watch.Term{{Phrase: fmt.Sprintf("racer %d", i), Category: watch.Distress, Action: watch.Flag},
				{Phrase: fmt.Sprintf("racer %d again", i), Category: watch.Distress, Action: watch.Hold}}
			_, err := w.Watch.ReplaceTerms(ctx, admin, trust, watch.Replacement{Version: 1, Terms: terms})
			return err
		})
		if n := testkit.Winners(t, errs, app.CodeConflict); n != 1 {
			t.Fatalf("%d replacements from one version won, want 1", n)
		}
		l = list()
		if l.Version != 2 || len(l.Terms) != 2 || l.Terms[0].Phrase+" again" != l.Terms[1].Phrase {
			t.Fatalf("after the race: %+v", l)
		}

		// Changes one term at a time move the version on too.
		if _, err := w.Watch.AddTerm(ctx, admin, trust, watch.Term{Phrase: "no way out", Category: watch.Distress, Action: watch.Signpost}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Watch.ReplaceTerms(ctx, admin, trust, watch.Replacement{Version: 2, Terms: two}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("a replacement made before a single change went through: %v", err)
		}

		// A long list, as large as the benchmark's.
		big := make([]watch.Term, 10000)
		for i := range big {
			big[i] = watch.Term{Phrase: fmt.Sprintf("phrase number %d", i), Category: watch.Distress, Action: watch.Flag}
		}
		l, err = w.Watch.ReplaceTerms(ctx, admin, trust, watch.Replacement{Version: list().Version, Terms: big})
		if err != nil || len(l.Terms) != 10000 {
			t.Fatalf("10,000 terms: %d terms, %v", len(l.Terms), err)
		}
		if r, _ := w.Watch.CheckForTeam(ctx, w.TeamA.ID, "this is phrase number 9999 here"); r.Strongest() != watch.Flag {
			t.Error("the last of 10,000 terms is not used")
		}

		var audited int
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action = 'watch.list.replace'").Scan(&audited)
		if audited != 3 {
			t.Errorf("%d replacements audited, want 3", audited)
		}
	})
}
