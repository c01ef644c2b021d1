package web

import (
	"net/http"

	"github.com/mutualhq/mutual/internal/referral"
)

// NewContactRequest is POST /api/v1/contacts: a contact on a referral.
type NewContactRequest struct {
	ReferralID int64 `json:"referral_id" required:"true" doc:"The referral the contact belongs to."`
	referral.NewContact
}

var exampleContact = referral.Contact{ID: 1, ReferralID: 42, At: exampleTime, WorkerName: "Alex Morgan", Mode: "phone", Minutes: 20,
	Note: "Talked about the walking group on Thursday", SupportTypes: []string{"social"}, Setting: "community", Version: 1,
	Comments: []referral.ContactComment{}}

var exampleComment = referral.ContactComment{ID: 5, At: exampleTime, AuthorName: "Sam", ByPerson: true, Kind: "correction",
	Body: "It was the swimming group, not the walking group"}

var opCreateContact = APIOp{Summary: "Record a contact with the person on a referral", Tag: "Contacts", Status: http.StatusCreated,
	Description: "The same as POST /api/v1/referrals/{id}/contacts, naming the referral in the body. The note is written for the person to read.",
	Request:     NewContactRequest{ReferralID: 42, NewContact: referral.NewContact{At: exampleTime, Mode: "phone", Minutes: 20, Note: "Talked about the walking group on Thursday", SupportTypes: []string{"social"}}},
	Response:    exampleContact}

var opPersonContacts = APIOp{Summary: "A person's contacts, newest first: the person's own, or (the peer team and clinicians) those on referrals you may see", Tag: "Contacts",
	Query: append(append([]Param{}, id...), Param{Name: "limit", In: "query", Type: "integer"}, Param{Name: "offset", In: "query", Type: "integer"}),
	Description: "Never a restricted note's text: restricted_note only says one exists (for the person, unless a clinician recorded why not). " +
		"Partner workers and anyone else are answered 404.",
	Response: referral.ContactPage{Contacts: []referral.Contact{exampleContact}, Total: 1, Limit: 50}}

var opGetContact = APIOp{Summary: "One contact, with the earlier texts of its note, the comments, and the restricted notes you may read", Tag: "Contacts", Query: id,
	Description: "For the peer team and clinicians. Restricted notes only for the worker who recorded the contact, their lead and clinicians (audited as contact.read_restricted).",
	Response: referral.ContactDetail{Contact: exampleContact, Reference: "MUT-7KQ3-X9PD", PersonName: "Sam",
		Versions:   []referral.NoteVersion{{Version: 1, Note: "Talked about the walking group", WrittenBy: "Alex Morgan", WrittenAt: exampleTime}},
		Restricted: []referral.RestrictedNote{{ID: 2, Note: "Their brother was at the door throughout", Reason: "Safeguarding", WrittenBy: "Alex Morgan", WrittenAt: exampleTime}},
		MayAmend:   true, MayRestrict: true}}

var opEditNote = APIOp{Summary: "Change a contact's note (the worker who recorded it, or a lead of its team)", Tag: "Contacts", Query: id,
	Description: "The earlier text is kept and shown to staff; the person sees that the note was edited. A version that is not the latest answers 409.",
	Request:     referral.NoteEdit{Note: "Talked about the swimming group on Thursday", Version: 1}, Response: exampleContact}

var opEnteredInError = APIOp{Summary: "Mark a contact entered in error, with the reason (never deleted)", Tag: "Contacts", Query: id,
	Description: "It stays on the record, struck through with the reason, and is left out of every count. A version that is not the latest answers 409.",
	Request:     referral.ErrorMark{Reason: "Recorded on the wrong person", Version: 1}, Response: exampleContact}

var opAddComment = APIOp{Summary: "Comment on a contact, or (the person) ask for its note to be corrected", Tag: "Contacts", Query: id, Status: http.StatusCreated,
	Description: "The worker who recorded the contact is told in Mutual (never by email, and never what was written).",
	Request:     referral.NewComment{Kind: "correction", Body: "It was the swimming group, not the walking group"}, Response: exampleComment}

