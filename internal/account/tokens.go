package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// API token lifetimes, in days.
const (
	DefaultTokenDays = 90
	MaxTokenDays     = 365
	maxTokenName     = 100
)

// APIToken is what is shown about a bearer token: never the token itself,
// which is stored only as a hash.
type APIToken struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" doc:"To the minute; absent if never used."`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Status     string     `json:"status" doc:"active, expired or revoked"`
}

// Token statuses.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
)

// NewAPIToken is a token just made: the only time the token is shown.
type NewAPIToken struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Token     string    `json:"token" doc:"Send as Authorization: Bearer TOKEN. Shown once: it cannot be shown again."`
	ExpiresAt time.Time `json:"expires_at"`
}

// CheckTokenRequest validates a new token's name and lifetime in days
// (zero: the default, 90) and returns the trimmed name.
func CheckTokenRequest(name string, days int) (string, error) {
	var p app.Problems
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		p.Add("name", "Enter a name for the token, so you can tell your tokens apart")
	case utf8.RuneCountInString(name) > maxTokenName:
		p.Add("name", fmt.Sprintf("Name must be %d characters or fewer", maxTokenName))
	}
	if days < 0 || days > MaxTokenDays {
		p.Add("expires_in_days", fmt.Sprintf("Enter a number of days from 1 to %d", MaxTokenDays))
	}
	return name, p.Err()
}

// CreateOwnAPIToken makes a bearer token for the caller's own account. Only
// a fully signed-in session may: a token cannot make tokens, so a leaked
// token cannot outlive its expiry by making another.
func (s *Service) CreateOwnAPIToken(ctx context.Context, p *app.Principal, name string, days int) (NewAPIToken, error) {
	if p == nil || p.Via != "session" || p.SessionID == "" {
		return NewAPIToken{}, app.Errorf(app.CodeForbidden,
			"An API token cannot be used to create API tokens. Sign in to Mutual and create one on your account page.")
	}
	if p.MFAPending || p.MFASetup {
		return NewAPIToken{}, app.Errorf(app.CodeForbidden, "Finish two-factor sign-in before creating an API token")
	}
	return s.CreateAPIToken(ctx, p, p.UserID, name, days)
}

// CreateAPIToken makes a bearer token for the JSON API, acting as the
// account, lasting days (zero: 90; at most 365). Only its hash is stored;
// the token is returned once. It fails with invalid for a bad name or
// lifetime and conflict for an account that is not active.
func (s *Service) CreateAPIToken(ctx context.Context, p *app.Principal, userID int64, name string, days int) (NewAPIToken, error) {
	actor := p.ActorFor(app.PermSignedIn)
	name, err := CheckTokenRequest(name, days)
	if err != nil {
		return NewAPIToken{}, err
	}
	if days == 0 {
		days = DefaultTokenDays
	}
	now := s.Clock.Now()
	nt := NewAPIToken{Name: name, Token: "mut_" + NewToken(), ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour)}
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		// Under the account's lock, so a token is never made for an account
		// that is being disabled (which revokes its tokens).
		u, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Status != StatusActive {
			return app.Errorf(app.CodeConflict, "The account is not active, so it cannot have an API token")
		}
		// A token made by its own account acts in the role the account was
		// using then (one role at a time); one made for an account by an
		// administrator acts at work.
		acting := ""
		if p != nil && p.UserID == userID {
			acting = p.Acting
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, token_hash, name, created_at, expires_at, acting_as)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, userID, hashToken(nt.Token), name, now, nt.ExpiresAt, acting).Scan(&nt.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor, audit.Event{Action: "account.token_create", ObjectType: "api_token", ObjectID: fmt.Sprint(nt.ID)})
	})
	if err != nil {
		return NewAPIToken{}, err
	}
	return nt, nil
}

