package referral_test

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
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Agreement and going ahead without it, recorded at the same moment by
// three people: one is recorded; the others are told the referral no
// longer waits for agreement.
func TestConsentRecordedOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		deciders := []*app.Principal{w.Principal(t, "lead"), w.Principal(t, "lead2"), w.Principal(t, "lead")}
		decisions := []referral.ConsentDecision{{Decision: "given"}, {Decision: "proceed", Reason: "Their brother says they asked for it"}, {Decision: "given"}}
		for round := range 5 {
			r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "carer"), referral.NewReferral{
				Person:   person.Details{PreferredName: fmt.Sprintf("Ravi %d", round), Phone: fmt.Sprintf("07700 90061%d", round)},
				AskedFor: "x", TeamID: w.TeamA.ID, PersonKnows: testkit.Yes(), Consent: "not_obtained", ConsentReason: "too unwell to talk about it",
				Relationship: "brother", NotDuplicate: true})
			if err != nil {
				t.Fatal(err)
			}
			errs := testkit.Race(len(deciders), func(i int) error {
				_, err := w.Referrals.RecordConsent(ctx, deciders[i], r.ID, decisions[i])
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("round %d: recorded %d times", round, won)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'referral.consent_%' AND object_id = $1", fmt.Sprint(r.ID)); n != 1 {
				t.Fatalf("round %d: %d consent audit lines", round, n)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE id = $1 AND version = $2", r.ID, r.Version+1); n != 1 {
				t.Fatalf("round %d: the referral was changed more than once", round)
			}
		}
	})
}

// Contacts recorded at once, in no order: the first contact is the
// earliest of them. A contact recorded while the referral is withdrawn
// either lands before the withdrawal or is refused.
func TestFirstContactUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead, worker := w.Principal(t, "lead"), w.Principal(t, "worker")
		allocated := func(name string) referral.Referral {
			r := w.StaffReferral(t, "clinician", name)
			for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: worker.UserID}} {
				if _, err := w.Referrals.Transition(ctx, lead, r.ID, m); err != nil {
					t.Fatal(err)
				}
			}
			return r
		}
		for round := range 5 {
			w.Clock.Advance(24 * time.Hour)
			r := allocated(fmt.Sprintf("Robin %d", round))
			w.Clock.Advance(12 * time.Hour)
			now := w.Clock.Now()
			// Hours ago: 3, 7, 1, 5, 2, 6, 4 (the earliest is in the middle).
			ago := []int{3, 7, 1, 5, 2, 6, 4}
			errs := testkit.Race(len(ago), func(i int) error {
				_, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: now.Add(-time.Duration(ago[i]) * time.Hour), Mode: "phone", Minutes: 10})
				return err
			})
			if won := testkit.Winners(t, errs); won != len(ago) {
				t.Fatalf("round %d: %d contacts recorded", round, won)
			}
			var first time.Time
			if err := db.QueryRow(ctx, "SELECT first_contact_at FROM referrals WHERE id = $1", r.ID).Scan(&first); err != nil {
				t.Fatal(err)
			}
			if want := now.Add(-7 * time.Hour); !first.Equal(want) {
				t.Fatalf("round %d: first contact %v, want the earliest, %v", round, first, want)
			}

			// Withdrawn while contacts are being recorded.
			r = allocated(fmt.Sprintf("Sam %d", round))
			errs = testkit.Race(5, func(i int) error {
				if i == 0 {
					_, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Withdrawn})
					return err
				}
				_, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now(), Mode: "phone", Minutes: 10})
				return err
			})
			if errs[0] != nil {
				t.Fatalf("round %d: withdrawing: %v", round, errs[0])
			}
			recorded := testkit.Winners(t, errs[1:], app.CodeConflict)
			for _, err := range errs[1:] {
				if err != nil && !strings.Contains(app.As(err).Message, "can no longer be added") {
					t.Fatalf("round %d: refused contact: %v", round, err)
				}
			}
			if n := count(t, db, "SELECT COUNT(*) FROM contacts WHERE referral_id = $1", r.ID); n != recorded {
				t.Fatalf("round %d: %d contacts stored, %d answered as recorded", round, n, recorded)
			}
			if _, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now(), Mode: "phone", Minutes: 10}); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("round %d: a contact on a withdrawn referral: %v", round, err)
			}
		}
	})
}

