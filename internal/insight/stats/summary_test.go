package stats

import (
	"math"
	"testing"
)

func TestPercentileType7(t *testing.T) {
	xs := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5} // 1..10, unsorted
	orig := append([]float64(nil), xs...)
	// R: quantile(1:10, c(0, .1, .25, .5, .9, 1)) = 1, 1.9, 3.25, 5.5, 9.1, 10.
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.1, 1.9}, {0.25, 3.25}, {0.5, 5.5}, {0.9, 9.1}, {1, 10}} {
		if got := Percentile(xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	for i := range xs {
		if xs[i] != orig[i] {
			t.Fatal("Percentile modified its input")
		}
	}
	if got := Median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("Median(3,1,2) = %v", got)
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("Median(4,1,3,2) = %v", got)
	}
	if got := Median([]float64{7}); got != 7 {
		t.Errorf("Median(7) = %v", got)
	}
	if got := Median([]float64{math.NaN(), 5, 1, math.NaN()}); got != 3 {
		t.Errorf("Median ignoring NaN = %v, want 3", got)
	}
	if got := Percentile([]float64{1, math.Inf(1), math.Inf(1)}, 0.9); !math.IsInf(got, 1) {
		t.Errorf("Percentile with +Inf = %v", got)
	}
	for _, c := range []struct {
		xs []float64
		q  float64
	}{{nil, 0.5}, {[]float64{math.NaN()}, 0.5}, {[]float64{1}, -0.1}, {[]float64{1}, 1.1}, {[]float64{1}, math.NaN()}} {
		if got := Percentile(c.xs, c.q); !math.IsNaN(got) {
			t.Errorf("Percentile(%v, %v) = %v, want NaN", c.xs, c.q, got)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) should be NaN")
	}
	// Several at once, from one sort, are the same as each alone.
	qs := []float64{0.9, 0, 0.5, 1.5, 0.25}
	for i, got := range Percentiles(xs, qs...) {
		if want := Percentile(xs, qs[i]); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("Percentiles(1..10)[%v] = %v, want %v", qs[i], got, want)
		}
	}
}

func TestShareAtMost(t *testing.T) {
	waits := []float64{3, 10, 14, 28, 29, 60, math.NaN()}
	if got := ShareAtMost(waits, 28); got != 4.0/6 {
		t.Errorf("ShareAtMost(≤28) = %v, want 4/6", got)
	}
	if got := ShareAtMost(waits, 0); got != 0 {
		t.Errorf("ShareAtMost(≤0) = %v", got)
	}
	if !math.IsNaN(ShareAtMost(nil, 28)) || !math.IsNaN(ShareAtMost(waits, math.NaN())) {
		t.Error("empty input or NaN limit should give NaN")
	}
}
