package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/watch"
)

// isModerator reports whether the caller moderates the community.
func isModerator(p *app.Principal) bool { return p.Can(app.PermModerate) }

// staffRole is the role a member of staff posts under ("" for everyone
// else): staff post as themselves, under their role.
func staffRole(p *app.Principal) app.Role {
	for _, m := range p.Memberships {
		if m.Role.Staff() && m.Role != app.RoleAdmin && m.Role != app.RoleAnalyst {
			return m.Role
		}
	}
	return ""
}

// mayEnter is the one rule for who sees a space: moderators every space;
// an invitation-only space only those invited; otherwise the kinds of
// account it is for.
func mayEnter(p *app.Principal, sp Space, invited bool) bool {
	switch {
	case p == nil || p.UserID == 0:
		return false
	case isModerator(p):
		return true
	case sp.InvitationOnly:
		return invited
	}
	return sp.ForPublic || (sp.ForPeople && p.HasRole(app.RolePerson)) || (sp.ForCarers && p.HasRole(app.RoleCarer)) ||
		(sp.ForStaff && p.IsStaff())
}

const memberColumns = "user_id, display_name, trust_level, care_team_consent, joined_at, version"

func scanMember(row interface{ Scan(...any) error }) (Member, error) {
	var m Member
	err := row.Scan(&m.UserID, &m.DisplayName, &m.TrustLevel, &m.CareTeamConsent, &m.JoinedAt, &m.Version)
	m.JoinedAt = m.JoinedAt.UTC()
	return m, err
}

