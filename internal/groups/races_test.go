package groups_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// One offer said yes to twice and no to once at the same moment: one
// answer counts, the others are told; the places held still add up.
func TestOfferAnsweredOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		anon := app.Public("t")
		for round := range 5 {
			_, se := setUp(t, w, 1, 1)
			holder := r(w.Groups.Book(ctx, anon, se.ID, public(fmt.Sprintf("Holder %d", round)))).must(t)
			waiter := r(w.Groups.Book(ctx, anon, se.ID, public(fmt.Sprintf("Waiter %d", round)))).must(t)
			r(w.Groups.Cancel(ctx, anon, holder.ID, holder.Key)).must(t)
			b := r(w.Groups.GetBooking(ctx, anon, waiter.ID, waiter.Key)).must(t)
			if b.Offer == nil {
				t.Fatalf("round %d: no offer: %+v", round, b)
			}
			errs := testkit.Race(3, func(i int) error {
				if i == 2 {
					_, err := w.Groups.DeclineOffer(ctx, anon, b.Offer.ID, waiter.Key)
					return err
				}
				_, err := w.Groups.AcceptOffer(ctx, anon, b.Offer.ID, waiter.Key)
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("round %d: the offer was answered %d times: %v", round, won, errs)
			}
			booked, _ := checkSession(t, db, se.ID)
			if wantBooked := map[bool]int{true: 0, false: 1}[errs[2] == nil]; booked != wantBooked {
				t.Fatalf("round %d: %d booked after the answer %v", round, booked, errs)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM group_offers WHERE id = $1 AND status = 'open'", b.Offer.ID); n != 0 {
				t.Fatalf("round %d: the offer is still open", round)
			}
		}
	})
}

// Two leads reordering one waiting list at once: positions stay 1..n and
// distinct, and each move is from the position then.
func TestMoveOnListUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		anon := app.Public("t")
		leads := []*app.Principal{w.Principal(t, "lead"), w.Principal(t, "lead2"), w.Principal(t, "lead")}
		for round := range 5 {
			_, se := setUp(t, w, 1, 1)
			var list []groups.BookingResult
			for i := range 6 {
				list = append(list, r(w.Groups.Book(ctx, anon, se.ID, public(fmt.Sprintf("Person %d %d", round, i)))).must(t))
			}
			// Waiting: list[1..5] at 1..5. Three moves at once.
			moves := []struct {
				booking int
				to      int
			}{{5, 1}, {4, 1}, {1, 5}}
			errs := testkit.Race(len(moves), func(i int) error {
				_, err := w.Groups.MoveOnList(ctx, leads[i], list[moves[i].booking].ID, groups.Move{Position: moves[i].to, Reason: "they asked"})
				return err
			})
			// A move to where the booking already is by then is refused.
			testkit.Winners(t, errs, app.CodeInvalid)
			if _, waiting := checkSession(t, db, se.ID); waiting != 5 {
				t.Fatalf("round %d: %d waiting, want 5", round, waiting)
			}
			if n := count(t, db, "SELECT COUNT(DISTINCT position) FROM group_bookings WHERE session_id = $1 AND status = 'waiting'", se.ID); n != 5 {
				t.Fatalf("round %d: %d distinct positions for 5 waiting", round, n)
			}
		}
	})
}

// Places changed while people book and cancel: the capacity is never below
// the places held, and no place is lost.
func TestSetCapacityUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		anon := app.Public("t")
		lead := w.Principal(t, "lead")
		for round := range 5 {
			se, booked := sessionWith(t, w, 3, fmt.Sprintf("Ann %d", round), fmt.Sprintf("Bo %d", round))
			a := booked[0]
			errs := testkit.Race(5, func(i int) error {
				var err error
				switch i {
				case 0:
					_, err = w.Groups.SetCapacity(ctx, lead, se.ID, groups.CapacityChange{Capacity: 2})
				case 1:
					_, err = w.Groups.SetCapacity(ctx, lead, se.ID, groups.CapacityChange{Capacity: 4})
				case 2:
					_, err = w.Groups.Cancel(ctx, anon, a.ID, a.Key)
				default:
					_, err = w.Groups.Book(ctx, anon, se.ID, public(fmt.Sprintf("Cy %d %d", round, i)))
				}
				return err
			})
			// Fewer places than are held is refused with the field message.
			testkit.Winners(t, errs, app.CodeInvalid)
			for i, err := range errs {
				if err != nil && (i != 0 || app.As(err).Fields[0].Field != "capacity") {
					t.Fatalf("round %d: racer %d: %v", round, i, err)
				}
			}
			checkSession(t, db, se.ID)
		}
	})
}

