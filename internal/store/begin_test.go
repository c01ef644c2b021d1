package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

// On PostgreSQL a transaction's BEGIN travels with its first statement
// (begin.go). The transaction starts when that statement arrives, not when
// Write or Read is called: with BEGIN sent on its own, as pgx's driver does,
// the time a closure spends before its first statement would lie between the
// transaction's start and the statement's.
func TestBeginTravelsWithTheFirstStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != store.Postgres {
			return // SQLite has no round trips
		}
		ctx := context.Background()
		const delay = 100 * time.Millisecond
		gap := func(run func(context.Context, func(*store.Tx) error) error, query string) time.Duration {
			var seconds float64
			err := run(ctx, func(tx *store.Tx) error {
				time.Sleep(delay)
				return tx.QueryRowContext(ctx, query).Scan(&seconds)
			})
			if err != nil {
				t.Fatal(err)
			}
			return store.Seconds(seconds)
		}
		since := "SELECT EXTRACT(EPOCH FROM statement_timestamp() - transaction_timestamp())"
		for name, run := range map[string]func(context.Context, func(*store.Tx) error) error{"write": db.Write, "read": db.Read} {
			for range 3 { // the statement described, then as described
				if g := gap(run, since); g >= delay/2 {
					t.Fatalf("%s: the transaction began %v before its first statement: BEGIN was sent on its own", name, g)
				}
			}
		}
	})
}

// The first statement runs inside its transaction whichever way it is sent
// (a statement, a query, a prepared statement), and a transaction begins as
// asked: read-write at READ COMMITTED, or read-only at REPEATABLE READ.
func TestFirstStatementIsInsideTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		undone := errors.New("undone")
		insert := "INSERT INTO organisations (name, kind, created_at) VALUES ($1, 'nhs_trust', $2)"
		firsts := map[string]func(tx *store.Tx, name string) error{
			"exec": func(tx *store.Tx, name string) error {
				_, err := tx.ExecContext(ctx, insert, name, time.Now().UTC())
				return err
			},
			"query": func(tx *store.Tx, name string) error {
				var id int64
				return tx.QueryRowContext(ctx, insert+" RETURNING id", name, time.Now().UTC()).Scan(&id)
			},
			"prepared": func(tx *store.Tx, name string) error {
				st, err := tx.PrepareContext(ctx, insert)
				if err != nil {
					return err
				}
				defer st.Close()
				_, err = st.ExecContext(ctx, name, time.Now().UTC())
				return err
			},
		}
		for how, first := range firsts {
			if err := db.Write(ctx, func(tx *store.Tx) error {
				if err := first(tx, "Undone "+how); err != nil {
					return err
				}
				return undone
			}); !errors.Is(err, undone) {
				t.Fatalf("%s: %v", how, err)
			}
			if err := db.Write(ctx, func(tx *store.Tx) error { return first(tx, "Kept "+how) }); err != nil {
				t.Fatalf("%s: %v", how, err)
			}
		}
		var kept, gone int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FILTER (WHERE name LIKE 'Kept %'), COUNT(*) FILTER (WHERE name LIKE 'Undone %') FROM organisations").Scan(&kept, &gone); err != nil {
			t.Fatal(err)
		}
		if kept != 3 || gone != 0 {
			t.Fatalf("kept %d of 3, and %d rolled-back rows remain", kept, gone)
		}
		if db.Dialect != store.Postgres {
			return
		}
		mode := "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')"
		for _, c := range []struct {
			run            func(context.Context, func(*store.Tx) error) error
			level, readOny string
		}{{db.Write, "read committed", "off"}, {db.Read, "repeatable read", "on"}} {
			var level, readOnly string
			if err := c.run(ctx, func(tx *store.Tx) error { return tx.QueryRowContext(ctx, mode).Scan(&level, &readOnly) }); err != nil {
				t.Fatal(err)
			}
			if level != c.level || readOnly != c.readOny {
				t.Errorf("began %s, read only %s; want %s, %s", level, readOnly, c.level, c.readOny)
			}
		}
	})
}

