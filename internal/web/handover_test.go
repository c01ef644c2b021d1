package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

const (
	handoverBefore     = "HANDOVER-BEFORE-CANARY-6203"
	handoverRestricted = "HANDOVER-RESTRICTED-CANARY-1187"
	handoverAfter      = "HANDOVER-AFTER-CANARY-4459"
)

// Role × route: a person's contacts recorded before their referral was
// handed to a new peer worker, read by each role through every page and
// API operation that shows a contact, under each choice the person makes.
// The incoming worker reads the note only under "all", dates and kinds
// only under "summary", nothing under "none"; what is recorded after the
// handover they always read; the restricted note never. The team's lead
// and its clinician read as before.
func TestHandoverHistoryRoleByRoute(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		r := e.Allocated(t, "person", "worker")
		if _, err := e.Referrals.ChangeSharing(ctx, e.Principal(t, "person"), r.ID, referral.Sharing{ShareBeyondTeam: true}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Hour)
		before, err := e.Referrals.RecordContact(ctx, e.Principal(t, "worker"), r.ID, referral.NewContact{At: e.Clock.Now().Add(-time.Minute), Mode: "phone",
			Minutes: 20, SupportTypes: []string{"emotional"}, Note: "We talked " + handoverBefore})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Referrals.AddRestrictedNote(ctx, e.Principal(t, "worker"), before.ID, referral.NewRestrictedNote{Note: handoverRestricted, Reason: "Safeguarding"}); err != nil {
			t.Fatal(err)
		}
		e.AddWorker(t, "incoming", "A")
		e.Clock.Advance(time.Hour)
		if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), r.ID, referral.Move{To: referral.Allocated, WorkerID: e.Users["incoming"].ID}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Hour)
		after, err := e.Referrals.RecordContact(ctx, e.Principal(t, "incoming"), r.ID, referral.NewContact{At: e.Clock.Now().Add(-time.Minute), Mode: "in_person",
			Minutes: 30, Note: "Met " + handoverAfter})
		if err != nil {
			t.Fatal(err)
		}
		rid, pid, bid, aid := r.ID, r.PersonID, before.ID, after.ID
		routes := map[string]string{
			"GET /referrals/{id}":                fmt.Sprintf("/referrals/%d", rid),
			"GET /api/v1/referrals/{id}":         fmt.Sprintf("/api/v1/referrals/%d", rid),
			"GET /api/v1/people/{id}/contacts":   fmt.Sprintf("/api/v1/people/%d/contacts", pid),
			"GET /contacts/{id} (before)":        fmt.Sprintf("/contacts/%d", bid),
			"GET /api/v1/contacts/{id} (before)": fmt.Sprintf("/api/v1/contacts/%d", bid),
			"GET /contacts/{id} (after)":         fmt.Sprintf("/contacts/%d", aid),
			"GET /api/v1/contacts/{id} (after)":  fmt.Sprintf("/api/v1/contacts/%d", aid),
		}
		clients := map[string]*webtest.Client{}
		for _, name := range []string{"incoming", "lead", "clinician"} {
			clients[name+" page"], clients[name+" api"] = e.As(t, name), e.Bearer(t, name)
		}
		get := func(who, route, path string) *webtest.Response {
			c := clients[who+" page"]
			if strings.Contains(route, "/api/") {
				c = clients[who+" api"]
			}
			return c.Get(path)
		}
		person := e.Bearer(t, "person")
		version := 0
		for _, share := range []string{"", "all", "summary", "none"} {
			if share != "" {
				res := person.JSON(http.MethodPut, fmt.Sprintf("/api/v1/my/referrals/%d/handover-sharing", rid), map[string]any{"share": share, "version": version})
				if res.StatusCode != http.StatusOK {
					t.Fatalf("choosing %s: %d %s", share, res.StatusCode, res.Body)
				}
				version++
			}
			level := share
			if level == "" {
				level = "summary" // no choice yet
			}
			for route, path := range routes {
				beforeOnly := strings.Contains(route, "(before)")
				afterOnly := strings.Contains(route, "(after)")
				res := get("incoming", route, path)
				body := string(res.Body)
				if strings.Contains(body, handoverRestricted) {
					t.Errorf("%s: incoming reads the restricted note on %s", level, route)
				}
				if afterOnly {
					if res.StatusCode != http.StatusOK || !strings.Contains(body, handoverAfter) {
						t.Errorf("%s: incoming cannot read the contact after the handover on %s: %d", level, route, res.StatusCode)
					}
					continue
				}
				if !beforeOnly && !strings.Contains(body, handoverAfter) {
					t.Errorf("%s: %s lacks the contact after the handover", level, route)
				}
				switch level {
				case "all":
					if !strings.Contains(body, handoverBefore) {
						t.Errorf("all: incoming cannot read the earlier note on %s (%d)", route, res.StatusCode)
					}
				case "summary":
					if strings.Contains(body, handoverBefore) {
						t.Errorf("summary: incoming reads the earlier note on %s", route)
					}
					if res.StatusCode != http.StatusOK || !(strings.Contains(body, "Summary only") || strings.Contains(body, `"history_summary"`)) {
						t.Errorf("summary: %s does not show the earlier contact as a summary (%d)", route, res.StatusCode)
					}
				case "none":
					if strings.Contains(body, handoverBefore) || strings.Contains(body, "Summary only") || strings.Contains(body, `"history_summary"`) {
						t.Errorf("none: incoming sees the earlier contact on %s", route)
					}
					if beforeOnly && res.StatusCode != http.StatusNotFound {
						t.Errorf("none: %s answered %d, want 404", route, res.StatusCode)
					}
				}
			}
			for _, who := range []string{"lead", "clinician"} {
				for _, route := range []string{"GET /contacts/{id} (before)", "GET /api/v1/contacts/{id} (before)", "GET /api/v1/people/{id}/contacts"} {
					res := get(who, route, routes[route])
					if res.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), handoverBefore) {
						t.Errorf("%s: %s lost the earlier note on %s (%d)", level, who, route, res.StatusCode)
					}
				}
			}
		}
	})
}

