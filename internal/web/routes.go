package web

import (
	"io/fs"
	"net/http"
	"slices"
	"strings"

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

// DocPattern is the method and path the OpenAPI document gives the route:
// its pattern, unless its operation names the path it documents (Path).
func (rt *Route) DocPattern() string {
	if rt.api == nil || rt.api.Path == "" {
		return rt.Pattern
	}
	method, _, _ := strings.Cut(rt.Pattern, " ")
	return method + " " + rt.api.Path
}

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
	Also []AltResponse
	// Conflict, when set, is a sample of the operation's own 409 body
	// (otherwise a 409 is a problem, possibly with possible matches).
	Conflict any
	Query    []Param
	// ContentType is the success answer's media type when it is not JSON
	// (a calendar or news feed, served outside /api/ where calendar
	// programs and feed readers look for it); Response is then a sample of
	// its text.
	ContentType string
	// Path, when set, is the path the OpenAPI document gives, for a file
	// whose name carries its extension after the parameter
	// ("/calendar/{token}.ics"): a ServeMux wildcard takes a whole segment,
	// so the route's pattern names the segment ("/calendar/{file}") and the
	// handler reads the extension.
	Path string
	// Limited operations count attempts and answer 429 beyond a limit.
	Limited bool
	handle  handlerFunc
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
// needs, gathered from each capability's list. Nothing is reachable unless
// it is listed.
func (s *Server) routeTable() []*Route {
	return slices.Concat(s.baseRoutes(), s.homeRoutes(), s.accountRoutes(), s.adminRoutes(), s.referralRoutes(), s.personRoutes(),
		s.ownRoutes(), s.contactRoutes(), s.dataRightsRoutes(), s.caseloadRoutes(), s.insightRoutes(), s.groupsRoutes(), s.matchingRoutes(),
		s.alertRoutes(), s.safetyRoutes(), s.recoveryRoutes(), s.feedbackRoutes(), s.communityRoutes(), s.communitySafetyRoutes(), s.sessionShareRoutes(), s.supportRoutes(), s.handoverRoutes(), s.fhirRoutes())
}

// baseRoutes are static files, operations and the public information pages.
func (s *Server) baseRoutes() []*Route {
	static, _ := fs.Sub(ui.Static, "static")
	assets := http.StripPrefix("/assets/", http.FileServerFS(static))
	return []*Route{
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
		pageRoute("GET /help", app.PermPublic, s.handleStatic("help", "Get help now")),
		pageRoute("GET /accessibility", app.PermPublic, s.handleStatic("accessibility", "Accessibility statement")),
		pageRoute("GET /privacy", app.PermPublic, s.handleStatic("privacy", "Privacy")),
		apiRoute("GET /api/v1/openapi.json", app.PermPublic, opOpenAPI, s.handleOpenAPI),
	}
}
