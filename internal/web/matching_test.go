package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// auditCall is one call for TestAuditOneRowPerCall: the same shape as its
// list of calls.
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
// (or uses their open referral, if they have one) and be allocated the
// team's worker.
func personWithWorker(t *testing.T, e *webtest.Env, open ...referral.Referral) referral.Referral {
	t.Helper()
	ctx := context.Background()
	var r referral.Referral
	var err error
	if len(open) > 0 {
		r = open[0]
		if r.Status == referral.Allocated && r.AllocatedWorkerID == e.Users["worker"].ID {
			return r
		}
	} else if r, err = e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "Company", TeamID: e.TeamA.ID}); err != nil {
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

// matchingAuditCalls are the matching routes for TestAuditOneRowPerCall
// (open is the person account's open referral, allocated here),
// each with how many audit rows it writes: one, or, for an allocation,
// one more each for the referrer who is told and the worker allocated;
// asking for a different worker is also seen by each of the team's two
// leads.
func matchingAuditCalls(t *testing.T, e *webtest.Env, open referral.Referral) ([]auditCall, map[string]int64) {
	ctx := context.Background()
	mine := personWithWorker(t, e, open)
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
		{"GET /people/{id}/choices", func() *webtest.Response { return lead.Get("/people/" + pid + "/choices") }, 200},
		{"POST /people/{id}/choices", func() *webtest.Response {
			return worker.PostForm("/people/"+pid+"/choices", url.Values{"version": {"2"}, "worker_gender": {"woman"}, "with_person": {"yes"}})
		}, 303},
		{"GET /api/v1/people/{id}/choices", func() *webtest.Response { return leadAPI.Get("/api/v1/people/" + pid + "/choices") }, 200},
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
		{"GET /matching/reassign", func() *webtest.Response { return lead.Get("/matching/reassign") }, 200},
		{"GET /api/v1/reassignments", func() *webtest.Response { return leadAPI.Get("/api/v1/reassignments") }, 200},
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
		"POST /referrals/{id}/matches": 3, "POST /api/v1/allocation-plans/{id}/commit": 3, "POST /matching/plans/{id}/commit": 3,
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
	t.Parallel()
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

// setCapTo has the lead set a worker's cap.
func setCapTo(t *testing.T, e *webtest.Env, worker string, cap int) {
	t.Helper()
	ctx := context.Background()
	id := e.Users[worker].ID
	lead := e.Principal(t, "lead")
	prof, err := e.Matching.WorkerProfile(ctx, lead, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Matching.SaveWorkerProfile(ctx, lead, id, matching.SaveWorkerProfile{Version: prof.Version,
		Capacity: &matching.Capacity{HoursPerWeek: 37.5, CapOverride: &cap}}); err != nil {
		t.Fatal(err)
	}
}

// The API, end to end: choices, a worker's profile and disclosures, a
// shortlist, a plan refused as stale and then committed. Every answer is
// checked against the OpenAPI document by the client.
func TestAPIMatchingJourney(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		person, worker, lead := e.Bearer(t, "person"), e.Bearer(t, "worker"), e.Bearer(t, "lead")
		wid := strconv.FormatInt(e.Users["worker"].ID, 10)
		saved := decode[map[string]any](t, person.JSON(http.MethodPut, "/api/v1/my/choices", map[string]any{"version": 0,
			"worker_gender": "woman", "worker_gender_must": true, "languages": []string{"Polish"}, "themes": []string{"psychosis"}}))
		if saved["version"].(float64) != 1 {
			t.Fatalf("saved: %v", saved)
		}
		want(t, person.JSON(http.MethodPut, "/api/v1/my/choices", map[string]any{"version": 0}), http.StatusConflict)
		bad := person.JSON(http.MethodPut, "/api/v1/my/choices", map[string]any{"version": 1, "worker_gender": "robot", "places": []string{"moon"}})
		want(t, bad, http.StatusUnprocessableEntity)
		if !strings.Contains(bad.Body, `"worker_gender"`) || !strings.Contains(bad.Body, `"places"`) {
			t.Fatalf("problems not named field by field: %s", bad.Body)
		}
		// The worker describes themselves and shares an experience; the lead
		// sets the cap.
		want(t, worker.JSON(http.MethodPut, "/api/v1/workers/"+wid+"/profile", map[string]any{"version": 0,
			"details": map[string]any{"gender": "woman", "gender_for_matching": true, "languages": []string{"English"}}}), http.StatusOK)
		want(t, worker.JSON(http.MethodPut, "/api/v1/workers/"+wid+"/profile", map[string]any{"version": 1,
			"capacity": map[string]any{"hours_per_week": 40}}), http.StatusForbidden)
		prof := decode[map[string]any](t, lead.JSON(http.MethodPut, "/api/v1/workers/"+wid+"/profile", map[string]any{"version": 1,
			"capacity": map[string]any{"hours_per_week": 18.75, "reductions": []any{}}}))
		if prof["cap_now"].(float64) != 7 {
			t.Fatalf("18.75 hours of 37.5 at 14 per FTE: cap %v", prof["cap_now"])
		}
		item := decode[map[string]any](t, worker.JSON(http.MethodPost, "/api/v1/workers/"+wid+"/disclosures", map[string]any{
			"text": "I have heard voices", "themes": []string{"psychosis"}, "audience": "nobody", "for_matching": true}))
		iid := strconv.FormatInt(int64(item["id"].(float64)), 10)
		if got := decode[map[string]any](t, lead.Get("/api/v1/workers/"+wid+"/disclosures")); len(got["items"].([]any)) != 0 {
			t.Fatalf("a lead sees an item for nobody: %v", got)
		}
		want(t, lead.JSON(http.MethodPatch, "/api/v1/workers/"+wid+"/disclosures/"+iid, map[string]any{"version": 1, "audience": "public"}), http.StatusNotFound)
		want(t, worker.JSON(http.MethodPatch, "/api/v1/workers/"+wid+"/disclosures/"+iid, map[string]any{"version": 1, "audience": "lead"}), http.StatusOK)
		want(t, lead.JSON(http.MethodPatch, "/api/v1/workers/"+wid+"/disclosures/"+iid, map[string]any{"version": 2, "audience": "public"}), http.StatusForbidden)
		// The person's referral: the shortlist ranks the worker first, and
		// says what is met in words.
		r, err := e.Referrals.CreateReferral(context.Background(), e.Principal(t, "person"), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "x", TeamID: e.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		rid := strconv.FormatInt(r.ID, 10)
		want(t, lead.JSON(http.MethodPost, "/api/v1/referrals/"+rid+"/transitions", map[string]any{"to": "accepted"}), http.StatusOK)
		sl := decode[matching.Shortlist](t, lead.Get("/api/v1/referrals/"+rid+"/matches"))
		top := sl.Workers[0]
		if top.WorkerID != e.Users["worker"].ID || top.FreeCapacity != 7 || !slices.Equal(top.Met, []string{"A woman (a must)", "Shared experience: psychosis or hearing voices"}) ||
			!slices.Equal(top.Unmet, []string{"Speaks Polish"}) {
			t.Fatalf("shortlist: %+v", sl.Workers)
		}
		if sl.Workers[1].Acceptable || !strings.Contains(sl.Workers[1].Why, "A woman (a must)") {
			t.Fatalf("the leads (no gender given) should be left out by the must: %+v", sl.Workers[1:])
		}
		want(t, e.Bearer(t, "leadB").Get("/api/v1/referrals/"+rid+"/matches"), http.StatusNotFound)
		// A plan, made stale, refused with what changed, then a new one committed.
		pl := decode[matching.Plan](t, lead.JSON(http.MethodPost, "/api/v1/allocation-plans", map[string]any{"teams": []int64{e.TeamA.ID}}))
		if len(pl.Assignments) != 1 || pl.Assignments[0].ReferralID != r.ID || pl.Assignments[0].WorkerID != e.Users["worker"].ID ||
			len(pl.People) != 1 || len(pl.People[0].RankedWorkers) != 1 || len(pl.Workers) != 3 || pl.Workers[0].Cap == 0 {
			t.Fatalf("plan: %+v", pl)
		}
		raw := decode[map[string]any](t, lead.Get("/api/v1/allocation-plans/"+strconv.FormatInt(pl.ID, 10)))
		for _, k := range []string{"id", "assignments", "unmatched", "people", "workers"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("the plan has no %s", k)
			}
		}
		w0 := raw["workers"].([]any)[0].(map[string]any)
		for _, k := range []string{"worker_id", "cap", "free_capacity", "priority"} {
			if _, ok := w0[k]; !ok {
				t.Errorf("a plan's worker has no %s", k)
			}
		}
		if _, ok := raw["people"].([]any)[0].(map[string]any)["ranked_workers"]; !ok {
			t.Errorf("a plan's person has no ranked_workers")
		}
		late := acceptedIn(t, e, "Latecomer")
		commit := map[string]any{"assignments": []map[string]any{{"referral_id": r.ID, "worker_id": e.Users["worker"].ID}}}
		stale := lead.JSON(http.MethodPost, "/api/v1/allocation-plans/"+strconv.FormatInt(pl.ID, 10)+"/commit", commit)
		want(t, stale, http.StatusConflict)
		if !strings.Contains(stale.Body, late.Reference+" joined the waiting list") {
			t.Fatalf("stale plan answer: %s", stale.Body)
		}
		pl = decode[matching.Plan](t, lead.JSON(http.MethodPost, "/api/v1/allocation-plans", map[string]any{"teams": []int64{e.TeamA.ID}}))
		done := decode[matching.Committed](t, lead.JSON(http.MethodPost, "/api/v1/allocation-plans/"+strconv.FormatInt(pl.ID, 10)+"/commit", commit))
		if len(done.Allocated) != 1 || !slices.Equal(done.Waiting, []int64{late.ID}) || !slices.Equal(done.Allocated[0].Unmet, []string{"Speaks Polish"}) {
			t.Fatalf("committed: %+v", done)
		}
		// The person sees who their worker is and what they share with them.
		mine := decode[matching.MyChoices](t, person.Get("/api/v1/my/choices"))
		if len(mine.Workers) != 1 || mine.Workers[0].WorkerID != e.Users["worker"].ID || len(mine.Workers[0].Shared) != 0 {
			t.Fatalf("my worker: %+v", mine.Workers)
		}
		ins := decode[matching.ChoiceInsight](t, e.Bearer(t, "analyst").Get("/api/v1/insight/choices"))
		if len(ins.UnmetByKind) == 0 || ins.Named {
			t.Fatalf("insight: %+v", ins)
		}
	})
}

// Two leads allocate the last free place at the same moment, through the
// API and through the shortlist page: one wins, the other is told the
// worker has no free places, and the cap holds.
func TestLastPlaceGoesToOneLead(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		setCapTo(t, e, "worker", 1)
		wid := e.Users["worker"].ID
		leads := []*webtest.Client{e.Bearer(t, "lead"), e.Bearer(t, "lead2")}
		pages := []*webtest.Client{e.As(t, "lead"), e.As(t, "lead2")}
		for round := range 4 {
			a, b := acceptedIn(t, e, "Race A"+strconv.Itoa(round)), acceptedIn(t, e, "Race B"+strconv.Itoa(round))
			var calls []webtest.Call
			if round%2 == 0 {
				for i, r := range []referral.Referral{a, b} {
					calls = append(calls, webtest.Call{Client: leads[i], Method: http.MethodPost, Path: "/api/v1/referrals/" + strconv.FormatInt(r.ID, 10) + "/transitions",
						JSON: map[string]any{"to": "allocated", "worker_id": wid}})
				}
			} else {
				for i, r := range []referral.Referral{a, b} {
					calls = append(calls, webtest.Call{Client: pages[i], Method: http.MethodPost, Path: "/referrals/" + strconv.FormatInt(r.ID, 10) + "/matches",
						Form: url.Values{"worker_id": {strconv.FormatInt(wid, 10)}, "version": {strconv.Itoa(r.Version)}}})
				}
			}
			resps := webtest.Parallel(t, calls)
			won, lost := 0, 0
			for _, r := range resps {
				switch r.StatusCode {
				case http.StatusOK, http.StatusSeeOther:
					won++
				case http.StatusConflict:
					lost++
					if !strings.Contains(r.Body, "no free places") {
						t.Errorf("round %d: the loser is not told why: %.300s", round, r.Body)
					}
				default:
					t.Fatalf("round %d: %d %.300s", round, r.StatusCode, r.Body)
				}
			}
			if won != 1 || lost != 1 {
				t.Fatalf("round %d: %d won, %d lost", round, won, lost)
			}
			var n int
			if err := e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM referrals WHERE allocated_worker_id = $1 AND status IN ('allocated', 'active')", wid).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("round %d: the worker has %d people with a cap of 1", round, n)
			}
			// Free the place for the next round.
			for _, r := range []referral.Referral{a, b} {
				cur, err := e.Referrals.GetReferral(ctx, e.Principal(t, "lead"), r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cur.Referral.Status == referral.Allocated {
					if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), r.ID, referral.Move{To: referral.Withdrawn}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}

// Two plans of the same waiting list committed at once: one commits, the
// other is refused as stale; nobody is allocated twice.
func TestConcurrentPlansOneCommits(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		var refs []referral.Referral
		for _, n := range []string{"One", "Two", "Three"} {
			refs = append(refs, acceptedIn(t, e, "Plan race "+n))
		}
		var calls []webtest.Call
		for _, who := range []string{"lead", "lead2"} {
			pl, err := e.Matching.ProposePlan(ctx, e.Principal(t, who), matching.NewPlan{Teams: []int64{e.TeamA.ID}})
			if err != nil {
				t.Fatal(err)
			}
			var lines []map[string]any
			for _, a := range pl.Assignments {
				lines = append(lines, map[string]any{"referral_id": a.ReferralID, "worker_id": a.WorkerID})
			}
			calls = append(calls, webtest.Call{Client: e.Bearer(t, who), Method: http.MethodPost,
				Path: "/api/v1/allocation-plans/" + strconv.FormatInt(pl.ID, 10) + "/commit", JSON: map[string]any{"assignments": lines}})
		}
		resps := webtest.Parallel(t, calls)
		codes := []int{resps[0].StatusCode, resps[1].StatusCode}
		slices.Sort(codes)
		if !slices.Equal(codes, []int{http.StatusOK, http.StatusConflict}) {
			t.Fatalf("statuses %v: %s / %s", codes, resps[0].Body, resps[1].Body)
		}
		var n int
		if err := e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM allocation_matches").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(refs) {
			t.Fatalf("%d allocations recorded for %d people", n, len(refs))
		}
	})
}

// A choices form with problems comes back with each problem beside its
// field and everything that was typed or ticked still there.
func TestChoicesFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, "sqlite", webtest.Options{})
	person := e.As(t, "person")
	resp := person.PostForm("/my/choices", url.Values{"version": {"0"}, "worker_gender": {"robot"}, "languages": {"Polish, Urdu"},
		"days": {"mon", "fri"}, "avoid_topics": {strings.Repeat("x", 2001)}, "languages_must": {"yes"}})
	want(t, resp, http.StatusUnprocessableEntity)
	for _, s := range []string{"Choose a gender from the list", "Things not to talk about must be 2,000 characters or fewer",
		`value="Polish, Urdu"`, `value="mon" checked`, `value="fri" checked`, `id="worker_gender-error"`, `id="avoid_topics-error"`} {
		if !strings.Contains(resp.Body, s) {
			t.Errorf("the page does not keep or say %q", s)
		}
	}
	var n int
	_ = e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM choice_profiles").Scan(&n)
	if n != 0 {
		t.Fatalf("%d versions stored from a refused form", n)
	}
}
