package groups_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/icaltest"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

type result[T any] struct {
	v   T
	err error
}

// r holds a call's two results for must, which fails the test on an error.
func r[T any](v T, err error) result[T] { return result[T]{v, err} }

func (x result[T]) must(t testing.TB) T {
	t.Helper()
	if x.err != nil {
		t.Fatal(x.err)
	}
	return x.v
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// setUp makes a public group of team A, with the peer worker on its
// rota, and one session a week ahead.
func setUp(t testing.TB, w *testkit.World, capacity, maxPlaces int) (groups.Group, groups.Session) {
	t.Helper()
	ctx := context.Background()
	lead := w.Principal(t, "lead")
	g := r(w.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: w.TeamA.ID, Title: "Hearing Voices Group", Summary: "A peer-led group",
		Repeats: groups.Weekly, Visibility: groups.Public, Capacity: capacity, MaxPlaces: maxPlaces,
		Venue:          groups.Venue{Name: "Recovery College", Address: "1 High Street, Leeds", StepFree: true},
		FacilitatorIDs: []int64{w.Users["worker"].ID}})).must(t)
	start := w.Clock.Now().AddDate(0, 0, 7).In(app.London).Format("2006-01-02") + "T10:30"
	ss := r(w.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: start, Minutes: 90})).must(t)
	if len(ss) != 1 {
		t.Fatalf("sessions: %v", ss)
	}
	return g, ss[0]
}

