// Package web is Mutual's HTTP surface: NHS-styled pages, the JSON API
// and its OpenAPI document, FHIR views, and operations endpoints. Every
// route is declared once in the route table with the permission it needs;
// handlers call the capability packages and never touch SQL.
package web

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/memo"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/watch"
	"github.com/mutualhq/mutual/internal/web/ui"
)

//go:embed all:templates
var templateFiles embed.FS

// Config is what the web layer needs from the deployment's configuration.
type Config struct {
	BaseURL    string
	RequireMFA bool
	// MailDir is set when there is no SMTP server and email is written to
	// files in this folder (demonstrations): the outbox page says so.
	MailDir        string
	TrustedProxies []netip.Prefix
	Version        string
	// MaxInFlight bounds the requests this instance works on at once
	// (0: DefaultMaxInFlight for its CPUs and database pool); QueueWait is
	// how long a request may wait for a turn before it is answered 503
	// (0: DefaultQueueWait). See admission.go.
	MaxInFlight int
	QueueWait   time.Duration
	// LivePoll is how often a live page's stream looks for new posts (0:
	// livePoll); tests shorten it.
	LivePoll time.Duration
}

// Deps are the capability services the server calls.
type Deps struct {
	DB        *store.DB
	Clock     app.Clock
	Audit     *audit.Log
	Accounts  *account.Service
	People    *person.Service
	Notify    *notify.Service
	Referrals *referral.Service
	Insight   *insight.Service
	Caseloads *caseload.Service
	Groups    *groups.Service
	Matching  *matching.Service
	Watch     *watch.Service
	Alerts    *alert.Service
	Recovery  *recovery.Service
	Community *community.Service
	Support   *support.Service
	Counters  *ratelimit.Counters
	Log       *slog.Logger
	// DataRights makes people's copies of their data.
	DataRights *datarights.Service
}

// Server serves Mutual over HTTP.
type Server struct {
	cfg        Config
	db         *store.DB
	clock      app.Clock
	audit      *audit.Log
	accounts   *account.Service
	people     *person.Service
	notify     *notify.Service
	referrals  *referral.Service
	insight    *insight.Service
	caseloads  *caseload.Service
	dataRights *datarights.Service
	groups     *groups.Service
	matching   *matching.Service
	watch      *watch.Service
	alerts     *alert.Service
	recovery   *recovery.Service
	community  *community.Service
	support    *support.Service
	counters   *ratelimit.Counters
	log        *slog.Logger
	render     *ui.Renderer
	homes      memo.Map[int64, homeRendered] // see homeContent
	glances    memo.Map[int, []string]       // the managers' equity glance (managerGlance)
	metrics    *metrics
	// publicForms sheds floods of the public self-referral form before they
	// reach the database.
	publicForms *ratelimit.Memory
	routes      []*Route
	admission   *admission
	handler     http.Handler
	openAPIOnce sync.Once
	openAPIDoc  []byte
	live        liveStreams
}

// New builds the server and its route table. It fails if a template does
// not parse.
func New(cfg Config, d Deps) (*Server, error) {
	s := &Server{cfg: cfg, db: d.DB, clock: d.Clock, audit: d.Audit, accounts: d.Accounts, people: d.People, notify: d.Notify, referrals: d.Referrals, insight: d.Insight, caseloads: d.Caseloads, dataRights: d.DataRights, groups: d.Groups,
		matching: d.Matching, watch: d.Watch, alerts: d.Alerts, recovery: d.Recovery, community: d.Community, support: d.Support,
		// A home page's content is a few kilobytes.
		homes:    memo.Map[int64, homeRendered]{Limit: 2000},
		counters: d.Counters, log: d.Log, metrics: newMetrics(d.DB), publicForms: ratelimit.NewMemory(publicFormEvery, publicFormBurst)}
	pages, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	if s.render, err = ui.NewRenderer(pages, s.allTemplateFuncs()...); err != nil {
		return nil, err
	}
	s.live = liveStreams{stop: make(chan struct{}), poll: cmp.Or(cfg.LivePoll, livePoll), latest: memo.Map[int64, int64]{Limit: 10000}}
	s.routes = s.routeTable()
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.Pattern, s.wrap(rt))
	}
	mux.Handle("/", s.wrap(&Route{Pattern: "/", Perm: app.PermPublic, page: func(w http.ResponseWriter, r *http.Request) error {
		return app.NotFound("The page")
	}}))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, app.Errorf(app.CodeForbidden, "This request came from another site, so it was refused. Go back, reload the page and try again."))
	}))
	limit := cfg.MaxInFlight
	if limit <= 0 {
		conns := 24
		if d.DB != nil {
			conns = d.DB.ReadConns()
		}
		limit = DefaultMaxInFlight(runtime.GOMAXPROCS(0), conns)
	}
	s.admission = newAdmission(limit, cfg.QueueWait)
	if err := s.renderBusyPage(); err != nil {
		return nil, err
	}
	s.metrics.watchAdmission(s.admission)
	s.handler = s.observe(s.secure(s.admit(cop.Handler(mux))))
	return s, nil
}

