package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// scrapedForm is a form found on a page: where it posts and the values it
// would send as it stands.
type scrapedForm struct {
	action    string
	multipart bool
	fields    []string // in page order, each once
	values    url.Values
	files     []string
	by        string // the account whose page it was on
}

var (
	reFormBlock = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	reControl   = regexp.MustCompile(`(?s)<(input|select|textarea)\b([^>]*)>(.*?</(?:select|textarea)>)?`)
	reOption    = regexp.MustCompile(`<option\b([^>]*)>`)
)

func attr(tag, name string) (string, bool) {
	m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		if regexp.MustCompile(`\b` + name + `\b`).MatchString(tag) {
			return "", true
		}
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

// scrapeForms finds the posting forms on a page.
func scrapeForms(page, by string) []scrapedForm {
	var out []scrapedForm
	for _, m := range reFormBlock.FindAllStringSubmatch(page, -1) {
		if method, _ := attr(m[1], "method"); !strings.EqualFold(method, "post") {
			continue
		}
		action, _ := attr(m[1], "action")
		// A browser sends no fragment: a form that returns to #handover
		// posts to the path before it.
		action, _, _ = strings.Cut(action, "#")
		enc, _ := attr(m[1], "enctype")
		f := scrapedForm{action: action, multipart: enc == "multipart/form-data", values: url.Values{}, by: by}
		seen := map[string]bool{}
		for _, c := range reControl.FindAllStringSubmatch(m[2], -1) {
			name, ok := attr(c[2], "name")
			if !ok || name == "" {
				continue
			}
			typ, _ := attr(c[2], "type")
			if typ == "file" {
				f.files = append(f.files, name)
				continue
			}
			if !seen[name] {
				seen[name] = true
				f.fields = append(f.fields, name)
			}
			switch {
			case c[1] == "textarea":
				f.values.Set(name, html.UnescapeString(strings.TrimSuffix(c[3], "</textarea>")))
			case c[1] == "select":
				if opts := reOption.FindAllStringSubmatch(c[3], -1); len(opts) > 0 {
					v, _ := attr(opts[0][1], "value")
					for _, o := range opts {
						if _, sel := attr(o[1], "selected"); sel {
							v, _ = attr(o[1], "value")
						}
					}
					f.values.Set(name, v)
				}
			case typ == "radio":
				v, _ := attr(c[2], "value")
				if _, on := attr(c[2], "checked"); on || f.values.Get(name) == "" {
					f.values.Set(name, v)
				}
			case typ == "checkbox":
				if _, on := attr(c[2], "checked"); on {
					v, _ := attr(c[2], "value")
					f.values.Add(name, v)
				}
			default:
				v, _ := attr(c[2], "value")
				f.values.Set(name, v)
			}
		}
		out = append(out, f)
	}
	return out
}

// matchRoute finds the route a method and path would be served by.
func matchRoute(e *webtest.Env, method, path string) string {
	for _, rt := range e.Server.Routes() {
		m, pattern, _ := strings.Cut(rt.Pattern, " ")
		if m != method {
			continue
		}
		re := "^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(strings.TrimSuffix(pattern, "{$}")), `[^/]+`) + "$"
		if regexp.MustCompile(re).MatchString(path) {
			return rt.Pattern
		}
	}
	return ""
}

// storedCounts counts the rows of every table a request could add to.
func storedCounts(t *testing.T, e *webtest.Env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"people", "referrals", "referral_events", "contacts", "offers", "notifications", "outbox", "users",
		"memberships", "teams", "organisations", "user_tokens", "person_claims", "caseload_episodes", "api_tokens", "recovery_codes",
		"sessions", "audit_events", "alerts", "alert_settings", "watch_terms", "watch_lists"} {
		var n int
		if err := e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

const nul = "a\x00b"

// refusesNUL checks a response to input holding a NUL: refused as invalid
// (422, or 400), saying what is wrong, never a 5xx.
func refusesNUL(t *testing.T, label string, r *webtest.Response) {
	t.Helper()
	if r.StatusCode != http.StatusUnprocessableEntity && r.StatusCode != http.StatusBadRequest {
		t.Errorf("%s: %d, want 422\n%.300s", label, r.StatusCode, r.Body)
		return
	}
	if !strings.Contains(r.Body, "NUL character") {
		t.Errorf("%s: %d without saying a NUL character is the problem\n%.300s", label, r.StatusCode, r.Body)
	}
}

// A NUL in any field of any form or API operation, in a query string or in
// a path is refused as invalid on both engines — PostgreSQL cannot store it
// in text, so it used to fail there only, as a 500 — and nothing is stored.
// The forms are found on the pages each account sees and the API operations
// in the OpenAPI document, so new ones are covered without changing this
// test.
func TestNULRefusedEverywhere(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		ref := e.StaffReferral(t, "clinician", "Nul Person")
		victim, err := e.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "victim@test.example", Name: "Victim",
			Memberships: []app.Membership{{Role: app.RoleModerator}}})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{"id": strconv.FormatInt(ref.ID, 10), "token": "not-a-real-token", "action": "disable", "item": "1"}
		personIDs := map[string]string{"id": strconv.FormatInt(ref.PersonID, 10)}
		userIDs := map[string]string{"id": strconv.FormatInt(victim.ID, 10), "action": "disable"}
		fillFor := func(pattern string) string {
			switch {
			case strings.Contains(pattern, "/people/"):
				return fill(pattern, personIDs)
			case strings.Contains(pattern, "/users/"):
				return fill(pattern, userIDs)
			}
			return fill(pattern, ids)
		}

		// Every form every account can see, found on its pages.
		clients := map[string]*webtest.Client{"anonymous": e.Client(t)}
		names := append([]string{"anonymous"}, roleNames...)
		for _, n := range roleNames {
			clients[n] = e.As(t, n)
		}
		forms := map[string]scrapedForm{} // by route pattern
		for _, n := range names {
			for _, rt := range e.Server.Routes() {
				if rt.API() != nil || !strings.HasPrefix(rt.Pattern, "GET ") || strings.HasPrefix(rt.Pattern, "GET /assets/") || strings.HasSuffix(rt.Pattern, ".csv") {
					continue
				}
				resp := clients[n].Get(fillFor(rt.Pattern))
				if resp.StatusCode != http.StatusOK {
					continue
				}
				for _, f := range scrapeForms(resp.Body, n) {
					route := matchRoute(e, http.MethodPost, f.action)
					if route == "" {
						t.Errorf("%s: a form on %s posts to %s, which no route serves", n, rt.Pattern, f.action)
						continue
					}
					if _, ok := forms[route]; !ok || len(f.fields) > len(forms[route].fields) {
						forms[route] = f
					}
				}
			}
		}
		if len(forms) < 15 {
			t.Fatalf("only %d forms found on the pages: %v", len(forms), slices.Collect(func(yield func(string) bool) {
				for k := range forms {
					if !yield(k) {
						return
					}
				}
			}))
		}
		// Bearer tokens for the API part, made before counting.
		bearers := map[string]*webtest.Client{"anonymous": e.Client(t)}
		for _, n := range roleNames {
			bearers[n] = e.Bearer(t, n)
		}
		clientFor := func(perm app.Permission) *webtest.Client {
			for _, n := range roleNames {
				if e.Principal(t, n).Can(perm) {
					return bearers[n]
				}
			}
			return bearers["anonymous"]
		}
		before := storedCounts(t, e)

		post := func(c *webtest.Client, f scrapedForm, vals url.Values) *webtest.Response {
			if !f.multipart {
				return c.PostForm(f.action, vals)
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for k, vs := range vals {
				for _, v := range vs {
					_ = mw.WriteField(k, v)
				}
			}
			for _, name := range f.files {
				fw, _ := mw.CreateFormFile(name, "caseload.csv")
				_, _ = fw.Write([]byte("person_ref,team,coordinator_email,start_date\r\nR1," + e.TeamA.Name + ",a@test.example,2026-01-02\r\n"))
			}
			_ = mw.Close()
			return c.Do(http.MethodPost, f.action, &body, http.Header{"Content-Type": {mw.FormDataContentType()}, "Origin": {e.URL}, "Sec-Fetch-Site": {"same-origin"}})
		}
		for _, rt := range e.Server.Routes() {
			method, _, _ := strings.Cut(rt.Pattern, " ")
			if rt.API() != nil || method != http.MethodPost {
				continue
			}
			f, found := forms[rt.Pattern]
			if !found {
				// A form no page showed these accounts (two-factor steps):
				// post one as an account the route allows.
				f = scrapedForm{action: fillFor(rt.Pattern), fields: []string{"code"}, values: url.Values{}, by: "anonymous"}
				for _, n := range roleNames {
					if e.Principal(t, n).Can(rt.Perm) {
						f.by = n
						break
					}
				}
				t.Logf("%s: no page shows its form; posting a field to it as %s", rt.Pattern, f.by)
			}
			fields := f.fields
			if len(fields) == 0 {
				fields = []string{"anything"} // a form of buttons: a field it does not read
			}
			if !f.multipart {
				// A name with a NUL cannot even be written in a multipart
				// header: mime/multipart drops it.
				fields = append(fields, "nul\x00name")
			}
			for _, field := range fields {
				vals := url.Values{}
				for k, vs := range f.values {
					vals[k] = slices.Clone(vs)
				}
				vals.Set(field, nul)
				refusesNUL(t, fmt.Sprintf("%s as %s, NUL in %q", rt.Pattern, f.by, field), post(clients[f.by], f, vals))
			}
		}

		// Every API operation: each string in its body, each parameter.
		doc, router := apiDoc(t, e)
		for _, rt := range e.Server.Routes() {
			if rt.API() == nil {
				continue
			}
			method, pattern, _ := strings.Cut(rt.DocPattern(), " ")
			op := doc.Paths.Find(pattern).GetOperation(method)
			c := clientFor(rt.Perm)
			path := fillFor(rt.DocPattern())
			check := func(label string, r *webtest.Response) {
				t.Helper()
				refusesNUL(t, rt.Pattern+": "+label, r)
				if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("%s: %s: Content-Type %q", rt.Pattern, label, ct)
				}
				// The document describes the operation at its real path.
				clean := *r
				clean.Request = r.Request.Clone(context.Background())
				clean.Request.URL.Path = path
				validateResponse(t, router, &clean)
			}
			for _, p := range op.Parameters {
				switch p.Value.In {
				case "query":
					check("query "+p.Value.Name, c.Do(method, path+"?"+p.Value.Name+"=a%00b", nil, nil))
				case "path":
					v := ids["id"]
					if x, ok := ids[p.Value.Name]; ok && p.Value.Name != "id" {
						v = x // a token, say
					}
					check("path "+p.Value.Name, c.Do(method, strings.Replace(path, v, v+"%00", 1), nil, nil))
				}
			}
			check("an undeclared query parameter", c.Do(method, path+"?x=a%00b", nil, nil))
			if op.RequestBody == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			exampleJSON, _ := json.Marshal(mt.Example)
			for _, field := range stringFields(mt.Schema, nil) {
				var body any
				_ = json.Unmarshal(exampleJSON, &body)
				body = setAt(body, field, nul)
				r := c.JSON(method, path, body)
				check("body "+fieldName(field), r)
				var p struct {
					Errors []app.FieldError `json:"errors"`
				}
				_ = json.Unmarshal([]byte(r.Body), &p)
				if len(p.Errors) != 1 || p.Errors[0].Field != fieldName(field) {
					t.Errorf("%s: NUL in %s named as %+v", rt.Pattern, fieldName(field), p.Errors)
				}
			}
		}

		after := storedCounts(t, e)
		for table, n := range before {
			if after[table] != n {
				t.Errorf("%s: %d rows before, %d after refused requests", table, n, after[table])
			}
		}
	})
}

