package caseload

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

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

// applyDelta writes a batch's changes to the roll-up (the duplicate flags
// were set as the episodes were stored), once the roll-up is built: until
// then the build at the end of the import counts these episodes too. It
// runs last in a batch's transaction, beside the span counts: on
// PostgreSQL an import's batches run at once and take turns at these
// shared rows, each holding them only until it commits.
func applyDelta(ctx context.Context, tx *store.Tx, d rollupDelta) error {
	keys := slices.SortedFunc(maps.Keys(d), func(a, b rollupKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.unit, b.unit), cmp.Compare(a.team, b.team), cmp.Compare(a.month, b.month))
	})
	var rows [][]any
	for _, k := range keys {
		if v := d[k]; v != [2]int{} {
			rows = append(rows, []any{k.kind, k.unit, k.team, k.month, v[0], v[1]})
		}
	}
	return upsert(ctx, tx, rows, "caseload_rollup (kind, unit, team_id, month, starts, ends)",
		[]string{"text", "text", "bigint", "integer", "integer", "integer"}, "kind, unit, team_id, month",
		"starts = caseload_rollup.starts + excluded.starts, ends = caseload_rollup.ends + excluded.ends")
}

func (s *Service) refreshFlags(ctx context.Context, tx *store.Tx, persons []int64) error {
	if s.RefreshFlags == nil {
		return fmt.Errorf("caseload: RefreshFlags is not wired: referrals' and offers' caseload flags would go stale")
	}
	return s.RefreshFlags(ctx, tx, persons)
}

// flagDuplicates sets the duplicate flags of every episode, for a rebuild;
// an import sets them as it stores episodes (markDuplicates).
func flagDuplicates(ctx context.Context, tx *store.Tx) error {
	for _, q := range []string{
		`UPDATE caseload_episodes SET dup_coordinator = TRUE WHERE dup_coordinator = FALSE AND (coordinator_email, person_id) IN
			(SELECT coordinator_email, person_id FROM caseload_episodes GROUP BY coordinator_email, person_id HAVING COUNT(*) > 1)`,
		`UPDATE caseload_episodes SET dup_team = TRUE WHERE dup_team = FALSE AND (team_id, person_id) IN
			(SELECT team_id, person_id FROM caseload_episodes GROUP BY team_id, person_id HAVING COUNT(*) > 1)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// RebuildRollup recounts the whole roll-up and the spans from the
// episodes. Run after bulk loads that write episodes or offers directly.
func (s *Service) RebuildRollup(ctx context.Context) error {
	if _, err := s.DB.Exclusive(ctx, store.LockCaseload, true, func(tx *store.Tx) error {
		if err := s.rebuildRollup(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET spans_built = FALSE, spans_upto = 0 WHERE id = 1")
		return err
	}); err != nil {
		return err
	}
	return buildSpans(ctx, s.DB)
}

func (s *Service) rebuildRollup(ctx context.Context, tx *store.Tx) error {
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
	if err := flagDuplicates(ctx, tx); err != nil {
		return err
	}
	if err := s.refreshFlags(ctx, tx, nil); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET built = TRUE WHERE id = 1")
	return err
}

// RebuildIfStale builds the roll-up, then the spans, if they do not count
// every episode (never built, or marked stale by a bulk load). It runs from
// the background job cmd/mutual starts; readers never build either. The
// check is repeated under the caseload lock (every instance runs the job),
// so two callers at once build each once.
func (s *Service) RebuildIfStale(ctx context.Context) error {
	if err := s.rebuildRollupIfStale(ctx); err != nil {
		return err
	}
	// Read first: most minutes there is nothing to build, and the build
	// takes the write lock.
	if built, err := SpansBuilt(ctx, s.DB); err != nil || built {
		return err
	}
	return buildSpans(ctx, s.DB)
}

// rebuildRollupIfStale builds the roll-up (not the spans) if it is stale:
// after an import, which leaves the spans, when stale, to the background
// job, so a large first import is not held up by them.
func (s *Service) rebuildRollupIfStale(ctx context.Context) error {
	built, err := Built(ctx, s.DB)
	if err != nil || built {
		return err
	}
	_, err = s.DB.Exclusive(ctx, store.LockCaseload, true, func(tx *store.Tx) error {
		if built, err := rollupBuilt(ctx, tx); err != nil || built {
			return err
		}
		return s.rebuildRollup(ctx, tx)
	})
	return err
}

// Built reports whether the roll-up counts every episode. While it does
// not, readers count from the episodes themselves.
func Built(ctx context.Context, db *store.DB) (bool, error) {
	var built bool
	err := db.QueryRow(ctx, "SELECT built FROM caseload_rollup_state WHERE id = 1").Scan(&built)
	return built, err
}

// MarkRollupStale records that episodes or offers were written without
// keeping the roll-up and the spans up to date; the next import or
// background run rebuilds them.
func MarkRollupStale(ctx context.Context, tx *store.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET built = FALSE, spans_built = FALSE, spans_upto = 0 WHERE id = 1")
	return err
}
