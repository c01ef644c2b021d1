package referral

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Urgency is how soon a referral needs a first contact, following the NHS
// community mental health waiting standards.
type Urgency string

// Urgencies. Routine is the default for every door; staff, partner and
// community referrers may say otherwise, and triage may change it with a
// reason.
const (
	Routine    Urgency = "routine"
	Urgent     Urgency = "urgent"
	VeryUrgent Urgency = "very_urgent"
)

// Urgencies lists every urgency, most urgent first.
var Urgencies = []Urgency{VeryUrgent, Urgent, Routine}

var urgencyLabels = map[Urgency]string{Routine: "Routine", Urgent: "Urgent", VeryUrgent: "Very urgent"}

// Label is the urgency in words.
func (u Urgency) Label() string { return urgencyLabels[u] }

// Valid reports whether u is a known urgency.
func (u Urgency) Valid() bool { _, ok := urgencyLabels[u]; return ok }

// The waiting standards for urgent and very urgent referrals (the routine
// one is the service's WaitingStandard, 4 weeks by default).
const (
	UrgentStandard     = 24 * time.Hour
	VeryUrgentStandard = 4 * time.Hour
)

// FHIRPriority maps an urgency to HL7 FHIR R4 ServiceRequest.priority
// (request-priority: routine | urgent | asap | stat). Very urgent is asap,
// not stat: stat is an emergency, and someone in an emergency is sent to
// 999, not to a peer support waiting list.
func (u Urgency) FHIRPriority() string {
	switch u {
	case Urgent:
		return "urgent"
	case VeryUrgent:
		return "asap"
	}
	return "routine"
}

// Standard is how long a referral of urgency u may wait for a first
// contact before it is past the standard (0: no standard).
func (s *Service) Standard(u Urgency) time.Duration {
	switch u {
	case Urgent:
		return UrgentStandard
	case VeryUrgent:
		return VeryUrgentStandard
	}
	return s.WaitingStandard
}

// urgencyRank is an SQL expression ordering referrals most urgent first,
// as Urgency.Rank does in Go.
const urgencyRank = "CASE r.urgency WHEN 'very_urgent' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END"

// Rank orders urgencies most urgent first (0 very urgent, 1 urgent, 2
// routine), as the waiting list does.
func (u Urgency) Rank() int {
	switch u {
	case VeryUrgent:
		return 0
	case Urgent:
		return 1
	}
	return 2
}

// RiskAlertOpen is an SQL condition on alias r: the referral has an alert
// of possible risk still waiting for a response.
const RiskAlertOpen = "EXISTS (SELECT 1 FROM alerts al WHERE al.referral_id = r.id AND al.resolved_at IS NULL)"

// riskOpen is an SQL expression that is 0 for a referral with an alert of
// possible risk waiting for a response, 1 otherwise: those come first.
const riskOpen = "CASE WHEN " + RiskAlertOpen + " THEN 0 ELSE 1 END"

// overdueCond is the condition on alias r for a referral past its waiting
// standard: still waiting, no first contact, and received longer ago than
// its urgency's standard. The one definition the lists, the home page and
// each referral's mark use.
func (s *Service) overdueCond(a *store.Args) string {
	now := s.Clock.Now()
	var parts []string
	for _, u := range Urgencies {
		std := s.Standard(u)
		if std <= 0 {
			continue
		}
		var match string
		if u == Routine {
			match = "r.urgency NOT IN " + store.In(a, string(Urgent), string(VeryUrgent))
		} else {
			match = "r.urgency = " + a.Add(string(u))
		}
		parts = append(parts, "("+match+" AND r.received_at < "+a.Add(now.Add(-std))+")")
	}
	if len(parts) == 0 {
		return "1 = 0"
	}
	return "r.status IN " + store.In(a, Waiting...) + " AND r.first_contact_at IS NULL AND (" + strings.Join(parts, " OR ") + ")"
}

// UrgencyChange is a change of a referral's urgency.
type UrgencyChange struct {
	Urgency Urgency `json:"urgency" required:"true" doc:"routine, urgent or very_urgent"`
	Reason  string  `json:"reason" required:"true" doc:"Why the urgency is changing: shown in the referral's history."`
	Version int     `json:"version,omitempty" doc:"The version you last saw; if someone has changed the referral since, the answer is 409."`
}

// SetUrgency changes a referral's urgency, with the reason in its history.
// Only a peer lead of the referral's team (any peer lead while it has no
// team) may change it; a closed referral cannot be changed.
func (s *Service) SetUrgency(ctx context.Context, p *app.Principal, id int64, ch UrgencyChange) (Referral, error) {
	now := s.Clock.Now()
	ch.Reason = strings.TrimSpace(ch.Reason)
	var problems app.Problems
	if !ch.Urgency.Valid() {
		problems.Add("urgency", "Choose routine, urgent or very urgent")
	}
	if ch.Reason == "" {
		problems.Add("reason", "Say why the urgency is changing")
	}
	problems.CheckLen("reason", ch.Reason, 1000, "The reason")
	if err := problems.Err(); err != nil {
		return Referral{}, err
	}
	var out Referral
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := s.visibleReferral(ctx, tx, p, id, true)
		if err != nil {
			return err
		}
		via, ok := leadRole(p, r.TeamID)
		if !ok {
			if limitedFor(p, &r) {
				return access.ErrNotVisible
			}
			return app.Errorf(app.CodeForbidden, "Only a peer support lead for this referral's team can change its urgency")
		}
		if r.Status.Closed() {
			return app.Errorf(app.CodeConflict, "This referral is %s, so its urgency can no longer be changed", strings.ToLower(r.Status.Label()))
		}
		if ch.Version != 0 && ch.Version != r.Version {
			return app.Errorf(app.CodeConflict, "Someone else changed this referral at %s. Check the latest details and try again.",
				r.UpdatedAt.In(app.London).Format("3:04pm on 2 January"))
		}
		if ch.Urgency == r.Urgency {
			return app.Invalid(app.FieldError{Field: "urgency", Message: "The referral is already " + strings.ToLower(r.Urgency.Label())})
		}
		res, err := tx.ExecContext(ctx, "UPDATE referrals SET urgency = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4",
			string(ch.Urgency), now, r.ID, r.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "Someone else changed this referral at the same moment. Check the latest details and try again.")
		}
		if err := addEvent(ctx, tx, r.ID, now, p.UserID, via.Role, r.Status, eventUrgency,
			fmt.Sprintf("%s to %s. Why: %s", r.Urgency.Label(), strings.ToLower(ch.Urgency.Label()), ch.Reason)); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, actor(p, via), audit.Event{Action: "referral.urgency", SubjectPersonID: r.PersonID,
			ObjectType: "referral", ObjectID: fmt.Sprint(r.ID)}); err != nil {
			return err
		}
		out, err = s.visibleReferral(ctx, tx, p, id, false)
		return err
	})
	if err != nil {
		return Referral{}, s.denied(ctx, err, p, app.PermReferralTriage, "referral.urgency", "referral", id, "The referral")
	}
	return out, nil
}

// Kinds of history event besides a move between statuses.
const (
	eventUrgency = "urgency"
	eventRisk    = "risk"
)

// addEvent records a history event that does not move the referral.
func addEvent(ctx context.Context, tx *store.Tx, referralID int64, now time.Time, userID int64, role app.Role, status Status, kind, note string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO referral_events (referral_id, at, actor_user_id, actor_role, from_status, to_status, kind, note)
		VALUES ($1, $2, $3, $4, $5, $5, $6, $7)`, referralID, now, nullID(userID), string(role), string(status), kind, note)
	return err
}
