package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// auditCall is one call for TestAuditOneRowPerCall: the same shape as its
// list of calls.
type auditCall struct {
	pattern string
	do      func() *webtest.Response
	status  int
}

// acceptedIn makes a staff referral for a new person, accepted onto team
// A's waiting list.
func acceptedIn(t *testing.T, e *webtest.Env, name string) referral.Referral {
	t.Helper()
	r := e.StaffReferral(t, "clinician", name)
	r, err := e.Referrals.Transition(context.Background(), e.Principal(t, "lead"), r.ID, referral.Move{To: referral.Accepted})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// personWithWorker has the person account ask for peer support in team A
// and be allocated the team's worker.
func personWithWorker(t *testing.T, e *webtest.Env) referral.Referral {
	t.Helper()
	ctx := context.Background()
	r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "Company", TeamID: e.TeamA.ID})
	if err != nil {
		t.Fatal(err)
	}
	lead := e.Principal(t, "lead")
	if _, err := e.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted}); err != nil {
		t.Fatal(err)
	}
	r, err = e.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: e.Users["worker"].ID})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// matchingAuditCalls are the matching routes for TestAuditOneRowPerCall,
// each with how many audit rows it writes: one, or, for an allocation,
// one more for the referrer who is told; asking for a different worker is
// also seen by each of the team's two leads.
func matchingAuditCalls(t *testing.T, e *webtest.Env) ([]auditCall, map[string]int64) {
	ctx := context.Background()
	mine := personWithWorker(t, e)
	pid := strconv.FormatInt(e.Principal(t, "person").PersonID, 10)
	wid := strconv.FormatInt(e.Users["worker"].ID, 10)
	lead2 := strconv.FormatInt(e.Users["lead2"].ID, 10)
	wp := e.Principal(t, "worker")
	var items []string
	for range 3 {
		d, err := e.Matching.AddDisclosure(ctx, wp, e.Users["worker"].ID, matching.NewDisclosure{Text: "I have been there", Audience: "supported"})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, strconv.FormatInt(d.ID, 10))
	}
	w1, w2, w3 := acceptedIn(t, e, "Plan One"), acceptedIn(t, e, "Plan Two"), acceptedIn(t, e, "Match Three")
	ref := func(r referral.Referral) string { return strconv.FormatInt(r.ID, 10) }
	person, personAPI := e.As(t, "person"), e.Bearer(t, "person")
	worker, workerAPI := e.As(t, "worker"), e.Bearer(t, "worker")
	lead, leadAPI := e.As(t, "lead"), e.Bearer(t, "lead")
	clin, clinAPI := e.As(t, "clinician"), e.Bearer(t, "clinician")
	var pagePlan, apiPlan string
	calls := []auditCall{
		{"GET /my/choices", func() *webtest.Response { return person.Get("/my/choices") }, 200},
		{"POST /my/choices", func() *webtest.Response {
			return person.PostForm("/my/choices", url.Values{"version": {"0"}, "worker_gender": {"woman"}, "days": {"mon", "tue"}})
		}, 303},
		{"GET /api/v1/my/choices", func() *webtest.Response { return personAPI.Get("/api/v1/my/choices") }, 200},
		{"PUT /api/v1/my/choices", func() *webtest.Response {
			return personAPI.JSON(http.MethodPut, "/api/v1/my/choices", map[string]any{"version": 1, "languages": []string{"Polish"}})
		}, 200},
		{"GET /people/{id}/choices", func() *webtest.Response { return clin.Get("/people/" + pid + "/choices") }, 200},
		{"POST /people/{id}/choices", func() *webtest.Response {
			return worker.PostForm("/people/"+pid+"/choices", url.Values{"version": {"2"}, "worker_gender": {"woman"}, "with_person": {"yes"}})
		}, 303},
		{"GET /api/v1/people/{id}/choices", func() *webtest.Response { return clinAPI.Get("/api/v1/people/" + pid + "/choices") }, 200},
		{"PUT /api/v1/people/{id}/choices", func() *webtest.Response {
			return workerAPI.JSON(http.MethodPut, "/api/v1/people/"+pid+"/choices", map[string]any{"version": 3, "with_person": true, "themes": []string{"parent"}})
		}, 200},
		{"GET /my/profile", func() *webtest.Response { return worker.Get("/my/profile") }, 200},
		{"GET /workers/{id}", func() *webtest.Response { return lead.Get("/workers/" + wid) }, 200},
		{"POST /workers/{id}/details", func() *webtest.Response {
			return worker.PostForm("/workers/"+wid+"/details", url.Values{"version": {"0"}, "details.languages": {"English, Polish"}, "details.days": {"mon"}})
		}, 303},
		{"POST /workers/{id}/capacity", func() *webtest.Response {
			return lead.PostForm("/workers/"+wid+"/capacity", url.Values{"version": {"1"}, "capacity.hours_per_week": {"30"},
				"capacity.reductions[0].percent": {"50"}, "capacity.reductions[0].starts_on-day": {"2"}, "capacity.reductions[0].starts_on-month": {"11"},
				"capacity.reductions[0].starts_on-year": {"2026"}, "capacity.reductions[0].ends_on-day": {"30"}, "capacity.reductions[0].ends_on-month": {"11"},
				"capacity.reductions[0].ends_on-year": {"2026"}})
		}, 303},
		{"GET /api/v1/workers/{id}/profile", func() *webtest.Response { return leadAPI.Get("/api/v1/workers/" + wid + "/profile") }, 200},
		{"PUT /api/v1/workers/{id}/profile", func() *webtest.Response {
			return workerAPI.JSON(http.MethodPut, "/api/v1/workers/"+wid+"/profile", map[string]any{"version": 2, "details": map[string]any{"gender": "woman", "gender_for_matching": true}})
		}, 200},
		{"GET /api/v1/workers/{id}/disclosures", func() *webtest.Response { return personAPI.Get("/api/v1/workers/" + wid + "/disclosures") }, 200},
		{"POST /workers/{id}/disclosures", func() *webtest.Response {
			return worker.PostForm("/workers/"+wid+"/disclosures", url.Values{"text": {"I am a parent"}, "audience": {"team"}, "themes": {"parent"}, "for_matching": {"yes"}})
		}, 303},
		{"POST /api/v1/workers/{id}/disclosures", func() *webtest.Response {
			return workerAPI.JSON(http.MethodPost, "/api/v1/workers/"+wid+"/disclosures", map[string]any{"text": "I have heard voices", "audience": "lead", "themes": []string{"psychosis"}})
		}, 201},
		{"POST /workers/{id}/disclosures/{item}", func() *webtest.Response {
			return worker.PostForm("/workers/"+wid+"/disclosures/"+items[0], url.Values{"version": {"1"}, "text": {"I have been there too"}, "audience": {"supported"}})
		}, 303},
		{"PATCH /api/v1/workers/{id}/disclosures/{item}", func() *webtest.Response {
			return workerAPI.JSON(http.MethodPatch, "/api/v1/workers/"+wid+"/disclosures/"+items[0], map[string]any{"version": 2, "audience": "public"})
		}, 200},
		{"POST /workers/{id}/disclosures/{item}/withdraw", func() *webtest.Response {
			return worker.PostForm("/workers/"+wid+"/disclosures/"+items[1]+"/withdraw", url.Values{})
		}, 303},
		{"DELETE /api/v1/workers/{id}/disclosures/{item}", func() *webtest.Response {
			return workerAPI.Do(http.MethodDelete, "/api/v1/workers/"+wid+"/disclosures/"+items[2], nil, nil)
		}, 204},
		{"GET /api/v1/workers/{id}/disclosure-reads", func() *webtest.Response { return workerAPI.Get("/api/v1/workers/" + wid + "/disclosure-reads") }, 200},
		{"GET /referrals/{id}/matches", func() *webtest.Response { return lead.Get("/referrals/" + ref(w3) + "/matches") }, 200},
		{"GET /api/v1/referrals/{id}/matches", func() *webtest.Response { return leadAPI.Get("/api/v1/referrals/" + ref(w3) + "/matches") }, 200},
		{"POST /referrals/{id}/matches", func() *webtest.Response {
			return lead.PostForm("/referrals/"+ref(w3)+"/matches", url.Values{"version": {strconv.Itoa(w3.Version)}, "worker_id": {lead2}})
		}, 303},
		{"POST /api/v1/my/worker-change", func() *webtest.Response {
			return personAPI.JSON(http.MethodPost, "/api/v1/my/worker-change", map[string]any{"referral_id": mine.ID})
		}, 200},
		{"POST /my/worker-change", func() *webtest.Response {
			return person.PostForm("/my/worker-change", url.Values{"referral_id": {strconv.FormatInt(mine.ID, 10)}})
		}, 303},
		{"POST /api/v1/allocation-plans", func() *webtest.Response {
			r := leadAPI.JSON(http.MethodPost, "/api/v1/allocation-plans", map[string]any{"teams": []int64{e.TeamA.ID}})
			var pl struct{ ID int64 }
			_ = json.Unmarshal([]byte(r.Body), &pl)
			apiPlan = strconv.FormatInt(pl.ID, 10)
			return r
		}, 201},
		{"GET /api/v1/allocation-plans/{id}", func() *webtest.Response { return leadAPI.Get("/api/v1/allocation-plans/" + apiPlan) }, 200},
		{"POST /api/v1/allocation-plans/{id}/commit", func() *webtest.Response {
			return leadAPI.JSON(http.MethodPost, "/api/v1/allocation-plans/"+apiPlan+"/commit", map[string]any{"assignments": []map[string]any{
				{"referral_id": w1.ID, "worker_id": e.Users["lead2"].ID}}})
		}, 200},
		{"POST /matching/plans", func() *webtest.Response {
			r := lead.PostForm("/matching/plans", url.Values{"teams": {strconv.FormatInt(e.TeamA.ID, 10)}})
			pagePlan = strings.TrimPrefix(r.Header.Get("Location"), "/matching/plans/")
			return r
		}, 303},
		{"GET /matching/plans/{id}", func() *webtest.Response { return lead.Get("/matching/plans/" + pagePlan) }, 200},
		{"POST /matching/plans/{id}/commit", func() *webtest.Response {
			return lead.PostForm("/matching/plans/"+pagePlan+"/commit", url.Values{"worker_" + ref(w2): {lead2}})
		}, 303},
	}
	rows := map[string]int64{
		"POST /referrals/{id}/matches": 2, "POST /api/v1/allocation-plans/{id}/commit": 2, "POST /matching/plans/{id}/commit": 2,
		"POST /api/v1/my/worker-change": 3,
	}
	return calls, rows
}

