// Package mail sends Mutual's email through a durable outbox: a message is
// written in the same transaction as the change that causes it, and a
// worker delivers it later, retrying with back-off, so a crash or an SMTP
// outage loses nothing and a rolled-back change sends nothing.
package mail

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Message is one plain-text email, with any attachments.
type Message struct {
	To          string
	Subject     string
	Body        string
	Attachments []Attachment
}

// Attachment is a file sent with a message (a calendar file, say).
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// maxAttachments bounds what one message may carry: a calendar file or
// two, never a document store.
const maxAttachments = 256 << 10

// Enqueue adds a message to the outbox inside tx. It fails if the address
// is empty or contains a line break (header injection), or an attachment
// has no name, a name or type with a line break or quote, or the
// attachments are too large.
func Enqueue(ctx context.Context, tx *store.Tx, now time.Time, m Message) error {
	if m.To == "" || strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return app.Errorf(app.CodeInvalid, "an email address or subject is not valid")
	}
	att, err := encodeAttachments(m.Attachments)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (to_address, subject, body, created_at, next_attempt_at, attachments)
		VALUES ($1, $2, $3, $4, $4, $5)`, m.To, m.Subject, m.Body, now, att)
	return err
}

func encodeAttachments(as []Attachment) (string, error) {
	if len(as) == 0 {
		return "", nil
	}
	size := 0
	for _, a := range as {
		size += len(a.Data)
		if a.Name == "" || strings.ContainsAny(a.Name+a.ContentType, "\r\n\"") || a.ContentType == "" {
			return "", app.Errorf(app.CodeInvalid, "an attachment's name or type is not valid")
		}
	}
	if size > maxAttachments {
		return "", app.Errorf(app.CodeTooLarge, "attachments are too large for an email")
	}
	b, err := json.Marshal(as)
	return string(b), err
}

func decodeAttachments(s string) ([]Attachment, error) {
	if s == "" {
		return nil, nil
	}
	var as []Attachment
	err := json.Unmarshal([]byte(s), &as)
	return as, err
}

// Item is a whole outbox row, body included. Bodies hold one-time links
// (invitations, password resets, account claims) and names, so an Item is
// for the sender and for tests only: nothing shows one to anybody. The
// administrators' view reads Summaries.
type Item struct {
	ID          int64
	To          string
	Subject     string
	Body        string
	Attachments []Attachment
	CreatedAt   time.Time
	SentAt      *time.Time
	Attempts    int
	LastError   string
}

// List returns the newest outbox messages with their bodies, optionally
// only those to one address. For tests: pages use Recent.
func List(ctx context.Context, db *store.DB, to string, limit int) ([]Item, error) {
	rows, err := db.Query(ctx, `SELECT id, to_address, subject, body, attachments, created_at, sent_at, attempts, last_error
		FROM outbox WHERE $1 = '' OR to_address = $1 ORDER BY id DESC LIMIT $2`, to, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var sent sql.NullTime
		var att string
		if err := rows.Scan(&it.ID, &it.To, &it.Subject, &it.Body, &att, &it.CreatedAt, &sent, &it.Attempts, &it.LastError); err != nil {
			return nil, err
		}
		if it.Attachments, err = decodeAttachments(att); err != nil {
			return nil, err
		}
		if sent.Valid {
			it.SentAt = &sent.Time
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Summary is what anyone may see of an outbox message: who it is to, its
// subject and how its delivery is going — never its body, which may hold a
// link that signs someone in.
type Summary struct {
	ID        int64      `json:"id"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
}

// Recent returns the newest outbox messages' summaries. The body is not
// even read.
func Recent(ctx context.Context, db *store.DB, limit int) ([]Summary, error) {
	rows, err := db.Query(ctx, `SELECT id, to_address, subject, created_at, sent_at, attempts, last_error
		FROM outbox ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var it Summary
		var sent sql.NullTime
		if err := rows.Scan(&it.ID, &it.To, &it.Subject, &it.CreatedAt, &sent, &it.Attempts, &it.LastError); err != nil {
			return nil, err
		}
		if sent.Valid {
			it.SentAt = &sent.Time
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m Message) error
	// Describe says where mail goes, for the start-up log.
	Describe() string
}

// Worker delivers due outbox messages. Several instances may run against
// one PostgreSQL database: each claims a batch with a lease.
type Worker struct {
	DB       *store.DB
	Sender   Sender
	Clock    app.Clock
	Log      *slog.Logger
	Interval time.Duration
	Owner    string
}

const maxAttempts = 12

// Run delivers mail until ctx is cancelled.
func (w *Worker) Run(ctx context.Context) {
	interval := w.Interval
	if interval == 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := w.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			w.Log.Error("mail delivery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue claims and sends due messages once, returning how many were
// sent.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	now := w.Clock.Now()
	var batch []Item
	err := w.DB.Write(ctx, func(tx *store.Tx) error {
		// A retried transaction (store.DB.Write retries one that met a
		// deadlock or a serialization failure) starts again from nothing.
		batch = batch[:0]
		rows, err := tx.QueryContext(ctx, `SELECT id, to_address, subject, body, attachments, attempts FROM outbox
			WHERE sent_at IS NULL AND attempts < $1 AND next_attempt_at <= $2
			AND (claimed_until IS NULL OR claimed_until < $2)
			ORDER BY id LIMIT 20`+tx.Dialect.SkipLocked(), maxAttempts, now)
		if err != nil {
			return err
		}
		for rows.Next() {
			var it Item
			var att string
			if err := rows.Scan(&it.ID, &it.To, &it.Subject, &it.Body, &att, &it.Attempts); err != nil {
				rows.Close()
				return err
			}
			if it.Attachments, err = decodeAttachments(att); err != nil {
				rows.Close()
				return fmt.Errorf("outbox %d: reading its attachments: %w", it.ID, err)
			}
			batch = append(batch, it)
		}
		rows.Close()
		for _, it := range batch {
			if _, err := tx.ExecContext(ctx, "UPDATE outbox SET claimed_until = $1 WHERE id = $2", now.Add(2*time.Minute), it.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, it := range batch {
		sendErr := w.Sender.Send(ctx, Message{To: it.To, Subject: it.Subject, Body: it.Body, Attachments: it.Attachments})
		now := w.Clock.Now()
		var err error
		if sendErr == nil {
			sent++
			_, err = w.DB.Exec(ctx, "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, claimed_until = NULL, last_error = '' WHERE id = $2", now, it.ID)
		} else {
			backoff := time.Duration(1<<min(it.Attempts, 10)) * 30 * time.Second
			w.Log.Warn("mail not sent; will retry", "outbox_id", it.ID, "attempt", it.Attempts+1, "err", sendErr)
			_, err = w.DB.Exec(ctx, "UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, last_error = $1, next_attempt_at = $2 WHERE id = $3",
				truncate(sendErr.Error(), 500), now.Add(backoff), it.ID)
		}
		if err != nil {
			return sent, fmt.Errorf("recording delivery of outbox %d: %w", it.ID, err)
		}
	}
	return sent, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
