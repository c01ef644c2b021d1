package web

import (
	"strings"
	"testing"
)

// The funnel plot is laid out from the numbers insight gives: each drawn
// unit inside the plot area where its caseload and rate put it, with a
// marker whose shape says its class; suppressed units not drawn but
// counted; and fewer ticks on a phone than on a wide screen.
func TestFunnelPlotLayout(t *testing.T) {
	r := sampleRates()
	wide, narrow := FunnelPlot(r), FunnelPlotNarrow(r)
	for _, p := range []Plot{wide, narrow} {
		if len(p.Points) != 2 || p.Hidden != 1 {
			t.Fatalf("%s: %d points drawn and %d hidden, want 2 and 1 (the suppressed unit)", p.Size, len(p.Points), p.Hidden)
		}
		a, b := p.Points[0], p.Points[1]
		for _, pt := range p.Points {
			if pt.X < p.Left || pt.X > p.Right || pt.Y < p.Top || pt.Y > p.Base {
				t.Errorf("%s: %s at (%.1f, %.1f) is outside the plot area", p.Size, pt.Label, pt.X, pt.Y)
			}
		}
		// A has the bigger caseload and the lower rate: further right and
		// lower down (SVG's y grows downwards).
		if a.X <= b.X || a.Y <= b.Y {
			t.Errorf("%s: A at (%.1f, %.1f) and B at (%.1f, %.1f) are not where their numbers put them", p.Size, a.X, a.Y, b.X, b.Y)
		}
		if !strings.Contains(a.Note, "9 of 140 (6.4%), well below expected") || strings.Count(a.Shape, "L") != 2 {
			t.Errorf("%s: A's note %q, shape %q: want a triangle for below", p.Size, a.Note, a.Shape)
		}
		if !strings.Contains(b.Shape, "a4,4") {
			t.Errorf("%s: B within the limits should be a circle: %q", p.Size, b.Shape)
		}
		if p.Upper95 == "" || p.Lower998 == "" || !strings.HasPrefix(p.Upper95, "M") {
			t.Errorf("%s: limits not drawn: %q", p.Size, p.Upper95)
		}
		for _, tk := range p.YTicks {
			if !strings.HasSuffix(tk.Label, "%") || tk.Pos < p.Top || tk.Pos > p.Base {
				t.Errorf("%s: y tick %+v", p.Size, tk)
			}
		}
		if !strings.Contains(p.Description, "The overall rate is 25.0%") || !strings.Contains(p.Description, "1 with small numbers are not drawn") {
			t.Errorf("%s: description %q", p.Size, p.Description)
		}
	}
	if len(narrow.XTicks) >= len(wide.XTicks) {
		t.Errorf("the narrow plot has %d x ticks, the wide %d: want fewer on a phone", len(narrow.XTicks), len(wide.XTicks))
	}
}
