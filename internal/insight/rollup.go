package insight

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// The caseload roll-up keeps, per co-ordinator (by email) and team, and per
// month, how many episodes started and ended. The number of episodes of a
// unit that overlap a period [F, T] is then
//
//	(episodes started by T) − (episodes ended before F)
//
// — two running totals read from the roll-up up to the months of T and F,
// plus the episodes starting or ending inside those two part-months, read
// from the episodes themselves through their date indexes. A person with
// several episodes for the same unit would be counted more than once, so
// such episodes carry a flag and the overcount is taken off with a small
// query over the flagged ones.

type rollupKey struct {
	kind, unit string
	team       int64
	month      int
}

func yearMonth(t time.Time) int { return t.Year()*100 + int(t.Month()) }

// rollupDelta gathers changes to the roll-up from one import batch.
type rollupDelta map[rollupKey][2]int

func (d rollupDelta) add(e episode, start, end int) {
	for _, k := range []rollupKey{{"coordinator", e.email, e.teamID, 0}, {"team", fmt.Sprint(e.teamID), e.teamID, 0}} {
		if start != 0 {
			k.month = yearMonth(e.start)
			v := d[k]
			v[0] += start
			d[k] = v
		}
		if end != 0 && e.end != nil {
			k.month = yearMonth(*e.end)
			v := d[k]
			v[1] += end
			d[k] = v
		}
	}
}

// rollupBuilt reports whether the roll-up covers every episode.
func rollupBuilt(ctx context.Context, tx *store.Tx) (bool, error) {
	var built bool
	err := tx.QueryRowContext(ctx, "SELECT built FROM caseload_rollup_state WHERE id = 1").Scan(&built)
	return built, err
}

