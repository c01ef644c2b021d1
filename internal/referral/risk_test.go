package referral_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A self-referral that says "thinking of ending my life tonight" is marked
// possible risk, its history says so, and the team's duty leads (its peer
// leads, and nobody else's) have an alert in Mutual and an email queued —
// all in the transaction that stored the referral, so when the person sees
// their confirmation the lead's alert already exists. The email carries the
// reference and a link, never the person's name or words.
func TestRiskSelfReferralAlertsTheDutyLeadsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		res, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details:  person.Details{PreferredName: "Robin Quill", Phone: "07700 900555"},
			AskedFor: "Honestly I am thinking of ending my life tonight", TeamID: w.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Signpost || !res.PossibleRisk {
			t.Fatalf("result: %+v", res)
		}
		// No waiting: everything is there when the call returns.
		lead := w.Principal(t, "lead")
		d, err := w.Referrals.GetReferral(ctx, lead, res.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := d.Referral
		if !r.PossibleRisk || !r.RiskAlertOpen || r.RiskFlaggedAt == nil || r.Urgency != referral.Routine {
			t.Errorf("referral: possible risk %v, alert open %v, urgency %s", r.PossibleRisk, r.RiskAlertOpen, r.Urgency)
		}
		if len(d.Alerts) != 1 || d.Alerts[0].Kind != alert.PossibleRisk || strings.Join(d.Alerts[0].Detail, ",") != "suicide" {
			t.Fatalf("alerts on the referral: %+v", d.Alerts)
		}
		if due := d.Alerts[0].DueAt; !due.Equal(time.Date(2026, 11, 2, 13, 0, 0, 0, app.London)) {
			t.Errorf("due %s, want four working hours later", due.In(app.London))
		}
		var found bool
		for _, e := range d.History {
			found = found || (e.Kind == "risk" && strings.Contains(e.Note, "suicide") && strings.Contains(e.Note, "duty leads were alerted"))
		}
		if !found {
			t.Errorf("history: %+v", d.History)
		}
		for name, want := range map[string]int{"lead": 1, "lead2": 1, "leadB": 0, "worker": 0, "clinician": 0, "manager": 0} {
			u := w.Users[name]
			if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND referral_id = $2 AND message LIKE 'Possible risk%'", u.ID, res.ID); n != want {
				t.Errorf("%s has %d alerts in Mutual, want %d", name, n, want)
			}
			items, err := mail.List(ctx, db, u.Email, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != want {
				t.Errorf("%s has %d emails, want %d", name, len(items), want)
			}
			for _, m := range items {
				if !strings.Contains(m.Body, res.Reference) || !strings.Contains(m.Body, "https://mutual.test/referrals/") ||
					strings.Contains(m.Body+m.Subject, "Robin") || strings.Contains(m.Body, "ending my life") || strings.Contains(m.Body, "07700") {
					t.Errorf("email to %s: %q %q", name, m.Subject, m.Body)
				}
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'alert.raise'"); n != 1 {
			t.Errorf("%d alert.raise audit rows", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'notification.receive' AND object_type = 'alert'"); n != 2 {
			t.Errorf("%d leads' notifications audited, want 2", n)
		}
	})
}

// Words that call for signposting only show the writer where to get help;
// everyday figures of speech do nothing; and nothing is half-written when a
// risky request fails.
func TestSignpostingWithoutAlertAndNothingHalfWritten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		hopeless, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details: person.Details{PreferredName: "Sol", Phone: "07700 900556"}, AskedFor: "I feel hopeless most days"})
		if err != nil || !hopeless.Signpost || hopeless.PossibleRisk {
			t.Fatalf("signpost only: %+v %v", hopeless, err)
		}
		dying, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details: person.Details{PreferredName: "Tam", Phone: "07700 900557"}, AskedFor: "I'm dying to meet people, and killing time until then"})
		if err != nil || dying.Signpost || dying.PossibleRisk {
			t.Fatalf("figures of speech: %+v %v", dying, err)
		}
		// A bad team is found inside the transaction: no alert, no
		// notification, no email survive it.
		_, err = w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details: person.Details{PreferredName: "Uma", Phone: "07700 900558"}, AskedFor: "I want to kill myself", TeamID: 999999})
		if !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("bad team: %v", err)
		}
		for _, q := range []string{"SELECT COUNT(*) FROM alerts", "SELECT COUNT(*) FROM notifications", "SELECT COUNT(*) FROM outbox WHERE subject LIKE 'Action needed%'",
			"SELECT COUNT(*) FROM referrals WHERE risk_flagged_at IS NOT NULL"} {
			if n := count(t, db, q); n != 0 {
				t.Errorf("%s: %d", q, n)
			}
		}
	})
}

