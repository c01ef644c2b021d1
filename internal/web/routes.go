package web

import (
	"io/fs"
	"net/http"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// Route is one entry in the route table: a ServeMux pattern, the
// permission it needs, and its handler. Exactly one of page and api is
// set. PersonData marks routes that read or change a person's data: each
// call must write one audit row (checked by a test).
type Route struct {
	Pattern    string
	Perm       app.Permission
	PersonData bool
	page       handlerFunc
	api        *APIOp
	static     bool
}

// API reports whether the route is part of the JSON API.
func (rt *Route) API() *APIOp { return rt.api }

// APIOp describes one JSON API operation for the OpenAPI document.
type APIOp struct {
	Summary     string
	Description string
	Tag         string
	Request     any // a sample request body (its type gives the schema; its value, the example)
	Response    any // a sample response body
	Status      int // success status
	// Also are other successful answers: a status, what it means and a
	// sample body.
	Also   []AltResponse
	Query  []Param
	handle handlerFunc
}

// AltResponse is one more successful answer an operation can give.
type AltResponse struct {
	Status      int
	Description string
	Response    any
}

// Param is a documented query or path parameter.
type Param struct {
	Name, In, Description, Type string
	Required                    bool
}

func pageRoute(pattern string, perm app.Permission, h handlerFunc) *Route {
	return &Route{Pattern: pattern, Perm: perm, page: h}
}

func personPage(pattern string, perm app.Permission, h handlerFunc) *Route {
	return &Route{Pattern: pattern, Perm: perm, page: h, PersonData: true}
}

func apiRoute(pattern string, perm app.Permission, op APIOp, h handlerFunc) *Route {
	op.handle = h
	return &Route{Pattern: pattern, Perm: perm, api: &op}
}

func personAPI(pattern string, perm app.Permission, op APIOp, h handlerFunc) *Route {
	r := apiRoute(pattern, perm, op, h)
	r.PersonData = true
	return r
}

// routeTable is every route Mutual serves, each with the permission it
// needs. Nothing is reachable unless it is listed here.
func (s *Server) routeTable() []*Route {
	static, _ := fs.Sub(ui.Static, "static")
	assets := http.StripPrefix("/assets/", http.FileServerFS(static))
	rs := []*Route{
		{Pattern: "GET /assets/", Perm: app.PermPublic, static: true, page: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Cache-Control", "public, max-age=86400")
			assets.ServeHTTP(w, r)
			return nil
		}},
		{Pattern: "GET /favicon.ico", Perm: app.PermPublic, static: true, page: func(w http.ResponseWriter, r *http.Request) error {
			http.ServeFileFS(w, r, static, "images/favicon.ico")
			return nil
		}},

		// Operations.
		{Pattern: "GET /healthz", Perm: app.PermPublic, static: true, page: s.handleHealth},
		{Pattern: "GET /readyz", Perm: app.PermPublic, static: true, page: s.handleReady},
		pageRoute("GET /metrics", app.PermMetrics, s.handleMetrics),

		// Public pages.
		pageRoute("GET /{$}", app.PermPublic, s.handleHome),
		pageRoute("GET /help", app.PermPublic, s.handleStatic("help", "Get help now")),
		pageRoute("GET /accessibility", app.PermPublic, s.handleStatic("accessibility", "Accessibility statement")),
		pageRoute("GET /privacy", app.PermPublic, s.handleStatic("privacy", "Privacy")),

		// Signing in and out.
		pageRoute("GET /sign-in", app.PermPublic, s.handleSignInForm),
		pageRoute("POST /sign-in", app.PermPublic, s.handleSignIn),
		pageRoute("POST /sign-out", app.PermPublic, s.handleSignOut),
		pageRoute("GET /sign-in/two-factor", app.PermMFAPending, s.handleMFAForm),
		pageRoute("POST /sign-in/two-factor", app.PermMFAPending, s.handleMFA),
		pageRoute("GET /account/two-factor/setup", app.PermMFAPending, s.handleTOTPSetupForm),
		pageRoute("POST /account/two-factor/setup", app.PermMFAPending, s.handleTOTPSetup),
		pageRoute("GET /account", app.PermSignedIn, s.handleAccount),
		pageRoute("POST /account/sign-out-everywhere", app.PermSignedIn, s.handleSignOutEverywhere),
		pageRoute("POST /account/tokens", app.PermSignedIn, s.handleTokenCreate),
		pageRoute("POST /account/tokens/{id}/revoke", app.PermSignedIn, s.handleTokenRevoke),
		pageRoute("GET /sign-up", app.PermPublic, s.handleSignUpForm),
		pageRoute("POST /sign-up", app.PermPublic, s.handleSignUp),
		pageRoute("GET /invitation/{token}", app.PermPublic, s.handleLinkForm(true)),
		pageRoute("POST /invitation/{token}", app.PermPublic, s.handleLink(true)),
		pageRoute("GET /password-reset", app.PermPublic, s.handleResetRequestForm),
		pageRoute("POST /password-reset", app.PermPublic, s.handleResetRequest),
		pageRoute("GET /password-reset/{token}", app.PermPublic, s.handleLinkForm(false)),
		pageRoute("POST /password-reset/{token}", app.PermPublic, s.handleLink(false)),

		// Administration.
		pageRoute("GET /admin/users", app.PermAdminUsers, s.handleAdminUsers),
		pageRoute("GET /admin/users/new", app.PermAdminUsers, s.handleAdminInviteForm),
		pageRoute("POST /admin/users", app.PermAdminUsers, s.handleAdminInvite),
		pageRoute("GET /admin/users/{id}", app.PermAdminUsers, s.handleAdminUser),
		pageRoute("POST /admin/users/{id}/roles", app.PermAdminUsers, s.handleAdminRoles),
		pageRoute("POST /admin/users/{id}/{action}", app.PermAdminUsers, s.handleAdminUserAction),
		pageRoute("POST /admin/users/{id}/tokens/{token_id}/revoke", app.PermAdminUsers, s.handleAdminTokenRevoke),
		pageRoute("GET /admin/teams", app.PermAdminUsers, s.handleAdminTeams),
		pageRoute("POST /admin/organisations", app.PermAdminUsers, s.handleAdminCreateOrg),
		pageRoute("POST /admin/teams", app.PermAdminUsers, s.handleAdminCreateTeam),
		pageRoute("GET /admin/outbox", app.PermAdminOutbox, s.handleAdminOutbox),
		pageRoute("GET /admin/audit", app.PermAuditRead, s.handleAdminAudit),
	}
	rs = append(rs, s.referralRoutes()...)
	rs = append(rs, s.apiRoutes()...)
	rs = append(rs, s.insightRoutes()...)
	return rs
}

