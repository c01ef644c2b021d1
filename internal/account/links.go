package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
)

type linkPurpose string

const (
	purposeInvitation    linkPurpose = "invitation"
	purposePasswordReset linkPurpose = "password_reset"
)

var linkLifetime = map[linkPurpose]time.Duration{
	purposeInvitation:    7 * 24 * time.Hour,
	purposePasswordReset: time.Hour,
}

// sendLink creates a one-time link for the account and queues the email
// that carries it, inside tx. Older unused links of the same purpose stop
// working.
func (s *Service) sendLink(ctx context.Context, tx *store.Tx, userID int64, email, name string, purpose linkPurpose) error {
	now := s.Clock.Now()
	if _, err := tx.ExecContext(ctx, "UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
		now, userID, purpose); err != nil {
		return err
	}
	token := NewToken()
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (user_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, userID, purpose, hashToken(token), now, now.Add(linkLifetime[purpose])); err != nil {
		return err
	}
	var m mail.Message
	switch purpose {
	case purposeInvitation:
		m = mail.Message{To: email, Subject: "Finish setting up your Mutual account", Body: fmt.Sprintf(
			"Hello %s,\n\nAn account has been set up for you on Mutual, the place for peer support.\n\n"+
				"To choose your password and start using it, open this link within 7 days:\n\n%s/invitation/%s\n\n"+
				"If you were not expecting this email, you can ignore it.\n", name, s.BaseURL, token)}
	case purposePasswordReset:
		m = mail.Message{To: email, Subject: "Reset your Mutual password", Body: fmt.Sprintf(
			"Hello %s,\n\nSomeone asked to reset the password for your Mutual account.\n\n"+
				"To choose a new password, open this link within 1 hour:\n\n%s/password-reset/%s\n\n"+
				"If this was not you, you can ignore this email: your password has not changed.\n", name, s.BaseURL, token)}
	}
	return mail.Enqueue(ctx, tx, now, m)
}

// LinkAccount is what a valid one-time link shows about its account.
type LinkAccount struct {
	UserID int64
	Email  string
	Name   string
	Staff  bool
}

