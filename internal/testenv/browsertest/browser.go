// Package browsertest drives a real Mutual server (internal/webtest) with
// headless Chromium through chromedp, the way people use it: typing into
// fields, clicking buttons and links, with JavaScript on or off, at a
// desktop and a mobile width. Every page a test reaches is checked with
// axe-core (WCAG 2.2 AA rules) at both widths, and at 375 px for sideways
// scrolling.
//
// Chromium is found through MUTUAL_CHROMIUM, /usr/bin/chromium or PATH;
// axe-core comes from node_modules (npm ci). Without them the tests skip,
// except under CI=true, where they fail: a browser test must never skip in
// CI. Set MUTUAL_SCREENSHOTS=dir to save a screenshot of every page checked,
// and MUTUAL_BROWSER_TRACE=1 to log how long each step takes.
//
// Failures that are the product's (a page answering 5xx, an axe violation,
// sideways scrolling) start with "PRODUCT:". A violation found again on
// later pages is reported once and the other pages are listed when the
// tests are done. The tests share one Chromium (each page in a browser
// context of its own), and a page already checked (same route, title,
// state and structure), by this test or another, is not checked again, to
// keep the package quick.
package browsertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// actionTimeout bounds one browser step, so a missing element fails the
// test with a message instead of hanging until the go test timeout.
const actionTimeout = 20 * time.Second

// The two sizes every page is checked at.
var (
	desktop = viewport{Name: "desktop", Width: 1280, Height: 900}
	mobile  = viewport{Name: "mobile", Width: 375, Height: 812, Mobile: true}
)

type viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// chromiumPath finds the browser: MUTUAL_CHROMIUM, then /usr/bin/chromium,
// then the usual names on PATH.
func chromiumPath() string {
	if p := os.Getenv("MUTUAL_CHROMIUM"); p != "" {
		if lp, err := exec.LookPath(p); err == nil {
			return lp
		}
		return ""
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if lp, err := exec.LookPath(name); err == nil {
			return lp
		}
	}
	return ""
}

// missing skips the test, or fails it under CI=true.
func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (browser tests never skip under CI=true)", what)
	}
	t.Skip(what)
}

// repoRoot walks up from the working directory to the folder with go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

var (
	axeOnce sync.Once
	axeJS   string
	axeErr  error
)

// axeSource reads node_modules/axe-core/axe.min.js once.
func axeSource(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(filepath.Join(repoRoot(t), "node_modules", "axe-core", "axe.min.js"))
		axeJS = string(b)
	})
	if axeErr != nil {
		missing(t, fmt.Sprintf("axe-core is not installed (%v): run `npm ci` in the repository root, or scripts/test-deps.sh", axeErr))
	}
	return axeJS
}

// browser is one Chromium process, shared by the pages of one test
// function. It remembers which pages it has checked with axe.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	checked  map[string]bool     // page keys already checked at both sizes
	reported map[string][]string // violation key -> the pages it was found on, first reported on the first
	pages    int                 // pages checked, for the log
	shots    int                 // screenshots taken, to number them
}

// newBrowser returns the process's headless Chromium, started by the first
// test that asks, or skips (fails under CI=true) when it is not installed.
// Every test shares it: each page is a tab in a browser context of its own
// (newPage), so tests share no cookies or storage, and a page shape one
// test has checked is not checked again by another. Starting Chromium for
// each test, and checking the same pages in test after test, was about a
// fifth of the package's processor time (527 s against 409 s).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		missing(t, "Chromium not found for the browser tests. Install it with: "+
			"sudo apt-get install -y --no-install-recommends chromium   (or set MUTUAL_CHROMIUM=/path/to/chrome)")
	}
	axeSource(t)
	shared.once.Do(func() { shared.b, shared.err = startBrowser(exe) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.b
}

var shared struct {
	once sync.Once
	b    *browser
	err  error
	stop func()
}

func startBrowser(exe string) (*browser, error) {
	dir, err := os.MkdirTemp("", "mutual-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // Chromium refuses to start as root without it
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(int(desktop.Width), int(desktop.Height)),
		// A closed network refuses Chromium's own connections; stop it
		// making them.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("force-color-profile", "srgb"),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	shared.stop = func() { cancel(); acancel(); _ = os.RemoveAll(dir) }
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		shared.stop()
		return nil, fmt.Errorf("starting Chromium (%s): %w", exe, err)
	}
	fmt.Fprintf(os.Stderr, "browsertest: Chromium started in %v\n", time.Since(start).Round(time.Millisecond))
	return &browser{ctx: ctx, checked: map[string]bool{}, reported: map[string][]string{}}, nil
}

// page is one tab in its own browser context: its own cookies, like a
// separate person on a separate device.
type page struct {
	t    *testing.T
	b    *browser
	e    *webtest.Env
	ctx  context.Context
	name string
	vp   viewport
	js   bool
	// Status is the HTTP status of the last document loaded.
	Status int64
}

// newPage opens a fresh, signed-out tab at the desktop size.
func (b *browser) newPage(t *testing.T, e *webtest.Env, name string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no timeout
		t.Fatalf("opening a tab: %v", err)
	}
	p := &page{t: t, b: b, e: e, ctx: ctx, name: name, vp: desktop, js: true}
	p.do("setting the desktop size", p.emulate(desktop))
	return p
}

