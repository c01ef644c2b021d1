package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/watch"
)

const maxBody = 5000

// Topics lists a space's topics the caller may see, most recently active
// first: visible ones, the caller's own held ones, and for moderators
// every one.
func (s *Service) Topics(ctx context.Context, p *app.Principal, spaceID int64) (Space, []Topic, error) {
	var sp Space
	out := []Topic{}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		if err := suspended(ctx, tx, p, s.Clock.Now()); err != nil {
			return err
		}
		var err error
		if sp, err = space(ctx, tx, p, spaceID); err != nil {
			return err
		}
		if out, err = topicsWhere(ctx, tx, p, "t.space_id = $2", spaceID); err != nil {
			return err
		}
		d, err := dutyNow(ctx, tx, s.Clock.Now())
		sp.Duty = &d
		return err
	})
	return sp, out, err
}

const topicSelect = `SELECT t.id, t.space_id, s.name, t.title, m.display_name, t.status, t.created_at, t.last_post_at,
	(SELECT COUNT(*) FROM community_posts r WHERE r.topic_id = t.id AND NOT r.opening AND r.status = 'visible')
	FROM community_topics t JOIN community_spaces s ON s.id = t.space_id JOIN community_members m ON m.user_id = t.author_user_id`

// topicVisible is the condition for a topic its reader ($1) may see.
func topicVisible(p *app.Principal) string {
	if isModerator(p) {
		return "(CAST($1 AS BIGINT) IS NOT NULL)"
	}
	return "(t.status = 'visible' OR (t.status = 'held' AND t.author_user_id = $1))"
}

