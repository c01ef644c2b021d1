package referral_test

import (
	"context"
	"errors"
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

// Two referrals made at the same moment are given the same reference (a
// clash forced by the test; about 1 in 10¹² for real): one keeps it and the
// other is given another. When every reference tried is taken, the request
// fails with a message to try again, and nothing of it is written.
func TestReferenceClashUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		refer := func(name string) (referral.Referral, error) {
			return w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{Person: person.Details{PreferredName: name},
				AskedFor: "company", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		}
		for round := range 5 {
			clash := fmt.Sprintf("MUT-CLSH-%04d", round)
			w.Referrals.References = testkit.Clashing(clash, fmt.Sprintf("MUT-FREE-%d-", round))
			made := make([]referral.Referral, 2)
			errs := testkit.Race(len(made), func(i int) error {
				var err error
				made[i], err = refer(fmt.Sprintf("Clash %d-%d", round, i))
				return err
			})
			if won := testkit.Winners(t, errs); won != 2 {
				t.Fatalf("round %d: %v", round, errs)
			}
			if made[0].Reference == made[1].Reference || (made[0].Reference != clash && made[1].Reference != clash) {
				t.Fatalf("round %d: references %q and %q", round, made[0].Reference, made[1].Reference)
			}
		}
		// Every reference tried is taken.
		w.Referrals.References = func() string { return "MUT-CLSH-0000" }
		before := func() [4]int {
			return [4]int{count(t, db, "SELECT COUNT(*) FROM people"), count(t, db, "SELECT COUNT(*) FROM referrals"),
				count(t, db, "SELECT COUNT(*) FROM referral_events"), count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'referral.create'")}
		}
		was := before()
		_, err := refer("Unlucky")
		if !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "try again") {
			t.Fatalf("every reference taken: %v", err)
		}
		if now := before(); now != was {
			t.Fatalf("a failed referral left rows behind: %v before, %v after", was, now)
		}
	})
}

// A referral accepted into a team at the same moment as others naming its
// person, with risk words, join it: it is marked once, one alert is open,
// and that alert is with the team the referral is in now.
func TestRiskMarkedOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		partner, leadB := w.Principal(t, "partner"), w.Principal(t, "leadB")
		joinRisky := func(personID int64) error {
			_, err := w.Referrals.CreateReferral(ctx, partner, referral.NewReferral{PersonID: personID,
				AskedFor: "I keep thinking about ending my life", PersonKnows: testkit.Yes(), Consent: "given"})
			var open *referral.OpenReferralError
			if errors.As(err, &open) {
				return nil
			}
			if err == nil {
				return errors.New("a second open referral was made")
			}
			return err
		}
		for round := range 5 {
			r, err := w.Referrals.CreateReferral(ctx, partner, referral.NewReferral{Person: person.Details{PreferredName: fmt.Sprintf("Risa %d", round)},
				AskedFor: "company", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, ShareWithReferrer: true})
			if err != nil || r.TeamID != 0 {
				t.Fatalf("round %d: a referral with no team yet: %+v %v", round, r, err)
			}
			errs := testkit.Race(4, func(i int) error {
				if i == 0 {
					_, err := w.Referrals.Transition(ctx, leadB, r.ID, referral.Move{To: referral.Accepted, TeamID: w.TeamB.ID})
					return err
				}
				return joinRisky(r.PersonID)
			})
			if won := testkit.Winners(t, errs); won != len(errs) {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE referral_id = $1 AND resolved_at IS NULL", r.ID); n != 1 {
				t.Fatalf("round %d: %d open alerts", round, n)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE referral_id = $1 AND team_id = $2", r.ID, w.TeamB.ID); n != 1 {
				t.Fatalf("round %d: the open alert is not with the team the referral was accepted into", round)
			}
			var marked time.Time
			if err := db.QueryRow(ctx, "SELECT risk_flagged_at FROM referrals WHERE id = $1", r.ID).Scan(&marked); err != nil {
				t.Fatalf("round %d: not marked: %v", round, err)
			}
			// Later risk words, several at once: the first marking stays,
			// and they join the alert waiting.
			w.Clock.Advance(time.Hour)
			errs = testkit.Race(3, func(int) error { return joinRisky(r.PersonID) })
			if won := testkit.Winners(t, errs); won != len(errs) {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE id = $1 AND risk_flagged_at = $2", r.ID, marked); n != 1 {
				t.Fatalf("round %d: marked again", round)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE referral_id = $1", r.ID); n != 1 {
				t.Fatalf("round %d: %d alerts, want the one waiting", round, n)
			}
		}
	})
}

// A referral declined at the same moment as others naming its person
// join it: each request either joined it before it closed or, finding it
// closed once it held its lock, made a referral of its own; nothing is
// added to a referral after it closed, and the person has at most one open
// referral.
func TestJoiningAReferralThatClosesMeanwhile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		partner, leadB := w.Principal(t, "partner"), w.Principal(t, "leadB")
		for round := range 5 {
			r, err := w.Referrals.CreateReferral(ctx, partner, referral.NewReferral{Person: person.Details{PreferredName: fmt.Sprintf("Cleo %d", round)},
				AskedFor: "company", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, TeamID: w.TeamB.ID})
			if err != nil {
				t.Fatal(err)
			}
			errs := testkit.Race(4, func(i int) error {
				if i == 0 {
					_, err := w.Referrals.Transition(ctx, leadB, r.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"})
					return err
				}
				_, err := w.Referrals.CreateReferral(ctx, partner, referral.NewReferral{PersonID: r.PersonID, AskedFor: fmt.Sprintf("again %d", i),
					PersonKnows: testkit.Yes(), Consent: "given", TeamID: w.TeamB.ID})
				var open *referral.OpenReferralError
				if errors.As(err, &open) {
					return nil
				}
				return err
			})
			if won := testkit.Winners(t, errs); won != len(errs) {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND from_status = 'declined' AND to_status = 'declined'
				AND note LIKE 'Also referred by%'`, r.ID); n != 0 {
				t.Fatalf("round %d: %d notes added to the referral after it was declined", round, n)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE person_id = $1 AND status IN ('received', 'accepted', 'allocated', 'active')", r.PersonID); n > 1 {
				t.Fatalf("round %d: %d open referrals", round, n)
			}
		}
	})
}
