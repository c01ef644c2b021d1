package web

// The pages for a person's goals and DIALOG+, their own (/my) and as staff
// see them (/people/{id}); the routes are in recovery_pages.go.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/web/ui"
)

type goalsPageData struct {
	PersonName string
	Self       bool
	Base       string
	Goals      []recovery.Goal
	Signpost   bool
}

func (s *Server) handleMyGoals(w http.ResponseWriter, r *http.Request) error {
	return s.goalsPage(w, r, http.StatusOK, s.mine(r), ui.NewForm(nil))
}

func (s *Server) handleGoals(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.goalsPage(w, r, http.StatusOK, who, ui.NewForm(nil))
}

func (s *Server) goalsPage(w http.ResponseWriter, r *http.Request, status int, who whose, f *ui.Form) error {
	d := goalsPageData{Self: who.Self, Base: who.Base, Goals: []recovery.Goal{}, Signpost: r.URL.Query().Get("help") == "1"}
	if who.Self && who.PersonID == 0 {
		if err := s.recovery.NoPlanYet(r.Context(), principal(r)); err != nil {
			return err
		}
	} else {
		pv, err := s.recovery.GetPlan(r.Context(), principal(r), who.PersonID)
		if err != nil {
			return err
		}
		d.PersonName, d.Goals = pv.PersonName, pv.Goals
	}
	return s.page(w, r, status, "recovery/goals", &ui.Page{Title: possessive(who.Self, d.PersonName) + " goals", Form: f, Data: d, BackLink: who.Base + "/plan"})
}

// stepsFromText reads small steps, one on each line.
func stepsFromText(text string) []recovery.Step {
	var out []recovery.Step
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, recovery.Step{Description: line})
		}
	}
	return out
}

func (s *Server) handleMyGoalCreate(w http.ResponseWriter, r *http.Request) error {
	return s.goalCreate(w, r, s.mine(r))
}

func (s *Server) handleGoalCreate(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.goalCreate(w, r, who)
}

func (s *Server) goalCreate(w http.ResponseWriter, r *http.Request, who whose) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := recovery.NewGoal{Description: f.Value("description"), Steps: stepsFromText(f.Value("steps")), WhoHelps: f.Value("who_helps"),
		TargetDate: formDate(f, "target_date", &p)}
	if err := p.Err(); err != nil {
		// Show the service's problems too, so every problem is named at once.
		formWithErrors(f, err)
		formWithErrors(f, stepsAsOne(s.recovery.CheckGoal(in)))
		return s.goalsPage(w, r, http.StatusUnprocessableEntity, who, f)
	}
	if err := s.ensure(r, &who); err != nil {
		return err
	}
	_, saved, err := s.recovery.CreateGoal(r.Context(), principal(r), who.PersonID, in)
	if err != nil {
		if !formWithErrors(f, stepsAsOne(err)) {
			return err
		}
		return s.goalsPage(w, r, http.StatusUnprocessableEntity, who, f)
	}
	setFlash(w, "Goal added")
	to := who.Base + "/goals"
	if saved.Signpost != nil {
		to += "?help=1"
	}
	return redirect(w, r, to)
}

// stepsAsOne points problems with single steps at the steps box.
func stepsAsOne(err error) error {
	ae := app.As(err)
	if ae.Code != app.CodeInvalid {
		return err
	}
	var p app.Problems
	for _, fe := range ae.Fields {
		if strings.HasPrefix(fe.Field, "steps[") {
			fe.Field = "steps"
		}
		p.Add(fe.Field, fe.Message)
	}
	if len(p) == 0 {
		return err
	}
	return p.Err()
}

type goalPageData struct {
	Goal       recovery.Goal
	Progresses []ui.Option
	Rows       []int // the step boxes shown: the goal's steps and a few empty ones
	Back       string
	Signpost   bool
}

func (s *Server) handleGoal(w http.ResponseWriter, r *http.Request) error {
	gid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.goalPage(w, r, http.StatusOK, gid, nil)
}

