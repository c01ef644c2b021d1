// Package storetest gives tests a real, migrated database on each engine:
// a fresh SQLite file, and a fresh schema on a real PostgreSQL server.
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
	"net/url"
	"os"
	"path/filepath"
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
		return filepath.Join(tb.TempDir(), "mutual.db")
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
	u, err := url.Parse(PostgresURL())
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated database on engine, closed when the test ends.
func Open(tb testing.TB, engine store.Dialect) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, DSN(tb, engine))
	if err != nil {
		tb.Fatalf("opening %s: %v", engine, err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
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
