package web

import (
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, insightTplCases) }

func sampleRates() insight.Rates {
	n1, e1, r1 := 140, 9, 9.0/140
	n2, e2, r2 := 60, 18, 0.3
	r := insight.Rates{From: "2025-11-01", To: "2026-10-31", By: "coordinator", Measure: "referred", Target: 0.25, Phi: 1, MaxN: 140,
		Curve: stats.FunnelCurve(0.25, 155, 30, 1),
		Units: []insight.UnitRate{
			{Unit: "Co-ordinator A", N: &n1, Events: &e1, Rate: &r1, Class: insight.ClassBelow998, NText: "140", EventsText: "9", RateText: "6.4%",
				Limits: insight.RateLimits{Lower95: 0.18, Upper95: 0.32, Lower998: 0.15, Upper998: 0.36}},
			{Unit: "Co-ordinator B", N: &n2, Events: &e2, Rate: &r2, Class: insight.ClassWithin, NText: "60", EventsText: "18", RateText: "30.0%",
				Limits: insight.RateLimits{Lower95: 0.15, Upper95: 0.37, Lower998: 0.11, Upper998: 0.42}},
			{Unit: "Co-ordinator C", N: &n2, Class: insight.ClassWithin, NText: "12", EventsText: "<5", RateText: stats.Withheld, Suppressed: true},
		},
		ZeroEvents: []string{"Co-ordinator D"}, SuggestAdjustment: true, OutsideShare95: 0.4,
	}
	r.Query.ZeroThreshold = 20
	return r
}