// Two new referrals linked to one known person at the same moment: one is
// linked (its emptied record marked merged); the other is told the person
// already has an open referral, and its record is untouched.
func TestLinkPersonUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		leads := []*app.Principal{w.Principal(t, "lead"), w.Principal(t, "lead2")}
		for round := range 5 {
			name := fmt.Sprintf("Frankie %d", round)
			known := w.StaffReferral(t, "clinician", name)
			if _, err := w.Referrals.Transition(ctx, leads[0], known.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
				t.Fatal(err)
			}
			var phone string
			if err := db.QueryRow(ctx, "SELECT phone FROM people WHERE id = $1", known.PersonID).Scan(&phone); err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, 2)
			people := make([]int64, 2)
			for i := range ids {
				res, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{Details: person.Details{PreferredName: name, Phone: phone}, AskedFor: "x"})
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = res.ID
				if err := db.QueryRow(ctx, "SELECT person_id FROM referrals WHERE id = $1", res.ID).Scan(&people[i]); err != nil {
					t.Fatal(err)
				}
			}
			errs := testkit.Race(2, func(i int) error { return w.Referrals.LinkPerson(ctx, leads[i], ids[i], known.PersonID) })
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("round %d: %d linked", round, won)
			}
			for i, err := range errs {
				merged := count(t, db, "SELECT COUNT(*) FROM people WHERE id = $1 AND merged_into_id = $2", people[i], known.PersonID)
				linked := count(t, db, "SELECT COUNT(*) FROM referrals WHERE id = $1 AND person_id = $2", ids[i], known.PersonID)
				if err == nil && (merged != 1 || linked != 1) {
					t.Fatalf("round %d: the winner: merged %d linked %d", round, merged, linked)
				}
				if err != nil && (merged != 0 || linked != 0 || !strings.Contains(app.As(err).Message, "already has an open referral")) {
					t.Fatalf("round %d: the loser: merged %d linked %d: %v", round, merged, linked, err)
				}
			}
			if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE person_id = $1 AND status IN ('received', 'accepted', 'allocated', 'active')", known.PersonID); n != 1 {
				t.Fatalf("round %d: %d open referrals for the person", round, n)
			}
		}
	})
}

// The person says what helped from two tabs at once, both from the same
// version: one is saved, the other is told it changed; the history has one
// note, and the words are the winner's.
func TestWhatHelpedOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		r := w.Allocated(t, "person", "worker")
		r, err := w.Referrals.Transition(ctx, w.Principal(t, "lead"), r.ID, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned,
			Reason: "goals_met", OutcomeSummary: "x"})
		if err != nil {
			t.Fatal(err)
		}
		me := w.Principal(t, "person")
		words := []string{"Being listened to", "Walking, not sitting"}
		errs := testkit.Race(2, func(i int) error {
			_, err := w.Referrals.SayWhatHelped(ctx, me, r.ID, referral.WhatHelped{Words: words[i], Version: r.Version})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d saves won", won)
		}
		var got string
		var notes int
		_ = db.QueryRow(ctx, "SELECT what_helped FROM referrals WHERE id = $1", r.ID).Scan(&got)
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND note LIKE '%said what helped%'", r.ID).Scan(&notes)
		if (errs[0] == nil && got != words[0]) || (errs[1] == nil && got != words[1]) || notes != 1 {
			t.Fatalf("words %q, %d notes, errors %v", got, notes, errs)
		}
		// Someone else's referral is not found.
		_, err = w.Referrals.SayWhatHelped(ctx, w.Principal(t, "person2"), r.ID, referral.WhatHelped{Words: "x"})
		if !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("someone else: %v", err)
		}
	})
}
