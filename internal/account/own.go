package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
)

// SwitchContext changes which of its roles the caller's session uses, for
// an account that is both staff and someone who uses services: to
// app.ActingWork (staff roles only) or app.ActingOwn (their own support:
// person and carer roles only). Like any change of privilege it replaces
// the session: the old one ends and the new session's cookie value is
// returned; it keeps the old one's two-factor state and end. It fails with
// forbidden for an API token (a token keeps the role it was made in),
// invalid for an unknown context and conflict for an account with one kind
// of role.
func (s *Service) SwitchContext(ctx context.Context, p *app.Principal, to string) (string, error) {
	if p == nil || p.Via != "session" || p.SessionID == "" {
		return "", app.Errorf(app.CodeForbidden, "An API token keeps the role it was made in. Sign in, switch, and make a token then for the other role.")
	}
	if to != app.ActingWork && to != app.ActingOwn {
		return "", app.Invalid(app.FieldError{Field: "acting_as", Message: "Choose work or own support"})
	}
	var token string
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		u, err := lockUser(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		ms, dual := app.ActingMemberships(u.Memberships, to)
		if !dual {
			return app.Errorf(app.CodeConflict, "Your account has one kind of role, so there is nothing to switch")
		}
		var mfaOK bool
		var expires time.Time
		err = tx.QueryRowContext(ctx, "SELECT mfa_ok, expires_at FROM sessions WHERE id = $1 AND user_id = $2", p.SessionID, p.UserID).Scan(&mfaOK, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return app.Errorf(app.CodeUnauthorized, "Your session has ended. Sign in again to continue.")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE id = $1", p.SessionID); err != nil {
			return err
		}
		now := s.Clock.Now()
		if token, err = s.insertSession(ctx, tx, u, mfaOK, to, now); err != nil {
			return err
		}
		// The new session ends when the old one would have.
		if _, err := tx.ExecContext(ctx, "UPDATE sessions SET expires_at = $1 WHERE id = $2", expires, hashToken(token)); err != nil {
			return err
		}
		tx.AfterCommit(s.ForgetSessions)
		return audit.Record(ctx, tx, now, app.Actor{UserID: u.ID, Role: ms[0].Role, TeamID: ms[0].TeamID, RequestID: p.RequestID},
			audit.Event{Action: "account.switch_context." + to, ObjectType: "user", ObjectID: fmt.Sprint(u.ID)})
	})
	return token, err
}

// Attempts to use a claim code, per hour: a wrong code costs one; so does
// a right one (it is used up anyway).
const (
	claimsPerAccount = 10
	claimsPerAddress = 30
)

// ClaimRecord joins the caller's account to the person record a one-time
// claim (a code from staff, a code sent to the contact details on the
// record, or a link's secret) was made for. It is never done without the
// claim: signing up with an email address a record also holds links
// nothing. The account is given the person role if it had none (a peer
// worker who also uses services). An account that already has a record of
// its own may swap it for the claimed one only while its own holds nothing
// (no requests, answers or changes): the empty one is marked as joined to
// the claimed one. Attempts are limited per account and per address.
//
// It fails with invalid for a wrong, used or expired code, conflict when
// the record already has an account or the account's own record holds
// something, and too many requests after repeated attempts.
func (s *Service) ClaimRecord(ctx context.Context, p *app.Principal, code, addr string) (int64, error) {
	if !person.LooksLikeCode(code) && len(code) < 40 {
		return 0, app.Invalid(app.FieldError{Field: "code", Message: "Enter the code as it is written, like ABCD-EFGH-JKMN"})
	}
	n, err := s.Counters.HitAll(ctx, time.Hour, ratelimit.Key("claim-account", fmt.Sprint(p.UserID)), ratelimit.Key("claim-address", addr))
	if err != nil {
		return 0, err
	}
	if n[0] > claimsPerAccount || n[1] > claimsPerAddress {
		return 0, app.Errorf(app.CodeTooMany, "You have tried too many codes. Wait an hour and try again, or ask the peer support team for a new code.")
	}
	var personID int64
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		// The account's lock first, as for every change to an account.
		u, err := lockUser(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		if personID, err = person.Redeem(ctx, tx, code, u.ID, now); err != nil {
			switch {
			case errors.Is(err, person.ErrClaimInvalid):
				return app.Invalid(app.FieldError{Field: "code", Message: "This code is not right, has expired or has already been used. " +
					"Check it and try again, or ask the peer support team for a new one."})
			case errors.Is(err, person.ErrClaimTaken):
				return app.Errorf(app.CodeConflict, "This record is already joined to an account. If that is not yours, tell the peer support team.")
			}
			return err
		}
		if u.PersonID == personID {
			return app.Errorf(app.CodeConflict, "Your account is already joined to this record")
		}
		if u.PersonID != 0 {
			holds, err := person.Holds(ctx, tx, u.PersonID)
			if err != nil {
				return err
			}
			if holds {
				return app.Errorf(app.CodeConflict, "Your account already has its own record with requests for peer support. "+
					"Ask the peer support team to join your two records; your code has not been used.")
			}
			if err := person.MarkMerged(ctx, tx, u.PersonID, personID, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET person_id = $1, updated_at = $2 WHERE id = $3", personID, now, u.ID); err != nil {
			return err
		}
		hasPerson := false
		for _, m := range u.Memberships {
			hasPerson = hasPerson || m.Role == app.RolePerson
		}
		if !hasPerson {
			if _, err := tx.ExecContext(ctx, "INSERT INTO memberships (user_id, role, team_id, created_at) VALUES ($1, $2, NULL, $3)",
				u.ID, app.RolePerson, now); err != nil {
				return err
			}
		}
		tx.AfterCommit(s.ForgetSessions)
		return audit.Record(ctx, tx, now, app.Actor{UserID: u.ID, Role: app.RolePerson, RequestID: p.RequestID}, audit.Event{
			Action: "person.claim", SubjectPersonID: personID, ObjectType: "user", ObjectID: fmt.Sprint(u.ID)})
	})
	if err != nil {
		return 0, err
	}
	return personID, nil
}

