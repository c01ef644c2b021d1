package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
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

func seal(t *testing.T, db *store.DB) int {
	t.Helper()
	n, err := audit.Seal(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func verify(t *testing.T, db *store.DB, opts audit.VerifyOptions) audit.VerifyResult {
	t.Helper()
	res, err := audit.VerifyWith(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// disableGuard drops the append-only triggers and the unique chain
// position, as someone with direct database access could, so tampering can
// be simulated.
func disableGuard(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{"DROP INDEX audit_seq"}
	if db.Dialect == store.Postgres {
		stmts = append(stmts, "ALTER TABLE audit_events DISABLE TRIGGER USER", "ALTER TABLE audit_subjects DISABLE TRIGGER USER")
	} else {
		stmts = append(stmts, "DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete", "DROP TRIGGER audit_insert_unsealed",
			"DROP TRIGGER audit_subjects_no_update", "DROP TRIGGER audit_subjects_no_delete")
	}
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

func exec(t *testing.T, db *store.DB, sql string) {
	t.Helper()
	for _, s := range strings.Split(sql, "; ") {
		if _, err := db.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func mustFind(t *testing.T, res audit.VerifyResult, want string) {
	t.Helper()
	if res.OK() {
		t.Fatal("tampering was not detected")
	}
	if !strings.Contains(strings.Join(res.Problems, "\n"), want) {
		t.Fatalf("problems %q do not mention %q", res.Problems, want)
	}
}

const unsealCols = "seq = NULL, prev_hash = '', hash = ''"

func TestChainVerifiesAndCatchesTampering(t *testing.T) {
	forged := strings.Repeat("f", 64)
	cases := []struct {
		name string
		sql  string
		want string
	}{
		{"Edited", "UPDATE audit_events SET outcome = 'denied' WHERE seq = 10", "row 10 (position 10) has been changed"},
		{"Deleted", "DELETE FROM audit_events WHERE seq = 10", "row 11 (position 11) follows position 9"},
		{"Reordered", "UPDATE audit_events SET seq = -seq WHERE seq IN (10, 11); UPDATE audit_events SET seq = 21 + seq WHERE seq IN (-10, -11)", "(position 10)"},
		{"ActorRewritten", "UPDATE audit_events SET actor_user_id = 99 WHERE seq = 3", "row 3 (position 3) has been changed"},
		{"IDChanged", "UPDATE audit_events SET id = 1000 WHERE seq = 5", "row 1000 (position 5) has been changed"},
		// A copy of a sealed row sealed again at the same position.
		{"SealedTwice", `INSERT INTO audit_events (id, seq, at, request_id, actor_role, action, object_type, object_id, outcome, subjects, written_at, prev_hash, hash)
			SELECT 500, seq, at, request_id, actor_role, action, object_type, object_id, outcome, subjects, written_at, prev_hash, hash FROM audit_events WHERE seq = 12`,
			"chain position 12 is held by rows 12 and 500"},
		// An unsealed row given a seal by hand: in place, and without a place.
		{"ForgedSeal", "UPDATE audit_events SET seq = 41, prev_hash = (SELECT hash FROM audit_events WHERE seq = 40), hash = '" + forged + "' WHERE id = 41",
			"row 41 (position 41) has been changed"},
		{"ForgedSealWithoutPosition", "UPDATE audit_events SET hash = '" + forged + "' WHERE id = 41", "row 41 carries a seal but has no place in the chain"},
		{"SealRemoved", "UPDATE audit_events SET " + unsealCols + " WHERE seq = 40", "row 40 has waited"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				writeEvents(t, db, 40)
				if n := seal(t, db); n != 40 {
					t.Fatalf("sealed %d rows, want 40", n)
				}
				writeEvents(t, db, 4) // left unsealed: rows 41–44
				res := verify(t, db, audit.VerifyOptions{})
				if !res.OK() || res.Rows != 40 || res.HeadSeq != 40 || res.Unsealed != 4 {
					t.Fatalf("fresh chain: %+v", res)
				}
				disableGuard(t, db)
				exec(t, db, c.sql)
				// Rows unsealed too long are part of SealRemoved: the
				// others age nothing.
				opts := audit.VerifyOptions{}
				if c.name == "SealRemoved" {
					opts.Now = time.Now().Add(2 * time.Minute)
				}
				mustFind(t, verify(t, db, opts), c.want)
			})
		})
	}
}

// Removing the newest rows, or rewriting the chain from some row onwards
// and sealing it afresh, leaves a chain that checks out by itself. A head
// published before catches both.
func TestPublishedHeadCatchesTruncationAndRewriting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		writeEvents(t, db, 40)
		seal(t, db)
		head, err := audit.ChainHead(ctx, db)
		if err != nil || head.Seq != 40 || len(head.Hash) != 64 {
			t.Fatalf("head %+v %v", head, err)
		}
		if res := verify(t, db, audit.VerifyOptions{Known: &head}); !res.OK() {
			t.Fatalf("fresh chain against its own head: %v", res.Problems)
		}
		disableGuard(t, db)
		// Rewrite: edit row 30, unseal 30–40 and let the sealer chain them
		// again, as someone with the code and the database could.
		exec(t, db, "UPDATE audit_events SET outcome = 'denied', "+unsealCols+" WHERE seq = 30; UPDATE audit_events SET "+unsealCols+" WHERE seq > 30")
		seal(t, db)
		if res := verify(t, db, audit.VerifyOptions{}); !res.OK() {
			t.Fatalf("a resealed chain should check out by itself: %v", res.Problems)
		}
		mustFind(t, verify(t, db, audit.VerifyOptions{Known: &head}), "position 40 no longer has the published hash")
		exec(t, db, "DELETE FROM audit_events WHERE seq > 38")
		mustFind(t, verify(t, db, audit.VerifyOptions{Known: &head}), "the published head at position 40 is not in the chain")
	})
}

// An unsealed row cannot be edited through the guard. Someone who gets
// past it can edit a row in the moments before it is sealed, and the seal
// then covers the edit; once sealed, any edit is caught.
func TestEditBeforeAndAfterSealing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		writeEvents(t, db, 8)
		if _, err := db.Exec(ctx, "UPDATE audit_events SET outcome = 'denied' WHERE id = 3"); err == nil {
			t.Fatal("an unsealed row was edited through the guard")
		}
		disableGuard(t, db)
		exec(t, db, "UPDATE audit_events SET outcome = 'denied' WHERE id = 3")
		seal(t, db)
		if res := verify(t, db, audit.VerifyOptions{}); !res.OK() {
			t.Fatalf("sealed after the edit: %v", res.Problems)
		}
		exec(t, db, "UPDATE audit_events SET outcome = 'ok' WHERE id = 3")
		mustFind(t, verify(t, db, audit.VerifyOptions{}), "row 3 (position 3) has been changed")
	})
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

