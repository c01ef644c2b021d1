package community

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// Safeguarding is a moderator's safeguarding concern about a member who
// has not agreed to their care team being told, and what a second person
// (a peer lead or clinician of the member's team) decided. The post's
// words stay in the community: the care team sees the moderator's reason.
type Safeguarding struct {
	ID             int64      `json:"id"`
	PostID         int64      `json:"post_id"`
	Member         string     `json:"member" doc:"The member's display name in the community."`
	ReferralID     int64      `json:"referral_id" doc:"The member's open referral, whose team is asked to confirm."`
	Reference      string     `json:"reference" doc:"The referral's reference."`
	Reason         string     `json:"reason" doc:"The moderator's safeguarding reason."`
	RaisedBy       string     `json:"raised_by"`
	RaisedAt       time.Time  `json:"raised_at"`
	Status         string     `json:"status" doc:"waiting (for a peer lead or clinician of the member's team), confirmed (the care team was alerted and the member told) or declined"`
	DecidedBy      string     `json:"decided_by,omitempty"`
	DecidedRole    string     `json:"decided_role,omitempty" doc:"The role the decision was taken in."`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
	personID       int64
	teamID         int64
	raisedBy       int64
	subject        int64
}

// NewSafeguarding is a moderator's safeguarding reason for telling a
// member's care team without their agreement.
type NewSafeguarding struct {
	Reason string `json:"reason" required:"true" doc:"Why the risk means the member's care team should know although they have not agreed. A peer lead or clinician of their team reads it and decides."`
}

// SafeguardingDecision is a peer lead's or clinician's decision on a
// safeguarding concern.
type SafeguardingDecision struct {
	Action string `json:"action" required:"true" doc:"confirm (the care team's duty leads are alerted and the member is told) or decline (nothing is sent; the moderators follow up in the community)"`
	Reason string `json:"reason" required:"true" doc:"Why: recorded with the decision."`
}

// RaiseSafeguarding records a moderator's safeguarding concern about the
// writer of a post who has NOT agreed to their care team being told. It
// sends nothing: the concern waits for a peer lead or clinician of the
// writer's team to confirm it. The writer must have a record and an open
// referral with a team (someone on the caseload); one concern waits per
// post (a second is a conflict). Audited, naming the person.
func (s *Service) RaiseSafeguarding(ctx context.Context, p *app.Principal, postID int64, in NewSafeguarding) (Safeguarding, error) {
	if err := mustModerate(p); err != nil {
		return Safeguarding{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var pr app.Problems
	if in.Reason == "" {
		pr.Add("reason", "Say why the risk means their care team should know")
	}
	pr.CheckLen("reason", in.Reason, 1000, "The reason")
	if err := pr.Err(); err != nil {
		return Safeguarding{}, err
	}
	now := s.Clock.Now()
	sg := Safeguarding{PostID: postID, Reason: in.Reason, RaisedBy: p.Name, RaisedAt: now, Status: "waiting", raisedBy: p.UserID}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		_, author, _, _, err := lockPost(ctx, tx, postID)
		if err != nil {
			return err
		}
		var consent bool
		var personID sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT m.care_team_consent, m.display_name, u.person_id FROM community_members m JOIN users u ON u.id = m.user_id
			WHERE m.user_id = $1`, author).Scan(&consent, &sg.Member, &personID); err != nil {
			return err
		}
		if consent {
			return app.Errorf(app.CodeConflict, "The member agreed that their care team may be told: record a concern instead")
		}
		// One answer whether the member has no record or no open referral
		// with a team: a moderator learns nothing about their care.
		noCareTeam := app.Errorf(app.CodeConflict, "There is no care team in Mutual to tell about this member: follow up with them in the community")
		if !personID.Valid {
			return noCareTeam
		}
		ref, err := openReferral(ctx, tx, p, personID.Int64)
		if err != nil {
			return err
		}
		if ref.id == 0 || ref.team == 0 {
			return noCareTeam
		}
		var waiting int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM community_safeguarding WHERE post_id = $1 AND status = 'waiting'", postID).Scan(&waiting); err != nil {
			return err
		}
		if waiting > 0 {
			return app.Errorf(app.CodeConflict, "A safeguarding concern about this post is already waiting for a decision")
		}
		// The moderator is not told the referral (see safeguardingFor).
		sg.personID, sg.teamID, sg.subject = personID.Int64, ref.team, author
		if err := tx.QueryRowContext(ctx, `INSERT INTO community_safeguarding (post_id, subject_user_id, person_id, referral_id, team_id, reason,
			raised_by_user_id, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, postID, author, personID.Int64, ref.id, ref.team,
			in.Reason, p.UserID, now).Scan(&sg.ID); err != nil {
			return err
		}
		if err := s.resolveFlags(ctx, tx, p, postID, now, "safeguarding", FollowingUp, concernFlags); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.safeguarding.raise", SubjectPersonID: personID.Int64,
			ObjectType: "community_safeguarding", ObjectID: fmt.Sprint(sg.ID), Outcome: "waiting"})
	})
	return sg, err
}

