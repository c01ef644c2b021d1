package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// Consent that holds.
//
// The peer support team of a referral (the leads of its team — every lead,
// before it has a team — its allocated worker and its team's peer workers
// while it waits) always sees it: that is what the referral is for. Beyond
// them, the person decides, and can change their mind from their account at
// any time, with immediate effect:
//
//   - share_with_referrer: whoever made the referral follows its progress
//     and is told of its steps. Without it they see only that they made
//     it (limitedFor) and are told nothing (notifyReferrer).
//   - share_beyond_team: clinicians of the teams involved (the referral's
//     team, the referrer's team, the person's caseload teams) see it. Without
//     it they do not see it at all (access.Referrals).
//
// A referral made without the person's agreement is not taken on (accepted,
// allocated or started) until a clinician or peer lead records why the team
// is going ahead without it, or that the person has now agreed
// (RecordConsent). The reason shows in the person's own view of their
// referral and in "who has seen my record".

// inPeerTeam reports whether the caller is in the referral's peer support
// team.
func inPeerTeam(p *app.Principal, r *Referral) bool {
	if leads(p, r.TeamID) {
		return true
	}
	if r.AllocatedWorkerID != 0 && r.AllocatedWorkerID == p.UserID && p.HasRole(app.RolePeerWorker, app.RolePeerLead) {
		return true
	}
	return r.TeamID != 0 && slices.Contains(p.TeamsAs(app.RolePeerWorker), r.TeamID)
}

// beyondTeamReach reports whether the caller sees the referral as a
// clinician of a team involved, which the person agreed to.
func beyondTeamReach(p *app.Principal, r *Referral) bool {
	if !r.ShareBeyondTeam {
		return false
	}
	teams := p.TeamsAs(app.RoleClinician)
	return (r.TeamID != 0 && slices.Contains(teams, r.TeamID)) || (r.ReferrerTeamID != 0 && slices.Contains(teams, r.ReferrerTeamID))
}

// ownReferral reports whether the caller is the referral's person, using
// Mutual for their own support.
func ownReferral(p *app.Principal, r *Referral) bool {
	return p.PersonID != 0 && p.PersonID == r.PersonID && p.HasRole(app.RolePerson, app.RoleCarer)
}

// limitedFor reports whether the caller sees only the outline of a
// referral: whoever made it, outside its peer support team, when the person
// has not agreed (or no longer agrees) to them following it.
func limitedFor(p *app.Principal, r *Referral) bool {
	if ownReferral(p, r) || r.ReferrerUserID != p.UserID || r.ShareWithReferrer {
		return false
	}
	return !inPeerTeam(p, r) && !beyondTeamReach(p, r)
}

// Sharing is who beyond the peer support team may see a referral, as the
// person chooses.
type Sharing struct {
	ShareWithReferrer bool `json:"share_with_referrer" required:"true" doc:"Whoever made the referral may follow its progress and is told of its steps."`
	ShareBeyondTeam   bool `json:"share_beyond_team" required:"true" doc:"Clinicians of the teams involved (for example your care co-ordinator's team) may see the referral."`
}

// ChangeSharing records the person's choice of who beyond the peer support
// team may see their referral. It takes effect at once: a referrer the
// person stops sharing with sees only that they made the referral from
// their next request on, and is told nothing more. The change is made
// under the referral's row lock, so a step being taken at the same moment
// is either told to the referrer before the change or not at all. Only the
// person may change it (a carer who made the referral may not); anyone else
// is answered not found.
func (s *Service) ChangeSharing(ctx context.Context, p *app.Principal, referralID int64, in Sharing) (MyReferral, error) {
	now := s.Clock.Now()
	var out MyReferral
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := s.visibleReferral(ctx, tx, p, referralID, true)
		if err != nil {
			return err
		}
		if !ownReferral(p, &r) {
			return access.ErrNotVisible
		}
		if r.Source == SourceSelf || r.ForCarer {
			in.ShareWithReferrer = true // they made it themselves
		}
		if _, err := tx.ExecContext(ctx, `UPDATE referrals SET share_with_referrer = $1, share_beyond_team = $2, sharing_changed_at = $3, updated_at = $3
			WHERE id = $4`, in.ShareWithReferrer, in.ShareBeyondTeam, now, r.ID); err != nil {
			return err
		}
		var words []string
		if in.ShareWithReferrer != r.ShareWithReferrer && r.Source != SourceSelf && !r.ForCarer {
			words = append(words, map[bool]string{true: "agreed that whoever made the referral can follow it", false: "stopped whoever made the referral following it"}[in.ShareWithReferrer])
		}
		if in.ShareBeyondTeam != r.ShareBeyondTeam {
			words = append(words, map[bool]string{true: "agreed it can be shared beyond the peer support team", false: "stopped it being shared beyond the peer support team"}[in.ShareBeyondTeam])
		}
		if len(words) > 0 {
			m, _ := roleIn(p, 0, app.RolePerson, app.RoleCarer)
			if err := addNote(ctx, tx, r.ID, p, m, now, "The person "+strings.Join(words, ", and ")+"."); err != nil {
				return err
			}
		}
		if out, err = s.myReferral(ctx, tx, p, r.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermOwnRecord), audit.Event{Action: "referral.sharing", SubjectPersonID: r.PersonID,
			ObjectType: "referral", ObjectID: fmt.Sprintf("%d:referrer=%t:beyond=%t", r.ID, in.ShareWithReferrer, in.ShareBeyondTeam)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermOwnRecord, "referral.sharing", "referral", referralID, "The referral")
	}
	return out, nil
}

