package matching_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A person asking for a different worker several times at once: the
// request is recorded once and the leads are told once. Asked while the
// lead reallocates, the request names the worker allocated at that moment.
func TestAskForDifferentWorkerUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		wid := w.Users["worker"].ID
		r := selfReferral(t, w, "person", "A")
		_, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
		must(t, err)
		p := w.Principal(t, "person")
		res := make([]matching.WorkerChangeResult, 4)
		errs := testkit.Race(len(res), func(i int) error {
			var err error
			res[i], err = w.Matching.AskForDifferentWorker(ctx, p, r.ID)
			return err
		})
		if won := testkit.Winners(t, errs); won != len(res) {
			t.Fatalf("%d answered", won)
		}
		recorded := 0
		for _, got := range res {
			if got.WorkerID != wid {
				t.Fatalf("asked to change from %d, want %d", got.WorkerID, wid)
			}
			if !got.Already {
				recorded++
			}
		}
		if recorded != 1 || count(t, db, "SELECT COUNT(*) FROM worker_exclusions WHERE person_id = $1", p.PersonID) != 1 {
			t.Fatalf("recorded %d times", recorded)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE message LIKE '%asked for a different peer worker%'"); n != 2 {
			t.Fatalf("%d notices to the two leads", n)
		}

		// Asked while the lead moves the referral to another worker.
		r2 := selfReferral(t, w, "person2", "A")
		_, err = w.Referrals.Transition(ctx, lead, r2.ID, referral.Move{To: referral.Allocated, WorkerID: wid})
		must(t, err)
		p2 := w.Principal(t, "person2")
		lead2 := w.Users["lead2"].ID
		var asked matching.WorkerChangeResult
		errs = testkit.Race(2, func(i int) error {
			if i == 0 {
				_, err := w.Referrals.Transition(ctx, lead, r2.ID, referral.Move{To: referral.Allocated, WorkerID: lead2})
				return err
			}
			var err error
			asked, err = w.Matching.AskForDifferentWorker(ctx, p2, r2.ID)
			return err
		})
		if errs[1] != nil {
			t.Fatalf("asking: %v", errs[1])
		}
		if asked.WorkerID != wid && asked.WorkerID != lead2 {
			t.Fatalf("the request names worker %d, allocated to neither", asked.WorkerID)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM worker_exclusions WHERE person_id = $1 AND worker_user_id = $2", p2.PersonID, asked.WorkerID); n != 1 {
			t.Fatalf("the request recorded is not the one answered")
		}
		// The reallocation either happened first or refused nothing wrongly.
		if errs[0] != nil && !app.IsCode(errs[0], app.CodeConflict) && !app.IsCode(errs[0], app.CodeInvalid) {
			t.Fatalf("reallocating: %v", errs[0])
		}
	})
}

// Two changes to one item from the same version at once: one is saved,
// the other is told the item changed.
func TestChangeDisclosureUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		wb := w.Users["workerB"].ID
		self := w.Principal(t, "workerB")
		for round := range 5 {
			d, err := w.Matching.AddDisclosure(ctx, self, wb, matching.NewDisclosure{Text: fmt.Sprintf("item %d", round), Audience: "team", Themes: []string{"psychosis"}})
			must(t, err)
			texts := []string{"first", "second", "third"}
			errs := testkit.Race(len(texts), func(i int) error {
				_, err := w.Matching.ChangeDisclosure(ctx, self, wb, d.ID, matching.DisclosureChange{Version: d.Version, Text: &texts[i]})
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("round %d: %d changes saved from one version", round, won)
			}
			var text string
			var version int
			if err := db.QueryRow(ctx, "SELECT text, version FROM disclosures WHERE id = $1", d.ID).Scan(&text, &version); err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if err == nil && (text != texts[i] || version != d.Version+1) {
					t.Fatalf("round %d: stored %q at version %d, the winner saved %q", round, text, version, texts[i])
				}
			}
		}
	})
}

// A worker adding items at the same moment near the limit: they end with
// 50, and every other is told the limit.
func TestDisclosureLimitUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		wb := w.Users["workerB"].ID
		self := w.Principal(t, "workerB")
		for i := range 44 {
			_, err := w.Matching.AddDisclosure(ctx, self, wb, matching.NewDisclosure{Text: fmt.Sprintf("item %d", i), Audience: "team", Themes: []string{"psychosis"}})
			must(t, err)
		}
		errs := testkit.Race(12, func(i int) error {
			_, err := w.Matching.AddDisclosure(ctx, self, wb, matching.NewDisclosure{Text: fmt.Sprintf("late item %d", i), Audience: "team", Themes: []string{"psychosis"}})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 6 {
			t.Fatalf("%d of 12 added at once past 44, want 6", won)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM disclosures WHERE worker_user_id = $1", wb); n != 50 {
			t.Fatalf("%d items, want 50", n)
		}
	})
}

// A person saving their choices from one version several times at once
// (the first save also gives their account its record): one save per
// version; the others are told; no version is lost or doubled.
func TestChoicesSavedOncePerVersionUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		genders := []string{"woman", "man", "non_binary"}
		for version := range 4 {
			p := w.Principal(t, "person")
			errs := testkit.Race(len(genders), func(i int) error {
				_, err := w.Matching.SaveOwnChoices(ctx, p, matching.SaveChoices{Version: version, Choices: matching.Choices{WorkerGender: genders[i]}})
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("from version %d: %d saves", version, won)
			}
			p = w.Principal(t, "person")
			if p.PersonID == 0 {
				t.Fatal("the account has no record")
			}
			if n := count(t, db, "SELECT COUNT(*) FROM choice_profiles WHERE person_id = $1", p.PersonID); n != version+1 {
				t.Fatalf("after saves from version %d: %d versions kept", version, n)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM choice_profiles WHERE person_id = $1 AND version = $2", p.PersonID, version+1); n != 1 {
				t.Fatalf("version %d saved %d times", version+1, n)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM users WHERE id = $1 AND person_id IS NOT NULL", w.Users["person"].ID); n != 1 {
			t.Fatal("the account was not given one record")
		}
	})
}