// safeguardingColumns are read by scanSafeguarding, followed by whether
// the caller may see the referral (1 or 0).
const safeguardingColumns = `SELECT g.id, g.post_id, m.display_name, g.referral_id, r.reference, g.reason, ru.name, g.raised_at, g.status,
	COALESCE(du.name, ''), g.decided_role, g.decided_at, g.decision_reason, g.person_id, g.team_id, g.raised_by_user_id, g.subject_user_id`

const safeguardingFrom = ` FROM community_safeguarding g JOIN community_members m ON m.user_id = g.subject_user_id JOIN referrals r ON r.id = g.referral_id
	JOIN users ru ON ru.id = g.raised_by_user_id LEFT JOIN users du ON du.id = g.decided_by_user_id`

func scanSafeguarding(rows *sql.Rows) ([]Safeguarding, error) {
	defer rows.Close()
	out := []Safeguarding{}
	for rows.Next() {
		var g Safeguarding
		var decided sql.NullTime
		var seesReferral int
		if err := rows.Scan(&g.ID, &g.PostID, &g.Member, &g.ReferralID, &g.Reference, &g.Reason, &g.RaisedBy, &g.RaisedAt, &g.Status,
			&g.DecidedBy, &g.DecidedRole, &decided, &g.DecisionReason, &g.personID, &g.teamID, &g.raisedBy, &g.subject, &seesReferral); err != nil {
			return nil, err
		}
		if seesReferral == 0 {
			// A moderator follows the concern, not the referral.
			g.ReferralID, g.Reference = 0, ""
		}
		g.RaisedAt = g.RaisedAt.UTC()
		if decided.Valid {
			t := decided.Time.UTC()
			g.DecidedAt = &t
		}
		if g.DecidedRole != "" {
			g.DecidedRole = app.Role(g.DecidedRole).Label()
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// safeguardingFor loads the concerns by cond, as the caller may see them:
// those of the teams they lead or are a clinician in, whose referral they
// may see; and, when asModerator, every one (moderators raise and follow
// them) — but a moderator is never given the referral's number or
// reference unless they may see the referral in their own right.
func safeguardingFor(ctx context.Context, tx *store.Tx, p *app.Principal, cond string, a *store.Args, asModerator bool) ([]Safeguarding, error) {
	teams := p.TeamsAs(app.RolePeerLead, app.RoleClinician)
	inScope := "(1 = 0)"
	if len(teams) > 0 {
		inScope = "(g.team_id IN " + store.In(a, teams...) + " AND " + access.Referrals(p, a) + ")"
	}
	scope := inScope
	if asModerator && isModerator(p) {
		scope = "(1 = 1)"
	}
	if scope == "(1 = 0)" {
		return []Safeguarding{}, nil
	}
	rows, err := tx.QueryContext(ctx, safeguardingColumns+", CASE WHEN "+inScope+" THEN 1 ELSE 0 END"+safeguardingFrom+" WHERE "+scope+" AND "+cond+" ORDER BY g.id", a.Values()...)
	if err != nil {
		return nil, err
	}
	return scanSafeguarding(rows)
}

// SafeguardingWaiting lists the safeguarding concerns waiting for the
// caller's decision: those of the teams they lead or are a clinician in
// (never those they raised). Reading it is audited, naming each person.
func (s *Service) SafeguardingWaiting(ctx context.Context, p *app.Principal) ([]Safeguarding, error) {
	if !p.Can(app.PermSafeguarding) {
		return nil, app.Errorf(app.CodeForbidden, "Only peer leads and clinicians confirm safeguarding concerns")
	}
	var out []Safeguarding
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := store.NewArgs()
		all, err := safeguardingFor(ctx, tx, p, "g.status = "+a.Add("waiting")+" AND g.raised_by_user_id <> "+a.Add(p.UserID), a, false)
		if err != nil {
			return err
		}
		out = all
		var people []int64
		for _, g := range out {
			people = append(people, g.personID)
		}
		record(p.ActorFor(app.PermSafeguarding), audit.Event{Action: "community.safeguarding.list", Subjects: people, ObjectType: "community_safeguarding"})
		return nil
	})
	return out, err
}

// SafeguardingConcern is one concern the caller may decide on (or a
// moderator may follow); any other is not found. Reading it is audited.
func (s *Service) SafeguardingConcern(ctx context.Context, p *app.Principal, id int64) (Safeguarding, error) {
	if !p.Can(app.PermSafeguarding) && !isModerator(p) {
		return Safeguarding{}, app.Errorf(app.CodeForbidden, "Only peer leads and clinicians confirm safeguarding concerns")
	}
	var g Safeguarding
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if g, err = safeguardingOne(ctx, tx, p, id); err != nil {
			return err
		}
		perm := app.PermSafeguarding
		if !p.Can(perm) {
			perm = app.PermModerate
		}
		record(p.ActorFor(perm), audit.Event{Action: "community.safeguarding.read", SubjectPersonID: g.personID, ObjectType: "community_safeguarding",
			ObjectID: fmt.Sprint(id)})
		return nil
	})
	return g, err
}

