package community_test

import (
	"context"
	"testing"

	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Tags make a cloud of what people talk about; search and tags find only
// topics the reader may see; followers are told of new replies.
func TestTagsSearchAndFollow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		open := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		secret := space(t, w, community.Space{Name: "Canary circle", InvitationOnly: true})
		writer := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, writer)
		reader := join(t, w, "person2", "Bright Finch", false)
		trusted(t, w, reader)
		mod := join(t, w, "moderator", "Mo Moderator", false)
		a := must(w.Community.CreateTopic(ctx, writer, open.ID, community.NewTopic{Title: "Sleep at 50% off", Body: "Lavender helps me sleep", Tags: "Sleep, nights"}))
		must(w.Community.CreateTopic(ctx, writer, open.ID, community.NewTopic{Title: "Music", Body: "Headphones", Tags: "sleep, music"}))
		must(w.Community.CreateTopic(ctx, mod, secret.ID, community.NewTopic{Title: "Canary sleep", Body: "lavender canary", Tags: "sleep, canary"}))
		if _, err := w.Community.CreateTopic(ctx, writer, open.ID, community.NewTopic{Title: "x", Body: "y", Tags: "a,b,c,d,e,f"}); field(err) != "tags" {
			t.Fatalf("six tags: %v", err)
		}
		cloud := must(w.Community.Tags(ctx, reader, 0))
		got := map[string]int{}
		for _, c := range cloud {
			got[c.Tag] = c.Count
		}
		if got["sleep"] != 2 || got["nights"] != 1 || got["canary"] != 0 {
			t.Fatalf("cloud %+v", cloud)
		}
		for q, want := range map[string]int{"LAVENDER": 1, "headphones": 1, "50%": 1, "canary": 0, "sleep lavender": 1} {
			if n := len(must(w.Community.Find(ctx, reader, q, ""))); n != want {
				t.Errorf("search %q: %d topics, want %d", q, n, want)
			}
		}
		if n := len(must(w.Community.Find(ctx, reader, "", "sleep"))); n != 2 {
			t.Errorf("tag sleep: %d", n)
		}
		if n := len(must(w.Community.Find(ctx, mod, "canary", ""))); n != 1 {
			t.Errorf("the moderator's search: %d", n)
		}
		if _, err := w.Community.Follow(ctx, reader, a.Topic.ID, true); err != nil {
			t.Fatal(err)
		}
		if tp := must(w.Community.Topic(ctx, reader, a.Topic.ID)); !tp.Following || len(tp.Topic.Tags) != 2 {
			t.Fatalf("%+v", tp)
		}
		must(w.Community.Reply(ctx, writer, a.Topic.ID, community.NewPost{Body: "Update: still works"}))
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%new reply in “Sleep at 50% off”%'", reader.UserID); n != 1 {
			t.Fatalf("the follower was told %d times", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%new reply%'", writer.UserID); n != 0 {
			t.Fatal("the writer was told of their own reply")
		}
		// The follower's person role ends: a space for people tells them
		// nothing more, not even the title.
		if _, err := db.Exec(ctx, "DELETE FROM memberships WHERE user_id = $1 AND role = 'person'", reader.UserID); err != nil {
			t.Fatal(err)
		}
		must(w.Community.Reply(ctx, writer, a.Topic.ID, community.NewPost{Body: "Another update"}))
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%new reply%'", reader.UserID); n != 1 {
			t.Fatalf("a follower who may no longer enter the space was told: %d notifications", n)
		}
		if _, err := w.Community.Follow(ctx, w.Principal(t, "person2"), secretTopic(t, w, secret.ID), true); err == nil {
			t.Fatal("followed a topic in a space they cannot see")
		}
	})
}

func secretTopic(t *testing.T, w *testkit.World, spaceID int64) int64 {
	t.Helper()
	_, ts, err := w.Community.Topics(context.Background(), w.Principal(t, "moderator"), spaceID)
	if err != nil || len(ts) == 0 {
		t.Fatal(err)
	}
	return ts[0].ID
}
