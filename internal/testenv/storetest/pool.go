package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/store"
)

// A test's database starts migrated and empty. Migrating costs more than
// most tests: about 100 ms on SQLite, and on PostgreSQL about 550 ms to
// migrate a new schema plus 230 ms to drop it, paid by each of the suite's
// PostgreSQL tests (in internal/web, two thirds of their time). So:
//
//   - SQLite: the first test of a process migrates a file once; every test
//     then starts from a copy of it (sqliteTemplate).
//   - PostgreSQL: a schema whose test has ended is emptied and handed to
//     the next test of the same process instead of being dropped
//     (schemaPool). It is emptied only when it still holds exactly the
//     relations and migrations a freshly migrated schema holds; otherwise
//     (a test that changed the schema) it is dropped as before.
//
// Benchmarks and figures (OpenDurable) migrate a fresh database as before.

type opener func(context.Context, string) (*store.DB, error)

var sqliteTmpl struct {
	once sync.Once
	data []byte
	err  error
}

// sqliteTemplate returns the bytes of a migrated, empty SQLite file, made
// once per test process.
func sqliteTemplate(open opener) ([]byte, error) {
	sqliteTmpl.once.Do(func() {
		sqliteTmpl.data, sqliteTmpl.err = makeSQLiteTemplate(open)
	})
	return sqliteTmpl.data, sqliteTmpl.err
}

func makeSQLiteTemplate(open opener) ([]byte, error) {
	ctx := context.Background()
	parent := sqliteParent()
	if parent == "-" {
		parent = ""
	}
	dir, err := os.MkdirTemp(parent, "mutual-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mutual.db")
	db, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	// Closing the last connection checkpoints the WAL into the file and
	// removes it; a WAL left behind would hold part of the schema.
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		return nil, fmt.Errorf("the migrated template %s kept a %d-byte WAL after closing", path, st.Size())
	}
	return os.ReadFile(path)
}

// openSQLiteCopy opens a new SQLite file that starts as a copy of the
// migrated template.
func openSQLiteCopy(tb testing.TB, open opener) *store.DB {
	tb.Helper()
	tmpl, err := sqliteTemplate(open)
	if err != nil {
		tb.Fatalf("making the migrated SQLite template: %v", err)
	}
	path := filepath.Join(sqliteDir(tb), "mutual.db")
	if err := os.WriteFile(path, tmpl, 0o600); err != nil {
		tb.Fatalf("copying the migrated SQLite template: %v", err)
	}
	return openAndMigrate(tb, store.SQLite, path, open)
}

// openPostgresPooled opens a migrated, empty schema from the process's
// pool, given back emptied when the test ends.
func openPostgresPooled(tb testing.TB, open opener) *store.DB {
	tb.Helper()
	RequirePostgres(tb)
	schema, err := pgPool.take(open)
	if err != nil {
		tb.Fatalf("taking a PostgreSQL test schema: %v", err)
	}
	// Registered before the database's Close, so it runs after it (last
	// registered, first run): the schema is emptied once nothing uses it.
	tb.Cleanup(func() { pgPool.give(schema) })
	return openAndMigrate(tb, store.Postgres, schemaDSN(schema), open)
}

// Pooled schemas are named tp_<process key>_<n>. Each test process holds
// a session advisory lock on its key for as long as it runs, so a schema
// whose key is not locked belongs to a process that has ended: the next
// process to start a pool drops it (a process cannot drop its pool as it
// exits, having no hook then).
const poolLockClass = 0x6d757475 // "mutu"

type schemaPool struct {
	once sync.Once
	err  error

	admin *sql.DB
	owner *sql.Conn // holds the advisory lock on key
	key   int32

	pristine  string   // a migrated schema never handed out
	tables    []string // every table but schema_migrations
	seeded    []string // tables holding rows once migrated (migrations' own rows)
	relations int      // relations in a migrated schema
	versions  int      // rows in its schema_migrations

	mu     sync.Mutex
	free   []string
	made   int
	noPool error // set when emptying a schema failed: schemas are dropped from then on
}

var pgPool schemaPool

// DSNOf returns the connection string of the database a test is using, for
// a second connection to it (another instance, a reopened store).
func DSNOf(tb testing.TB, db *store.DB) string {
	tb.Helper()
	if db.Dialect == store.SQLite {
		return db.Path
	}
	return schemaDSN(schemaOf(tb, db))
}

// schemaOf names a PostgreSQL test database's schema.
func schemaOf(tb testing.TB, db *store.DB) string {
	tb.Helper()
	var s string
	if err := db.QueryRow(context.Background(), "SELECT current_schema()").Scan(&s); err != nil {
		tb.Fatal(err)
	}
	return s
}