func (s *Server) goalPage(w http.ResponseWriter, r *http.Request, status int, gid int64, f *ui.Form) error {
	g, err := s.recovery.GetGoal(r.Context(), principal(r), gid)
	if err != nil {
		return err
	}
	d := goalPageData{Goal: g, Signpost: r.URL.Query().Get("help") == "1"}
	if f != nil && status == http.StatusConflict {
		// Shown again after someone else's change: what was typed, over
		// the version just read (one read, one audit row).
		f.Values.Set("version", strconv.Itoa(g.Version))
	}
	for _, c := range recovery.Progresses {
		d.Progresses = append(d.Progresses, ui.Option{Value: c.Code, Label: c.Label})
	}
	d.Back = fmt.Sprintf("/people/%d/goals", g.PersonID)
	if p := principal(r); p.PersonID == g.PersonID && p.HasRole(app.RolePerson, app.RoleCarer) {
		d.Back = "/my/goals"
	}
	if f == nil {
		v := url.Values{"version": {strconv.Itoa(g.Version)}, "description": {g.Description}, "who_helps": {g.WhoHelps}, "progress": {string(g.Progress)}}
		if t, err := time.Parse("2006-01-02", g.TargetDate); err == nil {
			v.Set("target_date-day", strconv.Itoa(t.Day()))
			v.Set("target_date-month", strconv.Itoa(int(t.Month())))
			v.Set("target_date-year", strconv.Itoa(t.Year()))
		}
		for i, st := range g.Steps {
			v.Set(fmt.Sprintf("step.%d", i+1), st.Description)
			if st.Done {
				v.Add("done", strconv.Itoa(i+1))
			}
		}
		f = ui.NewForm(v)
	}
	rows := min(len(g.Steps)+3, 10)
	for i := 1; i <= rows; i++ {
		d.Rows = append(d.Rows, i)
	}
	return s.page(w, r, status, "recovery/goal", &ui.Page{Title: "Change a goal", Form: f, Data: d, BackLink: d.Back})
}

func (s *Server) handleGoalSave(w http.ResponseWriter, r *http.Request) error {
	gid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	version, _ := strconv.Atoi(f.Value("version"))
	steps := []recovery.Step{}
	var boxes []int // form box of each step kept
	for i := 1; i <= 10; i++ {
		if text := strings.TrimSpace(f.Value(fmt.Sprintf("step.%d", i))); text != "" {
			steps = append(steps, recovery.Step{Description: text, Done: f.Has("done", strconv.Itoa(i))})
			boxes = append(boxes, i)
		}
	}
	target := formDate(f, "target_date", &p)
	progress := recovery.Progress(f.Value("progress"))
	in := recovery.GoalChange{Version: version, Description: new(f.Value("description")), Steps: &steps, WhoHelps: new(f.Value("who_helps")),
		TargetDate: &target, Progress: &progress}
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.goalPage(w, r, http.StatusUnprocessableEntity, gid, f)
	}
	g, saved, err := s.recovery.UpdateGoal(r.Context(), principal(r), gid, in)
	switch {
	case err == nil:
		setFlash(w, "Goal saved")
		back := fmt.Sprintf("/people/%d/goals", g.PersonID)
		if pr := principal(r); pr.PersonID == g.PersonID && pr.HasRole(app.RolePerson, app.RoleCarer) {
			back = "/my/goals"
		}
		if saved.Signpost != nil {
			back += "?help=1"
		}
		return redirect(w, r, back)
	case app.IsCode(err, app.CodeInvalid):
		ae := app.As(err)
		for _, fe := range ae.Fields {
			name := fe.Field
			var i int
			if _, scanErr := fmt.Sscanf(name, "steps[%d].description", &i); scanErr == nil && i < len(boxes) {
				name = fmt.Sprintf("step.%d", boxes[i])
			}
			if name == "target_date" {
				name = "target_date-day"
			}
			f.AddError(name, fe.Message)
		}
		return s.goalPage(w, r, http.StatusUnprocessableEntity, gid, f)
	case app.IsCode(err, app.CodeConflict):
		f.AddError("", app.As(err).Message)
		return s.goalPage(w, r, http.StatusConflict, gid, f)
	}
	return err
}

