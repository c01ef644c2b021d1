package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// recoveryRoutes are the person's plan, goals, DIALOG+ and reviews (their
// own under /my, and as staff see them under /people/{id}), reviews due and
// outcomes: one line per route.
func (s *Server) recoveryRoutes() []*Route {
	return []*Route{
		personPage("GET /my/plan", app.PermRecoveryPlan, s.handleMyPlan),
		personPage("GET /my/plan/edit", app.PermRecoveryPlan, s.handleMyPlanEdit),
		personPage("POST /my/plan", app.PermRecoveryPlan, s.handleMyPlanSave),
		personPage("GET /people/{id}/plan", app.PermRecoveryWork, s.handleRecoveryPlan),
		personPage("GET /people/{id}/plan/edit", app.PermRecoveryWork, s.handlePlanEdit),
		personPage("POST /people/{id}/plan", app.PermRecoveryWork, s.handlePlanSave),
		personPage("GET /my/goals", app.PermRecoveryPlan, s.handleMyGoals),
		personPage("POST /my/goals", app.PermRecoveryPlan, s.handleMyGoalCreate),
		personPage("GET /people/{id}/goals", app.PermRecoveryWork, s.handleGoals),
		personPage("POST /people/{id}/goals", app.PermRecoveryWork, s.handleGoalCreate),
		personPage("GET /goals/{id}", app.PermRecoveryPlan, s.handleGoal),
		personPage("POST /goals/{id}", app.PermRecoveryPlan, s.handleGoalSave),
		personPage("GET /my/dialog", app.PermRecoveryPlan, s.handleMyDialog),
		personPage("GET /my/dialog/new", app.PermRecoveryPlan, s.handleMyDialogForm),
		personPage("POST /my/dialog", app.PermRecoveryPlan, s.handleMyDialogSave),
		personPage("GET /people/{id}/dialog", app.PermRecoveryWork, s.handleDialog),
		personPage("GET /people/{id}/dialog/new", app.PermRecoveryWork, s.handleDialogForm),
		personPage("POST /people/{id}/dialog", app.PermRecoveryWork, s.handleDialogSave),
		personPage("GET /people/{id}/reviews/new", app.PermRecoveryWork, s.handleReviewForm),
		personPage("POST /people/{id}/reviews", app.PermRecoveryWork, s.handleReviewSave),
		personPage("GET /recovery/reviews", app.PermRecoveryWork, s.handleReviewsDue),
		pageRoute("GET /recovery/outcomes", app.PermInsightRead, s.handleOutcomes),
		personAPI("GET /api/v1/people/{id}/plan", app.PermRecoveryPlan, opGetRecoveryPlan, s.apiGetRecoveryPlan),
		personAPI("PUT /api/v1/people/{id}/plan", app.PermRecoveryPlan, opPutPlan, s.apiPutPlan),
		personAPI("GET /api/v1/people/{id}/goals", app.PermRecoveryPlan, opListGoals, s.apiListGoals),
		personAPI("POST /api/v1/people/{id}/goals", app.PermRecoveryPlan, opCreateGoal, s.apiCreateGoal),
		personAPI("GET /api/v1/goals/{id}", app.PermRecoveryPlan, opGetGoal, s.apiGetGoal),
		personAPI("PATCH /api/v1/goals/{id}", app.PermRecoveryPlan, opPatchGoal, s.apiPatchGoal),
		personAPI("GET /api/v1/people/{id}/dialog", app.PermRecoveryPlan, opGetDialog, s.apiGetDialog),
		personAPI("POST /api/v1/people/{id}/dialog", app.PermRecoveryPlan, opPostDialog, s.apiPostDialog),
		personAPI("GET /api/v1/dialog/{id}", app.PermRecoveryPlan, opGetDialogSession, s.apiGetDialogSession),
		personAPI("GET /api/v1/people/{id}/reviews", app.PermRecoveryPlan, opListReviews, s.apiListReviews),
		personAPI("POST /api/v1/people/{id}/reviews", app.PermRecoveryWork, opPostReview, s.apiPostReview),
		personAPI("GET /api/v1/reviews/due", app.PermRecoveryWork, opReviewsDue, s.apiReviewsDue),
		personAPI("GET /api/v1/reviews/{id}", app.PermRecoveryPlan, opGetReview, s.apiGetReview),
		apiRoute("GET /api/v1/insight/outcomes", app.PermInsightRead, opOutcomes, s.apiOutcomes),
	}
}

func invalidTeam() error {
	return app.Invalid(app.FieldError{Field: "team", Message: "team must be a team's id, a whole number"})
}

