package web

import (
	"html/template"
	"net/http"
	"reflect"
	"sync"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

type homeData struct {
	Notifications []referral.Notification
	Unread        int
	Waiting       int
	Overdue       int
	Mine          int
	Can           map[string]bool
	IsPerson      bool
	IsCarer       bool
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p == nil || p.MFAPending || p.MFASetup {
		return s.page(w, r, http.StatusOK, "landing", &ui.Page{Title: "Peer support, for everyone who could use it"})
	}
	d := homeData{
		IsPerson: p.HasRole(app.RolePerson),
		IsCarer:  p.HasRole(app.RoleCarer),
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
		},
	}
	var err error
	if d.Notifications, err = s.referrals.Notifications(r.Context(), p, 10); err != nil {
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
	pg := &ui.Page{Title: "Home", Data: d}
	if pg.Content, err = s.homes.content(s.render, p.UserID, pg); err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "home", pg)
}

// homeMemo keeps each account's last rendered home page content with the
// data it was drawn from. The home page is the most visited page and its
// figures change rarely (they are themselves reused for a few seconds), so
// when the data is exactly what it was last time the same HTML is reused
// instead of running the template again. Only the content is kept: the
// layout around it (nonce, flash messages, banner) is drawn per request.
type homeMemo struct {
	mu sync.Mutex
	m  map[int64]homeRendered
}

type homeRendered struct {
	data homeData
	html template.HTML
}

// homeMemoLimit bounds memory (a home page's content is a few kilobytes):
// past this many accounts the memo starts again.
const homeMemoLimit = 2000

func (h *homeMemo) content(r *ui.Renderer, userID int64, pg *ui.Page) (template.HTML, error) {
	d := pg.Data.(homeData)
	h.mu.Lock()
	e, ok := h.m[userID]
	h.mu.Unlock()
	if ok && reflect.DeepEqual(e.data, d) {
		return e.html, nil
	}
	html, err := r.RenderContent("home", pg)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	if h.m == nil || len(h.m) >= homeMemoLimit {
		h.m = make(map[int64]homeRendered)
	}
	h.m[userID] = homeRendered{data: d, html: html}
	h.mu.Unlock()
	return html, nil
}

func (s *Server) handleNotificationsRead(w http.ResponseWriter, r *http.Request) error {
	if err := s.referrals.MarkNotificationsRead(r.Context(), principal(r)); err != nil {
		return err
	}
	return redirect(w, r, "/")
}

func (s *Server) handleStatic(name, title string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.page(w, r, http.StatusOK, name, &ui.Page{Title: title})
	}
}
