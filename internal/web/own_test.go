package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// personWithAccount makes a staff referral for someone new and gives them
// an account joined to their record; it returns the referral and a
// signed-in client for the person.
func personWithAccount(t *testing.T, e *webtest.Env, name, email string, in referral.NewReferral) (referral.Referral, *webtest.Client, int64) {
	t.Helper()
	ctx := context.Background()
	in.Person = person.Details{PreferredName: name, Phone: "07700 900" + strconv.Itoa(100+len(name))}
	in.AskedFor, in.PersonKnows, in.NotDuplicate = "asked by "+name, testkit.Yes(), true
	if in.Consent == "" {
		in.Consent = "given"
	}
	r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "clinician"), in)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := e.People.InviteToClaim(ctx, e.Principal(t, "clinician"), r.PersonID, person.InviteByPrint)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.Accounts.CreateUser(ctx, app.Operator("t"), account.NewUser{Email: email, Name: name, Memberships: []app.Membership{{Role: app.RolePerson}},
		Password: testkit.Password, Claim: inv.Code})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Client(t)
	c.SignIn(email, testkit.Password)
	return r, c, u.ID
}

// The person reads their referral in plain words: a link to the staff page
// takes them to their own; no "past waiting standard", no internal labels
// or staff notes; what others did shows in who has seen their record.
func TestPersonSeesTheirReferralInPlainWords(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		r, me, _ := personWithAccount(t, e, "Ada Plain", "ada.plain@example.org", referral.NewReferral{})
		if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), r.ID, referral.Move{To: referral.Accepted, Note: "STAFF-NOTE-only for us"}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(40 * 24 * time.Hour) // well past the waiting standard: sign in again
		me = e.Client(t)
		me.SignIn("ada.plain@example.org", testkit.Password)
		id := strconv.FormatInt(r.ID, 10)
		if resp := me.Get("/referrals/" + id); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/my/referrals/"+id {
			t.Fatalf("the staff page for the person: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		page := me.Get("/my/referrals/" + id)
		if page.StatusCode != http.StatusOK {
			t.Fatalf("their own page: %d", page.StatusCode)
		}
		for _, want := range []string{"Test clinician referred you for peer support", "Added to the waiting list", "Who can see this referral",
			"asked by Ada Plain"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("their page lacks %q", want)
			}
		}
		for _, bad := range []string{"Past waiting standard", "STAFF-NOTE", "Referral made: Staff"} {
			if strings.Contains(page.Body, bad) {
				t.Errorf("their page shows %q", bad)
			}
		}
		list := me.Get("/my/referrals")
		if strings.Contains(list.Body, "You have not asked for peer support yet") || !strings.Contains(list.Body, r.Reference) {
			t.Fatal("after claiming, their referrals page still says they have none")
		}
		access := me.Get("/my/record-access")
		if strings.Contains(access.Body, "Nobody else has looked at your record yet") || !strings.Contains(access.Body, "Test clinician") {
			t.Fatal("after claiming, their record access says nobody has looked")
		}
		// Someone else's referral is not found.
		other := e.StaffReferral(t, "clinician", "Not Theirs")
		if resp := me.Get("/my/referrals/" + strconv.FormatInt(other.ID, 10)); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("someone else's referral: %d", resp.StatusCode)
		}
	})
}

