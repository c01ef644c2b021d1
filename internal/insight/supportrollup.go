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
	within := func(col string) (*store.Args, string) {
		a := store.NewArgs(from, to)
		if len(teamIDs) == 0 {
			return a, ""
		}
		return a, " AND " + col + " IN " + a.IDs(tx.Dialect, teamIDs)
	}
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

// rollupSupportCounts counts from the support roll-up the referral package
// keeps (per referral, worker and month): the period's whole months from
// the roll-up and its edges from the contacts, netted per referral and
// worker in one statement, then per person here — the person, team, first
// contact and end of support read from the referral now, so a transfer,
// merge or ending needs no change to the roll-up. Every figure is the
// direct count's (TestSupportRollupMatchesDirectCount).
func rollupSupportCounts(ctx context.Context, tx *store.Tx, from, to time.Time, teamIDs []int64) (supportCounts, error) {
	sc := newSupportCounts()
	rcs := referral.SupportRollupColumns()
	a := store.NewArgs(from, to)
	teams := ""
	if len(teamIDs) > 0 {
		teams = " AND %s IN (SELECT tr.id FROM referrals tr WHERE tr.team_id IN " + a.IDs(tx.Dialect, teamIDs) + ")"
	}
	lo, hi, segs := supportSegments(from, to)
	var parts []string
	if lo <= hi {
		cols := []string{"referral_id", "worker_user_id", "n", "minutes"}
		for _, rc := range rcs {
			cols = append(cols, rc.Column)
		}
		parts = append(parts, `SELECT `+strings.Join(cols, ", ")+` FROM support_rollup WHERE month >= `+a.Add(lo)+` AND month <= `+a.Add(hi)+
			strings.ReplaceAll(teams, "%s", "referral_id"))
	}
	for _, sg := range segs {
		sign := "1"
		if sg.sign < 0 {
			sign = "-1"
		}
		cols := []string{"c.referral_id", "c.worker_user_id", sign + " AS n", sign + " * c.minutes AS minutes"}
		for _, rc := range rcs {
			cols = append(cols, sign+" * ("+rc.ContactCountExpr("c")+") AS "+rc.Column)
		}
		parts = append(parts, `SELECT `+strings.Join(cols, ", ")+` FROM contacts c WHERE c.error_at IS NULL AND c.at >= `+a.Add(sg.from)+` AND c.at < `+a.Add(sg.to)+
			strings.ReplaceAll(teams, "%s", "c.referral_id"))
	}
	if len(parts) == 0 {
		return sc, nil
	}
	sums := []string{"SUM(n)", "SUM(minutes)"}
	outer := []string{"g.n", "g.m"}
	for i, rc := range rcs {
		sums = append(sums, "SUM("+rc.Column+") AS k"+string(rune('a'+i)))
		outer = append(outer, "g.k"+string(rune('a'+i)))
	}
	sums[0], sums[1] = "SUM(n) AS n", "SUM(minutes) AS m"
	// The first contact is the referral's; were it not recorded, the
	// earliest of the period's contacts (as the direct count takes it).
	rows, err := tx.QueryContext(ctx, `SELECT g.referral_id, g.worker_user_id, r.person_id,
		COALESCE(r.first_contact_at, (SELECT MIN(c.at) FROM contacts c WHERE c.referral_id = g.referral_id AND c.at >= $1 AND c.at < $2 AND c.error_at IS NULL)),
		r.closed_at, `+strings.Join(outer, ", ")+`
		FROM (SELECT p.referral_id, p.worker_user_id, `+strings.Join(sums, ", ")+` FROM (`+strings.Join(parts, " UNION ALL ")+`) p
			GROUP BY p.referral_id, p.worker_user_id HAVING SUM(n) > 0) g
		JOIN referrals r ON r.id = g.referral_id`, a.Values()...)
	if err != nil {
		return sc, err
	}
	defer rows.Close()
	type person struct {
		n           int
		first, last store.AnyTime
		open        bool
	}
	people := map[int64]*person{}
	var order []int64
	workers := map[int64]bool{}
	counts := make([]int, len(rcs))
	for rows.Next() {
		var rid, worker, pid int64
		var n, mins int
		var first, closed store.AnyTime
		dest := []any{&rid, &worker, &pid, &first, &closed, &n, &mins}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return sc, err
		}
		workers[worker] = true
		sc.contacts, sc.minutes = sc.contacts+n, sc.minutes+mins
		sc.add(rcs, counts)
		p := people[pid]
		if p == nil {
			p = &person{}
			people[pid] = p
			order = append(order, pid)
		}
		p.n += n
		if first.Valid && (!p.first.Valid || first.Time.Before(p.first.Time)) {
			p.first = first
		}
		// Support goes on past the period if any of the person's referrals
		// with contacts in it is open, or ends after it.
		if !closed.Valid || !closed.Time.Before(to) {
			p.open = true
		} else if !p.last.Valid || closed.Time.After(p.last.Time) {
			p.last = closed
		}
	}
	if err := rows.Err(); err != nil {
		return sc, err
	}
	sc.workers = len(workers)
	for _, pid := range order {
		p := people[pid]
		ended := p.last
		if p.open {
			ended = store.AnyTime{}
		}
		sc.person(p.n, p.first, ended, to)
	}
	return sc, nil
}
