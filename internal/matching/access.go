package matching

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Audiences of a disclosure, from the narrowest. Each item has one.
const (
	AudienceNobody    = "nobody"
	AudienceLead      = "lead"
	AudienceSupported = "supported"
	AudienceTeam      = "team"
	AudiencePublic    = "public"
)

// Audiences in words, in the order they are offered.
var Audiences = []app.Choice{
	{Code: AudienceNobody, Label: "Only me"},
	{Code: AudienceLead, Label: "My team lead"},
	{Code: AudienceSupported, Label: "The people I support"},
	{Code: AudienceTeam, Label: "My team"},
	{Code: AudiencePublic, Label: "My public profile: anyone signed in to Mutual"},
}

// relation is how a caller stands to a peer worker. It decides, in one
// place, what the caller may see and change of the worker's profile and
// disclosures.
type relation struct {
	Exists    bool // the account is a peer worker or lead
	Self      bool // the caller is the worker
	Lead      bool // the caller leads one of the worker's teams
	Team      bool // the caller has a staff role in one of the worker's teams
	Supported bool // the caller is a person the worker supports now
	SignedIn  bool
	Teams     []int64 // the worker's teams
	Name      string
}

// mayRead reports whether a disclosure with this audience may be shown to
// someone standing in relation r to its worker. Audiences are not a ladder:
// "the people I support" does not include the lead, and "my lead" does not
// include the team; the team includes its lead; the public profile is for
// anyone signed in.
func mayRead(audience string, r relation) bool {
	if !r.Exists || !r.SignedIn {
		return false
	}
	switch audience {
	case AudienceNobody:
		return r.Self
	case AudienceLead:
		return r.Self || r.Lead
	case AudienceSupported:
		return r.Self || r.Supported
	case AudienceTeam:
		return r.Self || r.Lead || r.Team
	case AudiencePublic:
		return true
	}
	return false
}

// mayReadProfile: the worker and the leads of their teams see the profile
// (hours, caps, details); others see only the disclosures shared with them.
func (r relation) mayReadProfile() bool { return r.Exists && (r.Self || r.Lead) }

// mayEditDetails: only the worker changes what matching may use about them.
func (r relation) mayEditDetails() bool { return r.Exists && r.Self }

// mayEditCapacity: hours, caps and reduced-capacity periods are agreed with
// a lead and kept by them (a lead may keep their own).
func (r relation) mayEditCapacity() bool { return r.Exists && r.Lead }

// mayEditDisclosures: only the worker writes, changes or withdraws their
// disclosures; a lead never can, shared with them or not.
func (r relation) mayEditDisclosures() bool { return r.Exists && r.Self }

// relationTo works out, inside tx, how the caller stands to a worker.
func relationTo(ctx context.Context, tx *store.Tx, p *app.Principal, workerID int64) (relation, error) {
	r := relation{SignedIn: p != nil && p.UserID != 0}
	err := tx.QueryRowContext(ctx, "SELECT name FROM users WHERE id = $1", workerID).Scan(&r.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	} else if err != nil {
		return r, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT team_id FROM memberships WHERE user_id = $1 AND team_id IS NOT NULL AND role IN ($2, $3) ORDER BY team_id",
		workerID, app.RolePeerWorker, app.RolePeerLead)
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var t int64
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return r, err
		}
		r.Teams = append(r.Teams, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.Exists = len(r.Teams) > 0
	if !r.Exists || p == nil {
		return r, nil
	}
	r.Self = p.UserID == workerID
	for _, t := range r.Teams {
		r.Lead = r.Lead || access.LeadsTeam(p, t)
		for _, m := range p.Memberships {
			r.Team = r.Team || (m.TeamID == t && m.Role.Staff())
		}
	}
	if p.PersonID != 0 && p.HasRole(app.RolePerson, app.RoleCarer) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM referrals r WHERE r.person_id = $1 AND r.allocated_worker_id = $2
			AND r.status IN ('allocated', 'active') LIMIT 1`, p.PersonID, workerID).Scan(&one)
		switch {
		case err == nil:
			r.Supported = true
		case !errors.Is(err, sql.ErrNoRows):
			return r, err
		}
	}
	return r, nil
}

// readingRole is the caller's role recorded for a read of a worker's
// disclosures or profile.
func readingRole(p *app.Principal, r relation) app.Membership {
	for _, want := range [][]app.Role{{app.RolePeerLead}, {app.RolePeerWorker}, {app.RoleClinician, app.RolePartnerWorker}} {
		for _, m := range p.Memberships {
			if slices.Contains(want, m.Role) && slices.Contains(r.Teams, m.TeamID) {
				return m
			}
		}
	}
	if len(p.Memberships) > 0 {
		return p.Memberships[0]
	}
	return app.Membership{}
}

func actorAs(p *app.Principal, m app.Membership) app.Actor {
	return app.Actor{UserID: p.UserID, Role: m.Role, TeamID: m.TeamID, RequestID: p.RequestID}
}
