package browsertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
	"github.com/mutualhq/mutual/internal/web"
)

// TestInsightRates shows the service manager the referral-rate funnel
// plot, as an image with a text alternative and a data table.
func TestInsightRates(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	if _, err := os.Stat(filepath.Join(repoRoot(t), "internal", "web", "templates", "insight", "rates.html")); err != nil {
		t.Skipf("PRODUCT: the insight page templates are missing (internal/web/templates/insight/rates.html: %v), so /insight/rates cannot be shown", err)
	}
	e := webtest.Start(t, store.SQLite, webtest.Options{})

	// A caseload for two care co-ordinators, imported through the API,
	// and referrals from one of them.
	var eps []caseload.Episode
	for i := range 40 {
		coord, team := e.Users["clinician"], e.TeamA.Name
		if i%2 == 1 {
			coord, team = e.Users["clinicianB"], e.TeamB.Name
		}
		eps = append(eps, caseload.Episode{PersonRef: fmt.Sprintf("RX%07d", i+1), Team: team, CoordinatorEmail: coord.Email,
			StartDate: "2026-01-15", BirthYear: 1960 + i, Gender: []string{"woman", "man"}[i%2]})
	}
	api := e.Bearer(t, "manager")
	r := api.JSON("POST", "/api/v1/caseload-episodes", web.EpisodesRequest{Episodes: eps})
	var rep caseload.ImportReport
	if err := json.Unmarshal([]byte(r.Body), &rep); r.StatusCode != 200 || err != nil || !rep.Imported || rep.Inserted != len(eps) {
		t.Fatalf("importing caseloads: %d %s", r.StatusCode, r.Body)
	}
	for i := range 6 {
		e.StaffReferral(t, "clinician", fmt.Sprintf("Person %c", 'A'+i))
	}

	p := b.newPage(t, e, "manager")
	p.signIn(e.Users["manager"].Email, testkit.Password)
	if st := p.open("/insight"); st != 200 {
		t.Errorf("GET /insight: %d", st)
	}
	if st := p.open("/insight/rates"); st != 200 {
		t.Fatalf("GET /insight/rates: %d", st)
	}
	type plot struct {
		SVGs, Tables, Rows int
		Label              string
	}
	got := eval[plot](p, `(() => {
  const svg = document.querySelector('main svg[role="img"]');
  const label = svg ? (svg.getAttribute('aria-label') || (svg.getAttribute('aria-labelledby') || '').split(' ').map(id => (document.getElementById(id) || {}).textContent || '').join(' ') || (svg.querySelector('title') || {}).textContent || '') : '';
  return {SVGs: document.querySelectorAll('main svg[role="img"]').length, Tables: document.querySelectorAll('main table').length,
    Rows: document.querySelectorAll('main table tbody tr').length, Label: label.trim()};
})()`)
	if got.SVGs == 0 {
		t.Error(`no <svg role="img"> funnel plot on /insight/rates`)
	} else if got.Label == "" {
		t.Error("the funnel plot has no accessible name")
	}
	if got.Tables == 0 || got.Rows == 0 {
		t.Errorf("want a data table with rows under the plot, got %d tables, %d rows", got.Tables, got.Rows)
	}
	// The plot's axis text is readable at both sizes: the plot shown is
	// the layout drawn for the screen, so its 14-pixel text is not shrunk
	// (the wide plot squeezed into a phone drew it at under 7 pixels).
	type axis struct {
		Shown           int
		Smallest, Width float64
		Main            float64
	}
	for _, v := range []viewport{mobile, desktop} {
		p.setViewport(v)
		a := eval[axis](p, `(() => {
  const shown = [...document.querySelectorAll('main svg.app-chart')].filter(s => s.getClientRects().length > 0);
  let smallest = 1000;
  for (const svg of shown) for (const t of svg.querySelectorAll('text')) {
    smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a);
  }
  return {Shown: shown.length, Smallest: smallest, Width: shown.length ? shown[0].getBoundingClientRect().width : 0, Main: document.querySelector('main').getBoundingClientRect().width};
})()`)
		if a.Shown != 1 {
			t.Errorf("at %s, %d funnel plots are shown, want one", v.Name, a.Shown)
		}
		if a.Smallest < 12 {
			t.Errorf("at %s, the funnel plot's text is drawn %.1f pixels high: too small to read (%+v)", v.Name, a.Smallest, a)
		}
	}
	p.setViewport(desktop)
	// Coverage shows the most recent month first (at 375 pixels the first
	// columns are the ones in view).
	if st := p.open("/insight/coverage?from=2025-11-01&to=2026-03-31"); st != 200 {
		t.Errorf("GET /insight/coverage: %d", st)
	}
	months := eval[[]string](p, `[...document.querySelectorAll('main table thead th')].slice(1).map(th => th.textContent.trim())`)
	if len(months) < 2 || months[0] != "Mar 2026" || months[len(months)-1] != "Nov 2025" {
		t.Errorf("coverage months in order %q, want the most recent (Mar 2026) first", months)
	}
	for _, path := range []string{"/insight/equity", "/insight/waiting", "/insight/report", "/caseloads"} {
		if st := p.open(path); st != 200 {
			t.Errorf("GET %s: %d", path, st)
		}
	}

	// A care co-ordinator's own view, at both sizes with axe: their rate
	// beside their team's, and the people on their caseload not yet told.
	c := b.newPage(t, e, "clinician")
	c.signIn(e.Users["clinician"].Email, testkit.Password)
	if st := c.open("/insight/mine"); st != 200 {
		t.Fatalf("GET /insight/mine: %d", st)
	}
	mine := eval[string](c, `document.querySelector('main').innerText`)
	for _, want := range []string{"You", e.TeamA.Name, "not told about peer support in 12 months"} {
		if !strings.Contains(mine, want) {
			t.Errorf("the co-ordinator's own view does not say %q:\n%s", want, mine)
		}
	}
	if strings.Contains(mine, e.Users["clinicianB"].Email) || strings.Contains(mine, e.Users["clinicianB"].Name) {
		t.Errorf("the co-ordinator's own view shows another co-ordinator:\n%s", mine)
	}
}

