package community_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A lead sets the moderators' rota (only moderators, ends after starts,
// within a week); a space's page says whether a moderator is on duty now
// and when one next is; only leads set it; it is audited.
func TestDutyRota(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		lead, mod := w.Principal(t, "lead"), w.Principal(t, "moderator")
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		reader := join(t, w, "person", "Quiet Heron", false)
		now := w.Clock.Now()
		got, _ := must2(w.Community.Topics(ctx, reader, sp.ID))
		if got.Duty == nil || got.Duty.OnDuty || got.Duty.Next != nil {
			t.Fatalf("no rota: %+v", got.Duty)
		}
		if _, err := w.Community.AddDuty(ctx, mod, community.NewDuty{ModeratorID: mod.UserID, From: now, To: now.Add(time.Hour)}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a moderator sets the rota: %v", err)
		}
		for _, c := range []struct {
			in    community.NewDuty
			field string
		}{
			{community.NewDuty{ModeratorID: w.Principal(t, "worker").UserID, From: now, To: now.Add(time.Hour)}, "moderator_id"},
			{community.NewDuty{ModeratorID: mod.UserID, From: now, To: now}, "to"},
			{community.NewDuty{ModeratorID: mod.UserID, From: now, To: now.Add(8 * 24 * time.Hour)}, "to"},
		} {
			if _, err := w.Community.AddDuty(ctx, lead, c.in); field(err) != c.field {
				t.Fatalf("%+v: %v, want %s", c.in, err, c.field)
			}
		}
		later := must(w.Community.AddDuty(ctx, lead, community.NewDuty{ModeratorID: mod.UserID, From: now.Add(3 * time.Hour), To: now.Add(5 * time.Hour)}))
		got, _ = must2(w.Community.Topics(ctx, reader, sp.ID))
		if got.Duty.OnDuty || got.Duty.Next == nil || !got.Duty.Next.Equal(later.From) {
			t.Fatalf("off duty, next later: %+v", got.Duty)
		}
		w.Clock.Advance(4 * time.Hour)
		got, _ = must2(w.Community.Topics(ctx, reader, sp.ID))
		if !got.Duty.OnDuty {
			t.Fatalf("on duty: %+v", got.Duty)
		}
		r := must(w.Community.Rota(ctx, lead))
		if len(r.Periods) != 1 || r.Periods[0].Moderator != mod.Name || len(r.Moderators) == 0 {
			t.Fatalf("the rota: %+v", r)
		}
		if err := w.Community.RemoveDuty(ctx, w.Principal(t, "worker"), later.ID); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a peer worker changes the rota: %v", err)
		}
		if err := w.Community.RemoveDuty(ctx, lead, later.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action IN ('community.duty.add', 'community.duty.remove')"); n < 2 {
			t.Fatalf("%d rota changes audited", n)
		}
	})
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
