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
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
)

var hasher = account.NewHasher()

type fixture struct {
	svc   *account.Service
	db    *store.DB
	clock *app.FakeClock
	team  account.Team
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	clock := app.NewFakeClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	svc := &account.Service{DB: db, Clock: clock, Hasher: hasher, Counters: &ratelimit.Counters{DB: db, Clock: clock},
		BaseURL: "https://mutual.test", RequireMFA: true,
		StaffIdle: 30 * time.Minute, StaffAbsolute: 12 * time.Hour, PublicIdle: 24 * time.Hour, PublicAbsolute: 14 * 24 * time.Hour,
		// Reuse session checks for longer than any test runs, so every
		// change that must end or alter a session is shown to forget them.
		SessionRecheck: time.Hour}
	ctx := context.Background()
	org, err := svc.CreateOrganisation(ctx, app.Operator("test"), "Test Trust", account.OrgNHSTrust)
	if err != nil {
		t.Fatal(err)
	}
	team, err := svc.CreateTeam(ctx, app.Operator("test"), org.ID, "North CMHT", account.SettingCommunity)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, db: db, clock: clock, team: team}
}

func (f *fixture) mustUser(t *testing.T, email string, role app.Role, password string) *account.User {
	t.Helper()
	m := app.Membership{Role: role}
	if role.TeamScoped() {
		m.TeamID = f.team.ID
	}
	u, err := f.svc.CreateUser(context.Background(), app.Operator("test"), account.NewUser{Email: email, Name: "Test " + string(role), Memberships: []app.Membership{m}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func lastLink(t *testing.T, db *store.DB, to, path string) string {
	t.Helper()
	items, err := mail.List(context.Background(), db, to, 1)
	if err != nil || len(items) == 0 {
		t.Fatalf("no email to %s: %v", to, err)
	}
	m := regexp.MustCompile(path + `([A-Za-z0-9_-]+)`).FindStringSubmatch(items[0].Body)
	if m == nil {
		t.Fatalf("no %s link in %q", path, items[0].Body)
	}
	return m[1]
}

func TestSignInAnswersAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.mustUser(t, "pat@example.org", app.RolePerson, "correct horse battery")
		_, errWrong := f.svc.SignIn(ctx, "pat@example.org", "wrong password!", "10.0.0.1", "r")
		_, errUnknown := f.svc.SignIn(ctx, "nobody@example.org", "wrong password!", "10.0.0.1", "r")
		if errWrong == nil || errUnknown == nil || app.As(errWrong).Message != app.As(errUnknown).Message {
			t.Fatalf("answers differ: %v / %v", errWrong, errUnknown)
		}
		res, err := f.svc.SignIn(ctx, "PAT@example.org ", "correct horse battery", "10.0.0.1", "r")
		if err != nil || res.Token == "" || res.NeedsMFA || res.NeedsSetup {
			t.Fatalf("person sign-in: %+v %v", res, err)
		}
		p, err := f.svc.Authenticate(ctx, res.Token, "r")
		if err != nil || p.Email != "pat@example.org" || !p.HasRole(app.RolePerson) || p.PersonID == 0 {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
	})
}

func TestSignInThrottledPerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.mustUser(t, "pat@example.org", app.RolePerson, "correct horse battery")
		for i := 0; i < 8; i++ {
			_, _ = f.svc.SignIn(ctx, "pat@example.org", "guess number "+string(rune('a'+i)), "10.0.0."+string(rune('1'+i)), "r")
		}
		_, err := f.svc.SignIn(ctx, "pat@example.org", "correct horse battery", "10.9.9.9", "r")
		if !app.IsCode(err, app.CodeTooMany) {
			t.Fatalf("after 8 failures from many addresses: %v", err)
		}
		f.clock.Advance(16 * time.Minute)
		if _, err := f.svc.SignIn(ctx, "pat@example.org", "correct horse battery", "10.9.9.9", "r"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func TestStaffSessionTimeouts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.RequireMFA = false
		ctx := context.Background()
		f.mustUser(t, "nurse@example.org", app.RoleClinician, "correct horse battery")
		res, err := f.svc.SignIn(ctx, "nurse@example.org", "correct horse battery", "a", "r")
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(29 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err != nil {
			t.Fatalf("within idle limit: %v", err)
		}
		f.clock.Advance(31 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("after 31 idle minutes: %v", err)
		}
		// Absolute limit: active every 20 minutes, still ends at 12 hours.
		res, _ = f.svc.SignIn(ctx, "nurse@example.org", "correct horse battery", "a", "r")
		for i := 0; i < 35; i++ {
			f.clock.Advance(20 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err != nil {
				t.Fatalf("active session ended early after %d×20 minutes: %v", i+1, err)
			}
		}
		f.clock.Advance(20 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("session outlived 12 hours: %v", err)
		}
	})
}

func TestTOTPSetupReplayAndRecovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.mustUser(t, "lead@example.org", app.RolePeerLead, "correct horse battery")
		res, err := f.svc.SignIn(ctx, "lead@example.org", "correct horse battery", "a", "r")
		if err != nil || !res.NeedsSetup {
			t.Fatalf("staff first sign-in should need set-up: %+v %v", res, err)
		}
		p, _ := f.svc.Authenticate(ctx, res.Token, "r")
		if !p.MFASetup || p.Can(app.PermReferralRead) || !p.Can(app.PermMFAPending) {
			t.Fatalf("pending principal has wrong powers: %+v", p)
		}
		setup, err := f.svc.BeginTOTP(ctx, p.UserID)
		if err != nil || !strings.HasPrefix(setup.QRCode, "data:image/png;base64,") {
			t.Fatal(err)
		}
		if _, _, err := f.svc.ConfirmTOTP(ctx, p, "000000"); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("wrong code accepted: %v", err)
		}
		code := account.CurrentTOTPCode(setup.Secret, f.clock.Now())
		token, codes, err := f.svc.ConfirmTOTP(ctx, p, code)
		if err != nil || len(codes) != 10 {
			t.Fatalf("confirm: %v %d", err, len(codes))
		}
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err == nil {
			t.Fatal("old session id still works after two-factor set-up")
		}
		full, err := f.svc.Authenticate(ctx, token, "r")
		if err != nil || !full.Can(app.PermReferralTriage) {
			t.Fatalf("full session: %+v %v", full, err)
		}

		// Next sign-in: the same code within its 30 s is a replay.
		res, _ = f.svc.SignIn(ctx, "lead@example.org", "correct horse battery", "a", "r")
		if !res.NeedsMFA {
			t.Fatal("second sign-in should ask for a code")
		}
		p, _ = f.svc.Authenticate(ctx, res.Token, "r")
		if _, err := f.svc.VerifyMFA(ctx, p, code); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("replayed code accepted: %v", err)
		}
		f.clock.Advance(30 * time.Second)
		if _, err := f.svc.VerifyMFA(ctx, p, account.CurrentTOTPCode(setup.Secret, f.clock.Now())); err != nil {
			t.Fatalf("fresh code refused: %v", err)
		}
		// Recovery codes work once.
		res, _ = f.svc.SignIn(ctx, "lead@example.org", "correct horse battery", "a", "r")
		p, _ = f.svc.Authenticate(ctx, res.Token, "r")
		if _, err := f.svc.VerifyMFA(ctx, p, strings.ToUpper(codes[3])); err != nil {
			t.Fatalf("recovery code refused: %v", err)
		}
		res, _ = f.svc.SignIn(ctx, "lead@example.org", "correct horse battery", "a", "r")
		p, _ = f.svc.Authenticate(ctx, res.Token, "r")
		if _, err := f.svc.VerifyMFA(ctx, p, codes[3]); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("used recovery code accepted again: %v", err)
		}
	})
}

func TestInvitationAndPasswordReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u := f.mustUser(t, "new.worker@example.org", app.RolePeerWorker, "")
		if u.Status != account.StatusInvited {
			t.Fatalf("status %s", u.Status)
		}
		token := lastLink(t, db, "new.worker@example.org", "/invitation/")
		if _, err := f.svc.CompleteLink(ctx, token, "short", true, "r"); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("short password accepted: %v", err)
		}
		if _, err := f.svc.CompleteLink(ctx, token, "a long enough passphrase", true, "r"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CompleteLink(ctx, token, "a long enough passphrase", true, "r"); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("invitation link used twice: %v", err)
		}
		if _, err := f.svc.SignIn(ctx, "new.worker@example.org", "a long enough passphrase", "a", "r"); err != nil {
			t.Fatal(err)
		}

		// Reset: unknown and known addresses answer alike; only the known one gets mail.
		if err := f.svc.RequestPasswordReset(ctx, "ghost@example.org", "b"); err != nil {
			t.Fatal(err)
		}
		if items, _ := mail.List(ctx, db, "ghost@example.org", 5); len(items) != 0 {
			t.Fatal("mail sent to an unknown address")
		}
		if err := f.svc.RequestPasswordReset(ctx, "new.worker@example.org", "b"); err != nil {
			t.Fatal(err)
		}
		reset := lastLink(t, db, "new.worker@example.org", "/password-reset/")
		f.clock.Advance(61 * time.Minute)
		if _, err := f.svc.CompleteLink(ctx, reset, "another long passphrase", false, "r"); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("expired reset link worked: %v", err)
		}
		_ = f.svc.RequestPasswordReset(ctx, "new.worker@example.org", "b")
		reset = lastLink(t, db, "new.worker@example.org", "/password-reset/")
		// A session in use (and so remembered) when the password is reset.
		res, _ := f.svc.SignIn(ctx, "new.worker@example.org", "a long enough passphrase", "a", "r")
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CompleteLink(ctx, reset, "another long passphrase", false, "r"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err == nil {
			t.Fatal("a session survived a password reset")
		}
		if _, err := f.svc.SignIn(ctx, "new.worker@example.org", "another long passphrase", "a", "r"); err != nil {
			t.Fatalf("new password refused: %v", err)
		}
	})
}

func TestDisableEndsSessionsAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u := f.mustUser(t, "carer@example.org", app.RoleCarer, "correct horse battery")
		res, _ := f.svc.SignIn(ctx, "carer@example.org", "correct horse battery", "a", "r")
		nt, err := f.svc.CreateAPIToken(ctx, app.Operator("test"), u.ID, "test", 0)
		tok := nt.Token
		if err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.AuthenticateBearer(ctx, tok, "r"); err != nil || p.UserID != u.ID {
			t.Fatalf("bearer: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err != nil { // remembered from here on
			t.Fatalf("session: %v", err)
		}
		if err := f.svc.SetDisabled(ctx, app.Operator("test"), u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err == nil {
			t.Fatal("session survived disabling")
		}
		if _, err := f.svc.AuthenticateBearer(ctx, tok, "r"); err == nil {
			t.Fatal("token survived disabling")
		}
		if _, err := f.svc.SignIn(ctx, "carer@example.org", "correct horse battery", "a", "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("disabled account signed in: %v", err)
		}
		if err := f.svc.SetDisabled(ctx, &app.Principal{UserID: u.ID}, u.ID, true); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("self-disable: %v", err)
		}
	})
}

func TestSignUpDoesNotRevealAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.mustUser(t, "taken@example.org", app.RolePerson, "correct horse battery")
		if err := f.svc.SignUp(ctx, "taken@example.org", "Someone", app.RolePerson, "", "x", "r"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SignUp(ctx, "fresh@example.org", "Fresh", app.RoleCarer, "", "x", "r"); err != nil {
			t.Fatal(err)
		}
		taken, _ := mail.List(ctx, db, "taken@example.org", 1)
		if len(taken) != 1 || !strings.Contains(taken[0].Subject, "already have") {
			t.Fatalf("existing account mail: %+v", taken)
		}
		lastLink(t, db, "fresh@example.org", "/invitation/")
		err := f.svc.SignUp(ctx, "not-an-email", "", app.RoleAdmin, "", "x", "r")
		ae := app.As(err)
		if ae.Code != app.CodeInvalid || len(ae.Fields) != 3 {
			t.Fatalf("bad sign-up: %+v", ae)
		}
	})
}

func TestMembershipValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		_, err := f.svc.CreateUser(context.Background(), app.Operator("test"), account.NewUser{Email: "x@example.org", Name: "X",
			Memberships: []app.Membership{{Role: app.RoleClinician}}})
		if !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("clinician without team accepted: %v", err)
		}
		if _, err := f.svc.FindUserByEmail(context.Background(), "x@example.org"); !app.IsCode(err, app.CodeNotFound) {
			t.Fatal("half-created account remains")
		}
	})
}

// TestSessionChecksAcrossInstances: two instances share one database. A
// session ended on one is refused by the other once that instance's
// recheck period has passed, and at once by the instance that ended it.
func TestSessionChecksAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newFixture(t, db)
		a.svc.RequireMFA = false
		b := &account.Service{DB: db, Clock: a.clock, Hasher: hasher, Counters: a.svc.Counters, BaseURL: a.svc.BaseURL,
			StaffIdle: a.svc.StaffIdle, StaffAbsolute: a.svc.StaffAbsolute, PublicIdle: a.svc.PublicIdle, PublicAbsolute: a.svc.PublicAbsolute,
			SessionRecheck: 200 * time.Millisecond}
		ctx := context.Background()
		u := a.mustUser(t, "worker@example.org", app.RolePeerWorker, "correct horse battery")
		res, err := a.svc.SignIn(ctx, "worker@example.org", "correct horse battery", "a", "r")
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range []*account.Service{a.svc, b} {
			p, err := svc.Authenticate(ctx, res.Token, "req-1")
			if err != nil || p.UserID != u.ID || p.RequestID != "req-1" {
				t.Fatalf("first check: %+v %v", p, err)
			}
			// A remembered check still carries this request's id.
			if p, err := svc.Authenticate(ctx, res.Token, "req-2"); err != nil || p.RequestID != "req-2" {
				t.Fatalf("second check: %+v %v", p, err)
			}
		}
		if err := a.svc.EndSessions(ctx, app.Operator("test"), u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Authenticate(ctx, res.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("the instance that ended the session still accepts it: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
		if _, err := b.Authenticate(ctx, res.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("another instance accepts an ended session after its recheck period: %v", err)
		}
		// Roles changed on one instance apply there at once.
		res, _ = a.svc.SignIn(ctx, "worker@example.org", "correct horse battery", "a", "r")
		if _, err := a.svc.Authenticate(ctx, res.Token, "r"); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.SetMemberships(ctx, app.Operator("test"), u.ID, []app.Membership{{Role: app.RoleAnalyst}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Authenticate(ctx, res.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("session survived a change of roles: %v", err)
		}
	})
}

// TestTokenChecksAcrossInstances: API token checks are reused like session
// checks. A token revoked on one instance is refused there at once and by
// another instance once its recheck period has passed; expiry is checked on
// every request, remembered or not; last use is written at most once a
// minute.
func TestTokenChecksAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newFixture(t, db)
		b := &account.Service{DB: db, Clock: a.clock, Hasher: hasher, Counters: a.svc.Counters, BaseURL: a.svc.BaseURL,
			StaffIdle: a.svc.StaffIdle, StaffAbsolute: a.svc.StaffAbsolute, PublicIdle: a.svc.PublicIdle, PublicAbsolute: a.svc.PublicAbsolute,
			SessionRecheck: 200 * time.Millisecond}
		ctx := context.Background()
		u := a.mustUser(t, "worker@example.org", app.RolePeerWorker, "correct horse battery")
		lastUsed := func(id int64) time.Time {
			t.Helper()
			var at time.Time
			if err := db.QueryRow(ctx, "SELECT last_used_at FROM api_tokens WHERE id = $1", id).Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at
		}
		tok, err := a.svc.CreateAPIToken(ctx, app.Operator("test"), u.ID, "sync", 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range []*account.Service{a.svc, b} {
			p, err := svc.AuthenticateBearer(ctx, tok.Token, "req-1")
			if err != nil || p.UserID != u.ID || p.RequestID != "req-1" || p.Via != "token" || !p.HasRole(app.RolePeerWorker) {
				t.Fatalf("first check: %+v %v", p, err)
			}
			if p, err := svc.AuthenticateBearer(ctx, tok.Token, "req-2"); err != nil || p.RequestID != "req-2" {
				t.Fatalf("second check: %+v %v", p, err)
			}
		}
		first := lastUsed(tok.ID)
		if !first.Equal(a.clock.Now()) {
			t.Fatalf("last used %v, want %v", first, a.clock.Now())
		}
		a.clock.Advance(50 * time.Second)
		if _, err := a.svc.AuthenticateBearer(ctx, tok.Token, "r"); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(tok.ID); !got.Equal(first) {
			t.Fatalf("last use written again within the minute: %v", got)
		}
		a.clock.Advance(20 * time.Second)
		if _, err := a.svc.AuthenticateBearer(ctx, tok.Token, "r"); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(tok.ID); !got.Equal(a.clock.Now()) {
			t.Fatalf("last use not written after a minute: %v", got)
		}

		// Revoked on a: refused by a at once, by b after its recheck period.
		// c, which may reuse a check for an hour, shows checks are reused:
		// it has not read the database again.
		c := &account.Service{DB: db, Clock: a.clock, Hasher: hasher, Counters: a.svc.Counters, SessionRecheck: time.Hour}
		for _, svc := range []*account.Service{b, c} {
			if _, err := svc.AuthenticateBearer(ctx, tok.Token, "r"); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.svc.RevokeAPIToken(ctx, &app.Principal{UserID: u.ID}, u.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.AuthenticateBearer(ctx, tok.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("the instance that revoked the token still accepts it: %v", err)
		}
		if _, err := c.AuthenticateBearer(ctx, tok.Token, "r"); err != nil {
			t.Fatalf("a token check was not reused: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
		if _, err := b.AuthenticateBearer(ctx, tok.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("another instance accepts a revoked token after its recheck period: %v", err)
		}

		// Expiry is checked on every request, even a remembered check.
		tok2, err := a.svc.CreateAPIToken(ctx, app.Operator("test"), u.ID, "short", 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.AuthenticateBearer(ctx, tok2.Token, "r"); err != nil { // remembered (for an hour) from here
			t.Fatal(err)
		}
		a.clock.Advance(24 * time.Hour)
		if _, err := a.svc.AuthenticateBearer(ctx, tok2.Token, "r"); !app.IsCode(err, app.CodeUnauthorized) {
			t.Fatalf("an expired token was accepted: %v", err)
		}

		// Roles changed on a apply to its remembered token checks at once.
		tok3, _ := a.svc.CreateAPIToken(ctx, app.Operator("test"), u.ID, "roles", 0)
		if _, err := a.svc.AuthenticateBearer(ctx, tok3.Token, "r"); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.SetMemberships(ctx, app.Operator("test"), u.ID, []app.Membership{{Role: app.RoleAnalyst}}); err != nil {
			t.Fatal(err)
		}
		if p, err := a.svc.AuthenticateBearer(ctx, tok3.Token, "r"); err != nil || p.HasRole(app.RolePeerWorker) || !p.HasRole(app.RoleAnalyst) {
			t.Fatalf("a remembered token check kept the old roles: %+v %v", p, err)
		}

		// Bad names and lifetimes are refused with a message for each.
		_, err = a.svc.CreateAPIToken(ctx, app.Operator("test"), u.ID, strings.Repeat("x", 101), 366)
		if ae := app.As(err); ae.Code != app.CodeInvalid || len(ae.Fields) != 2 {
			t.Fatalf("bad token request: %+v", ae)
		}
	})
}
