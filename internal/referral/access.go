package referral

import (
	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
)

// leads reports whether the caller leads the team (teamID 0: a referral not
// yet given a team, which any peer lead may triage).
func leads(p *app.Principal, teamID int64) bool { return access.LeadsTeam(p, teamID) }

// MayMove says whether the caller may make a move on a referral they can
// see, and if not, why, in words they can act on.
func MayMove(p *app.Principal, r *Referral, to Status) error {
	lead := leads(p, r.TeamID)
	worker := r.AllocatedWorkerID != 0 && r.AllocatedWorkerID == p.UserID
	switch to {
	case Accepted, Declined, Redirected, Allocated:
		if lead {
			return nil
		}
		return app.Errorf(app.CodeForbidden, "Only a peer supervisor or team lead for this team can triage or allocate referrals")
	case Active, Ended:
		if lead || worker {
			return nil
		}
		return app.Errorf(app.CodeForbidden, "Only the allocated peer worker or a team lead can start or end peer support")
	case Withdrawn:
		self := p.PersonID != 0 && p.PersonID == r.PersonID
		referrer := r.ReferrerUserID != 0 && r.ReferrerUserID == p.UserID
		if self || referrer || lead || worker {
			return nil
		}
		return app.Errorf(app.CodeForbidden, "Only the person, whoever made the referral, or the peer team can withdraw it")
	}
	return app.Errorf(app.CodeForbidden, "You cannot make this change")
}

// limitedFor reports whether the caller sees only the outline of a
// referral: a carer who made it, when the person has not agreed to share
// updates with them.
func limitedFor(p *app.Principal, r *Referral) bool {
	if p.PersonID != 0 && p.PersonID == r.PersonID {
		return false
	}
	if r.ReferrerUserID == p.UserID && r.Source == SourceCarer && !r.ShareWithReferrer {
		return !p.IsStaff()
	}
	return false
}
