package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// waitingWorld fills the world with referrals in every team, state and
// urgency: some past their standard, one with an alert of possible risk,
// one with no team, one allocated.
func waitingWorld(t *testing.T, e *webtest.Env) {
	t.Helper()
	ctx := context.Background()
	mk := func(by, name string, u referral.Urgency, asked string) referral.Referral {
		t.Helper()
		src := referral.Source("")
		in := referral.NewReferral{Source: src, Person: person.Details{PreferredName: name, Email: strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@example.org"},
			AskedFor: asked, PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, Urgency: u,
			// The people agreed to share their referrals beyond the peer
			// support team, so the ward nurse sees them on her team's list.
			ShareWithReferrer: true, ShareBeyondTeam: true}
		if by == "worker" {
			in.MetAt = "Walking group"
		}
		r, err := e.Referrals.CreateReferral(ctx, e.Principal(t, by), in)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Six weeks ago: past every standard.
	for i := range 4 {
		mk("clinician", fmt.Sprintf("Old A%d", i), referral.Routine, "Company")
	}
	mk("clinicianB", "Old B", referral.Routine, "Company")
	e.Clock.Advance(42 * 24 * time.Hour)
	mk("clinician", "Urgent A", referral.Urgent, "Getting out")
	mk("partner", "Partner made", referral.Routine, "A group")
	allocated := mk("worker", "Allocated A", referral.Routine, "Talking")
	if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), allocated.ID, referral.Move{To: referral.Accepted}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), allocated.ID, referral.Move{To: referral.Allocated, WorkerID: e.Users["worker"].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Referrals.CreateSelfReferral(ctx, app.Public("t"), referral.SelfReferral{Details: person.Details{PreferredName: "Risk A", Phone: "07700 900311"},
		AskedFor: "I want to kill myself", TeamID: e.TeamA.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Referrals.CreateSelfReferral(ctx, app.Public("t"), referral.SelfReferral{Details: person.Details{PreferredName: "No team", Phone: "07700 900312"},
		AskedFor: "Company"}); err != nil {
		t.Fatal(err)
	}
	// Two days later the urgent one is past its 24 hours.
	e.Clock.Advance(48 * time.Hour)
}

var showingRE = regexp.MustCompile(`Showing \d+ to \d+ of (\d+) referrals`)

// The home page's figures and the lists they link to are counted with the
// same definition and within the same scope, for every role: a nurse's
// home used to say 0 waiting while her list showed 10, all past 4 weeks
// (the home counted only teams where she was a peer worker or lead).
func TestHomeFiguresAgreeWithTheLists(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		waitingWorld(t, e)
		for _, name := range []string{"worker", "workerB", "lead", "lead2", "leadB", "clinician", "clinicianB", "partner"} {
			api := e.Bearer(t, name)
			home := decode[map[string]any](t, api.Get("/api/v1/home"))
			counts := home["counts"].(map[string]any)
			page := e.As(t, name).Get("/")
			for key, link := range map[string]string{
				"waiting": listLinkFor(referral.WaitingFilter()), "overdue": listLinkFor(referral.PastStandardFilter()),
				"possible_risk": listLinkFor(referral.AtRiskFilter()), "allocated_to_me": listLinkFor(referral.AllocatedFilter(1)),
				"made_open": listLinkFor(referral.MadeOpenFilter(1)),
			} {
				want := int(counts[key].(float64))
				list := decode[map[string]any](t, api.Get("/api/v1"+link))
				if got := int(list["total"].(float64)); got != want {
					t.Errorf("%s: home says %s %d, the list %s has %d", name, key, want, link, got)
				}
				if key == "allocated_to_me" && !e.Principal(t, name).Can(app.PermReferralWork) {
					continue
				}
				if key == "made_open" && !e.Principal(t, name).Can(app.PermReferralCreate) {
					continue
				}
				href := strings.ReplaceAll(link, "&", "&amp;")
				if !strings.Contains(page.Body, `href="`+href+`"`) {
					t.Errorf("%s: the home page does not link %s to %s", name, key, link)
					continue
				}
				listPage := e.As(t, name).Get(link)
				m := showingRE.FindStringSubmatch(listPage.Body)
				switch {
				case want == 0 && m != nil:
					t.Errorf("%s: %s is 0 at home, the page lists %s", name, key, m[1])
				case want > 0 && (m == nil || m[1] != strconv.Itoa(want)):
					t.Errorf("%s: %s is %d at home, the list page says %v", name, key, want, m)
				}
			}
		}
		// The nurse's case: she is no peer worker or lead, and she sees her
		// team's waiting list, most of it past the standard.
		c := decode[map[string]any](t, e.Bearer(t, "clinician").Get("/api/v1/home"))["counts"].(map[string]any)
		if c["waiting"].(float64) < 6 || c["overdue"].(float64) < 5 {
			t.Errorf("the clinician's home: %v", c)
		}
	})
}

// listLinkFor is the list path for a filter, as the home page builds it
// (the account in it is the caller's own: mine=1, made=1).
func listLinkFor(f referral.Filter) string {
	v := url.Values{}
	for _, st := range f.Statuses {
		v.Add("status", string(st))
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	if f.Risk {
		v.Set("risk", "1")
	}
	if f.WorkerID != 0 {
		v.Set("mine", "1")
	}
	if f.MadeBy != 0 {
		v.Set("made", "1")
	}
	return "/referrals?" + v.Encode()
}

// Two leads answering the same alert at the same moment, and two changing
// the same referral's urgency: one is recorded, the other is told, on both
// engines, through real parallel requests.
func TestAlertAndUrgencyRaces(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		res, err := e.Referrals.CreateSelfReferral(ctx, app.Public("t"), referral.SelfReferral{Details: person.Details{PreferredName: "Race", Phone: "07700 900321"},
			AskedFor: "took an overdose last night", TeamID: e.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		var alertID int64
		_ = e.DB.QueryRow(ctx, "SELECT id FROM alerts WHERE referral_id = $1", res.ID).Scan(&alertID)
		lead, lead2 := e.Bearer(t, "lead"), e.Bearer(t, "lead2")
		path := "/api/v1/alerts/" + strconv.FormatInt(alertID, 10) + "/response"
		out := webtest.Parallel(t, []webtest.Call{
			{Client: lead, Method: http.MethodPost, Path: path, JSON: map[string]any{"outcome": "called_person", "version": 1}},
			{Client: lead2, Method: http.MethodPost, Path: path, JSON: map[string]any{"outcome": "crisis_team", "version": 1}},
		})
		codes := []int{out[0].StatusCode, out[1].StatusCode}
		sort.Ints(codes)
		if codes[0] != http.StatusOK || codes[1] != http.StatusConflict {
			t.Fatalf("two answers at once: %v\n%s\n%s", codes, out[0].Body, out[1].Body)
		}
		var n int
		_ = e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action = 'alert.resolve' AND outcome = 'ok'").Scan(&n)
		if n != 1 {
			t.Errorf("%d responses audited", n)
		}
		upath := "/api/v1/referrals/" + strconv.FormatInt(res.ID, 10) + "/urgency"
		out = webtest.Parallel(t, []webtest.Call{
			{Client: lead, Method: http.MethodPost, Path: upath, JSON: map[string]any{"urgency": "urgent", "reason": "one", "version": 1}},
			{Client: lead2, Method: http.MethodPost, Path: upath, JSON: map[string]any{"urgency": "very_urgent", "reason": "two", "version": 1}},
		})
		codes = []int{out[0].StatusCode, out[1].StatusCode}
		sort.Ints(codes)
		if codes[0] != http.StatusOK || codes[1] != http.StatusConflict {
			t.Fatalf("two urgency changes at once: %v\n%s\n%s", codes, out[0].Body, out[1].Body)
		}
		_ = e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND kind = 'urgency'", res.ID).Scan(&n)
		if n != 1 {
			t.Errorf("%d urgency changes in the history, want 1", n)
		}
	})
}

// The self-referral API answers words of possible risk with where to get
// help now; ordinary words get no such answer. The staff door does the
// same for the referrer, and the referral says possible risk.
func TestAPISignposting(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		anon := e.Client(t)
		risky := decode[map[string]any](t, anon.JSON(http.MethodPost, "/api/v1/self-referrals", map[string]any{
			"preferred_name": "Api Risk", "phone": "07700 900401", "asked_for": "I've been thinking of ending my life"}))
		help, ok := risky["help_now"].(map[string]any)
		if !ok || help["alerted"] != true || !strings.Contains(fmt.Sprint(help["contacts"]), "tel:111") || !strings.Contains(fmt.Sprint(help["message"]), "Thank you for telling us") {
			t.Fatalf("help_now: %v", risky)
		}
		plain := decode[map[string]any](t, anon.JSON(http.MethodPost, "/api/v1/self-referrals", map[string]any{
			"preferred_name": "Api Plain", "phone": "07700 900402", "asked_for": "I'm dying to meet people"}))
		if _, ok := plain["help_now"]; ok {
			t.Fatalf("help_now for ordinary words: %v", plain)
		}
		staff := decode[map[string]any](t, e.Bearer(t, "clinician").JSON(http.MethodPost, "/api/v1/referrals", map[string]any{
			"person": map[string]any{"preferred_name": "Api Staff", "phone": "07700 900403"}, "asked_for": "Said she wants to kill herself",
			"person_knows": true, "consent": "given", "not_duplicate": true, "urgency": "urgent"}))
		help, _ = staff["help_now"].(map[string]any)
		if staff["possible_risk"] != true || staff["urgency"] != "urgent" || help == nil || !strings.Contains(fmt.Sprint(help["message"]), "suggests the person may be at risk") {
			t.Fatalf("staff referral: %v", staff)
		}
		got := decode[map[string]any](t, e.Bearer(t, "lead").Get("/api/v1/referrals/"+strconv.FormatInt(int64(staff["id"].(float64)), 10)))
		r := got["referral"].(map[string]any)
		if r["possible_risk"] != true || r["risk_alert_open"] != true || r["fhir_priority"] != "urgent" || len(got["alerts"].([]any)) != 1 {
			t.Fatalf("the lead's view: %v", got)
		}
	})
}

