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

// SendReminders emails the person of each booked appointment starting in
// the next 24 hours (who has an account), once, with a calendar file. Each
// appointment is claimed by setting reminded_at, so several instances
// running this remind once. It returns how many were reminded.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	var ids []int64
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM appointments WHERE reminded_at IS NULL AND status = 'booked' AND starts_at > $1 AND starts_at <= $2
			ORDER BY starts_at LIMIT 500`, now, now.Add(ReminderLead))
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
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			var personID int64
			var start, end time.Time
			err := tx.QueryRowContext(ctx, `UPDATE appointments SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND status = 'booked'
				RETURNING person_id, starts_at, ends_at`, now, id).Scan(&personID, &start, &end)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // reminded, moved or cancelled meanwhile
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
			sent++
			return audit.Record(ctx, tx, now, app.Actor{Role: "operator", RequestID: "appointment-reminders"}, audit.Event{
				Action: "appointment.remind", SubjectPersonID: personID, ObjectType: "appointment", ObjectID: fmt.Sprint(id)})
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}