// stringFields lists the paths to every string in a schema: object keys,
// and 0 for an array's first item.
func stringFields(s *openapi3.SchemaRef, prefix []any) [][]any {
	if s == nil || s.Value == nil {
		return nil
	}
	v := s.Value
	for _, sub := range v.AllOf {
		return stringFields(sub, prefix)
	}
	switch {
	case v.Type.Is("string"):
		return [][]any{slices.Clone(prefix)}
	case v.Type.Is("array"):
		return stringFields(v.Items, append(slices.Clone(prefix), 0))
	case v.Type.Is("object"):
		var out [][]any
		keys := make([]string, 0, len(v.Properties))
		for k := range v.Properties {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, stringFields(v.Properties[k], append(slices.Clone(prefix), k))...)
		}
		return out
	}
	return nil
}

// setAt puts v at path in a decoded JSON value, making what is missing.
func setAt(root any, path []any, v any) any {
	if len(path) == 0 {
		return v
	}
	switch k := path[0].(type) {
	case string:
		m, _ := root.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m[k] = setAt(m[k], path[1:], v)
		return m
	case int:
		a, _ := root.([]any)
		if len(a) == 0 {
			a = []any{nil}
		}
		a[k] = setAt(a[k], path[1:], v)
		return a
	}
	return root
}

func fieldName(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}
