package stats

import "math"

// lnSqrt2Pi is log(sqrt(2π)) and ln2Pi is log(2π).
const (
	lnSqrt2Pi = 0.918938533204672741780329736406
	ln2Pi     = 1.837877066409345483560659472811
)

// BinomCDF returns P(X ≤ k) for X ~ Binomial(n, p); it returns 0 for k < 0
// and 1 for k ≥ n, and NaN when n < 0 or p is NaN or outside [0, 1].
func BinomCDF(k, n int, p float64) float64 {
	lower, _ := binomTails(k, n, p)
	return lower
}

// binomSF returns P(X > k) for X ~ Binomial(n, p), computed directly (not as
// 1 − CDF) so that small upper tails keep their relative accuracy.
func binomSF(k, n int, p float64) float64 {
	_, upper := binomTails(k, n, p)
	return upper
}

// binomTails returns (P(X ≤ k), P(X > k)) for X ~ Binomial(n, p); the smaller
// of the two is computed directly and the other as its complement.
func binomTails(k, n int, p float64) (lower, upper float64) {
	switch {
	case n < 0 || math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN(), math.NaN()
	case k < 0:
		return 0, 1
	case k >= n:
		return 1, 0
	case p == 0:
		return 1, 0
	case p == 1:
		return 0, 1
	}
	// P(X > k) = I_p(k+1, n−k) and P(X ≤ k) = I_{1−p}(n−k, k+1).
	up, low := betaIncPair(float64(k+1), float64(n-k), p, 1-p)
	return low, up
}

// BinomQuantile returns the smallest k in [0, n] with BinomCDF(k, n, p) ≥ q;
// it returns 0 for q ≤ 0, the top of the support (n, or 0 when p = 0) for
// q = 1, and −1 when q is NaN or above 1, n < 0, or p is NaN or outside [0, 1].
func BinomQuantile(q float64, n int, p float64) int {
	k, _, _ := binomQuantileCDF(q, n, p)
	return k
}

// binomQuantileCDF is BinomQuantile that also returns F(k) and F(k−1), the
// CDF at the quantile and one below it (F(−1) = 0), which the funnel
// interpolation needs; evaluations are reused from the search.
func binomQuantileCDF(q float64, n int, p float64) (k int, fk, fkm1 float64) {
	switch {
	case n < 0 || math.IsNaN(p) || p < 0 || p > 1 || math.IsNaN(q) || q > 1:
		return -1, math.NaN(), math.NaN()
	case p == 0:
		return 0, 1, 0
	case q <= 0:
		return 0, BinomCDF(0, n, p), 0
	case p == 1 || q == 1:
		// Mathematically F(k) < 1 for k < n when 0 < p < 1, even where the
		// floating-point value of F(n−1) would round to 1.
		return n, 1, BinomCDF(n-1, n, p)
	}
	f := func(k int) float64 { return BinomCDF(k, n, p) }

	// Start from the Cornish–Fisher approximation, which is usually within
	// one or two of the answer, then gallop to a bracket and bisect.
	guess := 0
	if mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p)); sd > 0 {
		z := math.Sqrt2 * math.Erfinv(2*q-1)
		if math.IsInf(z, 0) || math.IsNaN(z) {
			z = math.Copysign(8.3, q-0.5)
		}
		skew := (1 - 2*p) / sd
		x := mean + sd*(z+skew*(z*z-1)/6) - 0.5
		guess = int(math.Max(0, math.Min(float64(n), math.Ceil(x))))
	}

	// Invariant after bracketing: f(lo) < q ≤ f(hi), with lo = −1 meaning
	// "below the support" (f = 0) and hi ≤ n (f(n) = 1 ≥ q).
	lo, hi := -1, n
	flo, fhi := 0.0, 1.0
	if fg := f(guess); fg >= q {
		hi, fhi = guess, fg
		for step := 1; ; step *= 2 {
			c := hi - step
			if c < 0 {
				break // lo stays −1
			}
			fc := f(c)
			if fc < q {
				lo, flo = c, fc
				break
			}
			hi, fhi = c, fc
		}
	} else {
		lo, flo = guess, fg
		for step := 1; ; step *= 2 {
			c := lo + step
			if c >= n {
				break // hi stays n
			}
			fc := f(c)
			if fc >= q {
				hi, fhi = c, fc
				break
			}
			lo, flo = c, fc
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		fm := f(mid)
		if fm >= q {
			hi, fhi = mid, fm
		} else {
			lo, flo = mid, fm
		}
	}
	return hi, fhi, flo
}

