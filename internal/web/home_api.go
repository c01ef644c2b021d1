package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/referral"
)

var opNotifications = APIOp{Summary: "Updates about referrals you made", Tag: "Referrals",
	Response: []notify.Notification{{ID: 1, ReferralID: 42, Message: "Referral MUT-7KQ3-X9PD has been accepted onto the peer support waiting list.", CreatedAt: exampleTime}}}

func (s *Server) apiNotifications(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.notify.List(r.Context(), principal(r), 50)
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []notify.Notification{}
	}
	return writeJSON(w, http.StatusOK, ns)
}

// HomeResponse is GET /api/v1/home: what the home page shows.
type HomeResponse struct {
	Counts        referral.Counts       `json:"counts"`
	AlertCounts   alert.Counts          `json:"alert_counts" doc:"Peer leads: the alerts waiting for you to record what you did (GET /api/v1/alerts lists them)."`
	Manager       *ManagerGlance        `json:"manager,omitempty" doc:"Service managers: the waiting list and alerts across every team in numbers, and the groups referred significantly less than expected in the last 12 months."`
	Notifications []notify.Notification `json:"notifications"`
	// SessionsRunning and ProposalsWaiting are the groups figures.
	SessionsRunning  int `json:"sessions_running" doc:"Group sessions in the coming month you facilitate or lead."`
	ProposalsWaiting int `json:"proposals_waiting" doc:"Peer network ideas waiting for an answer (for leads and network organisers)."`
}

// ManagerGlance is what a service manager sees at a glance.
type ManagerGlance struct {
	Waiting referral.Totals `json:"waiting"`
	Alerts  alert.Counts    `json:"alerts"`
	Under   []string        `json:"significantly_fewer_referrals" doc:"Groups referred significantly less often than everyone else (from insight's equity of access; empty when it could not be worked out)."`
}

var opHome = APIOp{Summary: "What your home page shows: the lists you work from in numbers (counted as the lists count them), open alerts, and your newest notifications", Tag: "Referrals",
	Response: HomeResponse{Counts: referral.Counts{Waiting: 14, Overdue: 3, PossibleRisk: 1, AllocatedToMe: 2}, AlertCounts: alert.Counts{Open: 1},
		Notifications: []notify.Notification{
			{ID: 1, ReferralID: 42, Message: "Referral MUT-7KQ3-X9PD has been accepted onto the peer support waiting list.", CreatedAt: exampleTime}}}}

var opNotificationsRead = APIOp{Summary: "Mark all your notifications read", Tag: "Referrals", Status: http.StatusNoContent}

func (s *Server) apiHome(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var out HomeResponse
	var err error
	if p.Can(app.PermReferralRead) {
		if out.Counts, err = s.referrals.Counts(r.Context(), p); err != nil {
			return err
		}
	}
	if p.Can(app.PermAlertRespond) {
		if out.AlertCounts, err = s.alerts.CountsFor(r.Context(), p); err != nil {
			return err
		}
	}
	if p.HasRole(app.RoleServiceManager) {
		g, err := s.managerGlance(r, p)
		if err != nil {
			return err
		}
		out.Manager = &ManagerGlance{Waiting: g.Waiting, Alerts: g.Alerts, Under: g.Under}
		if out.Manager.Under == nil {
			out.Manager.Under = []string{}
		}
	}
	if out.Notifications, err = s.notify.List(r.Context(), p, 10); err != nil {
		return err
	}
	if out.SessionsRunning, out.ProposalsWaiting, err = s.groupFigures(r, p); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiNotificationsRead(w http.ResponseWriter, r *http.Request) error {
	if err := s.notify.MarkRead(r.Context(), principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
