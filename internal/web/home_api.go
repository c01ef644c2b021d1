package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/notify"
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
