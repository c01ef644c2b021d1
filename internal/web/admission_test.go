package web_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// holdSlot starts a request that stays in flight until the returned
// function is called: an API write whose body has not finished arriving.
// It waits (by reading the instance's own gauge) until the request has
// been admitted.
func holdSlot(t *testing.T, e *webtest.Env, metrics *webtest.Client, gauge string) (release func() int) {
	t.Helper()
	tokenClient := e.Bearer(t, "clinician")
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/api/v1/people", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokenClient.Token)
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	// If the test stops early, end the request so the server can close.
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) })
	_, _ = pw.Write([]byte(`{"preferred_name": "Held`))
	waitForGauge(t, metrics, gauge, 1)
	return func() int {
		_, _ = pw.Write([]byte(` Person", "not_duplicate": true}`))
		_ = pw.Close()
		return <-done
	}
}

// waitForGauge polls /metrics until a gauge has a value. Metrics are
// exempt from admission, so they answer while the instance is full.
func waitForGauge(t *testing.T, metrics *webtest.Client, name string, want float64) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`)
	for i := 0; ; i++ {
		r := metrics.Get("/metrics")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("/metrics: %d", r.StatusCode)
		}
		if m := re.FindStringSubmatch(r.Body); m != nil {
			if v, _ := strconv.ParseFloat(m[1], 64); v == want {
				return
			}
		}
		if i == 1000 {
			t.Fatalf("%s never reached %v", name, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Beyond the limit a request is answered 503 with Retry-After: 1 before any
// work is done — an NHS page for a browser, problem+json for the API —
// while health checks, metrics and static files still answer; when a slot
// frees, requests are served again.
func TestAdmissionShedsBeyondTheLimit(t *testing.T) {
	e := webtest.Start(t, store.SQLite, webtest.Options{MaxInFlight: 1, QueueWait: time.Millisecond})
	admin, lead, anon := e.As(t, "admin"), e.As(t, "lead"), e.Client(t)
	leadAPI := e.Bearer(t, "lead")
	people := count(t, e, "SELECT COUNT(*) FROM people")

	release := holdSlot(t, e, admin, "mutual_http_in_flight")

	busy := func(label string, r *webtest.Response, contentType string) {
		t.Helper()
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" || !strings.HasPrefix(r.Header.Get("Content-Type"), contentType) {
			t.Errorf("%s: %d, Retry-After %q, Content-Type %q; want 503, 1, %s", label, r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("Content-Type"), contentType)
		}
	}
	api := leadAPI.Get("/api/v1/referrals")
	busy("API", api, "application/problem+json")
	if !strings.Contains(api.Body, `"status": 503`) {
		t.Errorf("API problem: %s", api.Body)
	}
	page := lead.Get("/referrals")
	busy("page", page, "text/html")
	if !strings.Contains(page.Body, "Sorry, the service is busy") || !strings.Contains(page.Body, "Nothing you sent has been saved") {
		t.Errorf("busy page: %.500s", page.Body)
	}
	// The busy page is drawn once, but its scripts carry this response's
	// nonce.
	csp := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(page.Header.Get("Content-Security-Policy"))
	if csp == nil || strings.Count(page.Body, `nonce="`+csp[1]+`"`) != 2 {
		t.Errorf("busy page scripts do not carry the response's nonce %v", csp)
	}
	busy("sign-in", anon.PostForm("/sign-in", map[string][]string{"email": {"lead@test.example"}, "password": {"x"}}), "text/html")
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/assets/css/mutual.css", "/favicon.ico"} {
		if r := admin.Get(path); r.StatusCode != http.StatusOK {
			t.Errorf("%s answered %d while the instance was full", path, r.StatusCode)
		}
	}
	waitForGauge(t, admin, "mutual_http_shed_total", 3)

	if got := release(); got != http.StatusCreated {
		t.Fatalf("the request holding the slot: %d", got)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM people"); n != people+1 {
		t.Errorf("people: %d, want %d (only the held request stored anything)", n, people+1)
	}
	want(t, leadAPI.Get("/api/v1/referrals"), http.StatusOK)
	want(t, lead.Get("/referrals"), http.StatusOK)
}

// A client that gives up while waiting for a turn is logged as gone, not
// as a server error.
func TestAdmissionClientGone(t *testing.T) {
	logs := &lockedBuffer{}
	e := webtest.Start(t, store.SQLite, webtest.Options{MaxInFlight: 1, QueueWait: time.Hour, Log: logs})
	admin := e.As(t, "admin")
	release := holdSlot(t, e, admin, "mutual_http_in_flight")
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/api/v1/me", nil)
	gone := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		gone <- err
	}()
	waitForGauge(t, admin, "mutual_http_queued", 1)
	cancel()
	<-gone
	waitForGauge(t, admin, "mutual_http_queued", 0)
	if got := release(); got != http.StatusCreated {
		t.Fatalf("the request holding the slot: %d", got)
	}
	log := logs.String()
	if !strings.Contains(log, "level=INFO msg=\"client went away while waiting to be served\"") || strings.Contains(log, "level=ERROR") {
		t.Errorf("log:\n%s", log)
	}
}
