package stats

import (
	"math"
	"sort"
)

// Two-sided control-limit levels: the 95% limits use tail probabilities
// 0.025/0.975 and the 99.8% limits 0.001/0.999; zNN are the matching
// standard normal quantiles used by the over-dispersed (normal) limits.
const (
	tail95  = 0.025
	tail998 = 0.001
	z95     = 1.959963984540054 // Φ⁻¹(0.975)
	z998    = 3.090232306167813 // Φ⁻¹(0.999)
)

// SuggestAdjustmentShare is the suggested OutsideShare95 above which the UI
// may offer the over-dispersion adjustment (about four times the at most 5%
// expected by chance), a rule of thumb only: with fewer than about ten units a
// single outlier exceeds it, so the caller decides.
const SuggestAdjustmentShare = 0.2

// Limits holds a unit's funnel-plot control limits as proportions in [0, 1];
// every field is NaN when the limits are undefined (n ≤ 0, or p or φ invalid),
// and NaN cannot be encoded by encoding/json, so callers must skip such units.
type Limits struct {
	Lower95, Upper95, Lower998, Upper998 float64
}

func nanLimits() Limits {
	nan := math.NaN()
	return Limits{nan, nan, nan, nan}
}

func validP(p float64) bool { return p >= 0 && p <= 1 } // false for NaN

// FunnelLimits returns Spiegelhalter's exact binomial control limits, with
// interpolation between adjacent counts (see the package documentation), for
// a unit of size n against target proportion p; it returns NaN limits for
// n ≤ 0 or p outside [0, 1] (callers skip units with n = 0), all-0 limits for
// p = 0 and all-1 limits for p = 1, the limits are smooth but not strictly
// monotone in n, the upper limits are raised to p where the interpolation
// would put them below it, and a point just above an upper line can still be
// Within.
func FunnelLimits(n int, p float64) Limits {
	switch {
	case n <= 0 || !validP(p):
		return nanLimits()
	case p == 0:
		return Limits{}
	case p == 1:
		return Limits{1, 1, 1, 1}
	}
	at := func(alpha float64) float64 {
		r, fr, frm1 := binomQuantileCDF(alpha, n, p)
		t := (fr - alpha) / (fr - frm1)
		return clamp01((float64(r) - t) / float64(n))
	}
	// Keep the target inside the funnel: when np is tiny the interpolated
	// upper limit can fall below p (to 0 when P(X = 0) ≥ 0.975).  This never
	// changes which counts lie beyond a line (see the package documentation).
	return Limits{
		Lower95:  math.Min(at(tail95), p),
		Upper95:  math.Max(at(1-tail95), p),
		Lower998: math.Min(at(tail998), p),
		Upper998: math.Max(at(1-tail998), p),
	}
}

// Class is a unit's position relative to the funnel limits; the zero value ""
// is never returned (invalid input yields Unclassified), so an empty Class
// means the field was never set.
type Class string

// The classes a unit can fall into; Unclassified marks invalid input (n ≤ 0,
// events outside [0, n], p outside [0, 1] or φ NaN) and must not be read as
// "within".
const (
	// BelowLower998 means P(X ≤ events) < 0.001: strong evidence the unit's
	// rate is below target, though with many units a few arise by chance.
	BelowLower998 Class = "below_99_8"
	// BelowLower95 means 0.001 ≤ P(X ≤ events) < 0.025: a warning only,
	// expected for about 1 unit in 40 by chance alone.
	BelowLower95 Class = "below_95"
	// Within means neither one-sided tail is below 0.025, which for small n
	// is "not enough data to tell", not evidence of a typical rate.
	Within Class = "within"
	// AboveUpper95 means 0.001 ≤ P(X ≥ events) < 0.025: a warning only,
	// expected for about 1 unit in 40 by chance alone.
	AboveUpper95 Class = "above_95"
	// AboveUpper998 means P(X ≥ events) < 0.001: strong evidence the unit's
	// rate is above target, though with many units a few arise by chance.
	AboveUpper998 Class = "above_99_8"
	// Unclassified is returned for invalid input and is not a statistical
	// finding; treat it as missing data.
	Unclassified Class = "unclassified"
)

