package insight

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
)

// Period is a date range, both ends included.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ParsePeriod reads from and to as YYYY-MM-DD; empty values default to the
// twelve months up to today. Problems are field errors.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	var p app.Problems
	var out Period
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out.To = today
	if strings.TrimSpace(to) != "" {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(to))
		if err != nil {
			p.Add("to", "to must be a date like 2026-10-31")
		}
		out.To = t
	}
	out.From = out.To.AddDate(-1, 0, 1)
	if strings.TrimSpace(from) != "" {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(from))
		if err != nil {
			p.Add("from", "from must be a date like 2025-11-01")
		}
		out.From = t
	}
	if len(p) == 0 && out.From.After(out.To) {
		p.Add("from", "from must be on or before to")
	}
	if len(p) == 0 && out.To.Sub(out.From) > 10*366*24*time.Hour {
		p.Add("from", "Choose a period of ten years or less")
	}
	return out, p.Err()
}

// end is the first instant after the period.
func (p Period) end() time.Time { return p.To.AddDate(0, 0, 1) }

// RatesQuery asks for referral or offer rates.
type RatesQuery struct {
	Period
	By             string  // "coordinator" or "team"
	Measure        string  // "referred" or "offered"
	TeamIDs        []int64 // empty: every team
	Overdispersion bool
	// ZeroThreshold lists units with a caseload above it and no events.
	ZeroThreshold int
}

// Check validates the query, filling defaults.
func (q *RatesQuery) Check() error {
	var p app.Problems
	if q.By == "" {
		q.By = "coordinator"
	}
	if q.Measure == "" {
		q.Measure = "referred"
	}
	if q.By != "coordinator" && q.By != "team" {
		p.Add("by", "by must be coordinator or team")
	}
	if q.Measure != "referred" && q.Measure != "offered" {
		p.Add("measure", "measure must be referred or offered")
	}
	if q.ZeroThreshold == 0 {
		q.ZeroThreshold = 20
	}
	if q.ZeroThreshold < 0 {
		p.Add("zero_threshold", "zero_threshold must not be negative")
	}
	return p.Err()
}

// RateLimits are a unit's control limits, as rates.
type RateLimits struct {
	Lower95  float64 `json:"lower95"`
	Upper95  float64 `json:"upper95"`
	Lower998 float64 `json:"lower998"`
	Upper998 float64 `json:"upper998"`
}

// UnitRate is one co-ordinator's or team's rate. Counts below the
// suppression threshold are withheld (null) and Suppressed is set; the
// unit's class is still given, as it is a range, not a count.
type UnitRate struct {
	Unit       string     `json:"unit"`
	N          *int       `json:"n"`
	Events     *int       `json:"events"`
	Rate       *float64   `json:"rate"`
	Limits     RateLimits `json:"limits"`
	Class      string     `json:"class"`
	Suppressed bool       `json:"suppressed"`
	// Display values for pages and CSV.
	NText, EventsText, RateText string `json:"-"`
}

// Rates is the answer to a rates query.
type Rates struct {
	Query             RatesQuery         `json:"-"`
	From              string             `json:"from"`
	To                string             `json:"to"`
	By                string             `json:"by"`
	Measure           string             `json:"measure"`
	Target            float64            `json:"overall_rate"`
	Phi               float64            `json:"overdispersion_phi"`
	Overdispersed     bool               `json:"overdispersion_applied"`
	OutsideShare95    float64            `json:"share_outside_95"`
	SuggestAdjustment bool               `json:"suggest_overdispersion_adjustment"`
	Named             bool               `json:"named"`
	Units             []UnitRate         `json:"units"`
	ZeroEvents        []string           `json:"zero_event_units"`
	Curve             []stats.CurvePoint `json:"-"`
	MaxN              int                `json:"-"`
}

// Class names, consistent with where a unit sits against the drawn limits.
const (
	ClassBelow998 = "below_99_8"
	ClassBelow95  = "below_95"
	ClassWithin   = "within"
	ClassAbove95  = "above_95"
	ClassAbove998 = "above_99_8"
)

