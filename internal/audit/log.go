package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Log is the group committer for audited reads. A read runs in a read-only
// transaction (store.DB.Read: on SQLite the read pool, never the write
// lock), then calls Append, which returns once the read's audit row is
// durably committed; only then may the caller send anything it read. A
// writer goroutine commits whatever Appends are waiting in one write
// transaction (one fsync for many readers) and wakes them all. SQLite has
// one writer, as it can only commit one transaction at a time; PostgreSQL
// has a few, whose commits overlap (a single writer there would wait out
// every round trip of every batch in turn).
//
// Crash safety: Append returns nil only after the transaction holding its
// row has committed, with SQLite's synchronous=FULL or PostgreSQL's
// synchronous_commit on (the server refuses to start otherwise), so a row
// acknowledged is a row on disk. If the process dies before the commit, no
// Append in the batch has returned, no data was sent, and the transaction
// never happened. If it dies between the commit and waking the waiters,
// the rows exist and the data was not sent: an access recorded that did not
// happen, which errs on the safe side. Committed rows are unsealed until a
// sealer on any instance (or "mutual audit verify") chains them.
//
// Build one per process with NewLog, Start it, and Close it after the HTTP
// server has finished its requests.
type Log struct {
	db       *store.DB
	clock    app.Clock
	maxBatch int
	writers  int
	queue    chan *pending

	mu      sync.RWMutex // held for reading while sending on queue; Close takes it to close queue
	started bool
	closed  bool
	done    chan struct{}

	appended, batches, rows, skipped atomic.Int64
}

type pending struct {
	row      Row
	subjects []int64
	done     chan error // buffered: the writer never waits for a caller that gave up
	gaveUp   atomic.Bool
}

// ErrLogClosed is returned by Append after Close, or before Start.
var ErrLogClosed = errors.New("the audit log is not running")

// Defaults for NewLog: a batch is at most this many rows, and at most
// this many Appends wait in the queue (more wait to enter it, or give up
// with their context).
const (
	DefaultMaxBatch = 256
	DefaultMaxQueue = 4096
)

// postgresWriters is how many batches may commit at once on PostgreSQL:
// enough to keep the commits overlapping, few beside the connection pool.
const postgresWriters = 4

// LogOptions tune a Log; zero values take the defaults.
type LogOptions struct {
	MaxBatch int // rows per transaction (DefaultMaxBatch)
	MaxQueue int // Appends waiting for a writer (DefaultMaxQueue)
	// Writers is how many batches may commit at once: 1 on SQLite, which
	// commits one transaction at a time anyway; 4 on PostgreSQL.
	Writers int
}

// NewLog builds a Log over db that stamps rows with clock. It does
// nothing until Start.
func NewLog(db *store.DB, clock app.Clock, opts LogOptions) *Log {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = DefaultMaxQueue
	}
	if opts.Writers <= 0 {
		opts.Writers = 1
		if db.Dialect == store.Postgres {
			opts.Writers = postgresWriters
		}
	}
	return &Log{db: db, clock: clock, maxBatch: opts.MaxBatch, writers: opts.Writers,
		queue: make(chan *pending, opts.MaxQueue), done: make(chan struct{})}
}

// Start starts the writers. Calling it twice, or after Close, does nothing.
func (l *Log) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.closed {
		return
	}
	l.started = true
	var wg sync.WaitGroup
	for range l.writers {
		wg.Add(1)
		go func() { defer wg.Done(); l.write() }()
	}
	go func() { wg.Wait(); close(l.done) }()
}

// Close stops new Appends (they get ErrLogClosed), commits everything
// already queued, and returns when the writer has finished. It is safe to
// call more than once.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.closed = true
	started := l.started
	close(l.queue)
	l.mu.Unlock()
	if !started {
		close(l.done)
	}
	<-l.done
	return nil
}

// Append records that actor did e, and returns once the row is durably
// committed. It returns an error (and the caller must then send none of
// what it read) when ctx ends first, the Log is not running, or the
// commit fails. After an error the row may still have been committed if
// it was already in a batch: an access recorded that did not happen errs
// on the safe side.
func (l *Log) Append(ctx context.Context, actor app.Actor, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, subjects := newRow(l.clock.Now(), actor, e)
	p := &pending{row: r, subjects: subjects, done: make(chan error, 1)}
	l.mu.RLock()
	if !l.started || l.closed {
		l.mu.RUnlock()
		return ErrLogClosed
	}
	select {
	case l.queue <- p:
		l.appended.Add(1)
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The writer skips a row whose caller gave up before its batch
		// began; one already in a batch is committed anyway.
		p.gaveUp.Store(true)
		return ctx.Err()
	}
}

