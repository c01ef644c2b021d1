package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
)

// CreatedReferral is the answer to creating a referral.
type CreatedReferral struct {
	ID           int64            `json:"id,omitempty"`
	Reference    string           `json:"reference,omitempty"`
	Status       referral.Status  `json:"status,omitempty"`
	Urgency      referral.Urgency `json:"urgency,omitempty"`
	Existing     bool             `json:"existing,omitempty" doc:"The person already had this open referral (one per person): your request was added to its history and no new referral was made."`
	PossibleRisk bool             `json:"possible_risk,omitempty" doc:"What was written matched watched risk language: the referral is marked possible risk and the duty leads were alerted."`
	HelpNow      *HelpNow         `json:"help_now,omitempty" doc:"Present when what was written may mean someone is at risk: show it to the writer straight away."`
}

// CreatedSelfReferral is the answer to a self-referral.
type CreatedSelfReferral struct {
	ID          int64           `json:"id"`
	Reference   string          `json:"reference"`
	Status      referral.Status `json:"status"`
	AccountLink string          `json:"account_link" doc:"Give this to the person: within 30 days it lets them create an account that follows this request."`
	HelpNow     *HelpNow        `json:"help_now,omitempty" doc:"Present when what the person wrote may mean they are at risk: show it to them straight away."`
}

// HelpNow is where to get help now, for an API client to show the writer
// straight after they wrote words that may mean someone is at risk. The
// same words as the pages' card.
type HelpNow struct {
	Message  string        `json:"message"`
	Contacts []HelpContact `json:"contacts"`
	Alerted  bool          `json:"alerted" doc:"The peer support team's duty lead was alerted and will look at this first."`
}

// HelpContact is one way to get help now.
type HelpContact struct {
	Name string `json:"name"`
	How  string `json:"how"`
	Link string `json:"link" doc:"A tel: or sms: link."`
}

// helpNow is the signposting for the writer: the person themselves, or
// someone referring them.
func helpNow(self, alerted bool) *HelpNow {
	h := &HelpNow{Alerted: alerted, Contacts: []HelpContact{
		{Name: "999", How: "If a life is at risk now, call 999 or go to A&E.", Link: "tel:999"},
		{Name: "NHS 111", How: "For urgent mental health help, call 111 and choose option 2.", Link: "tel:111"},
		{Name: "Samaritans", How: "To talk to someone, call 116 123 (free, any time).", Link: "tel:116123"},
		{Name: "Shout", How: "To text instead, text SHOUT to 85258.", Link: "sms:85258?body=SHOUT"},
	}}
	if self {
		h.Message = "Thank you for telling us. It sounds like things may be really hard at the moment. You do not have to wait for peer support: you can talk to someone now, day or night."
		if alerted {
			h.Message += " We have also asked the peer support team to read your request first."
		}
	} else {
		h.Message = "What you wrote suggests the person may be at risk. Mutual is not a crisis service, so if they need help now, do not wait for peer support."
		if alerted {
			h.Message += " The peer support team's duty lead has been alerted and will look at this referral first."
		}
	}
	return h
}

// DuplicateProblem is a 409 answer offering possible matches.
type DuplicateProblem struct {
	Problem
	Matches []person.PossibleMatch `json:"possible_matches"`
}

// ContactResponse wraps a recorded contact.
type ContactResponse = referral.Contact

// OwnOfferRequest is POST /api/v1/my/offers.
type OwnOfferRequest struct {
	Told bool   `json:"told" required:"true" doc:"true: I was told about peer support; false: I have never been told."`
	Note string `json:"note,omitempty"`
}

var opSelfReferral = APIOp{Summary: "Ask for peer support for yourself (no account needed)", Tag: "Referrals", Status: http.StatusCreated,
	Description: "Limited per network address. Possible duplicates are never shown here; the peer team links them.",
	Request:     referral.SelfReferral{Details: examplePerson, AskedFor: "Meeting people who have heard voices too", WorkerPreferences: "A woman, if possible"},
	Response:    CreatedSelfReferral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Received, AccountLink: "https://peer-support.example.nhs.uk/sign-up?claim=…"}}

var opCreateReferral = APIOp{Summary: "Make a referral (carer, staff, partner or community door)", Tag: "Referrals", Status: http.StatusCreated,
	Description: "Answers 409 with possible_matches when a new person's details match people you can see; send person_id or not_duplicate: true.",
	Request:     referral.NewReferral{Source: referral.SourceStaff, Person: examplePerson, AskedFor: "Someone who understands voices", PersonKnows: new(true), Consent: "given", TeamID: 3},
	Response:    CreatedReferral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Received, Urgency: referral.Routine},
	Also: []AltResponse{{Status: http.StatusOK, Description: "The person already has an open referral you may see (one per person): your request was added to its history, and this is it.",
		Response: CreatedReferral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Accepted, Existing: true}}}}

