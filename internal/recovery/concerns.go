package recovery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/store"
)

// AlertConcerns is the RaiseConcern that cmd/mutual wires in: a concern
// becomes a possible-risk alert for the team's peer leads, who respond to
// it as they do to risk written at the door (and whom the escalation job
// chases if nobody does). The alert is tied to the person's open referral
// when they have one, so the leads open it from the alert and a second
// concern joins the open alert instead of telling them twice; feedback
// without one is raised under its own reference. The alert and its emails
// carry a reference and a link, never what was written.
func AlertConcerns(alerts *alert.Service) func(ctx context.Context, tx *store.Tx, c Concern) error {
	return func(ctx context.Context, tx *store.Tx, c Concern) error {
		n := alert.New{Kind: alert.PossibleRisk, TeamID: c.TeamID, PersonID: c.PersonID, Detail: []string{"distress"}}
		if c.PersonID != 0 {
			var team sql.NullInt64
			// Locked: the alert goes to the team the referral is in when
			// this commits (accepting it into a team moves its open
			// alerts under the same lock).
			err := tx.QueryRowContext(ctx, concernReferral+tx.Dialect.ForUpdate(), c.PersonID).Scan(&n.ReferralID, &n.Reference, &team)
			switch {
			case err == nil:
				n.Link = fmt.Sprintf("/referrals/%d", n.ReferralID)
				if n.TeamID == 0 && team.Valid {
					n.TeamID = team.Int64
				}
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		if n.ReferralID == 0 {
			switch c.Source {
			case "feedback":
				if err := tx.QueryRowContext(ctx, "SELECT reference FROM feedback WHERE id = $1", c.ObjectID).Scan(&n.Reference); err != nil {
					return err
				}
				n.Link = fmt.Sprintf("/feedback/inbox/%d", c.ObjectID)
			default:
				n.Reference = fmt.Sprintf("Person %d", c.PersonID)
				n.Link = fmt.Sprintf("/people/%d/plan", c.PersonID)
			}
		}
		_, _, err := alerts.Raise(ctx, tx, c.At, c.Actor, n)
		return err
	}
}

// concernReferral is the person's newest referral still open, whose team
// is the one supporting them.
const concernReferral = `SELECT id, reference, team_id FROM referrals
	WHERE person_id = $1 AND status IN ('received', 'accepted', 'allocated', 'active') ORDER BY id DESC LIMIT 1`