// whose is whose recovery pages these are: the caller's own (Base "/my")
// or a person's as staff see them (Base "/people/{id}").
type whose struct {
	PersonID int64
	Self     bool
	Base     string
}

func (s *Server) mine(r *http.Request) whose {
	return whose{PersonID: principal(r).PersonID, Self: true, Base: "/my"}
}

func (s *Server) theirs(r *http.Request) (whose, error) {
	pid, err := pathID(r, "id")
	return whose{PersonID: pid, Base: fmt.Sprintf("/people/%d", pid)}, err
}

// ensure gives the caller a record of their own before they first write to
// their plan, goals or DIALOG+.
func (s *Server) ensure(r *http.Request, who *whose) error {
	if !who.Self || who.PersonID != 0 {
		return nil
	}
	id, err := s.recovery.OwnRecord(r.Context(), principal(r))
	who.PersonID = id
	return err
}

// possessive is "My" or "Sam's".
func possessive(self bool, name string) string {
	if self {
		return "My"
	}
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

type recoveryPlanData struct {
	recovery.PlanView
	Base     string
	Signpost bool
	// Choices is the person's choice profile (who supports them, where,
	// how reviews happen), when the caller may read it.
	Choices *matching.ChoiceProfile
}

func (s *Server) handleMyPlan(w http.ResponseWriter, r *http.Request) error {
	return s.recoveryPlanPage(w, r, s.mine(r))
}

func (s *Server) handleRecoveryPlan(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.recoveryPlanPage(w, r, who)
}

func (s *Server) recoveryPlanPage(w http.ResponseWriter, r *http.Request, who whose) error {
	d := recoveryPlanData{Base: who.Base, Signpost: r.URL.Query().Get("help") == "1"}
	if who.Self && who.PersonID == 0 {
		if err := s.recovery.NoPlanYet(r.Context(), principal(r)); err != nil {
			return err
		}
		d.Self = true
		d.Plan.Reviews.Weeks = 12
		return s.page(w, r, http.StatusOK, "recovery/plan", &ui.Page{Title: "My plan", Data: d})
	}
	pv, err := s.recovery.GetPlan(r.Context(), principal(r), who.PersonID)
	if err != nil {
		return err
	}
	d.PlanView = pv
	if d.Choices, err = s.planChoices(r, who); err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "recovery/plan", &ui.Page{Title: possessive(pv.Self, pv.PersonName) + " plan", Data: d})
}

// planChoices is the choices part of the plan: the person's own, or, for
// staff who may read people's details, theirs (each read audited by
// matching). Nil when the caller may not read them.
func (s *Server) planChoices(r *http.Request, who whose) (*matching.ChoiceProfile, error) {
	p := principal(r)
	if who.Self {
		cp, err := s.matching.OwnProfile(r.Context(), p)
		if err != nil {
			return nil, err
		}
		return &cp, nil
	}
	if !p.Can(app.PermPersonRead) {
		return nil, nil
	}
	cp, err := s.matching.Choices(r.Context(), p, who.PersonID)
	if err != nil {
		return nil, err
	}
	return &cp, nil
}

type planEditData struct {
	recovery.PlanView
	Base string
	// Private is whether the form has the crisis plan and advance choices;
	// Consent whether it asks about sharing them.
	Private bool
	Consent bool
	YesNo   []ui.Option
}

func (s *Server) handleMyPlanEdit(w http.ResponseWriter, r *http.Request) error {
	return s.planEditPage(w, r, http.StatusOK, s.mine(r), nil)
}

func (s *Server) handlePlanEdit(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.planEditPage(w, r, http.StatusOK, who, nil)
}

func (s *Server) planEditPage(w http.ResponseWriter, r *http.Request, status int, who whose, f *ui.Form) error {
	d := planEditData{Base: who.Base, YesNo: []ui.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}}
	if who.Self && who.PersonID == 0 {
		if err := s.recovery.NoPlanYet(r.Context(), principal(r)); err != nil {
			return err
		}
		d.Self = true
		d.Plan.Reviews.Weeks = 12
	} else {
		pv, err := s.recovery.GetPlan(r.Context(), principal(r), who.PersonID)
		if err != nil {
			return err
		}
		d.PlanView = pv
	}
	d.Private = d.Self || d.Plan.ShareWithCareTeam || !d.PersonHasAccount
	d.Consent = d.Self || !d.PersonHasAccount || d.Plan.ShareWithCareTeam
	switch {
	case f == nil:
		f = planForm(d.Plan)
	case status == http.StatusConflict:
		// Shown again after someone else's change: what was typed, over
		// the version just read (one read, one audit row).
		f.Values.Set("version", strconv.Itoa(d.Plan.Version))
	}
	title := "Change my plan"
	if !d.Self {
		title = "Change " + possessive(false, d.PersonName) + " plan with them"
	}
	return s.page(w, r, status, "recovery/plan-edit", &ui.Page{Title: title, Form: f, Data: d, BackLink: who.Base + "/plan"})
}