// classify places a rate against its limits. Classes follow the drawn
// lines, so what the plot shows and what the table says always agree.
func classify(rate float64, l stats.Limits) string {
	switch {
	case rate < l.Lower998:
		return ClassBelow998
	case rate < l.Lower95:
		return ClassBelow95
	case rate > l.Upper998:
		return ClassAbove998
	case rate > l.Upper95:
		return ClassAbove95
	}
	return ClassWithin
}

type rawUnit struct {
	key, label string
	n, events  int
}

// ReferralRates computes rates per care co-ordinator or team against
// caseloads in the period. Co-ordinators are named only for callers allowed
// to see named staff performance; others see anonymised labels. The query
// is audited (aggregate data, no subject).
func (s *Service) ReferralRates(ctx context.Context, p *app.Principal, q RatesQuery) (Rates, error) {
	if err := q.Check(); err != nil {
		return Rates{}, err
	}
	out := Rates{Query: q, From: q.From.Format("2006-01-02"), To: q.To.Format("2006-01-02"), By: q.By, Measure: q.Measure,
		Named: q.By == "team" || p.Can(app.PermInsightNamed)}
	var raws []rawUnit
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		raws, err = s.rateCounts(ctx, tx, q)
		return err
	})
	if err != nil {
		return out, err
	}
	var units []stats.Unit
	for _, r := range raws {
		units = append(units, stats.Unit{Key: r.key, N: r.n, Events: r.events})
	}
	f := stats.BuildFunnel(units, q.Overdispersion)
	out.Target, out.Phi, out.Overdispersed, out.OutsideShare95 = f.Target, f.Phi, f.Overdispersed, f.OutsideShare95
	out.SuggestAdjustment = !q.Overdispersion && f.OutsideShare95 > stats.SuggestAdjustmentShare && len(f.Points) >= 10
	byKey := map[string]stats.FunnelPoint{}
	for _, pt := range f.Points {
		byKey[pt.Key] = pt
	}
	if !out.Named {
		// Anonymised labels in order of caseload size, so the biggest
		// caseload is always A: stable enough to discuss, not to identify.
		sort.SliceStable(raws, func(i, j int) bool { return raws[i].n > raws[j].n })
		for i := range raws {
			raws[i].label = "Co-ordinator " + anonLabel(i)
		}
	}
	for _, r := range raws {
		pt, ok := byKey[r.key]
		if !ok {
			continue
		}
		u := UnitRate{Unit: r.label, Limits: RateLimits{pt.Limits.Lower95, pt.Limits.Upper95, pt.Limits.Lower998, pt.Limits.Upper998},
			Class: classify(pt.Rate, pt.Limits)}
		u.NText = s.Suppress.Count(r.n)
		u.EventsText = s.Suppress.Count(r.events)
		if s.Suppress.Suppressed(r.n) || s.Suppress.Suppressed(r.events) {
			u.Suppressed = true
			u.RateText = stats.Withheld
			if !s.Suppress.Suppressed(r.n) {
				n := r.n
				u.N = &n
			}
		} else {
			n, e, rate := r.n, r.events, pt.Rate
			u.N, u.Events, u.Rate = &n, &e, &rate
			u.RateText = fmt.Sprintf("%.1f%%", 100*rate)
		}
		if r.events == 0 && r.n > q.ZeroThreshold {
			out.ZeroEvents = append(out.ZeroEvents, r.label)
		}
		out.MaxN = max(out.MaxN, r.n)
		out.Units = append(out.Units, u)
	}
	sort.SliceStable(out.Units, func(i, j int) bool { return out.Units[i].Unit < out.Units[j].Unit })
	if out.MaxN > 0 && out.Target > 0 && out.Target < 1 {
		out.Curve = stats.FunnelCurve(out.Target, int(float64(out.MaxN)*1.1)+1, 60, out.Phi)
		if !out.Overdispersed {
			out.Curve = stats.FunnelCurve(out.Target, int(float64(out.MaxN)*1.1)+1, 60, 1)
		}
	}
	if out.Units == nil {
		out.Units = []UnitRate{}
	}
	err = s.record(ctx, p, audit.Event{Action: "insight.rates",
		ObjectType: "insight", ObjectID: fmt.Sprintf("by=%s measure=%s from=%s to=%s", q.By, q.Measure, out.From, out.To)})
	return out, err
}

