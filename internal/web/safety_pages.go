package web

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/watch"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// safetyRoutes are each organisation's watched words and its time to
// respond to alerts, for administrators: one line per route.
func (s *Server) safetyRoutes() []*Route {
	return []*Route{
		pageRoute("GET /admin/safety", app.PermSafetySettings, s.handleSafety),
		pageRoute("GET /admin/organisations/{id}/safety", app.PermSafetySettings, s.handleSafetyOrg),
		pageRoute("POST /admin/organisations/{id}/watch-terms", app.PermSafetySettings, s.handleAddWatchTerm),
		pageRoute("POST /admin/organisations/{id}/watch-terms/{term_id}/delete", app.PermSafetySettings, s.handleDeleteWatchTerm),
		pageRoute("POST /admin/organisations/{id}/watch-list", app.PermSafetySettings, s.handleOwnWatchList),
		pageRoute("POST /admin/organisations/{id}/alert-settings", app.PermSafetySettings, s.handleSetAlertSettings),
		apiRoute("GET /api/v1/organisations/{id}/watch-terms", app.PermSafetySettings, opWatchTerms, s.apiWatchTerms),
		apiRoute("POST /api/v1/organisations/{id}/watch-terms", app.PermSafetySettings, opAddWatchTerm, s.apiAddWatchTerm),
		apiRoute("PUT /api/v1/organisations/{id}/watch-terms/{term_id}", app.PermSafetySettings, opUpdateWatchTerm, s.apiUpdateWatchTerm),
		apiRoute("DELETE /api/v1/organisations/{id}/watch-terms/{term_id}", app.PermSafetySettings, opDeleteWatchTerm, s.apiDeleteWatchTerm),
		apiRoute("POST /api/v1/organisations/{id}/watch-list", app.PermSafetySettings, opOwnWatchList, s.apiOwnWatchList),
		apiRoute("GET /api/v1/watched-words", app.PermSafetySettings, opWatchedWords, s.apiWatchedWords),
		apiRoute("PUT /api/v1/watched-words", app.PermSafetySettings, opReplaceWatchedWords, s.apiReplaceWatchedWords),
		apiRoute("GET /api/v1/organisations/{id}/alert-settings", app.PermSafetySettings, opAlertSettings, s.apiAlertSettings),
		apiRoute("PUT /api/v1/organisations/{id}/alert-settings", app.PermSafetySettings, opSetAlertSettings, s.apiSetAlertSettings),
	}
}

func (s *Server) handleSafety(w http.ResponseWriter, r *http.Request) error {
	orgs, err := s.accounts.ListOrganisations(r.Context())
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "safety/index", &ui.Page{Title: "Risk words and alerts", Data: orgs})
}

type safetyOrgData struct {
	List         watch.List
	Settings     alert.OrgSettings
	TermForm     *ui.Form
	SettingsForm *ui.Form
	Categories   []ui.Option
	Actions      []ui.Option
	Days         []ui.Option
}

func (s *Server) safetyOrgPage(w http.ResponseWriter, r *http.Request, status int, org int64, tf, sf *ui.Form) error {
	p := principal(r)
	l, err := s.watch.List(r.Context(), p, org)
	if err != nil {
		return err
	}
	set, err := s.alerts.GetSettings(r.Context(), p, org)
	if err != nil {
		return err
	}
	if tf == nil {
		tf = ui.NewForm(url.Values{"action": {string(watch.Flag)}})
	}
	if sf == nil {
		sf = ui.NewForm(url.Values{"respond_hours": {hoursText(set.RespondMinutes)}, "work_days": set.WorkDays,
			"day_start": {set.DayStart}, "day_end": {set.DayEnd}, "time_zone": {set.TimeZone}})
	}
	d := safetyOrgData{List: l, Settings: set, TermForm: tf, SettingsForm: sf, Days: reasonOptions(alert.DayOptions)}
	d.Categories = append(d.Categories, ui.Option{Value: "", Label: "Choose what it is about"})
	for _, c := range watch.Categories {
		d.Categories = append(d.Categories, ui.Option{Value: string(c), Label: c.Label()})
	}
	for _, a := range watch.Actions {
		d.Actions = append(d.Actions, ui.Option{Value: string(a), Label: a.Label()})
	}
	// One page, two forms: the error summary lists the problems of both.
	pg := &ui.Page{Title: "Risk words and alerts: " + l.OrganisationName, Data: d, BackLink: "/admin/safety",
		Form: &ui.Form{Errors: append(append([]ui.FieldError{}, tf.Errors...), sf.Errors...)}}
	return s.page(w, r, status, "safety/organisation", pg)
}