// Words written into a second referral for someone with an open referral
// still alert: they go to the open referral's duty leads, whoever wrote
// them, and the writer is signposted even when they may not see it.
func TestRiskInASecondReferralAlertsTheOpenOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		first := w.StaffReferral(t, "clinician", "Vic")
		_, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{PersonID: first.PersonID,
			AskedFor: "Since last week they have been self-harming again", PersonKnows: testkit.Yes(), Consent: "given"})
		var open *referral.OpenReferralError
		if !errors.As(err, &open) || !open.Signpost || open.Referral == nil || !open.Referral.RiskAlertOpen {
			t.Fatalf("second referral: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE referral_id = $1 AND resolved_at IS NULL", first.ID); n != 1 {
			t.Fatalf("%d open alerts on the open referral", n)
		}
		// A third risky message joins the alert already waiting.
		_, err = w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{PersonID: first.PersonID,
			AskedFor: "Took an overdose at the weekend", PersonKnows: testkit.Yes(), Consent: "given"})
		if !errors.As(err, &open) {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE referral_id = $1", first.ID); n != 1 {
			t.Errorf("%d alerts, want the one already waiting", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE 'Possible risk%'", w.Users["lead"].ID); n != 1 {
			t.Errorf("the lead was told %d times, want once", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND kind = 'risk' AND note LIKE '%already waiting%'", first.ID); n != 1 {
			t.Error("the history does not say the alert was already waiting")
		}
	})
}

// Urgency: the referrer says it on the staff, partner and community doors;
// carers and people asking for themselves leave it to triage. Only a lead
// of the referral's team changes it, with a reason that goes in the
// history. FHIR priority follows it.
func TestUrgencyAtTheDoorAndInTriage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		mk := func(by string, u referral.Urgency, extra func(*referral.NewReferral)) (referral.Referral, error) {
			in := referral.NewReferral{Person: person.Details{PreferredName: "U " + by + string(u), Phone: "07700 90" + string(rune('0'+len(by))) + "4" + string(rune('0'+len(u)%10)) + "1"},
				AskedFor: "Company", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, Urgency: u,
				// The person agrees to their referrer following it, so a
				// clinician who made it may see it (and still not change
				// its urgency).
				ShareWithReferrer: true, ShareBeyondTeam: true}
			if extra != nil {
				extra(&in)
			}
			return w.Referrals.CreateReferral(ctx, w.Principal(t, by), in)
		}
		urgent, err := mk("clinician", referral.Urgent, nil)
		if err != nil || urgent.Urgency != referral.Urgent || urgent.FHIRPriority != "urgent" {
			t.Fatalf("urgent: %+v %v", urgent, err)
		}
		very, err := mk("partner", referral.VeryUrgent, nil)
		if err != nil || very.FHIRPriority != "asap" {
			t.Fatalf("very urgent: %+v %v", very, err)
		}
		if _, err := mk("carer", referral.Urgent, func(in *referral.NewReferral) { in.Relationship = "Sister" }); !hasField(err, "urgency") {
			t.Errorf("a carer set urgency: %v", err)
		}
		if _, err := mk("clinician", "soonish", nil); !hasField(err, "urgency") {
			t.Errorf("unknown urgency: %v", err)
		}
		plain, err := mk("worker", "", func(in *referral.NewReferral) { in.MetAt = "Walking group" })
		if err != nil || plain.Urgency != referral.Routine || plain.FHIRPriority != "routine" {
			t.Fatalf("no urgency given: %+v %v", plain, err)
		}
		// Changing it.
		ch := referral.UrgencyChange{Urgency: referral.VeryUrgent, Reason: "Just discharged, on their own"}
		if _, err := w.Referrals.SetUrgency(ctx, w.Principal(t, "clinician"), urgent.ID, ch); !app.IsCode(err, app.CodeForbidden) {
			t.Errorf("a clinician changed urgency: %v", err)
		}
		if _, err := w.Referrals.SetUrgency(ctx, w.Principal(t, "leadB"), urgent.ID, ch); !app.IsCode(err, app.CodeNotFound) {
			t.Errorf("another team's lead: %v", err)
		}
		if _, err := w.Referrals.SetUrgency(ctx, w.Principal(t, "lead"), urgent.ID, referral.UrgencyChange{Urgency: referral.Routine}); !hasField(err, "reason") {
			t.Errorf("no reason: %v", err)
		}
		if _, err := w.Referrals.SetUrgency(ctx, w.Principal(t, "lead"), urgent.ID, referral.UrgencyChange{Urgency: referral.Urgent, Reason: "x"}); !hasField(err, "urgency") {
			t.Errorf("the same urgency: %v", err)
		}
		if _, err := w.Referrals.SetUrgency(ctx, w.Principal(t, "lead"), urgent.ID, referral.UrgencyChange{Urgency: referral.Routine, Reason: "x", Version: 99}); !app.IsCode(err, app.CodeConflict) {
			t.Errorf("a stale version: %v", err)
		}
		got, err := w.Referrals.SetUrgency(ctx, w.Principal(t, "lead"), urgent.ID, ch)
		if err != nil || got.Urgency != referral.VeryUrgent || got.FHIRPriority != "asap" {
			t.Fatalf("changed: %+v %v", got, err)
		}
		d, _ := w.Referrals.GetReferral(ctx, w.Principal(t, "lead"), urgent.ID)
		last := d.History[len(d.History)-1]
		if last.Kind != "urgency" || last.ActorRole != "peer_lead" || !strings.Contains(last.Note, "Urgent to very urgent. Why: Just discharged") {
			t.Errorf("history: %+v", last)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'referral.urgency' AND outcome = 'ok'"); n != 1 {
			t.Errorf("%d referral.urgency audit rows", n)
		}
		if _, err := w.Referrals.Transition(ctx, w.Principal(t, "lead"), urgent.ID, referral.Move{To: referral.Withdrawn}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.SetUrgency(ctx, w.Principal(t, "lead"), urgent.ID, referral.UrgencyChange{Urgency: referral.Routine, Reason: "x"}); !app.IsCode(err, app.CodeConflict) {
			t.Errorf("a closed referral: %v", err)
		}
	})
}

