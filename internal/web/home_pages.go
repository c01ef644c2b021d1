package web

import (
	"html/template"
	"net/http"
	"reflect"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/notify"
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
	Waiting       int
	Overdue       int
	Mine          int
	Running       int // coming sessions the caller facilitates or leads
	IdeasWaiting  int // network proposals waiting for an answer (for those who answer them)
	Can           map[string]bool
	IsPerson      bool
	IsCarer       bool
	// Acting is which roles an account that is both staff and someone who
	// uses services is using now (work or own); empty for other accounts.
	Acting string
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p == nil || p.MFAPending || p.MFASetup {
		return s.page(w, r, http.StatusOK, "landing", &ui.Page{Title: "Peer support, for everyone who could use it"})
	}
	d := homeData{
		IsPerson: p.HasRole(app.RolePerson),
		IsCarer:  p.HasRole(app.RoleCarer),
		Acting:   p.Acting,
		Can: map[string]bool{
			"refer":   p.Can(app.PermReferralCreate),
			"read":    p.Can(app.PermReferralRead),
			"triage":  p.Can(app.PermReferralTriage),
			"people":  p.Can(app.PermPersonRead),
			"insight": p.Can(app.PermInsightRead),
			"import":  p.Can(app.PermCaseloadImport),
			"admin":   p.Can(app.PermAdminUsers),
			"audit":   p.Can(app.PermAuditRead),
			"work":    p.Can(app.PermReferralWork),
			"run":     p.Can(app.PermGroupRun),
			"manage":  p.Can(app.PermGroupManage),
			"network": p.Can(app.PermNetworkJoin),
			"profile": p.Can(app.PermWorkerProfile),
		},
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
		counts, err := s.referrals.Counts(r.Context(), p)
		if err != nil {
			return err
		}
		d.Waiting, d.Overdue, d.Mine = counts.Waiting, counts.Overdue, counts.AllocatedToMe
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