func public(name string) groups.BookingRequest {
	return groups.BookingRequest{Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", Places: 1}
}

// checkSession checks a session's invariants: places held are exactly the
// places booked and held for open offers, never more than the capacity;
// waiting positions are 1..n, distinct; and no place is lost — when places
// are free, nobody waiting without an offer fits them.
func checkSession(t testing.TB, db *store.DB, sessionID int64) (booked, waiting int) {
	t.Helper()
	capacity := count(t, db, "SELECT capacity FROM group_sessions WHERE id = $1", sessionID)
	held := count(t, db, "SELECT places_held FROM group_sessions WHERE id = $1", sessionID)
	bookedPlaces := count(t, db, "SELECT COALESCE(SUM(places), 0) FROM group_bookings WHERE session_id = $1 AND status = 'booked'", sessionID)
	offered := count(t, db, "SELECT COALESCE(SUM(places), 0) FROM group_offers WHERE session_id = $1 AND status = 'open'", sessionID)
	if held != bookedPlaces+offered {
		t.Errorf("session %d holds %d places, but %d are booked and %d offered", sessionID, held, bookedPlaces, offered)
	}
	if held > capacity {
		t.Errorf("session %d is overbooked: %d of %d", sessionID, held, capacity)
	}
	rows, err := db.Query(context.Background(), `SELECT b.position, b.places, EXISTS (SELECT 1 FROM group_offers o WHERE o.booking_id = b.id AND o.status = 'open')
		FROM group_bookings b WHERE b.session_id = $1 AND b.status = 'waiting' ORDER BY b.position`, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var pos, places int
		var hasOffer bool
		if err := rows.Scan(&pos, &places, &hasOffer); err != nil {
			t.Fatal(err)
		}
		n++
		if pos != n {
			t.Errorf("waiting positions are not 1..n: %d at %d", pos, n)
		}
		if !hasOffer && places <= capacity-held {
			t.Errorf("a place is lost: %d free, and number %d waits for %d without an offer", capacity-held, pos, places)
		}
	}
	return bookedPlaces, n
}

func TestBookingAndTheFairWaitingList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		anon := app.Public("t")
		_, se := setUp(t, w, 2, 2)

		a := r(w.Groups.Book(ctx, anon, se.ID, public("Ann Able"))).must(t)
		b := r(w.Groups.Book(ctx, anon, se.ID, public("Bo Baker"))).must(t)
		if a.Status != "booked" || b.Status != "booked" || a.Key == "" {
			t.Fatalf("first two: %+v %+v", a, b)
		}
		// Full: a pair, then a single, join the list in arrival order.
		pair := public("Cy Pair")
		pair.Places = 2
		c := r(w.Groups.Book(ctx, anon, se.ID, pair)).must(t)
		d := r(w.Groups.Book(ctx, anon, se.ID, public("Di Single"))).must(t)
		if c.Status != "waiting" || c.Position != 1 || d.Status != "waiting" || d.Position != 2 {
			t.Fatalf("waiting: %+v %+v", c, d)
		}
		if got := r(w.Groups.GetSession(ctx, anon, se.ID, "")).must(t).Session; got.PlacesLeft != 0 || got.Waiting != 2 {
			t.Fatalf("public counts: %+v", got)
		}

		t.Run("MoreThanTheGroupAllows", func(t *testing.T) {
			big := public("Too Many")
			big.Places = 3
			if _, err := w.Groups.Book(ctx, anon, se.ID, big); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("3 places: %v", err)
			}
		})

		// One place frees: the pair at the head does not fit it, so it is
		// offered to the single behind them; the pair keep their place.
		r(w.Groups.Cancel(ctx, anon, a.ID, a.Key)).must(t)
		dBooking := r(w.Groups.GetBooking(ctx, anon, d.ID, d.Key)).must(t)
		if dBooking.Offer == nil || dBooking.Offer.Status != "open" {
			t.Fatalf("the single was not offered the place: %+v", dBooking)
		}
		cBooking := r(w.Groups.GetBooking(ctx, anon, c.ID, c.Key)).must(t)
		if cBooking.Offer != nil || cBooking.Position != 1 {
			t.Fatalf("the pair: %+v", cBooking)
		}
		checkSession(t, db, se.ID)
		mails := r(mail.List(ctx, db, "di.single@example.org", 5)).must(t)
		if len(mails) < 2 || !strings.Contains(mails[0].Subject, "A place is free") || strings.Contains(mails[0].Body, "Hearing Voices") ||
			strings.Contains(mails[0].Body, "Di Single") {
			t.Fatalf("offer email: %+v", mails[0])
		}

		// The single says yes: booked, off the list; the pair move up.
		got := r(w.Groups.AcceptOffer(ctx, anon, dBooking.Offer.ID, d.Key)).must(t)
		if got.Status != "booked" {
			t.Fatalf("accepted: %+v", got)
		}
		if _, err := w.Groups.AcceptOffer(ctx, anon, dBooking.Offer.ID, d.Key); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("accepting twice: %v", err)
		}
		checkSession(t, db, se.ID)

		// Capacity up by two: the pair are offered both, and let it expire.
		r(w.Groups.SetCapacity(ctx, w.Principal(t, "lead"), se.ID, groups.CapacityChange{Capacity: 4})).must(t)
		cBooking = r(w.Groups.GetBooking(ctx, anon, c.ID, c.Key)).must(t)
		if cBooking.Offer == nil || cBooking.Offer.Places != 2 {
			t.Fatalf("the pair after more places: %+v", cBooking)
		}
		e := r(w.Groups.Book(ctx, anon, se.ID, public("Ed Late"))).must(t)
		if e.Status != "waiting" || e.Position != 2 {
			t.Fatalf("while places are held for the pair, a newcomer waits: %+v", e)
		}
		w.Clock.Advance(25 * time.Hour)
		if n := r(w.Groups.ExpireOffers(ctx, app.Operator("job"))).must(t); n != 1 {
			t.Fatalf("expired %d offers, want 1", n)
		}
		cBooking = r(w.Groups.GetBooking(ctx, anon, c.ID, c.Key)).must(t)
		if cBooking.Status != "expired" || !strings.Contains(cBooking.History[len(cBooking.History)-1].Text, "not taken up in time") {
			t.Fatalf("the pair after the hold: %+v", cBooking)
		}
		// The places moved on to the next entry: the newcomer, now first.
		eBooking := r(w.Groups.GetBooking(ctx, anon, e.ID, e.Key)).must(t)
		if eBooking.Offer == nil || eBooking.Position != 1 {
			t.Fatalf("the next person was not offered the place: %+v", eBooking)
		}
		// Declining moves it on again; with nobody waiting it stays free.
		r(w.Groups.DeclineOffer(ctx, anon, eBooking.Offer.ID, e.Key)).must(t)
		booked, waiting := checkSession(t, db, se.ID)
		if booked != 2 || waiting != 0 {
			t.Fatalf("booked %d, waiting %d", booked, waiting)
		}
		if left := r(w.Groups.GetSession(ctx, anon, se.ID, "")).must(t).Session.PlacesLeft; left != 2 {
			t.Fatalf("places left %d, want 2", left)
		}

		t.Run("KeysAreTheBookingsOwn", func(t *testing.T) {
			if _, err := w.Groups.GetBooking(ctx, anon, b.ID, d.Key); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("another booking's key: %v", err)
			}
			if _, err := w.Groups.Cancel(ctx, anon, b.ID, "guess"); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("a guessed key: %v", err)
			}
			if _, err := w.Groups.Cancel(ctx, w.Principal(t, "person"), b.ID, ""); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("someone else's account: %v", err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM group_booking_keys WHERE key_hash = $1", b.Key); n != 0 {
				t.Fatal("a key is stored as it is, not as its hash")
			}
		})
	})
}

