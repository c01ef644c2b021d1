package stats

import "math"

// ClopperPearson returns the exact two-sided confidence interval for a
// proportion with x successes out of n at the given level (0.95 for 95%),
// lo = B⁻¹(α/2; x, n−x+1) and hi = B⁻¹(1−α/2; x+1, n−x) with α = 1 − level,
// lo = 0 when x = 0 and hi = 1 when x = n; it returns NaN, NaN when n ≤ 0,
// x is outside [0, n] or level is not strictly between 0 and 1, and the
// interval is conservative (coverage at least level, often more).
func ClopperPearson(x, n int, level float64) (lo, hi float64) {
	if n <= 0 || x < 0 || x > n || !(level > 0 && level < 1) {
		return math.NaN(), math.NaN()
	}
	alpha := 1 - level
	lo, hi = 0, 1
	if x > 0 {
		lo = betaIncInv(alpha/2, float64(x), float64(n-x+1))
	}
	if x < n {
		hi = betaIncInv(1-alpha/2, float64(x+1), float64(n-x))
	}
	return lo, hi
}

// betaIncInv returns x in [0, 1] with I_x(a, b) = target, for a, b > 0 and
// 0 < target < 1, by Newton's method safeguarded with bisection.  The
// residual is computed from whichever tail of the distribution is smaller so
// that targets near 0 or 1 keep their precision.
func betaIncInv(target, a, b float64) float64 {
	if !(target > 0 && target < 1) {
		if target == 0 {
			return 0
		}
		if target == 1 {
			return 1
		}
		return math.NaN()
	}
	upperTail := target > 0.5
	resid := func(x float64) float64 { // increasing in x
		ix, iy := betaIncPair(a, b, x, 1-x)
		if upperTail {
			return (1 - target) - iy
		}
		return ix - target
	}
	lo, hi := 0.0, 1.0
	x := a / (a + b)
	for i := 0; i < 300; i++ {
		g := resid(x)
		if g == 0 {
			return x
		}
		if g < 0 {
			lo = x
		} else {
			hi = x
		}
		// Density x^(a−1)(1−x)^(b−1)/B(a, b).
		d := betaPrefactor(a, b, x, 1-x) / (x * (1 - x))
		next := x - g/d
		if !(d > 0) || !(next > lo && next < hi) {
			next = lo + (hi-lo)/2
		}
		if math.Abs(next-x) <= 1e-15*x || hi-lo <= 1e-15*lo {
			return next
		}
		x = next
	}
	return x
}
