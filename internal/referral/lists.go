package referral

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Filter narrows a list of referrals.
type Filter struct {
	Statuses []Status
	TeamID   int64
	Source   Source
	Urgency  Urgency
	// Overdue keeps those past the waiting standard for their urgency.
	Overdue bool
	// Risk keeps those with an alert of possible risk waiting for a
	// response.
	Risk     bool
	WorkerID int64
	// MadeBy keeps those the account made.
	MadeBy int64
	Query  string // name or reference
	Limit  int
	Offset int
}

// The lists the home page counts, each one definition shared by the count
// and the list it links to (a test checks they agree for every role).

// WaitingFilter is everyone the caller may see who is still waiting for
// peer support to start.
func WaitingFilter() Filter { return Filter{Statuses: slices.Clone(Waiting)} }

// PastStandardFilter is the part of the waiting list past the waiting standard
// for its urgency.
func PastStandardFilter() Filter { return Filter{Statuses: slices.Clone(Waiting), Overdue: true} }

// AtRiskFilter is the open referrals with an alert of possible risk waiting for
// a response.
func AtRiskFilter() Filter { return Filter{Statuses: slices.Clone(Open), Risk: true} }

// AllocatedFilter is the people allocated to a peer worker and those they
// support.
func AllocatedFilter(userID int64) Filter {
	return Filter{Statuses: []Status{Allocated, Active}, WorkerID: userID}
}

// MadeOpenFilter is the open referrals an account made.
func MadeOpenFilter(userID int64) Filter { return Filter{Statuses: slices.Clone(Open), MadeBy: userID} }

// Page is one page of a referral list.
type Page struct {
	Referrals []Referral `json:"referrals"`
	Total     int        `json:"total"`
	Limit     int        `json:"limit"`
	Offset    int        `json:"offset"`
}

// check validates a filter, naming each problem by its query parameter.
func (f *Filter) check() error {
	var problems app.Problems
	for _, st := range f.Statuses {
		if !st.Valid() {
			problems.Add("status", fmt.Sprintf("%q is not a status; use received, accepted, declined, redirected, allocated, active, ended or withdrawn", st))
		}
	}
	if f.Source != "" && !f.Source.Valid() {
		problems.Add("source", "source must be self, carer, staff, partner or community")
	}
	if f.Urgency != "" && !f.Urgency.Valid() {
		problems.Add("urgency", "urgency must be routine, urgent or very_urgent")
	}
	if f.Limit < 0 || f.Offset < 0 {
		problems.Add("limit", "limit and offset must not be negative")
	}
	return problems.Err()
}

// where is the filter's condition on alias r (and pe, for a name), with
// its values added to a. It does not bound the caller's scope.
func (s *Service) where(f Filter, a *store.Args) string {
	var conds []string
	if len(f.Statuses) > 0 {
		conds = append(conds, "r.status IN "+store.In(a, f.Statuses...))
	}
	if f.TeamID != 0 {
		conds = append(conds, "r.team_id = "+a.Add(f.TeamID))
	}
	if f.Source != "" {
		conds = append(conds, "r.source = "+a.Add(string(f.Source)))
	}
	if f.Urgency != "" {
		conds = append(conds, "r.urgency = "+a.Add(string(f.Urgency)))
	}
	if f.WorkerID != 0 {
		conds = append(conds, "r.allocated_worker_id = "+a.Add(f.WorkerID))
	}
	if f.MadeBy != 0 {
		conds = append(conds, "r.referrer_user_id = "+a.Add(f.MadeBy))
	}
	if f.Overdue {
		conds = append(conds, s.overdueCond(a))
	}
	if f.Risk {
		conds = append(conds, "EXISTS (SELECT 1 FROM alerts al WHERE al.referral_id = r.id AND al.resolved_at IS NULL)")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		conds = append(conds, "(LOWER(pe.preferred_name) LIKE "+a.Add("%"+strings.ToLower(q)+"%")+" OR r.reference = "+a.Add(strings.ToUpper(q))+")")
	}
	if len(conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(conds, " AND ")
}

// ListReferrals returns the referrals the caller may see that match f,
// audited as one list access. Lists of open referrals are a triage queue:
// possible risk waiting for a response first, then the most urgent, then
// the longest waiting. Invalid filter values are field problems.
func (s *Service) ListReferrals(ctx context.Context, p *app.Principal, f Filter) (Page, error) {
	if err := f.check(); err != nil {
		return Page{}, err
	}
	if f.Limit == 0 || f.Limit > 200 {
		f.Limit = 50
	}
	a := &store.Args{}
	cond := s.where(f, a)
	var pg Page
	pg.Limit, pg.Offset = f.Limit, f.Offset
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if pg.Referrals, err = s.referralsWhere(ctx, tx, p, a, cond, listOrder(f), f.Limit, f.Offset); err != nil {
			return err
		}
		if pg.Total, err = s.countWhere(ctx, tx, p, f, a, cond); err != nil {
			return err
		}
		for i := range pg.Referrals {
			if limitedFor(p, &pg.Referrals[i]) {
				pg.Referrals[i] = outline(pg.Referrals[i])
			}
		}
		record(p.ActorFor(app.PermReferralRead), audit.Event{
			Action: "referral.list", Subjects: peopleOf(pg.Referrals), ObjectType: "referrals", ObjectID: fmt.Sprintf("results=%d", len(pg.Referrals))})
		return nil
	})
	if pg.Referrals == nil {
		pg.Referrals = []Referral{}
	}
	return pg, err
}

