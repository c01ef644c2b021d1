package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// The community report (#15) as a page, a CSV and the API: one member
// shows as "<5" in all three and their display name nowhere; a bad period
// is a clear message; people, carers, workers, partners and peer leads
// (who may not read insight) are refused every form of it.
func TestCommunityInsightPagesAndAPI(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		if _, err := e.DB.Exec(ctx, `INSERT INTO community_members (user_id, display_name, display_key, joined_at) VALUES ($1, 'Quiet Heron', 'quiet heron', $2)`,
			e.Users["person"].ID, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		analyst := e.As(t, "analyst")
		page := analyst.Get("/insight/community")
		want(t, page, http.StatusOK)
		for _, s := range []string{"Members (joined by the end)", "&lt;5", "Flags by kind", "Sanctions by kind", "/insight/community.csv"} {
			if !strings.Contains(page.Body, s) {
				t.Errorf("the community report page lacks %q", s)
			}
		}
		if idx := analyst.Get("/insight"); !strings.Contains(idx.Body, `href="/insight/community`) {
			t.Errorf("the insight index does not link the community report")
		}
		dl := analyst.Get("/insight/community.csv")
		want(t, dl, http.StatusOK)
		recs, err := csv.NewReader(strings.NewReader(dl.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(recs, func(r []string) bool { return r[1] == "Members" && r[2] == "<5" }) {
			t.Errorf("the CSV does not hide one member: %q", recs)
		}
		api := e.Bearer(t, "manager").Get("/api/v1/insight/community?from=2020-01-01")
		want(t, api, http.StatusOK)
		if !strings.Contains(api.Body, `"members": null`) || !strings.Contains(api.Body, `"suppression_threshold": 5`) {
			t.Errorf("the API does not hide one member: %s", api.Body)
		}
		for _, body := range []string{page.Body, dl.Body, api.Body} {
			if strings.Contains(body, "Quiet Heron") {
				t.Errorf("the report names a member")
			}
		}
		if r := e.Bearer(t, "analyst").Get("/api/v1/insight/community?from=yesterday"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("bad period: %d %s", r.StatusCode, r.Body)
		}
		if r := analyst.Get("/insight/community?to=soon"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "soon") {
			t.Errorf("bad period on the page: %d", r.StatusCode)
		}
		for _, role := range []string{"person", "carer", "worker", "partner", "lead", "moderator"} {
			if r := e.Bearer(t, role).Get("/api/v1/insight/community"); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s read the community report over the API: %d", role, r.StatusCode)
			}
			for _, path := range []string{"/insight/community", "/insight/community.csv"} {
				if r := e.As(t, role).Get(path); r.StatusCode != http.StatusForbidden {
					t.Errorf("%s read %s: %d", role, path, r.StatusCode)
				}
			}
		}
		var audited int
		if err := e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action = 'insight.community' AND subject_person_id IS NULL").Scan(&audited); err != nil || audited != 3 {
			t.Errorf("%d aggregate audit rows for three reports (%v)", audited, err)
		}
	})
}
