package referral

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/watch"
)

// checkWords checks what was written at a door against the watched words
// of the organisation of the team it goes to (every organisation's, when it
// has no team yet). Empty texts are skipped.
func (s *Service) checkWords(ctx context.Context, teamID int64, texts ...string) (watch.Result, error) {
	if s.Watch == nil {
		return watch.Result{}, nil
	}
	var some []string
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			some = append(some, t)
		}
	}
	return s.Watch.CheckForTeam(ctx, teamID, some...)
}

// flagged is a referral marked possible risk.
type flagged struct {
	id, personID, teamID int64
	reference            string
	status               Status
}

// markRisk marks a referral "possible risk", says so in its history and
// raises the alert for its duty leads, all inside tx: the lead's alert
// exists when the referral does, and the email to them is queued with it.
// A referral with an alert already waiting keeps that one.
func (s *Service) markRisk(ctx context.Context, tx *store.Tx, now time.Time, act app.Actor, f flagged, found watch.Result) error {
	if _, err := tx.ExecContext(ctx, "UPDATE referrals SET risk_flagged_at = COALESCE(risk_flagged_at, $1) WHERE id = $2", now, f.id); err != nil {
		return err
	}
	var cats, labels []string
	for _, c := range found.Categories() {
		if c.Risk() {
			cats = append(cats, string(c))
			labels = append(labels, strings.ToLower(c.Label()))
		}
	}
	_, joined, err := s.Alerts.Raise(ctx, tx, now, act, alert.New{Kind: alert.PossibleRisk, TeamID: f.teamID, ReferralID: f.id,
		PersonID: f.personID, Reference: f.reference, Detail: cats, Link: fmt.Sprintf("/referrals/%d", f.id)})
	if err != nil {
		return err
	}
	note := "Words about " + joinWords(labels) + " were found in what was written. The duty leads were alerted."
	if joined {
		note = "Words about " + joinWords(labels) + " were found in what was written. An alert about this referral was already waiting for a response."
	}
	return addEvent(ctx, tx, f.id, now, act.UserID, act.Role, f.status, eventRisk, note)
}

// joinWords is "a", "a and b", "a, b and c".
func joinWords(ws []string) string {
	switch len(ws) {
	case 0:
		return "possible risk"
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}
