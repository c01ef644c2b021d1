package stats

import (
	"math"
	"testing"
)

func TestRateRatioCIHandWorked(t *testing.T) {
	cases := []struct {
		name                string
		a, n1, b, n2        int
		ratio, lower, upper float64
		corrected           bool
		low, high           bool
	}{
		{
			// RR = (20/100)/(100/400) = 0.2/0.25 = 0.8;
			// se = sqrt(1/20 − 1/100 + 1/100 − 1/400) = sqrt(0.0475) = 0.2179449;
			// ln 0.8 = −0.2231436; ±1.96·0.2179449 = ±0.4271721;
			// CI = exp(−0.6503157), exp(0.2040285) = (0.5218810, 1.2263332).
			name: "no difference shown", a: 20, n1: 100, b: 100, n2: 400,
			ratio: 0.8, lower: 0.5218810, upper: 1.2263332,
		},
		{
			// RR = (10/200)/(40/300) = 0.05/0.1333333 = 0.375;
			// se = sqrt(1/10 − 1/200 + 1/40 − 1/300) = sqrt(0.1166667) = 0.3415650;
			// CI = 0.375·exp(∓0.6694675) = (0.1919929, 0.7324488).
			name: "under-represented", a: 10, n1: 200, b: 40, n2: 300,
			ratio: 0.375, lower: 0.1919929, upper: 0.7324488, low: true,
		},
		{
			// RR = (40/100)/(50/400) = 3.2; se = sqrt(1/40 − 1/100 + 1/50 − 1/400)
			// = sqrt(0.0325) = 0.1802776; CI = 3.2·exp(∓0.3533441) = (2.2474737, 4.5562268).
			name: "over-represented", a: 40, n1: 100, b: 50, n2: 400,
			ratio: 3.2, lower: 2.2474737, upper: 4.5562268, high: true,
		},
		{
			// a = 0: Haldane–Anscombe, a' = 0.5 of n1' = 51, b' = 30.5 of n2' = 201.
			// RR = (0.5/51)/(30.5/201) = 0.0098039/0.1517413 = 0.0646095;
			// se = sqrt(1/0.5 − 1/51 + 1/30.5 − 1/201) = sqrt(2.0082041) = 1.4171111;
			// CI = 0.0646095·exp(∓2.7775378) = (0.0040182, 1.0388800): 0 of 50
			// against 15% is not significant once corrected.
			name: "zero cell", a: 0, n1: 50, b: 30, n2: 200,
			ratio: 0.0646095, lower: 0.0040182, upper: 1.0388800, corrected: true,
		},
	}
	for _, c := range cases {
		got, ok := RateRatioCI(c.a, c.n1, c.b, c.n2)
		if !ok {
			t.Errorf("%s: not ok", c.name)
			continue
		}
		if math.Abs(got.Ratio-c.ratio) > 1e-6 || math.Abs(got.Lower-c.lower) > 1e-6 || math.Abs(got.Upper-c.upper) > 1e-6 {
			t.Errorf("%s: RateRatioCI(%d, %d, %d, %d) = %+v, want %v (%v, %v)", c.name, c.a, c.n1, c.b, c.n2, got, c.ratio, c.lower, c.upper)
		}
		if got.Corrected != c.corrected || got.SignificantlyLow() != c.low || got.SignificantlyHigh() != c.high {
			t.Errorf("%s: corrected=%v low=%v high=%v", c.name, got.Corrected, got.SignificantlyLow(), got.SignificantlyHigh())
		}
	}
}

func TestRateRatioCIEdges(t *testing.T) {
	for _, c := range [][4]int{{1, 0, 1, 10}, {1, 10, 1, 0}, {-1, 10, 1, 10}, {11, 10, 1, 10}, {1, 10, 11, 10}} {
		if _, ok := RateRatioCI(c[0], c[1], c[2], c[3]); ok {
			t.Errorf("RateRatioCI%v should be undefined", c)
		}
	}
	// b = 0: corrected, ratio large but finite.
	r, ok := RateRatioCI(5, 20, 0, 100)
	if !ok || !r.Corrected || math.IsInf(r.Ratio, 0) || !(r.Lower > 1) {
		t.Errorf("b = 0: %+v ok=%v", r, ok)
	}
	// Both zero: corrected RR = (0.5/11)/(0.5/21) = 21/11, wide interval.
	r, ok = RateRatioCI(0, 10, 0, 20)
	if !ok || !r.Corrected || math.Abs(r.Ratio-21.0/11) > 1e-12 || r.SignificantlyLow() || r.SignificantlyHigh() {
		t.Errorf("both zero: %+v", r)
	}
	// Everyone referred in both groups: ratio 1, interval collapses.
	r, _ = RateRatioCI(10, 10, 20, 20)
	if r.Ratio != 1 || r.Lower != 1 || r.Upper != 1 {
		t.Errorf("all events: %+v", r)
	}
	var zero RateRatio
	if zero.SignificantlyLow() || zero.SignificantlyHigh() {
		t.Error("the zero RateRatio must not be significant")
	}
}
