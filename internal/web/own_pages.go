package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// ownRoutes are the person's own side: claiming the record a service made
// for them, their contact details, their own referrals in plain words and
// who may see them: one line per route.
func (s *Server) ownRoutes() []*Route {
	return []*Route{
		pageRoute("GET /my/claim", app.PermSignedIn, s.handleClaimForm),
		personPage("POST /my/claim", app.PermSignedIn, s.handleClaim),
		personPage("POST /my/claim/code", app.PermSignedIn, s.handleClaimCode),
		personPage("POST /people/{id}/claim-invitations", app.PermPersonRead, s.handleClaimInvite),
		personPage("GET /my/details", app.PermOwnRecord, s.handleMyDetails),
		personPage("POST /my/details", app.PermOwnRecord, s.handleMyDetailsUpdate),
		personPage("GET /my/referrals/{id}", app.PermOwnRecord, byID(s.myReferralPage)),
		personPage("POST /my/referrals/{id}/sharing", app.PermOwnRecord, s.handleSharing),
		personPage("POST /my/referrals/{id}/what-helped", app.PermOwnRecord, s.handleWhatHelped),
		personAPI("POST /api/v1/my/claim", app.PermSignedIn, opClaim, s.apiClaim),
		personAPI("POST /api/v1/my/claim-codes", app.PermSignedIn, opClaimCode, s.apiClaimCode),
		personAPI("POST /api/v1/people/{id}/claim-invitations", app.PermPersonRead, opClaimInvite, s.apiClaimInvite),
		personAPI("GET /api/v1/my/details", app.PermOwnRecord, opMyDetails, s.apiMyDetails),
		personAPI("PUT /api/v1/my/details", app.PermOwnRecord, opUpdateMyDetails, s.apiUpdateMyDetails),
		personAPI("GET /api/v1/my/referrals/{id}", app.PermOwnRecord, opMyReferral, s.apiMyReferral),
		personAPI("PUT /api/v1/my/referrals/{id}/sharing", app.PermOwnRecord, opSharing, s.apiSharing),
		personAPI("PUT /api/v1/my/referrals/{id}/what-helped", app.PermOwnRecord, opWhatHelped, s.apiWhatHelped),
	}
}

type claimData struct {
	CodeSent bool
	Staff    bool
}

func (s *Server) claimPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form, sent bool) error {
	p := principal(r)
	return s.page(w, r, status, "own/claim", &ui.Page{Title: "Find your record", Form: f, Data: claimData{CodeSent: sent, Staff: p.IsStaff()}})
}

func (s *Server) handleClaimForm(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	return s.claimPage(w, r, http.StatusOK, ui.NewForm(url.Values{"code": {r.URL.Query().Get("code")}, "email": {p.Email}}), false)
}

func (s *Server) handleClaim(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	_, err = s.accounts.ClaimRecord(r.Context(), p, f.Value("code"), s.clientAddr(r))
	if err == nil {
		// Someone who is also staff now has their own support too: they
		// arrive in it, with a new session (a change of privilege).
		if p.Via == "session" && p.IsStaff() {
			token, err := s.accounts.SwitchContext(r.Context(), p, app.ActingOwn)
			if err != nil {
				return err
			}
			setSessionCookie(w, token)
		}
		setFlash(w, "Your account is now joined to your record")
		return redirect(w, r, "/my/referrals")
	}
	e := app.As(err)
	switch e.Code {
	case app.CodeTooMany, app.CodeConflict:
		f.AddError("code", e.Message)
	default:
		if !formWithErrors(f, err) {
			return err
		}
	}
	return s.claimPage(w, r, e.Code.Status(), f, false)
}

func (s *Server) handleClaimCode(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	err = s.people.SendContactCode(r.Context(), principal(r), f.Value("email"), s.clientAddr(r))
	if err == nil {
		return s.claimPage(w, r, http.StatusOK, f, true)
	}
	if e := app.As(err); e.Code == app.CodeTooMany {
		f.AddError("email", e.Message)
	} else if !formWithErrors(f, err) {
		return err
	}
	return s.claimPage(w, r, app.As(err).Code.Status(), f, false)
}

func (s *Server) handleClaimInvite(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	inv, err := s.people.InviteToClaim(r.Context(), principal(r), id, f.Value("how"))
	if err == nil {
		if inv.How == person.InviteByPrint {
			// Shown once, on this response: only the code's hash is kept.
			return s.page(w, r, http.StatusOK, "own/claim-printed", &ui.Page{Title: "A code to claim their record", Data: inv,
				BackLink: "/people/" + strconv.FormatInt(id, 10)})
		}
		setFlash(w, "Invitation sent to the email address on their record. It works for 14 days.")
		return redirect(w, r, "/people/"+strconv.FormatInt(id, 10))
	}
	switch e := app.As(err); e.Code {
	case app.CodeInvalid:
		formWithErrors(f, err)
	case app.CodeConflict:
		f.AddError("how", e.Message)
	default:
		return err
	}
	return s.personPage(w, r, app.As(err).Code.Status(), id, f)
}

