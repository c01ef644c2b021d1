package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// countingSender records how many times each message was handed to it.
type countingSender struct {
	mu   sync.Mutex
	sent map[string]int
}

func (c *countingSender) Send(_ context.Context, m mail.Message) error {
	time.Sleep(time.Millisecond) // a send takes a moment, as SMTP does
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[m.Subject]++
	return nil
}

func (c *countingSender) Describe() string { return "counting" }

// Four deliverers (one per instance) working one outbox at once: every
// message is claimed, and sent, once.
func TestDeliverDueClaimsEachMessageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := app.NewFakeClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
		const messages = 90
		if err := db.Write(ctx, func(tx *store.Tx) error {
			for i := range messages {
				if err := mail.Enqueue(ctx, tx, clock.Now(), mail.Message{To: "sam@example.org", Subject: fmt.Sprintf("Message %d", i), Body: "Hello"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sender := &countingSender{sent: map[string]int{}}
		total := make([]int, 4)
		errs := testkit.Race(len(total), func(i int) error {
			w := &mail.Worker{DB: db, Sender: sender, Clock: clock, Log: slog.New(slog.DiscardHandler)}
			for {
				n, err := w.DeliverDue(ctx)
				if err != nil || n == 0 {
					return err
				}
				total[i] += n
			}
		})
		if won := testkit.Winners(t, errs); won != len(errs) {
			t.Fatal(errs)
		}
		sum := 0
		for _, n := range total {
			sum += n
		}
		if sum != messages || len(sender.sent) != messages {
			t.Fatalf("sent %d (%d distinct), want %d", sum, len(sender.sent), messages)
		}
		for subject, n := range sender.sent {
			if n != 1 {
				t.Fatalf("%s sent %d times", subject, n)
			}
		}
		var unsent int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").Scan(&unsent); err != nil || unsent != 0 {
			t.Fatalf("%d unsent: %v", unsent, err)
		}
	})
}