// ConsentDecision is a clinician's or peer lead's record about a referral
// made without the person's agreement.
type ConsentDecision struct {
	Decision string `json:"decision" required:"true" doc:"given: the person has now agreed to the referral; proceed: the team goes ahead without their agreement, for the reason given."`
	Reason   string `json:"reason,omitempty" doc:"Required for proceed: why the team is going ahead without the person's agreement. The person can read it."`
}

// RecordConsent lets a peer lead of the referral's team, or a clinician
// who may see the referral, record about a referral made without the
// person's agreement either that the person has now agreed, or why the team
// is going ahead without it. Until one of these is recorded, the referral
// is not accepted, allocated or started. The decision is in the referral's
// history and in the person's record access. It fails with not found for a
// referral the caller may not see, forbidden for any other role, conflict
// when the person's agreement is not missing, and invalid without a reason.
func (s *Service) RecordConsent(ctx context.Context, p *app.Principal, referralID int64, in ConsentDecision) (Referral, error) {
	now := s.Clock.Now()
	in.Reason = strings.TrimSpace(in.Reason)
	var problems app.Problems
	switch in.Decision {
	case "given":
	case "proceed":
		if in.Reason == "" {
			problems.Add("reason", "Say why the team is going ahead without the person's agreement")
		}
	default:
		problems.Add("decision", "Choose whether the person has now agreed, or the team is going ahead without their agreement")
	}
	problems.CheckLen("reason", in.Reason, 1000, "The reason")
	if err := problems.Err(); err != nil {
		return Referral{}, err
	}
	var after Referral
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := s.visibleReferral(ctx, tx, p, referralID, true)
		if err != nil {
			return err
		}
		via, ok := mayRecordConsent(p, &r)
		if !ok {
			return app.Errorf(app.CodeForbidden, "Only a clinician or a peer supervisor or team lead can record this")
		}
		if r.Consent != "not_obtained" || r.ProceedReason != "" {
			return app.Errorf(app.CodeConflict, "This referral does not wait for the person's agreement")
		}
		action, note := "referral.consent_given", "Recorded that the person has now agreed to the referral."
		if in.Decision == "given" {
			_, err = tx.ExecContext(ctx, "UPDATE referrals SET consent = 'given', version = version + 1, updated_at = $1 WHERE id = $2", now, r.ID)
		} else {
			action, note = "referral.consent_proceed", "Going ahead without the person's agreement: "+in.Reason
			_, err = tx.ExecContext(ctx, `UPDATE referrals SET proceed_reason = $1, proceed_by_user_id = $2, proceed_at = $3, version = version + 1,
				updated_at = $3 WHERE id = $4`, in.Reason, p.UserID, now, r.ID)
		}
		if err != nil {
			return err
		}
		if err := addNote(ctx, tx, r.ID, p, via, now, note); err != nil {
			return err
		}
		if after, err = s.visibleReferral(ctx, tx, p, r.ID, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor(p, via), audit.Event{Action: action, SubjectPersonID: r.PersonID,
			ObjectType: "referral", ObjectID: fmt.Sprint(r.ID)})
	})
	if err != nil {
		return Referral{}, s.denied(ctx, err, p, app.PermReferralView, "referral.consent", "referral", referralID, "The referral")
	}
	return after, nil
}

