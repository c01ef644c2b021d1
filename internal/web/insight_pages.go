package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/csvexport"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// insightRoutes are gatekeeping and equity insight: one line per route.
func (s *Server) insightRoutes() []*Route {
	return []*Route{
		pageRoute("GET /insight", app.PermInsightRead, s.handleInsight),
		pageRoute("GET /insight/rates", app.PermInsightRead, s.handleInsightRates),
		pageRoute("GET /insight/rates.csv", app.PermInsightRead, s.handleInsightRatesCSV),
		pageRoute("GET /insight/equity", app.PermInsightRead, equityView.pageHandler(s)),
		pageRoute("GET /insight/equity.csv", app.PermInsightRead, equityView.csvHandler(s)),
		pageRoute("GET /insight/coverage", app.PermInsightRead, coverageView.pageHandler(s)),
		pageRoute("GET /insight/coverage.csv", app.PermInsightRead, coverageView.csvHandler(s)),
		pageRoute("GET /insight/waiting", app.PermInsightRead, waitingView.pageHandler(s)),
		pageRoute("GET /insight/waiting.csv", app.PermInsightRead, waitingView.csvHandler(s)),
		pageRoute("GET /insight/support", app.PermInsightRead, supportView.pageHandler(s)),
		pageRoute("GET /insight/support.csv", app.PermInsightRead, supportView.csvHandler(s)),
		pageRoute("GET /insight/community", app.PermInsightRead, communityView.pageHandler(s)),
		pageRoute("GET /insight/community.csv", app.PermInsightRead, communityView.csvHandler(s)),
		pageRoute("GET /insight/report", app.PermInsightRead, s.handleInsightReport),
		apiRoute("GET /api/v1/insight/referral-rates", app.PermInsightRead, opRates, s.apiRates),
		apiRoute("GET /api/v1/insight/equity", app.PermInsightRead, opEquity, equityView.apiHandler(s)),
		apiRoute("GET /api/v1/insight/coverage", app.PermInsightRead, opCoverage, coverageView.apiHandler(s)),
		apiRoute("GET /api/v1/insight/waiting", app.PermInsightRead, opWaiting, waitingView.apiHandler(s)),
		apiRoute("GET /api/v1/insight/support", app.PermInsightRead, opSupportReport, supportView.apiHandler(s)),
		apiRoute("GET /api/v1/insight/community", app.PermInsightRead, opCommunityInsight, communityView.apiHandler(s)),
		personPage("GET /insight/mine", app.PermInsightOwn, s.handleOwnInsight),
		personAPI("GET /api/v1/insight/mine", app.PermInsightOwn, opOwnInsight, s.apiOwnInsight),
	}
}

// insightQuery is the period and team filter every insight view takes.
type insightQuery struct {
	Period  insight.Period
	TeamIDs []int64
	Values  url.Values
}

func (s *Server) insightQuery(r *http.Request) (insightQuery, error) {
	q := r.URL.Query()
	p, err := insight.ParsePeriod(q.Get("from"), q.Get("to"), s.clock.Now())
	if err != nil {
		return insightQuery{}, err
	}
	iq := insightQuery{Period: p, Values: q}
	for _, t := range q["team"] {
		if t == "" {
			continue
		}
		id, err := strconv.ParseInt(t, 10, 64)
		if err != nil || id <= 0 {
			return iq, app.Invalid(app.FieldError{Field: "team", Message: "team must be a team's number"})
		}
		iq.TeamIDs = append(iq.TeamIDs, id)
	}
	return iq, nil
}

func (s *Server) ratesQuery(r *http.Request) (insight.RatesQuery, insightQuery, error) {
	iq, err := s.insightQuery(r)
	if err != nil {
		return insight.RatesQuery{}, iq, err
	}
	q := r.URL.Query()
	rq := insight.RatesQuery{Period: iq.Period, By: q.Get("by"), Measure: q.Get("measure"), TeamIDs: iq.TeamIDs,
		Overdispersion: q.Get("overdispersion") == "1"}
	if z := q.Get("zero_threshold"); z != "" {
		n, err := strconv.Atoi(z)
		if err != nil {
			return rq, iq, app.Invalid(app.FieldError{Field: "zero_threshold", Message: "zero_threshold must be a whole number"})
		}
		rq.ZeroThreshold = n
	}
	return rq, iq, rq.Check()
}