// countWhere counts the referrals the caller may see that match cond (the
// filter's, with the values in a, which is not changed). The count needs
// people only to match a name; the other joins are one row or none per
// referral and do not change it.
func (s *Service) countWhere(ctx context.Context, tx *store.Tx, p *app.Principal, f Filter, a *store.Args, cond string) (int, error) {
	from := " FROM referrals r"
	if strings.TrimSpace(f.Query) != "" {
		from += " JOIN people pe ON pe.id = r.person_id"
	}
	ca := store.NewArgs(a.Values()...)
	var n int
	err := tx.QueryRowContext(ctx, "SELECT COUNT(*)"+from+" WHERE "+cond+" AND "+access.Referrals(p, ca), ca.Values()...).Scan(&n)
	return n, err
}

// listOrder is the ORDER BY for a list. Open referrals (the waiting list,
// someone's caseload, the overdue) are a triage queue: possible risk
// waiting for a response, then urgency, then the longest waiting. They are
// a small and recent part of all referrals, and the sort keys are
// expressions no index provides, so the planners fetch the few matching
// rows and sort them rather than walking the received_at index from the
// oldest past every closed referral (0.47 s → 0.03 s for a lead's waiting
// list among 300,000 referrals). Other lists are oldest first.
func listOrder(f Filter) string {
	open := len(f.Statuses) > 0
	for _, st := range f.Statuses {
		open = open && !st.Closed()
	}
	if open || f.Overdue || f.WorkerID != 0 || f.Risk {
		return riskOpen + ", " + urgencyRank + ", COALESCE(r.received_at, r.received_at), r.id"
	}
	return "r.received_at, r.id"
}

// Counts are the numbers on a staff member's home page.
type Counts struct {
	Waiting       int `json:"waiting" doc:"Everyone on the waiting list you can see (GET /api/v1/referrals?status=received,accepted,allocated)."`
	Overdue       int `json:"overdue" doc:"Of those, the ones past the waiting standard for their urgency (…&overdue=1)."`
	PossibleRisk  int `json:"possible_risk" doc:"Open referrals with an alert of possible risk waiting for a response (…&risk=1)."`
	AllocatedToMe int `json:"allocated_to_me" doc:"People allocated to you or receiving support from you (…&mine=1&status=allocated,active)."`
	MadeOpen      int `json:"made_open" doc:"Open referrals you made (…&made=1)."`
}

// Counts summarises, for the home page, the lists it links to, counted
// with the same definitions and within the same scope as the lists
// themselves (WaitingFilter, PastStandardFilter, AtRiskFilter, AllocatedFilter,
// MadeOpenFilter).
// None of it shows anyone's data, so it is not audited.
//
// The figures are kept for a few seconds per account: a dashboard a few
// seconds behind is fine, and busy teams do not pay for counting their
// waiting list on every view.
func (s *Service) Counts(ctx context.Context, p *app.Principal) (Counts, error) {
	if c, ok := s.userCounts.Get(p.UserID, countsTTL); ok {
		return c, nil
	}
	c, err := s.freshCounts(ctx, p)
	if err != nil {
		return c, err
	}
	s.userCounts.Put(p.UserID, c)
	return c, nil
}

// countsTTL is how long an account's home-page figures are reused.
const countsTTL = 10 * time.Second

func (s *Service) freshCounts(ctx context.Context, p *app.Principal) (Counts, error) {
	var c Counts
	a := &store.Args{}
	var parts []string
	for _, f := range []Filter{WaitingFilter(), PastStandardFilter(), AtRiskFilter(), AllocatedFilter(p.UserID), MadeOpenFilter(p.UserID)} {
		parts = append(parts, "(SELECT COUNT(*) FROM referrals r WHERE "+s.where(f, a)+" AND "+access.Referrals(p, a)+")")
	}
	err := s.DB.QueryRow(ctx, "SELECT "+strings.Join(parts, ", "), a.Values()...).Scan(&c.Waiting, &c.Overdue, &c.PossibleRisk,
		&c.AllocatedToMe, &c.MadeOpen)
	return c, err
}

// Totals are the whole waiting list in numbers, for a service manager's
// home page: no one's data, only counts across every team.
type Totals struct {
	Waiting      int `json:"waiting"`
	Overdue      int `json:"overdue"`
	Urgent       int `json:"urgent" doc:"Waiting, and urgent (24-hour standard)."`
	VeryUrgent   int `json:"very_urgent" doc:"Waiting, and very urgent (4-hour standard)."`
	PossibleRisk int `json:"possible_risk" doc:"Open referrals with a possible-risk alert waiting for a response."`
}

// WaitingTotals counts the whole waiting list, past the standard, by
// urgency and with possible risk waiting for a response, across every
// team, for those who see aggregate figures (insight). Anyone else is
// refused.
func (s *Service) WaitingTotals(ctx context.Context, p *app.Principal) (Totals, error) {
	var t Totals
	if !p.Can(app.PermInsightRead) {
		return t, app.Errorf(app.CodeForbidden, "Only those who see aggregate figures can see the whole waiting list's numbers")
	}
	a := &store.Args{}
	waiting := s.where(WaitingFilter(), a)
	over := s.where(PastStandardFilter(), a)
	risk := s.where(AtRiskFilter(), a)
	urgent, very := a.Add(string(Urgent)), a.Add(string(VeryUrgent))
	err := s.DB.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM referrals r WHERE `+waiting+`),
		(SELECT COUNT(*) FROM referrals r WHERE `+over+`),
		(SELECT COUNT(*) FROM referrals r WHERE `+waiting+` AND r.urgency = `+urgent+`),
		(SELECT COUNT(*) FROM referrals r WHERE `+waiting+` AND r.urgency = `+very+`),
		(SELECT COUNT(*) FROM referrals r WHERE `+risk+`)`, a.Values()...).Scan(&t.Waiting, &t.Overdue, &t.Urgent, &t.VeryUrgent, &t.PossibleRisk)
	return t, err
}
