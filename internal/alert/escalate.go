package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// EscalateDue escalates every alert that is due with nobody's response
// recorded: each in its own transaction, claimed by a conditional update,
// so several instances running the job at once escalate each alert once.
// It returns how many this call escalated.
func (s *Service) EscalateDue(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	rows, err := s.DB.Query(ctx, `SELECT id FROM alerts WHERE resolved_at IS NULL AND escalated_at IS NULL AND due_at <= $1
		ORDER BY due_at, id LIMIT 500`, now)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		var did bool
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			var err error
			did, err = s.escalateOne(ctx, tx, id, now)
			return err
		})
		if err != nil {
			return n, err
		}
		if did {
			n++
		}
	}
	return n, nil
}

// escalateOne marks one due alert escalated and tells the service managers,
// inside tx. The update is the claim: when another instance (or a lead's
// response) got there first it changes nothing, and nobody is told twice.
func (s *Service) escalateOne(ctx context.Context, tx *store.Tx, id int64, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE alerts SET escalated_at = $1, version = version + 1
		WHERE id = $2 AND resolved_at IS NULL AND escalated_at IS NULL AND due_at <= $1`, now, id)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	s.changed(tx)
	a, err := scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE a.id = $1", id), now)
	if err != nil {
		return false, err
	}
	teamName := a.TeamName
	if teamName == "" {
		teamName = "no team yet"
	}
	ms, err := managers(ctx, tx)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if err := s.Notify.Tell(ctx, tx, m.id, 0, notify.AlertEscalated{About: a.Kind.About(), Reference: a.Reference, TeamName: teamName,
			Due: a.DueAt.In(app.London).Format("3:04pm on Monday 2 January")}); err != nil {
			return false, err
		}
		if err := notify.SendEmail(ctx, tx, now, m.email, notify.AlertEscalatedEmail{Reference: a.Reference, Link: s.BaseURL + "/alerts"}); err != nil {
			return false, err
		}
	}
	return true, audit.Record(ctx, tx, now, app.Actor{Role: "operator", RequestID: "alert-escalation"}, audit.Event{
		Action: "alert.escalate", SubjectPersonID: a.PersonID, ObjectType: "alert", ObjectID: fmt.Sprint(id)})
}
