package account_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func countRows(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// One recovery code brought by two sign-ins at the same moment signs in
// one of them; the other is told the code is not valid.
func TestRecoveryCodeOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.mustUser(t, "lead@example.org", app.RolePeerLead, "correct horse battery")
		res, err := f.svc.SignIn(ctx, "lead@example.org", "correct horse battery", "a", "r")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := f.svc.Authenticate(ctx, res.Token, "r")
		setup, err := f.svc.BeginTOTP(ctx, p.UserID)
		if err != nil {
			t.Fatal(err)
		}
		_, codes, err := f.svc.ConfirmTOTP(ctx, p, account.CurrentTOTPCode(setup.Secret, f.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			f.clock.Advance(16 * time.Minute) // past the failed-code throttle
			pending := make([]*app.Principal, 3)
			for i := range pending {
				res, err := f.svc.SignIn(ctx, "lead@example.org", "correct horse battery", "a", "r")
				if err != nil || !res.NeedsMFA {
					t.Fatalf("sign-in: %+v %v", res, err)
				}
				if pending[i], err = f.svc.Authenticate(ctx, res.Token, "r"); err != nil {
					t.Fatal(err)
				}
			}
			errs := testkit.Race(len(pending), func(i int) error {
				_, err := f.svc.VerifyMFA(ctx, pending[i], codes[round])
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeInvalid); won != 1 {
				t.Fatalf("round %d: one recovery code signed in %d times", round, won)
			}
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL", p.UserID); n != 5 {
			t.Fatalf("%d recovery codes used, want 5", n)
		}
	})
}

// The owner and an administrator revoking one token at once: it is revoked
// once (one audit line), both are answered without error, and someone
// else's attempt finds nothing.
func TestRevokeTokenOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u := f.mustUser(t, "pat@example.org", app.RolePerson, "correct horse battery")
		other := f.mustUser(t, "sam@example.org", app.RolePerson, "correct horse battery")
		res, err := f.svc.SignIn(ctx, "pat@example.org", "correct horse battery", "a", "r")
		if err != nil {
			t.Fatal(err)
		}
		owner, err := f.svc.Authenticate(ctx, res.Token, "r")
		if err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			tok, err := f.svc.CreateAPIToken(ctx, app.Operator("test"), u.ID, fmt.Sprintf("t%d", round), 0)
			if err != nil {
				t.Fatal(err)
			}
			errs := testkit.Race(4, func(i int) error {
				switch i {
				case 0, 1:
					return f.svc.RevokeAPIToken(ctx, owner, u.ID, tok.ID)
				case 2:
					return f.svc.RevokeAPIToken(ctx, app.Operator("admin"), u.ID, tok.ID)
				default:
					return f.svc.RevokeAPIToken(ctx, owner, other.ID, tok.ID)
				}
			})
			for i, err := range errs[:3] {
				if err != nil {
					t.Fatalf("round %d: revoker %d: %v", round, i, err)
				}
			}
			if !app.IsCode(errs[3], app.CodeNotFound) {
				t.Fatalf("round %d: revoking as another account: %v", round, errs[3])
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'account.token_revoke' AND object_id = $1", fmt.Sprint(tok.ID)); n != 1 {
				t.Fatalf("round %d: revoked %d times", round, n)
			}
			if _, err := f.svc.AuthenticateBearer(ctx, tok.Token, "r"); err == nil {
				t.Fatalf("round %d: a revoked token still works", round)
			}
		}
	})
}

// Two requests at once needing an account's own record: the account gets
// one; a loser is told to try again and leaves no record behind.
func TestOwnPersonOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for round := range 5 {
			u := f.mustUser(t, fmt.Sprintf("carer%d@example.org", round), app.RoleCarer, "correct horse battery")
			before := countRows(t, db, "SELECT COUNT(*) FROM people")
			ids := make([]int64, 4)
			errs := testkit.Race(len(ids), func(i int) error {
				p := &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Memberships: u.Memberships, Via: "test", RequestID: "r"}
				return db.Write(ctx, func(tx *store.Tx) error {
					var err error
					ids[i], err = f.svc.OwnPerson(ctx, tx, p, f.clock.Now())
					return err
				})
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won == 0 {
				t.Fatalf("round %d: nobody got a record", round)
			}
			var own int64
			if err := db.QueryRow(ctx, "SELECT person_id FROM users WHERE id = $1", u.ID).Scan(&own); err != nil {
				t.Fatal(err)
			}
			for i, id := range ids {
				if errs[i] == nil && id != own {
					t.Fatalf("round %d: racer %d was given record %d, the account has %d", round, i, id, own)
				}
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM people"); n != before+1 {
				t.Fatalf("round %d: %d records made, want 1", round, n-before)
			}
		}
	})
}

