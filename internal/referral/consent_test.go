package referral_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// withAccount gives the person of a referral an account, joined to their
// record with a printed claim code, and returns the account's caller.
func withAccount(t *testing.T, w *testkit.World, by string, personID int64, email string) *app.Principal {
	t.Helper()
	ctx := context.Background()
	inv, err := w.People.InviteToClaim(ctx, w.Principal(t, by), personID, person.InviteByPrint)
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: email, Name: "Account " + email,
		Memberships: []app.Membership{{Role: app.RolePerson}}, Password: testkit.Password, Claim: inv.Code})
	if err != nil {
		t.Fatal(err)
	}
	if u.PersonID != personID {
		t.Fatalf("the account was joined to record %d, want %d", u.PersonID, personID)
	}
	return &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, PersonID: u.PersonID, Memberships: u.Memberships, Via: "test", RequestID: "test"}
}

func visible(t *testing.T, err error) bool {
	t.Helper()
	switch {
	case err == nil:
		return true
	case app.IsCode(err, app.CodeNotFound):
		return false
	}
	t.Fatal(err)
	return false
}

// Consent that holds: the peer support team always sees a referral; the
// referrer follows it only while the person agrees (share_with_referrer),
// clinicians of the teams involved see it only while the person agrees to
// sharing beyond the team (share_beyond_team); the person changes either at
// once from their account, and the referrer is told nothing more.
func TestConsentHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin, clinB, leadB, workerB := w.Principal(t, "clinician"), w.Principal(t, "clinicianB"), w.Principal(t, "leadB"), w.Principal(t, "workerB")
		// Team A's clinician refers someone on team B's caseload to team B's
		// peer support, with the person's agreement to the referral only.
		r, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{Person: person.Details{PreferredName: "Noor", Phone: "07700 900601"},
			AskedFor: "asked " + secret, TeamID: w.TeamB.ID, PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		onCaseload(t, db, r.PersonID, w.TeamB.ID, "NOOR-1")
		me := withAccount(t, w, "clinician", r.PersonID, "noor@example.org")

		// The peer support team sees it; the referrer sees that they made
		// it; team B's clinician does not see it at all.
		for _, p := range []*app.Principal{leadB, workerB} {
			if d, err := w.Referrals.GetReferral(ctx, p, r.ID); err != nil || d.Limited || !strings.Contains(d.Referral.AskedFor, secret) {
				t.Fatalf("the peer team cannot see the referral: %+v %v", d.Referral, err)
			}
		}
		d, err := w.Referrals.GetReferral(ctx, clin, r.ID)
		if err != nil || !d.Limited || leaks(d) {
			t.Fatalf("the referrer without the person's agreement: limited=%v %v", d.Limited, err)
		}
		if _, err := w.Referrals.GetReferral(ctx, clinB, r.ID); visible(t, err) {
			t.Fatal("a clinician beyond the peer team sees a referral not shared beyond it")
		}

		// The person agrees to both: the referrer follows it, team B's
		// clinician (caseload) sees it.
		if _, err := w.Referrals.ChangeSharing(ctx, me, r.ID, referral.Sharing{ShareWithReferrer: true, ShareBeyondTeam: true}); err != nil {
			t.Fatal(err)
		}
		if d, err := w.Referrals.GetReferral(ctx, clin, r.ID); err != nil || d.Limited || !strings.Contains(d.Referral.AskedFor, secret) {
			t.Fatalf("the referrer the person agreed to cannot follow it: %v %v", d.Limited, err)
		}
		if _, err := w.Referrals.GetReferral(ctx, clinB, r.ID); !visible(t, err) {
			t.Fatal("shared beyond the team, team B's clinician cannot see it")
		}
		if _, err := w.Referrals.Transition(ctx, leadB, r.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatal(err)
		}
		told := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", clin.UserID)
		if told != 1 {
			t.Fatalf("the referrer was told %d times, want 1", told)
		}

		// The person withdraws both: at once, the referrer sees only that
		// they made it and hears nothing more, and team B's clinician loses
		// it, in the referral and in the list and the person's record.
		if _, err := w.Referrals.ChangeSharing(ctx, me, r.ID, referral.Sharing{}); err != nil {
			t.Fatal(err)
		}
		if d, err := w.Referrals.GetReferral(ctx, clin, r.ID); err != nil || !d.Limited || leaks(d) {
			t.Fatalf("after withdrawal the referrer still follows it: %v %v", d.Limited, err)
		}
		if _, err := w.Referrals.GetReferral(ctx, clinB, r.ID); visible(t, err) {
			t.Fatal("after withdrawal team B's clinician still sees it")
		}
		pg, err := w.Referrals.ListReferrals(ctx, clinB, referral.Filter{})
		if err != nil || leaks(pg) {
			t.Fatalf("team B's clinician's list: %v", err)
		}
		if rec, err := w.Referrals.GetPerson(ctx, clinB, r.PersonID); err != nil || len(rec.Referrals) != 0 {
			t.Fatalf("team B's clinician sees the person's referrals: %v %v", len(rec.Referrals), err)
		}
		if _, err := w.Referrals.Transition(ctx, leadB, r.ID, referral.Move{To: referral.Allocated, WorkerID: workerB.UserID}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", clin.UserID); n != told {
			t.Fatalf("the referrer was told after the person withdrew their agreement (%d notifications)", n)
		}
		// The person is told, and sees the change in their own view.
		mine, err := w.Referrals.MyReferral(ctx, me, r.ID)
		if err != nil || mine.Own.ShareWithReferrer || mine.Own.ShareBeyondTeam || mine.Own.SharingChangedAt == nil {
			t.Fatalf("the person's view after withdrawal: %+v %v", mine.Own, err)
		}
		// Only the person may change who sees it.
		if _, err := w.Referrals.ChangeSharing(ctx, clin, r.ID, referral.Sharing{ShareWithReferrer: true}); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("the referrer changed the person's sharing: %v", err)
		}
	})
}

