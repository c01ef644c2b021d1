package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// denied answers a record the caller may not see as not found, audited.
func (s *Service) denied(ctx context.Context, err error, p *app.Principal, perm app.Permission, action, objectType string, id int64, what string) error {
	return access.Denied(ctx, s.Audit, p, perm, action, objectType, id, what, err)
}

// PersonRecord is a person's page for staff.
type PersonRecord struct {
	Person     person.Person  `json:"person"`
	Referrals  []Referral     `json:"referrals"`
	Offers     []Offer        `json:"offers"`
	LastOffer  *time.Time     `json:"last_offer_at,omitempty"`
	NeedsOffer bool           `json:"needs_offer"`
	Caseload   []CaseloadLink `json:"caseload"`
	// SameTrustRef are people the caller may also see who have the same
	// trust record number: possibly the same person, to be resolved.
	SameTrustRef []person.PossibleMatch `json:"same_trust_ref,omitempty"`
	// Changes are the changes to their contact details: who made each, in
	// which role, and what it was before.
	Changes []person.Change `json:"contact_changes"`
	// HasAccount says whether the person has claimed their record (an
	// account is joined to it); staff without it may invite them to.
	HasAccount bool `json:"has_account"`
}

// CaseloadLink is one open caseload episode, as staff see it.
type CaseloadLink struct {
	TeamName    string    `json:"team_name"`
	Coordinator string    `json:"coordinator"`
	Since       time.Time `json:"since"`
}

// OfferInterval is how often staff are prompted to tell someone about
// peer support.
const OfferInterval = 365 * 24 * time.Hour

// GetPerson loads a person's record for staff, audited as a read of their
// data. Someone the caller may not see is not found.
func (s *Service) GetPerson(ctx context.Context, p *app.Principal, id int64) (PersonRecord, error) {
	var rec PersonRecord
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if rec.Person, err = person.Visible(ctx, tx, p, id); err != nil {
			return err
		}
		if !p.HasRole(app.RoleClinician) {
			rec.Person.TrustRef = ""
		}
		if rec.Referrals, err = s.referralsWhere(ctx, tx, p, store.NewArgs(id), "r.person_id = $1", "r.received_at DESC", 50, 0); err != nil {
			return err
		}
		if rec.Offers, err = s.offersFor(ctx, tx, p, id); err != nil {
			return err
		}
		for _, o := range rec.Offers {
			if o.Response != "never_told" {
				t := o.At
				rec.LastOffer = &t
				break
			}
		}
		rec.NeedsOffer = rec.LastOffer == nil || s.Clock.Now().Sub(*rec.LastOffer) > OfferInterval
		if rec.Caseload, err = caseloadFor(ctx, tx, id); err != nil {
			return err
		}
		if rec.Changes, err = person.ChangesOf(ctx, tx, id, p.UserID); err != nil {
			return err
		}
		var accounts int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE person_id = $1", id).Scan(&accounts); err != nil {
			return err
		}
		rec.HasAccount = accounts > 0
		var shown []int64
		if rec.Person.TrustRef != "" {
			if rec.SameTrustRef, err = person.SameTrustRef(ctx, tx, p, rec.Person); err != nil {
				return err
			}
			for _, m := range rec.SameTrustRef {
				shown = append(shown, m.PersonID)
			}
		}
		record(p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "person.read", SubjectPersonID: id, Subjects: shown, ObjectType: "person", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return rec, s.denied(ctx, err, p, app.PermPersonRead, "person.read", "person", id, "The person")
	}
	return rec, nil
}

func caseloadFor(ctx context.Context, tx *store.Tx, personID int64) ([]CaseloadLink, error) {
	rows, err := tx.QueryContext(ctx, `SELECT t.name, COALESCE(u.name, ce.coordinator_email), ce.start_date
		FROM caseload_episodes ce JOIN teams t ON t.id = ce.team_id LEFT JOIN users u ON u.id = ce.coordinator_user_id
		WHERE ce.person_id = $1 AND ce.end_date IS NULL ORDER BY ce.start_date DESC`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CaseloadLink
	for rows.Next() {
		var c CaseloadLink
		if err := rows.Scan(&c.TeamName, &c.Coordinator, &c.Since); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