func TestSignedInBookingIsOneClickAndOncePerSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, se := setUp(t, w, 12, 2)
		person := w.Principal(t, "person")
		bk := r(w.Groups.Book(ctx, person, se.ID, groups.BookingRequest{Places: 1})).must(t)
		if bk.Status != "booked" {
			t.Fatalf("%+v", bk)
		}
		if _, err := w.Groups.Book(ctx, person, se.ID, groups.BookingRequest{Places: 1}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("second booking: %v", err)
		}
		mine := r(w.Groups.MyBookings(ctx, person)).must(t)
		if len(mine) != 1 || mine[0].Name != "Test person" || mine[0].Email != "person@test.example" {
			t.Fatalf("my bookings: %+v", mine)
		}
		// Cancelled from the account, without a key.
		if c := r(w.Groups.Cancel(ctx, person, bk.ID, "")).must(t); c.Status != "cancelled" || c.LateCancel {
			t.Fatalf("cancel: %+v", c)
		}
		// Within a day of the start, a cancellation is late (recorded, not held against anyone).
		bk = r(w.Groups.Book(ctx, person, se.ID, groups.BookingRequest{Places: 1})).must(t)
		w.Clock.Advance(6*24*time.Hour + 12*time.Hour)
		if c := r(w.Groups.Cancel(ctx, person, bk.ID, "")).must(t); !c.LateCancel {
			t.Fatalf("late cancel not recorded: %+v", c)
		}
		if _, err := w.Groups.Book(ctx, person, se.ID, groups.BookingRequest{Places: 1}); err != nil {
			t.Fatalf("a late cancellation must not stop anyone booking: %v", err)
		}
	})
}

// 200 people book 12 places at the same moment: exactly 12 are booked and
// the other 188 wait, at distinct positions 1–188 in the order they were
// taken. Then cancellations and leavings race each other and the offers
// they make: no place is lost, none is double-booked.
func TestConcurrentBookingsNeverOverbook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, se := setUp(t, w, 12, 2)
		results := make([]groups.BookingResult, 200)
		errs := make([]error, 200)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = w.Groups.Book(ctx, app.Public("t"), se.ID, public(fmt.Sprintf("Person %03d", i)))
			}()
		}
		close(start)
		wg.Wait()
		booked, positions := 0, []int{}
		for i, r := range results {
			if errs[i] != nil {
				t.Fatalf("booking %d: %v", i, errs[i])
			}
			switch r.Status {
			case "booked":
				booked++
			case "waiting":
				positions = append(positions, r.Position)
			}
		}
		slices.Sort(positions)
		if booked != 12 || len(positions) != 188 || positions[0] != 1 || positions[187] != 188 || len(slices.Compact(slices.Clone(positions))) != 188 {
			t.Fatalf("booked %d, waiting %d at %v…", booked, len(positions), positions[:min(5, len(positions))])
		}
		checkSession(t, db, se.ID)

		// Half the booked cancel, and ten waiting leave, all at once.
		var cancels []groups.BookingResult
		nBooked := 0
		for _, r := range results {
			if r.Status == "booked" && nBooked < 6 {
				nBooked++
				cancels = append(cancels, r)
			}
			if r.Status == "waiting" && r.Position%17 == 0 {
				cancels = append(cancels, r)
			}
		}
		start = make(chan struct{})
		for _, r := range cancels {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := w.Groups.Cancel(ctx, app.Public("t"), r.ID, r.Key); err != nil {
					t.Errorf("cancel %d: %v", r.ID, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		booked, waiting := checkSession(t, db, se.ID)
		offers := count(t, db, "SELECT COUNT(*) FROM group_offers WHERE session_id = $1 AND status = 'open'", se.ID)
		if booked != 6 || offers != 6 || waiting != 188-len(cancels)+6 {
			t.Fatalf("after cancellations: %d booked, %d offers open, %d waiting", booked, offers, waiting)
		}
		// The six offers went to the six at the head of the list.
		heads := count(t, db, `SELECT COUNT(*) FROM group_bookings b JOIN group_offers o ON o.booking_id = b.id AND o.status = 'open'
			WHERE b.session_id = $1 AND b.position <= 6`, se.ID)
		if heads != 6 {
			t.Fatalf("offers went to %d of the first six", heads)
		}
	})
}

