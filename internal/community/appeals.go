package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// Appeal is a member's appeal against a sanction, and a lead's decision.
type Appeal struct {
	ID             int64      `json:"id"`
	Sanction       Sanction   `json:"sanction"`
	Member         string     `json:"member" doc:"The member's display name."`
	Words          string     `json:"words" doc:"What the member wrote."`
	CreatedAt      time.Time  `json:"created_at"`
	Status         string     `json:"status" doc:"waiting, upheld or overturned (the sanction lifted)"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
}

// NewAppeal is a member's appeal, in their own words.
type NewAppeal struct {
	Words string `json:"words" required:"true" doc:"Why you think the sanction is wrong. A lead reads it."`
}

// AppealDecision is a lead's decision on an appeal.
type AppealDecision struct {
	Outcome string `json:"outcome" required:"true" doc:"uphold (the sanction stays) or overturn (it is lifted)"`
	Reason  string `json:"reason" required:"true" doc:"Why: the member is told."`
}

// AppealSanction records the caller's appeal against one of their own
// sanctions, once per sanction (a second is a conflict: the sanction's
// unique appeal). Another member's sanction is not found. Audited.
func (s *Service) AppealSanction(ctx context.Context, p *app.Principal, sanctionID int64, in NewAppeal) (Appeal, error) {
	in.Words = strings.TrimSpace(in.Words)
	var pr app.Problems
	if in.Words == "" {
		pr.Add("words", "Say why you think the sanction is wrong")
	}
	pr.CheckLen("words", in.Words, 2000, "Your appeal")
	if err := pr.Err(); err != nil {
		return Appeal{}, err
	}
	now := s.Clock.Now()
	a := Appeal{Words: in.Words, CreatedAt: now, Status: "waiting"}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, sanctionSelect+" WHERE id = $1 AND user_id = $2", sanctionID, p.UserID)
		if err != nil {
			return err
		}
		ss, err := scanSanctions(rows, now)
		if err != nil {
			return err
		}
		if len(ss) == 0 {
			return app.NotFound("The sanction")
		}
		a.Sanction = ss[0]
		err = tx.QueryRowContext(ctx, `INSERT INTO community_appeals (sanction_id, user_id, words, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (sanction_id) DO NOTHING RETURNING id`, sanctionID, p.UserID, in.Words, now).Scan(&a.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return app.Errorf(app.CodeConflict, "You have already appealed against this sanction")
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSignedIn), audit.Event{Action: "community.appeal", ObjectType: "community_sanction",
			ObjectID: fmt.Sprint(sanctionID)})
	})
	return a, err
}

const appealSelect = `SELECT a.id, a.words, a.created_at, a.status, a.decided_at, a.decision_reason, m.display_name,
	s.id, s.user_id, s.kind, s.reason, s.starts_at, s.ends_at, s.created_by_user_id, s.lifted_at, s.lift_reason
	FROM community_appeals a JOIN community_sanctions s ON s.id = a.sanction_id JOIN community_members m ON m.user_id = a.user_id`

func appealsWhere(ctx context.Context, tx *store.Tx, now time.Time, cond string, args ...any) ([]Appeal, error) {
	rows, err := tx.QueryContext(ctx, appealSelect+" WHERE "+cond+" ORDER BY a.created_at, a.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Appeal{}
	for rows.Next() {
		var a Appeal
		var decided, ends, lifted sql.NullTime
		sn := &a.Sanction
		if err := rows.Scan(&a.ID, &a.Words, &a.CreatedAt, &a.Status, &decided, &a.DecisionReason, &a.Member,
			&sn.ID, &sn.userID, &sn.Kind, &sn.Reason, &sn.StartsAt, &ends, &sn.createdBy, &lifted, &sn.LiftReason); err != nil {
			return nil, err
		}
		a.CreatedAt, sn.StartsAt, sn.Label = a.CreatedAt.UTC(), sn.StartsAt.UTC(), app.ChoiceLabel(SanctionKinds, sn.Kind)
		for _, x := range []struct {
			in  sql.NullTime
			out **time.Time
		}{{decided, &a.DecidedAt}, {ends, &sn.EndsAt}, {lifted, &sn.LiftedAt}} {
			if x.in.Valid {
				t := x.in.Time.UTC()
				*x.out = &t
			}
		}
		sn.InForce = sn.term().InForce(now)
		out = append(out, a)
	}
	return out, rows.Err()
}

// appealOne is one appeal; a missing one is not found.
func appealOne(ctx context.Context, tx *store.Tx, now time.Time, id int64) (Appeal, error) {
	as, err := appealsWhere(ctx, tx, now, "a.id = $1", id)
	if err != nil {
		return Appeal{}, err
	}
	if len(as) == 0 {
		return Appeal{}, app.NotFound("The appeal")
	}
	return as[0], nil
}

func mustDecideAppeals(p *app.Principal) error {
	if !p.Can(app.PermCommunityLead) {
		return app.Errorf(app.CodeForbidden, "Only leads decide appeals")
	}
	return nil
}

// AppealsWaiting lists the appeals waiting for a lead, oldest first,
// leaving out those against sanctions the caller applied.
func (s *Service) AppealsWaiting(ctx context.Context, p *app.Principal) ([]Appeal, error) {
	if err := mustDecideAppeals(p); err != nil {
		return nil, err
	}
	var out []Appeal
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = appealsWhere(ctx, tx, s.Clock.Now(), "a.status = 'waiting' AND s.created_by_user_id <> $1", p.UserID)
		return err
	})
	return out, err
}

// AppealFor is one appeal, for a lead; any other is not found.
func (s *Service) AppealFor(ctx context.Context, p *app.Principal, id int64) (Appeal, error) {
	if err := mustDecideAppeals(p); err != nil {
		return Appeal{}, err
	}
	var a Appeal
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		a, err = appealOne(ctx, tx, s.Clock.Now(), id)
		return err
	})
	return a, err
}

// MayDecide reports whether the caller may decide the appeal: a lead who
// did not apply the sanction, while it waits.
func (a Appeal) MayDecide(p *app.Principal) bool {
	return a.Status == "waiting" && p.Can(app.PermCommunityLead) && p.UserID != a.Sanction.createdBy
}

// DecideAppeal records a lead's decision, with a reason: uphold (the
// sanction stays) or overturn (it is lifted, if still in force). The
// moderator who applied the sanction cannot decide (forbidden). It is
// decided once: the update is conditional on the appeal still waiting, so
// of two leads at once one wins and the other is told (409). The member is
// told; it is audited.
func (s *Service) DecideAppeal(ctx context.Context, p *app.Principal, id int64, d AppealDecision) (Appeal, error) {
	if err := mustDecideAppeals(p); err != nil {
		return Appeal{}, err
	}
	d.Reason = strings.TrimSpace(d.Reason)
	var pr app.Problems
	if d.Outcome != "uphold" && d.Outcome != "overturn" {
		pr.Add("outcome", "Choose to uphold or overturn the sanction")
	}
	if d.Reason == "" {
		pr.Add("reason", "Say why: the member is told")
	}
	pr.CheckLen("reason", d.Reason, 1000, "The reason")
	if err := pr.Err(); err != nil {
		return Appeal{}, err
	}
	now := s.Clock.Now()
	var a Appeal
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = appealOne(ctx, tx, now, id); err != nil {
			return err
		}
		if a.Sanction.createdBy == p.UserID {
			return app.Errorf(app.CodeForbidden, "You applied this sanction: another lead must decide the appeal")
		}
		status := "upheld"
		if d.Outcome == "overturn" {
			status = "overturned"
		}
		if err := tx.ExecOne(ctx, app.Errorf(app.CodeConflict, "Another lead has already decided this appeal"), `UPDATE community_appeals SET status = $1, decided_by_user_id = $2, decided_at = $3, decision_reason = $4
			WHERE id = $5 AND status = 'waiting'`, status, p.UserID, now, d.Reason, id); err != nil {
			return err
		}
		if status == "overturned" {
			if _, err := tx.ExecContext(ctx, `UPDATE community_sanctions SET lifted_at = $1, lifted_by_user_id = $2, lift_reason = $3
				WHERE id = $4 AND lifted_at IS NULL`, now, p.UserID, "Overturned on appeal: "+d.Reason, a.Sanction.ID); err != nil {
				return err
			}
			a.Sanction.LiftedAt, a.Sanction.LiftReason, a.Sanction.InForce = &now, "Overturned on appeal: "+d.Reason, false
		}
		a.Status, a.DecidedAt, a.DecisionReason = status, &now, d.Reason
		if err := s.Notify.Tell(ctx, tx, a.Sanction.userID, 0, notify.CommunityAppealDecided{Outcome: status, Reason: d.Reason}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermCommunityLead), audit.Event{Action: "community.appeal.decide", ObjectType: "community_appeal",
			ObjectID: fmt.Sprint(id), Outcome: status})
	})
	return a, err
}

// MyAppeals is the caller's own appeals, by sanction.
func (s *Service) MyAppeals(ctx context.Context, p *app.Principal) (map[int64]Appeal, error) {
	out := map[int64]Appeal{}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		as, err := appealsWhere(ctx, tx, s.Clock.Now(), "a.user_id = $1", p.UserID)
		for _, a := range as {
			out[a.Sanction.ID] = a
		}
		return err
	})
	return out, err
}
