package referral_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A referral with no team yet, on which a lead records a first call, is
// accepted onto a team's waiting list: the support report's day counts of
// its contacts move from "no team" to that team, and another team's stay
// as they were. (The move once grouped by a bare team number, which SQL
// reads as a column's position: every acceptance of a referral without a
// team failed.)
func TestMovingTeamMovesTheDayCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		res, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details: person.Details{PreferredName: "Unassigned Una", Phone: "07700 900321"}, AskedFor: "Someone to talk to"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := w.Referrals.GetReferral(ctx, lead, res.ID)
		r := d.Referral
		if err != nil || r.TeamID != 0 {
			t.Fatalf("the self-referral: team %d, %v", r.TeamID, err)
		}
		w.Clock.Advance(time.Hour)
		if _, err := w.Referrals.RecordContact(ctx, lead, r.ID, referral.NewContact{At: w.Clock.Now().Add(-10 * time.Minute), Mode: "phone", Minutes: 25}); err != nil {
			t.Fatal(err)
		}
		days := func(team int64) (n, minutes int) {
			t.Helper()
			if err := db.QueryRow(ctx, "SELECT COALESCE(SUM(n), 0), COALESCE(SUM(minutes), 0) FROM support_team_days WHERE team_id = $1", team).Scan(&n, &minutes); err != nil {
				t.Fatal(err)
			}
			return n, minutes
		}
		if n, m := days(0); n != 1 || m != 25 {
			t.Fatalf("before: no team holds %d contacts, %d minutes", n, m)
		}
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted, TeamID: w.TeamA.ID}); err != nil {
			t.Fatalf("accepting onto team A: %v", err)
		}
		if n, m := days(0); n != 0 || m != 0 {
			t.Errorf("after: no team still holds %d contacts, %d minutes", n, m)
		}
		if n, m := days(w.TeamA.ID); n != 1 || m != 25 {
			t.Errorf("after: team A holds %d contacts, %d minutes; want 1 and 25", n, m)
		}
		if n, _ := days(w.TeamB.ID); n != 0 {
			t.Errorf("team B holds %d contacts", n)
		}
	})
}