// A referral made without the person's agreement is not taken on until a
// clinician or peer lead records why the team goes ahead (or that the
// person has now agreed); the person sees the reason, and the decision is
// in their record access.
func TestProceedingWithoutConsentNeedsAReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead, worker := w.Principal(t, "lead"), w.Principal(t, "worker")
		r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "carer"), referral.NewReferral{Person: person.Details{PreferredName: "Ravi", Phone: "07700 900602"},
			AskedFor: "x", TeamID: w.TeamA.ID, PersonKnows: testkit.Yes(), Consent: "not_obtained", ConsentReason: "too unwell to talk about it",
			Relationship: "brother", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("accepted without agreement or a reason: %v", err)
		}
		d, _ := w.Referrals.GetReferral(ctx, lead, r.ID)
		if !d.WaitsForAgreement || !d.MayRecordAgreement || containsStatus(d.Moves, referral.Accepted) {
			t.Fatalf("the lead's view: waits=%v may=%v moves=%v", d.WaitsForAgreement, d.MayRecordAgreement, d.Moves)
		}
		if _, err := w.Referrals.RecordConsent(ctx, worker, r.ID, referral.ConsentDecision{Decision: "proceed", Reason: "x"}); err == nil {
			t.Fatal("a peer worker recorded going ahead without agreement")
		}
		if _, err := w.Referrals.RecordConsent(ctx, lead, r.ID, referral.ConsentDecision{Decision: "proceed"}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("going ahead without a reason: %v", err)
		}
		if _, err := w.Referrals.RecordConsent(ctx, lead, r.ID, referral.ConsentDecision{Decision: "proceed", Reason: "Their brother says they asked for it"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatalf("accepting once the reason is recorded: %v", err)
		}
		if _, err := w.Referrals.RecordConsent(ctx, lead, r.ID, referral.ConsentDecision{Decision: "given"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("recording twice: %v", err)
		}
		me := withAccount(t, w, "lead", r.PersonID, "ravi@example.org")
		mine, err := w.Referrals.MyReferral(ctx, me, r.ID)
		if err != nil || mine.Own.ProceedReason != "Their brother says they asked for it" || mine.Own.ProceedBy == "" {
			t.Fatalf("the person's own view does not show why: %+v %v", mine.Own, err)
		}
		if !stepSays(mine.Steps, "recorded why the team went ahead without your agreement") {
			t.Fatalf("the steps: %+v", mine.Steps)
		}
		rows, err := w.Audit.OwnAccessLog(ctx, me.ActorFor(app.PermOwnRecord), me.PersonID, 100)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range rows {
			found = found || (a.Action == "referral.consent_proceed" && a.ActorRole == string(app.RolePeerLead))
		}
		if !found {
			t.Fatalf("going ahead without agreement is not in the person's record access: %+v", rows)
		}
	})
}

