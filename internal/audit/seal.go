package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// sealBatch bounds how many rows one sealing transaction chains, so each
// holds SQLite's write lock (or PostgreSQL's sealer lock) only briefly.
const sealBatch = 500

// Seal chains every row committed before it was called and not yet sealed,
// in batches of short transactions, and returns how many rows it sealed.
// It waits while another sealer (on any instance) holds the sealer lock.
// Rows are sealed in the order they became visible, which on PostgreSQL is
// not always id order: a row with a smaller id that commits later simply
// gets a later place in the chain. An error leaves the rows sealed by
// earlier batches sealed and the rest for the next call.
func Seal(ctx context.Context, db *store.DB) (int, error) {
	return seal(ctx, db, true)
}

// seal runs batches until one is short. With wait false it stops as soon
// as another sealer holds the lock: that sealer is doing the work.
func seal(ctx context.Context, db *store.DB, wait bool) (int, error) {
	total := 0
	for {
		n, ran, err := sealOnce(ctx, db, wait)
		total += n
		if err != nil || !ran || n < sealBatch {
			return total, err
		}
	}
}

func sealOnce(ctx context.Context, db *store.DB, wait bool) (sealed int, ran bool, err error) {
	ran, err = db.Exclusive(ctx, store.LockAuditSealer, wait, func(tx *store.Tx) error {
		sealed = 0
		// The head is read after the lock is granted, so it includes the
		// previous sealer's last batch.
		var head int64
		prev := ""
		err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").Scan(&head, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading the audit chain head: %w", err)
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+rowColumns+" FROM audit_events WHERE seq IS NULL ORDER BY id LIMIT $1", sealBatch)
		if err != nil {
			return fmt.Errorf("reading unsealed audit rows: %w", err)
		}
		var batch []Row
		for rows.Next() {
			r, err := scanRow(rows)
			if err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		// One statement seals the batch (a statement a row was as many round
		// trips as the writes being sealed).
		a := store.NewArgs()
		var values strings.Builder
		for i := range batch {
			r := &batch[i]
			head++
			r.Seq, r.PrevHash = head, prev
			r.Hash = r.computeHash()
			prev = r.Hash
			if i > 0 {
				values.WriteString(", ")
			}
			fmt.Fprintf(&values, "(CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS TEXT), CAST(%s AS TEXT))",
				a.Add(r.ID), a.Add(r.Seq), a.Add(r.PrevHash), a.Add(r.Hash))
		}
		res, err := tx.ExecContext(ctx, `UPDATE audit_events SET seq = v.column2, prev_hash = v.column3, hash = v.column4
			FROM (VALUES `+values.String()+`) AS v WHERE audit_events.id = v.column1 AND audit_events.seq IS NULL`, a.Values()...)
		if err != nil {
			return fmt.Errorf("sealing audit rows %d to %d: %w", batch[0].ID, batch[len(batch)-1].ID, err)
		}
		// Only sealers change rows and they take turns, so a row that is no
		// longer unsealed means something else is writing seals.
		if n, err := res.RowsAffected(); err != nil || n != int64(len(batch)) {
			return fmt.Errorf("sealing audit rows %d to %d: some were sealed by someone else (%d of %d rows, %v)",
				batch[0].ID, batch[len(batch)-1].ID, n, len(batch), err)
		}
		sealed = len(batch)
		return nil
	})
	if err != nil {
		sealed = 0
	}
	return sealed, ran, err
}

// Head is the newest sealed row: publishing its hash lets anyone detect
// later that rows up to it were removed or rewritten.
type Head struct {
	Seq  int64     `json:"seq"`
	ID   int64     `json:"id"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"` // when the head row's access happened
	// Unsealed counts the rows written but not yet chained.
	Unsealed int64 `json:"unsealed"`
}

// ChainHead reads the newest sealed row and how many wait to be sealed. An
// empty chain gives a zero Head; only a database error is returned.
func ChainHead(ctx context.Context, db *store.DB) (Head, error) {
	var h Head
	err := db.QueryRow(ctx, "SELECT seq, id, hash, at FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").
		Scan(&h.Seq, &h.ID, &h.Hash, &h.At)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, err
	}
	h.At = h.At.UTC()
	err = db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE seq IS NULL").Scan(&h.Unsealed)
	return h, err
}

// Sealer keeps the audit chain sealed while the server runs: every Every
// (200 ms by default), or at once when poked, it chains the rows written
// since, and every PublishEvery (five minutes) it logs the chain's head.
// Any number of instances may run one: they take turns through a lock and
// one that finds the lock taken skips its turn. A sealer that stops (or an
// instance that dies) leaves rows unsealed, not lost: the next sealer on any
// instance, or "mutual audit verify", chains them.
type Sealer struct {
	DB           *store.DB
	Log          *slog.Logger
	Every        time.Duration
	PublishEvery time.Duration

	once sync.Once
	poke chan struct{}
}

func (s *Sealer) pokes() chan struct{} {
	s.once.Do(func() { s.poke = make(chan struct{}, 1) })
	return s.poke
}

// Poke asks the sealer to seal now rather than at its next tick. It never
// blocks; pokes while one is pending are merged.
func (s *Sealer) Poke() {
	select {
	case s.pokes() <- struct{}{}:
	default:
	}
}

// Run seals until ctx is cancelled, then seals once more (waiting for the
// lock, with ten seconds to finish) so rows written by requests that
// finished during shutdown are chained, logs the head and returns.
// Failures are logged, not returned: the next turn tries again.
func (s *Sealer) Run(ctx context.Context) {
	every, publishEvery := s.Every, s.PublishEvery
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	if publishEvery <= 0 {
		publishEvery = 5 * time.Minute
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	publish := time.NewTicker(publishEvery)
	defer publish.Stop()
	var lastErr string
	var lastWarned time.Time
	turn := func(ctx context.Context, wait bool) {
		_, err := seal(ctx, s.DB, wait)
		if err == nil || ctx.Err() != nil {
			lastErr = ""
			return
		}
		// A broken sealer would otherwise log five times a second.
		if err.Error() != lastErr || time.Since(lastWarned) > time.Minute {
			log.Warn("sealing the audit chain", "err", err)
			lastErr, lastWarned = err.Error(), time.Now()
		}
	}
	turn(ctx, false)
	s.publish(ctx, log)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			turn(fctx, true)
			s.publish(fctx, log)
			return
		case <-publish.C:
			s.publish(ctx, log)
			continue
		case <-tick.C:
		case <-s.pokes():
		}
		turn(ctx, false)
	}
}

func (s *Sealer) publish(ctx context.Context, log *slog.Logger) {
	h, err := ChainHead(ctx, s.DB)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("reading the audit chain head", "err", err)
		}
		return
	}
	log.Info("audit chain head", "seq", h.Seq, "hash", h.Hash, "at", h.At.Format(time.RFC3339Nano), "unsealed", h.Unsealed)
}
