package community_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Each sanction does what it says and no more, the member is told with
// the reason and the end, it ends by the clock with nothing to run, and a
// moderator can lift it early with a reason.
func TestSanctions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		mod := w.Principal(t, "moderator")
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		m := join(t, w, "person", "Quiet Heron", false)
		other := join(t, w, "person2", "Bright Finch", false)
		trusted(t, w, m)
		trusted(t, w, other)
		theirs := must(w.Community.CreateTopic(ctx, other, sp.ID, community.NewTopic{Title: "Hello", Body: "Hi all"}))

		for _, c := range []struct {
			in    community.NewSanction
			field string
		}{
			{community.NewSanction{Kind: "ban", Reason: "x", Days: 1}, "kind"},
			{community.NewSanction{Kind: "suspended", Days: 1}, "reason"},
			{community.NewSanction{Kind: "suspended", Reason: "x"}, "days"},
			{community.NewSanction{Kind: "warning", Reason: "x", Days: 3}, "days"},
			{community.NewSanction{Kind: "held", Reason: "x", Days: 400}, "days"},
		} {
			if _, err := w.Community.ApplySanction(ctx, mod, m.UserID, c.in); field(err) != c.field {
				t.Fatalf("%+v: %v, want a problem with %s", c.in, err, c.field)
			}
		}
		if _, err := w.Community.ApplySanction(ctx, other, m.UserID, community.NewSanction{Kind: "warning", Reason: "x"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a member sanctioning: %v", err)
		}

		// A warning restricts nothing, and the member is told why.
		must(w.Community.ApplySanction(ctx, mod, m.UserID, community.NewSanction{Kind: "warning", Reason: "Please keep it kind"}))
		must(w.Community.Reply(ctx, m, theirs.Topic.ID, community.NewPost{Body: "Welcome"}))

		// Posts held: every post waits for a moderator.
		held := must(w.Community.ApplySanction(ctx, mod, m.UserID, community.NewSanction{Kind: "held", Reason: "Posts about others", Days: 2}))
		if r := must(w.Community.Reply(ctx, m, theirs.Topic.ID, community.NewPost{Body: "Held one"})); !r.Held {
			t.Fatalf("a post while held: %+v", r)
		}
		// Read-only: no posts or reactions; reading and flagging still open.
		ro := must(w.Community.ApplySanction(ctx, mod, m.UserID, community.NewSanction{Kind: "read_only", Reason: "Arguing", Days: 1}))
		if _, err := w.Community.Reply(ctx, m, theirs.Topic.ID, community.NewPost{Body: "Can I?"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a read-only reply: %v", err)
		}
		if _, err := w.Community.CreateTopic(ctx, m, sp.ID, community.NewTopic{Title: "New", Body: "Can I?"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a read-only topic: %v", err)
		}
		if _, err := w.Community.React(ctx, m, theirs.Post.ID, "strength"); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a read-only reaction: %v", err)
		}
		must(w.Community.Topic(ctx, m, theirs.Topic.ID))
		if err := w.Community.Flag(ctx, m, theirs.Post.ID, community.NewFlag{Kind: "worried"}); err != nil {
			t.Fatalf("a read-only member flags: %v", err)
		}
		// Suspended: the spaces are closed, with until when.
		susp := must(w.Community.ApplySanction(ctx, mod, m.UserID, community.NewSanction{Kind: "suspended", Reason: "Threats", Days: 3}))
		_, err := w.Community.Topic(ctx, m, theirs.Topic.ID)
		if until, ok := community.IsSuspended(err); !ok || !until.Equal(*susp.EndsAt) || !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a suspended member enters: %v (%v)", err, until)
		}
		if _, _, err := w.Community.Topics(ctx, m, sp.ID); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a suspended member lists topics: %v", err)
		}
		if err := w.Community.Flag(ctx, m, theirs.Post.ID, community.NewFlag{Kind: "unkind"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a suspended member flags: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%appeal%'", m.UserID); n != 4 {
			t.Fatalf("the member was told of %d sanctions", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%Threats%' AND message LIKE '%until%'", m.UserID); n != 1 {
			t.Fatalf("the suspension's notice: %d", n)
		}
		// Lifted early with a reason (once); the member is told.
		if _, err := w.Community.LiftSanction(ctx, mod, susp.ID, community.Lift{}); field(err) != "lift_reason" {
			t.Fatalf("lifting without a reason: %v", err)
		}
		must(w.Community.LiftSanction(ctx, mod, susp.ID, community.Lift{Reason: "Spoke with them"}))
		if _, err := w.Community.LiftSanction(ctx, mod, susp.ID, community.Lift{Reason: "again"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("lifting twice: %v", err)
		}
		must(w.Community.Topic(ctx, m, theirs.Topic.ID))
		if _, err := w.Community.Reply(ctx, m, theirs.Topic.ID, community.NewPost{Body: "Still read-only"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("read-only after the suspension was lifted: %v", err)
		}
		// The clock ends the rest: read-only after a day, held after two.
		w.Clock.Advance(24*time.Hour + time.Minute)
		if r := must(w.Community.Reply(ctx, m, theirs.Topic.ID, community.NewPost{Body: "Back"})); !r.Held {
			t.Fatalf("still held after read-only ended: %+v", r)
		}
		w.Clock.Advance(24 * time.Hour)
		if r := must(w.Community.Reply(ctx, m, theirs.Topic.ID, community.NewPost{Body: "Free"})); r.Held {
			t.Fatalf("held after the end: %+v", r)
		}
		if _, err := w.Community.LiftSanction(ctx, mod, ro.ID, community.Lift{Reason: "late"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("lifting an ended sanction: %v", err)
		}
		mine := must(w.Community.MySanctions(ctx, m))
		if len(mine) != 4 || mine[0].InForce || mine[1].InForce || mine[3].Kind != "warning" || mine[3].InForce || mine[0].LiftReason != "Spoke with them" {
			t.Fatalf("the member's sanctions: %+v", mine)
		}
		_ = held
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action IN ('community.sanction', 'community.sanction.lift')"); n != 5 {
			t.Fatalf("%d sanctions audited", n)
		}
	})
}

// A sanction applied while posts are being written: every post either
// committed before the sanction (its audit row comes first: the member's
// row lock orders them) or is refused; once the sanction has committed,
// nothing gets through. Lifted at once by several: lifted once.
func TestSanctionStopsPostsUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		mod := w.Principal(t, "moderator")
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		m := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, m)
		tp := must(w.Community.CreateTopic(ctx, m, sp.ID, community.NewTopic{Title: "Hello", Body: "Hi all"}))
		const writers = 8
		var mu sync.Mutex
		posted := 0
		errs := testkit.Race(writers+1, func(i int) error {
			if i == writers {
				_, err := w.Community.ApplySanction(ctx, mod, m.UserID, community.NewSanction{Kind: "read_only", Reason: "Spam", Days: 1})
				return err
			}
			_, err := w.Community.Reply(ctx, m, tp.Topic.ID, community.NewPost{Body: fmt.Sprintf("Reply %d", i)})
			if err == nil {
				mu.Lock()
				posted++
				mu.Unlock()
			}
			return err
		})
		if errs[writers] != nil {
			t.Fatalf("the sanction: %v", errs[writers])
		}
		for i, err := range errs[:writers] {
			if err != nil && !app.IsCode(err, app.CodeForbidden) {
				t.Fatalf("writer %d: %v", i, err)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM community_posts WHERE NOT opening"); n != posted {
			t.Fatalf("%d replies stored, %d answered as posted", n, posted)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_events WHERE action = 'community.post'
			AND id > (SELECT id FROM audit_events WHERE action = 'community.sanction')`); n != 0 {
			t.Fatalf("%d posts written after the sanction", n)
		}
		for i := range writers {
			if _, err := w.Community.Reply(ctx, m, tp.Topic.ID, community.NewPost{Body: fmt.Sprintf("After %d", i)}); !app.IsCode(err, app.CodeForbidden) {
				t.Fatalf("a reply after the sanction committed: %v", err)
			}
		}
		// Lifted by three moderators at once: one lift, the member told once.
		var id int64
		if err := db.QueryRow(ctx, "SELECT id FROM community_sanctions").Scan(&id); err != nil {
			t.Fatal(err)
		}
		errs = testkit.Race(3, func(int) error {
			_, err := w.Community.LiftSanction(ctx, mod, id, community.Lift{Reason: "Sorted"})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d lifts", won)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%has been lifted%'", m.UserID); n != 1 {
			t.Fatalf("told of %d lifts", n)
		}
	})
}
