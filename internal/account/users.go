// Package account holds accounts, roles, organisations and teams, and
// everything about signing in: passwords, sessions, two-factor codes,
// invitations, password resets and API tokens.
package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
)

// Service is the account capability. Build one in cmd/mutual and share it.
type Service struct {
	DB       *store.DB
	Clock    app.Clock
	Hasher   *Hasher
	Counters *ratelimit.Counters
	// BaseURL is the public address people reach Mutual at, for links in
	// email, e.g. https://peer-support.example.nhs.uk
	BaseURL string
	// RequireMFA makes staff set up and use two-factor sign-in.
	RequireMFA bool
	// Session lifetimes.
	StaffIdle, StaffAbsolute   time.Duration
	PublicIdle, PublicAbsolute time.Duration
	// SessionRecheck is how long a session or API token check read from
	// the database may be reused by this instance (see sessionCache); zero
	// reads the database on every request.
	SessionRecheck time.Duration
	// Notify tells service managers about grants of roles that see
	// people's records.
	Notify *notify.Service

	sessions sessionCache
}

// Status of an account.
type Status string

// Account statuses.
const (
	StatusInvited  Status = "invited"
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// User is an account.
type User struct {
	ID          int64            `json:"id"`
	Email       string           `json:"email"`
	Name        string           `json:"name"`
	Status      Status           `json:"status"`
	PersonID    int64            `json:"person_id,omitempty"`
	TOTPEnabled bool             `json:"two_factor_enabled"`
	Memberships []app.Membership `json:"roles"`
	CreatedAt   time.Time        `json:"created_at"`
	// passwordHash is never serialised.
	passwordHash string
	totpSecret   string
	totpLastStep int64
}

// Staff reports whether any of the user's roles is a staff role.
func (u *User) Staff() bool {
	for _, m := range u.Memberships {
		if m.Role.Staff() {
			return true
		}
	}
	return false
}

// NormaliseEmail lower-cases and trims an address, and checks its form
// (see app.NormaliseEmail).
func NormaliseEmail(raw string) (string, string) { return app.NormaliseEmail(raw) }

const userColumns = `id, email, name, status, COALESCE(person_id, 0), totp_enabled, created_at, password_hash, totp_secret, totp_last_step`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	u := &User{}
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Status, &u.PersonID, &u.TOTPEnabled, &u.CreatedAt,
		&u.passwordHash, &u.totpSecret, &u.totpLastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.NotFound("The account")
	}
	return u, err
}

func loadMemberships(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, userID int64) ([]app.Membership, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.role, COALESCE(m.team_id, 0), COALESCE(t.name, '')
		FROM memberships m LEFT JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1 ORDER BY m.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Membership
	for rows.Next() {
		var m app.Membership
		if err := rows.Scan(&m.Role, &m.TeamID, &m.TeamName); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// GetUser loads an account with its roles. It fails with not found.
func (s *Service) GetUser(ctx context.Context, id int64) (*User, error) {
	var u *User
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id)); err != nil {
			return err
		}
		u.Memberships, err = loadMemberships(ctx, tx, id)
		return err
	})
	return u, err
}

// FindUserByEmail loads an account by email address. It fails with not
// found.
func (s *Service) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	e, _ := NormaliseEmail(email)
	var u *User
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = $1", e)); err != nil {
			return err
		}
		u.Memberships, err = loadMemberships(ctx, tx, u.ID)
		return err
	})
	return u, err
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Query  string // part of a name or email
	Role   app.Role
	TeamID int64
	Limit  int
}

// ListUsers returns accounts matching f, by name.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]*User, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	like := "%" + strings.ToLower(strings.TrimSpace(f.Query)) + "%"
	var out []*User
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+userColumns+` FROM users u
			WHERE (LOWER(u.name) LIKE $1 OR u.email LIKE $1)
			AND ($2 = '' OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.role = $2))
			AND ($3 = 0 OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.team_id = $3))
			ORDER BY u.name, u.id LIMIT $4`, like, string(f.Role), f.TeamID, f.Limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, u)
		}
		rows.Close()
		for _, u := range out {
			if u.Memberships, err = loadMemberships(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// NewUser describes an account to create.
type NewUser struct {
	Email       string
	Name        string
	Memberships []app.Membership
	// Password, when set, activates the account at once (command line);
	// otherwise the account is invited by email.
	Password string
	// Claim, for someone who asked for peer support before they had an
	// account, joins the account to that request's person record.
	Claim string
}

// ValidateMemberships checks roles and teams: team-scoped roles need a
// team; others must not have one.
func (s *Service) ValidateMemberships(ctx context.Context, tx *store.Tx, ms []app.Membership) error {
	if len(ms) == 0 {
		return app.Invalid(app.FieldError{Field: "roles", Message: "Choose at least one role"})
	}
	for _, m := range ms {
		if !m.Role.Valid() {
			return app.Invalid(app.FieldError{Field: "roles", Message: fmt.Sprintf("%q is not a role", m.Role)})
		}
		if m.Role.TeamScoped() && m.TeamID == 0 {
			return app.Invalid(app.FieldError{Field: "roles", Message: "Choose a team for the " + strings.ToLower(m.Role.Label()) + " role"})
		}
		if m.TeamID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM teams WHERE id = $1", m.TeamID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return app.Invalid(app.FieldError{Field: "roles", Message: "Choose a team from the list"})
			}
		}
	}
	return nil
}

