package stats

import (
	"math"
	"testing"
)

func TestClopperPearsonReference(t *testing.T) {
	cases := []struct {
		x, n   int
		lo, hi float64
	}{
		// x = 0: upper = 1 − (α/2)^(1/n) = 1 − 0.025^0.1 = 0.3084971 (textbook 0.30850).
		{0, 10, 0, 0.3084971},
		// R binom.test(5, 10)$conf.int: 0.1870860–0.8129140.
		{5, 10, 0.1870860, 0.8129140},
		// R binom.test(50, 100): 0.3983211–0.6016789.
		{50, 100, 0.3983211, 0.6016789},
		// x = n: lower = (α/2)^(1/n) = 0.025^0.1 = 0.6915029.
		{10, 10, 0.6915029, 1},
		// n = 1: x = 1 → (0.025, 1); x = 0 → (0, 0.975).
		{1, 1, 0.025, 1},
		{0, 1, 0, 0.975},
	}
	for _, c := range cases {
		lo, hi := ClopperPearson(c.x, c.n, 0.95)
		if math.Abs(lo-c.lo) > 5e-7 || math.Abs(hi-c.hi) > 5e-7 {
			t.Errorf("ClopperPearson(%d, %d) = (%.7f, %.7f), want (%.7f, %.7f)", c.x, c.n, lo, hi, c.lo, c.hi)
		}
	}
	// 99% interval for 0 of 10: 1 − 0.005^0.1.
	if _, hi := ClopperPearson(0, 10, 0.99); math.Abs(hi-(1-math.Pow(0.005, 0.1))) > 1e-12 {
		t.Errorf("99%% upper for 0/10 = %v", hi)
	}
}

// TestClopperPearsonDefinition checks the defining tail equations with exact
// rational binomial tails: P(X ≥ x | lo) = α/2 and P(X ≤ x | hi) = α/2.
func TestClopperPearsonDefinition(t *testing.T) {
	for _, n := range []int{1, 2, 7, 30, 60} {
		for x := 0; x <= n; x++ {
			lo, hi := ClopperPearson(x, n, 0.95)
			if !(0 <= lo && lo < hi && hi <= 1) || (x == 0) != (lo == 0) || (x == n) != (hi == 1) {
				t.Fatalf("ClopperPearson(%d, %d) = (%v, %v)", x, n, lo, hi)
			}
			if x > 0 {
				if got := ratFloat(newExactBinom(t, n, lo).sf(x - 1)); relErr(got, 0.025) > 1e-9 {
					t.Errorf("ClopperPearson(%d, %d): P(X ≥ x | lo=%v) = %v, want 0.025", x, n, lo, got)
				}
			}
			if x < n {
				if got := ratFloat(newExactBinom(t, n, hi).cdf(x)); relErr(got, 0.025) > 1e-9 {
					t.Errorf("ClopperPearson(%d, %d): P(X ≤ x | hi=%v) = %v, want 0.025", x, n, hi, got)
				}
			}
		}
	}
	// Large n: the tail equations via the package's own (separately tested) tails.
	for _, c := range [][2]int{{3, 100_000}, {50_000, 100_000}, {999_990, 1_000_000}} {
		x, n := c[0], c[1]
		lo, hi := ClopperPearson(x, n, 0.95)
		if got := binomSF(x-1, n, lo); relErr(got, 0.025) > 1e-7 {
			t.Errorf("ClopperPearson(%d, %d): lower tail %v", x, n, got)
		}
		if got := BinomCDF(x, n, hi); relErr(got, 0.025) > 1e-7 {
			t.Errorf("ClopperPearson(%d, %d): upper tail %v", x, n, got)
		}
	}
}

func TestClopperPearsonInvalid(t *testing.T) {
	for _, c := range []struct {
		x, n  int
		level float64
	}{{0, 0, 0.95}, {-1, 10, 0.95}, {11, 10, 0.95}, {1, 10, 0}, {1, 10, 1}, {1, 10, math.NaN()}} {
		lo, hi := ClopperPearson(c.x, c.n, c.level)
		if !math.IsNaN(lo) || !math.IsNaN(hi) {
			t.Errorf("ClopperPearson(%d, %d, %v) = (%v, %v), want NaN", c.x, c.n, c.level, lo, hi)
		}
	}
}
