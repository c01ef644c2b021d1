// Package webtest runs a real Mutual server for black-box and browser
// tests: a real database (SQLite file or PostgreSQL schema), the real
// services and route table, served over real HTTP on 127.0.0.1.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/web"
)

// Env is one running server and its world.
type Env struct {
	*testkit.World
	URL    string
	Server *web.Server
	HTTP   *httptest.Server
	api    apiChecker
}

// apiChecker validates every API response a test receives against the
// server's own OpenAPI document, error responses included.
type apiChecker struct {
	once   sync.Once
	router routers.Router
	err    error
}

// apiRouters holds one router per distinct OpenAPI document (by its text):
// loading and validating the document takes far longer than most tests'
// requests, and every server in a test process serves the same one.
var apiRouters sync.Map

type sharedRouter struct {
	once   sync.Once
	router routers.Router
	err    error
}

// routerFor returns the router for an OpenAPI document, built once per
// process. The document's servers are dropped so that routes match on the
// path alone: a Client only ever sends requests to its own Env's URL, which
// is what matching the server against that URL used to check.
func routerFor(doc []byte) (routers.Router, error) {
	v, _ := apiRouters.LoadOrStore(string(doc), &sharedRouter{})
	r := v.(*sharedRouter)
	r.once.Do(func() {
		d, err := openapi3.NewLoader().LoadFromData(doc)
		if err != nil {
			r.err = err
			return
		}
		d.Servers = nil
		r.router, r.err = NewRouter(d)
	})
	return r.router, r.err
}

