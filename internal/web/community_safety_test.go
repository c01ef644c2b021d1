package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// safeguardingCase is a member on team A's caseload who has not agreed to
// their care team being told, and their post.
func safeguardingCase(t *testing.T, e *webtest.Env, who, display, spaceName string) community.Posted {
	t.Helper()
	ctx := context.Background()
	p := e.Principal(t, who)
	// A person who already has an open referral keeps it (and its team).
	if _, err := e.Referrals.CreateReferral(ctx, p, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: e.TeamA.ID}); err != nil &&
		!strings.Contains(err.Error(), "already has an open referral") {
		t.Fatal(err)
	}
	if _, err := e.Community.SaveSettings(ctx, p, community.Settings{DisplayName: display}); err != nil {
		t.Fatal(err)
	}
	sp, err := e.Community.CreateSpace(ctx, e.Principal(t, "moderator"), community.Space{Name: spaceName, ForPeople: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Community.CreateTopic(ctx, p, sp.ID, community.NewTopic{Title: "Tonight", Body: "I have the tablets ready for tonight"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// safeguardingAuditCalls are the safeguarding routes that show a person's
// data, for TestAuditOneRowPerCall.
func safeguardingAuditCalls(t *testing.T, e *webtest.Env) []auditCall {
	t.Helper()
	res := safeguardingCase(t, e, "person", "Audit Kestrel", "Safeguarding audit space")
	g, err := e.Community.RaiseSafeguarding(context.Background(), e.Principal(t, "moderator"), res.Post.ID, community.NewSafeguarding{Reason: "Plan for tonight"})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(g.ID, 10)
	var team int64
	if err := e.DB.QueryRow(context.Background(), "SELECT team_id FROM community_safeguarding WHERE id = $1", g.ID).Scan(&team); err != nil {
		t.Fatal(err)
	}
	name := "lead"
	if team == e.TeamB.ID {
		name = "leadB"
	}
	lead, leadAPI := e.As(t, name), e.Bearer(t, name)
	return []auditCall{
		{"GET /community/safeguarding", func() *webtest.Response { return lead.Get("/community/safeguarding") }, 200},
		{"GET /api/v1/community/safeguarding", func() *webtest.Response { return leadAPI.Get("/api/v1/community/safeguarding") }, 200},
		{"GET /community/safeguarding/{id}", func() *webtest.Response { return lead.Get("/community/safeguarding/" + id) }, 200},
		{"GET /api/v1/community/safeguarding/{id}", func() *webtest.Response { return leadAPI.Get("/api/v1/community/safeguarding/" + id) }, 200},
	}
}

// A moderator's safeguarding concern about a member who has not agreed
// goes nowhere until a peer lead of their team confirms it with a reason,
// through the pages without JavaScript and the API alike; a peer worker
// cannot reach it; a second decision is refused.
func TestSafeguardingOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		res := safeguardingCase(t, e, "person", "Quiet Heron", "Living with voices")
		mod, lead, leadAPI := e.As(t, "moderator"), e.As(t, "lead"), e.Bearer(t, "lead2")
		item := "/community/moderation/items/" + strconv.FormatInt(res.Post.ID, 10)
		if p := mod.Get(item); !strings.Contains(p.Body, "Ask their care team to confirm") {
			t.Fatalf("the moderator's item offers safeguarding: %s", p.Body)
		}
		r := mod.PostForm(item+"/safeguarding", url.Values{"safeguarding_reason": {""}})
		want(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.Body, "Say why the risk means") {
			t.Fatalf("no reason: %s", r.Body)
		}
		want(t, mod.PostForm(item+"/safeguarding", url.Values{"safeguarding_reason": {"Has the tablets ready tonight"}}), http.StatusSeeOther)
		if p := mod.Get(item); !strings.Contains(p.Body, "Waiting for a peer lead or clinician") {
			t.Fatalf("the item shows the waiting concern: %s", p.Body)
		}
		// A peer worker and the moderator cannot reach the decision.
		want(t, e.As(t, "worker").Get("/community/safeguarding"), http.StatusForbidden)
		want(t, e.Bearer(t, "moderator").Get("/api/v1/community/safeguarding"), http.StatusForbidden)
		l := decode[struct {
			Concerns []community.Safeguarding `json:"concerns"`
		}](t, leadAPI.Get("/api/v1/community/safeguarding"))
		if len(l.Concerns) != 1 || l.Concerns[0].Reason != "Has the tablets ready tonight" {
			t.Fatalf("the lead's list: %+v", l)
		}
		path := "/community/safeguarding/" + strconv.FormatInt(l.Concerns[0].ID, 10)
		if p := lead.Get("/community/safeguarding"); !strings.Contains(p.Body, `href="`+path+`"`) {
			t.Fatalf("the list page: %s", p.Body)
		}
		r = lead.PostForm(path+"/decision", url.Values{"action": {"confirm"}, "reason": {""}})
		want(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.Body, "recorded with your decision") {
			t.Fatalf("no reason: %s", r.Body)
		}
		want(t, lead.PostForm(path+"/decision", url.Values{"action": {"confirm"}, "reason": {"Plan and means"}}), http.StatusSeeOther)
		if p := lead.Get(path); !strings.Contains(p.Body, "Confirmed: the care team was alerted") {
			t.Fatalf("the decided concern: %s", p.Body)
		}
		want(t, leadAPI.JSON(http.MethodPost, "/api/v1/community/safeguarding/"+strconv.FormatInt(l.Concerns[0].ID, 10)+"/decision",
			map[string]any{"action": "decline", "reason": "late"}), http.StatusConflict)
		if n := e.Bearer(t, "person").Get("/api/v1/notifications"); !strings.Contains(n.Body, "had not agreed") {
			t.Fatalf("the member is told: %s", n.Body)
		}
	})
}

// A moderator applies a sanction from the post's page; a read-only member
// is refused a reply through the API; a suspended member opening a space
// is shown until when, where to appeal and where to get help now; a
// moderator lifts it early and the member is back in.
func TestSanctionsOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		res := safeguardingCase(t, e, "person", "Quiet Heron", "Living with voices")
		mod, member, memberAPI := e.As(t, "moderator"), e.As(t, "person"), e.Bearer(t, "person")
		uid := strconv.FormatInt(e.Principal(t, "person").UserID, 10)
		pid := strconv.FormatInt(res.Post.ID, 10)
		r := mod.PostForm("/community/members/"+uid+"/sanctions", url.Values{"post_id": {pid}, "sanction_kind": {"read_only"}, "sanction_reason": {"Arguing"}})
		want(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.Body, "Give how many days it lasts") || !strings.Contains(r.Body, "Arguing</textarea>") {
			t.Fatalf("no days: %s", r.Body)
		}
		want(t, mod.PostForm("/community/members/"+uid+"/sanctions", url.Values{"post_id": {pid}, "sanction_kind": {"read_only"}, "sanction_reason": {"Arguing"}, "sanction_days": {"2"}}), http.StatusSeeOther)
		topic := "/api/v1/topics/" + strconv.FormatInt(res.Topic.ID, 10) + "/posts"
		want(t, memberAPI.JSON(http.MethodPost, topic, map[string]any{"body": "Hello?"}), http.StatusForbidden)
		if l := memberAPI.Get("/api/v1/community/my-sanctions"); !strings.Contains(l.Body, `"read_only"`) || !strings.Contains(l.Body, "Arguing") {
			t.Fatalf("my sanctions: %s", l.Body)
		}
		susp, err := e.Community.ApplySanction(ctx, e.Principal(t, "moderator"), e.Principal(t, "person").UserID, community.NewSanction{Kind: "suspended", Reason: "Threats", Days: 3})
		if err != nil {
			t.Fatal(err)
		}
		page := member.Get("/community/spaces/" + strconv.FormatInt(res.Topic.SpaceID, 10))
		want(t, page, http.StatusForbidden)
		if !strings.Contains(page.Body, "suspended your account") || !strings.Contains(page.Body, "116 123") || !strings.Contains(page.Body, `href="/community/sanctions"`) {
			t.Fatalf("the suspended page: %s", page.Body)
		}
		want(t, memberAPI.Get(topic), http.StatusForbidden)
		// Two sanctions in force: lifting one without a reason shows the
		// problem on that one's form only, each form with its own ids.
		r = mod.PostForm("/community/sanctions/"+strconv.FormatInt(susp.ID, 10)+"/lift", url.Values{"post_id": {pid}, "lift_reason": {""}})
		want(t, r, http.StatusUnprocessableEntity)
		if strings.Count(r.Body, `id="lift_reason"`) != 1 || !strings.Contains(r.Body, `id="lift-`) || !strings.Contains(r.Body, `href="#lift_reason"`) {
			t.Fatalf("lifting without a reason: %s", r.Body)
		}
		want(t, mod.PostForm("/community/sanctions/"+strconv.FormatInt(susp.ID, 10)+"/lift", url.Values{"post_id": {pid}, "lift_reason": {"Spoke with them"}}), http.StatusSeeOther)
		want(t, memberAPI.Get(topic), http.StatusOK)
		want(t, e.Bearer(t, "lead").JSON(http.MethodPost, "/api/v1/community/members/"+uid+"/sanctions", map[string]any{"kind": "warning", "reason": "x"}), http.StatusForbidden)
	})
}