// The first statement's values reach database/sql exactly as every later
// statement's, which pgx's driver reads: the same parameters, and the same
// value of each type (text or binary, as that driver asks for it).
func TestFirstStatementReadsAsTheDriver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != store.Postgres {
			return
		}
		ctx := context.Background()
		at := time.Date(2026, 3, 29, 0, 30, 1, 123456000, time.UTC)
		query := `SELECT $1::bigint, $2::int, 7::smallint, 1.5::real, 2.25::double precision, 12.50::numeric, $3::bool, $4::text,
			'x'::varchar(4), 'a'::char(3), $5::bytea, $6::date, $7::timestamp, $8::timestamptz, '{"a": [1, 2]}'::json,
			'{"b": null}'::jsonb, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid, '1 mon 2 days 03:04:05'::interval,
			$9::bigint[], ARRAY['a', 'b c', NULL]::text[], '10.0.0.1/24'::inet, 'pg_class'::regclass::oid, NULL::int,
			NULL::text, $10::text IS NULL, 'name'::name`
		args := []any{int64(9_007_199_254_740_993), 42, true, "héllo ' \" \\", []byte{0, 1, 255}, at, at, at, []int64{1, -2, 3}, nil}
		read := func(first bool) []any {
			var out []any
			err := db.Read(ctx, func(tx *store.Tx) error {
				if !first {
					if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
						return err
					}
				}
				rows, err := tx.QueryContext(ctx, query, args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						return err
					}
					out = append(out, vals...)
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		for range 2 { // described, then from the description kept
			first, later := read(true), read(false)
			if len(first) != 26 || len(later) != 26 {
				t.Fatalf("read %d and %d values, want 26", len(first), len(later))
			}
			for i := range first {
				if !reflect.DeepEqual(first[i], later[i]) {
					t.Errorf("column %d: first statement %#v, later %#v", i+1, first[i], later[i])
				}
			}
		}
	})
}

// A first statement that fails fails its transaction as any statement
// does (a unique violation is still one), and leaves its connection fit for
// the next transaction; a transaction that sends nothing commits and rolls
// back without a word to the server.
func TestFirstStatementFailing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := "INSERT INTO organisations (id, name, kind, created_at) VALUES (1, 'Twice', 'nhs_trust', $1)"
		if _, err := db.Exec(ctx, insert, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		for i := range 60 { // more than the pool's connections
			err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, insert, time.Now().UTC())
				return err
			})
			if !store.IsUniqueViolation(err) {
				t.Fatalf("attempt %d: %v, want a unique violation", i, err)
			}
			err = db.Read(ctx, func(tx *store.Tx) error {
				var n int
				return tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM no_such_table").Scan(&n)
			})
			if err == nil {
				t.Fatal("a query of a missing table succeeded")
			}
			var name string
			err = db.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryRowContext(ctx, "SELECT name FROM organisations WHERE id = $1", 1).Scan(&name)
			})
			if err != nil || name != "Twice" {
				t.Fatalf("the next transaction: %q, %v", name, err)
			}
			if err := db.Write(ctx, func(*store.Tx) error { return nil }); err != nil {
				t.Fatalf("an empty transaction: %v", err)
			}
			if err := db.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryRowContext(ctx, "SELECT name FROM organisations WHERE id = 2").Scan(&name)
			}); !errors.Is(err, sql.ErrNoRows) {
				t.Fatalf("no rows: %v", err)
			}
		}
	})
}

// A connection keeps its first statements prepared up to a bound (a
// statement built with a list of varying length is a new text each time),
// and prepares one afresh when a change of schema stops it running as
// prepared: that attempt fails, as with pgx's own prepared statements, and
// the next succeeds.
func TestFirstStatementsPreparedWithinBounds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != store.Postgres {
			return
		}
		ctx := context.Background()
		most := 0
		for i := range 300 {
			var n int
			if err := db.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) + %d - %d FROM pg_prepared_statements WHERE name LIKE 'mutual_first_%%'", i, i)).Scan(&n)
			}); err != nil {
				t.Fatal(err)
			}
			most = max(most, n)
		}
		if most > 128 || most < 100 {
			t.Fatalf("a connection held %d first statements prepared: want the most recent 128", most)
		}
		if _, err := db.Exec(ctx, "CREATE TABLE first_changes (a INT)"); err != nil {
			t.Fatal(err)
		}
		star := func() error {
			return db.Read(ctx, func(tx *store.Tx) error {
				rows, err := tx.QueryContext(ctx, "SELECT * FROM first_changes")
				if err != nil {
					return err
				}
				return rows.Close()
			})
		}
		for range 3 {
			if err := star(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(ctx, "ALTER TABLE first_changes ADD COLUMN b INT"); err != nil {
			t.Fatal(err)
		}
		failed := 0
		for range 40 {
			if err := star(); err != nil {
				failed++
			}
		}
		if failed > 3 || star() != nil {
			t.Fatalf("after the schema changed, %d of 40 attempts failed, and then: %v", failed, star())
		}
	})
}
