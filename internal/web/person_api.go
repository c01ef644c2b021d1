package web

import (
	"net/http"

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
