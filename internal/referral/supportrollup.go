package referral

import (
	"context"
	"fmt"
	"strings"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/store"
)

// The support roll-ups (migration 0054), kept by the referral package
// beside the contacts it owns, for insight's support report:
// support_rollup counts the contacts (not entered in error) per referral,
// worker and calendar month (UTC); support_team_days counts them per team
// and day (UTC) with their minutes and how many of each mode, setting and
// kind of support. Recording a contact adds it to both and marking it
// entered in error takes it off, in the same transaction, by upserts that
// add to the row (n = n + excluded.n), so two writers of one row at once
// both count; a referral moving team moves its day counts; forgetting a
// person takes their referrals' counts away. Insight reads them while they
// are built (support_rollup_state) and counts from the contacts while not.

// RollupColumn is one count the support roll-up keeps for a code: Dim is
// "mode", "setting" or "type" (a kind of support).
type RollupColumn struct {
	Dim, Code, Column string
}

// SupportRollupColumns lists the roll-up's count columns, one per contact
// mode, setting (with "" for none recorded) and kind of support.
func SupportRollupColumns() []RollupColumn {
	var out []RollupColumn
	for _, m := range ContactModes {
		out = append(out, RollupColumn{"mode", m.Code, "mode_" + m.Code})
	}
	for _, s := range account.Settings {
		out = append(out, RollupColumn{"setting", string(s), "setting_" + string(s)})
	}
	out = append(out, RollupColumn{"setting", "", "setting_none"})
	for _, t := range SupportTypes {
		out = append(out, RollupColumn{"type", t.Code, "type_" + t.Code})
	}
	return out
}

// ContactCountExpr is the SQL for whether the contact c (its alias) has
// the column's code, 1 or 0: its mode or setting, or the kind of support
// among its comma-separated kinds. Codes are the package's own constants,
// never input.
func (rc RollupColumn) ContactCountExpr(c string) string {
	switch rc.Dim {
	case "mode":
		return "CASE WHEN " + c + ".mode = '" + rc.Code + "' THEN 1 ELSE 0 END"
	case "setting":
		return "CASE WHEN " + c + ".setting = '" + rc.Code + "' THEN 1 ELSE 0 END"
	default:
		return "CASE WHEN ',' || " + c + ".support_types || ',' LIKE '%," + rc.Code + ",%' THEN 1 ELSE 0 END"
	}
}

// SupportMonth is the SQL for the calendar month (UTC) of a timestamp
// column as YYYYMM: the roll-up's month, which the report's edges match.
func SupportMonth(d store.Dialect, col string) string {
	if d == store.Postgres {
		return "CAST(to_char(" + col + " AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER)"
	}
	return "CAST(strftime('%Y%m', " + col + ") AS INTEGER)"
}

// SupportDay is the SQL for the day (UTC) of a timestamp column as
// YYYYMMDD: the team days' key, which the report's whole days match.
func SupportDay(d store.Dialect, col string) string {
	if d == store.Postgres {
		return "CAST(to_char(" + col + " AT TIME ZONE 'UTC', 'YYYYMMDD') AS INTEGER)"
	}
	return "CAST(strftime('%Y%m%d', " + col + ") AS INTEGER)"
}

