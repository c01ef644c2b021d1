package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/calendar"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// ReminderLead is how long before a booked appointment its person is
// reminded.
const ReminderLead = 24 * time.Hour

// reference is an appointment's reference in messages: no name, no place.
func reference(id int64) string { return fmt.Sprintf("A-%d", id) }

// ReminderCalendar is the calendar file sent with a reminder: "Peer
// support", the time in Europe/London and a link — never the worker's
// name or the place, which could say something about the person to
// whoever sees their calendar.
func ReminderCalendar(id int64, start, end time.Time, link string, now time.Time) mail.Attachment {
	cal := calendar.New("")
	calendar.Add(cal, calendar.Event{UID: fmt.Sprintf("appointment-%d@mutual", id), Summary: "Peer support",
		Description: "Details, or to cancel or move it: " + link, URL: link, Start: start, End: end, Stamp: now})
	return mail.Attachment{Name: "peer-support-" + reference(id) + ".ics", ContentType: "text/calendar; charset=utf-8; method=PUBLISH",
		Data: calendar.Bytes(cal)}
}

// reminderKind is one kind of reminder: how long before the start it
// goes, the column that claims it (so it goes once), and which choices ask
// for it.
type reminderKind struct {
	action string
	lead   time.Duration
	column string
	// wants is the condition on the person's choice (choiceOf) under which
	// this reminder goes, given now.
	wants func(a *store.Args, now time.Time) string
}

// choiceOf is the person's reminder choice for the appointment being
// read or claimed (the default, the day before, when they have not chosen).
const choiceOf = "COALESCE((SELECT rc.choice FROM reminder_choices rc WHERE rc.person_id = appointments.person_id), '24h')"

// reminderKinds: the day before goes to those who chose it, and to those
// who chose both unless the appointment is already within 2 hours (booked
// late: the one reminder 2 hours before does, so nobody gets two at once);
// 2 hours before goes to those who chose it or both. "none" is in neither.
var reminderKinds = []reminderKind{
	{action: "appointment.remind", lead: ReminderLead, column: "reminded_at", wants: func(a *store.Args, now time.Time) string {
		return "(" + choiceOf + " = '24h' OR (" + choiceOf + " = 'both' AND starts_at > " + a.Add(now.Add(SoonLead)) + "))"
	}},
	{action: "appointment.remind.soon", lead: SoonLead, column: "reminded_soon_at", wants: func(*store.Args, time.Time) string {
		return choiceOf + " IN ('2h', 'both')"
	}},
}

// SendReminders emails the person of each booked appointment (who has an
// account) the reminders they chose — the day before (24 hours; the
// default), 2 hours before, both, or none — each once, with a calendar
// file. Each reminder is claimed by a conditional update of its own column
// (reminded_at, reminded_soon_at) that also checks, in the same statement,
// that the appointment is still booked and still to come and that the
// person's choice still asks for it, so several instances send each once,
// a cancelled appointment is never reminded, and a person who chose none
// is never reminded. It returns how many were sent.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	sent := 0
	for _, k := range reminderKinds {
		n, err := s.sendReminders(ctx, k)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (s *Service) sendReminders(ctx context.Context, k reminderKind) (int, error) {
	now := s.Clock.Now()
	var ids []int64
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		a := store.NewArgs(now, now.Add(k.lead))
		rows, err := tx.QueryContext(ctx, `SELECT id FROM appointments WHERE `+k.column+` IS NULL AND status = 'booked' AND starts_at > $1 AND starts_at <= $2
			AND `+k.wants(a, now)+` ORDER BY starts_at LIMIT 500`, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, id := range ids {
		// Counted once the reminder's transaction has committed: a retried
		// one would otherwise count it twice.
		did := false
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			did = false
			var personID int64
			var start, end time.Time
			a := store.NewArgs(now, id)
			err := tx.QueryRowContext(ctx, `UPDATE appointments SET `+k.column+` = $1 WHERE id = $2 AND `+k.column+` IS NULL AND status = 'booked' AND starts_at > $1
				AND `+k.wants(a, now)+` RETURNING person_id, starts_at, ends_at`, a.Values()...).Scan(&personID, &start, &end)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // reminded, moved, cancelled or no longer wanted meanwhile
			} else if err != nil {
				return err
			}
			var email string
			err = tx.QueryRowContext(ctx, "SELECT email FROM users WHERE person_id = $1 AND status = 'active' ORDER BY id LIMIT 1", personID).Scan(&email)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // no account to remind
			} else if err != nil {
				return err
			}
			link := s.BaseURL + fmt.Sprintf("/appointments/%d", id)
			when := start.In(app.London).Format("3:04pm on Monday 2 January")
			if err := notify.SendEmail(ctx, tx, now, email, notify.AppointmentReminder{Reference: reference(id), When: when, Link: link},
				ReminderCalendar(id, start, end, link, now)); err != nil {
				return err
			}
			did = true
			return audit.Record(ctx, tx, now, app.Actor{Role: "operator", RequestID: "appointment-reminders"}, audit.Event{
				Action: k.action, SubjectPersonID: personID, ObjectType: "appointment", ObjectID: fmt.Sprint(id)})
		})
		if err != nil {
			return sent, err
		}
		if did {
			sent++
		}
	}
	return sent, nil
}
