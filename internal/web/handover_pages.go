package web

import (
	"net/http"
	"strconv"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// handoverRoutes are the person's choice of what a new peer worker sees of
// their support so far: from their account, or recorded by staff on their
// say. (The warm handover meeting itself is an appointment: supportRoutes.)
func (s *Server) handoverRoutes() []*Route {
	return []*Route{
		personPage("POST /my/referrals/{id}/handover-sharing", app.PermOwnRecord, s.handleMyHandoverSharing),
		personPage("POST /referrals/{id}/handover-sharing", app.PermReferralView, s.handleHandoverSharing),
		personAPI("PUT /api/v1/my/referrals/{id}/handover-sharing", app.PermOwnRecord, opMyHandoverSharing, s.apiHandoverSharing),
		personAPI("PUT /api/v1/referrals/{id}/handover-sharing", app.PermReferralView, opHandoverSharing, s.apiHandoverSharing),
	}
}

var exampleHandoverSharing = referral.HandoverSharing{ReferralID: 42, Share: access.HistorySummary, Chosen: true, ByPerson: true, ChosenBy: "Sam Jones",
	ChosenAt: &exampleTimeValue, Version: 1}

var exampleTimeValue = exampleTime

var opMyHandoverSharing = APIOp{Summary: "Choose what a new peer worker sees of your support so far", Tag: "Your record", Query: id,
	Description: "If your peer worker changes, the new worker sees of the contacts recorded before they took over: all (the notes too), summary (dates, " +
		"how you met and the kinds of support, no notes) or none (a fresh start). Until you choose, it is summary. Send the version you saw (0 for " +
		"your first choice): a stale one answers 409. What is recorded after the change they always see.",
	Request: referral.HandoverChoice{Share: access.HistorySummary, Version: 0}, Response: exampleHandoverSharing}

var opHandoverSharing = APIOp{Summary: "Record, on the person's say, what a new peer worker sees of their support so far", Tag: "Referrals", Query: id,
	Description: "For the referral's peer worker or a lead of its team, with the person's agreement: agreement says on whose say. The same choice as the " +
		"person's own (all, summary or none; summary until chosen); a stale version answers 409. It is in the referral's history.",
	Request: referral.HandoverChoice{Share: access.HistoryAll, Agreement: "Sam told me at our meeting on 3 March", Version: 1},
	Response: referral.HandoverSharing{ReferralID: 42, Share: access.HistoryAll, Chosen: true, ChosenBy: "Alex Peer", Agreement: "Sam told me at our meeting on 3 March",
		ChosenAt: &exampleTimeValue, Version: 2}}

func (s *Server) apiHandoverSharing(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in referral.HandoverChoice
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	h, err := s.referrals.ChooseHandoverSharing(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// handoverChoice reads the choice form (fields handover_share,
// handover_agreement, handover_version) and records it, answering the
// problem as the form shows it (on its own fields), or nil.
func (s *Server) handoverChoice(r *http.Request, id int64, f *ui.Form) (referral.HandoverSharing, error) {
	v, _ := strconv.Atoi(f.Value("handover_version"))
	h, err := s.referrals.ChooseHandoverSharing(r.Context(), principal(r), id, referral.HandoverChoice{Share: f.Value("handover_share"),
		Agreement: f.Value("handover_agreement"), Version: v})
	if err == nil {
		return h, nil
	}
	e := app.As(err)
	switch e.Code {
	case app.CodeInvalid:
		for _, fe := range e.Fields {
			f.AddError("handover_"+fe.Field, fe.Message)
		}
	case app.CodeConflict, app.CodeForbidden:
		f.AddError("handover_share", e.Message)
	default:
		return h, err
	}
	return h, e
}

func handoverFlash(h referral.HandoverSharing) string {
	return "Saved. If the peer worker changes, the new worker sees: " + app.LowerFirst(h.ShareLabel()) + "."
}

func (s *Server) handleMyHandoverSharing(w http.ResponseWriter, r *http.Request) error {
	return s.handoverForm(w, r, "/my/referrals/", s.myReferralPage)
}

func (s *Server) handleHandoverSharing(w http.ResponseWriter, r *http.Request) error {
	return s.handoverForm(w, r, "/referrals/", func(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
		return s.referralPage(w, r, status, id, f, "handover")
	})
}

// handoverForm records the choice posted from a referral page (the
// person's, under base, or staff's) and goes back to it, or shows it again
// with the problem and what was chosen.
func (s *Server) handoverForm(w http.ResponseWriter, r *http.Request, base string,
	again func(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	h, err := s.handoverChoice(r, id, f)
	if err == nil {
		setFlash(w, handoverFlash(h))
		return redirect(w, r, base+strconv.FormatInt(id, 10)+"#handover")
	}
	if !app.IsCode(err, app.CodeInvalid) && !app.IsCode(err, app.CodeConflict) && !app.IsCode(err, app.CodeForbidden) {
		return err
	}
	return again(w, r, app.As(err).Code.Status(), id, f)
}

// handoverValues fills the choice form with the saved choice, unless it is
// being shown again with what was typed; the version is always the saved
// one, so after a 409 (someone chose meanwhile) sending the form again
// saves it, instead of meeting the same stale version for ever.
func handoverValues(f *ui.Form, h *referral.HandoverSharing) {
	if h == nil {
		return
	}
	f.Values.Set("handover_version", strconv.Itoa(h.Version))
	if f.Value("handover_share") == "" {
		f.Values.Set("handover_share", h.Share)
	}
}