type dialogPageData struct {
	recovery.Dialog
	Self     bool
	Base     string
	Summary  *recovery.Summary
	Charts   []recovery.Chart
	Signpost bool
}

func (s *Server) handleMyDialog(w http.ResponseWriter, r *http.Request) error {
	return s.dialogPage(w, r, s.mine(r))
}

func (s *Server) handleDialog(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.dialogPage(w, r, who)
}

func (s *Server) dialogPage(w http.ResponseWriter, r *http.Request, who whose) error {
	d := dialogPageData{Self: who.Self, Base: who.Base, Signpost: r.URL.Query().Get("help") == "1"}
	if who.Self && who.PersonID == 0 {
		if err := s.recovery.NoPlanYet(r.Context(), principal(r)); err != nil {
			return err
		}
	} else {
		dl, err := s.recovery.GetDialog(r.Context(), principal(r), who.PersonID)
		if err != nil {
			return err
		}
		d.Dialog = dl
	}
	if sm, ok := recovery.Summarise(d.Sessions); ok {
		d.Summary = &sm
	}
	if len(d.Sessions) > 0 {
		d.Charts = recovery.Charts(d.Sessions, app.London)
	}
	return s.page(w, r, http.StatusOK, "recovery/dialog", &ui.Page{Title: possessive(who.Self, d.PersonName) + " DIALOG+ ratings", Data: d, BackLink: who.Base + "/plan"})
}

type dialogFormData struct {
	recovery.Dialog
	Self        bool
	Base        string
	Items       []recovery.ItemInfo
	Scale       []ui.Option
	YesNo       []ui.Option
	Stages      []ui.Option
	ItemOptions []ui.Option
	Slots       []int
}

func (s *Server) handleMyDialogForm(w http.ResponseWriter, r *http.Request) error {
	return s.dialogForm(w, r, http.StatusOK, s.mine(r), nil)
}

func (s *Server) handleDialogForm(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.dialogForm(w, r, http.StatusOK, who, nil)
}

func (s *Server) dialogForm(w http.ResponseWriter, r *http.Request, status int, who whose, f *ui.Form) error {
	d := dialogFormData{Self: who.Self, Base: who.Base, Items: recovery.Items, Slots: []int{1, 2, 3},
		YesNo: []ui.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}}
	for i := 1; i <= 7; i++ {
		d.Scale = append(d.Scale, ui.Option{Value: strconv.Itoa(i), Label: strconv.Itoa(i)})
	}
	for _, st := range recovery.Stages {
		d.Stages = append(d.Stages, ui.Option{Value: st.Code, Label: st.Label})
	}
	d.ItemOptions = append(d.ItemOptions, ui.Option{Value: "", Label: "Choose an item"})
	for _, it := range recovery.Items {
		d.ItemOptions = append(d.ItemOptions, ui.Option{Value: string(it.Code), Label: it.Label})
	}
	if who.Self && who.PersonID == 0 {
		if err := s.recovery.NoPlanYet(r.Context(), principal(r)); err != nil {
			return err
		}
	} else {
		dl, err := s.recovery.GetDialog(r.Context(), principal(r), who.PersonID)
		if err != nil {
			return err
		}
		d.Dialog = dl
	}
	if f == nil {
		v := url.Values{"stage": {string(recovery.StageBetween)}}
		if d.Prefill != nil && !who.Self {
			// The worker starts from what the person filled in before the
			// meeting.
			for _, rt := range d.Prefill.Ratings {
				v.Set("rating."+string(rt.Item), strconv.Itoa(rt.Rating))
				v.Set("help."+string(rt.Item), map[bool]string{true: "yes", false: "no"}[rt.MoreHelp])
			}
		}
		if len(d.Sessions) == 0 && !who.Self {
			v.Set("stage", string(recovery.StageStart))
		}
		f = ui.NewForm(v)
	}
	title := "Fill in DIALOG+"
	if !who.Self {
		title = "DIALOG+ with " + d.PersonName
	}
	return s.page(w, r, status, "recovery/dialog-new", &ui.Page{Title: title, Form: f, Data: d, BackLink: who.Base + "/dialog"})
}

