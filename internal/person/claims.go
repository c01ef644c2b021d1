package person

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// ClaimLifetime is how long a self-referral's claim link works.
const ClaimLifetime = 30 * 24 * time.Hour

// CreateClaim makes a one-time claim for a person record, inside tx, and
// returns the secret to put in the link. Whoever holds it may join a new
// account to that record (and so see their own request).
func CreateClaim(ctx context.Context, tx *store.Tx, personID int64, now time.Time) (string, error) {
	token := app.NewSecret(32)
	_, err := tx.ExecContext(ctx, "INSERT INTO person_claims (person_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
		personID, app.HashSecret(token), now, now.Add(ClaimLifetime))
	return token, err
}

// UseClaim spends a claim inside tx and returns its person, or 0 when the
// claim is unknown, used, expired, or its person already has an account.
// The claim is spent by the update itself, so of two sign-ups with one
// claim at once only one gets the person; the person's row lock then makes
// the check that no account has the person exact (UNIQUE users.person_id
// backs it).
func UseClaim(ctx context.Context, tx *store.Tx, token string, now time.Time) (int64, error) {
	if token == "" || len(token) > 100 {
		return 0, nil
	}
	var personID int64
	err := tx.QueryRowContext(ctx, `UPDATE person_claims SET used_at = $1
		WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING person_id`, now, app.HashSecret(token)).Scan(&personID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, "SELECT id FROM people WHERE id = $1"+tx.Dialect.ForUpdate(), personID).Scan(&personID); err != nil {
		return 0, err
	}
	var taken int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE person_id = $1", personID).Scan(&taken); err != nil || taken > 0 {
		return 0, err
	}
	return personID, nil
}