// Subjects are covered by the chain and by the index check, row by row:
// an entry removed from the index, or added to it, is reported against
// its row.
func TestSubjectsAreVerified(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, ids := range [][]int64{{5, 3, 5, 9}, {3, 4}} {
			err := db.Write(ctx, func(tx *store.Tx) error {
				return audit.Record(ctx, tx, time.Now(), app.Actor{UserID: 1, RequestID: "r"},
					audit.Event{Action: "referral.list", Subjects: ids, ObjectType: "referrals", ObjectID: "results=3"})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		seal(t, db)
		if res := verify(t, db, audit.VerifyOptions{}); !res.OK() {
			t.Fatalf("fresh chain: %+v", res)
		}
		var subjects string
		_ = db.QueryRow(ctx, "SELECT subjects FROM audit_events WHERE id = 1").Scan(&subjects)
		if subjects != "3,5,9" {
			t.Fatalf("subjects %q", subjects)
		}
		disableGuard(t, db)
		// Moved from one row to another: the total is unchanged.
		exec(t, db, "DELETE FROM audit_subjects WHERE person_id = 5 AND audit_id = 1; INSERT INTO audit_subjects (audit_id, person_id) VALUES (2, 5)")
		res := verify(t, db, audit.VerifyOptions{})
		mustFind(t, res, "row 1 names the people 3,5,9, but the index of people shown lists 2 for it")
		mustFind(t, res, "lists person 5 for row 2, which does not name them")
	})
}

// Rows left unsealed are reported once they have waited too long.
func TestUnsealedRowsAreReported(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		writeEvents(t, db, 8)
		if res := verify(t, db, audit.VerifyOptions{}); !res.OK() || res.Unsealed != 8 || res.Rows != 0 {
			t.Fatalf("just written: %+v", res)
		}
		mustFind(t, verify(t, db, audit.VerifyOptions{Now: time.Now().Add(61 * time.Second)}), "8 rows in all have waited more than 1m0s")
		seal(t, db)
		if res := verify(t, db, audit.VerifyOptions{Now: time.Now().Add(time.Hour)}); !res.OK() || res.Unsealed != 0 || res.Rows != 8 {
			t.Fatalf("sealed: %+v", res)
		}
	})
}