func schemaDSN(schema string) string {
	u, err := url.Parse(PostgresURL())
	if err != nil {
		panic(err) // RequirePostgres has connected with it already
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *schemaPool) start(open opener) error {
	ctx := context.Background()
	u, err := url.Parse(PostgresURL())
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("synchronous_commit", "off") // the pool's own schemas are throwaway too
	q.Set("lock_timeout", "10s")       // a test that leaked a transaction cannot hang the next
	u.RawQuery = q.Encode()
	if p.admin, err = sql.Open("pgx", u.String()); err != nil {
		return err
	}
	if p.owner, err = p.admin.Conn(ctx); err != nil {
		return err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	p.key = int32(binary.BigEndian.Uint32(b[:]) & 0x7fffffff)
	if _, err := p.owner.ExecContext(ctx, "SELECT pg_advisory_lock($1, $2)", poolLockClass, p.key); err != nil {
		return fmt.Errorf("locking the pool's key: %w", err)
	}
	if err := p.sweep(ctx); err != nil {
		return fmt.Errorf("dropping ended processes' schemas: %w", err)
	}
	p.pristine = fmt.Sprintf("tp_%d_base", p.key)
	if _, err := p.admin.ExecContext(ctx, "CREATE SCHEMA "+p.pristine); err != nil {
		return err
	}
	db, err := open(ctx, schemaDSN(p.pristine))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	rows, err := p.admin.QueryContext(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", p.pristine)
	if err != nil {
		return err
	}
	var all []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		all = append(all, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, t := range all {
		if t == "schema_migrations" {
			continue
		}
		p.tables = append(p.tables, t)
		var held bool
		if err := p.admin.QueryRowContext(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s.%s)", p.pristine, t)).Scan(&held); err != nil {
			return err
		}
		if held {
			p.seeded = append(p.seeded, t)
		}
	}
	p.relations, p.versions, err = p.shape(ctx, p.pristine)
	return err
}

// shape counts a schema's relations (tables, indexes, sequences, views)
// and applied migrations.
func (p *schemaPool) shape(ctx context.Context, schema string) (relations, versions int, err error) {
	err = p.admin.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1)`,
		schema).Scan(&relations)
	if err == nil {
		err = p.admin.QueryRowContext(ctx, "SELECT count(*) FROM "+schema+".schema_migrations").Scan(&versions)
	}
	return relations, versions, err
}

// sweep drops the pooled schemas of processes that have ended.
func (p *schemaPool) sweep(ctx context.Context) error {
	rows, err := p.admin.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tp\_%'`)
	if err != nil {
		return err
	}
	byKey := map[int32][]string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		parts := strings.Split(name, "_")
		if len(parts) != 3 {
			continue
		}
		k, err := strconv.ParseInt(parts[1], 10, 32)
		if err != nil || int32(k) == p.key {
			continue
		}
		byKey[int32(k)] = append(byKey[int32(k)], name)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for k, names := range byKey {
		var ended bool
		if err := p.owner.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1, $2)", poolLockClass, k).Scan(&ended); err != nil {
			return err
		}
		if !ended {
			continue // its process is still running
		}
		for _, name := range names {
			if _, err := p.admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
				return err
			}
		}
		if _, err := p.owner.ExecContext(ctx, "SELECT pg_advisory_unlock($1, $2)", poolLockClass, k); err != nil {
			return err
		}
	}
	return nil
}

// take returns an empty, migrated schema (or a new schema to migrate).
func (p *schemaPool) take(open opener) (string, error) {
	p.once.Do(func() { p.err = p.start(open) })
	if p.err != nil {
		return "", p.err
	}
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.made++
	s := fmt.Sprintf("tp_%d_%d", p.key, p.made)
	p.mu.Unlock()
	_, err := p.admin.Exec("CREATE SCHEMA " + s)
	return s, err
}

// give empties a schema whose test has ended and keeps it for the next,
// or drops it when it no longer has a fresh schema's shape.
func (p *schemaPool) give(schema string) {
	if err := p.empty(schema); err != nil {
		p.mu.Lock()
		if p.noPool == nil && !errors.Is(err, errChanged) {
			p.noPool = err
		}
		p.mu.Unlock()
		_, _ = p.admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		return
	}
	p.mu.Lock()
	p.free = append(p.free, schema)
	p.mu.Unlock()
}

var errChanged = errors.New("the test changed the schema")

func (p *schemaPool) empty(schema string) error {
	p.mu.Lock()
	off := p.noPool
	p.mu.Unlock()
	if off != nil {
		return off
	}
	ctx := context.Background()
	rel, ver, err := p.shape(ctx, schema)
	if err != nil {
		return err
	}
	if rel != p.relations || ver != p.versions {
		return errChanged
	}
	var b strings.Builder
	// Triggers (foreign keys, the audit log's append-only guard) do not
	// fire for a session in replica mode; this needs a superuser, and
	// without one every schema is dropped instead, as before.
	b.WriteString("BEGIN; SET LOCAL session_replication_role = replica;")
	for _, t := range p.tables {
		fmt.Fprintf(&b, " DELETE FROM %s.%s;", schema, t)
	}
	for _, t := range p.seeded {
		fmt.Fprintf(&b, " INSERT INTO %s.%s SELECT * FROM %s.%s;", schema, t, p.pristine, t)
	}
	// Sequences back to where a migrated schema has them.
	fmt.Fprintf(&b, ` SELECT setval(format('%%I.%%I', s.schemaname, s.sequencename)::regclass, coalesce(f.last_value, s.start_value), f.last_value IS NOT NULL)
  FROM pg_sequences s JOIN pg_sequences f ON f.schemaname = '%s' AND f.sequencename = s.sequencename
  WHERE s.schemaname = '%s' AND s.last_value IS DISTINCT FROM f.last_value;`, p.pristine, schema)
	b.WriteString(" COMMIT;")
	conn, err := p.admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, b.String()); err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("emptying test schema %s: %w", schema, err)
	}
	return nil
}
