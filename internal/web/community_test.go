package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// communityAuditCalls are the community's routes that show a person's data
// (who is behind a display name), for TestAuditOneRowPerCall.
func communityAuditCalls(t *testing.T, e *webtest.Env) []auditCall {
	t.Helper()
	p := e.Principal(t, "person2")
	if _, err := e.Community.SaveSettings(context.Background(), p, community.Settings{DisplayName: "Audit Wren"}); err != nil {
		t.Fatal(err)
	}
	uid := strconv.FormatInt(p.UserID, 10)
	mod, modAPI := e.As(t, "moderator"), e.Bearer(t, "moderator")
	// A new member's first topic waits for a moderator: the queue and the
	// item show it, each read audited once.
	sp, err := e.Community.CreateSpace(context.Background(), e.Principal(t, "moderator"), community.Space{Name: "Audit space", ForPeople: true})
	if err != nil {
		t.Fatal(err)
	}
	held, err := e.Community.CreateTopic(context.Background(), p, sp.ID, community.NewTopic{Title: "Audit topic", Body: "Held for a moderator"})
	if err != nil {
		t.Fatal(err)
	}
	pid := strconv.FormatInt(held.Post.ID, 10)
	return []auditCall{
		{"GET /community/moderation", func() *webtest.Response { return mod.Get("/community/moderation") }, 200},
		{"GET /api/v1/moderation/queue", func() *webtest.Response { return modAPI.Get("/api/v1/moderation/queue") }, 200},
		{"GET /community/moderation/items/{id}", func() *webtest.Response { return mod.Get("/community/moderation/items/" + pid) }, 200},
		{"GET /api/v1/moderation/items/{id}", func() *webtest.Response { return modAPI.Get("/api/v1/moderation/items/" + pid) }, 200},
		{"GET /community/members/{id}/identity", func() *webtest.Response { return mod.Get("/community/members/" + uid + "/identity") }, 200},
		{"GET /api/v1/community/members/{id}/identity", func() *webtest.Response { return modAPI.Get("/api/v1/community/members/" + uid + "/identity") }, 200},
	}
}

