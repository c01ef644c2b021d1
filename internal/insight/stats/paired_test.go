package stats

import (
	"math"
	"testing"
)

// Quantiles from published t tables (and R's qt), to the digits printed.
func TestStudentTQuantile(t *testing.T) {
	for _, c := range []struct {
		p, df, want, tol float64
	}{
		{0.975, 1, 12.7062, 1e-4},
		{0.975, 2, 4.3027, 1e-4},
		{0.975, 4, 2.7764, 1e-4},
		{0.975, 10, 2.2281, 1e-4},
		{0.975, 30, 2.0423, 1e-4},
		{0.975, 1000, 1.9623, 1e-4},
		{0.95, 9, 1.8331, 1e-4},
		{0.025, 4, -2.7764, 1e-4},
		{0.5, 7, 0, 1e-12},
		{0.995, 5, 4.0321, 1e-4},
	} {
		if got := StudentTQuantile(c.p, c.df); math.Abs(got-c.want) > c.tol {
			t.Errorf("StudentTQuantile(%v, %v) = %.6f, want %.4f", c.p, c.df, got, c.want)
		}
	}
	for _, c := range [][2]float64{{0, 3}, {1, 3}, {0.9, 0}, {math.NaN(), 3}, {0.9, -1}} {
		if got := StudentTQuantile(c[0], c[1]); !math.IsNaN(got) {
			t.Errorf("StudentTQuantile(%v, %v) = %v, want NaN", c[0], c[1], got)
		}
	}
}

// Worked by hand: differences 1, 2, 3, 4, 5 have mean 3 and standard
// deviation √2.5 = 1.5811, so the standard error is 1.5811/√5 = 0.70711;
// with t(0.975, 4) = 2.776445 the half-width is 1.96324, giving 1.03676 to
// 4.96324.
func TestPairedMeanDifferenceByHand(t *testing.T) {
	mean, lo, hi := PairedMeanDifference([]float64{1, 2, 3, 4, 5}, 0.95)
	if math.Abs(mean-3) > 1e-12 || math.Abs(lo-1.03676) > 1e-4 || math.Abs(hi-4.96324) > 1e-4 {
		t.Fatalf("got %.5f (%.5f to %.5f), want 3 (1.03676 to 4.96324)", mean, lo, hi)
	}
	// Worked by hand: −1, 0, 2, 3 have mean 1, squares of deviations
	// 4 + 1 + 1 + 4 = 10, s = √(10/3) = 1.82574, se = 0.91287; with
	// t(0.975, 3) = 3.182446 the half-width is 2.90512.
	mean, lo, hi = PairedMeanDifference([]float64{-1, 0, 2, 3}, 0.95)
	if math.Abs(mean-1) > 1e-12 || math.Abs(lo-(1-2.90512)) > 1e-4 || math.Abs(hi-(1+2.90512)) > 1e-4 {
		t.Fatalf("got %.5f (%.5f to %.5f), want 1 (−1.90512 to 3.90512)", mean, lo, hi)
	}
	// No spread: the interval is the mean itself.
	mean, lo, hi = PairedMeanDifference([]float64{2, 2, 2}, 0.95)
	if mean != 2 || lo != 2 || hi != 2 {
		t.Fatalf("constant differences: %v (%v to %v)", mean, lo, hi)
	}
}

func TestPairedMeanDifferenceEdges(t *testing.T) {
	if m, lo, hi := PairedMeanDifference(nil, 0.95); !math.IsNaN(m) || !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("empty: %v %v %v", m, lo, hi)
	}
	if m, lo, hi := PairedMeanDifference([]float64{4}, 0.95); m != 4 || !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("one difference: %v %v %v", m, lo, hi)
	}
	if m, lo, _ := PairedMeanDifference([]float64{1, 2}, 1); m != 1.5 || !math.IsNaN(lo) {
		t.Errorf("level 1: %v %v", m, lo)
	}
	if m, _, _ := PairedMeanDifference([]float64{1, math.NaN()}, 0.95); !math.IsNaN(m) {
		t.Errorf("a NaN difference: %v", m)
	}
}
