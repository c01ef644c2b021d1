package store

import (
	"database/sql"
	"reflect"
	"testing"
)

func TestPositionalPlaceholders(t *testing.T) {
	a, b, c := "a", "b", "c"
	for _, tc := range []struct {
		name, query, want string
		args, wantArgs    []any
	}{
		{"in order", "SELECT $1, $2", "SELECT ?, ?", []any{a, b}, []any{a, b}},
		{"out of order and reused", "UPDATE t SET x = $2 WHERE id = $1 OR y = $2", "UPDATE t SET x = ? WHERE id = ? OR y = ?", []any{a, b}, []any{b, a, b}},
		{"two digits", "VALUES ($10, $1)", "VALUES (?, ?)", []any{a, b, c, a, b, c, a, b, c, "ten"}, []any{"ten", a}},
		{"quoted text left alone", "SELECT '$1', \"$2\", $1, 'it''s $2'", "SELECT '$1', \"$2\", ?, 'it''s $2'", []any{a, b}, []any{a}},
		{"comments left alone", "SELECT $1 -- not $2\n, /* nor $2 */ $2", "SELECT ? -- not $2\n, /* nor $2 */ ?", []any{a, b}, []any{a, b}},
		{"no arguments", "SELECT '$1'", "SELECT '$1'", nil, nil},
		{"already positional", "SELECT ?, $1", "SELECT ?, $1", []any{a}, []any{a}},
		{"a placeholder without its argument", "SELECT $1, $3", "SELECT $1, $3", []any{a, b}, []any{a, b}},
		{"an unclosed quote", "SELECT $1, 'x", "SELECT $1, 'x", []any{a}, []any{a}},
		{"named arguments", "SELECT $1", "SELECT $1", []any{sql.Named("x", a)}, []any{sql.Named("x", a)}},
		{"a dollar that is not a placeholder", "SELECT $1 || '$' || $x", "SELECT ? || '$' || $x", []any{a}, []any{a}},
	} {
		q, args := positional(tc.query, tc.args)
		if q != tc.want || !reflect.DeepEqual(args, tc.wantArgs) {
			t.Errorf("%s: positional(%q) = %q %v, want %q %v", tc.name, tc.query, q, args, tc.want, tc.wantArgs)
		}
	}
}
