package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyNonce
	keyPrincipal
	keyRouteSlot
)

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

func nonce(ctx context.Context) string {
	s, _ := ctx.Value(keyNonce).(string)
	return s
}

// principal returns the signed-in caller, or nil.
func principal(r *http.Request) *app.Principal {
	p, _ := r.Context().Value(keyPrincipal).(*app.Principal)
	return p
}

func routePattern(r *http.Request) string {
	// observe's request is an outer copy of the one the mux matches, so
	// wrap leaves the route in the slot observe put in the context.
	if slot, ok := r.Context().Value(keyRouteSlot).(*routeSlot); ok && slot.rt != nil {
		return slot.rt.Pattern
	}
	return r.Pattern
}

// routeSlot carries the matched route back out to observe for its log line
// and metrics.
type routeSlot struct {
	rt   *Route
	shed bool // answered 503 by admission control: counted, not logged
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives every request an id, logs it without personal data (the
// route pattern, never the path with its ids or the query), counts it in
// metrics and turns a panic into a 500 page.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-Id")
		if len(rid) < 8 || len(rid) > 64 || strings.ContainsFunc(rid, func(c rune) bool { return c < '!' || c > '~' }) {
			rid = randomID(12)
		}
		ctx := context.WithValue(context.WithValue(r.Context(), keyRequestID, rid), keyRouteSlot, &routeSlot{})
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		sw.Header().Set("X-Request-Id", rid)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "request_id", rid, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.writeError(sw, r, app.Internal(fmt.Errorf("panic: %v", p)))
				}
			}
			route := routePattern(r)
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			s.metrics.observe(route, sw.status, d)
			if slot := r.Context().Value(keyRouteSlot).(*routeSlot); slot.shed {
				route = "shed"
			}
			if route != "shed" && !strings.HasPrefix(route, "GET /assets/") && s.log.Enabled(r.Context(), slog.LevelInfo) {
				s.log.Info("request", "request_id", rid, "method", r.Method, "route", route, "status", sw.status,
					"bytes", sw.bytes, "duration_ms", float64(d.Microseconds())/1000)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// secure sets the security headers every response carries and gives each
// request the nonce its one inline script needs.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := randomID(16)
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'nonce-"+n+"'; style-src 'self'; "+
			"img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "+
			"base-uri 'none'; manifest-src 'self'")
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyNonce, n)))
	})
}

// clientAddr is the caller's network address, for rate limits. Forwarded
// headers are believed only from configured proxies.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if s.trusted(ip) {
		// The right-most address not added by a trusted proxy is the client.
		parts := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
		for i := len(parts) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
			if err != nil {
				break
			}
			if !s.trusted(a) {
				return a.String()
			}
		}
	}
	return ip.String()
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

const sessionCookie = "__Host-mutual"

func setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// authenticate finds the caller from a bearer token (API) or the session
// cookie. A bad bearer token is an error; a bad cookie is just cleared.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*app.Principal, error) {
	rid := requestID(r.Context())
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nil, app.Errorf(app.CodeUnauthorized, "Use an Authorization: Bearer token")
		}
		return s.accounts.AuthenticateBearer(r.Context(), strings.TrimSpace(token), rid)
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	p, err := s.accounts.Authenticate(r.Context(), c.Value, rid)
	if app.IsCode(err, app.CodeUnauthorized) {
		clearSessionCookie(w)
		return nil, nil
	}
	return p, err
}