// MaxInFlight is how many requests this instance works on at once.
func (s *Server) MaxInFlight() int { return cap(s.admission.slots) }

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes returns the route table, for tests and the OpenAPI document.
func (s *Server) Routes() []*Route { return s.routes }

// wrap turns a route into a handler: find the caller, check the route's
// permission (deny by default), run the handler and render any error.
func (s *Server) wrap(rt *Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slot, ok := r.Context().Value(keyRouteSlot).(*routeSlot); ok {
			slot.rt = rt
		}
		if rt.static {
			_ = rt.page(w, r)
			return
		}
		if err := checkAddress(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.authenticate(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), keyPrincipal, p))
		if err := s.authorise(w, r, rt, p); err != nil {
			if err != errHandled {
				s.writeError(w, r, err)
			}
			return
		}
		h := rt.page
		if h == nil {
			h = rt.api.handle
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

var errHandled = fmt.Errorf("response already written")

func (s *Server) authorise(w http.ResponseWriter, r *http.Request, rt *Route, p *app.Principal) error {
	if p.Can(rt.Perm) {
		return nil
	}
	if p == nil {
		if isAPI(r) {
			return app.Errorf(app.CodeUnauthorized, "Sign in, or send an Authorization: Bearer token")
		}
		next := r.URL.Path
		if r.Method != http.MethodGet {
			next = "/"
		}
		http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(next), http.StatusSeeOther)
		return errHandled
	}
	if p.MFASetup || p.MFAPending {
		if isAPI(r) {
			return app.Errorf(app.CodeUnauthorized, "Finish two-factor sign-in first")
		}
		to := "/sign-in/two-factor"
		if p.MFASetup {
			to = "/account/two-factor/setup"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return errHandled
	}
	_ = audit.RecordAlone(r.Context(), s.db, s.clock.Now(), p.ActorFor(app.PermSignedIn),
		audit.Event{Action: "route.denied", ObjectType: "route", ObjectID: rt.Pattern, Outcome: audit.OutcomeDenied})
	return app.Errorf(app.CodeForbidden, "You do not have access to this page. If you think you should, ask your administrator.")
}

const demoBanner = "Demonstration mode: two-factor sign-in is switched off for staff. Do not use real people's information."

// page renders a full page with the layout's shared parts filled in.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, name string, pg *ui.Page) error {
	p := principal(r)
	pg.Nonce = nonce(r.Context())
	pg.CurrentPath = r.URL.Path
	pg.Nav = navFor(p, r.URL.Path)
	if p != nil && !p.MFAPending && !p.MFASetup {
		pg.UserName = p.Name
	}
	if !s.cfg.RequireMFA {
		pg.Banner = demoBanner
	}
	// An error page leaves a waiting success message for the next page.
	if status < http.StatusBadRequest {
		if f := flashFrom(w, r); f != "" && pg.Flash == "" {
			pg.Flash = f
		}
		if h := helpNowFrom(w, r); h != "" && pg.HelpNow == "" {
			pg.HelpNow = h
		}
	}
	if pg.Form != nil && len(pg.Errors) == 0 {
		pg.Errors = pg.Form.Errors
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The renderer sends nothing if the template fails, so the status is
	// written with the first byte of a page that rendered.
	if err := s.render.Render(&statusOnWrite{w: w, status: status}, name, pg); err != nil {
		return app.Internal(err)
	}
	return nil
}

// statusOnWrite writes the status code just before the first byte.
type statusOnWrite struct {
	w      http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusOnWrite) Write(b []byte) (int, error) {
	if !s.wrote {
		s.w.WriteHeader(s.status)
		s.wrote = true
	}
	return s.w.Write(b)
}

func (s *Server) renderErrorPage(w http.ResponseWriter, r *http.Request, status int, ae *app.Error) {
	title := map[int]string{
		http.StatusNotFound:            "Page not found",
		http.StatusForbidden:           "You do not have access to this page",
		http.StatusInternalServerError: "Sorry, there is a problem with the service",
		http.StatusTooManyRequests:     "Too many requests",
		http.StatusConflict:            "This has changed since you opened it",
		http.StatusServiceUnavailable:  "Sorry, the service is busy",
	}[status]
	if title == "" {
		title = "There is a problem"
	}
	pg := &ui.Page{Title: title, Data: map[string]any{"Message": ae.Message, "Status": status, "RequestID": requestID(r.Context())}}
	if err := s.page(w, r, status, "error", pg); err != nil {
		http.Error(w, ae.Message, status)
	}
}

const flashCookie = "__Host-mutual-flash"

// setFlash stores a one-time success message shown on the next page.
func setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

func flashFrom(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	msg, _ := url.QueryUnescape(c.Value)
	if len(msg) > 300 {
		return ""
	}
	return msg
}

func navFor(p *app.Principal, path string) []ui.NavItem {
	var items []ui.NavItem
	add := func(label, href string) {
		for _, it := range items {
			if it.Href == href {
				return
			}
		}
		current := path == href || (href != "/" && strings.HasPrefix(path, href+"/"))
		items = append(items, ui.NavItem{Label: label, Href: href, Current: current})
	}
	if p == nil || p.MFAPending || p.MFASetup {
		add("Ask for peer support", "/refer")
		add("Groups and events", "/groups")
		add("Give feedback", "/feedback")
		add("Get help now", "/help")
		if p == nil {
			add("Sign in", "/sign-in")
		}
		return items
	}
	add("Home", "/")
	if p.HasRole(app.RolePerson, app.RoleCarer) {
		add("My referrals", "/my/referrals")
		add("My plan", "/my/plan")
		add("My appointments", "/my/appointments")
	}
	if p.HasRole(app.RolePerson, app.RoleCarer) {
		add("My choices", "/my/choices")
	}
	if p.HasRole(app.RolePerson) {
		add("My details", "/my/details")
		add("Who has seen my record", "/my/record-access")
	}
	if p.Can(app.PermSupportWork) && p.HasRole(app.RolePeerWorker) {
		add("My people", "/my/people")
		add("My diary", "/my/diary")
	}
	if p.Can(app.PermWorkerProfile) {
		add("My profile", "/my/profile")
	}
	if p.Can(app.PermPersonRead) {
		add("People", "/people")
	}
	if p.Can(app.PermReferralRead) {
		add("Referrals", "/referrals")
		add("Make a referral", "/referrals/new")
	}
	if p.Can(app.PermAlertRead) {
		add("Alerts", "/alerts")
	}
	if p.Can(app.PermReferralTriage) {
		add("Allocation", "/matching/plans/new")
	}
	add("Groups", "/groups")
	add("Community", "/community")
	if p.Can(app.PermModerate) {
		add("Moderation", "/community/moderation")
	}
	if p.Can(app.PermNetworkJoin) {
		add("Network", "/network")
	}
	if p.Can(app.PermRecoveryWork) {
		add("Reviews due", "/recovery/reviews")
	}
	if p.Can(app.PermFeedbackRead) {
		add("Feedback", "/feedback/inbox")
	}
	if p.Can(app.PermInsightOwn) {
		add("Your referrals", "/insight/mine")
	}
	if p.Can(app.PermInsightRead) {
		add("Insight", "/insight")
		add("Outcomes", "/recovery/outcomes")
	}
	if p.Can(app.PermCaseloadImport) {
		add("Caseloads", "/caseloads")
	}
	if p.Can(app.PermAdminUsers) {
		add("Accounts", "/admin/users")
		add("Teams", "/admin/teams")
	}
	if p.Can(app.PermAuditRead) {
		add("Audit", "/admin/audit")
	}
	add("Get help now", "/help")
	return items
}

func (s *Server) templateFuncs() template.FuncMap {
	fm := template.FuncMap{
		"roleLabel":    func(r app.Role) string { return r.Label() },
		"settingLabel": func(st account.Setting) string { return st.Label() },
		"version":      func() string { return s.cfg.Version },
		"add":          func(a, b float64) float64 { return a + b },
		"sub":          func(a, b float64) float64 { return a - b },
		"mul":          func(a, b float64) float64 { return a * b },
		"div":          func(a, b float64) float64 { return a / b },
		"lower":        strings.ToLower,
		// firstWord is someone's first name, for telling a person who their
		// worker is without more than they need.
		"firstWord":  func(name string) string { first, _, _ := strings.Cut(strings.TrimSpace(name), " "); return first },
		"classLabel": classLabel,
		// Labels for codes held as plain strings: one source, the Go lists.
		"reasonLabel": func(code string) string {
			if l := referral.ReasonLabel(referral.DeclineReasons, code); l != code {
				return l
			}
			return referral.ReasonLabel(referral.EndReasons, code)
		},
		"roleText":         func(r string) string { return firstNonEmpty(app.Role(r).Label(), r) },
		"settingText":      func(st string) string { return firstNonEmpty(account.Setting(st).Label(), st) },
		"modeLabel":        func(c string) string { return referral.ReasonLabel(referral.ContactModes, c) },
		"supportTypeLabel": func(c string) string { return referral.ReasonLabel(referral.SupportTypes, c) },
		"contactPrefLabel": func(c string) string { return referral.ReasonLabel(person.ContactPreferences, c) },
		"methodLabel":      referral.MethodLabel,
		"responseLabel":    referral.ResponseLabel,
		"choiceWords":      matching.Describe,
		"moveLabel":        func(st support.Status) string { return moveLabels[st] },
		"londonTime":       func(t time.Time) string { return t.In(app.London).Format("15:04") },
		"londonDate":       func(t time.Time, layout string) string { return t.In(app.London).Format(layout) },
		"londonDay":        func(t time.Time) string { return t.In(app.London).Format("Monday 2 January") },
		"add1":             func(i int) int { return i + 1 },
		"sub1":             func(i int) int { return i - 1 },
		"percent":          func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
		"days":             func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
		"workerName": func(ws []matching.PlanWorker, id int64) string {
			for _, w := range ws {
				if w.WorkerID == id {
					return w.Name
				}
			}
			return "A worker"
		},
		"audienceLabel":  func(c string) string { return app.ChoiceLabel(matching.Audiences, c) },
		"kindLabel":      func(c string) string { return app.ChoiceLabel(matching.Kinds, c) },
		"settingChoice":  func(c string) string { return app.ChoiceLabel(matching.WorkerSettings, c) },
		"alertKindLabel": func(k alert.Kind) string { return k.Label() },
		"statusLabel":    func(st string) string { return firstNonEmpty(referral.Status(st).Label(), st) },
		"categoryWords":  categoryWords,
		// lines splits plain text into its non-empty lines, each shown as a
		// paragraph: posts are plain text, never HTML.
		"lines": func(text string) []string {
			var out []string
			for l := range strings.SplitSeq(text, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					out = append(out, l)
				}
			}
			return out
		},
	}
	return fm
}

// allTemplateFuncs are the shared template functions and each
// capability's own; the renderer refuses a name given twice.
func (s *Server) allTemplateFuncs() []template.FuncMap {
	return []template.FuncMap{s.templateFuncs(), recoveryTemplateFuncs(), insightTemplateFuncs()}
}

// categoryWords lists watched-word category codes in words: "suicide and
// means of harm".
func categoryWords(codes []string) string {
	var ws []string
	for _, c := range codes {
		ws = append(ws, strings.ToLower(firstNonEmpty(watch.Category(c).Label(), c)))
	}
	switch len(ws) {
	case 0:
		return "possible risk"
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}
