package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// restrictedCanary is in a restricted note: only the worker who recorded
// the contact, their lead and clinicians who may see the referral read it.
const restrictedCanary = "RESTRICTED-NOTE-CANARY-5d1e"

// contactAuditCalls makes one successful call to each contact route, for
// TestAuditOneRowPerCall, with the audit rows each writes where that is not
// one (a comment by someone other than the worker also tells the worker,
// recorded as their notification).
func contactAuditCalls(t *testing.T, e *webtest.Env, own referral.Referral) ([]auditCall, map[string]int64) {
	ctx := context.Background()
	worker := e.Principal(t, "worker")
	// A referral team A's clinician made, allocated to the worker: the
	// clinician, as its referrer, may see it and read its restricted notes.
	cr := e.StaffReferral(t, "clinician", "Contact Audit")
	for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: worker.UserID}} {
		var err error
		if cr, err = e.Referrals.Transition(ctx, e.Principal(t, "lead"), cr.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	record := func(ref int64) string {
		c, err := e.Referrals.RecordContact(ctx, worker, ref, referral.NewContact{At: e.Clock.Now(), Mode: "phone", Note: "A note"})
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(c.ID, 10)
	}
	a, b, c, d, withheld := record(cr.ID), record(cr.ID), record(cr.ID), record(cr.ID), record(cr.ID)
	mine := record(own.ID)
	mineID, _ := strconv.ParseInt(mine, 10, 64)
	withheldID, _ := strconv.ParseInt(withheld, 10, 64)
	if _, err := e.Referrals.AddRestrictedNote(ctx, worker, withheldID, referral.NewRestrictedNote{Note: "n", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	correction := func() string {
		k, err := e.Referrals.AddComment(ctx, e.Principal(t, "person"), mineID, referral.NewComment{Kind: "correction", Body: "Not right"})
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(k.ID, 10)
	}
	k1, k2 := correction(), correction()
	ownID := strconv.FormatInt(own.ID, 10)
	wk, lead, clin, person := e.As(t, "worker"), e.As(t, "lead"), e.As(t, "clinician"), e.As(t, "person")
	wkAPI, leadAPI, clinAPI, personAPI := e.Bearer(t, "worker"), e.Bearer(t, "lead"), e.Bearer(t, "clinician"), e.Bearer(t, "person")
	calls := []auditCall{
		{"GET /contacts/{id}", func() *webtest.Response { return lead.Get("/contacts/" + withheld) }, 200},
		{"POST /contacts/{id}/note", func() *webtest.Response {
			return wk.PostForm("/contacts/"+a+"/note", url.Values{"note": {"A better note"}, "version": {"1"}})
		}, 303},
		{"POST /contacts/{id}/entered-in-error", func() *webtest.Response {
			return wk.PostForm("/contacts/"+b+"/entered-in-error", url.Values{"reason": {"Wrong person"}, "version": {"1"}})
		}, 303},
		{"POST /contacts/{id}/comments", func() *webtest.Response {
			return wk.PostForm("/contacts/"+a+"/comments", url.Values{"body": {"Spoke again"}})
		}, 303},
		{"POST /contacts/{id}/restricted-notes", func() *webtest.Response {
			return wk.PostForm("/contacts/"+a+"/restricted-notes", url.Values{"restricted_note": {"Safeguarding"}, "restricted_reason": {"Risk"}})
		}, 303},
		{"POST /contacts/{id}/restricted-notice", func() *webtest.Response {
			return clin.PostForm("/contacts/"+a+"/restricted-notice", url.Values{"withhold_reason": {"Telling them would put them at risk"}})
		}, 303},
		{"POST /contact-comments/{id}/answer", func() *webtest.Response {
			return wk.PostForm("/contact-comments/"+k1+"/answer", url.Values{"answer": {"declined"}, "reason": {"It is what was said"}, "contact_id": {mine}})
		}, 303},
		{"POST /my/contacts/{id}/comments", func() *webtest.Response {
			return person.PostForm("/my/contacts/"+mine+"/comments", url.Values{"kind": {"comment"}, "body": {"Thank you"}, "referral_id": {ownID}})
		}, 303},
		{"POST /api/v1/contacts", func() *webtest.Response {
			return wkAPI.JSON(http.MethodPost, "/api/v1/contacts", map[string]any{"referral_id": cr.ID, "at": e.Clock.Now().Format(time.RFC3339), "mode": "video"})
		}, 201},
		{"GET /api/v1/people/{id}/contacts", func() *webtest.Response {
			return personAPI.Get("/api/v1/people/" + strconv.FormatInt(own.PersonID, 10) + "/contacts")
		}, 200},
		{"GET /api/v1/contacts/{id}", func() *webtest.Response { return leadAPI.Get("/api/v1/contacts/" + a) }, 200},
		{"PUT /api/v1/contacts/{id}/note", func() *webtest.Response {
			return wkAPI.JSON(http.MethodPut, "/api/v1/contacts/"+c+"/note", map[string]any{"note": "Changed", "version": 1})
		}, 200},
		{"POST /api/v1/contacts/{id}/entered-in-error", func() *webtest.Response {
			return wkAPI.JSON(http.MethodPost, "/api/v1/contacts/"+d+"/entered-in-error", map[string]any{"reason": "Twice", "version": 1})
		}, 200},
		{"POST /api/v1/contacts/{id}/comments", func() *webtest.Response {
			return personAPI.JSON(http.MethodPost, "/api/v1/contacts/"+mine+"/comments", map[string]any{"kind": "correction", "body": "It was Thursday"})
		}, 201},
		{"POST /api/v1/contact-comments/{id}/answer", func() *webtest.Response {
			return wkAPI.JSON(http.MethodPost, "/api/v1/contact-comments/"+k2+"/answer", map[string]any{"answer": "declined", "reason": "It was Wednesday"})
		}, 200},
		{"POST /api/v1/contacts/{id}/restricted-notes", func() *webtest.Response {
			return wkAPI.JSON(http.MethodPost, "/api/v1/contacts/"+c+"/restricted-notes", map[string]any{"note": "n", "reason": "r"})
		}, 201},
		{"POST /api/v1/contacts/{id}/restricted-notice", func() *webtest.Response {
			return clinAPI.JSON(http.MethodPost, "/api/v1/contacts/"+withheld+"/restricted-notice", map[string]any{"reason": "At risk if told"})
		}, 204},
	}
	return calls, map[string]int64{"POST /my/contacts/{id}/comments": 2, "POST /api/v1/contacts/{id}/comments": 2}
}

// The person reads a note, asks for a correction and reads the answer;
// the worker sees the request on the contact, corrects it, and the person
// sees the corrected note marked edited. A restricted note is never in
// anything the person receives; the person is told one exists.
func TestPersonReadsAndCommentsOnANote(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		own := e.Allocated(t, "person", "worker")
		c, err := e.Referrals.RecordContact(ctx, e.Principal(t, "worker"), own.ID, referral.NewContact{At: e.Clock.Now(), Mode: "in_person",
			Note: "We walked to the library"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Referrals.AddRestrictedNote(ctx, e.Principal(t, "worker"), c.ID, referral.NewRestrictedNote{Note: restrictedCanary, Reason: "Safeguarding"}); err != nil {
			t.Fatal(err)
		}
		cid, ownID := strconv.FormatInt(c.ID, 10), strconv.FormatInt(own.ID, 10)
		person, worker := e.As(t, "person"), e.As(t, "worker")
		page := person.Get("/my/referrals/" + ownID)
		if page.StatusCode != 200 || !strings.Contains(page.Body, "We walked to the library") || !strings.Contains(page.Body, "There is also a restricted note") ||
			strings.Contains(page.Body, restrictedCanary) {
			t.Fatalf("the person's page: %d\n%s", page.StatusCode, page.Body)
		}
		t.Run("EmptyCorrectionKeepsTheChoice", func(t *testing.T) {
			resp := person.PostForm("/my/contacts/"+cid+"/comments", url.Values{"kind": {"correction"}, "body": {""}, "referral_id": {ownID}})
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(resp.Body, "Enter what should be corrected") {
				t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
			}
		})
		resp := person.PostForm("/my/contacts/"+cid+"/comments", url.Values{"kind": {"correction"}, "body": {"It was the museum"}, "referral_id": {ownID}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
		}
		// The staff page's form is not the person's: refused, nothing saved.
		if resp := person.PostForm("/contacts/"+cid+"/comments", url.Values{"body": {"STAFFROUTE comment"}}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a person posting to the staff page's form: %d", resp.StatusCode)
		}
		var saved int
		if err := e.DB.QueryRow(ctx, "SELECT COUNT(*) FROM contact_comments WHERE body LIKE 'STAFFROUTE%'").Scan(&saved); err != nil || saved != 0 {
			t.Fatal("a comment posted to the staff page's form by the person was saved")
		}
		staff := worker.Get("/contacts/" + cid)
		if staff.StatusCode != 200 || !strings.Contains(staff.Body, "It was the museum") || !strings.Contains(staff.Body, restrictedCanary) {
			t.Fatalf("the worker's page: %d\n%s", staff.StatusCode, staff.Body)
		}
		var kid int64
		if err := e.DB.QueryRow(ctx, "SELECT id FROM contact_comments WHERE contact_id = $1", c.ID).Scan(&kid); err != nil {
			t.Fatal(err)
		}
		// A refused answer shows its own problem; the form that changes the
		// note still holds the note as it is.
		resp = worker.PostForm("/contact-comments/"+strconv.FormatInt(kid, 10)+"/answer", url.Values{"answer": {"corrected"},
			"corrected_note": {"We walked to the library"}, "version": {"1"}, "contact_id": {cid}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !regexp.MustCompile(`name="note"[^>]*>We walked to the library`).MatchString(resp.Body) ||
			!strings.Contains(resp.Body, `href="#corrected_note"`) {
			t.Fatalf("a refused answer: %d\n%s", resp.StatusCode, resp.Body)
		}
		resp = worker.PostForm("/contact-comments/"+strconv.FormatInt(kid, 10)+"/answer", url.Values{"answer": {"corrected"},
			"corrected_note": {"We walked to the museum"}, "version": {"1"}, "contact_id": {cid}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
		}
		t.Run("StaleEditAnswers409WithTheTextKept", func(t *testing.T) {
			resp := worker.PostForm("/contacts/"+cid+"/note", url.Values{"note": {"My stale text"}, "version": {"1"}})
			if resp.StatusCode != http.StatusConflict || !strings.Contains(resp.Body, "My stale text") || !strings.Contains(resp.Body, "Someone changed this contact") {
				t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
			}
		})
		page = person.Get("/my/referrals/" + ownID)
		if !strings.Contains(page.Body, "We walked to the museum") || !strings.Contains(page.Body, "This note was edited") || !strings.Contains(page.Body, "Corrected by") {
			t.Fatalf("the person's page after: %s", page.Body)
		}
		// Nothing the person receives carries the restricted note.
		api := e.Bearer(t, "person")
		for _, path := range []string{"/api/v1/my/referrals/" + ownID, "/api/v1/people/" + strconv.FormatInt(own.PersonID, 10) + "/contacts", "/api/v1/my/data",
			"/my/data", "/contacts/" + cid, "/api/v1/contacts/" + cid} {
			if r := api.Get(path); strings.Contains(r.Body, restrictedCanary) {
				t.Errorf("%s carries the restricted note", path)
			}
		}
		if r := api.Get("/api/v1/contacts/" + cid); r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
			t.Errorf("the person opens the staff view: %d", r.StatusCode)
		}
	})
}

// Who reads what of a contact: the role × route matrix for the contact
// routes. The person reads their own note, never the restricted one;
// another team's worker, a partner worker (who made the referral), a
// manager and another person read neither.
func TestContactNotesRoleMatrix(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		own := e.Allocated(t, "person", "worker")
		const readable = "READABLE-NOTE-CANARY-88aa"
		c, err := e.Referrals.RecordContact(ctx, e.Principal(t, "worker"), own.ID, referral.NewContact{At: e.Clock.Now(), Mode: "phone", Note: readable})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Referrals.AddRestrictedNote(ctx, e.Principal(t, "worker"), c.ID, referral.NewRestrictedNote{Note: restrictedCanary, Reason: "Risk"}); err != nil {
			t.Fatal(err)
		}
		// A partner's referral, followed by the partner, with a contact.
		pr, err := e.Referrals.CreateReferral(ctx, e.Principal(t, "partner"), referral.NewReferral{Person: pd("Partner Referred"), AskedFor: "x",
			TeamID: e.TeamA.ID, PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, ShareWithReferrer: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Referrals.RecordContact(ctx, e.Principal(t, "lead"), pr.ID, referral.NewContact{At: e.Clock.Now(), Mode: "phone", Note: readable + "-partner"}); err != nil {
			t.Fatal(err)
		}
		cid, pid := strconv.FormatInt(c.ID, 10), strconv.FormatInt(own.PersonID, 10)
		paths := []string{"/contacts/" + cid, "/api/v1/contacts/" + cid, "/api/v1/people/" + pid + "/contacts", "/referrals/" + strconv.FormatInt(own.ID, 10),
			"/api/v1/referrals/" + strconv.FormatInt(pr.ID, 10), "/referrals/" + strconv.FormatInt(pr.ID, 10),
			"/api/v1/people/" + strconv.FormatInt(pr.PersonID, 10) + "/contacts", "/my/referrals/" + strconv.FormatInt(own.ID, 10)}
		readsNote := map[string]bool{"person": true, "worker": true, "lead": true, "lead2": true}
		readsRestricted := map[string]bool{"worker": true, "lead": true, "lead2": true}
		for _, name := range roleNames {
			for _, client := range []*webtest.Client{e.As(t, name), e.Bearer(t, name)} {
				for _, path := range paths {
					body := client.Get(path).Body
					if strings.Contains(body, restrictedCanary) && !readsRestricted[name] {
						t.Errorf("%s: %s shows the restricted note", name, path)
					}
					if strings.Contains(body, readable) && !readsNote[name] {
						t.Errorf("%s: %s shows the note", name, path)
					}
				}
			}
		}
		if r := e.As(t, "worker").Get("/contacts/" + cid); !strings.Contains(r.Body, restrictedCanary) {
			t.Error("the worker who recorded the contact cannot read its restricted note")
		}
	})
}

// mayRestrictedCanary are the accounts that may read the canary contact's
// restricted note: the lead who recorded it and the clinician who made the
// referral (workerB may see the canary person, not this note).
var mayRestrictedCanary = map[string]bool{"leadB": true, "clinicianB": true}

// contactCanary records, as team B's lead, a contact on the canary's
// referral holding the canary in its note and a comment, and a restricted
// note holding restrictedCanary; it returns the path ids of the contact and
// of the comment.
func contactCanary(t *testing.T, e *webtest.Env, r referral.Referral) (contact, comment map[string]string) {
	t.Helper()
	ctx := context.Background()
	lead := e.Principal(t, "leadB")
	c, err := e.Referrals.RecordContact(ctx, lead, r.ID, referral.NewContact{At: e.Clock.Now(), Mode: "phone", Note: "Spoke with " + canary})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Referrals.AddRestrictedNote(ctx, lead, c.ID, referral.NewRestrictedNote{Note: restrictedCanary, Reason: "Risk"}); err != nil {
		t.Fatal(err)
	}
	k, err := e.Referrals.AddComment(ctx, lead, c.ID, referral.NewComment{Kind: "comment", Body: "About " + canary})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"id": strconv.FormatInt(c.ID, 10)}, map[string]string{"id": strconv.FormatInt(k.ID, 10)}
}
