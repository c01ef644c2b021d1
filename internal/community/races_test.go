package community_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// A new member sending many topics at once over HTTP gets exactly the
// first day's three; two moderators deciding one post at once give one
// decision and one 409.
func TestRacesOverHTTP(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		mod := e.Principal(t, "moderator")
		sp, err := e.Community.CreateSpace(ctx, mod, community.Space{Name: "Living with voices", ForPeople: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Community.SaveSettings(ctx, e.Principal(t, "person"), community.Settings{DisplayName: "Quiet Heron"}); err != nil {
			t.Fatal(err)
		}
		c := e.Bearer(t, "person")
		var calls []webtest.Call
		for i := range 6 {
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodPost, Path: fmt.Sprintf("/api/v1/spaces/%d/topics", sp.ID),
				JSON: map[string]any{"title": fmt.Sprintf("Topic %d", i), "body": "Hello"}})
		}
		got := map[int]int{}
		for _, r := range webtest.Parallel(t, calls) {
			got[r.StatusCode]++
		}
		if got[http.StatusCreated] != 3 || got[http.StatusTooManyRequests] != 3 {
			t.Fatalf("six topics at once from a new member: %v", got)
		}
		q, err := e.Community.Queue(ctx, mod)
		if err != nil || len(q) != 3 {
			t.Fatalf("queue %d %v", len(q), err)
		}
		m1, m2 := e.Bearer(t, "moderator"), e.Bearer(t, "moderator")
		path := "/api/v1/moderation/items/" + strconv.FormatInt(q[0].Post.ID, 10) + "/decision"
		body := map[string]any{"action": "approve"}
		got = map[int]int{}
		for _, r := range webtest.Parallel(t, []webtest.Call{{Client: m1, Method: http.MethodPost, Path: path, JSON: body},
			{Client: m2, Method: http.MethodPost, Path: path, JSON: body}}) {
			got[r.StatusCode]++
		}
		if got[http.StatusOK] != 1 || got[http.StatusConflict] != 1 {
			t.Fatalf("two decisions at once: %v", got)
		}
	})
}

func TestAskForSupport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		p := join(t, w, "person", "Quiet Heron", false)
		if _, err := w.Community.AskForSupport(ctx, p, community.SupportRequest{AskedFor: "Nights"}); field(err) != "agree" {
			t.Fatalf("without agreeing: %v", err)
		}
		r, err := w.Community.AskForSupport(ctx, p, community.SupportRequest{AskedFor: "Someone to talk to about nights", Agree: true})
		if err != nil || r.Source != "self" || r.ID == 0 {
			t.Fatalf("%+v %v", r, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM community_support_requests WHERE referral_id = $1 AND user_id = $2", r.ID, p.UserID); n != 1 {
			t.Fatalf("%d records that it started in the community", n)
		}
		worker := join(t, w, "worker", w.Principal(t, "worker").Name, false)
		if _, err := w.Community.AskForSupport(ctx, worker, community.SupportRequest{AskedFor: "x", Agree: true}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("staff asking: %v", err)
		}
		if _, err := w.Community.AskForSupport(ctx, w.Principal(t, "carer"), community.SupportRequest{AskedFor: "x", Agree: true}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("before joining: %v", err)
		}
	})
}
