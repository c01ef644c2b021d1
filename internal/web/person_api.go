package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
)

var opCreatePerson = APIOp{Summary: "Add a person known to staff", Tag: "People", Status: http.StatusCreated,
	Description: "Answers 409 with possible_matches unless not_duplicate is set.",
	Request:     PersonRequest{Details: examplePerson}, Response: person.Person{ID: 7, PreferredName: "Sam", CreatedAt: exampleTime}}

var opGetPerson = APIOp{Summary: "A person's record: referrals, offers, open caseload", Tag: "People", Query: id,
	Response: referral.PersonRecord{Person: person.Person{ID: 7, PreferredName: "Sam", CreatedAt: exampleTime}, Referrals: []referral.Referral{}, Offers: []referral.Offer{}, NeedsOffer: true}}

var opListOffers = APIOp{Summary: "The offers ledger for one person", Tag: "Offers", Query: id,
	Response: []referral.Offer{{ID: 3, PersonID: 7, At: exampleTime, Method: "review", Response: "not_now", RecordedBy: "Priya Shah"}}}

// PersonRequest is POST /api/v1/people.
type PersonRequest struct {
	person.Details
	NotDuplicate bool `json:"not_duplicate,omitempty" doc:"Confirm the person is not one of the possible matches offered."`
}

func (s *Server) apiCreatePerson(w http.ResponseWriter, r *http.Request) error {
	var in PersonRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pe, err := s.people.Create(r.Context(), principal(r), in.Details, in.NotDuplicate)
	if err != nil {
		return s.duplicateOr(w, r, err)
	}
	return writeJSON(w, http.StatusCreated, pe)
}

func (s *Server) apiGetPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rec, err := s.referrals.GetPerson(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}

func (s *Server) apiListOffers(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	offers, err := s.referrals.ListOffers(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, offers)
}

var opFindPeople = APIOp{Summary: "Search the people you may see by name, email, phone or referral reference (everyone you may see, without q), a page at a time with the total", Tag: "People",
	Description: "Each person comes with what tells people of the same name apart: date or year of birth, the teams whose caseload they are on, their newest referral you may see and the latest contact on one.",
	Query: []Param{{Name: "q", In: "query", Type: "string", Description: "What to look for."},
		{Name: "limit", In: "query", Type: "integer", Description: "At most this many (default 50, at most 200)."},
		{Name: "offset", In: "query", Type: "integer", Description: "Skip this many."}},
	Response: person.Found{People: []person.Listed{{Person: person.Person{ID: 7, PreferredName: "Sam", FullName: "Samuel Okoro", CreatedAt: exampleTime},
		Teams: []string{"North Community Team"}, LatestReference: "MUT-7KQ3-X9PD", LatestStatus: "accepted", LatestTeam: "North Community Team", LastContact: &exampleTime}},
		Total: 1, Limit: 50}}

var opRecordAccess = APIOp{Summary: "Who has seen your record: every access to your data by someone else, newest first", Tag: "People",
	Response: []audit.Access{{At: exampleTime, ActorName: "Priya Shah", ActorRole: "clinician", TeamName: "North Community Team",
		Action: "referral.read", Outcome: "ok"}}}

func (s *Server) apiFindPeople(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryID(r.URL.Query(), "limit")
	if err != nil {
		return err
	}
	offset, err := queryOffset(r.URL.Query())
	if err != nil {
		return err
	}
	found, err := s.people.Search(r.Context(), principal(r), r.URL.Query().Get("q"), int(limit), offset)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, found)
}

func (s *Server) apiRecordAccess(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	rows, err := s.audit.OwnAccessLog(r.Context(), p.ActorFor(app.PermOwnRecord), p.PersonID, 200)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []audit.Access{}
	}
	return writeJSON(w, http.StatusOK, rows)
}
