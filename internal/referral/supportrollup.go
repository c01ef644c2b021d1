package referral

import (
	"context"
	"fmt"
	"strings"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/store"
)

// The support roll-up (support_rollup, migration 0054) keeps, per referral,
// worker and calendar month (UTC), the contacts not entered in error: how
// many, their minutes, and how many of each mode, setting and kind of
// support. The referral package owns it: recording a contact adds one to
// its cell and marking it entered in error takes one off, in the same
// transaction, by an upsert that adds to the row (n = n + excluded.n), so
// two writers of one cell at once both count; forgetting a person deletes
// their referrals' rows. Insight reads it for the support report while it
// is built (support_rollup_state), and counts from the contacts while not.

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

func rollupColumnList() (names, exprs []string) {
	for _, rc := range SupportRollupColumns() {
		names, exprs = append(names, rc.Column), append(exprs, rc.ContactCountExpr("c"))
	}
	return names, exprs
}

// countContact adds the contact's counts to its roll-up cell (sign 1) or
// takes them off (sign -1), reading the contact's row in tx. The upsert
// adds to whatever the row holds when it is written, so concurrent writers
// of one cell never lose a count (TestSupportRollupConcurrentWriters).
func countContact(ctx context.Context, tx *store.Tx, contactID int64, sign int) error {
	names, exprs := rollupColumnList()
	all := append([]string{"n", "minutes"}, names...)
	vals := []string{"$2", "$2 * c.minutes"}
	for _, e := range exprs {
		vals = append(vals, "$2 * ("+e+")")
	}
	sets := make([]string, len(all))
	for i, col := range all {
		sets[i] = col + " = support_rollup." + col + " + excluded." + col
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO support_rollup (referral_id, worker_user_id, month, `+strings.Join(all, ", ")+`)
		SELECT c.referral_id, c.worker_user_id, `+SupportMonth(tx.Dialect, "c.at")+`, `+strings.Join(vals, ", ")+` FROM contacts c WHERE c.id = $1
		ON CONFLICT (referral_id, worker_user_id, month) DO UPDATE SET `+strings.Join(sets, ", "), contactID, sign)
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
	names, exprs := rollupColumnList()
	sums := []string{"COUNT(*)", "COALESCE(SUM(c.minutes), 0)"}
	for _, e := range exprs {
		sums = append(sums, "SUM("+e+")")
	}
	month := SupportMonth(tx.Dialect, "c.at")
	for _, q := range []string{
		"DELETE FROM support_rollup",
		`INSERT INTO support_rollup (referral_id, worker_user_id, month, n, minutes, ` + strings.Join(names, ", ") + `)
		SELECT c.referral_id, c.worker_user_id, ` + month + `, ` + strings.Join(sums, ", ") + ` FROM contacts c
		WHERE c.error_at IS NULL GROUP BY c.referral_id, c.worker_user_id, ` + month,
		"UPDATE support_rollup_state SET built = TRUE WHERE id = 1",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuilding the support roll-up: %w", err)
		}
	}
	return nil
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
