package support

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// DefaultGrace is how long after a visit's expected end its worker has to
// check out before their leads are alerted, unless the organisation sets
// another.
const DefaultGrace = 30 * time.Minute

// EarlyCheckIn is how long before a visit starts its worker may check in.
const EarlyCheckIn = time.Hour

// MayCheckIn and MayCheckOut report whether the caller, the visit's own
// worker, may check in to or out of it now.
func (a Appointment) MayCheckIn(p *app.Principal, now time.Time) bool {
	return a.Visit && p != nil && p.UserID == a.WorkerID && a.CheckedIn == nil && a.CheckedOut == nil &&
		(a.Status == Booked || a.Status == Arrived) && !now.Before(a.Start.Add(-EarlyCheckIn))
}

// MayCheckOut: see MayCheckIn.
func (a Appointment) MayCheckOut(p *app.Principal) bool {
	return a.Visit && p != nil && p.UserID == a.WorkerID && a.CheckedOut == nil && a.Status != Cancelled && a.Status != Proposed
}

// CheckIn records that the worker has arrived for a visit at home or in
// the community. Only the visit's own worker checks in, from an hour
// before it starts; twice answers 409.
func (s *Service) CheckIn(ctx context.Context, p *app.Principal, id int64) (Appointment, error) {
	return s.check(ctx, p, id, "in")
}

// CheckOut records that the worker has left a visit safely. A visit they
// never checked in to may still be checked out (it says they are safe);
// an alert already raised stays until a lead records what they did.
func (s *Service) CheckOut(ctx context.Context, p *app.Principal, id int64) (Appointment, error) {
	return s.check(ctx, p, id, "out")
}

func (s *Service) check(ctx context.Context, p *app.Principal, id int64, way string) (Appointment, error) {
	now := s.Clock.Now()
	var out Appointment
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		a, err := loadAppointment(ctx, tx, p, id, true)
		if err != nil {
			return err
		}
		if p.UserID != a.WorkerID || self(p, a.PersonID) {
			return app.Errorf(app.CodeForbidden, "Only the worker making the visit checks in and out")
		}
		if !a.Visit {
			return app.Errorf(app.CodeConflict, "Only visits at home or in the community are checked in and out")
		}
		q := `UPDATE appointments SET checked_in_at = $1, updated_at = $1, version = version + 1 WHERE id = $2 AND checked_in_at IS NULL AND checked_out_at IS NULL`
		switch {
		case way == "in" && !a.MayCheckIn(p, now):
			if a.CheckedIn != nil || a.CheckedOut != nil {
				return app.Errorf(app.CodeConflict, "You have already checked in to this visit")
			}
			return app.Errorf(app.CodeConflict, "You can check in from an hour before a booked visit starts")
		case way == "out" && !a.MayCheckOut(p):
			if a.CheckedOut != nil {
				return app.Errorf(app.CodeConflict, "You have already checked out of this visit")
			}
			return app.Errorf(app.CodeConflict, "Only a booked visit can be checked out")
		case way == "out":
			q = `UPDATE appointments SET checked_out_at = $1, updated_at = $1, version = version + 1 WHERE id = $2 AND checked_out_at IS NULL`
		}
		res, err := tx.ExecContext(ctx, q, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "This visit was changed at the same moment. Look at it again.")
		}
		if out, err = loadAppointment(ctx, tx, p, id, false); err != nil {
			return err
		}
		out.Next = Next(Appt{Status: out.Status, AskedBy: out.AskedBy, Start: out.Start}, SideWorker, now)
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermAppointments), audit.Event{Action: "visit.check_" + way, SubjectPersonID: a.PersonID,
			ObjectType: "appointment", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermAppointments, "visit.check_"+way, "appointment", id, "The appointment")
	}
	return out, nil
}

// RaiseMissedCheckOuts alerts the worker's team's leads about each visit
// at home or in the community (booked or arrived, in the last week) not
// checked out by its expected end plus the organisation's grace period.
// Each visit is claimed by setting lone_alert_at in the same transaction
// as the alert, so several instances running this alert once. It returns
// how many alerts it raised.
func (s *Service) RaiseMissedCheckOuts(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	type due struct {
		id, team int64
		ends     time.Time
		grace    int
	}
	var list []due
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT a.id, COALESCE(a.team_id, 0), a.ends_at, COALESCE(ss.grace_minutes, $1)
			FROM appointments a LEFT JOIN teams t ON t.id = a.team_id LEFT JOIN support_settings ss ON ss.organisation_id = t.organisation_id
			WHERE a.checked_out_at IS NULL AND a.lone_alert_at IS NULL AND a.ends_at <= $2 AND a.ends_at > $3
			AND a.place IN ('home', 'community') AND a.status IN ('booked', 'arrived') ORDER BY a.ends_at LIMIT 500`,
			int(DefaultGrace/time.Minute), now, now.Add(-7*24*time.Hour))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.team, &d.ends, &d.grace); err != nil {
				return err
			}
			if !now.Before(d.ends.Add(time.Duration(d.grace) * time.Minute)) {
				list = append(list, d)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	raised := 0
	for _, d := range list {
		// Counted once its transaction has committed (a retried one would
		// otherwise count it twice).
		did := false
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			did = false
			res, err := tx.ExecContext(ctx, `UPDATE appointments SET lone_alert_at = $1 WHERE id = $2 AND lone_alert_at IS NULL AND checked_out_at IS NULL
				AND status IN ('booked', 'arrived')`, now, d.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil // checked out, moved on, or claimed by another instance
			}
			link := VisitLink(d.id)
			if _, _, err := s.Alerts.Raise(ctx, tx, now, app.Actor{RequestID: "lone-working"}, alert.New{Kind: alert.LoneWorking, TeamID: d.team,
				Reference: fmt.Sprintf("V-%d", d.id), Detail: []string{"not_checked_out"}, Link: link}); err != nil {
				return err
			}
			did = true
			return nil
		})
		if err != nil {
			return raised, err
		}
		if did {
			raised++
		}
	}
	return raised, nil
}

// VisitLink is where a lead responds to a visit's lone-working alert.
func VisitLink(id int64) string { return fmt.Sprintf("/appointments/%d", id) }

// RunLoneWorking checks for visits not checked out every interval until ctx
// ends.
func (s *Service) RunLoneWorking(ctx context.Context, log *slog.Logger, interval time.Duration) {
	every(ctx, log, interval, "lone working alerts raised", s.RaiseMissedCheckOuts)
}

// RunReminders sends appointment reminders every interval until ctx ends.
func (s *Service) RunReminders(ctx context.Context, log *slog.Logger, interval time.Duration) {
	every(ctx, log, interval, "appointment reminders sent", s.SendReminders)
}

// every runs fn every interval until ctx ends, logging what it did.
func every(ctx context.Context, log *slog.Logger, interval time.Duration, did string, fn func(context.Context) (int, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Warn(did, "err", err)
		} else if n > 0 {
			log.Info(did, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
