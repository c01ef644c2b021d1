package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// pageAPI names, for every page that reads or changes data, the API
// operations that do the same.
var pageAPI = map[string][]string{
	"GET /{$}":                                        {"GET /api/v1/home"},
	"POST /notifications/read":                        {"POST /api/v1/notifications/read"},
	"GET /account":                                    {"GET /api/v1/me", "GET /api/v1/me/tokens"},
	"POST /account/sign-out-everywhere":               {"POST /api/v1/me/sign-out-everywhere"},
	"POST /account/tokens":                            {"POST /api/v1/me/tokens"},
	"POST /account/tokens/{id}/revoke":                {"DELETE /api/v1/me/tokens/{id}"},
	"GET /admin/users":                                {"GET /api/v1/users"},
	"POST /admin/users":                               {"POST /api/v1/users"},
	"GET /admin/users/{id}":                           {"GET /api/v1/users/{id}", "GET /api/v1/users/{id}/tokens"},
	"POST /admin/users/{id}/roles":                    {"PUT /api/v1/users/{id}/roles"},
	"POST /admin/users/{id}/{action}":                 {"POST /api/v1/users/{id}/disable", "POST /api/v1/users/{id}/enable", "POST /api/v1/users/{id}/end-sessions", "POST /api/v1/users/{id}/reset-two-factor", "POST /api/v1/users/{id}/resend-invitation"},
	"POST /admin/users/{id}/tokens/{token_id}/revoke": {"DELETE /api/v1/users/{id}/tokens/{token_id}"},
	"GET /admin/teams":                                {"GET /api/v1/organisations", "GET /api/v1/teams"},
	"POST /admin/organisations":                       {"POST /api/v1/organisations"},
	"POST /admin/teams":                               {"POST /api/v1/teams"},
	"GET /admin/outbox":                               {"GET /api/v1/outbox"},
	"GET /admin/audit":                                {"GET /api/v1/audit"},
	"POST /refer/self":                                {"POST /api/v1/self-referrals"},
	"POST /referrals":                                 {"POST /api/v1/referrals"},
	"GET /referrals":                                  {"GET /api/v1/referrals"},
	"GET /referrals/{id}":                             {"GET /api/v1/referrals/{id}"},
	"POST /referrals/{id}/transitions":                {"POST /api/v1/referrals/{id}/transitions"},
	"POST /referrals/{id}/contacts":                   {"POST /api/v1/referrals/{id}/contacts"},
	"POST /referrals/{id}/link-person":                {"POST /api/v1/referrals/{id}/link-person"},
	"GET /my/referrals":                               {"GET /api/v1/my/referrals"},
	"GET /people":                                     {"GET /api/v1/people"},
	"POST /people":                                    {"POST /api/v1/people"},
	"GET /people/{id}":                                {"GET /api/v1/people/{id}", "GET /api/v1/people/{id}/offers"},
	"POST /people/{id}/offers":                        {"POST /api/v1/offers"},
	"POST /my/offers":                                 {"POST /api/v1/my/offers"},
	"GET /my/record-access":                           {"GET /api/v1/my/record-access"},
	"GET /insight/rates":                              {"GET /api/v1/insight/referral-rates"},
	"GET /insight/equity":                             {"GET /api/v1/insight/equity"},
	"GET /insight/coverage":                           {"GET /api/v1/insight/coverage"},
	"GET /insight/waiting":                            {"GET /api/v1/insight/waiting"},
	"GET /insight/support":                            {"GET /api/v1/insight/support"},
	"GET /insight/community":                          {"GET /api/v1/insight/community"},
	"GET /insight/mine":                               {"GET /api/v1/insight/mine"},
	"POST /caseloads":                                 {"POST /api/v1/caseload-episodes"},
	"GET /groups":                                     {"GET /api/v1/groups"},
	"POST /groups":                                    {"POST /api/v1/groups"},
	"GET /groups/{id}":                                {"GET /api/v1/groups/{id}"},
	"GET /groups/{id}/edit":                           {"GET /api/v1/groups/{id}"},
	"POST /groups/{id}/edit":                          {"PUT /api/v1/groups/{id}"},
	"POST /groups/{id}/sessions":                      {"POST /api/v1/groups/{id}/sessions"},
	"GET /sessions/{id}":                              {"GET /api/v1/sessions/{id}"},
	"POST /sessions/{id}/book":                        {"POST /api/v1/sessions/{id}/bookings"},
	"POST /sessions/{id}/share":                       {"POST /api/v1/sessions/{id}/share"},
	"GET /bookings/{id}":                              {"GET /api/v1/bookings/{id}"},
	"POST /bookings/{id}/cancel":                      {"DELETE /api/v1/bookings/{id}"},
	"POST /offers/{id}/accept":                        {"POST /api/v1/offers/{id}/accept"},
	"POST /offers/{id}/decline":                       {"POST /api/v1/offers/{id}/decline"},
	"GET /sessions/{id}/participants":                 {"GET /api/v1/sessions/{id}/participants"},
	"POST /sessions/{id}/attendance":                  {"POST /api/v1/sessions/{id}/attendance"},
	"POST /sessions/{id}/move":                        {"POST /api/v1/waiting-list/{id}/move"},
	"POST /sessions/{id}/capacity":                    {"POST /api/v1/sessions/{id}/capacity"},
	"POST /sessions/{id}/cancel":                      {"POST /api/v1/sessions/{id}/cancel"},
	"POST /sessions/{id}/facilitators":                {"PUT /api/v1/sessions/{id}/facilitators"},
	"GET /my/groups":                                  {"GET /api/v1/my/bookings"},
	"GET /groups/insight":                             {"GET /api/v1/insight/groups"},
	"GET /network":                                    {"GET /api/v1/proposals"},
	"POST /network/proposals":                         {"POST /api/v1/proposals"},
	"POST /network/proposals/{id}/interest":           {"POST /api/v1/proposals/{id}/interest"},
	"POST /network/proposals/{id}/answer":             {"POST /api/v1/proposals/{id}/answer"},
	"POST /account/acting-as":                         {"PUT /api/v1/me/acting-as"},
	"POST /referrals/{id}/consent":                    {"POST /api/v1/referrals/{id}/consent"},
	"POST /my/claim":                                  {"POST /api/v1/my/claim"},
	"POST /my/claim/code":                             {"POST /api/v1/my/claim-codes"},
	"POST /people/{id}/claim-invitations":             {"POST /api/v1/people/{id}/claim-invitations"},
	"GET /my/details":                                 {"GET /api/v1/my/details"},
	"POST /my/details":                                {"PUT /api/v1/my/details"},
	"GET /my/referrals/{id}":                          {"GET /api/v1/my/referrals/{id}"},
	"POST /my/referrals/{id}/sharing":                 {"PUT /api/v1/my/referrals/{id}/sharing"},
	"POST /my/referrals/{id}/handover-sharing":        {"PUT /api/v1/my/referrals/{id}/handover-sharing"},
	"POST /referrals/{id}/handover-sharing":           {"PUT /api/v1/referrals/{id}/handover-sharing"},
	"GET /contacts/{id}":                              {"GET /api/v1/contacts/{id}"},
	"POST /contacts/{id}/note":                        {"PUT /api/v1/contacts/{id}/note"},
	"POST /contacts/{id}/entered-in-error":            {"POST /api/v1/contacts/{id}/entered-in-error"},
	"POST /contacts/{id}/comments":                    {"POST /api/v1/contacts/{id}/comments"},
	"POST /contacts/{id}/restricted-notes":            {"POST /api/v1/contacts/{id}/restricted-notes"},
	"POST /contacts/{id}/restricted-notice":           {"POST /api/v1/contacts/{id}/restricted-notice"},
	"POST /contact-comments/{id}/answer":              {"POST /api/v1/contact-comments/{id}/answer"},
	"POST /my/contacts/{id}/comments":                 {"POST /api/v1/contacts/{id}/comments"},
	"POST /my/referrals/{id}/what-helped":             {"PUT /api/v1/my/referrals/{id}/what-helped"},
	"GET /my/data":                                    {"GET /api/v1/my/data"},
	"POST /people/{id}/subject-access":                {"POST /api/v1/people/{id}/subject-access-copies"},
	"GET /my/choices":                                 {"GET /api/v1/my/choices"},
	"POST /my/choices":                                {"PUT /api/v1/my/choices"},
	"POST /my/worker-change":                          {"POST /api/v1/my/worker-change"},
	"GET /people/{id}/choices":                        {"GET /api/v1/people/{id}/choices"},
	"POST /people/{id}/choices":                       {"PUT /api/v1/people/{id}/choices"},
	"GET /my/profile":                                 {"GET /api/v1/workers/{id}/profile", "GET /api/v1/workers/{id}/disclosures", "GET /api/v1/workers/{id}/disclosure-reads"},
	"GET /workers/{id}":                               {"GET /api/v1/workers/{id}/profile", "GET /api/v1/workers/{id}/disclosures", "GET /api/v1/workers/{id}/disclosure-reads"},
	"POST /workers/{id}/details":                      {"PUT /api/v1/workers/{id}/profile"},
	"POST /workers/{id}/capacity":                     {"PUT /api/v1/workers/{id}/profile"},
	"POST /workers/{id}/disclosures":                  {"POST /api/v1/workers/{id}/disclosures"},
	"POST /workers/{id}/disclosures/{item}":           {"PATCH /api/v1/workers/{id}/disclosures/{item}"},
	"POST /workers/{id}/disclosures/{item}/withdraw":  {"DELETE /api/v1/workers/{id}/disclosures/{item}"},
	"GET /referrals/{id}/matches":                     {"GET /api/v1/referrals/{id}/matches"},
	"POST /referrals/{id}/matches":                    {"POST /api/v1/referrals/{id}/transitions"},
	"POST /matching/plans":                            {"POST /api/v1/allocation-plans"},
	"GET /matching/plans/{id}":                        {"GET /api/v1/allocation-plans/{id}"},
	"POST /matching/plans/{id}/commit":                {"POST /api/v1/allocation-plans/{id}/commit"},
	"GET /matching/insight":                           {"GET /api/v1/insight/choices"},
	"GET /matching/reassign":                          {"GET /api/v1/reassignments"},
	"GET /matching/settings":                          {"GET /api/v1/organisations/{id}/matching-settings"},
	"POST /matching/settings/{id}":                    {"PUT /api/v1/organisations/{id}/matching-settings"},
	"POST /referrals/{id}/urgency":                    {"POST /api/v1/referrals/{id}/urgency"},
	"GET /alerts":                                     {"GET /api/v1/alerts"},
	"POST /alerts/{id}/response":                      {"POST /api/v1/alerts/{id}/response"},
	"GET /admin/safety":                               {"GET /api/v1/organisations"},
	"GET /admin/organisations/{id}/safety":            {"GET /api/v1/organisations/{id}/watch-terms", "GET /api/v1/organisations/{id}/alert-settings"},
	"POST /admin/organisations/{id}/watch-terms":      {"POST /api/v1/organisations/{id}/watch-terms"},
	"POST /admin/organisations/{id}/watch-terms/{term_id}/delete": {"DELETE /api/v1/organisations/{id}/watch-terms/{term_id}"},
	"POST /admin/organisations/{id}/watch-list":                   {"POST /api/v1/organisations/{id}/watch-list"},
	"POST /admin/organisations/{id}/alert-settings":               {"PUT /api/v1/organisations/{id}/alert-settings"},
	// Recovery: the person's own pages (/my) use their own id in the API.
	"GET /my/plan":                                       {"GET /api/v1/people/{id}/plan"},
	"GET /my/plan/edit":                                  {"GET /api/v1/people/{id}/plan"},
	"POST /my/plan":                                      {"PUT /api/v1/people/{id}/plan"},
	"GET /people/{id}/plan":                              {"GET /api/v1/people/{id}/plan"},
	"GET /people/{id}/plan/edit":                         {"GET /api/v1/people/{id}/plan"},
	"POST /people/{id}/plan":                             {"PUT /api/v1/people/{id}/plan"},
	"GET /my/goals":                                      {"GET /api/v1/people/{id}/goals"},
	"POST /my/goals":                                     {"POST /api/v1/people/{id}/goals"},
	"GET /people/{id}/goals":                             {"GET /api/v1/people/{id}/goals"},
	"POST /people/{id}/goals":                            {"POST /api/v1/people/{id}/goals"},
	"GET /goals/{id}":                                    {"GET /api/v1/goals/{id}"},
	"POST /goals/{id}":                                   {"PATCH /api/v1/goals/{id}"},
	"GET /my/dialog":                                     {"GET /api/v1/people/{id}/dialog"},
	"GET /my/dialog/new":                                 {"GET /api/v1/people/{id}/dialog"},
	"POST /my/dialog":                                    {"POST /api/v1/people/{id}/dialog"},
	"GET /people/{id}/dialog":                            {"GET /api/v1/people/{id}/dialog"},
	"GET /people/{id}/dialog/new":                        {"GET /api/v1/people/{id}/dialog"},
	"POST /people/{id}/dialog":                           {"POST /api/v1/people/{id}/dialog"},
	"GET /people/{id}/reviews/new":                       {"GET /api/v1/people/{id}/plan", "GET /api/v1/people/{id}/reviews"},
	"POST /people/{id}/reviews":                          {"POST /api/v1/people/{id}/reviews"},
	"GET /recovery/reviews":                              {"GET /api/v1/reviews/due"},
	"GET /recovery/outcomes":                             {"GET /api/v1/insight/outcomes"},
	"POST /feedback":                                     {"POST /api/v1/feedback"},
	"GET /feedback/status/{token}":                       {"GET /api/v1/feedback/status/{token}"},
	"GET /you-said-we-did/{id}":                          {"GET /api/v1/teams/{id}/you-said-we-did"},
	"GET /my/feedback":                                   {"GET /api/v1/my/feedback"},
	"GET /feedback/inbox":                                {"GET /api/v1/feedback"},
	"GET /feedback/inbox/{id}":                           {"GET /api/v1/feedback/{id}"},
	"POST /feedback/inbox/{id}/transitions":              {"POST /api/v1/feedback/{id}/transitions"},
	"GET /fhir/R4/Goal":                                  {"GET /api/v1/people/{id}/goals"},
	"GET /fhir/R4/Goal/{id}":                             {"GET /api/v1/goals/{id}"},
	"GET /fhir/R4/QuestionnaireResponse":                 {"GET /api/v1/people/{id}/dialog"},
	"GET /fhir/R4/Appointment":                           {"GET /api/v1/appointments"},
	"GET /fhir/R4/Appointment/{id}":                      {"GET /api/v1/appointments/{id}"},
	"GET /fhir/R4/QuestionnaireResponse/{id}":            {"GET /api/v1/dialog/{id}"},
	"GET /community":                                     {"GET /api/v1/spaces", "GET /api/v1/community/settings", "GET /api/v1/community/tags", "GET /api/v1/community/search"},
	"POST /community/topics/{id}/follow":                 {"PUT /api/v1/topics/{id}/follow"},
	"POST /community/support":                            {"POST /api/v1/community/support-requests"},
	"POST /community/spaces":                             {"POST /api/v1/spaces"},
	"GET /community/settings":                            {"GET /api/v1/community/settings"},
	"POST /community/settings":                           {"PUT /api/v1/community/settings"},
	"GET /community/spaces/{id}":                         {"GET /api/v1/spaces/{id}/topics"},
	"POST /community/spaces/{id}/topics":                 {"POST /api/v1/spaces/{id}/topics"},
	"GET /community/topics/{id}":                         {"GET /api/v1/topics/{id}/posts"},
	"POST /community/topics/{id}/posts":                  {"POST /api/v1/topics/{id}/posts"},
	"POST /community/posts/{id}/reactions":               {"POST /api/v1/posts/{id}/reactions"},
	"POST /community/posts/{id}/flags":                   {"POST /api/v1/posts/{id}/flags"},
	"GET /community/moderation":                          {"GET /api/v1/moderation/queue"},
	"GET /community/moderation/items/{id}":               {"GET /api/v1/moderation/items/{id}"},
	"POST /community/moderation/items/{id}/decision":     {"POST /api/v1/moderation/items/{id}/decision"},
	"POST /community/moderation/items/{id}/escalation":   {"POST /api/v1/moderation/items/{id}/escalation"},
	"POST /community/members/{id}/trust":                 {"PUT /api/v1/community/members/{id}/trust"},
	"GET /community/members/{id}/identity":               {"GET /api/v1/community/members/{id}/identity"},
	"POST /community/moderation/items/{id}/safeguarding": {"POST /api/v1/moderation/items/{id}/safeguarding"},
	"GET /community/safeguarding":                        {"GET /api/v1/community/safeguarding"},
	"GET /community/safeguarding/{id}":                   {"GET /api/v1/community/safeguarding/{id}"},
	"POST /community/safeguarding/{id}/decision":         {"POST /api/v1/community/safeguarding/{id}/decision"},
	"POST /community/members/{id}/sanctions":             {"POST /api/v1/community/members/{id}/sanctions"},
	"POST /community/sanctions/{id}/lift":                {"POST /api/v1/community/sanctions/{id}/lift"},
	"GET /community/sanctions":                           {"GET /api/v1/community/my-sanctions"},
	"GET /community/sanctions/{id}/appeal":               {"GET /api/v1/community/my-sanctions"},
	"POST /community/sanctions/{id}/appeal":              {"POST /api/v1/community/sanctions/{id}/appeal"},
	"GET /community/appeals":                             {"GET /api/v1/community/appeals"},
	"GET /community/appeals/{id}":                        {"GET /api/v1/community/appeals/{id}"},
	"POST /community/appeals/{id}/decision":              {"POST /api/v1/community/appeals/{id}/decision"},
	"GET /community/rota":                                {"GET /api/v1/community/rota"},
	"POST /community/rota":                               {"POST /api/v1/community/rota"},
	"POST /community/rota/{id}/remove":                   {"DELETE /api/v1/community/rota/{id}"},
	"GET /my/people":                                     {"GET /api/v1/my/people"},
	"GET /my/diary":                                      {"GET /api/v1/my/diary"},
	"GET /my/appointments":                               {"GET /api/v1/appointments"},
	"POST /my/appointments":                              {"POST /api/v1/appointments"},
	"GET /people/{id}/appointments/new":                  {"GET /api/v1/appointments"},
	"POST /people/{id}/appointments":                     {"POST /api/v1/appointments"},
	"GET /appointments/{id}":                             {"GET /api/v1/appointments/{id}"},
	"POST /appointments/{id}/transitions":                {"POST /api/v1/appointments/{id}/transitions"},
	"POST /appointments/{id}/reschedule":                 {"POST /api/v1/appointments/{id}/reschedule"},
	"POST /appointments/{id}/check-in":                   {"POST /api/v1/appointments/{id}/check-in"},
	"GET /my/calendar":                                   {"GET /api/v1/my/calendar"},
	"POST /my/calendar":                                  {"POST /api/v1/my/calendar"},
	"POST /my/calendar/revoke":                           {"DELETE /api/v1/my/calendar"},
	"POST /appointments/{id}/check-out":                  {"POST /api/v1/appointments/{id}/check-out"},
	"GET /community/topics/{id}/live":                    {"GET /api/v1/topics/{id}/posts"},
	"GET /my/transitions":                                {"GET /api/v1/my/transitions"},
	"POST /my/transitions/{id}/done":                     {"POST /api/v1/transition-prompts/{id}/done"},
	"POST /my/reminders":                                 {"PUT /api/v1/my/reminders"},
	"POST /people/{id}/reminders":                        {"PUT /api/v1/people/{id}/reminders"},
}

