package groups_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Two bookings of different sessions made at the same moment are given the
// same reference (a clash forced by the test): one keeps it, the other is
// given another. When every reference tried is taken, the booking fails
// with a message to try again and holds no place.
func TestBookingReferenceClashUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, one := setUp(t, w, 12, 2)
		two := setUpAnother(t, w)
		sessions := []int64{one.ID, two}
		for round := range 5 {
			clash := fmt.Sprintf("GRP-CLSH-%04d", round)
			w.Groups.References = testkit.Clashing(clash, fmt.Sprintf("GRP-FREE-%d-", round))
			got := make([]groups.BookingResult, 2)
			errs := testkit.Race(len(got), func(i int) error {
				var err error
				got[i], err = w.Groups.Book(ctx, app.Public("t"), sessions[i], public(fmt.Sprintf("Person %d %d", round, i)))
				return err
			})
			if won := testkit.Winners(t, errs); won != 2 {
				t.Fatalf("round %d: %v", round, errs)
			}
			if got[0].Reference == got[1].Reference || (got[0].Reference != clash && got[1].Reference != clash) {
				t.Fatalf("round %d: references %q and %q", round, got[0].Reference, got[1].Reference)
			}
		}
		w.Groups.References = func() string { return "GRP-CLSH-0000" }
		rows := func() [2]int {
			return [2]int{count(t, db, "SELECT COUNT(*) FROM group_bookings"), count(t, db, "SELECT places_held FROM group_sessions WHERE id = $1", one.ID)}
		}
		was := rows()
		_, err := w.Groups.Book(ctx, app.Public("t"), one.ID, public("Unlucky Person"))
		if !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "try again") {
			t.Fatalf("every reference taken: %v", err)
		}
		if now := rows(); now != was {
			t.Fatalf("a failed booking left rows behind: %v before, %v after", was, now)
		}
	})
}