var opListReferrals = APIOp{Summary: "Referrals you may see, longest waiting first", Tag: "Referrals",
	Query: []Param{{Name: "status", In: "query", Type: "string", Description: "Comma-separated statuses."}, {Name: "team", In: "query", Type: "integer"},
		{Name: "source", In: "query", Type: "string"}, {Name: "overdue", In: "query", Type: "string", Description: "1: only those past the waiting standard."},
		{Name: "q", In: "query", Type: "string", Description: "Name or reference."},
		{Name: "mine", In: "query", Type: "string", Description: "1: only people allocated to you."}, {Name: "limit", In: "query", Type: "integer"}, {Name: "offset", In: "query", Type: "integer"}},
	Response: referral.Page{Referrals: []referral.Referral{exampleReferral}, Total: 1, Limit: 50}}

var opGetReferral = APIOp{Summary: "One referral with its history", Tag: "Referrals", Query: id,
	Response: referral.Detail{Referral: exampleReferral, History: []referral.Event{{At: exampleTime, ActorName: "Priya Shah", ActorRole: "clinician", To: referral.Received}}, Moves: []referral.Status{referral.Allocated}}}

var opTransition = APIOp{Summary: "Move a referral on: accept, decline, redirect, allocate, start, end or withdraw", Tag: "Referrals", Query: id,
	Description: "Invalid moves answer 409 with the reason; a stale version answers 409.",
	Request:     referral.Move{To: referral.Declined, Reason: "unable_to_contact", Note: "Three calls and a letter", Version: 2},
	Response:    exampleReferral}

var opContact = APIOp{Summary: "Record a contact (support while waiting, or during support)", Tag: "Referrals", Status: http.StatusCreated, Query: id,
	Request:  referral.NewContact{At: exampleTime, Mode: "phone", Minutes: 20, Note: "Talked about the walking group"},
	Response: referral.Contact{ID: 1, At: exampleTime, WorkerName: "Alex", Mode: "phone", WhileWaiting: true, Minutes: 20, Note: "Talked about the walking group"}}

var opMyReferrals = APIOp{Summary: "Your own referrals (and those you made as a carer)", Tag: "Referrals",
	Response: []referral.MyReferral{{Referral: exampleReferral}}}

var opRecordConsent = APIOp{Summary: "Record that the person has now agreed to a referral, or why the team goes ahead without their agreement", Tag: "Referrals", Query: id,
	Description: "For a referral made without the person's agreement: until this is recorded (by a peer lead of its team, or a clinician who made or may see it) " +
		"it is not accepted, allocated or started. The person sees the reason.",
	Request: referral.ConsentDecision{Decision: "proceed", Reason: "Lacks capacity to decide today; their advocate asked us to begin"}, Response: exampleReferral}

var opCreateOffer = APIOp{Summary: "Record that peer support information was given", Tag: "Offers", Status: http.StatusCreated,
	Description: "response interested makes a referral at once, with consent recorded.",
	Request:     referral.NewOffer{PersonID: 7, Method: "review", Response: "interested"},
	Response:    referral.OfferResult{Offer: referral.Offer{ID: 3, PersonID: 7, At: exampleTime, Method: "review", Response: "interested", RecordedBy: "Priya Shah", ReferralID: 42}, Referral: &exampleReferral}}

var opOwnOffer = APIOp{Summary: "Say for yourself that you were told about peer support, or never were", Tag: "Offers", Status: http.StatusCreated,
	Request: OwnOfferRequest{Told: false}, Response: referral.Offer{ID: 4, PersonID: 7, At: exampleTime, Method: "self_report", Response: "never_told", RecordedBy: "The person"}}

func (s *Server) apiSelfReferral(w http.ResponseWriter, r *http.Request) error {
	var in referral.SelfReferral
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limitPublicForm(r, "self-referral"); err != nil {
		return err
	}
	res, err := s.referrals.CreateSelfReferral(r.Context(), app.Public(requestID(r.Context())), in)
	if err != nil {
		return err
	}
	out := CreatedSelfReferral{ID: res.ID, Reference: res.Reference, Status: referral.Received,
		AccountLink: s.cfg.BaseURL + "/sign-up?claim=" + res.Claim}
	if res.Signpost {
		out.HelpNow = helpNow(true, res.PossibleRisk)
	}
	return writeJSON(w, http.StatusCreated, out)
}

