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
		insert := insertOrganisation
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
			run           func(context.Context, func(*store.Tx) error) error
			level, access string
		}{{db.Write, "read committed", "off"}, {db.Read, "repeatable read", "on"}} {
			var level, readOnly string
			if err := c.run(ctx, func(tx *store.Tx) error { return tx.QueryRowContext(ctx, mode).Scan(&level, &readOnly) }); err != nil {
				t.Fatal(err)
			}
			if level != c.level || readOnly != c.access {
				t.Errorf("began %s, read only %s; want %s, %s", level, readOnly, c.level, c.access)
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

// insertOrganisation adds an organisation named $1, made at $2.
const insertOrganisation = "INSERT INTO organisations (name, kind, created_at) VALUES ($1, 'nhs_trust', $2)"

// organisationsNamed counts the organisations named name, as q sees them.
func organisationsNamed(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM organisations WHERE name = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// plainPgx opens pgx's own database/sql driver on the test's schema, one
// connection, for contrast.
func plainPgx(t *testing.T, db *store.DB) *sql.DB {
	t.Helper()
	p, err := sql.Open("pgx", storetest.DSNOf(t, db))
	if err != nil {
		t.Fatal(err)
	}
	p.SetMaxOpenConns(1)
	t.Cleanup(func() { p.Close() })
	return p
}

// A statement prepared on the pool (sql.DB.PrepareContext, as
// QueryRowCached keeps them) and used in a transaction with tx.StmtContext
// runs through the driver statement database/sql already holds for that
// connection. As a transaction's first statement it still runs inside the
// transaction: a rolled-back write is gone, as with pgx's driver alone.
// (Found by a review: it ran with no BEGIN at all, and stayed.)
func TestPoolStatementFirstIsInsideTheTransaction(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	insert := insertOrganisation
	undone := errors.New("undone")

	// pgx's driver alone: the row is rolled back.
	plain := plainPgx(t, db)
	pst, err := plain.PrepareContext(ctx, insert)
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	ptx, err := plain.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ptx.StmtContext(ctx, pst).ExecContext(ctx, "Plain", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if err := ptx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := organisationsNamed(t, plain, "Plain"); n != 0 {
		t.Fatalf("pgx's driver alone kept %d rolled-back rows", n)
	}

	// Mutual's pool, one connection so that the statement is prepared on
	// the connection the transaction gets (with 24 it is a matter of luck).
	pool := db.WritePool()
	pool.SetMaxOpenConns(1)
	st, err := pool.PrepareContext(ctx, insert)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.StmtContext(ctx, st).ExecContext(ctx, "Undone", time.Now().UTC()); err != nil {
			return err
		}
		return undone
	})
	if !errors.Is(err, undone) {
		t.Fatal(err)
	}
	if n := organisationsNamed(t, db.WritePool(), "Undone"); n != 0 {
		t.Fatalf("a write made with tx.StmtContext as a transaction's first statement, then rolled back, is in the table (%d row): it ran outside the transaction", n)
	}
}

// pgx's driver runs an Exec with no arguments with the simple protocol,
// which takes several commands in one text (migrations run their files
// that way): as a transaction's first statement too. (Found by a review:
// it was prepared, and PostgreSQL refuses to prepare several commands.)
func TestFirstStatementOfSeveralCommands(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	two := "SELECT 1; SELECT 2"
	if err := db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT 0"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, two)
		return err
	}); err != nil {
		t.Fatalf("as a later statement: %v", err)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, two)
		return err
	}); err != nil {
		t.Fatalf("as the first statement: %v", err)
	}
}

