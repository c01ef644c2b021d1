package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestAPIFuzz sends every operation in the OpenAPI document requests made
// from its schemas — the examples, random valid values, and mutations of
// them (wrong types, missing required fields, huge numbers, long strings,
// unusual Unicode, NUL, unknown fields, bodies that are not JSON objects) —
// as several kinds of caller, and fails on any 5xx and on any answer the
// document does not describe for the operation (the webtest client checks
// each response's status and body against the document).
//
// By default it sends a fixed number of requests from a fixed seed, so a
// normal go test run is short and repeatable. MUTUAL_API_FUZZ=60s runs it
// for that long per engine (make fuzz-api); MUTUAL_API_FUZZ_SEED picks the
// seed.
func TestAPIFuzz(t *testing.T) {
	t.Parallel()
	seed := uint64(20261102)
	if s := os.Getenv("MUTUAL_API_FUZZ_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MUTUAL_API_FUZZ_SEED: %v", err)
		}
		seed = n
	}
	requests, dur := 200, time.Duration(0)
	if d := os.Getenv("MUTUAL_API_FUZZ"); d != "" {
		var err error
		if dur, err = time.ParseDuration(d); err != nil {
			t.Fatalf("MUTUAL_API_FUZZ: %v", err)
		}
		requests = 0
	}
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		until := time.Now().Add(dur) // each engine gets the whole time
		f := newAPIFuzzer(t, e, seed)
		sent := 0
		for i := 0; (requests > 0 && i < requests) || (requests == 0 && time.Now().Before(until)); i++ {
			f.one(i)
			sent++
			if f.failures > 5 {
				t.Fatalf("stopping after %d failures (seed %d)", f.failures, seed)
			}
		}
		t.Logf("%d requests from seed %d; statuses %v", sent, seed, f.statuses)
	})
}

type fuzzOp struct {
	method, path string
	op           *openapi3.Operation
	perm         app.Permission
}

type apiFuzzer struct {
	t        *testing.T
	e        *webtest.Env
	rnd      *rand.Rand
	doc      *openapi3.T
	ops      []fuzzOp
	clients  []*webtest.Client
	names    []string
	ids      map[string][]string // path values worth trying, by the path's first segment
	referral int64               // a referral that exists
	statuses map[int]int
	failures int
	seed     uint64
}

func newAPIFuzzer(t *testing.T, e *webtest.Env, seed uint64) *apiFuzzer {
	ctx := context.Background()
	doc, _ := apiDoc(t, e)
	f := &apiFuzzer{t: t, e: e, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), doc: doc, statuses: map[int]int{}, seed: seed}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			perm, _ := op.Extensions["x-permission"].(string)
			f.ops = append(f.ops, fuzzOp{method: method, path: path, op: op, perm: app.Permission(perm)})
		}
	}
	slices.SortFunc(f.ops, func(a, b fuzzOp) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	// Callers: nobody, a bad token, and an account for each kind of role.
	bad := e.Client(t)
	bad.Token = "mut_not-a-real-token"
	f.clients = append(f.clients, e.Client(t), bad)
	f.names = append(f.names, "anonymous", "bad token")
	for _, n := range []string{"person", "carer", "worker", "lead", "clinician", "partner", "moderator", "analyst", "manager", "admin"} {
		f.clients = append(f.clients, e.Bearer(t, n))
		f.names = append(f.names, n)
	}
	// Records to aim at: a referral and its person, and an account of its
	// own for the administrators' operations, so the callers keep theirs.
	r := e.StaffReferral(t, "clinician", "Fuzz Person")
	victim, err := e.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: "fuzz.victim@test.example", Name: "Fuzz Victim",
		Memberships: []app.Membership{{Role: app.RoleModerator}}, Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	f.ids = map[string][]string{
		"referrals": {strconv.FormatInt(r.ID, 10)},
		"people":    {strconv.FormatInt(r.PersonID, 10)},
		"users":     {strconv.FormatInt(victim.ID, 10)},
		"workers":   {strconv.FormatInt(e.Users["worker"].ID, 10), strconv.FormatInt(e.Users["workerB"].ID, 10)},
	}
	f.referral = r.ID
	return f
}