// pagePaths lists every GET page in the route table that needs no path
// values: not the API, FHIR JSON, static files, CSV downloads or
// operations endpoints.
func pagePaths(e *webtest.Env) []string {
	var out []string
	for _, rt := range e.Server.Routes() {
		method, path, ok := strings.Cut(rt.Pattern, " ")
		if !ok || method != "GET" || rt.API() != nil {
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		switch {
		case strings.Contains(path, "{"), strings.HasPrefix(path, "/api/"), strings.HasPrefix(path, "/assets/"), strings.HasPrefix(path, "/fhir/"),
			strings.HasSuffix(path, ".csv"), strings.HasSuffix(path, ".ico"), strings.HasSuffix(path, ".json"),
			path == "/healthz", path == "/readyz", path == "/metrics":
			continue
		}
		out = append(out, path)
	}
	sort.Strings(out)
	return out
}

// TestEveryPage visits every GET page without path values as an
// administrator and as someone not signed in, and checks each page
// reached at both sizes.
func TestEveryPage(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	paths := pagePaths(e)
	if len(paths) < 20 {
		t.Fatalf("only %d pages found in the route table: %v", len(paths), paths)
	}

	for _, who := range []string{"anonymous", "admin"} {
		t.Run(who, func(t *testing.T) {
			p := b.newPage(t, e, who)
			if who != "anonymous" {
				p.signIn(e.Users[who].Email, testkit.Password)
				p.wantPath("/")
			}
			var log []string
			for _, path := range paths {
				st := p.open(path)
				at := p.Path()
				log = append(log, fmt.Sprintf("%-28s %d %s", path, st, at))
				switch {
				case st >= 500:
					// reported by open
				case who == "anonymous" && st == 200 && strings.HasPrefix(at, "/sign-in") && path != "/sign-in":
					// sent to sign in: fine
				case st == 200 || st == 403:
					if h1 := p.h1(); h1 == "" {
						t.Errorf("%s: no h1 on %s", path, at)
					}
				default:
					t.Errorf("%s as %s: status %d at %s", path, who, st, at)
				}
			}
			t.Logf("pages as %s:\n%s", who, strings.Join(log, "\n"))
		})
	}
	b.mu.Lock()
	t.Logf("%d distinct pages checked with axe so far in this run", b.pages)
	b.mu.Unlock()
}
