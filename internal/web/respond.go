package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/fhir"
)

// handlerFunc is the shape of every Mutual handler: it writes a response
// or returns an error, which the route wrapper renders as an NHS-styled
// page or as application/problem+json.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string           `json:"type"`
	Title     string           `json:"title"`
	Status    int              `json:"status"`
	Detail    string           `json:"detail"`
	Instance  string           `json:"instance,omitempty"`
	RequestID string           `json:"request_id,omitempty"`
	Errors    []app.FieldError `json:"errors,omitempty"`
}

var problemTitles = map[app.Code]string{
	app.CodeInvalid:      "Your request has problems",
	app.CodeNotFound:     "Not found",
	app.CodeConflict:     "Conflict",
	app.CodeUnauthorized: "Sign in required",
	app.CodeForbidden:    "Not allowed",
	app.CodeTooMany:      "Too many requests",
	app.CodeTooLarge:     "Request too large",
	app.CodeUnsupported:  "Unsupported media type",
	app.CodeUnavailable:  "Service busy",
	app.CodeInternal:     "Internal error",
}

func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/fhir/") || isFeed(r.URL.Path)
}

// isFeed reports whether a path is one of the feeds, which are API
// operations served where calendar programs and feed readers look: the
// public groups' feeds and each account's private calendar feed.
func isFeed(path string) bool {
	return path == "/groups.ics" || path == "/groups/feed.xml" || strings.HasPrefix(path, "/calendar/")
}

// writeError renders err for the caller. Internal details are logged with
// the request id and never shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := app.As(err)
	status := ae.Code.Status()
	rid := requestID(r.Context())
	if ae.Code == app.CodeInternal && r.Context().Err() != nil {
		// The client went away (its connection closed, so the request's
		// context was cancelled) and the work in hand failed with it: not a
		// server error, and nobody is waiting for an answer.
		s.log.InfoContext(r.Context(), "client went away before the answer", "request_id", rid, "method", r.Method, "route", routePattern(r), "err", ae.Err)
		w.WriteHeader(statusClientClosed)
		return
	}
	if ae.Code == app.CodeInternal {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", rid, "method", r.Method, "route", routePattern(r), "err", ae.Err)
	}
	switch ae.Code {
	case app.CodeTooMany:
		w.Header().Set("Retry-After", "900")
	case app.CodeUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	if strings.HasPrefix(r.URL.Path, "/fhir/") {
		// A FHIR client expects an OperationOutcome, not a problem.
		if ae.Code == app.CodeUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mutual"`)
		}
		writeJSONStatus(w, status, fhir.ContentType+"; charset=utf-8", fhir.Outcome(ae))
		return
	}
	if isAPI(r) {
		p := Problem{
			Type: "https://mutual.example/problems/" + strings.ReplaceAll(string(ae.Code), "_", "-"), Title: problemTitles[ae.Code],
			Status: status, Detail: ae.Message, Instance: r.URL.Path, RequestID: rid, Errors: ae.Fields,
		}
		if p.Title == "" {
			p.Title = http.StatusText(status)
		}
		if ae.Code == app.CodeUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mutual"`)
		}
		writeJSONStatus(w, status, "application/problem+json", p)
		return
	}
	if until, ok := community.IsSuspended(err); ok {
		// A suspended member is told until when and how to appeal, with
		// where to get help now, not shown a bare "forbidden".
		if s.suspendedPage(w, r, until) == nil {
			return
		}
	}
	s.renderErrorPage(w, r, status, ae)
}

func writeJSONStatus(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// writeJSON sends v as application/json with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	writeJSONStatus(w, status, "application/json", v)
	return nil
}

const maxJSONBody = 256 << 10

// decodeJSON reads a JSON request body into dst strictly: the right media
// type, at most 256 KiB, valid UTF-8, one value, no unknown fields, each
// type mismatch named by its field.
func decodeJSON(r *http.Request, dst any) error { return decodeJSONLimit(r, dst, maxJSONBody) }