func topicsWhere(ctx context.Context, tx *store.Tx, p *app.Principal, cond string, args ...any) ([]Topic, error) {
	rows, err := tx.QueryContext(ctx, topicSelect+" WHERE "+topicVisible(p)+" AND "+cond+" ORDER BY t.last_post_at DESC, t.id DESC LIMIT 200",
		append([]any{p.UserID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Topic{}
	for rows.Next() {
		var t Topic
		if err := rows.Scan(&t.ID, &t.SpaceID, &t.SpaceName, &t.Title, &t.Author, &t.Status, &t.CreatedAt, &t.LastPostAt, &t.Replies); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastPostAt = t.CreatedAt.UTC(), t.LastPostAt.UTC()
		t.Tags = []string{}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	return out, withTags(ctx, tx, out)
}

// withTags fills the topics' tags, in one query.
func withTags(ctx context.Context, tx *store.Tx, ts []Topic) error {
	ids := make([]int64, len(ts))
	at := map[int64]int{}
	for i, t := range ts {
		ids[i], at[t.ID] = t.ID, i
	}
	a := &store.Args{}
	rows, err := tx.QueryContext(ctx, "SELECT g.topic_id, g.tag FROM community_topic_tags g JOIN "+tx.Dialect.IDTable(a.Add(store.IDsParam(ids)), "ids")+
		" ON ids.id = g.topic_id ORDER BY g.tag", a.Values()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		ts[at[id]].Tags = append(ts[at[id]].Tags, tag)
	}
	return rows.Err()
}

// topic loads a topic the caller may see, in a space they may see; any
// other is not found.
func topic(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Topic, error) {
	ts, err := topicsWhere(ctx, tx, p, "t.id = $2", id)
	if err != nil {
		return Topic{}, err
	}
	if len(ts) == 0 {
		return Topic{}, app.NotFound("The topic")
	}
	if _, err := space(ctx, tx, p, ts[0].SpaceID); err != nil {
		return Topic{}, app.NotFound("The topic")
	}
	return ts[0], nil
}

// Topic is a topic with the posts the caller may see: visible ones, their
// own held ones (marked), and hidden ones as a line saying so (their words
// only to their writer and moderators).
func (s *Service) Topic(ctx context.Context, p *app.Principal, id int64) (TopicPage, error) {
	return s.TopicAfter(ctx, p, id, 0)
}

// postVisible is the condition for a post its reader ($1) may see: not
// held, unless it is theirs or they moderate.
func postVisible(p *app.Principal) string {
	if isModerator(p) {
		return "(CAST($1 AS BIGINT) IS NOT NULL)"
	}
	return "(p.status <> 'held' OR p.author_user_id = $1)"
}

// TopicAfter is Topic with only the posts after the post afterID: what a
// reader who has seen the topic up to that post has not seen yet.
func (s *Service) TopicAfter(ctx context.Context, p *app.Principal, id, afterID int64) (TopicPage, error) {
	return s.topicPage(ctx, p, id, func(tx *store.Tx, tp *TopicPage) error {
		var err error
		// At most MaxPostsPerPage of them, as a page would hold.
		tp.Posts, err = posts(ctx, tx, p, `p.topic_id = $2 AND p.id > $3 AND p.id <= COALESCE((SELECT MAX(q.id) FROM (SELECT n.id FROM community_posts n
			WHERE n.topic_id = $2 AND n.id > $3 ORDER BY n.id LIMIT `+strconv.Itoa(MaxPostsPerPage)+`) q), $3)`, id, afterID)
		tp.Total = len(tp.Posts)
		return err
	})
}

// MaxPostsPerPage is the most posts of a topic read at once.
const MaxPostsPerPage = 500

// TopicPosts is a topic with a page of the posts the caller may see:
// limit of them (at most MaxPostsPerPage) from offset, oldest first, and
// how many there are. Offset -1 is the last page.
func (s *Service) TopicPosts(ctx context.Context, p *app.Principal, id int64, offset, limit int) (TopicPage, error) {
	if limit <= 0 || limit > MaxPostsPerPage {
		limit = MaxPostsPerPage
	}
	return s.topicPage(ctx, p, id, func(tx *store.Tx, tp *TopicPage) error {
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM community_posts p WHERE "+postVisible(p)+" AND p.topic_id = $2", p.UserID, id).Scan(&tp.Total); err != nil {
			return err
		}
		if offset < 0 {
			offset = max(0, (tp.Total-1)/limit*limit)
		}
		tp.Offset = offset
		tp.Posts = []Post{}
		// The page's first and last post, then the page's posts (and their
		// reactions) between them.
		var first, last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM (SELECT p.id FROM community_posts p WHERE `+postVisible(p)+
			` AND p.topic_id = $2 ORDER BY p.id LIMIT $3 OFFSET $4) page`, p.UserID, id, limit, offset).Scan(&first, &last); err != nil || !first.Valid {
			return err
		}
		var err error
		tp.Posts, err = posts(ctx, tx, p, "p.topic_id = $2 AND p.id BETWEEN $3 AND $4", id, first.Int64, last.Int64)
		return err
	})
}

// topicPage reads a topic the caller may see, its posts as load reads
// them, and the caller's part in it.
func (s *Service) topicPage(ctx context.Context, p *app.Principal, id int64, load func(tx *store.Tx, tp *TopicPage) error) (TopicPage, error) {
	var tp TopicPage
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		if err := suspended(ctx, tx, p, s.Clock.Now()); err != nil {
			return err
		}
		var err error
		if tp.Topic, err = topic(ctx, tx, p, id); err != nil {
			return err
		}
		if err := load(tx, &tp); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM community_members WHERE user_id = $1", p.UserID).Scan(&n); err != nil {
			return err
		}
		tp.Member = n > 0
		tp.CanReply = tp.Member && tp.Topic.Status == "visible"
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM community_follows WHERE user_id = $1 AND topic_id = $2", p.UserID, id).Scan(&n); err != nil {
			return err
		}
		tp.Following = n > 0
		return nil
	})
	return tp, err
}

// LatestPost is the id of a topic's newest post, whoever may see it (0
// when there is none): a cheap check, for live pages, of whether anything
// may have changed. It says nothing to anyone; what a reader is then sent
// comes from TopicAfter.
func (s *Service) LatestPost(ctx context.Context, topicID int64) (int64, error) {
	var id int64
	err := s.DB.QueryRowCached(ctx, "SELECT COALESCE(MAX(id), 0) FROM community_posts WHERE topic_id = $1", topicID).Scan(&id)
	return id, err
}

const postSelect = `SELECT p.id, p.topic_id, p.opening, p.author_user_id, m.display_name, p.author_role, p.body, p.status, p.created_at, p.decision_reason
	FROM community_posts p JOIN community_members m ON m.user_id = p.author_user_id`

// posts loads posts by cond ($2…), as the caller may see them, with their
// reactions.
func posts(ctx context.Context, tx *store.Tx, p *app.Principal, cond string, args ...any) ([]Post, error) {
	rows, err := tx.QueryContext(ctx, postSelect+" WHERE "+postVisible(p)+" AND "+cond+" ORDER BY p.id", append([]any{p.UserID}, args...)...)
	if err != nil {
		return nil, err
	}
	out := []Post{}
	byID := map[int64]int{}
	for rows.Next() {
		var po Post
		if err := rows.Scan(&po.ID, &po.TopicID, &po.Opening, &po.authorID, &po.Author, &po.AuthorRole, &po.Body, &po.Status, &po.CreatedAt, &po.Reason); err != nil {
			rows.Close()
			return nil, err
		}
		po.CreatedAt = po.CreatedAt.UTC()
		po.Mine = po.authorID == p.UserID
		if po.Status == "hidden" && !po.Mine && !isModerator(p) {
			po.Body, po.Reason = "", ""
		}
		if po.AuthorRole != "" {
			po.AuthorRole = app.Role(po.AuthorRole).Label()
		}
		po.Reactions = []Reaction{}
		for _, r := range Reactions {
			po.Reactions = append(po.Reactions, Reaction{Kind: r.Code, Label: r.Label})
		}
		byID[po.ID] = len(out)
		out = append(out, po)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	rrows, err := tx.QueryContext(ctx, `SELECT r.post_id, r.kind, COUNT(*), SUM(CASE WHEN r.user_id = $1 THEN 1 ELSE 0 END)
		FROM community_reactions r JOIN community_posts p ON p.id = r.post_id WHERE `+cond+` GROUP BY r.post_id, r.kind`, append([]any{p.UserID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rrows.Close()
	for rrows.Next() {
		var id int64
		var kind string
		var n, mine int
		if err := rrows.Scan(&id, &kind, &n, &mine); err != nil {
			return nil, err
		}
		i, ok := byID[id]
		if !ok {
			continue
		}
		for j := range out[i].Reactions {
			if out[i].Reactions[j].Kind == kind {
				out[i].Reactions[j].Count, out[i].Reactions[j].Mine = n, mine > 0
			}
		}
	}
	return out, rrows.Err()
}

// CreateTopic starts a topic in a space with its opening post.
func (s *Service) CreateTopic(ctx context.Context, p *app.Principal, spaceID int64, in NewTopic) (Posted, error) {
	return s.createTopic(ctx, p, spaceID, in, nil)
}

// spaceGuard refuses a post into a space, in the post's transaction.
type spaceGuard func(ctx context.Context, tx *store.Tx, sp Space) error

func (s *Service) createTopic(ctx context.Context, p *app.Principal, spaceID int64, in NewTopic, guard spaceGuard) (Posted, error) {
	var pr app.Problems
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	if in.Title == "" {
		pr.Add("title", "Give your topic a title")
	}
	pr.CheckLen("title", in.Title, 120, "The title")
	in.Title = watch.ReplaceMatches(in.Title, watch.FindDetails(in.Title))
	tags, msg := ParseTags(in.Tags)
	if msg != "" {
		pr.Add("tags", msg)
	}
	return s.post(ctx, p, pr, in.Title, in.Body, func(ctx context.Context, tx *store.Tx, now time.Time, held bool) (Topic, error) {
		sp, err := space(ctx, tx, p, spaceID)
		if err != nil {
			return Topic{}, err
		}
		if guard != nil {
			if err := guard(ctx, tx, sp); err != nil {
				return Topic{}, err
			}
		}
		status := "visible"
		if held {
			status = "held"
		}
		t := Topic{SpaceID: sp.ID, SpaceName: sp.Name, Title: in.Title, Status: status, CreatedAt: now, LastPostAt: now}
		err = tx.QueryRowContext(ctx, `INSERT INTO community_topics (space_id, title, author_user_id, created_at, last_post_at, status)
			VALUES ($1, $2, $3, $4, $4, $5) RETURNING id`, sp.ID, in.Title, p.UserID, now, status).Scan(&t.ID)
		if err != nil {
			return t, err
		}
		t.Tags = tags
		for _, tag := range tags {
			if _, err := tx.ExecContext(ctx, "INSERT INTO community_topic_tags (topic_id, tag) VALUES ($1, $2)", t.ID, tag); err != nil {
				return t, err
			}
		}
		// The writer follows their own topic.
		_, err = tx.ExecContext(ctx, "INSERT INTO community_follows (user_id, topic_id, created_at) VALUES ($1, $2, $3)", p.UserID, t.ID, now)
		return t, err
	})
}

// Reply adds a reply to a topic.
func (s *Service) Reply(ctx context.Context, p *app.Principal, topicID int64, in NewPost) (Posted, error) {
	return s.reply(ctx, p, topicID, in.Body, nil)
}

// reply adds a reply, guard (if any) deciding on the topic's space.
func (s *Service) reply(ctx context.Context, p *app.Principal, topicID int64, body string, guard spaceGuard) (Posted, error) {
	return s.post(ctx, p, nil, "", body, func(ctx context.Context, tx *store.Tx, now time.Time, held bool) (Topic, error) {
		t, err := topic(ctx, tx, p, topicID)
		if err != nil {
			return Topic{}, err
		}
		if guard != nil {
			sp, err := space(ctx, tx, p, t.SpaceID)
			if err != nil {
				return Topic{}, err
			}
			if err := guard(ctx, tx, sp); err != nil {
				return Topic{}, err
			}
		}
		if t.Status != "visible" {
			return Topic{}, app.Errorf(app.CodeConflict, "This topic is not open for replies")
		}
		if !held {
			if _, err := tx.ExecContext(ctx, "UPDATE community_topics SET last_post_at = $1 WHERE id = $2", now, t.ID); err != nil {
				return Topic{}, err
			}
		}
		return t, nil
	})
}

// post is the one way a post is written: it checks the writer, their
// trust level's limits (counted before the check, so parallel posts cannot
// pass a limit together) and the watched words, then stores the post, its
// flags for the queue and the audit row in one transaction. The topic is
// made or found by where.
func (s *Service) post(ctx context.Context, p *app.Principal, pr app.Problems, title, body string,
	where func(ctx context.Context, tx *store.Tx, now time.Time, held bool) (Topic, error)) (Posted, error) {
	var res Posted
	if p == nil || p.UserID == 0 {
		return res, app.Errorf(app.CodeUnauthorized, "Sign in to post")
	}
	body = strings.TrimSpace(body)
	if body == "" {
		pr.Add("body", "Write your post")
	}
	pr.CheckLen("body", body, maxBody, "A post")
	if err := pr.Err(); err != nil {
		return res, err
	}
	found, err := s.check(ctx, title, body)
	if err != nil {
		return res, err
	}
	now := s.Clock.Now()
	opening := where != nil && title != ""
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		m, err := member(ctx, tx, p, true)
		if err != nil {
			return err
		}
		if m.TrustLevel, err = s.promote(ctx, tx, p, m, now); err != nil {
			return err
		}
		lim := LimitsFor(m.TrustLevel)
		if isModerator(p) {
			lim = LimitsFor(LevelTrusted)
		}
		// Sanctions are read after the member's row lock, which applying
		// one takes too: once a sanction commits, no post gets through.
		r, err := restrictionOf(ctx, tx, p.UserID, now)
		if err != nil {
			return err
		}
		if r.NoPosting {
			return refuse(r, "post")
		}
		lim.Held = lim.Held || r.Held
		if !lim.Links && (HasLink(body) || HasLink(title)) {
			return app.Invalid(app.FieldError{Field: "body", Message: "New members cannot post links yet. Take out the link, or describe where to find it"})
		}
		o := Decide(body, found, lim)
		if o.Blocked {
			// A post the watched words refuse is not stored; the writer is
			// shown where to get help if it was about risk.
			e := app.Invalid(app.FieldError{Field: "body", Message: "This post cannot be posted as it is written. Please change the words and try again"})
			return e
		}
		kind, limit := "community.reply", lim.RepliesPerDay
		if opening {
			kind, limit = "community.topic", lim.TopicsPerDay
		}
		n, err := s.Limits.HitTx(ctx, tx, ratelimit.Key(kind, fmt.Sprint(p.UserID)), 24*time.Hour)
		if err != nil {
			return err
		}
		if n > limit {
			what := "replies"
			if opening {
				what = "topics"
			}
			return app.Errorf(app.CodeTooMany, "You have posted as many %s as you can today (%d). You can post again tomorrow", what, limit)
		}
		if res.Topic, err = where(ctx, tx, now, o.Held); err != nil {
			return err
		}
		status := "visible"
		if o.Held {
			status = "held"
		}
		var cats []string
		for _, c := range o.Found {
			cats = append(cats, string(c))
		}
		role := string(staffRole(p))
		err = tx.QueryRowContext(ctx, `INSERT INTO community_posts (topic_id, opening, author_user_id, author_role, body, status, found, signposted, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, res.Topic.ID, opening, p.UserID, role, o.Body, status,
			strings.Join(cats, ","), o.Signpost, now).Scan(&res.Post.ID)
		if err != nil {
			return err
		}
		if o.Flagged && hasRisk(o.Found) {
			if err := addFlag(ctx, tx, res.Post.ID, "risk", 0, strings.Join(cats, ", "), now); err != nil {
				return err
			}
		} else if o.Flagged {
			if err := addFlag(ctx, tx, res.Post.ID, "other", 0, "Watched words: "+strings.Join(cats, ", "), now); err != nil {
				return err
			}
		}
		if o.Held {
			if err := addFlag(ctx, tx, res.Post.ID, "held", 0, "", now); err != nil {
				return err
			}
		}
		res.Post = Post{ID: res.Post.ID, TopicID: res.Topic.ID, Opening: opening, Author: m.DisplayName, Body: o.Body, Status: status,
			Mine: true, CreatedAt: now, Reactions: []Reaction{}}
		if role != "" {
			res.Post.AuthorRole = app.Role(role).Label()
		}
		if opening {
			// A reply's topic keeps the name of whoever opened it.
			res.Topic.Author = m.DisplayName
		}
		res.Held, res.HelpNow, res.Replaced = o.Held, o.Signpost, o.Body != body
		if !opening && !o.Held {
			if err := s.tellFollowers(ctx, tx, res.Topic.ID, p.UserID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSignedIn), audit.Event{Action: "community.post", ObjectType: "community_post",
			ObjectID: fmt.Sprint(res.Post.ID), Outcome: status})
	})
	if err != nil && res.HelpNow == false {
		// A refused post about risk still shows the writer where to get
		// help: the page says so with the error.
		if app.IsCode(err, app.CodeInvalid) && Decide(body, found, Limits{}).Signpost {
			return Posted{HelpNow: true}, err
		}
	}
	return res, err
}

func hasRisk(cs []watch.Category) bool {
	for _, c := range cs {
		if c.Risk() {
			return true
		}
	}
	return false
}

// check runs the watched words (every organisation's list: a space belongs
// to the service) and the identifying details over a post.
func (s *Service) check(ctx context.Context, title, body string) (watch.Result, error) {
	var r watch.Result
	if s.Watch != nil {
		var err error
		if r, err = s.Watch.Check(ctx, 0, body); err != nil {
			return r, err
		}
		if title != "" {
			t, err := s.Watch.Check(ctx, 0, title)
			if err != nil {
				return r, err
			}
			// The title is checked for risk and blocks; details in a title
			// are refused below rather than replaced at the wrong place.
			for _, m := range t.Matches {
				if m.Action != watch.Replace {
					m.Start, m.End = 0, 0
					r.Matches = append(r.Matches, m)
				}
			}
		}
	}
	return watch.Merge(r, watch.FindDetails(body)), nil
}

// promote raises a new member who has earned it, recording why.
func (s *Service) promote(ctx context.Context, tx *store.Tx, p *app.Principal, m Member, now time.Time) (int, error) {
	if m.TrustLevel != LevelNew {
		return m.TrustLevel, nil
	}
	r := Record{Joined: m.JoinedAt}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN status = 'visible' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'hidden' THEN 1 ELSE 0 END), 0) FROM community_posts WHERE author_user_id = $1`, m.UserID).Scan(&r.Approved, &r.Hidden); err != nil {
		return 0, err
	}
	var lowered int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM community_trust_changes WHERE user_id = $1 AND to_level < from_level", m.UserID).Scan(&lowered); err != nil {
		return 0, err
	}
	if lowered > 0 || !Promote(m.TrustLevel, r, now) {
		return m.TrustLevel, nil
	}
	if err := setLevel(ctx, tx, m.UserID, m.TrustLevel, LevelMember, "Took part for a day without problems", 0, now); err != nil {
		return 0, err
	}
	return LevelMember, nil
}

func setLevel(ctx context.Context, tx *store.Tx, userID int64, from, to int, reason string, by int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "UPDATE community_members SET trust_level = $1, version = version + 1 WHERE user_id = $2", to, userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO community_trust_changes (user_id, from_level, to_level, reason, changed_by_user_id, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, userID, from, to, reason, nullID(by), now)
	return err
}

func addFlag(ctx context.Context, tx *store.Tx, postID int64, kind string, by int64, note string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO community_flags (post_id, kind, flagged_by_user_id, note, created_at) VALUES ($1, $2, $3, $4, $5)`,
		postID, kind, nullID(by), note, now)
	return err
}

