package webtest

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func init() {
	// Feeds are API operations too (text/calendar): their bodies are
	// checked as the strings the document says they are.
	openapi3filter.RegisterBodyDecoder("text/calendar", openapi3filter.PlainBodyDecoder)
}

// NewRouter finds a request's operation in an OpenAPI document: kin-openapi's
// router, and for the paths it cannot match — a parameter followed by more
// text in one segment, like "/calendar/{token}.ics", which OpenAPI allows —
// a match of each such path's segments.
func NewRouter(doc *openapi3.T) (routers.Router, error) {
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	out := &router{legacy: r, doc: doc}
	param := regexp.MustCompile(`\{([^}/]+)\}`)
	for _, path := range doc.Paths.InMatchingOrder() {
		if !regexp.MustCompile(`\{[^}/]+\}[^/]`).MatchString(path) {
			continue
		}
		var names []string
		pattern := "^"
		rest := path
		for {
			loc := param.FindStringSubmatchIndex(rest)
			if loc == nil {
				pattern += regexp.QuoteMeta(rest)
				break
			}
			pattern += regexp.QuoteMeta(rest[:loc[0]]) + "([^/]+)"
			names = append(names, rest[loc[2]:loc[3]])
			rest = rest[loc[1]:]
		}
		out.partial = append(out.partial, partialPath{path: path, re: regexp.MustCompile(pattern + "$"), names: names})
	}
	return out, nil
}

type partialPath struct {
	path  string
	re    *regexp.Regexp
	names []string
}

type router struct {
	legacy  routers.Router
	doc     *openapi3.T
	partial []partialPath
}

func (r *router) FindRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	for _, p := range r.partial {
		m := p.re.FindStringSubmatch(req.URL.Path)
		if m == nil {
			continue
		}
		item := r.doc.Paths.Value(p.path)
		op := item.GetOperation(strings.ToUpper(req.Method))
		if op == nil {
			return nil, nil, &routers.RouteError{Reason: routers.ErrMethodNotAllowed.Error()}
		}
		params := map[string]string{}
		for i, n := range p.names {
			params[n] = m[i+1]
		}
		return &routers.Route{Spec: r.doc, Path: p.path, PathItem: item, Method: strings.ToUpper(req.Method), Operation: op}, params, nil
	}
	return r.legacy.FindRoute(req)
}