// Two instances ending offers and sending reminders at the same moment
// end each offer once and remind each session once.
func TestJobsRunOnceAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, se := setUp(t, w, 1, 1)
		anon := app.Public("t")
		first := r(w.Groups.Book(ctx, anon, se.ID, public("First Person"))).must(t)
		second := r(w.Groups.Book(ctx, anon, se.ID, public("Second Person"))).must(t)
		third := r(w.Groups.Book(ctx, anon, se.ID, public("Third Person"))).must(t)
		r(w.Groups.Cancel(ctx, anon, first.ID, first.Key)).must(t)
		w.Clock.Advance(25 * time.Hour)
		var wg sync.WaitGroup
		ended := make([]int, 4)
		for i := range ended {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ended[i] = r(w.Groups.ExpireOffers(ctx, app.Operator("job"))).must(t)
			}()
		}
		wg.Wait()
		if total := ended[0] + ended[1] + ended[2] + ended[3]; total != 1 {
			t.Fatalf("offers ended %v times in all, want once", ended)
		}
		if b := r(w.Groups.GetBooking(ctx, anon, third.ID, third.Key)).must(t); b.Offer == nil {
			t.Fatalf("the expired place did not move on: %+v", b)
		}
		if b := r(w.Groups.GetBooking(ctx, anon, second.ID, second.Key)).must(t); b.Status != "expired" {
			t.Fatalf("second: %+v", b)
		}
		checkSession(t, db, se.ID)

		// The session is now within a day: reminders, once.
		r(w.Groups.AcceptOffer(ctx, anon, r(w.Groups.GetBooking(ctx, anon, third.ID, third.Key)).must(t).Offer.ID, third.Key)).must(t)
		w.Clock.Advance(5*24*time.Hour + 2*time.Hour)
		sent := make([]int, 4)
		for i := range sent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sent[i] = r(w.Groups.SendReminders(ctx, app.Operator("job"))).must(t)
			}()
		}
		wg.Wait()
		if sent[0]+sent[1]+sent[2]+sent[3] != 1 {
			t.Fatalf("reminded %v, want one session once", sent)
		}
		reminders := 0
		for _, m := range r(mail.List(ctx, db, "third.person@example.org", 20)).must(t) {
			if !strings.HasPrefix(m.Subject, "Reminder") {
				continue
			}
			reminders++
			if len(m.Attachments) != 1 || !strings.HasSuffix(m.Attachments[0].Name, ".ics") {
				t.Fatalf("reminder without its calendar file: %+v", m.Attachments)
			}
			cal := icaltest.Parse(t, m.Attachments[0].Data)
			ev := cal.ByUID(t, fmt.Sprintf("booking-%d@mutual", third.ID))
			if !ev.Start.Equal(se.StartsAt) || ev.TZID != "Europe/London" || ev.StartWall[11:] != "10:30" {
				t.Errorf("reminder's event: %+v, want %v", ev, se.StartsAt)
			}
			for _, secret := range []string{"Hearing Voices", "Third Person", "Recovery College"} {
				if strings.Contains(string(m.Attachments[0].Data), secret) || strings.Contains(m.Body, secret) {
					t.Errorf("the reminder carries %q", secret)
				}
			}
		}
		if reminders != 1 {
			t.Fatalf("%d reminders, want 1", reminders)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM group_bookings WHERE session_id = $1 AND status = 'waiting'", se.ID); n != 0 {
			t.Fatalf("%d still waiting", n)
		}
	})
}

