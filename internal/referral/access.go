package referral

import (
	"context"
	"errors"
	"slices"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// leads reports whether the caller leads the team (teamID 0: a referral not
// yet given a team, which any peer lead may triage).
func leads(p *app.Principal, teamID int64) bool { return access.LeadsTeam(p, teamID) }

// MayMove says whether the caller may make a move on a referral they can
// see, and in which of their roles: that role is recorded in the
// referral's history and in the audit trail alike. If they may not, the
// error says why, in words they can act on.
func MayMove(p *app.Principal, r *Referral, to Status) (app.Membership, error) {
	lead, isLead := leadRole(p, r.TeamID)
	worker, isWorker := workerRole(p, r)
	switch to {
	case Accepted, Declined, Redirected, Allocated:
		if isLead {
			return lead, nil
		}
		return app.Membership{}, app.Errorf(app.CodeForbidden, "Only a peer supervisor or team lead for this team can triage or allocate referrals")
	case Active, Ended:
		if isLead {
			return lead, nil
		}
		if isWorker {
			return worker, nil
		}
		return app.Membership{}, app.Errorf(app.CodeForbidden, "Only the allocated peer worker or a team lead can start or end peer support")
	case Withdrawn:
		if p.PersonID != 0 && p.PersonID == r.PersonID {
			if m, ok := roleIn(p, 0, app.RolePerson, app.RoleCarer); ok {
				return m, nil
			}
		}
		if r.ReferrerUserID != 0 && r.ReferrerUserID == p.UserID {
			if m, ok := p.RoleFor(app.PermReferralCreate); ok {
				return m, nil
			}
		}
		if isLead {
			return lead, nil
		}
		if isWorker {
			return worker, nil
		}
		return app.Membership{}, app.Errorf(app.CodeForbidden, "Only the person, whoever made the referral, or the peer team can withdraw it")
	}
	return app.Membership{}, app.Errorf(app.CodeForbidden, "You cannot make this change")
}

// leadRole is the caller's peer lead role for a team (any, for a referral
// not yet given a team).
func leadRole(p *app.Principal, teamID int64) (app.Membership, bool) {
	if !leads(p, teamID) {
		return app.Membership{}, false
	}
	return roleIn(p, teamID, app.RolePeerLead)
}

// workerRole is the caller's peer worker role when the referral is
// allocated to them.
func workerRole(p *app.Principal, r *Referral) (app.Membership, bool) {
	if r.AllocatedWorkerID == 0 || r.AllocatedWorkerID != p.UserID {
		return app.Membership{}, false
	}
	if m, ok := roleIn(p, r.TeamID, app.RolePeerWorker, app.RolePeerLead); ok {
		return m, true
	}
	return roleIn(p, 0, app.RolePeerWorker, app.RolePeerLead)
}

// roleIn finds the caller's membership in one of roles, in the team (any
// team when teamID is 0).
func roleIn(p *app.Principal, teamID int64, roles ...app.Role) (app.Membership, bool) {
	for _, m := range p.Memberships {
		if slices.Contains(roles, m.Role) && (teamID == 0 || m.TeamID == teamID) {
			return m, true
		}
	}
	return app.Membership{}, false
}

// readingAs is the role in which the caller reads a referral, for the
// audit trail: the person themselves, the referrer, the team's lead, the
// allocated worker, or their first role that reads referrals.
func readingAs(p *app.Principal, r *Referral) app.Membership {
	if p.PersonID != 0 && p.PersonID == r.PersonID {
		if m, ok := roleIn(p, 0, app.RolePerson, app.RoleCarer); ok {
			return m
		}
	}
	if m, ok := leadRole(p, r.TeamID); ok {
		return m
	}
	if m, ok := workerRole(p, r); ok {
		return m
	}
	if m, ok := roleIn(p, r.TeamID, app.RoleClinician, app.RolePeerWorker); ok && r.TeamID != 0 {
		return m
	}
	if m, ok := p.RoleFor(app.PermReferralRead); ok {
		return m
	}
	m, _ := p.RoleFor(app.PermReferralView)
	return m
}

func actor(p *app.Principal, m app.Membership) app.Actor {
	return app.Actor{UserID: p.UserID, Role: m.Role, TeamID: m.TeamID, RequestID: p.RequestID}
}

// MayContact is the one rule for who may see how to get in touch with the
// person a referral is for: anyone who may see the person, and the peer
// leads who triage the referral — its team's, or every lead while it has
// no team, because someone has to be able to call a person whose words
// raised an alert. It opens only how to get in touch (phone, email, the
// way and times they asked for), never the rest of the person's record, so
// an unassigned referral still brings no one into a lead's scope of people.
func MayContact(ctx context.Context, tx *store.Tx, p *app.Principal, r *Referral) (bool, error) {
	if limitedFor(p, r) {
		return false, nil
	}
	if leads(p, r.TeamID) {
		return true, nil
	}
	switch err := access.MaySeePerson(ctx, tx, p, r.PersonID); {
	case err == nil:
		return true, nil
	case errors.Is(err, access.ErrNotVisible):
		return false, nil
	default:
		return false, err
	}
}