// Withdrawing consent for sharing races a step being taken: whichever
// comes first, the referrer is never told of a step after the person's
// withdrawal, and afterwards sees only that they made the referral.
func TestWithdrawingConsentRacesASteps(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		lead := e.As(t, "lead")
		clin := e.As(t, "clinician")
		for i := range 6 {
			r, me, _ := personWithAccount(t, e, "Racer "+strconv.Itoa(i), "racer"+strconv.Itoa(i)+"@example.org",
				referral.NewReferral{ShareWithReferrer: true, ShareBeyondTeam: true})
			id := strconv.FormatInt(r.ID, 10)
			res := webtest.Parallel(t, []webtest.Call{
				{Client: me, Method: http.MethodPost, Path: "/my/referrals/" + id + "/sharing", Form: url.Values{}},
				{Client: lead, Method: http.MethodPost, Path: "/referrals/" + id + "/transitions", Form: url.Values{"to": {"accepted"}}},
			})
			for _, resp := range res {
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("%s: %d %s", resp.Request.URL.Path, resp.StatusCode, resp.Body)
				}
			}
			var withdrawn, lastTold int64
			if err := e.DB.QueryRow(ctx, "SELECT id FROM audit_events WHERE action = 'referral.sharing' AND subject_person_id = $1", r.PersonID).Scan(&withdrawn); err != nil {
				t.Fatal(err)
			}
			if err := e.DB.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit_events WHERE action = 'notification.receive'
				AND subject_person_id = $1 AND actor_user_id = $2`, r.PersonID, e.Users["clinician"].ID).Scan(&lastTold); err != nil {
				t.Fatal(err)
			}
			if lastTold > withdrawn {
				t.Fatalf("the referrer was told of a step after the person withdrew (rows %d > %d)", lastTold, withdrawn)
			}
			// From now on: an outline, and no more updates.
			view := clin.Get("/referrals/" + id)
			if view.StatusCode != http.StatusOK || strings.Contains(view.Body, "asked by Racer") || !strings.Contains(view.Body, "not agreed to share updates") {
				t.Fatalf("the referrer after withdrawal: %d", view.StatusCode)
			}
			before := count(t, e, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", e.Users["clinician"].ID)
			if resp := lead.PostForm("/referrals/"+id+"/transitions", url.Values{"to": {"allocated"}, "worker_id": {strconv.FormatInt(e.Users["worker"].ID, 10)}}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("allocating: %d", resp.StatusCode)
			}
			if after := count(t, e, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", e.Users["clinician"].ID); after != before {
				t.Fatal("the referrer was told after the person withdrew")
			}
		}
	})
}

// One code, many accounts at once: exactly one gets the record.
func TestClaimOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		r := e.StaffReferral(t, "clinician", "Sought After")
		inv, err := e.People.InviteToClaim(ctx, e.Principal(t, "clinician"), r.PersonID, person.InviteByPrint)
		if err != nil {
			t.Fatal(err)
		}
		var calls []webtest.Call
		for i := range 8 {
			email := "claimer" + strconv.Itoa(i) + "@example.org"
			if _, err := e.Accounts.CreateUser(ctx, app.Operator("t"), account.NewUser{Email: email, Name: "Claimer", Memberships: []app.Membership{{Role: app.RolePerson}},
				Password: testkit.Password}); err != nil {
				t.Fatal(err)
			}
			c := e.Client(t)
			c.SignIn(email, testkit.Password)
			calls = append(calls, webtest.Call{Client: c, Method: http.MethodPost, Path: "/my/claim", Form: url.Values{"code": {inv.Code}}})
		}
		won := 0
		for _, resp := range webtest.Parallel(t, calls) {
			switch resp.StatusCode {
			case http.StatusSeeOther:
				won++
			case http.StatusUnprocessableEntity, http.StatusConflict:
			default:
				t.Fatalf("a claim answered %d", resp.StatusCode)
			}
		}
		if won != 1 || count(t, e, "SELECT COUNT(*) FROM users WHERE person_id = $1", r.PersonID) != 1 {
			t.Fatalf("%d claims won, want exactly 1", won)
		}
	})
}

// Someone who is both staff and a person who uses services acts in one
// role at a time: the session says which, switching replaces the session,
// what they do is recorded in the role they used, an API token keeps the
// role it was made in, and their own support is out of reach at work.
func TestOneRoleAtATime(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		u, err := e.Accounts.CreateUser(ctx, app.Operator("t"), account.NewUser{Email: "dual@example.org", Name: "Dee Dual",
			Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: e.TeamA.ID}, {Role: app.RolePerson}}, Password: testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		c := e.Client(t)
		c.SignIn("dual@example.org", testkit.Password)
		home := c.Get("/")
		if !strings.Contains(home.Body, "You are using Mutual for your work") || !strings.Contains(home.Body, "Switch to my own support") {
			t.Fatal("the home page does not say which role is in use")
		}
		if resp := c.Get("/my/referrals"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("at work, their own referrals: %d", resp.StatusCode)
		}
		if resp := c.Get("/referrals"); resp.StatusCode != http.StatusOK {
			t.Fatalf("at work, the waiting list: %d", resp.StatusCode)
		}
		oldCookie := sessionOf(c, e)
		sw := c.PostForm("/account/acting-as", url.Values{"acting_as": {"own"}})
		if sw.StatusCode != http.StatusSeeOther || sessionOf(c, e) == oldCookie {
			t.Fatalf("switching: %d, session replaced: %v", sw.StatusCode, sessionOf(c, e) != oldCookie)
		}
		stale := e.Client(t)
		stale.HTTP.Jar.SetCookies(mustURL(e.URL), []*http.Cookie{{Name: "__Host-mutual", Value: oldCookie, Path: "/"}})
		if resp := stale.Get("/referrals"); resp.StatusCode == http.StatusOK {
			t.Fatal("the session from before the switch still works")
		}
		if resp := c.Get("/referrals"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("in their own support, the waiting list: %d", resp.StatusCode)
		}
		// A self-referral, recorded in the person role, not on their team.
		resp := c.PostForm("/referrals", url.Values{"source": {"self"}, "asked_for": {"Someone outside work"}, "team_id": {strconv.FormatInt(e.TeamA.ID, 10)}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(resp.Body, "works in that team") {
			t.Fatalf("a self-referral to their own team: %d", resp.StatusCode)
		}
		if resp := c.PostForm("/referrals", url.Values{"source": {"self"}, "asked_for": {"Someone outside work"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a self-referral: %d %s", resp.StatusCode, resp.Body)
		}
		var role string
		if err := e.DB.QueryRow(ctx, "SELECT actor_role FROM audit_events WHERE action = 'referral.create' AND actor_user_id = $1", u.ID).Scan(&role); err != nil || role != "person" {
			t.Fatalf("their self-referral was recorded as %q (%v)", role, err)
		}
		// A token made now acts in their own support.
		made := c.PostForm("/account/tokens", url.Values{"name": {"my own"}, "expires_in_days": {"30"}})
		tok := regexp.MustCompile(`mut_[A-Za-z0-9_-]+`).FindString(made.Body)
		if tok == "" {
			t.Fatalf("no token made: %d", made.StatusCode)
		}
		api := e.Client(t)
		api.Token = tok
		if resp := api.Get("/api/v1/my/referrals"); resp.StatusCode != http.StatusOK {
			t.Fatalf("the token made in their own support: %d", resp.StatusCode)
		}
		if resp := api.Get("/api/v1/referrals"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("the token reaches their work: %d", resp.StatusCode)
		}
		if resp := api.JSON(http.MethodPut, "/api/v1/me/acting-as", map[string]any{"acting_as": "work"}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a token switched roles: %d", resp.StatusCode)
		}
		// Back to work: their own referral is out of reach there.
		c.PostForm("/account/acting-as", url.Values{"acting_as": {"work"}})
		list := c.Get("/referrals?all=1")
		if strings.Contains(list.Body, "Someone outside work") {
			t.Fatal("at work, their own referral shows in their list")
		}
		if resp := e.As(t, "worker").Get("/people/" + strconv.FormatInt(u.PersonID, 10)); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a colleague opening their record: %d", resp.StatusCode)
		}
	})
}

func sessionOf(c *webtest.Client, e *webtest.Env) string {
	for _, ck := range c.HTTP.Jar.Cookies(mustURL(e.URL)) {
		if ck.Name == "__Host-mutual" {
			return ck.Value
		}
	}
	return ""
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
