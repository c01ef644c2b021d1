package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// contactRoutes are the notes the person can read: one contact's page for
// the peer team and clinicians (its note's versions, comments, restricted
// notes), the person's comments and correction requests, and the API:
// one line per route.
func (s *Server) contactRoutes() []*Route {
	return []*Route{
		personPage("GET /contacts/{id}", app.PermReferralView, byID(s.contactPage)),
		personPage("POST /contacts/{id}/note", app.PermReferralWork, s.contactAction("note", s.formEditNote)),
		personPage("POST /contacts/{id}/entered-in-error", app.PermReferralWork, s.contactAction("error", s.formEnteredInError)),
		personPage("POST /contacts/{id}/comments", app.PermReferralView, s.contactAction("comment", s.formStaffComment)),
		personPage("POST /contacts/{id}/restricted-notes", app.PermReferralWork, s.contactAction("restricted", s.formRestrictedNote)),
		personPage("POST /contacts/{id}/restricted-notice", app.PermReferralView, s.contactAction("withhold", s.formWithholdNotice)),
		personPage("POST /contact-comments/{id}/answer", app.PermReferralWork, s.handleAnswerCorrection),
		personPage("POST /my/contacts/{id}/comments", app.PermOwnRecord, s.handleMyComment),
		personAPI("POST /api/v1/contacts", app.PermReferralWork, opCreateContact, s.apiCreateContact),
		personAPI("GET /api/v1/people/{id}/contacts", app.PermReferralView, opPersonContacts, s.apiPersonContacts),
		personAPI("GET /api/v1/contacts/{id}", app.PermReferralView, opGetContact, s.apiGetContact),
		personAPI("PUT /api/v1/contacts/{id}/note", app.PermReferralWork, opEditNote, apiEditNote(s)),
		personAPI("POST /api/v1/contacts/{id}/entered-in-error", app.PermReferralWork, opEnteredInError, apiEnteredInError(s)),
		personAPI("POST /api/v1/contacts/{id}/comments", app.PermReferralView, opAddComment, apiAddComment(s)),
		personAPI("POST /api/v1/contact-comments/{id}/answer", app.PermReferralWork, opAnswerCorrection, apiAnswerCorrection(s)),
		personAPI("POST /api/v1/contacts/{id}/restricted-notes", app.PermReferralWork, opAddRestrictedNote, apiAddRestrictedNote(s)),
		personAPI("POST /api/v1/contacts/{id}/restricted-notice", app.PermReferralView, opWithholdNotice, apiWithholdNotice(s)),
	}
}

type contactPageData struct {
	referral.ContactDetail
	// Active is the form the errors belong to (note, error, comment,
	// restricted, withhold, or answer-<comment id>).
	Active string
}

func (s *Server) contactPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	return s.contactPageWith(w, r, status, id, f, "")
}

func (s *Server) contactPageWith(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form, active string) error {
	d, err := s.referrals.GetContact(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	if f == nil {
		f = ui.NewForm(url.Values{})
	}
	if f.Value("version") == "" || status == http.StatusConflict {
		f.Values.Set("version", strconv.Itoa(d.Contact.Version))
	}
	if active != "note" {
		// The form to change the note shows the note as it is, unless it
		// is the form being shown again.
		f.Values.Set("note", d.Contact.Note)
	}
	return s.page(w, r, status, "referral/contact", &ui.Page{Title: "Contact on " + ui.FormatDateTime(d.Contact.At), Form: f,
		Data: contactPageData{ContactDetail: d, Active: active}, BackLink: "/referrals/" + strconv.FormatInt(d.Contact.ReferralID, 10)})
}

// contactAction handles one form on a contact's page: on success back to
// the page with a message; on a problem the page again, with what was
// typed and the problem by its field (a stale version, 409, with the
// latest version).
func (s *Server) contactAction(active string, do func(r *http.Request, id int64, f *ui.Form) (string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, f, err := idAndForm(w, r)
		if err != nil {
			return err
		}
		msg, err := do(r, id, f)
		if err == nil {
			setFlash(w, msg)
			return redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10))
		}
		if err := formProblem(f, err, app.CodeConflict, app.CodeForbidden); err != nil {
			return err
		}
		return s.contactPageWith(w, r, app.As(err).Code.Status(), id, f, active)
	}
}