func anonLabel(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// rateCounts finds, per unit (care co-ordinator or team), the distinct
// people on its caseload at any time in the period (n, from the roll-up)
// and how many of them it referred, or recorded an offer for, in the
// period while they were on its caseload.
func (s *Service) rateCounts(ctx context.Context, tx *store.Tx, q RatesQuery) ([]rawUnit, error) {
	n, err := unitCounts(ctx, tx, q.By, q.From, q.To, q.TeamIDs)
	if err != nil {
		return nil, err
	}
	// Referrals and offers carry whether the person was on the maker's
	// caseload that day (kept up to date as caseloads are imported), so
	// the events are one pass over the period's referrals or offers.
	args := []any{q.From, q.end()}
	teams := ""
	var events string
	switch {
	case q.Measure == "referred" && q.By == "coordinator":
		// Grouped by account id (the "+" keeps the planner on the
		// received_at index, which covers the query); ids become email
		// addresses below.
		teams = teamFilter(&args, "r.referrer_team_id", q.TeamIDs)
		events = `SELECT CAST(+r.referrer_user_id AS TEXT), COUNT(DISTINCT r.person_id) FROM referrals r
			WHERE r.received_at >= $1 AND r.received_at < $2 AND r.on_caseload_coordinator` + teams + ` GROUP BY +r.referrer_user_id`
	case q.Measure == "referred":
		teams = teamFilter(&args, "r.referrer_team_id", q.TeamIDs)
		events = `SELECT CAST(+r.referrer_team_id AS TEXT), COUNT(DISTINCT r.person_id) FROM referrals r
			WHERE r.received_at >= $1 AND r.received_at < $2 AND r.on_caseload_team` + teams + ` GROUP BY +r.referrer_team_id`
	case q.By == "coordinator":
		teams = teamFilter(&args, "o.team_id", q.TeamIDs)
		events = `SELECT CAST(+o.recorded_by_user_id AS TEXT), COUNT(DISTINCT o.person_id) FROM offers o
			WHERE o.at >= $1 AND o.at < $2 AND o.on_caseload_coordinator` + teams + ` GROUP BY +o.recorded_by_user_id`
	default:
		teams = teamFilter(&args, "o.team_id", q.TeamIDs)
		events = `SELECT CAST(+o.team_id AS TEXT), COUNT(DISTINCT o.person_id) FROM offers o
			WHERE o.at >= $1 AND o.at < $2 AND o.on_caseload_team` + teams + ` GROUP BY +o.team_id`
	}
	rows, err := tx.QueryContext(ctx, events, args...)
	if err != nil {
		return nil, err
	}
	ev := map[string]int{}
	for rows.Next() {
		var unit string
		var c int
		if err := rows.Scan(&unit, &c); err != nil {
			rows.Close()
			return nil, err
		}
		ev[unit] += c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if q.By == "coordinator" {
		// Accounts to the email addresses caseloads name co-ordinators by.
		emails, err := userEmails(ctx, tx)
		if err != nil {
			return nil, err
		}
		byEmail := map[string]int{}
		for id, c := range ev {
			byEmail[emails[id]] += c
		}
		ev = byEmail
	}
	out := make([]rawUnit, 0, len(n))
	for unit, count := range n {
		out = append(out, rawUnit{key: unit, label: unit, n: count, events: min(ev[unit], count)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return s.labelUnits(ctx, tx, q.By, out)
}

func userEmails(ctx context.Context, tx *store.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT CAST(id AS TEXT), email FROM users")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			return nil, err
		}
		out[id] = email
	}
	return out, rows.Err()
}

// labelUnits names units: co-ordinators by their account name (or email
// when they have no account), teams by name.
func (s *Service) labelUnits(ctx context.Context, tx *store.Tx, by string, units []rawUnit) ([]rawUnit, error) {
	names := map[string]string{}
	q := "SELECT email, name FROM users"
	if by == "team" {
		q = "SELECT CAST(id AS TEXT), name FROM teams"
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		names[k] = v
	}
	for i := range units {
		if n, ok := names[units[i].key]; ok {
			units[i].label = n
		}
	}
	return units, rows.Err()
}
