package stats

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestSuppressorCount(t *testing.T) {
	s := Suppressor{Threshold: 5}
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0"}, {1, "<5"}, {3, "<5"}, {4, "<5"}, {5, "5"}, {17, "17"}, {-2, Withheld}} {
		if got := s.Count(c.n); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if !s.Suppressed(1) || !s.Suppressed(4) || s.Suppressed(0) || s.Suppressed(5) || !s.Suppressed(-1) {
		t.Error("Suppressed boundaries wrong")
	}
	r := Suppressor{Threshold: 5, RoundTo: 5}
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0"}, {3, "<5"}, {5, "5"}, {7, "5"}, {8, "10"}, {12, "10"}, {13, "15"}, {1234, "1235"}} {
		if got := r.Count(c.n); got != c.want {
			t.Errorf("RoundTo 5: Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	// A shown non-zero count never reads as a true zero.
	big := Suppressor{Threshold: 3, RoundTo: 10}
	if got := big.Count(4); got != "10" {
		t.Errorf("Count(4) with RoundTo 10 = %q, want 10", got)
	}
	none := Suppressor{}
	if got := none.Count(1); got != "1" {
		t.Errorf("Threshold 0 should suppress nothing, got %q", got)
	}
	t10 := Suppressor{Threshold: 10}
	if got := t10.Count(9); got != "<10" {
		t.Errorf("Threshold 10: Count(9) = %q", got)
	}
}

func TestSuppressorRowExamples(t *testing.T) {
	s := Suppressor{Threshold: 5}
	cases := []struct {
		counts []int
		total  int
		cells  []string
		tot    string
	}{
		// One primary cell: the smallest other non-zero (6, not 9 or 0) goes too,
		// and both hidden cells share the Withheld marker.
		{[]int{3, 9, 0, 6}, 18, []string{Withheld, "9", "0", Withheld}, "18"},
		// Tie for the smallest: the first is chosen.
		{[]int{7, 2, 7}, 16, []string{Withheld, Withheld, "7"}, "16"},
		// Two primary cells whose sum (5) leaves doubt: nothing more.
		{[]int{2, 3, 20}, 25, []string{"<5", "<5", "20"}, "25"},
		// Two primary cells that are both 1 (sum 2 = their number): protected.
		{[]int{1, 1, 20, 30}, 52, []string{Withheld, Withheld, Withheld, "30"}, "52"},
		// Two primary cells both at 4 (sum 8 = 2·4): protected.
		{[]int{4, 4, 9}, 17, []string{Withheld, Withheld, Withheld}, "17"},
		// Total suppressed: nothing can be derived by subtraction.
		{[]int{1, 2, 0}, 3, []string{"<5", "<5", "0"}, "<5"},
		// No primary cell.
		{[]int{5, 0, 12}, 17, []string{"5", "0", "12"}, "17"},
		// The only other cells are zero (total includes an unlisted category):
		// withhold the total instead.
		{[]int{3, 0}, 10, []string{"<5", "0"}, Withheld},
	}
	for _, c := range cases {
		cells, tot := s.Row(c.counts, c.total)
		if strings.Join(cells, "|") != strings.Join(c.cells, "|") || tot != c.tot {
			t.Errorf("Row(%v, %d) = %q, %q; want %q, %q", c.counts, c.total, cells, tot, c.cells, c.tot)
		}
	}
}

// TestSuppressorRowNotDerivable enumerates every row of up to four cells with
// values 0..11 (total = sum, threshold 5, no rounding) and checks, by brute
// force over every assignment consistent with what is shown, that no hidden
// cell's value is pinned down by the total.  A cell shown as "<5" can be
// 1..4; a Withheld cell can be any positive value (it may be primary or
// secondary) unless the row also shows "<5", when it must be ≥ 5; shown
// numbers are exact.
func TestSuppressorRowNotDerivable(t *testing.T) {
	s := Suppressor{Threshold: 5}
	const maxV = 11
	var counts []int
	checked := 0
	var rec func(k int)
	rec = func(k int) {
		if k > 0 {
			total := 0
			for _, c := range counts {
				total += c
			}
			checkRow(t, s, counts, total)
			checked++
		}
		if k == 4 || t.Failed() {
			return
		}
		for v := 0; v <= maxV; v++ {
			counts = append(counts, v)
			rec(k + 1)
			counts = counts[:len(counts)-1]
		}
	}
	rec(0)
	t.Logf("checked %d rows", checked)
}

func checkRow(t *testing.T, s Suppressor, counts []int, total int) {
	t.Helper()
	cells, totCell := s.Row(counts, total)
	if totCell != strconv.Itoa(total) {
		return // total hidden or shown as "<5": nothing to subtract from exactly
	}
	rest := total
	var hidden []int // indices
	for i, c := range cells {
		if v, err := strconv.Atoi(c); err == nil {
			if v != counts[i] {
				t.Fatalf("Row(%v): cell %d shows %q", counts, i, c)
			}
			rest -= v
			continue
		}
		if c == "<5" && !(counts[i] >= 1 && counts[i] <= 4) || c == Withheld && counts[i] <= 0 {
			t.Fatalf("Row(%v): cell %d shows %q for %d", counts, i, c, counts[i])
		}
		hidden = append(hidden, i)
	}
	mixed := slices.Contains(cells, "<5") && slices.Contains(cells, Withheld)
	// feasible[j] collects the values hidden cell j takes across all
	// assignments that match the display and sum to the remaining total.
	feasible := make([]map[int]bool, len(hidden))
	for j := range feasible {
		feasible[j] = map[int]bool{}
	}
	vals := make([]int, len(hidden))
	var enum func(j, left int)
	enum = func(j, left int) {
		if j == len(hidden) {
			if left == 0 {
				for jj, v := range vals {
					feasible[jj][v] = true
				}
			}
			return
		}
		lo, hi := 1, left
		switch {
		case cells[hidden[j]] == "<5":
			hi = min(hi, 4)
		case mixed: // beside "<5", a Withheld cell must be ≥ 5
			lo = 5
		}
		for v := lo; v <= hi; v++ {
			vals[j] = v
			enum(j+1, left-v)
		}
	}
	enum(0, rest)
	for j, i := range hidden {
		if len(feasible[j]) < 2 {
			t.Fatalf("Row(%v, %d) = %q: hidden cell %d (value %d) can be derived", counts, total, cells, i, counts[i])
		}
	}
}

func TestSuppressorRate(t *testing.T) {
	s := Suppressor{Threshold: 5}
	cases := []struct {
		events, n int
		want      string
		ok        bool
	}{
		{10, 40, "25.0%", true},
		{0, 40, "0.0%", true},
		{40, 40, "100.0%", true},
		{5, 7, "71.4%", true},
		{3, 40, Withheld, false}, // events suppressed
		{0, 4, Withheld, false},  // denominator below threshold
		{4, 4, Withheld, false},
		{0, 0, Withheld, false},
		{5, 4, Withheld, false}, // events > n
		{-1, 40, Withheld, false},
	}
	for _, c := range cases {
		got, ok := s.Rate(c.events, c.n)
		if got != c.want || ok != c.ok {
			t.Errorf("Rate(%d, %d) = %q, %v; want %q, %v", c.events, c.n, got, ok, c.want, c.ok)
		}
	}
}

// RowValues gives the total to publish: withheld when every non-zero cell
// behind it is hidden (five groups of 1 beside a total of 5 would give
// each away), shown otherwise.
func TestRowValuesWithholdsADerivableTotal(t *testing.T) {
	s := Suppressor{Threshold: 5}
	cells, _, total := s.RowValues([]int{1, 1, 1, 1, 1}, 5)
	if total != nil {
		t.Errorf("five groups of 1: total %d shown", *total)
	}
	for i, c := range cells {
		if c != nil {
			t.Errorf("cell %d shown: %d", i, *c)
		}
	}
	if _, _, total := s.RowValues([]int{4, 4}, 8); total != nil {
		t.Errorf("two groups of 4: total %d shown", *total)
	}
	cells, held, total := s.RowValues([]int{6, 2, 9}, 17)
	if total == nil || *total != 17 || cells[1] != nil || cells[0] != nil || !held[0] || cells[2] == nil {
		t.Errorf("6, 2, 9 of 17: cells %v held %v total %v", cells, held, total)
	}
}
