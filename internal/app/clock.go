package app

import (
	"sync"
	"time"
	_ "time/tzdata" // Europe/London must resolve on minimal hosts
)

// Clock gives the current time. Inject it so tests can move time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC and rounded to microseconds so that
// a value survives a round trip through either database unchanged.
type SystemClock struct{}

// Now returns the current UTC time to the microsecond.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// FakeClock is a settable clock for tests.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock starts a fake clock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t.UTC().Truncate(time.Microsecond)} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the fake clock forward.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// London is the time zone people see; storage is always UTC.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// time/tzdata is imported by the binary, so this only fails if that
		// import is removed.
		panic(err)
	}
	return loc
}
