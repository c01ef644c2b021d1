package insight

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/demographics"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// Characteristics are the ways equity of access is broken down.
var Characteristics = []struct{ Key, Label string }{
	{"age", "Age band"},
	{"gender", "Gender"},
	{"ethnicity", "Ethnic group"},
	{"disability", "Disability"},
	{"first_language", "First language"},
	{"setting", "Setting"},
}

// EquityRow is one group's access to peer support. Counts are as
// published (rounded if the service rounds); a count hidden by disclosure
// control is null and Suppressed is set, and the shares and rate ratio it
// would reveal are null too. Shares are fractions (0.482 for 48.2%).
type EquityRow struct {
	Group      string   `json:"group"`
	Caseload   *int     `json:"caseload"`
	Referred   *int     `json:"referred"`
	Started    *int     `json:"started"`
	ShareCase  *float64 `json:"share_of_caseload"`
	ShareRef   *float64 `json:"share_of_referrals"`
	ShareStart *float64 `json:"share_of_started"`
	RateRatio  *float64 `json:"rate_ratio"`
	CILower    *float64 `json:"rate_ratio_95ci_lower"`
	CIUpper    *float64 `json:"rate_ratio_95ci_upper"`
	// Below or Above states the rate ratio as a bound when a count behind
	// it is suppressed but the finding is significant: the count is
	// hidden, never the finding.
	Below *float64 `json:"rate_ratio_below,omitempty" doc:"When a count is suppressed but the group is still significantly under-represented: the rate ratio is below this, e.g. 0.7, true whatever the hidden count."`
	Above *float64 `json:"rate_ratio_above,omitempty" doc:"When a count is suppressed but the group is still significantly over-represented: the rate ratio is above this, true whatever the hidden count."`
	// Under is set when the group is referred significantly less often than
	// everyone else (the upper end of the 95% interval is below 1).
	Under      bool `json:"significantly_under_represented"`
	Over       bool `json:"significantly_over_represented"`
	Suppressed bool `json:"suppressed"`
	// withheld marks the counts (caseload, referred, started) hidden
	// together with others so that none can be worked out from the total,
	// as opposed to hidden for being small themselves.
	withheld [3]bool
}

// CaseloadWithheld reports whether a null Caseload was withheld with
// other cells (secondary suppression) rather than for being small.
func (r EquityRow) CaseloadWithheld() bool { return r.withheld[0] }

// ReferredWithheld is CaseloadWithheld for Referred.
func (r EquityRow) ReferredWithheld() bool { return r.withheld[1] }

// StartedWithheld is CaseloadWithheld for Started.
func (r EquityRow) StartedWithheld() bool { return r.withheld[2] }

// EquityTable is the breakdown by one characteristic.
type EquityTable struct {
	Key   string      `json:"characteristic"`
	Label string      `json:"label"`
	Rows  []EquityRow `json:"rows"`
	Total EquityRow   `json:"total"`
}

// Equity is the equity-of-access answer.
type Equity struct {
	// SuppressionThreshold is the smallest count published: counts from 1
	// to one below it are null.
	SuppressionThreshold int           `json:"suppression_threshold"`
	From                 string        `json:"from"`
	To                   string        `json:"to"`
	Tables               []EquityTable `json:"tables"`
}

type groupCounts struct{ n, referred, started int }

