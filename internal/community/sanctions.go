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

// Sanction is a moderator's sanction on a member, as the member and the
// moderators see it.
type Sanction struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind" doc:"warning, held (every post waits for a moderator), read_only (no posts or reactions; reading and flagging still open) or suspended (the spaces are closed)"`
	Label      string     `json:"label"`
	Reason     string     `json:"reason"`
	StartsAt   time.Time  `json:"starts_at"`
	EndsAt     *time.Time `json:"ends_at,omitempty" doc:"When it ends by itself; none for a warning."`
	InForce    bool       `json:"in_force"`
	LiftedAt   *time.Time `json:"lifted_at,omitempty"`
	LiftReason string     `json:"lift_reason,omitempty"`
	createdBy  int64
	userID     int64
}

// NewSanction is what a moderator applies to a member.
type NewSanction struct {
	Kind   string `json:"kind" required:"true" doc:"warning, held, read_only or suspended"`
	Reason string `json:"reason" required:"true" doc:"Why: the member is told."`
	Days   int    `json:"days,omitempty" doc:"How many days it lasts (1 to 365); none for a warning."`
}

// Lift is a moderator's reason for ending a sanction early.
type Lift struct {
	Reason string `json:"reason" required:"true" doc:"Why it ends early: the member is told."`
}

// SuspendedError is the answer to a suspended member who tries to enter a
// space: until when, so the page can say so with how to appeal.
type SuspendedError struct {
	Until time.Time
}

func (e *SuspendedError) Error() string { return "suspended from the community" }

// Unwrap makes a suspension forbidden, for every caller that does not
// look for it.
func (e *SuspendedError) Unwrap() error {
	return app.Errorf(app.CodeForbidden, "You are suspended from the community until %s", e.Until.In(app.London).Format("3:04pm on Monday 2 January 2006"))
}

const sanctionSelect = `SELECT id, user_id, kind, reason, starts_at, ends_at, created_by_user_id, lifted_at, lift_reason FROM community_sanctions`

func scanSanctions(rows *sql.Rows, now time.Time) ([]Sanction, error) {
	defer rows.Close()
	out := []Sanction{}
	for rows.Next() {
		var sn Sanction
		var ends, lifted sql.NullTime
		if err := rows.Scan(&sn.ID, &sn.userID, &sn.Kind, &sn.Reason, &sn.StartsAt, &ends, &sn.createdBy, &lifted, &sn.LiftReason); err != nil {
			return nil, err
		}
		sn.StartsAt, sn.Label = sn.StartsAt.UTC(), app.ChoiceLabel(SanctionKinds, sn.Kind)
		if ends.Valid {
			t := ends.Time.UTC()
			sn.EndsAt = &t
		}
		if lifted.Valid {
			t := lifted.Time.UTC()
			sn.LiftedAt = &t
		}
		sn.InForce = sn.term().InForce(now)
		out = append(out, sn)
	}
	return out, rows.Err()
}

func (sn Sanction) term() SanctionTerm {
	return SanctionTerm{Kind: sn.Kind, StartsAt: sn.StartsAt, EndsAt: sn.EndsAt, Lifted: sn.LiftedAt != nil}
}

// sanctionsOf is a member's sanctions, newest first.
func sanctionsOf(ctx context.Context, tx *store.Tx, userID int64, now time.Time) ([]Sanction, error) {
	rows, err := tx.QueryContext(ctx, sanctionSelect+" WHERE user_id = $1 ORDER BY id DESC", userID)
	if err != nil {
		return nil, err
	}
	return scanSanctions(rows, now)
}

// restrictionOf is what the member's sanctions in force stop them doing
// at now. Called in the write's own transaction, after the member's row
// lock, so a sanction committed first is always seen.
func restrictionOf(ctx context.Context, tx *store.Tx, userID int64, now time.Time) (Restriction, error) {
	rows, err := tx.QueryContext(ctx, sanctionSelect+" WHERE user_id = $1 AND lifted_at IS NULL AND kind <> 'warning' AND ends_at > $2", userID, now)
	if err != nil {
		return Restriction{}, err
	}
	ss, err := scanSanctions(rows, now)
	if err != nil {
		return Restriction{}, err
	}
	terms := make([]SanctionTerm, len(ss))
	for i, sn := range ss {
		terms[i] = sn.term()
	}
	return Restrict(terms, now), nil
}

func ukTime(t time.Time) string { return t.In(app.London).Format("3:04pm on Monday 2 January 2006") }

// refuse is the answer to a member whose sanction stops what they tried.
func refuse(r Restriction, what string) error {
	if r.NoEntry {
		return &SuspendedError{Until: r.Until}
	}
	return app.Errorf(app.CodeForbidden, "You cannot %s until %s: a moderator has made your account read-only. You can still read and flag posts, and appeal from your community settings", what, ukTime(r.Until))
}