func hasField(err error, field string) bool {
	ae := app.As(err)
	for _, f := range ae.Fields {
		if f.Field == field {
			return ae.Code == app.CodeInvalid
		}
	}
	return false
}

// A referral is past the standard for its own urgency: very urgent after
// 4 hours, urgent after 24, routine after 4 weeks. The mark on the
// referral, the list filter and the home figure say the same.
func TestPastTheStandardForItsUrgency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		for i, u := range []referral.Urgency{referral.Routine, referral.Urgent, referral.VeryUrgent} {
			_, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{
				Person: person.Details{PreferredName: "Wait " + string(u), Phone: "07700 90070" + string(rune('0'+i))}, AskedFor: "Company",
				PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, Urgency: u})
			if err != nil {
				t.Fatal(err)
			}
		}
		lead := w.Principal(t, "lead")
		for _, step := range []struct {
			after   time.Duration
			overdue []string
		}{
			{3 * time.Hour, nil},
			{5 * time.Hour, []string{"very_urgent"}},
			{25 * time.Hour, []string{"very_urgent", "urgent"}},
			{29 * 24 * time.Hour, []string{"very_urgent", "urgent", "routine"}},
		} {
			clock := app.NewFakeClock(w.Clock.Now().Add(step.after))
			svc := &referral.Service{DB: db, Clock: clock, WaitingStandard: w.Referrals.WaitingStandard, Audit: w.Audit, Notify: w.Notify,
				Accounts: w.Accounts, Watch: w.Watch, Alerts: w.Alerts}
			all, err := svc.ListReferrals(ctx, lead, referral.WaitingFilter())
			if err != nil {
				t.Fatal(err)
			}
			var marked []string
			for _, r := range all.Referrals {
				if r.Overdue {
					marked = append(marked, string(r.Urgency))
				}
			}
			past, err := svc.ListReferrals(ctx, lead, referral.PastStandardFilter())
			if err != nil {
				t.Fatal(err)
			}
			var listed []string
			for _, r := range past.Referrals {
				listed = append(listed, string(r.Urgency))
			}
			if strings.Join(marked, ",") != strings.Join(step.overdue, ",") || strings.Join(listed, ",") != strings.Join(step.overdue, ",") || past.Total != len(step.overdue) {
				t.Errorf("after %v: marked %v, listed %v (total %d), want %v", step.after, marked, listed, past.Total, step.overdue)
			}
		}
	})
}

