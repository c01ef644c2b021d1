package web

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// Admission control. An instance works on at most MaxInFlight requests at
// once. A request that finds them all taken waits up to QueueWait for one;
// then, or at once when too many are already waiting, it is answered 503
// with Retry-After: 1 — an NHS page for a browser, problem+json for the
// API — before any work is done for it. Under a flood this keeps the
// requests it admits as fast as at capacity, instead of every request
// waiting behind thousands of others until clients give up and the
// database calls of abandoned requests fail. Health checks, metrics and
// static assets are never held back.

// DefaultQueueWait is how long a request may wait for a free slot.
const DefaultQueueWait = 100 * time.Millisecond

// DefaultMaxInFlight is the limit for an instance with procs CPUs and a
// read pool of conns database connections: four requests per CPU (so
// while some wait on the database others render), but no more than twice
// the pool, and at least 8. Beyond that, requests only queue inside the
// instance, each waiting longer. 64 on a 16-core machine; measured with
// make overload (see README).
func DefaultMaxInFlight(procs, conns int) int {
	return min(max(4*procs, 8), max(2*conns, 8))
}

type admission struct {
	slots    chan struct{}
	wait     time.Duration
	maxQueue int64
	queued   atomic.Int64
	shed     atomic.Int64
	// loggedShed and loggedAt are the count and time of the last "shedding
	// load" log line: shed requests are summarised, not logged one by one,
	// so a flood does not spend the instance's time on its own log.
	loggedShed atomic.Int64
	loggedAt   atomic.Int64
	// busyPage is the NHS page sent to browsers, rendered once, in two parts
	// around the CSP nonce each response carries.
	busyPage [][]byte
}

func newAdmission(limit int, wait time.Duration) *admission {
	if wait <= 0 {
		wait = DefaultQueueWait
	}
	// At most a few rounds of the limit wait: more could not be served
	// within the wait anyway.
	return &admission{slots: make(chan struct{}, limit), wait: wait, maxQueue: int64(4 * limit)}
}

// exemptFromAdmission are the paths that answer whatever the load: probes
// that decide whether the instance is alive and ready, the metrics that
// show the overload, and static files.
func exemptFromAdmission(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/favicon.ico":
		return true
	}
	// Live pages' streams are long and mostly idle: they are capped on
	// their own (maxLiveStreams) rather than holding a slot.
	return strings.HasPrefix(path, "/assets/") || isLivePath(path)
}

// statusClientClosed is recorded (as nginx does) for a request whose
// client went away before it was answered: not a server error.
const statusClientClosed = 499

// admit holds a request until a slot is free, or sheds it.
func (s *Server) admit(next http.Handler) http.Handler {
	a := s.admission
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if exemptFromAdmission(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case a.slots <- struct{}{}:
		default:
			switch a.queue(r.Context()) {
			case admitted:
			case clientGone:
				s.log.Info("client went away while waiting to be served", "request_id", requestID(r.Context()), "method", r.Method)
				w.WriteHeader(statusClientClosed)
				return
			default:
				s.shedRequest(w, r)
				return
			}
		}
		defer func() { <-a.slots }()
		next.ServeHTTP(w, r)
	})
}

const busyMessage = "The service is busy just now. Please try again in a moment."

// shedRequest answers 503 with Retry-After: 1, as cheaply as it can: the
// flood is what the instance must not spend its time on.
func (s *Server) shedRequest(w http.ResponseWriter, r *http.Request) {
	a := s.admission
	n := a.shed.Add(1)
	if slot, ok := r.Context().Value(keyRouteSlot).(*routeSlot); ok {
		slot.shed = true
	}
	now := time.Now().UnixNano()
	if last := a.loggedAt.Load(); now-last > int64(10*time.Second) && a.loggedAt.CompareAndSwap(last, now) {
		prev := a.loggedShed.Swap(n)
		s.log.Warn("shedding load: requests answered 503 because the instance is busy", "shed", n-prev,
			"in_flight", len(a.slots), "waiting", a.queued.Load(), "max_in_flight", cap(a.slots))
	}
	if isAPI(r) || a.busyPage == nil {
		s.writeError(w, r, app.Errorf(app.CodeUnavailable, busyMessage))
		return
	}
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	n2 := []byte(nonce(r.Context()))
	for i, part := range a.busyPage {
		if i > 0 {
			_, _ = w.Write(n2)
		}
		_, _ = w.Write(part)
	}
}

// renderBusyPage renders the page a shed browser request gets, once. It
// has no navigation for the caller (nobody has been signed in yet: that is
// work) and says nothing sent was saved.
func (s *Server) renderBusyPage() error {
	const mark = "BUSY-NONCE-7c1f3a"
	pg := &ui.Page{Title: "Sorry, the service is busy", Nonce: mark, Nav: navFor(nil, ""),
		Data: map[string]any{"Message": busyMessage, "Status": http.StatusServiceUnavailable}}
	if !s.cfg.RequireMFA {
		pg.Banner = demoBanner
	}
	var b bytes.Buffer
	if err := s.render.Render(&b, "error", pg); err != nil {
		return err
	}
	s.admission.busyPage = bytes.Split(b.Bytes(), []byte(mark))
	return nil
}

type queueResult int

const (
	refused queueResult = iota
	admitted
	clientGone
)

func (a *admission) queue(ctx context.Context) queueResult {
	if a.queued.Add(1) > a.maxQueue {
		a.queued.Add(-1)
		return refused
	}
	defer a.queued.Add(-1)
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return admitted
	case <-t.C:
		return refused
	case <-ctx.Done():
		return clientGone
	}
}