// one sends one request and checks the answer.
func (f *apiFuzzer) one(i int) {
	op := f.ops[i%len(f.ops)] // every operation in turn
	ci := f.rnd.IntN(len(f.clients))
	if f.rnd.IntN(3) > 0 {
		// Mostly a caller the operation allows, so requests get past the
		// permission check.
		for _, j := range f.rnd.Perm(len(f.clients)) {
			if f.names[j] != "bad token" && (op.perm == app.PermPublic || (f.names[j] != "anonymous" && f.e.Principal(f.t, f.names[j]).Can(op.perm))) {
				ci = j
				break
			}
		}
	}
	path := f.fillPath(op)
	query := f.query(op)
	if query != "" {
		path += "?" + query
	}
	var body []byte
	header := http.Header{}
	if op.op.RequestBody != nil {
		mt := op.op.RequestBody.Value.Content.Get("application/json")
		body, header = f.body(mt)
	}
	failedBefore := f.t.Failed()
	var rdr *bytes.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	var resp *webtest.Response
	if rdr != nil {
		resp = f.clients[ci].Do(op.method, path, rdr, header)
	} else {
		resp = f.clients[ci].Do(op.method, path, nil, header)
	}
	f.statuses[resp.StatusCode]++
	if resp.StatusCode >= 500 {
		f.t.Errorf("%s %s as %s → %d\n%.1000s", op.method, path, f.names[ci], resp.StatusCode, resp.Body)
	}
	if !failedBefore && f.t.Failed() || resp.StatusCode >= 500 {
		f.failures++
		f.t.Logf("request %d (seed %d) as %s: %s %s\nContent-Type: %s\n%.2000s", i, f.seed, f.names[ci], op.method, path, header.Get("Content-Type"), body)
	}
}

// fillPath puts values in the path's parameters: records that exist, ids
// that do not, and things that are not ids at all.
func (f *apiFuzzer) fillPath(op fuzzOp) string {
	segs := strings.Split(strings.TrimPrefix(op.path, "/api/v1/"), "/")
	path := op.path
	for _, p := range op.op.Parameters {
		if p.Value.In != "path" {
			continue
		}
		var v string
		known := f.ids[segs[0]]
		switch n := f.rnd.IntN(10); {
		case n < 6 && len(known) > 0:
			v = known[f.rnd.IntN(len(known))]
		case n < 7 && segs[0] != "users":
			v = strconv.Itoa(1 + f.rnd.IntN(60))
		default:
			v = f.pick("999999", "0", "-1", "9223372036854775807", "9223372036854775808", "1e3", "abc", "%EF%BC%91", "%20", "1.5",
				strings.Repeat("9", 400), "%F0%9F%99%82")
		}
		path = strings.Replace(path, "{"+p.Value.Name+"}", v, 1)
	}
	return path
}

