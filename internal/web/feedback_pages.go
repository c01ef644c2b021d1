package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// feedbackRoutes are "you said, we did": giving feedback (no account
// needed), following it, the public pages, and the inbox where leads move
// it on: one line per route.
func (s *Server) feedbackRoutes() []*Route {
	return []*Route{
		pageRoute("GET /feedback", app.PermPublic, s.handleFeedbackForm),
		personPage("POST /feedback", app.PermPublic, s.handleFeedbackGive),
		pageRoute("GET /feedback/thanks", app.PermPublic, s.handleFeedbackThanks),
		pageRoute("GET /feedback/status/{token}", app.PermPublic, s.handleFeedbackStatus),
		pageRoute("GET /you-said-we-did", app.PermPublic, s.handleYouSaidIndex),
		pageRoute("GET /you-said-we-did/{id}", app.PermPublic, s.handleYouSaid),
		personPage("GET /my/feedback", app.PermSignedIn, s.handleMyFeedback),
		personPage("GET /feedback/inbox", app.PermFeedbackRead, s.handleFeedbackInbox),
		personPage("GET /feedback/inbox/{id}", app.PermFeedbackRead, s.handleFeedbackItem),
		personPage("POST /feedback/inbox/{id}/transitions", app.PermFeedbackManage, s.handleFeedbackMove),
		personAPI("POST /api/v1/feedback", app.PermPublic, opGiveFeedback, s.apiGiveFeedback),
		apiRoute("GET /api/v1/feedback/status/{token}", app.PermPublic, opFeedbackStatus, s.apiFeedbackStatus),
		apiRoute("GET /api/v1/teams/{id}/you-said-we-did", app.PermPublic, opYouSaid, s.apiYouSaid),
		personAPI("GET /api/v1/my/feedback", app.PermSignedIn, opMyFeedback, s.apiMyFeedback),
		personAPI("GET /api/v1/feedback", app.PermFeedbackRead, opListFeedback, s.apiListFeedback),
		personAPI("GET /api/v1/feedback/{id}", app.PermFeedbackRead, opGetFeedback, s.apiGetFeedback),
		personAPI("POST /api/v1/feedback/{id}/transitions", app.PermFeedbackManage, opMoveFeedback, s.apiMoveFeedback),
	}
}

type feedbackFormData struct {
	Abouts   []ui.Option
	Teams    []ui.Option
	Workers  []ui.Option
	Who      []ui.Option
	SignedIn string // the caller's name, when signed in
}

func (s *Server) feedbackFormPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	opts, err := s.formOptions(r)
	if err != nil {
		return err
	}
	d := feedbackFormData{Teams: opts.Teams, Who: []ui.Option{{Value: "named", Label: "Yes, you can know who I am"},
		{Value: "anonymous", Label: "No, I want to stay anonymous", Hint: "Nothing will link your feedback to you, even if you are signed in."}}}
	d.Teams[0].Label = "I'm not sure, or the whole service"
	for _, a := range recovery.Abouts {
		d.Abouts = append(d.Abouts, ui.Option{Value: a.Code, Label: a.Label})
	}
	p := s.giver(r)
	if p.UserID != 0 {
		d.SignedIn = p.Name
		workers, err := s.recovery.MyWorkers(r.Context(), p)
		if err != nil {
			return err
		}
		if len(workers) > 0 {
			d.Workers = append(d.Workers, ui.Option{Value: "", Label: "Someone else, or not about a worker"})
			for _, wk := range workers {
				d.Workers = append(d.Workers, ui.Option{Value: strconv.FormatInt(wk.ID, 10), Label: wk.Name})
			}
		}
	}
	return s.page(w, r, status, "feedback/give", &ui.Page{Title: "Give feedback", Form: f, Data: d})
}

func (s *Server) handleFeedbackForm(w http.ResponseWriter, r *http.Request) error {
	return s.feedbackFormPage(w, r, http.StatusOK, ui.NewForm(url.Values{"who": {"named"}}))
}