func TestMovesNeedAReasonAndAreShown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, se := setUp(t, w, 1, 1)
		anon := app.Public("t")
		var list []groups.BookingResult
		for _, n := range []string{"Holder", "One", "Two", "Three", "Four"} {
			list = append(list, r(w.Groups.Book(ctx, anon, se.ID, public(n))).must(t))
		}
		lead := w.Principal(t, "lead")
		if _, err := w.Groups.MoveOnList(ctx, lead, list[4].ID, groups.Move{Position: 1}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("a move without a reason: %v", err)
		}
		if _, err := w.Groups.MoveOnList(ctx, lead, list[4].ID, groups.Move{Position: 9, Reason: "x"}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("a move past the end: %v", err)
		}
		// A facilitator sees the list but may not reorder it; another
		// team's lead does not see it at all.
		if _, err := w.Groups.MoveOnList(ctx, w.Principal(t, "worker"), list[4].ID, groups.Move{Position: 1, Reason: "x"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("facilitator moving: %v", err)
		}
		if _, err := w.Groups.MoveOnList(ctx, w.Principal(t, "leadB"), list[4].ID, groups.Move{Position: 1, Reason: "x"}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another team's lead moving: %v", err)
		}
		got := r(w.Groups.MoveOnList(ctx, lead, list[4].ID, groups.Move{Position: 1, Reason: "they can only come on Tuesdays"})).must(t)
		if got.Position != 1 {
			t.Fatalf("%+v", got)
		}
		checkSession(t, db, se.ID)
		moved := r(w.Groups.GetBooking(ctx, anon, list[4].ID, list[4].Key)).must(t)
		last := moved.History[len(moved.History)-1]
		if last.Kind != "moved" || !last.ByStaff || last.Text != "Moved up the waiting list from number 4 to number 1 because: they can only come on Tuesdays" {
			t.Fatalf("the moved person's history: %+v", last)
		}
		for i, want := range []int{2, 3, 4} {
			b := r(w.Groups.GetBooking(ctx, anon, list[i+1].ID, list[i+1].Key)).must(t)
			h := b.History[len(b.History)-1]
			if b.Position != want || h.Kind != "displaced" || !strings.Contains(h.Text, "they can only come on Tuesdays") {
				t.Errorf("%s: position %d, history %+v", b.Name, b.Position, h)
			}
		}
		// Down again: those passed move up, and are told why.
		r(w.Groups.MoveOnList(ctx, lead, list[4].ID, groups.Move{Position: 3, Reason: "asked to wait"})).must(t)
		checkSession(t, db, se.ID)
		if b := r(w.Groups.GetBooking(ctx, anon, list[1].ID, list[1].Key)).must(t); b.Position != 1 {
			t.Fatalf("One is at %d", b.Position)
		}
		if mails := r(mail.List(ctx, db, "four@example.org", 1)).must(t); !strings.Contains(mails[0].Subject, "waiting list has changed") ||
			strings.Contains(mails[0].Body, "asked to wait") {
			t.Fatalf("the moved person's email (the reason is behind the link): %+v", mails[0])
		}
	})
}

func TestParticipantsOnlyForFacilitatorsAndLeads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, se := setUp(t, w, 12, 2)
		r(w.Groups.Book(ctx, w.Principal(t, "person"), se.ID, groups.BookingRequest{Places: 1})).must(t)
		r(w.Groups.Book(ctx, app.Public("t"), se.ID, public("Zed Public"))).must(t)
		for _, name := range []string{"worker", "lead"} {
			before := r(audit.Count(ctx, db, "")).must(t)
			ps := r(w.Groups.Participants(ctx, w.Principal(t, name), se.ID)).must(t)
			if len(ps.Booked) != 2 {
				t.Fatalf("%s sees %d booked", name, len(ps.Booked))
			}
			if after := r(audit.Count(ctx, db, "")).must(t); after != before+1 {
				t.Errorf("%s's look was not audited as one row", name)
			}
		}
		for _, name := range []string{"workerB", "leadB", "clinician", "person", "partner", "admin"} {
			if _, err := w.Groups.Participants(ctx, w.Principal(t, name), se.ID); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}
		// The person finds the facilitators' look in who has seen their record.
		personID := w.Principal(t, "person").PersonID
		if personID != 0 {
			if n := count(t, db, "SELECT COUNT(*) FROM audit_subjects WHERE person_id = $1", personID); n < 2 {
				t.Errorf("the person is named in %d audit rows", n)
			}
		}
	})
}

