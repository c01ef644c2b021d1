package matching

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Holder is the matching capability's part of a person's data: their
// choices (every version), what each allocation met of them, the workers
// they asked to change from. Unmet-choice events keep their counts for
// planning when a person is forgotten, without saying whose they were.
type Holder struct{}

var _ person.Holder = Holder{}

// NewHolder returns the matching capability's person.Holder.
func NewHolder() Holder { return Holder{} }

// HolderName is the heading of this part of a person's copy.
func (Holder) HolderName() string { return "Choices and matching" }

// Tables are the tables that name a person.
func (Holder) Tables() []string {
	return []string{"choice_profiles", "allocation_matches", "unmet_choices", "worker_exclusions"}
}

// HeldAllocation is one allocation as a person's copy shows it.
type HeldAllocation struct {
	ReferralID int64       `json:"referral_id"`
	WorkerID   int64       `json:"worker_id"`
	At         time.Time   `json:"at"`
	Met        []Criterion `json:"met"`
	Unmet      []Criterion `json:"unmet"`
}

// HeldExclusion is a worker the person asked to change from.
type HeldExclusion struct {
	WorkerID int64     `json:"worker_id"`
	At       time.Time `json:"at"`
}

// Held is everything this capability holds about one person.
type Held struct {
	Choices       []ChoiceVersion  `json:"choices"`
	Allocations   []HeldAllocation `json:"allocations"`
	AskedToChange []HeldExclusion  `json:"asked_for_a_different_worker"`
}

// Export returns everything held about the person, inside tx.
func (Holder) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	var h Held
	var err error
	if h.Choices, err = choiceVersions(ctx, tx, personID, 10000); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT referral_id, worker_user_id, at, met, unmet FROM allocation_matches WHERE person_id = $1 ORDER BY id", personID)
	if err != nil {
		return nil, err
	}
	h.Allocations = []HeldAllocation{}
	for rows.Next() {
		var a HeldAllocation
		var met, unmet string
		if err := rows.Scan(&a.ReferralID, &a.WorkerID, &a.At, &met, &unmet); err != nil {
			rows.Close()
			return nil, err
		}
		a.At = a.At.UTC()
		if err := fromJSON(met, &a.Met); err != nil {
			rows.Close()
			return nil, err
		}
		if err := fromJSON(unmet, &a.Unmet); err != nil {
			rows.Close()
			return nil, err
		}
		h.Allocations = append(h.Allocations, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, "SELECT worker_user_id, at FROM worker_exclusions WHERE person_id = $1 ORDER BY at", personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	h.AskedToChange = []HeldExclusion{}
	for rows.Next() {
		var x HeldExclusion
		if err := rows.Scan(&x.WorkerID, &x.At); err != nil {
			return nil, err
		}
		x.At = x.At.UTC()
		h.AskedToChange = append(h.AskedToChange, x)
	}
	return h, rows.Err()
}

// LastActivity is when this capability last recorded anything about the
// person.
func (Holder) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	var last time.Time
	// Newest first, not MAX(): an aggregate of a timestamp comes back from
	// SQLite as text.
	for _, q := range []string{
		"SELECT recorded_at FROM choice_profiles WHERE person_id = $1 ORDER BY recorded_at DESC LIMIT 1",
		"SELECT at FROM allocation_matches WHERE person_id = $1 ORDER BY at DESC LIMIT 1",
		"SELECT at FROM worker_exclusions WHERE person_id = $1 ORDER BY at DESC LIMIT 1",
	} {
		var t time.Time
		err := tx.QueryRowContext(ctx, q, personID).Scan(&t)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return last, err
		}
		if t.After(last) {
			last = t.UTC()
		}
	}
	return last, nil
}

// Forget deletes what this capability holds about the person, inside tx.
// Unmet-choice events stay as counts, with the person and referral taken
// off them; allocation records stay for the counts too, without the
// person or the referral (which retention deletes next).
func (Holder) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	for _, q := range []string{
		"DELETE FROM choice_profiles WHERE person_id = $1",
		"DELETE FROM worker_exclusions WHERE person_id = $1",
		"UPDATE unmet_choices SET person_id = NULL, referral_id = NULL WHERE person_id = $1",
		"UPDATE allocation_matches SET person_id = NULL, referral_id = NULL, over_cap_reason = '' WHERE person_id = $1",
	} {
		if _, err := tx.ExecContext(ctx, q, personID); err != nil {
			return err
		}
	}
	return nil
}