func containsStatus(ss []referral.Status, s referral.Status) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func stepSays(steps []referral.Step, text string) bool {
	for _, s := range steps {
		if strings.Contains(s.Text, text) {
			return true
		}
	}
	return false
}

// The person is told, in Mutual and (as they chose) by email, when their
// referral is accepted, allocated (with their worker's first name) or
// ended; the worker is told of the allocation. Emails carry only the
// reference and a link. Someone who did not know they were referred is
// told nothing by Mutual.
func TestPersonToldOfTheirReferral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead, worker := w.Principal(t, "lead"), w.Principal(t, "worker")
		r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{Person: person.Details{PreferredName: "Mo Farrah-Smith",
			Email: "mo@example.org", ContactPreference: "email"}, AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		me := withAccount(t, w, "clinician", r.PersonID, "mo.account@example.org")
		for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: worker.UserID},
			{To: referral.Ended, Ending: referral.EndingPlanned, Reason: "goals_met", OutcomeSummary: "Joined a walking group"}} {
			if m.To == referral.Ended {
				if _, err := w.Referrals.Transition(ctx, worker, r.ID, referral.Move{To: referral.Active}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.Referrals.Transition(ctx, lead, r.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		notes, err := w.Notify.List(ctx, me, 10)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, n := range notes {
			texts = append(texts, n.Message)
		}
		all := strings.Join(texts, "\n")
		for _, want := range []string{"has been accepted", "Test, a peer support worker, will be in touch", "has ended: goals met"} {
			if !strings.Contains(all, want) {
				t.Errorf("the person was not told %q:\n%s", want, all)
			}
		}
		if len(notes) != 3 {
			t.Errorf("the person got %d notifications, want 3 (accepted, allocated, ended)", len(notes))
		}
		mails, err := mail.List(ctx, db, "mo@example.org", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(mails) != 3 {
			t.Fatalf("%d emails to the address the person chose, want 3", len(mails))
		}
		for _, m := range mails {
			if !strings.Contains(m.Body, r.Reference) || strings.Contains(m.Body, "Mo") || strings.Contains(m.Body, "walking") {
				t.Errorf("an email to the person carries more than a reference and a link: %q", m.Body)
			}
		}
		wnotes, err := w.Notify.List(ctx, worker, 10)
		if err != nil || len(wnotes) != 1 || !strings.Contains(wnotes[0].Message, "allocated to you") {
			t.Fatalf("the worker's notifications: %+v %v", wnotes, err)
		}
		if m, err := mail.List(ctx, db, w.Users["worker"].Email, 10); err != nil || len(m) != 1 || strings.Contains(m[0].Body, "Mo") {
			t.Fatalf("the worker's email: %+v %v", m, err)
		}

		// Someone who does not know about their referral hears nothing.
		r2, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{Person: person.Details{PreferredName: "Quiet",
			Email: "quiet@example.org", ContactPreference: "email"}, AskedFor: "x", PersonKnows: new(bool), Consent: "not_obtained",
			ConsentReason: "not yet discussed", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		quiet := withAccount(t, w, "clinician", r2.PersonID, "quiet.account@example.org")
		if _, err := w.Referrals.RecordConsent(ctx, lead, r2.ID, referral.ConsentDecision{Decision: "proceed", Reason: "best interests"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, lead, r2.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatal(err)
		}
		if n, _ := w.Notify.List(ctx, quiet, 10); len(n) != 0 {
			t.Fatalf("someone who did not know about their referral was told: %+v", n)
		}
		if m, _ := mail.List(ctx, db, "quiet@example.org", 10); len(m) != 0 {
			t.Fatalf("someone who did not know about their referral was emailed: %+v", m)
		}
	})
}

// The person's own view says what happened in plain words: no staff notes,
// no internal labels, no full names of workers.
func TestOwnStepsArePlainWords(t *testing.T) {
	r := referral.Referral{PersonName: "Sam", Source: referral.SourceStaff, RedirectedTo: "Mind"}
	cases := []struct {
		e    referral.Event
		want string
	}{
		{referral.Event{ActorName: "Dr Ada Jones", To: referral.Received, Note: "Referral made: Staff"}, "Dr Ada Jones referred you for peer support."},
		{referral.Event{ActorName: "Lee", From: referral.Received, To: referral.Accepted, Note: "Internal: check capacity"}, "Added to the waiting list."},
		{referral.Event{ActorName: "Lee", From: referral.Accepted, To: referral.Allocated, Note: "Allocated to Priya Shah. Knows the area"}, "Priya, a peer support worker, was chosen to support you."},
		{referral.Event{ActorName: "Lee", From: referral.Allocated, To: referral.Accepted}, "Moved back to the waiting list, to find another peer support worker."},
		{referral.Event{ActorName: "Priya Shah", From: referral.Active, To: referral.Ended, Reason: "goals_met"}, "Peer support ended: goals met."},
		{referral.Event{ActorName: "Lee", From: referral.Received, To: referral.Declined, Reason: "unable_to_contact"}, "The peer support team could not offer peer support: we could not contact the person."},
		{referral.Event{ActorName: "Lee", From: referral.Received, To: referral.Redirected}, "Passed to another service: Mind."},
		{referral.Event{ActorName: "Kim", From: referral.Accepted, To: referral.Accepted, Note: "Also referred by Kim, Ward 4. What they asked for: x"}, "Kim also asked for peer support for you."},
		{referral.Event{ActorName: "Lee", From: referral.Accepted, To: referral.Accepted, Note: "Linked to a person already known to Mutual"}, ""},
		{referral.Event{ActorName: "Lee", From: referral.Accepted, To: referral.Accepted, Note: "Spoke to their GP"}, ""},
	}
	for _, c := range cases {
		got := referral.OwnSteps(r, []referral.Event{c.e}, false)
		switch {
		case c.want == "" && len(got) != 0:
			t.Errorf("%q is the team's own note, but the person is shown %q", c.e.Note, got[0].Text)
		case c.want != "" && (len(got) != 1 || got[0].Text != c.want):
			t.Errorf("%+v: got %+v, want %q", c.e, got, c.want)
		}
	}
	b, _ := json.Marshal(referral.OwnSteps(r, []referral.Event{{ActorName: "Lee", To: referral.Accepted, From: referral.Received, Note: "Internal: check capacity"}}, false))
	if strings.Contains(string(b), "Internal") || strings.Contains(string(b), "On the waiting list") {
		t.Fatalf("a staff note or an internal label reached the person: %s", b)
	}
}

// Someone who is both staff and a person who uses services: at work their
// roles never reach their own record; a referral for themselves is a
// self-referral, never on their own team's list; and their colleagues do
// not see their record merely because they share a team.
func TestOwnRecordNotVisibleToColleagues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		u, err := w.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "alex.dual@test.example", Name: "Alex Dual",
			Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: w.TeamA.ID}, {Role: app.RolePerson}}, Password: testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		ms := u.Memberships
		own, _ := app.ActingMemberships(ms, app.ActingOwn)
		work, dual := app.ActingMemberships(ms, app.ActingWork)
		if !dual || len(own) != 1 || len(work) != 1 {
			t.Fatalf("contexts: own %v work %v dual %v", own, work, dual)
		}
		asOwn := &app.Principal{UserID: u.ID, Name: u.Name, PersonID: u.PersonID, Memberships: own, Acting: app.ActingOwn, RequestID: "t"}
		atWork := &app.Principal{UserID: u.ID, Name: u.Name, PersonID: u.PersonID, Memberships: work, Acting: app.ActingWork, RequestID: "t"}
		// Their own team's waiting list is refused; another team's is not.
		if _, err := w.Referrals.CreateReferral(ctx, asOwn, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "x", TeamID: w.TeamA.ID}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("a self-referral to their own team: %v", err)
		}
		r, err := w.Referrals.CreateReferral(ctx, asOwn, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "asked " + secret})
		if err != nil {
			t.Fatal(err)
		}
		if r.Source != referral.SourceSelf {
			t.Fatalf("their own referral came in as %s", r.Source)
		}
		// At work, their own referral and record are out of reach, and a
		// referral for themselves is refused with the way to do it.
		if _, err := w.Referrals.GetReferral(ctx, atWork, r.ID); visible(t, err) {
			t.Fatal("at work, they reach their own referral")
		}
		if err := w.DB.Read(ctx, func(tx *store.Tx) error { return access.MaySeePerson(ctx, tx, atWork, u.PersonID) }); err == nil {
			t.Fatal("at work, they reach their own record")
		}
		if _, err := w.Referrals.CreateReferral(ctx, atWork, referral.NewReferral{PersonID: u.PersonID, AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given"}); !app.IsCode(err, app.CodeInvalid) && !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a staff referral for themselves: %v", err)
		}
		// Their colleagues: no one sees their record; a peer lead triages
		// the referral (any lead sees unassigned ones) but may not put it on
		// the team they work in, and still cannot open their record.
		for _, name := range []string{"clinician", "worker", "lead", "lead2"} {
			p := w.Principal(t, name)
			if err := w.DB.Read(ctx, func(tx *store.Tx) error { return access.MaySeePerson(ctx, tx, p, u.PersonID) }); err == nil {
				t.Errorf("%s, a colleague, sees their record", name)
			}
			people, err := w.People.Find(ctx, p, "Alex", 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, pe := range people {
				if pe.ID == u.PersonID {
					t.Errorf("%s, a colleague, finds them in a search", name)
				}
			}
		}
		for _, name := range []string{"clinician", "worker"} {
			if _, err := w.Referrals.GetReferral(ctx, w.Principal(t, name), r.ID); visible(t, err) {
				t.Errorf("%s, a colleague, sees their referral", name)
			}
		}
		if _, err := w.Referrals.Transition(ctx, w.Principal(t, "lead"), r.ID, referral.Move{To: referral.Accepted, TeamID: w.TeamA.ID}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("accepted onto the team they work in: %v", err)
		}
		if _, err := w.Referrals.Transition(ctx, w.Principal(t, "leadB"), r.ID, referral.Move{To: referral.Accepted, TeamID: w.TeamB.ID}); err != nil {
			t.Fatalf("accepted onto another team: %v", err)
		}
		for _, name := range []string{"clinician", "worker", "lead"} {
			if _, err := w.Referrals.GetReferral(ctx, w.Principal(t, name), r.ID); visible(t, err) {
				t.Errorf("%s, a colleague, sees their referral once it is on another team's list", name)
			}
		}
		// What they did in their own support is recorded in that role.
		var role string
		if err := db.QueryRow(ctx, "SELECT actor_role FROM audit_events WHERE action = 'referral.create' AND subject_person_id = $1", u.PersonID).Scan(&role); err != nil || role != string(app.RolePerson) {
			t.Fatalf("their self-referral was recorded as %q (%v)", role, err)
		}
	})
}