// A first statement kept prepared that goes stale fails once, as pgx's own
// prepared statements do, and is prepared afresh: here a column compared
// with a parameter changes type (int to text), then every statement of the
// connection is deallocated (DEALLOCATE ALL). (Found by a review: only
// "cached plan must not change result type" was recovered from, and any
// other failure repeated on every transaction the connection started with
// that statement, for as long as it lived.)
func TestStaleFirstStatementIsPreparedAfresh(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	db.WritePool().SetMaxOpenConns(1) // the connection that kept the statement
	if _, err := db.Exec(ctx, "CREATE TABLE first_params (a INT, b TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "INSERT INTO first_params VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	q := "SELECT b FROM first_params WHERE a = $1"
	read := func(first bool) error {
		return db.Read(ctx, func(tx *store.Tx) error {
			if !first {
				if _, err := tx.ExecContext(ctx, "SELECT 0"); err != nil {
					return err
				}
			}
			var b string
			return tx.QueryRowContext(ctx, q, "1").Scan(&b)
		})
	}
	for _, first := range []bool{true, false} {
		if err := read(first); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(ctx, "ALTER TABLE first_params ALTER COLUMN a TYPE TEXT"); err != nil {
		t.Fatal(err)
	}
	failed := map[bool]int{}
	var last error
	for range 5 {
		for _, first := range []bool{true, false} {
			if err := read(first); err != nil {
				failed[first]++
				if first {
					last = err
				}
			}
		}
	}
	if failed[false] > 1 {
		t.Fatalf("as a later statement (pgx's cache), %d of 5 failed", failed[false])
	}
	if failed[true] > 1 {
		t.Fatalf("after the column changed type, the first statement failed %d times of 5 (a later statement: %d): %v", failed[true], failed[false], last)
	}
	if _, err := db.Exec(ctx, "DEALLOCATE ALL"); err != nil {
		t.Fatal(err)
	}
	failed = map[bool]int{}
	for range 5 {
		if err := read(true); err != nil {
			failed[true]++
			last = err
		}
	}
	if failed[true] > 1 {
		t.Fatalf("after DEALLOCATE ALL, the first statement failed %d times of 5: %v", failed[true], last)
	}
}

// rows.ColumnTypes answers for a transaction's first statement as for a
// later one, which pgx's driver reads. (Found by a review.)
func TestFirstStatementColumnTypes(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	typeOf := func(first bool) (name, scan string) {
		err := db.Read(ctx, func(tx *store.Tx) error {
			if !first {
				if _, err := tx.ExecContext(ctx, "SELECT 0"); err != nil {
					return err
				}
			}
			rows, err := tx.QueryContext(ctx, "SELECT 1::bigint AS n")
			if err != nil {
				return err
			}
			defer rows.Close()
			cts, err := rows.ColumnTypes()
			if err != nil {
				return err
			}
			name, scan = cts[0].DatabaseTypeName(), cts[0].ScanType().String()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return name, scan
	}
	fn, fs := typeOf(true)
	ln, ls := typeOf(false)
	if fn != ln || fs != ls {
		t.Fatalf("column type of the first statement %q (scan type %s), of a later one %q (scan type %s)", fn, fs, ln, ls)
	}
}

// A statement that fails inside a PostgreSQL transaction aborts it: every
// later statement fails and COMMIT answers ROLLBACK (pgx's driver:
// ErrTxCommitRollback), so a closure that carries on past an error cannot
// commit half its work. So does a first statement that fails before it
// runs (an unknown column), which cannot be prepared. (Found by a review:
// it failed before its BEGIN was sent, and the rest of the closure's
// writes committed.)
func TestFailedFirstStatementAbortsTheTransaction(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	insert := insertOrganisation
	broken := "INSERT INTO organisations (name, no_such_column) VALUES ($1, 1)"
	count := func(name string) int { return organisationsNamed(t, db.WritePool(), name) }

	// pgx's driver alone: the transaction is aborted and commits nothing.
	plain := plainPgx(t, db)
	ptx, err := plain.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ptx.ExecContext(ctx, broken, "Plain"); err == nil {
		t.Fatal("the broken statement ran")
	}
	_, _ = ptx.ExecContext(ctx, insert, "Plain", time.Now().UTC())
	if err := ptx.Commit(); err == nil || count("Plain") != 0 {
		t.Fatalf("pgx's driver alone: commit %v, %d rows", err, count("Plain"))
	}

	var firstErr error
	err = db.Write(ctx, func(tx *store.Tx) error {
		_, firstErr = tx.ExecContext(ctx, broken, "Half")
		_, err := tx.ExecContext(ctx, insert, "Half", time.Now().UTC())
		return err
	})
	if firstErr == nil {
		t.Fatal("the broken statement ran")
	}
	if err == nil || count("Half") != 0 {
		t.Fatalf("a transaction whose first statement failed (%v) went on and committed: Write returned %v, %d rows written", firstErr, err, count("Half"))
	}
}