// Me is the caller's membership; not found until they join.
func (s *Service) Me(ctx context.Context, p *app.Principal) (Member, error) {
	m, err := scanMember(s.DB.QueryRow(ctx, "SELECT "+memberColumns+" FROM community_members WHERE user_id = $1", p.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, app.NotFound("Your community membership")
	}
	return m, err
}

func (in *Settings) check(p *app.Principal) error {
	var pr app.Problems
	in.DisplayName = strings.Join(strings.Fields(in.DisplayName), " ")
	n := []rune(in.DisplayName)
	switch {
	case len(n) == 0:
		pr.Add("display_name", "Choose a display name")
	case len(n) < 3 || len(n) > 30:
		pr.Add("display_name", "A display name must be 3 to 30 characters")
	default:
		for _, r := range n {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '-' && r != '_' && r != '\'' {
				pr.Add("display_name", "A display name can have letters, numbers, spaces, hyphens and apostrophes only")
				break
			}
		}
	}
	return pr.Err()
}

// realName reports whether a display name gives away the account's own
// name: the whole of it, or any of its words of three letters or more
// ("Kofi" for Kofi Asante), however written.
func realName(display, name string) bool {
	d, n := watch.Normalise(display), watch.Normalise(name)
	if n == "" {
		return false
	}
	if d == n {
		return true
	}
	words := map[string]bool{}
	for _, w := range strings.Fields(d) {
		words[w] = true
	}
	for _, w := range strings.Fields(n) {
		if len([]rune(w)) >= 3 && words[w] {
			return true
		}
	}
	return false
}

// SaveSettings joins the community (a new member starts at LevelNew) or
// changes the caller's display name and consent. A display name already
// taken, written any way that reads the same, is a field problem.
func (s *Service) SaveSettings(ctx context.Context, p *app.Principal, in Settings) (Member, error) {
	if p == nil || p.UserID == 0 {
		return Member{}, app.Errorf(app.CodeUnauthorized, "Sign in to join the community")
	}
	if err := in.check(p); err != nil {
		return Member{}, err
	}
	now := s.Clock.Now()
	key := watch.Normalise(in.DisplayName)
	var m Member
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// Pseudonymous by default: someone who uses services or cares for
		// someone does not post under their own name by mistake — also
		// when the account is staff too and is acting at work now (its
		// one display name is shown in people's spaces as well). Staff
		// with no such role post under their role and may use their name.
		var usesServices bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1 AND role IN ($2, $3))",
			p.UserID, string(app.RolePerson), string(app.RoleCarer)).Scan(&usesServices); err != nil {
			return err
		}
		if (staffRole(p) == "" || usesServices) && realName(in.DisplayName, p.Name) {
			return app.Invalid(app.FieldError{Field: "display_name", Message: "Choose a name that is not your real name, so others cannot tell who you are"})
		}
		var taken int64
		err := tx.QueryRowContext(ctx, "SELECT user_id FROM community_members WHERE display_key = $1", key).Scan(&taken)
		if err == nil && taken != p.UserID {
			return app.Invalid(app.FieldError{Field: "display_name", Message: "Someone already uses this display name: choose another"})
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE community_members SET display_name = $1, display_key = $2,
			consent_changed_at = CASE WHEN care_team_consent <> $3 THEN $4 ELSE consent_changed_at END,
			care_team_consent = $3, version = version + 1 WHERE user_id = $5`, in.DisplayName, key, in.CareTeamConsent, now, p.UserID)
		if store.IsUniqueViolation(err) {
			// Someone took the name between the check and the change.
			return app.Invalid(app.FieldError{Field: "display_name", Message: "Someone already uses this display name: choose another"})
		} else if err != nil {
			return err
		}
		action := "community.settings"
		if n, _ := res.RowsAffected(); n == 0 {
			action = "community.join"
			if _, err := tx.ExecContext(ctx, `INSERT INTO community_members (user_id, display_name, display_key, care_team_consent,
				consent_changed_at, joined_at) VALUES ($1, $2, $3, $4, $5, $5)`, p.UserID, in.DisplayName, key, in.CareTeamConsent, now); err != nil {
				if store.IsUniqueViolation(err) {
					return app.Invalid(app.FieldError{Field: "display_name", Message: "Someone already uses this display name: choose another"})
				}
				return err
			}
		}
		if m, err = scanMember(tx.QueryRowContext(ctx, "SELECT "+memberColumns+" FROM community_members WHERE user_id = $1", p.UserID)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSignedIn), audit.Event{Action: action, SubjectPersonID: p.PersonID,
			ObjectType: "community_member", ObjectID: fmt.Sprint(p.UserID), Outcome: fmt.Sprintf("care_team_consent=%v", in.CareTeamConsent)})
	})
	return m, err
}

// member loads the caller's membership inside tx; someone who has not
// joined is told to choose a display name first.
func member(ctx context.Context, tx *store.Tx, p *app.Principal, lock bool) (Member, error) {
	q := "SELECT " + memberColumns + " FROM community_members WHERE user_id = $1"
	if lock {
		q += tx.Dialect.ForUpdate()
	}
	m, err := scanMember(tx.QueryRowContext(ctx, q, p.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, app.Errorf(app.CodeForbidden, "Join the community first: choose a display name in your community settings")
	}
	return m, err
}

const spaceColumns = `s.id, s.name, s.description, s.for_people, s.for_carers, s.for_staff, s.for_public, s.invitation_only,
	(SELECT COUNT(*) FROM community_topics t WHERE t.space_id = s.id AND t.status = 'visible')`

func scanSpace(row interface{ Scan(...any) error }, invited *bool) (Space, error) {
	var sp Space
	err := row.Scan(&sp.ID, &sp.Name, &sp.Description, &sp.ForPeople, &sp.ForCarers, &sp.ForStaff, &sp.ForPublic, &sp.InvitationOnly, &sp.Topics, invited)
	return sp, err
}

// Spaces lists the spaces the caller may see; invitation-only spaces they
// were not invited to are not there at all.
func (s *Service) Spaces(ctx context.Context, p *app.Principal) ([]Space, error) {
	out := []Space{}
	rows, err := s.DB.Query(ctx, "SELECT "+spaceColumns+`, EXISTS (SELECT 1 FROM community_invitations i WHERE i.space_id = s.id AND i.user_id = $1)
		FROM community_spaces s ORDER BY s.name`, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var invited bool
		sp, err := scanSpace(rows, &invited)
		if err != nil {
			return nil, err
		}
		if mayEnter(p, sp, invited) {
			out = append(out, sp)
		}
	}
	return out, rows.Err()
}

// space loads a space the caller may see; any other is not found.
func space(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Space, error) {
	var invited bool
	sp, err := scanSpace(tx.QueryRowContext(ctx, "SELECT "+spaceColumns+`, EXISTS (SELECT 1 FROM community_invitations i WHERE i.space_id = s.id AND i.user_id = $2)
		FROM community_spaces s WHERE s.id = $1`, id, p.UserID), &invited)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !mayEnter(p, sp, invited)) {
		return Space{}, app.NotFound("The space")
	}
	return sp, err
}

// CreateSpace makes a space (moderators).
func (s *Service) CreateSpace(ctx context.Context, p *app.Principal, sp Space) (Space, error) {
	if !isModerator(p) {
		return Space{}, app.Errorf(app.CodeForbidden, "Only moderators can make spaces")
	}
	var pr app.Problems
	sp.Name = strings.TrimSpace(sp.Name)
	sp.Description = strings.TrimSpace(sp.Description)
	if sp.Name == "" {
		pr.Add("name", "Give the space a name")
	}
	pr.CheckLen("name", sp.Name, 80, "The name")
	pr.CheckLen("description", sp.Description, 500, "The description")
	if !sp.ForPeople && !sp.ForCarers && !sp.ForStaff && !sp.ForPublic && !sp.InvitationOnly {
		pr.Add("for_people", "Choose who may join, or make the space invitation-only")
	}
	if err := pr.Err(); err != nil {
		return Space{}, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO community_spaces (name, description, for_people, for_carers, for_staff, for_public,
			invitation_only, created_at, created_by_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			sp.Name, sp.Description, sp.ForPeople, sp.ForCarers, sp.ForStaff, sp.ForPublic, sp.InvitationOnly, now, p.UserID).Scan(&sp.ID)
		if store.IsUniqueViolation(err) {
			return app.Invalid(app.FieldError{Field: "name", Message: "There is already a space with this name"})
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.space.create", ObjectType: "community_space", ObjectID: fmt.Sprint(sp.ID)})
	})
	return sp, err
}

// Invite lets an account into an invitation-only space (moderators).
func (s *Service) Invite(ctx context.Context, p *app.Principal, spaceID, userID int64) error {
	if !isModerator(p) {
		return app.Errorf(app.CodeForbidden, "Only moderators can invite people to a space")
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO community_invitations (space_id, user_id, invited_at, invited_by_user_id)
			VALUES ($1, $2, $3, $4) ON CONFLICT (space_id, user_id) DO NOTHING`, spaceID, userID, now, p.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.space.invite", ObjectType: "community_space",
			ObjectID: fmt.Sprintf("%d/%d", spaceID, userID)})
	})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

var _ = time.Second
