package stats

import (
	"math"
	"math/big"
	"testing"
)

// relErr is |got − want| / |want|, or |got − want| when want is 0.
func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

var testPs = []float64{1e-6, 0.001, 0.01, 0.1, 0.25, 0.3, 1.0 / 3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-9}

// TestBinomCDFExact compares both tails with exact rational summation for
// every k and every n ≤ 60.
func TestBinomCDFExact(t *testing.T) {
	worst := 0.0
	for n := 0; n <= 60; n++ {
		for _, p := range testPs {
			e := newExactBinom(t, n, p)
			for k := -2; k <= n+1; k++ {
				wantLow, wantUp := ratFloat(e.cdf(k)), ratFloat(e.sf(k))
				gotLow, gotUp := BinomCDF(k, n, p), binomSF(k, n, p)
				for _, c := range []struct {
					name      string
					got, want float64
				}{{"CDF", gotLow, wantLow}, {"SF", gotUp, wantUp}} {
					if c.want < 1e-290 { // below double precision range for relative error
						if c.got > 1e-280 {
							t.Errorf("%s(k=%d, n=%d, p=%v) = %g, want ≈ %g", c.name, k, n, p, c.got, c.want)
						}
						continue
					}
					r := relErr(c.got, c.want)
					worst = math.Max(worst, r)
					if r > 1e-12 {
						t.Errorf("%s(k=%d, n=%d, p=%v) = %.17g, want %.17g (rel err %.2g)", c.name, k, n, p, c.got, c.want, r)
					}
				}
			}
		}
	}
	t.Logf("worst relative error against exact summation: %.2g", worst)
}

func TestBinomCDFEdges(t *testing.T) {
	cases := []struct {
		k, n int
		p    float64
		want float64
	}{
		{-1, 10, 0.3, 0},
		{10, 10, 0.3, 1},
		{11, 10, 0.3, 1},
		{0, 0, 0.3, 1},
		{0, 10, 0, 1},
		{5, 10, 0, 1},
		{9, 10, 1, 0},
		{10, 10, 1, 1},
		{0, 1, 0.25, 0.75},
		{0, 2, 0.5, 0.25},
		{1, 2, 0.5, 0.75},
		// P(X ≤ 1), n = 10, p = 0.3: 0.7^10 + 10·0.3·0.7^9 = 0.0282475249 + 0.121060821.
		{1, 10, 0.3, 0.1493083459},
	}
	for _, c := range cases {
		if got := BinomCDF(c.k, c.n, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("BinomCDF(%d, %d, %v) = %v, want %v", c.k, c.n, c.p, got, c.want)
		}
	}
	for _, c := range []struct {
		k, n int
		p    float64
	}{{1, -1, 0.5}, {1, 10, -0.1}, {1, 10, 1.1}, {1, 10, math.NaN()}} {
		if got := BinomCDF(c.k, c.n, c.p); !math.IsNaN(got) {
			t.Errorf("BinomCDF(%d, %d, %v) = %v, want NaN", c.k, c.n, c.p, got)
		}
	}
}

// TestBinomCDFLargeN checks n up to 1,000,000 against closed forms.
func TestBinomCDFLargeN(t *testing.T) {
	// Symmetry at p = 1/2, n = 2m: P(X ≤ m) = (1 + P(X = m))/2 with
	// P(X = m) = C(2m, m)/4^m = (1 − 1/(8m) + 1/(128m²) − …)/sqrt(πm);
	// the omitted terms are below 1e−19 for m = 500,000.
	for _, m := range []float64{5_000, 50_000, 500_000} {
		pm := (1 - 1/(8*m) + 1/(128*m*m) + 5/(1024*m*m*m)) / math.Sqrt(math.Pi*m)
		want := 0.5 + pm/2
		got := BinomCDF(int(m), int(2*m), 0.5)
		if r := relErr(got, want); r > 1e-11 {
			t.Errorf("BinomCDF(%v, %v, 0.5) = %.17g, want %.17g (rel err %.2g)", m, 2*m, got, want, r)
		}
	}
	const n = 1_000_000
	// P(X = 0) = (1−p)^n and P(X = n) = p^n.
	for _, p := range []float64{1e-7, 1e-6, 3e-6} {
		want := math.Exp(n * math.Log1p(-p))
		if got := BinomCDF(0, n, p); relErr(got, want) > 1e-11 {
			t.Errorf("BinomCDF(0, %d, %v) = %v, want %v", n, p, got, want)
		}
		if got := binomSF(n-1, n, 1-p); relErr(got, math.Exp(n*math.Log1p(-p))) > 1e-9 {
			// 1−p is rounded, so allow n·ulp-level error
			t.Errorf("P(X = n) for n = %d, p = 1−%v: %v, want %v", n, p, got, want)
		}
	}
	// Reflection: P(X > k; n, p) = P(X ≤ n−k−1; n, 1−p), each computed from
	// a different continued fraction branch.
	for _, p := range []float64{0.5, 0.25} { // 1−p exact
		for _, k := range []int{0, 1, 1000, 249_000, 250_000, 251_500, 499_000, 500_000, 502_000, 999_998} {
			a, b := binomSF(k, n, p), BinomCDF(n-k-1, n, 1-p)
			if a < 1e-300 && b < 1e-300 {
				continue
			}
			if r := relErr(a, b); r > 1e-11 {
				t.Errorf("reflection n=%d p=%v k=%d: %.17g vs %.17g (rel %.2g)", n, p, k, a, b, r)
			}
			if s := BinomCDF(k, n, p) + a; math.Abs(s-1) > 1e-15 {
				t.Errorf("tails at n=%d p=%v k=%d sum to %v", n, p, k, s)
			}
		}
	}
}

