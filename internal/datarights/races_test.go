package datarights_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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