// addToRollup adds (sign 1) or takes off (sign -1) the contacts c matching
// where to their referral, worker and month rows.
func addToRollup(ctx context.Context, tx *store.Tx, where string, sign int, args ...any) error {
	month := SupportMonth(tx.Dialect, "c.at")
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO support_rollup (referral_id, worker_user_id, month, n)
		SELECT c.referral_id, c.worker_user_id, %s, %d * COUNT(*) FROM contacts c WHERE %s GROUP BY c.referral_id, c.worker_user_id, %s
		ON CONFLICT (referral_id, worker_user_id, month) DO UPDATE SET n = support_rollup.n + excluded.n`, month, sign, where, month), args...)
	return err
}

// addToTeamDays adds (sign 1) or takes off (sign -1) the contacts c
// matching where (joined to their referral r) to the day rows of the team
// team gives (an SQL expression: the referral's, or a number).
func addToTeamDays(ctx context.Context, tx *store.Tx, where, team string, sign int, args ...any) error {
	names := []string{"n", "minutes"}
	sums := []string{fmt.Sprintf("%d * COUNT(*)", sign), fmt.Sprintf("%d * COALESCE(SUM(c.minutes), 0)", sign)}
	for _, rc := range SupportRollupColumns() {
		names, sums = append(names, rc.Column), append(sums, fmt.Sprintf("%d * SUM(%s)", sign, rc.ContactCountExpr("c")))
	}
	sets := make([]string, len(names))
	for i, col := range names {
		sets[i] = col + " = support_team_days." + col + " + excluded." + col
	}
	day := SupportDay(tx.Dialect, "c.at")
	_, err := tx.ExecContext(ctx, `INSERT INTO support_team_days (team_id, day, `+strings.Join(names, ", ")+`)
		SELECT `+team+`, `+day+`, `+strings.Join(sums, ", ")+` FROM contacts c JOIN referrals r ON r.id = c.referral_id WHERE `+where+`
		GROUP BY `+team+`, `+day+`
		ON CONFLICT (team_id, day) DO UPDATE SET `+strings.Join(sets, ", "), args...)
	return err
}

// countContact adds the contact's counts to the roll-ups (sign 1) or takes
// them off (sign -1), reading the contact's row in tx: called right after
// the contact is recorded or marked entered in error. The upserts add to
// whatever the rows hold when written, so concurrent writers of one row
// never lose a count (TestSupportRollupConcurrentWriters).
func countContact(ctx context.Context, tx *store.Tx, contactID int64, sign int) error {
	if err := addToRollup(ctx, tx, "c.id = $1", sign, contactID); err != nil {
		return err
	}
	return addToTeamDays(ctx, tx, "c.id = $1", "COALESCE(r.team_id, 0)", sign, contactID)
}

// moveTeamCounts moves a referral's contacts' day counts from one team to
// another (0: none), when the referral changes team.
func moveTeamCounts(ctx context.Context, tx *store.Tx, referralID, from, to int64) error {
	if from == to {
		return nil
	}
	where := "c.referral_id = $1 AND c.error_at IS NULL"
	// A cast, never a bare number: in GROUP BY a bare integer names a
	// column by its position (TestMovingTeamMovesTheDayCounts).
	if err := addToTeamDays(ctx, tx, where, teamConst(from), -1, referralID); err != nil {
		return err
	}
	return addToTeamDays(ctx, tx, where, teamConst(to), 1, referralID)
}

// teamConst is a team id (0: none) as an SQL expression addToTeamDays may
// group by.
func teamConst(id int64) string {
	return fmt.Sprintf("CAST(%d AS BIGINT)", id)
}

// forgetCounts takes the contacts of referrals about to be deleted out of
// the roll-ups (gone is a sub-select of their ids, list its parameter).
func forgetCounts(ctx context.Context, tx *store.Tx, gone string, list any) error {
	if err := addToTeamDays(ctx, tx, "c.referral_id IN "+gone+" AND c.error_at IS NULL", "COALESCE(r.team_id, 0)", -1, list); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM support_rollup WHERE referral_id IN "+gone, list)
	return err
}

// RebuildSupportRollup recounts the support roll-up from the contacts and
// marks it built. Contacts are locked against writes while it runs (on
// PostgreSQL SHARE ROW EXCLUSIVE, which every contact writer waits for and
// which waits for them; SQLite has one writer), so no contact is counted
// twice or missed.
func (s *Service) RebuildSupportRollup(ctx context.Context) error {
	_, err := s.DB.Exclusive(ctx, store.LockSupportRollup, true, func(tx *store.Tx) error { return rebuildSupportRollup(ctx, tx) })
	return err
}

func rebuildSupportRollup(ctx context.Context, tx *store.Tx) error {
	if tx.Dialect == store.Postgres {
		if _, err := tx.ExecContext(ctx, "LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
	}
	for _, q := range []string{"DELETE FROM support_rollup", "DELETE FROM support_team_days"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := addToRollup(ctx, tx, "c.error_at IS NULL", 1); err != nil {
		return fmt.Errorf("rebuilding the support roll-up: %w", err)
	}
	if err := addToTeamDays(ctx, tx, "c.error_at IS NULL", "COALESCE(r.team_id, 0)", 1); err != nil {
		return fmt.Errorf("rebuilding the support roll-up: %w", err)
	}
	_, err := tx.ExecContext(ctx, "UPDATE support_rollup_state SET built = TRUE WHERE id = 1")
	return err
}

// RebuildSupportRollupIfStale builds the roll-up when it does not count
// every contact (never built, or marked stale by a bulk load): from the
// background job cmd/mutual runs, never from a reader. The check is
// repeated under the lock, so two instances at once build it once.
func (s *Service) RebuildSupportRollupIfStale(ctx context.Context) error {
	built, err := SupportRollupBuilt(ctx, s.DB)
	if err != nil || built {
		return err
	}
	_, err = s.DB.Exclusive(ctx, store.LockSupportRollup, true, func(tx *store.Tx) error {
		var built bool
		if err := tx.QueryRowContext(ctx, "SELECT built FROM support_rollup_state WHERE id = 1").Scan(&built); err != nil || built {
			return err
		}
		return rebuildSupportRollup(ctx, tx)
	})
	return err
}

// SupportRollupBuilt reports whether the roll-up counts every contact.
func SupportRollupBuilt(ctx context.Context, db *store.DB) (bool, error) {
	var built bool
	err := db.QueryRow(ctx, "SELECT built FROM support_rollup_state WHERE id = 1").Scan(&built)
	return built, err
}

// MarkSupportRollupStale records that contacts were written without keeping
// the roll-up up to date (a bulk load); readers count from the contacts
// until the background job rebuilds it.
func MarkSupportRollupStale(ctx context.Context, tx *store.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE support_rollup_state SET built = FALSE WHERE id = 1")
	return err
}