// React gives or takes back a supportive reaction to a post the caller may
// see (a member's); it answers the post as it is now.
func (s *Service) React(ctx context.Context, p *app.Principal, postID int64, kind string) (Post, error) {
	if !app.HasChoice(Reactions, kind) {
		return Post{}, app.Invalid(app.FieldError{Field: "kind", Message: "Choose me too, thank you or sending strength"})
	}
	now := s.Clock.Now()
	var out Post
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// The member's lock: two toggles at once take turns, as two clicks
		// would (without it, on PostgreSQL, two take-backs of a reaction
		// both found it and both deleted it, counting as one).
		if _, err := member(ctx, tx, p, true); err != nil {
			return err
		}
		if r, err := restrictionOf(ctx, tx, p.UserID, now); err != nil {
			return err
		} else if r.NoReacting {
			return refuse(r, "react to posts")
		}
		po, err := visiblePost(ctx, tx, p, postID)
		if err != nil {
			return err
		}
		if po.Status != "visible" {
			return app.Errorf(app.CodeConflict, "You can react to a post once others can see it")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO community_reactions (post_id, user_id, kind, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (post_id, user_id, kind) DO NOTHING`, postID, p.UserID, kind, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM community_reactions WHERE post_id = $1 AND user_id = $2 AND kind = $3", postID, p.UserID, kind); err != nil {
				return err
			}
		}
		ps, err := posts(ctx, tx, p, "p.id = $2", postID)
		if err != nil || len(ps) == 0 {
			return err
		}
		out = ps[0]
		return nil
	})
	return out, err
}

// visiblePost loads a post in a topic the caller may see; any other is not
// found.
func visiblePost(ctx context.Context, tx *store.Tx, p *app.Principal, postID int64) (Post, error) {
	var topicID int64
	err := tx.QueryRowContext(ctx, "SELECT topic_id FROM community_posts WHERE id = $1", postID).Scan(&topicID)
	if errors.Is(err, sql.ErrNoRows) {
		return Post{}, app.NotFound("The post")
	} else if err != nil {
		return Post{}, err
	}
	if _, err := topic(ctx, tx, p, topicID); err != nil {
		return Post{}, app.NotFound("The post")
	}
	ps, err := posts(ctx, tx, p, "p.id = $2", postID)
	if err != nil {
		return Post{}, err
	}
	if len(ps) == 0 {
		return Post{}, app.NotFound("The post")
	}
	return ps[0], nil
}