// Two handover meetings booked at once over HTTP that clash on either
// worker (the same two workers, each the other's incoming worker): one
// wins, the other is told which worker is not free; on both engines.
func TestHandoverBookingRaceOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		p1 := e.Allocated(t, "person", "worker").PersonID
		e.AddWorker(t, "incoming", "A")
		p2 := e.Allocated(t, "person2", "incoming").PersonID
		worker, incoming := e.Bearer(t, "worker"), e.Bearer(t, "incoming")
		d := e.Clock.Now().In(app.London).AddDate(0, 0, 2)
		at := time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, app.London)
		for round := range 4 {
			slot := at.Add(time.Duration(round) * 2 * time.Hour)
			res := webtest.Parallel(t, []webtest.Call{
				{Client: worker, Method: http.MethodPost, Path: "/api/v1/appointments", JSON: map[string]any{"person_id": p1, "start": slot.Format(time.RFC3339),
					"place": "team_base", "agreed": true, "handover_worker_id": e.Users["incoming"].ID}},
				{Client: incoming, Method: http.MethodPost, Path: "/api/v1/appointments", JSON: map[string]any{"person_id": p2, "start": slot.Add(30 * time.Minute).Format(time.RFC3339),
					"place": "team_base", "agreed": true, "handover_worker_id": e.Users["worker"].ID}},
			})
			won := 0
			for _, r := range res {
				switch r.StatusCode {
				case http.StatusCreated, http.StatusOK:
					won++
				case http.StatusConflict:
					if !strings.Contains(string(r.Body), "already booked") {
						t.Fatalf("round %d: %s", round, r.Body)
					}
				default:
					t.Fatalf("round %d: %d %s", round, r.StatusCode, r.Body)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d bookings won", round, won)
			}
		}
	})
}

// Staff recording the person's choice without saying on whose say: 422,
// the problem next to its field, what was chosen kept, nothing written;
// the person's own form with no valid choice names it.
func TestHandoverChoiceFormProblems(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		r := e.Allocated(t, "person", "worker")
		path := fmt.Sprintf("/referrals/%d/handover-sharing", r.ID)
		res := e.As(t, "worker").PostForm(path, url.Values{"handover_share": {"all"}, "handover_version": {"0"}, "handover_agreement": {"  "}})
		body := string(res.Body)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="handover_agreement-error"`) || !strings.Contains(body, `value="all" checked`) {
			t.Fatalf("no agreement: %d %s", res.StatusCode, body)
		}
		res = e.As(t, "person").PostForm(fmt.Sprintf("/my/referrals/%d/handover-sharing", r.ID), url.Values{"handover_version": {"0"}, "handover_share": {"maybe"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "Choose what a new peer worker may see") {
			t.Fatalf("no choice: %d", res.StatusCode)
		}
		var n int
		if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM handover_sharing").Scan(&n); err != nil || n != 0 {
			t.Fatalf("written: %d %v", n, err)
		}
		// Someone chooses meanwhile: the stale form is 409 with the person's
		// choice kept and the latest version, so sending it again saves it.
		mine := fmt.Sprintf("/my/referrals/%d/handover-sharing", r.ID)
		if res := e.As(t, "worker").PostForm(path, url.Values{"handover_share": {"summary"}, "handover_version": {"0"}, "handover_agreement": {"They told me"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the worker records it: %d", res.StatusCode)
		}
		person := e.As(t, "person")
		res = person.PostForm(mine, url.Values{"handover_version": {"0"}, "handover_share": {"none"}})
		if res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), `name="handover_version" value="1"`) || !strings.Contains(string(res.Body), `value="none" checked`) {
			t.Fatalf("a stale choice: %d %s", res.StatusCode, res.Body)
		}
		if res := person.PostForm(mine, url.Values{"handover_version": {"1"}, "handover_share": {"none"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sending it again: %d %s", res.StatusCode, res.Body)
		}
	})
}