// MayDecide reports whether the caller may decide on the concern (a peer
// lead or clinician of its team who did not raise it, while it waits).
func (g Safeguarding) MayDecide(p *app.Principal) bool {
	return g.Status == "waiting" && ConfirmerRole(p, g.teamID, g.raisedBy) != ""
}

// DecideSafeguarding records a peer lead's or clinician's decision, with
// their reason, on a waiting concern about a member of their team. Confirm
// alerts the team's duty leads (the referral's reference and a link, never
// the post) and tells the member; decline sends nothing. The moderator who
// raised it, a peer worker or anyone of another team cannot decide
// (forbidden, or not found outside their scope). It is decided once: the
// update is conditional on the concern still waiting, so of two confirmers
// at once one wins and the other is told (409).
func (s *Service) DecideSafeguarding(ctx context.Context, p *app.Principal, id int64, d SafeguardingDecision) (Safeguarding, error) {
	if !p.Can(app.PermSafeguarding) {
		return Safeguarding{}, app.Errorf(app.CodeForbidden, "Only peer leads and clinicians confirm safeguarding concerns")
	}
	d.Reason = strings.TrimSpace(d.Reason)
	var pr app.Problems
	if d.Action != "confirm" && d.Action != "decline" {
		pr.Add("action", "Choose whether to send the concern to the care team")
	}
	if d.Reason == "" {
		pr.Add("reason", "Say why: it is recorded with your decision")
	}
	pr.CheckLen("reason", d.Reason, 1000, "The reason")
	if err := pr.Err(); err != nil {
		return Safeguarding{}, err
	}
	now := s.Clock.Now()
	var g Safeguarding
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if g, err = safeguardingOne(ctx, tx, p, id); err != nil {
			return err
		}
		role := ConfirmerRole(p, g.teamID, g.raisedBy)
		if role == "" {
			if p.UserID == g.raisedBy {
				return app.Errorf(app.CodeForbidden, "You raised this concern: a second person must confirm it")
			}
			return app.Errorf(app.CodeForbidden, "Only a peer lead or clinician of the member's team can confirm this concern")
		}
		status := "declined"
		if d.Action == "confirm" {
			status = "confirmed"
		}
		if err := tx.ExecOne(ctx, app.Errorf(app.CodeConflict, "Someone has already decided about this concern"), `UPDATE community_safeguarding SET status = $1, decided_by_user_id = $2, decided_role = $3, decided_at = $4,
			decision_reason = $5 WHERE id = $6 AND status = 'waiting'`, status, p.UserID, string(role), now, d.Reason, id); err != nil {
			return err
		}
		actor := p.ActorFor(app.PermSafeguarding)
		actor.Role, actor.TeamID = role, g.teamID
		if status == "confirmed" {
			al, _, err := s.Alerts.Raise(ctx, tx, now, actor, alert.New{Kind: alert.PossibleRisk, TeamID: g.teamID, ReferralID: g.ReferralID,
				PersonID: g.personID, Reference: g.Reference, Detail: []string{"community", "without_consent"}, Link: fmt.Sprintf("/referrals/%d", g.ReferralID)})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE community_safeguarding SET alert_id = $1 WHERE id = $2", nullID(al.ID), id); err != nil {
				return err
			}
			if err := s.Notify.Tell(ctx, tx, g.subject, 0, notify.CommunityConcern{Kind: "safeguarding"}); err != nil {
				return err
			}
		}
		g.Status, g.DecidedBy, g.DecidedRole, g.DecisionReason = status, p.Name, role.Label(), d.Reason
		g.DecidedAt = &now
		return audit.Record(ctx, tx, now, actor, audit.Event{Action: "community.safeguarding.decide", SubjectPersonID: g.personID,
			ObjectType: "community_safeguarding", ObjectID: fmt.Sprint(id), Outcome: status})
	})
	if err != nil {
		return Safeguarding{}, err
	}
	return g, nil
}

// safeguardingOne is one concern the caller may see; any other is not
// found.
func safeguardingOne(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Safeguarding, error) {
	a := store.NewArgs()
	gs, err := safeguardingFor(ctx, tx, p, "g.id = "+a.Add(id), a, true)
	if err != nil {
		return Safeguarding{}, err
	}
	if len(gs) == 0 {
		return Safeguarding{}, app.NotFound("The safeguarding concern")
	}
	return gs[0], nil
}

// postSafeguarding is the concerns raised about a post, for the moderator's
// view of it.
func postSafeguarding(ctx context.Context, tx *store.Tx, p *app.Principal, postID int64) ([]Safeguarding, error) {
	a := store.NewArgs()
	return safeguardingFor(ctx, tx, p, "g.post_id = "+a.Add(postID), a, true)
}
