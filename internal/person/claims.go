package person

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
)

// ClaimLifetime is how long a self-referral's claim link works.
const ClaimLifetime = 30 * 24 * time.Hour

// InvitationLifetime is how long a claim invitation from staff works, by
// email or printed; ContactCodeLifetime, a code sent to the contact details
// on a record when someone asks to find it.
const (
	InvitationLifetime  = 14 * 24 * time.Hour
	ContactCodeLifetime = time.Hour
)

// Kinds of claim: the link in a self-referral's confirmation, an
// invitation emailed or printed by staff, and a code sent to the contact
// details on the record at the request of someone signed in.
const (
	ClaimSelfReferral = "self_referral"
	ClaimEmail        = "email"
	ClaimPrinted      = "printed"
	ClaimContact      = "contact"
)

// codeAlphabet leaves out letters and digits that are easily confused when
// read from paper or out loud (0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newCode makes a claim code people can copy from paper: 12 characters in
// three groups, about 59 bits (with attempts throttled per account and per
// address, guessing one is hopeless).
func newCode() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		// 256 is not a multiple of 31: keep the slight bias out by
		// drawing again for the few values above the last full multiple.
		for int(b[i]) >= 248 {
			_, _ = rand.Read(b[i : i+1])
		}
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
}

// NormaliseCode turns what someone typed into the form codes are stored
// in: capitals, without spaces or dashes.
func NormaliseCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, strings.TrimSpace(s))
}

// LooksLikeCode reports whether s could be a claim code (for a clear
// message about a mistyped code before anything is looked up).
func LooksLikeCode(s string) bool {
	c := NormaliseCode(s)
	if len(c) != 12 {
		return false
	}
	for _, r := range c {
		if !strings.ContainsRune(codeAlphabet, r) {
			return false
		}
	}
	return true
}

// CreateClaim makes a one-time claim for a person record, inside tx, and
// returns the secret to put in the link. Whoever holds it may join a new
// account to that record (and so see their own request).
func CreateClaim(ctx context.Context, tx *store.Tx, personID int64, now time.Time) (string, error) {
	token := app.NewSecret(32)
	_, err := tx.ExecContext(ctx, "INSERT INTO person_claims (person_id, token_hash, created_at, expires_at, kind) VALUES ($1, $2, $3, $4, $5)",
		personID, app.HashSecret(token), now, now.Add(ClaimLifetime), ClaimSelfReferral)
	return token, err
}

