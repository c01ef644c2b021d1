// Package storetest gives tests a real, migrated, empty database on each
// engine: a SQLite file of its own (in memory-backed /dev/shm when there is
// room; see sqliteDir), and a schema of its own on a real PostgreSQL server
// (pool.go: how both start migrated without each test migrating).
//
// PostgreSQL is found at MUTUAL_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When it does
// not answer the PostgreSQL half of a test is skipped — except under CI=true,
// where it fails, so CI can never pass by skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/mutualhq/mutual/internal/store"
)

// Engines lists the engines every storage test runs on.
var Engines = []store.Dialect{store.SQLite, store.Postgres}

// PostgresURL is the server tests create their schemas on.
func PostgresURL() string {
	if u := os.Getenv("MUTUAL_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var (
	pgOnce sync.Once
	pgErr  error
)

// RequirePostgres skips (or, under CI=true, fails) when PostgreSQL is not
// reachable.
func RequirePostgres(tb testing.TB) {
	tb.Helper()
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	if pgErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required under CI=true but did not answer at %s: %v", PostgresURL(), pgErr)
		}
		tb.Skipf("PostgreSQL not reachable at %s (set MUTUAL_TEST_POSTGRES): %v", PostgresURL(), pgErr)
	}
}

// DSN returns a connection string for a new, empty database on engine: a
// SQLite file in a temporary folder, or a new PostgreSQL schema that is
// dropped when the test ends.
func DSN(tb testing.TB, engine store.Dialect) string {
	tb.Helper()
	if engine == store.SQLite {
		return filepath.Join(sqliteDir(tb), "mutual.db")
	}
	RequirePostgres(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("creating test schema: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	return schemaDSN(schema)
}

var (
	memOnce   sync.Once
	memParent string
)

// sqliteDir returns a new, empty folder for a test's SQLite file, removed
// when the test ends. It is on a memory file system (/dev/shm) when there
// is one with room to spare: SQLite still syncs every commit there
// (store.Open checks synchronous=FULL), but a sync costs nothing instead of
// a disk flush, and tests cannot tell the difference (a process killed
// mid-write leaves the same file either way; only a power cut would not).
// MUTUAL_TEST_SQLITE_DIR names another parent folder, or "-" for the
// test's ordinary temporary folder.
func sqliteDir(tb testing.TB) string {
	tb.Helper()
	parent := sqliteParent()
	if parent == "" || parent == "-" {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "mutual-test-")
	if err != nil {
		tb.Fatalf("making a folder for the test database: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// sqliteParent is the folder test databases are made in: "" or "-" for
// the test's ordinary temporary folder.
func sqliteParent() string {
	memOnce.Do(func() {
		memParent = os.Getenv("MUTUAL_TEST_SQLITE_DIR")
		if memParent == "" {
			memParent = memDir()
		}
	})
	return memParent
}

// Open returns a migrated, empty database on engine, closed when the test
// ends. A test's database is a copy of one migrated SQLite file, or a
// PostgreSQL schema emptied after an earlier test of the same process
// (pool.go), and its PostgreSQL database commits asynchronously
// (store.OpenThrowaway), as its SQLite file is in memory. A benchmark's is
// migrated afresh and commits as a service's does, so its figures are a
// service's.
func Open(tb testing.TB, engine store.Dialect) *store.DB {
	tb.Helper()
	if _, bench := tb.(*testing.B); bench {
		return openWith(tb, engine, store.Open)
	}
	if engine == store.SQLite {
		return openSQLiteCopy(tb, store.OpenThrowaway)
	}
	return openPostgresPooled(tb, store.OpenThrowaway)
}

// OpenDurable is Open committing as a service does, in a freshly migrated
// database, for a test that reports a figure (the caseload import's time).
func OpenDurable(tb testing.TB, engine store.Dialect) *store.DB {
	tb.Helper()
	return openWith(tb, engine, store.Open)
}

// OpenAt is a fresh database migrated only up to version, for a test of
// an upgrade from the release before: it migrates the rest itself.
func OpenAt(tb testing.TB, engine store.Dialect, version int) *store.DB {
	tb.Helper()
	db := openClosed(tb, engine, DSN(tb, engine), store.Open)
	if _, err := db.MigrateTo(context.Background(), version); err != nil {
		tb.Fatalf("migrating %s to %d: %v", engine, version, err)
	}
	return db
}

// openClosed opens dsn, closed when the test ends.
func openClosed(tb testing.TB, engine store.Dialect, dsn string, open opener) *store.DB {
	tb.Helper()
	db, err := open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("opening %s: %v", engine, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func openWith(tb testing.TB, engine store.Dialect, open opener) *store.DB {
	tb.Helper()
	return openAndMigrate(tb, engine, DSN(tb, engine), open)
}

func openAndMigrate(tb testing.TB, engine store.Dialect, dsn string, open opener) *store.DB {
	tb.Helper()
	db := openClosed(tb, engine, dsn, open)
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrating %s: %v", engine, err)
	}
	return db
}

// Each runs fn as a subtest on every engine.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Name returns a short unique name for fixtures.
func Name(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s", prefix, hex.EncodeToString(b[:]))
}

// Bulk inserts rows of values (head is "INSERT INTO t (cols)") in
// statements of at most 500 rows: for benchmarks that load volumes no
// service would write one by one.
func Bulk(ctx context.Context, tx *store.Tx, head string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(500, len(rows))
		a := store.NewArgs()
		var vals []string
		for _, r := range rows[:n] {
			ph := make([]string, len(r))
			for i, v := range r {
				ph[i] = a.Add(v)
			}
			vals = append(vals, "("+strings.Join(ph, ", ")+")")
		}
		if _, err := tx.ExecContext(ctx, head+" VALUES "+strings.Join(vals, ", "), a.Values()...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
