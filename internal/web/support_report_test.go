package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// The support report (#12) as a page, a CSV and the API, for those who
// may read insight only: a contact recorded shows as counts, small ones
// hidden in all three the same way, and no one's name anywhere.
func TestSupportReportPagesAndAPI(t *testing.T) {
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		pid := supportedPerson(t, e)
		var rid int64
		if err := e.DB.QueryRow(ctx, "SELECT id FROM referrals WHERE person_id = $1", pid).Scan(&rid); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(2 * time.Hour)
		if _, err := e.Referrals.RecordContact(ctx, e.Principal(t, "worker"), rid, referral.NewContact{At: e.Clock.Now().Add(-time.Hour), Mode: "phone",
			Minutes: 45, SupportTypes: []string{"emotional"}}); err != nil {
			t.Fatal(err)
		}
		analyst := e.As(t, "analyst")
		page := analyst.Get("/insight/support")
		want(t, page, http.StatusOK)
		for _, s := range []string{"People supported", "&lt;5", "Contacts by kind of support", "How support ended", "/insight/support.csv"} {
			if !strings.Contains(page.Body, s) {
				t.Errorf("the support report page lacks %q", s)
			}
		}
		var name string
		if err := e.DB.QueryRow(ctx, "SELECT preferred_name FROM people WHERE id = $1", pid).Scan(&name); err != nil {
			t.Fatal(err)
		}
		dl := analyst.Get("/insight/support.csv")
		want(t, dl, http.StatusOK)
		recs, err := csv.NewReader(strings.NewReader(dl.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(recs, func(r []string) bool { return r[1] == "People supported" && r[2] == "<5" }) {
			t.Errorf("the CSV does not hide one person: %q", recs)
		}
		api := e.Bearer(t, "analyst").Get("/api/v1/insight/support?from=2020-01-01")
		want(t, api, http.StatusOK)
		if !strings.Contains(api.Body, `"people_supported": null`) || !strings.Contains(api.Body, `"suppression_threshold": 5`) {
			t.Errorf("the API does not hide one person: %s", api.Body)
		}
		for _, body := range []string{page.Body, dl.Body, api.Body} {
			if strings.Contains(body, name) {
				t.Errorf("the report names the person %q", name)
			}
		}
		// A bad period is a clear message; a worker may not read it.
		if r := e.Bearer(t, "analyst").Get("/api/v1/insight/support?from=yesterday"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("bad period: %d %s", r.StatusCode, r.Body)
		}
		if r := e.Bearer(t, "worker").Get("/api/v1/insight/support"); r.StatusCode != http.StatusForbidden {
			t.Errorf("a worker read the support report: %d", r.StatusCode)
		}
	})
}
