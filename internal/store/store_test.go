package store_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func TestMigrateTwiceIsNoop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		applied, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migrate applied %v", applied)
		}
		all, _ := store.Migrations()
		v, err := db.SchemaVersion(context.Background())
		if err != nil || v != len(all) {
			t.Fatalf("schema version %d, %v; want %d", v, err, len(all))
		}
	})
}

// modernc's SQLite driver binds $1…$N by number, which is what lets one SQL
// text run on both engines. This guards that behaviour across upgrades.
func TestNumberedParametersBindByNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var a, b string
		err := db.QueryRow(context.Background(), "SELECT CAST($2 AS TEXT), CAST($1 AS TEXT)", "one", "two").Scan(&a, &b)
		if err != nil {
			t.Fatal(err)
		}
		if a != "two" || b != "one" {
			t.Fatalf("got %q %q, want two one", a, b)
		}
	})
}

func TestTimesRoundTripInUTC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 29, 0, 30, 1, 123456000, time.UTC)
		var id int64
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, "INSERT INTO organisations (name, kind, created_at) VALUES ($1, $2, $3) RETURNING id",
				"Clock Trust", "nhs_trust", at).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		var got time.Time
		if err := db.QueryRow(ctx, "SELECT created_at FROM organisations WHERE id = $1", id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(at) {
			t.Fatalf("got %v, want %v", got, at)
		}
	})
}

