package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// personRoutes are people, the offers ledger, and a person's own record: one line per route.
func (s *Server) personRoutes() []*Route {
	return []*Route{
		personPage("GET /people", app.PermPersonRead, s.handlePeople),
		pageRoute("GET /people/new", app.PermPersonRead, s.handlePersonForm),
		personPage("POST /people", app.PermPersonRead, s.handlePersonCreate),
		personPage("GET /people/{id}", app.PermPersonRead, byID(s.personPage)),
		personPage("POST /people/{id}/offers", app.PermOfferCreate, s.handleOfferCreate),
		personPage("POST /my/offers", app.PermOwnRecord, s.handleMyOffer),
		personPage("GET /my/record-access", app.PermOwnRecord, s.handleRecordAccess),
		personAPI("POST /api/v1/people", app.PermPersonRead, opCreatePerson, s.apiCreatePerson),
		personAPI("GET /api/v1/people/{id}", app.PermPersonRead, opGetPerson, s.apiGetPerson),
		personAPI("GET /api/v1/people", app.PermPersonRead, opFindPeople, s.apiFindPeople),
		personAPI("GET /api/v1/my/record-access", app.PermOwnRecord, opRecordAccess, s.apiRecordAccess),
		personAPI("POST /api/v1/offers", app.PermOfferCreate, opCreateOffer, s.apiCreateOffer),
		personAPI("GET /api/v1/people/{id}/offers", app.PermPersonRead, opListOffers, s.apiListOffers),
		personAPI("POST /api/v1/my/offers", app.PermOwnRecord, opOwnOffer, s.apiOwnOffer),
	}
}

type peopleData struct {
	Found person.Found
	Query string
	Pager Pager
}

func (s *Server) handlePeople(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	offset, err := queryOffset(q)
	if err != nil {
		return err
	}
	found, err := s.people.Search(r.Context(), principal(r), q.Get("q"), 50, offset)
	if err != nil {
		return err
	}
	d := peopleData{Found: found, Query: q.Get("q"), Pager: pager("/people", q, found.Total, found.Limit, found.Offset, len(found.People))}
	return s.page(w, r, http.StatusOK, "person/people", &ui.Page{Title: "People", Form: ui.NewForm(q), Data: d, FullWidth: true})
}

type personFormData struct {
	formOptions
	Matches []person.PossibleMatch
}

func (s *Server) personFormPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form, matches []person.PossibleMatch) error {
	opts, err := s.formOptions(r)
	if err != nil {
		return err
	}
	return s.page(w, r, status, "person/person-new", &ui.Page{Title: "Add a person", Form: f, Data: personFormData{opts, matches}, BackLink: "/people"})
}

func (s *Server) handlePersonForm(w http.ResponseWriter, r *http.Request) error {
	return s.personFormPage(w, r, http.StatusOK, ui.NewForm(nil), nil)
}

func (s *Server) handlePersonCreate(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if m := f.Value("match"); m != "" && m != "new" {
		return redirect(w, r, "/people/"+url.PathEscape(m))
	}
	var p app.Problems
	d := personFromForm(f, "person.", &p)
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.personFormPage(w, r, http.StatusUnprocessableEntity, f, nil)
	}
	pe, err := s.people.Create(r.Context(), principal(r), d, f.Value("match") == "new")
	var dup *person.DuplicateError
	switch {
	case err == nil:
		setFlash(w, pe.PreferredName+" added")
		return redirect(w, r, "/people/"+strconv.FormatInt(pe.ID, 10))
	case errors.As(err, &dup):
		f.AddError("match", "This person may already be known. Choose them from the list, or say they are someone new.")
		return s.personFormPage(w, r, http.StatusConflict, f, dup.Matches)
	case formWithErrors(f, prefixed(err, "person.")):
		return s.personFormPage(w, r, http.StatusUnprocessableEntity, f, nil)
	}
	return err
}

// prefixed renames an error's fields to match a form whose fields carry a
// prefix.
func prefixed(err error, prefix string) error {
	ae := app.As(err)
	if ae.Code != app.CodeInvalid {
		return err
	}
	out := *ae
	out.Fields = nil
	for _, f := range ae.Fields {
		out.Fields = append(out.Fields, app.FieldError{Field: prefix + f.Field, Message: f.Message})
	}
	return &out
}

type personViewData struct {
	referral.PersonRecord
	Methods   []ui.Option
	Responses []ui.Option
	CanOffer  bool
	CanRefer  bool
	HasOpen   bool
	CanCopy   bool
	// CanPlan: the caller works with people's recovery plans.
	CanPlan bool
}

func (s *Server) personPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	p := principal(r)
	rec, err := s.referrals.GetPerson(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := personViewData{PersonRecord: rec, Methods: reasonOptions(referral.OfferMethods), Responses: reasonOptions(referral.OfferResponses),
		CanOffer: p.Can(app.PermOfferCreate), CanRefer: p.Can(app.PermReferralCreate), CanCopy: p.Can(app.PermSubjectAccess),
		CanPlan: p.Can(app.PermRecoveryWork)}
	for _, ref := range rec.Referrals {
		d.HasOpen = d.HasOpen || !ref.Status.Closed()
	}
	if f == nil {
		f = ui.NewForm(url.Values{"method": {"conversation"}})
	}
	return s.page(w, r, status, "person/person", &ui.Page{Title: rec.Person.PreferredName, Form: f, Data: d, BackLink: "/people"})
}

func (s *Server) handleOfferCreate(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	res, err := s.referrals.CreateOffer(r.Context(), principal(r), referral.NewOffer{PersonID: id, Method: f.Value("method"),
		Response: f.Value("response"), Note: f.Value("note")})
	if err == nil {
		msg := "Recorded: " + referral.ResponseLabel(res.Offer.Response)
		switch {
		case res.ReferralExisted:
			msg = "Recorded. They already have an open referral, " + res.Referral.Reference + ": what they said has been added to it"
		case res.Referral != nil:
			msg = "Recorded, and referral " + res.Referral.Reference + " made with their agreement"
		case res.Offer.Response == "interested":
			msg = "Recorded. They already have an open referral for peer support: the team holding it has been told they are interested"
		}
		setFlash(w, msg)
		return redirect(w, r, "/people/"+strconv.FormatInt(id, 10))
	}
	if !formWithErrors(f, err) {
		return err
	}
	return s.personPage(w, r, http.StatusUnprocessableEntity, id, f)
}

func (s *Server) handleMyOffer(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	told := f.Value("told")
	if told != "yes" && told != "no" {
		setFlash(w, "Choose whether you have been told about peer support")
		return redirect(w, r, "/my/referrals")
	}
	if _, err := s.referrals.RecordOwnOffer(r.Context(), principal(r), told == "yes", f.Value("note")); err != nil {
		return err
	}
	setFlash(w, "Thank you. This helps the service see who is being told about peer support.")
	return redirect(w, r, "/my/referrals")
}

func (s *Server) handleRecordAccess(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	rows, err := s.audit.OwnAccessLog(r.Context(), p.ActorFor(app.PermOwnRecord), p.PersonID, 200)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "person/record-access", &ui.Page{Title: "Who has seen your record", Data: rows})
}