// createCode makes a claim code for the person inside tx, after voiding
// every claim of theirs not yet used: one live claim per person. forUser,
// when set, is the only account that may use it.
func createCode(ctx context.Context, tx *store.Tx, personID int64, kind string, by, forUser int64, now time.Time, life time.Duration) (string, error) {
	if _, err := tx.ExecContext(ctx, "UPDATE person_claims SET used_at = $1 WHERE person_id = $2 AND used_at IS NULL", now, personID); err != nil {
		return "", err
	}
	code := newCode()
	_, err := tx.ExecContext(ctx, `INSERT INTO person_claims (person_id, token_hash, created_at, expires_at, kind, created_by_user_id, for_user_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, personID, app.HashSecret(NormaliseCode(code)), now, now.Add(life), kind, nullID(by), nullID(forUser))
	return code, err
}

// Reasons a claim cannot be used.
var (
	// ErrClaimInvalid: unknown, mistyped, used, expired, or made for
	// another account.
	ErrClaimInvalid = errors.New("claim not valid")
	// ErrClaimTaken: the record is already joined to an account.
	ErrClaimTaken = errors.New("record already has an account")
)

// UseClaim spends a claim inside tx and returns its person, or 0 when the
// claim is unknown, used, expired, or its person already has an account.
// The claim is spent by the update itself, so of two sign-ups with one
// claim at once only one gets the person; the person's row lock then makes
// the check that no account has the person exact (UNIQUE users.person_id
// backs it).
func UseClaim(ctx context.Context, tx *store.Tx, token string, now time.Time) (int64, error) {
	id, err := spendClaim(ctx, tx, token, 0, now)
	if errors.Is(err, ErrClaimInvalid) || errors.Is(err, ErrClaimTaken) {
		return 0, nil
	}
	return id, err
}

// Redeem spends a claim for the signed-in account userID inside tx and
// returns its person: ErrClaimInvalid or ErrClaimTaken when it cannot. A
// link's secret and a code (typed any way: spaces, dashes, small letters)
// are both accepted.
func Redeem(ctx context.Context, tx *store.Tx, token string, userID int64, now time.Time) (int64, error) {
	return spendClaim(ctx, tx, token, userID, now)
}

func spendClaim(ctx context.Context, tx *store.Tx, token string, userID int64, now time.Time) (int64, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 100 {
		return 0, ErrClaimInvalid
	}
	var personID int64
	err := tx.QueryRowContext(ctx, `UPDATE person_claims SET used_at = $1, used_by_user_id = $4
		WHERE token_hash IN ($2, $3) AND used_at IS NULL AND expires_at > $1 AND (for_user_id IS NULL OR for_user_id = $4)
		RETURNING person_id`, now, app.HashSecret(token), app.HashSecret(NormaliseCode(token)), nullID(userID)).Scan(&personID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrClaimInvalid
	}
	if err != nil {
		return 0, err
	}
	var merged sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT id, merged_into_id FROM people WHERE id = $1"+tx.Dialect.ForUpdate(), personID).Scan(&personID, &merged); err != nil {
		return 0, err
	}
	if merged.Valid {
		// A record made by mistake and joined to another: the claim is for
		// the record it was joined to.
		personID = merged.Int64
		if err := Lock(ctx, tx, personID); err != nil {
			return 0, err
		}
	}
	var taken int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE person_id = $1", personID).Scan(&taken); err != nil {
		return 0, err
	}
	if taken > 0 {
		return 0, ErrClaimTaken
	}
	return personID, nil
}

// Holds reports whether a person record holds anything besides who the
// person is: referrals, offers, or changes to their details. An account's
// own record that holds nothing may be replaced by the record it claims.
func Holds(ctx context.Context, tx *store.Tx, personID int64) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM referrals WHERE person_id = $1) + (SELECT COUNT(*) FROM offers WHERE person_id = $1)
		+ (SELECT COUNT(*) FROM person_changes WHERE person_id = $1)`, personID).Scan(&n)
	return n > 0, err
}

// How staff give someone the means to claim their record.
const (
	InviteByEmail = "email"
	InviteByPrint = "print"
)

// ClaimInvitation is what staff get back from inviting someone to claim
// their record: for a printed invitation, the code to hand over (shown
// once; only its hash is kept).
type ClaimInvitation struct {
	PersonID  int64     `json:"person_id"`
	How       string    `json:"how" doc:"email or print"`
	Code      string    `json:"code,omitempty" doc:"print only: the one-time code to give the person. Shown once."`
	SignUpURL string    `json:"sign_up_url" doc:"Where the person goes to use the code."`
	ExpiresAt time.Time `json:"expires_at"`
}

