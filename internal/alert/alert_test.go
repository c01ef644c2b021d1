package alert_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// riskReferral makes a self-referral whose words raise an alert, for a
// team (0: none), and returns its referral and alert ids.
func riskReferral(t *testing.T, w *testkit.World, name string, teamID int64) (int64, int64) {
	t.Helper()
	res, err := w.Referrals.CreateSelfReferral(context.Background(), app.Public("t"), referral.SelfReferral{
		Details: person.Details{PreferredName: name, Phone: fmt.Sprintf("07700 9%05d", len(name)*7919%100000)}, AskedFor: "I keep thinking about ending my life", TeamID: teamID})
	if err != nil || !res.PossibleRisk {
		t.Fatalf("risk referral: %+v %v", res, err)
	}
	var id int64
	if err := w.DB.QueryRow(context.Background(), "SELECT id FROM alerts WHERE referral_id = $1", res.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return res.ID, id
}

// Who sees which alert, and who may answer it, is one rule: a peer lead
// sees and answers their teams' alerts and those with no team yet; a
// service manager sees the escalated ones; nobody else sees any.
func TestWhoSeesWhichAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, inA := riskReferral(t, w, "Alex A", w.TeamA.ID)
		_, inB := riskReferral(t, w, "Bea B", w.TeamB.ID)
		_, unassigned := riskReferral(t, w, "Cal None", 0)
		// Team B's alert is not answered in time.
		w.Clock.Advance(5 * time.Hour)
		if n, err := w.Alerts.EscalateDue(ctx); err != nil || n != 3 {
			t.Fatalf("escalated %d: %v", n, err)
		}
		for _, id := range []int64{inA, unassigned} {
			if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "lead"), id, alert.Response{Outcome: "no_risk"}); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string][]int64{
			"lead": {inA, unassigned}, "lead2": {inA, unassigned}, "leadB": {inB, unassigned}, "manager": {inA, inB, unassigned},
			"worker": nil, "clinician": nil, "admin": nil, "person": nil, "partner": nil, "moderator": nil, "analyst": nil,
		}
		for name, ids := range want {
			p := w.Principal(t, name)
			open, err := w.Alerts.List(ctx, p, alert.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			done, err := w.Alerts.List(ctx, p, alert.Filter{Resolved: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, a := range append(open, done...) {
				got = append(got, a.ID)
			}
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(ids)) {
				t.Errorf("%s sees alerts %v, want %v", name, got, ids)
			}
			for _, a := range append(open, done...) {
				mayAnswer := name != "manager" && (a.TeamID == 0 || (a.TeamID == w.TeamA.ID) == (name != "leadB"))
				if alert.MayRespond(p, a) != mayAnswer {
					t.Errorf("%s may respond to alert %d: %v, want %v", name, a.ID, alert.MayRespond(p, a), mayAnswer)
				}
			}
		}
	})
}

func sorted(ids []int64) []int64 {
	out := append([]int64{}, ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Recording what was done: only the team's leads, with an outcome (and a
// note for "other"); someone else's alert is not found, and the attempt is
// audited as denied; an answered alert cannot be answered again, and two
// leads answering at once are one answer and one conflict.
func TestRecordingWhatWasDone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, id := riskReferral(t, w, "Dee", w.TeamA.ID)
		lead := w.Principal(t, "lead")
		_, err := w.Alerts.Resolve(ctx, lead, id, alert.Response{Outcome: "other"})
		if ae := app.As(err); ae.Code != app.CodeInvalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "note" {
			t.Fatalf("other without a note: %v", err)
		}
		if _, err := w.Alerts.Resolve(ctx, lead, id, alert.Response{Outcome: "shrugged"}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("unknown outcome: %v", err)
		}
		if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "leadB"), id, alert.Response{Outcome: "no_risk"}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("another team's lead: %v", err)
		}
		if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "clinician"), id, alert.Response{Outcome: "no_risk"}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a clinician: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'alert.resolve' AND outcome = $1", audit.OutcomeDenied); n != 2 {
			t.Errorf("denied attempts audited: %d, want 2", n)
		}
		// Two leads at once.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, who := range []string{"lead", "lead2"} {
			p := w.Principal(t, who)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Alerts.Resolve(ctx, p, id, alert.Response{Outcome: "called_person", Note: "Spoke to them", Version: 1})
			}()
		}
		wg.Wait()
		ok, conflicts := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case app.IsCode(err, app.CodeConflict):
				conflicts++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("two leads at once: %d recorded, %d conflicts", ok, conflicts)
		}
		_, err = w.Alerts.Resolve(ctx, lead, id, alert.Response{Outcome: "no_risk"})
		if !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "already recorded a response") {
			t.Fatalf("answering again: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE id = $1 AND outcome = 'called_person' AND resolved_at IS NOT NULL", id); n != 1 {
			t.Fatal("the response was not recorded")
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'alert.resolve' AND outcome = $1", audit.OutcomeOK); n != 1 {
			t.Errorf("%d alert.resolve audit rows, want 1", n)
		}
	})
}