func (s *Service) insertUser(ctx context.Context, tx *store.Tx, email, name string, status Status, hash string, personID int64) (int64, error) {
	now := s.Clock.Now()
	var id int64
	var pid any
	if personID != 0 {
		pid = personID
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, status, person_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, email, name, hash, status, pid, now).Scan(&id)
	if store.IsUniqueViolation(err) {
		e := app.Invalid(app.FieldError{Field: "email", Message: "An account with this email address already exists"})
		e.Err = err // so callers can tell a lost race (store.IsUniqueViolation)
		return 0, e
	}
	return id, err
}

func (s *Service) replaceMemberships(ctx context.Context, tx *store.Tx, userID int64, ms []app.Membership) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM memberships WHERE user_id = $1", userID); err != nil {
		return err
	}
	seen := map[app.Membership]bool{}
	for _, m := range ms {
		key := app.Membership{Role: m.Role, TeamID: m.TeamID}
		if seen[key] {
			continue
		}
		seen[key] = true
		var team any
		if m.TeamID != 0 {
			team = m.TeamID
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO memberships (user_id, role, team_id, created_at) VALUES ($1, $2, $3, $4)",
			userID, m.Role, team, s.Clock.Now()); err != nil {
			return err
		}
	}
	return nil
}

// CreateUser adds an account with its roles. Without a password it is
// invited: an email with a link to set a password goes through the
// outbox in the same transaction. Fails on bad input or a taken address.
func (s *Service) CreateUser(ctx context.Context, p *app.Principal, nu NewUser) (*User, error) {
	actor := p.ActorFor(app.PermAdminUsers)
	var problems app.Problems
	email, msg := NormaliseEmail(nu.Email)
	if msg != "" {
		problems.Add("email", msg)
	}
	name := strings.TrimSpace(nu.Name)
	if name == "" {
		problems.Add("name", "Enter the person's full name")
	} else if len(name) > 200 {
		problems.Add("name", "Name must be 200 characters or fewer")
	}
	if nu.Password != "" {
		if m := CheckPassword(nu.Password, email); m != "" {
			problems.Add("password", m)
		}
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	hash := ""
	if nu.Password != "" {
		var err error
		if hash, err = s.Hasher.Hash(ctx, nu.Password); err != nil {
			return nil, err
		}
	}
	var id int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := s.ValidateMemberships(ctx, tx, nu.Memberships); err != nil {
			return err
		}
		status := StatusInvited
		if hash != "" {
			status = StatusActive
		}
		personID, err := person.UseClaim(ctx, tx, nu.Claim, s.Clock.Now())
		if err != nil {
			return err
		}
		for _, m := range nu.Memberships {
			if m.Role == app.RolePerson && personID == 0 {
				if personID, err = person.Insert(ctx, tx, nil, person.Details{PreferredName: name, FullName: name, Email: email}, nil, 0, s.Clock.Now()); err != nil {
					return err
				}
			}
		}
		if id, err = s.insertUser(ctx, tx, email, name, status, hash, personID); err != nil {
			return err
		}
		if err := s.replaceMemberships(ctx, tx, id, nu.Memberships); err != nil {
			return err
		}
		if err := s.noticeGrants(ctx, tx, actor, id, name, nil, nu.Memberships); err != nil {
			return err
		}
		if hash == "" {
			if err := s.sendLink(ctx, tx, id, email, name, purposeInvitation); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, s.Clock.Now(), actor, audit.Event{Action: "account.create", ObjectType: "user", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// SetMemberships replaces an account's roles. The account's sessions are
// ended so the new roles apply at its next sign-in. Nobody may change their
// own roles (an administrator could otherwise give themselves a clinical
// role and read referrals). Each grant of a role that can see people's
// data is audited and shown to every service manager.
func (s *Service) SetMemberships(ctx context.Context, p *app.Principal, userID int64, ms []app.Membership) error {
	actor := p.ActorFor(app.PermAdminUsers)
	if actor.UserID != 0 && actor.UserID == userID {
		return app.Errorf(app.CodeForbidden, "Ask another administrator to change your own roles")
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := s.ValidateMemberships(ctx, tx, ms); err != nil {
			return err
		}
		// Under the account's lock: two role changes at once happen one
		// after the other, and the second replaces the first.
		u, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := s.replaceMemberships(ctx, tx, userID, ms); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, userID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, s.Clock.Now(), actor, audit.Event{Action: "account.roles", ObjectType: "user", ObjectID: fmt.Sprint(userID)}); err != nil {
			return err
		}
		return s.noticeGrants(ctx, tx, actor, userID, u.Name, u.Memberships, ms)
	})
}

// noticeGrants audits each role in next but not in prev that can see
// people's data, and tells every service manager about it with a
// notification: who gave which role, in which team, to whom. Grants made on
// the command line (no acting account) are audited only.
func (s *Service) noticeGrants(ctx context.Context, tx *store.Tx, actor app.Actor, userID int64, userName string, prev, next []app.Membership) error {
	had := map[app.Membership]bool{}
	for _, m := range prev {
		had[app.Membership{Role: m.Role, TeamID: m.TeamID}] = true
	}
	var grants []app.Membership
	for _, m := range next {
		key := app.Membership{Role: m.Role, TeamID: m.TeamID}
		if m.Role.ReadsPersonData() && !had[key] {
			had[key] = true
			grants = append(grants, key)
		}
	}
	if len(grants) == 0 {
		return nil
	}
	now := s.Clock.Now()
	var managers []int64
	granter := "The operator, on the command line,"
	if actor.UserID != 0 {
		if err := tx.QueryRowContext(ctx, "SELECT name FROM users WHERE id = $1", actor.UserID).Scan(&granter); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT u.id FROM users u JOIN memberships m ON m.user_id = u.id
			WHERE m.role = $1 AND u.status <> 'disabled' ORDER BY u.id`, app.RoleServiceManager)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			managers = append(managers, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, g := range grants {
		where := "across all teams"
		if g.TeamID != 0 {
			var team string
			if err := tx.QueryRowContext(ctx, "SELECT name FROM teams WHERE id = $1", g.TeamID).Scan(&team); err != nil {
				return err
			}
			where = "in " + team
		}
		n := notify.RoleGranted{GrantedBy: granter, GrantedTo: userName, Role: g.Role.Label(), TeamName: where}
		for _, id := range managers {
			if err := s.Notify.Tell(ctx, tx, id, 0, n); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx, now, actor, audit.Event{Action: "account.role_grant", ObjectType: "user",
			ObjectID: fmt.Sprintf("%d:%s:%d", userID, g.Role, g.TeamID)}); err != nil {
			return err
		}
	}
	return nil
}

// SetDisabled disables an account (ending its sessions, revoking its API
// tokens and voiding its unused email links) or enables it again. An
// administrator cannot disable their own account, so an organisation is
// never left without one by accident.
func (s *Service) SetDisabled(ctx context.Context, p *app.Principal, userID int64, disabled bool) error {
	actor := p.ActorFor(app.PermAdminUsers)
	if disabled && actor.UserID == userID {
		return app.Errorf(app.CodeConflict, "You cannot disable your own account")
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		u, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		next, action := StatusDisabled, "account.disable"
		if !disabled {
			next, action = StatusActive, "account.enable"
			if u.passwordHash == "" {
				next = StatusInvited
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET status = $1, updated_at = $2 WHERE id = $3", next, now, userID); err != nil {
			return err
		}
		if disabled {
			if err := s.endSessions(ctx, tx, userID); err != nil {
				return err
			}
			for _, q := range []string{
				"UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
				"UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
			} {
				if _, err := tx.ExecContext(ctx, q, now, userID); err != nil {
					return err
				}
			}
		}
		return audit.Record(ctx, tx, now, actor, audit.Event{Action: action, ObjectType: "user", ObjectID: fmt.Sprint(userID)})
	})
}

// EndSessions signs an account out everywhere.
func (s *Service) EndSessions(ctx context.Context, p *app.Principal, userID int64) error {
	actor := p.ActorFor(app.PermAdminUsers)
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		// Under the account's lock, so a sign-in finishing at this moment
		// either comes first (and its session is ended here) or after.
		if _, err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), actor, audit.Event{Action: "account.end_sessions", ObjectType: "user", ObjectID: fmt.Sprint(userID)})
	})
}

// OwnPerson returns the caller's own person record, inside tx, creating
// one and joining the account to it if the account has none yet (a carer
// asking for peer support for themselves). Sessions are re-read after the
// change commits, so the caller's next request knows the record.
func (s *Service) OwnPerson(ctx context.Context, tx *store.Tx, p *app.Principal, now time.Time) (int64, error) {
	var pid int64
	// The account's row lock first: without it, on PostgreSQL two requests
	// at once each insert a record (which names the account, taking a key
	// share lock on its row) and then both wait to set person_id (a unique
	// column, so a key update): a deadlock, not "try again".
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(person_id, 0) FROM users WHERE id = $1"+tx.Dialect.ForUpdate(), p.UserID).Scan(&pid); err != nil {
		return 0, err
	}
	if pid != 0 {
		return pid, nil
	}
	id, err := person.Insert(ctx, tx, p, person.Details{PreferredName: p.Name, FullName: p.Name, Email: p.Email}, nil, p.UserID, now)
	if err != nil {
		return 0, err
	}
	// Only an account without a record gets one: two requests at once
	// cannot both join records to it.
	res, err := tx.ExecContext(ctx, "UPDATE users SET person_id = $1 WHERE id = $2 AND person_id IS NULL", id, p.UserID)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, app.Errorf(app.CodeConflict, "Your account changed at the same moment. Try again.")
	}
	p.PersonID = id
	tx.AfterCommit(s.ForgetSessions)
	return id, nil
}