// ListAPITokens returns an account's tokens, newest first: active, expired
// and revoked alike (at most 100).
func (s *Service) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, name, created_at, last_used_at, expires_at, revoked_at FROM api_tokens
		WHERE user_id = $1 ORDER BY id DESC LIMIT 100`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.Clock.Now()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var used, expires, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &used, &expires, &revoked); err != nil {
			return nil, err
		}
		if used.Valid {
			t.LastUsedAt = &used.Time
		}
		if revoked.Valid {
			t.RevokedAt = &revoked.Time
		}
		t.ExpiresAt = expires.Time
		switch {
		case revoked.Valid:
			t.Status = TokenRevoked
		case !expires.Valid || !now.Before(expires.Time):
			t.Status = TokenExpired
		default:
			t.Status = TokenActive
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken stops one of an account's tokens working, at once on this
// instance and within SessionRecheck on others. A token that is not the
// account's is not found; revoking a revoked token changes nothing.
func (s *Service) RevokeAPIToken(ctx context.Context, p *app.Principal, userID, tokenID int64) error {
	actor := p.ActorFor(app.PermSignedIn)
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		n, err := rowsAffected(tx.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
			now, tokenID, userID))
		if err != nil {
			return err
		}
		if n == 0 {
			var owner int64
			err := tx.QueryRowContext(ctx, "SELECT user_id FROM api_tokens WHERE id = $1", tokenID).Scan(&owner)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != userID) {
				return app.NotFound("The API token")
			}
			return err // already revoked: nothing to do
		}
		tx.AfterCommit(s.ForgetSessions)
		return audit.Record(ctx, tx, now, actor, audit.Event{Action: "account.token_revoke", ObjectType: "api_token", ObjectID: fmt.Sprint(tokenID)})
	})
}

// AuthenticateBearer turns an API token into the caller. It fails with
// unauthorized for an unknown, expired or revoked token or an inactive
// account.
//
// Like session checks, a token check read from the database is reused by
// this instance for up to SessionRecheck (see sessionCache), its expiry is
// checked on every request, and its last use is written at most once a
// minute.
func (s *Service) AuthenticateBearer(ctx context.Context, token, requestID string) (*app.Principal, error) {
	if !strings.HasPrefix(token, "mut_") || len(token) > 100 {
		return nil, app.Errorf(app.CodeUnauthorized, "The API token is not valid")
	}
	id := hashToken(token)
	now := s.Clock.Now()
	c, gen, hit := s.sessions.getToken(id, s.SessionRecheck)
	if hit && now.Before(c.expires) && now.Sub(c.lastSeen) <= touchEvery {
		p := c.p
		p.RequestID = requestID
		return &p, nil
	}
	var (
		p       app.Principal
		acting  string
		tokenID int64
		used    sql.NullTime
		expires sql.NullTime
		status  Status
		found   bool
	)
	// One query, one row per role: the token, its account and the
	// account's roles.
	rows, err := s.DB.QueryCached(ctx, `SELECT t.id, t.last_used_at, t.expires_at, t.acting_as,
		u.id, u.name, u.email, u.status, COALESCE(u.person_id, 0),
		COALESCE(m.role, ''), COALESCE(m.team_id, 0), COALESCE(tm.name, '')
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN teams tm ON tm.id = m.team_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL ORDER BY m.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m app.Membership
		if err := rows.Scan(&tokenID, &used, &expires, &acting, &p.UserID, &p.Name, &p.Email, &status, &p.PersonID,
			&m.Role, &m.TeamID, &m.TeamName); err != nil {
			return nil, err
		}
		found = true
		if m.Role != "" {
			p.Memberships = append(p.Memberships, m)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found || status != StatusActive {
		return nil, app.Errorf(app.CodeUnauthorized, "The API token is not valid")
	}
	if !expires.Valid || !now.Before(expires.Time) {
		return nil, app.Errorf(app.CodeUnauthorized, "The API token has expired. Create a new one on your account page.")
	}
	lastUsed := used.Time
	if !used.Valid || now.Sub(used.Time) > touchEvery {
		if _, err := s.DB.Exec(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", now, tokenID); err != nil {
			return nil, err
		}
		lastUsed = now
	}
	p.Via = "token"
	actAs(&p, acting)
	if s.SessionRecheck > 0 {
		s.sessions.tokens.Put(id, cachedSession{p: p, lastSeen: lastUsed, expires: expires.Time, gen: gen})
	}
	p.RequestID = requestID
	return &p, nil
}
