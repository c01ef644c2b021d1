package stats

import (
	"strconv"
)

// Withheld is the marker shown for a value hidden by disclosure control
// (secondary suppression, withheld rates, invalid counts); it is an en dash,
// so code comparing against an ASCII hyphen will not match it.
const Withheld = "–"

// Suppressor applies statistical disclosure control to published counts:
// counts from 1 to Threshold−1 are primary-suppressed and shown as
// "<Threshold" (Threshold = 5 hides 1–4; Threshold ≤ 1 hides nothing), other
// counts are rounded to the nearest RoundTo (halves up; 0 or negative means
// no rounding), and a non-zero count that would round to 0 is shown as
// RoundTo so that "0" always means a true zero.
type Suppressor struct {
	Threshold int
	RoundTo   int
}

// Suppressed reports whether n is primary-suppressed (1 ≤ n < Threshold);
// negative n, which is never a valid count, is also reported as suppressed
// so that it cannot leak.
func (s Suppressor) Suppressed(n int) bool {
	return n < 0 || (n > 0 && n < s.Threshold)
}

// Count formats n for publication as "0", "<Threshold" or the (rounded)
// number, and as Withheld for a negative n; rounding means a column of
// shown counts need not add up to the shown total.
func (s Suppressor) Count(n int) string {
	switch {
	case n == 0:
		return "0"
	case n < 0:
		return Withheld
	case s.Suppressed(n):
		return "<" + strconv.Itoa(s.Threshold)
	}
	return strconv.Itoa(s.round(n))
}

func (s Suppressor) round(n int) int {
	if s.RoundTo <= 0 {
		return n
	}
	r := (n + s.RoundTo/2) / s.RoundTo * s.RoundTo
	if r == 0 && n > 0 {
		r = s.RoundTo
	}
	return r
}

// Row formats a row of counts and its total with primary and secondary
// suppression (rule in the package documentation) so that no hidden cell can
// be recovered from the shown total by subtraction; it protects each row on
// its own, not columns across rows, and assumes total ≥ the sum of counts.
func (s Suppressor) Row(counts []int, total int) (cells []string, totalCell string) {
	cells = make([]string, len(counts))
	primary, primarySum := 0, 0
	for i, c := range counts {
		cells[i] = s.Count(c)
		if s.Suppressed(c) {
			primary++
			primarySum += c
		}
	}
	totalCell = s.Count(total)
	if primary == 0 || s.Suppressed(total) {
		return cells, totalCell
	}
	derivable := primary == 1 || primarySum == primary || primarySum == primary*(s.Threshold-1)
	if !derivable {
		return cells, totalCell
	}
	best := -1
	for i, c := range counts {
		if c > 0 && !s.Suppressed(c) && (best < 0 || c < counts[best]) {
			best = i
		}
	}
	if best < 0 {
		totalCell = Withheld
		return cells, totalCell
	}
	for i, c := range counts {
		if i == best || s.Suppressed(c) {
			cells[i] = Withheld
		}
	}
	return cells, totalCell
}

// Rate formats events/n as a percentage with one decimal place ("12.5%"),
// or returns Withheld and false when n < Threshold, 1 ≤ events < Threshold,
// n ≤ 0 or events is outside [0, n]; the rate uses the unrounded counts, so
// it can reveal the exact values that RoundTo hides.
func (s Suppressor) Rate(events, n int) (string, bool) {
	if n <= 0 || n < s.Threshold || events < 0 || events > n || s.Suppressed(events) {
		return Withheld, false
	}
	return strconv.FormatFloat(100*float64(events)/float64(n), 'f', 1, 64) + "%", true
}

// Value is Count as a number: the (rounded) count to publish, or nil when
// n is primary-suppressed or negative.
func (s Suppressor) Value(n int) *int {
	if n < 0 || s.Suppressed(n) {
		return nil
	}
	v := s.round(n)
	return &v
}

// RowValues is Row as numbers: each cell's published count (nil when
// hidden), whether Row withholds it with others rather than showing
// "<Threshold", and the total to publish beside them, nil when small or
// when every non-zero cell behind it is hidden (five groups of 1 must not
// sit beside a total of 5), so callers publish it and never the raw total.
func (s Suppressor) RowValues(counts []int, total int) (cells []*int, withheld []bool, shownTotal *int) {
	shown, totalCell := s.Row(counts, total)
	cells, withheld = make([]*int, len(counts)), make([]bool, len(counts))
	for i, c := range counts {
		if shown[i] == Withheld {
			withheld[i] = true
			continue
		}
		cells[i] = s.Value(c)
	}
	if totalCell != Withheld {
		shownTotal = s.Value(total)
	}
	return cells, withheld, shownTotal
}

// Fraction is Rate as a fraction (0.125 for "12.5%"), with false when Rate
// withholds it.
func (s Suppressor) Fraction(events, n int) (float64, bool) {
	if _, ok := s.Rate(events, n); !ok {
		return 0, false
	}
	return float64(events) / float64(n), true
}
