package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

func mustModerate(p *app.Principal) error {
	if !isModerator(p) {
		return app.Errorf(app.CodeForbidden, "Only moderators can do this")
	}
	return nil
}

// Flag records a member's flag on a post they may see. The same member
// flagging a post for the same reason again while it waits is one flag.
func (s *Service) Flag(ctx context.Context, p *app.Principal, postID int64, in NewFlag) error {
	var pr app.Problems
	in.Note = strings.TrimSpace(in.Note)
	if !app.HasChoice(FlagKinds, in.Kind) {
		pr.Add("kind", "Choose why you are flagging this post")
	}
	pr.CheckLen("note", in.Note, 1000, "What you tell the moderators")
	if err := pr.Err(); err != nil {
		return err
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := member(ctx, tx, p, false); err != nil {
			return err
		}
		// Read-only members may still flag; suspended ones cannot enter.
		if err := suspended(ctx, tx, p, now); err != nil {
			return err
		}
		if _, err := visiblePost(ctx, tx, p, postID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO community_flags (post_id, kind, flagged_by_user_id, note, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (post_id, kind, flagged_by_user_id) WHERE resolved_at IS NULL DO NOTHING`, postID, in.Kind, p.UserID, in.Note, now)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSignedIn), audit.Event{Action: "community.flag", ObjectType: "community_post",
			ObjectID: fmt.Sprint(postID), Outcome: in.Kind})
	})
}

// riskKinds come first in the queue.
var riskKinds = []string{"risk", "worried"}

// flags loads a post's flags: open or resolved.
func flags(ctx context.Context, tx *store.Tx, postID int64, open bool) ([]Flag, error) {
	by, err := flagsOf(ctx, tx, []int64{postID}, open)
	if err != nil {
		return nil, err
	}
	if by[postID] == nil {
		return []Flag{}, nil
	}
	return by[postID], nil
}

// flagsOf loads the flags of several posts at once, open or resolved, by
// post.
func flagsOf(ctx context.Context, tx *store.Tx, postIDs []int64, open bool) (map[int64][]Flag, error) {
	cond := "f.resolved_at IS NOT NULL"
	if open {
		cond = "f.resolved_at IS NULL"
	}
	a := store.NewArgs()
	rows, err := tx.QueryContext(ctx, `SELECT f.post_id, f.id, f.kind, f.note, COALESCE(m.display_name, ''), f.created_at, f.resolved_at, f.outcome
		FROM community_flags f LEFT JOIN community_members m ON m.user_id = f.flagged_by_user_id
		WHERE f.post_id IN `+a.IDs(tx.Dialect, postIDs)+` AND `+cond+` ORDER BY f.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]Flag{}
	for rows.Next() {
		var f Flag
		var postID int64
		var res sql.NullTime
		if err := rows.Scan(&postID, &f.ID, &f.Kind, &f.Note, &f.FlaggedBy, &f.CreatedAt, &res, &f.Outcome); err != nil {
			return nil, err
		}
		f.Label, f.CreatedAt = FlagLabel(f.Kind), f.CreatedAt.UTC()
		if res.Valid {
			t := res.Time.UTC()
			f.ResolvedAt = &t
		}
		out[postID] = append(out[postID], f)
	}
	return out, rows.Err()
}

// QueueLimit is how many posts the queue shows at once.
const QueueLimit = 500

// Queue is the moderators' review queue: every post with an open flag,
// risk first (risk language, a member worried about someone), then the
// longest waiting — ordered so in SQL, before the limit, so a risk never
// waits behind the limit. Reading it is audited, naming each person whose
// posts it shows.
func (s *Service) Queue(ctx context.Context, p *app.Principal) ([]QueueItem, error) {
	if err := mustModerate(p); err != nil {
		return nil, err
	}
	out := []QueueItem{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := store.NewArgs()
		risk := "CASE WHEN kind IN " + store.In(a, riskKinds...) + " THEN 1 ELSE 0 END"
		rows, err := tx.QueryContext(ctx, `SELECT post_id FROM community_flags WHERE resolved_at IS NULL GROUP BY post_id
			ORDER BY MAX(`+risk+`) DESC, MIN(created_at), post_id LIMIT `+a.Add(QueueLimit), a.Values()...)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var people []int64
		if out, people, err = queueItems(ctx, tx, p, ids); err != nil {
			return err
		}
		record(p.ActorFor(app.PermModerate), audit.Event{Action: "community.queue.read", Subjects: people, ObjectType: "community_queue",
			ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// QueueSize is how many posts wait for a moderator, and how many of them
// are about risk: numbers for the moderator's home page.
func (s *Service) QueueSize(ctx context.Context, p *app.Principal) (waiting, risk int, err error) {
	if err := mustModerate(p); err != nil {
		return 0, 0, err
	}
	err = s.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT post_id), COUNT(DISTINCT CASE WHEN kind IN ('risk', 'worried') THEN post_id END)
		FROM community_flags WHERE resolved_at IS NULL`).Scan(&waiting, &risk)
	return waiting, risk, err
}

// queueItems loads posts for moderators, in the order of postIDs, with
// their topic, space, writer's trust level and open flags — a few queries
// whatever their number — and the people (records) who wrote them.
func queueItems(ctx context.Context, tx *store.Tx, p *app.Principal, postIDs []int64) ([]QueueItem, []int64, error) {
	out := []QueueItem{}
	if len(postIDs) == 0 {
		return out, nil, nil
	}
	a := store.NewArgs(p.UserID)
	ps, err := posts(ctx, tx, p, "p.id IN "+a.IDs(tx.Dialect, postIDs), a.Values()[1:]...)
	if err != nil {
		return nil, nil, err
	}
	type meta struct {
		title, space string
		trust        int
		person       sql.NullInt64
	}
	metas := map[int64]meta{}
	a = store.NewArgs()
	rows, err := tx.QueryContext(ctx, `SELECT p.id, t.title, s.name, m.trust_level, u.person_id FROM community_posts p
		JOIN community_topics t ON t.id = p.topic_id JOIN community_spaces s ON s.id = t.space_id
		JOIN community_members m ON m.user_id = p.author_user_id JOIN users u ON u.id = p.author_user_id
		WHERE p.id IN `+a.IDs(tx.Dialect, postIDs), a.Values()...)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id int64
		var m meta
		if err := rows.Scan(&id, &m.title, &m.space, &m.trust, &m.person); err != nil {
			rows.Close()
			return nil, nil, err
		}
		metas[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	open, err := flagsOf(ctx, tx, postIDs, true)
	if err != nil {
		return nil, nil, err
	}
	byID := map[int64]Post{}
	for _, po := range ps {
		byID[po.ID] = po
	}
	var people []int64
	for _, id := range postIDs {
		po, ok := byID[id]
		m, ok2 := metas[id]
		if !ok || !ok2 {
			continue
		}
		q := QueueItem{Post: po, TopicTitle: m.title, SpaceName: m.space, TrustLevel: m.trust, Flags: open[id]}
		if q.Flags == nil {
			q.Flags = []Flag{}
		}
		for i, f := range q.Flags {
			if i == 0 || f.CreatedAt.Before(q.WaitingFrom) {
				q.WaitingFrom = f.CreatedAt
			}
			q.Risk = q.Risk || slices.Contains(riskKinds, f.Kind)
		}
		if m.person.Valid && !slices.Contains(people, m.person.Int64) {
			people = append(people, m.person.Int64)
		}
		out = append(out, q)
	}
	return out, people, nil
}

// Item is one post for a moderator: the post and its topic around it, its
// open flags and those already resolved, and any escalations. Reading it
// is audited, naming each person whose posts it shows.
func (s *Service) Item(ctx context.Context, p *app.Principal, postID int64) (Item, error) {
	if err := mustModerate(p); err != nil {
		return Item{}, err
	}
	var it Item
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		items, people, err := queueItems(ctx, tx, p, []int64{postID})
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return app.NotFound("The post")
		}
		it.QueueItem = items[0]
		it.WriterID = it.Post.authorID
		if it.Context, err = posts(ctx, tx, p, "p.topic_id = $2", it.Post.TopicID); err != nil {
			return err
		}
		if it.History, err = flags(ctx, tx, postID, false); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT care_team_consent FROM community_members WHERE user_id = $1", it.WriterID).Scan(&it.Consent); err != nil {
			return err
		}
		if it.Escalations, err = escalations(ctx, tx, postID); err != nil {
			return err
		}
		if it.Safeguarding, err = postSafeguarding(ctx, tx, p, postID); err != nil {
			return err
		}
		if it.Sanctions, err = sanctionsOf(ctx, tx, it.WriterID, s.Clock.Now()); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT u.person_id FROM community_posts p JOIN users u ON u.id = p.author_user_id
			WHERE p.topic_id = $1 AND u.person_id IS NOT NULL`, it.Post.TopicID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if !slices.Contains(people, id) {
				people = append(people, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		record(p.ActorFor(app.PermModerate), audit.Event{Action: "community.item.read", Subjects: people, ObjectType: "community_post",
			ObjectID: fmt.Sprint(postID)})
		return nil
	})
	return it, err
}

func escalations(ctx context.Context, tx *store.Tx, postID int64) ([]Escalation, error) {
	rows, err := tx.QueryContext(ctx, `SELECT e.id, e.route, e.reason, e.escalated_at, COALESCE(u.name, '')
		FROM community_escalations e LEFT JOIN users u ON u.id = e.escalated_by_user_id WHERE e.post_id = $1 ORDER BY e.id`, postID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Escalation{}
	for rows.Next() {
		var e Escalation
		if err := rows.Scan(&e.ID, &e.Route, &e.Reason, &e.At, &e.By); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// lockPost takes a post's row lock for a moderator's decision.
func lockPost(ctx context.Context, tx *store.Tx, postID int64) (topicID, author int64, opening bool, status string, err error) {
	err = tx.QueryRowContext(ctx, "SELECT topic_id, author_user_id, opening, status FROM community_posts WHERE id = $1"+tx.Dialect.ForUpdate(),
		postID).Scan(&topicID, &author, &opening, &status)
	if errors.Is(err, sql.ErrNoRows) {
		err = app.NotFound("The post")
	}
	return
}

// Decide records a moderator's decision on a post: approve (others see it)
// or hide (with a reason). Every open flag on it is closed with the
// outcome; the writer and each flagger are told; it is audited. Two
// moderators deciding at once: the post's row lock makes the second find
// nothing left to decide (409).
func (s *Service) Decide(ctx context.Context, p *app.Principal, postID int64, d Decision) (Item, error) {
	if err := mustModerate(p); err != nil {
		return Item{}, err
	}
	var pr app.Problems
	d.Reason = strings.TrimSpace(d.Reason)
	switch d.Action {
	case "approve":
	case "hide":
		if d.Reason == "" {
			pr.Add("reason", "Say why the post is hidden: its writer is told")
		}
	default:
		pr.Add("action", "Choose approve or hide")
	}
	pr.CheckLen("reason", d.Reason, 1000, "The reason")
	if err := pr.Err(); err != nil {
		return Item{}, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		topicID, author, opening, status, err := lockPost(ctx, tx, postID)
		if err != nil {
			return err
		}
		open, err := flags(ctx, tx, postID, true)
		if err != nil {
			return err
		}
		if len(open) == 0 && (d.Action == "approve" || status == "hidden") {
			return app.Errorf(app.CodeConflict, "Another moderator has already decided about this post")
		}
		newStatus, outcome, told := "visible", "approved", "left up"
		if d.Action == "hide" {
			newStatus, outcome, told = "hidden", "hidden", "hidden"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE community_posts SET status = $1, decided_at = $2, decided_by_user_id = $3, decision = $4,
			decision_reason = $5, version = version + 1 WHERE id = $6`, newStatus, now, p.UserID, outcome, d.Reason, postID); err != nil {
			return err
		}
		if opening {
			if _, err := tx.ExecContext(ctx, "UPDATE community_topics SET status = $1 WHERE id = $2", newStatus, topicID); err != nil {
				return err
			}
		} else if status == "held" && newStatus == "visible" {
			if _, err := tx.ExecContext(ctx, "UPDATE community_topics SET last_post_at = $1 WHERE id = $2", now, topicID); err != nil {
				return err
			}
			if err := s.tellFollowers(ctx, tx, topicID, author); err != nil {
				return err
			}
		}
		// The writer is told when their held post is approved or any post
		// hidden; each member who flagged it, what happened.
		if status == "held" || d.Action == "hide" {
			if err := s.Notify.Tell(ctx, tx, author, 0, notify.CommunityDecision{Outcome: outcome, Reason: d.Reason}); err != nil {
				return err
			}
		}
		if err := s.resolveFlags(ctx, tx, p, postID, now, outcome, told, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.decide", ObjectType: "community_post",
			ObjectID: fmt.Sprint(postID), Outcome: outcome})
	})
	if err != nil {
		return Item{}, err
	}
	return s.Item(ctx, p, postID)
}

// SetTrust sets a member's trust level, with a reason (moderators). The
// member is told.
func (s *Service) SetTrust(ctx context.Context, p *app.Principal, userID int64, c TrustChange) (Member, error) {
	if err := mustModerate(p); err != nil {
		return Member{}, err
	}
	var pr app.Problems
	c.Reason = strings.TrimSpace(c.Reason)
	if LevelLabel(c.Level) == "" {
		pr.Add("level", "Choose new member, member or trusted member")
	}
	if c.Reason == "" {
		pr.Add("reason", "Say why the trust level changes: the member is told")
	}
	pr.CheckLen("reason", c.Reason, 500, "The reason")
	if err := pr.Err(); err != nil {
		return Member{}, err
	}
	now := s.Clock.Now()
	var m Member
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		m, err = member(ctx, tx, &app.Principal{UserID: userID}, true)
		if err != nil {
			return app.NotFound("The member")
		}
		if m.TrustLevel == c.Level {
			return app.Invalid(app.FieldError{Field: "level", Message: "The member is already at this trust level"})
		}
		if err := setLevel(ctx, tx, userID, m.TrustLevel, c.Level, c.Reason, p.UserID, now); err != nil {
			return err
		}
		m.TrustLevel = c.Level
		if err := s.Notify.Tell(ctx, tx, userID, 0, notify.CommunityTrust{Title: LevelLabel(c.Level), Reason: c.Reason}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.trust", ObjectType: "community_member",
			ObjectID: fmt.Sprint(userID), Outcome: fmt.Sprint(c.Level)})
	})
	return m, err
}

// Identity is who is behind a display name, for a moderator who needs it
// for someone's safety. Each look is audited, naming the person when the
// account has a record.
func (s *Service) Identity(ctx context.Context, p *app.Principal, userID int64) (Identity, error) {
	if err := mustModerate(p); err != nil {
		return Identity{}, err
	}
	var id Identity
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var person sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT m.display_name, u.name, u.email, u.person_id, m.trust_level FROM community_members m
			JOIN users u ON u.id = m.user_id WHERE m.user_id = $1`, userID).Scan(&id.DisplayName, &id.Name, &id.Email, &person, &id.TrustLevel)
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The member")
		} else if err != nil {
			return err
		}
		id.PersonID, id.HasRecord = person.Int64, person.Valid
		record(p.ActorFor(app.PermModerate), audit.Event{Action: "community.identity.read", SubjectPersonID: id.PersonID,
			ObjectType: "community_member", ObjectID: fmt.Sprint(userID)})
		return nil
	})
	return id, err
}

// Escalate records a moderator's concern for the writer of a post. If the
// writer agreed (in their settings) and has an open referral, the duty
// leads of its team are alerted — the alert carries the referral's
// reference and a link, never the post; otherwise the moderators follow up
// in the space. The writer is told which, and it is audited.
func (s *Service) Escalate(ctx context.Context, p *app.Principal, postID int64, in NewEscalation) (Escalation, error) {
	if err := mustModerate(p); err != nil {
		return Escalation{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var pr app.Problems
	if in.Reason == "" {
		pr.Add("reason", "Say what worries you")
	}
	pr.CheckLen("reason", in.Reason, 1000, "The reason")
	if err := pr.Err(); err != nil {
		return Escalation{}, err
	}
	now := s.Clock.Now()
	e := Escalation{Route: "moderators", Reason: in.Reason, At: now, By: p.Name}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// A retried transaction (store.DB.Write retries one that met a
		// deadlock or a serialization failure) starts again from nothing.
		e.Route = "moderators"
		_, author, _, _, err := lockPost(ctx, tx, postID)
		if err != nil {
			return err
		}
		// One concern per post: a second (a double submit, or two
		// moderators at once — the post's lock makes them take turns)
		// would raise a second alert for the same words.
		var already int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM community_escalations WHERE post_id = $1", postID).Scan(&already); err != nil {
			return err
		}
		if already > 0 {
			return app.Errorf(app.CodeConflict, "A concern about this post has already been recorded.")
		}
		var consent bool
		var personID sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT m.care_team_consent, u.person_id FROM community_members m JOIN users u ON u.id = m.user_id
			WHERE m.user_id = $1`, author).Scan(&consent, &personID); err != nil {
			return err
		}
		var alertID int64
		if consent && personID.Valid {
			ref, err := openReferral(ctx, tx, p, personID.Int64)
			if err != nil {
				return err
			}
			if ref.id != 0 {
				a, _, err := s.Alerts.Raise(ctx, tx, now, p.ActorFor(app.PermModerate), alert.New{Kind: alert.PossibleRisk, TeamID: ref.team,
					ReferralID: ref.id, PersonID: personID.Int64, Reference: ref.reference, Detail: []string{"community"},
					Link: fmt.Sprintf("/referrals/%d", ref.id)})
				if err != nil {
					return err
				}
				alertID, e.Route = a.ID, "care_team"
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO community_escalations (post_id, subject_user_id, route, alert_id, reason, escalated_by_user_id, escalated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, postID, author, e.Route, nullID(alertID), in.Reason, p.UserID, now).Scan(&e.ID); err != nil {
			return err
		}
		if err := s.resolveFlags(ctx, tx, p, postID, now, "escalated", FollowingUp, concernFlags); err != nil {
			return err
		}
		if err := s.Notify.Tell(ctx, tx, author, 0, notify.CommunityConcern{Kind: e.Route}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermModerate), audit.Event{Action: "community.escalate", SubjectPersonID: personID.Int64,
			ObjectType: "community_post", ObjectID: fmt.Sprint(postID), Outcome: e.Route})
	})
	return e, err
}

// FollowingUp is what a member who flagged a post is told when a
// moderator acts on a concern about its writer: that it is being followed
// up, never how or by whom (the writer's care team and consent are theirs).
const FollowingUp = "they are following it up with the people who can help"

// concernFlags are the flags a concern about the writer settles.
var concernFlags = []string{"risk", "worried"}

// resolveFlags settles a post's open flags (of the kinds given; all when
// none) with an outcome, and tells each member whose flag it settled what
// happened, once each, in the same transaction.
func (s *Service) resolveFlags(ctx context.Context, tx *store.Tx, p *app.Principal, postID int64, now time.Time, outcome, told string, kinds []string) error {
	a := store.NewArgs(now, p.UserID, outcome, postID)
	cond := ""
	if len(kinds) > 0 {
		cond = " AND kind IN " + store.In(a, kinds...)
	}
	rows, err := tx.QueryContext(ctx, `UPDATE community_flags SET resolved_at = $1, resolved_by_user_id = $2, outcome = $3
		WHERE post_id = $4 AND resolved_at IS NULL`+cond+` RETURNING flagged_by_user_id`, a.Values()...)
	if err != nil {
		return err
	}
	var flaggers []int64
	for rows.Next() {
		var id sql.NullInt64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if id.Valid && !slices.Contains(flaggers, id.Int64) {
			flaggers = append(flaggers, id.Int64)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range flaggers {
		if err := s.Notify.Tell(ctx, tx, id, 0, notify.CommunityFlagOutcome{Outcome: told}); err != nil {
			return err
		}
	}
	return nil
}

type openRef struct {
	id, team  int64
	reference string
}

// openReferral is the person's newest open referral, whose team supports
// them. The moderator escalating with the person's consent reaches only
// its id, team and reference, for the alert.
func openReferral(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) (openRef, error) {
	var r openRef
	var team sql.NullInt64
	if !isModerator(p) {
		return r, app.Errorf(app.CodeForbidden, "Only moderators can do this")
	}
	a := store.NewArgs(personID)
	var open []string
	for _, st := range referral.Open {
		open = append(open, a.Add(string(st)))
	}
	// Locked: the alert raised goes to the team the referral is in when
	// this commits (a referral accepted into a team moves its open alerts
	// under the same lock).
	err := tx.QueryRowContext(ctx, `SELECT id, reference, team_id FROM referrals WHERE person_id = $1
		AND status IN (`+strings.Join(open, ", ")+`) ORDER BY id DESC LIMIT 1`+tx.Dialect.ForUpdate(), a.Values()...).Scan(&r.id, &r.reference, &team)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	r.team = team.Int64
	return r, err
}

var _ = time.Second