// EquityOfAccess breaks down, by age band, gender, ethnic group,
// disability, first language and setting, the people on caseload in the
// period, those referred to peer support in it and those who started it,
// with each group's referral rate ratio against everyone else. Small
// counts are suppressed so no one can be singled out.
func (s *Service) EquityOfAccess(ctx context.Context, p *app.Principal, period Period, teamIDs []int64) (Equity, error) {
	out := Equity{SuppressionThreshold: s.Suppress.Threshold, From: period.From.Format("2006-01-02"), To: period.To.Format("2006-01-02")}
	groups := map[string]map[string]*groupCounts{}
	for _, c := range Characteristics {
		groups[c.Key] = map[string]*groupCounts{}
	}
	add := func(key, group string, n, ref, started int) {
		g := groups[key][group]
		if g == nil {
			g = &groupCounts{}
			groups[key][group] = g
		}
		g.n += n
		g.referred += ref
		g.started += started
	}
	args := []any{period.To, period.From, period.end()}
	filter := teamFilter(&args, "ce.team_id", teamIDs)
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		if len(teamIDs) == 0 {
			if built, err := spansBuilt(ctx, tx); err != nil {
				return err
			} else if built {
				return equityFromSpans(ctx, tx, period, add)
			}
		}
		rows, err := tx.QueryContext(ctx, `WITH cl AS (
				SELECT ce.person_id FROM caseload_episodes ce WHERE ce.end_date IS NULL AND ce.start_date <= $1`+filter+`
				UNION
				SELECT ce.person_id FROM caseload_episodes ce WHERE ce.end_date >= $2 AND ce.start_date <= $1`+filter+`
			), rf AS (
				SELECT person_id, MAX(CASE WHEN first_contact_at IS NOT NULL THEN 1 ELSE 0 END) AS started
				FROM referrals WHERE received_at >= $2 AND received_at < $3 GROUP BY person_id
			)
			SELECT COALESCE(pe.birth_year, 0), pe.gender, pe.ethnicity, pe.disability, pe.first_language,
				COUNT(*), COUNT(rf.person_id), COALESCE(SUM(rf.started), 0)
			FROM cl JOIN people pe ON pe.id = cl.person_id LEFT JOIN rf ON rf.person_id = cl.person_id
			GROUP BY COALESCE(pe.birth_year, 0), pe.gender, pe.ethnicity, pe.disability, pe.first_language`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var by, n, ref, started int
			var gender, eth, dis, lang string
			if err := rows.Scan(&by, &gender, &eth, &dis, &lang, &n, &ref, &started); err != nil {
				rows.Close()
				return err
			}
			add("age", ageBand(by, period.To), n, ref, started)
			add("gender", genderLabel(gender), n, ref, started)
			add("ethnicity", ethnicGroup(eth), n, ref, started)
			add("disability", disabilityLabel(dis), n, ref, started)
			add("first_language", languageGroup(lang), n, ref, started)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Setting belongs to the episode, so a person in two settings counts
		// in both.
		srows, err := tx.QueryContext(ctx, `WITH cl AS (
				SELECT ce.person_id, ce.setting FROM caseload_episodes ce WHERE ce.end_date IS NULL AND ce.start_date <= $1`+filter+`
				UNION
				SELECT ce.person_id, ce.setting FROM caseload_episodes ce WHERE ce.end_date >= $2 AND ce.start_date <= $1`+filter+`
			), rf AS (
				SELECT person_id, MAX(CASE WHEN first_contact_at IS NOT NULL THEN 1 ELSE 0 END) AS started
				FROM referrals WHERE received_at >= $2 AND received_at < $3 GROUP BY person_id
			)
			SELECT cl.setting, COUNT(*), COUNT(rf.person_id), COALESCE(SUM(rf.started), 0)
			FROM cl LEFT JOIN rf ON rf.person_id = cl.person_id GROUP BY cl.setting`, args...)
		if err != nil {
			return err
		}
		defer srows.Close()
		for srows.Next() {
			var setting string
			var n, ref, started int
			if err := srows.Scan(&setting, &n, &ref, &started); err != nil {
				return err
			}
			add("setting", settingLabel(setting), n, ref, started)
		}
		return srows.Err()
	})
	if err != nil {
		return out, err
	}
	for _, c := range Characteristics {
		out.Tables = append(out.Tables, s.equityTable(c.Key, c.Label, groups[c.Key]))
	}
	err = s.record(ctx, p, audit.Event{Action: "insight.equity",
		ObjectType: "insight", ObjectID: fmt.Sprintf("from=%s to=%s", out.From, out.To)})
	return out, err
}

// teamFilter is " AND column IN (…)" for the chosen teams ("" for all),
// their ids appended to args.
func teamFilter(args *[]any, column string, teamIDs []int64) string {
	if len(teamIDs) == 0 {
		return ""
	}
	a := store.NewArgs(*args...)
	f := " AND " + column + " IN " + store.In(a, teamIDs...)
	*args = a.Values()
	return f
}

// The groups each characteristic is shown in, from the values recorded.
func ageBand(birthYear int, at time.Time) string { return demographics.AgeBand(birthYear, at) }
func genderLabel(g string) string                { return demographics.Label(demographics.Genders, g) }
func ethnicGroup(e string) string                { return demographics.EthnicGroup(e) }
func disabilityLabel(d string) string            { return demographics.Label(demographics.Disabilities, d) }

