package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
)

// Sign-in throttling: failures counted per account and per network address
// in 15-minute windows, in the database so every instance agrees.
const (
	throttleWindow      = 15 * time.Minute
	maxFailuresAccount  = 8
	maxFailuresAddress  = 40
	touchEvery          = time.Minute
	signInFailedMessage = "Enter a correct email address and password"
)

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a random, URL-safe secret of 32 bytes.
func NewToken() string { return randomString(32) }

// SignInResult is the outcome of a correct password.
type SignInResult struct {
	Token       string // the new session's cookie value
	NeedsMFA    bool   // a two-factor code is still needed
	NeedsSetup  bool   // two-factor must be set up first
	UserID      int64
	DisplayName string
}

// SignIn checks an email address and password and starts a session. Every
// failure — unknown address, wrong password, disabled account — gives the
// same answer after about the same time, so it cannot be used to learn who
// has an account. Too many failures for an account or from an address are
// refused for a while: each attempt is counted before its password is
// checked (atomically, so however many arrive at once no more than the
// limit are checked), and a correct password gives its attempt back.
func (s *Service) SignIn(ctx context.Context, email, password, addr, requestID string) (SignInResult, error) {
	e, _ := NormaliseEmail(email)
	acctKey := ratelimit.Key("signin-account", e)
	addrKey := ratelimit.Key("signin-address", addr)
	n, err := s.Counters.HitAll(ctx, throttleWindow, acctKey, addrKey)
	if err != nil {
		return SignInResult{}, err
	}
	if n[0] > maxFailuresAccount || n[1] > maxFailuresAddress {
		return SignInResult{}, app.Errorf(app.CodeTooMany, "Too many attempts to sign in. Wait 15 minutes and try again, or reset your password.")
	}
	u, lookupErr := s.FindUserByEmail(ctx, e)
	if lookupErr != nil && !app.IsCode(lookupErr, app.CodeNotFound) {
		return SignInResult{}, lookupErr
	}
	hash := ""
	if u != nil {
		hash = u.passwordHash
	}
	ok, err := s.Hasher.Verify(ctx, password, hash)
	if err != nil {
		return SignInResult{}, err
	}
	if !ok || u == nil || u.Status != StatusActive {
		if u != nil {
			_ = audit.RecordAlone(ctx, s.DB, s.Clock.Now(), app.Actor{UserID: u.ID, RequestID: requestID},
				audit.Event{Action: "auth.sign_in", ObjectType: "user", ObjectID: fmt.Sprint(u.ID), Outcome: audit.OutcomeDenied})
		}
		return SignInResult{}, app.Errorf(app.CodeUnauthorized, signInFailedMessage)
	}
	_ = s.Counters.Reset(ctx, acctKey, throttleWindow)
	_ = s.Counters.Undo(ctx, addrKey, throttleWindow)
	var res SignInResult
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		// The account as it is now, under its lock: its roles decide the
		// session's limits and whether two-factor is still needed.
		cur, err := lockUser(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if cur.Status != StatusActive || cur.passwordHash != u.passwordHash {
			return app.Errorf(app.CodeUnauthorized, signInFailedMessage)
		}
		res = s.sessionResult(cur)
		if res.Token, err = s.newSession(ctx, tx, cur, !res.NeedsMFA && !res.NeedsSetup); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), app.Actor{UserID: u.ID, RequestID: requestID},
			audit.Event{Action: "auth.sign_in", ObjectType: "user", ObjectID: fmt.Sprint(u.ID)})
	})
	return res, err
}

// sessionResult says what a new session of u still needs.
func (s *Service) sessionResult(u *User) SignInResult {
	res := SignInResult{UserID: u.ID, DisplayName: u.Name}
	if s.RequireMFA && u.Staff() {
		res.NeedsSetup = !u.TOTPEnabled
		res.NeedsMFA = u.TOTPEnabled
	}
	return res
}

func (s *Service) newSession(ctx context.Context, tx *store.Tx, u *User, mfaOK bool) (string, error) {
	return s.insertSession(ctx, tx, u, mfaOK, "", s.Clock.Now())
}

