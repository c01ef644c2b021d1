// Package store opens Mutual's database — embedded SQLite by default,
// PostgreSQL for scale — and runs transactions and migrations on it. The few
// places where the two engines differ are methods on Dialect, so every other
// package writes one SQL text that runs on both.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine in use.
type Dialect string

// The two supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is Mutual's database. On SQLite it keeps two pools over the same file:
// one connection for writes (so write transactions queue in Go rather than
// fail with SQLITE_BUSY) and several read-only connections that WAL lets run
// alongside it. On PostgreSQL both pools are the same.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	// stmts caches prepared statements for the hottest reads (see
	// QueryRowCached): parsing SQL is a large share of a short query's cost
	// on SQLite.
	stmts sync.Map
	// Path is the SQLite file path; empty on PostgreSQL.
	Path string
	// writeTurns admits write transactions first come, first served: a
	// channel's blocked senders are woken in the order they arrived, where
	// database/sql hands a freed connection to a waiter at random, so under
	// load some writes waited many turns (see Write).
	writeTurns chan struct{}
	waiting    atomic.Int64 // writes waiting for a turn
	// checkpoints is SQLite's connection for Checkpoint, of its own so
	// that it never waits behind requests for one of the read pool's.
	checkpoints *sql.DB
}

// Open connects to the database named by dsn: a postgres:// or
// postgresql:// URL, or a SQLite file path (optionally prefixed "sqlite:" or
// "file:"). It checks the engine's durability settings and refuses unsafe
// ones. It does not run migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn, false)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return openSQLite(ctx, path)
}

func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	// Read the file's pages through a shared memory map (up to 1 GiB)
	// instead of a read(2) per page into each connection's small cache:
	// the waiting-times view over 300,000 referrals went from 410 to
	// 300 ms, equity from 1.87 to 1.5 s. Writes still go through the WAL.
	q.Add("_pragma", "mmap_size(1073741824)")
	q.Add("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Set("_txlock", "deferred")
	} else {
		// The journal a multi-row statement keeps to undo itself on a
		// failed row is kept in memory, not written to a temporary file:
		// building the caseload spans spent a sixth of its time writing it.
		q.Add("_pragma", "temp_store(2)")
		q.Add("_pragma", "cache_size(-65536)")
		// Copy the log into the database every 10,000 pages (about 40 MB)
		// rather than SQLite's 1,000: a large import's batches each wrote
		// more than 1,000, so every commit was followed by a checkpoint, and
		// pages changed again by the next batch were copied again. A
		// 500,000-row import: 34.7/34.5 → 32.0/30.5 s, alternating builds.
		q.Add("_pragma", "wal_autocheckpoint(10000)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("the SQLite database path is empty")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating the data folder %s: %w", dir, err)
		}
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// The write connection is opened first so that WAL mode is set before
	// any reader opens the file.
	if err := checkSQLite(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(32)
	r.SetMaxIdleConns(32)
	c, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	return &DB{Dialect: SQLite, write: w, read: r, checkpoints: c, Path: path, writeTurns: make(chan struct{}, 1)}, nil
}

// checkSQLite refuses to run without the settings that make an
// acknowledged write survive a crash or power cut.
func checkSQLite(ctx context.Context, db *sql.DB) error {
	var mode string
	var syncLevel, fk int
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("opening the SQLite database: %w", err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncLevel); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("unsafe SQLite setting: journal_mode is %q, want wal (is the file on a network drive?)", mode)
	}
	if syncLevel < 2 {
		return fmt.Errorf("unsafe SQLite setting: synchronous is %d, want 2 (FULL)", syncLevel)
	}
	if fk != 1 {
		return errors.New("unsafe SQLite setting: foreign_keys is off")
	}
	return nil
}

