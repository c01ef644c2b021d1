package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	mmail "github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

const calendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"

// attachmentsOf parses a whole message and returns its attachments by
// file name, failing if it is not a well-formed multipart message.
func attachmentsOf(t *testing.T, raw string) (string, map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, raw)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text string
	files := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			b, err = io.ReadAll(base64Reader(b))
			if err != nil {
				t.Fatal(err)
			}
		}
		if name := p.FileName(); name != "" {
			if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
				t.Errorf("%s sent as %q", name, ct)
			}
			files[name] = string(b)
		} else {
			text = string(b)
		}
	}
	return text, files
}

// An attachment queued with a message is sent with it, intact, by both
// senders: through SMTP and into the demonstration folder.
func TestAttachmentsAreSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r, url := startSMTP(t)
		sender, err := mmail.NewSMTPSender(url)
		if err != nil {
			t.Fatal(err)
		}
		clock := app.NewFakeClock(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		msg := mmail.Message{To: "sam@example.org", Subject: "Reminder", Body: "See you tomorrow.",
			Attachments: []mmail.Attachment{{Name: "booking.ics", ContentType: "text/calendar; charset=utf-8; method=PUBLISH", Data: []byte(calendar)}}}
		if err := db.Write(ctx, func(tx *store.Tx) error { return mmail.Enqueue(ctx, tx, clock.Now(), msg) }); err != nil {
			t.Fatal(err)
		}
		items, _ := mmail.List(ctx, db, "", 1)
		if len(items) != 1 || len(items[0].Attachments) != 1 || string(items[0].Attachments[0].Data) != calendar {
			t.Fatalf("stored: %+v", items)
		}
		w := &mmail.Worker{DB: db, Sender: sender, Clock: clock, Log: slog.New(slog.DiscardHandler)}
		if n, err := w.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("sent %d, %v", n, err)
		}
		if len(r.msgs) != 1 {
			t.Fatalf("received %d", len(r.msgs))
		}
		_, raw, _ := strings.Cut(r.msgs[0], "\n")
		text, files := attachmentsOf(t, raw)
		if !strings.Contains(text, "See you tomorrow.") || files["booking.ics"] != calendar {
			t.Fatalf("SMTP: text %q, files %q", text, files)
		}

		dir := t.TempDir()
		if err := (&mmail.FolderSender{Dir: dir}).Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		if len(names) != 1 {
			t.Fatalf("files: %v", names)
		}
		b, _ := os.ReadFile(names[0])
		text, files = attachmentsOf(t, string(b))
		if !strings.Contains(text, "See you tomorrow.") || files["booking.ics"] != calendar {
			t.Fatalf("folder: text %q, files %q", text, files)
		}
	})
}

func TestBadAttachmentsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, a := range []mmail.Attachment{{Name: "", ContentType: "text/plain"}, {Name: "a\r\nb.ics", ContentType: "text/calendar"},
			{Name: "a.ics", ContentType: ""}, {Name: "big.bin", ContentType: "application/octet-stream", Data: bytes.Repeat([]byte{1}, 300<<10)}} {
			err := db.Write(ctx, func(tx *store.Tx) error {
				return mmail.Enqueue(ctx, tx, time.Now(), mmail.Message{To: "a@example.org", Subject: "s", Body: "b", Attachments: []mmail.Attachment{a}})
			})
			if err == nil {
				t.Errorf("attachment %q accepted", a.Name)
			}
		}
	})
}

func base64Reader(b []byte) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)))
}