// CheckLink reports the account a one-time link belongs to. It fails with
// not found for an unknown, used or expired link.
func (s *Service) CheckLink(ctx context.Context, token string, invitation bool) (LinkAccount, error) {
	purpose := purposePasswordReset
	if invitation {
		purpose = purposeInvitation
	}
	var la LinkAccount
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT u.id, u.email, u.name FROM user_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > $3 AND u.status <> 'disabled'`,
			hashToken(token), purpose, s.Clock.Now()).Scan(&la.UserID, &la.Email, &la.Name)
	})
	if err != nil {
		return la, app.Errorf(app.CodeNotFound, "This link has expired or has already been used")
	}
	u, err := s.GetUser(ctx, la.UserID)
	if err != nil {
		return la, err
	}
	la.Staff = u.Staff()
	return la, nil
}

// CompleteLink sets the account's password from a one-time link (an
// invitation or a reset), uses the link up, activates an invited account
// and ends every existing session. It fails with not found for a bad link
// or invalid for an unacceptable password.
func (s *Service) CompleteLink(ctx context.Context, token, password string, invitation bool, requestID string) (int64, error) {
	la, err := s.CheckLink(ctx, token, invitation)
	if err != nil {
		return 0, err
	}
	if m := CheckPassword(password, la.Email); m != "" {
		return 0, app.Invalid(app.FieldError{Field: "password", Message: m})
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return 0, err
	}
	purpose := purposePasswordReset
	if invitation {
		purpose = purposeInvitation
	}
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		// The account's lock first: a link is not used while its account is
		// being disabled (which voids its links).
		u, err := lockUser(ctx, tx, la.UserID)
		if err != nil {
			return err
		}
		if u.Status == StatusDisabled {
			return app.Errorf(app.CodeNotFound, "This link has expired or has already been used")
		}
		// Used up by the update itself: of two uses at once, one succeeds.
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE user_tokens SET used_at = $1
			WHERE token_hash = $2 AND purpose = $3 AND user_id = $4 AND used_at IS NULL AND expires_at > $1`,
			now, hashToken(token), purpose, la.UserID))
		if err != nil {
			return err
		}
		if n != 1 {
			return app.Errorf(app.CodeNotFound, "This link has expired or has already been used")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2,
			status = CASE WHEN status = 'invited' THEN 'active' ELSE status END WHERE id = $3`, hash, now, la.UserID); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, la.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, app.Actor{UserID: la.UserID, RequestID: requestID},
			audit.Event{Action: "account.password_set", ObjectType: "user", ObjectID: fmt.Sprint(la.UserID)})
	})
	if app.IsCode(err, app.CodeNotFound) {
		return 0, err
	}
	return la.UserID, err
}

// RequestPasswordReset emails a reset link if the address belongs to an
// active or invited account. The answer is the same whether or not it
// does. Requests are limited per address and per network address.
func (s *Service) RequestPasswordReset(ctx context.Context, email, addr string) error {
	e, msg := NormaliseEmail(email)
	if msg != "" {
		return app.Invalid(app.FieldError{Field: "email", Message: msg})
	}
	if err := s.limit(ctx, "reset", e, addr, 5, 30); err != nil {
		return err
	}
	found, err := s.FindUserByEmail(ctx, e)
	if app.IsCode(err, app.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		// The status as it is now, under the account's lock, decides the
		// link; older links are voided in the same turn, so one stays live.
		u, err := lockUser(ctx, tx, found.ID)
		if err != nil || u.Status == StatusDisabled {
			return err
		}
		purpose := purposePasswordReset
		if u.Status == StatusInvited {
			purpose = purposeInvitation
		}
		return s.sendLink(ctx, tx, u.ID, u.Email, u.Name, purpose)
	})
}

// limit counts one request per email and per network address per hour and
// refuses beyond the given numbers. Counting and reading are one statement
// per key, so requests arriving at once cannot all pass.
func (s *Service) limit(ctx context.Context, kind, email, addr string, perEmail, perAddr int) error {
	n, err := s.Counters.HitAll(ctx, time.Hour, ratelimit.Key(kind+"-email", email), ratelimit.Key(kind+"-address", addr))
	if err != nil {
		return err
	}
	if n[0] > perEmail || n[1] > perAddr {
		return app.Errorf(app.CodeTooMany, "You have asked too many times. Wait an hour and try again.")
	}
	return nil
}

// SignUp lets someone who uses services, or a carer, make their own
// account. It always answers the same way: a new address gets a link to
// choose a password; an address that already has an account gets an email
// saying so, with a way to reset the password.
//
// claim, when it is a valid claim from a request for peer support made
// without an account, joins the new account to that request.
func (s *Service) SignUp(ctx context.Context, email, name string, role app.Role, claim, addr, requestID string) error {
	var p app.Problems
	e, msg := NormaliseEmail(email)
	if msg != "" {
		p.Add("email", msg)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		p.Add("name", "Enter your name, or what you would like to be called")
	} else if len(name) > 200 {
		p.Add("name", "Name must be 200 characters or fewer")
	}
	if role != app.RolePerson && role != app.RoleCarer {
		p.Add("role", "Choose whether you want support for yourself or as a carer")
	}
	if err := p.Err(); err != nil {
		return err
	}
	if err := s.limit(ctx, "signup", e, addr, 3, 20); err != nil {
		return err
	}
	existing, err := s.FindUserByEmail(ctx, e)
	if err == nil {
		return s.tellExisting(ctx, existing)
	}
	if !app.IsCode(err, app.CodeNotFound) {
		return err
	}
	_, err = s.CreateUser(ctx, app.Public(requestID), NewUser{Email: e, Name: name, Memberships: []app.Membership{{Role: role}}, Claim: claim})
	if app.IsCode(err, app.CodeInvalid) && store.IsUniqueViolation(err) {
		// Someone made this account at the same moment (UNIQUE users.email
		// kept it to one): answer as for an account that already exists.
		if existing, err = s.FindUserByEmail(ctx, e); err != nil {
			return err
		}
		return s.tellExisting(ctx, existing)
	}
	return err
}

// tellExisting emails an account holder that someone tried to sign up with
// their address.
func (s *Service) tellExisting(ctx context.Context, u *User) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		return mail.Enqueue(ctx, tx, s.Clock.Now(), mail.Message{To: u.Email, Subject: "You already have a Mutual account", Body: fmt.Sprintf(
			"Hello %s,\n\nSomeone tried to create a Mutual account with this email address, but you already have one.\n\n"+
				"Sign in at %s/sign-in — or, if you have forgotten your password, reset it at %s/password-reset\n\n"+
				"If this was not you, you can ignore this email.\n", u.Name, s.BaseURL, s.BaseURL)})
	})
}

// ResendInvitation sends a fresh invitation link to an invited account.
func (s *Service) ResendInvitation(ctx context.Context, p *app.Principal, userID int64) error {
	actor := p.ActorFor(app.PermAdminUsers)
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		// Under the account's lock: never an invitation to an account that
		// has just been set up.
		u, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Status != StatusInvited {
			return app.Errorf(app.CodeConflict, "This account has already been set up")
		}
		if err := s.sendLink(ctx, tx, u.ID, u.Email, u.Name, purposeInvitation); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), actor, audit.Event{Action: "account.invite_resend", ObjectType: "user", ObjectID: fmt.Sprint(userID)})
	})
}