// pageOnly are the pages with no API operation, each with its reason: the
// short allow-list of steps that only make sense in a browser.
var pageOnly = map[string]string{
	"GET /help": "information", "GET /accessibility": "information", "GET /privacy": "information",
	"GET /metrics": "operations (Prometheus text, not the JSON API)",
	"GET /sign-in": "the sign-in form", "POST /sign-in": "signing in makes a browser session; the API uses tokens",
	"POST /sign-out": "ends the browser session", "GET /sign-in/two-factor": "sign-in form", "POST /sign-in/two-factor": "sign-in step",
	"GET /account/two-factor/setup": "set-up form", "POST /account/two-factor/setup": "set-up step with an authenticator app",
	"GET /sign-up": "sign-up form", "POST /sign-up": "sign-up is confirmed by email in a browser",
	"GET /invitation/{token}": "one-time link form", "POST /invitation/{token}": "one-time link from email",
	"GET /password-reset": "reset form", "POST /password-reset": "reset request (by email)",
	"GET /password-reset/{token}": "one-time link form", "POST /password-reset/{token}": "one-time link from email",
	"GET /admin/users/new": "form", "GET /refer": "landing page", "GET /refer/self": "form", "GET /refer/received": "confirmation page",
	"GET /referrals/new": "form", "GET /people/new": "form", "GET /my/claim": "the forms to claim your record",
	"GET /insight": "index of the insight views", "GET /insight/rates.csv": "the same figures as CSV",
	"GET /insight/equity.csv": "the same figures as CSV", "GET /insight/coverage.csv": "the same figures as CSV",
	"GET /insight/waiting.csv": "the same figures as CSV", "GET /insight/support.csv": "the same figures as CSV", "GET /insight/community.csv": "the same figures as CSV", "GET /insight/report": "printable report of the same figures",
	"GET /caseloads": "upload form", "GET /caseloads/template.csv": "a blank file to fill in",
	"GET /groups/new": "form", "GET /bookings/{id}/calendar.ics": "a calendar file of one booking (text/calendar), for a calendar program", "GET /matching/plans/new": "form: choose the teams to plan",
	"GET /feedback": "form", "GET /feedback/thanks": "confirmation page",
	"GET /community/posts/{id}/flag": "form", "GET /community/support": "form",
	"GET /you-said-we-did":                   "index of the teams' public pages (each is GET /api/v1/teams/{id}/you-said-we-did)",
	"GET /fhir/R4/Questionnaire/dialog-plus": "the DIALOG+ Questionnaire in FHIR R4: a definition, not data",
}