// query sets some of the documented query parameters, valid or not.
func (f *apiFuzzer) query(op fuzzOp) string {
	var parts []string
	for _, p := range op.op.Parameters {
		if p.Value.In != "query" || f.rnd.IntN(2) == 0 {
			continue
		}
		var v string
		if f.rnd.IntN(3) == 0 {
			v = f.pick("", "-1", "9223372036854775808", "2147483648", "abc", strings.Repeat("x", 3000), "🙂", "a\x00b", "1,2,,3", "\u202e1", "%")
		} else if p.Value.Schema != nil && p.Value.Schema.Value.Type.Is("integer") {
			v = strconv.Itoa(f.rnd.IntN(300))
		} else {
			v = f.pick("1", "0", "received", "accepted,allocated", "staff", "coordinator", "team", "referred", "offered", "2026-01-01", "2025-11-30",
				"Sam", "clinician", "peer_lead", "")
		}
		parts = append(parts, urlEscape(p.Value.Name)+"="+urlEscape(v))
	}
	if f.rnd.IntN(20) == 0 {
		parts = append(parts, "unknown=1")
	}
	return strings.Join(parts, "&")
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ',' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func (f *apiFuzzer) pick(vs ...string) string { return vs[f.rnd.IntN(len(vs))] }

// body makes a request body: the example, a value made from the schema, or
// either of them mutated; sometimes not JSON at all.
func (f *apiFuzzer) body(mt *openapi3.MediaType) ([]byte, http.Header) {
	header := http.Header{"Content-Type": {"application/json"}}
	var v any
	if f.rnd.IntN(4) == 0 {
		b, _ := json.Marshal(mt.Example)
		_ = json.Unmarshal(b, &v)
	} else {
		v = f.value(mt.Schema, 0)
	}
	switch n := f.rnd.IntN(20); {
	case n < 8:
		// as made
	case n < 16:
		v = f.mutate(v, mt.Schema)
	case n == 16:
		header.Set("Content-Type", f.pick("text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin1", "application/problem+json"))
	case n == 17:
		return []byte(f.pick("", "{", "[1,2]", "null", `"text"`, "42", `{"a":1}{"b":2}`, "\xff\xfe", `{"x":"\ud800"}`)), header
	case n == 18:
		// Past the size limit (4 MiB for caseload batches, 256 KiB elsewhere).
		size := 300 << 10
		if f.rnd.IntN(4) == 0 {
			size = 5 << 20
		}
		return append(append([]byte(`{"note":"`), bytes.Repeat([]byte("a"), size)...), '"', '}'), header
	default:
		v = f.pick2(v, []any{}, "text", 7.5, true, nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return b, header
}

func (f *apiFuzzer) pick2(vs ...any) any { return vs[f.rnd.IntN(len(vs))] }

func resolve(s *openapi3.SchemaRef) *openapi3.Schema {
	if s == nil || s.Value == nil {
		return &openapi3.Schema{}
	}
	v := s.Value
	if len(v.AllOf) == 1 {
		return resolve(v.AllOf[0])
	}
	return v
}

// value makes a random value that fits a schema.
func (f *apiFuzzer) value(sr *openapi3.SchemaRef, depth int) any {
	s := resolve(sr)
	switch {
	case len(s.Enum) > 0:
		return s.Enum[f.rnd.IntN(len(s.Enum))]
	case s.Type.Is("object"):
		out := map[string]any{}
		keys := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if slices.Contains(s.Required, k) || (depth < 3 && f.rnd.IntN(2) == 0) {
				out[k] = f.fieldValue(k, s.Properties[k], depth+1)
			}
		}
		return out
	case s.Type.Is("array"):
		n := f.rnd.IntN(3)
		if depth > 3 {
			n = 0
		}
		out := make([]any, n)
		for i := range out {
			out[i] = f.value(s.Items, depth+1)
		}
		return out
	case s.Type.Is("string"):
		if s.Format == "date-time" {
			return time.Date(2026, time.Month(1+f.rnd.IntN(12)), 1+f.rnd.IntN(28), f.rnd.IntN(24), 0, 0, 0, time.UTC).Format(time.RFC3339)
		}
		return f.pick("Sam", "Someone to talk to", "07700 900123", "sam@example.org", "2026-01-15", "", "given", "phone", "review", "interested",
			"North Community Team", "Zoë Ångström", "日本語のテキスト")
	case s.Type.Is("integer"):
		return f.rnd.IntN(40)
	case s.Type.Is("number"):
		return f.rnd.Float64() * 100
	case s.Type.Is("boolean"):
		return f.rnd.IntN(2) == 0
	}
	return nil
}

// fieldValue is value, with ids that point at real records more often.
func (f *apiFuzzer) fieldValue(name string, s *openapi3.SchemaRef, depth int) any {
	switch name {
	case "person_id":
		if f.rnd.IntN(2) == 0 {
			n, _ := strconv.Atoi(f.ids["people"][0])
			return n
		}
	case "team_id":
		return []int64{f.e.TeamA.ID, f.e.TeamB.ID, f.e.Partner.ID, 999}[f.rnd.IntN(4)]
	case "worker_id":
		return []int64{f.e.Users["worker"].ID, f.e.Users["workerB"].ID, 999}[f.rnd.IntN(3)]
	case "referral_id":
		if f.rnd.IntN(2) == 0 {
			return f.referral
		}
	case "teams":
		return []int64{[]int64{f.e.TeamA.ID, f.e.TeamB.ID, 999}[f.rnd.IntN(3)]}
	case "version":
		return 1 + f.rnd.IntN(3)
	}
	return f.value(s, depth)
}

// mutate breaks a body in one of the ways clients do.
func (f *apiFuzzer) mutate(v any, schema *openapi3.SchemaRef) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	s := resolve(schema)
	keys := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		m["unexpected"] = true
		return m
	}
	k := keys[f.rnd.IntN(len(keys))]
	switch f.rnd.IntN(9) {
	case 0: // a wrong type
		m[k] = f.pick2(123, "text", true, []any{1}, map[string]any{"a": 1}, -0.5)
	case 1: // a required field missing
		if len(s.Required) > 0 {
			delete(m, s.Required[f.rnd.IntN(len(s.Required))])
		}
	case 2: // huge and impossible numbers
		m[k] = json.RawMessage(f.pick("1e300", "9223372036854775808", "-9223372036854775809", "2147483648", "-1", "0.000001", "1e-400"))
	case 3: // long strings
		m[k] = strings.Repeat(f.pick("a", "é", "🙂", "\u202e", "x "), 1+f.rnd.IntN(20000))
	case 4: // unusual Unicode
		m[k] = f.pick("\u202eevil", "e\u0301\u0301\u0301", "\u200b", "\ufeffBOM", "ＦＵＬＬ", "\U0001F9D1\u200D\U0001F91D\u200D\U0001F9D1", "\ud7ff", "𝕊𝕒𝕞")
	case 5: // NUL and other control characters
		m[k] = f.pick("a\x00b", "\x00", "bell\x07", "\u0085", "\x7f")
	case 6: // null
		m[k] = nil
	case 7: // a field the operation does not take
		m["unexpected_"+k] = "x"
	default: // nested objects and lists broken the same way
		if sub, ok := m[k].(map[string]any); ok {
			m[k] = f.mutate(sub, s.Properties[k])
		} else if list, ok := m[k].([]any); ok && len(list) > 0 {
			list[0] = f.mutate(list[0], resolve(s.Properties[k]).Items)
		} else {
			m[k] = []any{}
		}
	}
	return m
}