// decodeJSONLimit is decodeJSON with a different size limit.
func decodeJSONLimit(r *http.Request, dst any, limit int64) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return app.Errorf(app.CodeUnsupported, "Send the request body as JSON with Content-Type: application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return app.Errorf(app.CodeTooLarge, "The request body is larger than %d KiB", limit>>10)
		}
		return app.Errorf(app.CodeInvalid, "The request body could not be read")
	}
	if !utf8.Valid(body) {
		return app.Errorf(app.CodeInvalid, "The request body is not valid UTF-8 text")
	}
	if fe := unstorableJSON(body); fe != nil {
		return app.Invalid(*fe)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		p := jsonProblem(err)
		if e := app.As(p); len(e.Fields) == 0 && e.Message == errUnreadableJSON {
			// A value's own decoder refused it (a time, for one), without
			// saying which field: find it by decoding each field alone.
			if f, isTime := failingField(body, dst); f != "" {
				msg := f + " is not in the form this request needs"
				if isTime {
					msg = f + " must be a date and time in RFC 3339, such as 2026-12-02T18:00:00Z"
				}
				return app.Invalid(app.FieldError{Field: f, Message: msg})
			}
		}
		return p
	}
	if dec.More() {
		return app.Errorf(app.CodeInvalid, "The request body must hold one JSON object and nothing after it")
	}
	return nil
}

// unstorableJSON finds the first string in a JSON body — a value or a key —
// that is not text Mutual can store (app.UnstorableText), naming its field
// as the JSON does: person.preferred_name, roles[0].role. Raw control
// characters are already invalid JSON, so only a body with an escape
// (\u0000), DEL or a C1 control character is looked at closely.
func unstorableJSON(body []byte) *app.FieldError {
	if !bytes.Contains(body, []byte(`\u`)) && bytes.IndexByte(body, 0x7f) < 0 && !hasC1(body) {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil // not JSON: the decoder says so
	}
	return unstorableValue(v, "")
}

// hasC1 reports whether UTF-8 text holds a C1 control character
// (U+0080–U+009F, encoded C2 80–C2 9F).
func hasC1(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == 0xc2 && b[i+1] >= 0x80 && b[i+1] <= 0x9f {
			return true
		}
	}
	return false
}

func unstorableValue(v any, path string) *app.FieldError {
	problem := func(s, name string) *app.FieldError {
		if msg := app.UnstorableText(s); msg != "" {
			name = firstNonEmpty(name, "the body")
			return &app.FieldError{Field: name, Message: fmt.Sprintf("%s contains %s, which cannot be stored: remove it", name, msg)}
		}
		return nil
	}
	switch x := v.(type) {
	case string:
		return problem(x, path)
	case []any:
		for i, e := range x {
			if fe := unstorableValue(e, fmt.Sprintf("%s[%d]", path, i)); fe != nil {
				return fe
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if path != "" {
				name = path + "." + k
			}
			if fe := problem(k, name); fe != nil {
				fe.Message = fmt.Sprintf("A field name contains %s, which cannot be read: remove it", app.UnstorableText(k))
				return fe
			}
			if fe := unstorableValue(x[k], name); fe != nil {
				return fe
			}
		}
	}
	return nil
}

func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return app.Errorf(app.CodeInvalid, "The request body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return app.Errorf(app.CodeInvalid, "The request body must be a JSON object")
		}
		return app.Invalid(app.FieldError{Field: field, Message: fmt.Sprintf("%s must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)})
	case errors.Is(err, io.EOF):
		return app.Errorf(app.CodeInvalid, "The request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return app.Errorf(app.CodeInvalid, "The request body is not valid JSON: it ends too soon")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return app.Invalid(app.FieldError{Field: name, Message: fmt.Sprintf("%s is not a field this request accepts", name)})
	}
	return app.Errorf(app.CodeInvalid, errUnreadableJSON)
}

const errUnreadableJSON = "The request body could not be read as JSON"

// failingField is the first top-level field of a JSON object body (in
// name order) that cannot be decoded into dst's type on its own, and
// whether that field holds a time; "" when none can be named.
func failingField(body []byte, dst any) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return "", false
	}
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return "", false
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		one, err := json.Marshal(map[string]json.RawMessage{k: m[k]})
		if err != nil {
			continue
		}
		if json.Unmarshal(one, reflect.New(t.Elem()).Interface()) != nil {
			return k, holdsTime(t.Elem(), k)
		}
	}
	return "", false
}

// holdsTime reports whether the struct's field named name in JSON is a
// time (or a pointer to one).
func holdsTime(t reflect.Type, name string) bool {
	timeType := reflect.TypeFor[time.Time]()
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name || (tag == "" && strings.EqualFold(f.Name, name)) {
			return f.Type == timeType || (f.Type.Kind() == reflect.Pointer && f.Type.Elem() == timeType)
		}
	}
	return false
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "bool":
		return "true or false"
	case k == "string":
		return "a string"
	case k == "slice", k == "array":
		return "a list"
	}
	return "an object"
}

// redirect sends a browser on with 303 See Other after a successful POST.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
