package web

import (
	"html/template"
	"math"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
)

// The insight service answers in numbers, with null for a value hidden by
// disclosure control; these put them into the words pages and CSV files
// show. One source for both, so a download says what the page says.

// countText shows a published count, or "<5" (the suppression threshold)
// for one hidden for being small.
func countText(v *int, threshold int) string {
	if v == nil {
		return "<" + strconv.Itoa(threshold)
	}
	return strconv.Itoa(*v)
}

// heldCountText is countText for a cell that may instead have been
// withheld with others (secondary suppression), shown as a dash so it is
// not told apart from the small ones.
func heldCountText(v *int, withheld bool, threshold int) string {
	if v == nil && withheld {
		return stats.Withheld
	}
	return countText(v, threshold)
}

// shareText shows a fraction as a percentage to one decimal place
// ("48.2%"), or a dash when it is withheld or not known.
func shareText(v *float64) string {
	if v == nil {
		return stats.Withheld
	}
	return strconv.FormatFloat(100**v, 'f', 1, 64) + "%"
}

// wholeShareText shows a total's share, which is whole: "100%".
func wholeShareText(v *float64) string {
	if v == nil {
		return stats.Withheld
	}
	return strconv.FormatFloat(math.Round(1000**v)/10, 'f', -1, 64) + "%"
}

// ratioText shows a rate ratio to two decimal places, or a dash.
func ratioText(v *float64) string {
	if v == nil {
		return stats.Withheld
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

// intervalText shows a 95% interval: "0.53 to 0.95", or a dash.
func intervalText(lo, hi *float64) string {
	if lo == nil || hi == nil {
		return stats.Withheld
	}
	return ratioText(lo) + " to " + ratioText(hi)
}

// boundText states a rate ratio given only as a bound: "below 0.7",
// "above 1.5"; empty when there is none.
func boundText(r insight.EquityRow) string {
	switch {
	case r.Below != nil:
		return "below " + strconv.FormatFloat(*r.Below, 'f', -1, 64)
	case r.Above != nil:
		return "above " + strconv.FormatFloat(*r.Above, 'f', -1, 64)
	}
	return ""
}

// daysText shows a number of days: whole days from two days up, and to a
// tenth below that, so waits measured in hours (urgent and very urgent
// referrals) do not all read "0"; a dash when withheld.
func daysText(v *float64) string {
	if v == nil {
		return stats.Withheld
	}
	if *v < 2 {
		return strconv.FormatFloat(*v, 'f', 1, 64)
	}
	return strconv.FormatFloat(*v, 'f', 0, 64)
}

// decimalText shows a figure to one decimal place ("9.0", "701.5"), or a
// dash when it is withheld.
func decimalText(v *float64) string {
	if v == nil {
		return stats.Withheld
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// standardText says a waiting standard in words: "4 hours", "28 days";
// empty when there is none.
func standardText(hours int) string {
	switch {
	case hours <= 0:
		return ""
	case hours < 48:
		return strconv.Itoa(hours) + " hours"
	}
	return strconv.Itoa(hours/24) + " days"
}

// monthText shows the day coverage is measured on as its month: "Oct 2026".
func monthText(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return t.Format("Jan 2006")
}

// coverageRows are the coverage table's rows: each team, then all teams.
func coverageRows(c *insight.Coverage) []insight.CoverageRow {
	return append(append([]insight.CoverageRow{}, c.Teams...), c.All)
}

func insightTemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"countText":      countText,
		"heldCountText":  heldCountText,
		"shareText":      shareText,
		"wholeShareText": wholeShareText,
		"ratioText":      ratioText,
		"intervalText":   intervalText,
		"boundText":      boundText,
		"daysText":       daysText,
		"decimalText":    decimalText,
		"standardText":   standardText,
		"monthText":      monthText,
		"coverageRows":   coverageRows,
	}
}
