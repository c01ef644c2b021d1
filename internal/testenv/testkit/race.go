package testkit

import (
	"fmt"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
)

// Race runs f(0) … f(n-1), each on its own goroutine, released together
// once all are ready, so the calls really overlap; it returns their errors.
func Race(n int, f func(i int) error) []error {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// Winners counts the racers that succeeded; every other one must have
// failed with one of the codes given, or the test fails.
func Winners(tb testing.TB, errs []error, losers ...app.Code) int {
	tb.Helper()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		ok := false
		for _, c := range losers {
			ok = ok || app.IsCode(err, c)
		}
		if !ok {
			tb.Fatalf("a racer failed with %v, want one of %v", err, losers)
		}
	}
	return won
}

// Clashing returns a reference maker for forcing a clash: its first two
// calls (two racers, or one and its retry) both give clash, and every
// later call a fresh reference that starts with prefix.
func Clashing(clash, prefix string) func() string {
	var mu sync.Mutex
	calls := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 {
			return clash
		}
		return fmt.Sprintf("%s%04d", prefix, calls)
	}
}