// apply writes a batch's changes to the roll-up and flags episodes that
// share a person with another episode of the same co-ordinator or team.
// When the roll-up has not been built yet there is nothing to keep up to
// date: the first build will count these episodes too.
func (d rollupDelta) apply(ctx context.Context, tx *store.Tx, persons []int64) error {
	built, err := rollupBuilt(ctx, tx)
	if err != nil || !built {
		return err
	}
	for k, v := range d {
		if v == [2]int{} {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO caseload_rollup (kind, unit, team_id, month, starts, ends) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (kind, unit, team_id, month) DO UPDATE SET starts = caseload_rollup.starts + $5, ends = caseload_rollup.ends + $6`,
			k.kind, k.unit, k.team, k.month, v[0], v[1]); err != nil {
			return err
		}
	}
	if err := flagDuplicates(ctx, tx, persons); err != nil {
		return err
	}
	for _, table := range []string{"referrals", "offers"} {
		if err := referral.RefreshCaseloadFlags(ctx, tx, table, 0, persons); err != nil {
			return err
		}
	}
	return nil
}

// flagDuplicates sets the duplicate flags for the given people's episodes
// (all episodes when persons is nil).
func flagDuplicates(ctx context.Context, tx *store.Tx, persons []int64) error {
	filter, args := "", []any{}
	if persons != nil {
		if len(persons) == 0 {
			return nil
		}
		ph := make([]string, len(persons))
		for i, p := range persons {
			args = append(args, p)
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		filter = " AND person_id IN (" + strings.Join(ph, ", ") + ")"
	}
	for _, q := range []string{
		`UPDATE caseload_episodes SET dup_coordinator = TRUE WHERE dup_coordinator = FALSE` + filter + ` AND (coordinator_email, person_id) IN
			(SELECT coordinator_email, person_id FROM caseload_episodes WHERE TRUE` + filter + ` GROUP BY coordinator_email, person_id HAVING COUNT(*) > 1)`,
		`UPDATE caseload_episodes SET dup_team = TRUE WHERE dup_team = FALSE` + filter + ` AND (team_id, person_id) IN
			(SELECT team_id, person_id FROM caseload_episodes WHERE TRUE` + filter + ` GROUP BY team_id, person_id HAVING COUNT(*) > 1)`,
	} {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// RebuildRollup recounts the whole roll-up from the episodes. Run after
// bulk loads that write episodes directly; insight views also run it when
// the roll-up has never been built.
func (s *Service) RebuildRollup(ctx context.Context) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error { return rebuildRollup(ctx, tx) })
}

func rebuildRollup(ctx context.Context, tx *store.Tx) error {
	start, end := tx.Dialect.YearMonth("start_date"), tx.Dialect.YearMonth("end_date")
	for _, q := range []string{
		"DELETE FROM caseload_rollup",
		`INSERT INTO caseload_rollup (kind, unit, team_id, month, starts, ends)
		SELECT kind, unit, team_id, month, SUM(s), SUM(e) FROM (
			SELECT 'coordinator' AS kind, coordinator_email AS unit, team_id, ` + start + ` AS month, 1 AS s, 0 AS e FROM caseload_episodes
			UNION ALL SELECT 'coordinator', coordinator_email, team_id, ` + end + `, 0, 1 FROM caseload_episodes WHERE end_date IS NOT NULL
			UNION ALL SELECT 'team', CAST(team_id AS TEXT), team_id, ` + start + `, 1, 0 FROM caseload_episodes
			UNION ALL SELECT 'team', CAST(team_id AS TEXT), team_id, ` + end + `, 0, 1 FROM caseload_episodes WHERE end_date IS NOT NULL
		) x GROUP BY kind, unit, team_id, month`,
		"UPDATE caseload_episodes SET dup_coordinator = FALSE, dup_team = FALSE WHERE dup_coordinator OR dup_team",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuilding the caseload roll-up: %w", err)
		}
	}
	if err := flagDuplicates(ctx, tx, nil); err != nil {
		return err
	}
	for _, table := range []string{"referrals", "offers"} {
		if err := referral.RefreshCaseloadFlags(ctx, tx, table, 0, nil); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET built = TRUE WHERE id = 1")
	return err
}

// ensureRollup builds the roll-up if it has never been built.
func (s *Service) ensureRollup(ctx context.Context) error {
	var built bool
	if err := s.DB.QueryRow(ctx, "SELECT built FROM caseload_rollup_state WHERE id = 1").Scan(&built); err != nil || built {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if built, err := rollupBuilt(ctx, tx); err != nil || built {
			return err
		}
		return rebuildRollup(ctx, tx)
	})
}

// MarkRollupStale records that episodes were written without keeping the
// roll-up up to date; the next insight view rebuilds it.
func MarkRollupStale(ctx context.Context, tx *store.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET built = FALSE WHERE id = 1")
	return err
}

// unitCounts returns, per unit, the number of distinct people with an
// episode overlapping the period, from the roll-up.
func unitCounts(ctx context.Context, tx *store.Tx, kind string, from, to time.Time, teams []int64) (map[string]int, error) {
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
		rollupTeams = strings.Replace(teamFilter(&args, teams), "ce.team_id", "team_id", 1)
	}
	if err := addRows(`SELECT unit, SUM(CASE WHEN month < $2 THEN starts ELSE 0 END) - SUM(CASE WHEN month < $3 THEN ends ELSE 0 END)
		FROM caseload_rollup WHERE kind = $1`+rollupTeams+` GROUP BY unit`, 1, args...); err != nil {
		return nil, err
	}
	// Episodes starting in T's month up to T, and ending in F's month before F.
	args = []any{monthStartT, to}
	f := teamFilter(&args, teams)
	if err := addRows(`SELECT `+unitCol+`, COUNT(*) FROM caseload_episodes ce WHERE ce.start_date >= $1 AND ce.start_date <= $2`+f+` GROUP BY 1`, 1, args...); err != nil {
		return nil, err
	}
	args = []any{monthStartF, from}
	f = teamFilter(&args, teams)
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
		f := teamFilter(&qargs, teams)
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
