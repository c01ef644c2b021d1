package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// A signed-in staff referral for someone whose name is already known —
// someone on the team's caseload, with no date of birth, phone or email in
// Mutual — offers them as a possible duplicate. It used to need the same
// date of birth too, which caseload records do not have, so nothing was
// offered and a second record was made. Someone the referrer may not see
// is never offered.
func TestSameNameIsOfferedAsAPossibleDuplicate(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		var id int64
		if err := e.DB.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO people (preferred_name, full_name, birth_year, created_at, updated_at)
				VALUES ('Amira Baker', '', 1988, $1, $1) RETURNING id`, e.Clock.Now()).Scan(&id)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, imported_at)
			VALUES ($1, 'RX1', $2, 'clinician@test.example', $3, $4)`, id, e.TeamA.ID, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		form := url.Values{"source": {"staff"}, "person.preferred_name": {"Amira"}, "person.full_name": {"amira  BAKER"}, "person.phone": {"07700 900612"},
			"asked_for": {"Company"}, "person_knows": {"yes"}, "consent": {"given"}}
		resp := e.As(t, "clinician").PostForm("/referrals", form)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(resp.Body, "This person may already be known") ||
			!strings.Contains(resp.Body, fmt.Sprintf(`value="%d"`, id)) || !strings.Contains(resp.Body, "same name") {
			t.Fatalf("the staff form: %d\n%s", resp.StatusCode, resp.Body)
		}
		api := e.Bearer(t, "clinician").JSON(http.MethodPost, "/api/v1/referrals", map[string]any{"person": map[string]any{"preferred_name": "Amira Baker"},
			"asked_for": "Company", "person_knows": true, "consent": "given"})
		if api.StatusCode != http.StatusConflict || !strings.Contains(api.Body, "possible_matches") {
			t.Fatalf("the API: %d %s", api.StatusCode, api.Body)
		}
		// Team B's clinician may not see her: no prompt, a new person.
		other := e.As(t, "clinicianB").PostForm("/referrals", form)
		if other.StatusCode != http.StatusSeeOther || strings.Contains(other.Body, "Amira Baker") {
			t.Fatalf("another team's clinician: %d", other.StatusCode)
		}
		// A first name alone is not enough to ask.
		form.Set("person.full_name", "")
		form.Set("person.phone", "07700 900613")
		if r := e.As(t, "clinician").PostForm("/referrals", form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("a first name alone: %d", r.StatusCode)
		}
	})
}

// The people list says how many there are and pages through them all,
// and people with the same name can be told apart.
func TestPeopleListPagesWithATotal(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		clin := e.Principal(t, "clinician")
		for i := range 58 {
			if _, err := e.People.Create(ctx, clin, person.Details{PreferredName: fmt.Sprintf("Person %02d", i)}, true); err != nil {
				t.Fatal(err)
			}
		}
		for _, dob := range []string{"1970-01-02", "1999-12-31"} {
			if _, err := e.People.Create(ctx, clin, person.Details{PreferredName: "Sam Lee", DateOfBirth: dob}, true); err != nil {
				t.Fatal(err)
			}
		}
		page := e.As(t, "clinician")
		first := page.Get("/people")
		if !strings.Contains(first.Body, "60 people you can see") || !strings.Contains(first.Body, "Showing 1 to 50 of 60") || !strings.Contains(first.Body, `rel="next"`) {
			t.Fatalf("first page:\n%s", first.Body)
		}
		second := page.Get("/people?offset=50")
		if !strings.Contains(second.Body, "Showing 51 to 60 of 60") || strings.Contains(second.Body, `rel="next"`) {
			t.Fatalf("second page:\n%s", second.Body)
		}
		sams := page.Get("/people?q=sam+lee")
		if !strings.Contains(sams.Body, "2 people found") || !strings.Contains(sams.Body, "2 January 1970") || !strings.Contains(sams.Body, "31 December 1999") {
			t.Fatalf("two people called Sam Lee:\n%s", sams.Body)
		}
		api := decode[map[string]any](t, e.Bearer(t, "clinician").Get("/api/v1/people?limit=10&offset=55"))
		if api["total"].(float64) != 60 || len(api["people"].([]any)) != 5 {
			t.Fatalf("API page: total %v, %d people", api["total"], len(api["people"].([]any)))
		}
		if b := e.Bearer(t, "clinicianB").Get("/api/v1/people"); !strings.Contains(b.Body, `"total": 0`) {
			t.Fatalf("another team's clinician: %s", b.Body)
		}
	})
}
