package web

import (
	"net/http"

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
	Notifications []notify.Notification `json:"notifications"`
	// SessionsRunning and ProposalsWaiting are the groups figures.
	SessionsRunning  int `json:"sessions_running" doc:"Group sessions in the coming month you facilitate or lead."`
	ProposalsWaiting int `json:"proposals_waiting" doc:"Peer network ideas waiting for an answer (for leads and network organisers)."`
}

var opHome = APIOp{Summary: "What your home page shows: waiting-list figures for your teams and your newest notifications", Tag: "Referrals",
	Response: HomeResponse{Counts: referral.Counts{Waiting: 14, Overdue: 3, AllocatedToMe: 2}, Notifications: []notify.Notification{
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