func (p *page) emulate(v viewport) chromedp.Action[chromedp.Void] {
	var opts []chromedp.EmulateViewportOption
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(v.Width, v.Height, opts...)
}

// setViewport changes the size the page is used at.
func (p *page) setViewport(v viewport) {
	p.t.Helper()
	p.vp = v
	p.do("resizing to "+v.Name, p.emulate(v))
}

// disableJS switches script execution off for this tab, as for someone
// whose browser has JavaScript turned off or failed to load it.
func (p *page) disableJS() {
	p.t.Helper()
	p.js = false
	p.setScripts(false)
}

func (p *page) setScripts(on bool) {
	p.t.Helper()
	p.do(fmt.Sprintf("setting script execution to %v", on), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	}))
}

// do runs browser steps with a timeout, failing the test on error.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s on %s: %v", what, p.where(), err)
	}
}

// eval evaluates JavaScript in the page (DevTools can, even with the
// page's scripts off) and decodes the result.
func eval[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluating %.80q on %s: %v", js, p.name, err)
	}
	return v
}

// where describes the page for failure messages.
func (p *page) where() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		return p.name
	}
	return fmt.Sprintf("%s (%s)", loc, p.name)
}

// Path is the path and query of the page now shown.
func (p *page) Path() string {
	p.t.Helper()
	return eval[string](p, `location.pathname + location.search`)
}

// nav loads a path and returns the HTTP status of the document finally
// shown, without checking the page.
func (p *page) nav(path string) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(p.e.URL+path))
	if err != nil {
		p.t.Fatalf("loading %s: %v", path, err)
	}
	p.Status = 0
	if resp != nil {
		p.Status = resp.Status
	}
	p.failOnServerError("GET " + path)
	return p.Status
}

// open loads a path, checks the page (axe at both sizes, no sideways
// scrolling) and returns the HTTP status.
func (p *page) open(path string) int64 {
	p.t.Helper()
	st := p.nav(path)
	p.check()
	return st
}

func (p *page) failOnServerError(what string) {
	p.t.Helper()
	if p.Status >= 500 {
		p.t.Errorf("PRODUCT: %s on %s answered %d: %s", what, p.where(), p.Status, p.excerpt())
	}
}