type insightPage struct {
	Teams    []account.Team
	From, To string
	Query    url.Values
	Rates    *insight.Rates
	Plot     *Plot
	// PlotNarrow is the same funnel plot laid out for a phone.
	PlotNarrow *Plot
	Equity     *insight.Equity
	Coverage   *insight.Coverage
	Waiting    *insight.Waiting
	Support    *insight.SupportReport
	Community  *insight.CommunityReport
	Month      string
	Now        time.Time
	CSV        string
	Named      bool
}

// insightPageData fills what every insight page shows: the period form
// and team list. A bad query is shown as errors on the form.
func (s *Server) insightPageData(r *http.Request) (*insightPage, *ui.Form, error) {
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return nil, nil, err
	}
	q := r.URL.Query()
	d := &insightPage{Teams: teams, Query: q, Now: s.clock.Now(), Named: principal(r).Can(app.PermInsightNamed)}
	vals := url.Values{}
	for k, v := range q {
		vals[k] = v
	}
	p, _ := insight.ParsePeriod("", "", s.clock.Now())
	if vals.Get("from") == "" {
		vals.Set("from", p.From.Format("2006-01-02"))
	}
	if vals.Get("to") == "" {
		vals.Set("to", p.To.Format("2006-01-02"))
	}
	d.From, d.To = vals.Get("from"), vals.Get("to")
	if enc := q.Encode(); enc != "" {
		d.CSV = "?" + enc
	}
	return d, ui.NewForm(vals), nil
}

func (s *Server) insightError(w http.ResponseWriter, r *http.Request, name, title string, d *insightPage, f *ui.Form, err error) error {
	if !formWithErrors(f, err) {
		return err
	}
	return s.page(w, r, http.StatusUnprocessableEntity, name, &ui.Page{Title: title, Form: f, Data: d})
}

func (s *Server) handleInsight(w http.ResponseWriter, r *http.Request) error {
	d, f, err := s.insightPageData(r)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "insight/index", &ui.Page{Title: "Insight", Form: f, Data: d})
}

func (s *Server) handleInsightRates(w http.ResponseWriter, r *http.Request) error {
	d, f, err := s.insightPageData(r)
	if err != nil {
		return err
	}
	const title = "Who refers to peer support"
	rq, _, err := s.ratesQuery(r)
	if err != nil {
		return s.insightError(w, r, "insight/rates", title, d, f, err)
	}
	rates, err := s.insight.ReferralRates(r.Context(), principal(r), rq)
	if err != nil {
		return s.insightError(w, r, "insight/rates", title, d, f, err)
	}
	plot, narrow := FunnelPlot(rates), FunnelPlotNarrow(rates)
	d.Rates, d.Plot, d.PlotNarrow = &rates, &plot, &narrow
	if f.Value("by") == "" {
		f.Values.Set("by", rates.By)
	}
	if f.Value("measure") == "" {
		f.Values.Set("measure", rates.Measure)
	}
	return s.page(w, r, http.StatusOK, "insight/rates", &ui.Page{Title: title, Form: f, Data: d})
}

// writeCSV sends a table as a CSV download.
func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	// Names of teams and co-ordinators come from people: every cell goes
	// through the formula neutraliser.
	cw := csvexport.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	return cw.Flush()
}

func (s *Server) handleInsightRatesCSV(w http.ResponseWriter, r *http.Request) error {
	rq, _, err := s.ratesQuery(r)
	if err != nil {
		return err
	}
	rates, err := s.insight.ReferralRates(r.Context(), principal(r), rq)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, u := range rates.Units {
		rows = append(rows, []string{u.Unit, u.NText, u.EventsText, u.RateText, fmt.Sprintf("%.4f", u.Limits.Lower998),
			fmt.Sprintf("%.4f", u.Limits.Lower95), fmt.Sprintf("%.4f", u.Limits.Upper95), fmt.Sprintf("%.4f", u.Limits.Upper998), u.Class})
	}
	return writeCSV(w, fmt.Sprintf("mutual-%s-rates-by-%s-%s-to-%s.csv", rates.Measure, rates.By, rates.From, rates.To),
		[]string{rates.By, "people_on_caseload", rates.Measure, "rate", "lower_99_8", "lower_95", "upper_95", "upper_99_8", "class"}, rows)
}

