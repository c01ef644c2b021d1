package web

import (
	"net/http"
	"slices"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/watch"
)

var termID = append(slices.Clone(id), Param{Name: "term_id", In: "path", Type: "integer", Required: true, Description: "The term's id."})

var exampleTerm = watch.Term{ID: 31, Phrase: "ending my life", Category: watch.Suicide, Action: watch.Flag}

var opWatchTerms = APIOp{Summary: "An organisation's watched words and phrases (administrators)", Tag: "Safety", Query: id,
	Description: "Text written at every door in is checked against the list of the organisation it goes to (every organisation's, for a referral with no team yet). own false: the organisation uses Mutual's default list.",
	Response:    watch.List{OrganisationID: 1, OrganisationName: "Leeds and York Partnership NHS Foundation Trust", Own: true, Terms: []watch.Term{exampleTerm}}}

var opAddWatchTerm = APIOp{Summary: "Add a watched word or phrase (administrators)", Tag: "Safety", Status: http.StatusCreated, Query: id,
	Description: "The first change makes the organisation's list its own: a copy of the defaults, then the change. A phrase already on the list, written any way that matches the same, is 422.",
	Request:     watch.Term{Phrase: "ending my life", Category: watch.Suicide, Action: watch.Flag}, Response: exampleTerm}

var opUpdateWatchTerm = APIOp{Summary: "Change a watched word or phrase (administrators)", Tag: "Safety", Query: termID,
	Request: watch.Term{Phrase: "ending my life", Category: watch.Suicide, Action: watch.Flag}, Response: exampleTerm}

var opDeleteWatchTerm = APIOp{Summary: "Remove a watched word or phrase (administrators)", Tag: "Safety", Status: http.StatusNoContent, Query: termID}

var opOwnWatchList = APIOp{Summary: "Make the organisation's list its own: a copy of Mutual's defaults to change (administrators)", Tag: "Safety", Query: id,
	Description: "Nothing changes if it is already its own.",
	Response:    watch.List{OrganisationID: 1, OrganisationName: "Leeds and York Partnership NHS Foundation Trust", Own: true, Terms: []watch.Term{exampleTerm}}}

var orgQuery = []Param{{Name: "organisation", In: "query", Type: "integer",
	Description: "The organisation's id; may be left out when there is only one organisation."}}

var opWatchedWords = APIOp{Summary: "The watched words and phrases, as one list (administrators)", Tag: "Safety", Query: orgQuery,
	Description: "The same list as GET /api/v1/organisations/{id}/watch-terms, with its version, to change as a whole with PUT.",
	Response:    watch.List{OrganisationID: 1, OrganisationName: "Leeds and York Partnership NHS Foundation Trust", Own: true, Version: 4, Terms: []watch.Term{exampleTerm}}}

var opReplaceWatchedWords = APIOp{Summary: "Put a whole list of watched words and phrases in place (administrators)", Tag: "Safety", Query: orgQuery,
	Description: "Replaces the organisation's list in one step, from the version GET gave (0 while it uses Mutual's defaults). " +
		"Someone else's change since that version is 409 and changes nothing. Each problem is named by its place, e.g. terms[3].phrase; a phrase listed twice, " +
		"written any way that matches the same, is 422. Up to 20,000 words and phrases, in a body of up to 4 MiB. The list is used for text written from then on, by every instance within 30 seconds.",
	Request: watch.Replacement{Version: 3, Terms: []watch.Term{
		{Phrase: "ending my life", Category: watch.Suicide, Action: watch.Flag},
		{Phrase: "overdos*", Category: watch.Means, Action: watch.Hold}}},
	Response: watch.List{OrganisationID: 1, OrganisationName: "Leeds and York Partnership NHS Foundation Trust", Own: true, Version: 4, Terms: []watch.Term{exampleTerm}}}

var opAlertSettings = APIOp{Summary: "An organisation's time to respond to alerts and its working hours (administrators)", Tag: "Safety", Query: id,
	Response: alert.OrgSettings{OrganisationID: 1, OrganisationName: "Leeds and York Partnership NHS Foundation Trust", Default: true, Settings: alert.DefaultSettings}}

var opSetAlertSettings = APIOp{Summary: "Set an organisation's time to respond to alerts and its working hours (administrators)", Tag: "Safety", Query: id,
	Description: "Alerts already raised keep the time they are due.",
	Request:     alert.DefaultSettings,
	Response:    alert.OrgSettings{OrganisationID: 1, OrganisationName: "Leeds and York Partnership NHS Foundation Trust", Settings: alert.DefaultSettings}}

func (s *Server) apiWatchTerms(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.watch.List(r.Context(), principal(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (s *Server) apiAddWatchTerm(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in watch.Term
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.watch.AddTerm(r.Context(), principal(r), org, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) apiUpdateWatchTerm(w http.ResponseWriter, r *http.Request) error {
	// The body first: what is wrong with it is said whatever the path.
	var in watch.Term
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tid, err := pathID(r, "term_id")
	if err != nil {
		return err
	}
	t, err := s.watch.UpdateTerm(r.Context(), principal(r), org, tid, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiDeleteWatchTerm(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tid, err := pathID(r, "term_id")
	if err != nil {
		return err
	}
	if err := s.watch.DeleteTerm(r.Context(), principal(r), org, tid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiOwnWatchList(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.watch.MakeOwn(r.Context(), principal(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

// maxWatchListBody holds a whole list of watch.MaxTerms phrases.
const maxWatchListBody = 4 << 20

func (s *Server) watchOrganisation(r *http.Request) (int64, error) {
	org, err := queryID(r.URL.Query(), "organisation")
	if err != nil {
		return 0, err
	}
	return s.watch.Organisation(r.Context(), org)
}

func (s *Server) apiWatchedWords(w http.ResponseWriter, r *http.Request) error {
	org, err := s.watchOrganisation(r)
	if err != nil {
		return err
	}
	l, err := s.watch.List(r.Context(), principal(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (s *Server) apiReplaceWatchedWords(w http.ResponseWriter, r *http.Request) error {
	var in watch.Replacement
	if err := decodeJSONLimit(r, &in, maxWatchListBody); err != nil {
		return err
	}
	org, err := s.watchOrganisation(r)
	if err != nil {
		return err
	}
	l, err := s.watch.ReplaceTerms(r.Context(), principal(r), org, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (s *Server) apiAlertSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	set, err := s.alerts.GetSettings(r.Context(), principal(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, set)
}

func (s *Server) apiSetAlertSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in alert.Settings
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	set, err := s.alerts.SetSettings(r.Context(), principal(r), org, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, set)
}
