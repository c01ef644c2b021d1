package store

import (
	"fmt"
	"time"
)

// AnyTime scans a timestamp that SQLite may give back as text: an
// aggregate (MAX, COALESCE) of a timestamp column loses the column's type
// there, and modernc's driver then answers its stored text.
type AnyTime struct {
	Time  time.Time
	Valid bool
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

// Scan implements sql.Scanner.
func (t *AnyTime) Scan(src any) error {
	t.Valid = false
	var s string
	switch v := src.(type) {
	case nil:
		return nil
	case time.Time:
		t.Time, t.Valid = v.UTC(), true
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("cannot read %T as a time", src)
	}
	for _, l := range timeLayouts {
		if tm, err := time.Parse(l, s); err == nil {
			t.Time, t.Valid = tm.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("cannot read %q as a time", s)
}
