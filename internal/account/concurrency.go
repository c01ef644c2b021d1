package account

// Every "read, decide, write" in this package is atomic on both engines.
// SQLite runs one write transaction at a time, so a read inside a write
// transaction stays true until commit; PostgreSQL runs READ COMMITTED, where
// it does not, so each decision below is made by the write itself, under a
// row lock, or by a constraint:
//
//   - Sign-in limits (SignIn), two-factor limits (VerifyMFA, ConfirmTOTP):
//     the attempt is counted before the check with one increment-and-read
//     (ratelimit.Counters.HitAll), and refused when the count is over the
//     limit; a success gives the attempt back. Concurrent attempts each see
//     a different count, so no more than the limit are ever checked.
//   - Sign-up and password-reset limits (limit): the same increment-and-read.
//   - Two-factor code replay (VerifyMFA): UPDATE … SET totp_last_step = step
//     WHERE totp_last_step < step; no row updated means the code was used.
//   - Recovery codes (useRecoveryCode): UPDATE … WHERE used_at IS NULL.
//   - Finishing two-factor (rotateSession): the half-signed-in session is
//     deleted WHERE mfa_ok = FALSE and must be the one row deleted, so one
//     half-signed-in session becomes at most one full session.
//   - Two-factor set-up (BeginTOTP, ConfirmTOTP): the secret is stored only
//     WHERE totp_secret = '' (two tabs show the same secret), and switched on
//     only WHERE totp_enabled = FALSE AND totp_secret = the secret checked.
//   - One-time links (CompleteLink): UPDATE user_tokens … WHERE used_at IS
//     NULL AND expires_at > now, after the account's row lock (so a link
//     cannot be used while its account is being disabled).
//   - Claims (useClaim): UPDATE person_claims … WHERE used_at IS NULL …
//     RETURNING person_id, then the person's row lock before checking that
//     no account has the person (backed by UNIQUE users.person_id).
//   - New accounts (CreateUser, SignUp): UNIQUE users.email; a sign-up that
//     loses that race answers as for an existing account.
//   - Everything that reads an account and then changes it or starts a
//     session for it takes the account's row lock first (lockUser):
//     SetMemberships (else two role changes at once merge), SetDisabled,
//     EndSessions, ResetTOTP, sendLink callers (RequestPasswordReset,
//     ResendInvitation: one live link; never an invitation to an account
//     that has just been set up), CreateAPIToken (no live token is made for
//     an account being disabled), and session creation (SignIn,
//     StartSession: the roles, status and two-factor need are read under the
//     lock, so a session never starts with roles that were just changed, nor
//     without two-factor for an account just given a staff role).
//   - API token revocation (RevokeAPIToken): UPDATE … WHERE user_id = owner
//     AND revoked_at IS NULL.
//   - Organisations and teams: UNIQUE names; teams and memberships refer to
//     rows that are never deleted (foreign keys).
//   - Session checks and touches (Authenticate, AuthenticateBearer): the
//     writes (touch, delete an ended session) are idempotent single
//     statements; nothing is decided from them.

import (
	"context"
	"database/sql"

	"github.com/mutualhq/mutual/internal/store"
)

// lockUser loads an account with its roles and holds its row lock until tx
// ends (PostgreSQL; SQLite's write transaction already excludes every
// other). Every change that reads an account and then acts on it takes this
// lock first, so such changes to one account happen one after another. It
// fails with not found.
func lockUser(ctx context.Context, tx *store.Tx, userID int64) (*User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1"+tx.Dialect.ForUpdate(), userID))
	if err != nil {
		return nil, err
	}
	u.Memberships, err = loadMemberships(ctx, tx, userID)
	return u, err
}

// rowsAffected returns how many rows a statement changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
