package insight

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// The caseload roll-up (written by the caseload package) keeps, per
// co-ordinator (by email) and team, and per month, how many episodes
// started and ended. The number of episodes of a unit that overlap a
// period [F, T] is then
//
//	(episodes started by T) − (episodes ended before F)
//
// — two running totals read from the roll-up up to the months of T and F,
// plus the episodes starting or ending inside those two part-months, read
// from the episodes themselves through their date indexes. A person with
// several episodes for the same unit would be counted more than once, so
// such episodes carry a flag and the overcount is taken off with a small
// query over the flagged ones.

func yearMonth(t time.Time) int { return t.Year()*100 + int(t.Month()) }

// directUnitCounts counts, per unit, the distinct people with an episode
// overlapping the period straight from the episodes: slower, used only
// while the roll-up is not built.
func directUnitCounts(ctx context.Context, tx *store.Tx, kind string, from, to time.Time, teams []int64) (map[string]int, error) {
	unitCol := "ce.coordinator_email"
	if kind == "team" {
		unitCol = "CAST(ce.team_id AS TEXT)"
	}
	args := []any{to, from}
	f := teamFilter(&args, "ce.team_id", teams)
	rows, err := tx.QueryContext(ctx, `SELECT `+unitCol+`, COUNT(DISTINCT ce.person_id) FROM caseload_episodes ce
		WHERE ce.start_date <= $1 AND (ce.end_date IS NULL OR ce.end_date >= $2)`+f+` GROUP BY 1`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := map[string]int{}
	for rows.Next() {
		var unit string
		var c int
		if err := rows.Scan(&unit, &c); err != nil {
			return nil, err
		}
		n[unit] = c
	}
	return n, rows.Err()
}

// unitCounts returns, per unit, the number of distinct people with an
// episode overlapping the period: from the roll-up the caseload package
// keeps, or, while it is being (re)built, from the episodes themselves.
// Reading never builds the roll-up (that happens after an import and in
// the background job), so a view never takes the write lock.
func unitCounts(ctx context.Context, tx *store.Tx, kind string, from, to time.Time, teams []int64) (map[string]int, error) {
	var built bool
	if err := tx.QueryRowContext(ctx, "SELECT built FROM caseload_rollup_state WHERE id = 1").Scan(&built); err != nil {
		return nil, err
	}
	if !built {
		return directUnitCounts(ctx, tx, kind, from, to, teams)
	}
	monthStartT := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	monthStartF := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	n := map[string]int{}
	addRows := func(q string, sign int, args ...any) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var unit string
			var c int
			if err := rows.Scan(&unit, &c); err != nil {
				return err
			}
			n[unit] += sign * c
		}
		return rows.Err()
	}
	unitCol := "ce.coordinator_email"
	if kind == "team" {
		unitCol = "CAST(ce.team_id AS TEXT)"
	}
	// Running totals before the two edge months.
	args := []any{kind, yearMonth(to), yearMonth(from)}
	rollupTeams := ""
	if len(teams) > 0 {
		rollupTeams = teamFilter(&args, "team_id", teams)
	}
	if err := addRows(`SELECT unit, SUM(CASE WHEN month < $2 THEN starts ELSE 0 END) - SUM(CASE WHEN month < $3 THEN ends ELSE 0 END)
		FROM caseload_rollup WHERE kind = $1`+rollupTeams+` GROUP BY unit`, 1, args...); err != nil {
		return nil, err
	}
	// Episodes starting in T's month up to T, and ending in F's month before F.
	args = []any{monthStartT, to}
	f := teamFilter(&args, "ce.team_id", teams)
	if err := addRows(`SELECT `+unitCol+`, COUNT(*) FROM caseload_episodes ce WHERE ce.start_date >= $1 AND ce.start_date <= $2`+f+` GROUP BY 1`, 1, args...); err != nil {
		return nil, err
	}
	args = []any{monthStartF, from}
	f = teamFilter(&args, "ce.team_id", teams)
	if err := addRows(`SELECT `+unitCol+`, COUNT(*) FROM caseload_episodes ce WHERE ce.end_date >= $1 AND ce.end_date < $2`+f+` GROUP BY 1`, -1, args...); err != nil {
		return nil, err
	}
	// A person with several overlapping episodes for one unit counts once:
	// take off the extra episodes, found among the flagged ones overlapping
	// the period (open ones, then ones ending after it starts).
	dup := "ce.dup_coordinator"
	if kind == "team" {
		dup = "ce.dup_team"
	}
	type pair struct {
		unit   string
		person int64
	}
	seen := map[pair]bool{}
	for _, half := range []struct {
		cond string
		args []any
	}{{"ce.end_date IS NULL", []any{to}}, {"ce.end_date >= $2", []any{to, from}}} {
		qargs := half.args
		f := teamFilter(&qargs, "ce.team_id", teams)
		q := `SELECT ` + unitCol + `, ce.person_id FROM caseload_episodes ce WHERE ` + dup + ` AND ` + half.cond + ` AND ce.start_date <= $1` + f
		rows, err := tx.QueryContext(ctx, q, qargs...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p pair
			if err := rows.Scan(&p.unit, &p.person); err != nil {
				rows.Close()
				return nil, err
			}
			if seen[p] {
				n[p.unit]--
			}
			seen[p] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for u, c := range n {
		if c <= 0 {
			delete(n, u)
		}
	}
	return n, nil
}
