package community_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A member worried about someone is first in the queue even behind more
// than a page of older flags: the queue is ordered by risk before it is
// cut. Reading the queue, and one item, is audited naming the writer.
func TestQueueRiskBeyondTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		me := w.Principal(t, "person")
		r, err := w.Referrals.CreateReferral(ctx, me, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: w.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		writer := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, writer)
		flagger := join(t, w, "person2", "Bright Finch", false)
		res := must(w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Nights", Body: "Long nights"}))
		// More than a page of older spam flags, on older posts.
		old := w.Clock.Now().Add(-24 * time.Hour)
		if err := db.Write(ctx, func(tx *store.Tx) error {
			for range community.QueueLimit + 5 {
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO community_posts (topic_id, author_user_id, body, status, created_at)
					VALUES ($1, $2, 'Buy now', 'visible', $3) RETURNING id`, res.Topic.ID, writer.UserID, old).Scan(&id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO community_flags (post_id, kind, flagged_by_user_id, created_at) VALUES ($1, 'spam', $2, $3)`,
					id, flagger.UserID, old); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		reply := must(w.Community.Reply(ctx, writer, res.Topic.ID, community.NewPost{Body: "I can't go on like this"}))
		if err := w.Community.Flag(ctx, flagger, reply.Post.ID, community.NewFlag{Kind: "worried"}); err != nil {
			t.Fatal(err)
		}
		mod := w.Principal(t, "moderator")
		q, err := w.Community.Queue(ctx, mod)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != community.QueueLimit || q[0].Post.ID != reply.Post.ID || !q[0].Risk || q[1].Risk || len(q[1].Flags) != 1 || q[1].TopicTitle != "Nights" {
			t.Fatalf("queue of %d, first %+v", len(q), q[0])
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_events a JOIN audit_subjects s ON s.audit_id = a.id
			WHERE a.action = 'community.queue.read' AND s.person_id = $1`, r.PersonID); n != 1 {
			t.Fatalf("queue reads audited naming the writer: %d", n)
		}
		it, err := w.Community.Item(ctx, mod, reply.Post.ID)
		if err != nil || !it.Risk || it.Post.ID != reply.Post.ID {
			t.Fatalf("item: %v %+v", err, it.QueueItem)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_events a JOIN audit_subjects s ON s.audit_id = a.id
			WHERE a.action = 'community.item.read' AND s.person_id = $1`, r.PersonID); n != 1 {
			t.Fatalf("item reads audited naming the writer: %d", n)
		}
	})
}

// A reply answers with its topic as it is: opened by its first writer, not
// by whoever replied.
func TestReplyKeepsTheTopicsAuthor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		opener := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, opener)
		replier := join(t, w, "person2", "Bright Finch", false)
		trusted(t, w, replier)
		res := must(w.Community.CreateTopic(ctx, opener, sp.ID, community.NewTopic{Title: "Nights", Body: "Long nights"}))
		if res.Topic.Author != "Quiet Heron" {
			t.Fatalf("the new topic's author: %q", res.Topic.Author)
		}
		reply := must(w.Community.Reply(ctx, replier, res.Topic.ID, community.NewPost{Body: "Same here"}))
		if reply.Topic.Author != "Quiet Heron" || reply.Post.Author != "Bright Finch" {
			t.Fatalf("the reply's topic by %q, post by %q", reply.Topic.Author, reply.Post.Author)
		}
	})
}
