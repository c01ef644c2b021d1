package community

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// visibleSpaceIDs are the spaces the caller may see, as one parameter for
// IDTable.
func (s *Service) visibleSpaceIDs(ctx context.Context, p *app.Principal) ([]int64, error) {
	spaces, err := s.Spaces(ctx, p)
	if err != nil {
		return nil, err
	}
	ids := []int64{}
	for _, sp := range spaces {
		ids = append(ids, sp.ID)
	}
	return ids, nil
}

// Tags is the tag cloud of the visible topics in the spaces the caller may
// see (spaceID 0), or in one of them.
func (s *Service) Tags(ctx context.Context, p *app.Principal, spaceID int64) ([]TagCount, error) {
	ids, err := s.visibleSpaceIDs(ctx, p)
	if err != nil {
		return nil, err
	}
	if spaceID != 0 {
		keep := []int64{}
		for _, id := range ids {
			if id == spaceID {
				keep = append(keep, id)
			}
		}
		ids = keep
	}
	out := []TagCount{}
	err = s.DB.Read(ctx, func(tx *store.Tx) error {
		a := &store.Args{}
		rows, err := tx.QueryContext(ctx, `SELECT g.tag, COUNT(*) FROM community_topic_tags g JOIN community_topics t ON t.id = g.topic_id
			JOIN `+tx.Dialect.IDTable(a.Add(store.IDsParam(ids)), "ids")+` ON ids.id = t.space_id
			WHERE t.status = 'visible' GROUP BY g.tag ORDER BY COUNT(*) DESC, g.tag LIMIT 60`, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c TagCount
			if err := rows.Scan(&c.Tag, &c.Count); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return Cloud(out), err
}

// Find is the topics the caller may see, in the spaces they may see, whose
// title or visible posts hold every word of q, or which carry tag; most
// recently active first.
func (s *Service) Find(ctx context.Context, p *app.Principal, q, tag string) ([]Topic, error) {
	q = strings.TrimSpace(q)
	tag = strings.ToLower(strings.TrimSpace(tag))
	if q == "" && tag == "" {
		return []Topic{}, nil
	}
	if len([]rune(q)) > 100 {
		return nil, app.Invalid(app.FieldError{Field: "q", Message: "Search for 100 characters or fewer"})
	}
	ids, err := s.visibleSpaceIDs(ctx, p)
	if err != nil {
		return nil, err
	}
	var out []Topic
	err = s.DB.Read(ctx, func(tx *store.Tx) error {
		a := store.NewArgs(p.UserID, store.IDsParam(ids))
		conds := []string{"t.space_id IN (SELECT id FROM " + tx.Dialect.IDTable("$2", "ids") + ")"}
		for _, w := range strings.Fields(strings.ToLower(q)) {
			like := a.Add("%" + likeEscape(w) + "%")
			conds = append(conds, `(LOWER(t.title) LIKE `+like+` ESCAPE '\' OR EXISTS (SELECT 1 FROM community_posts sp
				WHERE sp.topic_id = t.id AND sp.status = 'visible' AND LOWER(sp.body) LIKE `+like+` ESCAPE '\'))`)
		}
		if tag != "" {
			conds = append(conds, "EXISTS (SELECT 1 FROM community_topic_tags g WHERE g.topic_id = t.id AND g.tag = "+a.Add(tag)+")")
		}
		var err error
		out, err = topicsWhere(ctx, tx, p, strings.Join(conds, " AND "), a.Values()[1:]...)
		return err
	})
	return out, err
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// Follow starts or stops following a topic the caller may see (members):
// they are told of new replies.
func (s *Service) Follow(ctx context.Context, p *app.Principal, topicID int64, on bool) (bool, error) {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := member(ctx, tx, p, false); err != nil {
			return err
		}
		if _, err := topic(ctx, tx, p, topicID); err != nil {
			return err
		}
		q := "DELETE FROM community_follows WHERE user_id = $1 AND topic_id = $2"
		args := []any{p.UserID, topicID}
		if on {
			q = `INSERT INTO community_follows (user_id, topic_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, topic_id) DO NOTHING`
			args = append(args, now)
		}
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	return on, err
}

// tellFollowers tells everyone following a topic, but the writer, of a new
// reply others can see — only followers who may still enter the topic's
// space (mayEnter, written here over the follower's roles as they are
// now): someone whose person or carer role has ended hears nothing more
// from a space that is not for them, not even a title.
func (s *Service) tellFollowers(ctx context.Context, tx *store.Tx, topicID, writer int64) error {
	var title string
	if err := tx.QueryRowContext(ctx, "SELECT title FROM community_topics WHERE id = $1", topicID).Scan(&title); err != nil {
		return err
	}
	has := func(cond string) string {
		return "EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = f.user_id AND " + cond + ")"
	}
	rows, err := tx.QueryContext(ctx, `SELECT f.user_id FROM community_follows f JOIN community_topics t ON t.id = f.topic_id
		JOIN community_spaces sp ON sp.id = t.space_id JOIN users u ON u.id = f.user_id
		WHERE f.topic_id = $1 AND f.user_id <> $2 AND u.status = 'active' AND (`+has("m.role = 'moderator'")+`
			OR (sp.invitation_only AND EXISTS (SELECT 1 FROM community_invitations i WHERE i.space_id = sp.id AND i.user_id = f.user_id))
			OR (NOT sp.invitation_only AND (sp.for_public OR (sp.for_people AND `+has("m.role = 'person'")+`)
				OR (sp.for_carers AND `+has("m.role = 'carer'")+`) OR (sp.for_staff AND `+has("m.role NOT IN ('person', 'carer')")+`))))
		ORDER BY f.user_id`, topicID, writer)
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
	for _, id := range ids {
		if err := s.Notify.Tell(ctx, tx, id, 0, notify.CommunityReply{Title: title}); err != nil {
			return fmt.Errorf("telling a follower: %w", err)
		}
	}
	return nil
}

var _ = time.Second