// ApplySanction applies a sanction to a member, with a reason and (but for
// a warning) a number of days, under the member's row lock — the lock
// every post and reaction takes — so once it commits no post or reaction
// of theirs gets through. The member is told in Mutual; it is audited.
func (s *Service) ApplySanction(ctx context.Context, p *app.Principal, userID int64, in NewSanction) (Sanction, error) {
	if err := mustModerate(p); err != nil {
		return Sanction{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := CheckSanction(in.Kind, in.Reason, in.Days).Err(); err != nil {
		return Sanction{}, err
	}
	now := s.Clock.Now()
	sn := Sanction{Kind: in.Kind, Label: app.ChoiceLabel(SanctionKinds, in.Kind), Reason: in.Reason, StartsAt: now, InForce: in.Kind != "warning"}
	if in.Days > 0 {
		end := now.Add(time.Duration(in.Days) * 24 * time.Hour)
		sn.EndsAt = &end
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := member(ctx, tx, &app.Principal{UserID: userID}, true); err != nil {
			return app.NotFound("The member")
		}
		if userID == p.UserID {
			return app.Errorf(app.CodeForbidden, "You cannot sanction yourself")
		}
		var ends any
		if sn.EndsAt != nil {
			ends = *sn.EndsAt
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO community_sanctions (user_id, kind, reason, starts_at, ends_at, created_by_user_id)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, userID, in.Kind, in.Reason, now, ends, p.UserID).Scan(&sn.ID); err != nil {
			return err
		}
		until := ""
		if sn.EndsAt != nil {
			until = ukTime(*sn.EndsAt)
		}
		if err := s.Notify.Tell(ctx, tx, userID, 0, notify.CommunitySanction{Kind: in.Kind, Title: sn.Label, Reason: in.Reason, Date: until}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.sanction", ObjectType: "community_member",
			ObjectID: fmt.Sprint(userID), Outcome: in.Kind})
	})
	return sn, err
}

// LiftSanction ends a sanction early, with a reason (moderators). The
// update is conditional on its still being in force, so a second lift (or
// one after it ended) is refused; the member is told; it is audited.
func (s *Service) LiftSanction(ctx context.Context, p *app.Principal, sanctionID int64, in Lift) (Sanction, error) {
	if err := mustModerate(p); err != nil {
		return Sanction{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var pr app.Problems
	if in.Reason == "" {
		pr.Add("lift_reason", "Say why the sanction ends early: the member is told")
	}
	pr.CheckLen("lift_reason", in.Reason, 1000, "The reason")
	if err := pr.Err(); err != nil {
		return Sanction{}, err
	}
	now := s.Clock.Now()
	var sn Sanction
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		sn, err = s.lift(ctx, tx, p, sanctionID, in.Reason, now)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.sanction.lift", ObjectType: "community_sanction",
			ObjectID: fmt.Sprint(sanctionID)})
	})
	return sn, err
}

// lift ends a sanction still in force (a warning is never in force, but it
// can be withdrawn), telling the member, inside tx.
func (s *Service) lift(ctx context.Context, tx *store.Tx, p *app.Principal, sanctionID int64, reason string, now time.Time) (Sanction, error) {
	res, err := tx.ExecContext(ctx, `UPDATE community_sanctions SET lifted_at = $1, lifted_by_user_id = $2, lift_reason = $3
		WHERE id = $4 AND lifted_at IS NULL AND (ends_at IS NULL OR ends_at > $1)`, now, p.UserID, reason, sanctionID)
	if err != nil {
		return Sanction{}, err
	}
	rows, err := tx.QueryContext(ctx, sanctionSelect+" WHERE id = $1", sanctionID)
	if err != nil {
		return Sanction{}, err
	}
	ss, err := scanSanctions(rows, now)
	if err != nil {
		return Sanction{}, err
	}
	if len(ss) == 0 {
		return Sanction{}, app.NotFound("The sanction")
	}
	if n, err := res.RowsAffected(); err != nil {
		return Sanction{}, err
	} else if n == 0 {
		return Sanction{}, app.Errorf(app.CodeConflict, "This sanction has already ended or been lifted")
	}
	sn := ss[0]
	return sn, s.Notify.Tell(ctx, tx, sn.userID, 0, notify.CommunitySanctionLifted{Title: sn.Label, Reason: reason})
}

// MySanctions is the caller's own sanctions, newest first: what they are,
// why, and until when.
func (s *Service) MySanctions(ctx context.Context, p *app.Principal) ([]Sanction, error) {
	var out []Sanction
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = sanctionsOf(ctx, tx, p.UserID, s.Clock.Now())
		return err
	})
	return out, err
}

// suspended answers a SuspendedError when the caller is suspended now.
func suspended(ctx context.Context, tx *store.Tx, p *app.Principal, now time.Time) error {
	if p == nil || p.UserID == 0 || isModerator(p) {
		return nil
	}
	r, err := restrictionOf(ctx, tx, p.UserID, now)
	if err != nil {
		return err
	}
	if r.NoEntry {
		return &SuspendedError{Until: r.Until}
	}
	return nil
}

// IsSuspended reports whether err is a suspended member's refusal, and
// until when.
func IsSuspended(err error) (time.Time, bool) {
	var se *SuspendedError
	if errors.As(err, &se) {
		return se.Until, true
	}
	return time.Time{}, false
}
