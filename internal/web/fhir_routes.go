package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/fhir"
	"github.com/mutualhq/mutual/internal/support"
)

// fhirRoutes are the FHIR R4 views of recovery and support: the DIALOG+
// Questionnaire, goals, DIALOG+ sessions and appointments as Goal,
// QuestionnaireResponse and Appointment, each one and searched by patient. They answer application/fhir+json and are
// audited like the pages they mirror.
func (s *Server) fhirRoutes() []*Route {
	return []*Route{
		pageRoute("GET /fhir/R4/Questionnaire/dialog-plus", app.PermPublic, s.handleFHIRQuestionnaire),
		personPage("GET /fhir/R4/Goal", app.PermRecoveryPlan, s.handleFHIRGoals),
		personPage("GET /fhir/R4/Goal/{id}", app.PermRecoveryPlan, s.handleFHIRGoal),
		personPage("GET /fhir/R4/QuestionnaireResponse", app.PermRecoveryPlan, s.handleFHIRResponses),
		personPage("GET /fhir/R4/QuestionnaireResponse/{id}", app.PermRecoveryPlan, s.handleFHIRResponse),
		personPage("GET /fhir/R4/Appointment", app.PermAppointments, s.handleFHIRAppointments),
		personPage("GET /fhir/R4/Appointment/{id}", app.PermAppointments, s.handleFHIRAppointment),
	}
}

// handleFHIRAppointments searches a person's appointments (?patient=),
// those the caller may see (none for anyone else's), as a Bundle.
func (s *Server) handleFHIRAppointments(w http.ResponseWriter, r *http.Request) error {
	pid, err := patientParam(r)
	if err != nil {
		return err
	}
	list, err := s.support.List(r.Context(), principal(r), support.Filter{PersonID: pid})
	if err != nil {
		return err
	}
	var rs []fhir.Resource
	for _, a := range list {
		rs = append(rs, fhir.FromAppointment(a))
	}
	return writeFHIR(w, fhir.SearchSet(s.cfg.BaseURL, s.cfg.BaseURL+"/fhir/R4/Appointment?patient="+strconv.FormatInt(pid, 10), rs))
}

func (s *Server) handleFHIRAppointment(w http.ResponseWriter, r *http.Request) error {
	aid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.support.Get(r.Context(), principal(r), aid)
	if err != nil {
		return err
	}
	return writeFHIR(w, fhir.FromAppointment(a))
}

func writeFHIR(w http.ResponseWriter, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return app.Internal(err)
	}
	w.Header().Set("Content-Type", fhir.ContentType+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(b, '\n'))
	return err
}

func (s *Server) handleFHIRQuestionnaire(w http.ResponseWriter, r *http.Request) error {
	return writeFHIR(w, fhir.DialogQuestionnaire(s.cfg.BaseURL))
}

// patientParam reads ?patient=7 (or Patient/7, or subject=Patient/7).
func patientParam(r *http.Request) (int64, error) {
	q := r.URL.Query()
	v := q.Get("patient")
	if v == "" {
		v = q.Get("subject")
	}
	v = strings.TrimPrefix(strings.TrimSpace(v), "Patient/")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, app.Invalid(app.FieldError{Field: "patient", Message: "Search by patient: ?patient=<the person's id>"})
	}
	return id, nil
}

func (s *Server) handleFHIRGoals(w http.ResponseWriter, r *http.Request) error {
	pid, err := patientParam(r)
	if err != nil {
		return err
	}
	goals, err := s.recovery.ListGoals(r.Context(), principal(r), pid)
	if err != nil {
		return err
	}
	var rs []fhir.Resource
	for _, g := range goals {
		rs = append(rs, fhir.FromGoal(g, ""))
	}
	return writeFHIR(w, fhir.SearchSet(s.cfg.BaseURL, s.cfg.BaseURL+"/fhir/R4/Goal?patient="+strconv.FormatInt(pid, 10), rs))
}

func (s *Server) handleFHIRGoal(w http.ResponseWriter, r *http.Request) error {
	gid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := s.recovery.GetGoal(r.Context(), principal(r), gid)
	if err != nil {
		return err
	}
	return writeFHIR(w, fhir.FromGoal(g, ""))
}

func (s *Server) handleFHIRResponses(w http.ResponseWriter, r *http.Request) error {
	pid, err := patientParam(r)
	if err != nil {
		return err
	}
	d, err := s.recovery.GetDialog(r.Context(), principal(r), pid)
	if err != nil {
		return err
	}
	var rs []fhir.Resource
	for _, se := range d.Sessions {
		rs = append(rs, fhir.FromSession(se, d.PersonName, s.cfg.BaseURL))
	}
	return writeFHIR(w, fhir.SearchSet(s.cfg.BaseURL, s.cfg.BaseURL+"/fhir/R4/QuestionnaireResponse?patient="+strconv.FormatInt(pid, 10), rs))
}

func (s *Server) handleFHIRResponse(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	se, err := s.recovery.GetSession(r.Context(), principal(r), sid)
	if err != nil {
		return err
	}
	return writeFHIR(w, fhir.FromSession(se, "", s.cfg.BaseURL))
}