// planForm fills the form from the plan as it stands.
func planForm(pl recovery.Plan) *ui.Form {
	v := url.Values{"version": {strconv.Itoa(pl.Version)}, "what_matters": {pl.WhatMatters}, "reviews.weeks": {strconv.Itoa(pl.Reviews.Weeks)},
		"reviews.attendees": {pl.Reviews.Attendees}, "reviews.place": {pl.Reviews.Place}}
	if c := pl.Crisis; c != nil {
		v.Set("crisis.early_signs", c.EarlySigns)
		v.Set("crisis.what_helps", c.WhatHelps)
		v.Set("crisis.contacts", c.Contacts)
		v.Set("crisis.not_wanted", c.NotWanted)
	}
	if a := pl.Advance; a != nil {
		v.Set("advance.would_take", a.WouldTake)
		v.Set("advance.would_not_take", a.WouldNotTake)
		v.Set("advance.second_opinion", a.SecondOpinion)
		v.Set("advance.refused", a.Refused)
	}
	if pl.ShareWithCareTeam {
		v.Set("share_with_care_team", "yes")
	} else {
		v.Set("share_with_care_team", "no")
	}
	return ui.NewForm(v)
}

func (s *Server) handleMyPlanSave(w http.ResponseWriter, r *http.Request) error {
	return s.planSave(w, r, s.mine(r))
}

func (s *Server) handlePlanSave(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.planSave(w, r, who)
}

func (s *Server) planSave(w http.ResponseWriter, r *http.Request, who whose) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := recovery.PlanChange{WhatMatters: new(f.Value("what_matters"))}
	in.Version, _ = strconv.Atoi(f.Value("version"))
	if f.Value("has_private") == "1" {
		in.Crisis = &recovery.CrisisPlan{EarlySigns: f.Value("crisis.early_signs"), WhatHelps: f.Value("crisis.what_helps"),
			Contacts: f.Value("crisis.contacts"), NotWanted: f.Value("crisis.not_wanted")}
		in.Advance = &recovery.AdvanceChoices{WouldTake: f.Value("advance.would_take"), WouldNotTake: f.Value("advance.would_not_take"),
			SecondOpinion: f.Value("advance.second_opinion"), Refused: f.Value("advance.refused")}
	}
	switch f.Value("share_with_care_team") {
	case "yes":
		in.ShareWithCareTeam = new(true)
	case "no":
		in.ShareWithCareTeam = new(false)
	}
	weeks, err := strconv.Atoi(strings.TrimSpace(f.Value("reviews.weeks")))
	if err != nil {
		p.Add("reviews.weeks", "Enter how often reviews happen as a number of weeks, like 12")
	}
	in.Reviews = &recovery.ReviewChoices{Weeks: weeks, Attendees: f.Value("reviews.attendees"), Place: f.Value("reviews.place")}
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.planEditPage(w, r, http.StatusUnprocessableEntity, who, f)
	}
	pid := who.PersonID
	if who.Self {
		pid = principal(r).PersonID // 0 starts a record for the account
	}
	saved, err := s.recovery.SavePlan(r.Context(), principal(r), pid, in)
	switch {
	case err == nil:
		setFlash(w, "The plan is saved")
		to := who.Base + "/plan"
		if saved.Signpost != nil {
			to += "?help=1"
		}
		return redirect(w, r, to)
	case formWithErrors(f, err):
		return s.planEditPage(w, r, http.StatusUnprocessableEntity, who, f)
	case app.IsCode(err, app.CodeConflict):
		f.AddError("", app.As(err).Message)
		who.PersonID = saved.PersonID
		return s.planEditPage(w, r, http.StatusConflict, who, f)
	}
	return err
}

type reviewFormData struct {
	recovery.PlanView
	Base     string
	Sessions []recovery.Session
	// HeldAt are the appointments a review that happened can be linked
	// to; NextAt those still to come that the next review can be at.
	HeldAt, NextAt []ui.Option
}

