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
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// Sharing a group session over HTTP (#15): a trusted peer lead sees the
// share form on the session page and shares it by form and by the API; a
// person sees no form and is refused; a bad topic number is a message on
// the form with what was typed kept; an invitation-only group's session is
// refused into an open space.
func TestSessionShareOverHTTP(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		str := func(n int64) string { return strconv.FormatInt(n, 10) }
		open, err := e.Community.CreateSpace(ctx, e.Principal(t, "moderator"), community.Space{Name: "Open", ForPeople: true, ForStaff: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"lead", "person"} {
			if _, err := e.Community.SaveSettings(ctx, e.Principal(t, n), community.Settings{DisplayName: map[string]string{"lead": "Blue Kite", "person": "Quiet Heron"}[n]}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.DB.Exec(ctx, "UPDATE community_members SET trust_level = 2 WHERE user_id = $1", e.Users["lead"].ID); err != nil {
			t.Fatal(err)
		}
		session := func(vis groups.Visibility) int64 {
			g, err := e.Groups.CreateGroup(ctx, e.Principal(t, "lead"), groups.NewGroup{TeamID: e.TeamA.ID, Title: "Walk and talk", Repeats: groups.Once,
				Visibility: vis, Venue: groups.Venue{Name: "The park", Address: "Park Road"}})
			if err != nil {
				t.Fatal(err)
			}
			ss, err := e.Groups.AddSessions(ctx, e.Principal(t, "lead"), g.ID, groups.NewSessions{Start: e.Clock.Now().AddDate(0, 0, 3).In(app.London).Format("2006-01-02") + "T14:00", Minutes: 60})
			if err != nil {
				t.Fatal(err)
			}
			return ss[0].ID
		}
		pub := session(groups.Public)
		path := "/sessions/" + str(pub)
		lead := e.As(t, "lead")
		if pg := lead.Get(path); !strings.Contains(pg.Body, "Share in the community") || !strings.Contains(pg.Body, ">Open<") {
			t.Errorf("the lead sees no share form")
		}
		if pg := e.As(t, "person").Get(path); strings.Contains(pg.Body, "Share in the community") {
			t.Errorf("a person sees the share form")
		}
		bad := lead.PostForm(path+"/share", url.Values{"space_id": {str(open.ID)}, "topic_id": {"seven"}})
		want(t, bad, http.StatusUnprocessableEntity)
		if !strings.Contains(bad.Body, "A topic&#39;s number is a whole number") || !strings.Contains(bad.Body, `value="seven"`) {
			t.Errorf("bad topic number: %s", bad.Body)
		}
		ok := lead.PostForm(path+"/share", url.Values{"space_id": {str(open.ID)}})
		if ok.StatusCode != http.StatusSeeOther && ok.StatusCode != http.StatusOK {
			t.Errorf("share by form: %d", ok.StatusCode)
		}
		api := e.Bearer(t, "lead").JSON(http.MethodPost, "/api/v1/sessions/"+str(pub)+"/share", community.SessionShare{SpaceID: open.ID})
		want(t, api, http.StatusCreated)
		if !strings.Contains(api.Body, "Walk and talk") || !strings.Contains(api.Body, "/sessions/"+str(pub)) {
			t.Errorf("shared post: %s", api.Body)
		}
		if r := e.Bearer(t, "person").JSON(http.MethodPost, "/api/v1/sessions/"+str(pub)+"/share", community.SessionShare{SpaceID: open.ID}); r.StatusCode != http.StatusForbidden {
			t.Errorf("a person shared a session: %d", r.StatusCode)
		}
		inv := session(groups.Invitation)
		r := e.Bearer(t, "lead").JSON(http.MethodPost, "/api/v1/sessions/"+str(inv)+"/share", community.SessionShare{SpaceID: open.ID})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "space_id") {
			t.Errorf("invitation-only into an open space: %d %s", r.StatusCode, r.Body)
		}
		var n int
		if err := e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM community_posts WHERE body LIKE '%Walk and talk%'").Scan(&n); err != nil || n != 2 {
			t.Errorf("%d shared posts, want 2 (%v)", n, err)
		}
	})
}