// insightView is one period-and-team insight computation served three
// ways: as a page, as JSON and as CSV.
type insightView[T any] struct {
	page, title string
	run         func(s *Server, r *http.Request, iq insightQuery) (T, error)
	show        func(d *insightPage, v *T)
	csv         func(v T) (name string, header []string, rows [][]string)
}

func (v insightView[T]) pageHandler(s *Server) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, f, err := s.insightPageData(r)
		if err != nil {
			return err
		}
		iq, err := s.insightQuery(r)
		if err != nil {
			return s.insightError(w, r, v.page, v.title, d, f, err)
		}
		out, err := v.run(s, r, iq)
		if err != nil {
			return err
		}
		v.show(d, &out)
		return s.page(w, r, http.StatusOK, v.page, &ui.Page{Title: v.title, Form: f, Data: d})
	}
}

func (v insightView[T]) apiHandler(s *Server) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		iq, err := s.insightQuery(r)
		if err != nil {
			return err
		}
		out, err := v.run(s, r, iq)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, out)
	}
}

func (v insightView[T]) csvHandler(s *Server) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		iq, err := s.insightQuery(r)
		if err != nil {
			return err
		}
		out, err := v.run(s, r, iq)
		if err != nil {
			return err
		}
		name, header, rows := v.csv(out)
		return writeCSV(w, name, header, rows)
	}
}

var equityView = insightView[insight.Equity]{
	page: "insight/equity", title: "Who reaches peer support",
	run: func(s *Server, r *http.Request, iq insightQuery) (insight.Equity, error) {
		return s.insight.EquityOfAccess(r.Context(), principal(r), iq.Period, iq.TeamIDs)
	},
	show: func(d *insightPage, v *insight.Equity) { d.Equity = v },
	csv: func(eq insight.Equity) (string, []string, [][]string) {
		var rows [][]string
		for _, t := range eq.Tables {
			th := eq.SuppressionThreshold
			for _, row := range t.Rows {
				rows = append(rows, []string{t.Label, row.Group, heldCountText(row.Caseload, row.CaseloadWithheld(), th),
					heldCountText(row.Referred, row.ReferredWithheld(), th), heldCountText(row.Started, row.StartedWithheld(), th),
					shareText(row.ShareCase), shareText(row.ShareRef), shareText(row.ShareStart), ratioText(row.RateRatio),
					intervalText(row.CILower, row.CIUpper), boundText(row), strconv.FormatBool(row.Under)})
			}
			// Everyone: the whole of each column, with no rate ratio of
			// its own.
			rows = append(rows, []string{t.Label, t.Total.Group, countText(t.Total.Caseload, th), countText(t.Total.Referred, th),
				countText(t.Total.Started, th), wholeShareText(t.Total.ShareCase), wholeShareText(t.Total.ShareRef),
				wholeShareText(t.Total.ShareStart), "", "", "", "false"})
		}
		return fmt.Sprintf("mutual-equity-%s-to-%s.csv", eq.From, eq.To), []string{"characteristic", "group", "on_caseload",
			"referred", "started", "share_of_caseload", "share_of_referrals", "share_started", "rate_ratio", "rate_ratio_95ci",
			"rate_ratio_bound", "significantly_under_represented"}, rows
	},
}

var coverageView = insightView[insight.Coverage]{
	page: "insight/coverage", title: "Who is told about peer support",
	run: func(s *Server, r *http.Request, iq insightQuery) (insight.Coverage, error) {
		return s.insight.OfferCoverage(r.Context(), principal(r), iq.Period, iq.TeamIDs)
	},
	show: func(d *insightPage, v *insight.Coverage) { d.Coverage = newestFirst(*v) },
	csv: func(cov insight.Coverage) (string, []string, [][]string) {
		var rows [][]string
		for _, t := range append(cov.Teams, cov.All) {
			for _, m := range t.Months {
				rows = append(rows, []string{t.Team, monthText(m.Month), countText(m.Caseload, cov.SuppressionThreshold),
					countText(m.Offered, cov.SuppressionThreshold), shareText(m.Share)})
			}
		}
		return "mutual-offer-coverage.csv", []string{"team", "month", "on_caseload", "told_in_last_12_months", "share"}, rows
	},
}

