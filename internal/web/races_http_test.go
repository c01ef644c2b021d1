package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
	"github.com/mutualhq/mutual/internal/watch"
)

// Issue #8: every read, decide, write a user's request triggers is raced
// over real HTTP, not only by goroutines calling the service. Each case
// below is one row (or a few) of docs/safety/read-decide-write.md, named
// there as TestXRacesOverHTTP/case: it builds what the race needs through
// the services, sends its requests at once to a real server (released
// together, each on its own connection), and checks the same invariant as
// the row's service test — the winners' and losers' answers, and that the
// losers wrote nothing. Every case runs on both engines.
type raceCase struct {
	name string
	// setup makes the world the race needs and returns the requests to
	// send at the same moment.
	setup func(t *testing.T, e *webtest.Env) []webtest.Call
	// won is the status of a request that got what it asked for; wins is
	// how many may (0: exactly one; -1: any number, check counts them).
	won, wins int
	// lost are the statuses a loser may get (409 when none are given).
	lost []int
	// check looks at what was written, given the responses and how many won.
	check func(t *testing.T, e *webtest.Env, rs []*webtest.Response, won int)
	// opts are the server's options (none by default).
	opts webtest.Options
}

// runRaces runs each case as a parallel subtest, on every engine.
func runRaces(t *testing.T, cases []raceCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			webtest.Each(t, c.opts, func(t *testing.T, e *webtest.Env) {
				rs := webtest.Parallel(t, c.setup(t, e))
				lost := c.lost
				if lost == nil {
					lost = []int{http.StatusConflict}
				}
				won := 0
				for _, r := range rs {
					switch {
					case r.StatusCode == c.won:
						won++
					case slices.Contains(lost, r.StatusCode):
					default:
						t.Fatalf("%s %s: %d, want %d or one of %v\n%.1500s", r.Request.Method, r.Request.URL.Path, r.StatusCode, c.won, lost, r.Body)
					}
				}
				switch {
				case c.wins == 0 && won != 1:
					t.Fatalf("%d of %d requests won, want exactly one", won, len(rs))
				case c.wins > 0 && won != c.wins:
					t.Fatalf("%d of %d requests won, want %d", won, len(rs), c.wins)
				}
				if c.check != nil {
					c.check(t, e, rs, won)
				}
			})
		})
	}
}

// times is n copies of one request by one client.
func times(n int, c *webtest.Client, method, path string, body any) []webtest.Call {
	calls := make([]webtest.Call, n)
	for i := range calls {
		calls[i] = webtest.Call{Client: c, Method: method, Path: path, JSON: body}
	}
	return calls
}

// wantRows fails unless a count query answers n.
func wantRows(t *testing.T, e *webtest.Env, n int, q string, args ...any) {
	t.Helper()
	if got := rows(t, e.DB, q, args...); got != n {
		t.Fatalf("%s: %d, want %d", q, got, n)
	}
}

func id64(id int64) string { return strconv.FormatInt(id, 10) }

// raceMember has a named account join the community with a display name.
func raceMember(t *testing.T, e *webtest.Env, name, display string) *app.Principal {
	t.Helper()
	p := e.Principal(t, name)
	if _, err := e.Community.SaveSettings(context.Background(), p, community.Settings{DisplayName: display}); err != nil {
		t.Fatal(err)
	}
	return p
}

