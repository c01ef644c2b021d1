package account_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func principalOf(t *testing.T, w *testkit.World, id int64) *app.Principal {
	t.Helper()
	u, err := w.Accounts.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, PersonID: u.PersonID, Memberships: u.Memberships, Via: "test", RequestID: "t"}
}

// Someone whose record was made by staff claims it with a printed code:
// their account is joined to it (its empty record of its own is marked as
// joined to it), they see the referral staff made, and the code works once,
// for a limited time, only for its record.
func TestClaimRecordWithACode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		r := w.StaffReferral(t, "clinician", "Kit Marlow")
		inv, err := w.People.InviteToClaim(ctx, clin, r.PersonID, person.InviteByPrint)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[A-HJ-KMNP-Z2-9]{4}-[A-HJ-KMNP-Z2-9]{4}-[A-HJ-KMNP-Z2-9]{4}$`).MatchString(inv.Code) {
			t.Fatalf("the code %q is not short and readable", inv.Code)
		}
		me := w.Principal(t, "person2")
		emptyOwn := me.PersonID
		// Mistyped: a clear message, and no attempt spent on the claim.
		if _, err := w.Accounts.ClaimRecord(ctx, me, "not a code", "192.0.2.1"); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("a mistyped code: %v", err)
		}
		// Typed in small letters with spaces: still the code.
		typed := strings.ToLower(strings.ReplaceAll(inv.Code, "-", " "))
		got, err := w.Accounts.ClaimRecord(ctx, me, typed, "192.0.2.1")
		if err != nil || got != r.PersonID {
			t.Fatalf("claiming: %d %v", got, err)
		}
		me = principalOf(t, w, me.UserID)
		if me.PersonID != r.PersonID {
			t.Fatalf("the account is joined to %d, want %d", me.PersonID, r.PersonID)
		}
		var merged int64
		if err := db.QueryRow(ctx, "SELECT COALESCE(merged_into_id, 0) FROM people WHERE id = $1", emptyOwn).Scan(&merged); err != nil || merged != r.PersonID {
			t.Fatalf("the account's empty record was not joined to the claimed one: %d %v", merged, err)
		}
		mine, err := w.Referrals.MyReferrals(ctx, me)
		if err != nil || len(mine) != 1 || mine[0].Own.Reference != r.Reference || mine[0].Own.MadeBy != "Test clinician" {
			t.Fatalf("after claiming, the person's referrals: %+v %v", mine, err)
		}
		// Once only.
		other := w.Principal(t, "carer")
		if _, err := w.Accounts.ClaimRecord(ctx, other, inv.Code, "192.0.2.2"); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("the code worked twice: %v", err)
		}
		// A new code for a record that has an account is refused.
		if _, err := w.People.InviteToClaim(ctx, clin, r.PersonID, person.InviteByPrint); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("an invitation for a record already claimed: %v", err)
		}
		// Expired.
		r2 := w.StaffReferral(t, "clinician", "Late Lane")
		old, err := w.People.InviteToClaim(ctx, clin, r2.PersonID, person.InviteByPrint)
		if err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(person.InvitationLifetime + time.Minute)
		if _, err := w.Accounts.ClaimRecord(ctx, other, old.Code, "192.0.2.2"); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("an expired code: %v", err)
		}
		// A new invitation voids the one before.
		first, _ := w.People.InviteToClaim(ctx, clin, r2.PersonID, person.InviteByPrint)
		second, _ := w.People.InviteToClaim(ctx, clin, r2.PersonID, person.InviteByPrint)
		if _, err := w.Accounts.ClaimRecord(ctx, other, first.Code, "192.0.2.2"); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("an earlier invitation still worked: %v", err)
		}
		// A staff-only account that claims gains the person role (one
		// role at a time from then on).
		staff := w.Principal(t, "worker")
		if _, err := w.Accounts.ClaimRecord(ctx, staff, second.Code, "192.0.2.3"); err != nil {
			t.Fatal(err)
		}
		staff = principalOf(t, w, staff.UserID)
		if !staff.HasRole(app.RolePerson) || staff.PersonID != r2.PersonID {
			t.Fatalf("the worker after claiming: %+v", staff.Memberships)
		}
	})
}

// An account whose own record already holds something is not swapped for
// the claimed one (the code is not used up), and attempts are limited.
func TestClaimRefusedAndLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		me := w.Principal(t, "person")
		if _, err := w.Referrals.RecordOwnOffer(ctx, me, false, ""); err != nil {
			t.Fatal(err)
		}
		r := w.StaffReferral(t, "clinician", "Held Hana")
		inv, err := w.People.InviteToClaim(ctx, w.Principal(t, "clinician"), r.PersonID, person.InviteByPrint)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Accounts.ClaimRecord(ctx, me, inv.Code, "192.0.2.9"); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("an account with its own requests swapped records: %v", err)
		}
		if _, err := w.Accounts.ClaimRecord(ctx, w.Principal(t, "person2"), inv.Code, "192.0.2.9"); err != nil {
			t.Fatalf("the code was used up by a refused claim: %v", err)
		}
		// Ten wrong codes an hour per account, then refused.
		carer := w.Principal(t, "carer")
		var last error
		for range 11 {
			_, last = w.Accounts.ClaimRecord(ctx, carer, "ABCD-EFGH-JKMN", "192.0.2.10")
		}
		if !app.IsCode(last, app.CodeTooMany) {
			t.Fatalf("the eleventh attempt: %v", last)
		}
	})
}

// Signing up never joins an account to a record silently, even when the
// record holds the same email address: the person is offered a code, sent
// only to that address, which only their account can use.
func TestSignUpNeverLinksSilently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, "clinician"), referral.NewReferral{Person: person.Details{PreferredName: "Ezra",
			Email: "ezra@example.org"}, AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Accounts.SignUp(ctx, "ezra@example.org", "Ezra", app.RolePerson, "", "192.0.2.20", "t"); err != nil {
			t.Fatal(err)
		}
		u, err := w.Accounts.FindUserByEmail(ctx, "ezra@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if u.PersonID == r.PersonID || u.PersonID == 0 {
			t.Fatalf("sign-up joined the account to the record silently (%d)", u.PersonID)
		}
		me := principalOf(t, w, u.ID)
		// Asking for a code: an email to the record's address, with a code
		// only this account can use.
		if err := w.People.SendContactCode(ctx, me, "ezra@example.org", "192.0.2.20"); err != nil {
			t.Fatal(err)
		}
		mails, err := mail.List(ctx, db, "ezra@example.org", 5)
		if err != nil || len(mails) == 0 || !strings.Contains(mails[0].Subject, "code") {
			t.Fatalf("no code was sent: %+v %v", mails, err)
		}
		code := regexp.MustCompile(`[A-HJ-KMNP-Z2-9]{4}-[A-HJ-KMNP-Z2-9]{4}-[A-HJ-KMNP-Z2-9]{4}`).FindString(mails[0].Body)
		if code == "" || strings.Contains(mails[0].Body, "Ezra") {
			t.Fatalf("the email: %q", mails[0].Body)
		}
		if _, err := w.Accounts.ClaimRecord(ctx, w.Principal(t, "person2"), code, "192.0.2.21"); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("another account used the code: %v", err)
		}
		if got, err := w.Accounts.ClaimRecord(ctx, me, code, "192.0.2.20"); err != nil || got != r.PersonID {
			t.Fatalf("claiming with the code: %d %v", got, err)
		}
		// An address no record holds: the same answer, and no email.
		before := count(t, db, "SELECT COUNT(*) FROM outbox")
		if err := w.People.SendContactCode(ctx, me, "nobody@example.org", "192.0.2.20"); err != nil {
			t.Fatal(err)
		}
		if count(t, db, "SELECT COUNT(*) FROM outbox") != before {
			t.Fatal("an email was sent to an address no record holds")
		}
		// Three requests an hour per account.
		if err := w.People.SendContactCode(ctx, me, "nobody@example.org", "192.0.2.20"); err != nil {
			t.Fatal(err)
		}
		if err := w.People.SendContactCode(ctx, me, "nobody@example.org", "192.0.2.20"); !app.IsCode(err, app.CodeTooMany) {
			t.Fatalf("the fourth request: %v", err)
		}
	})
}

// An invitation by email goes to the address on the record and carries a
// code and links, never a name; a record without an address is told to
// print a code instead.
func TestClaimInvitationByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		pe, err := w.People.Create(ctx, clin, person.Details{PreferredName: "Wren Ashby", Email: "wren@example.org"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.People.InviteToClaim(ctx, clin, pe.ID, person.InviteByEmail); err != nil {
			t.Fatal(err)
		}
		mails, _ := mail.List(ctx, db, "wren@example.org", 5)
		if len(mails) != 1 || strings.Contains(mails[0].Body, "Wren") || !strings.Contains(mails[0].Body, "https://mutual.test/sign-up?claim=") {
			t.Fatalf("the invitation: %+v", mails)
		}
		nomail, _ := w.People.Create(ctx, clin, person.Details{PreferredName: "Phone Only", Phone: "07700 900321"}, true)
		if _, err := w.People.InviteToClaim(ctx, clin, nomail.ID, person.InviteByEmail); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("an emailed invitation to a record without email: %v", err)
		}
		if _, err := w.People.InviteToClaim(ctx, w.Principal(t, "clinicianB"), pe.ID, person.InviteByPrint); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("an invitation for someone out of scope: %v", err)
		}
		// The sign-up link joins the new account to the record.
		link := regexp.MustCompile(`claim=([A-Z2-9]+)`).FindStringSubmatch(mails[0].Body)
		if err := w.Accounts.SignUp(ctx, "wren.new@example.org", "Wren", app.RolePerson, link[1], "192.0.2.30", "t"); err != nil {
			t.Fatal(err)
		}
		u, err := w.Accounts.FindUserByEmail(ctx, "wren.new@example.org")
		if err != nil || u.PersonID != pe.ID {
			t.Fatalf("signing up with the invitation: %+v %v", u, err)
		}
	})
}

// A person changes how to be contacted; each changed field is recorded
// with what it was, who changed it and in which role, and staff who may
// see them see the history. Bad input changes nothing.
func TestContactDetailsChangesAreRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		r := w.StaffReferral(t, "clinician", "Ivo Pike")
		inv, _ := w.People.InviteToClaim(ctx, w.Principal(t, "clinician"), r.PersonID, person.InviteByPrint)
		u, err := w.Accounts.CreateUser(ctx, app.Operator("t"), account.NewUser{Email: "ivo@example.org", Name: "Ivo", Memberships: []app.Membership{{Role: app.RolePerson}},
			Password: testkit.Password, Claim: inv.Code})
		if err != nil {
			t.Fatal(err)
		}
		me := principalOf(t, w, u.ID)
		if _, err := w.People.UpdateOwnContact(ctx, me, person.ContactDetails{PreferredName: "", Email: "not an email", ContactPreference: "pigeon"}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("bad input: %v", err)
		} else if fe := app.As(err).Fields; len(fe) < 3 {
			t.Fatalf("bad input names %d problems, want one per field: %+v", len(fe), fe)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM person_changes"); n != 0 {
			t.Fatalf("bad input recorded %d changes", n)
		}
		pe, err := w.People.UpdateOwnContact(ctx, me, person.ContactDetails{PreferredName: "Ivo", Email: "ivo@example.org", ContactPreference: "email"})
		if err != nil || pe.Email != "ivo@example.org" || pe.ContactPreference != "email" {
			t.Fatalf("update: %+v %v", pe, err)
		}
		own, err := w.People.Own(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]person.Change{}
		for _, c := range own.Changes {
			fields[c.Field] = c
		}
		if c := fields["phone"]; c.Old == "" || c.New != "" || c.ChangedBy != "You" || c.Role != "person" {
			t.Errorf("the phone change: %+v", c)
		}
		if c := fields["preferred_name"]; c.Old != "Ivo Pike" || c.New != "Ivo" {
			t.Errorf("the name change: %+v", c)
		}
		if len(own.Changes) != 4 { // name, email, phone, preference
			t.Errorf("%d changes recorded, want 4: %+v", len(own.Changes), own.Changes)
		}
		rec, err := w.Referrals.GetPerson(ctx, w.Principal(t, "clinician"), r.PersonID)
		if err != nil || len(rec.Changes) != 4 || rec.Changes[0].ChangedBy != "The person, from their account" || !rec.HasAccount {
			t.Fatalf("staff's view of the changes: %+v %v", rec.Changes, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'person.update_own' AND subject_person_id = $1", r.PersonID); n != 1 {
			t.Fatalf("the change was audited %d times", n)
		}
	})
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
