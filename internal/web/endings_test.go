package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// Ending peer support over HTTP: planned or not is required and checked
// against the reason (what was typed stays on the form); a planned ending
// keeps the person's words, which the referrer is never sent; the person
// adds or changes their words from their own account once it has ended,
// and nobody else can.
func TestEndingsOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		lead, leadAPI := e.As(t, "lead"), e.Bearer(t, "lead")
		r := e.Allocated(t, "person", "worker")
		id := strconv.FormatInt(r.ID, 10)
		me, meAPI, other := e.As(t, "person"), e.Bearer(t, "person"), e.Bearer(t, "person2")

		// Still open: the person cannot yet say what helped.
		if resp := meAPI.JSON(http.MethodPut, "/api/v1/my/referrals/"+id+"/what-helped", map[string]any{"what_helped": "x"}); resp.StatusCode != http.StatusConflict {
			t.Fatalf("open referral: %d %s", resp.StatusCode, resp.Body)
		}
		// No ending kind; an unplanned ending that is "goals met".
		resp := lead.PostForm("/referrals/"+id+"/transitions", url.Values{"to": {"ended"}, "reason": {"died"}, "outcome_summary": {"Sorry to say"},
			"ending": {"planned"}, "what_helped": {"Our walks"}})
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("planned death: %d", resp.StatusCode)
		}
		if !strings.Contains(resp.Body, "choose unplanned") || !strings.Contains(resp.Body, "Our walks") {
			t.Fatal("the form did not say what was wrong, or lost what was typed")
		}
		resp = leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "ended", "reason": "goals_met", "outcome_summary": "x"})
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(resp.Body, `"ending"`) {
			t.Fatalf("no ending kind: %d %s", resp.StatusCode, resp.Body)
		}
		resp = leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "ended", "ending": "unplanned", "reason": "goals_met", "outcome_summary": "x"})
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("unplanned goals met: %d", resp.StatusCode)
		}
		var status string
		_ = e.DB.QueryRow(ctx, "SELECT status FROM referrals WHERE id = $1", r.ID).Scan(&status)
		if status != "allocated" {
			t.Fatalf("a refused ending wrote the referral: %s", status)
		}
		resp = leadAPI.JSON(http.MethodPost, "/api/v1/referrals/"+id+"/transitions", map[string]any{"to": "ended", "ending": "planned", "reason": "goals_met",
			"outcome_summary": "Back at the allotment", "what_helped": "Someone who had been there"})
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"ending": "planned"`) || !strings.Contains(resp.Body, "Someone who had been there") {
			t.Fatalf("planned ending: %d %s", resp.StatusCode, resp.Body)
		}
		// The person sees their words and may change them; someone else
		// cannot even find the referral.
		if page := me.Get("/my/referrals/" + id); page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "Someone who had been there") {
			t.Fatalf("own page: %d", page.StatusCode)
		}
		if resp := other.JSON(http.MethodPut, "/api/v1/my/referrals/"+id+"/what-helped", map[string]any{"what_helped": "x"}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("someone else's referral: %d", resp.StatusCode)
		}
		if resp := me.PostForm("/my/referrals/"+id+"/what-helped", url.Values{"what_helped": {"  "}}); resp.StatusCode == http.StatusSeeOther ||
			!strings.Contains(resp.Body, "Write what helped") {
			t.Fatalf("empty words: %d", resp.StatusCode)
		}
		if resp := me.PostForm("/my/referrals/"+id+"/what-helped", url.Values{"what_helped": {"Walking, not sitting in a room"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("changing words: %d %s", resp.StatusCode, resp.Body)
		}
		var words string
		_ = e.DB.QueryRow(ctx, "SELECT what_helped FROM referrals WHERE id = $1", r.ID).Scan(&words)
		if words != "Walking, not sitting in a room" {
			t.Fatalf("stored words: %q", words)
		}
		// Staff see them on the referral; the referrer's reply never had them.
		if page := lead.Get("/referrals/" + id); !strings.Contains(page.Body, "Walking, not sitting in a room") || !strings.Contains(page.Body, "Planned with the person") {
			t.Fatal("the referral page does not show the ending")
		}
		var leak int
		_ = e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE message LIKE '%had been there%' OR message LIKE '%not sitting%'").Scan(&leak)
		if leak != 0 {
			t.Fatalf("%d notifications carry the person's words", leak)
		}
	})
}
