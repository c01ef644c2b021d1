package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

const ownRolesMessage = "Ask another administrator to change your own roles"

// An administrator cannot change their own roles — by the page or the API,
// with a session or a token — so cannot give themselves a clinical role
// and read referrals.
func TestOwnRolesCannotBeChanged(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		_, router := apiDoc(t, e)
		admin := e.Users["admin"]
		before := roleSet(t, e, admin.ID)
		id := fmt.Sprint(admin.ID)
		page := e.As(t, "admin")
		if r := page.Get("/admin/users/" + id); r.StatusCode != http.StatusOK || strings.Contains(r.Body, `action="/admin/users/`+id+`/roles"`) ||
			!strings.Contains(r.Body, ownRolesMessage) {
			t.Fatalf("own account page: %d, offers a roles form or does not say why not", r.StatusCode)
		}
		r := page.PostForm("/admin/users/"+id+"/roles", url.Values{"role": {"admin", fmt.Sprintf("clinician:%d", e.TeamA.ID)}})
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, ownRolesMessage) {
			t.Fatalf("own roles by the page: %d", r.StatusCode)
		}
		body := map[string]any{"roles": []map[string]any{{"role": "admin"}, {"role": "clinician", "team_id": e.TeamA.ID}}}
		for name, c := range map[string]*webtest.Client{"session": page, "token": e.Bearer(t, "admin")} {
			r := c.JSON(http.MethodPut, "/api/v1/users/"+id+"/roles", body)
			if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, ownRolesMessage) {
				t.Fatalf("own roles by the API with a %s: %d %s", name, r.StatusCode, r.Body)
			}
			validateResponse(t, router, r)
		}
		if after := roleSet(t, e, admin.ID); !slices.Equal(before, after) {
			t.Fatalf("own roles changed from %v to %v", before, after)
		}
		if r := page.Get("/referrals"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("the administrator reads referrals: %d", r.StatusCode)
		}
		// Another administrator may change them.
		other, err := e.Accounts.CreateUser(context.Background(), app.Operator("test"), account.NewUser{Email: "admin2@test.example", Name: "Second Admin",
			Memberships: []app.Membership{{Role: app.RoleAdmin}}, Password: testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		c := e.Client(t)
		c.SignIn(other.Email, testkit.Password)
		if r := c.JSON(http.MethodPut, "/api/v1/users/"+id+"/roles", body); r.StatusCode != http.StatusNoContent {
			t.Fatalf("another administrator changing the roles: %d %s", r.StatusCode, r.Body)
		}
	})
}

// Giving someone a role that can see people's data (here a clinician, by
// the API, and a peer worker, by invitation on the page) is shown to every
// service manager and audited; a role that cannot is not shown.
func TestPersonDataGrantsShownToManagers(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		_, router := apiDoc(t, e)
		ctx := context.Background()
		manager2, err := e.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "manager2@test.example", Name: "Second Manager",
			Memberships: []app.Membership{{Role: app.RoleServiceManager}}, Password: testkit.Password})
		if err != nil {
			t.Fatal(err)
		}
		moderator := e.Users["moderator"]
		admin := e.Bearer(t, "admin")
		path := fmt.Sprintf("/api/v1/users/%d/roles", moderator.ID)
		if r := admin.JSON(http.MethodPut, path, map[string]any{"roles": []map[string]any{{"role": "moderator"}, {"role": "analyst"}}}); r.StatusCode != http.StatusNoContent {
			t.Fatalf("analyst role: %d %s", r.StatusCode, r.Body)
		}
		manager := e.As(t, "manager")
		if notes := decode[[]map[string]any](t, manager.Get("/api/v1/notifications")); len(notes) != 0 {
			t.Fatalf("a role that cannot see people's data was notified: %v", notes)
		}
		if r := admin.JSON(http.MethodPut, path, map[string]any{"roles": []map[string]any{{"role": "analyst"}, {"role": "clinician", "team_id": e.TeamA.ID}}}); r.StatusCode != http.StatusNoContent {
			t.Fatalf("clinician role: %d %s", r.StatusCode, r.Body)
		}
		wantText := []string{"Test admin", "Test moderator", app.RoleClinician.Label(), e.TeamA.Name}
		r := manager.Get("/api/v1/notifications")
		validateResponse(t, router, r)
		notes := decode[[]map[string]any](t, r)
		if len(notes) != 1 {
			t.Fatalf("manager's notifications: %v", notes)
		}
		for _, w := range wantText {
			if !strings.Contains(notes[0]["message"].(string), w) {
				t.Errorf("the notification %q does not name %q", notes[0]["message"], w)
			}
		}
		home := manager.Get("/")
		for _, w := range wantText {
			if !strings.Contains(home.Body, w) {
				t.Errorf("the manager's home page does not show %q", w)
			}
		}
		m2 := e.Client(t)
		m2.SignIn(manager2.Email, testkit.Password)
		if notes := decode[[]map[string]any](t, m2.Get("/api/v1/notifications")); len(notes) != 1 {
			t.Fatalf("the second manager's notifications: %v", notes)
		}
		if notes := decode[[]map[string]any](t, e.As(t, "lead").Get("/api/v1/notifications")); len(notes) != 0 {
			t.Fatalf("someone who is not a manager was notified: %v", notes)
		}
		if n := count(t, e, "SELECT COUNT(*) FROM audit_events WHERE action = 'account.role_grant' AND actor_user_id = $1 AND object_id = $2",
			e.Users["admin"].ID, fmt.Sprintf("%d:clinician:%d", moderator.ID, e.TeamA.ID)); n != 1 {
			t.Fatalf("%d audit rows for the grant", n)
		}

		// An invitation with a peer worker role is a grant too.
		page := e.As(t, "admin")
		r = page.PostForm("/admin/users", url.Values{"email": {"new.worker@test.example"}, "name": {"New Worker"}, "role": {fmt.Sprintf("peer_worker:%d", e.TeamB.ID)}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("invitation: %d", r.StatusCode)
		}
		notes = decode[[]map[string]any](t, manager.Get("/api/v1/notifications"))
		if len(notes) != 2 || !strings.Contains(notes[0]["message"].(string), "New Worker") || !strings.Contains(notes[0]["message"].(string), e.TeamB.Name) {
			t.Fatalf("after the invitation: %v", notes)
		}
	})
}