func TestRegisterFromTheDayIncludingDropIns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, se := setUp(t, w, 12, 2)
		anon := app.Public("t")
		a := r(w.Groups.Book(ctx, anon, se.ID, public("Came Along"))).must(t)
		b := r(w.Groups.Book(ctx, anon, se.ID, public("Did Not"))).must(t)
		worker := w.Principal(t, "worker")
		reg := groups.Register{Entries: []groups.RegisterEntry{{BookingID: a.ID, Outcome: "attended"}, {BookingID: b.ID, Outcome: "no_show"}},
			DropIns: []groups.DropIn{{Name: "J", People: 2}}}
		if _, err := w.Groups.RecordAttendance(ctx, worker, se.ID, reg); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("a week early: %v", err)
		}
		w.Clock.Advance(7 * 24 * time.Hour)
		sum := r(w.Groups.RecordAttendance(ctx, worker, se.ID, reg)).must(t)
		if sum.Attended != 3 || sum.NoShows != 1 || sum.DropIns != 2 {
			t.Fatalf("register: %+v", sum)
		}
		ps := r(w.Groups.Participants(ctx, worker, se.ID)).must(t)
		if ps.Register == nil || len(ps.DropIns) != 1 || ps.Booked[0].Outcome == "" {
			t.Fatalf("register: %+v", ps)
		}
		// Taking it again corrects it.
		reg.Entries[1].Outcome = "attended"
		reg.DropIns = nil
		r(w.Groups.RecordAttendance(ctx, worker, se.ID, reg)).must(t)
		if n := count(t, db, "SELECT COUNT(*) FROM group_attendance WHERE session_id = $1 AND outcome = 'no_show'", se.ID); n != 0 {
			t.Fatalf("%d no-shows after the correction", n)
		}
		if n := count(t, db, "SELECT COALESCE(SUM(people), 0) FROM group_attendance WHERE session_id = $1", se.ID); n != 4 {
			t.Fatalf("%d people came, want 4", n)
		}
		other := r(w.Groups.Book(ctx, anon, setUpAnother(t, w), public("Else"))).must(t)
		if _, err := w.Groups.RecordAttendance(ctx, worker, se.ID, groups.Register{Entries: []groups.RegisterEntry{{BookingID: other.ID, Outcome: "attended"}}}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("another session's booking on the register: %v", err)
		}
		if _, err := w.Groups.RecordAttendance(ctx, w.Principal(t, "workerB"), se.ID, reg); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("someone else's register: %v", err)
		}
	})
}

func setUpAnother(t testing.TB, w *testkit.World) int64 {
	_, se := setUp(t, w, 12, 2)
	return se.ID
}