// A member appeals from their sanctions page (what they typed stays when
// it is refused); a lead overturns it from the appeals page and the member
// is back in; a moderator cannot reach the appeals.
func TestAppealsOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		res := safeguardingCase(t, e, "person", "Quiet Heron", "Living with voices")
		sn, err := e.Community.ApplySanction(ctx, e.Principal(t, "moderator"), e.Principal(t, "person").UserID, community.NewSanction{Kind: "suspended", Reason: "Threats", Days: 3})
		if err != nil {
			t.Fatal(err)
		}
		member, lead := e.As(t, "person"), e.As(t, "lead")
		sid := strconv.FormatInt(sn.ID, 10)
		if p := member.Get("/community/sanctions"); !strings.Contains(p.Body, `href="/community/sanctions/`+sid+`/appeal"`) || !strings.Contains(p.Body, "Threats") {
			t.Fatalf("my sanctions: %s", p.Body)
		}
		want(t, member.Get("/community/sanctions/"+sid+"/appeal"), http.StatusOK)
		r := member.PostForm("/community/sanctions/"+sid+"/appeal", url.Values{"words": {" "}})
		want(t, r, http.StatusUnprocessableEntity)
		want(t, member.PostForm("/community/sanctions/"+sid+"/appeal", url.Values{"words": {"I was upset, not threatening"}}), http.StatusSeeOther)
		want(t, e.Bearer(t, "person").JSON(http.MethodPost, "/api/v1/community/sanctions/"+sid+"/appeal", map[string]any{"words": "again"}), http.StatusConflict)
		want(t, e.As(t, "moderator").Get("/community/appeals"), http.StatusForbidden)
		l := decode[struct {
			Appeals []community.Appeal `json:"appeals"`
		}](t, e.Bearer(t, "lead2").Get("/api/v1/community/appeals"))
		if len(l.Appeals) != 1 {
			t.Fatalf("appeals: %+v", l)
		}
		path := "/community/appeals/" + strconv.FormatInt(l.Appeals[0].ID, 10)
		if p := lead.Get("/community/appeals"); !strings.Contains(p.Body, `href="`+path+`"`) {
			t.Fatalf("the appeals page: %s", p.Body)
		}
		want(t, lead.PostForm(path+"/decision", url.Values{"outcome": {"overturn"}, "reason": {"Upset, not threatening"}}), http.StatusSeeOther)
		want(t, member.Get("/community/spaces/"+strconv.FormatInt(res.Topic.SpaceID, 10)), http.StatusOK)
		if p := member.Get("/community/sanctions"); !strings.Contains(p.Body, "overturned") {
			t.Fatalf("my sanctions after the appeal: %s", p.Body)
		}
	})
}

