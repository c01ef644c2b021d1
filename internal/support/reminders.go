package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// ReminderChoice is when a person chooses to be reminded of a booked
// appointment.
type ReminderChoice string

// The reminder choices. A person who has not chosen is reminded the day
// before.
const (
	RemindDayBefore ReminderChoice = "24h"
	RemindSoon      ReminderChoice = "2h"
	RemindBoth      ReminderChoice = "both"
	RemindNone      ReminderChoice = "none"
)

// ReminderChoices are the choices in words, the default first.
var ReminderChoices = []app.Choice{
	{Code: string(RemindDayBefore), Label: "The day before (24 hours before)"},
	{Code: string(RemindSoon), Label: "2 hours before"},
	{Code: string(RemindBoth), Label: "Both: the day before and 2 hours before"},
	{Code: string(RemindNone), Label: "No reminders"},
}

// Label is the choice in words.
func (c ReminderChoice) Label() string { return app.ChoiceLabel(ReminderChoices, string(c)) }

// SoonLead is how long before a booked appointment the "2 hours before"
// reminder goes.
const SoonLead = 2 * time.Hour

// Reminders is a person's choice of reminders.
type Reminders struct {
	PersonID  int64          `json:"person_id"`
	Choice    ReminderChoice `json:"choice" doc:"24h (the day before), 2h (2 hours before), both, or none."`
	Default   bool           `json:"default" doc:"true: the person has not chosen, so they are reminded the day before."`
	UpdatedAt *time.Time     `json:"updated_at,omitempty"`
	ByStaff   bool           `json:"by_staff,omitempty" doc:"true: a member of staff recorded the choice for the person."`
}

// SetReminders changes a person's choice of reminders.
type SetReminders struct {
	Choice ReminderChoice `json:"choice" required:"true" doc:"24h (the day before), 2h (2 hours before), both, or none."`
}

// remindersOf reads a person's choice inside tx (the default when none).
func remindersOf(ctx context.Context, tx *store.Tx, personID int64) (Reminders, error) {
	out := Reminders{PersonID: personID, Choice: RemindDayBefore, Default: true}
	var at store.AnyTime
	var role string
	err := tx.QueryRowContext(ctx, "SELECT choice, updated_at, updated_role FROM reminder_choices WHERE person_id = $1", personID).Scan(&out.Choice, &at, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	} else if err != nil {
		return out, err
	}
	t := at.Time.UTC()
	out.Default, out.UpdatedAt, out.ByStaff = false, &t, role != string(app.RolePerson) && role != string(app.RoleCarer)
	return out, nil
}

// mayRemind checks, inside tx, that the caller may see and set the
// person's reminders: the person themselves (personID 0 or their own), or
// their peer worker or a lead of the team on their open referral. It
// answers the person's id.
func mayRemind(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) (int64, error) {
	if self(p, personID) {
		return p.PersonID, nil
	}
	if personID == 0 || !p.IsStaff() || !p.Can(app.PermAppointments) {
		return 0, access.ErrNotVisible
	}
	if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
		return 0, err
	}
	// Someone without an allocated worker has nobody to record it for
	// them (and no appointments): not found, as for anyone not theirs.
	ref, err := openReferral(ctx, tx, p, personID, false)
	if app.IsCode(err, app.CodeConflict) {
		return 0, access.ErrNotVisible
	} else if err != nil {
		return 0, err
	}
	if !mayWork(p, ref.WorkerID, ref.TeamID) {
		return 0, access.ErrNotVisible
	}
	return personID, nil
}

// GetReminders returns a person's choice of reminders (personID 0: the
// caller's own), audited. Someone the caller may not see is not found.
func (s *Service) GetReminders(ctx context.Context, p *app.Principal, personID int64) (Reminders, error) {
	var out Reminders
	err := s.readAbout(ctx, p, personID, "appointment.reminders", func(tx *store.Tx) (int64, error) {
		pid, err := mayRemind(ctx, tx, p, personID)
		if err != nil {
			return 0, err
		}
		out, err = remindersOf(ctx, tx, pid)
		return pid, err
	})
	return out, err
}

// readAbout runs an audited read about one person (personID 0: the
// caller's own): read answers whose it was, recorded under action as a
// read of their record; a refusal is not found, audited as denied.
func (s *Service) readAbout(ctx context.Context, p *app.Principal, personID int64, action string, read func(tx *store.Tx) (int64, error)) error {
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		pid, err := read(tx)
		if err != nil {
			return err
		}
		record(p.ActorFor(app.PermAppointments), audit.Event{Action: action, SubjectPersonID: pid, ObjectType: "person", ObjectID: fmt.Sprint(pid)})
		return nil
	})
	if err != nil {
		return s.denied(ctx, err, p, app.PermAppointments, action, "person", personID, "The person")
	}
	return nil
}

// SetReminders records a person's choice of reminders (personID 0: the
// caller's own), audited: the person from their account, or their worker
// or lead for them. A choice not in the list is a field problem and writes
// nothing. It takes effect for every booked appointment not yet reminded
// of that kind: SendReminders reads the choice in the write that claims
// each reminder.
func (s *Service) SetReminders(ctx context.Context, p *app.Principal, personID int64, in SetReminders) (Reminders, error) {
	if !app.HasChoice(ReminderChoices, string(in.Choice)) {
		return Reminders{}, app.Invalid(app.FieldError{Field: "choice", Message: "Choose when to be reminded: the day before, 2 hours before, both, or no reminders"})
	}
	now := s.Clock.Now()
	var out Reminders
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		pid, err := mayRemind(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		actor := p.ActorFor(app.PermAppointments)
		if _, err := tx.ExecContext(ctx, `INSERT INTO reminder_choices (person_id, choice, updated_at, updated_by_user_id, updated_role) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (person_id) DO UPDATE SET choice = $2, updated_at = $3, updated_by_user_id = $4, updated_role = $5`,
			pid, string(in.Choice), now, nullID(p.UserID), string(actor.Role)); err != nil {
			return err
		}
		if out, err = remindersOf(ctx, tx, pid); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor, audit.Event{Action: "appointment.reminders.set", SubjectPersonID: pid, ObjectType: "person",
			ObjectID: fmt.Sprint(pid)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermAppointments, "appointment.reminders.set", "person", personID, "The person")
	}
	return out, nil
}
