package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/alert"
)

// AlertList is GET /api/v1/alerts.
type AlertList struct {
	Alerts []alert.Alert `json:"alerts"`
}

var exampleAlert = alert.Alert{ID: 8, Kind: alert.PossibleRisk, TeamID: 3, TeamName: "North Community Team", ReferralID: 42,
	Reference: "MUT-7KQ3-X9PD", Detail: []string{"suicide"}, RaisedAt: exampleTime, DueAt: exampleTime.Add(4 * 3600e9), Version: 1}

var opListAlerts = APIOp{Summary: "Alerts waiting for a response: peer leads see their teams' (and those with no team yet), service managers the escalated ones", Tag: "Alerts",
	Description: "Soonest due first. resolved=1 lists those answered in the last 14 days instead, newest first. Alerts carry a reference and codes, never what was written.",
	Query:       []Param{{Name: "resolved", In: "query", Type: "string", Description: "1: those answered in the last 14 days."}},
	Response:    AlertList{Alerts: []alert.Alert{exampleAlert}}}

var opRespondAlert = APIOp{Summary: "Record what you did about an alert (the peer leads of its team)", Tag: "Alerts", Query: id,
	Description: "An alert someone has already answered is 409, naming who and when. An alert you may not respond to is 404.",
	Request:     alert.Response{Outcome: "called_person", Note: "Spoke to them; they have the crisis line numbers and we meet tomorrow.", Version: 1},
	Response:    exampleAlert}

func (s *Server) apiListAlerts(w http.ResponseWriter, r *http.Request) error {
	list, err := s.alerts.List(r.Context(), principal(r), alert.Filter{Resolved: r.URL.Query().Get("resolved") == "1"})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, AlertList{Alerts: list})
}

func (s *Server) apiRespondAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in alert.Response
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.alerts.Resolve(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}
