package insight

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
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

// EquityRow is one group's access to peer support.
type EquityRow struct {
	Group string `json:"group"`
	// Counts as shown: "<5" or a number, or withheld.
	Caseload   string `json:"caseload"`
	Referred   string `json:"referred"`
	Started    string `json:"started"`
	ShareCase  string `json:"share_of_caseload"`
	ShareRef   string `json:"share_of_referrals"`
	ShareStart string `json:"share_of_started"`
	RateRatio  string `json:"rate_ratio"`
	CI         string `json:"rate_ratio_95ci"`
	// Bound states the rate ratio as a bound ("below 0.7", "above 1.5")
	// when a count behind it is suppressed but the finding is significant:
	// the count is hidden, never the finding.
	Bound string `json:"rate_ratio_bound,omitempty" doc:"When a count is suppressed but the group is still significantly under- or over-represented: the rate ratio as a bound, e.g. \"below 0.7\", true whatever the hidden count."`
	// Under is set when the group is referred significantly less often than
	// everyone else (the upper end of the 95% interval is below 1).
	Under bool `json:"significantly_under_represented"`
	Over  bool `json:"significantly_over_represented"`
}

// EquityTable is the breakdown by one characteristic.
type EquityTable struct {
	Key   string      `json:"characteristic"`
	Label string      `json:"label"`
	Rows  []EquityRow `json:"rows"`
	Total EquityRow   `json:"total"`
}

// Equity is the equity-of-access answer.
type Equity struct {
	From   string        `json:"from"`
	To     string        `json:"to"`
	Tables []EquityTable `json:"tables"`
}

type groupCounts struct{ n, referred, started int }

