package recovery_test

import (
	"context"
	"testing"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Feedback for a team with no lead goes to the service managers of the
// team's organisation (and those of the whole service), not to another
// organisation's.
func TestFeedbackWithoutALeadTellsTheirOrganisationsManagers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		manager := func(email string, team int64) int64 {
			u, err := w.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: email, Name: email,
				Memberships: []app.Membership{{Role: app.RoleServiceManager, TeamID: team}}, Password: testkit.Password})
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		trust, charity := manager("trust.manager@test.example", w.TeamA.ID), manager("charity.manager@test.example", w.Partner.ID)
		// The charity's team has no peer lead.
		if _, err := w.Recovery.GiveFeedback(ctx, app.Public("t"), recovery.NewFeedback{About: recovery.AboutService, TeamID: w.Partner.ID,
			Body: "The drop-in was closed", Anonymous: true}); err != nil {
			t.Fatal(err)
		}
		told := func(uid int64) int {
			return count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", uid)
		}
		if told(charity) != 1 || told(w.Users["manager"].ID) != 1 {
			t.Fatalf("the charity's manager told %d, the service's %d; want 1 each", told(charity), told(w.Users["manager"].ID))
		}
		if n := told(trust); n != 0 {
			t.Fatalf("another organisation's manager was told %d times", n)
		}
		if n := told(w.Users["leadB"].ID) + told(w.Users["lead"].ID); n != 0 {
			t.Fatalf("other teams' leads were told %d times", n)
		}
	})
}