func (s *Server) handleMyDialogSave(w http.ResponseWriter, r *http.Request) error {
	return s.dialogSave(w, r, s.mine(r))
}

func (s *Server) handleDialogSave(w http.ResponseWriter, r *http.Request) error {
	who, err := s.theirs(r)
	if err != nil {
		return err
	}
	return s.dialogSave(w, r, who)
}

func (s *Server) dialogSave(w http.ResponseWriter, r *http.Request, who whose) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := recovery.NewSession{Stage: recovery.Stage(f.Value("stage")), Followup: f.Value("followup")}
	if who.Self {
		in.Stage = recovery.StageBetween
	}
	for _, it := range recovery.Items {
		code := string(it.Code)
		raw := strings.TrimSpace(f.Value("rating." + code))
		rating, err := strconv.Atoi(raw)
		if raw == "" {
			p.Add("rating."+code, fmt.Sprintf("Rate how satisfied you are with %s, from 1 to 7", strings.ToLower(it.Label)))
		} else if err != nil {
			rating = 0 // the service names the problem
		}
		help := f.Value("help." + code)
		if help != "yes" && help != "no" {
			p.Add("help."+code, fmt.Sprintf("Say whether you would like more help with %s", strings.ToLower(it.Label)))
		}
		if raw == "" {
			continue
		}
		in.Ratings = append(in.Ratings, recovery.Rating{Item: it.Code, Rating: rating, MoreHelp: help == "yes"})
	}
	var slots []int // the form slot of each discussion
	for _, n := range []int{1, 2, 3} {
		pre := fmt.Sprintf("d%d.", n)
		d := recovery.Discussion{Item: recovery.Item(f.Value(pre + "item")), Understanding: f.Value(pre + "understanding"),
			LookingForward: f.Value(pre + "looking_forward"), Options: f.Value(pre + "options"), Actions: f.Value(pre + "actions")}
		if d.Item == "" {
			if strings.TrimSpace(d.Understanding+d.LookingForward+d.Options+d.Actions) != "" {
				p.Add(pre+"item", "Choose which item this conversation is about")
			}
			continue
		}
		in.Discussions = append(in.Discussions, d)
		slots = append(slots, n)
	}
	formErr := p.Err()
	if formErr == nil {
		if err := s.ensure(r, &who); err != nil {
			return err
		}
	}
	var saved recovery.Saved
	var err2 error
	if formErr == nil {
		saved, err2 = s.recovery.RecordSession(r.Context(), principal(r), who.PersonID, in)
	} else {
		// Show the service's problems too, so every problem is named at once.
		formWithErrors(f, formErr)
		if err2 = s.recovery.CheckSession(principal(r), who.PersonID, in); err2 == nil {
			return s.dialogForm(w, r, http.StatusUnprocessableEntity, who, f)
		}
	}
	if err2 != nil {
		ae := app.As(err2)
		if ae.Code != app.CodeInvalid {
			return err2
		}
		for _, fe := range ae.Fields {
			name := fe.Field
			var i int
			var rest string
			switch {
			case strings.HasPrefix(name, "ratings."):
				name = "rating." + strings.TrimPrefix(name, "ratings.")
			case strings.HasPrefix(name, "discussions["):
				if _, scanErr := fmt.Sscanf(name, "discussions[%d].%s", &i, &rest); scanErr == nil && i < len(slots) {
					name = fmt.Sprintf("d%d.%s", slots[i], rest)
				}
			case name == "discussions":
				name = "d1.item"
			}
			if f.Error(name) == "" {
				f.AddError(name, fe.Message)
			}
		}
		return s.dialogForm(w, r, http.StatusUnprocessableEntity, who, f)
	}
	if who.Self {
		setFlash(w, "Your ratings are saved")
	} else {
		setFlash(w, "DIALOG+ saved")
	}
	to := who.Base + "/dialog"
	if saved.Signpost != nil {
		to += "?help=1"
	}
	return redirect(w, r, to)
}