type myDetailsData struct {
	person.OwnDetails
	ContactPreferences []ui.Option
}

func (s *Server) myDetailsPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	own, err := s.people.Own(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if f == nil {
		pe := own.Person
		f = ui.NewForm(url.Values{"preferred_name": {pe.PreferredName}, "email": {pe.Email}, "phone": {pe.Phone},
			"contact_preference": {pe.ContactPreference}, "contact_times": {pe.ContactTimes}})
	}
	return s.page(w, r, status, "own/details", &ui.Page{Title: "Your contact details", Form: f,
		Data: myDetailsData{OwnDetails: own, ContactPreferences: reasonOptions(person.ContactPreferences)}})
}

func (s *Server) handleMyDetails(w http.ResponseWriter, r *http.Request) error {
	return s.myDetailsPage(w, r, http.StatusOK, nil)
}

func contactFromForm(f *ui.Form) person.ContactDetails {
	return person.ContactDetails{PreferredName: f.Value("preferred_name"), Email: f.Value("email"), Phone: f.Value("phone"),
		ContactPreference: f.Value("contact_preference"), ContactTimes: f.Value("contact_times")}
}

func (s *Server) handleMyDetailsUpdate(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	_, err = s.people.UpdateOwnContact(r.Context(), principal(r), contactFromForm(f))
	if err == nil {
		setFlash(w, "Your contact details have been saved")
		return redirect(w, r, "/my/details")
	}
	if !formWithErrors(f, err) {
		return err
	}
	return s.myDetailsPage(w, r, http.StatusUnprocessableEntity, f)
}

func (s *Server) myReferralPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	m, err := s.referrals.MyReferral(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	if f == nil || f.Value("comment_on") != "" {
		// A comment on a contact shown again keeps what was typed; the
		// sharing choices are the saved ones.
		if f == nil {
			f = ui.NewForm(url.Values{})
		}
		if m.Own.ShareWithReferrer {
			f.Values.Set("share_with_referrer", "yes")
		}
		if m.Own.ShareBeyondTeam {
			f.Values.Set("share_beyond_team", "yes")
		}
		f.Values.Set("what_helped", m.Own.WhatHelped)
	}
	handoverValues(f, m.Handover)
	title := "Your request for peer support"
	if m.MadeByMe {
		title = "Your referral for " + m.Own.PersonName
	}
	return s.page(w, r, status, "own/referral", &ui.Page{Title: title, Form: f, Data: m, BackLink: "/my/referrals"})
}

func (s *Server) handleSharing(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	m, err := s.referrals.ChangeSharing(r.Context(), principal(r), id, referral.Sharing{
		ShareWithReferrer: checked(f, "share_with_referrer"), ShareBeyondTeam: checked(f, "share_beyond_team")})
	if err != nil {
		return err
	}
	msg := "Saved. Only the peer support team can see this referral now."
	switch {
	case m.Own.ShareBeyondTeam && m.Own.ShareWithReferrer && m.Own.ReferrerCanFollow:
		msg = "Saved. Whoever referred you can follow it, and it can be shared beyond the peer support team."
	case m.Own.ShareBeyondTeam:
		msg = "Saved. It can be shared beyond the peer support team."
	case m.Own.ShareWithReferrer && m.Own.ReferrerCanFollow:
		msg = "Saved. Whoever referred you can follow it."
	}
	setFlash(w, msg)
	return redirect(w, r, "/my/referrals/"+strconv.FormatInt(id, 10))
}

func (s *Server) handleWhatHelped(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	v, _ := strconv.Atoi(f.Value("version"))
	_, err = s.referrals.SayWhatHelped(r.Context(), principal(r), id, referral.WhatHelped{Words: f.Value("what_helped"), Version: v})
	if err == nil {
		setFlash(w, "Thank you. Your words about what helped are saved.")
		return redirect(w, r, "/my/referrals/"+strconv.FormatInt(id, 10))
	}
	switch e := app.As(err); e.Code {
	case app.CodeInvalid:
		formWithErrors(f, err)
	case app.CodeConflict:
		f.AddError("what_helped", e.Message)
	default:
		return err
	}
	return s.myReferralPage(w, r, app.As(err).Code.Status(), id, f)
}
