package web_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// dialogForm is a complete DIALOG+ form: every item rated.
func dialogForm(rating string) map[string][]string {
	f := map[string][]string{}
	for _, it := range recovery.Items {
		f["rating."+string(it.Code)] = []string{rating}
		f["help."+string(it.Code)] = []string{"no"}
	}
	return f
}

func dialogJSON(rating int) map[string]any {
	var rs []map[string]any
	for _, it := range recovery.Items {
		rs = append(rs, map[string]any{"item": it.Code, "rating": rating, "more_help": false})
	}
	return map[string]any{"ratings": rs}
}

// recoveryAuditCalls makes one successful call to each recovery and
// feedback route that touches a person's data, for TestAuditOneRowPerCall.
func recoveryAuditCalls(t *testing.T, e *webtest.Env, pid int64, person, worker, lead, anon, personAPI, workerAPI, leadAPI *webtest.Client) []auditCall {
	ctx := context.Background()
	id := strconv.FormatInt(pid, 10)
	latest := func(q string) string {
		var n int64
		if err := e.DB.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(n, 10)
	}
	goal := func() string { return latest("SELECT MAX(id) FROM recovery_goals") }
	session := func() string { return latest("SELECT MAX(id) FROM dialog_sessions") }
	feedback := func() string { return latest("SELECT MAX(id) FROM feedback") }
	form := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	version := func(q string, args ...any) int {
		var v int
		if err := e.DB.QueryRow(ctx, q, args...).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	return []auditCall{
		{"GET /my/plan", func() *webtest.Response { return person.Get("/my/plan") }, 200},
		{"GET /my/plan/edit", func() *webtest.Response { return person.Get("/my/plan/edit") }, 200},
		{"POST /my/plan", func() *webtest.Response {
			return person.PostForm("/my/plan", form("version", "0", "what_matters", "My dog", "reviews.weeks", "8", "has_private", "1", "crisis.early_signs", "Not sleeping"))
		}, 303},
		{"GET /people/{id}/plan", func() *webtest.Response { return worker.Get("/people/" + id + "/plan") }, 200},
		{"GET /people/{id}/plan/edit", func() *webtest.Response { return worker.Get("/people/" + id + "/plan/edit") }, 200},
		{"POST /people/{id}/plan", func() *webtest.Response {
			return worker.PostForm("/people/"+id+"/plan", form("version", "1", "what_matters", "My dog and my allotment", "reviews.weeks", "8"))
		}, 303},
		{"GET /my/goals", func() *webtest.Response { return person.Get("/my/goals") }, 200},
		{"POST /my/goals", func() *webtest.Response {
			return person.PostForm("/my/goals", form("description", "Walk more", "steps", "Buy boots\nWalk to the shop"))
		}, 303},
		{"GET /people/{id}/goals", func() *webtest.Response { return worker.Get("/people/" + id + "/goals") }, 200},
		{"POST /people/{id}/goals", func() *webtest.Response {
			return worker.PostForm("/people/"+id+"/goals", form("description", "Sleep better"))
		}, 303},
		{"GET /goals/{id}", func() *webtest.Response { return person.Get("/goals/" + goal()) }, 200},
		{"POST /goals/{id}", func() *webtest.Response {
			return person.PostForm("/goals/"+goal(), form("version", "1", "description", "Sleep better", "progress", "on_the_way", "step.1", "Bed by 11", "done", "1"))
		}, 303},
		{"GET /my/dialog", func() *webtest.Response { return person.Get("/my/dialog") }, 200},
		{"GET /my/dialog/new", func() *webtest.Response { return person.Get("/my/dialog/new") }, 200},
		{"POST /my/dialog", func() *webtest.Response { return person.PostForm("/my/dialog", dialogForm("4")) }, 303},
		{"GET /people/{id}/dialog", func() *webtest.Response { return worker.Get("/people/" + id + "/dialog") }, 200},
		{"GET /people/{id}/dialog/new", func() *webtest.Response { return worker.Get("/people/" + id + "/dialog/new") }, 200},
		{"POST /people/{id}/dialog", func() *webtest.Response {
			f := dialogForm("5")
			f["stage"] = []string{"start"}
			f["d1.item"], f["d1.actions"] = []string{"job"}, []string{"Call the volunteer centre"}
			return worker.PostForm("/people/"+id+"/dialog", f)
		}, 303},
		{"GET /people/{id}/reviews/new", func() *webtest.Response { return worker.Get("/people/" + id + "/reviews/new") }, 200},
		{"POST /people/{id}/reviews", func() *webtest.Response {
			return worker.PostForm("/people/"+id+"/reviews", form("held", "yes", "attendees", "Sam, Kofi", "reviewed", "Goals", "agreed", "Keep going"))
		}, 303},
		{"GET /recovery/reviews", func() *webtest.Response { return worker.Get("/recovery/reviews") }, 200},
		{"POST /feedback", func() *webtest.Response {
			return anon.PostForm("/feedback", form("about", "service", "team_id", strconv.FormatInt(e.TeamA.ID, 10), "body", "More evening groups", "who", "anonymous"))
		}, 303},
		{"GET /my/feedback", func() *webtest.Response { return person.Get("/my/feedback") }, 200},
		{"GET /feedback/inbox", func() *webtest.Response { return lead.Get("/feedback/inbox") }, 200},
		{"GET /feedback/inbox/{id}", func() *webtest.Response { return lead.Get("/feedback/inbox/" + feedback()) }, 200},
		{"POST /feedback/inbox/{id}/transitions", func() *webtest.Response {
			return lead.PostForm("/feedback/inbox/"+feedback()+"/transitions", form("version", "1", "to", "acknowledged"))
		}, 303},
		{"GET /fhir/R4/Goal", func() *webtest.Response { return worker.Get("/fhir/R4/Goal?patient=" + id) }, 200},
		{"GET /fhir/R4/Goal/{id}", func() *webtest.Response { return worker.Get("/fhir/R4/Goal/" + goal()) }, 200},
		{"GET /fhir/R4/QuestionnaireResponse", func() *webtest.Response { return person.Get("/fhir/R4/QuestionnaireResponse?patient=" + id) }, 200},
		{"GET /fhir/R4/QuestionnaireResponse/{id}", func() *webtest.Response { return worker.Get("/fhir/R4/QuestionnaireResponse/" + session()) }, 200},
		{"GET /api/v1/people/{id}/plan", func() *webtest.Response { return personAPI.Get("/api/v1/people/" + id + "/plan") }, 200},
		{"PUT /api/v1/people/{id}/plan", func() *webtest.Response {
			v := version("SELECT version FROM recovery_plans WHERE person_id = $1", pid)
			return personAPI.JSON(http.MethodPut, "/api/v1/people/"+id+"/plan", map[string]any{"version": v, "share_with_care_team": true})
		}, 200},
		{"GET /api/v1/people/{id}/goals", func() *webtest.Response { return workerAPI.Get("/api/v1/people/" + id + "/goals") }, 200},
		{"POST /api/v1/people/{id}/goals", func() *webtest.Response {
			return personAPI.JSON(http.MethodPost, "/api/v1/people/"+id+"/goals", map[string]any{"description": "Cook twice a week"})
		}, 201},
		{"GET /api/v1/goals/{id}", func() *webtest.Response { return workerAPI.Get("/api/v1/goals/" + goal()) }, 200},
		{"PATCH /api/v1/goals/{id}", func() *webtest.Response {
			return personAPI.JSON(http.MethodPatch, "/api/v1/goals/"+goal(), map[string]any{"version": 1, "progress": "achieved"})
		}, 200},
		{"GET /api/v1/people/{id}/dialog", func() *webtest.Response { return workerAPI.Get("/api/v1/people/" + id + "/dialog") }, 200},
		{"POST /api/v1/people/{id}/dialog", func() *webtest.Response {
			return personAPI.JSON(http.MethodPost, "/api/v1/people/"+id+"/dialog", dialogJSON(6))
		}, 201},
		{"GET /api/v1/people/{id}/reviews", func() *webtest.Response { return personAPI.Get("/api/v1/people/" + id + "/reviews") }, 200},
		{"POST /api/v1/people/{id}/reviews", func() *webtest.Response {
			planned := version("SELECT id FROM recovery_reviews WHERE person_id = $1 AND status = 'planned'", pid)
			return workerAPI.JSON(http.MethodPost, "/api/v1/people/"+id+"/reviews", map[string]any{"held": false, "planned_review_id": planned,
				"next": map[string]any{"at": e.Clock.Now().AddDate(0, 0, 30).Format("2006-01-02T15:04:05Z"), "place": "The café"}})
		}, 201},
		{"GET /api/v1/dialog/{id}", func() *webtest.Response { return workerAPI.Get("/api/v1/dialog/" + session()) }, 200},
		{"GET /api/v1/reviews/{id}", func() *webtest.Response {
			return personAPI.Get("/api/v1/reviews/" + latest("SELECT MAX(id) FROM recovery_reviews"))
		}, 200},
		{"GET /api/v1/reviews/due", func() *webtest.Response { return workerAPI.Get("/api/v1/reviews/due") }, 200},
		{"POST /api/v1/feedback", func() *webtest.Response {
			return anon.JSON(http.MethodPost, "/api/v1/feedback", map[string]any{"about": "group", "about_name": "Walking group", "body": "Lovely", "anonymous": true})
		}, 201},
		{"GET /api/v1/my/feedback", func() *webtest.Response { return personAPI.Get("/api/v1/my/feedback") }, 200},
		{"GET /api/v1/feedback", func() *webtest.Response { return leadAPI.Get("/api/v1/feedback") }, 200},
		{"GET /api/v1/feedback/{id}", func() *webtest.Response { return leadAPI.Get("/api/v1/feedback/" + feedback()) }, 200},
		{"POST /api/v1/feedback/{id}/transitions", func() *webtest.Response {
			return leadAPI.JSON(http.MethodPost, "/api/v1/feedback/"+feedback()+"/transitions", map[string]any{"to": "acknowledged", "version": 1})
		}, 200},
	}
}
