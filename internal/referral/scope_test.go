package referral_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

const secret = "CANARY-0b7e"

// onCaseload puts a person on a team's caseload, as an import would.
func onCaseload(t *testing.T, db *store.DB, personID, teamID int64, ref string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, imported_at)
		VALUES ($1, $2, $3, 'someone@test.example', $4, $5)`, personID, ref, teamID, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
}

func leaks(v any) bool {
	b, _ := json.Marshal(v)
	return strings.Contains(string(b), secret)
}

// Issue #8, item 1: an "interested" offer for a person the caller may see
// must not hand them another team's referral for that person.
func TestInterestedOfferKeepsAnotherTeamsReferralHidden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clinA, clinB := w.Principal(t, "clinician"), w.Principal(t, "clinicianB")
		// Team A's clinician added the person; team B has them on its
		// caseload and referred them, with details only team B may read.
		pe, err := w.People.Create(ctx, clinA, person.Details{PreferredName: "Rowan", Phone: "07700 900404"}, true)
		if err != nil {
			t.Fatal(err)
		}
		onCaseload(t, db, pe.ID, w.TeamB.ID, "B-1")
		b, err := w.Referrals.CreateReferral(ctx, clinB, referral.NewReferral{PersonID: pe.ID, AskedFor: "asked " + secret,
			WorkerPreferences: "prefers " + secret, ContactHow: "call " + secret, PersonKnows: testkit.Yes(), Consent: "given", ShareWithReferrer: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.GetReferral(ctx, clinA, b.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("team A may open team B's referral: %v", err)
		}
		res, err := w.Referrals.CreateOffer(ctx, clinA, referral.NewOffer{PersonID: pe.ID, Method: "conversation", Response: "interested"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Referral != nil || res.Offer.ReferralID != 0 || res.ReferralExisted || leaks(res) {
			t.Fatalf("the offer answered with team B's referral: %+v", res)
		}
		// Still one open referral, and team B hears the person is interested.
		if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE person_id = $1", pe.ID); n != 1 {
			t.Fatalf("%d referrals for the person, want 1", n)
		}
		d, err := w.Referrals.GetReferral(ctx, clinB, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := d.History[len(d.History)-1]; !strings.Contains(last.Note, "interested") {
			t.Fatalf("team B was not told: %+v", last)
		}
		// Team A's view of the person's offers does not name the referral.
		rec, err := w.Referrals.GetPerson(ctx, clinA, pe.ID)
		if err != nil || leaks(rec) || len(rec.Referrals) != 0 {
			t.Fatalf("person record for team A: %+v %v", rec, err)
		}
		for _, o := range rec.Offers {
			if o.ReferralID != 0 {
				t.Fatalf("an offer names a referral team A may not see: %+v", o)
			}
		}
		// A referral by team A for the same person joins the open one,
		// without revealing it.
		_, err = w.Referrals.CreateReferral(ctx, clinA, referral.NewReferral{PersonID: pe.ID, AskedFor: "from team A", PersonKnows: testkit.Yes(), Consent: "given"})
		var open *referral.OpenReferralError
		if !errors.As(err, &open) || open.Referral != nil || app.As(err).Code != app.CodeConflict || leaks(app.As(err).Message) {
			t.Fatalf("second referral: %v", err)
		}
		// Team B, who may see it, is answered with it.
		res, err = w.Referrals.CreateOffer(ctx, clinB, referral.NewOffer{PersonID: pe.ID, Method: "review", Response: "interested"})
		if err != nil || res.Referral == nil || res.Referral.ID != b.ID || !res.ReferralExisted {
			t.Fatalf("team B's own offer: %+v %v", res, err)
		}
	})
}

// Issue #8, item 2: a self-referral carrying a stranger's contact details
// must not let a peer lead find, link or read the stranger.
func TestUnassignedReferralOpensNoStranger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clinB, lead := w.Principal(t, "clinicianB"), w.Principal(t, "lead")
		dob := "1990-04-01"
		victim, err := w.Referrals.CreateReferral(ctx, clinB, referral.NewReferral{Person: person.Details{PreferredName: "Vic " + secret,
			FullName: "Victoria " + secret, DateOfBirth: dob, Phone: "07700 900717", Email: "vic@example.org", Ethnicity: "white_irish"},
			AskedFor: "private " + secret, PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		onCaseload(t, db, victim.PersonID, w.TeamB.ID, "B-2")
		for _, d := range []person.Details{
			{PreferredName: "Anyone", Phone: "07700 900717"},
			{PreferredName: "Anyone", Email: "vic@example.org"},
			{PreferredName: "Vic " + secret, FullName: "Victoria " + secret, DateOfBirth: dob, Phone: "07700 900999"},
		} {
			res, err := w.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{Details: d, AskedFor: "help"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := w.Referrals.GetReferral(ctx, lead, res.ID)
			if err != nil {
				t.Fatalf("the lead cannot triage the unassigned referral: %v", err)
			}
			for _, m := range got.Duplicates {
				if m.PersonID == victim.PersonID {
					t.Fatalf("the lead was offered a person they may not see: %+v", m)
				}
			}
			if d.DateOfBirth == "" && leaks(got) {
				t.Fatalf("the referral view leaks: %+v", got)
			}
			if err := w.Referrals.LinkPerson(ctx, lead, res.ID, victim.PersonID); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("linking to a stranger: %v", err)
			}
			// The person the self-referral made is not opened to every
			// lead either: they see the referral, not a record.
			if _, err := w.Referrals.GetPerson(ctx, lead, got.Referral.PersonID); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("the lead opened the self-referrer's person record: %v", err)
			}
		}
		if _, err := w.Referrals.GetPerson(ctx, lead, victim.PersonID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("the lead reads the stranger: %v", err)
		}
		people, err := w.People.Find(ctx, lead, "vic", 50)
		if err != nil || len(people) != 0 {
			t.Fatalf("the lead finds the stranger: %+v %v", people, err)
		}
		// Staff entering the stranger's details are offered no match.
		_, err = w.Referrals.CreateReferral(ctx, lead, referral.NewReferral{Person: person.Details{PreferredName: "X", Phone: "07700 900717"},
			AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given"})
		var dup *person.DuplicateError
		if errors.As(err, &dup) {
			t.Fatalf("possible matches outside the lead's scope: %+v", dup.Matches)
		}
	})
}

// A trust record number someone else holds says nothing about them to a
// caller who may not see them: the number is kept as pending, and whoever
// may see both people is shown them as possibly the same person.
func TestTrustRefClashRevealsNobody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clinA, clinB := w.Principal(t, "clinician"), w.Principal(t, "clinicianB")
		first, err := w.People.Create(ctx, clinA, person.Details{PreferredName: "Holder " + secret, TrustRef: "RX-1001"}, true)
		if err != nil {
			t.Fatal(err)
		}
		second, err := w.People.Create(ctx, clinB, person.Details{PreferredName: "Newcomer", TrustRef: "RX-1001"}, true)
		if err != nil || leaks(second) || leaks(app.As(err)) {
			t.Fatalf("a clash out of scope: %+v %v", second, err)
		}
		rec, err := w.Referrals.GetPerson(ctx, clinB, second.ID)
		if err != nil || rec.Person.TrustRef != "RX-1001" || len(rec.SameTrustRef) != 0 {
			t.Fatalf("team B's view: %+v %v", rec, err)
		}
		// Within scope, the clash is refused with a reason to choose them.
		_, err = w.People.Create(ctx, clinA, person.Details{PreferredName: "Again", TrustRef: "RX-1001"}, true)
		if ae := app.As(err); ae.Code != app.CodeInvalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "trust_ref" {
			t.Fatalf("a clash in scope: %v", err)
		}
		// The number stays with its first holder.
		if n := count(t, db, "SELECT COUNT(*) FROM people WHERE trust_ref = 'RX-1001'"); n != 1 {
			t.Fatalf("%d people hold the number", n)
		}
		// Someone who may see both is told.
		onCaseload(t, db, second.ID, w.TeamA.ID, "A-9")
		rec, err = w.Referrals.GetPerson(ctx, clinA, first.ID)
		if err != nil || len(rec.SameTrustRef) != 1 || rec.SameTrustRef[0].PersonID != second.ID {
			t.Fatalf("the clash is not shown to someone who sees both: %+v %v", rec.SameTrustRef, err)
		}
	})
}

// One rule says who can be allocated a team's referral; the list a lead
// chooses from and the check on allocating are the same rule.
func TestAllocatableWorkers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		workers, err := w.Referrals.Workers(ctx, w.TeamA.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]bool{}
		for _, x := range workers {
			got[x.ID] = true
		}
		for name, want := range map[string]bool{"worker": true, "lead": true, "lead2": true, "workerB": false, "clinician": false, "leadB": false} {
			if got[w.Users[name].ID] != want {
				t.Errorf("%s allocatable in team A: %v, want %v", name, got[w.Users[name].ID], want)
			}
		}
		r := w.StaffReferral(t, "clinician", "Allocatable")
		lead := w.Principal(t, "lead")
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"clinician": false, "workerB": false, "worker": true} {
			_, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: w.Users[name].ID})
			if (err == nil) != want {
				t.Errorf("allocating %s: %v", name, err)
			}
		}
	})
}

// Someone with several roles acts in one: the role in the referral's
// history is the role in the audit trail.
func TestOneRoleRecordedPerAction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		u, err := w.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "two.hats@test.example", Name: "Two Hats",
			Memberships: []app.Membership{{Role: app.RolePerson}, {Role: app.RoleClinician, TeamID: w.TeamB.ID}, {Role: app.RolePeerLead, TeamID: w.TeamA.ID}},
			Password:    testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		p := &app.Principal{UserID: u.ID, Name: u.Name, PersonID: u.PersonID, Memberships: u.Memberships, RequestID: "two-hats"}
		r := w.StaffReferral(t, "clinician", "Worn Hat")
		if _, err := w.Referrals.GetReferral(ctx, p, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, p, r.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatal(err)
		}
		var history, audited, read string
		_ = db.QueryRow(ctx, "SELECT actor_role FROM referral_events WHERE referral_id = $1 AND to_status = 'accepted'", r.ID).Scan(&history)
		_ = db.QueryRow(ctx, "SELECT actor_role FROM audit_events WHERE request_id = 'two-hats' AND action = 'referral.transition.accepted'").Scan(&audited)
		_ = db.QueryRow(ctx, "SELECT actor_role FROM audit_events WHERE request_id = 'two-hats' AND action = 'referral.read'").Scan(&read)
		if history != "peer_lead" || audited != "peer_lead" || read != "peer_lead" {
			t.Fatalf("history %q, audit %q, read %q: want peer_lead in all", history, audited, read)
		}
	})
}