var waitingView = insightView[insight.Waiting]{
	page: "insight/waiting", title: "How long people wait",
	run: func(s *Server, r *http.Request, iq insightQuery) (insight.Waiting, error) {
		return s.insight.WaitingTimes(r.Context(), principal(r), iq.Period, iq.TeamIDs)
	},
	show: func(d *insightPage, v *insight.Waiting) { d.Waiting = v },
	csv: func(wt insight.Waiting) (string, []string, [][]string) {
		var rows [][]string
		for _, t := range wt.Tables {
			for _, row := range t.Rows {
				rows = append(rows, []string{t.Label, row.Group, standardText(row.StandardHours), countText(row.Referrals, wt.SuppressionThreshold),
					countText(row.Seen, wt.SuppressionThreshold), daysText(row.MedianDays), daysText(row.P90Days), shareText(row.WithinTarget)})
			}
		}
		return "mutual-waiting-times.csv", []string{"by", "group", "standard", "referrals", "first_contacted", "median_days", "p90_days", "share_within_standard"}, rows
	},
}

var supportView = insightView[insight.SupportReport]{
	page: "insight/support", title: "The support given",
	run: func(s *Server, r *http.Request, iq insightQuery) (insight.SupportReport, error) {
		return s.insight.SupportReport(r.Context(), principal(r), iq.Period, iq.TeamIDs)
	},
	show: func(d *insightPage, v *insight.SupportReport) { d.Support = v },
	csv: func(v insight.SupportReport) (string, []string, [][]string) {
		t := v.SuppressionThreshold
		rows := [][]string{
			{"Period", "From", v.From}, {"Period", "To", v.To},
			{"Totals", "Peer workers", heldCountText(v.PeerWorkers, false, t)},
			{"Totals", "People supported", heldCountText(v.PeopleSupported, false, t)},
			{"Totals", "Contacts", heldCountText(v.Contacts, false, t)},
			{"Totals", "Hours of contact", decimalText(v.Hours)},
			{"Totals", "Median contacts per person", decimalText(v.MedianContactsPerPerson)},
			{"Totals", "Median weeks per person", decimalText(v.MedianWeeksPerPerson)},
		}
		for _, tbl := range []struct {
			name string
			rows []insight.ReportRow
		}{{"Contacts by support type", v.BySupportType}, {"Contacts by mode", v.ByMode}, {"Contacts by setting", v.BySetting}, {"Endings by reason", v.Endings}} {
			for _, r := range tbl.rows {
				rows = append(rows, []string{tbl.name, r.Label, heldCountText(r.Count, r.Withheld, t)})
			}
		}
		rows = append(rows, []string{"Endings by reason", "All endings", heldCountText(v.EndingsAll, false, t)},
			[]string{"Appointments", "Took place", heldCountText(v.Attended, false, t)},
			[]string{"Appointments", "Did not attend", heldCountText(v.NotAttended, false, t)},
			[]string{"Appointments", "Did-not-attend rate", shareText(v.DNARate)})
		return "mutual-support-report.csv", []string{"table", "row", "value"}, rows
	},
}