func (s *Server) referralRoutes() []*Route {
	return []*Route{
		// The public door: no account needed.
		pageRoute("GET /refer", app.PermPublic, s.handleReferLanding),
		pageRoute("GET /refer/self", app.PermPublic, s.handleSelfReferralForm),
		pageRoute("POST /refer/self", app.PermPublic, s.handleSelfReferral),
		pageRoute("GET /refer/received", app.PermPublic, s.handleSelfReferralDone),

		// Signed-in doors and the waiting list.
		pageRoute("GET /referrals/new", app.PermReferralCreate, s.handleReferralForm),
		personPage("POST /referrals", app.PermReferralCreate, s.handleReferralCreate),
		personPage("GET /referrals", app.PermReferralRead, s.handleReferralList),
		personPage("GET /referrals/{id}", app.PermReferralView, s.handleReferralView),
		personPage("POST /referrals/{id}/transitions", app.PermReferralView, s.handleReferralTransition),
		personPage("POST /referrals/{id}/contacts", app.PermReferralWork, s.handleContactCreate),
		personPage("POST /referrals/{id}/link-person", app.PermReferralTriage, s.handleLinkPerson),

		// People and the offers ledger.
		personPage("GET /people", app.PermPersonRead, s.handlePeople),
		pageRoute("GET /people/new", app.PermPersonRead, s.handlePersonForm),
		personPage("POST /people", app.PermPersonRead, s.handlePersonCreate),
		personPage("GET /people/{id}", app.PermPersonRead, s.handlePersonView),
		personPage("POST /people/{id}/offers", app.PermOfferCreate, s.handleOfferCreate),

		// The person's own view.
		personPage("GET /my/referrals", app.PermOwnRecord, s.handleMyReferrals),
		personPage("POST /my/offers", app.PermOwnRecord, s.handleMyOffer),
		personPage("GET /my/record-access", app.PermOwnRecord, s.handleRecordAccess),
		pageRoute("POST /notifications/read", app.PermSignedIn, s.handleNotificationsRead),
	}
}