// reviewAppointmentOptions splits the person's appointments into those a
// review was held at (taken place) and those the next review can be
// arranged at (still to come), each with a first "none" choice.
func reviewAppointmentOptions(list []recovery.ReviewAppointment, now time.Time) (held, next []ui.Option) {
	held = []ui.Option{{Value: "", Label: "Not at an appointment"}}
	next = []ui.Option{{Value: "", Label: "None: enter a date"}}
	for _, ap := range list {
		label := ui.FormatDateTime(ap.StartsAt) + ", " + strings.ToLower(ap.PlaceLabel())
		if ap.PlaceDetail != "" {
			label += ": " + ap.PlaceDetail
		}
		if ap.WorkerName != "" {
			label += ", with " + ap.WorkerName
		}
		id := strconv.FormatInt(ap.ID, 10)
		switch {
		case ap.StartsAt.After(now):
			if ap.Status == "proposed" {
				label += " (proposed)"
			}
			next = append(next, ui.Option{Value: id, Label: label})
		case ap.Status != "proposed":
			held = append(held, ui.Option{Value: id, Label: label})
		}
	}
	return held, next
}

func (s *Server) handleReviewForm(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.reviewForm(w, r, http.StatusOK, who, nil)
}

func (s *Server) reviewForm(w http.ResponseWriter, r *http.Request, status int, who whose, f *ui.Form) error {
	pv, err := s.recovery.GetPlan(r.Context(), principal(r), who.PersonID)
	if err != nil {
		return err
	}
	d := reviewFormData{PlanView: pv, Base: who.Base}
	d.HeldAt, d.NextAt = reviewAppointmentOptions(pv.Appointments, s.clock.Now())
	if f == nil || status == http.StatusConflict {
		// New, or shown again after someone else recorded or moved the
		// review: the review planned now, read once here.
		fresh := f == nil
		if fresh {
			f = ui.NewForm(url.Values{})
		}
		f.Values.Del("planned_review_id")
		if pv.NextReview != nil {
			f.Values.Set("planned_review_id", strconv.FormatInt(pv.NextReview.ID, 10))
			if ap := pv.NextReview.Appointment; ap != nil && fresh {
				f.Values.Set("appointment_id", strconv.FormatInt(ap.ID, 10))
				f.Values.Set("plan_appointment_id", strconv.FormatInt(ap.ID, 10))
			}
		}
		// From an appointment's page: "record a review at this meeting".
		if id := r.URL.Query().Get("appointment"); id != "" && fresh {
			f.Values.Set("appointment_id", id)
		}
	}
	return s.page(w, r, status, "recovery/review-new", &ui.Page{Title: "Reviews with " + pv.PersonName, Form: f, Data: d, BackLink: who.Base + "/plan"})
}

