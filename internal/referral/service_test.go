package referral_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestSelfReferralStoresNothingOnBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		_, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details: person.Details{PreferredName: "Sam", Email: "not an email", Ethnicity: "martian"},
		})
		ae := app.As(err)
		if ae.Code != app.CodeInvalid {
			t.Fatalf("got %v", err)
		}
		fields := map[string]bool{}
		for _, f := range ae.Fields {
			fields[f.Field] = true
		}
		for _, want := range []string{"email", "ethnicity", "asked_for"} {
			if !fields[want] {
				t.Errorf("no problem named for %s in %+v", want, ae.Fields)
			}
		}
		// A bad team is found inside the transaction: the person row must not remain.
		_, err = w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details: person.Details{PreferredName: "Sam", Phone: "07700 900123"}, AskedFor: "x", TeamID: 9999})
		if !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("bad team: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM people WHERE preferred_name = 'Sam'"); n != 0 {
			t.Fatalf("%d half-created people remain", n)
		}
		res, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details:  person.Details{PreferredName: "Sam", Email: "sam@example.org", ContactPreference: "email"},
			AskedFor: "Getting out of the house again"})
		ref := res.Reference
		if err != nil || res.ID == 0 || !strings.HasPrefix(ref, "MUT-") || len(ref) != 13 || res.Claim == "" {
			t.Fatalf("self-referral: %+v %v", res, err)
		}
		// Signing up with the claim joins the account to the request.
		if err := w.Accounts.SignUp(ctx, "sam@example.org", "Sam", app.RolePerson, res.Claim, "a", "r"); err != nil {
			t.Fatal(err)
		}
		u, err := w.Accounts.FindUserByEmail(ctx, "sam@example.org")
		if err != nil {
			t.Fatal(err)
		}
		sam := &app.Principal{UserID: u.ID, PersonID: u.PersonID, Memberships: u.Memberships, RequestID: "r"}
		mine, err := w.Referrals.MyReferrals(ctx, sam)
		if err != nil || len(mine) != 1 || mine[0].Referral.Reference != ref {
			t.Fatalf("the new account does not see its request: %+v %v", mine, err)
		}
		// A claim works once.
		if err := w.Accounts.SignUp(ctx, "someone.else@example.org", "X", app.RolePerson, res.Claim, "a", "r"); err != nil {
			t.Fatal(err)
		}
		other, _ := w.Accounts.FindUserByEmail(ctx, "someone.else@example.org")
		if other.PersonID == u.PersonID {
			t.Fatal("a claim joined two accounts to one person")
		}
		items, _ := mail.List(ctx, db, "sam@example.org", 5)
		if len(items) != 2 || !strings.Contains(items[1].Body, ref) || !strings.Contains(items[1].Body, "/sign-up?claim="+res.Claim) {
			t.Fatalf("no confirmation email with the reference and the account link: %+v", items)
		}
	})
}

func TestLifecycleEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		r := w.StaffReferral(t, "clinician", "Robin")
		if r.Status != referral.Received || r.TeamID != w.TeamA.ID || r.Source != referral.SourceStaff {
			t.Fatalf("new referral: %+v", r)
		}
		lead := w.Principal(t, "lead")
		worker := w.Principal(t, "worker")
		step := func(p *app.Principal, m referral.Move) referral.Referral {
			t.Helper()
			got, err := w.Referrals.Transition(ctx, p, r.ID, m)
			if err != nil {
				t.Fatalf("%s: %v", m.To, err)
			}
			return got
		}
		// A peer worker cannot triage.
		if _, err := w.Referrals.Transition(ctx, worker, r.ID, referral.Move{To: referral.Accepted}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("worker accepted: %v", err)
		}
		step(lead, referral.Move{To: referral.Accepted})
		w.Clock.Advance(24 * time.Hour)
		step(lead, referral.Move{To: referral.Allocated, WorkerID: w.Users["worker"].ID})
		if _, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now(), Mode: "phone", Minutes: 20, Note: "Introductions"}); err != nil {
			t.Fatal(err)
		}
		step(worker, referral.Move{To: referral.Active})
		got := step(worker, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned, Reason: "goals_met", OutcomeSummary: "Six meetings; Robin joined the walking group."})
		if got.Status != referral.Ended || got.ClosedAt == nil || got.FirstContactAt == nil || got.FHIRStatus != "completed" {
			t.Fatalf("ended: %+v", got)
		}
		d, err := w.Referrals.GetReferral(ctx, w.Principal(t, "clinician"), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.History) != 5 || d.History[4].Reason != "goals_met" || d.History[2].ActorName != "Test lead" {
			t.Fatalf("history: %+v", d.History)
		}
		// The referrer was told at each step they care about, in Mutual and by email.
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", w.Users["clinician"].ID); n != 3 {
			t.Fatalf("%d notifications, want 3 (accepted, allocated, ended)", n)
		}
		items, _ := mail.List(ctx, db, "clinician@test.example", 10)
		if len(items) != 3 || strings.Contains(items[0].Body, "Robin") {
			t.Fatalf("emails: %d; must not name the person", len(items))
		}
		// Closed is closed.
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Withdrawn}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("moved a closed referral: %v", err)
		}
		// A new referral for the same person links to the earlier one.
		again, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{PersonID: r.PersonID,
			AskedFor: "Things are hard again", PersonKnows: testkit.Yes(), Consent: "given"})
		if err != nil || again.PreviousReferralID != r.ID {
			t.Fatalf("re-referral: %+v %v", again, err)
		}
		// And a second open referral is refused.
		_, err = w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{PersonID: r.PersonID,
			AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given"})
		if !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("duplicate open referral: %v", err)
		}
	})
}

func TestSimultaneousTriageOneWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		for round := 0; round < 5; round++ {
			r := w.StaffReferral(t, "clinician", "Person "+string(rune('A'+round)))
			leads := []*app.Principal{w.Principal(t, "lead"), w.Principal(t, "lead2")}
			moves := []referral.Move{
				{To: referral.Accepted, Version: r.Version},
				{To: referral.Declined, Reason: "no_longer_needed", Version: r.Version},
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for i := range leads {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					<-start
					_, errs[i] = w.Referrals.Transition(ctx, leads[i], r.ID, moves[i])
				}(i)
			}
			close(start)
			wg.Wait()
			ok, conflict := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case app.IsCode(err, app.CodeConflict):
					conflict++
					if !strings.Contains(app.As(err).Message, "Someone else changed") {
						t.Errorf("conflict message not clear: %q", app.As(err).Message)
					}
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			if ok != 1 || conflict != 1 {
				t.Fatalf("round %d: %d succeeded, %d conflicted", round, ok, conflict)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM referral_events WHERE referral_id = $1", r.ID); n != 2 {
				t.Fatalf("%d events: the loser left a trace", n)
			}
		}
	})
}

