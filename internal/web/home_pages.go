package web

import (
	"html/template"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// homeRoutes are the home page and notifications: one line per route.
func (s *Server) homeRoutes() []*Route {
	return []*Route{
		pageRoute("GET /{$}", app.PermPublic, s.handleHome),
		pageRoute("POST /notifications/read", app.PermSignedIn, s.handleNotificationsRead),
		apiRoute("GET /api/v1/notifications", app.PermSignedIn, opNotifications, s.apiNotifications),
		apiRoute("GET /api/v1/home", app.PermSignedIn, opHome, s.apiHome),
		apiRoute("POST /api/v1/notifications/read", app.PermSignedIn, opNotificationsRead, s.apiNotificationsRead),
	}
}

type homeData struct {
	Notifications []notify.Notification
	Unread        int
	Counts        referral.Counts
	// Links are the lists the figures count, made from the same filters.
	Links homeLinks
	// AlertCounts are the alerts waiting for the reader: numbers only, so
	// the most visited page reads no one's data (the list, audited, is a
	// click away).
	AlertCounts alert.Counts
	Manager     *managerGlance
	Running     int // coming sessions the caller facilitates or leads
	// IdeasWaiting are network proposals waiting for an answer (for those
	// who answer them).
	IdeasWaiting int
	Can          map[string]bool
	IsPerson     bool
	IsCarer      bool
	// Moderator: the community's review queue, risk first (the first ten),
	// and how many posts wait in all. Display names and topic titles only:
	// nobody's record is read.
	Moderator  bool
	Moderation []community.QueueItem
	ModWaiting int
	ModRisk    int
	// Acting is which roles an account that is both staff and someone who
	// uses services is using now (work or own); empty for other accounts.
	Acting string
}

// homeLinks are the list pages the home figures link to.
type homeLinks struct {
	Waiting, Overdue, Risk, Mine, Made string
}

// managerGlance is what a service manager sees at a glance: the waiting
// list and the alerts in numbers, and the groups referred less than
// expected.
type managerGlance struct {
	Waiting referral.Totals
	Alerts  alert.Counts
	// Under are the groups referred significantly less often than everyone
	// else in the last 12 months ("Ethnic group: Black Caribbean").
	Under       []string
	EquityError bool
}

// listLink is the referral list page for a filter: the home page links to
// the list its figure counts.
func listLink(f referral.Filter) string {
	v := url.Values{}
	for _, st := range f.Statuses {
		v.Add("status", string(st))
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	if f.Risk {
		v.Set("risk", "1")
	}
	if f.WorkerID != 0 {
		v.Set("mine", "1")
	}
	if f.MadeBy != 0 {
		v.Set("made", "1")
	}
	return "/referrals?" + v.Encode()
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p == nil || p.MFAPending || p.MFASetup {
		return s.page(w, r, http.StatusOK, "landing", &ui.Page{Title: "Peer support, for everyone who could use it"})
	}
	d := homeData{
		IsPerson:  p.HasRole(app.RolePerson),
		IsCarer:   p.HasRole(app.RoleCarer),
		Moderator: p.HasRole(app.RoleModerator),
		Acting:    p.Acting,
		Can: map[string]bool{
			"refer":    p.Can(app.PermReferralCreate),
			"read":     p.Can(app.PermReferralRead),
			"triage":   p.Can(app.PermReferralTriage),
			"people":   p.Can(app.PermPersonRead),
			"insight":  p.Can(app.PermInsightRead),
			"import":   p.Can(app.PermCaseloadImport),
			"admin":    p.Can(app.PermAdminUsers),
			"audit":    p.Can(app.PermAuditRead),
			"work":     p.Can(app.PermReferralWork),
			"run":      p.Can(app.PermGroupRun),
			"manage":   p.Can(app.PermGroupManage),
			"network":  p.Can(app.PermNetworkJoin),
			"profile":  p.Can(app.PermWorkerProfile),
			"alerts":   p.Can(app.PermAlertRead),
			"safety":   p.Can(app.PermSafetySettings),
			"reviews":  p.Can(app.PermRecoveryWork),
			"feedback": p.Can(app.PermFeedbackRead),
		},
		Links: homeLinks{Waiting: listLink(referral.WaitingFilter()), Overdue: listLink(referral.PastStandardFilter()),
			Risk: listLink(referral.AtRiskFilter()), Mine: listLink(referral.AllocatedFilter(p.UserID)), Made: listLink(referral.MadeOpenFilter(p.UserID))},
	}
	var err error
	if d.Notifications, err = s.notify.List(r.Context(), p, 10); err != nil {
		return err
	}
	for _, n := range d.Notifications {
		if n.ReadAt == nil {
			d.Unread++
		}
	}
	if p.Can(app.PermReferralRead) {
		if d.Counts, err = s.referrals.Counts(r.Context(), p); err != nil {
			return err
		}
	}
	if p.Can(app.PermModerate) {
		if d.Moderation, err = s.community.Queue(r.Context(), p); err != nil {
			return err
		}
		d.ModWaiting = len(d.Moderation)
		for _, q := range d.Moderation {
			if q.Risk {
				d.ModRisk++
			}
		}
		d.Moderation = d.Moderation[:min(len(d.Moderation), 10)]
	}
	if p.Can(app.PermAlertRespond) {
		if d.AlertCounts, err = s.alerts.CountsFor(r.Context(), p); err != nil {
			return err
		}
	}
	if p.HasRole(app.RoleServiceManager) {
		if d.Manager, err = s.managerGlance(r, p); err != nil {
			return err
		}
	}
	if d.Running, d.IdeasWaiting, err = s.groupFigures(r, p); err != nil {
		return err
	}
	pg := &ui.Page{Title: "Home", Data: d}
	if pg.Content, err = s.homeContent(p.UserID, pg); err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "home", pg)
}

// glanceTTL is how long a manager's equity glance is reused: it counts a
// year of caseloads and referrals.
const glanceTTL = 5 * time.Minute

func (s *Server) managerGlance(r *http.Request, p *app.Principal) (*managerGlance, error) {
	g := &managerGlance{}
	var err error
	if g.Waiting, err = s.referrals.WaitingTotals(r.Context(), p); err != nil {
		return nil, err
	}
	if g.Alerts, err = s.alerts.Totals(r.Context(), p); err != nil {
		return nil, err
	}
	if under, ok := s.glances.Get(0, glanceTTL); ok {
		g.Under = under
		return g, nil
	}
	period, err := insight.ParsePeriod("", "", s.clock.Now())
	if err != nil {
		return nil, err
	}
	eq, err := s.insight.EquityOfAccess(r.Context(), p, period, nil)
	if err != nil {
		// The glance is a convenience: the waiting list and the alerts
		// still show, and the link to insight says where to look.
		s.log.Warn("equity glance for the home page", "err", err)
		g.EquityError = true
		return g, nil
	}
	g.Under = []string{}
	for _, t := range eq.Tables {
		for _, row := range t.Rows {
			if row.Under {
				g.Under = append(g.Under, t.Label+": "+row.Group)
			}
		}
	}
	s.glances.Put(0, g.Under)
	return g, nil
}

// homeContent returns the home page's content for an account. The home
// page is the most visited page and its figures change rarely (they are
// themselves reused for a few seconds), so each account's last rendering is
// kept with the data it was drawn from and reused while the data is exactly
// the same. Only the content is kept: the layout around it (nonce, flash
// messages, banner) is drawn per request.
func (s *Server) homeContent(userID int64, pg *ui.Page) (template.HTML, error) {
	d := pg.Data.(homeData)
	if e, ok := s.homes.Get(userID, 0); ok && reflect.DeepEqual(e.data, d) {
		return e.html, nil
	}
	html, err := s.render.RenderContent("home", pg)
	if err != nil {
		return "", err
	}
	s.homes.Put(userID, homeRendered{data: d, html: html})
	return html, nil
}

type homeRendered struct {
	data homeData
	html template.HTML
}

func (s *Server) handleNotificationsRead(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.notify.MarkRead(r.Context(), principal(r)); err != nil {
		return err
	}
	return redirect(w, r, "/")
}

func (s *Server) handleStatic(name, title string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.page(w, r, http.StatusOK, name, &ui.Page{Title: title})
	}
}

// groupFigures are the home page's groups figures: coming sessions the
// caller runs, and the network's ideas waiting for an answer.
func (s *Server) groupFigures(r *http.Request, p *app.Principal) (running, ideas int, err error) {
	if p.Can(app.PermGroupRun) {
		list, err := s.groups.Running(r.Context(), p)
		if err != nil {
			return 0, 0, err
		}
		now := s.clock.Now()
		for _, se := range list {
			if se.StartsAt.After(now) {
				running++
			}
		}
	}
	if p.Can(app.PermGroupManage) {
		if ideas, err = s.groups.OpenProposals(r.Context()); err != nil {
			return 0, 0, err
		}
	}
	return running, ideas, nil
}