// optionalDateTime reads a date (and time, "14:30", default noon) in UK
// time, or nil when the date is left empty.
func optionalDateTime(f *ui.Form, name string, p *app.Problems) *time.Time {
	ds := formDate(f, name, p)
	if ds == "" || p.Has(name) {
		return nil
	}
	tm := strings.TrimSpace(f.Value(name + "-time"))
	if tm == "" {
		tm = "12:00"
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", ds+" "+tm, app.London)
	if err != nil {
		p.Add(name+"-time", "Enter the time like 14:30")
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Server) handleReviewSave(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := recovery.NewReview{Held: f.Value("held") == "yes", PlannedID: formInt(f, "planned_review_id")}
	prefix := "plan_"
	if in.Held {
		prefix = "next_"
		in.HeldAt = optionalDateTime(f, "held_at", &p)
		in.Attendees, in.Reviewed, in.Agreed = f.Value("attendees"), f.Value("reviewed"), f.Value("agreed")
		in.DialogSessionID = formInt(f, "dialog_session_id")
		in.AppointmentID = formInt(f, "appointment_id")
	}
	nextAppt := formInt(f, prefix+"appointment_id")
	if at := optionalDateTime(f, prefix+"at", &p); at != nil && nextAppt == 0 {
		in.Next = &recovery.NextReview{At: *at, Place: f.Value(prefix + "place"), Attendees: f.Value(prefix + "attendees")}
	} else if nextAppt != 0 {
		if at != nil {
			p.Add(prefix+"at", "Choose an appointment or enter a date for the next review, not both")
		}
		in.Next = &recovery.NextReview{AppointmentID: nextAppt, Place: f.Value(prefix + "place"), Attendees: f.Value(prefix + "attendees")}
	} else if !in.Held && !p.Has(prefix+"at") {
		p.Add(prefix+"at", "Choose an appointment or enter the date of the next review")
	}
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.reviewForm(w, r, http.StatusUnprocessableEntity, who, f)
	}
	_, err = s.recovery.RecordReview(r.Context(), principal(r), who.PersonID, in)
	switch {
	case err == nil:
		if in.Held {
			setFlash(w, "Review recorded, and the next one set")
		} else {
			setFlash(w, "Next review saved")
		}
		return redirect(w, r, who.Base+"/plan")
	case app.IsCode(err, app.CodeInvalid):
		for _, fe := range app.As(err).Fields {
			name := fe.Field
			switch {
			case strings.HasPrefix(name, "next."):
				name = prefix + strings.TrimPrefix(name, "next.")
			}
			if strings.HasSuffix(name, "_at") {
				name += "-day"
			}
			f.AddError(name, fe.Message)
		}
		return s.reviewForm(w, r, http.StatusUnprocessableEntity, who, f)
	case app.IsCode(err, app.CodeConflict):
		f.AddError("", app.As(err).Message)
		return s.reviewForm(w, r, http.StatusConflict, who, f)
	}
	return err
}

func (s *Server) handleReviewsDue(w http.ResponseWriter, r *http.Request) error {
	due, err := s.recovery.ReviewsDue(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "recovery/reviews-due", &ui.Page{Title: "Reviews due", Data: due})
}

type outcomesPageData struct {
	Outcomes *recovery.Outcomes
	Teams    []ui.Option
}

func (s *Server) handleOutcomes(w http.ResponseWriter, r *http.Request) error {
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	d := outcomesPageData{Teams: []ui.Option{{Value: "", Label: "All teams"}}}
	for _, t := range teams {
		d.Teams = append(d.Teams, ui.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
	}
	q := r.URL.Query()
	vals := url.Values{}
	for k, v := range q {
		vals[k] = v
	}
	def, _ := recoveryDefaultPeriod(s.clock.Now())
	if vals.Get("from") == "" {
		vals.Set("from", def[0])
	}
	if vals.Get("to") == "" {
		vals.Set("to", def[1])
	}
	f := ui.NewForm(vals)
	const title = "Recovery and voice outcomes"
	oq, err := s.outcomeQuery(r)
	if err == nil {
		var o recovery.Outcomes
		if o, err = s.recovery.Outcomes(r.Context(), principal(r), oq); err == nil {
			d.Outcomes = &o
		}
	}
	if err != nil {
		if !formWithErrors(f, err) {
			return err
		}
		return s.page(w, r, http.StatusUnprocessableEntity, "recovery/outcomes", &ui.Page{Title: title, Form: f, Data: d})
	}
	return s.page(w, r, http.StatusOK, "recovery/outcomes", &ui.Page{Title: title, Form: f, Data: d})
}

// recoveryDefaultPeriod is the twelve months to today, as the period form
// shows it.
func recoveryDefaultPeriod(now time.Time) ([2]string, error) {
	to := now.In(app.London)
	from := to.AddDate(-1, 0, 1)
	return [2]string{from.Format("2006-01-02"), to.Format("2006-01-02")}, nil
}

// recoveryTemplateFuncs format the recovery capability's numbers for pages.
func recoveryTemplateFuncs() template.FuncMap {
	return template.FuncMap{
		// figure shows a published count: "<5" when suppressed, a dash
		// when withheld so that a small count beside it stays hidden.
		"figure": func(f recovery.Figure, below int) string {
			switch {
			case f.Withheld:
				return stats.Withheld
			case f.Suppressed:
				return "<" + strconv.Itoa(below)
			case f.Value == nil:
				return "0"
			}
			return app.Thousands(*f.Value)
		},
		"figureN": func(f recovery.Figure) int {
			if f.Value == nil {
				return 2 // "people": a suppressed count is plural
			}
			return *f.Value
		},
		"themeLabel": recovery.ThemeLabel,
		"outcomeRows": func(o recovery.Outcomes) []recovery.ItemOutcome {
			return append(append([]recovery.ItemOutcome{}, o.Items...), o.Overall)
		},
		"num": func(v *float64) string {
			if v == nil {
				return "–"
			}
			return strconv.FormatFloat(*v, 'f', 1, 64)
		},
		"signed": func(v *float64) string {
			switch {
			case v == nil:
				return "–"
			case *v > 0.05:
				return "+" + strconv.FormatFloat(*v, 'f', 1, 64)
			case *v < -0.05:
				return "−" + strconv.FormatFloat(-*v, 'f', 1, 64)
			}
			return "0.0"
		},
		"wholePercent": func(v *float64) string {
			if v == nil {
				return "–"
			}
			return strconv.FormatFloat(100**v, 'f', 0, 64) + "%"
		},
	}
}