// EquityOfAccess breaks down, by age band, gender, ethnic group,
// disability, first language and setting, the people on caseload in the
// period, those referred to peer support in it and those who started it,
// with each group's referral rate ratio against everyone else. Small
// counts are suppressed so no one can be singled out.
func (s *Service) EquityOfAccess(ctx context.Context, p *app.Principal, period Period, teamIDs []int64) (Equity, error) {
	out := Equity{From: period.From.Format("2006-01-02"), To: period.To.Format("2006-01-02")}
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
	filter := teamFilter(&args, teamIDs)
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
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
			add("age", demographics.AgeBand(by, period.To), n, ref, started)
			add("gender", demographics.Label(demographics.Genders, gender), n, ref, started)
			add("ethnicity", demographics.EthnicGroup(eth), n, ref, started)
			add("disability", demographics.Label(demographics.Disabilities, dis), n, ref, started)
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
			label := account.Setting(setting).Label()
			if label == "" {
				label = "Not known"
			}
			add("setting", label, n, ref, started)
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

func teamFilter(args *[]any, teamIDs []int64) string {
	if len(teamIDs) == 0 {
		return ""
	}
	ph := make([]string, len(teamIDs))
	for i, id := range teamIDs {
		*args = append(*args, id)
		ph[i] = fmt.Sprintf("$%d", len(*args))
	}
	return " AND ce.team_id IN (" + strings.Join(ph, ", ") + ")"
}

// languageGroup groups first languages: each language as recorded,
// normalised to an initial capital; blank is "Not recorded".
func languageGroup(lang string) string {
	lang = strings.TrimSpace(lang)
	if lang == "" {
		return "Not recorded"
	}
	return strings.ToUpper(lang[:1]) + strings.ToLower(lang[1:])
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
	col := func(get func(*groupCounts) int, tot int) []string {
		vals := make([]int, len(names))
		for i, n := range names {
			vals[i] = get(groups[n])
		}
		cells, _ := s.Suppress.Row(vals, tot)
		return cells
	}
	nCells := col(func(g *groupCounts) int { return g.n }, total.n)
	refCells := col(func(g *groupCounts) int { return g.referred }, total.referred)
	startCells := col(func(g *groupCounts) int { return g.started }, total.started)
	for i, name := range names {
		g := groups[name]
		row := EquityRow{Group: name, Caseload: nCells[i], Referred: refCells[i], Started: startCells[i]}
		shown := func(cell string) bool { return cell != stats.Withheld && !strings.HasPrefix(cell, "<") }
		row.ShareCase, row.ShareRef, row.ShareStart = stats.Withheld, stats.Withheld, stats.Withheld
		if shown(row.Caseload) && total.n > 0 {
			row.ShareCase = pct(float64(g.n) / float64(total.n))
		}
		if shown(row.Referred) && total.referred > 0 {
			row.ShareRef = pct(float64(g.referred) / float64(total.referred))
		}
		if shown(row.Started) && total.started > 0 {
			row.ShareStart = pct(float64(g.started) / float64(total.started))
		}
		row.RateRatio, row.CI = stats.Withheld, stats.Withheld
		// The finding is worked out from the true counts whatever is shown:
		// a small group referred far less often is the finding that matters
		// most, and suppressing it with its count would hide exactly that.
		if rr, ok := stats.RateRatioCI(g.referred, g.n, total.referred-g.referred, total.n-g.n); ok {
			row.Under, row.Over = rr.SignificantlyLow(), rr.SignificantlyHigh()
			switch {
			case shown(row.Caseload) && shown(row.Referred):
				row.RateRatio = fmt.Sprintf("%.2f", rr.Ratio)
				row.CI = fmt.Sprintf("%.2f to %.2f", rr.Lower, rr.Upper)
			case (row.Under || row.Over) && shown(row.Caseload):
				row.Bound = s.rateRatioBound(row.Under, g.n, total)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	t.Total = EquityRow{Group: "Everyone", Caseload: s.Suppress.Count(total.n), Referred: s.Suppress.Count(total.referred),
		Started: s.Suppress.Count(total.started), ShareCase: "100%", ShareRef: "100%", ShareStart: "100%"}
	return t
}

// rateRatioBound states a significant rate ratio whose referral count is
// hidden as a bound that holds for every count the hidden cell could be
// (1 to Threshold−1), so the bound says nothing about which it is: below
// the largest upper 95% limit over those counts, rounded up to a tenth
// (never above 1, which the finding itself guarantees), or above the
// smallest lower limit, rounded down.
func (s *Service) rateRatioBound(under bool, n int, total groupCounts) string {
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
			return "below 1"
		}
		return fmt.Sprintf("below %.1f", b)
	}
	b := math.Floor(lower*10) / 10
	if math.IsInf(lower, 1) || b <= 1 {
		return "above 1"
	}
	return fmt.Sprintf("above %.1f", b)
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
	Months []string      `json:"months"`
	Teams  []CoverageRow `json:"teams"`
	All    CoverageRow   `json:"all_teams"`
}

// CoverageRow is one team's coverage by month.
type CoverageRow struct {
	Team   string          `json:"team"`
	Months []CoverageMonth `json:"months"`
}

// CoverageMonth is one month's coverage.
type CoverageMonth struct {
	Month    string `json:"month"`
	Caseload string `json:"caseload"`
	Offered  string `json:"offered"`
	Share    string `json:"share"`
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
		told, err := offerDates(ctx, tx, ends[0].AddDate(-1, 0, 0), ends[len(ends)-1].AddDate(0, 0, 1))
		if err != nil {
			return err
		}
		// One pass over the episodes open at any of the month ends, person by
		// person, so each person counts once per team and once overall.
		args := []any{ends[len(ends)-1], ends[0]}
		filter := teamFilter(&args, teamIDs)
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
	var out Coverage
	for _, m := range ends {
		out.Months = append(out.Months, m.Format("Jan 2006"))
	}
	row := func(team int64, name string) CoverageRow {
		r := CoverageRow{Team: name}
		for i := range ends {
			c := counts[key{team, i}]
			cm := CoverageMonth{Month: out.Months[i], Caseload: s.Suppress.Count(c[0]), Offered: s.Suppress.Count(c[1]), Share: stats.Withheld}
			if rate, ok := s.Suppress.Rate(c[1], c[0]); ok {
				cm.Share = rate
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

// WaitRow is waiting times for one group of referrals.
type WaitRow struct {
	Group string `json:"group"`
	// Standard is the group's waiting standard in words ("4 hours"), in the
	// table by urgency only.
	Standard     string `json:"standard,omitempty"`
	Referrals    string `json:"referrals"`
	Seen         string `json:"first_contacted"`
	MedianDays   string `json:"median_days"`
	P90Days      string `json:"p90_days"`
	WithinTarget string `json:"share_within_standard"`
}

// WaitTable is waiting times broken down one way.
type WaitTable struct {
	Key   string    `json:"by"`
	Label string    `json:"label"`
	Rows  []WaitRow `json:"rows"`
}

// Waiting is the waiting-times answer.
type Waiting struct {
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
	out := Waiting{StandardDays: int(std.Hours() / 24)}
	type acc struct {
		n, seen, within, decided int
		days                     []float64
	}
	tables := map[string]map[string]*acc{"urgency": {}, "team": {}, "source": {}, "ethnicity": {}, "age": {}, "gender": {}}
	standard := func(u referral.Urgency) time.Duration {
		switch u {
		case referral.Urgent:
			return referral.UrgentStandard
		case referral.VeryUrgent:
			return referral.VeryUrgentStandard
		}
		return std
	}
	add := func(tbl, group string, received time.Time, first *time.Time, std time.Duration) {
		a := tables[tbl][group]
		if a == nil {
			a = &acc{}
			tables[tbl][group] = a
		}
		a.n++
		if first != nil {
			d := first.Sub(received)
			a.seen++
			a.days = append(a.days, d.Hours()/24)
			a.decided++
			if d <= std {
				a.within++
			}
		} else if now.Sub(received) > std {
			a.decided++
		}
	}
	args := []any{period.From, period.end()}
	filter := ""
	if len(teamIDs) > 0 {
		filter = strings.Replace(teamFilter(&args, teamIDs), "ce.team_id", "r.team_id", 1)
	}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.received_at, r.first_contact_at, COALESCE(t.name, 'No team yet'), r.source,
			pe.ethnicity, COALESCE(pe.birth_year, 0), pe.gender, r.urgency
			FROM referrals r JOIN people pe ON pe.id = r.person_id LEFT JOIN teams t ON t.id = r.team_id
			WHERE r.received_at >= $1 AND r.received_at < $2 AND r.status NOT IN ('declined', 'redirected')`+filter, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var received time.Time
			var first sql.NullTime
			var team, source, eth, gender string
			var urgency referral.Urgency
			var by int
			if err := rows.Scan(&received, &first, &team, &source, &eth, &by, &gender, &urgency); err != nil {
				return err
			}
			var fp *time.Time
			if first.Valid {
				fp = &first.Time
			}
			if !urgency.Valid() {
				urgency = referral.Routine
			}
			rs := standard(urgency)
			add("urgency", string(urgency), received, fp, rs)
			add("team", team, received, fp, rs)
			add("source", referral.Source(source).Label(), received, fp, rs)
			add("ethnicity", demographics.EthnicGroup(eth), received, fp, rs)
			add("age", demographics.AgeBand(by, period.To), received, fp, rs)
			add("gender", demographics.Label(demographics.Genders, gender), received, fp, rs)
		}
		return rows.Err()
	})
	if err != nil {
		return out, err
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
					tables[t.key][string(u)] = &acc{}
				}
			}
		}
		for _, name := range names {
			a := tables[t.key][name]
			group, standardWords := name, ""
			if t.key == "urgency" {
				u := referral.Urgency(name)
				group, standardWords = u.Label(), durationWords(standard(u))
			}
			row := WaitRow{Group: group, Standard: standardWords, Referrals: s.Suppress.Count(a.n), Seen: s.Suppress.Count(a.seen),
				MedianDays: stats.Withheld, P90Days: stats.Withheld, WithinTarget: stats.Withheld}
			if !s.Suppress.Suppressed(a.seen) && a.seen > 0 {
				row.MedianDays = daysWords(stats.Median(a.days))
				row.P90Days = daysWords(stats.Percentile(a.days, 0.9))
			}
			if r, ok := s.Suppress.Rate(a.within, a.decided); ok {
				row.WithinTarget = r
			}
			wt.Rows = append(wt.Rows, row)
		}
		out.Tables = append(out.Tables, wt)
	}
	err = s.record(ctx, p, audit.Event{Action: "insight.waiting",
		ObjectType: "insight", ObjectID: fmt.Sprintf("from=%s to=%s", period.From.Format("2006-01-02"), period.To.Format("2006-01-02"))})
	return out, err
}

// daysWords formats a number of days: whole days from two days up, and
// to a tenth below that, so waits measured in hours (urgent and very
// urgent referrals) do not all read "0".
func daysWords(d float64) string {
	if d < 2 {
		return fmt.Sprintf("%.1f", d)
	}
	return fmt.Sprintf("%.0f", d)
}

// durationWords says a waiting standard in words: "4 hours", "28 days".
func durationWords(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