// hoursText writes minutes as hours for the form: "4", "1.5".
func hoursText(minutes int) string {
	return strconv.FormatFloat(float64(minutes)/60, 'f', -1, 64)
}

func (s *Server) handleSafetyOrg(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.safetyOrgPage(w, r, http.StatusOK, org, nil, nil)
}

func (s *Server) handleAddWatchTerm(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	t, err := s.watch.AddTerm(r.Context(), principal(r), org, watch.Term{Phrase: f.Value("phrase"),
		Category: watch.Category(f.Value("category")), Action: watch.Action(f.Value("action"))})
	if err == nil {
		setFlash(w, "“"+t.Phrase+"” added to the watched words")
		return redirect(w, r, "/admin/organisations/"+strconv.FormatInt(org, 10)+"/safety")
	}
	if !formWithErrors(f, err) {
		return err
	}
	return s.safetyOrgPage(w, r, http.StatusUnprocessableEntity, org, f, nil)
}

func (s *Server) handleDeleteWatchTerm(w http.ResponseWriter, r *http.Request) error {
	// The form first: what is wrong with it is said whatever the path.
	if _, err := parseForm(w, r); err != nil {
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
	if err := s.watch.DeleteTerm(r.Context(), principal(r), org, tid); err != nil {
		return err
	}
	setFlash(w, "Removed from the watched words")
	return redirect(w, r, "/admin/organisations/"+strconv.FormatInt(org, 10)+"/safety")
}

func (s *Server) handleOwnWatchList(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := s.watch.MakeOwn(r.Context(), principal(r), org); err != nil {
		return err
	}
	setFlash(w, "The organisation now has its own copy of the watched words to change")
	return redirect(w, r, "/admin/organisations/"+strconv.FormatInt(org, 10)+"/safety")
}

func (s *Server) handleSetAlertSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	set := alert.Settings{WorkDays: f.All("work_days"), DayStart: f.Value("day_start"), DayEnd: f.Value("day_end"), TimeZone: f.Value("time_zone")}
	hours, perr := strconv.ParseFloat(strings.TrimSpace(f.Value("respond_hours")), 64)
	if perr != nil || hours <= 0 || math.IsInf(hours, 0) || hours > 168 {
		f.AddError("respond_hours", "Enter the time to respond in working hours, like 4 or 1.5")
		// Check the rest too, so every problem is named at once.
		set.RespondMinutes = 60
	} else {
		set.RespondMinutes = int(math.Round(hours * 60))
	}
	if f.Valid() {
		_, err = s.alerts.SetSettings(r.Context(), principal(r), org, set)
	} else {
		// Nothing is saved: only find the other problems.
		_, err = set.Check()
	}
	if err == nil && f.Valid() {
		setFlash(w, "Alert settings saved")
		return redirect(w, r, "/admin/organisations/"+strconv.FormatInt(org, 10)+"/safety")
	}
	if err != nil {
		ae := app.As(err)
		if ae.Code != app.CodeInvalid {
			return err
		}
		for _, fe := range ae.Fields {
			name := fe.Field
			if name == "respond_within_minutes" {
				name = "respond_hours"
			}
			if f.Error(name) == "" {
				f.AddError(name, fe.Message)
			}
		}
	}
	return s.safetyOrgPage(w, r, http.StatusUnprocessableEntity, org, nil, f)
}