var opAnswerCorrection = APIOp{Summary: "Answer a request to correct a note: corrected (a new version) or declined (with a reason)", Tag: "Contacts", Query: id,
	Description: "Once: a request already answered answers 409. The person sees the answer.",
	Request:     referral.CorrectionAnswer{Answer: "corrected", Note: "Talked about the swimming group on Thursday", Version: 1},
	Response:    referral.ContactComment{ID: 5, At: exampleTime, AuthorName: "Sam", ByPerson: true, Kind: "correction", Body: exampleComment.Body, Answer: "corrected", AnsweredBy: "Alex Morgan", AnsweredAt: &exampleTime}}

var opAddRestrictedNote = APIOp{Summary: "Add a restricted note to a contact (safeguarding, risk), with why it is restricted", Tag: "Contacts", Query: id, Status: http.StatusCreated,
	Description: "Read only by the worker who recorded the contact, their lead and clinicians. The person is told that one exists unless a clinician records why not.",
	Request:     referral.NewRestrictedNote{Note: "Their brother was at the door throughout", Reason: "Safeguarding"},
	Response:    referral.RestrictedNote{ID: 2, Note: "Their brother was at the door throughout", Reason: "Safeguarding", WrittenBy: "Alex Morgan", WrittenAt: exampleTime}}

var opWithholdNotice = APIOp{Summary: "Record why the person is not told that a contact has a restricted note (a clinician)", Tag: "Contacts", Query: id, Status: http.StatusNoContent,
	Description: "The withholding is kept with the clinician's name and reason. With nothing to withhold it answers 409.",
	Request:     referral.Withholding{Reason: "Telling them now would put them at risk"}}

func (s *Server) apiCreateContact(w http.ResponseWriter, r *http.Request) error {
	var in NewContactRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	got, err := s.referrals.RecordContact(r.Context(), principal(r), in.ReferralID, in.NewContact)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, got)
}

func (s *Server) apiPersonContacts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	off, err := queryOffset(q)
	if err != nil {
		return err
	}
	lim, err := queryID(q, "limit")
	if err != nil {
		return err
	}
	pg, err := s.referrals.PersonContacts(r.Context(), principal(r), id, int(lim), off)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pg)
}

func (s *Server) apiGetContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.referrals.GetContact(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// apiContactAction decodes a body of type In for the contact (or comment)
// in the path and answers what do returns with status.
func apiContactAction[In, Out any](status int, do func(s *Server, r *http.Request, id int64, in In) (Out, error)) func(s *Server) handlerFunc {
	return func(s *Server) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			var in In
			if err := decodeJSON(r, &in); err != nil {
				return err
			}
			out, err := do(s, r, id, in)
			if err != nil {
				return err
			}
			if status == http.StatusNoContent {
				w.WriteHeader(status)
				return nil
			}
			return writeJSON(w, status, out)
		}
	}
}

var (
	apiEditNote = apiContactAction(http.StatusOK, func(s *Server, r *http.Request, id int64, in referral.NoteEdit) (referral.Contact, error) {
		return s.referrals.EditNote(r.Context(), principal(r), id, in)
	})
	apiEnteredInError = apiContactAction(http.StatusOK, func(s *Server, r *http.Request, id int64, in referral.ErrorMark) (referral.Contact, error) {
		return s.referrals.MarkEnteredInError(r.Context(), principal(r), id, in)
	})
	apiAddComment = apiContactAction(http.StatusCreated, func(s *Server, r *http.Request, id int64, in referral.NewComment) (referral.ContactComment, error) {
		return s.referrals.AddComment(r.Context(), principal(r), id, in)
	})
	apiAnswerCorrection = apiContactAction(http.StatusOK, func(s *Server, r *http.Request, id int64, in referral.CorrectionAnswer) (referral.ContactComment, error) {
		return s.referrals.AnswerCorrection(r.Context(), principal(r), id, in)
	})
	apiAddRestrictedNote = apiContactAction(http.StatusCreated, func(s *Server, r *http.Request, id int64, in referral.NewRestrictedNote) (referral.RestrictedNote, error) {
		return s.referrals.AddRestrictedNote(r.Context(), principal(r), id, in)
	})
	apiWithholdNotice = apiContactAction(http.StatusNoContent, func(s *Server, r *http.Request, id int64, in referral.Withholding) (struct{}, error) {
		return struct{}{}, s.referrals.WithholdRestrictedNotice(r.Context(), principal(r), id, in)
	})
)