// ---- person.Holder: an account joined to a person's record.

// HolderName names this part of a person's copy.
func (s *Service) HolderName() string { return "Your account" }

// Tables are the tables that hold a person's account.
func (s *Service) Tables() []string { return []string{"users"} }

// ExportedAccount is the account part of a person's copy.
type ExportedAccount struct {
	Email         string                `json:"email"`
	Name          string                `json:"name"`
	Status        Status                `json:"status"`
	Roles         []string              `json:"roles"`
	Created       time.Time             `json:"created"`
	TwoFactor     bool                  `json:"two_factor_sign_in"`
	Notifications []notify.Notification `json:"updates_shown_to_you"`
}

// Export returns the account joined to the person, if any, with its
// notifications, inside tx.
func (s *Service) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE person_id = $1", personID))
	if app.IsCode(err, app.CodeNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Memberships, err = loadMemberships(ctx, tx, u.ID); err != nil {
		return nil, err
	}
	out := ExportedAccount{Email: u.Email, Name: u.Name, Status: u.Status, Created: u.CreatedAt, TwoFactor: u.TOTPEnabled, Roles: []string{}}
	for _, m := range u.Memberships {
		r := m.Role.Label()
		if m.TeamName != "" {
			r += ", " + m.TeamName
		}
		out.Roles = append(out.Roles, r)
	}
	if out.Notifications, err = notify.OfUser(ctx, tx, u.ID); err != nil {
		return nil, err
	}
	return out, nil
}

// LastActivity is the account's last change, sign-in or use of a token.
func (s *Service) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	var userID int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE person_id = $1", personID).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return person.Latest(ctx, tx, userID,
		"SELECT updated_at FROM users WHERE id = $1",
		"SELECT last_seen_at FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC LIMIT 1",
		"SELECT last_used_at FROM api_tokens WHERE user_id = $1 AND last_used_at IS NOT NULL ORDER BY last_used_at DESC LIMIT 1")
}

// LockBeforePerson locks the account joined to the person (or to a record
// joined to theirs) for the retention job, before it locks the person's
// row: a sign-in locks the account's row too (StartSession), so one made
// at that moment is either committed before retention reads the account's
// last activity, or waits and finds the account closed. The account first,
// then the person, is the order a claim takes them in (ClaimRecord).
func (s *Service) LockBeforePerson(ctx context.Context, tx *store.Tx, personID int64) error {
	if tx.Dialect != store.Postgres {
		return nil // SQLite has one writer: nothing runs between a read and its write
	}
	_, err := tx.IDs(ctx, `SELECT id FROM users WHERE person_id IN (SELECT id FROM people WHERE id = $1 OR merged_into_id = $1) ORDER BY id FOR UPDATE`, personID)
	return err
}

// Forget separates a forgotten person from their account, inside tx. An
// account that is also staff keeps its work roles and loses only its
// person and carer roles and the link; any other account is closed: its
// sign-in details, sessions, tokens, links and notifications are deleted
// and its name and address replaced, so nothing of the person is left (the
// row stays, because the audit trail names accounts by id).
func (s *Service) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	var userID int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE person_id = $1"+tx.Dialect.ForUpdate(), personID).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	ms, err := loadMemberships(ctx, tx, userID)
	if err != nil {
		return err
	}
	staff := false
	for _, m := range ms {
		staff = staff || m.Role.Staff()
	}
	now := s.Clock.Now()
	tx.AfterCommit(s.ForgetSessions)
	if staff {
		if _, err := tx.ExecContext(ctx, "DELETE FROM memberships WHERE user_id = $1 AND role IN ($2, $3)", userID, app.RolePerson, app.RoleCarer); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE users SET person_id = NULL, updated_at = $1 WHERE id = $2", now, userID)
		return err
	}
	for _, q := range []string{
		"DELETE FROM sessions WHERE user_id = $1",
		"DELETE FROM api_tokens WHERE user_id = $1",
		"DELETE FROM recovery_codes WHERE user_id = $1",
		"DELETE FROM user_tokens WHERE user_id = $1",
	} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return err
		}
	}
	if err := s.Notify.ForgetUser(ctx, tx, userID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET person_id = NULL, email = $1, name = 'Account closed', password_hash = '', totp_secret = '',
		totp_enabled = FALSE, status = 'disabled', updated_at = $2 WHERE id = $3`, fmt.Sprintf("closed-%d@account-closed.invalid", userID), now, userID)
	return err
}
