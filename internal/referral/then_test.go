package referral_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A capability's own record of where a referral came from (NewReferral.Then)
// is written in the referral's transaction: it sees the new referral, and
// when it fails nothing of the referral remains.
func TestThenRunsInTheReferralsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		before := count(t, db, "SELECT COUNT(*) FROM referrals")
		failed := errors.New("the capability's record could not be written")
		_, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "person"), referral.NewReferral{AskedFor: "Meeting others",
			Then: func(ctx context.Context, tx *store.Tx, made referral.Referral) error {
				var n int
				if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM referrals WHERE id = $1", made.ID).Scan(&n); err != nil || n != 1 {
					t.Errorf("Then does not see the referral it follows: %d %v", n, err)
				}
				return failed
			}})
		if !errors.Is(err, failed) {
			t.Fatalf("CreateReferral: %v, want Then's error", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM referrals"); n != before {
			t.Fatalf("%d referrals after Then failed, want %d: the referral outlived its record", n, before)
		}
		ran := 0
		r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "person"), referral.NewReferral{AskedFor: "Meeting others",
			Then: func(ctx context.Context, tx *store.Tx, made referral.Referral) error { ran++; return nil }})
		if err != nil || r.ID == 0 || ran != 1 {
			t.Fatalf("%+v %v, Then ran %d times", r, err, ran)
		}
	})
}