// excerpt is the start of the main content's text, for messages.
func (p *page) excerpt() string {
	s := eval[string](p, `(document.querySelector('main') || document.body || document.documentElement).innerText`)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// mark finds one element with a JavaScript expression and tags it so that
// chromedp can act on it with real mouse and keyboard events.
func (p *page) mark(what, js string) chromedp.CSS {
	p.t.Helper()
	id := fmt.Sprintf("bt%d", time.Now().UnixNano())
	ok := eval[bool](p, `(() => { const el = (`+js+`); if (!el) return false; el.setAttribute('data-bt', `+quote(id)+`); return true; })()`)
	if !ok {
		p.t.Fatalf("no %s on %s: %s", what, p.where(), p.excerpt())
	}
	return chromedp.CSS(`[data-bt="` + id + `"]`)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// field finds a form control by id, or else by name.
func fieldJS(key string) string {
	return `(document.getElementById(` + quote(key) + `) || document.querySelector('[name=' + CSS.escape(` + quote(key) + `) + ']'))`
}

// fill types a value into a text field, textarea or select (found by id
// or name), replacing what was there.
func (p *page) fill(key, value string) {
	p.t.Helper()
	if os.Getenv("MUTUAL_BROWSER_TRACE") != "" {
		defer func(start time.Time) { p.t.Logf("filled %s in %v", key, time.Since(start).Round(time.Millisecond)) }(time.Now())
	}
	tag := eval[string](p, `(() => { const el = `+fieldJS(key)+`; return el ? el.tagName : ''; })()`)
	switch tag {
	case "":
		p.t.Fatalf("no field %q on %s", key, p.where())
	case "SELECT":
		sel := p.mark("select "+key, fieldJS(key))
		p.do("choosing "+value+" in "+key, chromedp.SetValue(sel, value))
		return
	}
	sel := p.mark("field "+key, fieldJS(key))
	eval[bool](p, `(() => { const el = document.querySelector(`+quote(string(sel))+`); el.value = ''; return true; })()`)
	if value != "" {
		p.do("typing into "+key, chromedp.SendKeys(sel, value))
	}
}

// value reads a field's current value.
func (p *page) value(key string) string {
	p.t.Helper()
	return eval[string](p, `(() => { const el = `+fieldJS(key)+`; return el ? el.value : '<no field>'; })()`)
}

// choose clicks the label of the radio or checkbox with this name and
// value, as a person would.
func (p *page) choose(name, value string) {
	p.t.Helper()
	input := `document.querySelector('input[name=' + CSS.escape(` + quote(name) + `) + '][value=' + CSS.escape(` + quote(value) + `) + ']')`
	lbl := p.mark(fmt.Sprintf("option %s=%s", name, value), `(() => { const i = `+input+`; return i && i.id ? document.querySelector('label[for=' + CSS.escape(i.id) + ']') : null; })()`)
	p.do(fmt.Sprintf("choosing %s=%s", name, value), chromedp.Click(lbl))
	if !p.isChecked(name, value) {
		p.t.Fatalf("clicking the label of %s=%s did not select it on %s", name, value, p.where())
	}
}

func (p *page) isChecked(name, value string) bool {
	p.t.Helper()
	return eval[bool](p, `(() => { const i = document.querySelector('input[name=' + CSS.escape(`+quote(name)+`) + '][value=' + CSS.escape(`+quote(value)+`) + ']'); return !!(i && i.checked); })()`)
}

// clickableJS finds a visible button or link (or summary, if summaries)
// whose text is (or,
// failing that, starts with) text, in the main content if there is one
// there, or else anywhere on the page.
func clickableJS(text string, summaries bool) string {
	kinds := "button, a, input[type=submit]"
	if summaries {
		kinds += ", summary"
	}
	return `(() => {
  const want = ` + quote(text) + `;
  const norm = s => (s || '').replace(/\s+/g, ' ').trim();
  const text = el => norm(el.tagName === 'INPUT' ? el.value : el.innerText);
  const find = root => {
    const els = [...root.querySelectorAll(` + quote(kinds) + `)]
      .filter(el => el.getClientRects().length > 0 && !el.closest('[hidden]'));
    return els.find(el => text(el) === want) || els.find(el => text(el).startsWith(want)) || null;
  };
  // The main content first: the header has links such as "Sign in" too.
  return (document.querySelector('main') && find(document.querySelector('main'))) || find(document);
})()`
}

// clickText clicks a visible button, link or summary by its text, with no
// navigation expected.
func (p *page) clickText(text string) {
	p.t.Helper()
	sel := p.mark(fmt.Sprintf("button, link or summary %q", text), clickableJS(text, true))
	p.do("clicking "+text, chromedp.Click(sel))
}

// openDetails opens an NHS details or expander by its summary text.
func (p *page) openDetails(summary string) {
	p.t.Helper()
	sel := p.mark(fmt.Sprintf("details %q", summary), `(() => {
  const want = `+quote(summary)+`;
  return [...document.querySelectorAll('details')].find(d => d.querySelector('summary') && d.querySelector('summary').innerText.replace(/\s+/g, ' ').trim().startsWith(want)) || null;
})()`)
	isOpen := eval[bool](p, `(() => { const d = document.querySelector(`+quote(string(sel))+`); return d.open; })()`)
	if !isOpen {
		p.do("opening "+summary, chromedp.Click(chromedp.CSS(string(sel)+" > summary")))
	}
	if !eval[bool](p, `document.querySelector(`+quote(string(sel))+`).open`) {
		p.t.Fatalf("details %q did not open on %s", summary, p.where())
	}
}

// follow clicks a button or link that loads a new page and waits for it,
// without checking the page. It returns the HTTP status.
func (p *page) follow(text string) int64 {
	p.t.Helper()
	sel := p.mark(fmt.Sprintf("button or link %q", text), clickableJS(text, false))
	return p.clickAndWait(text, sel)
}

func (p *page) clickAndWait(what string, sel chromedp.CSS) int64 {
	p.t.Helper()
	if os.Getenv("MUTUAL_BROWSER_TRACE") != "" {
		defer func(start time.Time) {
			p.t.Logf("clicked %s and loaded in %v", what, time.Since(start).Round(time.Millisecond))
		}(time.Now())
	}
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		p.t.Fatalf("clicking %q on %s: %v", what, p.name, err)
	}
	p.Status = 0
	if resp != nil {
		p.Status = resp.Status
	}
	p.failOnServerError("clicking " + what)
	return p.Status
}

// press clicks a button or link that loads a new page, then checks the
// page it lands on. It returns the HTTP status.
func (p *page) press(text string) int64 {
	p.t.Helper()
	st := p.follow(text)
	p.check()
	return st
}

// text is the visible text of the first element matching a CSS selector,
// or "" when there is none.
func (p *page) text(css string) string {
	p.t.Helper()
	return eval[string](p, `(() => { const el = document.querySelector(`+quote(css)+`); return el ? el.innerText.replace(/\s+/g, ' ').trim() : ''; })()`)
}

// texts is the visible text of every element matching a CSS selector.
func (p *page) texts(css string) []string {
	p.t.Helper()
	return eval[[]string](p, `[...document.querySelectorAll(`+quote(css)+`)].map(el => el.innerText.replace(/\s+/g, ' ').trim())`)
}

// mainText is the visible text of the main content, whitespace folded.
func (p *page) mainText() string {
	p.t.Helper()
	return p.text("main")
}

// header is the visible text of the page header.
func (p *page) header() string {
	p.t.Helper()
	return p.text("header")
}

// h1 is the page's main heading.
func (p *page) h1() string {
	p.t.Helper()
	return p.text("h1")
}

// wantText fails unless the main content contains every string.
func (p *page) wantText(wants ...string) {
	p.t.Helper()
	got := p.mainText()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			p.t.Errorf("on %s: want %q in the page; the page says: %.600s", p.where(), w, got)
		}
	}
}

