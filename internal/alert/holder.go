package alert

import (
	"context"
	"database/sql"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// Holder gives a person's alerts to the data-rights service (it satisfies
// person.Holder, which this package cannot import from its layer).
type Holder struct{}

// HolderName is the heading in a person's copy of their data.
func (Holder) HolderName() string { return "Alerts about you" }

// Tables are the tables alerts keep a person's data in.
func (Holder) Tables() []string { return []string{"alerts"} }

// HeldAlert is one alert about a person, in their copy of their data.
type HeldAlert struct {
	About      string     `json:"about"`
	Reference  string     `json:"reference"`
	RaisedAt   time.Time  `json:"raised_at"`
	DueAt      time.Time  `json:"due_at"`
	Escalated  *time.Time `json:"escalated_at,omitempty"`
	Resolved   *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	Outcome    string     `json:"outcome,omitempty"`
	Note       string     `json:"note,omitempty"`
}

// Export returns every alert about the person, in words.
func (Holder) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE a.person_id = $1 ORDER BY a.raised_at, a.id", personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []HeldAlert{}
	for rows.Next() {
		a, err := scanAlert(rows, time.Now())
		if err != nil {
			return nil, err
		}
		out = append(out, HeldAlert{About: a.Kind.Label(), Reference: a.Reference, RaisedAt: a.RaisedAt, DueAt: a.DueAt,
			Escalated: a.Escalated, Resolved: a.Resolved, ResolvedBy: a.ResolvedBy, Outcome: a.OutcomeLabel(), Note: a.Note})
	}
	return out, rows.Err()
}

// LastActivity is when an alert about the person was last raised or
// answered.
func (Holder) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	// Times are compared here: SQLite's MAX over a timestamp column
	// answers text, not a time.
	rows, err := tx.QueryContext(ctx, "SELECT raised_at, resolved_at FROM alerts WHERE person_id = $1", personID)
	if err != nil {
		return time.Time{}, err
	}
	defer rows.Close()
	var last time.Time
	for rows.Next() {
		var raised time.Time
		var resolved sql.NullTime
		if err := rows.Scan(&raised, &resolved); err != nil {
			return time.Time{}, err
		}
		if raised.After(last) {
			last = raised.UTC()
		}
		if resolved.Valid && resolved.Time.After(last) {
			last = resolved.Time.UTC()
		}
	}
	return last, rows.Err()
}

// Forget deletes every alert about the person. Run it before the
// referrals the alerts name are deleted.
func (Holder) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	_, err := tx.ExecContext(ctx, "DELETE FROM alerts WHERE person_id = $1", personID)
	return err
}
