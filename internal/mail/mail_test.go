package mail_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

type received struct {
	mu   sync.Mutex
	msgs []string
	fail bool
}

func (r *received) setFail(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = v
}

type backend struct{ r *received }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{r: b.r}, nil }

type session struct {
	r  *received
	to string
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.fail {
		return &smtp.SMTPError{Code: 451, Message: "try later"}
	}
	s.r.msgs = append(s.r.msgs, s.to+"\n"+string(b))
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func startSMTP(t *testing.T) (*received, string) {
	t.Helper()
	r := &received{}
	srv := smtp.NewServer(backend{r})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r, "smtp://" + l.Addr().String() + "?from=mutual@example.org&tls=none"
}

func TestOutboxDeliversThroughSMTPAndRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, url := startSMTP(t)
		sender, err := mail.NewSMTPSender(url)
		if err != nil {
			t.Fatal(err)
		}
		clock := app.NewFakeClock(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		err = db.Write(ctx, func(tx *store.Tx) error {
			return mail.Enqueue(ctx, tx, clock.Now(), mail.Message{To: "sam@example.org", Subject: "Your referral", Body: "We have your referral."})
		})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: db, Sender: sender, Clock: clock, Log: slog.New(slog.DiscardHandler)}

		r.setFail(true)
		if n, err := w.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("failing server: sent %d, %v", n, err)
		}
		items, _ := mail.List(ctx, db, "", 10)
		if len(items) != 1 || items[0].Attempts != 1 || !strings.Contains(items[0].LastError, "try later") {
			t.Fatalf("after failure: %+v", items)
		}
		// Not due again until the back-off has passed.
		r.setFail(false)
		if n, _ := w.DeliverDue(ctx); n != 0 {
			t.Fatal("retried before back-off")
		}
		clock.Advance(2 * time.Minute)
		if n, err := w.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("after back-off: sent %d, %v", n, err)
		}
		if len(r.msgs) != 1 || !strings.Contains(r.msgs[0], "Subject: Your referral") || !strings.HasPrefix(r.msgs[0], "sam@example.org") {
			t.Fatalf("received %q", r.msgs)
		}
		if n, _ := w.DeliverDue(ctx); n != 0 {
			t.Fatal("sent twice")
		}
	})
}

func TestRolledBackChangeSendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_ = db.Write(ctx, func(tx *store.Tx) error {
			if err := mail.Enqueue(ctx, tx, time.Now(), mail.Message{To: "a@example.org", Subject: "s", Body: "b"}); err != nil {
				return err
			}
			return app.Errorf(app.CodeConflict, "later step failed")
		})
		items, _ := mail.List(ctx, db, "", 10)
		if len(items) != 0 {
			t.Fatalf("outbox has %d messages from a rolled-back change", len(items))
		}
	})
}

func TestHeaderInjectionRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Write(ctx, func(tx *store.Tx) error {
			return mail.Enqueue(ctx, tx, time.Now(), mail.Message{To: "a@example.org\r\nBcc: x@example.org", Subject: "s", Body: "b"})
		})
		if !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSMTPURLValidation(t *testing.T) {
	for _, bad := range []string{"http://x", "smtp://?from=a@b", "smtp://host", "smtp://host:abc?from=a@b", "smtp://h?from=a@b&tls=maybe"} {
		if _, err := mail.NewSMTPSender(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