const feedbackCookie = "__Host-mutual-feedback"

func (s *Server) handleFeedbackGive(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	in := recovery.NewFeedback{About: recovery.About(f.Value("about")), AboutName: f.Value("about_name"), AboutWorkerID: formInt(f, "about_worker_id"),
		TeamID: formInt(f, "team_id"), Body: f.Value("body"), MayQuote: checked(f, "may_quote"), Anonymous: f.Value("who") == "anonymous",
		Name: f.Value("name"), Email: f.Value("email"), Phone: f.Value("phone"), ContactOK: checked(f, "contact_ok")}
	if in.AboutWorkerID != 0 && in.About == "" {
		in.About = recovery.AboutWorker
	}
	if f.Value("website") != "" {
		// A hidden field only robots fill in: look as if it worked, store nothing.
		fake := recovery.FakeReceipt()
		http.SetCookie(w, &http.Cookie{Name: feedbackCookie, Value: fake.Reference + "|" + app.NewSecret(24) + "|", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 3600})
		return redirect(w, r, "/feedback/thanks")
	}
	if err := s.limitPublicForm(r, "feedback"); err != nil {
		ae := app.As(err)
		if ae.Code != app.CodeTooMany {
			return err
		}
		f.AddError("", ae.Message)
		w.Header().Set("Retry-After", "60")
		return s.feedbackFormPage(w, r, http.StatusTooManyRequests, f)
	}
	rc, err := s.recovery.GiveFeedback(r.Context(), s.giver(r), in)
	if err != nil {
		if !formWithErrors(f, err) {
			return err
		}
		return s.feedbackFormPage(w, r, http.StatusUnprocessableEntity, f)
	}
	help := ""
	if rc.Signpost != nil {
		help = "help"
	}
	// The thanks page reads the reference and link from this short-lived
	// cookie, so neither is in an address or the history.
	http.SetCookie(w, &http.Cookie{Name: feedbackCookie, Value: rc.Reference + "|" + rc.Token + "|" + help, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	return redirect(w, r, "/feedback/thanks")
}

type feedbackThanksData struct {
	Reference string
	Link      string
	Signpost  bool
	Days      int // working days to acknowledge
}

func (s *Server) handleFeedbackThanks(w http.ResponseWriter, r *http.Request) error {
	d := feedbackThanksData{Days: s.recovery.AcknowledgeDays()}
	if c, err := r.Cookie(feedbackCookie); err == nil {
		parts := strings.Split(c.Value, "|")
		if len(parts) == 3 && strings.HasPrefix(parts[0], "FB-") && len(parts[0]) == 12 && len(parts[1]) < 100 {
			d.Reference, d.Link, d.Signpost = parts[0], s.cfg.BaseURL+"/feedback/status/"+parts[1], parts[2] == "help"
		}
		// Shown once: the next person to open this page on a shared phone
		// must not find the reference or the private link.
		http.SetCookie(w, &http.Cookie{Name: feedbackCookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	}
	return s.page(w, r, http.StatusOK, "feedback/thanks", &ui.Page{Title: "Thank you for your feedback", Data: d})
}

func (s *Server) handleFeedbackStatus(w http.ResponseWriter, r *http.Request) error {
	o, err := s.recovery.FeedbackByLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "feedback/status", &ui.Page{Title: "Your feedback " + o.Reference, Data: o})
}

func (s *Server) handleMyFeedback(w http.ResponseWriter, r *http.Request) error {
	list, err := s.recovery.MyFeedback(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "feedback/mine", &ui.Page{Title: "Your feedback", Data: list})
}

func (s *Server) handleYouSaidIndex(w http.ResponseWriter, r *http.Request) error {
	teams, err := s.recovery.PublicTeams(r.Context())
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "feedback/you-said-index", &ui.Page{Title: "You said, we did", Data: teams})
}

func (s *Server) handleYouSaid(w http.ResponseWriter, r *http.Request) error {
	tid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	y, err := s.recovery.YouSaidWeDidFor(r.Context(), tid)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "feedback/you-said", &ui.Page{Title: "You said, we did: " + y.TeamName, Data: y, BackLink: "/you-said-we-did"})
}

type feedbackInboxData struct {
	Page     recovery.FeedbackPage
	Statuses []ui.Option
	Days     int // working days to acknowledge
}

func (s *Server) handleFeedbackInbox(w http.ResponseWriter, r *http.Request) error {
	f, err := feedbackFilter(r)
	if err != nil {
		return err
	}
	pg, err := s.recovery.ListFeedback(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	d := feedbackInboxData{Page: pg, Statuses: []ui.Option{{Value: "", Label: "Any"}}, Days: s.recovery.AcknowledgeDays()}
	for _, st := range recovery.FeedbackStatuses {
		d.Statuses = append(d.Statuses, ui.Option{Value: st.Code, Label: st.Label})
	}
	return s.page(w, r, http.StatusOK, "feedback/inbox", &ui.Page{Title: "Feedback", Form: ui.NewForm(r.URL.Query()), Data: d})
}

type feedbackItemData struct {
	recovery.Feedback
	Themes []ui.Option
}

func (s *Server) feedbackItemPage(w http.ResponseWriter, r *http.Request, status int, fid int64, f *ui.Form) error {
	fb, err := s.recovery.GetFeedback(r.Context(), principal(r), fid)
	if err != nil {
		return err
	}
	d := feedbackItemData{Feedback: fb, Themes: []ui.Option{{Value: "", Label: "Choose a theme"}}}
	for _, t := range recovery.Themes {
		d.Themes = append(d.Themes, ui.Option{Value: t.Code, Label: t.Label})
	}
	switch {
	case f == nil:
		f = ui.NewForm(url.Values{"version": {strconv.Itoa(fb.Version)}, "to": {string(fb.Next)}})
	case status == http.StatusConflict || status == http.StatusForbidden:
		// Shown again after a refused move: from where it now stands, read
		// once here (one audit row).
		f.Values.Set("version", strconv.Itoa(fb.Version))
		f.Values.Set("to", string(fb.Next))
	}
	return s.page(w, r, status, "feedback/item", &ui.Page{Title: "Feedback " + fb.Reference, Form: f, Data: d, BackLink: "/feedback/inbox"})
}

func (s *Server) handleFeedbackItem(w http.ResponseWriter, r *http.Request) error {
	fid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.feedbackItemPage(w, r, http.StatusOK, fid, nil)
}

func (s *Server) handleFeedbackMove(w http.ResponseWriter, r *http.Request) error {
	fid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(f.Value("version"))
	m := recovery.FeedbackMove{To: recovery.FeedbackStatus(f.Value("to")), Version: version, Note: f.Value("note"), Theme: f.Value("theme"),
		Answer: f.Value("answer"), PublicSummary: f.Value("public_summary"), Publish: checked(f, "publish"), Quote: checked(f, "quote"),
		ChangeMade: f.Value("change_made"), ShareWithWorker: checked(f, "share_with_worker")}
	fb, err := s.recovery.MoveFeedback(r.Context(), principal(r), fid, m)
	switch {
	case err == nil:
		setFlash(w, "Feedback "+fb.Reference+" is now: "+strings.ToLower(fb.Status.Label()))
		return redirect(w, r, "/feedback/inbox/"+strconv.FormatInt(fid, 10))
	case formWithErrors(f, err):
		return s.feedbackItemPage(w, r, http.StatusUnprocessableEntity, fid, f)
	case app.IsCode(err, app.CodeConflict), app.IsCode(err, app.CodeForbidden):
		f.AddError("", app.As(err).Message)
		return s.feedbackItemPage(w, r, app.As(err).Code.Status(), fid, f)
	}
	return err
}
