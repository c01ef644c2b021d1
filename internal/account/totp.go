package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
)

const (
	totpPeriod        = 30
	maxMFAFailures    = 6
	recoveryCodeCount = 10
)

// TOTPSetup is what a person needs to add Mutual to an authenticator app.
type TOTPSetup struct {
	Secret string // base32, for typing in
	URL    string // otpauth:// URL
	QRCode string // data: URL of a PNG QR code of URL
}

// BeginTOTP creates (or re-shows) an unconfirmed two-factor secret for the
// account. It fails with conflict if two-factor is already on.
func (s *Service) BeginTOTP(ctx context.Context, userID int64) (TOTPSetup, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return TOTPSetup{}, err
	}
	if u.TOTPEnabled {
		return TOTPSetup{}, app.Errorf(app.CodeConflict, "Two-factor sign-in is already set up")
	}
	secret := u.totpSecret
	if secret == "" {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Mutual", AccountName: u.Email, Period: totpPeriod})
		if err != nil {
			return TOTPSetup{}, err
		}
		// Stored only if there is none yet, and then read back: two set-up
		// pages opened at once show the same secret, the one that is kept.
		err = s.DB.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, "UPDATE users SET totp_secret = $1, updated_at = $2 WHERE id = $3 AND totp_enabled = FALSE AND totp_secret = ''",
				key.Secret(), s.Clock.Now(), userID); err != nil {
				return err
			}
			var enabled bool
			if err := tx.QueryRowContext(ctx, "SELECT totp_secret, totp_enabled FROM users WHERE id = $1", userID).Scan(&secret, &enabled); err != nil {
				return err
			}
			if enabled || secret == "" {
				return app.Errorf(app.CodeConflict, "Two-factor sign-in is already set up")
			}
			return nil
		})
		if err != nil {
			return TOTPSetup{}, err
		}
	}
	key, err := otp.NewKeyFromURL(fmt.Sprintf("otpauth://totp/Mutual:%s?secret=%s&issuer=Mutual&period=%d", u.Email, secret, totpPeriod))
	if err != nil {
		return TOTPSetup{}, err
	}
	img, err := key.Image(220, 220)
	if err != nil {
		return TOTPSetup{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Secret: secret, URL: key.URL(), QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// matchStep returns the time step whose code matches, allowing one step of
// clock drift either way, or 0.
func matchStep(secret, code string, now time.Time) int64 {
	code = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, code)
	if len(code) != 6 {
		return 0
	}
	step := now.Unix() / totpPeriod
	for _, d := range []int64{0, -1, 1} {
		t := time.Unix((step+d)*totpPeriod, 0)
		want, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step + d
		}
	}
	return 0
}