// "Who has seen my record" lists accesses that are not yet sealed.
func TestForPersonShowsUnsealedRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, e := range []audit.Event{
			{Action: "person.read", SubjectPersonID: 7, ObjectType: "person", ObjectID: "7"},
			{Action: "person.search", Subjects: []int64{7, 8}, ObjectType: "people", ObjectID: "results=2"},
		} {
			if err := audit.RecordAlone(ctx, db, time.Now(), app.Actor{UserID: 2, Role: app.RoleClinician}, e); err != nil {
				t.Fatal(err)
			}
		}
		var seen []audit.Access
		err := db.Read(ctx, func(tx *store.Tx) error {
			var err error
			seen, err = audit.ForPerson(ctx, tx, 7, 0, 10)
			return err
		})
		if err != nil || len(seen) != 2 || seen[0].Action != "person.search" {
			t.Fatalf("unsealed accesses: %+v %v", seen, err)
		}
	})
}

// legacyHash is how rows were hashed before the sealer: the id first, and
// the predecessor's hash, written under a lock. Kept here, apart from the
// code, to show that such rows still verify.
func legacyHash(id int64, at time.Time, requestID string, user int64, role string, team int64, action string, subject int64,
	objectType, objectID, outcome, prev, subjects string) string {
	h := sha256.New()
	for _, f := range []string{strconv.FormatInt(id, 10), at.UTC().Format(time.RFC3339Nano), requestID, strconv.FormatInt(user, 10), role,
		strconv.FormatInt(team, 10), action, strconv.FormatInt(subject, 10), objectType, objectID, outcome, prev} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	if subjects != "" {
		fmt.Fprintf(h, "subjects:%d:%s;", len(subjects), subjects)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// A trail written by the previous release (ids chained under a lock, with
// explicit ids) verifies unchanged after the upgrade, and new rows follow
// it: on PostgreSQL the identity sequence had never been used.
func TestChainFromBeforeTheSealerStillVerifies(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenAt(t, engine, 11)
			at := time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)
			prev := ""
			for id := int64(1); id <= 30; id++ {
				subjects := ""
				if id%7 == 0 {
					subjects = "4,5"
				}
				hash := legacyHash(id, at, "req", 3, "peer_lead", 2, "referral.read", id, "referral", fmt.Sprint(id), "ok", prev, subjects)
				_, err := db.Exec(ctx, `INSERT INTO audit_events (id, at, request_id, actor_user_id, actor_role, actor_team_id, action,
					subject_person_id, object_type, object_id, outcome, subjects, prev_hash, hash)
					VALUES ($1, $2, 'req', 3, 'peer_lead', 2, 'referral.read', $1, 'referral', $3, 'ok', $4, $5, $6)`,
					id, at, fmt.Sprint(id), subjects, prev, hash)
				if err == nil && subjects != "" {
					_, err = db.Exec(ctx, "INSERT INTO audit_subjects (audit_id, person_id) VALUES ($1, 4), ($1, 5)", id)
				}
				if err != nil {
					t.Fatal(err)
				}
				prev = hash
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			res := verify(t, db, audit.VerifyOptions{})
			if !res.OK() || res.Rows != 30 || res.HeadSeq != 30 || res.HeadHash != prev {
				t.Fatalf("the old chain after the upgrade: %+v", res)
			}
			writeEvents(t, db, 8)
			if n := seal(t, db); n != 8 {
				t.Fatalf("sealed %d", n)
			}
			res = verify(t, db, audit.VerifyOptions{})
			if !res.OK() || res.Rows != 38 || res.HeadSeq != 38 || res.HeadID <= 30 {
				t.Fatalf("new rows after the old chain: %+v", res)
			}
		})
	}
}