// OpenThrowaway opens a test's throwaway PostgreSQL database (a schema the
// test drops) committing asynchronously, which Open refuses: PostgreSQL
// then acknowledges a commit before its WAL reaches the disk, so only a
// crash of the PostgreSQL server could lose one, and a test's database
// does not outlive its test. The suite's PostgreSQL tests spent a fifth
// of their time waiting for those flushes (SQLite's test files are in
// memory for the same reason; storetest). Only the test harness may call
// it, and never for a figure (archtest: TestThrowawayOnlyInTests).
func OpenThrowaway(ctx context.Context, dsn string) (*DB, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return Open(ctx, dsn)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return openPostgres(ctx, u.String(), true)
}

// postgresPool is the most connections one instance opens.
const postgresPool = 24

func openPostgres(ctx context.Context, dsn string, throwaway bool) (*DB, error) {
	db, err := openPostgresPool(dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(postgresPool)
	db.SetMaxIdleConns(postgresPool)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if err := checkPostgres(ctx, db, throwaway); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{Dialect: Postgres, write: db, read: db, writeTurns: make(chan struct{}, postgresWriteTurns())}, nil
}

// checkPostgres refuses settings under which a committed transaction can be
// lost: fsync off, full_page_writes off or asynchronous commit (allowed for
// a throwaway test database; see OpenThrowaway).
func checkPostgres(ctx context.Context, db *sql.DB, throwaway bool) error {
	for setting, bad := range map[string]string{"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"} {
		if throwaway && setting == "synchronous_commit" {
			continue
		}
		var v string
		if err := db.QueryRowContext(ctx, "SELECT current_setting($1)", setting).Scan(&v); err != nil {
			return fmt.Errorf("reading PostgreSQL setting %s: %w", setting, err)
		}
		if v == bad {
			return fmt.Errorf("unsafe PostgreSQL setting: %s is %s", setting, v)
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if db.checkpoints != nil {
		err = errors.Join(err, db.checkpoints.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Tx is one transaction. It embeds *sql.Tx for queries and carries the
// dialect for the few engine-specific fragments.
type Tx struct {
	*sql.Tx
	Dialect Dialect
	after   []func()
	// Statements run more than once, kept prepared until the transaction
	// ends (SQLite only; see prepared). database/sql closes them then.
	stmts   map[string]*sql.Stmt
	ranOnce map[string]bool
}

// AfterCommit arranges for fn to run once the transaction has committed
// (and not at all if it rolls back): for forgetting cached copies of what
// the transaction changed.
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// ExecOne runs a conditional write that must change a row: when it changes
// none (the condition no longer held: someone else changed the row first),
// it returns unchanged — the caller's conflict, said in its own words.
func (tx *Tx) ExecOne(ctx context.Context, unchanged error, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return unchanged
	}
	return nil
}

// IDs runs a query selecting one integer column and returns its values.
func (tx *Tx) IDs(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Write runs fn in a read-write transaction and commits it if fn returns
// nil. On SQLite the transaction takes the write lock at BEGIN; on
// PostgreSQL a serialization failure or deadlock is retried.
//
// Write transactions take turns in the order they asked: one at a time on
// SQLite, which has one writer anyway, and three per processor (4 to 24)
// on PostgreSQL, where more at once only share the processors more thinly.
// At 50 writers on two cores the slowest 1% of audited writes went from
// 150 to 45 ms on SQLite and from about 50 to 35–45 ms on PostgreSQL, with
// as many writes a second or more. A transaction that another one waits
// for while it holds its turn would deadlock this way: the audit log's
// writers run under Unqueued, and Exclusive takes no turn.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	return db.run(ctx, fn)
}

// postgresWriteTurns is how many write transactions run at once on
// PostgreSQL: three per processor of this instance, at least 4 and at most
// the pool.
func postgresWriteTurns() int { return min(max(3*runtime.NumCPU(), 4), postgresPool) }

type unqueuedKey struct{}

// Unqueued marks ctx for writes that do not take turns with requests' (see
// Write): for internal writers that requests wait for while they hold
// their turn, such as the audit log's group commit.
func Unqueued(ctx context.Context) context.Context {
	return context.WithValue(ctx, unqueuedKey{}, true)
}

// Read runs fn in a read-only transaction: one consistent snapshot. It
// runs fn once, never again: a read meets no serialization failure (a
// read-only REPEATABLE READ transaction on PostgreSQL; SQLite's readers
// already wait out a busy file for busy_timeout), and running it again
// would keep whatever a closure gathered on its first attempt (about forty
// read closures gather into a list or count declared outside them). A read
// that met a deadlock with a migration's lock fails, and its request with
// it, rather than answering twice the rows.
func (db *DB) Read(ctx context.Context, fn func(tx *Tx) error) error {
	return db.once(ctx, db.read, true, fn)
}

func (db *DB) run(ctx context.Context, fn func(tx *Tx) error) error {
	if db.writeTurns != nil && ctx.Value(unqueuedKey{}) == nil {
		db.waiting.Add(1)
		select {
		case db.writeTurns <- struct{}{}:
			db.waiting.Add(-1)
		case <-ctx.Done():
			db.waiting.Add(-1)
			return ctx.Err()
		}
		defer func() { <-db.writeTurns }()
	}
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = db.once(ctx, db.write, false, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

func (db *DB) once(ctx context.Context, pool *sql.DB, readOnly bool, fn func(tx *Tx) error) (err error) {
	opts := &sql.TxOptions{}
	if readOnly && db.Dialect == Postgres {
		opts.ReadOnly = true
		opts.Isolation = sql.LevelRepeatableRead
	}
	stx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	tx := &Tx{Tx: stx, Dialect: db.Dialect}
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// SkipLocked is the row-locking suffix for a queue claim: PostgreSQL lets
// several instances claim different rows at once; SQLite has one writer, so
// needs none.
func (d Dialect) SkipLocked() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// YearMonth is an SQL expression for the year and month of a date or
// timestamp column as a number, YYYYMM.
func (d Dialect) YearMonth(col string) string {
	if d == Postgres {
		return "CAST(to_char(" + col + ", 'YYYYMM') AS INTEGER)"
	}
	return "CAST(strftime('%Y%m', " + col + ") AS INTEGER)"
}

// DateOf is an SQL expression for the calendar date of a timestamp column,
// comparable with DATE columns.
func (d Dialect) DateOf(col string) string {
	if d == Postgres {
		return "CAST(" + col + " AS DATE)"
	}
	return "date(" + col + ")"
}

// Moment is an SQL expression for a timestamp (a column or a parameter) as
// a value that orders in time and can be compared with DaysAfter: the
// timestamp itself on PostgreSQL, its Julian day number on SQLite, where
// timestamps are text.
func (d Dialect) Moment(expr string) string {
	if d == Postgres {
		return expr
	}
	return "julianday(" + expr + ")"
}

// DaysAfter is an SQL expression for the moment (see Moment) days whole
// days after the timestamp expr; days is an SQL expression too.
func (d Dialect) DaysAfter(expr, days string) string {
	if d == Postgres {
		return "(" + expr + " + (" + days + ") * INTERVAL '1 day')"
	}
	return "(julianday(" + expr + ") + (" + days + "))"
}

// SecondsBetween is an SQL expression for the seconds from the timestamp
// from to the timestamp to (either a column or a parameter), a real
// number; NULL if either is. Read it with Seconds.
func (d Dialect) SecondsBetween(from, to string) string {
	if d == Postgres {
		return "EXTRACT(EPOCH FROM (" + to + " - " + from + "))"
	}
	return "((julianday(" + to + ") - julianday(" + from + ")) * 86400.0)"
}

// Seconds turns what SecondsBetween gave into a duration to the
// millisecond, SQLite's own resolution (its Julian day numbers, differences
// of two large numbers, are exact to the millisecond only after rounding).
func Seconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

// IDTable is a table expression (named alias) with one column, id, holding the ids in
// one parameter written by IDsParam: a list of any length costs one
// placeholder. (Before store.positional, SQLite resolved each $N by
// searching the names before it, so hundreds of placeholders cost the
// square of that; one placeholder still keeps a list of any length within
// the engines' limits on parameters.)
func (d Dialect) IDTable(placeholder, alias string) string {
	if d == Postgres {
		return "(SELECT CAST(value AS BIGINT) AS id FROM jsonb_array_elements_text(CAST(" + placeholder + " AS jsonb))) " + alias
	}
	return "(SELECT CAST(value AS INTEGER) AS id FROM json_each(" + placeholder + ")) " + alias
}

// IDsParam writes ids as the one parameter IDTable reads.
func IDsParam(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// ForUpdate locks the selected rows until commit on PostgreSQL. SQLite's
// write transactions already hold the database lock.
func (d Dialect) ForUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Lock serialises transactions that take the same named lock, until commit.
// On SQLite every write transaction is already serialised.
func (tx *Tx) Lock(ctx context.Context, key int64) error {
	if tx.Dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key)
	return err
}

// Exclusive runs fn in a write transaction that holds the named lock, for
// work that only one instance at a time may do (sealing the audit chain).
// With wait false it gives up at once when another transaction holds the
// lock and reports ran == false without calling fn; with wait true it
// queues for it. On PostgreSQL the transaction is READ COMMITTED whatever
// the server's default, so each statement in fn sees everything committed
// by the lock's previous holder (a snapshot taken before the lock was
// granted would not). On SQLite the write lock is the lock: ran is always
// true. Errors are the transaction's, or fn's.
//
// It takes no turn among other writes (see Write): these jobs (imports,
// roll-up rebuilds, the sealer) take turns through their lock, and several
// waiting for it on PostgreSQL would otherwise hold every turn, and stop
// every other write, until the holder finished.
func (db *DB) Exclusive(ctx context.Context, key int64, wait bool, fn func(tx *Tx) error) (ran bool, err error) {
	return db.locked(ctx, key, wait, "", fn)
}

// Shared runs fn as Exclusive does, holding the named lock shared: with
// other Shared transactions at once, never with an Exclusive one. An
// import's batches (which its own lock keeps to one import at a time; see
// Holding) run side by side this way, and a roll-up rebuild runs between
// them.
func (db *DB) Shared(ctx context.Context, key int64, fn func(tx *Tx) error) error {
	_, err := db.locked(ctx, key, true, "_shared", fn)
	return err
}

func (db *DB) locked(ctx context.Context, key int64, wait bool, mode string, fn func(tx *Tx) error) (ran bool, err error) {
	err = db.Write(Unqueued(ctx), func(tx *Tx) error {
		ran = false
		if tx.Dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"); err != nil {
				return err
			}
			got := true
			if wait {
				if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock"+mode+"($1)", key); err != nil {
					return err
				}
			} else if err := tx.QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock($1)", key).Scan(&got); err != nil {
				return err
			}
			if !got {
				return nil
			}
		}
		ran = true
		return fn(tx)
	})
	return ran, err
}

// Holding runs fn holding the named lock, outside any transaction, for
// work of several transactions that only one instance at a time may do
// (an import). On PostgreSQL it waits for the lock on a connection of its
// own, kept until fn returns (a connection whose unlock failed is closed,
// which frees it); on SQLite there is one writer and fn just runs.
func (db *DB) Holding(ctx context.Context, key int64, fn func() error) error {
	if db.Dialect != Postgres {
		return fn()
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return err
	}
	err = fn()
	// With ctx ended the unlock could not be sent: it gets its own time.
	unlock, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, uerr := conn.ExecContext(unlock, "SELECT pg_advisory_unlock($1)", key); uerr != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(err, uerr)
	}
	return err
}

// Lock keys used with Tx.Lock and DB.Exclusive.
const (
	LockMigrations  int64 = 0x6d75_7475_616c_02 // "mutual" + 2
	LockAuditSealer int64 = 0x6d75_7475_616c_03
	// LockCaseload serialises a caseload import's batches (held shared
	// by them) and roll-up rebuilds (exclusive).
	LockCaseload int64 = 0x6d75_7475_616c_04
	// LockSupportRollup serialises rebuilds of the support roll-up.
	LockSupportRollup int64 = 0x6d75_7475_616c_05
	// LockCaseloadImport keeps caseload imports to one at a time (Holding).
	LockCaseloadImport int64 = 0x6d75_7475_616c_06
)

// Exec runs a statement outside any explicit transaction, on the write pool.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = rewrite(db.Dialect, query, args)
	return db.write.ExecContext(ctx, query, args...)
}

// QueryRowCached runs a single-row query on the read pool through a
// prepared statement kept for the life of the DB. Use it for fixed query
// texts on hot paths only (every text is kept).
func (db *DB) QueryRowCached(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.prepared(ctx, query)
	if err != nil {
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryCached is QueryRowCached for several rows.
func (db *DB) QueryCached(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// QueryRow runs a single-row query on the read pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = rewrite(db.Dialect, query, args)
	return db.read.QueryRowContext(ctx, query, args...)
}

// Query runs a query on the read pool, outside an explicit transaction.
// Callers needing a consistent view of several queries use Read.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = rewrite(db.Dialect, query, args)
	return db.read.QueryContext(ctx, query, args...)
}

// WritePool exposes the write pool, for connection-pool metrics only.
func (db *DB) WritePool() *sql.DB { return db.write }

// ReadConns is how many connections the read pool may open (on PostgreSQL
// the one pool): how many requests can be reading at once.
func (db *DB) ReadConns() int { return db.read.Stats().MaxOpenConnections }

// AnalyzeTables refreshes PostgreSQL's statistics for the named tables
// (fixed names, never input) part-way through a bulk load. Without them, a
// table that grew from nothing within one load is planned as the small
// table it was until autovacuum catches up, minutes later: a 500,000-row
// caseload import took 3 min 27 s without, 1 min 49 s with. SQLite's
// planner prefers indexes without statistics, so there this does nothing.
func (db *DB) AnalyzeTables(ctx context.Context, tables ...string) error {
	if db.Dialect != Postgres || len(tables) == 0 {
		return nil
	}
	_, err := db.write.ExecContext(ctx, "ANALYZE "+strings.Join(tables, ", "))
	return err
}

// analyzeEachTable analyses SQLite's indexes one statement each (a table
// with none, or WITHOUT ROWID, by itself): ANALYZE holds the write lock
// while it reads, and one statement for the whole file kept every write
// waiting 2.3 s after a 500,000-row import (1.1 s a table at a time);
// between statements a waiting write goes first. The statistics are the
// same: each index's row in sqlite_stat1 holds its table's row count. A
// WITHOUT ROWID table's primary key is not an index of its own in the
// schema, so analysing its other indexes alone would leave the key's row
// out.
//
// Given tables, it analyses only those (fixed names, never input).
func (db *DB) analyzeEachTable(ctx context.Context, tables []string) error {
	only, a := "", NewArgs()
	if len(tables) > 0 {
		only = " AND t.name IN " + In(a, tables...)
	}
	query, args := rewrite(SQLite, `SELECT t.name, CASE WHEN l.wr THEN '' ELSE COALESCE(i.name, '') END FROM sqlite_schema t
		JOIN pragma_table_list l ON l.schema = 'main' AND l.name = t.name
		LEFT JOIN sqlite_schema i ON i.type = 'index' AND i.tbl_name = t.name
		WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%'`+only+` ORDER BY t.name, i.name`, a.Values())
	rows, err := db.write.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var table, index string
		if err := rows.Scan(&table, &index); err != nil {
			rows.Close()
			return err
		}
		if name := cmp.Or(index, table); len(names) == 0 || names[len(names)-1] != name {
			names = append(names, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := db.write.ExecContext(ctx, `ANALYZE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			return err
		}
	}
	return nil
}

// Analyze refreshes the query planner's statistics: after bulk loads,
// and periodically (SQLite's PRAGMA optimize only analyses tables whose
// statistics are stale; PostgreSQL's autovacuum does this itself, so there
// it runs only when asked for in full).
func (db *DB) Analyze(ctx context.Context, full bool) error {
	if db.Dialect == Postgres && !full {
		return nil
	}
	if !full {
		if _, err := db.write.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			return err
		}
		return db.dropSamples(ctx)
	}
	return db.AnalyzeAfterLoad(ctx)
}

// Checkpoint copies what SQLite's log holds into the database file, as
// far as it can without waiting for anyone (a passive checkpoint), from a
// read-only connection of its own: the write connection goes on committing
// while it runs, and it never waits for one of the read pool's behind
// requests. Called four times a second by serve, it keeps the log short
// enough that the writer's own checkpoint (every 10,000 pages,
// wal_autocheckpoint) finds nothing left to copy, so no request pays for
// one (about a tenth of a second, with every write queued behind it). On
// PostgreSQL it does nothing: the server checkpoints by itself. It answers
// the pages in the log and how many of them are now in the file (-1 and -1
// when another checkpoint was running: that one does the work).
func (db *DB) Checkpoint(ctx context.Context) (logged, copied int, err error) {
	if db.Dialect != SQLite {
		return 0, 0, nil
	}
	var busy int
	if err := db.checkpoints.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &copied); err != nil {
		return 0, 0, fmt.Errorf("checkpointing the SQLite log: %w", err)
	}
	return logged, copied, nil
}

// AnalyzeAfterLoad refreshes the statistics of the named tables (fixed
// names, never input), or of every table when none are named, after a bulk
// load changed them, as Analyze(ctx, true) does for the whole database. A
// caseload import names the tables it changes: analysing the whole file
// would also read every index of tables it never touches (the audit log
// above all), holding the write lock a statement at a time.
func (db *DB) AnalyzeAfterLoad(ctx context.Context, tables ...string) error {
	if db.Dialect == Postgres {
		// VACUUM also marks pages all-visible, so counts can use index-only
		// scans straight after a bulk load.
		_, err := db.write.ExecContext(ctx, "VACUUM ANALYZE "+strings.Join(tables, ", "))
		return err
	}
	if err := db.analyzeEachTable(ctx, tables); err != nil {
		return err
	}
	return db.dropSamples(ctx)
}

// dropSamples keeps SQLite's per-index statistics and drops the sampled
// values (see below).
func (db *DB) dropSamples(ctx context.Context) error {
	// Keep the per-index statistics (sqlite_stat1) but not the sampled
	// values (sqlite_stat4): with those, SQLite re-prepares a statement
	// every time it is bound to new values, which more than doubled the
	// cost of the session lookup on every request. Our plans need only
	// stat1. "ANALYZE sqlite_schema" makes connections reload them.
	var n int
	if err := db.write.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'").Scan(&n); err != nil || n == 0 {
		return err
	}
	if _, err := db.write.ExecContext(ctx, "DELETE FROM sqlite_stat4"); err != nil {
		return err
	}
	_, err := db.write.ExecContext(ctx, "ANALYZE sqlite_schema")
	return err
}

// BackupTo writes a consistent copy of a SQLite database to path with
// VACUUM INTO, while others keep reading and writing. PostgreSQL backups
// are pg_dump's job.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if db.Dialect != SQLite {
		return errors.New("BackupTo is for SQLite; use pg_dump for PostgreSQL")
	}
	// A connection of its own: the read pool is query-only, and the write
	// connection must stay free for writers while the copy is made.
	c, err := sql.Open("sqlite", sqliteDSN(db.Path, false))
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.ExecContext(ctx, "VACUUM INTO $1", path)
	return err
}
