package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Holder gives a person's community data to datarights: what they wrote
// under their display name, their reactions, flags and follows, and what
// moderators recorded about them. The community keys everything by
// account, so a person's part is that of the account joined to their
// record.
type Holder struct{}

var _ person.Holder = Holder{}

// HolderName is the heading in a person's copy.
func (Holder) HolderName() string { return "The community" }

// Tables are the tables that hold a person's community data.
func (Holder) Tables() []string {
	return []string{"community_members", "community_trust_changes", "community_topics", "community_posts", "community_reactions",
		"community_flags", "community_escalations", "community_safeguarding", "community_sanctions", "community_appeals", "community_support_requests", "community_follows", "community_invitations", "community_topic_tags"}
}

// RemovedText replaces what a forgotten member wrote: others' replies stay
// where they were, with the gap explained.
const (
	RemovedText  = "This post was removed when its writer's data was deleted."
	RemovedTitle = "Removed"
	formerName   = "Former member"
)

// ExportedMember is the community part of a person's copy.
type ExportedMember struct {
	DisplayName     string           `json:"display_name"`
	TrustLevel      int              `json:"trust_level"`
	CareTeamConsent bool             `json:"may_tell_my_care_team"`
	Joined          time.Time        `json:"joined"`
	Posts           []ExportedPost   `json:"posts"`
	Reactions       []ExportedAction `json:"reactions"`
	Flags           []ExportedAction `json:"flags_raised"`
	TrustChanges    []ExportedAction `json:"trust_changes"`
	Escalations     []ExportedAction `json:"concerns_recorded_about_me"`
	// Safeguarding: concerns raised without the member's agreement, what
	// was decided and why.
	Safeguarding []ExportedAction `json:"safeguarding_concerns_about_me"`
	// Sanctions: what moderators applied, and why.
	Sanctions []ExportedAction `json:"sanctions"`
	// Appeals: the member's appeals against sanctions and what was decided.
	Appeals []ExportedAction `json:"appeals"`
}

