package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/store/storetest"
)

func writeEvents(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				err := db.Write(ctx, func(tx *store.Tx) error {
					return audit.Record(ctx, tx, time.Now(), app.Actor{UserID: int64(w + 1), Role: app.RolePeerLead, RequestID: "req"},
						audit.Event{Action: "referral.read", SubjectPersonID: int64(i + 1), ObjectType: "referral", ObjectID: fmt.Sprint(i)})
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}

// disableGuard drops the append-only triggers, as someone with direct
// database access could, so tampering can be simulated.
func disableGuard(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	var stmts []string
	if db.Dialect == store.Postgres {
		stmts = []string{"ALTER TABLE audit_events DISABLE TRIGGER audit_no_change", "ALTER TABLE audit_subjects DISABLE TRIGGER audit_subjects_no_change"}
	} else {
		stmts = []string{"DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete", "DROP TRIGGER audit_subjects_no_update", "DROP TRIGGER audit_subjects_no_delete"}
	}
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifiesAndCatchesTampering(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		want string
	}{
		{"Edited", "UPDATE audit_events SET outcome = 'denied' WHERE id = 10", "row 10 has been changed"},
		{"Deleted", "DELETE FROM audit_events WHERE id = 10", "row 11 follows row 9"},
		{"Reordered", "UPDATE audit_events SET id = -id WHERE id IN (10, 11); UPDATE audit_events SET id = 21 + id WHERE id IN (-10, -11)", "row 10"},
		{"ActorRewritten", "UPDATE audit_events SET actor_user_id = 99 WHERE id = 3", "row 3 has been changed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				writeEvents(t, db, 40)
				res, err := audit.Verify(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				if !res.OK() || res.Rows != 40 || res.HeadID != 40 {
					t.Fatalf("fresh chain: %+v", res)
				}
				disableGuard(t, db)
				for _, s := range strings.Split(c.sql, "; ") {
					if _, err := db.Exec(context.Background(), s); err != nil {
						t.Fatal(err)
					}
				}
				res, err = audit.Verify(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				if res.OK() {
					t.Fatal("tampering was not detected")
				}
				if !strings.Contains(strings.Join(res.Problems, "\n"), c.want) {
					t.Fatalf("problems %q do not mention %q", res.Problems, c.want)
				}
			})
		})
	}
}

func TestRolledBackAccessLeavesNoRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Write(ctx, func(tx *store.Tx) error {
			if err := audit.Record(ctx, tx, time.Now(), app.Actor{}, audit.Event{Action: "x", ObjectType: "y", ObjectID: "1"}); err != nil {
				return err
			}
			return app.Errorf(app.CodeInvalid, "fails after auditing")
		})
		if err == nil {
			t.Fatal("expected error")
		}
		n, _ := audit.Count(ctx, db, "")
		if n != 0 {
			t.Fatalf("%d audit rows survived a rolled-back transaction", n)
		}
	})
}

// A list of 200 people writes one audit row and indexes it by each person
// shown. The benchmark compares that with a row that names nobody.
//
//	go test -run '^$' -bench RecordList ./internal/audit/
func BenchmarkRecordList(b *testing.B) {
	for _, engine := range storetest.Engines {
		for _, n := range []int{0, 200} {
			b.Run(fmt.Sprintf("%s/people=%d", engine, n), func(b *testing.B) {
				db := storetest.Open(b, engine)
				ctx := context.Background()
				ids := make([]int64, n)
				for i := range ids {
					ids[i] = int64(i + 1)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					err := db.Write(ctx, func(tx *store.Tx) error {
						return audit.Record(ctx, tx, time.Now(), app.Actor{UserID: 1, Role: app.RolePeerLead, RequestID: "req"},
							audit.Event{Action: "referral.list", Subjects: ids, ObjectType: "referrals", ObjectID: "results=200"})
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// Subjects are covered by the chain and by the index check: removing one
// person from the index is reported.
func TestSubjectsAreVerified(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Write(ctx, func(tx *store.Tx) error {
			return audit.Record(ctx, tx, time.Now(), app.Actor{UserID: 1, RequestID: "r"},
				audit.Event{Action: "referral.list", Subjects: []int64{5, 3, 5, 9}, ObjectType: "referrals", ObjectID: "results=3"})
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := audit.Verify(ctx, db)
		if err != nil || !res.OK() {
			t.Fatalf("fresh chain: %+v %v", res, err)
		}
		var subjects string
		_ = db.QueryRow(ctx, "SELECT subjects FROM audit_events ORDER BY id DESC LIMIT 1").Scan(&subjects)
		if subjects != "3,5,9" {
			t.Fatalf("subjects %q", subjects)
		}
		disableGuard(t, db)
		if _, err := db.Exec(ctx, "DELETE FROM audit_subjects WHERE person_id = 5"); err != nil {
			t.Fatal(err)
		}
		if res, _ := audit.Verify(ctx, db); res.OK() {
			t.Fatal("a person removed from the index went unnoticed")
		}
	})
}
