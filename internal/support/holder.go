package support

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Holder gives a person's copy of their appointments, and forgets them for
// retention (person.Holder).
type Holder struct{}

var _ person.Holder = Holder{}

// HolderName is the heading in a person's copy.
func (Holder) HolderName() string { return "Appointments with your peer worker" }

// Tables are the tables that hold a person's support data. Of transition
// prompts, the copy holds those a worker marked done, with what they said
// was done (the rest only restate the episodes of the trust's record,
// which the person's copy holds).
func (Holder) Tables() []string {
	return []string{"appointments", "transition_prompts", "reminder_choices"}
}

// HeldSupport is a person's copy: their reminder choice, appointments and
// the transitions their worker marked done.
type HeldSupport struct {
	Reminders    string            `json:"reminders"`
	Appointments []HeldAppointment `json:"appointments"`
	Transitions  []HeldTransition  `json:"transitions_done,omitempty"`
}

// HeldTransition is a transition prompt the worker marked done, in a
// person's copy.
type HeldTransition struct {
	Kind   string    `json:"kind"`
	DoneAt time.Time `json:"done_at"`
	Note   string    `json:"what_was_done"`
}

// HeldAppointment is one appointment in a person's copy.
type HeldAppointment struct {
	Start        time.Time `json:"start"`
	Minutes      int       `json:"minutes"`
	Place        string    `json:"place"`
	PlaceDetail  string    `json:"place_detail,omitempty"`
	Worker       string    `json:"worker"`
	Status       Status    `json:"status"`
	CancelReason string    `json:"cancel_reason,omitempty"`
}

// Export is the person's reminder choice and every appointment of theirs,
// oldest first.
func (Holder) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	rem, err := remindersOf(ctx, tx, personID)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT a.starts_at, a.minutes, a.place, a.place_detail, COALESCE(u.name, ''), a.status, a.cancel_reason
		FROM appointments a LEFT JOIN users u ON u.id = a.worker_user_id WHERE a.person_id = $1 ORDER BY a.starts_at, a.id`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []HeldAppointment{}
	for rows.Next() {
		var h HeldAppointment
		if err := rows.Scan(&h.Start, &h.Minutes, &h.Place, &h.PlaceDetail, &h.Worker, &h.Status, &h.CancelReason); err != nil {
			return nil, err
		}
		h.Start = h.Start.UTC()
		h.Place = PlaceLabel(h.Place)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	trows, err := tx.QueryContext(ctx, `SELECT kind, done_at, done_note FROM transition_prompts WHERE person_id = $1 AND done_at IS NOT NULL ORDER BY done_at, id`, personID)
	if err != nil {
		return nil, err
	}
	defer trows.Close()
	var done []HeldTransition
	for trows.Next() {
		var h HeldTransition
		if err := trows.Scan(&h.Kind, &h.DoneAt, &h.Note); err != nil {
			return nil, err
		}
		h.DoneAt = h.DoneAt.UTC()
		done = append(done, h)
	}
	return HeldSupport{Reminders: rem.Choice.Label(), Appointments: out, Transitions: done}, trows.Err()
}

// LastActivity is when an appointment of the person last changed.
func (Holder) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	var t store.AnyTime
	err := tx.QueryRowContext(ctx, "SELECT MAX(updated_at) FROM appointments WHERE person_id = $1", personID).Scan(&t)
	return t.Time, err
}

// Forget deletes the person's appointments (the newest first, so that a
// rescheduled one goes before the one it replaced), transition prompts and
// their reminder choice.
func (Holder) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM reminder_choices WHERE person_id = $1", personID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM transition_prompts WHERE person_id = $1", personID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE appointments SET rescheduled_from = NULL WHERE person_id = $1", personID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM appointments WHERE person_id = $1", personID)
	return err
}
