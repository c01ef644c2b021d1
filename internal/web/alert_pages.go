package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// alertRoutes are alerts that wait for a response: one line per route.
func (s *Server) alertRoutes() []*Route {
	return []*Route{
		personPage("GET /alerts", app.PermAlertRead, s.handleAlerts),
		personPage("POST /alerts/{id}/response", app.PermAlertRespond, s.handleAlertResponse),
		personAPI("GET /api/v1/alerts", app.PermAlertRead, opListAlerts, s.apiListAlerts),
		personAPI("POST /api/v1/alerts/{id}/response", app.PermAlertRespond, opRespondAlert, s.apiRespondAlert),
	}
}

type alertsData struct {
	Alerts     []alert.Alert
	Resolved   bool
	CanRespond bool
	Manager    bool
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	resolved := r.URL.Query().Get("resolved") == "1"
	list, err := s.alerts.List(r.Context(), p, alert.Filter{Resolved: resolved})
	if err != nil {
		return err
	}
	d := alertsData{Alerts: list, Resolved: resolved, CanRespond: p.Can(app.PermAlertRespond), Manager: p.HasRole(app.RoleServiceManager)}
	return s.page(w, r, http.StatusOK, "alert/alerts", &ui.Page{Title: "Alerts", Data: d})
}

// alertFields maps the service's field names to the referral page's.
var alertFields = map[string]string{"outcome": "alert_outcome", "note": "alert_note"}

func (s *Server) handleAlertResponse(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(f.Value("alert_version"))
	a, err := s.alerts.Resolve(r.Context(), principal(r), id, alert.Response{Outcome: f.Value("alert_outcome"), Note: f.Value("alert_note"), Version: version})
	back := formInt(f, "referral_id")
	if err == nil {
		setFlash(w, "Response recorded for the alert on "+a.Reference+": "+a.OutcomeLabel())
		if a.ReferralID != 0 {
			return redirect(w, r, "/referrals/"+strconv.FormatInt(a.ReferralID, 10))
		}
		if strings.HasPrefix(a.Link, "/appointments/") {
			return redirect(w, r, a.Link)
		}
		return redirect(w, r, "/alerts")
	}
	ae := app.As(err)
	appointment := formInt(f, "appointment_id")
	if (back == 0 && appointment == 0) || (ae.Code != app.CodeInvalid && ae.Code != app.CodeConflict) {
		return err
	}
	// Show the referral again, with what was typed and each problem next
	// to its field.
	switch ae.Code {
	case app.CodeInvalid:
		for _, fe := range ae.Fields {
			f.AddError(alertFields[fe.Field], fe.Message)
		}
	default:
		f.AddError("", ae.Message)
	}
	f.Values.Set("alert_id", strconv.FormatInt(id, 10))
	if back == 0 {
		// Sent from a visit's page: show it again, with what was typed.
		return s.appointmentPageFor(w, r, appointment, ae.Code.Status(), f)
	}
	return s.referralPage(w, r, ae.Code.Status(), back, f, "alert")
}

const helpCookie = "__Host-mutual-help"

// setHelpNow asks the next page to show where to get help now (ui.Page
// HelpNow): who wrote the words, and whether the duty lead was alerted.
func setHelpNow(w http.ResponseWriter, self, alerted bool) {
	v := "referrer"
	if self {
		v = "self"
	}
	if alerted {
		v += "-alerted"
	}
	http.SetCookie(w, &http.Cookie{Name: helpCookie, Value: v, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 300})
}

// helpNowFrom reads (and clears) the request to show where to get help now.
func helpNowFrom(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(helpCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: helpCookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	switch v, _ := url.QueryUnescape(c.Value); v {
	case "self", "self-alerted", "referrer", "referrer-alerted":
		return v
	}
	return ""
}
