package store

import (
	"database/sql"
	"errors"
)

// ErrNoFreeValue is what InsertUnique returns when every value it tried
// was taken.
var ErrNoFreeValue = errors.New("every value tried was taken")

// InsertUnique inserts a row under a fresh random value (a reference people
// quote) that a UNIQUE constraint guards. insert must write with
// `ON CONFLICT (column) DO NOTHING RETURNING …` and return what Scan
// returns: sql.ErrNoRows means the value was taken — already, or by a
// transaction committing at the same moment, which PostgreSQL waits for —
// and another is tried, without failing the transaction (as a unique
// violation would on PostgreSQL). It returns the value written, or
// ErrNoFreeValue after tries clashes.
func InsertUnique(tries int, next func() string, insert func(value string) error) (string, error) {
	for range tries {
		v := next()
		err := insert(v)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		return v, err
	}
	return "", ErrNoFreeValue
}
