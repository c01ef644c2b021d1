package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// parallel runs n copies of fn at once and returns their responses.
func parallel(n int, fn func(i int) *webtest.Response) []*webtest.Response {
	out := make([]*webtest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func openReferrals(t *testing.T, db *store.DB, personID int64) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM referrals WHERE person_id = $1
		AND status IN ('received', 'accepted', 'allocated', 'active')`, personID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Issue #8, item 5: six referrals, or six "interested" offers, for one
// person at the same moment make one open referral; the others are
// answered with it.
func TestOneOpenReferralUnderConcurrency(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		clin := e.Principal(t, "clinician")
		for round := range 3 {
			pe, err := e.People.Create(ctx, clin, person.Details{PreferredName: "Race " + strconv.Itoa(round)}, true)
			if err != nil {
				t.Fatal(err)
			}
			api := e.Bearer(t, "clinician")
			resps := parallel(6, func(int) *webtest.Response {
				return api.JSON(http.MethodPost, "/api/v1/referrals", map[string]any{"person_id": pe.ID, "asked_for": "company",
					"person_knows": true, "consent": "given"})
			})
			created, existing := 0, 0
			ids := map[int64]bool{}
			for _, r := range resps {
				var got struct {
					ID       int64 `json:"id"`
					Existing bool  `json:"existing"`
				}
				_ = json.Unmarshal([]byte(r.Body), &got)
				switch {
				case r.StatusCode == http.StatusCreated && !got.Existing:
					created++
				case r.StatusCode == http.StatusOK && got.Existing:
					existing++
				default:
					t.Fatalf("round %d: %d %s", round, r.StatusCode, r.Body)
				}
				ids[got.ID] = true
			}
			if created != 1 || existing != 5 || len(ids) != 1 || openReferrals(t, e.DB, pe.ID) != 1 {
				t.Fatalf("round %d: %d created, %d answered with the existing one, %d ids, %d open", round, created, existing, len(ids), openReferrals(t, e.DB, pe.ID))
			}

			other, err := e.People.Create(ctx, clin, person.Details{PreferredName: "Offer race " + strconv.Itoa(round)}, true)
			if err != nil {
				t.Fatal(err)
			}
			resps = parallel(6, func(int) *webtest.Response {
				return api.JSON(http.MethodPost, "/api/v1/offers", map[string]any{"person_id": other.ID, "method": "conversation", "response": "interested"})
			})
			ids = map[int64]bool{}
			for _, r := range resps {
				var got referral.OfferResult
				if r.StatusCode != http.StatusCreated || json.Unmarshal([]byte(r.Body), &got) != nil || got.Referral == nil {
					t.Fatalf("round %d offer: %d %s", round, r.StatusCode, r.Body)
				}
				ids[got.Referral.ID] = true
			}
			if len(ids) != 1 || openReferrals(t, e.DB, other.ID) != 1 {
				t.Fatalf("round %d: offers made %d referrals, %d open", round, len(ids), openReferrals(t, e.DB, other.ID))
			}
			var offers int
			_ = e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM offers WHERE person_id = $1", other.ID).Scan(&offers)
			if offers != 6 {
				t.Fatalf("round %d: %d offers recorded, want 6", round, offers)
			}
		}
	})
}

// Issue #8, item 8: everyone whose data appears in a list, a search or a
// notification finds it in "who has seen my record".
func TestListsAppearInRecordAccess(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		// The person asks while signed in: the referral has no team yet, so
		// every peer lead's list shows it.
		if _, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "person"), referral.NewReferral{AskedFor: "company"}); err != nil {
			t.Fatal(err)
		}
		others := []int64{}
		for i := range 3 {
			others = append(others, e.StaffReferral(t, "clinician", "Listed "+strconv.Itoa(i)).PersonID)
		}
		lead := e.As(t, "lead")
		if r := lead.Get("/referrals?status=received"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Listed 2") {
			t.Fatalf("lead's list: %d", r.StatusCode)
		}
		if r := e.Bearer(t, "clinician").Get("/api/v1/referrals"); r.StatusCode != http.StatusOK {
			t.Fatalf("clinician's list: %d", r.StatusCode)
		}
		if r := e.As(t, "clinician").Get("/people?q=Listed"); r.StatusCode != http.StatusOK {
			t.Fatalf("search: %d", r.StatusCode)
		}
		// The person sees the lead's list in their record access.
		page := e.As(t, "person").Get("/my/record-access")
		if !strings.Contains(page.Body, "Test lead") || !strings.Contains(page.Body, "Saw you in a list of referrals") {
			t.Fatalf("the list is missing from the person's record access:\n%s", page.Body)
		}
		// So does everyone listed, found in a search or told about.
		for _, id := range others {
			var seen []audit.Access
			if err := e.DB.Read(ctx, func(tx *store.Tx) error {
				var err error
				seen, err = audit.ForPerson(ctx, tx, id, 0, 50)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			actions := map[string]bool{}
			for _, a := range seen {
				actions[a.ActorName+" "+a.Action] = true
			}
			for _, want := range []string{"Test lead referral.list", "Test clinician referral.list", "Test clinician person.search"} {
				if !actions[want] {
					t.Errorf("person %d: no %q in %v", id, want, actions)
				}
			}
		}
		// A notification about someone is recorded as seen by its reader.
		r := e.StaffReferral(t, "clinician", "Told About")
		if _, err := e.Referrals.Transition(ctx, e.Principal(t, "lead"), r.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatal(err)
		}
		var n int
		_ = e.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_events WHERE action = 'notification.receive' AND subject_person_id = $1
			AND actor_user_id = $2`, r.PersonID, e.Users["clinician"].ID).Scan(&n)
		if n != 1 {
			t.Fatalf("the referrer's notification was not recorded as seen by them: %d", n)
		}
		if res, err := audit.Verify(ctx, e.DB); err != nil || !res.OK() {
			t.Fatalf("audit chain: %+v %v", res, err)
		}
	})
}

// Possible matches are a disclosure: the people offered are told, even
// though the referral that asked was not made.
func TestPossibleMatchesAreAudited(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		first := e.StaffReferral(t, "clinician", "Matchable")
		var phone string
		_ = e.DB.QueryRow(ctx, "SELECT phone FROM people WHERE id = $1", first.PersonID).Scan(&phone)
		resp := e.Bearer(t, "clinician").JSON(http.MethodPost, "/api/v1/referrals", map[string]any{
			"person": map[string]any{"preferred_name": "Someone", "phone": phone}, "asked_for": "x", "person_knows": true, "consent": "given"})
		if resp.StatusCode != http.StatusConflict || !strings.Contains(resp.Body, "Matchable") {
			t.Fatalf("no possible match offered: %d %s", resp.StatusCode, resp.Body)
		}
		var n int
		_ = e.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_subjects s JOIN audit_events a ON a.id = s.audit_id
			WHERE s.person_id = $1 AND a.action = 'referral.possible_matches'`, first.PersonID).Scan(&n)
		if n != 1 {
			t.Fatalf("the match shown was not recorded for the person: %d", n)
		}
	})
}
