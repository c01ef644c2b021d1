package alert_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Alerts of one kind for one referral raised at the same moment: one alert
// is open, the others join it, and the duty leads are told once.
func TestRaiseOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Users["lead"]
		for round := range 5 {
			r := w.StaffReferral(t, "clinician", fmt.Sprintf("Alex %d", round))
			told := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", lead.ID)
			got := make([]alert.Alert, 4)
			joined := make([]bool, 4)
			errs := testkit.Race(len(got), func(i int) error {
				return db.Write(ctx, func(tx *store.Tx) error {
					var err error
					got[i], joined[i], err = w.Alerts.Raise(ctx, tx, w.Clock.Now(), app.Actor{Role: app.RoleClinician, TeamID: w.TeamA.ID, RequestID: "test"}, alert.New{Kind: alert.PossibleRisk,
						TeamID: w.TeamA.ID, ReferralID: r.ID, PersonID: r.PersonID, Reference: r.Reference, Detail: []string{"self_harm"}, Link: fmt.Sprintf("/referrals/%d", r.ID)})
					return err
				})
			})
			if won := testkit.Winners(t, errs); won != len(got) {
				t.Fatalf("round %d: %d raises answered", round, won)
			}
			var id int64
			if err := db.QueryRow(ctx, "SELECT id FROM alerts WHERE referral_id = $1 AND resolved_at IS NULL", r.ID).Scan(&id); err != nil {
				t.Fatalf("round %d: one open alert: %v", round, err)
			}
			raised := 0
			for i := range got {
				if !joined[i] {
					raised++
				}
				if got[i].ID != id && (joined[i] || got[i].ID != 0) {
					t.Fatalf("round %d: racer %d answered with alert %d, the open one is %d", round, i, got[i].ID, id)
				}
			}
			if raised != 1 {
				t.Fatalf("round %d: %d raised, the rest should join", round, raised)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE referral_id = $1", r.ID); n != 1 {
				t.Fatalf("round %d: %d alerts", round, n)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", lead.ID) - told; n != 1 {
				t.Fatalf("round %d: the duty lead was told %d times", round, n)
			}
		}
	})
}

// Administrators saving an organisation's alert settings at the same
// moment, the first time it has any: every save is answered, one row is
// kept, and it is one save whole (never the columns of two mixed).
func TestSetSettingsUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		admin := w.Principal(t, "admin")
		var org int64
		if err := db.QueryRow(ctx, "SELECT organisation_id FROM teams WHERE id = $1", w.TeamA.ID).Scan(&org); err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			saves := make([]alert.Settings, 4)
			for i := range saves {
				saves[i] = alert.Settings{RespondMinutes: 60 * (i + 1), WorkDays: []string{"mon", "tue", "wed"}[:1+i%3],
					DayStart: fmt.Sprintf("%02d:00", 6+i), DayEnd: fmt.Sprintf("%02d:30", 16+round), TimeZone: "Europe/London"}
			}
			errs := testkit.Race(len(saves), func(i int) error {
				_, err := w.Alerts.SetSettings(ctx, admin, org, saves[i])
				return err
			})
			if won := testkit.Winners(t, errs); won != len(saves) {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM alert_settings WHERE organisation_id = $1", org); n != 1 {
				t.Fatalf("round %d: %d rows of settings", round, n)
			}
			got, err := w.Alerts.GetSettings(ctx, admin, org)
			if err != nil {
				t.Fatal(err)
			}
			i := got.RespondMinutes/60 - 1
			if i < 0 || i >= len(saves) || got.DayStart != saves[i].DayStart || got.DayEnd != saves[i].DayEnd || len(got.WorkDays) != len(saves[i].WorkDays) {
				t.Fatalf("round %d: the settings kept are no one save: %+v", round, got.Settings)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'alert.settings'"); n != 20 {
			t.Fatalf("%d saves audited, want 20", n)
		}
	})
}
