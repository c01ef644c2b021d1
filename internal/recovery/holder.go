package recovery

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Holder gives a person's copy of their recovery and voice data, and
// forgets it for retention (person.Holder).
type Holder struct{ s *Service }

// NewHolder is the recovery capability as a person.Holder, for the
// data-rights service.
func NewHolder(s *Service) Holder { return Holder{s: s} }

var _ person.Holder = Holder{}

// HolderName is the heading in a person's copy.
func (Holder) HolderName() string { return "Recovery plan, goals, DIALOG+, reviews and feedback" }

// Tables are the tables that hold a person's recovery data.
func (Holder) Tables() []string {
	return []string{"recovery_plans", "recovery_plan_versions", "recovery_goals", "recovery_goal_steps", "dialog_sessions", "dialog_ratings",
		"dialog_discussions", "recovery_reviews", "feedback"}
}

// Export is everything held about the person, as they would read it: the
// whole plan (their own, so the private parts too) with every change, goals,
// DIALOG+ sessions, reviews, and the feedback they gave from their account.
type Export struct {
	Plan     Plan          `json:"plan"`
	History  []PlanVersion `json:"plan_history"`
	Goals    []Goal        `json:"goals"`
	Sessions []Session     `json:"dialog_sessions"`
	Reviews  []Review      `json:"reviews"`
	Feedback []OwnFeedback `json:"feedback_given"`
}

// Export returns everything the capability holds about the person, inside tx.
func (h Holder) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	self := viewer{self: true}
	// The person's own copy is read as the person would read it.
	p := &app.Principal{PersonID: personID, Memberships: []app.Membership{{Role: app.RolePerson}}, Via: "data-rights"}
	row, version, updated, _, exists, err := loadPlan(ctx, tx, p, personID, false)
	if err != nil {
		return nil, err
	}
	var e Export
	e.Plan = row.view(personID, version, self)
	if exists {
		e.Plan.UpdatedAt = &updated
	}
	if e.History, err = planHistory(ctx, tx, p, personID, self, row.Share); err != nil {
		return nil, err
	}
	if e.Goals, err = goalsOf(ctx, tx, p, personID); err != nil {
		return nil, err
	}
	if e.Sessions, err = sessionsOf(ctx, tx, p, personID, 100000); err != nil {
		return nil, err
	}
	if e.Reviews, err = reviewsOf(ctx, tx, p, personID, 0); err != nil {
		return nil, err
	}
	a := store.NewArgs(personID)
	rows, err := tx.QueryContext(ctx, "SELECT "+ownColumns+" FROM feedback f WHERE f.giver_person_id = $1 AND "+inScope(p, a, "f.giver_person_id")+
		" ORDER BY f.received_at", a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	e.Feedback = []OwnFeedback{}
	for rows.Next() {
		o, err := h.s.scanOwn(rows)
		if err != nil {
			return nil, err
		}
		e.Feedback = append(e.Feedback, o)
	}
	return e, rows.Err()
}

// LastActivity is when anything was last recorded about the person here.
func (Holder) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	var latest time.Time
	for _, q := range []string{
		"SELECT MAX(updated_at) FROM recovery_plans WHERE person_id = $1",
		"SELECT MAX(updated_at) FROM recovery_goals WHERE person_id = $1",
		"SELECT MAX(at) FROM dialog_sessions WHERE person_id = $1",
		"SELECT MAX(updated_at) FROM recovery_reviews WHERE person_id = $1",
		"SELECT MAX(received_at) FROM feedback WHERE giver_person_id = $1",
	} {
		var t anyTime
		if err := tx.QueryRowContext(ctx, q, personID).Scan(&t); err != nil {
			return time.Time{}, err
		}
		if t.Valid && t.Time.After(latest) {
			latest = t.Time.UTC()
		}
	}
	return latest, nil
}

// Forget deletes the person's plan, its versions, goals, DIALOG+ sessions
// and reviews, and clears their words and details from feedback they gave
// (the feedback's answer and what changed stay, naming no one).
func (h Holder) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	for _, q := range []string{
		"DELETE FROM recovery_reviews WHERE person_id = $1",
		"DELETE FROM dialog_discussions WHERE session_id IN (SELECT id FROM dialog_sessions WHERE person_id = $1)",
		"DELETE FROM dialog_ratings WHERE session_id IN (SELECT id FROM dialog_sessions WHERE person_id = $1)",
		"DELETE FROM dialog_sessions WHERE person_id = $1",
		"DELETE FROM recovery_goal_steps WHERE goal_id IN (SELECT id FROM recovery_goals WHERE person_id = $1)",
		"DELETE FROM recovery_goals WHERE person_id = $1",
		"DELETE FROM recovery_plan_versions WHERE person_id = $1",
		"DELETE FROM recovery_plans WHERE person_id = $1",
	} {
		if _, err := tx.ExecContext(ctx, q, personID); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE feedback SET body = '', giver_name = '', giver_email = '', giver_phone = '', giver_user_id = NULL,
		giver_person_id = NULL, forgotten_at = $1 WHERE giver_person_id = $2 AND forgotten_at IS NULL`, h.s.Clock.Now(), personID)
	return err
}
