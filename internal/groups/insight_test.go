package groups_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// The groups' figures for a month, from a story whose every number is
// worked out by hand:
//
// Session 1 (2 places, 10:30) and session 2 (6 places, 14:00) on the
// same day; session 3 that evening is cancelled and counts for nothing.
// At t0 Ann and Bo book session 1's two places; Cy, Di, Ed, Fay and Hal
// join its waiting list (1–5). t0+1h Fay leaves the list. t0+10h Ann
// cancels: Cy is offered her place and takes it at t0+12h (12 hours on the
// list). t0+18h Bo cancels: Di is offered it, takes it at t0+30h (30
// hours). t0+40h the lead adds a third place: Ed is offered it and takes
// it at t0+45h (45 hours). Hal never gets a place. On session 2, Jo books
// at t0 and cancels two hours before it starts (late).
// On the day, Cy and Di came, Ed did not, and two people dropped in.
//
// So: sessions held 2; places 2+1+6 = 9 (session 1 now has 3); bookings
// that kept their place 3 (Cy, Di, Ed); attended 2+2 = 4; no-shows 1;
// late cancellations 1 (Jo; Ann and Bo cancelled days ahead); waited and
// never placed 2 (Fay, who left, and Hal); median hours to a place of
// {12, 30, 45} = 30.
func TestInsightFiguresFromKnownData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead, anon := w.Principal(t, "lead"), app.Public("t")
		g := r(w.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: w.TeamA.ID, Title: "Walk and Talk", Repeats: groups.Once,
			Visibility: groups.Public, Capacity: 2, MaxPlaces: 1, Venue: groups.Venue{Name: "Park gates"}})).must(t)
		day := w.Clock.Now().AddDate(0, 0, 7).In(app.London).Format("2006-01-02")
		one := r(w.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: day + "T10:30", Minutes: 60})).must(t)[0]
		two := r(w.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: day + "T14:00", Minutes: 60, Capacity: 6})).must(t)[0]
		three := r(w.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: day + "T18:00", Minutes: 60})).must(t)[0]
		t0 := w.Clock.Now()
		at := func(h float64) {
			t.Helper()
			w.Clock.Advance(t0.Add(time.Duration(h * float64(time.Hour))).Sub(w.Clock.Now()))
		}
		bk := map[string]groups.BookingResult{}
		for _, name := range []string{"Ann", "Bo", "Cy", "Di", "Ed", "Fay", "Hal"} {
			bk[name] = r(w.Groups.Book(ctx, anon, one.ID, public(name))).must(t)
		}
		if bk["Hal"].Position != 5 || bk["Bo"].Status != groups.StatusBooked {
			t.Fatalf("set-up: %+v %+v", bk["Bo"], bk["Hal"])
		}
		bk["Jo"] = r(w.Groups.Book(ctx, anon, two.ID, public("Jo"))).must(t)
		r(w.Groups.Book(ctx, anon, three.ID, public("Kit"))).must(t)
		r(w.Groups.CancelSession(ctx, lead, three.ID, groups.SessionCancel{Reason: "The park closes early"})).must(t)

		cancel := func(name string) { r(w.Groups.Cancel(ctx, anon, bk[name].ID, bk[name].Key)).must(t) }
		accept := func(name string) {
			t.Helper()
			b := r(w.Groups.GetBooking(ctx, anon, bk[name].ID, bk[name].Key)).must(t)
			if b.Offer == nil {
				t.Fatalf("%s has no offer: %+v", name, b)
			}
			r(w.Groups.AcceptOffer(ctx, anon, b.Offer.ID, bk[name].Key)).must(t)
		}
		at(1)
		cancel("Fay")
		at(10)
		cancel("Ann")
		at(12)
		accept("Cy")
		at(18)
		cancel("Bo")
		at(30)
		accept("Di")
		at(40)
		r(w.Groups.SetCapacity(ctx, lead, one.ID, groups.CapacityChange{Capacity: 3})).must(t)
		at(45)
		accept("Ed")
		w.Clock.Advance(two.StartsAt.Add(-2 * time.Hour).Sub(w.Clock.Now()))
		if c := r(w.Groups.Cancel(ctx, anon, bk["Jo"].ID, bk["Jo"].Key)).must(t); !c.LateCancel {
			t.Fatalf("Jo's cancellation is not late: %+v", c)
		}
		w.Clock.Advance(one.StartsAt.Add(4 * time.Hour).Sub(w.Clock.Now()))
		r(w.Groups.RecordAttendance(ctx, lead, one.ID, groups.Register{Entries: []groups.RegisterEntry{
			{BookingID: bk["Cy"].ID, Outcome: "attended"}, {BookingID: bk["Di"].ID, Outcome: "attended"}, {BookingID: bk["Ed"].ID, Outcome: "no_show"}},
			DropIns: []groups.DropIn{{Name: "J", People: 2}}})).must(t)
		w.Clock.Advance(24 * time.Hour)

		from, to, err := groups.InsightPeriod(day[:8]+"01", day, w.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		analyst := w.Principal(t, "analyst")
		figures := func(threshold int) (groups.GroupInsight, groups.GroupMonth) {
			t.Helper()
			w.Groups.Suppress = stats.Suppressor{Threshold: threshold}
			gi := r(w.Groups.Insight(ctx, analyst, from, to)).must(t)
			if len(gi.Months) != 1 {
				t.Fatalf("months: %+v", gi.Months)
			}
			return gi, gi.Months[0]
		}
		deref := func(p *int) int {
			if p == nil {
				return -1
			}
			return *p
		}

		// Nothing withheld: every figure as worked out above.
		gi, m := figures(1)
		if m.Sessions != 2 || m.Places != 9 || m.Month != day[:7] || m.GroupID != g.ID {
			t.Errorf("sessions %d (want 2), places %d (want 9), month %s", m.Sessions, m.Places, m.Month)
		}
		for _, f := range []struct {
			name      string
			got, want int
		}{{"bookings", deref(m.Bookings), 3}, {"attended", deref(m.Attended), 4}, {"no_shows", deref(m.NoShows), 1},
			{"late_cancellations", deref(m.Late), 1}, {"waited_never_placed", deref(m.Unplaced), 2}} {
			if f.got != f.want {
				t.Errorf("%s: %d, want %d", f.name, f.got, f.want)
			}
		}
		if m.HoursToPlace == nil || *m.HoursToPlace != 30 {
			t.Errorf("median_hours_to_place: %v, want 30", m.HoursToPlace)
		}
		if !m.UnmetDemand || m.Suppressed || len(gi.Unmet) != 1 || gi.Unmet[0] != "Walk and Talk" {
			t.Errorf("unmet demand %t, suppressed %t, groups with unmet demand %v", m.UnmetDemand, m.Suppressed, gi.Unmet)
		}

		// At the usual threshold of 5 every count of people here is small:
		// each is withheld, and so is the median of three waits; sessions
		// and places are not counts of people and stay.
		_, m = figures(5)
		if m.Bookings != nil || m.Attended != nil || m.NoShows != nil || m.Late != nil || m.Unplaced != nil || m.HoursToPlace != nil || !m.Suppressed {
			t.Errorf("small counts shown: %+v", m)
		}
		if m.Sessions != 2 || m.Places != 9 || !m.UnmetDemand || m.AttendedText != "<5" {
			t.Errorf("at threshold 5: %+v", m)
		}
	})
}