// Every page that reads or changes data has an API operation in the
// OpenAPI document (the README promises it); the few page-only steps are
// listed with their reasons.
func TestEveryPageActionHasAnAPIOperation(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	doc := e.Client(t).Get("/api/v1/openapi.json")
	if doc.StatusCode != http.StatusOK {
		t.Fatalf("openapi: %d", doc.StatusCode)
	}
	apis := map[string]bool{}
	for _, rt := range e.Server.Routes() {
		if rt.API() != nil {
			apis[rt.Pattern] = true
			method, path, _ := strings.Cut(rt.DocPattern(), " ")
			if !strings.Contains(doc.Body, `"`+path+`"`) || !strings.Contains(doc.Body, `"`+strings.ToLower(method)+`"`) {
				t.Errorf("%s is not in the OpenAPI document", rt.Pattern)
			}
		}
	}
	seen := map[string]bool{}
	for _, rt := range e.Server.Routes() {
		if rt.API() != nil || strings.HasPrefix(rt.Pattern, "GET /assets/") || rt.Pattern == "GET /favicon.ico" ||
			rt.Pattern == "GET /healthz" || rt.Pattern == "GET /readyz" {
			continue
		}
		seen[rt.Pattern] = true
		ops, mapped := pageAPI[rt.Pattern]
		_, only := pageOnly[rt.Pattern]
		switch {
		case mapped && only:
			t.Errorf("%s is both mapped to the API and listed as page-only", rt.Pattern)
		case !mapped && !only:
			t.Errorf("%s has no API operation: add one (and map it in pageAPI), or list it in pageOnly with the reason", rt.Pattern)
		}
		for _, op := range ops {
			if !apis[op] {
				t.Errorf("%s is mapped to %s, which is not an API operation", rt.Pattern, op)
			}
		}
	}
	for p := range pageAPI {
		if !seen[p] {
			t.Errorf("pageAPI lists %s, which is not a page route", p)
		}
	}
	for p := range pageOnly {
		if !seen[p] {
			t.Errorf("pageOnly lists %s, which is not a page route", p)
		}
	}
}