// mayRecordConsent is the one rule for who may record the person's
// agreement, or why the team goes ahead without it: the team's lead, or a
// clinician who made the referral or may see it — the people who know the
// person and the referral. It returns the role they do it in.
func mayRecordConsent(p *app.Principal, r *Referral) (app.Membership, bool) {
	if m, ok := leadRole(p, r.TeamID); ok {
		return m, true
	}
	if r.ReferrerUserID == p.UserID || beyondTeamReach(p, r) {
		return roleIn(p, 0, app.RoleClinician)
	}
	return app.Membership{}, false
}

// waitsForConsent reports whether a move takes on a referral the person has
// not agreed to, with no reason yet recorded for going ahead.
func waitsForConsent(r *Referral, to Status) bool {
	return r.Consent == "not_obtained" && r.ProceedReason == "" && (to == Accepted || to == Allocated || to == Active)
}

// personMoves are the steps the person is told about.
var personMoves = []Status{Accepted, Allocated, Ended, Declined, Redirected}

// notifyPerson tells the person about a step in their own referral: in
// Mutual, when they have an account, and by email when they chose email as
// the way to contact them (the email says only that there is news). Someone
// who did not know they were referred is told nothing by Mutual: the peer
// team speaks to them first.
func (s *Service) notifyPerson(ctx context.Context, tx *store.Tx, p *app.Principal, r *Referral, m Move, workerName string, now time.Time) error {
	if !slices.Contains(personMoves, m.To) || (!r.PersonKnows && r.Source != SourceSelf) || m.Reason == ReasonDied {
		return nil // nobody is told in a person's account that they died
	}
	var pref, email string
	if err := tx.QueryRowContext(ctx, "SELECT contact_preference, email FROM people WHERE id = $1", r.PersonID).Scan(&pref, &email); err != nil {
		return err
	}
	var userID int64
	var accountEmail string
	err := tx.QueryRowContext(ctx, "SELECT id, email FROM users WHERE person_id = $1 AND status = 'active'", r.PersonID).Scan(&userID, &accountEmail)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if userID != 0 && userID != p.UserID {
		n := notify.PersonUpdate{Reference: r.Reference, To: string(m.To), From: string(r.Status), RedirectedTo: m.RedirectedTo, RedirectMessage: m.RedirectMessage,
			WorkerFirstName: firstName(workerName), TeamName: r.TeamName}
		switch m.To {
		case Declined:
			n.Reason = ReasonLabel(DeclineReasons, m.Reason)
		case Ended:
			n.Reason = ReasonLabel(EndReasons, m.Reason)
		case Accepted:
			if m.TeamID != 0 && r.TeamID == 0 {
				if err := tx.QueryRowContext(ctx, "SELECT name FROM teams WHERE id = $1", m.TeamID).Scan(&n.TeamName); err != nil {
					return err
				}
			}
		}
		if err := s.Notify.Tell(ctx, tx, userID, r.ID, n); err != nil {
			return err
		}
	}
	if pref != "email" {
		return nil
	}
	to := email
	if to == "" {
		to = accountEmail
	}
	if to == "" || userID == p.UserID {
		return nil
	}
	return notify.SendEmail(ctx, tx, now, to, notify.PersonUpdateEmail{Reference: r.Reference, Status: strings.ToLower(m.To.Label()),
		Link: fmt.Sprintf("%s/my/referrals/%d", s.BaseURL, r.ID)})
}

// notifyWorker tells a peer worker that someone has been allocated to
// them, in Mutual and by email (a reference and a link), unless they
// allocated themselves.
func (s *Service) notifyWorker(ctx context.Context, tx *store.Tx, p *app.Principal, r *Referral, m Move, now time.Time) error {
	if m.To != Allocated || m.WorkerID == 0 || m.WorkerID == p.UserID {
		return nil
	}
	if err := s.Notify.Tell(ctx, tx, m.WorkerID, r.ID, notify.NewAllocation{Reference: r.Reference}); err != nil {
		return err
	}
	if err := s.auditNotification(ctx, tx, m.WorkerID, r.PersonID, r.ID, now, p.RequestID); err != nil {
		return err
	}
	var email string
	err := tx.QueryRowContext(ctx, "SELECT email FROM users WHERE id = $1 AND status = 'active'", m.WorkerID).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return notify.SendEmail(ctx, tx, now, email, notify.NewAllocationEmail{Reference: r.Reference, Link: fmt.Sprintf("%s/referrals/%d", s.BaseURL, r.ID)})
}
