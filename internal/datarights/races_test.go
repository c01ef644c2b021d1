package datarights_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Retention running on two instances at once, while someone is referred
// again who has been silent for the whole period: either the referral is
// made and they are kept, or they are forgotten (once) and the referral
// fails with nothing written — never a referral for someone forgotten.
func TestRetentionUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin, lead := w.Principal(t, "clinician"), w.Principal(t, "lead")
		// One person falls due each round: each was last active a day
		// after the one before.
		var people []int64
		var last []time.Time
		for i := range 5 {
			w.Clock.Advance(24 * time.Hour)
			last = append(last, w.Clock.Now())
			r := w.StaffReferral(t, "clinician", fmt.Sprintf("Silent Sol %d", i))
			if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
				t.Fatal(err)
			}
			people = append(people, r.PersonID)
		}
		for round, pid := range people {
			w.Clock.Advance(last[round].AddDate(20, 0, 0).Add(time.Hour).Sub(w.Clock.Now()))
			errs := testkit.Race(3, func(i int) error {
				if i < 2 {
					_, err := w.DataRights.Retain(ctx, false)
					return err
				}
				_, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{PersonID: pid, AskedFor: "Back in touch",
					PersonKnows: testkit.Yes(), Consent: "given"})
				var open *referral.OpenReferralError
				if errors.As(err, &open) {
					return fmt.Errorf("joined an open referral: %w", err)
				}
				return err
			})
			for i, err := range errs[:2] {
				if err != nil {
					t.Fatalf("round %d: retention %d: %v", round, i, err)
				}
			}
			kept := count(t, db, "SELECT COUNT(*) FROM people WHERE id = $1", pid) == 1
			referrals := count(t, db, "SELECT COUNT(*) FROM referrals WHERE person_id = $1", pid)
			forgotten := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'retention.forget' AND subject_person_id = $1", pid)
			switch {
			case kept && (errs[2] != nil || referrals != 2 || forgotten != 0):
				t.Fatalf("round %d: kept with %d referrals, %d forgettings; the new referral: %v", round, referrals, forgotten, errs[2])
			case !kept && (errs[2] == nil || referrals != 0 || forgotten != 1):
				t.Fatalf("round %d: forgotten %d times, %d referrals left; the new referral: %v", round, forgotten, referrals, errs[2])
			}
			t.Logf("round %d: kept %v; the new referral: %v", round, kept, errs[2])
		}
	})
}

// Retention while a person silent for the whole period signs in to their
// account at that moment: either the sign-in is seen and they are kept, or
// it waits, finds the account closed and is refused — never a session
// started for someone then forgotten. (Before the account was locked
// first, the sign-in's session was committed after retention read the
// account's last activity, and the person was forgotten anyway.)
func TestRetentionAgainstASignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		type member struct{ person, user int64 }
		var members []member
		var last []time.Time
		const rounds = 12
		for i := range rounds {
			w.Clock.Advance(24 * time.Hour)
			last = append(last, w.Clock.Now())
			r := w.StaffReferral(t, "clinician", fmt.Sprintf("Signing Sam %d", i))
			if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
				t.Fatal(err)
			}
			u, err := w.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: fmt.Sprintf("sam%d@test.example", i), Name: "Sam",
				Memberships: []app.Membership{{Role: app.RolePerson}}, Password: testkit.Password})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, "UPDATE users SET person_id = $1, updated_at = $2 WHERE id = $3", r.PersonID, w.Clock.Now(), u.ID); err != nil {
				t.Fatal(err)
			}
			members = append(members, member{r.PersonID, u.ID})
		}
		kept, forgotten := 0, 0
		for round, m := range members {
			w.Clock.Advance(last[round].AddDate(20, 0, 0).Add(time.Hour).Sub(w.Clock.Now()))
			errs := testkit.Race(2, func(i int) error {
				if i == 0 {
					_, err := w.DataRights.Retain(ctx, false)
					return err
				}
				// Later each round, so some sign-ins meet retention
				// part way through.
				time.Sleep(time.Duration(round) * 9 * time.Millisecond)
				_, err := w.Accounts.StartSession(ctx, m.user)
				return err
			})
			if errs[0] != nil {
				t.Fatalf("round %d: retention: %v", round, errs[0])
			}
			here := count(t, db, "SELECT COUNT(*) FROM people WHERE id = $1", m.person) == 1
			sessions := count(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", m.user)
			switch {
			case here && (errs[1] != nil || sessions != 1):
				t.Fatalf("round %d: kept, but the sign-in: %v (%d sessions)", round, errs[1], sessions)
			case !here && (errs[1] == nil || sessions != 0):
				t.Fatalf("round %d: forgotten, but the sign-in: %v (%d sessions)", round, errs[1], sessions)
			case here:
				kept++
			default:
				forgotten++
			}
		}
		t.Logf("%d kept (signed in first), %d forgotten (sign-in refused)", kept, forgotten)
	})
}
