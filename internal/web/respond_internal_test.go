package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

// When the client has gone (its request's context is cancelled) the
// database call that failed with it is not a server error: it is logged at
// INFO as a client that went away and recorded as 499, not 500.
func TestClientGoneIsNotAServerError(t *testing.T) {
	var logs bytes.Buffer
	s, err := New(Config{}, Deps{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, path := range []string{"/referrals", "/api/v1/referrals"} {
		logs.Reset()
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		w := httptest.NewRecorder()
		s.writeError(w, r, app.Internal(errors.New("interrupted (9)")))
		if w.Code != statusClientClosed || strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "level=INFO msg=\"client went away") {
			t.Errorf("%s: status %d, log %q", path, w.Code, logs.String())
		}
	}
	// With the client still there, the same failure is a server error.
	logs.Reset()
	w := httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest(http.MethodGet, "/api/v1/referrals", nil), app.Internal(errors.New("interrupted (9)")))
	if w.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a real failure: status %d, log %q", w.Code, logs.String())
	}
}

// A value whose own decoder refuses it (a time) is named by its field,
// whether it is not a string or a string that is not a time; a time's
// message says what a time looks like.
func TestDecodeNamesAFieldItsDecoderRefuses(t *testing.T) {
	type in struct {
		Name string     `json:"name"`
		From time.Time  `json:"from"`
		To   *time.Time `json:"to"`
	}
	for body, field := range map[string]string{`{"name": "x", "from": 5}`: "from", `{"from": "tomorrow"}`: "from", `{"to": "next week"}`: "to"} {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var v in
		ae := app.As(decodeJSON(r, &v))
		if ae.Code != app.CodeInvalid || len(ae.Fields) != 1 || ae.Fields[0].Field != field || !strings.Contains(ae.Fields[0].Message, "RFC 3339") {
			t.Errorf("%s: %+v", body, ae)
		}
	}
}