func TestWhoSeesWhat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		a := w.StaffReferral(t, "clinician", "Alex")    // team A
		b := w.StaffReferral(t, "clinicianB", "Bailey") // team B
		p := w.StaffReferral(t, "partner", "Casey")     // no team
		carerRef, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "carer"), referral.NewReferral{
			Person: person.Details{PreferredName: "Dee", Phone: "07700 900555"}, Relationship: "parent",
			AskedFor: "Dee is isolated", PersonKnows: testkit.Yes(), Consent: "not_obtained", ConsentReason: "Dee is in hospital", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		own, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "person"), referral.NewReferral{AskedFor: "Meeting others"})
		if err != nil || own.Source != referral.SourceSelf {
			t.Fatalf("signed-in self-referral: %+v %v", own, err)
		}
		sees := map[string][]int64{
			"clinician":  {a.ID},
			"clinicianB": {b.ID},
			"lead":       {a.ID, p.ID, carerRef.ID, own.ID},
			"leadB":      {b.ID, p.ID, carerRef.ID, own.ID},
			"worker":     {a.ID},
			"workerB":    {b.ID},
			"partner":    {p.ID},
			"carer":      {carerRef.ID},
			"person":     {own.ID},
			"person2":    {},
			"analyst":    {},
			"admin":      {},
		}
		all := []int64{a.ID, b.ID, p.ID, carerRef.ID, own.ID}
		for name, want := range sees {
			pr := w.Principal(t, name)
			pg, err := w.Referrals.ListReferrals(ctx, pr, referral.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]bool{}
			for _, r := range pg.Referrals {
				got[r.ID] = true
			}
			if len(got) != len(want) || pg.Total != len(want) {
				t.Errorf("%s sees %v, want %v", name, got, want)
			}
			for _, id := range all {
				wantSee := false
				for _, x := range want {
					wantSee = wantSee || x == id
				}
				_, err := w.Referrals.GetReferral(ctx, pr, id)
				if wantSee && err != nil {
					t.Errorf("%s cannot open referral %d: %v", name, id, err)
				}
				if !wantSee && !app.IsCode(err, app.CodeNotFound) {
					t.Errorf("%s opening referral %d: got %v, want not found", name, id, err)
				}
			}
		}
		// The carer sees only the outline: Dee did not agree to share updates.
		d, err := w.Referrals.GetReferral(ctx, w.Principal(t, "carer"), carerRef.ID)
		if err != nil || !d.Limited || d.Referral.AskedFor != "" || len(d.History) != 0 {
			t.Fatalf("carer view not limited: %+v %v", d, err)
		}
		// Denied opens are audited as denied.
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'referral.read' AND outcome = 'denied'"); n == 0 {
			t.Fatal("denied reads were not audited")
		}
	})
}

func TestConsentRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		_, err := w.Referrals.CreateReferral(context.Background(), w.Principal(t, "clinician"), referral.NewReferral{
			Person: person.Details{PreferredName: "Eli"}, AskedFor: "x", PersonKnows: testkit.Yes(),
			Consent: "not_obtained", ShareBeyondTeam: true, NotDuplicate: true})
		ae := app.As(err)
		if ae.Code != app.CodeInvalid || len(ae.Fields) != 2 {
			t.Fatalf("got %+v", ae)
		}
	})
}

func TestDuplicatesOfferedNotMerged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		first := w.StaffReferral(t, "clinician", "Frankie")
		lead := w.Principal(t, "lead")
		if _, err := w.Referrals.Transition(ctx, lead, first.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
			t.Fatal(err)
		}
		var phone string
		_ = db.QueryRow(ctx, "SELECT phone FROM people WHERE id = $1", first.PersonID).Scan(&phone)
		// Staff entering the same phone are offered the match.
		_, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{
			Person: person.Details{PreferredName: "Frankie", Phone: phone}, AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given"})
		var dup *person.DuplicateError
		if !errors.As(err, &dup) || len(dup.Matches) != 1 || dup.Matches[0].PersonID != first.PersonID {
			t.Fatalf("want one possible match, got %v", err)
		}
		// The public form cannot see matches; it makes a new person, and the lead links it.
		res, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{
			Details: person.Details{PreferredName: "Frankie", Phone: phone}, AskedFor: "x"})
		if err != nil {
			t.Fatal(err)
		}
		id := res.ID
		d, err := w.Referrals.GetReferral(ctx, lead, id)
		if err != nil || len(d.Duplicates) != 1 {
			t.Fatalf("lead not offered the match: %+v %v", d.Duplicates, err)
		}
		if err := w.Referrals.LinkPerson(ctx, lead, id, first.PersonID); err != nil {
			t.Fatal(err)
		}
		d, _ = w.Referrals.GetReferral(ctx, lead, id)
		if d.Referral.PersonID != first.PersonID || d.Referral.PreviousReferralID != first.ID || len(d.Earlier) != 1 {
			t.Fatalf("after linking: %+v", d.Referral)
		}
	})
}

func TestOffersLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		pe, err := w.People.Create(ctx, clin, person.Details{PreferredName: "Gabi", DateOfBirth: "1990-04-01"}, false)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := w.Referrals.GetPerson(ctx, clin, pe.ID)
		if !rec.NeedsOffer {
			t.Fatal("no prompt for someone never offered peer support")
		}
		res, err := w.Referrals.CreateOffer(ctx, clin, referral.NewOffer{PersonID: pe.ID, Method: "review", Response: "not_now"})
		if err != nil || res.Referral != nil {
			t.Fatalf("not now: %+v %v", res, err)
		}
		rec, _ = w.Referrals.GetPerson(ctx, clin, pe.ID)
		if rec.NeedsOffer {
			t.Fatal("prompted again straight after an offer")
		}
		w.Clock.Advance(366 * 24 * time.Hour)
		rec, _ = w.Referrals.GetPerson(ctx, clin, pe.ID)
		if !rec.NeedsOffer {
			t.Fatal("no prompt a year later")
		}
		res, err = w.Referrals.CreateOffer(ctx, clin, referral.NewOffer{PersonID: pe.ID, Method: "conversation", Response: "interested"})
		if err != nil || res.Referral == nil || res.Referral.Consent != "given" || res.Offer.ReferralID != res.Referral.ID {
			t.Fatalf("interested: %+v %v", res, err)
		}
		offers, err := w.Referrals.ListOffers(ctx, clin, pe.ID)
		if err != nil || len(offers) != 2 || offers[0].Response != "interested" {
			t.Fatalf("ledger: %+v %v", offers, err)
		}
		// Someone else's person is not found, and the attempt is audited.
		if _, err := w.Referrals.ListOffers(ctx, w.Principal(t, "clinicianB"), pe.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("other team: %v", err)
		}
		// A person records that they were never told.
		o, err := w.Referrals.RecordOwnOffer(ctx, w.Principal(t, "person"), false, "")
		if err != nil || o.Response != "never_told" {
			t.Fatalf("self report: %+v %v", o, err)
		}
		n, _ := audit.Count(ctx, db, "offer.create")
		if n != 2 {
			t.Fatalf("%d offer.create audit rows, want 2", n)
		}
	})
}

// The search scope (people gathered as one set) selects exactly the people
// the person-by-person scope does, for every kind of account.
func TestPersonSearchScopeAgrees(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		a := w.StaffReferral(t, "clinician", "Alex")
		w.StaffReferral(t, "clinicianB", "Bailey")
		w.StaffReferral(t, "partner", "Casey")
		if _, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "carer"), referral.NewReferral{
			Person: person.Details{PreferredName: "Dee", Phone: "07700 900555"}, Relationship: "parent",
			AskedFor: "Dee is isolated", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "person"), referral.NewReferral{AskedFor: "Meeting others"}); err != nil {
			t.Fatal(err)
		}
		lead := w.Principal(t, "lead")
		if _, err := w.Referrals.Transition(ctx, lead, a.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, lead, a.ID, referral.Move{To: referral.Allocated, WorkerID: w.Users["worker"].ID}); err != nil {
			t.Fatal(err)
		}
		// People known only from caseloads, open and closed, and one added by staff.
		for i, c := range []struct {
			team int64
			end  any
		}{{w.TeamA.ID, nil}, {w.TeamB.ID, nil}, {w.TeamA.ID, "2026-01-31"}} {
			pe, err := w.People.Create(ctx, w.Principal(t, "admin"), person.Details{PreferredName: fmt.Sprintf("Caseload %d", i)}, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, end_date, imported_at)
				VALUES ($1, $2, $3, 'c@example.org', '2025-06-01', $4, $5)`, pe.ID, fmt.Sprintf("R%d", i), c.team, c.end, w.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.People.Create(ctx, w.Principal(t, "clinician"), person.Details{PreferredName: "Added by a clinician"}, true); err != nil {
			t.Fatal(err)
		}
		for name := range w.Users {
			byPerson, bySet, err := w.Referrals.PeopleInScope(ctx, w.Principal(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(byPerson, bySet) {
				t.Errorf("%s: person-by-person scope %v, search scope %v", name, byPerson, bySet)
			}
		}
	})
}
