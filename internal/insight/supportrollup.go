package insight

import (
	"context"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// supportCounts are the support report's figures from the contacts of a
// period: distinct workers; contacts, minutes and counts by mode, setting
// and kind of support; and per person supported, their contacts and their
// weeks of support (the medians need each person's figures, not sums).
type supportCounts struct {
	workers, contacts, minutes int
	perPerson, weeks           []float64
	types, modes, settings     map[string]int
}

func newSupportCounts() supportCounts {
	return supportCounts{types: map[string]int{}, modes: map[string]int{}, settings: map[string]int{}}
}

// directSupportCounts counts straight from the contacts: one pass over the
// period's contacts, per person. Used while the roll-up is not built, and
// the reference the roll-up is tested against.
func directSupportCounts(ctx context.Context, tx *store.Tx, from, to time.Time, teamIDs []int64) (supportCounts, error) {
	sc := newSupportCounts()
	within := func(col string) (*store.Args, string) { return periodTeams(tx, from, to, teamIDs, col) }
	a, teams := within("r.team_id")
	contactsIn := ` FROM contacts c JOIN referrals r ON r.id = c.referral_id WHERE c.at >= $1 AND c.at < $2 AND c.error_at IS NULL` + teams
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT c.worker_user_id)`+contactsIn, a.Values()...).Scan(&sc.workers); err != nil {
		return sc, err
	}
	// Per person: how many, how long, from their first contact to the end
	// of their support (or of the period), and how many of each mode,
	// setting and kind of support (a contact's kinds are comma-separated
	// codes).
	pa, pteams := within("r.team_id")
	rcs := referral.SupportRollupColumns()
	var cols []string
	for _, rc := range rcs {
		cols = append(cols, "SUM("+rc.ContactCountExpr("c")+")")
	}
	rows, err := tx.QueryContext(ctx, `SELECT COUNT(*), COALESCE(SUM(c.minutes), 0), MIN(COALESCE(r.first_contact_at, c.at)),
		CASE WHEN SUM(CASE WHEN r.closed_at IS NULL OR r.closed_at >= $2 THEN 1 ELSE 0 END) > 0 THEN NULL ELSE MAX(r.closed_at) END, `+strings.Join(cols, ", ")+`
		FROM contacts c JOIN referrals r ON r.id = c.referral_id WHERE c.at >= $1 AND c.at < $2 AND c.error_at IS NULL`+pteams+` GROUP BY r.person_id`, pa.Values()...)
	if err != nil {
		return sc, err
	}
	defer rows.Close()
	counts := make([]int, len(rcs))
	for rows.Next() {
		var n, mins int
		var first, ended store.AnyTime
		dest := []any{&n, &mins, &first, &ended}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return sc, err
		}
		sc.contacts, sc.minutes = sc.contacts+n, sc.minutes+mins
		sc.add(rcs, counts)
		sc.person(n, first, ended, to)
	}
	return sc, rows.Err()
}

// periodTeams gives a query's parameters (the period as $1 and $2, then
// the teams) and its team condition on col, when teams are chosen.
func periodTeams(tx *store.Tx, from, to time.Time, teamIDs []int64, col string) (*store.Args, string) {
	a := store.NewArgs(from, to)
	if len(teamIDs) == 0 {
		return a, ""
	}
	return a, " AND " + col + " IN " + a.IDs(tx.Dialect, teamIDs)
}

// add adds a row's counts by code.
func (sc *supportCounts) add(rcs []referral.RollupColumn, counts []int) {
	for i, rc := range rcs {
		switch rc.Dim {
		case "mode":
			sc.modes[rc.Code] += counts[i]
		case "setting":
			sc.settings[rc.Code] += counts[i]
		default:
			sc.types[rc.Code] += counts[i]
		}
	}
}

// person adds one person supported: n contacts, from first to the end of
// their support (ended; the end of the period when it goes on).
func (sc *supportCounts) person(n int, first, ended store.AnyTime, to time.Time) {
	sc.perPerson = append(sc.perPerson, float64(n))
	end := to
	if ended.Valid {
		end = ended.Time
	}
	if first.Valid {
		sc.weeks = append(sc.weeks, max(0, end.Sub(first.Time).Hours()/24/7))
	}
}

// segment is a stretch of time [from, to) counted from the contacts
// themselves, added (sign 1) or taken off (sign -1).
type segment struct {
	from, to time.Time
	sign     int
}

// supportSegments splits a period into whole months read from the roll-up
// (months lo to hi as YYYYMM; none when lo > hi) and the part-months at its
// edges, counted from the contacts: a part-month of at most half a month
// directly, a longer one as its whole month less the days outside the
// period, so at most about a month of contacts is read one by one.
func supportSegments(from, to time.Time) (lo, hi int, segs []segment) {
	from, to = from.UTC(), to.UTC()
	lo, hi = 1, 0
	include := func(m time.Time) {
		if lo > hi {
			lo = yearMonth(m)
		}
		hi = yearMonth(m)
	}
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		next := m.AddDate(0, 1, 0)
		s, e := m, next
		if from.After(s) {
			s = from
		}
		if to.Before(e) {
			e = to
		}
		switch {
		case s.Equal(m) && e.Equal(next):
			include(m)
		case e.Sub(s) <= next.Sub(m)/2:
			segs = append(segs, segment{s, e, 1})
		default:
			include(m)
			if s.After(m) {
				segs = append(segs, segment{m, s, -1})
			}
			if e.Before(next) {
				segs = append(segs, segment{e, next, -1})
			}
		}
	}
	return lo, hi, segs
}

// rollupSupportCounts counts from the roll-ups the referral package keeps.
// The totals (contacts, minutes, modes, settings, kinds of support) are the
// team days of the period's whole days, plus its part-days from the
// contacts. Per person: the contacts of each referral and worker are the
// period's whole months from support_rollup netted with its part-months
// from the contacts (contacts_at covers that count), then grouped by
// person here with the person, team, first contact and end of support read
// from the referral now, so a transfer, merge or ending needs no change to
// the roll-up. Every figure is the direct count's
// (TestSupportRollupMatchesDirectCount).
func rollupSupportCounts(ctx context.Context, tx *store.Tx, from, to time.Time, teamIDs []int64) (supportCounts, error) {
	sc := newSupportCounts()
	if !from.Before(to) {
		return sc, nil
	}
	if err := teamDayTotals(ctx, tx, &sc, from, to, teamIDs); err != nil {
		return sc, err
	}
	type pair struct{ referral, worker int64 }
	type ref struct {
		person        int64
		first, closed store.AnyTime
	}
	net := map[pair]int{}
	refs := map[int64]*ref{}
	// add nets one source's contacts per referral and worker (grouped as
	// the sub-select g), with the referral as it is now, in the teams.
	add := func(g string, sign int, args ...any) error {
		a := store.NewArgs(args...)
		teams := ""
		if len(teamIDs) > 0 {
			teams = " WHERE r.team_id IN " + a.IDs(tx.Dialect, teamIDs)
		}
		rows, err := tx.QueryContext(ctx, `SELECT g.referral_id, g.worker_user_id, g.n, r.person_id, r.first_contact_at, r.closed_at
			FROM (`+g+`) g JOIN referrals r ON r.id = g.referral_id`+teams, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k pair
			var n int
			var r ref
			if err := rows.Scan(&k.referral, &k.worker, &n, &r.person, &r.first, &r.closed); err != nil {
				return err
			}
			net[k] += sign * n
			if refs[k.referral] == nil {
				refs[k.referral] = &r
			}
		}
		return rows.Err()
	}
	lo, hi, segs := supportSegments(from, to)
	if lo <= hi {
		if err := add(`SELECT referral_id, worker_user_id, SUM(n) AS n FROM support_rollup WHERE month >= $1 AND month <= $2 GROUP BY referral_id, worker_user_id`, 1, lo, hi); err != nil {
			return sc, err
		}
	}
	for _, sg := range segs {
		if err := add(`SELECT c.referral_id, c.worker_user_id, COUNT(*) AS n FROM contacts c WHERE c.error_at IS NULL AND c.at >= $1 AND c.at < $2
			GROUP BY c.referral_id, c.worker_user_id`, sg.sign, sg.from, sg.to); err != nil {
			return sc, err
		}
	}
	var unfirst []int64
	listed := map[int64]bool{}
	for k, n := range net {
		if r := refs[k.referral]; n > 0 && !r.first.Valid && !listed[k.referral] {
			unfirst, listed[k.referral] = append(unfirst, k.referral), true
		}
	}
	// Without a first contact recorded, the earliest of the period's
	// contacts (as the direct count takes it).
	if len(unfirst) > 0 {
		a := store.NewArgs(from, to)
		rows, err := tx.QueryContext(ctx, `SELECT c.referral_id, MIN(c.at) FROM contacts c WHERE c.referral_id IN `+a.IDs(tx.Dialect, unfirst)+
			` AND c.at >= $1 AND c.at < $2 AND c.error_at IS NULL GROUP BY c.referral_id`, a.Values()...)
		if err != nil {
			return sc, err
		}
		for rows.Next() {
			var id int64
			var first store.AnyTime
			if err := rows.Scan(&id, &first); err != nil {
				rows.Close()
				return sc, err
			}
			refs[id].first = first
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return sc, err
		}
	}
	type person struct {
		n           int
		first, last store.AnyTime
		open        bool
	}
	people := map[int64]*person{}
	workers := map[int64]bool{}
	for k, n := range net {
		r := refs[k.referral]
		if n <= 0 || r == nil {
			continue
		}
		workers[k.worker] = true
		p := people[r.person]
		if p == nil {
			p = &person{}
			people[r.person] = p
		}
		p.n += n
		if r.first.Valid && (!p.first.Valid || r.first.Time.Before(p.first.Time)) {
			p.first = r.first
		}
		// Support goes on past the period if any of the person's referrals
		// with contacts in it is open, or ends after it.
		if !r.closed.Valid || !r.closed.Time.Before(to) {
			p.open = true
		} else if !p.last.Valid || r.closed.Time.After(p.last.Time) {
			p.last = r.closed
		}
	}
	sc.workers = len(workers)
	for _, p := range people {
		ended := p.last
		if p.open {
			ended = store.AnyTime{}
		}
		sc.person(p.n, p.first, ended, to)
	}
	return sc, nil
}

// teamDayTotals adds the period's totals: its whole days (UTC) from the
// team days, the part-days at either end from the contacts.
func teamDayTotals(ctx context.Context, tx *store.Tx, sc *supportCounts, from, to time.Time, teamIDs []int64) error {
	rcs := referral.SupportRollupColumns()
	from, to = from.UTC(), to.UTC()
	first := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	if first.Before(from) {
		first = first.AddDate(0, 0, 1)
	}
	last := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	total := func(q string, a *store.Args) error {
		counts := make([]int, len(rcs))
		var n, mins int
		dest := []any{&n, &mins}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		if err := tx.QueryRowContext(ctx, q, a.Values()...).Scan(dest...); err != nil {
			return err
		}
		sc.contacts, sc.minutes = sc.contacts+n, sc.minutes+mins
		sc.add(rcs, counts)
		return nil
	}
	direct := func(s, e time.Time) error {
		if !s.Before(e) {
			return nil
		}
		sums := []string{"COUNT(*)", "COALESCE(SUM(c.minutes), 0)"}
		for _, rc := range rcs {
			sums = append(sums, "COALESCE(SUM("+rc.ContactCountExpr("c")+"), 0)")
		}
		a := store.NewArgs(s, e)
		teams := ""
		if len(teamIDs) > 0 {
			teams = " AND r.team_id IN " + a.IDs(tx.Dialect, teamIDs)
		}
		return total(`SELECT `+strings.Join(sums, ", ")+` FROM contacts c JOIN referrals r ON r.id = c.referral_id
			WHERE c.error_at IS NULL AND c.at >= $1 AND c.at < $2`+teams, a)
	}
	if !first.Before(last) {
		return direct(from, to)
	}
	sums := []string{"COALESCE(SUM(n), 0)", "COALESCE(SUM(minutes), 0)"}
	for _, rc := range rcs {
		sums = append(sums, "COALESCE(SUM("+rc.Column+"), 0)")
	}
	day := func(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }
	a := store.NewArgs(day(first), day(last))
	teams := ""
	if len(teamIDs) > 0 {
		teams = " AND team_id IN " + a.IDs(tx.Dialect, teamIDs)
	}
	if err := total(`SELECT `+strings.Join(sums, ", ")+` FROM support_team_days WHERE day >= $1 AND day < $2`+teams, a); err != nil {
		return err
	}
	if err := direct(from, first); err != nil {
		return err
	}
	return direct(last, to)
}