// Classify places a unit with events out of n against target p using exact
// one-sided binomial tail probabilities (below 99.8% if P(X ≤ events) <
// 0.001, else below 95% if < 0.025, above 99.8% if P(X ≥ events) < 0.001,
// else above 95% if < 0.025, else within); it returns Unclassified for n ≤ 0,
// events outside [0, n] or p outside [0, 1], and see FunnelLimits for the one
// count per level where a point just above the upper line is still within.
func Classify(events, n int, p float64) Class {
	if n <= 0 || events < 0 || events > n || !validP(p) {
		return Unclassified
	}
	lower := BinomCDF(events, n, p) // P(X ≤ events)
	switch {
	case lower < tail998:
		return BelowLower998
	case lower < tail95:
		return BelowLower95
	}
	upper := binomSF(events-1, n, p) // P(X ≥ events)
	switch {
	case upper < tail998:
		return AboveUpper998
	case upper < tail95:
		return AboveUpper95
	}
	return Within
}

// Unit is one care co-ordinator, team or group: N people eligible, Events of
// whom were referred; units with N ≤ 0 or Events outside [0, N] are skipped
// by the functions that take a []Unit.
type Unit struct {
	Key    string
	N      int
	Events int
}

func (u Unit) valid() bool { return u.N > 0 && u.Events >= 0 && u.Events <= u.N }

// Overdispersion reports Spiegelhalter's multiplicative over-dispersion
// factor φ (never below 1) and whether the adjustment applies (φ > 1); φ is
// unreliable with fewer than about ten units, and because the winsorised
// estimator is biased low (about 0.68 under no over-dispersion) modest real
// over-dispersion can leave Applied false.
type Overdispersion struct {
	Phi     float64
	Applied bool
}

// AssessOverdispersion estimates φ for units against target p and marks it
// Applied when φ > 1; it inherits every caveat of EstimateOverdispersion.
func AssessOverdispersion(units []Unit, p float64) Overdispersion {
	phi := EstimateOverdispersion(units, p)
	return Overdispersion{Phi: phi, Applied: phi > 1}
}

// EstimateOverdispersion returns Spiegelhalter's (2005) winsorised estimate
// of the multiplicative over-dispersion factor φ ≥ 1 (z-scores winsorised at
// their 10th and 90th percentiles, R type 7, then φ = mean z², and φ = 1 when
// that is ≤ 1); it returns 1 when p is not strictly inside (0, 1) or no unit
// is valid, and is unstable with fewer than about ten units.
func EstimateOverdispersion(units []Unit, p float64) float64 {
	if !(p > 0 && p < 1) {
		return 1
	}
	zs := make([]float64, 0, len(units))
	for _, u := range units {
		if !u.valid() {
			continue
		}
		y := float64(u.Events) / float64(u.N)
		zs = append(zs, (y-p)/math.Sqrt(p*(1-p)/float64(u.N)))
	}
	if len(zs) == 0 {
		return 1
	}
	sorted := append([]float64(nil), zs...)
	sort.Float64s(sorted)
	lo := percentileSorted(sorted, 0.1)
	hi := percentileSorted(sorted, 0.9)
	sum := 0.0
	for _, z := range zs {
		z = math.Max(lo, math.Min(hi, z))
		sum += z * z
	}
	phi := sum / float64(len(zs))
	if !(phi > 1) {
		return 1
	}
	return phi
}

// FunnelLimitsOverdispersed returns the normal-approximation limits
// p ± z·sqrt(φ·p(1−p)/n) (z = 1.959964 and 3.090232) clamped to [0, 1]; for
// φ ≤ 1 it returns the exact FunnelLimits instead (so the curve jumps when φ
// crosses 1), and it returns NaN limits for n ≤ 0, p outside [0, 1] or NaN φ.
func FunnelLimitsOverdispersed(n int, p, phi float64) Limits {
	switch {
	case n <= 0 || !validP(p) || math.IsNaN(phi):
		return nanLimits()
	case phi <= 1:
		return FunnelLimits(n, p)
	}
	se := math.Sqrt(phi * p * (1 - p) / float64(n))
	return Limits{
		Lower95:  clamp01(p - z95*se),
		Upper95:  clamp01(p + z95*se),
		Lower998: clamp01(p - z998*se),
		Upper998: clamp01(p + z998*se),
	}
}

// ClassifyOverdispersed classifies a unit by its inflated z-score
// (y − p)/sqrt(φ·p(1−p)/n) against ±1.959964 and ±3.090232, consistent with
// FunnelLimitsOverdispersed; for φ ≤ 1 it returns the exact Classify, and it
// returns Unclassified for invalid n, events or p, or NaN φ.
func ClassifyOverdispersed(events, n int, p, phi float64) Class {
	switch {
	case n <= 0 || events < 0 || events > n || !validP(p) || math.IsNaN(phi):
		return Unclassified
	case phi <= 1:
		return Classify(events, n, p)
	}
	y := float64(events) / float64(n)
	se := math.Sqrt(phi * p * (1 - p) / float64(n))
	if se == 0 { // p is 0 or 1: any departure is impossible under the target
		switch {
		case y < p:
			return BelowLower998
		case y > p:
			return AboveUpper998
		}
		return Within
	}
	z := (y - p) / se
	switch {
	case z < -z998:
		return BelowLower998
	case z < -z95:
		return BelowLower95
	case z > z998:
		return AboveUpper998
	case z > z95:
		return AboveUpper95
	}
	return Within
}

