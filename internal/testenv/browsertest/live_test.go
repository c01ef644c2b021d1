package browsertest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestTopicUpdatesLive: a member reading a topic on a phone, with
// JavaScript on, sees a new reply appear at the end of the topic without
// reloading, and screen readers are told; a held reply never appears. The
// page, with the reply added, passes axe at both widths.
func TestTopicUpdatesLive(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	mod := e.Principal(t, "moderator")
	sp, err := e.Community.CreateSpace(ctx, mod, community.Space{Name: "Living with voices", ForPeople: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, display := range map[string]string{"moderator": "Steady Lark", "person": "Quiet Heron", "person2": "Bright Finch"} {
		if _, err := e.Community.SaveSettings(ctx, e.Principal(t, name), community.Settings{DisplayName: display}); err != nil {
			t.Fatal(err)
		}
	}
	opened, err := e.Community.CreateTopic(ctx, mod, sp.ID, community.NewTopic{Title: "Evenings", Body: "How are evenings for you?"})
	if err != nil {
		t.Fatal(err)
	}

	p := b.newPage(t, e, "member on a phone")
	p.setViewport(mobile)
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.open("/community/topics/" + strconv.FormatInt(opened.Topic.ID, 10))
	p.wantText("How are evenings for you?")

	if _, err := e.Community.Reply(ctx, e.Principal(t, "person2"), opened.Topic.ID, community.NewPost{Body: "HELDCANARY a new member's reply"}); err != nil {
		t.Fatal(err)
	}
	reply, err := e.Community.Reply(ctx, mod, opened.Topic.ID, community.NewPost{Body: "Evenings are easier with a routine."})
	if err != nil {
		t.Fatal(err)
	}
	js := `!!document.getElementById("post-` + strconv.FormatInt(reply.Post.ID, 10) + `")`
	deadline := time.Now().Add(15 * time.Second)
	for !eval[bool](p, js) {
		if time.Now().After(deadline) {
			t.Fatalf("the reply did not appear without reloading:\n%s", p.mainText())
		}
		time.Sleep(200 * time.Millisecond)
	}
	main := p.mainText()
	if !strings.Contains(main, "Evenings are easier with a routine.") || strings.Contains(main, "HELDCANARY") {
		t.Fatalf("the page after the live update:\n%s", main)
	}
	if s := eval[string](p, `document.getElementById("posts-status").textContent`); !strings.Contains(s, "new reply") {
		t.Errorf("screen readers are not told: %q", s)
	}
	p.check()
}
