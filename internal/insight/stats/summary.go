package stats

import (
	"math"
	"sort"
)

// Median returns the median of xs (Percentile with q = 0.5), ignoring NaN
// entries; it returns NaN when xs has no non-NaN values.
func Median(xs []float64) float64 {
	return Percentile(xs, 0.5)
}

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of xs by linear interpolation
// between closest ranks (R type 7, h = (N−1)q), ignoring NaN entries and
// without modifying xs; it returns NaN when q is outside [0, 1] or no
// non-NaN value remains, and ±Inf entries can make the result infinite.
func Percentile(xs []float64, q float64) float64 {
	return Percentiles(xs, q)[0]
}

// percentileSorted is Percentile for a non-empty, sorted, NaN-free slice.
func percentileSorted(sorted []float64, q float64) float64 {
	h := float64(len(sorted)-1) * q
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	a, b := sorted[lo], sorted[lo+1]
	if a == b { // also avoids Inf − Inf
		return a
	}
	return a + (h-float64(lo))*(b-a)
}

// ShareAtMost returns the fraction of xs that are ≤ limit (for example the
// share of people seen within 28 days), ignoring NaN entries in both the
// numerator and the denominator; it returns NaN when no non-NaN value
// remains or limit is NaN.
func ShareAtMost(xs []float64, limit float64) float64 {
	if math.IsNaN(limit) {
		return math.NaN()
	}
	count, total := 0, 0
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		total++
		if x <= limit {
			count++
		}
	}
	if total == 0 {
		return math.NaN()
	}
	return float64(count) / float64(total)
}

// Percentiles returns the q-quantiles of xs, as Percentile does for each,
// sorting xs (a copy) once.
func Percentiles(xs []float64, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	sorted := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			sorted = append(sorted, x)
		}
	}
	sort.Float64s(sorted)
	for i, q := range qs {
		if !(q >= 0 && q <= 1) || len(sorted) == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = percentileSorted(sorted, q)
	}
	return out
}
