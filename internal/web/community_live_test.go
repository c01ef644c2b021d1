package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

type liveEvent struct{ id, name, data string }

// openLive opens a topic's live stream as a client and returns its events
// as they arrive, until cancel.
func openLive(t *testing.T, e *webtest.Env, c *webtest.Client, path, lastEventID string) (<-chan liveEvent, *http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	hc := *c.HTTP
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	events := make(chan liveEvent, 16)
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev liveEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					events <- ev
				}
				ev = liveEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ") + "\n"
			}
		}
	}()
	return events, resp, cancel
}

func nextEvent(t *testing.T, events <-chan liveEvent) liveEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(15 * time.Second):
		t.Fatal("no event within 15 s")
	}
	return liveEvent{}
}

// A reader's open topic page is sent each new post it may see, as it
// arrives: a moderator's reply reaches it; a new member's held reply (a
// canary) never does; a reconnecting browser is sent what it missed since
// its last event; someone who may not see the topic gets 404, not a
// stream.
func TestTopicLiveUpdates(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		mod := e.Principal(t, "moderator")
		sp, err := e.Community.CreateSpace(ctx, mod, community.Space{Name: "Live space", ForPeople: true})
		if err != nil {
			t.Fatal(err)
		}
		secret, err := e.Community.CreateSpace(ctx, mod, community.Space{Name: "Invited only", InvitationOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"person", "person2"} {
			if _, err := e.Community.SaveSettings(ctx, e.Principal(t, name), community.Settings{DisplayName: []string{"Live Otter", "Quiet Wren"}[i]}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Community.SaveSettings(ctx, mod, community.Settings{DisplayName: "Steady Lark"}); err != nil {
			t.Fatal(err)
		}
		opened, err := e.Community.CreateTopic(ctx, mod, sp.ID, community.NewTopic{Title: "Evenings", Body: "How are evenings for you?"})
		if err != nil {
			t.Fatal(err)
		}
		hidden, err := e.Community.CreateTopic(ctx, mod, secret.ID, community.NewTopic{Title: "Invited", Body: "Only for those invited"})
		if err != nil {
			t.Fatal(err)
		}
		tid := strconv.FormatInt(opened.Topic.ID, 10)
		reader := e.As(t, "person")

		page := reader.Get("/community/topics/" + tid)
		want(t, page, http.StatusOK)
		live := "/community/topics/" + tid + "/live?after=" + strconv.FormatInt(opened.Post.ID, 10)
		if !strings.Contains(page.Body, `data-live="`+strings.ReplaceAll(live, "&", "&amp;")+`"`) || !strings.Contains(page.Body, `aria-live="polite"`) {
			t.Fatalf("the page does not name its live address %s", live)
		}
		want(t, reader.Get("/community/topics/"+strconv.FormatInt(hidden.Topic.ID, 10)+"/live"), http.StatusNotFound)
		want(t, reader.Get("/community/topics/"+tid+"/live?after=x"), http.StatusUnprocessableEntity)

		events, resp, stop := openLive(t, e, reader, live, "")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("live stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		// A new member's reply is held: never sent to another reader.
		if _, err := e.Community.Reply(ctx, e.Principal(t, "person2"), opened.Topic.ID, community.NewPost{Body: "HELDCANARY evenings are long"}); err != nil {
			t.Fatal(err)
		}
		reply, err := e.Community.Reply(ctx, mod, opened.Topic.ID, community.NewPost{Body: "Welcome, all"})
		if err != nil {
			t.Fatal(err)
		}
		ev := nextEvent(t, events)
		if ev.name != "post" || ev.id != strconv.FormatInt(reply.Post.ID, 10) || !strings.Contains(ev.data, "Welcome, all") ||
			!strings.Contains(ev.data, `id="post-`+ev.id+`"`) || strings.Contains(ev.data, "HELDCANARY") {
			t.Fatalf("the event for the moderator's reply: %+v", ev)
		}
		stop()

		// Anything but a browser's EventSource is sent what is new, then
		// the end, rather than a wait.
		once := reader.Get(live)
		want(t, once, http.StatusOK)
		if !strings.Contains(once.Body, "id: "+ev.id+"\nevent: post\n") || strings.Contains(once.Body, "HELDCANARY") {
			t.Fatalf("a plain GET of the stream: %s", once.Body)
		}

		// Reconnecting from the opening post: sent the reply it missed, at once.
		events, _, stop = openLive(t, e, reader, "/community/topics/"+tid+"/live", strconv.FormatInt(opened.Post.ID, 10))
		defer stop()
		if ev := nextEvent(t, events); ev.id != strconv.FormatInt(reply.Post.ID, 10) || strings.Contains(ev.data, "HELDCANARY") {
			t.Fatalf("after reconnecting: %+v", ev)
		}
		// Signed out (on another tab): the open stream sends no more posts.
		want(t, reader.PostForm("/sign-out", nil), http.StatusSeeOther)
		if _, err := e.Community.Reply(ctx, mod, opened.Topic.ID, community.NewPost{Body: "AFTER-SIGN-OUT reply"}); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, events); ev.name != "end" || strings.Contains(ev.data, "AFTER-SIGN-OUT") {
			t.Fatalf("after signing out: %+v", ev)
		}
		// Shutting down ends a stream at once (http.Server.Shutdown waits
		// for requests).
		var newest string
		if err := e.DB.QueryRow(ctx, "SELECT CAST(MAX(id) AS TEXT) FROM community_posts WHERE topic_id = $1", opened.Topic.ID).Scan(&newest); err != nil {
			t.Fatal(err)
		}
		events, _, stop = openLive(t, e, e.As(t, "person"), "/community/topics/"+tid+"/live?after="+newest, "")
		defer stop()
		e.Server.StopStreams()
		select {
		case _, ok := <-events:
			if ok {
				t.Fatal("an event after shutting down")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the stream outlived the shutdown")
		}
	})
}

// A long topic is read a page of 100 posts at a time, oldest first, with
// numbered pages; only the last page listens for new posts, and a reply
// takes its writer to the last page. The API pages the same way.
func TestTopicPages(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		mod := e.Principal(t, "moderator")
		sp, err := e.Community.CreateSpace(ctx, mod, community.Space{Name: "Long talk", ForPeople: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Community.SaveSettings(ctx, mod, community.Settings{DisplayName: "Steady Lark"}); err != nil {
			t.Fatal(err)
		}
		opened, err := e.Community.CreateTopic(ctx, mod, sp.ID, community.NewTopic{Title: "Evenings", Body: "Post number 0"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < 250; i++ {
			if _, err := e.DB.Exec(ctx, `INSERT INTO community_posts (topic_id, author_user_id, body, status, created_at)
				VALUES ($1, $2, $3, 'visible', $4)`, opened.Topic.ID, mod.UserID, "Post number "+strconv.Itoa(i), e.Clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		tid := strconv.FormatInt(opened.Topic.ID, 10)
		path := "/community/topics/" + tid
		if _, err := e.Community.SaveSettings(ctx, e.Principal(t, "person"), community.Settings{DisplayName: "Live Otter"}); err != nil {
			t.Fatal(err)
		}
		reader := e.As(t, "person")
		first := reader.Get(path)
		want(t, first, http.StatusOK)
		if !strings.Contains(first.Body, "Showing 1 to 100 of 250 posts") || !strings.Contains(first.Body, ">Post number 99<") ||
			strings.Contains(first.Body, ">Post number 100<") || strings.Contains(first.Body, "data-live") || !strings.Contains(first.Body, `href="`+path+`?offset=100"`) {
			t.Fatalf("the first page of 250 posts:\n%s", first.Body)
		}
		last := reader.Get(path + "?latest")
		if !strings.Contains(last.Body, "Showing 201 to 250 of 250 posts") || !strings.Contains(last.Body, ">Post number 249<") ||
			!strings.Contains(last.Body, `/live?after=`) || !strings.Contains(last.Body, `offset=200">`) {
			t.Fatalf("the last page:\n%s", last.Body)
		}
		// A reaction on the last page comes back to it.
		var lastID string
		if err := e.DB.QueryRow(ctx, "SELECT CAST(MAX(id) AS TEXT) FROM community_posts WHERE topic_id = $1", opened.Topic.ID).Scan(&lastID); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(last.Body, `name="offset" value="200"`) {
			t.Fatalf("the reaction forms do not carry the page")
		}
		rr := reader.PostForm("/community/posts/"+lastID+"/reactions", url.Values{"kind": {"me_too"}, "offset": {"200"}})
		if rr.StatusCode != http.StatusSeeOther || rr.Header.Get("Location") != path+"?offset=200#post-"+lastID {
			t.Fatalf("after reacting: %d %s", rr.StatusCode, rr.Header.Get("Location"))
		}
		if r := reader.Get(path + "?offset=x"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("offset=x: %d", r.StatusCode)
		}
		r := e.As(t, "moderator").PostForm(path+"/posts", url.Values{"body": {"A reply on the last page"}})
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), path+"?latest#post-") {
			t.Fatalf("after replying: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		api := e.Bearer(t, "person")
		pg := decode[community.TopicPage](t, api.Get("/api/v1/topics/"+tid+"/posts?offset=240&limit=5"))
		if pg.Total != 251 || pg.Offset != 240 || len(pg.Posts) != 5 || pg.Posts[0].Body != "Post number 240" {
			t.Fatalf("the API's page: total %d offset %d, %d posts", pg.Total, pg.Offset, len(pg.Posts))
		}
		if pg := decode[community.TopicPage](t, api.Get("/api/v1/topics/"+tid+"/posts")); len(pg.Posts) != 100 || pg.Total != 251 {
			t.Fatalf("the API's first page: %d of %d", len(pg.Posts), pg.Total)
		}
	})
}
