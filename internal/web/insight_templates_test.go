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
	plot, narrow := FunnelPlot(rates), FunnelPlotNarrow(rates)
	eq := insight.Equity{SuppressionThreshold: 5, From: "2025-11-01", To: "2026-10-31", Tables: []insight.EquityTable{{Key: "ethnicity", Label: "Ethnic group",
		Rows: []insight.EquityRow{
			{Group: "White", Caseload: new(400), Referred: new(120), Started: new(60), ShareCase: new(0.8), ShareRef: new(0.889), ShareStart: new(0.857), RateRatio: new(1.5), CILower: new(1.1), CIUpper: new(2.05), Over: true},
			{Group: "Black, Black British, Caribbean or African", Caseload: new(100), Referred: new(15), Started: new(10), ShareCase: new(0.2), ShareRef: new(0.111), ShareStart: new(0.143), RateRatio: new(0.5), CILower: new(0.31), CIUpper: new(0.81), Under: true},
			{Group: "Asian or Asian British", Caseload: new(60), Started: new(0), ShareCase: new(0.12), Below: new(0.7), Under: true, Suppressed: true},
			{Group: "Not known", Referred: new(0), Started: new(0), Suppressed: true},
		}, Total: insight.EquityRow{Group: "Everyone", Caseload: new(503), Referred: new(135), Started: new(70), ShareCase: new(1.0), ShareRef: new(1.0), ShareStart: new(1.0)}}}}
	cov := insight.Coverage{SuppressionThreshold: 5, Months: []string{"2026-09-30", "2026-10-31"}, Teams: []insight.CoverageRow{{Team: "North Community Mental Health Team",
		Months: []insight.CoverageMonth{{Month: "2026-09-30", Caseload: new(500), Offered: new(200), Share: new(0.4)}, {Month: "2026-10-31", Caseload: new(510), Suppressed: true}}}},
		All: insight.CoverageRow{Team: "All teams", Months: []insight.CoverageMonth{{Month: "2026-09-30", Caseload: new(500), Offered: new(200), Share: new(0.4)}, {Month: "2026-10-31", Caseload: new(510), Suppressed: true}}}}
	wt := insight.Waiting{SuppressionThreshold: 5, StandardDays: 28, Tables: []insight.WaitTable{{Key: "urgency", Label: "Urgency", Rows: []insight.WaitRow{{Group: "Very urgent",
		StandardHours: 4, Referrals: new(12), Seen: new(12), MedianDays: new(0.1), P90Days: new(0.2), WithinTarget: new(0.833)}}}, {Key: "team", Label: "Team", Rows: []insight.WaitRow{{Group: "North", Referrals: new(88), Seen: new(61), MedianDays: new(19.0), P90Days: new(41.0), WithinTarget: new(0.689)}}}}}
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
			want: []string{"Referred less often", "0.50 (0.31 to 0.81)", "app-table__row--overdue", "Significantly fewer than expected: rate ratio below 0.7", "80.0%", "On caseload </span>&lt;5<", "1.00"}},
		{page: "insight/mine", pg: &ui.Page{Title: "Your referrals and offers", Data: &mine},
			want: []string{"You", "14.3%", "North Community Mental Health Team", `href="/people/314"`, "Sam", "–"}},
		{page: "insight/mine", variant: "everyone told", pg: &ui.Page{Title: "Your referrals and offers", Data: &insight.OwnInsight{From: "2025-11-02", To: "2026-11-01"}},
			want: []string{"Everyone on your caseload has been told"}},
		{page: "insight/coverage", pg: &ui.Page{Title: "Who is told about peer support", Form: f(), Data: page(&insightPage{Coverage: &cov})},
			want: []string{"40.0%", "All teams", "Oct 2026", "–<br><span class=\"nhsuk-body-s nhsuk-u-secondary-text-colour\">&lt;5 of 510</span>"}},
		{page: "insight/waiting", pg: &ui.Page{Title: "How long people wait", Form: f(), Data: page(&insightPage{Waiting: &wt})}, want: []string{"68.9%", "0.1", ">19<", "83.3%", "Very urgent <span class=\"nhsuk-u-font-size-16\">(standard 4 hours)</span>", "By urgency"}},
		{page: "insight/support", pg: &ui.Page{Title: "The support given", Form: f(), Data: page(&insightPage{Support: &insight.SupportReport{SuppressionThreshold: 5,
			From: "2026-05-01", To: "2026-10-31", PeerWorkers: new(6), PeopleSupported: new(83), Contacts: new(912), Hours: new(701.5), MedianContactsPerPerson: new(9.0),
			ByMode:  []insight.ReportRow{{Code: "in_person", Label: "In person", Count: new(588)}, {Code: "group", Label: "At a group", Withheld: true}, {Code: "video", Label: "Video call"}},
			Endings: []insight.ReportRow{{Code: "goals_met", Label: "Goals met", Count: new(21)}}, EndingsAll: new(34), Attended: new(700), NotAttended: new(61), DNARate: new(0.08)}})},
			want: []string{">83<", "701.5", "9.0", ">588<", ">–<", "&lt;5", ">34<", "8.0%", "Contacts by mode"}},
		{page: "insight/community", pg: &ui.Page{Title: "The community", Form: f(), Data: page(&insightPage{Community: &insight.CommunityReport{SuppressionThreshold: 5,
			From: "2026-05-01", To: "2026-10-31", Members: new(240), ActiveMembers: new(96), Replies: new(611), Reviews: new(40), ReviewMedianHours: new(3.5), ReviewP90Hours: new(11.0),
			Flags:    []insight.ReportRow{{Code: "worried", Label: "I'm worried about someone", Count: new(14)}, {Code: "spam", Label: "It's spam", Withheld: true}, {Code: "other", Label: "Something else"}},
			FlagsAll: new(31), Sanctions: []insight.ReportRow{{Code: "warning", Label: "Warning", Count: new(9)}}, SanctionsAll: new(12), Referrals: new(7)}})},
			want: []string{">240<", ">96<", ">611<", "3.5", "11.0", "Flags by kind", "I&#39;m worried about someone", ">14<", ">–<", "&lt;5", ">31<", "Sanctions by kind", "/insight/community.csv"}},
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