// disclosureCanary is a worker's disclosure text, and the accounts whose
// relation to the worker its audience includes.
type disclosureCanary struct {
	text string
	may  map[string]bool
}

// matrixCanaries sets up, for TestRoleRouteMatrix, team B's worker with a
// canary disclosure at every audience, person2 supported by that worker,
// canary choices for the canary person, and a plan of team B's waiting
// list holding the canary referral. It returns the canaries with who may
// see each, and the worker, item and plan to aim the routes at.
func matrixCanaries(t *testing.T, e *webtest.Env, canaryRef referral.Referral) (cs []disclosureCanary, workerID, itemID, planID int64) {
	t.Helper()
	ctx := context.Background()
	wb := e.Users["workerB"].ID
	self := e.Principal(t, "workerB")
	everyone := map[string]bool{}
	for _, n := range roleNames {
		everyone[n] = true
	}
	for _, c := range []struct {
		audience string
		may      []string
	}{
		{"nobody", []string{"workerB"}},
		{"lead", []string{"workerB", "leadB"}},
		{"supported", []string{"workerB", "person2"}},
		{"team", []string{"workerB", "leadB", "clinicianB"}},
		{"public", nil},
	} {
		text := "DISC-" + strings.ToUpper(c.audience) + "-c4a1"
		d, err := e.Matching.AddDisclosure(ctx, self, wb, matching.NewDisclosure{Text: text, Audience: c.audience, Themes: []string{"psychosis"}, ForMatching: true})
		if err != nil {
			t.Fatal(err)
		}
		may := everyone
		if c.may != nil {
			may = map[string]bool{}
			for _, n := range c.may {
				may[n] = true
			}
		}
		cs = append(cs, disclosureCanary{text: text, may: may})
		if c.audience == "nobody" {
			itemID = d.ID
		}
	}
	// person2 is supported by team B's worker.
	p2 := e.Principal(t, "person2")
	r, err := e.Referrals.CreateReferral(ctx, p2, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "Company", TeamID: e.TeamB.ID})
	if err != nil {
		t.Fatal(err)
	}
	leadB := e.Principal(t, "leadB")
	if _, err := e.Referrals.Transition(ctx, leadB, r.ID, referral.Move{To: referral.Accepted}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Referrals.Transition(ctx, leadB, r.ID, referral.Move{To: referral.Allocated, WorkerID: wb}); err != nil {
		t.Fatal(err)
	}
	// The canary person's choices, recorded by team B, and a plan of team
	// B's waiting list that holds them.
	if _, err := e.Matching.SaveChoices(ctx, e.Principal(t, "clinicianB"), canaryRef.PersonID, matching.SaveChoices{WithPerson: true,
		Choices: matching.Choices{AvoidTopics: canaryChoice, Themes: []string{"psychosis"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Referrals.Transition(ctx, leadB, canaryRef.ID, referral.Move{To: referral.Accepted}); err != nil {
		t.Fatal(err)
	}
	pl, err := e.Matching.ProposePlan(ctx, leadB, matching.NewPlan{Teams: []int64{e.TeamB.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return cs, wb, itemID, pl.ID
}

// canaryChoice is in the canary person's choices: only team B may see it.
const canaryChoice = "CANARY-CHOICE-55e1"

// What each audience sees, through the pages and the API: the canaries
// are where they should be, as well as nowhere else (TestRoleRouteMatrix).
func TestDisclosuresShownToTheirAudience(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		r := e.StaffReferral(t, "clinicianB", "Canary Person")
		cs, wid, _, _ := matrixCanaries(t, e, r)
		path := "/workers/" + strconv.FormatInt(wid, 10)
		for _, name := range roleNames {
			page := e.As(t, name).Get(path)
			api := e.Bearer(t, name).Get("/api/v1" + path + "/disclosures")
			own := e.As(t, name).Get("/my/choices")
			for _, c := range cs {
				seen := strings.Contains(page.Body, c.text) && strings.Contains(api.Body, c.text)
				if seen != c.may[name] {
					t.Errorf("%s on the worker's page and API: %s shown %v, want %v (statuses %d, %d)", name, c.text, seen, c.may[name], page.StatusCode, api.StatusCode)
				}
			}
			if name == "person2" && !strings.Contains(own.Body, "DISC-SUPPORTED-c4a1") {
				t.Errorf("the person supported does not see what is shared with them on their own page")
			}
		}
		// The worker sees who read their disclosures.
		reads := e.Bearer(t, "workerB").Get("/api/v1" + path + "/disclosure-reads")
		if reads.StatusCode != http.StatusOK || !strings.Contains(reads.Body, "Test leadB") || !strings.Contains(reads.Body, "Test person2") {
			t.Fatalf("who read: %d %s", reads.StatusCode, reads.Body)
		}
	})
}
