package referral

import (
	"context"
	"fmt"

	"github.com/mutualhq/mutual/internal/store"
)

// RefreshCaseloadFlags records, for referrals and offers, whether the
// person was on the caseload of whoever made them (as a care co-ordinator,
// by email, and as a team) on the day. Insight counts referral and offer
// rates from these flags. It runs for one new referral or offer (by id),
// for the people whose episodes an import changed (personIDs), or for
// everyone (both nil).
func RefreshCaseloadFlags(ctx context.Context, tx *store.Tx, table string, id int64, personIDs []int64) error {
	var at, by, team string
	switch table {
	case "referrals":
		at, by, team = "referrals.received_at", "referrals.referrer_user_id", "referrals.referrer_team_id"
	case "offers":
		at, by, team = "offers.at", "offers.recorded_by_user_id", "offers.team_id"
	default:
		return fmt.Errorf("no caseload flags on %s", table)
	}
	day := tx.Dialect.DateOf(at)
	where, args := "", []any{}
	switch {
	case id != 0:
		where, args = " WHERE "+table+".id = $1", []any{id}
	case personIDs != nil:
		if len(personIDs) == 0 {
			return nil
		}
		a := store.NewArgs()
		where = " WHERE " + table + ".person_id IN " + a.IDs(tx.Dialect, personIDs)
		args = a.Values()
	}
	_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET
		on_caseload_coordinator = EXISTS (SELECT 1 FROM users u JOIN caseload_episodes ce ON ce.coordinator_email = u.email
			WHERE u.id = `+by+` AND ce.person_id = `+table+`.person_id AND ce.start_date <= `+at+`
			AND (ce.end_date IS NULL OR ce.end_date >= `+day+`)),
		on_caseload_team = EXISTS (SELECT 1 FROM caseload_episodes ce
			WHERE ce.team_id = `+team+` AND ce.person_id = `+table+`.person_id AND ce.start_date <= `+at+`
			AND (ce.end_date IS NULL OR ce.end_date >= `+day+`))`+where, args...)
	return err
}

// RefreshCaseloadFlagsFor brings the caseload flags of the given people's
// referrals and offers up to date (every person's when personIDs is nil),
// inside tx. The caseload package calls it, through the hook cmd/mutual
// wires, when caseloads change: referral owns these tables and writes them.
func RefreshCaseloadFlagsFor(ctx context.Context, tx *store.Tx, personIDs []int64) error {
	for _, table := range []string{"referrals", "offers"} {
		if err := RefreshCaseloadFlags(ctx, tx, table, 0, personIDs); err != nil {
			return err
		}
	}
	return nil
}
