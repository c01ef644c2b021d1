package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// Why the service cancelled an appointment, as the person and the worker
// read it on the appointment.
const (
	ReasonSupportEnded   = "Support ended"
	ReasonBackToWaiting  = "Back on the waiting list: a new peer worker will arrange a new time"
	ReasonNewWorkerBusy  = "Your peer worker changed and your new worker is not free then: they will arrange a new time"
	followCancelAction   = "appointment.cancelled_by_service"
	followReassignAction = "appointment.reassigned"
)

// FollowMove keeps a referral's appointments true to the referral, inside
// the move's transaction (referral.MoveFollower), so a person is never
// reminded of a visit that will not happen:
//
//   - the referral closes (ended, withdrawn, declined, redirected) or goes
//     back to the waiting list: every appointment still to come (proposed
//     or booked) is cancelled by the service, saying why;
//   - it is allocated to another worker: each one still to come goes to the
//     new worker when they are free then (taking their lock, so the
//     double-booking check holds for them), and is cancelled otherwise; a
//     warm handover meeting with the new worker is kept as it is, the two
//     workers swapping places on it (both were booked already).
//
// The person is told in Mutual what changed (how many, never when or
// where), when they know of the referral and have an account. An error
// undoes the move.
func (s *Service) FollowMove(ctx context.Context, tx *store.Tx, p *app.Principal, m referral.FollowedMove) error {
	closing := m.To.Closed() || m.To == referral.Accepted
	changing := m.To == referral.Allocated && m.OldWorkerID != 0 && m.NewWorkerID != m.OldWorkerID
	if !closing && !changing {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, starts_at, ends_at, version, COALESCE(handover_worker_id, 0) FROM appointments
		WHERE referral_id = $1 AND status IN ('proposed', 'booked') AND starts_at > $2 ORDER BY starts_at, id`, m.ReferralID, m.At)
	if err != nil {
		return err
	}
	type upcoming struct {
		id         int64
		start, end time.Time
		version    int
		handover   int64
	}
	var list []upcoming
	for rows.Next() {
		var u upcoming
		if err := rows.Scan(&u.id, &u.start, &u.end, &u.version, &u.handover); err != nil {
			rows.Close()
			return err
		}
		list = append(list, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(list) == 0 {
		return err
	}
	if changing {
		if err := tx.Lock(ctx, lockKey(m.NewWorkerID)); err != nil {
			return err
		}
	}
	var cancelled, moved int
	for _, u := range list {
		reason := ReasonSupportEnded
		switch {
		case m.To == referral.Accepted:
			reason = ReasonBackToWaiting
		case changing && u.handover == m.NewWorkerID:
			// The warm handover meeting with the new worker: both are
			// booked on it already, so it is kept, the two swapping places
			// (the outgoing worker now comes as the other worker).
			if err := tx.ExecOne(ctx, errMovedMeanwhile(), `UPDATE appointments SET worker_user_id = $1, handover_worker_id = $2, team_id = $3, updated_at = $4,
				updated_by_user_id = $5, version = version + 1 WHERE id = $6 AND version = $7`, m.NewWorkerID, nullID(m.OldWorkerID), nullID(m.TeamID), m.At,
				nullID(p.UserID), u.id, u.version); err != nil {
				return err
			}
			moved++
			if err := audit.Record(ctx, tx, m.At, m.Actor, audit.Event{Action: followReassignAction,
				SubjectPersonID: m.PersonID, ObjectType: "appointment", ObjectID: fmt.Sprint(u.id)}); err != nil {
				return err
			}
			continue
		case changing:
			_, _, err := clash(ctx, tx, m.NewWorkerID, u.start, u.end, u.id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if errors.Is(err, sql.ErrNoRows) {
				// A warm handover meeting whose incoming worker is not the one
				// the referral went to becomes a meeting with the new worker:
				// the displaced worker is no longer booked on it, nor sees it.
				if err := tx.ExecOne(ctx, errMovedMeanwhile(), `UPDATE appointments SET worker_user_id = $1, handover_worker_id = NULL, team_id = $2, updated_at = $3, updated_by_user_id = $4,
					version = version + 1 WHERE id = $5 AND version = $6`, m.NewWorkerID, nullID(m.TeamID), m.At, nullID(p.UserID), u.id, u.version); err != nil {
					return err
				}
				moved++
				if err := audit.Record(ctx, tx, m.At, m.Actor, audit.Event{Action: followReassignAction,
					SubjectPersonID: m.PersonID, ObjectType: "appointment", ObjectID: fmt.Sprint(u.id)}); err != nil {
					return err
				}
				continue
			}
			reason = ReasonNewWorkerBusy
		}
		// Cancelled by the service, a warm handover meeting books its other
		// worker no more, and they no longer see it.
		if err := tx.ExecOne(ctx, errMovedMeanwhile(), `UPDATE appointments SET status = 'cancelled', cancelled_by = $1, cancel_reason = $2, handover_worker_id = NULL, updated_at = $3,
			updated_by_user_id = $4, version = version + 1 WHERE id = $5 AND version = $6`, string(SideService), reason, m.At, nullID(p.UserID), u.id, u.version); err != nil {
			return err
		}
		cancelled++
		if err := audit.Record(ctx, tx, m.At, m.Actor, audit.Event{Action: followCancelAction,
			SubjectPersonID: m.PersonID, ObjectType: "appointment", ObjectID: fmt.Sprint(u.id)}); err != nil {
			return err
		}
	}
	return s.tellPerson(ctx, tx, p, m, cancelled, moved)
}

// errMovedMeanwhile is an appointment the move found but another change
// reached first: the move answers 409 and is undone.
func errMovedMeanwhile() error {
	return app.Errorf(app.CodeConflict, "One of this person's appointments was changed at the same moment. Try again.")
}

// tellPerson tells the person in Mutual how many of their appointments the
// service cancelled or gave to their new worker.
func (s *Service) tellPerson(ctx context.Context, tx *store.Tx, p *app.Principal, m referral.FollowedMove, cancelled, moved int) error {
	if s.Notify == nil || !m.PersonKnows {
		return nil
	}
	var userID int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE person_id = $1 AND status = 'active'", m.PersonID).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) || userID == p.UserID {
		return nil
	} else if err != nil {
		return err
	}
	return s.Notify.Tell(ctx, tx, userID, m.ReferralID, notify.AppointmentsChanged{Reference: m.Reference, To: string(m.To),
		Cancelled: cancelled, Moved: moved})
}
