package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/watch"
)

// The OpenAPI document is generated from the route table and the Go types
// the handlers decode and encode, so it cannot drift from the code. Struct
// tags give what reflection cannot: `required:"true"` and `doc:"…"`.

var enums = map[reflect.Type][]string{}

func init() {
	add := func(t reflect.Type, vals ...string) { enums[t] = vals }
	var st []string
	for _, s := range referral.Statuses {
		st = append(st, string(s))
	}
	add(reflect.TypeFor[referral.Status](), st...)
	var src []string
	for _, s := range referral.Sources {
		src = append(src, string(s))
	}
	add(reflect.TypeFor[referral.Source](), src...)
	var roles []string
	for _, r := range app.Roles {
		roles = append(roles, string(r))
	}
	add(reflect.TypeFor[app.Role](), roles...)
	var settings []string
	for _, s := range account.Settings {
		settings = append(settings, string(s))
	}
	add(reflect.TypeFor[account.Setting](), settings...)
	add(reflect.TypeFor[account.Status](), "invited", "active", "disabled")
	add(reflect.TypeFor[account.OrgKind](), "nhs_trust", "partner_agency", "peer_network")
	var urg []string
	for _, u := range referral.Urgencies {
		urg = append(urg, string(u))
	}
	add(reflect.TypeFor[referral.Urgency](), urg...)
	var cats []string
	for _, c := range watch.Categories {
		cats = append(cats, string(c))
	}
	add(reflect.TypeFor[watch.Category](), cats...)
	var acts []string
	for _, a := range watch.Actions {
		acts = append(acts, string(a))
	}
	add(reflect.TypeFor[watch.Action](), acts...)
	add(reflect.TypeFor[alert.Kind](), string(alert.PossibleRisk))
	add(reflect.TypeFor[recovery.Item](), recovery.ItemCodes()...)
	codes := func(cs []app.Choice) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Code)
		}
		return out
	}
	add(reflect.TypeFor[recovery.Stage](), codes(recovery.Stages)...)
	add(reflect.TypeFor[recovery.Progress](), codes(recovery.Progresses)...)
	add(reflect.TypeFor[recovery.FeedbackStatus](), codes(recovery.FeedbackStatuses)...)
	add(reflect.TypeFor[recovery.About](), codes(recovery.Abouts)...)
}

type schemaBuilder struct {
	components map[string]any
	names      map[reflect.Type]string
}

func (b *schemaBuilder) ref(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if vals, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// Go's int is 64 bits wide on every platform Mutual is built for.
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": b.ref(t.Elem()), "nullable": true}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": b.ref(t.Elem())}
	case reflect.Struct:
		name := b.name(t)
		if _, done := b.components[name]; !done {
			b.components[name] = nil // placeholder breaks recursion
			b.components[name] = b.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (b *schemaBuilder) name(t reflect.Type) string {
	if n, ok := b.names[t]; ok {
		return n
	}
	n := t.Name()
	for _, other := range b.names {
		if other == n {
			pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
			n = app.UpperFirst(pkg) + n
		}
	}
	b.names[t] = n
	return n
}

// object describes a struct, flattening embedded structs as encoding/json
// does.
func (b *schemaBuilder) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			s := b.ref(f.Type)
			if doc := f.Tag.Get("doc"); doc != "" {
				if _, isRef := s["$ref"]; isRef {
					s = map[string]any{"allOf": []any{s}, "description": doc}
				} else {
					s["description"] = doc
				}
			}
			if f.Type.Kind() == reflect.Pointer && !strings.Contains(opts, "omitempty") {
				s["nullable"] = true
			}
			props[name] = s
			if f.Tag.Get("required") == "true" {
				required = append(required, name)
			}
		}
	}
	walk(t)
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		sort.Strings(required)
		o["required"] = required
	}
	return o
}

// OpenAPI returns the OpenAPI 3.0 document for the route table, built once.
func (s *Server) OpenAPI() []byte {
	s.openAPIOnce.Do(func() { s.openAPIDoc = s.buildOpenAPI() })
	return s.openAPIDoc
}

