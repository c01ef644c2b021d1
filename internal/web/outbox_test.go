package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// lockedBuffer collects a server's log from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secretLink finds the one-time part of a link that signs someone in or
// sets their password: invitation, password reset and account claim.
var secretLink = regexp.MustCompile(`/(?:invitation|password-reset)/([A-Za-z0-9_-]{16,})|claim=([A-Za-z0-9_-]{16,})`)

// The outbox shows who each email is to and how its delivery is going,
// never what it says: bodies hold one-time links that would let an
// administrator take over any account, and self-referrers' names. Nor do
// the logs or the audit trail carry those links.
func TestOutboxShowsNoBodiesOrLinks(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	webtest.Each(t, webtest.Options{Log: logs}, func(t *testing.T, e *webtest.Env) {
		ctx := context.Background()
		admin := e.As(t, "admin")
		anon := e.Client(t)
		// An invitation, a password reset, a self-referral's confirmation
		// (with its account-claim link and the person's name) and an update
		// to a referrer.
		want(t, admin.PostForm("/admin/users", url.Values{"email": {"newcomer@test.example"}, "name": {"Newcomer Person"}, "role": {"moderator"}}), http.StatusSeeOther)
		want(t, anon.PostForm("/password-reset", url.Values{"email": {e.Users["worker"].Email}}), http.StatusOK)
		want(t, anon.JSON(http.MethodPost, "/api/v1/self-referrals", map[string]any{"preferred_name": "Quillon Selfreferrer",
			"email": "quillon@example.org", "contact_preference": "email", "asked_for": "Someone who gets it"}), http.StatusCreated)
		r := e.StaffReferral(t, "clinician", "Outbox Person")
		want(t, e.Bearer(t, "lead").JSON(http.MethodPost, "/api/v1/referrals/"+strconv.FormatInt(r.ID, 10)+"/transitions",
			map[string]any{"to": "accepted", "version": r.Version}), http.StatusOK)

		items, err := mail.List(ctx, e.DB, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var secrets []string
		for _, it := range items {
			for _, m := range secretLink.FindAllStringSubmatch(it.Body, -1) {
				secrets = append(secrets, m[1]+m[2])
			}
		}
		if len(items) < 4 || len(secrets) < 3 {
			t.Fatalf("expected at least four emails and three one-time links, got %d emails, %d links", len(items), len(secrets))
		}

		page := admin.Get("/admin/outbox")
		want(t, page, http.StatusOK)
		for _, it := range items {
			if !strings.Contains(page.Body, html.EscapeString(it.Subject)) || !strings.Contains(page.Body, it.To) {
				t.Errorf("the outbox does not list %q to %s", it.Subject, it.To)
			}
			for line := range strings.SplitSeq(it.Body, "\n") {
				line = strings.TrimSpace(line)
				if len(line) < 12 {
					continue
				}
				if strings.Contains(page.Body, line) || strings.Contains(page.Body, html.EscapeString(line)) {
					t.Errorf("the outbox shows a line of the email %q: %q", it.Subject, line)
				}
			}
		}
		for _, s := range secrets {
			if strings.Contains(page.Body, s) {
				t.Errorf("the outbox shows a one-time link token %s…", s[:6])
			}
		}
		for _, leak := range []string{"Quillon", "claim=", "/invitation/", "/password-reset/"} {
			if strings.Contains(page.Body, leak) {
				t.Errorf("the outbox shows %q", leak)
			}
		}
		if !strings.Contains(page.Body, webtest.MailDir) {
			t.Errorf("without SMTP the outbox should say mail is in %s", webtest.MailDir)
		}
		// Nor does anything else show the links: the audit trail, the
		// administrator's other pages, the log.
		for _, path := range []string{"/admin/audit", "/admin/users", "/"} {
			body := admin.Get(path).Body
			for _, s := range secrets {
				if strings.Contains(body, s) {
					t.Errorf("%s shows a one-time link token", path)
				}
			}
		}
		for _, s := range secrets {
			if strings.Contains(logs.String(), s) {
				t.Errorf("the log holds a one-time link token")
			}
		}
	})
}