// wantPath fails unless the page is at path (ignoring the query unless
// path has one).
func (p *page) wantPath(path string) {
	p.t.Helper()
	got := p.Path()
	if !strings.Contains(path, "?") {
		got, _, _ = strings.Cut(got, "?")
	}
	if got != path {
		p.t.Fatalf("want to be at %s, am at %s (status %d): %s", path, got, p.Status, p.excerpt())
	}
}

// summaryError is one entry in the NHS error summary.
type summaryError struct {
	Text   string `json:"text"`
	Href   string `json:"href"`
	Target string `json:"target"` // tag name of the element the link points at, "" if none
}

// errorSummary lists the error summary's entries, and whether each link
// points at an element on the page.
func (p *page) errorSummary() []summaryError {
	p.t.Helper()
	return eval[[]summaryError](p, `[...document.querySelectorAll('.nhsuk-error-summary li')].map(li => {
  const a = li.querySelector('a');
  const href = a ? a.getAttribute('href') : '';
  const el = href && href.startsWith('#') ? document.getElementById(decodeURIComponent(href.slice(1))) : null;
  return {text: li.innerText.replace(/\s+/g, ' ').trim(), href: href || '', target: el ? el.tagName : ''};
})`)
}

// wantSummaryError fails unless the error summary has an entry containing
// text that links to the field with this id.
func (p *page) wantSummaryError(text, fieldID string) {
	p.t.Helper()
	errs := p.errorSummary()
	for _, e := range errs {
		if strings.Contains(e.Text, text) {
			if e.Href != "#"+fieldID {
				p.t.Errorf("on %s: error %q links to %q, want #%s", p.where(), e.Text, e.Href, fieldID)
			} else if e.Target == "" {
				p.t.Errorf("on %s: error %q links to #%s but there is no element with that id", p.where(), e.Text, fieldID)
			}
			return
		}
	}
	p.t.Errorf("on %s: want an error summary entry containing %q linked to #%s; have %+v", p.where(), text, fieldID, errs)
}

// fieldError is the error message shown next to a field (its -error
// element), without the visually hidden "Error:" prefix.
func (p *page) fieldError(fieldID string) string {
	p.t.Helper()
	s := p.text("#" + cssEscape(fieldID) + "-error")
	return strings.TrimSpace(strings.TrimPrefix(s, "Error:"))
}

var cssUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

