package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
)

// ClaimRequest is POST /api/v1/my/claim.
type ClaimRequest struct {
	Code string `json:"code" required:"true" doc:"The one-time code from the peer support team, or sent to the email address on your record, like ABCD-EFGH-JKMN."`
}

// ClaimResult is the record an account was joined to.
type ClaimResult struct {
	PersonID int64 `json:"person_id"`
}

// ClaimCodeRequest is POST /api/v1/my/claim-codes.
type ClaimCodeRequest struct {
	Email string `json:"email" required:"true" doc:"An email address a service may hold for you. If a record with no account holds it, a code is sent to it."`
}

// ClaimCodeSent answers a request for a code: the same whether or not a
// record holds the address.
type ClaimCodeSent struct {
	Message string `json:"message"`
}

// ClaimInviteRequest is POST /api/v1/people/{id}/claim-invitations.
type ClaimInviteRequest struct {
	How string `json:"how" required:"true" doc:"email: sent to the address on the record; print: a code to print and give to the person."`
}

var exampleOwnReferral = referral.OwnReferral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Accepted,
	StatusText: "You are on the waiting list for North Community Team. A peer support worker will be in touch when one is free.",
	TeamName:   "North Community Team", PersonName: "Sam", MadeBy: "Priya Shah", ReceivedAt: exampleTime, AskedFor: "Someone who understands voices",
	Agreement: "given", ShareWithReferrer: true, ReferrerCanFollow: true, Version: 2}

var exampleMyReferral = referral.MyReferral{Own: exampleOwnReferral, Steps: []referral.Step{{At: exampleTime, Text: "Priya Shah referred you for peer support."}},
	Contacts: []referral.Contact{}, CanChangeSharing: true}

var opClaim = APIOp{Summary: "Join your account to the record a service made for you, with a one-time code", Tag: "Your record",
	Description: "The code comes from the peer support team (by email or printed) or was sent to the email address on the record " +
		"(POST /api/v1/my/claim-codes). Never done without a code. Attempts are limited.", Limited: true,
	Request: ClaimRequest{Code: "ABCD-EFGH-JKMN"}, Response: ClaimResult{PersonID: 7}}

var opClaimCode = APIOp{Summary: "Ask for a code to be sent to the email address on your record", Tag: "Your record", Status: http.StatusAccepted,
	Description: "If a record with no account holds the address, a code that only your account can use is emailed to it, for an hour. " +
		"The answer is the same either way. Only email: there is no text-message service.", Limited: true,
	Request: ClaimCodeRequest{Email: "sam@example.org"}, Response: ClaimCodeSent{Message: claimCodeMessage}}

var opClaimInvite = APIOp{Summary: "Invite a person to claim their record: by email, or a code to print", Tag: "People", Status: http.StatusCreated, Query: id,
	Description: "Any earlier unused invitation stops working. A printed code is shown once.",
	Request:     ClaimInviteRequest{How: person.InviteByPrint},
	Response:    person.ClaimInvitation{PersonID: 7, How: person.InviteByPrint, Code: "ABCD-EFGH-JKMN", SignUpURL: "https://peer-support.example.nhs.uk/sign-up", ExpiresAt: exampleTime}}

var opMyDetails = APIOp{Summary: "Your contact details, and every change made to them", Tag: "Your record",
	Response: person.OwnDetails{Person: person.Person{ID: 7, PreferredName: "Sam", Email: "sam@example.org", ContactPreference: "email", CreatedAt: exampleTime},
		Changes: []person.Change{{At: exampleTime, ChangedBy: "You", Role: "person", Field: "phone", Label: "Phone number", Old: "07700900982", New: "07700900983"}}}}

var opUpdateMyDetails = APIOp{Summary: "Change your contact details and how you would like to be contacted", Tag: "Your record",
	Request:  person.ContactDetails{PreferredName: "Sam", Email: "sam@example.org", Phone: "07700 900983", ContactPreference: "text", ContactTimes: "Weekday mornings"},
	Response: person.Person{ID: 7, PreferredName: "Sam", Email: "sam@example.org", Phone: "07700900983", ContactPreference: "text", CreatedAt: exampleTime}}

var opMyReferral = APIOp{Summary: "One of your referrals, in plain words, with who may see it", Tag: "Your record", Query: id, Response: exampleMyReferral}

var opSharing = APIOp{Summary: "Choose who beyond the peer support team may see your referral", Tag: "Your record", Query: id,
	Description: "Takes effect at once: whoever made the referral stops (or starts) following it, and clinicians beyond the peer support team stop (or start) seeing it.",
	Request:     referral.Sharing{ShareWithReferrer: false, ShareBeyondTeam: false}, Response: exampleMyReferral}

var opWhatHelped = APIOp{Summary: "Say what helped, in your own words, once your peer support has ended", Tag: "Your record", Query: id,
	Description: "Adds or replaces your words on your own ended referral. Only the peer support team reads them. A referral still open answers 409.",
	Request:     referral.WhatHelped{Words: "Having someone who had been there.", Version: 7}, Response: exampleMyReferral}

const claimCodeMessage = "If a record with no account holds this email address, we have sent a code to it. It works for 1 hour, only for your account."

func (s *Server) apiClaim(w http.ResponseWriter, r *http.Request) error {
	var in ClaimRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	id, err := s.accounts.ClaimRecord(r.Context(), principal(r), in.Code, s.clientAddr(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ClaimResult{PersonID: id})
}

func (s *Server) apiClaimCode(w http.ResponseWriter, r *http.Request) error {
	var in ClaimCodeRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.people.SendContactCode(r.Context(), principal(r), in.Email, s.clientAddr(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, ClaimCodeSent{Message: claimCodeMessage})
}

func (s *Server) apiClaimInvite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in ClaimInviteRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	inv, err := s.people.InviteToClaim(r.Context(), principal(r), id, in.How)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, inv)
}

func (s *Server) apiMyDetails(w http.ResponseWriter, r *http.Request) error {
	own, err := s.people.Own(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, own)
}

func (s *Server) apiUpdateMyDetails(w http.ResponseWriter, r *http.Request) error {
	var in person.ContactDetails
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pe, err := s.people.UpdateOwnContact(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pe)
}

func (s *Server) apiMyReferral(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := s.referrals.MyReferral(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiSharing(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in referral.Sharing
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.referrals.ChangeSharing(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiWhatHelped(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in referral.WhatHelped
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.referrals.SayWhatHelped(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}
