package community_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// A person's copy of their data includes what they wrote in the community;
// when retention forgets them, their words and display name go, while the
// replies others wrote in their topic stay, with the gap explained.
func TestHolderCopiesAndForgets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		me := w.Principal(t, "person")
		r, err := w.Referrals.CreateReferral(ctx, me, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: w.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, me, r.ID, referral.Move{To: referral.Withdrawn, Reason: "changed my mind"}); err != nil {
			t.Fatal(err)
		}
		sp := space(t, w, community.Space{Name: "Carers and people", ForPeople: true, ForCarers: true})
		writer := join(t, w, "person", "Quiet Heron", true)
		writer.PersonID = r.PersonID
		trusted(t, w, writer)
		other := join(t, w, "carer", "Kind Otter", false)
		trusted(t, w, other)
		res := must(w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Nights are long HERON-CANARY", Body: "What helps you sleep? HERON-CANARY",
			Tags: "heron-canary-tag, sleep"}))
		reply := must(w.Community.Reply(ctx, other, res.Post.TopicID, community.NewPost{Body: "A warm drink and the radio"}))
		must(w.Community.React(ctx, writer, reply.Post.ID, "thank_you"))
		if n := count(t, db, "SELECT COUNT(*) FROM community_topic_tags WHERE topic_id = $1", res.Topic.ID); n != 2 {
			t.Fatalf("tags on the topic: %d", n)
		}
		// Others' words about them, and a moderator's reason about their post.
		if err := w.Community.Flag(ctx, other, res.Post.ID, community.NewFlag{Kind: "identifies", Note: "FLAG-CANARY names them"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Community.Decide(ctx, w.Principal(t, "moderator"), res.Post.ID, community.Decision{Action: "approve", Reason: "REASON-CANARY"}); err != nil {
			t.Fatal(err)
		}

		cp, err := w.DataRights.OwnCopy(ctx, writer)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(cp)
		for _, want := range []string{`"The community"`, "Quiet Heron", "What helps you sleep? HERON-CANARY", `"thank_you"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the person's copy lacks %s", want)
			}
		}

		w.Clock.Advance(21 * 365 * 24 * time.Hour)
		rep, err := w.DataRights.Retain(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Forgotten == 0 {
			t.Fatalf("nobody forgotten: %+v", rep)
		}
		for _, q := range []string{
			"SELECT COUNT(*) FROM community_posts WHERE body LIKE '%HERON-CANARY%'",
			"SELECT COUNT(*) FROM community_topics WHERE title LIKE '%HERON-CANARY%'",
			"SELECT COUNT(*) FROM community_members WHERE display_name = 'Quiet Heron'",
			"SELECT COUNT(*) FROM community_reactions",
			"SELECT COUNT(*) FROM community_topic_tags",
			"SELECT COUNT(*) FROM community_flags WHERE note LIKE '%CANARY%'",
			"SELECT COUNT(*) FROM community_posts WHERE decision_reason LIKE '%CANARY%'",
			"SELECT COUNT(*) FROM community_trust_changes WHERE user_id = " + strconv.FormatInt(writer.UserID, 10),
		} {
			if n := count(t, db, q); n != 0 {
				t.Errorf("%s: %d left", q, n)
			}
		}
		page, err := w.Community.Topic(ctx, other, res.Post.TopicID)
		if err != nil {
			t.Fatal(err)
		}
		if page.Topic.Title != community.RemovedTitle || len(page.Posts) != 2 || page.Posts[0].Body != community.RemovedText ||
			page.Posts[1].Body != "A warm drink and the radio" || page.Posts[0].Author != "Former member" {
			t.Fatalf("the topic after the writer was forgotten: %+v", page)
		}
	})
}

// A display name may not give away the account's own name, in part or in
// whole, and not for an account that is staff and also uses services, even
// while acting at work; one concern per post.
func TestDisplayNamesHideWhoYouAre(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		p := w.Principal(t, "person") // "Test person"
		for _, name := range []string{"TEST PERSON", "Person of the hills", "Quiet Test"} {
			if _, err := w.Community.SaveSettings(ctx, p, community.Settings{DisplayName: name}); field(err) != "display_name" {
				t.Errorf("%q for %q: %v", name, p.Name, err)
			}
		}
		// A worker who also uses services, acting at work.
		worker := w.Principal(t, "worker") // "Test worker"
		if _, err := db.Exec(ctx, "INSERT INTO memberships (user_id, role, created_at) VALUES ($1, 'person', $2)", worker.UserID, w.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Community.SaveSettings(ctx, worker, community.Settings{DisplayName: "Worker Bee"}); field(err) != "display_name" {
			t.Errorf("a worker who uses services, at work, used their name: %v", err)
		}
		if _, err := w.Community.SaveSettings(ctx, worker, community.Settings{DisplayName: "Bright Finch"}); err != nil {
			t.Fatal(err)
		}
		// Staff who use no services post under their role and may use their name.
		if _, err := w.Community.SaveSettings(ctx, w.Principal(t, "lead"), community.Settings{DisplayName: "Test lead"}); err != nil {
			t.Errorf("a lead using their name: %v", err)
		}
	})
}
