package account

import (
	"context"
	"sync"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// sessionCache remembers, for a moment, what the database said about a
// session, so a burst of requests from one browser (a page and its
// redirects, or someone clicking quickly) costs one database query rather
// than one each.
//
// The database stays the only place a session lives. An entry is kept for
// at most Service.SessionRecheck (a second by default) of real time, and
// every account change this instance makes — signing out, ending sessions,
// disabling an account, changing roles or two-factor — forgets every entry
// once it has committed. A change made by another instance sharing the
// database therefore takes effect here within SessionRecheck. Expiry and the
// idle timeout are still checked on every request against the remembered
// times.
type sessionCache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every forget; entries from older generations are ignored
	entries map[string]cachedSession
}

type cachedSession struct {
	p        app.Principal // without RequestID
	lastSeen time.Time
	expires  time.Time
	idle     time.Duration
	checked  time.Time // real time of the database read (monotonic)
	gen      uint64
}

// sessionCacheLimit bounds memory: when more sessions than this were seen in
// one recheck period, the cache starts again empty.
const sessionCacheLimit = 50000

func (c *sessionCache) get(id string, ttl time.Duration) (cachedSession, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || e.gen != c.gen || time.Since(e.checked) >= ttl {
		return cachedSession{}, c.gen, false
	}
	return e, c.gen, true
}

// put stores what was read under the generation current when the read
// began, so a read that raced with a forget is never kept.
func (c *sessionCache) put(id string, e cachedSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= sessionCacheLimit {
		c.entries = make(map[string]cachedSession)
	}
	c.entries[id] = e
}

func (c *sessionCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// ForgetSessions drops every remembered session check, so the next request
// of each session reads the database again. Call it after committing any
// change to accounts, roles or sessions made outside this package.
func (s *Service) ForgetSessions() { s.sessions.forget() }

// write runs fn in a write transaction and, once it has committed, forgets
// the remembered session checks: every write in this package may change
// who someone is signed in as, or whether they still are.
func (s *Service) write(ctx context.Context, fn func(tx *store.Tx) error) error {
	err := s.DB.Write(ctx, fn)
	s.sessions.forget()
	return err
}

// exec runs one statement and then forgets the remembered session checks.
func (s *Service) exec(ctx context.Context, query string, args ...any) error {
	_, err := s.DB.Exec(ctx, query, args...)
	s.sessions.forget()
	return err
}
