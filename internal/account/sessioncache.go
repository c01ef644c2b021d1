package account

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/memo"
	"github.com/mutualhq/mutual/internal/store"
)

// sessionCache remembers, for a moment, what the database said about a
// session or an API token, so a burst of requests from one browser (a page
// and its redirects, or someone clicking quickly) or one API client costs
// one database query rather than one each.
//
// The database stays the only place a session or token lives. An entry is
// kept for at most Service.SessionRecheck (a second by default), and every
// change this instance commits that ends, replaces or alters sessions or
// tokens — signing out, ending an account's sessions, disabling it,
// changing its roles, two-factor or password, revoking a token — forgets
// every entry. A change made by another instance sharing the database takes
// effect here within SessionRecheck. Expiry (and, for sessions, the idle
// timeout) is still checked on every request against the remembered times.
type sessionCache struct {
	// gen counts forgets. An entry carries the count from before its
	// database read began, so a read that raced a forget is never used.
	gen     atomic.Uint64
	entries memo.Map[string, cachedSession]
	tokens  memo.Map[string, cachedSession]
}

type cachedSession struct {
	p        app.Principal // without RequestID
	lastSeen time.Time     // for tokens, last used
	expires  time.Time
	idle     time.Duration
	gen      uint64
}

// get returns the remembered check of a session, if it is younger than
// ttl and no forget came after its read, and the generation a fresh read
// should be stored under.
func (c *sessionCache) get(id string, ttl time.Duration) (cachedSession, uint64, bool) {
	return c.lookup(&c.entries, id, ttl)
}

// getToken is get for an API token, by the hash of the token.
func (c *sessionCache) getToken(id string, ttl time.Duration) (cachedSession, uint64, bool) {
	return c.lookup(&c.tokens, id, ttl)
}

func (c *sessionCache) lookup(m *memo.Map[string, cachedSession], id string, ttl time.Duration) (cachedSession, uint64, bool) {
	gen := c.gen.Load()
	if ttl <= 0 {
		return cachedSession{}, gen, false
	}
	e, ok := m.Get(id, ttl)
	return e, gen, ok && e.gen == gen
}

func (c *sessionCache) forget() {
	c.gen.Add(1)
	c.entries.Clear()
	c.tokens.Clear()
}

// ForgetSessions drops every remembered session and token check, so the
// next request of each session or token reads the database again. Call it after committing any
// change to accounts, roles or sessions made outside this package.
func (s *Service) ForgetSessions() { s.sessions.forget() }

// endSessions deletes every session of an account in tx, and forgets the
// remembered checks once tx has committed.
func (s *Service) endSessions(ctx context.Context, tx *store.Tx, userID int64) error {
	tx.AfterCommit(s.ForgetSessions)
	_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return err
}