// A new member's first post is held and approved; risk words show where
// to get help now and reach the queue first; a flag is resolved and the
// flagger told; an invitation-only space is invisible to outsiders. Pages
// without JavaScript and the API alike.
func TestCommunityOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		modAPI, mod := e.Bearer(t, "moderator"), e.As(t, "moderator")
		sp := decode[community.Space](t, modAPI.JSON(http.MethodPost, "/api/v1/spaces", map[string]any{"name": "Living with voices", "for_people": true}))
		secret := decode[community.Space](t, modAPI.JSON(http.MethodPost, "/api/v1/spaces", map[string]any{"name": "Canary circle", "invitation_only": true}))
		spID := strconv.FormatInt(sp.ID, 10)

		person, otherAPI := e.As(t, "person"), e.Bearer(t, "person2")
		// Joining: what was typed stays on the form with the problem.
		r := person.PostForm("/community/settings", url.Values{"display_name": {"x"}, "care_team_consent": {"yes"}})
		want(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.Body, "3 to 30 characters") || !strings.Contains(r.Body, `value="x"`) {
			t.Fatalf("settings error page: %s", r.Body)
		}
		want(t, person.PostForm("/community/settings", url.Values{"display_name": {"Quiet Heron"}, "care_team_consent": {"no"}}), http.StatusSeeOther)
		want(t, otherAPI.JSON(http.MethodPut, "/api/v1/community/settings", map[string]any{"display_name": "Bright Finch"}), http.StatusOK)

		// A new member's first topic is held.
		r = person.PostForm("/community/spaces/"+spID+"/topics", url.Values{"title": {"Hello"}, "body": {"First time here."}})
		want(t, r, http.StatusSeeOther)
		topicPath, _, _ := strings.Cut(strings.SplitN(r.Header.Get("Location"), "#", 2)[0], "?")
		page := person.Get(topicPath)
		want(t, page, http.StatusOK)
		if !strings.Contains(page.Body, "once a moderator has seen it") || !strings.Contains(page.Body, "Waiting for a moderator") {
			t.Fatalf("held post page: %s", page.Body)
		}
		topicID := strings.TrimPrefix(topicPath, "/community/topics/")
		want(t, otherAPI.Get("/api/v1/topics/"+topicID+"/posts"), http.StatusNotFound)
		home := mod.Get("/")
		if !strings.Contains(home.Body, "Moderation queue") || !strings.Contains(home.Body, "Hello") {
			t.Fatalf("the moderator's home shows the queue: %s", home.Body)
		}
		q := decode[ModerationQueueBody](t, modAPI.Get("/api/v1/moderation/queue"))
		if len(q.Items) != 1 {
			t.Fatalf("queue: %+v", q)
		}
		postID := strconv.FormatInt(q.Items[0].Post.ID, 10)
		want(t, mod.PostForm("/community/moderation/items/"+postID+"/decision", url.Values{"action": {"approve"}}), http.StatusSeeOther)
		want(t, otherAPI.Get("/api/v1/topics/"+topicID+"/posts"), http.StatusOK)

		// Risk words: signposted, posted, and first in the queue.
		if _, err := e.Community.SetTrust(context.Background(), e.Principal(t, "moderator"), e.Principal(t, "person2").UserID,
			community.TrustChange{Level: community.LevelMember, Reason: "known"}); err != nil {
			t.Fatal(err)
		}
		want(t, otherAPI.JSON(http.MethodPost, "/api/v1/posts/"+postID+"/flags", map[string]any{"kind": "unkind"}), http.StatusNoContent)
		rr := otherAPI.JSON(http.MethodPost, "/api/v1/topics/"+topicID+"/posts", map[string]any{"body": "Honestly I want to die some nights"})
		want(t, rr, http.StatusCreated)
		if !strings.Contains(rr.Body, `"help_now": true`) || !strings.Contains(rr.Body, "116 123") {
			t.Fatalf("risk reply answer: %s", rr.Body)
		}
		q = decode[ModerationQueueBody](t, modAPI.Get("/api/v1/moderation/queue"))
		if len(q.Items) != 2 || !q.Items[0].Risk {
			t.Fatalf("risk first: %+v", q)
		}
		r = person.PostForm(topicPath+"/posts", url.Values{"body": {"I feel hopeless too"}})
		want(t, r, http.StatusSeeOther)
		if p := person.Get(topicPath); !strings.Contains(p.Body, "help-now") {
			t.Fatalf("the writer is shown where to get help now: %s", p.Body)
		}

		// The flag is resolved; the flagger is told.
		want(t, modAPI.JSON(http.MethodPost, "/api/v1/moderation/items/"+postID+"/decision", map[string]any{"action": "hide"}), http.StatusUnprocessableEntity)
		want(t, modAPI.JSON(http.MethodPost, "/api/v1/moderation/items/"+postID+"/decision", map[string]any{"action": "approve", "reason": "Kind enough"}), http.StatusOK)
		if n := otherAPI.Get("/api/v1/notifications"); !strings.Contains(n.Body, "looked at it: left up") {
			t.Fatalf("the flagger's notifications: %s", n.Body)
		}

		// Invitation-only: invisible to outsiders, members included.
		secretID := strconv.FormatInt(secret.ID, 10)
		want(t, person.Get("/community/spaces/"+secretID), http.StatusNotFound)
		want(t, otherAPI.Get("/api/v1/spaces/"+secretID+"/topics"), http.StatusNotFound)
		if l := otherAPI.Get("/api/v1/spaces"); strings.Contains(l.Body, "Canary circle") {
			t.Fatalf("an invitation-only space listed to an outsider: %s", l.Body)
		}
		if l := person.Get("/community"); strings.Contains(l.Body, "Canary circle") {
			t.Fatalf("an invitation-only space listed to an outsider: %s", l.Body)
		}
		// A member never sees a real name or another member's flags.
		tp := otherAPI.Get("/api/v1/topics/" + topicID + "/posts")
		if strings.Contains(tp.Body, e.Principal(t, "person").Name) || strings.Contains(tp.Body, "unkind") {
			t.Fatalf("a member sees identity or flags: %s", tp.Body)
		}
		want(t, otherAPI.Get("/api/v1/moderation/queue"), http.StatusForbidden)
		want(t, otherAPI.Get("/api/v1/community/members/1/identity"), http.StatusForbidden)
		_ = app.PermModerate
	})
}

// ModerationQueueBody is the queue as a client reads it.
type ModerationQueueBody struct {
	Items []community.QueueItem `json:"items"`
}
