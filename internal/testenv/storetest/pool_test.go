package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// TestEveryTestStartsEmpty: a test's database is migrated and empty
// although it is a copy of a template (SQLite) or a schema an earlier test
// used (PostgreSQL): the earlier test's rows, audit rows included, are
// gone, ids start again at 1, the migrations' own rows are back as they
// were, and a schema a test changed is dropped rather than reused.
func TestEveryTestStartsEmpty(t *testing.T) {
	ctx := context.Background()
	latest, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range Engines {
		t.Run(string(engine), func(t *testing.T) {
			var used, changed string // the first test's database; the schema the second changed
			dirty := func(t *testing.T, db *store.DB) {
				now := time.Now().UTC()
				err := db.Write(ctx, func(tx *store.Tx) error {
					for _, q := range []string{
						"INSERT INTO organisations (name, kind, created_at) VALUES ('Trust', 'nhs_trust', $1)",
						"INSERT INTO organisations (name, kind, created_at) VALUES ('Agency', 'partner_agency', $1)",
						"INSERT INTO audit_events (at, actor_user_id, actor_role, action, object_type, object_id, request_id, outcome, prev_hash, hash) VALUES ($1, 0, 'admin', 'test', 'test', '1', 'r', 'ok', '', '')",
					} {
						if _, err := tx.ExecContext(ctx, q, now); err != nil {
							return err
						}
					}
					_, err := tx.ExecContext(ctx, "UPDATE caseload_rollup_state SET built = TRUE")
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			t.Run("first", func(t *testing.T) {
				db := Open(t, engine)
				used = DSNOf(t, db)
				dirty(t, db)
			})
			t.Run("next", func(t *testing.T) {
				db := Open(t, engine)
				if got := DSNOf(t, db); engine == store.Postgres && got != used {
					t.Fatalf("the next test got %s, not the emptied %s: the pool did not keep it", got, used)
				}
				var orgs, audits, versions int
				var built bool
				if err := db.QueryRow(ctx, "SELECT (SELECT count(*) FROM organisations), (SELECT count(*) FROM audit_events), (SELECT count(*) FROM schema_migrations), (SELECT built FROM caseload_rollup_state)").Scan(&orgs, &audits, &versions, &built); err != nil {
					t.Fatal(err)
				}
				if orgs != 0 || audits != 0 || built || versions != len(latest) {
					t.Fatalf("a test started with %d organisations, %d audit rows, roll-up built %v, %d migrations (want 0, 0, false, %d)", orgs, audits, built, versions, len(latest))
				}
				var id int64
				if err := db.Write(ctx, func(tx *store.Tx) error {
					return tx.QueryRowContext(ctx, "INSERT INTO organisations (name, kind, created_at) VALUES ('Trust', 'nhs_trust', $1) RETURNING id", time.Now().UTC()).Scan(&id)
				}); err != nil {
					t.Fatal(err)
				}
				if id != 1 {
					t.Fatalf("ids went on from the earlier test's: the first organisation is %d", id)
				}
				if _, err := db.Exec(ctx, "CREATE TABLE left_behind (x INTEGER)"); err != nil {
					t.Fatal(err)
				}
				if engine == store.Postgres {
					changed = schemaOf(t, db)
				}
			})
			if engine != store.Postgres {
				return
			}
			t.Run("after-a-changed-schema", func(t *testing.T) {
				db := Open(t, engine)
				if schemaOf(t, db) == changed {
					t.Fatalf("schema %s, changed by a test, was handed out again", changed)
				}
				var n int
				if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", changed).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Fatalf("schema %s, changed by a test, was not dropped", changed)
				}
			})
		})
	}
}