// However many instances run the escalation job at once, an alert nobody
// answered in time goes to the service managers once; one answered in time
// never does.
func TestEscalationHappensOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, late := riskReferral(t, w, "Eve", w.TeamA.ID)
		_, answered := riskReferral(t, w, "Fay", w.TeamA.ID)
		if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "lead"), answered, alert.Response{Outcome: "no_risk"}); err != nil {
			t.Fatal(err)
		}
		// 09:00 on a Monday: due at 13:00. Not yet at 12:59.
		w.Clock.Advance(3*time.Hour + 59*time.Minute)
		if n, err := w.Alerts.EscalateDue(ctx); err != nil || n != 0 {
			t.Fatalf("before it is due: %d %v", n, err)
		}
		w.Clock.Advance(time.Minute)
		// Eight instances, each its own service over the same database.
		var wg sync.WaitGroup
		total := make([]int, 8)
		errs := make([]error, 8)
		for i := range 8 {
			inst := &alert.Service{DB: db, Clock: w.Clock, Audit: w.Audit, Notify: w.Notify, BaseURL: "https://mutual.test"}
			wg.Add(1)
			go func() {
				defer wg.Done()
				total[i], errs[i] = inst.EscalateDue(ctx)
			}()
		}
		wg.Wait()
		sum := 0
		for i := range total {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			sum += total[i]
		}
		if sum != 1 {
			t.Fatalf("escalated %d times, want once", sum)
		}
		manager := w.Users["manager"]
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", manager.ID); n != 1 {
			t.Errorf("the manager was told %d times", n)
		}
		items, err := mail.List(ctx, db, manager.Email, 10)
		if err != nil || len(items) != 1 {
			t.Fatalf("emails to the manager: %d %v", len(items), err)
		}
		if !strings.Contains(items[0].Body, "/alerts") || strings.Contains(items[0].Body, "Eve") || strings.Contains(items[0].Body, "ending my life") {
			t.Errorf("escalation email: %q", items[0].Body)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE id = $1 AND escalated_at IS NOT NULL", late); n != 1 {
			t.Error("the late alert is not marked escalated")
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE id = $1 AND escalated_at IS NULL", answered); n != 1 {
			t.Error("an answered alert was escalated")
		}
		// Answering it now tells the managers it has been answered.
		if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "lead2"), late, alert.Response{Outcome: "crisis_team"}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%now has a response%'", manager.ID); n != 1 {
			t.Error("the manager was not told the escalated alert was answered")
		}
	})
}