// insertSession starts a session acting as given (see app.Principal.Acting),
// expiring as a new session would from now.
func (s *Service) insertSession(ctx context.Context, tx *store.Tx, u *User, mfaOK bool, acting string, now time.Time) (string, error) {
	idle, absolute := s.PublicIdle, s.PublicAbsolute
	if u.Staff() {
		idle, absolute = s.StaffIdle, s.StaffAbsolute
	}
	token := NewToken()
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_seconds, expires_at, mfa_ok, acting_as)
		VALUES ($1, $2, $3, $3, $4, $5, $6, $7)`, hashToken(token), u.ID, now, int(idle.Seconds()), now.Add(absolute), mfaOK, acting)
	return token, err
}

// actAs keeps only the memberships of the context a session or token acts
// in, for an account that is both staff and someone who uses services.
func actAs(p *app.Principal, acting string) {
	ms, dual := app.ActingMemberships(p.Memberships, acting)
	if !dual {
		return
	}
	p.Memberships = ms
	p.Acting = app.ActingWork
	if acting == app.ActingOwn {
		p.Acting = app.ActingOwn
	}
}

// StartSession begins a session for an account that has just proved who it
// is another way (accepting an invitation). It returns the cookie value.
func (s *Service) StartSession(ctx context.Context, userID int64) (SignInResult, error) {
	var res SignInResult
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		u, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Status != StatusActive {
			return app.Errorf(app.CodeUnauthorized, "Sign in to continue")
		}
		res = s.sessionResult(u)
		res.Token, err = s.newSession(ctx, tx, u, !res.NeedsMFA && !res.NeedsSetup)
		return err
	})
	return res, err
}

// Authenticate turns a session cookie value into the signed-in caller. It
// fails with unauthorized for an unknown, idle or expired session or a
// disabled account, and deletes sessions it finds expired.
func (s *Service) Authenticate(ctx context.Context, token, requestID string) (*app.Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, app.Errorf(app.CodeUnauthorized, "Sign in to continue")
	}
	id := hashToken(token)
	now := s.Clock.Now()
	c, gen, hit := s.sessions.get(id, s.SessionRecheck)
	// A session remembered past its end goes to the database, which ends
	// it; one last seen over a minute ago goes there to be touched.
	if hit && now.Before(c.expires) && now.Sub(c.lastSeen) <= min(c.idle, touchEvery) {
		p := c.p
		p.RequestID = requestID
		return &p, nil
	}
	var (
		p        app.Principal
		lastSeen time.Time
		expires  time.Time
		idle     int
		mfaOK    bool
		status   Status
		totpOn   bool
		found    bool
		acting   string
	)
	// One query, one row per role: the session, its account and the
	// account's roles. This runs on every signed-in request.
	rows, err := s.DB.QueryCached(ctx, `SELECT s.user_id, s.last_seen_at, s.expires_at, s.idle_seconds, s.mfa_ok, s.acting_as,
		u.name, u.email, u.status, COALESCE(u.person_id, 0), u.totp_enabled,
		COALESCE(m.role, ''), COALESCE(m.team_id, 0), COALESCE(t.name, '')
		FROM sessions s JOIN users u ON u.id = s.user_id
		LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN teams t ON t.id = m.team_id
		WHERE s.id = $1 ORDER BY m.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m app.Membership
		if err := rows.Scan(&p.UserID, &lastSeen, &expires, &idle, &mfaOK, &acting, &p.Name, &p.Email, &status, &p.PersonID, &totpOn,
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
	if !found {
		return nil, app.Errorf(app.CodeUnauthorized, "Sign in to continue")
	}
	if status != StatusActive || !now.Before(expires) || now.Sub(lastSeen) > time.Duration(idle)*time.Second {
		_, _ = s.DB.Exec(ctx, "DELETE FROM sessions WHERE id = $1", id)
		return nil, app.Errorf(app.CodeUnauthorized, "Your session has ended. Sign in again to continue.")
	}
	if now.Sub(lastSeen) > touchEvery {
		// Touch at most once a minute: idle timing to the minute is enough,
		// and most signed-in requests then need no write at all.
		if _, err := s.DB.Exec(ctx, "UPDATE sessions SET last_seen_at = $1 WHERE id = $2", now, id); err != nil {
			return nil, err
		}
		lastSeen = now
	}
	p.SessionID = id
	p.Via = "session"
	actAs(&p, acting)
	if !mfaOK {
		p.MFAPending = totpOn
		p.MFASetup = !totpOn
	}
	if s.SessionRecheck > 0 {
		s.sessions.entries.Put(id, cachedSession{p: p, lastSeen: lastSeen, expires: expires, idle: time.Duration(idle) * time.Second, gen: gen})
	}
	p.RequestID = requestID
	return &p, nil
}

// SignOut ends one session.
func (s *Service) SignOut(ctx context.Context, sessionID string) error {
	_, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE id = $1", sessionID)
	s.ForgetSessions()
	return err
}

// SignOutEverywhere ends every session of the caller's account.
func (s *Service) SignOutEverywhere(ctx context.Context, p *app.Principal) error {
	return s.EndSessions(ctx, p, p.UserID)
}

// PruneSessions deletes expired sessions.
func (s *Service) PruneSessions(ctx context.Context) error {
	_, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE expires_at < $1", s.Clock.Now())
	return err
}
