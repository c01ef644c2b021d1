// Package ratelimit counts attempts in fixed time windows. Counters that
// matter for security live in the database, so every instance sharing one
// PostgreSQL database sees the same counts; a small in-memory limiter in
// front sheds floods before they reach the database.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Counters is the database-backed counter store.
type Counters struct {
	DB    *store.DB
	Clock app.Clock
}

// Key hashes the parts of a counter key (an email address or network
// address) so the table never holds them in the clear.
func Key(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil))[:32]
}

// window is the start of the current fixed window of length w, in Unix
// seconds, so rows of every window length can be pruned by age alike.
func (c *Counters) window(w time.Duration) int64 {
	n := int64(w.Seconds())
	return c.Clock.Now().Unix() / n * n
}

// Hit adds one to key's counter for the current window and returns the new
// count. The increment and the read are one statement, so concurrent hits
// each see a different count: counting an attempt with Hit *before* the
// check it guards, and refusing when the count is over the limit, lets no
// more than the limit through however many arrive at once.
func (c *Counters) Hit(ctx context.Context, key string, w time.Duration) (int, error) {
	ns, err := c.HitAll(ctx, w, key)
	if err != nil {
		return 0, err
	}
	return ns[0], nil
}

// HitAll is Hit for several keys in one transaction, returning each new
// count in the order of keys. Callers pass keys in a fixed order, so two
// transactions never wait for each other's rows in opposite orders.
func (c *Counters) HitAll(ctx context.Context, w time.Duration, keys ...string) ([]int, error) {
	out := make([]int, len(keys))
	err := c.DB.Write(ctx, func(tx *store.Tx) error {
		for i, k := range keys {
			var err error
			if out[i], err = c.HitTx(ctx, tx, k, w); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// HitTx is Hit inside a caller's transaction.
func (c *Counters) HitTx(ctx context.Context, tx *store.Tx, key string, w time.Duration) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `INSERT INTO rate_counters (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count + 1
		RETURNING count`, key, c.window(w)).Scan(&n)
	return n, err
}

// Undo takes back one attempt counted by Hit in the current window: for an
// attempt that turned out not to be a failure (a correct password).
func (c *Counters) Undo(ctx context.Context, key string, w time.Duration) error {
	_, err := c.DB.Exec(ctx, "UPDATE rate_counters SET count = count - 1 WHERE key = $1 AND window_start = $2 AND count > 0", key, c.window(w))
	return err
}

// Count returns key's count in the current window without changing it.
// It is for showing, not deciding: a decision on a count read here can be
// overtaken by concurrent attempts (use Hit).
func (c *Counters) Count(ctx context.Context, key string, w time.Duration) (int, error) {
	var n int
	err := c.DB.QueryRow(ctx, "SELECT COALESCE(SUM(count), 0) FROM rate_counters WHERE key = $1 AND window_start = $2",
		key, c.window(w)).Scan(&n)
	return n, err
}

// Reset clears key's counter in the current window.
func (c *Counters) Reset(ctx context.Context, key string, w time.Duration) error {
	_, err := c.DB.Exec(ctx, "DELETE FROM rate_counters WHERE key = $1 AND window_start = $2", key, c.window(w))
	return err
}

// MaxWindow is the longest window a counter may use: Prune keeps every
// counter whose window started less than this long ago.
const MaxWindow = 24 * time.Hour

// Prune deletes counters whose window started over MaxWindow ago.
func (c *Counters) Prune(ctx context.Context) error {
	_, err := c.DB.Exec(ctx, "DELETE FROM rate_counters WHERE window_start < $1", c.Clock.Now().Add(-MaxWindow).Unix())
	return err
}

// Memory is a per-key token-bucket limiter held in one process. It is only
// a first line against floods: decisions that matter also use Counters.
type Memory struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
}

// NewMemory allows burst events at once per key, refilling one per every.
func NewMemory(every time.Duration, burst int) *Memory {
	return &Memory{every: rate.Every(every), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// Allow reports whether key may act now.
func (m *Memory) Allow(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.buckets) > 50_000 {
		// Bound memory under a spray of addresses: start afresh.
		m.buckets = map[string]*rate.Limiter{}
	}
	l, ok := m.buckets[key]
	if !ok {
		l = rate.NewLimiter(m.every, m.burst)
		m.buckets[key] = l
	}
	return l.Allow()
}
