// Package notify tells people things: in Mutual (the notifications table)
// and by email (through the outbox). Every message's words live in an
// embedded template, and every template is given a typed message whose
// fields are checked by a test: email never carries a person's name or any
// other personal detail, only references and links.
package notify

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/memo"
	"github.com/mutualhq/mutual/internal/store"
)

//go:embed templates/*.txt
var files embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"lower": strings.ToLower,
}).ParseFS(files, "templates/*.txt"))

// Email is a message sent by email. Its template file defines "subject"
// and "body".
type Email interface{ emailTemplate() string }

// Note is a message shown in Mutual. Its template file defines "text".
type Note interface{ noteTemplate() string }

func render(name, part string, data any) (string, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name+"/"+part, data); err != nil {
		return "", fmt.Errorf("rendering %s/%s: %w", name, part, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// SendEmail renders an email and queues it in the outbox inside tx, so it
// is sent only if tx commits. Attachments (a calendar file) go with it as
// they are: the caller makes sure they carry no more than the email may.
func SendEmail(ctx context.Context, tx *store.Tx, now time.Time, to string, m Email, attach ...mail.Attachment) error {
	subject, err := render(m.emailTemplate(), "subject", m)
	if err != nil {
		return err
	}
	body, err := render(m.emailTemplate(), "body", m)
	if err != nil {
		return err
	}
	return mail.Enqueue(ctx, tx, now, mail.Message{To: to, Subject: subject, Body: body + "\n", Attachments: attach})
}

// Notification is a message for someone, shown in Mutual.
type Notification struct {
	ID         int64      `json:"id"`
	ReferralID int64      `json:"referral_id,omitempty"`
	Message    string     `json:"message"`
	CreatedAt  time.Time  `json:"created_at"`
	ReadAt     *time.Time `json:"read_at,omitempty"`
}

// Service holds the notifications shown in Mutual. Lists are reused for a
// few seconds per account (they are on every home page); this instance
// forgets an account's list when it adds to it or marks it read, and other
// instances catch up within listTTL.
type Service struct {
	DB    *store.DB
	Clock app.Clock

	lists memo.Map[listKey, []Notification]
}

type listKey struct {
	user  int64
	limit int
}

const listTTL = 10 * time.Second

// Tell adds a notification for an account inside tx (referralID may be
// 0). The account's cached list is forgotten once tx commits.
func (s *Service) Tell(ctx context.Context, tx *store.Tx, userID, referralID int64, n Note) error {
	text, err := render(n.noteTemplate(), "text", n)
	if err != nil {
		return err
	}
	var ref any
	if referralID != 0 {
		ref = referralID
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO notifications (user_id, referral_id, message, created_at) VALUES ($1, $2, $3, $4)",
		userID, ref, text, s.Clock.Now()); err != nil {
		return err
	}
	tx.AfterCommit(func() { s.forget(userID) })
	return nil
}

// List returns the caller's newest notifications.
func (s *Service) List(ctx context.Context, p *app.Principal, limit int) ([]Notification, error) {
	userID := p.UserID
	key := listKey{userID, limit}
	if list, ok := s.lists.Get(key, listTTL); ok {
		return slices.Clone(list), nil
	}
	rows, err := s.DB.QueryCached(ctx, `SELECT id, COALESCE(referral_id, 0), message, created_at, read_at FROM notifications
		WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var read sql.NullTime
		if err := rows.Scan(&n.ID, &n.ReferralID, &n.Message, &n.CreatedAt, &read); err != nil {
			return nil, err
		}
		if read.Valid {
			t := read.Time.UTC()
			n.ReadAt = &t
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.lists.Put(key, slices.Clone(out))
	return out, nil
}

// MarkRead marks all the caller's notifications read.
func (s *Service) MarkRead(ctx context.Context, p *app.Principal) error {
	userID := p.UserID
	_, err := s.DB.Exec(ctx, "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL", s.Clock.Now(), userID)
	s.forget(userID)
	return err
}

func (s *Service) forget(userID int64) {
	s.lists.DeleteFunc(func(k listKey) bool { return k.user == userID })
}

// ForgetReferrals deletes every notification about the referrals, inside
// tx: for the retention job, which forgets a person's referrals. The
// accounts' cached lists are forgotten once tx commits.
func (s *Service) ForgetReferrals(ctx context.Context, tx *store.Tx, referralIDs []int64) error {
	if len(referralIDs) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM notifications WHERE referral_id IN (SELECT id FROM "+tx.Dialect.IDTable("$1", "gone")+")",
		store.IDsParam(referralIDs))
	tx.AfterCommit(func() { s.lists.Clear() })
	return err
}

// ForgetUser deletes every notification for an account, inside tx: for the
// retention job, which forgets the account of a person forgotten.
func (s *Service) ForgetUser(ctx context.Context, tx *store.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, "DELETE FROM notifications WHERE user_id = $1", userID)
	tx.AfterCommit(func() { s.forget(userID) })
	return err
}

// OfUser lists every notification for an account, oldest first, inside tx:
// for the account holder's part of a person's copy of their data.
func OfUser(ctx context.Context, tx *store.Tx, userID int64) ([]Notification, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(referral_id, 0), message, created_at, read_at FROM notifications
		WHERE user_id = $1 ORDER BY id LIMIT 10000`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var read sql.NullTime
		if err := rows.Scan(&n.ID, &n.ReferralID, &n.Message, &n.CreatedAt, &read); err != nil {
			return nil, err
		}
		if read.Valid {
			t := read.Time.UTC()
			n.ReadAt = &t
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
