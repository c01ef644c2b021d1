package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// DutyPeriod is one moderator's time on duty.
type DutyPeriod struct {
	ID          int64     `json:"id"`
	ModeratorID int64     `json:"moderator_id"`
	Moderator   string    `json:"moderator" doc:"The moderator's name (staff)."`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
}

// NewDuty is a lead's new duty period for a moderator.
type NewDuty struct {
	ModeratorID int64     `json:"moderator_id" required:"true"`
	From        time.Time `json:"from" required:"true"`
	To          time.Time `json:"to" required:"true"`
}

// Duty is whether a moderator is on duty now, and when one next is.
type Duty struct {
	OnDuty bool       `json:"on_duty"`
	Next   *time.Time `json:"next,omitempty" doc:"When a moderator is next on duty, if none is now and one is planned."`
}

// Rota is the planned duty periods not yet over, with the moderators a
// lead may put on it.
type Rota struct {
	Periods    []DutyPeriod `json:"periods"`
	Moderators []app.Choice `json:"moderators" doc:"Moderators who may be put on duty: code is their account id."`
}

func mustLead(p *app.Principal) error {
	if !p.Can(app.PermCommunityLead) {
		return app.Errorf(app.CodeForbidden, "Only leads set the moderators' rota")
	}
	return nil
}

// leadOrganisation is the organisation of the caller's first team as a
// lead: the rota they set is that organisation's.
func leadOrganisation(ctx context.Context, tx *store.Tx, p *app.Principal) (int64, error) {
	teams := p.TeamsAs(app.RolePeerLead)
	if len(teams) == 0 {
		return 0, app.Errorf(app.CodeForbidden, "Only leads of a team set the moderators' rota")
	}
	var org int64
	err := tx.QueryRowContext(ctx, "SELECT organisation_id FROM teams WHERE id = $1", teams[0]).Scan(&org)
	return org, err
}

// Rota is the caller's organisation's duty periods not yet over, soonest
// first (leads).
func (s *Service) Rota(ctx context.Context, p *app.Principal) (Rota, error) {
	if err := mustLead(p); err != nil {
		return Rota{}, err
	}
	r := Rota{Periods: []DutyPeriod{}, Moderators: []app.Choice{}}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		org, err := leadOrganisation(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.user_id, u.name, d.starts_at, d.ends_at FROM community_duty d JOIN users u ON u.id = d.user_id
			WHERE d.organisation_id = $1 AND d.ends_at > $2 ORDER BY d.starts_at, d.id`, org, s.Clock.Now())
		if err != nil {
			return err
		}
		for rows.Next() {
			var d DutyPeriod
			if err := rows.Scan(&d.ID, &d.ModeratorID, &d.Moderator, &d.From, &d.To); err != nil {
				rows.Close()
				return err
			}
			d.From, d.To = d.From.UTC(), d.To.UTC()
			r.Periods = append(r.Periods, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT DISTINCT u.id, u.name FROM users u JOIN memberships m ON m.user_id = u.id
			WHERE m.role = $1 AND u.status = 'active' ORDER BY u.name, u.id`, string(app.RoleModerator))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			r.Moderators = append(r.Moderators, app.Choice{Code: fmt.Sprint(id), Label: name})
		}
		return rows.Err()
	})
	return r, err
}

// AddDuty puts a moderator on duty from one time to another (leads), for
// the lead's organisation. It must end after it starts, within a year,
// and name a moderator. Audited.
func (s *Service) AddDuty(ctx context.Context, p *app.Principal, in NewDuty) (DutyPeriod, error) {
	if err := mustLead(p); err != nil {
		return DutyPeriod{}, err
	}
	var pr app.Problems
	now := s.Clock.Now()
	if in.From.IsZero() {
		pr.Add("from", "Give when the duty starts")
	}
	if in.To.IsZero() {
		pr.Add("to", "Give when the duty ends")
	} else if !in.To.After(in.From) {
		pr.Add("to", "The end must be after the start")
	} else if in.To.Sub(in.From) > 7*24*time.Hour {
		pr.Add("to", "A duty period can be at most 7 days")
	} else if !in.To.After(now) {
		pr.Add("to", "The end must be in the future")
	}
	d := DutyPeriod{ModeratorID: in.ModeratorID, From: in.From.UTC(), To: in.To.UTC()}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var role string
		err := tx.QueryRowContext(ctx, `SELECT u.name, m.role FROM users u JOIN memberships m ON m.user_id = u.id
			WHERE u.id = $1 AND m.role = $2 AND u.status = 'active'`, in.ModeratorID, string(app.RoleModerator)).Scan(&d.Moderator, &role)
		if errors.Is(err, sql.ErrNoRows) {
			pr.Add("moderator_id", "Choose a moderator")
		} else if err != nil {
			return err
		}
		if err := pr.Err(); err != nil {
			return err
		}
		org, err := leadOrganisation(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO community_duty (organisation_id, user_id, starts_at, ends_at, created_by_user_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, org, in.ModeratorID, d.From, d.To, p.UserID, now).Scan(&d.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermCommunityLead), audit.Event{Action: "community.duty.add", ObjectType: "community_duty",
			ObjectID: fmt.Sprint(d.ID)})
	})
	return d, err
}

// RemoveDuty takes a duty period off the rota of the lead's organisation;
// another organisation's is not found. Audited.
func (s *Service) RemoveDuty(ctx context.Context, p *app.Principal, id int64) error {
	if err := mustLead(p); err != nil {
		return err
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		org, err := leadOrganisation(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := tx.ExecOne(ctx, app.NotFound("The duty period"), "DELETE FROM community_duty WHERE id = $1 AND organisation_id = $2", id, org); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermCommunityLead), audit.Event{Action: "community.duty.remove", ObjectType: "community_duty",
			ObjectID: fmt.Sprint(id)})
	})
}

// dutyNow is whether any moderator is on duty now (any organisation's
// rota: a space belongs to the service), and when one next is.
func dutyNow(ctx context.Context, tx *store.Tx, now time.Time) (Duty, error) {
	rows, err := tx.QueryContext(ctx, "SELECT starts_at, ends_at FROM community_duty WHERE ends_at > $1 ORDER BY starts_at LIMIT 200", now)
	if err != nil {
		return Duty{}, err
	}
	defer rows.Close()
	var shifts []Shift
	for rows.Next() {
		var sh Shift
		if err := rows.Scan(&sh.From, &sh.To); err != nil {
			return Duty{}, err
		}
		shifts = append(shifts, sh)
	}
	if err := rows.Err(); err != nil {
		return Duty{}, err
	}
	on, next := OnDuty(shifts, now)
	d := Duty{OnDuty: on}
	if !next.IsZero() {
		n := next.UTC()
		d.Next = &n
	}
	return d, nil
}