// An alert for a team with no active peer lead has nobody to respond, so
// it goes to the service managers at once. Alerts follow their referral
// when it is accepted into a team.
func TestAlertsWithoutALeadAndAcrossTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, noLead := riskReferral(t, w, "Gus", w.Partner.ID)
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE id = $1 AND escalated_at IS NOT NULL", noLead); n != 1 {
			t.Fatal("an alert for a team without a lead was not escalated at once")
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", w.Users["manager"].ID); n != 1 {
			t.Error("the manager was not told")
		}
		ref, unassigned := riskReferral(t, w, "Hal", 0)
		for _, name := range []string{"lead", "lead2", "leadB"} {
			if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND referral_id = $2", w.Users[name].ID, ref); n != 1 {
				t.Errorf("%s was told %d times about an alert with no team", name, n)
			}
		}
		if _, err := w.Referrals.Transition(ctx, w.Principal(t, "leadB"), ref, referral.Move{To: referral.Accepted, TeamID: w.TeamB.ID}); err != nil {
			t.Fatal(err)
		}
		open, err := w.Alerts.List(ctx, w.Principal(t, "lead"), alert.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range open {
			if a.ID == unassigned {
				t.Error("team A's lead still sees an alert accepted into team B")
			}
		}
		if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "leadB"), unassigned, alert.Response{Outcome: "no_risk"}); err != nil {
			t.Fatalf("team B's lead cannot answer it: %v", err)
		}
	})
}

// The organisation's own settings decide when an alert is due; alerts
// already raised keep their time.
func TestOrganisationSettingsSetTheTimeToRespond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		admin := w.Principal(t, "admin")
		_, before := riskReferral(t, w, "Ivy", w.TeamA.ID)
		var org int64
		_ = db.QueryRow(ctx, "SELECT organisation_id FROM teams WHERE id = $1", w.TeamA.ID).Scan(&org)
		if _, err := w.Alerts.SetSettings(ctx, w.Principal(t, "lead"), org, alert.DefaultSettings); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a lead changed the settings: %v", err)
		}
		if _, err := w.Alerts.SetSettings(ctx, admin, org, alert.Settings{RespondMinutes: 0}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("bad settings: %v", err)
		}
		got, err := w.Alerts.SetSettings(ctx, admin, org, alert.Settings{RespondMinutes: 60, WorkDays: []string{"mon"}, DayStart: "09:00", DayEnd: "09:30", TimeZone: "Europe/London"})
		if err != nil || got.Default || got.RespondMinutes != 60 {
			t.Fatalf("settings: %+v %v", got, err)
		}
		_, after := riskReferral(t, w, "Jo", w.TeamA.ID)
		var dueBefore, dueAfter time.Time
		_ = db.QueryRow(ctx, "SELECT due_at FROM alerts WHERE id = $1", before).Scan(&dueBefore)
		_ = db.QueryRow(ctx, "SELECT due_at FROM alerts WHERE id = $1", after).Scan(&dueAfter)
		// Monday 09:00: half an hour today, half an hour next Monday.
		if want := time.Date(2026, 11, 9, 9, 30, 0, 0, app.London); !dueAfter.Equal(want) {
			t.Errorf("due %s, want %s", dueAfter.In(app.London), want)
		}
		if want := time.Date(2026, 11, 2, 13, 0, 0, 0, app.London); !dueBefore.Equal(want) {
			t.Errorf("the earlier alert moved to %s", dueBefore.In(app.London))
		}
		if _, err := w.Alerts.GetSettings(ctx, admin, 999999); !app.IsCode(err, app.CodeNotFound) {
			t.Errorf("unknown organisation: %v", err)
		}
	})
}

// The data-rights holder gives a person's alerts and forgets them.
func TestHolderExportsAndForgets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		ref, id := riskReferral(t, w, "Kit", w.TeamA.ID)
		if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "lead"), id, alert.Response{Outcome: "called_person", Note: "Spoke to Kit"}); err != nil {
			t.Fatal(err)
		}
		var personID int64
		_ = db.QueryRow(ctx, "SELECT person_id FROM referrals WHERE id = $1", ref).Scan(&personID)
		h := alert.Holder{}
		err := db.Write(ctx, func(tx *store.Tx) error {
			v, err := h.Export(ctx, tx, personID)
			if err != nil {
				return err
			}
			held := v.([]alert.HeldAlert)
			if len(held) != 1 || held[0].Outcome != "Contacted the person" || held[0].Note != "Spoke to Kit" {
				t.Errorf("export: %+v", held)
			}
			last, err := h.LastActivity(ctx, tx, personID)
			if err != nil || last.IsZero() {
				t.Errorf("last activity %v %v", last, err)
			}
			return h.Forget(ctx, tx, personID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE person_id = $1", personID); n != 0 {
			t.Error("alerts remain after Forget")
		}
	})
}
