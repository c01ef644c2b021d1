package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// Someone waiting for one service is told that service's recent waits once
// it has enough of them, and the figure for all services before that.
func TestWaitQuotedForThePersonsService(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	lead := e.Principal(t, "lead")
	mine, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf,
		AskedFor: "Someone who has been through it", TeamID: e.TeamA.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Other people's referrals to the same team, first contacted 14 days on.
	contacted := func(n int) {
		t.Helper()
		var ids []int64
		for i := range n {
			ids = append(ids, e.StaffReferral(t, "clinician", "Waiter "+string(rune('A'+i))).ID)
		}
		e.Clock.Advance(14 * 24 * time.Hour)
		for _, id := range ids {
			if _, err := e.Referrals.RecordContact(ctx, lead, id, referral.NewContact{At: e.Clock.Now(), Mode: "phone", Minutes: 10}); err != nil {
				t.Fatal(err)
			}
		}
	}
	contacted(3)
	body := e.As(t, "person").Get("/my/referrals").Body
	if !strings.Contains(body, "people wait about 14 days") || strings.Contains(body, "waiting for North Community Team") {
		t.Fatalf("with 3 recent waits, want the figure for all services:\n%s", body)
	}
	contacted(7) // a fortnight on: sign in again
	body = e.As(t, "person").Get("/my/referrals").Body
	if !strings.Contains(body, "people waiting for North Community Team wait about 14 days") {
		t.Fatalf("with 10 recent waits, want the team's figure:\n%s", body)
	}
	if !strings.Contains(body, mine.Reference) {
		t.Fatal("the person's own referral is missing")
	}
}
