package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// The insight API answers in numbers: no percentages, "<5" or other words
// made for a page, and every hidden cell is null beside suppressed: true.
// The page and CSV put the same numbers into words.
func TestInsightAnswersInNumbers(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		// Seven people on one team and two on another: some cells shown,
		// some suppressed.
		var episodes []map[string]any
		for i := range 9 {
			team := e.TeamA.Name
			if i >= 7 {
				team = e.TeamB.Name
			}
			episodes = append(episodes, map[string]any{"person_ref": fmt.Sprintf("RN%d", i), "team": team,
				"coordinator_email": e.Users["clinician"].Email, "start_date": "2026-01-15"})
		}
		analyst := e.Bearer(t, "analyst")
		want(t, analyst.JSON(http.MethodPost, "/api/v1/caseload-episodes", map[string]any{"episodes": episodes}), http.StatusOK)
		// Two referrals: too few to show how long they waited.
		for i := range 2 {
			want(t, e.Bearer(t, "clinician").JSON(http.MethodPost, "/api/v1/referrals", map[string]any{
				"person":    map[string]any{"preferred_name": fmt.Sprintf("Wait %d", i), "phone": fmt.Sprintf("07700 90055%d", i)},
				"asked_for": "Company", "person_knows": true, "consent": "given", "not_duplicate": true}), http.StatusCreated)
		}
		for _, path := range []string{"/api/v1/insight/equity", "/api/v1/insight/coverage", "/api/v1/insight/waiting", "/api/v1/insight/referral-rates"} {
			resp := analyst.Get(path)
			want(t, resp, http.StatusOK)
			var v any
			if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			var numbers, hidden int
			walkInsight(t, path, v, &numbers, &hidden)
			// One co-ordinator, nine people: the rates hide nothing.
			if numbers == 0 || (hidden == 0 && !strings.Contains(path, "rates")) {
				t.Errorf("%s: %d numbers and %d suppressed cells, want some of each: %s", path, numbers, hidden, resp.Body)
			}
		}
		// The page and the download say the same in words.
		page := e.As(t, "analyst").Get("/insight/coverage")
		want(t, page, http.StatusOK)
		if !strings.Contains(page.Body, "0 of &lt;5") || !strings.Contains(page.Body, "0 of 7") {
			t.Errorf("the coverage page does not show the counts in words: %s", page.Body)
		}
		dl := e.As(t, "analyst").Get("/insight/coverage.csv")
		want(t, dl, http.StatusOK)
		recs, err := csv.NewReader(strings.NewReader(dl.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(recs, func(r []string) bool { return r[0] == e.TeamB.Name && r[2] == "<5" && r[3] == "0" && r[4] == "–" }) ||
			!slices.ContainsFunc(recs, func(r []string) bool { return r[0] == e.TeamA.Name && r[2] == "7" && r[4] == "0.0%" }) {
			t.Errorf("the coverage CSV does not show the counts in words: %q", recs)
		}
	})
}

// walkInsight fails on any string made for display and counts the
// numbers and the suppressed objects with a null in them.
func walkInsight(t *testing.T, where string, v any, numbers, hidden *int) {
	t.Helper()
	switch v := v.(type) {
	case string:
		if strings.HasSuffix(v, "%") || strings.HasPrefix(v, "<") || v == "–" || strings.Contains(v, " to ") ||
			strings.HasPrefix(v, "below ") || strings.HasPrefix(v, "above ") || strings.HasPrefix(v, "Not shown") {
			t.Errorf("%s: display text %q in the API", where, v)
		}
	case float64:
		*numbers++
	case []any:
		for i, x := range v {
			walkInsight(t, fmt.Sprintf("%s[%d]", where, i), x, numbers, hidden)
		}
	case map[string]any:
		if v["suppressed"] == true && slices.Contains(slicesValues(v), nil) {
			*hidden++
		}
		for k, x := range v {
			walkInsight(t, where+"."+k, x, numbers, hidden)
		}
	}
}

func slicesValues(m map[string]any) []any {
	out := make([]any, 0, len(m))
	for _, x := range m {
		out = append(out, x)
	}
	return out
}