func TestVisibility(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "leadB")
		venue := groups.Venue{Online: true, OnlineLink: "https://meet.example.org/x"}
		members := r(w.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: w.TeamB.ID, Title: "Ward coffee morning", Repeats: groups.Weekly,
			Visibility: groups.Members, Venue: venue})).must(t)
		invite := r(w.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: w.TeamB.ID, Title: "Invited workshop", Repeats: groups.Once,
			Visibility: groups.Invitation, Venue: venue})).must(t)
		if invite.InviteCode == "" || members.Venue.OnlineLink == "" {
			t.Fatalf("the lead should see the invitation code and the joining link: %+v", invite)
		}
		anon := app.Public("t")
		for _, g := range []groups.Group{members, invite} {
			if _, err := w.Groups.GetGroup(ctx, anon, g.ID, ""); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s is visible to the public: %v", g.Title, err)
			}
			if _, err := w.Groups.GetGroup(ctx, w.Principal(t, "leadB"), g.ID, ""); err != nil {
				t.Errorf("%s not visible to its lead: %v", g.Title, err)
			}
			if _, err := w.Groups.GetGroup(ctx, w.Principal(t, "lead"), g.ID, ""); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s is visible to another team: %v", g.Title, err)
			}
		}
		seen := r(w.Groups.GetGroup(ctx, anon, invite.ID, invite.InviteCode)).must(t)
		if seen.InviteCode != "" || seen.Venue.OnlineLink != "" {
			t.Fatalf("an invited stranger sees the code or link: %+v", seen)
		}
		// Someone referred to team B sees its members' group.
		r := w.StaffReferral(t, "clinicianB", "Member Person")
		if _, err := db.Exec(ctx, "UPDATE users SET person_id = $1 WHERE id = $2", r.PersonID, w.Users["person2"].ID); err != nil {
			t.Fatal(err)
		}
		p := w.Principal(t, "person2")
		if _, err := w.Groups.GetGroup(ctx, p, members.ID, ""); err != nil {
			t.Fatalf("a person the team serves cannot see its members' group: %v", err)
		}
		if _, err := w.Groups.GetGroup(ctx, w.Principal(t, "person"), members.ID, ""); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a stranger sees the members' group: %v", err)
		}
	})
}

// Those who run a session see a participant's recent no-shows at this
// group only: what the person did at another group (another team's, or
// another organisation's) is not theirs to see.
func TestRecentRecordIsThisGroupsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		anon := app.Public("t")
		worker := w.Principal(t, "worker")
		_, first := setUp(t, w, 12, 2)
		missed := r(w.Groups.Book(ctx, anon, first.ID, public("Sam Rivers"))).must(t)
		// Another group, run by the same worker, where Sam did not come.
		otherSession := setUpAnother(t, w)
		noShow := r(w.Groups.Book(ctx, anon, otherSession, public("Sam Rivers"))).must(t)
		w.Clock.Advance(7 * 24 * time.Hour)
		r(w.Groups.RecordAttendance(ctx, worker, otherSession, groups.Register{Entries: []groups.RegisterEntry{{BookingID: noShow.ID, Outcome: "no_show"}}})).must(t)
		ps := r(w.Groups.Participants(ctx, worker, first.ID)).must(t)
		if len(ps.Booked) != 1 || ps.Booked[0].ID != missed.ID || ps.Booked[0].NoShows != 0 {
			t.Fatalf("a no-show at another group shown: %+v", ps.Booked)
		}
		// At the other group's next session, it counts.
		g2 := count(t, db, "SELECT group_id FROM group_sessions WHERE id = $1", otherSession)
		start := w.Clock.Now().AddDate(0, 0, 7).In(app.London).Format("2006-01-02") + "T10:30"
		next := r(w.Groups.AddSessions(ctx, w.Principal(t, "lead"), int64(g2), groups.NewSessions{Start: start, Minutes: 90})).must(t)
		r(w.Groups.Book(ctx, anon, next[0].ID, public("Sam Rivers"))).must(t)
		ps = r(w.Groups.Participants(ctx, worker, next[0].ID)).must(t)
		if len(ps.Booked) != 1 || ps.Booked[0].NoShows != 1 {
			t.Fatalf("the no-show at this group not counted: %+v", ps.Booked)
		}
	})
}

// Someone still to finish two-factor sign-in runs no team's groups, as
// they hold no team's other rights.
func TestHalfSignedInManagesNothing(t *testing.T) {
	ms := []app.Membership{{Role: app.RolePeerLead, TeamID: 7}}
	if got := groups.ManagedTeams(&app.Principal{UserID: 1, Memberships: ms}); len(got) != 1 || got[0] != 7 {
		t.Fatalf("signed in: %v", got)
	}
	for _, p := range []*app.Principal{{UserID: 1, Memberships: ms, MFAPending: true}, {UserID: 1, Memberships: ms, MFASetup: true}, nil} {
		if got := groups.ManagedTeams(p); len(got) != 0 {
			t.Fatalf("%+v manages %v", p, got)
		}
	}
}