func (s *Server) formEditNote(r *http.Request, id int64, f *ui.Form) (string, error) {
	_, err := s.referrals.EditNote(r.Context(), principal(r), id, referral.NoteEdit{Note: f.Value("note"), Version: int(formInt(f, "version"))})
	return "Note changed. The earlier text is kept.", err
}

func (s *Server) formEnteredInError(r *http.Request, id int64, f *ui.Form) (string, error) {
	_, err := s.referrals.MarkEnteredInError(r.Context(), principal(r), id, referral.ErrorMark{Reason: f.Value("reason"), Version: int(formInt(f, "version"))})
	return "Marked entered in error", err
}

func (s *Server) formStaffComment(r *http.Request, id int64, f *ui.Form) (string, error) {
	if !principal(r).IsStaff() {
		// This page is staff's; a person comments from their own page
		// (POST /my/contacts/{id}/comments), which they are sent back to.
		return "", app.NotFound("The contact")
	}
	_, err := s.referrals.AddComment(r.Context(), principal(r), id, referral.NewComment{Kind: "comment", Body: f.Value("body")})
	return "Comment added", err
}

func (s *Server) formRestrictedNote(r *http.Request, id int64, f *ui.Form) (string, error) {
	_, err := s.referrals.AddRestrictedNote(r.Context(), principal(r), id, referral.NewRestrictedNote{Note: f.Value("restricted_note"), Reason: f.Value("restricted_reason")})
	return "Restricted note added", err
}

func (s *Server) formWithholdNotice(r *http.Request, id int64, f *ui.Form) (string, error) {
	err := s.referrals.WithholdRestrictedNotice(r.Context(), principal(r), id, referral.Withholding{Reason: f.Value("withhold_reason")})
	return "Recorded: the person is not told about the restricted note", err
}

func (s *Server) handleAnswerCorrection(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	contact := formInt(f, "contact_id")
	_, err = s.referrals.AnswerCorrection(r.Context(), principal(r), id, referral.CorrectionAnswer{Answer: f.Value("answer"), Note: f.Value("corrected_note"),
		Reason: f.Value("reason"), Version: int(formInt(f, "version"))})
	if err == nil {
		setFlash(w, "Answer recorded. The person can read it.")
		return redirect(w, r, "/contacts/"+strconv.FormatInt(contact, 10))
	}
	// The answer's note is its own field, apart from the form that
	// changes the note.
	if ae := app.As(err); ae.Code == app.CodeInvalid {
		for i := range ae.Fields {
			if ae.Fields[i].Field == "note" {
				ae.Fields[i].Field = "corrected_note"
			}
		}
		err = ae
	}
	if err := formProblem(f, err, app.CodeConflict, app.CodeForbidden); err != nil {
		return err
	}
	f.Values.Set("comment_id", strconv.FormatInt(id, 10))
	return s.contactPageWith(w, r, app.As(err).Code.Status(), contact, f, "answer")
}

// handleMyComment is the person's comment on a contact, or their request
// to correct its note, from their own referral's page.
func (s *Server) handleMyComment(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	ref := formInt(f, "referral_id")
	kind := f.Value("kind")
	_, err = s.referrals.AddComment(r.Context(), principal(r), id, referral.NewComment{Kind: kind, Body: f.Value("body")})
	if err == nil {
		msg := "Your comment has been added. Your peer support worker can read it."
		if kind == "correction" {
			msg = "Your request has been sent. Your peer support worker will answer it here."
		}
		setFlash(w, msg)
		return redirect(w, r, "/my/referrals/"+strconv.FormatInt(ref, 10)+"#contact-"+strconv.FormatInt(id, 10))
	}
	if err := formProblem(f, err, app.CodeConflict); err != nil {
		return err
	}
	f.Values.Set("comment_on", strconv.FormatInt(id, 10))
	return s.myReferralPage(w, r, app.As(err).Code.Status(), ref, f)
}