// FunnelPoint is one unit on the funnel plot with its rate, limits and class;
// Class, not the position relative to Limits, is authoritative (see
// FunnelLimits for the upper-boundary case).
type FunnelPoint struct {
	Unit
	Rate   float64
	Limits Limits
	Class  Class
}

// Funnel is a complete funnel plot; Target is 0 and Points empty when no unit
// was valid, Phi is always estimated but used only when Overdispersed, and
// OutsideShare95 is measured against the exact (unadjusted) limits.
type Funnel struct {
	Target         float64
	Phi            float64
	Overdispersed  bool
	Points         []FunnelPoint
	OutsideShare95 float64
}

// BuildFunnel computes the pooled target Σevents/ΣN over valid units, each
// valid unit's rate, limits and class in input order (over-dispersion
// adjusted when requested and φ > 1) and the share of units the exact test
// puts outside 95% (suggest the adjustment when it exceeds
// SuggestAdjustmentShare); units with N ≤ 0 or Events outside [0, N] are
// dropped from Points, and each unit is compared with a target it
// contributed to, which matters only when one unit dominates the total.
func BuildFunnel(units []Unit, overdispersion bool) Funnel {
	var sumN, sumE int64
	valid := make([]Unit, 0, len(units))
	for _, u := range units {
		if u.valid() {
			valid = append(valid, u)
			sumN += int64(u.N)
			sumE += int64(u.Events)
		}
	}
	f := Funnel{Phi: 1, Points: make([]FunnelPoint, 0, len(valid))}
	if len(valid) == 0 {
		return f
	}
	p := float64(sumE) / float64(sumN)
	f.Target = p
	f.Phi = EstimateOverdispersion(valid, p)
	f.Overdispersed = overdispersion && f.Phi > 1

	limitsByN := make(map[int]Limits)
	outside := 0
	for _, u := range valid {
		lim, ok := limitsByN[u.N]
		if !ok {
			if f.Overdispersed {
				lim = FunnelLimitsOverdispersed(u.N, p, f.Phi)
			} else {
				lim = FunnelLimits(u.N, p)
			}
			limitsByN[u.N] = lim
		}
		exact := Classify(u.Events, u.N, p)
		if exact != Within {
			outside++
		}
		class := exact
		if f.Overdispersed {
			class = ClassifyOverdispersed(u.Events, u.N, p, f.Phi)
		}
		f.Points = append(f.Points, FunnelPoint{
			Unit:   u,
			Rate:   float64(u.Events) / float64(u.N),
			Limits: lim,
			Class:  class,
		})
	}
	f.OutsideShare95 = float64(outside) / float64(len(valid))
	return f
}

// CurvePoint is one vertex of the funnel lines: the limits at denominator N,
// NaN when the inputs to FunnelCurve were invalid.
type CurvePoint struct {
	N      int
	Limits Limits
}

// FunnelCurve returns min(steps, nMax) distinct, increasing, roughly
// log-spaced denominators from 1 to nMax with their limits (exact when
// φ ≤ 1, over-dispersed otherwise) for drawing the funnel lines; it returns
// nil when nMax < 1, or when steps < 2 unless nMax is 1, and NaN limits
// when p or φ is invalid.
func FunnelCurve(p float64, nMax int, steps int, phi float64) []CurvePoint {
	if nMax < 1 || (steps < 2 && nMax > 1) {
		return nil
	}
	m := min(steps, nMax)
	out := make([]CurvePoint, 0, m)
	lnMax := math.Log(float64(nMax))
	prev := 0
	for i := 0; i < m; i++ {
		n := 1
		if m > 1 {
			n = int(math.Round(math.Exp(lnMax * float64(i) / float64(m-1))))
		}
		// Keep the points distinct and leave room for the remaining ones.
		n = max(n, prev+1)
		n = min(n, nMax-(m-1-i))
		out = append(out, CurvePoint{N: n, Limits: FunnelLimitsOverdispersed(n, p, phi)})
		prev = n
	}
	return out
}