func cssEscape(id string) string {
	return cssUnsafe.ReplaceAllStringFunc(id, func(s string) string { return `\` + s })
}

// flash is the success banner's message, or "".
func (p *page) flash() string {
	p.t.Helper()
	return p.text(".nhsuk-notification-banner--success .nhsuk-notification-banner__heading")
}

// signIn signs in through the form and returns the status of the page it
// lands on.
func (p *page) signIn(email, password string) int64 {
	p.t.Helper()
	p.open("/sign-in")
	p.fill("email", email)
	p.fill("password", password)
	return p.press("Sign in")
}

// signOut uses the header's sign-out button.
func (p *page) signOut() {
	p.t.Helper()
	p.press("Sign out")
	if h := p.header(); strings.Contains(h, "Sign out") {
		p.t.Errorf("still signed in after signing out: header says %q", h)
	}
}

// screenshot saves the viewport-and-beyond as a PNG when MUTUAL_SCREENSHOTS
// names a folder.
func (p *page) screenshot(label string) {
	p.t.Helper()
	dir := os.Getenv("MUTUAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", label, err)
		return
	}
	p.b.mu.Lock()
	p.b.shots++
	n := p.b.shots
	p.b.mu.Unlock()
	name := cssUnsafe.ReplaceAllString(fmt.Sprintf("%s-%03d-%s", p.t.Name(), n, label), "_")
	if len(name) > 180 {
		name = name[:180]
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

var (
	idSegment    = regexp.MustCompile(`/\d+`)
	tokenSegment = regexp.MustCompile(`/[A-Za-z0-9_-]{20,}`)
)

// pageKey identifies "the same page" for axe: the path with ids and tokens
// taken out, the title, whether there are errors or a flash, and the
// page's structure (header controls, headings, forms and their fields,
// tables), so the same route shown to another role is checked again.
func (p *page) pageKey() string {
	type shape struct {
		Path, Title string
		Errors      int
		Flash       bool
		Open        int
		JS          bool
		Structure   string
	}
	s := eval[shape](p, `({Path: location.pathname, Title: document.title,
  Errors: document.querySelectorAll('.nhsuk-error-message').length,
  Flash: !!document.querySelector('.nhsuk-notification-banner'),
  Open: document.querySelectorAll('details[open]').length, JS: false,
  Structure: [...document.querySelectorAll('header a, header button, main h2, main summary, main form, main [name], main table, main svg')]
    .map(el => el.tagName + ':' + (el.getAttribute('name') || el.getAttribute('action') || '')).join(' ')})`)
	s.Path = tokenSegment.ReplaceAllString(idSegment.ReplaceAllString(s.Path, "/{id}"), "/{token}")
	s.JS = p.js
	b, _ := json.Marshal(s)
	h := sha256.Sum256(b)
	return s.Path + " " + hex.EncodeToString(h[:6])
}

// check runs the page checks on the page now shown: axe at the desktop size
// and again at 375 px, and no sideways scrolling at 375 px. A page already
// checked in this run (same path pattern, title and state), by any test,
// is not checked again. The page is left at the size it was used at.
func (p *page) check() {
	p.t.Helper()
	key := p.pageKey()
	p.b.mu.Lock()
	seen := p.b.checked[key]
	p.b.checked[key] = true
	if !seen {
		p.b.pages++
	}
	p.b.mu.Unlock()
	if seen {
		return
	}
	where := p.where()
	start := time.Now()
	defer func() {
		if os.Getenv("MUTUAL_BROWSER_TRACE") != "" {
			p.t.Logf("checked %s in %v", where, time.Since(start).Round(time.Millisecond))
		}
	}()
	if !p.js {
		// axe-core needs timers and promises, which do not run while
		// script execution is off; the page's own scripts do not run again.
		p.setScripts(true)
		defer p.setScripts(false)
	}
	sizes := []viewport{desktop, mobile}
	if p.vp.Mobile {
		sizes = []viewport{mobile, desktop}
	}
	for _, v := range sizes {
		if v != p.vp {
			p.do("resizing to "+v.Name, p.emulate(v))
		}
		// Let the page's scripts finish reacting to the size (the NHS
		// header moves navigation items into its menu on the next
		// animation frames).
		eval[bool](p, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => r(true), 50))))`)
		label := where + " at " + v.Name
		t0 := time.Now()
		checkAxe(p.t, p.ctx, label, p.b)
		if os.Getenv("MUTUAL_BROWSER_TRACE") != "" {
			p.t.Logf("axe on %s took %v", label, time.Since(t0).Round(time.Millisecond))
		}
		if v.Mobile {
			p.checkNoSidewaysScroll(label)
		}
		p.screenshot(strings.TrimPrefix(idSegment.ReplaceAllString(strings.Fields(where)[0], "/id"), "/") + "-" + v.Name)
	}
	if sizes[len(sizes)-1] != p.vp {
		p.do("resizing back to "+p.vp.Name, p.emulate(p.vp))
	}
}

