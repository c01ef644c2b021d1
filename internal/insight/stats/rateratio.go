package stats

import "math"

// rrZ is the normal quantile used for the rate-ratio interval, 1.96 as in
// the usual statement of the Katz method.
const rrZ = 1.96

// RateRatio is a group's rate relative to everyone else with a 95% Katz
// confidence interval; Corrected reports that the Haldane–Anscombe
// correction was applied because a count was zero, which biases Ratio
// towards 1 and means it is not (a/n1)/(b/n2).
type RateRatio struct {
	Ratio, Lower, Upper float64
	Corrected           bool
}

// RateRatioCI compares a events out of n1 (the group) with b events out of
// n2 (everyone else) as RR = (a/n1)/(b/n2) with the log-method (Katz) 95%
// interval exp(ln RR ± 1.96·sqrt(1/a − 1/n1 + 1/b − 1/n2)), applying the
// Haldane–Anscombe correction when a = 0 or b = 0 (0.5 added to each of the
// four cells of the 2×2 table, i.e. a+0.5 of n1+1 and b+0.5 of n2+1, and
// Corrected set); it returns ok = false when n1 ≤ 0, n2 ≤ 0 or a count is
// negative or exceeds its denominator, and the interval degenerates to a
// point when both groups are 100%.
func RateRatioCI(a, n1, b, n2 int) (RateRatio, bool) {
	if n1 <= 0 || n2 <= 0 || a < 0 || b < 0 || a > n1 || b > n2 {
		return RateRatio{}, false
	}
	fa, fn1, fb, fn2 := float64(a), float64(n1), float64(b), float64(n2)
	corrected := a == 0 || b == 0
	if corrected {
		fa, fn1, fb, fn2 = fa+0.5, fn1+1, fb+0.5, fn2+1
	}
	rr := (fa / fn1) / (fb / fn2)
	se := math.Sqrt(1/fa - 1/fn1 + 1/fb - 1/fn2)
	lrr := math.Log(rr)
	return RateRatio{
		Ratio:     rr,
		Lower:     math.Exp(lrr - rrZ*se),
		Upper:     math.Exp(lrr + rrZ*se),
		Corrected: corrected,
	}, true
}

// SignificantlyLow reports whether the whole interval lies below 1 (Upper < 1);
// it is false for the zero RateRatio returned with ok = false, and with many
// groups some will be flagged by chance.
func (r RateRatio) SignificantlyLow() bool {
	return r.Upper > 0 && r.Upper < 1
}

// SignificantlyHigh reports whether the whole interval lies above 1
// (Lower > 1); with many groups some will be flagged by chance.
func (r RateRatio) SignificantlyHigh() bool {
	return r.Lower > 1
}