// The audit tables refuse every change but one: the sealer filling in a
// row's seq, prev_hash and hash, once, with nothing else changed.
func TestAuditTableIsAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seal := "UPDATE audit_events SET seq = 1, prev_hash = '', hash = '" + strings.Repeat("a", 64) + "'"
		_, err := db.Exec(ctx, `INSERT INTO audit_events (at, request_id, actor_role, action, object_type, object_id, outcome, prev_hash, hash)
			VALUES ($1, 'r', 'admin', 'x', 'y', '1', 'ok', '', '')`, time.Now().UTC())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO audit_subjects (audit_id, person_id) SELECT id, 7 FROM audit_events`); err != nil {
			t.Fatal(err)
		}
		// Edits of the one row: refused while it is unsealed and after.
		edits := []string{
			"UPDATE audit_events SET outcome = 'changed'",                                       // unsealed rows are not editable either
			seal + ", outcome = 'changed'",                                                      // a seal that changes anything else
			seal + ", written_at = '2026-01-01'",                                                // or fills in a column left empty
			"UPDATE audit_events SET seq = 1, hash = 'short'",                                   // not a hash
			"UPDATE audit_events SET prev_hash = 'x', hash = '" + strings.Repeat("b", 64) + "'", // no position
		}
		refused := []string{
			"DELETE FROM audit_events",
			"UPDATE audit_subjects SET person_id = 8",
			"DELETE FROM audit_subjects",
			`INSERT INTO audit_events (at, request_id, actor_role, action, object_type, object_id, outcome, seq, prev_hash, hash)
				VALUES ('2026-01-01', 'r', 'admin', 'x', 'y', '1', 'ok', 9, '', '` + strings.Repeat("c", 64) + `')`, // arrives sealed
		}
		if db.Dialect == store.Postgres {
			refused = append(refused, "TRUNCATE audit_events", "TRUNCATE audit_subjects")
			// PostgreSQL's guard compares whole rows, so a column added
			// later is guarded too, without changing the guard.
			if _, err := db.Exec(ctx, "ALTER TABLE audit_events ADD COLUMN added_later TEXT"); err != nil {
				t.Fatal(err)
			}
			edits = append(edits, seal+", added_later = 'x'")
		}
		for _, q := range edits {
			if _, err := db.Exec(ctx, q); err == nil {
				t.Fatalf("%s: succeeded on an unsealed row", q)
			}
		}
		if _, err := db.Exec(ctx, seal); err != nil {
			t.Fatalf("the sealer's one change was refused: %v", err)
		}
		refused = append(append(edits, refused...), seal, "UPDATE audit_events SET seq = 2", "UPDATE audit_events SET hash = '"+strings.Repeat("d", 64)+"'")
		for _, q := range refused {
			if _, err := db.Exec(ctx, q); err == nil {
				t.Fatalf("%s: succeeded", q)
			}
		}
		var n int
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE outcome = 'ok' AND seq = 1").Scan(&n)
		if n != 1 {
			t.Fatalf("the sealed row changed: %d", n)
		}
	})
}

// PostgreSQL's guard compares the rows' stored bytes, not each type's own
// equality: a column added later of a type with no equality (json) must not
// stop the sealer, and a seal must not rewrite a value to an "equal" one.
func TestAuditGuardComparesStoredValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != store.Postgres {
			return // SQLite's guard names its columns
		}
		ctx := context.Background()
		hash := strings.Repeat("a", 64)
		for _, q := range []string{"ALTER TABLE audit_events ADD COLUMN kept INTERVAL", "ALTER TABLE audit_events ADD COLUMN details JSON"} {
			if _, err := db.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(ctx, `INSERT INTO audit_events (id, at, request_id, actor_role, action, object_type, object_id, outcome, prev_hash, hash, kept, details)
			VALUES (101, $1, 'r', 'admin', 'x', 'y', '1', 'ok', '', '', '1 mon', '{"a": 1}'), (102, $1, 'r', 'admin', 'x', 'y', '1', 'ok', '', '', '1 mon', NULL)`,
			time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "UPDATE audit_events SET seq = 102, hash = $1, kept = '30 days' WHERE id = 102", hash); err == nil {
			t.Error("a seal that rewrote an interval of 1 mon as 30 days was accepted")
		}
		if _, err := db.Exec(ctx, "UPDATE audit_events SET seq = 101, hash = $1 WHERE id = 101", hash); err != nil {
			t.Errorf("the sealer's seal of a row with a json column was refused: %v", err)
		}
	})
}

// A guard that names the columns it keeps unchanged leaves a column added
// later unguarded, silently: nothing fails when someone adds one. Each such
// guard is listed here with the columns it lets change, and this fails on a
// column the guard neither names nor lets change. (PostgreSQL's audit guard
// compares whole rows and is not listed: TestAuditTableIsAppendOnly adds a
// column there.) It is shown failing on a column added in the test.
func TestGuardsNameEveryColumn(t *testing.T) {
	type guard struct {
		engine     store.Dialect
		table      string
		source     string   // the query that reads the guard's text
		changeable []string // the columns the guard lets change
	}
	sqliteTrigger := "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = "
	guards := []guard{
		{store.SQLite, "audit_events", sqliteTrigger + "'audit_no_update'", []string{"seq", "prev_hash", "hash"}},
		{store.SQLite, "feedback", sqliteTrigger + "'feedback_kept_as_given'", feedbackChangeable},
		{store.Postgres, "feedback", "SELECT prosrc FROM pg_proc WHERE proname = 'feedback_kept_as_given' AND pronamespace = CAST(current_schema() AS regnamespace)", feedbackChangeable},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		columns := func(table string) []string {
			if db.Dialect == store.SQLite {
				return testkit.Column[string](t, db, "SELECT name FROM pragma_table_info($1)", table)
			}
			return testkit.Column[string](t, db, `SELECT column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1`, table)
		}
		unguarded := func(g guard) []string {
			var text string
			if err := db.QueryRow(ctx, g.source).Scan(&text); err != nil {
				t.Fatalf("reading the guard on %s: %v", g.table, err)
			}
			var out []string
			for _, c := range columns(g.table) {
				named := regexp.MustCompile(`(?i)\bNEW\.` + c + `\b`).MatchString(text)
				if !named && !slices.Contains(g.changeable, c) {
					out = append(out, c)
				}
			}
			return out
		}
		for _, g := range guards {
			if g.engine != db.Dialect {
				continue
			}
			if cols := unguarded(g); len(cols) > 0 {
				t.Errorf("the guard on %s neither names nor lets change %v: name them in the guard (a new migration), or list them as changeable here", g.table, cols)
			}
			if _, err := db.Exec(ctx, "ALTER TABLE "+g.table+" ADD COLUMN added_later TEXT"); err != nil {
				t.Fatal(err)
			}
			if cols := unguarded(g); !slices.Equal(cols, []string{"added_later"}) {
				t.Errorf("a column added to %s later: the check found %v unguarded, want [added_later]", g.table, cols)
			}
		}
	})
}

// feedbackChangeable are the columns of feedback that its handling changes:
// its key, its status and the steps' times, the team, the answer and what
// is published, and forgetting.
var feedbackChangeable = []string{"id", "status", "version", "team_id", "concern", "acknowledged_at", "considered_at", "answered_at",
	"changed_at", "theme", "answer", "change_made", "public_summary", "publish", "quote", "shared_with_worker_at", "forgotten_at"}

// A trigger that runs for every row a write changes stays cheap: turning
// whole rows into JSON in the audit guard was half of sealing's cost
// (migration 0062). This fails on a trigger function that does it again.
func TestRowTriggersBuildNoJSON(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != store.Postgres {
			return // SQLite's triggers are WHEN clauses over named columns
		}
		names := testkit.Column[string](t, db, `SELECT DISTINCT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
			WHERE p.pronamespace = CAST(current_schema() AS regnamespace) AND p.prosrc ~* 'to_jsonb?\(|row_to_json|jsonb?_build_object|hstore'`)
		if len(names) > 0 {
			t.Fatalf("trigger functions that build JSON from rows (compare the rows or their columns instead): %v", names)
		}
	})
}

// Exclusive gives the lock to one transaction at a time; without waiting,
// a second one is told it did not run.
func TestExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if db.Dialect != store.Postgres {
			ran, err := db.Exclusive(ctx, store.LockAuditSealer, false, func(*store.Tx) error { return nil })
			if err != nil || !ran {
				t.Fatalf("SQLite: %v %v", ran, err)
			}
			return
		}
		held, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := db.Exclusive(ctx, store.LockAuditSealer, true, func(*store.Tx) error {
				close(held)
				<-release
				return nil
			})
			done <- err
		}()
		<-held
		ran, err := db.Exclusive(ctx, store.LockAuditSealer, false, func(*store.Tx) error {
			t.Error("ran while another transaction held the lock")
			return nil
		})
		if err != nil || ran {
			t.Fatalf("try while held: ran %v, %v", ran, err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		ran, err = db.Exclusive(ctx, store.LockAuditSealer, false, func(*store.Tx) error { return nil })
		if err != nil || !ran {
			t.Fatalf("try once released: ran %v, %v", ran, err)
		}
	})
}

// Shared transactions hold a lock together and keep Exclusive ones out
// until they commit; Holding keeps a lock across transactions, outside
// them, until its function returns, and a second Holding waits for it (an
// import's batches at once, one import at a time). On SQLite, one writer,
// each simply runs.
func TestSharedAndHolding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if db.Dialect != store.Postgres {
			if err := db.Holding(ctx, store.LockCaseloadImport, func() error {
				return db.Shared(ctx, store.LockCaseload, func(*store.Tx) error { return nil })
			}); err != nil {
				t.Fatal(err)
			}
			return
		}
		// Two Shared transactions hold the lock at once: each waits for
		// the other to be inside before it commits.
		inside, release := make(chan struct{}, 2), make(chan struct{})
		done := make(chan error, 2)
		for range 2 {
			go func() {
				done <- db.Shared(ctx, store.LockCaseload, func(*store.Tx) error {
					inside <- struct{}{}
					<-release
					return nil
				})
			}()
		}
		for range 2 {
			select {
			case <-inside:
			case <-time.After(10 * time.Second):
				t.Fatal("two shared transactions could not hold the lock at once")
			}
		}
		ran, err := db.Exclusive(ctx, store.LockCaseload, false, func(*store.Tx) error { return nil })
		if err != nil || ran {
			t.Fatalf("exclusive while shared holders: ran %v, %v", ran, err)
		}
		close(release)
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if ran, err := db.Exclusive(ctx, store.LockCaseload, false, func(*store.Tx) error { return nil }); err != nil || !ran {
			t.Fatalf("exclusive once released: ran %v, %v", ran, err)
		}

		// Holding: a second holder waits until the first returns, and the
		// first's transactions commit meanwhile.
		var order []string
		var mu sync.Mutex
		note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
		held, letGo := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- db.Holding(ctx, store.LockCaseloadImport, func() error {
				note("first")
				close(held)
				<-letGo
				if err := db.Write(ctx, func(tx *store.Tx) error { return nil }); err != nil {
					return err
				}
				note("first done")
				return nil
			})
		}()
		<-held
		second := make(chan error, 1)
		go func() {
			second <- db.Holding(ctx, store.LockCaseloadImport, func() error { note("second"); return nil })
		}()
		time.Sleep(200 * time.Millisecond) // the second is waiting for the lock
		close(letGo)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if err := <-second; err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(order, ", "); got != "first, first done, second" {
			t.Fatalf("holders ran %s, want one after the other", got)
		}
		// A holder whose context ends gives the lock back.
		cctx, cancel := context.WithCancel(ctx)
		err = db.Holding(cctx, store.LockCaseloadImport, func() error { cancel(); return cctx.Err() })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled holder: %v", err)
		}
		// Asked for from another connection pool, so not by the session
		// that held it (a session may take its own lock again).
		other, err := store.Open(ctx, storetest.DSNOf(t, db))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		wctx, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		if err := other.Holding(wctx, store.LockCaseloadImport, func() error { return nil }); err != nil {
			t.Fatalf("the lock after a cancelled holder: %v", err)
		}
	})
}

// Concurrent read-then-write transactions must all succeed: on SQLite the
// write pool queues them; on PostgreSQL they interleave.
func TestConcurrentWritesAllCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "INSERT INTO rate_counters (key, window_start, count) VALUES ('c', 0, 0)"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16*20)
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					errs <- db.Write(ctx, func(tx *store.Tx) error {
						var n int
						if err := tx.QueryRowContext(ctx, "SELECT count FROM rate_counters WHERE key = 'c'"+tx.Dialect.ForUpdate()).Scan(&n); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, "UPDATE rate_counters SET count = $1 WHERE key = 'c'", n+1)
						return err
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		_ = db.QueryRow(ctx, "SELECT count FROM rate_counters WHERE key = 'c'").Scan(&n)
		if n != 320 {
			t.Fatalf("count %d, want 320 (lost updates)", n)
		}
	})
}

func TestUnsafePostgresSettingRefused(t *testing.T) {
	storetest.RequirePostgres(t)
	dsn := storetest.DSN(t, store.Postgres) + "&options=-c%20synchronous_commit%3Doff"
	db, err := store.Open(context.Background(), dsn)
	if err == nil {
		db.Close()
		t.Fatal("opened PostgreSQL with synchronous_commit=off")
	}
	if !strings.Contains(err.Error(), "synchronous_commit is off") {
		t.Fatalf("refused for the wrong reason: %v", err)
	}
	// A test's throwaway database is opened committing asynchronously, and
	// a service's database, opened with Open, still is not.
	dsn = storetest.DSN(t, store.Postgres)
	for _, c := range []struct {
		open func(context.Context, string) (*store.DB, error)
		want string
	}{{store.OpenThrowaway, "off"}, {store.Open, "on"}} {
		db, err := c.open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		err = db.QueryRow(context.Background(), "SELECT current_setting('synchronous_commit')").Scan(&v)
		db.Close()
		if err != nil || v != c.want {
			t.Errorf("synchronous_commit %q (%v), want %q", v, err, c.want)
		}
	}
}

// AfterCommit callbacks run once the transaction has committed, and never
// for one that rolled back.
func TestAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ran []string
		err := db.Write(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() {
				var n int
				// Visible from another connection: it has committed.
				_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM organisations WHERE name = 'After'").Scan(&n)
				ran = append(ran, strings.Repeat("committed", n))
			})
			_, err := tx.ExecContext(ctx, "INSERT INTO organisations (name, kind, created_at) VALUES ('After', 'nhs_trust', $1)", time.Now())
			if len(ran) != 0 {
				t.Error("callback ran before commit")
			}
			return err
		})
		if err != nil || len(ran) != 1 || ran[0] != "committed" {
			t.Fatalf("after commit: %v %q", err, ran)
		}
		_ = db.Write(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran = append(ran, "rolled back") })
			return errors.New("no")
		})
		if len(ran) != 1 {
			t.Fatalf("callback ran for a rolled-back transaction: %q", ran)
		}
	})
}

// A full analysis of a SQLite file, made one index at a time so that
// writes wait for one index's statement rather than the whole file's,
// records the same statistics as one ANALYZE of the whole file: every
// table's row count and every index's, a WITHOUT ROWID table's primary key
// included.
func TestAnalyzeOneIndexAtATime(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE zz_wide (id INTEGER PRIMARY KEY, x TEXT NOT NULL, y INTEGER, UNIQUE (x, y))",
		"CREATE INDEX zz_wide_y ON zz_wide (y)",
		"CREATE TABLE zz_bare (v TEXT)",
		"CREATE TABLE zz_keyed (a INTEGER, b INTEGER, c INTEGER, PRIMARY KEY (a, b)) WITHOUT ROWID",
		"CREATE INDEX zz_keyed_c ON zz_keyed (c)",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO zz_keyed SELECT i % 10, i, i % 7 FROM n",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO zz_wide (x, y) SELECT 'x' || (i % 37), i % 101 FROM n",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO zz_bare (v) SELECT 'v' || i FROM n",
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	stats := func() string {
		rows, err := db.Query(ctx, "SELECT tbl, COALESCE(idx, ''), stat FROM sqlite_stat1 ORDER BY tbl, idx")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var tbl, idx, stat string
			if err := rows.Scan(&tbl, &idx, &stat); err != nil {
				t.Fatal(err)
			}
			b.WriteString(tbl + " " + idx + " " + stat + "\n")
		}
		return b.String()
	}
	if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	whole := stats()
	for _, want := range []string{"zz_wide zz_wide_y 3000 30", "zz_bare  500", "sqlite_autoindex_zz_wide_1 3000", "zz_keyed zz_keyed 1000 100 1",
		"zz_keyed zz_keyed_c 1000 143"} {
		if !strings.Contains(whole, want) {
			t.Fatalf("no %q in:\n%s", want, whole)
		}
	}
	if _, err := db.Exec(ctx, "DELETE FROM sqlite_stat1"); err != nil {
		t.Fatal(err)
	}
	if err := db.Analyze(ctx, true); err != nil {
		t.Fatal(err)
	}
	if each := stats(); each != whole {
		t.Fatalf("one index at a time:\n%s\nthe whole file at once:\n%s", each, whole)
	}
}

// A read runs its closure once, even when it fails as a deadlock would: a
// read closure gathers into lists declared outside it, and a second
// attempt would answer the first attempt's rows twice. A write is retried
// (its closures start afresh: archtest's TestRetriedWritesStartAfresh),
// which shows the failure given here is one the store retries.
func TestReadsRunOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		deadlock := &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
		reads := 0
		err := db.Read(ctx, func(tx *store.Tx) error {
			reads++
			return deadlock
		})
		if !errors.Is(err, deadlock) || reads != 1 {
			t.Errorf("a failed read ran %d times (%v), want once", reads, err)
		}
		writes := 0
		err = db.Write(ctx, func(tx *store.Tx) error {
			writes++
			return deadlock
		})
		if !errors.Is(err, deadlock) || writes < 2 {
			t.Errorf("a write that met a deadlock ran %d times (%v); the store should retry it", writes, err)
		}
	})
}

// A checkpoint from the read pool copies the whole log into the file while
// nobody holds it, so the writer starts the log again rather than growing
// it until its own checkpoint (which a request would wait for).
func TestCheckpointKeepsTheLogShort(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE ckpt (body TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		write := func(n int) {
			for range n {
				if err := db.Write(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, "INSERT INTO ckpt (body) VALUES ($1)", strings.Repeat("x", 3000))
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if db.Dialect == store.Postgres {
			write(1)
			if logged, copied, err := db.Checkpoint(ctx); err != nil || logged != 0 || copied != 0 {
				t.Fatalf("PostgreSQL: %d, %d, %v", logged, copied, err)
			}
			return
		}
		write(100)
		logged, copied, err := db.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if logged < 100 || copied != logged {
			t.Fatalf("after 100 writes the log held %d pages and %d were copied; want at least 100, all copied", logged, copied)
		}
		write(5)
		again, _, err := db.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again >= logged {
			t.Fatalf("the log grew from %d to %d pages after a checkpoint: the writer did not start it again", logged, again)
		}
		// With every read connection busy, a checkpoint still runs at once:
		// it has a connection of its own.
		// Each reader says once that it holds its connection, or why not.
		release, held := make(chan struct{}), make(chan error, db.ReadConns())
		var readers sync.WaitGroup
		for range db.ReadConns() {
			readers.Add(1)
			go func() {
				defer readers.Done()
				told := false
				err := db.Read(ctx, func(tx *store.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM ckpt").Scan(&n); err != nil {
						return err
					}
					told = true
					held <- nil
					<-release
					return nil
				})
				if !told {
					held <- fmt.Errorf("a reader did not hold its connection: %w", err)
				}
			}()
		}
		for range db.ReadConns() {
			if err := <-held; err != nil {
				close(release)
				readers.Wait()
				t.Fatal(err)
			}
		}
		busy, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _, err = db.Checkpoint(busy)
		cancel()
		close(release)
		readers.Wait()
		if err != nil {
			t.Fatalf("with every read connection busy, the checkpoint waited: %v", err)
		}
	})
}