// An account disabled while it signs in and makes API tokens: afterwards it
// has no session and no live token, whichever came first.
func TestDisableUnderConcurrentSignInsAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for round := range 5 {
			email := fmt.Sprintf("pat%d@example.org", round)
			u := f.mustUser(t, email, app.RolePerson, "correct horse battery")
			errs := testkit.Race(5, func(i int) error {
				switch i {
				case 0:
					return f.svc.SetDisabled(ctx, app.Operator("admin"), u.ID, true)
				case 1, 2:
					_, err := f.svc.CreateAPIToken(ctx, app.Operator("admin"), u.ID, fmt.Sprintf("t%d", i), 0)
					return err
				default:
					_, err := f.svc.SignIn(ctx, email, "correct horse battery", fmt.Sprintf("192.0.2.%d", i), "r")
					return err
				}
			})
			if errs[0] != nil {
				t.Fatalf("round %d: disabling: %v", round, errs[0])
			}
			testkit.Winners(t, errs, app.CodeConflict, app.CodeUnauthorized, app.CodeInvalid)
			if n := countRows(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", u.ID); n != 0 {
				t.Fatalf("round %d: a disabled account has %d sessions", round, n)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL", u.ID); n != 0 {
				t.Fatalf("round %d: a disabled account has %d live tokens", round, n)
			}
		}
	})
}

// Organisations and teams of one name made at the same moment: one is
// made; the others are given the field message.
func TestUniqueNamesUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for round := range 5 {
			name := fmt.Sprintf("Charity %d", round)
			errs := testkit.Race(3, func(int) error {
				_, err := f.svc.CreateOrganisation(ctx, app.Operator("admin"), name, account.OrgPartnerAgency)
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeInvalid); won != 1 {
				t.Fatalf("round %d: %d organisations named %q", round, won, name)
			}
			team := fmt.Sprintf("Outreach %d", round)
			errs = testkit.Race(3, func(int) error {
				_, err := f.svc.CreateTeam(ctx, app.Operator("admin"), f.team.OrganisationID, team, account.SettingCommunity)
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeInvalid); won != 1 {
				t.Fatalf("round %d: %d teams named %q", round, won, team)
			}
			for _, err := range errs {
				if err != nil && app.As(err).Fields[0].Field != "name" {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM organisations"); n != 6 {
			t.Fatalf("%d organisations, want 6", n)
		}
	})
}

// Resets and invitations asked for at the same moment as the invitation is
// accepted: never more than one live link of a kind, and no live
// invitation to an account that has been set up.
func TestOneLiveLinkUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		live := func(userID int64, purpose string) int {
			return countRows(t, db, "SELECT COUNT(*) FROM user_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL", userID, purpose)
		}
		for round := range 5 {
			email := fmt.Sprintf("invited%d@example.org", round)
			u := f.mustUser(t, email, app.RolePeerWorker, "")
			token := lastLink(t, db, email, "/invitation/")
			errs := testkit.Race(5, func(i int) error {
				switch i {
				case 0:
					_, err := f.svc.CompleteLink(ctx, token, "a long enough passphrase", true, "r")
					return err
				case 1, 2:
					return f.svc.ResendInvitation(ctx, app.Operator("admin"), u.ID)
				default:
					return f.svc.RequestPasswordReset(ctx, email, fmt.Sprintf("192.0.2.%d", i))
				}
			})
			// A resend after the account was set up is told so; the link
			// accepted may have been replaced by a resend just before.
			testkit.Winners(t, errs, app.CodeConflict, app.CodeNotFound)
			active := countRows(t, db, "SELECT COUNT(*) FROM users WHERE id = $1 AND status = 'active'", u.ID) == 1
			if active != (errs[0] == nil) {
				t.Fatalf("round %d: accepting answered %v, the account is active: %v", round, errs[0], active)
			}
			if n := live(u.ID, "invitation"); active && n != 0 || !active && n != 1 {
				t.Fatalf("round %d: %d live invitations (the account set up: %v)", round, n, active)
			}
			if n := live(u.ID, "password_reset"); n > 1 {
				t.Fatalf("round %d: %d live reset links", round, n)
			}
			// Resets alone: one live link (an invitation while the account
			// is still invited).
			f.clock.Advance(time.Hour) // a fresh hour for the reset limit
			errs = testkit.Race(5, func(i int) error {
				return f.svc.RequestPasswordReset(ctx, email, fmt.Sprintf("198.51.100.%d", i))
			})
			if won := testkit.Winners(t, errs); won != 5 {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := live(u.ID, "password_reset") + live(u.ID, "invitation"); n != 1 {
				t.Fatalf("round %d: %d live links, want 1", round, n)
			}
			// Invitations alone, for an account still invited: one live link.
			other := f.mustUser(t, fmt.Sprintf("waiting%d@example.org", round), app.RolePeerWorker, "")
			errs = testkit.Race(4, func(int) error { return f.svc.ResendInvitation(ctx, app.Operator("admin"), other.ID) })
			if won := testkit.Winners(t, errs); won != 4 {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := live(other.ID, "invitation"); n != 1 {
				t.Fatalf("round %d: %d live invitations, want 1", round, n)
			}
		}
	})
}

