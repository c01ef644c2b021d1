package recovery

import (
	"fmt"
	"strings"
	"time"
)

// Comparison is one item's latest rating against the one before.
type Comparison struct {
	Item     Item   `json:"item"`
	Label    string `json:"label"`
	Latest   int    `json:"latest"`
	Previous int    `json:"previous,omitempty" doc:"0 when there is no earlier session."`
	Change   int    `json:"change" doc:"latest − previous; 0 when there is no earlier session."`
	MoreHelp bool   `json:"more_help"`
}

// ChangeWords says a change in words for a table cell.
func (c Comparison) ChangeWords() string {
	switch {
	case c.Previous == 0:
		return "First time"
	case c.Change > 0:
		return fmt.Sprintf("Up %d", c.Change)
	case c.Change < 0:
		return fmt.Sprintf("Down %d", -c.Change)
	}
	return "Same"
}

// Summary is the latest session compared with the one before, for the
// plan page.
type Summary struct {
	LatestAt   time.Time    `json:"latest_at"`
	PreviousAt *time.Time   `json:"previous_at,omitempty"`
	Items      []Comparison `json:"items"`
	Sessions   int          `json:"sessions"`
}

// Summarise compares the newest session with the one before it (sessions
// newest first); ok is false when there are none.
func Summarise(sessions []Session) (Summary, bool) {
	if len(sessions) == 0 {
		return Summary{}, false
	}
	latest := sessions[0]
	sm := Summary{LatestAt: latest.At, Sessions: len(sessions)}
	var prev *Session
	if len(sessions) > 1 {
		prev = &sessions[1]
		at := prev.At
		sm.PreviousAt = &at
	}
	for _, it := range Items {
		c := Comparison{Item: it.Code, Label: it.Label, Latest: latest.Rating(it.Code), MoreHelp: latest.MoreHelp(it.Code)}
		if prev != nil {
			c.Previous = prev.Rating(it.Code)
			if c.Previous > 0 && c.Latest > 0 {
				c.Change = c.Latest - c.Previous
			}
		}
		sm.Items = append(sm.Items, c)
	}
	return sm, true
}

// Chart is one item's ratings over time, laid out for drawing as SVG:
// every coordinate is computed here, so the template only places elements.
type Chart struct {
	Item          Item
	Label         string
	ID            string // for the SVG's title and description ids
	Width, Height int
	Left, Right   float64
	Top, Base     float64
	YTicks        []ChartTick
	XTicks        []ChartTick
	Line          string // SVG path data joining the points
	Points        []ChartPoint
	Description   string
}

// ChartTick is one labelled position on an axis.
type ChartTick struct {
	Pos   float64
	Label string
}

// ChartPoint is one rating.
type ChartPoint struct {
	X, Y     float64
	Rating   int
	At       time.Time
	MoreHelp bool
	Note     string
}

// Charts lays out one chart per item from sessions (newest first), oldest
// on the left, dates spaced by time. Dates are shown in UK time.
func Charts(sessions []Session, loc *time.Location) []Chart {
	n := len(sessions)
	var out []Chart
	for _, it := range Items {
		c := Chart{Item: it.Code, Label: it.Label, ID: "chart-" + strings.ReplaceAll(string(it.Code), "_", "-"),
			Width: 320, Height: 170, Left: 40, Right: 305, Top: 14, Base: 130}
		y := func(r int) float64 { return c.Base - (c.Base-c.Top)*float64(r-1)/6 }
		for r := 1; r <= 7; r++ {
			c.YTicks = append(c.YTicks, ChartTick{Pos: y(r), Label: fmt.Sprint(r)})
		}
		if n == 0 {
			c.Description = "No ratings yet."
			out = append(out, c)
			continue
		}
		first, last := sessions[n-1].At, sessions[0].At
		span := last.Sub(first)
		x := func(t time.Time) float64 {
			if span <= 0 {
				return (c.Left + c.Right) / 2
			}
			return c.Left + 8 + (c.Right-c.Left-16)*float64(t.Sub(first))/float64(span)
		}
		var pts []string
		var ratings []string
		lo, hi := 8, 0
		for i := n - 1; i >= 0; i-- {
			se := sessions[i]
			r := se.Rating(it.Code)
			if r == 0 {
				continue
			}
			pt := ChartPoint{X: x(se.At), Y: y(r), Rating: r, At: se.At, MoreHelp: se.MoreHelp(it.Code)}
			pt.Note = fmt.Sprintf("%s: %d (%s)", se.At.In(loc).Format("2 January 2006"), r, strings.ToLower(ScaleLabels[r-1]))
			c.Points = append(c.Points, pt)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", pt.X, pt.Y))
			ratings = append(ratings, fmt.Sprint(r))
			lo, hi = min(lo, r), max(hi, r)
		}
		if len(pts) > 0 {
			c.Line = "M" + strings.Join(pts, " L")
		}
		c.XTicks = append(c.XTicks, ChartTick{Pos: x(first), Label: first.In(loc).Format("Jan 2006")})
		if span > 0 {
			c.XTicks = append(c.XTicks, ChartTick{Pos: x(last), Label: last.In(loc).Format("Jan 2006")})
		}
		switch len(c.Points) {
		case 0:
			c.Description = "No ratings yet."
		case 1:
			p := c.Points[0]
			c.Description = fmt.Sprintf("%s: rated %d out of 7 on %s.", it.Label, p.Rating, p.At.In(loc).Format("2 January 2006"))
		default:
			a, b := c.Points[len(c.Points)-2], c.Points[len(c.Points)-1]
			c.Description = fmt.Sprintf("%s: rated %d out of 7 on %s, and %d the time before (%s). %d ratings since %s, from %d to %d: %s.",
				it.Label, b.Rating, b.At.In(loc).Format("2 January 2006"), a.Rating, a.At.In(loc).Format("2 January 2006"),
				len(c.Points), c.Points[0].At.In(loc).Format("January 2006"), lo, hi, strings.Join(ratings, ", "))
		}
		out = append(out, c)
	}
	return out
}