// The triage queue: possible risk waiting for a response first, then very
// urgent, urgent, routine, then the longest waiting. Once someone records
// what they did, the referral takes its place by urgency.
func TestTriageQueueOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		make := func(name string, u referral.Urgency, asked string) {
			w.Clock.Advance(time.Minute)
			if _, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{
				Person: person.Details{PreferredName: name, Phone: "07700 9001" + string(rune('0'+len(name)%10)) + string(rune('0'+len(asked)%10))}, AskedFor: asked,
				PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, Urgency: u}); err != nil {
				t.Fatal(err)
			}
		}
		make("Oldest routine", referral.Routine, "Company")
		make("Older routine", referral.Routine, "Company too")
		make("Urgent one", referral.Urgent, "Getting out")
		make("Very urgent one", referral.VeryUrgent, "Someone to talk to")
		make("Risk routine", referral.Routine, "I keep thinking I would be better off dead")
		order := func() []string {
			pg, err := w.Referrals.ListReferrals(ctx, w.Principal(t, "lead"), referral.WaitingFilter())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range pg.Referrals {
				names = append(names, r.PersonName)
			}
			return names
		}
		want := "Risk routine,Very urgent one,Urgent one,Oldest routine,Older routine"
		if got := strings.Join(order(), ","); got != want {
			t.Errorf("queue %s, want %s", got, want)
		}
		var id int64
		_ = db.QueryRow(ctx, "SELECT id FROM alerts").Scan(&id)
		if _, err := w.Alerts.Resolve(ctx, w.Principal(t, "lead"), id, alert.Response{Outcome: "called_person"}); err != nil {
			t.Fatal(err)
		}
		want = "Very urgent one,Urgent one,Oldest routine,Older routine,Risk routine"
		if got := strings.Join(order(), ","); got != want {
			t.Errorf("after the response: %s, want %s", got, want)
		}
	})
}

// How to get in touch is shown to those who may see the person, and to
// the leads who triage a referral with no team yet; not in the outline a
// carer sees without the person's agreement.
func TestContactDetailsForThoseWhoMaySeeThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		staff, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{
			Person:   person.Details{PreferredName: "Xan", Phone: "07700 900888", ContactPreference: "text", ContactTimes: "Evenings"},
			AskedFor: "Company", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, ShareWithReferrer: true})
		if err != nil {
			t.Fatal(err)
		}
		self, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{Details: person.Details{PreferredName: "Yas", Email: "yas@example.org"}, AskedFor: "Company"})
		if err != nil {
			t.Fatal(err)
		}
		carer, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "carer"), referral.NewReferral{Relationship: "Son",
			Person: person.Details{PreferredName: "Zed", Phone: "07700 900889"}, AskedFor: "Company", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who  string
			id   int64
			want string
		}{
			{"lead", staff.ID, "07700900888"}, {"lead2", staff.ID, "07700900888"}, {"clinician", staff.ID, "07700900888"},
			{"lead", self.ID, ""}, {"leadB", self.ID, ""}, {"carer", carer.ID, "-"},
		} {
			d, err := w.Referrals.GetReferral(ctx, w.Principal(t, c.who), c.id)
			if err != nil {
				t.Fatalf("%s: %v", c.who, err)
			}
			switch {
			case c.want == "-":
				if d.Contact != nil {
					t.Errorf("%s sees contact details in an outline", c.who)
				}
			case d.Contact == nil:
				t.Errorf("%s cannot see how to get in touch with referral %d", c.who, c.id)
			case c.want != "" && (d.Contact.Phone != c.want || d.Contact.Preference != "text" || d.Contact.Times != "Evenings"):
				t.Errorf("%s sees %+v", c.who, d.Contact)
			case c.want == "" && d.Contact.Email != "yas@example.org":
				t.Errorf("%s sees %+v for the self-referral", c.who, d.Contact)
			}
		}
	})
}

// BenchmarkRiskSelfReferralToAlert measures the time from a self-referral
// whose words raise an alert to the moment the team's lead can see it: the
// referral, the alert, the lead's notification and the queued email are one
// transaction, so it is the time of that write and one read of the lead's
// alerts. (make bench; there are no timing assertions in tests.)
func BenchmarkRiskSelfReferralToAlert(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			w := testkit.NewWorld(b, db)
			ctx := context.Background()
			lead := w.Principal(b, "lead")
			i := 0
			for b.Loop() {
				i++
				_, err := w.Referrals.CreateSelfReferral(ctx, app.Public("bench"), referral.SelfReferral{
					Details:  person.Details{PreferredName: "Bench", Email: "bench" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "@example.org"},
					AskedFor: "I am thinking of ending my life tonight", TeamID: w.TeamA.ID})
				if err != nil {
					b.Fatal(err)
				}
				c, err := w.Alerts.CountsFor(ctx, lead)
				if err != nil || c.Open != i {
					b.Fatalf("the lead sees %d open alerts after %d: %v", c.Open, i, err)
				}
			}
		})
	}
}