// A lead puts a moderator on duty from the rota page (what was typed stays
// when it is refused); the space page says nobody is online and when a
// moderator next is, with where to get help now, until the duty starts.
func TestRotaOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		res := safeguardingCase(t, e, "person", "Quiet Heron", "Living with voices")
		lead, member := e.As(t, "lead"), e.As(t, "person")
		space := "/community/spaces/" + strconv.FormatInt(res.Topic.SpaceID, 10)
		if p := member.Get(space); !strings.Contains(p.Body, "No moderators are online now") || !strings.Contains(p.Body, "116 123") {
			t.Fatalf("no rota: %s", p.Body)
		}
		mod := strconv.FormatInt(e.Principal(t, "moderator").UserID, 10)
		start := e.Clock.Now().In(app.London).Add(2 * time.Hour)
		end := start.Add(3 * time.Hour)
		day := func(t time.Time, name string) url.Values {
			return url.Values{name + "-day": {strconv.Itoa(t.Day())}, name + "-month": {strconv.Itoa(int(t.Month()))}, name + "-year": {strconv.Itoa(t.Year())},
				name + "-time": {t.Format("15:04")}}
		}
		form := url.Values{"moderator_id": {mod}}
		for k, v := range day(start, "from") {
			form[k] = v
		}
		r := lead.PostForm("/community/rota", form)
		want(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.Body, "Give when the duty ends") || !strings.Contains(r.Body, `value="`+start.Format("15:04")+`"`) {
			t.Fatalf("no end: %s", r.Body)
		}
		for k, v := range day(end, "to") {
			form[k] = v
		}
		want(t, lead.PostForm("/community/rota", form), http.StatusSeeOther)
		if p := member.Get(space); !strings.Contains(p.Body, "Posts may wait until") || strings.Contains(p.Body, "until a moderator is next on duty") {
			t.Fatalf("off duty with a rota: %s", p.Body)
		}
		want(t, e.As(t, "moderator").Get("/community/rota"), http.StatusForbidden)
		if p := lead.Get("/community/rota"); !strings.Contains(p.Body, e.Principal(t, "moderator").Name) {
			t.Fatalf("the rota page: %s", p.Body)
		}
		e.Clock.Advance(3 * time.Hour)
		if p := e.As(t, "person").Get(space); strings.Contains(p.Body, "No moderators are online") || !strings.Contains(p.Body, "Living with voices") {
			t.Fatalf("on duty: %s", p.Body)
		}
	})
}