func settingLabel(setting string) string {
	if label := account.Setting(setting).Label(); label != "" {
		return label
	}
	return "Not known"
}

// languageGroup groups first languages: each language as recorded,
// normalised to an initial capital; blank is "Not recorded".
func languageGroup(lang string) string {
	lang = strings.TrimSpace(lang)
	if lang == "" {
		return "Not recorded"
	}
	return app.UpperFirst(strings.ToLower(lang))
}

func (s *Service) equityTable(key, label string, groups map[string]*groupCounts) EquityTable {
	t := EquityTable{Key: key, Label: label}
	var total groupCounts
	names := make([]string, 0, len(groups))
	for name, g := range groups {
		names = append(names, name)
		total.n += g.n
		total.referred += g.referred
		total.started += g.started
	}
	order := map[string]int{}
	for i, b := range demographics.AgeBands {
		order[b] = i + 1
	}
	sort.Slice(names, func(i, j int) bool {
		if key == "age" {
			return order[names[i]] < order[names[j]]
		}
		// Largest groups first; "Not known" style groups last.
		ni, nj := strings.HasPrefix(names[i], "Not"), strings.HasPrefix(names[j], "Not")
		if ni != nj {
			return nj
		}
		if groups[names[i]].n != groups[names[j]].n {
			return groups[names[i]].n > groups[names[j]].n
		}
		return names[i] < names[j]
	})
	// Primary and secondary suppression work down each column so that no
	// group's count can be worked out from the total and the others.
	col := func(get func(*groupCounts) int, tot int) ([]*int, []bool, *int) {
		vals := make([]int, len(names))
		for i, n := range names {
			vals[i] = get(groups[n])
		}
		return s.Suppress.RowValues(vals, tot)
	}
	nCells, nHeld, nTotal := col(func(g *groupCounts) int { return g.n }, total.n)
	refCells, refHeld, refTotal := col(func(g *groupCounts) int { return g.referred }, total.referred)
	startCells, startHeld, startTotal := col(func(g *groupCounts) int { return g.started }, total.started)
	share := func(part, whole int) *float64 {
		if whole <= 0 {
			return nil
		}
		return ptr(float64(part) / float64(whole))
	}
	for i, name := range names {
		g := groups[name]
		row := EquityRow{Group: name, Caseload: nCells[i], Referred: refCells[i], Started: startCells[i],
			withheld: [3]bool{nHeld[i], refHeld[i], startHeld[i]}}
		row.Suppressed = row.Caseload == nil || row.Referred == nil || row.Started == nil
		if row.Caseload != nil {
			row.ShareCase = share(g.n, total.n)
		}
		if row.Referred != nil {
			row.ShareRef = share(g.referred, total.referred)
		}
		if row.Started != nil {
			row.ShareStart = share(g.started, total.started)
		}
		// The finding is worked out from the true counts whatever is shown:
		// a small group referred far less often is the finding that matters
		// most, and suppressing it with its count would hide exactly that.
		if rr, ok := stats.RateRatioCI(g.referred, g.n, total.referred-g.referred, total.n-g.n); ok {
			row.Under, row.Over = rr.SignificantlyLow(), rr.SignificantlyHigh()
			switch {
			case row.Caseload != nil && row.Referred != nil:
				row.RateRatio, row.CILower, row.CIUpper = ptr(rr.Ratio), ptr(rr.Lower), ptr(rr.Upper)
			case (row.Under || row.Over) && row.Caseload != nil:
				b := s.rateRatioBound(row.Under, g.n, total)
				if row.Under {
					row.Below = &b
				} else {
					row.Above = &b
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	t.Total = EquityRow{Group: "Everyone", Caseload: nTotal, Referred: refTotal, Started: startTotal,
		ShareCase: ptr(1.0), ShareRef: ptr(1.0), ShareStart: ptr(1.0)}
	t.Total.Suppressed = t.Total.Caseload == nil || t.Total.Referred == nil || t.Total.Started == nil
	return t
}

func ptr[T any](v T) *T { return &v }

// rateRatioBound states a significant rate ratio whose referral count is
// hidden as a bound that holds for every count the hidden cell could be
// (1 to Threshold−1), so the bound says nothing about which it is: below
// the largest upper 95% limit over those counts, rounded up to a tenth
// (never above 1, which the finding itself guarantees), or above the
// smallest lower limit, rounded down (never below 1).
func (s *Service) rateRatioBound(under bool, n int, total groupCounts) float64 {
	hi := max(s.Suppress.Threshold-1, 1)
	upper, lower := 0.0, math.Inf(1)
	for a := 1; a <= hi; a++ {
		if rr, ok := stats.RateRatioCI(a, n, total.referred-a, total.n-n); ok {
			upper, lower = math.Max(upper, rr.Upper), math.Min(lower, rr.Lower)
		}
	}
	if under {
		b := math.Ceil(upper*10) / 10
		if upper == 0 || b >= 1 {
			return 1
		}
		return b
	}
	b := math.Floor(lower*10) / 10
	if math.IsInf(lower, 1) || b <= 1 {
		return 1
	}
	return b
}

func teamNameMap(ctx context.Context, tx *store.Tx) (map[int64]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, name FROM teams")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// offerDates returns, per person, the sorted times they were told about
// peer support (their own "never told" reports excluded).
func offerDates(ctx context.Context, tx *store.Tx, from, to time.Time) (map[int64][]time.Time, error) {
	rows, err := tx.QueryContext(ctx, `SELECT person_id, at FROM offers WHERE at >= $1 AND at < $2 AND response <> 'never_told'
		ORDER BY person_id, at`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]time.Time{}
	for rows.Next() {
		var pid int64
		var at time.Time
		if err := rows.Scan(&pid, &at); err != nil {
			return nil, err
		}
		out[pid] = append(out[pid], at)
	}
	return out, rows.Err()
}

// toldWithin reports whether any of the sorted times falls in [from, to).
func toldWithin(times []time.Time, from, to time.Time) bool {
	i := sort.Search(len(times), func(i int) bool { return !times[i].Before(from) })
	return i < len(times) && times[i].Before(to)
}

// Coverage is the offer-coverage answer: for each month end, the share of
// people on caseload that day with an offer of peer support recorded in
// the twelve months before — the local answer to the national survey's
// question about being told of peer support.
type Coverage struct {
	// SuppressionThreshold is the smallest count published: counts from 1
	// to one below it are null.
	SuppressionThreshold int `json:"suppression_threshold"`
	// Months are the days coverage is measured on, as YYYY-MM-DD: each
	// month's last day, and the period's last day.
	Months []string      `json:"months"`
	Teams  []CoverageRow `json:"teams"`
	All    CoverageRow   `json:"all_teams"`
}

// CoverageRow is one team's coverage by month.
type CoverageRow struct {
	Team   string          `json:"team"`
	Months []CoverageMonth `json:"months"`
}

// CoverageMonth is one month's coverage: the people on caseload that day,
// those of them told about peer support in the twelve months before, and
// the share told as a fraction. A small count is null and Suppressed is
// set, with the share.
type CoverageMonth struct {
	Month      string   `json:"month"`
	Caseload   *int     `json:"caseload"`
	Offered    *int     `json:"offered"`
	Share      *float64 `json:"share"`
	Suppressed bool     `json:"suppressed"`
}

// OfferCoverage computes offer coverage by team and month over the period
// (at most 24 month ends).
func (s *Service) OfferCoverage(ctx context.Context, p *app.Principal, period Period, teamIDs []int64) (Coverage, error) {
	var ends []time.Time
	for m := time.Date(period.From.Year(), period.From.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, -1); !m.After(period.To); m = time.Date(m.Year(), m.Month()+2, 0, 0, 0, 0, 0, time.UTC) {
		ends = append(ends, m)
	}
	if len(ends) == 0 || !ends[len(ends)-1].Equal(period.To) {
		ends = append(ends, period.To)
	}
	if len(ends) > 24 {
		ends = ends[len(ends)-24:]
	}
	type key struct {
		team  int64
		month int
	}
	counts := map[key][2]int{}
	teamNames := map[int64]string{}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		if teamNames, err = teamNameMap(ctx, tx); err != nil {
			return err
		}
		if len(teamIDs) == 0 {
			if built, err := spansBuilt(ctx, tx); err != nil {
				return err
			} else if built {
				byTeam, err := coverageFromSpans(ctx, tx, ends)
				for team, months := range byTeam {
					for i, c := range months {
						if c != [2]int{} {
							counts[key{team, i}] = c
						}
					}
				}
				return err
			}
		}
		told, err := offerDates(ctx, tx, ends[0].AddDate(-1, 0, 0), ends[len(ends)-1].AddDate(0, 0, 1))
		if err != nil {
			return err
		}
		// One pass over the episodes open at any of the month ends, person by
		// person, so each person counts once per team and once overall.
		args := []any{ends[len(ends)-1], ends[0]}
		filter := teamFilter(&args, "ce.team_id", teamIDs)
		rows, err := tx.QueryContext(ctx, `SELECT person_id, team_id, start_date, end_date FROM (
			SELECT ce.person_id, ce.team_id, ce.start_date, ce.end_date FROM caseload_episodes ce
				WHERE ce.end_date IS NULL AND ce.start_date <= $1`+filter+`
			UNION ALL
			SELECT ce.person_id, ce.team_id, ce.start_date, ce.end_date FROM caseload_episodes ce
				WHERE ce.end_date >= $2 AND ce.start_date <= $1`+filter+`) x ORDER BY person_id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		type ep struct {
			team       int64
			start, end time.Time
		}
		var person int64
		var eps []ep
		flush := func() {
			for i, m := range ends {
				offered := toldWithin(told[person], m.AddDate(-1, 0, 0), m.AddDate(0, 0, 1))
				on := false
				var teamsSeen []int64
				for _, e := range eps {
					if e.start.After(m) || (!e.end.IsZero() && e.end.Before(m)) || slices.Contains(teamsSeen, e.team) {
						continue
					}
					teamsSeen = append(teamsSeen, e.team)
					on = true
					c := counts[key{e.team, i}]
					c[0]++
					if offered {
						c[1]++
					}
					counts[key{e.team, i}] = c
				}
				if on {
					c := counts[key{0, i}]
					c[0]++
					if offered {
						c[1]++
					}
					counts[key{0, i}] = c
				}
			}
			eps = eps[:0]
		}
		for rows.Next() {
			var pid, team int64
			var start time.Time
			var end sql.NullTime
			if err := rows.Scan(&pid, &team, &start, &end); err != nil {
				return err
			}
			if pid != person && len(eps) > 0 {
				flush()
			}
			person = pid
			e := ep{team: team, start: start}
			if end.Valid {
				e.end = end.Time
			}
			eps = append(eps, e)
		}
		if len(eps) > 0 {
			flush()
		}
		return rows.Err()
	})
	if err != nil {
		return Coverage{}, err
	}
	out := Coverage{SuppressionThreshold: s.Suppress.Threshold}
	for _, m := range ends {
		out.Months = append(out.Months, m.Format("2006-01-02"))
	}
	row := func(team int64, name string) CoverageRow {
		r := CoverageRow{Team: name}
		for i := range ends {
			c := counts[key{team, i}]
			cm := CoverageMonth{Month: out.Months[i], Caseload: s.Suppress.Value(c[0]), Offered: s.Suppress.Value(c[1])}
			cm.Suppressed = cm.Caseload == nil || cm.Offered == nil
			if share, ok := s.Suppress.Fraction(c[1], c[0]); ok {
				cm.Share = &share
			}
			r.Months = append(r.Months, cm)
		}
		return r
	}
	seen := map[int64]bool{}
	for k := range counts {
		seen[k.team] = k.team != 0
	}
	var teams []int64
	for id := range teamNames {
		if seen[id] {
			teams = append(teams, id)
		}
	}
	sort.Slice(teams, func(i, j int) bool { return teamNames[teams[i]] < teamNames[teams[j]] })
	for _, id := range teams {
		out.Teams = append(out.Teams, row(id, teamNames[id]))
	}
	out.All = row(0, "All teams")
	err = s.record(ctx, p, audit.Event{Action: "insight.coverage",
		ObjectType: "insight", ObjectID: fmt.Sprintf("from=%s to=%s", period.From.Format("2006-01-02"), period.To.Format("2006-01-02"))})
	return out, err
}

// WaitRow is waiting times for one group of referrals: counts, days
// (fractions of a day for waits measured in hours) and the share seen
// within the standard as a fraction. A small count is null and Suppressed
// is set, with the figures it would reveal.
type WaitRow struct {
	Group string `json:"group"`
	// StandardHours is the group's waiting standard, in the table by
	// urgency only.
	StandardHours int      `json:"standard_hours,omitempty"`
	Referrals     *int     `json:"referrals"`
	Seen          *int     `json:"first_contacted"`
	MedianDays    *float64 `json:"median_days"`
	P90Days       *float64 `json:"p90_days"`
	WithinTarget  *float64 `json:"share_within_standard"`
	Suppressed    bool     `json:"suppressed"`
}

// WaitTable is waiting times broken down one way.
type WaitTable struct {
	Key   string    `json:"by"`
	Label string    `json:"label"`
	Rows  []WaitRow `json:"rows"`
}

// Waiting is the waiting-times answer.
type Waiting struct {
	// SuppressionThreshold is the smallest count published: counts from 1
	// to one below it are null.
	SuppressionThreshold int `json:"suppression_threshold"`
	// StandardDays is the routine standard; urgent and very urgent
	// referrals are measured against theirs (24 and 4 hours).
	StandardDays int         `json:"standard_days"`
	Tables       []WaitTable `json:"tables"`
}

// WaitingTimes summarises days from referral to first contact for
// referrals received in the period, by urgency, team, door (source) and
// group. Each referral is measured against its urgency's standard
// (routine: the service's standard; urgent 24 hours; very urgent 4
// hours). The
// median and 90th percentile are over referrals with a first contact; the
// share within the standard also counts those still waiting past it as not
// seen in time, and leaves out those still waiting within it (not yet
// known).
func (s *Service) WaitingTimes(ctx context.Context, p *app.Principal, period Period, teamIDs []int64) (Waiting, error) {
	std := s.WaitingStandard
	if std <= 0 {
		std = 28 * 24 * time.Hour
	}
	now := s.Clock.Now()
	out := Waiting{SuppressionThreshold: s.Suppress.Threshold, StandardDays: int(std.Hours() / 24)}
	standard := func(u referral.Urgency) time.Duration {
		switch u {
		case referral.Urgent:
			return referral.UrgentStandard
		case referral.VeryUrgent:
			return referral.VeryUrgentStandard
		}
		return std
	}
	// SQLite runs a query on one processor: the period is read in as many
	// parts as there are processors (two to four), each on a connection of
	// its own, and the parts added up. Every referral is in exactly one
	// part, read as it was when that part's read began. PostgreSQL already
	// spreads one query over processors.
	parts := 1
	if s.DB.Dialect == store.SQLite {
		parts = min(max(runtime.NumCPU(), 2), 4)
	}
	from, end := period.From, period.end()
	step := end.Sub(from) / time.Duration(parts)
	if step < 24*time.Hour {
		parts, step = 1, end.Sub(from)
	}
	tallies, errs := make([]waitTally, parts), make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := from.Add(time.Duration(i)*step), from.Add(time.Duration(i+1)*step)
		if i == parts-1 {
			hi = end
		}
		wg.Go(func() {
			errs[i] = app.Recovered(func() (err error) {
				tallies[i], err = s.tallyWaits(ctx, lo, hi, now, period.To, teamIDs, standard)
				return err
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	tables := tallies[0]
	for _, t := range tallies[1:] {
		tables.merge(t)
	}
	for _, t := range []struct{ key, label string }{{"urgency", "Urgency"}, {"team", "Team"}, {"source", "Door in"}, {"ethnicity", "Ethnic group"}, {"age", "Age band"}, {"gender", "Gender"}} {
		wt := WaitTable{Key: t.key, Label: t.label}
		var names []string
		for name := range tables[t.key] {
			names = append(names, name)
		}
		sort.Strings(names)
		if t.key == "urgency" {
			// Every urgency, most urgent first, even with no referrals.
			names = names[:0]
			for _, u := range referral.Urgencies {
				names = append(names, string(u))
				if tables[t.key][string(u)] == nil {
					tables[t.key][string(u)] = &waitAcc{}
				}
			}
		}
		for _, name := range names {
			a := tables[t.key][name]
			row := WaitRow{Group: name, Referrals: s.Suppress.Value(a.n), Seen: s.Suppress.Value(a.seen)}
			if t.key == "urgency" {
				u := referral.Urgency(name)
				row.Group, row.StandardHours = u.Label(), int(standard(u).Hours())
			}
			if row.Seen != nil && a.seen > 0 {
				q := stats.Percentiles(a.days, 0.5, 0.9)
				row.MedianDays, row.P90Days = ptr(q[0]), ptr(q[1])
			}
			if r, ok := s.Suppress.Fraction(a.within, a.decided); ok {
				row.WithinTarget = &r
			}
			row.Suppressed = row.Referrals == nil || row.Seen == nil || (row.WithinTarget == nil && a.decided > 0)
			wt.Rows = append(wt.Rows, row)
		}
		out.Tables = append(out.Tables, wt)
	}
	err := s.record(ctx, p, audit.Event{Action: "insight.waiting",
		ObjectType: "insight", ObjectID: fmt.Sprintf("from=%s to=%s", period.From.Format("2006-01-02"), period.To.Format("2006-01-02"))})
	return out, err
}

// waitAcc adds up the waits of one group of referrals.
type waitAcc struct {
	n, seen, within, decided int
	days                     []float64
}

// waitTally is the waits by table (urgency, team, …) and group.
type waitTally map[string]map[string]*waitAcc

func newWaitTally() waitTally {
	return waitTally{"urgency": {}, "team": {}, "source": {}, "ethnicity": {}, "age": {}, "gender": {}}
}

func (t waitTally) merge(o waitTally) {
	for tbl, groups := range o {
		for group, b := range groups {
			a := t[tbl][group]
			if a == nil {
				t[tbl][group] = b
				continue
			}
			a.n, a.seen, a.within, a.decided = a.n+b.n, a.seen+b.seen, a.within+b.within, a.decided+b.decided
			a.days = append(a.days, b.days...)
		}
	}
}

// tallyWaits reads the referrals received in [from, to) and adds up their
// waits (to first contact; so far, for those not yet seen, at now) by
// urgency, team, door and the person's characteristics (age at periodTo).
func (s *Service) tallyWaits(ctx context.Context, from, to, now, periodTo time.Time, teamIDs []int64,
	standard func(referral.Urgency) time.Duration) (waitTally, error) {
	tables := newWaitTally()
	add := func(tbl, group string, seen bool, wait, waited, std time.Duration) {
		a := tables[tbl][group]
		if a == nil {
			a = &waitAcc{}
			tables[tbl][group] = a
		}
		a.n++
		if seen {
			a.seen++
			a.days = append(a.days, wait.Hours()/24)
			a.decided++
			if wait <= std {
				a.within++
			}
		} else if waited > std {
			a.decided++
		}
	}
	args := []any{from, to, now}
	filter := teamFilter(&args, "r.team_id", teamIDs)
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		teams, err := teamNameMap(ctx, tx)
		if err != nil {
			return err
		}
		// Each wait is worked out by the database, in seconds: reading the
		// two timestamps of every referral and parsing them was a fifth of
		// this view's time on SQLite. The person's characteristics are the
		// referral's copies of them (migration 0061), so the query reads
		// the waiting index alone and joins nothing.
		d := tx.Dialect
		rows, err := tx.QueryContext(ctx, `SELECT `+d.SecondsBetween("r.received_at", "r.first_contact_at")+`,
			CASE WHEN r.first_contact_at IS NULL THEN `+d.SecondsBetween("r.received_at", "$3")+` END,
			COALESCE(r.team_id, 0), r.source, r.urgency, r.person_ethnicity, COALESCE(r.person_birth_year, 0), r.person_gender
			FROM referrals r
			WHERE r.received_at >= $1 AND r.received_at < $2 AND r.status NOT IN ('declined', 'redirected')`+filter, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var waitS, waitedS sql.NullFloat64
			var source, eth, gender string
			var teamID int64
			var urgency referral.Urgency
			var by int
			if err := rows.Scan(&waitS, &waitedS, &teamID, &source, &urgency, &eth, &by, &gender); err != nil {
				return err
			}
			team, ok := teams[teamID]
			if !ok {
				team = "No team yet"
			}
			seen, wait, waited := waitS.Valid, store.Seconds(waitS.Float64), store.Seconds(waitedS.Float64)
			if !urgency.Valid() {
				urgency = referral.Routine
			}
			rs := standard(urgency)
			add("urgency", string(urgency), seen, wait, waited, rs)
			add("team", team, seen, wait, waited, rs)
			add("source", referral.Source(source).Label(), seen, wait, waited, rs)
			add("ethnicity", demographics.EthnicGroup(eth), seen, wait, waited, rs)
			add("age", demographics.AgeBand(by, periodTo), seen, wait, waited, rs)
			add("gender", demographics.Label(demographics.Genders, gender), seen, wait, waited, rs)
		}
		return rows.Err()
	})
	return tables, err
}