// betaIncPair returns (I_x(a, b), 1 − I_x(a, b)) for a, b > 0 with y = 1 − x
// supplied separately (so that x near 1 keeps its precision); whichever of
// the pair is smaller is computed directly from the continued fraction.
func betaIncPair(a, b, x, y float64) (ix, iy float64) {
	if x <= 0 {
		return 0, 1
	}
	if y <= 0 {
		return 1, 0
	}
	if x < (a+1)/(a+b+2) {
		v := betaPrefactor(a, b, x, y) / a * betaCF(a, b, x)
		v = clamp01(v)
		return v, 1 - v
	}
	v := betaPrefactor(b, a, y, x) / b * betaCF(b, a, y)
	v = clamp01(v)
	return 1 - v, v
}

// betaInc returns the regularized incomplete beta function I_x(a, b).
func betaInc(a, b, x float64) float64 {
	v, _ := betaIncPair(a, b, x, 1-x)
	return v
}

// betaPrefactor returns x^a y^b / B(a, b) with y = 1 − x.  For a > 0 and
// b ≥ 1 it uses Loader's binomial density,
//
//	x^a y^b / B(a, b) = a · y · dbinom(a; a+b−1, x),
//
// which keeps full relative precision for very large a and b; otherwise it
// falls back to log-gamma.
func betaPrefactor(a, b, x, y float64) float64 {
	if a > 0 && b >= 1 {
		return a * y * dbinomRaw(a, a+b-1, x, y)
	}
	lbeta := lgamma(a) + lgamma(b) - lgamma(a+b)
	return math.Exp(a*math.Log(x) + b*math.Log(y) - lbeta)
}

// betaCF evaluates the continued fraction for I_x(a, b) by the modified
// Lentz method (Numerical Recipes §6.4); it converges quickly for
// x < (a+1)/(a+b+2), needing O(sqrt(max(a, b))) terms in the worst case.
func betaCF(a, b, x float64) float64 {
	const (
		eps   = 1e-15
		tiny  = 1e-300
		maxIt = 1_000_000
	)
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIt; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			return h
		}
	}
	return math.NaN()
}

// dbinomRaw is Loader's (2000) saddle-point evaluation of the binomial
// density C(n, x) p^x q^(n−x) for real 0 ≤ x ≤ n, as used by R's dbinom.
func dbinomRaw(x, n, p, q float64) float64 {
	if p == 0 {
		if x == 0 {
			return 1
		}
		return 0
	}
	if q == 0 {
		if x == n {
			return 1
		}
		return 0
	}
	if x == 0 {
		if n == 0 {
			return 1
		}
		if p < 0.1 {
			return math.Exp(-bd0(n, n*q) - n*p)
		}
		return math.Exp(n * math.Log(q))
	}
	if x == n {
		if q < 0.1 {
			return math.Exp(-bd0(n, n*p) - n*q)
		}
		return math.Exp(n * math.Log(p))
	}
	if x < 0 || x > n {
		return 0
	}
	lc := stirlerr(n) - stirlerr(x) - stirlerr(n-x) - bd0(x, n*p) - bd0(n-x, n*q)
	lf := ln2Pi + math.Log(x) + math.Log1p(-x/n)
	return math.Exp(lc - 0.5*lf)
}

// stirlerr returns log(n!) − log(sqrt(2πn) (n/e)^n), the error of
// Stirling's approximation, for n > 0.
func stirlerr(n float64) float64 {
	const (
		s0 = 1.0 / 12
		s1 = 1.0 / 360
		s2 = 1.0 / 1260
		s3 = 1.0 / 1680
		s4 = 1.0 / 1188
	)
	if n <= 0 {
		return 0
	}
	if n <= 15 {
		return lgamma(n+1) - (n+0.5)*math.Log(n) + n - lnSqrt2Pi
	}
	nn := n * n
	switch {
	case n > 500:
		return (s0 - s1/nn) / n
	case n > 80:
		return (s0 - (s1-s2/nn)/nn) / n
	case n > 35:
		return (s0 - (s1-(s2-s3/nn)/nn)/nn) / n
	default:
		return (s0 - (s1-(s2-(s3-s4/nn)/nn)/nn)/nn) / n
	}
}

// bd0 returns x log(x/np) + np − x, computed without cancellation when x is
// close to np (Loader 2000).
func bd0(x, np float64) float64 {
	if math.Abs(x-np) < 0.1*(x+np) {
		v := (x - np) / (x + np)
		s := (x - np) * v
		ej := 2 * x * v
		v *= v
		for j := 1; j < 1000; j++ {
			ej *= v
			s1 := s + ej/float64(2*j+1)
			if s1 == s {
				return s1
			}
			s = s1
		}
		return s
	}
	return x*math.Log(x/np) + np - x
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

func clamp01(v float64) float64 {
	switch {
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}
