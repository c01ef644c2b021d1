package community_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A member appeals once per sanction in their own words; a lead (never the
// moderator who applied it, never a moderator or another member) upholds
// or overturns with a reason; overturning lifts it; the member is told;
// sent three times at once: one appeal; two leads at once: one decides.
func TestAppeals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		mod := w.Principal(t, "moderator")
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		m := join(t, w, "person", "Quiet Heron", false)
		other := join(t, w, "person2", "Bright Finch", false)
		trusted(t, w, m)
		tp := must(w.Community.CreateTopic(ctx, m, sp.ID, community.NewTopic{Title: "Hello", Body: "Hi all"}))
		ro := must(w.Community.ApplySanction(ctx, mod, m.UserID, community.NewSanction{Kind: "read_only", Reason: "Arguing", Days: 7}))
		warn := must(w.Community.ApplySanction(ctx, mod, m.UserID, community.NewSanction{Kind: "warning", Reason: "Be kind"}))

		if _, err := w.Community.AppealSanction(ctx, m, ro.ID, community.NewAppeal{}); field(err) != "words" {
			t.Fatalf("an appeal without words: %v", err)
		}
		if _, err := w.Community.AppealSanction(ctx, other, ro.ID, community.NewAppeal{Words: "Not me"}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("appealing another member's sanction: %v", err)
		}
		// Sent three times at once (a double submit, two tabs): one appeal.
		var a community.Appeal
		var mu sync.Mutex
		errs := testkit.Race(3, func(int) error {
			got, err := w.Community.AppealSanction(ctx, m, ro.ID, community.NewAppeal{Words: "I was defending someone"})
			if err == nil {
				mu.Lock()
				a = got
				mu.Unlock()
			}
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d appeals", won)
		}
		if _, err := w.Community.AppealSanction(ctx, m, ro.ID, community.NewAppeal{Words: "again"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("a second appeal: %v", err)
		}
		up := must(w.Community.AppealSanction(ctx, m, warn.ID, community.NewAppeal{Words: "Unfair"}))

		if _, err := w.Community.AppealsWaiting(ctx, mod); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a moderator lists appeals: %v", err)
		}
		if _, err := w.Community.DecideAppeal(ctx, w.Principal(t, "worker"), a.ID, community.AppealDecision{Outcome: "overturn", Reason: "x"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a peer worker decides: %v", err)
		}
		lead := w.Principal(t, "lead")
		if l := must(w.Community.AppealsWaiting(ctx, lead)); len(l) != 2 || l[0].Words != "I was defending someone" || !l[0].MayDecide(lead) {
			t.Fatalf("waiting appeals: %+v", l)
		}
		if _, err := w.Community.DecideAppeal(ctx, lead, a.ID, community.AppealDecision{Outcome: "overturn"}); field(err) != "reason" {
			t.Fatalf("no reason: %v", err)
		}
		// Two leads at once on the same appeal: one decides.
		leads := []*app.Principal{lead, w.Principal(t, "lead2"), w.Principal(t, "leadB")}
		errs = testkit.Race(len(leads), func(i int) error {
			_, err := w.Community.DecideAppeal(ctx, leads[i], a.ID, community.AppealDecision{Outcome: "overturn", Reason: "They were defending someone"})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d decisions", won)
		}
		// Overturned: the sanction is lifted and the member can post.
		must(w.Community.Reply(ctx, m, tp.Topic.ID, community.NewPost{Body: "Thank you"}))
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%overturned it%'", m.UserID); n != 1 {
			t.Fatalf("the member told %d times", n)
		}
		must(w.Community.DecideAppeal(ctx, lead, up.ID, community.AppealDecision{Outcome: "uphold", Reason: "It was unkind"}))
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%upheld it%'", m.UserID); n != 1 {
			t.Fatalf("the member told of the upheld appeal %d times", n)
		}
		if l := must(w.Community.AppealsWaiting(ctx, lead)); len(l) != 0 {
			t.Fatalf("still waiting: %+v", l)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action IN ('community.appeal', 'community.appeal.decide')"); n != 4 {
			t.Fatalf("%d appeal steps audited", n)
		}
	})
}

// The moderator who applied a sanction, if also a lead, cannot decide the
// appeal against it.
func TestAppealNotDecidedBySanctioner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		m := join(t, w, "person", "Quiet Heron", false)
		both := &app.Principal{UserID: w.Principal(t, "lead").UserID, Name: "Both", Memberships: []app.Membership{{Role: app.RoleModerator},
			{Role: app.RolePeerLead, TeamID: w.TeamA.ID}}}
		sn := must(w.Community.ApplySanction(ctx, both, m.UserID, community.NewSanction{Kind: "held", Reason: "Spam", Days: 1}))
		a := must(w.Community.AppealSanction(ctx, m, sn.ID, community.NewAppeal{Words: "Not spam"}))
		if _, err := w.Community.DecideAppeal(ctx, both, a.ID, community.AppealDecision{Outcome: "uphold", Reason: "mine"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("the sanctioner decides: %v", err)
		}
		if l := must(w.Community.AppealsWaiting(ctx, both)); len(l) != 0 {
			t.Fatalf("the sanctioner sees their own: %+v", l)
		}
	})
}
