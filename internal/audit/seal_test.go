package audit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

// instances opens n handles on one database, as n instances of Mutual
// would have.
func instances(t *testing.T, engine store.Dialect, n int) []*store.DB {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.DSN(t, engine)
	var out []*store.DB
	for range n {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		out = append(out, db)
	}
	return out
}

func record(ctx context.Context, tx *store.Tx, action string) error {
	return audit.Record(ctx, tx, time.Now(), app.Actor{UserID: 1, Role: app.RolePeerLead, RequestID: "r"},
		audit.Event{Action: action, SubjectPersonID: 1, ObjectType: "person", ObjectID: "1"})
}

// A write on one instance completes while a write on another instance
// holds its transaction open after recording its audit row. Before the
// sealer, the second waited for the first's chain lock until it committed.
// The transaction held open has the smaller id but commits later, so it
// is sealed later.
func TestWriteDoesNotWaitForAnotherInstance(t *testing.T) {
	dbs := instances(t, store.Postgres, 2)
	a, b := dbs[0], dbs[1]
	ctx := context.Background()
	recorded, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- a.Write(ctx, func(tx *store.Tx) error {
			if err := record(ctx, tx, "held.open"); err != nil {
				return err
			}
			close(recorded)
			<-release
			return nil
		})
	}()
	select {
	case <-recorded:
	case err := <-held:
		t.Fatal(err)
	}
	// A generous deadline: this is not a timing check; without one, the
	// old code would hang here until the test timed out.
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := b.Write(dctx, func(tx *store.Tx) error { return record(dctx, tx, "not.waiting") })
	cancel()
	if err != nil {
		close(release)
		t.Fatalf("a write on another instance waited for the open transaction: %v", err)
	}
	if n, err := audit.Seal(ctx, b); err != nil || n != 1 {
		t.Fatalf("sealed %d before the open transaction committed: %v", n, err)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if n, err := audit.Seal(ctx, a); err != nil || n != 1 {
		t.Fatalf("sealed %d after it committed: %v", n, err)
	}
	rows, err := audit.Recent(ctx, a, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("%+v %v", rows, err)
	}
	held1, other := rows[1], rows[0]
	if held1.Action != "held.open" || held1.ID > other.ID || held1.Seq < other.Seq {
		t.Fatalf("the row held open should have the smaller id and the later seq: %+v", rows)
	}
	if res, err := audit.Verify(ctx, a); err != nil || !res.OK() || res.Rows != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

// Sealers on several instances, running while writers on each instance
// write, seal every row exactly once, in one unbroken chain.
func TestSealersOnSeveralInstancesTakeTurns(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			dbs := instances(t, engine, 2)
			ctx := context.Background()
			const writers, each = 4, 40
			var sealed atomic.Int64
			stop := make(chan struct{})
			var sealers sync.WaitGroup
			for _, db := range dbs {
				sealers.Add(1)
				go func() {
					defer sealers.Done()
					for {
						n, err := audit.Seal(ctx, db)
						sealed.Add(int64(n))
						if err != nil {
							t.Error(err)
							return
						}
						select {
						case <-stop:
							return
						default:
						}
					}
				}()
			}
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range each {
						if err := dbs[w%2].Write(ctx, func(tx *store.Tx) error { return record(ctx, tx, "x") }); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(stop)
			sealers.Wait()
			n, err := audit.Seal(ctx, dbs[0])
			if err != nil {
				t.Fatal(err)
			}
			sealed.Add(int64(n))
			if sealed.Load() != writers*each {
				t.Fatalf("sealed %d rows in all, want %d", sealed.Load(), writers*each)
			}
			res, err := audit.Verify(ctx, dbs[1])
			if err != nil || !res.OK() || res.Rows != writers*each || res.HeadSeq != writers*each || res.Unsealed != 0 {
				t.Fatalf("%+v %v", res, err)
			}
		})
	}
}

// syncBuffer is a log destination safe for the sealer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The sealer seals when poked, and once more when it is stopped, and
// publishes the head in the log.
func TestSealerSealsWhenPokedAndOnStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var logs syncBuffer
		// Ticks far apart, so only pokes and the stop seal.
		s := &audit.Sealer{DB: db, Log: slog.New(slog.NewTextHandler(&logs, nil)), Every: time.Hour, PublishEvery: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { s.Run(ctx); close(stopped) }()
		writeEvents(t, db, 4)
		s.Poke()
		waitFor(t, "a poke to seal", func() bool { h, _ := audit.ChainHead(ctx, db); return h.Seq == 4 })
		writeEvents(t, db, 8)
		cancel()
		<-stopped
		h, err := audit.ChainHead(context.Background(), db)
		if err != nil || h.Seq != 12 || h.Unsealed != 0 {
			t.Fatalf("after stopping: %+v %v", h, err)
		}
		if !strings.Contains(logs.String(), "audit chain head") || !strings.Contains(logs.String(), h.Hash) {
			t.Fatalf("the head was not published:\n%s", logs.String())
		}
	})
}

// waitFor polls cond until it holds, failing the test after a long
// deadline (a hang detector, not a timing check).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// One statement seals each batch of rows: a chain of several batches, the
// last one short, verifies from the first row to the last.
func TestSealingSeveralBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		writeEvents(t, db, 1004)
		if n := seal(t, db); n != 1004 {
			t.Fatalf("sealed %d rows, want 1004", n)
		}
		res := verify(t, db, audit.VerifyOptions{})
		if !res.OK() || res.Rows != 1004 || res.HeadSeq != 1004 || res.Unsealed != 0 {
			t.Fatalf("after sealing three batches: %+v", res)
		}
	})
}