func insightTplCases() []tplCase {
	teams := []account.Team{{ID: 3, Name: "North Community Mental Health Team", Setting: account.SettingCommunity}}
	rates := sampleRates()
	plot, narrow := insight.FunnelPlot(rates), insight.FunnelPlotNarrow(rates)
	eq := insight.Equity{From: "2025-11-01", To: "2026-10-31", Tables: []insight.EquityTable{{Key: "ethnicity", Label: "Ethnic group",
		Rows: []insight.EquityRow{
			{Group: "White", Caseload: "400", Referred: "120", Started: "60", ShareCase: "80.0%", ShareRef: "88.9%", ShareStart: "85.7%", RateRatio: "1.50", CI: "1.10 to 2.05", Over: true},
			{Group: "Black, Black British, Caribbean or African", Caseload: "100", Referred: "15", Started: "10", ShareCase: "20.0%", ShareRef: "11.1%", ShareStart: "14.3%", RateRatio: "0.50", CI: "0.31 to 0.81", Under: true},
			{Group: "Asian or Asian British", Caseload: "60", Referred: "<5", Started: "0", ShareCase: "12.0%", ShareRef: stats.Withheld, ShareStart: stats.Withheld, RateRatio: stats.Withheld, CI: stats.Withheld, Bound: "below 0.7", Under: true},
			{Group: "Not known", Caseload: "<5", Referred: "0", Started: "0", ShareCase: stats.Withheld, ShareRef: stats.Withheld, ShareStart: stats.Withheld, RateRatio: stats.Withheld, CI: stats.Withheld},
		}, Total: insight.EquityRow{Group: "Everyone", Caseload: "503", Referred: "135", Started: "70", ShareCase: "100%", ShareRef: "100%", ShareStart: "100%"}}}}
	cov := insight.Coverage{Months: []string{"Sep 2026", "Oct 2026"}, Teams: []insight.CoverageRow{{Team: "North Community Mental Health Team",
		Months: []insight.CoverageMonth{{Month: "Sep 2026", Caseload: "500", Offered: "200", Share: "40.0%"}, {Month: "Oct 2026", Caseload: "510", Offered: "<5", Share: stats.Withheld}}}},
		All: insight.CoverageRow{Team: "All teams", Months: []insight.CoverageMonth{{Month: "Sep 2026", Caseload: "500", Offered: "200", Share: "40.0%"}, {Month: "Oct 2026", Caseload: "510", Offered: "<5", Share: stats.Withheld}}}}
	wt := insight.Waiting{StandardDays: 28, Tables: []insight.WaitTable{{Key: "urgency", Label: "Urgency", Rows: []insight.WaitRow{{Group: "Very urgent",
		Standard: "4 hours", Referrals: "12", Seen: "12", MedianDays: "0.1", P90Days: "0.2", WithinTarget: "83.3%"}}}, {Key: "team", Label: "Team", Rows: []insight.WaitRow{{Group: "North", Referrals: "88", Seen: "61", MedianDays: "19", P90Days: "41", WithinTarget: "68.9%"}}}}}
	mine := insight.OwnInsight{From: "2025-11-02", To: "2026-11-01", Measures: []insight.OwnMeasure{{Measure: "offered", Label: "Told about peer support",
		You:   insight.OwnRate{Unit: "You", N: new(42), Events: new(6), Rate: new(0.143)},
		Teams: []insight.OwnRate{{Unit: "North Community Mental Health Team", Suppressed: true}}}},
		NotOffered: []insight.NotOffered{{PersonID: 314, Name: "Sam", OnCaseloadSince: "2026-01-15"}}}
	page := func(d *insightPage) *insightPage {
		d.Teams, d.From, d.To, d.Now = teams, "2025-11-01", "2026-10-31", time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		return d
	}
	f := func() *ui.Form {
		return formOf("from", "2025-11-01", "to", "2026-10-31", "by", "coordinator", "measure", "referred")
	}
	return []tplCase{
		{page: "insight/index", pg: &ui.Page{Title: "Insight", Form: f(), Data: page(&insightPage{})}, want: []string{`href="/insight/rates"`}},
		{page: "insight/rates", pg: &ui.Page{Title: "Who refers to peer support", Form: f(), Data: page(&insightPage{Rates: &rates, Plot: &plot, PlotNarrow: &narrow})},
			want: []string{`role="img"`, `<title id="funnel-title">`, `<title id="funnel-narrow-title">`, "app-chart--narrow", "Co-ordinator A", "well below expected", "Many fall outside the limits", "Co-ordinator D", "&lt;5"}},
		{page: "insight/rates", variant: "bad period", pg: &ui.Page{Title: "Who refers to peer support",
			Form: withErrors(f(), "from", "from must be a date like 2025-11-01"), Data: page(&insightPage{})}},
		{page: "insight/equity", pg: &ui.Page{Title: "Who reaches peer support", Form: f(), Data: page(&insightPage{Equity: &eq})},
			want: []string{"Referred less often", "0.31 to 0.81", "app-table__row--overdue", "Significantly fewer than expected: rate ratio below 0.7"}},
		{page: "insight/mine", pg: &ui.Page{Title: "Your referrals and offers", Data: &mine},
			want: []string{"You", "14.3%", "North Community Mental Health Team", `href="/people/314"`, "Sam", "–"}},
		{page: "insight/mine", variant: "everyone told", pg: &ui.Page{Title: "Your referrals and offers", Data: &insight.OwnInsight{From: "2025-11-02", To: "2026-11-01"}},
			want: []string{"Everyone on your caseload has been told"}},
		{page: "insight/coverage", pg: &ui.Page{Title: "Who is told about peer support", Form: f(), Data: page(&insightPage{Coverage: &cov})},
			want: []string{"40.0%", "All teams"}},
		{page: "insight/waiting", pg: &ui.Page{Title: "How long people wait", Form: f(), Data: page(&insightPage{Waiting: &wt})}, want: []string{"68.9%", "Very urgent <span class=\"nhsuk-u-font-size-16\">(standard 4 hours)</span>", "By urgency"}},
		{page: "insight/report", pg: &ui.Page{Title: "Peer support monthly report: October 2026", Form: formOf("month", "2026-10"),
			Data: page(&insightPage{Rates: &rates, Plot: &plot, Equity: &eq, Coverage: &cov, Waiting: &wt, Month: "October 2026"})},
			want: []string{"Who refers to peer support", "Who reaches peer support", "How long people wait"}},
		{page: "caseload/upload", pg: &ui.Page{Title: "Upload caseloads", Form: ui.NewForm(nil), Data: caseloadData{Columns: caseload.Columns, Teams: teams}},
			want: []string{"coordinator_email", `enctype="multipart/form-data"`}},
		{page: "caseload/upload", variant: "with problems", pg: &ui.Page{Title: "Upload caseloads",
			Form: withErrors(ui.NewForm(nil), "file", "The file has 2 rows with problems, so nothing was imported."),
			Data: caseloadData{Columns: caseload.Columns, Teams: teams, Report: &caseload.ImportReport{Rows: 3, Valid: 1, Invalid: 2,
				Problems: []caseload.RowProblem{{Row: 3, Column: "team", Message: `"X" is not a team in Mutual`}}}}},
			want: []string{`X&#34; is not a team in Mutual`}},
	}
}
