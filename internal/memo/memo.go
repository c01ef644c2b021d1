// Package memo keeps recently computed values in memory: for the few hot
// reads (session checks, home-page figures, drawn navigation) that may be a
// moment behind the database or be reused while their inputs are unchanged.
// A Map is bounded: when it holds Limit entries it starts again empty, so
// memory stays small without any bookkeeping per entry.
package memo

import (
	"sync"
	"time"
)

// DefaultLimit is the bound of a Map whose Limit is zero.
const DefaultLimit = 10000

// Map is a bounded, concurrency-safe map of values with the time each was
// put. The zero value is ready to use.
type Map[K comparable, V any] struct {
	// Limit is how many entries the map holds before it starts again
	// empty; zero means DefaultLimit.
	Limit int

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// Get returns the value for k if there is one put less than maxAge ago
// (zero maxAge: of any age).
func (m *Map[K, V]) Get(k K, maxAge time.Duration) (V, bool) {
	m.mu.Lock()
	e, ok := m.m[k]
	m.mu.Unlock()
	if !ok || (maxAge > 0 && time.Since(e.at) >= maxAge) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put sets the value for k, timed from now.
func (m *Map[K, V]) Put(k K, v V) {
	limit := m.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= limit {
		m.m = make(map[K]entry[V])
	}
	m.m[k] = entry[V]{v: v, at: time.Now()}
}

// DeleteFunc removes the entries whose key matches.
func (m *Map[K, V]) DeleteFunc(match func(K) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.m {
		if match(k) {
			delete(m.m, k)
		}
	}
}

// Clear removes every entry.
func (m *Map[K, V]) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.m)
}