// Straight after a form whose words may mean someone is at risk, the next
// page shows where to get help now: to a person asking for themselves in
// their own words, to a referrer in a referrer's; once, not on every page
// after.
func TestPagesSignpostAfterTheForm(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		person := e.As(t, "person")
		resp := person.PostForm("/referrals", url.Values{"source": {"self"}, "team_id": {strconv.FormatInt(e.TeamA.ID, 10)},
			"asked_for": {"Some nights I want to die"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/my/referrals" {
			t.Fatalf("the person's request: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		next := person.Get("/my/referrals")
		if !strings.Contains(next.Body, "You can get help now") || !strings.Contains(next.Body, "read your request first") || !strings.Contains(next.Body, `href="tel:111"`) {
			t.Fatalf("no signposting after the request:\n%.3000s", next.Body)
		}
		if again := person.Get("/my/referrals"); strings.Contains(again.Body, `id="help-now"`) {
			t.Error("the signposting is shown again on the next page")
		}
		clin := e.As(t, "clinician")
		resp = clin.PostForm("/referrals", url.Values{"source": {"staff"}, "person.preferred_name": {"Page Risk"}, "person.phone": {"07700 900501"},
			"asked_for": {"He has been talking about killing himself"}, "person_knows": {"yes"}, "consent": {"given"}, "urgency": {"very_urgent"},
			"share_with_referrer": {"yes"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the clinician's referral: %d\n%s", resp.StatusCode, resp.Body)
		}
		view := clin.Get(resp.Header.Get("Location"))
		if !strings.Contains(view.Body, "If they need help now") || !strings.Contains(view.Body, "duty lead has been alerted") || !strings.Contains(view.Body, "Very urgent") {
			t.Fatalf("the referral page after the form:\n%.3000s", view.Body)
		}
		quiet := clin.PostForm("/referrals", url.Values{"source": {"staff"}, "person.preferred_name": {"Page Quiet"}, "person.phone": {"07700 900502"},
			"asked_for": {"Dying to meet people who get it"}, "person_knows": {"yes"}, "consent": {"given"}, "share_with_referrer": {"yes"}})
		if v := clin.Get(quiet.Header.Get("Location")); strings.Contains(v.Body, `id="help-now"`) {
			t.Error("signposting for ordinary words")
		}
	})
}