// duplicateOr writes a 409 with possible matches for a *DuplicateError,
// or returns err.
func (s *Server) duplicateOr(w http.ResponseWriter, r *http.Request, err error) error {
	var dup *person.DuplicateError
	if !errors.As(err, &dup) {
		return err
	}
	ae := dup.AsAppError()
	writeJSONStatus(w, http.StatusConflict, "application/problem+json", DuplicateProblem{
		Problem: Problem{Type: "https://mutual.example/problems/possible-duplicate", Title: "Possible duplicate", Status: http.StatusConflict,
			Detail: ae.Message, Instance: r.URL.Path, RequestID: requestID(r.Context())},
		Matches: dup.Matches})
	return nil
}

func (s *Server) apiCreateReferral(w http.ResponseWriter, r *http.Request) error {
	var in referral.NewReferral
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ref, err := s.referrals.CreateReferral(r.Context(), principal(r), in)
	var open *referral.OpenReferralError
	if errors.As(err, &open) && open.Referral != nil {
		w.Header().Set("Location", "/api/v1/referrals/"+strconv.FormatInt(open.Referral.ID, 10))
		out := CreatedReferral{ID: open.Referral.ID, Reference: open.Referral.Reference, Status: open.Referral.Status, Urgency: open.Referral.Urgency,
			Existing: true, PossibleRisk: open.Referral.RiskAlertOpen}
		if open.Signpost {
			out.HelpNow = helpNow(in.Source == referral.SourceSelf, open.Referral.RiskAlertOpen)
		}
		return writeJSON(w, http.StatusOK, out)
	}
	if err != nil {
		return s.duplicateOr(w, r, err)
	}
	w.Header().Set("Location", "/api/v1/referrals/"+strconv.FormatInt(ref.ID, 10))
	out := CreatedReferral{ID: ref.ID, Reference: ref.Reference, Status: ref.Status, Urgency: ref.Urgency, PossibleRisk: ref.PossibleRisk}
	if ref.Signpost {
		out.HelpNow = helpNow(ref.Source == referral.SourceSelf || ref.ForCarer, ref.PossibleRisk)
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiListReferrals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	q.Set("view", "api") // the API lists every status unless asked
	f, err := filterFromQuery(q, principal(r))
	if err != nil {
		return err
	}
	pg, err := s.referrals.ListReferrals(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pg)
}

func (s *Server) apiGetReferral(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.referrals.GetReferral(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiTransition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var m referral.Move
	if err := decodeJSON(r, &m); err != nil {
		return err
	}
	got, err := s.referrals.Transition(r.Context(), principal(r), id, m)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, got)
}

func (s *Server) apiContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var c referral.NewContact
	if err := decodeJSON(r, &c); err != nil {
		return err
	}
	got, err := s.referrals.RecordContact(r.Context(), principal(r), id, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, got)
}

func (s *Server) apiMyReferrals(w http.ResponseWriter, r *http.Request) error {
	refs, err := s.referrals.MyReferrals(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if refs == nil {
		refs = []referral.MyReferral{}
	}
	return writeJSON(w, http.StatusOK, refs)
}

func (s *Server) apiCreateOffer(w http.ResponseWriter, r *http.Request) error {
	var in referral.NewOffer
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.referrals.CreateOffer(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, res)
}

func (s *Server) apiOwnOffer(w http.ResponseWriter, r *http.Request) error {
	var in OwnOfferRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.referrals.RecordOwnOffer(r.Context(), principal(r), in.Told, in.Note)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, o)
}

// LinkRequest is POST /api/v1/referrals/{id}/link-person.
type LinkRequest struct {
	PersonID int64 `json:"person_id" required:"true" doc:"One of the referral's possible_duplicates."`
}

var opLinkPerson = APIOp{Summary: "Join a referral to a person already known: one of its possible duplicates (peer leads)", Tag: "Referrals",
	Status: http.StatusNoContent, Query: id, Request: LinkRequest{PersonID: 7},
	Description: "Only someone you may already see, offered as a possible duplicate; anyone else answers 422 as if they did not exist."}

func (s *Server) apiLinkPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in LinkRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.referrals.LinkPerson(r.Context(), principal(r), id, in.PersonID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiRecordConsent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in referral.ConsentDecision
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	got, err := s.referrals.RecordConsent(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, got)
}

var opSetUrgency = APIOp{Summary: "Change a referral's urgency, with the reason (peer leads of its team)", Tag: "Referrals", Query: id,
	Description: "routine: first contact within 4 weeks; urgent: 24 hours; very_urgent: 4 hours. The reason is shown in the referral's history. A stale version answers 409.",
	Request:     referral.UrgencyChange{Urgency: referral.Urgent, Reason: "Their care co-ordinator says they have just been discharged and are on their own.", Version: 2},
	Response:    exampleReferral}

func (s *Server) apiSetUrgency(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in referral.UrgencyChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	got, err := s.referrals.SetUrgency(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, got)
}