func (s *Server) buildOpenAPI() []byte {
	b := &schemaBuilder{components: map[string]any{}, names: map[reflect.Type]string{}}
	problem := b.ref(reflect.TypeFor[Problem]())
	b.ref(reflect.TypeFor[DuplicateProblem]())
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		op := rt.api
		if op == nil {
			continue
		}
		method, path, _ := strings.Cut(rt.DocPattern(), " ")
		o := map[string]any{
			"summary":      op.Summary,
			"operationId":  operationID(method, path),
			"tags":         []string{op.Tag},
			"x-permission": string(rt.Perm),
		}
		if op.Description != "" {
			o["description"] = op.Description
		}
		if rt.Perm == app.PermPublic {
			o["security"] = []any{}
		}
		var params []any
		for _, p := range op.Query {
			params = append(params, map[string]any{"name": p.Name, "in": p.In, "required": p.Required || p.In == "path",
				"description": p.Description, "schema": map[string]any{"type": p.Type}})
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if op.Request != nil {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
				"schema": b.ref(reflect.TypeOf(op.Request)), "example": op.Request}}}
		}
		status := op.Status
		if status == 0 {
			status = http.StatusOK
		}
		responses := map[string]any{}
		ok := map[string]any{"description": http.StatusText(status)}
		if op.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": b.ref(reflect.TypeOf(op.Response)), "example": op.Response}}
		}
		if op.ContentType != "" {
			ok["content"] = map[string]any{op.ContentType: map[string]any{"schema": map[string]any{"type": "string"}, "example": op.Response}}
		}
		if path == "/api/v1/openapi.json" {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		responses[strconv.Itoa(status)] = ok
		for _, alt := range op.Also {
			r := map[string]any{"description": alt.Description}
			if alt.Response != nil {
				r["content"] = map[string]any{"application/json": map[string]any{"schema": b.ref(reflect.TypeOf(alt.Response)), "example": alt.Response}}
			}
			responses[strconv.Itoa(alt.Status)] = r
		}
		for code, desc := range errorResponses(rt, method, path) {
			r := map[string]any{"description": desc, "content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}}
			switch code {
			case http.StatusConflict:
				r["content"] = map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/DuplicateProblem"}}}
				if op.Conflict != nil {
					r["content"] = map[string]any{"application/problem+json": map[string]any{"schema": b.ref(reflect.TypeOf(op.Conflict)), "example": op.Conflict}}
				}
			case http.StatusTooManyRequests, http.StatusServiceUnavailable:
				r["headers"] = map[string]any{"Retry-After": map[string]any{"description": "Seconds to wait before trying again",
					"schema": map[string]any{"type": "integer"}}}
			}
			responses[strconv.Itoa(code)] = r
		}
		o["responses"] = responses
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = o
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Mutual API", "version": firstNonEmpty(s.cfg.Version, "dev"),
			"description": "The JSON API of Mutual, the peer support service. Authenticate with an Authorization: Bearer token " +
				"(made on your account page, with POST /api/v1/me/tokens from a signed-in session, or with `mutual token create --email …`; " +
				"tokens expire, after 90 days unless chosen otherwise, at most 365) or a signed-in session. Errors are RFC 9457 application/problem+json; " +
				"validation errors list each field. Records you may not see answer 404. Every access to a person's data is audited."},
		"servers":  []any{map[string]any{"url": firstNonEmpty(s.cfg.BaseURL, "/")}},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
		"paths":    paths,
		"components": map[string]any{"schemas": b.components, "securitySchemes": map[string]any{
			"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "An API token. An expired or revoked token answers 401."},
			"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie}}},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // the document is built from fixed values; this is a programming error
	}
	return out
}

// errorResponses are the error statuses an operation can answer, worked
// out from what every request goes through and from what the route
// declares — its permission, method, parameters and body — so a new route
// cannot forget one. A test sends every kind of request to every operation
// and fails on an answer the document does not describe.
func errorResponses(rt *Route, method, path string) map[int]string {
	op := rt.api
	out := map[int]string{
		// Anyone may send a bearer token, and a bad one is refused even on a
		// public operation.
		http.StatusUnauthorized: "Not signed in, or the bearer token is not valid",
		// Any address can carry a query string; text that cannot be stored
		// is refused in it as in a body.
		http.StatusUnprocessableEntity: "A parameter is not valid",
		// Admission control sheds load beyond what the instance can serve.
		http.StatusServiceUnavailable:  "The service is busy: try again after Retry-After seconds",
		http.StatusInternalServerError: "Internal error",
	}
	switch {
	case rt.Perm != app.PermPublic && method != http.MethodGet:
		out[http.StatusForbidden] = "The caller's roles do not allow this, or the request came from another site"
	case rt.Perm != app.PermPublic:
		out[http.StatusForbidden] = "The caller's roles do not allow this"
	case method != http.MethodGet:
		out[http.StatusForbidden] = "The request came from another site"
	}
	if strings.Contains(path, "{") || op.Request != nil || namesARecord(op.Query) {
		out[http.StatusNotFound] = "Not found, or not yours to see (a record in the path or named in the body)"
	}
	if op.Request != nil {
		out[http.StatusRequestEntityTooLarge] = "The body is too large"
		out[http.StatusUnsupportedMediaType] = "The body is not JSON"
		out[http.StatusUnprocessableEntity] = "Validation problems, field by field, or a parameter that is not valid"
	}
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodDelete || method == http.MethodPatch {
		out[http.StatusConflict] = "Conflict: not allowed in the record's current state, changed by someone else, or possible duplicate"
	}
	if rt.Perm == app.PermPublic && method == http.MethodPost {
		out[http.StatusTooManyRequests] = "Too many requests from this address"
	}
	if rt.Perm == app.PermOwnRecord {
		out[http.StatusNotFound] = "Not found: you have no record of your own yet, or the record in the path is not yours"
	}
	if op.Limited {
		out[http.StatusTooManyRequests] = "Too many attempts from this account or address: wait and try again"
	}
	return out
}

// namesARecord reports whether a query parameter names a record (a team,
// person, worker, organisation or space), which may not be found.
func namesARecord(ps []Param) bool {
	for _, p := range ps {
		switch p.Name {
		case "team", "person", "worker", "organisation", "space_id":
			if p.In == "query" {
				return true
			}
		}
	}
	return false
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			b.WriteString(app.UpperFirst(w))
		}
	}
	return b.String()
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(s.OpenAPI())
	return err
}
