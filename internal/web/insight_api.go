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
	Description: "Shares are fractions (0.482 is 48.2%). Counts from 1 to 4 are suppressed (null, suppressed: true), as are counts withheld so that they cannot be worked out from the total, with the shares and rate ratio they would reveal.",
	Response: insight.Equity{SuppressionThreshold: 5, From: "2025-11-01", To: "2026-10-31", Tables: []insight.EquityTable{{Key: "gender", Label: "Gender",
		Rows: []insight.EquityRow{{Group: "Man", Caseload: new(410), Referred: new(61), Started: new(30), ShareCase: new(0.482), ShareRef: new(0.391), ShareStart: new(0.4),
			RateRatio: new(0.71), CILower: new(0.53), CIUpper: new(0.95), Under: true},
			{Group: "Non-binary", Caseload: new(23), Referred: nil, Started: nil, ShareCase: new(0.027), Below: new(0.7), Under: true, Suppressed: true}}}}}}

var opCoverage = APIOp{Summary: "Offer coverage: share on caseload told about peer support in the last 12 months, by team and month", Tag: "Insight", Query: period,
	Description: "Months are the days coverage is measured on (each month's last day). Shares are fractions. Counts from 1 to 4 are suppressed (null, suppressed: true).",
	Response: insight.Coverage{SuppressionThreshold: 5, Months: []string{"2026-10-31"}, Teams: []insight.CoverageRow{{Team: "North Community Mental Health Team",
		Months: []insight.CoverageMonth{{Month: "2026-10-31", Caseload: new(512), Offered: new(201), Share: new(0.393)}}}},
		All: insight.CoverageRow{Team: "All teams", Months: []insight.CoverageMonth{{Month: "2026-10-31", Caseload: new(512), Offered: new(201), Share: new(0.393)}}}}}

var opWaiting = APIOp{Summary: "Waiting times from referral to first contact", Tag: "Insight", Query: period,
	Description: "Days are numbers (fractions of a day for waits measured in hours); shares are fractions. Counts from 1 to 4 are suppressed (null, suppressed: true), with the figures they would reveal.",
	Response: insight.Waiting{SuppressionThreshold: 5, StandardDays: 28, Tables: []insight.WaitTable{{Key: "urgency", Label: "Urgency", Rows: []insight.WaitRow{
		{Group: "Very urgent", StandardHours: 4, Referrals: new(12), Seen: new(12), MedianDays: new(0.1), P90Days: new(0.2), WithinTarget: new(0.833)}}},
		{Key: "team", Label: "Team", Rows: []insight.WaitRow{{Group: "North Community Mental Health Team", Referrals: new(88), Seen: new(61), MedianDays: new(19.0), P90Days: new(41.0), WithinTarget: new(0.689)},
			{Group: "South Community Mental Health Team", Referrals: new(7), Seen: nil, Suppressed: true}}}}}}

var opSupportReport = APIOp{Summary: "The support given: the service evaluation's figures for a period and teams", Tag: "Insight", Query: period,
	Description: "Peer workers, people supported, contacts and hours; contacts by support type (several may apply to one contact), mode and setting; " +
		"median contacts and weeks per person; endings by reason; the did-not-attend rate. Counts from 1 to 4 are null; a count that could be worked out " +
		"from a total is withheld too (null, withheld: true). Rates are fractions.",
	Response: insight.SupportReport{SuppressionThreshold: 5, From: "2026-05-01", To: "2026-10-31", PeerWorkers: new(6), PeopleSupported: new(83), Contacts: new(912),
		Hours: new(701.5), MedianContactsPerPerson: new(9.0), MedianWeeksPerPerson: new(17.5),
		BySupportType: []insight.ReportRow{{Code: "emotional", Label: "Emotional", Count: new(640)}},
		ByMode:        []insight.ReportRow{{Code: "in_person", Label: "In person", Count: new(588)}, {Code: "group", Label: "At a group", Withheld: true}},
		BySetting:     []insight.ReportRow{{Code: "community", Label: "Community", Count: new(850)}},
		Endings:       []insight.ReportRow{{Code: "goals_met", Label: "Goals met", Count: new(21)}}, EndingsAll: new(34),
		Attended: new(700), NotAttended: new(61), DNARate: new(0.08)}}

var opCommunityInsight = APIOp{Summary: "The moderated community: members, activity, flags, review times, escalations, sanctions and referrals for a period", Tag: "Insight", Query: period[:2],
	Description: "Names no one. Members who had joined by the end of the period; accounts that posted or reacted in it; topics and replies; members' flags by kind; " +
		"hours from a post's first flag (or holding) to its review, median and 90th percentile, only with at least 5 reviews; escalations with the member's agreement " +
		"and confirmed safeguarding concerns without it; sanctions by kind; referrals asked for from the community. Teams are not taken: the community is the trust's. " +
		"Counts from 1 to 4 are null; a count that could be worked out from a total is withheld too (null, withheld: true).",
	Response: insight.CommunityReport{SuppressionThreshold: 5, From: "2026-05-01", To: "2026-10-31", Members: new(240), ActiveMembers: new(96), Topics: new(58), Replies: new(611),
		Flags: []insight.ReportRow{{Code: "worried", Label: "I'm worried about someone", Count: new(14)}, {Code: "spam", Label: "It's spam", Withheld: true}}, FlagsAll: new(31),
		Reviews: new(40), ReviewMedianHours: new(3.5), ReviewP90Hours: new(11.0), EscalatedConsent: new(6), Sanctions: []insight.ReportRow{{Code: "warning", Label: "Warning", Count: new(9)}},
		SanctionsAll: new(12), Referrals: new(7)}}

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
