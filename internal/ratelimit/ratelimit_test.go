package ratelimit_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

// Pruning old counters leaves the current windows' counts alone, of every
// window length in use, and removes them once a day has passed.
func TestPruneKeepsCurrentCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := app.NewFakeClock(time.Date(2026, 11, 2, 9, 7, 0, 0, time.UTC))
		c := &ratelimit.Counters{DB: db, Clock: clock}
		for range 3 {
			if _, err := c.Hit(ctx, "a", 15*time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Hit(ctx, "b", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range []struct {
			key string
			w   time.Duration
		}{{"a", 15 * time.Minute}, {"b", time.Hour}} {
			if n, _ := c.Count(ctx, k.key, k.w); n != 3 {
				t.Fatalf("%s: %d after pruning, want 3", k.key, n)
			}
		}
		clock.Advance(25 * time.Hour)
		if err := c.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		var rows int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM rate_counters").Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("%d counters older than a day remain (%v)", rows, err)
		}
	})
}

// Concurrent hits each see a different count, and an undone attempt is
// given back.
func TestHitCountsEachAttemptOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := &ratelimit.Counters{DB: db, Clock: app.NewFakeClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}
		const n = 40
		got := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				ns, err := c.HitAll(ctx, 15*time.Minute, "k", "other")
				if err != nil {
					t.Error(err)
				}
				got[i] = ns[0]
			})
		}
		wg.Wait()
		slices.Sort(got)
		for i, v := range got {
			if v != i+1 {
				t.Fatalf("counts seen: %v", got)
			}
		}
		if err := c.Undo(ctx, "k", 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, _ := c.Count(ctx, "k", 15*time.Minute); v != n-1 {
			t.Fatalf("after one undo: %d, want %d", v, n-1)
		}
	})
}