// The facilitator and a lead taking one register at the same moment: one
// line per booking, as one of them recorded it.
func TestRegisterUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		anon := app.Public("t")
		takers := []*app.Principal{w.Principal(t, "worker"), w.Principal(t, "lead"), w.Principal(t, "lead2")}
		for round := range 3 {
			_, se := setUp(t, w, 12, 2)
			a := r(w.Groups.Book(ctx, anon, se.ID, public(fmt.Sprintf("Came %d", round)))).must(t)
			b := r(w.Groups.Book(ctx, anon, se.ID, public(fmt.Sprintf("Maybe %d", round)))).must(t)
			w.Clock.Advance(7 * 24 * time.Hour)
			outcomes := []string{"attended", "no_show", "attended"}
			errs := testkit.Race(len(takers), func(i int) error {
				_, err := w.Groups.RecordAttendance(ctx, takers[i], se.ID, groups.Register{Entries: []groups.RegisterEntry{
					{BookingID: a.ID, Outcome: "attended"}, {BookingID: b.ID, Outcome: outcomes[i]}}})
				return err
			})
			if won := testkit.Winners(t, errs); won != len(takers) {
				t.Fatalf("round %d: %v", round, errs)
			}
			for _, id := range []int64{a.ID, b.ID} {
				if n := count(t, db, "SELECT COUNT(*) FROM group_attendance WHERE session_id = $1 AND booking_id = $2", se.ID, id); n != 1 {
					t.Fatalf("round %d: %d register lines for booking %d", round, n, id)
				}
			}
		}
	})
}

// Members showing interest in one proposal several times at once: each is
// counted once.
func TestShowInterestOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pr := r(w.Groups.Propose(ctx, w.Principal(t, "person"), groups.NewProposal{Title: "Allotment mornings"})).must(t)
		who := []*app.Principal{w.Principal(t, "person2"), w.Principal(t, "person2"), w.Principal(t, "carer"), w.Principal(t, "carer"), w.Principal(t, "worker")}
		errs := testkit.Race(len(who), func(i int) error {
			_, err := w.Groups.ShowInterest(ctx, who[i], pr.ID)
			return err
		})
		if won := testkit.Winners(t, errs); won != len(who) {
			t.Fatal(errs)
		}
		if got := findProposal(t, w, "lead", pr.ID); got.Interest != 4 {
			t.Fatalf("interest %d, want 4 (the proposer, person2, carer, worker)", got.Interest)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM network_interest WHERE proposal_id = $1", pr.ID); n != 4 {
			t.Fatalf("%d interest rows, want 4", n)
		}
	})
}

// A session cancelled while a place is accepted, another declined and a
// newcomer books: afterwards no offer on it is open, and each answer says
// what is stored (an answer after the cancellation is refused).
func TestCancelSessionUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		anon := app.Public("t")
		lead := w.Principal(t, "lead")
		for round := range 5 {
			se, held := sessionWith(t, w, 2, fmt.Sprintf("P %d 0", round), fmt.Sprintf("P %d 1", round), fmt.Sprintf("P %d 2", round), fmt.Sprintf("P %d 3", round))
			// Two places free: the two waiting are offered them.
			r(w.Groups.Cancel(ctx, anon, held[0].ID, held[0].Key)).must(t)
			r(w.Groups.Cancel(ctx, anon, held[1].ID, held[1].Key)).must(t)
			c := r(w.Groups.GetBooking(ctx, anon, held[2].ID, held[2].Key)).must(t)
			d := r(w.Groups.GetBooking(ctx, anon, held[3].ID, held[3].Key)).must(t)
			if c.Offer == nil || d.Offer == nil {
				t.Fatalf("round %d: offers: %+v %+v", round, c, d)
			}
			errs := testkit.Race(4, func(i int) error {
				var err error
				switch i {
				case 0:
					_, err = w.Groups.CancelSession(ctx, lead, se.ID, groups.SessionCancel{Reason: "The venue flooded"})
				case 1:
					_, err = w.Groups.AcceptOffer(ctx, anon, c.Offer.ID, held[2].Key)
				case 2:
					_, err = w.Groups.DeclineOffer(ctx, anon, d.Offer.ID, held[3].Key)
				default:
					_, err = w.Groups.Book(ctx, anon, se.ID, public(fmt.Sprintf("Late %d", round)))
				}
				return err
			})
			if errs[0] != nil {
				t.Fatalf("round %d: cancelling: %v", round, errs[0])
			}
			testkit.Winners(t, errs[1:], app.CodeConflict, app.CodeNotFound, app.CodeInvalid)
			if n := count(t, db, "SELECT COUNT(*) FROM group_offers WHERE session_id = $1 AND status = 'open'", se.ID); n != 0 {
				t.Fatalf("round %d: %d offers open on a cancelled session", round, n)
			}
			// What each was told is what is stored.
			if n := count(t, db, "SELECT COUNT(*) FROM group_bookings WHERE id = $1 AND status = 'booked'", held[2].ID); (n == 1) != (errs[1] == nil) {
				t.Fatalf("round %d: accepting answered %v, booked %d", round, errs[1], n)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM group_bookings WHERE session_id = $1 AND id > $2", se.ID, held[3].ID); (n == 1) != (errs[3] == nil) {
				t.Fatalf("round %d: booking late answered %v, %d made", round, errs[3], n)
			}
		}
	})
}

// sessionWith sets up a session of the given capacity (one place a
// booking) and books the people named, in order.
func sessionWith(t *testing.T, w *testkit.World, capacity int, names ...string) (groups.Session, []groups.BookingResult) {
	t.Helper()
	_, se := setUp(t, w, capacity, 1)
	var out []groups.BookingResult
	for _, n := range names {
		out = append(out, r(w.Groups.Book(context.Background(), app.Public("t"), se.ID, public(n))).must(t))
	}
	return se, out
}