// An account given a staff role, or having its two-factor reset, while it
// signs in: every session it has afterwards was started with the roles and
// two-factor need it has now (a staff session, waiting for two-factor),
// whichever came first.
func TestSessionsStartWithTheRolesAsTheyAreNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		staffIdle := int(f.svc.StaffIdle.Seconds())
		for round := range 5 {
			email := fmt.Sprintf("promoted%d@example.org", round)
			u := f.mustUser(t, email, app.RolePerson, "correct horse battery")
			errs := testkit.Race(6, func(i int) error {
				switch i {
				case 0:
					return f.svc.SetMemberships(ctx, app.Operator("admin"), u.ID, []app.Membership{{Role: app.RolePeerWorker, TeamID: f.team.ID}})
				case 1:
					return f.svc.ResetTOTP(ctx, app.Operator("admin"), u.ID)
				case 2, 3:
					_, err := f.svc.StartSession(ctx, u.ID)
					return err
				default:
					_, err := f.svc.SignIn(ctx, email, "correct horse battery", fmt.Sprintf("192.0.2.%d", i), "r")
					return err
				}
			})
			if won := testkit.Winners(t, errs); won != len(errs) {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND (mfa_ok OR idle_seconds <> $2)", u.ID, staffIdle); n != 0 {
				t.Fatalf("round %d: %d sessions started as someone who uses services survive the staff role", round, n)
			}
		}
	})
}

// Several switches of one session at once: one replaces it; the others
// find it ended. The account is left with one session, acting in one role.
func TestSwitchContextOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u, err := f.svc.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "dual@example.org", Name: "Dee Dual",
			Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: f.team.ID}, {Role: app.RolePerson}}, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.RequireMFA = false
		for round := range 5 {
			res, err := f.svc.SignIn(ctx, "dual@example.org", "correct horse battery", "192.0.2.1", "r")
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.svc.Authenticate(ctx, res.Token, "r")
			if err != nil {
				t.Fatal(err)
			}
			tokens := make([]string, 4)
			errs := testkit.Race(len(tokens), func(i int) error {
				var err error
				tokens[i], err = f.svc.SwitchContext(ctx, p, []string{app.ActingOwn, app.ActingWork}[i%2])
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeUnauthorized); won != 1 {
				t.Fatalf("round %d: one session was switched %d times", round, won)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", u.ID); n != 1 {
				t.Fatalf("round %d: %d sessions after switching one", round, n)
			}
			for i, tok := range tokens {
				if errs[i] == nil {
					if _, err := f.svc.Authenticate(ctx, tok, "r"); err != nil {
						t.Fatalf("round %d: the switched session: %v", round, err)
					}
				}
			}
			if _, err := f.svc.Authenticate(ctx, res.Token, "r"); err == nil {
				t.Fatalf("round %d: the session from before the switch still works", round)
			}
			if _, err := db.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", u.ID); err != nil {
				t.Fatal(err)
			}
			f.svc.ForgetSessions()
		}
	})
}