var communityView = insightView[insight.CommunityReport]{
	page: "insight/community", title: "The community",
	run: func(s *Server, r *http.Request, iq insightQuery) (insight.CommunityReport, error) {
		return s.insight.CommunityReport(r.Context(), principal(r), iq.Period)
	},
	show: func(d *insightPage, v *insight.CommunityReport) { d.Community = v },
	csv: func(v insight.CommunityReport) (string, []string, [][]string) {
		t := v.SuppressionThreshold
		rows := [][]string{
			{"Period", "From", v.From}, {"Period", "To", v.To},
			{"Taking part", "Members", heldCountText(v.Members, false, t)},
			{"Taking part", "Active members", heldCountText(v.ActiveMembers, false, t)},
			{"Taking part", "Topics started", heldCountText(v.Topics, false, t)},
			{"Taking part", "Replies", heldCountText(v.Replies, false, t)},
		}
		for _, r := range v.Flags {
			rows = append(rows, []string{"Flags by kind", r.Label, heldCountText(r.Count, r.Withheld, t)})
		}
		rows = append(rows, []string{"Flags by kind", "All flags", heldCountText(v.FlagsAll, false, t)},
			[]string{"Review", "Reviews", heldCountText(v.Reviews, false, t)},
			[]string{"Review", "Median hours to review", decimalText(v.ReviewMedianHours)},
			[]string{"Review", "90th percentile hours to review", decimalText(v.ReviewP90Hours)},
			[]string{"Escalations", "With the member's agreement", heldCountText(v.EscalatedConsent, false, t)},
			[]string{"Escalations", "Without it (confirmed safeguarding)", heldCountText(v.EscalatedNoConsent, false, t)})
		for _, r := range v.Sanctions {
			rows = append(rows, []string{"Sanctions by kind", r.Label, heldCountText(r.Count, r.Withheld, t)})
		}
		rows = append(rows, []string{"Sanctions by kind", "All sanctions", heldCountText(v.SanctionsAll, false, t)},
			[]string{"Referrals", "Asked for from the community", heldCountText(v.Referrals, false, t)})
		return "mutual-community-report.csv", []string{"table", "row", "value"}, rows
	},
}

// newestFirst puts the most recent month first in the coverage table, so a
// phone, which shows the first columns and scrolls to the rest, shows the
// months that matter now (the CSV and the API stay in calendar order).
func newestFirst(c insight.Coverage) *insight.Coverage {
	out := insight.Coverage{SuppressionThreshold: c.SuppressionThreshold, Months: slices.Clone(c.Months)}
	slices.Reverse(out.Months)
	rev := func(r insight.CoverageRow) insight.CoverageRow {
		r.Months = slices.Clone(r.Months)
		slices.Reverse(r.Months)
		return r
	}
	for _, r := range c.Teams {
		out.Teams = append(out.Teams, rev(r))
	}
	out.All = rev(c.All)
	return &out
}

// handleInsightReport is the printable monthly report: one month's rates,
// equity, coverage and waiting on one page.
func (s *Server) handleInsightReport(w http.ResponseWriter, r *http.Request) error {
	d, f, err := s.insightPageData(r)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	month := r.URL.Query().Get("month")
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	if month != "" {
		t, err := time.Parse("2006-01", month)
		if err != nil {
			f.AddError("month", "month must be like 2026-10")
			return s.page(w, r, http.StatusUnprocessableEntity, "insight/report", &ui.Page{Title: "Monthly report", Form: f, Data: d})
		}
		start = t
	}
	end := start.AddDate(0, 1, -1)
	d.Month = start.Format("January 2006")
	f.Values.Set("month", start.Format("2006-01"))
	p := principal(r)
	// Rates and equity look back over the year to the month's end, so small
	// monthly numbers do not swamp the signal.
	year := insight.Period{From: end.AddDate(-1, 0, 1), To: end}
	rates, err := s.insight.ReferralRates(r.Context(), p, insight.RatesQuery{Period: year})
	if err != nil {
		return err
	}
	plot, narrow := FunnelPlot(rates), FunnelPlotNarrow(rates)
	eq, err := s.insight.EquityOfAccess(r.Context(), p, year, nil)
	if err != nil {
		return err
	}
	cov, err := s.insight.OfferCoverage(r.Context(), p, insight.Period{From: start, To: end}, nil)
	if err != nil {
		return err
	}
	wt, err := s.insight.WaitingTimes(r.Context(), p, insight.Period{From: start, To: end}, nil)
	if err != nil {
		return err
	}
	d.Rates, d.Plot, d.PlotNarrow, d.Equity, d.Coverage, d.Waiting = &rates, &plot, &narrow, &eq, newestFirst(cov), &wt
	return s.page(w, r, http.StatusOK, "insight/report", &ui.Page{Title: "Peer support monthly report: " + d.Month, Form: f, Data: d})
}

// maxUpload bounds a caseload file: 500,000 rows fit comfortably.
const maxUpload = 256 << 20

// handleOwnInsight is a care co-ordinator's own view: their rates beside
// their teams', and the people on their caseload not yet told about peer
// support.
func (s *Server) handleOwnInsight(w http.ResponseWriter, r *http.Request) error {
	own, err := s.insight.OwnRates(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "insight/mine", &ui.Page{Title: "Your referrals and offers", Data: &own})
}
