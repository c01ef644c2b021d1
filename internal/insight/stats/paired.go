package stats

import "math"

// StudentTQuantile returns the p-quantile of Student's t distribution with
// df degrees of freedom (for example 2.776 for p = 0.975 and df = 4), from
// the inverse regularised incomplete beta function, and NaN when p is not
// strictly between 0 and 1 or df is not positive.
func StudentTQuantile(p, df float64) float64 {
	if !(p > 0 && p < 1) || !(df > 0) || math.IsInf(df, 1) {
		return math.NaN()
	}
	if p == 0.5 {
		return 0
	}
	// P(|T| > t) = I_x(df/2, 1/2) with x = df/(df + t²).
	tail := 2 * math.Min(p, 1-p)
	x := betaIncInv(tail, df/2, 0.5)
	if !(x > 0) {
		return math.Copysign(math.Inf(1), p-0.5)
	}
	t := math.Sqrt(df * (1/x - 1))
	if p < 0.5 {
		return -t
	}
	return t
}

// PairedMeanDifference returns the mean of paired differences d (each a
// person's later score minus their first) and its two-sided confidence
// interval at level (0.95 for 95%) by Student's t with n−1 degrees of
// freedom, mean ± t·s/√n; lo and hi are NaN when there are fewer than two
// differences or level is not strictly between 0 and 1, and all three are
// NaN when d is empty or holds a NaN.
func PairedMeanDifference(d []float64, level float64) (mean, lo, hi float64) {
	n := len(d)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	sum := 0.0
	for _, v := range d {
		if math.IsNaN(v) {
			return math.NaN(), math.NaN(), math.NaN()
		}
		sum += v
	}
	mean = sum / float64(n)
	if n < 2 || !(level > 0 && level < 1) {
		return mean, math.NaN(), math.NaN()
	}
	ss := 0.0
	for _, v := range d {
		ss += (v - mean) * (v - mean)
	}
	se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	half := StudentTQuantile(1-(1-level)/2, float64(n-1)) * se
	return mean, mean - half, mean + half
}