// ConfirmTOTP switches two-factor on once the person has typed a correct
// code from their app, marks the session as fully signed in under a new
// session id, and returns the new cookie value and one-time recovery codes.
func (s *Service) ConfirmTOTP(ctx context.Context, p *app.Principal, code string) (token string, codes []string, err error) {
	done, err := s.mfaAttempt(ctx, p.UserID)
	if err != nil {
		return "", nil, err
	}
	defer func() { done(err) }()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		var secret string
		var enabled bool
		// The account's row lock first, as every account change takes it.
		if err := tx.QueryRowContext(ctx, "SELECT totp_secret, totp_enabled FROM users WHERE id = $1"+tx.Dialect.ForUpdate(),
			p.UserID).Scan(&secret, &enabled); err != nil {
			return err
		}
		if enabled {
			return app.Errorf(app.CodeConflict, "Two-factor sign-in is already set up")
		}
		if secret == "" {
			return app.Errorf(app.CodeConflict, "Start two-factor set-up again")
		}
		step := matchStep(secret, code, s.Clock.Now())
		if step == 0 {
			return app.Invalid(app.FieldError{Field: "code", Message: "Enter the 6-digit code shown in your authenticator app"})
		}
		now := s.Clock.Now()
		// Switched on only from the state just read: of two confirmations
		// at once, one sets it up and gets recovery codes; the other is
		// told it is already set up.
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE users SET totp_enabled = TRUE, totp_last_step = $1, updated_at = $2
			WHERE id = $3 AND totp_enabled = FALSE AND totp_secret = $4`, step, now, p.UserID, secret))
		if err != nil {
			return err
		}
		if n != 1 {
			return app.Errorf(app.CodeConflict, "Two-factor sign-in is already set up")
		}
		if codes, err = s.newRecoveryCodes(ctx, tx, p.UserID); err != nil {
			return err
		}
		if token, err = s.rotateSession(ctx, tx, p); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermMFAPending), audit.Event{Action: "auth.mfa_setup", ObjectType: "user", ObjectID: fmt.Sprint(p.UserID)})
	})
	return token, codes, err
}

// mfaAttempt counts a two-factor attempt for the account before its code is
// checked, refusing it when the account is over its limit. done must be
// called with the outcome: only a wrong code (invalid) stays counted.
func (s *Service) mfaAttempt(ctx context.Context, userID int64) (done func(error), err error) {
	key := ratelimit.Key("mfa", fmt.Sprint(userID))
	n, err := s.Counters.Hit(ctx, key, throttleWindow)
	if err != nil {
		return nil, err
	}
	if n > maxMFAFailures {
		return nil, app.Errorf(app.CodeTooMany, "Too many incorrect codes. Wait 15 minutes and try again.")
	}
	return func(err error) {
		if !app.IsCode(err, app.CodeInvalid) {
			_ = s.Counters.Undo(context.WithoutCancel(ctx), key, throttleWindow)
		}
	}, nil
}

// VerifyMFA completes sign-in with a code from the authenticator app or an
// unused recovery code. A code that was already used (even if still within
// its 30 seconds) is refused, so an overheard code cannot be replayed, and
// however many requests bring one code at once, one of them signs in. On
// success the session gets a new id; the new cookie value is returned.
func (s *Service) VerifyMFA(ctx context.Context, p *app.Principal, code string) (token string, err error) {
	done, err := s.mfaAttempt(ctx, p.UserID)
	if err != nil {
		return "", err
	}
	defer func() { done(err) }()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		var secret string
		// The account's row lock first, as every account change takes it.
		if err := tx.QueryRowContext(ctx, "SELECT totp_secret FROM users WHERE id = $1 AND totp_enabled = TRUE"+tx.Dialect.ForUpdate(),
			p.UserID).Scan(&secret); err != nil {
			return app.Errorf(app.CodeConflict, "Two-factor sign-in is not set up for this account")
		}
		now := s.Clock.Now()
		method := "app"
		if step := matchStep(secret, code, now); step != 0 {
			// Spent by the update itself: only a step later than the last
			// one used is accepted, so of concurrent uses one succeeds.
			n, err := rowsAffected(tx.ExecContext(ctx, "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_enabled = TRUE AND totp_last_step < $1",
				step, p.UserID))
			if err != nil {
				return err
			}
			if n != 1 {
				return app.Invalid(app.FieldError{Field: "code", Message: "This code has already been used. Wait for your app to show a new code."})
			}
		} else {
			used, err := s.useRecoveryCode(ctx, tx, p.UserID, code, now)
			if err != nil {
				return err
			}
			if !used {
				return app.Invalid(app.FieldError{Field: "code", Message: "Enter the 6-digit code from your authenticator app, or a recovery code"})
			}
			method = "recovery_code"
		}
		var err error
		if token, err = s.rotateSession(ctx, tx, p); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermMFAPending), audit.Event{Action: "auth.mfa_" + method, ObjectType: "user", ObjectID: fmt.Sprint(p.UserID)})
	})
	return token, err
}

// rotateSession replaces the caller's half-signed-in session with a fully
// signed-in one under a new id.
func (s *Service) rotateSession(ctx context.Context, tx *store.Tx, p *app.Principal) (string, error) {
	tx.AfterCommit(s.ForgetSessions)
	// The half-signed-in session is used up here, once: a second request
	// finishing the same session (with another code) finds it gone.
	n, err := rowsAffected(tx.ExecContext(ctx, "DELETE FROM sessions WHERE id = $1 AND user_id = $2 AND mfa_ok = FALSE", p.SessionID, p.UserID))
	if err != nil {
		return "", err
	}
	if n != 1 {
		return "", app.Errorf(app.CodeUnauthorized, "This sign-in has already finished or has ended. Sign in again.")
	}
	u, err := lockUser(ctx, tx, p.UserID)
	if err != nil {
		return "", err
	}
	if u.Status != StatusActive {
		return "", app.Errorf(app.CodeUnauthorized, "Your session has ended. Sign in again to continue.")
	}
	return s.newSession(ctx, tx, u, true)
}

var recoveryEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

func (s *Service) newRecoveryCodes(ctx context.Context, tx *store.Tx, userID int64) ([]string, error) {
	if _, err := tx.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = $1", userID); err != nil {
		return nil, err
	}
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, 7)
		_, _ = rand.Read(b)
		c := recoveryEncoding.EncodeToString(b)[:10]
		codes[i] = c[:5] + "-" + c[5:]
		if _, err := tx.ExecContext(ctx, "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)", userID, hashToken(c)); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

func (s *Service) useRecoveryCode(ctx context.Context, tx *store.Tx, userID int64, code string, now time.Time) (bool, error) {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(c) != 10 {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
		now, userID, hashToken(c))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ResetTOTP switches two-factor off for an account (an administrator's
// action when someone loses their phone); they set it up again at their
// next sign-in. Their sessions end.
func (s *Service) ResetTOTP(ctx context.Context, p *app.Principal, userID int64) error {
	actor := p.ActorFor(app.PermAdminUsers)
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		for _, q := range []string{
			"UPDATE users SET totp_enabled = FALSE, totp_secret = '', totp_last_step = 0 WHERE id = $1",
			"DELETE FROM recovery_codes WHERE user_id = $1",
		} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return err
			}
		}
		if err := s.endSessions(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), actor, audit.Event{Action: "account.mfa_reset", ObjectType: "user", ObjectID: fmt.Sprint(userID)})
	})
}

// CurrentTOTPCode returns the code an authenticator would show now: for
// tests and the demo's printed instructions only.
func CurrentTOTPCode(secret string, now time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, now, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return c
}
