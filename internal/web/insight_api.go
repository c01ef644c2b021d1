package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/insight"
)

var period = []Param{{Name: "from", In: "query", Type: "string", Description: "First day, YYYY-MM-DD (default: a year before to)."},
	{Name: "to", In: "query", Type: "string", Description: "Last day, YYYY-MM-DD (default: today)."},
	{Name: "team", In: "query", Type: "integer", Description: "Limit to a team; repeat for several."}}

var exampleRates = insight.Rates{From: "2025-11-01", To: "2026-10-31", By: "coordinator", Measure: "referred", Target: 0.27, Phi: 1, Named: false,
	Units: []insight.UnitRate{{Unit: "Co-ordinator A", N: new(140), Events: new(9), Rate: new(0.064),
		Limits: insight.RateLimits{Lower95: 0.197, Upper95: 0.346, Lower998: 0.167, Upper998: 0.381}, Class: insight.ClassBelow998}}}

var opRates = APIOp{Summary: "Referral or offer rates per care co-ordinator or team, with funnel-plot limits", Tag: "Insight",
	Description: "Counts from 1 to 4 are suppressed (null, suppressed: true). Co-ordinators are named only for service managers.",
	Query: append(append([]Param{}, period...), Param{Name: "by", In: "query", Type: "string", Description: "coordinator (default) or team"},
		Param{Name: "measure", In: "query", Type: "string", Description: "referred (default) or offered"},
		Param{Name: "overdispersion", In: "query", Type: "string", Description: "1 to apply the multiplicative over-dispersion adjustment"}),
	Response: exampleRates}

var opEquity = APIOp{Summary: "Equity of access by age, gender, ethnicity, disability, first language and setting", Tag: "Insight", Query: period,
	Response: insight.Equity{From: "2025-11-01", To: "2026-10-31", Tables: []insight.EquityTable{{Key: "gender", Label: "Gender",
		Rows: []insight.EquityRow{{Group: "Man", Caseload: "410", Referred: "61", Started: "30", ShareCase: "48.2%", ShareRef: "39.1%", ShareStart: "40.0%", RateRatio: "0.71", CI: "0.53 to 0.95", Under: true}}}}}}

var opCoverage = APIOp{Summary: "Offer coverage: share on caseload told about peer support in the last 12 months, by team and month", Tag: "Insight", Query: period,
	Response: insight.Coverage{Months: []string{"Oct 2026"}, Teams: []insight.CoverageRow{{Team: "North Community Mental Health Team", Months: []insight.CoverageMonth{{Month: "Oct 2026", Caseload: "512", Offered: "201", Share: "39.3%"}}}}}}

var opWaiting = APIOp{Summary: "Waiting times from referral to first contact", Tag: "Insight", Query: period,
	Response: insight.Waiting{StandardDays: 28, Tables: []insight.WaitTable{{Key: "urgency", Label: "Urgency", Rows: []insight.WaitRow{{Group: "Very urgent", Standard: "4 hours", Referrals: "12", Seen: "12", MedianDays: "0.1", P90Days: "0.2", WithinTarget: "83.3%"}}}, {Key: "team", Label: "Team", Rows: []insight.WaitRow{{Group: "North Community Mental Health Team", Referrals: "88", Seen: "61", MedianDays: "19", P90Days: "41", WithinTarget: "68.9%"}}}}}}

var opOwnInsight = APIOp{Summary: "A care co-ordinator's own referral and offer rates beside their teams', and the people on their caseload not told about peer support in 12 months",
	Tag: "Insight", Description: "Only the caller's own rate: never another co-ordinator's. Team counts from 1 to 4 are suppressed (null, suppressed: true). The people listed are those the caller may see; each is named in the audit trail.",
	Response: insight.OwnInsight{From: "2025-11-02", To: "2026-11-01", Measures: []insight.OwnMeasure{{Measure: "referred", Label: "Referred to peer support",
		You:   insight.OwnRate{Unit: "You", N: new(42), Events: new(6), Rate: new(0.143)},
		Teams: []insight.OwnRate{{Unit: "North Community Mental Health Team", N: new(512), Events: new(139), Rate: new(0.271)}}}},
		NotOffered: []insight.NotOffered{{PersonID: 314, Name: "Sam", OnCaseloadSince: "2026-01-15"}}}}

func (s *Server) apiOwnInsight(w http.ResponseWriter, r *http.Request) error {
	own, err := s.insight.OwnRates(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, own)
}

func (s *Server) apiRates(w http.ResponseWriter, r *http.Request) error {
	rq, _, err := s.ratesQuery(r)
	if err != nil {
		return err
	}
	rates, err := s.insight.ReferralRates(r.Context(), principal(r), rq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rates)
}