// TestBinomQuantileBruteForce checks the quantile against a brute-force
// search over the exact CDF, including q equal to a CDF value (ties).
func TestBinomQuantileBruteForce(t *testing.T) {
	qs := []float64{1e-9, 0.001, 0.025, 0.1, 0.5, 0.9, 0.975, 0.999, 1 - 1e-9}
	for _, n := range []int{0, 1, 2, 3, 5, 10, 20, 37, 60, 200} {
		for _, p := range testPs {
			e := newExactBinom(t, n, p)
			all := append([]float64(nil), qs...)
			for k := 0; k < n; k += 1 + n/7 {
				all = append(all, BinomCDF(k, n, p))
			}
			for _, q := range all {
				got := BinomQuantile(q, n, p)
				want := e.quantile(q)
				if got == want {
					continue
				}
				// Accept only a genuine floating-point tie at the boundary.
				k := min(got, want)
				if relErr(ratFloat(e.cdf(k)), q) < 1e-13 {
					continue
				}
				t.Errorf("BinomQuantile(%v, %d, %v) = %d, want %d", q, n, p, got, want)
			}
		}
	}
}

func TestBinomQuantileEdges(t *testing.T) {
	cases := []struct {
		q    float64
		n    int
		p    float64
		want int
	}{
		{0, 10, 0.3, 0},
		{-0.5, 10, 0.3, 0},
		{1, 10, 0.3, 10},
		{1, 1_000_000, 0.3, 1_000_000}, // F(n−1) rounds to 1 but is < 1
		{0.5, 10, 0, 0},
		{1, 10, 0, 0},
		{0.5, 10, 1, 10},
		{0.001, 10, 1, 10},
		{0.5, 0, 0.3, 0},
		{math.NaN(), 10, 0.3, -1},
		{1.5, 10, 0.3, -1},
		{0.5, -1, 0.3, -1},
		{0.5, 10, 2, -1},
		{0.5, 10, math.NaN(), -1},
	}
	for _, c := range cases {
		if got := BinomQuantile(c.q, c.n, c.p); got != c.want {
			t.Errorf("BinomQuantile(%v, %d, %v) = %d, want %d", c.q, c.n, c.p, got, c.want)
		}
	}
}

// TestBinomQuantileLargeN checks the defining property F(k−1) < q ≤ F(k)
// for n up to 1,000,000.
func TestBinomQuantileLargeN(t *testing.T) {
	for _, n := range []int{1000, 54_321, 1_000_000} {
		for _, p := range []float64{1e-5, 0.01, 0.3, 0.5, 0.97} {
			for _, q := range []float64{0.001, 0.025, 0.5, 0.975, 0.999} {
				k := BinomQuantile(q, n, p)
				if !(BinomCDF(k, n, p) >= q && BinomCDF(k-1, n, p) < q) {
					t.Errorf("BinomQuantile(%v, %d, %v) = %d: F(k) = %v, F(k−1) = %v", q, n, p, k,
						BinomCDF(k, n, p), BinomCDF(k-1, n, p))
				}
			}
		}
	}
}

// TestBetaIncAgainstBinomial cross-checks the general incomplete beta used
// by ClopperPearson with the exact binomial identity
// I_p(k+1, n−k) = P(X > k).
func TestBetaIncAgainstBinomial(t *testing.T) {
	for _, n := range []int{1, 7, 40} {
		for _, p := range []float64{0.02, 0.3, 0.77} {
			e := newExactBinom(t, n, p)
			for k := 0; k < n; k++ {
				want := ratFloat(e.sf(k))
				if got := betaInc(float64(k+1), float64(n-k), p); relErr(got, want) > 1e-12 {
					t.Errorf("betaInc(%d, %d, %v) = %v, want %v", k+1, n-k, p, got, want)
				}
			}
		}
	}
	// Non-integer parameters via the log-gamma fallback: I_x(1/2, 1/2) =
	// (2/π)·asin(sqrt(x)).
	for _, x := range []float64{0.01, 0.2, 0.5, 0.9} {
		want := 2 / math.Pi * math.Asin(math.Sqrt(x))
		if got := betaInc(0.5, 0.5, x); relErr(got, want) > 1e-12 {
			t.Errorf("betaInc(0.5, 0.5, %v) = %v, want %v", x, got, want)
		}
	}
	// I_x(a, 1) = x^a for real a.
	for _, a := range []float64{0.3, 2.5, 1234.5} {
		want := math.Pow(0.999, a)
		if got := betaInc(a, 1, 0.999); relErr(got, want) > 1e-12 {
			t.Errorf("betaInc(%v, 1, 0.999) = %v, want %v", a, got, want)
		}
	}
}

// TestExactHelper guards the reference implementation itself.
func TestExactHelper(t *testing.T) {
	e := newExactBinom(t, 2, 0.5)
	if e.cdf(0).Cmp(big.NewRat(1, 4)) != 0 || e.cdf(1).Cmp(big.NewRat(3, 4)) != 0 {
		t.Fatalf("exact helper wrong: %v %v", e.cdf(0), e.cdf(1))
	}
	if e.quantile(0.25) != 0 || e.quantile(0.26) != 1 {
		t.Fatalf("exact quantile wrong")
	}
}
