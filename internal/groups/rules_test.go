package groups

import (
	"slices"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

func TestPlanOffers(t *testing.T) {
	e := func(id int64, pos, places int, offered bool) Entry {
		return Entry{BookingID: id, Position: pos, Places: places, Offered: offered}
	}
	cases := []struct {
		name    string
		free    int
		waiting []Entry
		want    []int64
	}{
		{"NothingFree", 0, []Entry{e(1, 1, 1, false)}, nil},
		{"FirstInLine", 1, []Entry{e(2, 2, 1, false), e(1, 1, 1, false)}, []int64{1}},
		{"TwoFreeTwoSingles", 2, []Entry{e(1, 1, 1, false), e(2, 2, 1, false), e(3, 3, 1, false)}, []int64{1, 2}},
		{"FirstDoesNotFitSecondDoes", 1, []Entry{e(1, 1, 2, false), e(2, 2, 1, false)}, []int64{2}},
		{"FirstFitsExactly", 2, []Entry{e(1, 1, 2, false), e(2, 2, 1, false)}, []int64{1}},
		{"AlreadyOfferedSkipped", 1, []Entry{e(1, 1, 1, true), e(2, 2, 1, false)}, []int64{2}},
		{"NobodyFits", 1, []Entry{e(1, 1, 2, false), e(2, 2, 3, false)}, nil},
		{"Empty", 3, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := PlanOffers(c.free, c.waiting); !slices.Equal(got, c.want) {
				t.Fatalf("PlanOffers(%d) = %v, want %v", c.free, got, c.want)
			}
		})
	}
}

func TestBookOrWait(t *testing.T) {
	for _, c := range []struct {
		free, places int
		want         string
	}{{3, 1, StatusBooked}, {1, 1, StatusBooked}, {1, 2, StatusWaiting}, {0, 1, StatusWaiting}, {-1, 1, StatusWaiting}} {
		if got := Book(c.free, c.places); got != c.want {
			t.Errorf("Book(%d, %d) = %s, want %s", c.free, c.places, got, c.want)
		}
	}
}

func london(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, app.London)
}

// Recurring sessions keep their wall-clock time in London across the
// clocks changing, so their UTC times move by an hour; monthly sessions
// on the 31st fall on the last day of shorter months; the hour skipped in
// spring moves forward.
func TestSessionStarts(t *testing.T) {
	t.Run("WeeklyAcrossTheClocksGoingBack", func(t *testing.T) {
		got := SessionStarts(london(2026, 10, 20, 10, 30), Weekly, 3)
		want := []time.Time{
			time.Date(2026, 10, 20, 9, 30, 0, 0, time.UTC),  // BST
			time.Date(2026, 10, 27, 10, 30, 0, 0, time.UTC), // GMT from 25 October
			time.Date(2026, 11, 3, 10, 30, 0, 0, time.UTC),
		}
		if !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for _, g := range got {
			if h, m, _ := g.In(app.London).Clock(); h != 10 || m != 30 {
				t.Errorf("%v is %02d:%02d in London, want 10:30", g, h, m)
			}
		}
	})
	t.Run("FortnightlyAcrossTheClocksGoingForward", func(t *testing.T) {
		got := SessionStarts(london(2027, 3, 18, 18, 0), Fortnightly, 2)
		want := []time.Time{time.Date(2027, 3, 18, 18, 0, 0, 0, time.UTC), time.Date(2027, 4, 1, 17, 0, 0, 0, time.UTC)}
		if !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("MonthlyOnThe31st", func(t *testing.T) {
		got := SessionStarts(london(2027, 1, 31, 14, 0), Monthly, 4)
		var days []int
		for _, g := range got {
			days = append(days, g.In(app.London).Day())
		}
		if !slices.Equal(days, []int{31, 28, 31, 30}) {
			t.Fatalf("days %v, want 31 28 31 30 (never drifting to the 28th)", days)
		}
		if got[2].In(app.London).Hour() != 14 || got[2].UTC().Hour() != 13 {
			t.Errorf("31 March is in summer time: %v", got[2])
		}
	})
	t.Run("MonthlyInALeapYear", func(t *testing.T) {
		got := SessionStarts(london(2028, 1, 30, 10, 0), Monthly, 2)
		if d := got[1].In(app.London).Day(); d != 29 {
			t.Fatalf("February 2028 session on %d, want 29", d)
		}
	})
	t.Run("MonthlyOverTheYearEnd", func(t *testing.T) {
		got := SessionStarts(london(2026, 11, 15, 10, 0), Monthly, 3)
		if y, m, d := got[2].In(app.London).Date(); y != 2027 || m != time.January || d != 15 {
			t.Fatalf("third session %v", got[2])
		}
	})
	t.Run("SkippedHourMovesForward", func(t *testing.T) {
		got := SessionStarts(london(2027, 3, 21, 1, 30), Weekly, 2)
		if h, m, _ := got[1].In(app.London).Clock(); h != 2 || m != 30 {
			t.Fatalf("01:30 on 28 March 2027 does not exist; got %02d:%02d", h, m)
		}
	})
	t.Run("OnceIsOne", func(t *testing.T) {
		if got := SessionStarts(london(2026, 12, 1, 10, 0), Once, 5); len(got) != 1 {
			t.Fatalf("got %d sessions", len(got))
		}
	})
}

func TestTurnsShareTheRota(t *testing.T) {
	pool := []Person{{UserID: 1}, {UserID: 2}, {UserID: 3}}
	var all []int64
	for n := range 3 {
		got := Turns(pool, n, 2)
		if len(got) != 2 {
			t.Fatalf("session %d: %v", n, got)
		}
		all = append(all, got...)
	}
	for _, id := range []int64{1, 2, 3} {
		if c := len(slices.DeleteFunc(slices.Clone(all), func(x int64) bool { return x != id })); c != 2 {
			t.Errorf("facilitator %d has %d of 6 turns, want 2", id, c)
		}
	}
	if got := Turns(pool[:1], 5, 2); !slices.Equal(got, []int64{1}) {
		t.Errorf("a rota of one: %v", got)
	}
	if got := Turns(nil, 0, 2); got != nil {
		t.Errorf("no rota: %v", got)
	}
}

func TestEventTextSaysWhy(t *testing.T) {
	if got := EventText("moved", 5, 2, "a carer's only free day"); got != "Moved up the waiting list from number 5 to number 2 because: a carer's only free day" {
		t.Errorf("moved: %q", got)
	}
	if got := EventText("displaced", 2, 3, "x"); got != "Now number 3 on the waiting list instead of number 2, because someone else was moved: x" {
		t.Errorf("displaced: %q", got)
	}
}