// InviteToClaim lets a member of staff who may see a person give them the
// means to claim their record: an email to the address on the record, or a
// code to print and hand over for someone without email. Any earlier claim
// not yet used stops working. It fails with not found for someone the
// caller may not see (audited as denied), invalid for email to a record
// without an address, and conflict when the record already has an account.
func (s *Service) InviteToClaim(ctx context.Context, p *app.Principal, personID int64, how string) (ClaimInvitation, error) {
	now := s.Clock.Now()
	inv := ClaimInvitation{PersonID: personID, How: how, SignUpURL: s.BaseURL + "/sign-up", ExpiresAt: now.Add(InvitationLifetime)}
	if how != InviteByEmail && how != InviteByPrint {
		return inv, app.Invalid(app.FieldError{Field: "how", Message: "Choose whether to send the invitation by email or print a code"})
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		pe, err := Visible(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		var merged sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT merged_into_id FROM people WHERE id = $1"+tx.Dialect.ForUpdate(), personID).Scan(&merged); err != nil {
			return err
		}
		if merged.Valid {
			return app.Errorf(app.CodeConflict, "This record was joined to another record of the same person: invite them from that one")
		}
		var taken int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE person_id = $1", personID).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return app.Errorf(app.CodeConflict, "%s already has an account joined to their record", pe.PreferredName)
		}
		if how == InviteByEmail && pe.Email == "" {
			return app.Invalid(app.FieldError{Field: "how", Message: "There is no email address on this record: print a code to give them instead"})
		}
		kind := ClaimPrinted
		if how == InviteByEmail {
			kind = ClaimEmail
		}
		code, err := createCode(ctx, tx, personID, kind, p.UserID, 0, now, InvitationLifetime)
		if err != nil {
			return err
		}
		if how == InviteByEmail {
			if err := notify.SendEmail(ctx, tx, now, pe.Email, notify.ClaimInvitation{Code: code,
				ClaimLink: s.BaseURL + "/sign-up?claim=" + NormaliseCode(code), Link: s.BaseURL + "/my/claim"}); err != nil {
				return err
			}
		} else {
			inv.Code = code
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPersonRead), audit.Event{Action: "person.claim_invite." + how,
			SubjectPersonID: personID, ObjectType: "person", ObjectID: fmt.Sprint(personID)})
	})
	if err != nil {
		return ClaimInvitation{}, access.Denied(ctx, s.Audit, p, app.PermPersonRead, "person.claim_invite", "person", personID, "The person", err)
	}
	return inv, nil
}

// Contact-code requests are limited per account and per network address,
// per hour: each sends an email.
const (
	contactCodesPerAccount = 3
	contactCodesPerAddress = 20
)

// SendContactCode helps someone who signed up on their own find the record
// a service already made for them, without ever joining them to it
// silently: if a record with no account holds the email address given, a
// code is sent to that address, and only this account can use it (within
// an hour). The answer is the same whether or not there is such a record,
// so it says nothing about who is known to Mutual. Only email is sent: there
// is no text-message service, so a record known only by its phone number
// needs an invitation from staff (a printed code).
func (s *Service) SendContactCode(ctx context.Context, p *app.Principal, email, addr string) error {
	e, msg := app.NormaliseEmail(email)
	if msg != "" {
		return app.Invalid(app.FieldError{Field: "email", Message: msg})
	}
	n, err := s.Counters.HitAll(ctx, time.Hour, ratelimit.Key("contact-code-account", fmt.Sprint(p.UserID)), ratelimit.Key("contact-code-address", addr))
	if err != nil {
		return err
	}
	if n[0] > contactCodesPerAccount || n[1] > contactCodesPerAddress {
		return app.Errorf(app.CodeTooMany, "You have asked for codes too many times. Wait an hour and try again, or ask the peer support team for an invitation.")
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		// The newest record with this address that no account holds; never
		// the caller's own. Nothing about it leaves this function but an
		// email to the address it already holds.
		var personID int64
		err := tx.QueryRowContext(ctx, `SELECT pe.id FROM people pe WHERE pe.email = $1 AND pe.merged_into_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM users u WHERE u.person_id = pe.id) ORDER BY pe.updated_at DESC, pe.id DESC LIMIT 1`, e).Scan(&personID)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Record(ctx, tx, now, p.ActorFor(app.PermSignedIn), audit.Event{Action: "person.claim_code_request",
				ObjectType: "user", ObjectID: fmt.Sprint(p.UserID)})
		}
		if err != nil {
			return err
		}
		// Lock the person, as InviteToClaim does, so two requests at once
		// cannot each cancel the other's code and leave two live.
		if err := Lock(ctx, tx, personID); err != nil {
			return err
		}
		code, err := createCode(ctx, tx, personID, ClaimContact, 0, p.UserID, now, ContactCodeLifetime)
		if err != nil {
			return err
		}
		if err := notify.SendEmail(ctx, tx, now, e, notify.ClaimCode{Code: code, Link: s.BaseURL + "/my/claim"}); err != nil {
			return err
		}
		// Recorded against the person, so they see that a code was sent for
		// their record (and by which account it was asked for).
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSignedIn), audit.Event{Action: "person.claim_code_request",
			SubjectPersonID: personID, ObjectType: "user", ObjectID: fmt.Sprint(p.UserID)})
	})
}