// checkAPI fails the test if an API response is not what the OpenAPI
// document says the operation answers: an undocumented status, or a body
// that does not match its schema. Requests that match no operation (an
// unknown path or method) are not operations and are left alone.
func (e *Env) checkAPI(tb testing.TB, r *Response) {
	if !strings.HasPrefix(r.Request.URL.Path, "/api/") && !strings.HasPrefix(r.Request.URL.Path, "/calendar/") {
		return
	}
	e.api.once.Do(func() { e.api.router, e.api.err = routerFor(e.Server.OpenAPI()) })
	if e.api.err != nil {
		tb.Errorf("loading the OpenAPI document: %v", e.api.err)
		return
	}
	route, params, err := e.api.router.FindRoute(r.Request)
	if err != nil {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r.Request, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: r.StatusCode, Header: r.Header, Body: io.NopCloser(strings.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		tb.Errorf("%s %s → %d is not what the OpenAPI document describes: %v\n%.2000s", r.Request.Method, r.Request.URL.Path, r.StatusCode, err, r.Body)
	}
}

// Options tune the server.
type Options struct {
	RequireMFA bool
	// TrustLoopbackProxy believes X-Forwarded-For from 127.0.0.1, so tests
	// can stand in for callers at different addresses.
	TrustLoopbackProxy bool
	// Log, when set, receives the server's log (otherwise it is discarded,
	// or shown with MUTUAL_TEST_LOG=1).
	Log io.Writer
	// MaxInFlight and QueueWait set the server's admission limit. Zero
	// admits everything: tests of what concurrent requests do to the data
	// send hundreds at once and must see the application's answers, not
	// shedding (the admission tests set a limit).
	MaxInFlight int
	QueueWait   time.Duration
}

// MailDir is the folder the test server says email is written to (it has
// no SMTP server; nothing is written there in tests).
const MailDir = "/var/lib/mutual-test/mail"

// Start builds a world on engine and serves it.
func Start(tb testing.TB, engine store.Dialect, o Options) *Env {
	tb.Helper()
	db := storetest.Open(tb, engine)
	w := testkit.NewWorld(tb, db)
	w.Accounts.RequireMFA = o.RequireMFA
	ins := &insight.Service{DB: db, Clock: w.Clock, Suppress: stats.Suppressor{Threshold: 5}, WaitingStandard: 28 * 24 * time.Hour, Audit: w.Audit}
	logw := io.Discard
	if os.Getenv("MUTUAL_TEST_LOG") != "" {
		logw = os.Stderr
	}
	if o.Log != nil {
		logw = o.Log
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 100_000
	}
	cfg := web.Config{BaseURL: "https://mutual.test", RequireMFA: o.RequireMFA, MailDir: MailDir, Version: "test",
		MaxInFlight: o.MaxInFlight, QueueWait: o.QueueWait, LivePoll: 200 * time.Millisecond}
	if o.TrustLoopbackProxy {
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	srv, err := web.New(cfg,
		web.Deps{DB: db, Clock: w.Clock, Audit: w.Audit, Accounts: w.Accounts, People: w.People, Notify: w.Notify, Referrals: w.Referrals, Insight: ins, Caseloads: &caseload.Service{DB: db, Clock: w.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}, Groups: w.Groups, Matching: w.Matching, Counters: w.Accounts.Counters, DataRights: w.DataRights,
			Watch: w.Watch, Alerts: w.Alerts, Recovery: w.Recovery, Community: w.Community, Support: w.Support,
			Log: slog.New(slog.NewTextHandler(logw, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	// Before Close (cleanups run last first): Close waits for every
	// request, and a live page's stream would last minutes.
	tb.Cleanup(srv.StopStreams)
	return &Env{World: w, URL: hs.URL, Server: srv, HTTP: hs}
}

// Each starts a server on every engine and runs fn as a subtest.
func Each(t *testing.T, o Options, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) { fn(t, Start(t, engine, o)) })
	}
}

// secureJar keeps __Host- (Secure) cookies over http://127.0.0.1, as
// browsers do for loopback addresses; Go's jar would otherwise drop them.
type secureJar struct{ jar *cookiejar.Jar }

func (j secureJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	v := *u
	v.Scheme = "https"
	j.jar.SetCookies(&v, cs)
}

func (j secureJar) Cookies(u *url.URL) []*http.Cookie {
	v := *u
	v.Scheme = "https"
	return j.jar.Cookies(&v)
}

// Client is a browser-like HTTP client: it keeps cookies, does not follow
// redirects (tests check them) and sends same-origin headers on posts.
// Every API response it receives is checked against the OpenAPI document.
type Client struct {
	tb   testing.TB
	env  *Env
	HTTP *http.Client
	// Token, when set, is sent as a bearer token.
	Token string
	// Header is added to every request.
	Header http.Header
}

// Client returns a new client with an empty cookie jar.
func (e *Env) Client(tb testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{tb: tb, env: e, HTTP: &http.Client{Jar: secureJar{jar}, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is a read response.
type Response struct {
	*http.Response
	Body string
}

// Do sends a request and reads the whole response.
func (c *Client) Do(method, path string, body io.Reader, header http.Header) *Response {
	c.tb.Helper()
	r, err := c.send(method, path, body, header)
	if err != nil {
		c.tb.Fatal(err)
	}
	return r
}

// send is Do without failing the test, so it may run on any goroutine.
func (c *Client) send(method, path string, body io.Reader, header http.Header) (*Response, error) {
	req, err := http.NewRequest(method, c.env.URL+path, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.Token != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	out := &Response{Response: resp, Body: string(b)}
	c.env.checkAPI(c.tb, out)
	return out, nil
}

// Call is one request for Parallel: a form post when Form is set, a JSON
// body when JSON is set, otherwise a bare request.
type Call struct {
	Client *Client
	Method string
	Path   string
	Form   url.Values
	JSON   any
}

// Parallel sends every call at once — each on its own goroutine and
// connection, released together — and returns the responses in the order
// of calls. For tests of what concurrent requests can and cannot do.
func Parallel(tb testing.TB, calls []Call) []*Response {
	tb.Helper()
	out := make([]*Response, len(calls))
	errs := make([]error, len(calls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range calls {
		var body []byte
		header := http.Header{}
		switch {
		case c.Form != nil:
			body = []byte(c.Form.Encode())
			header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {c.Client.env.URL}, "Sec-Fetch-Site": {"same-origin"}}
		case c.JSON != nil:
			b, err := json.Marshal(c.JSON)
			if err != nil {
				tb.Fatal(err)
			}
			body = b
			header.Set("Content-Type", "application/json")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var rd io.Reader
			if body != nil {
				rd = bytes.NewReader(body)
			}
			out[i], errs[i] = c.Client.send(c.Method, c.Path, rd, header)
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
	return out
}

// Get fetches a path.
func (c *Client) Get(path string) *Response { return c.Do(http.MethodGet, path, nil, nil) }

// PostForm posts a form as a same-origin browser would.
func (c *Client) PostForm(path string, form url.Values) *Response {
	return c.Do(http.MethodPost, path, strings.NewReader(form.Encode()), http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {c.env.URL}, "Sec-Fetch-Site": {"same-origin"}})
}

// JSON sends a JSON body (v marshalled, or a string sent as is).
func (c *Client) JSON(method, path string, v any) *Response {
	var body io.Reader
	if v != nil {
		if s, ok := v.(string); ok {
			body = strings.NewReader(s)
		} else {
			b, err := json.Marshal(v)
			if err != nil {
				c.tb.Fatal(err)
			}
			body = strings.NewReader(string(b))
		}
	}
	return c.Do(method, path, body, http.Header{"Content-Type": {"application/json"}})
}

// SignIn signs in through the form. With two-factor required it returns
// after the password step.
func (c *Client) SignIn(email, password string) *Response {
	c.tb.Helper()
	r := c.PostForm("/sign-in", url.Values{"email": {email}, "password": {password}})
	if r.StatusCode != http.StatusSeeOther {
		c.tb.Fatalf("sign in as %s: status %d\n%s", email, r.StatusCode, r.Body)
	}
	return r
}

// As signs a new client in as a named world account.
func (e *Env) As(tb testing.TB, name string) *Client {
	tb.Helper()
	c := e.Client(tb)
	c.SignIn(e.Users[name].Email, testkit.Password)
	return c
}

// Bearer returns a client using an API token for a named account.
func (e *Env) Bearer(tb testing.TB, name string) *Client {
	tb.Helper()
	tok, err := e.Accounts.CreateAPIToken(context.Background(), app.Operator("test"), e.Users[name].ID, "test", 0)
	if err != nil {
		tb.Fatal(err)
	}
	c := e.Client(tb)
	c.Token = tok.Token
	return c
}

var linkRE = regexp.MustCompile(`https://mutual\.test(/[A-Za-z0-9/_-]+)`)

// LastMailLink returns the path of the first link in the newest email to
// an address, read from the outbox as an administrator would.
func (e *Env) LastMailLink(tb testing.TB, to string) string {
	tb.Helper()
	items, err := mail.List(context.Background(), e.DB, to, 1)
	if err != nil || len(items) == 0 {
		tb.Fatalf("no email to %s", to)
	}
	m := linkRE.FindStringSubmatch(items[0].Body)
	if m == nil {
		tb.Fatalf("no link in the email to %s: %q", to, items[0].Body)
	}
	return m[1]
}

// TOTPCode is the current code for an account's secret.
func (e *Env) TOTPCode(tb testing.TB, email string) string {
	tb.Helper()
	var secret string
	if err := e.DB.QueryRow(context.Background(), "SELECT totp_secret FROM users WHERE email = $1", email).Scan(&secret); err != nil || secret == "" {
		tb.Fatalf("no two-factor secret for %s: %v", email, err)
	}
	return account.CurrentTOTPCode(secret, e.Clock.Now())
}
