package community_test

import (
	"context"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// safeguardingWorld is a member of team A's caseload (an open referral)
// who has NOT agreed to their care team being told, and their risky post.
func safeguardingWorld(t *testing.T, w *testkit.World) (*app.Principal, community.Posted) {
	t.Helper()
	ctx := context.Background()
	sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
	if _, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: w.TeamA.ID}); err != nil {
		t.Fatal(err)
	}
	writer := join(t, w, "person", "Quiet Heron", false)
	trusted(t, w, writer)
	return writer, must(w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Tonight", Body: "I have the tablets ready for tonight"}))
}

// Without the member's agreement, a moderator alone cannot send a concern
// to the care team: it waits for a peer lead or clinician of the member's
// team (never the moderator, never a peer worker, never another team),
// who confirms with a reason; only then is the team alerted and the
// member told. Every step is audited.
func TestSafeguardingWithoutConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		mod := w.Principal(t, "moderator")
		writer, post := safeguardingWorld(t, w)
		before := count(t, db, "SELECT COUNT(*) FROM alerts")

		if _, err := w.Community.RaiseSafeguarding(ctx, mod, post.Post.ID, community.NewSafeguarding{}); field(err) != "reason" {
			t.Fatalf("raised without a reason: %v", err)
		}
		if _, err := w.Community.RaiseSafeguarding(ctx, w.Principal(t, "lead"), post.Post.ID, community.NewSafeguarding{Reason: "x"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a lead raising: %v", err)
		}
		sg, err := w.Community.RaiseSafeguarding(ctx, mod, post.Post.ID, community.NewSafeguarding{Reason: "Has the means and a plan for tonight"})
		if err != nil || sg.Status != "waiting" {
			t.Fatalf("raise: %+v %v", sg, err)
		}
		// The moderator follows the concern, never the member's referral.
		if sg.ReferralID != 0 || sg.Reference != "" {
			t.Fatalf("the moderator was given the referral: %+v", sg)
		}
		if got, err := w.Community.SafeguardingConcern(ctx, mod, sg.ID); err != nil || got.ReferralID != 0 || got.Reference != "" {
			t.Fatalf("the moderator's view of the concern: %+v %v", got, err)
		}
		if _, err := w.Community.RaiseSafeguarding(ctx, mod, post.Post.ID, community.NewSafeguarding{Reason: "again"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("a second concern while one waits: %v", err)
		}
		// Nothing is sent by the moderator alone.
		if n := count(t, db, "SELECT COUNT(*) FROM alerts"); n != before {
			t.Fatalf("an alert before confirmation: %d, %d before", n, before)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%had not agreed%'", writer.UserID); n != 0 {
			t.Fatalf("the member told before confirmation")
		}
		// The moderator cannot confirm their own concern.
		if _, err := w.Community.DecideSafeguarding(ctx, mod, sg.ID, community.SafeguardingDecision{Action: "confirm", Reason: "yes"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("the moderator confirming: %v", err)
		}
		// A peer worker, and a lead of another team, cannot.
		if _, err := w.Community.DecideSafeguarding(ctx, w.Principal(t, "worker"), sg.ID, community.SafeguardingDecision{Action: "confirm", Reason: "yes"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a peer worker confirming: %v", err)
		}
		if _, err := w.Community.DecideSafeguarding(ctx, w.Principal(t, "leadB"), sg.ID, community.SafeguardingDecision{Action: "confirm", Reason: "yes"}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another team's lead confirming: %v", err)
		}
		if l := must(w.Community.SafeguardingWaiting(ctx, w.Principal(t, "leadB"))); len(l) != 0 {
			t.Fatalf("another team's lead sees %+v", l)
		}
		lead := w.Principal(t, "lead")
		if l := must(w.Community.SafeguardingWaiting(ctx, lead)); len(l) != 1 || l[0].Reason != "Has the means and a plan for tonight" || !l[0].MayDecide(lead) || l[0].Reference == "" {
			t.Fatalf("the lead's waiting list: %+v", l)
		}
		if _, err := w.Community.DecideSafeguarding(ctx, lead, sg.ID, community.SafeguardingDecision{Action: "confirm"}); field(err) != "reason" {
			t.Fatalf("confirmed without a reason: %v", err)
		}
		got, err := w.Community.DecideSafeguarding(ctx, lead, sg.ID, community.SafeguardingDecision{Action: "confirm", Reason: "Plan and means: the duty worker will call"})
		if err != nil || got.Status != "confirmed" {
			t.Fatalf("confirm: %+v %v", got, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE person_id = $1 AND team_id = $2 AND detail = 'community,without_consent'", writer.PersonID, w.TeamA.ID); n != 1 {
			t.Fatalf("alerts for the care team: %d", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%had not agreed%'", writer.UserID); n != 1 {
			t.Fatalf("the member was told %d times", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM community_safeguarding WHERE decided_role = 'peer_lead' AND decision_reason <> '' AND alert_id IS NOT NULL"); n != 1 {
			t.Fatalf("the decision recorded: %d", n)
		}
		for _, a := range []string{"community.safeguarding.raise", "community.safeguarding.list", "community.safeguarding.decide"} {
			if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = $1", a); n == 0 {
				t.Fatalf("%s not audited", a)
			}
		}
		if _, err := w.Community.DecideSafeguarding(ctx, w.Principal(t, "lead2"), sg.ID, community.SafeguardingDecision{Action: "decline", Reason: "no"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("deciding again: %v", err)
		}
		// With the member's agreement, the ordinary concern is the way.
		if _, err := w.Community.SaveSettings(ctx, writer, community.Settings{DisplayName: "Quiet Heron", CareTeamConsent: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Community.RaiseSafeguarding(ctx, mod, post.Post.ID, community.NewSafeguarding{Reason: "again"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("a safeguarding concern about a member who agreed: %v", err)
		}
	})
}

// Two confirmers (a lead and a clinician of the team, or two leads)
// deciding one concern at once: one decision is recorded, one alert
// raised, the member told once; the others are told it was decided.
func TestSafeguardingDecidedOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		writer, post := safeguardingWorld(t, w)
		// Raised three times at once (a double submit, two moderators):
		// one concern waits.
		var sg community.Safeguarding
		errs := testkit.Race(3, func(int) error {
			g, err := w.Community.RaiseSafeguarding(ctx, w.Principal(t, "moderator"), post.Post.ID, community.NewSafeguarding{Reason: "Plan for tonight"})
			if err == nil {
				sg = g
			}
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d concerns raised", won)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM community_safeguarding"); n != 1 {
			t.Fatalf("%d concerns stored", n)
		}
		deciders := []*app.Principal{w.Principal(t, "lead"), w.Principal(t, "lead2"), w.Principal(t, "lead"), w.Principal(t, "lead2")}
		before := count(t, db, "SELECT COUNT(*) FROM alerts")
		errs = testkit.Race(len(deciders), func(i int) error {
			action := "confirm"
			if i%2 == 1 {
				action = "decline"
			}
			_, err := w.Community.DecideSafeguarding(ctx, deciders[i], sg.ID, community.SafeguardingDecision{Action: action, Reason: "judged"})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d decisions won", won)
		}
		var status string
		if err := db.QueryRow(ctx, "SELECT status FROM community_safeguarding WHERE id = $1", sg.ID).Scan(&status); err != nil {
			t.Fatal(err)
		}
		wantAlerts, wantTold := 0, 0
		if status == "confirmed" {
			wantAlerts, wantTold = 1, 1
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts"); n != before+wantAlerts {
			t.Fatalf("%s: %d alerts, %d before", status, n, before)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%had not agreed%'", writer.UserID); n != wantTold {
			t.Fatalf("%s: the member told %d times", status, n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.safeguarding.decide'"); n != 1 {
			t.Fatalf("%d decisions audited", n)
		}
	})
}