// checkNoSidewaysScroll fails when the page is wider than the viewport,
// naming the elements that stick out.
func (p *page) checkNoSidewaysScroll(label string) {
	p.t.Helper()
	type overflow struct {
		ScrollWidth, ClientWidth int
		Wide                     []string
	}
	o := eval[overflow](p, `(() => {
  const de = document.documentElement, cw = de.clientWidth;
  const wide = [];
  if (de.scrollWidth > cw + 1) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > cw + 1 && r.width > 0) {
        const parentWide = el.parentElement && el.parentElement.getBoundingClientRect().right > cw + 1;
        if (!parentWide || wide.length < 3) wide.push(el.outerHTML.slice(0, 160) + ' (right edge ' + Math.round(r.right) + 'px)');
        if (wide.length >= 6) break;
      }
    }
  }
  return {ScrollWidth: de.scrollWidth, ClientWidth: cw, Wide: wide};
})()`)
	if o.ScrollWidth > o.ClientWidth+1 {
		p.t.Errorf("PRODUCT: %s scrolls sideways: scrollWidth %d > clientWidth %d. Elements past the right edge:\n  %s",
			label, o.ScrollWidth, o.ClientWidth, strings.Join(o.Wide, "\n  "))
	}
}

// axeViolation is one failed axe rule, with the elements that fail it.
type axeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

type axeNode struct {
	Target  []string `json:"target"`
	HTML    string   `json:"html"`
	Summary string   `json:"summary"`
}

// axeRun injects axe-core (once per document) and runs the WCAG 2.0, 2.1
// and 2.2 A and AA rules, returning the serious and critical violations.
const axeRun = `(async () => {
  const r = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
    resultTypes: ['violations'],
  });
  return r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({
        target: n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : String(t)),
        html: n.html.length > 400 ? n.html.slice(0, 400) + '…' : n.html,
        summary: n.failureSummary || ''}))}));
})()`

// checkAxe runs axe-core on the page now shown in ctx and fails the test
// for every serious or critical violation, naming the rule, its help text,
// the elements' selectors and their HTML. b, when not nil, shortens repeats
// of a violation already reported by the same browser.
func checkAxe(t *testing.T, ctx context.Context, label string, b *browser) {
	t.Helper()
	src := axeSource(t)
	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(actx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		t.Fatalf("looking for axe-core on %s: %v", label, err)
	}
	if !loaded {
		// DevTools evaluation is not subject to the page's
		// Content-Security-Policy.
		if _, err := chromedp.Run(actx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("injecting axe-core into %s: %v", label, err)
		}
	}
	vs, err := chromedp.Run(actx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		var ee *chromedp.ExceptionError
		if errors.As(err, &ee) {
			t.Fatalf("axe-core failed on %s: %v", label, ee)
		}
		t.Fatalf("running axe-core on %s: %v", label, err)
	}
	if b != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
	}
	for _, v := range vs {
		var lines []string
		for _, n := range v.Nodes {
			key := v.ID + " on " + strings.Join(n.Target, ", ") + ": " + n.HTML
			if b != nil {
				seen := len(b.reported[key]) > 0
				b.reported[key] = append(b.reported[key], label)
				if seen {
					continue // reported once; listed at the end
				}
			}
			lines = append(lines, fmt.Sprintf("    target: %s\n      html: %s\n      %s", strings.Join(n.Target, ", "), n.HTML,
				strings.ReplaceAll(strings.TrimSpace(n.Summary), "\n", "\n      ")))
		}
		if len(lines) > 0 {
			t.Errorf("PRODUCT: axe %s (%s) on %s: %s\n  %s\n%s", v.ID, v.Impact, label, v.Help, v.HelpURL, strings.Join(lines, "\n"))
		}
	}
}

// logRepeats lists, when the tests are done, the other pages on which an
// already reported violation was found again.
func (b *browser) logRepeats() {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for k, where := range b.reported {
		if len(where) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		where := b.reported[k]
		fmt.Fprintf(os.Stderr, "axe %s\n  first reported on %s; also on %d more: %s\n", k, where[0], len(where)-1, strings.Join(where[1:], "; "))
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
