package store

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// Writes waiting for the write lock get it in the order they asked:
// database/sql alone hands a freed connection to a waiter at random, which
// left some writes waiting many turns under load (see DB.Write).
func TestWritesTakeTurnsInOrder(t *testing.T) {
	ctx := context.Background()
	db := openTurnsDB(t)
	held, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := db.Write(ctx, func(*Tx) error { close(held); <-release; return nil }); err != nil {
			t.Error(err)
		}
	})
	<-held
	var order []int // appended to by one transaction at a time
	const writers = 8
	for i := range writers {
		wg.Go(func() {
			if err := db.Write(ctx, func(*Tx) error { order = append(order, i); return nil }); err != nil {
				t.Error(err)
			}
		})
		// The next asks only once this one waits (and a moment more, for
		// it to reach the queue after counting itself).
		for deadline := time.Now().Add(10 * time.Second); db.waiting.Load() != int64(i+1); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("write %d never waited for a turn (%d waiting)", i, db.waiting.Load())
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(order, want) {
		t.Errorf("writes ran in the order %v, want the order they asked in, %v", order, want)
	}
}

// A write marked Unqueued does not wait for a turn: the audit log's
// writers, which requests holding a turn wait for, must not queue behind
// them. Nor does Exclusive, whose waiters would hold every turn.
func TestUnqueuedWritesTakeNoTurn(t *testing.T) {
	ctx := context.Background()
	db := openTurnsDB(t)
	db.writeTurns <- struct{}{} // every turn taken
	done := make(chan error, 1)
	finishes := func(what string) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s waited for a turn while every turn was taken", what)
		}
	}
	go func() { done <- db.Write(Unqueued(ctx), func(*Tx) error { return nil }) }()
	finishes("an unqueued write")
	// Nor do the jobs that take turns through a lock of their own.
	go func() {
		_, err := db.Exclusive(ctx, LockCaseload, true, func(*Tx) error { return nil })
		done <- err
	}()
	finishes("an exclusive job")
	queued, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := db.Write(queued, func(*Tx) error { return nil }); err == nil {
		t.Error("a write ran without a turn while every turn was taken")
	}
	<-db.writeTurns
}

func openTurnsDB(t *testing.T) *DB {
	t.Helper()
	db, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "turns.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
