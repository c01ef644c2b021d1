package web

import (
	"fmt"
	"math"
	"strings"

	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
)

// The funnel plot's layout belongs to the page: the insight service gives
// each unit's position, its limits and its class as numbers, and this lays
// them out as SVG for a wide and a narrow screen.

// Plot is a funnel plot laid out for drawing as SVG: every coordinate is
// computed here, so the template only places elements.
type Plot struct {
	// ID names the plot's title and description (unique on a page); Size
	// is "wide" or "narrow", the layout drawn for wide or narrow screens.
	ID, Size               string
	Width, Height          int
	Left, Right, Top, Base float64 // plot area edges
	XTicks, YTicks         []Tick
	MeanY                  float64
	Upper95, Lower95       string // SVG path data
	Upper998, Lower998     string
	Points                 []PlotPoint
	Hidden                 int // units not drawn because their counts are suppressed
	Title, Description     string
	XLabel, YLabel         string
}

// Tick is one axis tick.
type Tick struct {
	Pos   float64
	Label string
}

// PlotPoint is one unit on the plot.
type PlotPoint struct {
	X, Y  float64
	Class string
	Label string
	Shape string // SVG path data for the marker, so shape as well as colour shows the class
	Note  string // for the tooltip <title>
}

// FunnelPlot lays out a rates answer as a funnel plot for wide screens.
// Suppressed units are not drawn (their position would reveal a small
// count); the table lists them.
func FunnelPlot(r insight.Rates) Plot {
	return funnelPlot(r, Plot{ID: "funnel", Size: "wide", Width: 720, Height: 440, Left: 64, Right: 700, Top: 20, Base: 380}, 6, 5)
}

// FunnelPlotNarrow lays out the same plot for a phone: drawn about as
// wide as the screen, so its text is shown at the size it was set in
// rather than shrunk to half (the wide plot squeezed into 375 pixels),
// with fewer ticks so their labels do not collide.
func FunnelPlotNarrow(r insight.Rates) Plot {
	return funnelPlot(r, Plot{ID: "funnel-narrow", Size: "narrow", Width: 340, Height: 320, Left: 46, Right: 328, Top: 16, Base: 262}, 3, 4)
}

func funnelPlot(r insight.Rates, p Plot, xTicks, yTicks int) Plot {
	p.XLabel, p.YLabel = "People on caseload", insight.MeasureLabel(r.Measure)
	who := "care co-ordinator"
	if r.By == "team" {
		who = "team"
	}
	p.Title = fmt.Sprintf("Funnel plot: share of people %s, by %s", strings.ToLower(insight.MeasureLabel(r.Measure)), who)
	maxN := float64(max(r.MaxN, 10)) * 1.08
	ymax := 0.05
	for _, u := range r.Units {
		if !u.Suppressed && u.Rate != nil {
			ymax = math.Max(ymax, *u.Rate)
		}
	}
	ymax = math.Max(ymax, r.Target*2.2)
	for _, c := range r.Curve {
		if c.N >= max(5, r.MaxN/20) {
			ymax = math.Max(ymax, c.Limits.Upper998)
		}
	}
	ymax = math.Min(1, niceCeil(ymax*1.05))
	x := func(n float64) float64 { return p.Left + (p.Right-p.Left)*n/maxN }
	y := func(v float64) float64 {
		v = math.Max(0, math.Min(v, ymax))
		return p.Base - (p.Base-p.Top)*v/ymax
	}
	for _, t := range niceTicks(maxN, xTicks) {
		p.XTicks = append(p.XTicks, Tick{Pos: x(t), Label: fmt.Sprintf("%.0f", t)})
	}
	for _, t := range niceTicks(ymax, yTicks) {
		p.YTicks = append(p.YTicks, Tick{Pos: y(t), Label: fmt.Sprintf("%.0f%%", 100*t)})
	}
	p.MeanY = y(r.Target)
	var u95, l95, u998, l998 []string
	for _, c := range r.Curve {
		if float64(c.N) > maxN || math.IsNaN(c.Limits.Upper95) {
			continue
		}
		xs := fmt.Sprintf("%.1f", x(float64(c.N)))
		u95 = append(u95, xs+","+fmt.Sprintf("%.1f", y(c.Limits.Upper95)))
		l95 = append(l95, xs+","+fmt.Sprintf("%.1f", y(c.Limits.Lower95)))
		u998 = append(u998, xs+","+fmt.Sprintf("%.1f", y(c.Limits.Upper998)))
		l998 = append(l998, xs+","+fmt.Sprintf("%.1f", y(c.Limits.Lower998)))
	}
	path := func(pts []string) string {
		if len(pts) == 0 {
			return ""
		}
		return "M" + strings.Join(pts, " L")
	}
	p.Upper95, p.Lower95, p.Upper998, p.Lower998 = path(u95), path(l95), path(u998), path(l998)
	var below, above int
	for _, u := range r.Units {
		switch u.Class {
		case insight.ClassBelow95, insight.ClassBelow998:
			below++
		case insight.ClassAbove95, insight.ClassAbove998:
			above++
		}
		if u.Suppressed || u.N == nil || u.Rate == nil {
			p.Hidden++
			continue
		}
		px, py := x(float64(*u.N)), y(*u.Rate)
		pt := PlotPoint{X: px, Y: py, Class: u.Class, Label: u.Unit,
			Note: fmt.Sprintf("%s: %s of %s (%s), %s", u.Unit, u.EventsText, u.NText, u.RateText, classLabel(u.Class))}
		switch u.Class {
		case insight.ClassBelow95, insight.ClassBelow998:
			pt.Shape = fmt.Sprintf("M%.1f,%.1f L%.1f,%.1f L%.1f,%.1f Z", px-6, py-4, px+6, py-4, px, py+6)
		case insight.ClassAbove95, insight.ClassAbove998:
			pt.Shape = fmt.Sprintf("M%.1f,%.1f L%.1f,%.1f L%.1f,%.1f Z", px-6, py+4, px+6, py+4, px, py-6)
		default:
			pt.Shape = fmt.Sprintf("M%.1f,%.1f a4,4 0 1,0 8,0 a4,4 0 1,0 -8,0", px-4, py)
		}
		p.Points = append(p.Points, pt)
	}
	target := stats.Withheld
	if !math.IsNaN(r.Target) && !math.IsInf(r.Target, 0) {
		target = shareText(&r.Target)
	}
	p.Description = fmt.Sprintf("The overall rate is %s. Of %d %ss, %d are below the 95%% control limits and %d above them; the rest are within what chance alone would explain.",
		target, len(r.Units), who, below, above)
	if p.Hidden > 0 {
		p.Description += fmt.Sprintf(" %d with small numbers are not drawn; the table lists them.", p.Hidden)
	}
	return p
}

// classLabel says a class in words.
func classLabel(c string) string {
	switch c {
	case insight.ClassBelow998:
		return "well below expected (below the 99.8% limit)"
	case insight.ClassBelow95:
		return "below expected (below the 95% limit)"
	case insight.ClassAbove95:
		return "above expected (above the 95% limit)"
	case insight.ClassAbove998:
		return "well above expected (above the 99.8% limit)"
	}
	return "within expected range"
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0.1
	}
	step := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*step >= v {
			return m * step
		}
	}
	return 10 * step
}

func niceTicks(maxV float64, n int) []float64 {
	step := niceCeil(maxV / float64(n))
	var out []float64
	for t := 0.0; t <= maxV+step/1e6; t += step {
		out = append(out, t)
	}
	return out
}