// AppendDenied records a refused attempt (outcome denied), for the case
// where the caller's own transaction, if any, rolled back. It is not cut
// short when the caller's context is cancelled — someone probing for
// records must not escape the trail by hanging up — but gives up after ten
// seconds. Callers usually ignore its error: the refusal stands either way.
func (l *Log) AppendDenied(ctx context.Context, actor app.Actor, e Event) error {
	e.Outcome = OutcomeDenied
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return l.Append(ctx, actor, e)
}

// LogStats counts what a Log has done, for tests, benchmarks and metrics.
type LogStats struct {
	Appended int64 // Appends that entered the queue
	Batches  int64 // write transactions committed or attempted
	Rows     int64 // rows committed
	Skipped  int64 // rows not written because their caller gave up first
	Queued   int   // Appends waiting for a writer right now
	Writers  int   // batches that may commit at once
}

// Stats returns the Log's counters so far.
func (l *Log) Stats() LogStats {
	return LogStats{Appended: l.appended.Load(), Batches: l.batches.Load(), Rows: l.rows.Load(),
		Skipped: l.skipped.Load(), Queued: len(l.queue), Writers: l.writers}
}

// write is one writer: it takes the first waiting Append, gathers every
// other one already queued (up to maxBatch), commits them together and
// wakes them. While it commits, new Appends queue up for the next batch,
// so the batch grows with the load.
func (l *Log) write() {
	batch := make([]*pending, 0, l.maxBatch)
	for {
		p, ok := <-l.queue
		if !ok {
			return
		}
		batch = append(batch[:0], p)
	gather:
		for len(batch) < l.maxBatch {
			select {
			case p, ok := <-l.queue:
				if !ok {
					break gather
				}
				batch = append(batch, p)
			default:
				break gather
			}
		}
		l.commit(batch)
		clear(batch)
	}
}

// commit writes one batch. If the batch fails as a whole, each row is
// tried in a transaction of its own, so one bad row (say, text PostgreSQL
// refuses) fails only its own caller.
func (l *Log) commit(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if p.gaveUp.Load() {
			l.skipped.Add(1)
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	err := l.commitTx(live)
	if err != nil && len(live) > 1 {
		for _, p := range live {
			p.done <- l.commitTx([]*pending{p})
		}
		return
	}
	for _, p := range live {
		p.done <- err
	}
}

func (l *Log) commitTx(batch []*pending) error {
	// The writer's own deadline, not any caller's: the batch is shared.
	// Callers stop waiting at their own deadlines. Requests wait for this
	// commit while holding their turn to write, so it takes none.
	ctx, cancel := context.WithTimeout(store.Unqueued(context.Background()), 30*time.Second)
	defer cancel()
	l.batches.Add(1)
	err := l.db.Write(ctx, func(tx *store.Tx) error {
		// Rows that list other people need their ids for the index of
		// subjects, so go one by one; the rest go together, in as few
		// statements as the batch allows (one round trip, not one a row).
		plain := make([]Row, 0, len(batch))
		for _, p := range batch {
			if len(p.subjects) == 0 {
				plain = append(plain, p.row)
				continue
			}
			r := p.row
			if err := insert(ctx, tx, &r, p.subjects); err != nil {
				return err
			}
		}
		return insertRows(ctx, tx, plain)
	})
	if err != nil {
		return fmt.Errorf("committing audit rows: %w", err)
	}
	l.rows.Add(int64(len(batch)))
	return nil
}

// Recorder registers the audit event of a read: who read, and whose data.
type Recorder func(actor app.Actor, e Event)

// Read runs fn in a read-only transaction (on SQLite, without the write
// lock), then records the event fn registered and returns only once that
// row is durably committed: the pattern for every audited read, so no
// byte of person data is sent before its audit row. An error from fn
// records nothing and is returned; so is a failure to record, and then the
// caller must send nothing.
func (l *Log) Read(ctx context.Context, fn func(tx *store.Tx, record Recorder) error) error {
	var actor app.Actor
	var e *Event
	err := l.db.Read(ctx, func(tx *store.Tx) error {
		e = nil
		return fn(tx, func(a app.Actor, ev Event) { actor, e = a, &ev })
	})
	if err != nil {
		return err
	}
	if e == nil {
		return errors.New("audit: an audited read registered no event")
	}
	if !ReadsAudited {
		return nil
	}
	return l.Append(ctx, actor, *e)
}