// raceTopic is a topic the person opened (as a member, so nothing is held
// for moderation) in a space people and carers share, which the carer has
// joined to read.
func raceTopic(t *testing.T, e *webtest.Env) community.Posted {
	t.Helper()
	ctx := context.Background()
	writer := raceMember(t, e, "person", "Quiet Heron")
	raceMember(t, e, "carer", "Kind Otter")
	if _, err := e.Community.SetTrust(ctx, e.Principal(t, "moderator"), writer.UserID, community.TrustChange{Level: community.LevelMember, Reason: "known to us"}); err != nil {
		t.Fatal(err)
	}
	sp, err := e.Community.CreateSpace(ctx, e.Principal(t, "moderator"), community.Space{Name: "Carers and people", ForPeople: true, ForCarers: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Evenings", Body: "Hello all"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// raceSanction is a sanction on the person, applied by the moderator.
func raceSanction(t *testing.T, e *webtest.Env, kind string) community.Sanction {
	t.Helper()
	raceMember(t, e, "person", "Quiet Heron")
	sn, err := e.Community.ApplySanction(context.Background(), e.Principal(t, "moderator"), e.Principal(t, "person").UserID,
		community.NewSanction{Kind: kind, Reason: "Threats", Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

// The community's rows: safeguarding, sanctions, appeals, trust, display
// names, flags, reactions and follows.
func TestCommunityRacesOverHTTP(t *testing.T) {
	t.Parallel()
	runRaces(t, []raceCase{{
		name: "safeguarding-raised-once", won: http.StatusCreated,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			res := safeguardingCase(t, e, "person", "Quiet Heron", "Living with voices")
			mod, mod2 := e.Bearer(t, "moderator"), e.Bearer(t, "moderator")
			path := "/api/v1/moderation/items/" + id64(res.Post.ID) + "/safeguarding"
			return append(times(2, mod, http.MethodPost, path, map[string]any{"reason": "Plan for tonight"}),
				times(2, mod2, http.MethodPost, path, map[string]any{"reason": "Tablets ready"})...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_safeguarding")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.safeguarding.raise'")
		},
	}, {
		name: "safeguarding-decided-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			res := safeguardingCase(t, e, "person", "Quiet Heron", "Living with voices")
			g, err := e.Community.RaiseSafeguarding(context.Background(), e.Principal(t, "moderator"), res.Post.ID, community.NewSafeguarding{Reason: "Plan for tonight"})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/community/safeguarding/" + id64(g.ID) + "/decision"
			var calls []webtest.Call
			for i, name := range []string{"lead", "lead2", "lead", "lead2"} {
				action := map[bool]string{true: "confirm", false: "decline"}[i%2 == 0]
				calls = append(calls, times(1, e.Bearer(t, name), http.MethodPost, path, map[string]any{"action": action, "reason": "judged"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			var status string
			if err := e.DB.QueryRow(context.Background(), "SELECT status FROM community_safeguarding").Scan(&status); err != nil {
				t.Fatal(err)
			}
			alerts := map[bool]int{true: 1, false: 0}[status == "confirmed"]
			wantRows(t, e, alerts, "SELECT COUNT(*) FROM alerts")
			wantRows(t, e, alerts, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%had not agreed%'", e.Users["person"].ID)
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.safeguarding.decide'")
		},
	}, {
		name: "sanction-stops-posts", won: http.StatusCreated, wins: -1, lost: []int{http.StatusForbidden},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			res := raceTopic(t, e)
			member := e.Bearer(t, "person")
			var calls []webtest.Call
			for i := range 8 {
				calls = append(calls, times(1, member, http.MethodPost, "/api/v1/topics/"+id64(res.Topic.ID)+"/posts", map[string]any{"body": fmt.Sprint("Reply ", i)})...)
			}
			return append(calls, times(1, e.Bearer(t, "moderator"), http.MethodPost, "/api/v1/community/members/"+id64(e.Users["person"].ID)+"/sanctions",
				map[string]any{"kind": "read_only", "reason": "Spam", "days": 1})...)
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, won int) {
			if s := rs[len(rs)-1]; s.StatusCode != http.StatusCreated {
				t.Fatalf("the sanction: %d %s", s.StatusCode, s.Body)
			}
			wantRows(t, e, won-1, "SELECT COUNT(*) FROM community_posts WHERE NOT opening")
			wantRows(t, e, 0, `SELECT COUNT(*) FROM audit_events WHERE action = 'community.post'
				AND id > (SELECT id FROM audit_events WHERE action = 'community.sanction')`)
		},
	}, {
		// Two moderators escalate a post whose writer agreed to their care
		// team being told, each twice: one concern, one alert.
		name: "escalated-once", won: http.StatusCreated,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			ctx := context.Background()
			if _, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: e.TeamA.ID}); err != nil {
				t.Fatal(err)
			}
			writer := e.Principal(t, "person")
			if _, err := e.Community.SaveSettings(ctx, writer, community.Settings{DisplayName: "Quiet Heron", CareTeamConsent: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Community.SetTrust(ctx, e.Principal(t, "moderator"), writer.UserID, community.TrustChange{Level: community.LevelMember, Reason: "known to us"}); err != nil {
				t.Fatal(err)
			}
			sp, err := e.Community.CreateSpace(ctx, e.Principal(t, "moderator"), community.Space{Name: "Living with voices", ForPeople: true})
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Rough week", Body: "I have been thinking of ending it all"})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/moderation/items/" + id64(res.Post.ID) + "/escalation"
			return append(times(2, e.Bearer(t, "moderator"), http.MethodPost, path, map[string]any{"reason": "Talks of ending it all"}),
				times(2, e.Bearer(t, "moderator"), http.MethodPost, path, map[string]any{"reason": "Worried about tonight"})...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_escalations")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM alerts WHERE detail = 'community'")
		},
	}, {
		// A lead shares a session into a space others can see as another
		// request makes its group invitation-only: the share comes first
		// (by audit order) or is refused with the field message.
		name: "share-races-group-made-private", won: http.StatusOK, wins: -1, lost: []int{http.StatusCreated, http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			ctx := context.Background()
			sp, err := e.Community.CreateSpace(ctx, e.Principal(t, "moderator"), community.Space{Name: "Open", ForPeople: true, ForStaff: true})
			if err != nil {
				t.Fatal(err)
			}
			raceMember(t, e, "lead", "Lead Lin")
			if _, err := e.DB.Exec(ctx, "UPDATE community_members SET trust_level = 2 WHERE user_id = $1", e.Users["lead"].ID); err != nil {
				t.Fatal(err)
			}
			g, se := makeGroup(t, e, 12, 7)
			if g, err = e.Groups.GetGroup(ctx, e.Principal(t, "lead"), g.ID, ""); err != nil {
				t.Fatal(err)
			}
			return []webtest.Call{
				{Client: e.Bearer(t, "lead"), Method: http.MethodPost, Path: "/api/v1/sessions/" + id64(se.ID) + "/share", JSON: map[string]any{"space_id": sp.ID}},
				{Client: e.Bearer(t, "lead"), Method: http.MethodPut, Path: "/api/v1/groups/" + id64(g.ID),
					JSON: groups.GroupChange{Version: g.Version, Title: g.Title, Repeats: g.Repeats, Visibility: groups.Invitation, Venue: g.Venue}},
			}
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			if rs[1].StatusCode != http.StatusOK {
				t.Fatalf("making the group invitation-only: %d %s", rs[1].StatusCode, rs[1].Body)
			}
			switch rs[0].StatusCode {
			case http.StatusUnprocessableEntity:
				if !strings.Contains(rs[0].Body, `"space_id"`) {
					t.Fatalf("the share is refused without the field: %s", rs[0].Body)
				}
				wantRows(t, e, 0, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.post'")
			case http.StatusCreated:
				wantRows(t, e, 0, `SELECT COUNT(*) FROM audit_events WHERE action = 'community.post'
					AND id > (SELECT MAX(id) FROM audit_events WHERE action = 'group.edit')`)
			}
		},
	}, {
		name: "sanction-lifted-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			sn := raceSanction(t, e, "suspended")
			path := "/api/v1/community/sanctions/" + id64(sn.ID) + "/lift"
			return append(times(2, e.Bearer(t, "moderator"), http.MethodPost, path, map[string]any{"reason": "Spoke with them"}),
				times(2, e.Bearer(t, "moderator"), http.MethodPost, path, map[string]any{"reason": "Calmer now"})...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_sanctions WHERE lifted_at IS NOT NULL")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.sanction.lift'")
		},
	}, {
		name: "appealed-once", won: http.StatusCreated,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			sn := raceSanction(t, e, "suspended")
			return times(4, e.Bearer(t, "person"), http.MethodPost, "/api/v1/community/sanctions/"+id64(sn.ID)+"/appeal", map[string]any{"words": "I was upset, not threatening"})
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_appeals")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.appeal'")
		},
	}, {
		name: "appeal-decided-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			sn := raceSanction(t, e, "suspended")
			a, err := e.Community.AppealSanction(context.Background(), e.Principal(t, "person"), sn.ID, community.NewAppeal{Words: "I was upset"})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/community/appeals/" + id64(a.ID) + "/decision"
			var calls []webtest.Call
			for i, name := range []string{"lead", "lead2", "lead", "lead2"} {
				outcome := map[bool]string{true: "overturn", false: "uphold"}[i%2 == 0]
				calls = append(calls, times(1, e.Bearer(t, name), http.MethodPost, path, map[string]any{"outcome": outcome, "reason": "Read it again"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.appeal.decide'")
			var status string
			if err := e.DB.QueryRow(context.Background(), "SELECT status FROM community_appeals").Scan(&status); err != nil {
				t.Fatal(err)
			}
			wantRows(t, e, map[bool]int{true: 1, false: 0}[status == "overturned"], "SELECT COUNT(*) FROM community_sanctions WHERE lifted_at IS NOT NULL")
		},
	}, {
		name: "trust-from-the-level-seen", won: http.StatusOK, wins: -1, lost: []int{http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			raceMember(t, e, "person", "Quiet Heron")
			path := "/api/v1/community/members/" + id64(e.Users["person"].ID) + "/trust"
			var calls []webtest.Call
			for _, level := range []int{community.LevelMember, community.LevelMember, 2, community.LevelMember} {
				calls = append(calls, times(1, e.Bearer(t, "moderator"), http.MethodPut, path, map[string]any{"level": level, "reason": "known to us"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, won int) {
			rs, err := e.DB.Query(context.Background(), "SELECT from_level, to_level FROM community_trust_changes WHERE user_id = $1 ORDER BY id", e.Users["person"].ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			level, n := 0, 0
			for rs.Next() {
				var from, to int
				if err := rs.Scan(&from, &to); err != nil {
					t.Fatal(err)
				}
				if from != level || to == from {
					t.Fatalf("a change from %d to %d after the level was %d", from, to, level)
				}
				level, n = to, n+1
			}
			if n != won {
				t.Fatalf("%d changes recorded, %d answered", n, won)
			}
			wantRows(t, e, level, "SELECT trust_level FROM community_members WHERE user_id = $1", e.Users["person"].ID)
		},
	}, {
		name: "display-name-taken-once", won: http.StatusOK, lost: []int{http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			var calls []webtest.Call
			for _, name := range []string{"person", "person2", "carer", "worker"} {
				calls = append(calls, times(1, e.Bearer(t, name), http.MethodPut, "/api/v1/community/settings", map[string]any{"display_name": "Quiet Heron"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_members")
		},
	}, {
		name: "flagged-once", won: http.StatusNoContent, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			res := raceTopic(t, e)
			return times(4, e.Bearer(t, "carer"), http.MethodPost, "/api/v1/posts/"+id64(res.Post.ID)+"/flags", map[string]any{"kind": "identifies", "note": "names a neighbour"})
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_flags WHERE resolved_at IS NULL")
		},
	}, {
		name: "reaction-toggles-take-turns", won: http.StatusOK, wins: 3,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			res := raceTopic(t, e)
			return times(3, e.Bearer(t, "carer"), http.MethodPost, "/api/v1/posts/"+id64(res.Post.ID)+"/reactions", map[string]any{"kind": "thank_you"})
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			// Three toggles from none: given, taken back, given.
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_reactions WHERE user_id = $1 AND kind = 'thank_you'", e.Users["carer"].ID)
		},
	}, {
		name: "followed-once", won: http.StatusOK, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			res := raceTopic(t, e)
			return times(4, e.Bearer(t, "carer"), http.MethodPut, "/api/v1/topics/"+id64(res.Topic.ID)+"/follow", map[string]any{"following": true})
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM community_follows WHERE user_id = $1", e.Users["carer"].ID)
		},
	}})
}

// raceNote is a contact the worker recorded on the person's referral
// (allocated to the worker, shared beyond the team so the team's clinician
// reads it too).
func raceNote(t *testing.T, e *webtest.Env) (referral.Referral, referral.Contact) {
	t.Helper()
	ctx := context.Background()
	r := e.Allocated(t, "person", "worker")
	if _, err := e.Referrals.ChangeSharing(ctx, e.Principal(t, "person"), r.ID, referral.Sharing{ShareBeyondTeam: true}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Hour)
	c, err := e.Referrals.RecordContact(ctx, e.Principal(t, "worker"), r.ID, referral.NewContact{At: e.Clock.Now().Add(-time.Minute), Mode: "phone",
		Minutes: 20, Note: "Talked about the walking group"})
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// editors are the staff who may change the worker's notes, one client each.
func editors(t *testing.T, e *webtest.Env) []*webtest.Client {
	return []*webtest.Client{e.Bearer(t, "worker"), e.Bearer(t, "lead"), e.Bearer(t, "lead2"), e.Bearer(t, "worker")}
}

// The referral's rows: consent, contacts, notes and their corrections,
// restricted notices, linking a known person, and what helped.
func TestReferralRacesOverHTTP(t *testing.T) {
	t.Parallel()
	runRaces(t, []raceCase{{
		// The person choosing in their account twice (two tabs), their
		// worker and their lead recording it on their say, all from the
		// version they saw (none yet): one choice is kept.
		name: "handover-choice-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r := e.Allocated(t, "person", "worker")
			mine := "/api/v1/my/referrals/" + id64(r.ID) + "/handover-sharing"
			staff := "/api/v1/referrals/" + id64(r.ID) + "/handover-sharing"
			person := e.Bearer(t, "person")
			return []webtest.Call{
				{Client: person, Method: http.MethodPut, Path: mine, JSON: map[string]any{"share": "all", "version": 0}},
				{Client: person, Method: http.MethodPut, Path: mine, JSON: map[string]any{"share": "none", "version": 0}},
				{Client: e.Bearer(t, "worker"), Method: http.MethodPut, Path: staff, JSON: map[string]any{"share": "summary", "agreement": "They told me at our meeting", "version": 0}},
				{Client: e.Bearer(t, "lead"), Method: http.MethodPut, Path: staff, JSON: map[string]any{"share": "none", "agreement": "They told me on the phone", "version": 0}},
			}
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM handover_sharing WHERE version = 1")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'referral.handover_sharing%' AND outcome = 'ok'")
		},
	}, {
		name: "consent-recorded-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r, err := e.Referrals.CreateReferral(context.Background(), e.Principal(t, "carer"), referral.NewReferral{
				Person:   person.Details{PreferredName: "Ravi", Phone: "07700 900610"},
				AskedFor: "x", TeamID: e.TeamA.ID, PersonKnows: testkit.Yes(), Consent: "not_obtained", ConsentReason: "too unwell to talk about it",
				Relationship: "brother", NotDuplicate: true})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/referrals/" + id64(r.ID) + "/consent"
			return []webtest.Call{
				{Client: e.Bearer(t, "lead"), Method: http.MethodPost, Path: path, JSON: map[string]any{"decision": "given"}},
				{Client: e.Bearer(t, "lead2"), Method: http.MethodPost, Path: path, JSON: map[string]any{"decision": "proceed", "reason": "Their brother says they asked for it"}},
				{Client: e.Bearer(t, "lead"), Method: http.MethodPost, Path: path, JSON: map[string]any{"decision": "given"}},
				{Client: e.Bearer(t, "lead2"), Method: http.MethodPost, Path: path, JSON: map[string]any{"decision": "proceed", "reason": "They asked their brother to"}},
			}
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'referral.consent_%'")
			wantRows(t, e, 2, "SELECT version FROM referrals")
		},
	}, {
		name: "first-contact-is-the-earliest", won: http.StatusCreated, wins: 7,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r := e.Allocated(t, "person", "worker")
			e.Clock.Advance(12 * time.Hour)
			worker := e.Bearer(t, "worker")
			var calls []webtest.Call
			for _, ago := range []int{3, 7, 1, 5, 2, 6, 4} {
				calls = append(calls, times(1, worker, http.MethodPost, "/api/v1/referrals/"+id64(r.ID)+"/contacts",
					map[string]any{"at": e.Clock.Now().Add(-time.Duration(ago) * time.Hour).Format(time.RFC3339), "mode": "phone", "minutes": 10})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			var first time.Time
			if err := e.DB.QueryRow(context.Background(), "SELECT first_contact_at FROM referrals").Scan(&first); err != nil {
				t.Fatal(err)
			}
			if want := e.Clock.Now().Add(-7 * time.Hour); !first.Equal(want) {
				t.Fatalf("first contact %v, want the earliest, %v", first, want)
			}
		},
	}, {
		// Risk words join an open referral three times as a lead accepts
		// it into team B: one open alert, with team B, and the referral
		// marked.
		name: "risk-joins-as-the-team-changes", won: http.StatusOK, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r, err := e.Referrals.CreateReferral(context.Background(), e.Principal(t, "partner"), referral.NewReferral{Person: person.Details{PreferredName: "Risa"},
				AskedFor: "company", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, ShareWithReferrer: true})
			if err != nil || r.TeamID != 0 {
				t.Fatalf("a referral with no team yet: %+v %v", r, err)
			}
			calls := times(1, e.Bearer(t, "leadB"), http.MethodPost, "/api/v1/referrals/"+id64(r.ID)+"/transitions", map[string]any{"to": "accepted", "team_id": e.TeamB.ID})
			for range 3 {
				calls = append(calls, times(1, e.Bearer(t, "partner"), http.MethodPost, "/api/v1/referrals",
					map[string]any{"person_id": r.PersonID, "asked_for": "I keep thinking about ending my life", "person_knows": true, "consent": "given"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM referrals")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM alerts WHERE team_id = $1", e.TeamB.ID)
			wantRows(t, e, 1, "SELECT COUNT(*) FROM referrals WHERE risk_flagged_at IS NOT NULL")
		},
	}, {
		// Two referrals made at once are both given the same reference
		// first (forced through the service the server uses): both are
		// made, one with it, the other with another.
		name: "reference-clash", won: http.StatusCreated, wins: 2,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			e.Referrals.References = testkit.Clashing("MUT-CLSH-0001", "MUT-FREE-")
			var calls []webtest.Call
			for i := range 2 {
				calls = append(calls, times(1, e.Bearer(t, "clinician"), http.MethodPost, "/api/v1/referrals", map[string]any{"person": map[string]any{"preferred_name": fmt.Sprint("Clash ", i)},
					"asked_for": "company", "person_knows": true, "consent": "given", "not_duplicate": true})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 2, "SELECT COUNT(DISTINCT reference) FROM referrals")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM referrals WHERE reference = 'MUT-CLSH-0001'")
		},
	}, {
		name: "note-edited-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, c := raceNote(t, e)
			var calls []webtest.Call
			for i, ed := range editors(t, e) {
				calls = append(calls, times(1, ed, http.MethodPut, "/api/v1/contacts/"+id64(c.ID)+"/note", map[string]any{"note": fmt.Sprint("Edit ", i), "version": c.Version})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM contact_note_versions")
		},
	}, {
		name: "note-edited-or-entered-in-error", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, c := raceNote(t, e)
			var calls []webtest.Call
			for i, ed := range editors(t, e) {
				if i%2 == 0 {
					calls = append(calls, times(1, ed, http.MethodPost, "/api/v1/contacts/"+id64(c.ID)+"/entered-in-error", map[string]any{"reason": "Twice", "version": c.Version})...)
				} else {
					calls = append(calls, times(1, ed, http.MethodPut, "/api/v1/contacts/"+id64(c.ID)+"/note", map[string]any{"note": fmt.Sprint("Late edit ", i), "version": c.Version})...)
				}
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			marked := rows(t, e.DB, "SELECT COUNT(*) FROM contacts WHERE error_at IS NOT NULL")
			wantRows(t, e, 1-marked, "SELECT COUNT(*) FROM contact_note_versions")
			wantRows(t, e, 2, "SELECT version FROM contacts")
		},
	}, {
		name: "correction-answered-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, c := raceNote(t, e)
			k, err := e.Referrals.AddComment(context.Background(), e.Principal(t, "person"), c.ID, referral.NewComment{Kind: "correction", Body: "Not quite"})
			if err != nil {
				t.Fatal(err)
			}
			var calls []webtest.Call
			for i, ed := range editors(t, e) {
				body := map[string]any{"answer": "declined", "reason": "It is right"}
				if i%2 == 1 {
					body = map[string]any{"answer": "corrected", "note": fmt.Sprint("Corrected ", i), "version": c.Version}
				}
				calls = append(calls, times(1, ed, http.MethodPost, "/api/v1/contact-comments/"+id64(k.ID)+"/answer", body)...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM contact_comments WHERE answer <> ''")
			corrected := rows(t, e.DB, "SELECT COUNT(*) FROM contact_comments WHERE answer = 'corrected'")
			wantRows(t, e, corrected, "SELECT COUNT(*) FROM contact_note_versions")
		},
	}, {
		name: "restricted-notice-withheld-once", won: http.StatusNoContent,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, c := raceNote(t, e)
			if _, err := e.Referrals.AddRestrictedNote(context.Background(), e.Principal(t, "worker"), c.ID, referral.NewRestrictedNote{Note: "n", Reason: "r"}); err != nil {
				t.Fatal(err)
			}
			return append(times(2, e.Bearer(t, "clinician"), http.MethodPost, "/api/v1/contacts/"+id64(c.ID)+"/restricted-notice", map[string]any{"reason": "At risk if told"}),
				times(2, e.Bearer(t, "clinician"), http.MethodPost, "/api/v1/contacts/"+id64(c.ID)+"/restricted-notice", map[string]any{"reason": "Not yet"})...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM contact_restricted_notes WHERE withheld_at IS NOT NULL")
		},
	}, {
		// The person's correction requests (the page form) and the
		// worker's mark at once: no correction recorded after the mark.
		name: "correction-or-entered-in-error", won: http.StatusSeeOther, wins: -1, lost: []int{http.StatusOK, http.StatusConflict, http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r, c := raceNote(t, e)
			me := e.As(t, "person")
			calls := times(1, e.Bearer(t, "worker"), http.MethodPost, "/api/v1/contacts/"+id64(c.ID)+"/entered-in-error", map[string]any{"reason": "Wrong person", "version": c.Version})
			for i := range 3 {
				calls = append(calls, webtest.Call{Client: me, Method: http.MethodPost, Path: "/my/contacts/" + id64(c.ID) + "/comments",
					Form: url.Values{"referral_id": {id64(r.ID)}, "kind": {"correction"}, "body": {fmt.Sprint("Fix ", i)}}})
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, won int) {
			if rs[0].StatusCode != http.StatusOK {
				t.Fatalf("the mark: %d %s", rs[0].StatusCode, rs[0].Body)
			}
			wantRows(t, e, won, "SELECT COUNT(*) FROM contact_comments")
			wantRows(t, e, 0, `SELECT COUNT(*) FROM audit_events WHERE action = 'contact.comment'
				AND id > (SELECT id FROM audit_events WHERE action = 'contact.entered_in_error')`)
		},
	}, {
		name: "known-person-linked-once", won: http.StatusNoContent,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			ctx := context.Background()
			known := e.StaffReferral(t, "clinician", "Frankie")
			if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), known.ID, referral.Move{To: referral.Declined, Reason: "no_longer_needed"}); err != nil {
				t.Fatal(err)
			}
			var phone string
			if err := e.DB.QueryRow(ctx, "SELECT phone FROM people WHERE id = $1", known.PersonID).Scan(&phone); err != nil {
				t.Fatal(err)
			}
			var calls []webtest.Call
			for _, lead := range []string{"lead", "lead2"} {
				res, err := e.Referrals.CreateSelfReferral(ctx, app.Public("r"), referral.SelfReferral{Details: person.Details{PreferredName: "Frankie", Phone: phone}, AskedFor: "x"})
				if err != nil {
					t.Fatal(err)
				}
				calls = append(calls, times(1, e.Bearer(t, lead), http.MethodPost, "/api/v1/referrals/"+id64(res.ID)+"/link-person", map[string]any{"person_id": known.PersonID})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			for _, r := range rs {
				if r.StatusCode == http.StatusConflict && !strings.Contains(r.Body, "already has an open referral") {
					t.Fatalf("the loser: %s", r.Body)
				}
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM people WHERE merged_into_id IS NOT NULL")
			wantRows(t, e, 1, `SELECT COUNT(*) FROM referrals r JOIN people p ON p.id = r.person_id
				WHERE p.merged_into_id IS NULL AND r.status IN ('received', 'accepted', 'allocated', 'active')
				AND r.person_id = (SELECT merged_into_id FROM people WHERE merged_into_id IS NOT NULL)`)
		},
	}, {
		name: "what-helped-saved-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r := e.Allocated(t, "person", "worker")
			r, err := e.Referrals.Transition(context.Background(), e.Principal(t, "lead"), r.ID, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned,
				Reason: "goals_met", OutcomeSummary: "x"})
			if err != nil {
				t.Fatal(err)
			}
			me := e.Bearer(t, "person")
			path := "/api/v1/my/referrals/" + id64(r.ID) + "/what-helped"
			return append(times(2, me, http.MethodPut, path, map[string]any{"what_helped": "Being listened to", "version": r.Version}),
				times(2, me, http.MethodPut, path, map[string]any{"what_helped": "Walking, not sitting", "version": r.Version})...)
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM referral_events WHERE note LIKE '%said what helped%'")
			words := map[bool]string{true: "Being listened to", false: "Walking, not sitting"}[rs[0].StatusCode == http.StatusOK || rs[1].StatusCode == http.StatusOK]
			wantRows(t, e, 1, "SELECT COUNT(*) FROM referrals WHERE what_helped = $1", words)
		},
	}})
}

// raceSession is a group session of team A with capacity places, booked
// by n people without accounts (the first capacity booked, the rest
// waiting), with their bookings.
func raceSession(t *testing.T, e *webtest.Env, capacity, n int) (int64, []groups.BookingResult) {
	t.Helper()
	_, se := makeGroup(t, e, capacity, 7)
	var bs []groups.BookingResult
	for i := range n {
		bs = append(bs, book(t, e, se.ID, fmt.Sprintf("Booker %c", 'A'+i)))
	}
	return se.ID, bs
}

// sessionHolds checks a session's places after a race: the places held are
// those booked and offered, never over capacity; the waiting list is 1..n;
// and no place is free while someone it fits waits without an offer.
func sessionHolds(t *testing.T, e *webtest.Env, sessionID int64) (booked, waiting int) {
	t.Helper()
	capacity := rows(t, e.DB, "SELECT capacity FROM group_sessions WHERE id = $1", sessionID)
	held := rows(t, e.DB, "SELECT places_held FROM group_sessions WHERE id = $1", sessionID)
	booked = rows(t, e.DB, "SELECT COALESCE(SUM(places), 0) FROM group_bookings WHERE session_id = $1 AND status = 'booked'", sessionID)
	offered := rows(t, e.DB, "SELECT COALESCE(SUM(places), 0) FROM group_offers WHERE session_id = $1 AND status = 'open'", sessionID)
	if held != booked+offered || held > capacity {
		t.Fatalf("session %d holds %d of %d places, with %d booked and %d offered", sessionID, held, capacity, booked, offered)
	}
	waiting = rows(t, e.DB, "SELECT COUNT(*) FROM group_bookings WHERE session_id = $1 AND status = 'waiting'", sessionID)
	wantRows(t, e, waiting, "SELECT COUNT(DISTINCT position) FROM group_bookings WHERE session_id = $1 AND status = 'waiting' AND position BETWEEN 1 AND $2", sessionID, waiting)
	if capacity > held {
		wantRows(t, e, 0, `SELECT COUNT(*) FROM group_bookings b WHERE b.session_id = $1 AND b.status = 'waiting' AND b.places <= $2
			AND NOT EXISTS (SELECT 1 FROM group_offers o WHERE o.booking_id = b.id AND o.status = 'open')`, sessionID, capacity-held)
	}
	return booked, waiting
}

// cancelCall cancels a booking with its key, as its booker without an
// account does.
func cancelCall(e *webtest.Env, t *testing.T, b groups.BookingResult) webtest.Call {
	return webtest.Call{Client: e.Client(t), Method: http.MethodDelete, Path: "/api/v1/bookings/" + id64(b.ID) + "?key=" + url.QueryEscape(b.Key)}
}

// The groups' rows: cancelling and leaving, offers, the waiting list,
// capacity, cancelling a session, the register and the network.
func TestGroupRacesOverHTTP(t *testing.T) {
	t.Parallel()
	runRaces(t, []raceCase{{
		// Both booked cancel (each twice, a double click) and two waiting
		// leave, all at once: the freed places go down the list, and each
		// booking is cancelled once (the second click is answered with the
		// booking as it is, and neither audited nor recorded again).
		name: "cancel-and-leave-at-once", won: http.StatusOK, wins: 6,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, bs := raceSession(t, e, 2, 7)
			return []webtest.Call{cancelCall(e, t, bs[0]), cancelCall(e, t, bs[0]), cancelCall(e, t, bs[1]), cancelCall(e, t, bs[1]),
				cancelCall(e, t, bs[2]), cancelCall(e, t, bs[4])}
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			id := rows(t, e.DB, "SELECT MAX(id) FROM group_sessions")
			booked, waiting := sessionHolds(t, e, int64(id))
			offers := rows(t, e.DB, "SELECT COUNT(*) FROM group_offers WHERE status = 'open'")
			if booked != 0 || offers != 2 || waiting != 3 {
				t.Fatalf("%d booked, %d offered, %d waiting; want 0, 2 and 3", booked, offers, waiting)
			}
			wantRows(t, e, 4, "SELECT COUNT(*) FROM audit_events WHERE action = 'group.booking.cancel'")
			wantRows(t, e, 4, "SELECT COUNT(*) FROM group_booking_events WHERE kind IN ('cancelled', 'left')")
		},
	}, {
		// Two bookings made at once are both given the same reference
		// first (forced through the service the server uses): both are
		// made, one with it, the other with another.
		name: "reference-clash", won: http.StatusCreated, wins: 2,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, se := makeGroup(t, e, 12, 7)
			e.Groups.References = testkit.Clashing("GRP-CLSH-0001", "GRP-FREE-")
			var calls []webtest.Call
			for i := range 2 {
				calls = append(calls, webtest.Call{Client: e.Client(t), Method: http.MethodPost, Path: "/api/v1/sessions/" + id64(se.ID) + "/bookings",
					JSON: map[string]any{"name": fmt.Sprint("Clash ", i), "email": fmt.Sprintf("clash%d@example.org", i), "places": 1}})
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 2, "SELECT COUNT(DISTINCT reference) FROM group_bookings")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM group_bookings WHERE reference = 'GRP-CLSH-0001'")
		},
	}, {
		name: "offer-answered-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, bs := raceSession(t, e, 1, 2)
			if _, err := e.Groups.Cancel(context.Background(), app.Public("t"), bs[0].ID, bs[0].Key); err != nil {
				t.Fatal(err)
			}
			offer := "/api/v1/offers/" + openOffer(t, e, bs[1].ID)
			key := "?key=" + url.QueryEscape(bs[1].Key)
			return []webtest.Call{{Client: e.Client(t), Method: http.MethodPost, Path: offer + "/accept" + key},
				{Client: e.Client(t), Method: http.MethodPost, Path: offer + "/accept" + key},
				{Client: e.Client(t), Method: http.MethodPost, Path: offer + "/decline" + key}}
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			id := rows(t, e.DB, "SELECT MAX(id) FROM group_sessions")
			booked, _ := sessionHolds(t, e, int64(id))
			if want := map[bool]int{true: 0, false: 1}[rs[2].StatusCode == http.StatusOK]; booked != want {
				t.Fatalf("%d booked, want %d", booked, want)
			}
			wantRows(t, e, 0, "SELECT COUNT(*) FROM group_offers WHERE status = 'open'")
		},
	}, {
		// Three moves at once (a move to where the booking already is by
		// then is refused): positions stay 1..5 and distinct.
		name: "waiting-list-moves-take-turns", won: http.StatusOK, wins: -1, lost: []int{http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			_, bs := raceSession(t, e, 1, 6)
			move := func(who string, b groups.BookingResult, to int) webtest.Call {
				return webtest.Call{Client: e.Bearer(t, who), Method: http.MethodPost, Path: "/api/v1/waiting-list/" + id64(b.ID) + "/move",
					JSON: map[string]any{"position": to, "reason": "they asked"}}
			}
			return []webtest.Call{move("lead", bs[5], 1), move("lead2", bs[4], 1), move("lead", bs[1], 5)}
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, won int) {
			id := rows(t, e.DB, "SELECT MAX(id) FROM group_sessions")
			if _, waiting := sessionHolds(t, e, int64(id)); waiting != 5 || won == 0 {
				t.Fatalf("%d waiting, %d moves", waiting, won)
			}
		},
	}, {
		// Places changed while people book and cancel: fewer places than
		// are held is refused with the field message; no place is lost.
		name: "capacity-against-bookings", won: http.StatusOK, wins: -1, lost: []int{http.StatusCreated, http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			id, bs := raceSession(t, e, 3, 2)
			lead := e.Bearer(t, "lead")
			path := "/api/v1/sessions/" + id64(id)
			calls := []webtest.Call{{Client: lead, Method: http.MethodPost, Path: path + "/capacity", JSON: map[string]any{"capacity": 2}},
				{Client: lead, Method: http.MethodPost, Path: path + "/capacity", JSON: map[string]any{"capacity": 4}},
				cancelCall(e, t, bs[0])}
			for i := range 2 {
				calls = append(calls, webtest.Call{Client: e.Client(t), Method: http.MethodPost, Path: path + "/bookings",
					JSON: map[string]any{"name": fmt.Sprint("Cy ", i), "email": fmt.Sprintf("cy%d@example.org", i), "places": 1}})
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			for i, r := range rs {
				if r.StatusCode == http.StatusUnprocessableEntity && (i != 0 || !strings.Contains(r.Body, `"capacity"`)) {
					t.Fatalf("racer %d refused: %s", i, r.Body)
				}
			}
			sessionHolds(t, e, int64(rows(t, e.DB, "SELECT MAX(id) FROM group_sessions")))
		},
	}, {
		// A session called off by two leads while a place is accepted, one
		// declined and a newcomer books: one cancellation, and afterwards no
		// offer on it is open.
		name: "session-cancelled-under-answers", won: http.StatusOK, wins: -1, lost: []int{http.StatusCreated, http.StatusConflict, http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			id, bs := raceSession(t, e, 2, 4)
			for _, b := range bs[:2] {
				if _, err := e.Groups.Cancel(context.Background(), app.Public("t"), b.ID, b.Key); err != nil {
					t.Fatal(err)
				}
			}
			answer := func(b groups.BookingResult, how string) webtest.Call {
				return webtest.Call{Client: e.Client(t), Method: http.MethodPost, Path: "/api/v1/offers/" + openOffer(t, e, b.ID) + "/" + how + "?key=" + url.QueryEscape(b.Key)}
			}
			path := "/api/v1/sessions/" + id64(id)
			return []webtest.Call{
				{Client: e.Bearer(t, "lead"), Method: http.MethodPost, Path: path + "/cancel", JSON: map[string]any{"reason": "The room flooded"}},
				{Client: e.Bearer(t, "lead2"), Method: http.MethodPost, Path: path + "/cancel", JSON: map[string]any{"reason": "Nobody to run it"}},
				answer(bs[2], "accept"), answer(bs[3], "decline"),
				{Client: e.Client(t), Method: http.MethodPost, Path: path + "/bookings", JSON: map[string]any{"name": "Late", "email": "late@example.org", "places": 1}},
			}
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			if n := map[bool]int{true: 1}[rs[0].StatusCode == http.StatusOK] + map[bool]int{true: 1}[rs[1].StatusCode == http.StatusOK]; n != 1 {
				t.Fatalf("cancelled %d times: %d %d", n, rs[0].StatusCode, rs[1].StatusCode)
			}
			wantRows(t, e, 0, "SELECT COUNT(*) FROM group_offers WHERE status = 'open'")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'group.session.cancel'")
		},
	}, {
		name: "register-once-per-booking", won: http.StatusOK, wins: 3,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			id, bs := raceSession(t, e, 12, 2)
			e.Clock.Advance(8 * 24 * time.Hour)
			var calls []webtest.Call
			for i, who := range []string{"worker", "lead", "lead2"} {
				calls = append(calls, webtest.Call{Client: e.Bearer(t, who), Method: http.MethodPost, Path: "/api/v1/sessions/" + id64(id) + "/attendance",
					JSON: map[string]any{"entries": []map[string]any{{"booking_id": bs[0].ID, "outcome": "attended"},
						{"booking_id": bs[1].ID, "outcome": []string{"attended", "no_show"}[i%2]}}}})
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 2, "SELECT COUNT(*) FROM group_attendance")
			wantRows(t, e, 2, "SELECT COUNT(DISTINCT booking_id) FROM group_attendance")
		},
	}, {
		name: "interest-counted-once", won: http.StatusOK, wins: 5,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pr, err := e.Groups.Propose(context.Background(), e.Principal(t, "person"), groups.NewProposal{Title: "Allotment mornings"})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/proposals/" + id64(pr.ID) + "/interest"
			p2, carer := e.Bearer(t, "person2"), e.Bearer(t, "carer")
			return append(append(times(2, p2, http.MethodPost, path, nil), times(2, carer, http.MethodPost, path, nil)...), times(1, e.Bearer(t, "worker"), http.MethodPost, path, nil)...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 4, "SELECT COUNT(*) FROM network_interest")
		},
	}, {
		name: "proposal-answered-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pr, err := e.Groups.Propose(context.Background(), e.Principal(t, "person"), groups.NewProposal{Title: "Allotment mornings"})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/proposals/" + id64(pr.ID) + "/answer"
			var calls []webtest.Call
			for i, who := range []string{"lead", "lead2", "leadB", "lead"} {
				calls = append(calls, times(1, e.Bearer(t, who), http.MethodPost, path, map[string]any{"outcome": "not_taken_up", "answer": fmt.Sprint("Not this year ", i)})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM network_proposals WHERE status <> 'open'")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%Allotment%'", e.Users["person"].ID)
		},
	}})
}

// signInCall signs a named world account in through the form, on a client
// of its own.
func signInCall(e *webtest.Env, t *testing.T, name string) webtest.Call {
	return webtest.Call{Client: e.Client(t), Method: http.MethodPost, Path: "/sign-in",
		Form: url.Values{"email": {e.Users[name].Email}, "password": {testkit.Password}}}
}

// The account's and the person's own rows: tokens, disabling, names,
// switching context, links, claim codes and one's own contact details.
func TestAccountRacesOverHTTP(t *testing.T) {
	t.Parallel()
	runRaces(t, []raceCase{{
		// One recovery code sent nine times at once from three
		// half-signed-in sessions of one account: one sign-in completes,
		// and the code is spent.
		name: "recovery-code-signs-in-once", opts: webtest.Options{RequireMFA: true}, won: http.StatusSeeOther, wins: -1,
		lost: []int{http.StatusUnauthorized, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			lead := e.Users["lead"]
			c := e.Client(t)
			c.SignIn(lead.Email, testkit.Password)
			c.Get("/account/two-factor/setup")
			r := c.PostForm("/account/two-factor/setup", url.Values{"code": {e.TOTPCode(t, lead.Email)}})
			codes := regexp.MustCompile(`<code>([a-z0-9]{5}-[a-z0-9]{5})</code>`).FindStringSubmatch(r.Body)
			if r.StatusCode != http.StatusOK || codes == nil {
				t.Fatalf("two-factor set-up: %d\n%s", r.StatusCode, r.Body)
			}
			c.PostForm("/sign-out", nil)
			e.Clock.Advance(30 * time.Second)
			clients := pendingClients(t, e, 3)
			var calls []webtest.Call
			for i := range 9 {
				calls = append(calls, webtest.Call{Client: clients[i%3], Method: http.MethodPost, Path: "/sign-in/two-factor",
					Form: url.Values{"code": {codes[1]}, "next": {"/referrals"}}})
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			signedIn := 0
			for _, r := range rs {
				if r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/referrals" {
					signedIn++
				}
			}
			if signedIn != 1 {
				t.Fatalf("one recovery code completed %d sign-ins", signedIn)
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND mfa_ok = TRUE", e.Users["lead"].ID)
			wantRows(t, e, 1, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL", e.Users["lead"].ID)
		},
	}, {
		// The owner twice, an administrator and another account revoke one
		// token at once: revoked once; the other account is told not found.
		name: "token-revoked-once", won: http.StatusNoContent, wins: 3, lost: []int{http.StatusNotFound},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			uid := e.Users["person"].ID
			tok, err := e.Accounts.CreateAPIToken(context.Background(), app.Operator("test"), uid, "laptop", 0)
			if err != nil {
				t.Fatal(err)
			}
			owner := e.As(t, "person")
			return []webtest.Call{{Client: owner, Method: http.MethodDelete, Path: "/api/v1/me/tokens/" + id64(tok.ID)},
				{Client: owner, Method: http.MethodDelete, Path: "/api/v1/me/tokens/" + id64(tok.ID)},
				{Client: e.Bearer(t, "admin"), Method: http.MethodDelete, Path: "/api/v1/users/" + id64(uid) + "/tokens/" + id64(tok.ID)},
				{Client: e.As(t, "person2"), Method: http.MethodDelete, Path: "/api/v1/me/tokens/" + id64(tok.ID)}}
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			if rs[3].StatusCode != http.StatusNotFound {
				t.Fatalf("another account revoking: %d", rs[3].StatusCode)
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'account.token_revoke'")
			wantRows(t, e, 0, "SELECT COUNT(*) FROM api_tokens WHERE name = 'laptop' AND revoked_at IS NULL")
		},
	}, {
		// An administrator disables an account while it signs in three
		// times and asks for two tokens: afterwards it has no session and
		// no live token, whatever order they took.
		name: "disabled-under-sign-ins-and-tokens", won: http.StatusSeeOther, wins: -1,
		lost: []int{http.StatusOK, http.StatusCreated, http.StatusNoContent, http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			me := e.As(t, "person")
			calls := []webtest.Call{{Client: e.Bearer(t, "admin"), Method: http.MethodPost, Path: "/api/v1/users/" + id64(e.Users["person"].ID) + "/disable"}}
			for range 3 {
				calls = append(calls, signInCall(e, t, "person"))
			}
			return append(calls, times(2, me, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "script"})...)
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			if rs[0].StatusCode >= 300 {
				t.Fatalf("disabling: %d %s", rs[0].StatusCode, rs[0].Body)
			}
			wantRows(t, e, 0, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", e.Users["person"].ID)
			wantRows(t, e, 0, "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL", e.Users["person"].ID)
		},
	}, {
		name: "organisation-named-once", won: http.StatusCreated, lost: []int{http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			return append(times(2, e.Bearer(t, "admin"), http.MethodPost, "/api/v1/organisations", map[string]any{"name": "Mind in the City", "kind": "partner_agency"}),
				times(2, e.Bearer(t, "admin"), http.MethodPost, "/api/v1/organisations", map[string]any{"name": "Mind in the City", "kind": "peer_network"})...)
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			for _, r := range rs {
				if r.StatusCode == http.StatusUnprocessableEntity && !strings.Contains(r.Body, `"name"`) {
					t.Fatalf("the loser is not told about the name: %s", r.Body)
				}
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM organisations WHERE name = 'Mind in the City'")
		},
	}, {
		name: "team-named-once", won: http.StatusCreated, lost: []int{http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			org := rows(t, e.DB, "SELECT organisation_id FROM teams WHERE id = $1", e.TeamA.ID)
			return append(times(2, e.Bearer(t, "admin"), http.MethodPost, "/api/v1/teams", map[string]any{"organisation_id": org, "name": "East Outreach", "setting": "community"}),
				times(2, e.Bearer(t, "admin"), http.MethodPost, "/api/v1/teams", map[string]any{"organisation_id": org, "name": "East Outreach", "setting": "crisis"})...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM teams WHERE name = 'East Outreach'")
		},
	}, {
		// One session of an account that is staff and uses services,
		// switched four times at once (four tabs): one switch replaces it;
		// the others come with the session it replaced and are not signed in.
		name: "context-switched-once", won: http.StatusOK, lost: []int{http.StatusUnauthorized},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			u, err := e.Accounts.CreateUser(context.Background(), app.Operator("test"), account.NewUser{Email: "dual@example.org", Name: "Dee Dual",
				Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: e.TeamA.ID}, {Role: app.RolePerson}}, Password: testkit.Password})
			if err != nil {
				t.Fatal(err)
			}
			e.Users["dual"] = u
			// Four clients holding one session's cookie, so that no request
			// is sent with the session an earlier switch gave (one jar
			// would hand it to a request that starts a moment later).
			c := e.As(t, "dual")
			site, _ := url.Parse(e.URL)
			var calls []webtest.Call
			for i := range 4 {
				tab := e.Client(t)
				tab.HTTP.Jar.SetCookies(site, c.HTTP.Jar.Cookies(site))
				calls = append(calls, times(1, tab, http.MethodPut, "/api/v1/me/acting-as", map[string]any{"acting_as": []string{app.ActingOwn, app.ActingWork}[i%2]})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", e.Users["dual"].ID)
		},
	}, {
		// An administrator resends an invitation three times while it is
		// asked for as a password reset twice: one live link.
		name: "one-live-invitation", won: http.StatusNoContent, wins: 3, lost: []int{http.StatusOK, http.StatusSeeOther},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			u, err := e.Accounts.CreateUser(context.Background(), app.Operator("test"), account.NewUser{Email: "new.worker@example.org", Name: "New Worker",
				Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: e.TeamA.ID}}})
			if err != nil {
				t.Fatal(err)
			}
			calls := times(3, e.Bearer(t, "admin"), http.MethodPost, "/api/v1/users/"+id64(u.ID)+"/resend-invitation", nil)
			for range 2 {
				calls = append(calls, webtest.Call{Client: e.Client(t), Method: http.MethodPost, Path: "/password-reset", Form: url.Values{"email": {"new.worker@example.org"}}})
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = 'new.worker@example.org' AND t.used_at IS NULL")
		},
	}, {
		// A clinician prints and emails claim codes for one record while
		// two accounts ask for one sent to its address: one live code.
		name: "one-live-claim-code", won: http.StatusCreated, wins: 3, lost: []int{http.StatusOK, http.StatusAccepted},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r, err := e.Referrals.CreateReferral(context.Background(), e.Principal(t, "clinician"), referral.NewReferral{
				Person:   person.Details{PreferredName: "Kit", Email: "kit@example.org"},
				AskedFor: "Someone to talk to", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
			if err != nil {
				t.Fatal(err)
			}
			clin := e.Bearer(t, "clinician")
			path := "/api/v1/people/" + id64(r.PersonID) + "/claim-invitations"
			calls := append(times(2, clin, http.MethodPost, path, map[string]any{"how": "print"}), times(1, clin, http.MethodPost, path, map[string]any{"how": "email"})...)
			for _, who := range []string{"person", "person2", "person"} {
				calls = append(calls, times(1, e.Bearer(t, who), http.MethodPost, "/api/v1/my/claim-codes", map[string]any{"email": "kit@example.org"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM person_claims WHERE used_at IS NULL")
			wantRows(t, e, 6, "SELECT COUNT(*) FROM person_claims")
		},
	}, {
		// Two teams add people with one trust record number, twice each:
		// one record holds it; each other made has it pending, or is told
		// about the field.
		name: "trust-number-held-once", won: http.StatusCreated, wins: -1, lost: []int{http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			var calls []webtest.Call
			for i, who := range []string{"clinician", "clinicianB", "clinician", "clinicianB"} {
				calls = append(calls, times(1, e.Bearer(t, who), http.MethodPost, "/api/v1/people",
					map[string]any{"preferred_name": fmt.Sprint("Made ", i), "trust_ref": "RX-2001", "not_duplicate": true})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, won int) {
			for _, r := range rs {
				if r.StatusCode == http.StatusUnprocessableEntity && !strings.Contains(r.Body, `"trust_ref"`) {
					t.Fatalf("the loser is not told about the number: %s", r.Body)
				}
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM people WHERE trust_ref = 'RX-2001'")
			wantRows(t, e, won-1, "SELECT COUNT(*) FROM people WHERE trust_ref_pending = 'RX-2001'")
		},
	}, {
		// Four changes of one's own email at once: each change records the
		// value it replaced, so the history is one chain.
		name: "own-contact-history-is-one-chain", won: http.StatusOK, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			if err := e.DB.Write(context.Background(), func(tx *store.Tx) error {
				_, err := e.Accounts.OwnPerson(context.Background(), tx, e.Principal(t, "person"), e.Clock.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			me := e.Bearer(t, "person")
			var calls []webtest.Call
			for i := range 4 {
				calls = append(calls, times(1, me, http.MethodPut, "/api/v1/my/details", map[string]any{"preferred_name": "Pat", "email": fmt.Sprintf("pat%d@example.org", i), "contact_preference": "email"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			pid := e.Principal(t, "person").PersonID
			rs, err := e.DB.Query(context.Background(), "SELECT old_value, new_value FROM person_changes WHERE person_id = $1 AND field = 'email' ORDER BY id", pid)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			last, n := "person@test.example", 0
			for rs.Next() {
				var old, next string
				if err := rs.Scan(&old, &next); err != nil {
					t.Fatal(err)
				}
				if old != last {
					t.Fatalf("change %d records %q replaced, but the email was %q", n, old, last)
				}
				last, n = next, n+1
			}
			if n != 4 {
				t.Fatalf("%d changes recorded, want 4", n)
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM people WHERE id = $1 AND email = $2", pid, last)
		},
	}})
}

// orgOf is the organisation of team A.
func orgOf(t *testing.T, e *webtest.Env) int64 {
	return int64(rows(t, e.DB, "SELECT organisation_id FROM teams WHERE id = $1", e.TeamA.ID))
}

// Matching's rows, and the organisation's alert settings: choices, worker
// profiles, disclosures, asking for a different worker, settings.
func TestMatchingRacesOverHTTP(t *testing.T) {
	t.Parallel()
	runRaces(t, []raceCase{{
		// The first save of an account with no record (the carer's), three
		// times at once from version 0: the account gets one record, one
		// version is saved, the others are told.
		name: "choices-first-save-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			if e.Principal(t, "carer").PersonID != 0 {
				t.Fatal("the carer's account has a record already")
			}
			me := e.Bearer(t, "carer")
			var calls []webtest.Call
			for _, g := range []string{"woman", "man", "non_binary"} {
				calls = append(calls, times(1, me, http.MethodPut, "/api/v1/my/choices", map[string]any{"version": 0, "worker_gender": g})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM people WHERE preferred_name = 'Test carer'")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM users WHERE id = $1 AND person_id IS NOT NULL", e.Users["carer"].ID)
			wantRows(t, e, 1, "SELECT COUNT(*) FROM choice_profiles")
		},
	}, {
		name: "worker-profile-from-one-version", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			id := e.Users["worker"].ID
			prof, err := e.Matching.WorkerProfile(context.Background(), e.Principal(t, "lead"), id)
			if err != nil {
				t.Fatal(err)
			}
			var calls []webtest.Call
			for i, who := range []string{"lead", "lead2", "lead"} {
				calls = append(calls, times(1, e.Bearer(t, who), http.MethodPut, "/api/v1/workers/"+id64(id)+"/profile",
					map[string]any{"version": prof.Version, "capacity": map[string]any{"hours_per_week": 30 + i, "cap_override": 1 + i, "reductions": []any{}}})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM worker_profiles WHERE user_id = $1", e.Users["worker"].ID)
			wantRows(t, e, 1, "SELECT version FROM worker_profiles WHERE user_id = $1", e.Users["worker"].ID)
		},
	}, {
		name: "disclosure-changed-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			wb := e.Users["workerB"].ID
			d, err := e.Matching.AddDisclosure(context.Background(), e.Principal(t, "workerB"), wb, matching.NewDisclosure{Text: "item", Audience: "team", Themes: []string{"psychosis"}})
			if err != nil {
				t.Fatal(err)
			}
			me := e.Bearer(t, "workerB")
			var calls []webtest.Call
			for _, text := range []string{"first", "second", "third"} {
				calls = append(calls, times(1, me, http.MethodPatch, "/api/v1/workers/"+id64(wb)+"/disclosures/"+id64(d.ID), map[string]any{"version": d.Version, "text": text})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			for i, r := range rs {
				if r.StatusCode == http.StatusOK {
					wantRows(t, e, 1, "SELECT COUNT(*) FROM disclosures WHERE text = $1 AND version = 2", []string{"first", "second", "third"}[i])
				}
			}
		},
	}, {
		// Twelve items added at once past 44: six are, the others are told
		// the limit; never more than 50.
		name: "at-most-fifty-disclosures", won: http.StatusCreated, wins: 6,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			wb := e.Users["workerB"].ID
			for i := range 44 {
				if _, err := e.Matching.AddDisclosure(context.Background(), e.Principal(t, "workerB"), wb, matching.NewDisclosure{Text: fmt.Sprint("item ", i), Audience: "team"}); err != nil {
					t.Fatal(err)
				}
			}
			me := e.Bearer(t, "workerB")
			var calls []webtest.Call
			for i := range 12 {
				calls = append(calls, times(1, me, http.MethodPost, "/api/v1/workers/"+id64(wb)+"/disclosures", map[string]any{"text": fmt.Sprint("late item ", i), "audience": "team"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 50, "SELECT COUNT(*) FROM disclosures")
		},
	}, {
		// Asked four times at once: every answer names the worker allocated
		// now, and the request is recorded once.
		name: "different-worker-asked-once", won: http.StatusOK, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			r := e.Allocated(t, "person", "worker")
			return times(4, e.Bearer(t, "person"), http.MethodPost, "/api/v1/my/worker-change", map[string]any{"referral_id": r.ID})
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			for _, r := range rs {
				if !regexp.MustCompile(fmt.Sprintf(`"worker_id":\s*%d\b`, e.Users["worker"].ID)).MatchString(r.Body) {
					t.Fatalf("an answer names another worker: %s", r.Body)
				}
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM worker_exclusions")
		},
	}, {
		name: "matching-settings-one-row", won: http.StatusOK, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			var calls []webtest.Call
			for i := range 4 {
				calls = append(calls, times(1, e.Bearer(t, "admin"), http.MethodPut, "/api/v1/organisations/"+id64(orgOf(t, e))+"/matching-settings",
					map[string]any{"people_per_fte": 10 + i, "full_time_hours": 30 + i, "themes": []map[string]any{{"label": fmt.Sprint("Theme ", i)}}})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM matching_settings")
			got, err := e.Matching.Settings(context.Background(), e.Principal(t, "admin"), orgOf(t, e))
			if err != nil {
				t.Fatal(err)
			}
			if i := got.PeoplePerFTE - 10; i < 0 || i > 3 || got.FullTimeHours != float64(30+i) || len(got.Themes) != 1 || got.Themes[0].Label != fmt.Sprint("Theme ", i) {
				t.Fatalf("the settings kept are no one save: %+v", got)
			}
		},
	}, {
		name: "alert-settings-one-row", won: http.StatusOK, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			var calls []webtest.Call
			for i := range 4 {
				calls = append(calls, times(1, e.Bearer(t, "admin"), http.MethodPut, "/api/v1/organisations/"+id64(orgOf(t, e))+"/alert-settings",
					map[string]any{"respond_within_minutes": 60 * (i + 1), "work_days": []string{"mon", "tue", "wed"}[:1+i%3],
						"day_start": fmt.Sprintf("%02d:00", 6+i), "day_end": "17:30", "time_zone": "Europe/London"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			got, err := e.Alerts.GetSettings(context.Background(), e.Principal(t, "admin"), orgOf(t, e))
			if err != nil {
				t.Fatal(err)
			}
			if i := got.RespondMinutes/60 - 1; i < 0 || i > 3 || got.DayStart != fmt.Sprintf("%02d:00", 6+i) || len(got.WorkDays) != 1+i%3 {
				t.Fatalf("the settings kept are no one save: %+v", got)
			}
		},
	}})
}

// Recovery goals, watched words and support's rows: appointments, visits
// and calendar feeds.
func TestSupportRacesOverHTTP(t *testing.T) {
	t.Parallel()
	runRaces(t, []raceCase{{
		name: "goal-changed-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pid := supportedPerson(t, e)
			g, _, err := e.Recovery.CreateGoal(context.Background(), e.Principal(t, "person"), pid, recovery.NewGoal{Description: "Walk more"})
			if err != nil {
				t.Fatal(err)
			}
			var calls []webtest.Call
			for i, who := range []string{"person", "worker", "person"} {
				calls = append(calls, times(1, e.Bearer(t, who), http.MethodPatch, "/api/v1/goals/"+id64(g.ID), map[string]any{"version": g.Version, "description": fmt.Sprint("Walk on day ", i)})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			for i, r := range rs {
				if r.StatusCode == http.StatusOK {
					wantRows(t, e, 1, "SELECT COUNT(*) FROM recovery_goals WHERE description = $1 AND version = 2", fmt.Sprint("Walk on day ", i))
				}
			}
		},
	}, {
		// Two pieces of feedback given at once are both given the same
		// reference first (forced through the service the server uses):
		// both are kept, one with it, the other with another.
		name: "feedback-reference-clash", won: http.StatusCreated, wins: 2,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			e.Recovery.FeedbackReferences = testkit.Clashing("FB-CLSH-0001", "FB-FREE-")
			var calls []webtest.Call
			for i := range 2 {
				calls = append(calls, webtest.Call{Client: e.Client(t), Method: http.MethodPost, Path: "/api/v1/feedback",
					JSON: map[string]any{"about": "service", "team_id": e.TeamA.ID, "body": fmt.Sprint("Clash ", i), "anonymous": true}})
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 2, "SELECT COUNT(DISTINCT reference) FROM feedback")
			wantRows(t, e, 1, "SELECT COUNT(*) FROM feedback WHERE reference = 'FB-CLSH-0001'")
		},
	}, {
		name: "watched-phrase-added-once", won: http.StatusCreated, lost: []int{http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			if _, err := e.Watch.MakeOwn(context.Background(), e.Principal(t, "admin"), orgOf(t, e)); err != nil {
				t.Fatal(err)
			}
			return times(6, e.Bearer(t, "admin"), http.MethodPost, "/api/v1/organisations/"+id64(orgOf(t, e))+"/watch-terms",
				map[string]any{"phrase": "Feel unsafe", "category": "distress", "action": "flag"})
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			for _, r := range rs {
				if r.StatusCode == http.StatusUnprocessableEntity && !strings.Contains(r.Body, `"phrase"`) {
					t.Fatalf("the loser is not told about the phrase: %s", r.Body)
				}
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM watch_terms WHERE organisation_id = $1 AND phrase = 'Feel unsafe'", orgOf(t, e))
		},
	}, {
		// Two administrators' first changes at once: the defaults are
		// copied once, and both phrases are on the list.
		name: "watched-words-made-own-once", won: http.StatusCreated, wins: 2,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			path := "/api/v1/organisations/" + id64(orgOf(t, e)) + "/watch-terms"
			return append(times(1, e.Bearer(t, "admin"), http.MethodPost, path, map[string]any{"phrase": "feel unsafe", "category": "distress", "action": "flag"}),
				times(1, e.Bearer(t, "admin"), http.MethodPost, path, map[string]any{"phrase": "no longer safe", "category": "distress", "action": "flag"})...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM watch_lists WHERE organisation_id = $1", orgOf(t, e))
			wantRows(t, e, len(watch.DefaultTerms)+2, "SELECT COUNT(*) FROM watch_terms WHERE organisation_id = $1", orgOf(t, e))
		},
	}, {
		// The person accepts twice and cancels, and the worker cancels, all
		// from one version: one step is taken.
		name: "appointment-step-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pid := supportedPerson(t, e)
			a, err := e.Support.Create(context.Background(), e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: raceTomorrow10(e), Place: "phone"})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/appointments/" + id64(a.ID) + "/transitions"
			me := e.Bearer(t, "person")
			return append(append(times(2, me, http.MethodPost, path, map[string]any{"to": "booked", "version": a.Version}),
				times(1, me, http.MethodPost, path, map[string]any{"to": "cancelled", "reason": "Not that day", "version": a.Version})...),
				times(1, e.Bearer(t, "worker"), http.MethodPost, path, map[string]any{"to": "cancelled", "reason": "Off sick", "version": a.Version})...)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action IN ('appointment.booked', 'appointment.cancelled')")
			wantRows(t, e, 2, "SELECT version FROM appointments")
		},
	}, {
		// The worker books two appointments as the lead takes them off the
		// person's referral: each booking came first (and the move cancelled
		// it) or is refused; none is left with a worker no longer theirs.
		name: "booking-as-the-worker-is-taken-off", won: http.StatusOK, wins: -1,
		lost: []int{http.StatusCreated, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pid := supportedPerson(t, e)
			at := raceTomorrow10(e)
			r := rows(t, e.DB, "SELECT id FROM referrals WHERE person_id = $1", pid)
			calls := []webtest.Call{{Client: e.Bearer(t, "lead"), Method: http.MethodPost, Path: "/api/v1/referrals/" + strconv.Itoa(r) + "/transitions",
				JSON: map[string]any{"to": "accepted", "reason": "worker_left"}}}
			for i := range 2 {
				calls = append(calls, times(1, e.Bearer(t, "worker"), http.MethodPost, "/api/v1/appointments",
					map[string]any{"person_id": pid, "start": at.Add(time.Duration(2*i) * time.Hour).Format(time.RFC3339), "place": "phone", "agreed": true})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			if rs[0].StatusCode != http.StatusOK {
				t.Fatalf("taking the worker off: %d %s", rs[0].StatusCode, rs[0].Body)
			}
			wantRows(t, e, 0, "SELECT COUNT(*) FROM appointments WHERE status <> 'cancelled'")
		},
	}, {
		// A booked appointment moved three times at once (the person twice,
		// the worker once): one move; the others find it already moved.
		name: "appointment-moved-once", won: http.StatusCreated,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pid := supportedPerson(t, e)
			at := raceTomorrow10(e)
			a, err := e.Support.Create(context.Background(), e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: at, Place: "phone", Agreed: true})
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/v1/appointments/" + id64(a.ID) + "/reschedule"
			var calls []webtest.Call
			for i, who := range []string{"person", "person", "worker"} {
				calls = append(calls, times(1, e.Bearer(t, who), http.MethodPost, path,
					map[string]any{"start": at.Add(time.Duration(24+2*i) * time.Hour).Format(time.RFC3339), "place": "phone", "agreed": who == "worker"})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM appointments WHERE status = 'cancelled'")
			wantRows(t, e, 2, "SELECT COUNT(*) FROM appointments")
		},
	}, {
		// The person's referral is reallocated to a new worker as that
		// worker books someone else at the same time: either the booking
		// wins and the moved appointment is not booked with them, or the
		// move wins and the booking is refused; never two at once.
		name: "reallocation-races-a-booking", won: http.StatusOK, wins: -1, lost: []int{http.StatusCreated, http.StatusConflict},
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pid := supportedPerson(t, e)
			p2 := e.Allocated(t, "person2", "lead2").PersonID
			at := raceTomorrow10(e)
			a, err := e.Support.Create(context.Background(), e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: at, Place: "phone", Agreed: true})
			if err != nil {
				t.Fatal(err)
			}
			return []webtest.Call{
				{Client: e.Bearer(t, "lead"), Method: http.MethodPost, Path: "/api/v1/referrals/" + id64(a.ReferralID) + "/transitions",
					JSON: map[string]any{"to": "allocated", "worker_id": e.Users["lead2"].ID}},
				{Client: e.Bearer(t, "lead2"), Method: http.MethodPost, Path: "/api/v1/appointments",
					JSON: map[string]any{"person_id": p2, "start": at.Format(time.RFC3339), "place": "phone", "agreed": true}},
			}
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, _ int) {
			if rs[0].StatusCode != http.StatusOK {
				t.Fatalf("reallocating: %d %s", rs[0].StatusCode, rs[0].Body)
			}
			bookedToo := rs[1].StatusCode == http.StatusCreated
			moved := rows(t, e.DB, "SELECT COUNT(*) FROM appointments WHERE person_id = $1 AND status = 'booked'", supportedID(t, e))
			if bookedToo == (moved == 1) {
				t.Fatalf("the booking won: %v; the moved appointment booked: %d", bookedToo, moved)
			}
			wantRows(t, e, 1, "SELECT COUNT(*) FROM appointments WHERE worker_user_id = $1 AND starts_at = $2 AND status <> 'cancelled'", e.Users["lead2"].ID, raceTomorrow10(e).UTC())
		},
	}, {
		name: "visit-checked-out-once", won: http.StatusOK,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			pid := supportedPerson(t, e)
			v, err := e.Support.Create(context.Background(), e.Principal(t, "worker"), support.NewAppointment{PersonID: pid, Start: raceTomorrow10(e), Minutes: 60,
				Place: "home", PlaceDetail: "1 High Street", Agreed: true})
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Advance(v.Start.Add(-10 * time.Minute).Sub(e.Clock.Now()))
			return times(3, e.Bearer(t, "worker"), http.MethodPost, "/api/v1/appointments/"+id64(v.ID)+"/check-out", nil)
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			wantRows(t, e, 1, "SELECT COUNT(*) FROM audit_events WHERE action = 'visit.check_out'")
		},
	}, {
		// A feed renewed four times at once: one live feed, and it is one
		// of those given back.
		name: "one-live-calendar-feed", won: http.StatusOK, wins: -1,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			return times(4, e.Bearer(t, "worker"), http.MethodPost, "/api/v1/my/calendar", nil)
		},
		check: func(t *testing.T, e *webtest.Env, rs []*webtest.Response, won int) {
			if won == 0 {
				t.Fatal("no feed renewed")
			}
			var live string
			if err := e.DB.QueryRow(context.Background(), "SELECT token_hash FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL", e.Users["worker"].ID).Scan(&live); err != nil {
				t.Fatalf("one live feed: %v", err)
			}
			given := false
			for _, r := range rs {
				if m := feedTokenRE.FindStringSubmatch(r.Body); r.StatusCode == http.StatusOK && m != nil {
					given = given || app.HashSecret(m[1]) == live
				}
			}
			if !given {
				t.Fatal("the live feed is not one given back")
			}
		},
	}})
}

var feedTokenRE = regexp.MustCompile(`/calendar/([A-Za-z0-9_-]+)\.ics`)

// raceTomorrow10 is ten tomorrow morning, London time.
func raceTomorrow10(e *webtest.Env) time.Time {
	d := e.Clock.Now().In(app.London).AddDate(0, 0, 1)
	return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, app.London)
}

// supportedID is the person's own record (supportedPerson's).
func supportedID(t *testing.T, e *webtest.Env) int64 {
	return e.Principal(t, "person").PersonID
}

// Caseload imports: overlapping files sent at once by an analyst and a
// service manager, with the roll-up built.
func TestCaseloadRacesOverHTTP(t *testing.T) {
	t.Parallel()
	runRaces(t, []raceCase{{
		// Four overlapping files at once: every person and episode once,
		// and the roll-up the imports kept is the one a rebuild makes.
		name: "overlapping-imports", won: http.StatusOK, wins: 4,
		setup: func(t *testing.T, e *webtest.Env) []webtest.Call {
			svc := &caseload.Service{DB: e.DB, Clock: e.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}
			if err := svc.RebuildRollup(context.Background()); err != nil {
				t.Fatal(err)
			}
			var calls []webtest.Call
			for k, who := range []string{"analyst", "manager", "analyst", "manager"} {
				var eps []map[string]any
				for i := range 60 {
					ep := map[string]any{"person_ref": fmt.Sprint("R", i), "team": e.TeamA.Name, "coordinator_email": fmt.Sprintf("c%d@test.example", i%3),
						"start_date": fmt.Sprintf("2025-%02d-01", 1+i%12)}
					if (i+k)%4 == 0 {
						ep["end_date"] = fmt.Sprintf("2026-%02d-15", 1+k)
					}
					eps = append(eps, ep)
				}
				calls = append(calls, times(1, e.Bearer(t, who), http.MethodPost, "/api/v1/caseload-episodes", map[string]any{"episodes": eps})...)
			}
			return calls
		},
		check: func(t *testing.T, e *webtest.Env, _ []*webtest.Response, _ int) {
			ctx := context.Background()
			wantRows(t, e, 60, "SELECT COUNT(*) FROM people WHERE trust_ref LIKE 'R%'")
			wantRows(t, e, 60, "SELECT COUNT(*) FROM caseload_episodes")
			rollup := func() string {
				rs, err := e.DB.Query(ctx, "SELECT kind, unit, team_id, month, starts, ends FROM caseload_rollup WHERE starts <> 0 OR ends <> 0 ORDER BY kind, unit, team_id, month")
				if err != nil {
					t.Fatal(err)
				}
				defer rs.Close()
				var b strings.Builder
				for rs.Next() {
					var kind, unit string
					var team int64
					var month, starts, ends int
					if err := rs.Scan(&kind, &unit, &team, &month, &starts, &ends); err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&b, "%s %s %d %d %d %d\n", kind, unit, team, month, starts, ends)
				}
				return b.String()
			}
			kept := rollup()
			if err := (&caseload.Service{DB: e.DB, Clock: e.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}).RebuildRollup(ctx); err != nil {
				t.Fatal(err)
			}
			if rebuilt := rollup(); rebuilt != kept {
				t.Fatalf("the roll-up kept by imports at once:\n%s\ndiffers from a rebuild:\n%s", kept, rebuilt)
			}
		},
	}})
}