// ExportedPost is one post the person wrote.
type ExportedPost struct {
	Topic   string    `json:"topic"`
	Opening bool      `json:"opened_the_topic"`
	Body    string    `json:"body"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
}

// ExportedAction is one reaction, flag, trust change or concern.
type ExportedAction struct {
	What string    `json:"what"`
	At   time.Time `json:"at"`
}

// accountOf is the account joined to the person's record, 0 for none.
func accountOf(ctx context.Context, tx *store.Tx, personID int64) (int64, error) {
	var uid int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE person_id = $1", personID).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uid, err
}

// Export returns everything the community holds about the person, inside
// tx; nil when they never joined.
func (Holder) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	uid, err := accountOf(ctx, tx, personID)
	if err != nil || uid == 0 {
		return nil, err
	}
	var e ExportedMember
	err = tx.QueryRowContext(ctx, "SELECT display_name, trust_level, care_team_consent, joined_at FROM community_members WHERE user_id = $1", uid).
		Scan(&e.DisplayName, &e.TrustLevel, &e.CareTeamConsent, &e.Joined)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e.Posts, e.Reactions, e.Flags, e.TrustChanges, e.Escalations = []ExportedPost{}, []ExportedAction{}, []ExportedAction{}, []ExportedAction{}, []ExportedAction{}
	e.Safeguarding, e.Sanctions, e.Appeals = []ExportedAction{}, []ExportedAction{}, []ExportedAction{}
	rows, err := tx.QueryContext(ctx, `SELECT t.title, p.opening, p.body, p.status, p.created_at FROM community_posts p
		JOIN community_topics t ON t.id = p.topic_id WHERE p.author_user_id = $1 ORDER BY p.id`, uid)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var p ExportedPost
		if err := rows.Scan(&p.Topic, &p.Opening, &p.Body, &p.Status, &p.At); err != nil {
			rows.Close()
			return nil, err
		}
		e.Posts = append(e.Posts, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, q := range []struct {
		into *[]ExportedAction
		sql  string
	}{
		{&e.Reactions, "SELECT kind, created_at FROM community_reactions WHERE user_id = $1 ORDER BY created_at"},
		{&e.Flags, "SELECT kind, created_at FROM community_flags WHERE flagged_by_user_id = $1 ORDER BY id"},
		{&e.TrustChanges, "SELECT reason, changed_at FROM community_trust_changes WHERE user_id = $1 ORDER BY id"},
		{&e.Escalations, "SELECT reason, escalated_at FROM community_escalations WHERE subject_user_id = $1 ORDER BY id"},
		{&e.Safeguarding, `SELECT reason || ' (' || status || CASE WHEN decision_reason <> '' THEN ': ' || decision_reason ELSE '' END || ')', raised_at
			FROM community_safeguarding WHERE subject_user_id = $1 ORDER BY id`},
		{&e.Sanctions, "SELECT kind || ': ' || reason, starts_at FROM community_sanctions WHERE user_id = $1 ORDER BY id"},
		{&e.Appeals, "SELECT words || ' (' || status || CASE WHEN decision_reason <> '' THEN ': ' || decision_reason ELSE '' END || ')', created_at FROM community_appeals WHERE user_id = $1 ORDER BY id"},
	} {
		if err := actions(ctx, tx, q.into, q.sql, uid); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func actions(ctx context.Context, tx *store.Tx, into *[]ExportedAction, q string, uid int64) error {
	rows, err := tx.QueryContext(ctx, q, uid)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a ExportedAction
		if err := rows.Scan(&a.What, &a.At); err != nil {
			return err
		}
		*into = append(*into, a)
	}
	return rows.Err()
}

// LastActivity is when the person last joined, posted, reacted or
// flagged.
func (Holder) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	uid, err := accountOf(ctx, tx, personID)
	if err != nil || uid == 0 {
		return time.Time{}, err
	}
	return person.Latest(ctx, tx, uid,
		"SELECT joined_at FROM community_members WHERE user_id = $1",
		"SELECT created_at FROM community_posts WHERE author_user_id = $1 ORDER BY created_at DESC LIMIT 1",
		"SELECT created_at FROM community_reactions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1",
		"SELECT created_at FROM community_flags WHERE flagged_by_user_id = $1 ORDER BY created_at DESC LIMIT 1")
}

// Forget removes the person from the community, inside tx, before their
// account is closed and their referrals and alerts are deleted (the
// retention job asks holders in reverse order): their words are replaced
// (others' replies in their topics stay, the gap explained), their display
// name becomes "Former member", and their reactions, follows, invitations,
// trust history, support requests, notes on their flags and the concerns
// recorded about them (safeguarding concerns and sanctions too) are deleted, with the tags they gave their topics,
// the moderators' reasons about their posts and what others wrote in
// flagging them.
func (Holder) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	uid, err := accountOf(ctx, tx, personID)
	if err != nil || uid == 0 {
		return err
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{"UPDATE community_posts SET body = $1, found = '', decision_reason = '' WHERE author_user_id = $2", []any{RemovedText, uid}},
		{"UPDATE community_topics SET title = $1 WHERE author_user_id = $2", []any{RemovedTitle, uid}},
		{"DELETE FROM community_topic_tags WHERE topic_id IN (SELECT id FROM community_topics WHERE author_user_id = $1)", []any{uid}},
		{"UPDATE community_flags SET note = '' WHERE post_id IN (SELECT id FROM community_posts WHERE author_user_id = $1)", []any{uid}},
		{"UPDATE community_members SET display_name = $1, display_key = $2, care_team_consent = FALSE, consent_changed_at = NULL WHERE user_id = $3",
			[]any{formerName, fmt.Sprintf("former-member-%d", uid), uid}},
		{"UPDATE community_flags SET note = '' WHERE flagged_by_user_id = $1", []any{uid}},
		{"DELETE FROM community_reactions WHERE user_id = $1", []any{uid}},
		{"DELETE FROM community_follows WHERE user_id = $1", []any{uid}},
		{"DELETE FROM community_invitations WHERE user_id = $1", []any{uid}},
		{"DELETE FROM community_trust_changes WHERE user_id = $1", []any{uid}},
		{"DELETE FROM community_support_requests WHERE user_id = $1", []any{uid}},
		{"DELETE FROM community_escalations WHERE subject_user_id = $1", []any{uid}},
		{"DELETE FROM community_safeguarding WHERE subject_user_id = $1", []any{uid}},
		{"DELETE FROM community_appeals WHERE user_id = $1", []any{uid}},
		{"DELETE FROM community_sanctions WHERE user_id = $1", []any{uid}},
	} {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	return nil
}
