package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/store/storetest"
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

func TestAuditTableIsAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, err := db.Exec(ctx, `INSERT INTO audit_events (at, request_id, actor_role, action, object_type, object_id, outcome, prev_hash, hash)
			VALUES ($1, 'r', 'admin', 'x', 'y', '1', 'ok', '', 'h')`, time.Now().UTC())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "UPDATE audit_events SET outcome = 'changed'"); err == nil {
			t.Fatal("update of audit_events succeeded")
		}
		if _, err := db.Exec(ctx, "DELETE FROM audit_events"); err == nil {
			t.Fatal("delete from audit_events succeeded")
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
