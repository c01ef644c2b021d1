package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// matchingRoutes are choices, worker profiles and disclosures, shortlists,
// allocation plans and their figures: one line per route.
func (s *Server) matchingRoutes() []*Route {
	return []*Route{
		personPage("GET /my/choices", app.PermOwnRecord, s.handleMyChoices),
		personPage("POST /my/choices", app.PermOwnRecord, s.handleSaveMyChoices),
		personPage("POST /my/worker-change", app.PermOwnRecord, s.handleWorkerChange),
		personPage("GET /people/{id}/choices", app.PermPersonRead, byID(s.personChoicesPage)),
		personPage("POST /people/{id}/choices", app.PermChoicesRecord, s.handleSavePersonChoices),
		personPage("GET /my/profile", app.PermWorkerProfile, s.handleMyProfile),
		personPage("GET /workers/{id}", app.PermSignedIn, s.handleWorker),
		personPage("POST /workers/{id}/details", app.PermWorkerProfile, s.handleWorkerDetails),
		personPage("POST /workers/{id}/capacity", app.PermWorkerProfile, s.handleWorkerCapacity),
		personPage("POST /workers/{id}/disclosures", app.PermWorkerProfile, s.handleAddDisclosure),
		personPage("POST /workers/{id}/disclosures/{item}", app.PermWorkerProfile, s.handleChangeDisclosure),
		personPage("POST /workers/{id}/disclosures/{item}/withdraw", app.PermWorkerProfile, s.handleWithdrawDisclosure),
		personPage("GET /referrals/{id}/matches", app.PermReferralTriage, byID(s.matchesPage)),
		personPage("POST /referrals/{id}/matches", app.PermReferralTriage, s.handleAllocateMatch),
		personPage("GET /matching/reassign", app.PermReferralTriage, s.handleReassign),
		personAPI("GET /api/v1/reassignments", app.PermReferralTriage, opReassignments, s.apiReassignments),
		pageRoute("GET /matching/plans/new", app.PermReferralTriage, s.handleNewPlan),
		personPage("POST /matching/plans", app.PermReferralTriage, s.handleProposePlan),
		personPage("GET /matching/plans/{id}", app.PermReferralTriage, s.handlePlan),
		personPage("POST /matching/plans/{id}/commit", app.PermReferralTriage, s.handleCommitPlan),
		pageRoute("GET /matching/insight", app.PermInsightRead, s.handleChoiceInsight),
		pageRoute("GET /matching/settings", app.PermAdminUsers, s.handleMatchingSettings),
		pageRoute("POST /matching/settings/{id}", app.PermAdminUsers, s.handleSaveMatchingSettings),
		personAPI("GET /api/v1/my/choices", app.PermOwnRecord, opMyChoices, s.apiMyChoices),
		personAPI("PUT /api/v1/my/choices", app.PermOwnRecord, opSaveMyChoices, s.apiSaveMyChoices),
		personAPI("POST /api/v1/my/worker-change", app.PermOwnRecord, opWorkerChange, s.apiWorkerChange),
		personAPI("GET /api/v1/people/{id}/choices", app.PermPersonRead, opPersonChoices, s.apiPersonChoices),
		personAPI("PUT /api/v1/people/{id}/choices", app.PermChoicesRecord, opSavePersonChoices, s.apiSavePersonChoices),
		personAPI("GET /api/v1/workers/{id}/profile", app.PermWorkerProfile, opWorkerProfile, s.apiWorkerProfile),
		personAPI("PUT /api/v1/workers/{id}/profile", app.PermWorkerProfile, opSaveWorkerProfile, s.apiSaveWorkerProfile),
		personAPI("GET /api/v1/workers/{id}/disclosures", app.PermSignedIn, opDisclosures, s.apiDisclosures),
		personAPI("POST /api/v1/workers/{id}/disclosures", app.PermWorkerProfile, opAddDisclosure, s.apiAddDisclosure),
		personAPI("PATCH /api/v1/workers/{id}/disclosures/{item}", app.PermWorkerProfile, opChangeDisclosure, s.apiChangeDisclosure),
		personAPI("DELETE /api/v1/workers/{id}/disclosures/{item}", app.PermWorkerProfile, opWithdrawDisclosure, s.apiWithdrawDisclosure),
		personAPI("GET /api/v1/workers/{id}/disclosure-reads", app.PermWorkerProfile, opDisclosureReads, s.apiDisclosureReads),
		personAPI("GET /api/v1/referrals/{id}/matches", app.PermReferralTriage, opMatches, s.apiMatches),
		personAPI("POST /api/v1/allocation-plans", app.PermReferralTriage, opProposePlan, s.apiProposePlan),
		personAPI("GET /api/v1/allocation-plans/{id}", app.PermReferralTriage, opGetPlan, s.apiGetPlan),
		personAPI("POST /api/v1/allocation-plans/{id}/commit", app.PermReferralTriage, opCommitPlan, s.apiCommitPlan),
		apiRoute("GET /api/v1/insight/choices", app.PermInsightRead, opChoiceInsight, s.apiChoiceInsight),
		apiRoute("GET /api/v1/organisations/{id}/matching-settings", app.PermAdminUsers, opMatchingSettings, s.apiMatchingSettings),
		apiRoute("PUT /api/v1/organisations/{id}/matching-settings", app.PermAdminUsers, opSaveMatchingSettings, s.apiSaveMatchingSettings),
	}
}

func themeOptions(ts []matching.Theme) []ui.Option {
	out := make([]ui.Option, len(ts))
	for i, t := range ts {
		out[i] = ui.Option{Value: t.Code, Label: t.Label}
	}
	return out
}

// choiceFormOptions are the answers the choices form offers.
type choiceFormOptions struct {
	Genders, Themes, Places, Days, Times, SameWorker, Frequencies, ReviewWith []ui.Option
}

func choiceFormOpts(themes []matching.Theme) choiceFormOptions {
	return choiceFormOptions{
		Genders:     append([]ui.Option{{Value: "", Label: "No preference"}}, choiceOptions(matching.Genders)...),
		Themes:      themeOptions(themes),
		Places:      choiceOptions(matching.Places),
		Days:        choiceOptions(matching.Days),
		Times:       choiceOptions(matching.Times),
		SameWorker:  []ui.Option{{Value: "yes", Label: "Yes, keep the same worker if I can"}, {Value: "no", Label: "No, I would like someone new"}},
		Frequencies: append([]ui.Option{{Value: "", Label: "No preference"}}, choiceOptions(matching.ReviewFrequencies)...),
		ReviewWith:  choiceOptions(matching.ReviewWith),
	}
}

// splitList reads a list typed into one box, separated by commas or
// lines.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == ';' })
}

// choicesFromForm reads the choices form.
func choicesFromForm(f *ui.Form) matching.SaveChoices {
	v, _ := strconv.Atoi(f.Value("version"))
	c := matching.Choices{
		WorkerGender: f.Value("worker_gender"), WorkerGenderMust: checked(f, "worker_gender_must"),
		Languages: splitList(f.Value("languages")), LanguagesMust: checked(f, "languages_must"),
		Themes: f.All("themes"), ThemesMust: checked(f, "themes_must"),
		Places: f.All("places"), PlacesMust: checked(f, "places_must"),
		Days: f.All("days"), Times: f.All("times"),
		ReviewFrequency: f.Value("review_frequency"), ReviewWith: f.All("review_with"), AvoidTopics: f.Value("avoid_topics"),
	}
	if f.Value("same_worker") == "no" {
		c.SameWorker = new(false)
	}
	return matching.SaveChoices{Choices: c, Version: v, WithPerson: checked(f, "with_person")}
}

// choicesForm fills the choices form from what is recorded.
func choicesForm(c matching.Choices, version int) *ui.Form {
	v := url.Values{"version": {strconv.Itoa(version)}, "worker_gender": {c.WorkerGender}, "languages": {strings.Join(c.Languages, ", ")},
		"themes": c.Themes, "places": c.Places, "days": c.Days, "times": c.Times, "review_frequency": {c.ReviewFrequency},
		"review_with": c.ReviewWith, "avoid_topics": {c.AvoidTopics}, "same_worker": {"yes"}}
	for name, on := range map[string]bool{"worker_gender_must": c.WorkerGenderMust, "languages_must": c.LanguagesMust,
		"themes_must": c.ThemesMust, "places_must": c.PlacesMust} {
		if on {
			v.Set(name, "yes")
		}
	}
	if !c.KeepSameWorker() {
		v.Set("same_worker", "no")
	}
	return ui.NewForm(v)
}

type choicesPageData struct {
	Profile  matching.ChoiceProfile
	Workers  []matching.MyWorker
	Opts     choiceFormOptions
	Own      bool
	Action   string
	CanEdit  bool
	Audience []ui.Option
}

func (s *Server) myChoicesPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form, problem string) error {
	mc, err := s.matching.OwnChoices(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if f == nil {
		f = choicesForm(mc.Choices, mc.Version)
	}
	if problem != "" {
		f.AddError("", problem)
	}
	d := choicesPageData{Profile: mc.ChoiceProfile, Workers: mc.Workers, Opts: choiceFormOpts(mc.Themes), Own: true, Action: "/my/choices", CanEdit: true}
	return s.page(w, r, status, "matching/choices", &ui.Page{Title: "Your choices about your peer support", Form: f, Data: d})
}

func (s *Server) handleMyChoices(w http.ResponseWriter, r *http.Request) error {
	return s.myChoicesPage(w, r, http.StatusOK, nil, "")
}

// formAgain shows a page again after a refused change, keeping what was
// typed: field problems next to their fields, a conflict at the top.
func formAgain(f *ui.Form, err error) (int, bool) {
	ae := app.As(err)
	switch ae.Code {
	case app.CodeInvalid:
		formWithErrors(f, err)
		return http.StatusUnprocessableEntity, true
	case app.CodeConflict, app.CodeForbidden:
		f.AddError("", ae.Message)
		for _, fe := range ae.Fields {
			if f.Error(fe.Field) == "" {
				f.AddError(fe.Field, fe.Message)
			}
		}
		return ae.Code.Status(), true
	}
	return 0, false
}

func (s *Server) handleSaveMyChoices(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	_, err = s.matching.SaveOwnChoices(r.Context(), principal(r), choicesFromForm(f))
	if err == nil {
		setFlash(w, "Your choices are saved. The peer support team will use them when they choose your worker.")
		return redirect(w, r, "/my/choices")
	}
	if status, ok := formAgain(f, err); ok {
		return s.myChoicesPage(w, r, status, f, "")
	}
	return err
}

func (s *Server) handleWorkerChange(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	res, err := s.matching.AskForDifferentWorker(r.Context(), principal(r), formInt(f, "referral_id"))
	if err == nil {
		msg := "We have told the peer support team that you would like a different worker. You do not need to give a reason."
		if res.Already {
			msg = "You have already asked for a different worker. The peer support team knows."
		}
		setFlash(w, msg)
		return redirect(w, r, "/my/choices")
	}
	if app.IsCode(err, app.CodeConflict) {
		return s.myChoicesPage(w, r, http.StatusConflict, nil, app.As(err).Message)
	}
	return err
}

func (s *Server) personChoicesPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	p := principal(r)
	cp, err := s.matching.Choices(r.Context(), p, id)
	if err != nil {
		return err
	}
	if f == nil {
		f = choicesForm(cp.Choices, cp.Version)
	}
	d := choicesPageData{Profile: cp, Opts: choiceFormOpts(cp.Themes), Action: fmt.Sprintf("/people/%d/choices", id), CanEdit: p.Can(app.PermChoicesRecord)}
	return s.page(w, r, status, "matching/choices", &ui.Page{Title: cp.PersonName + "'s choices", Form: f, Data: d, BackLink: fmt.Sprintf("/people/%d", id)})
}

func (s *Server) handleSavePersonChoices(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	_, err = s.matching.SaveChoices(r.Context(), principal(r), id, choicesFromForm(f))
	if err == nil {
		setFlash(w, "Their choices are saved, recorded as made with them.")
		return redirect(w, r, fmt.Sprintf("/people/%d/choices", id))
	}
	if status, ok := formAgain(f, err); ok {
		return s.personChoicesPage(w, r, status, id, f)
	}
	return err
}

// workerPageData is a worker's page.
type workerPageData struct {
	matching.WorkerView
	Active      string // the form shown again after a refused change: details, capacity, add, or item-<id>
	Genders     []ui.Option
	Settings    []ui.Option
	Places      []ui.Option
	Days        []ui.Option
	Times       []ui.Option
	Themes      []ui.Option
	Audiences   []ui.Option
	Forms       map[string]*ui.Form
	Reductions  []int // indexes of the reduction rows in the capacity form
	MayCapacity bool
}

func audienceOptions() []ui.Option {
	hints := map[string]string{
		matching.AudienceNobody:    "Kept private: only you can see it.",
		matching.AudienceLead:      "Your peer team lead, for example in supervision.",
		matching.AudienceSupported: "People you are supporting now see it on their page.",
		matching.AudienceTeam:      "Colleagues in your team, and your lead.",
		matching.AudiencePublic:    "Anyone signed in to Mutual who looks at your profile.",
	}
	out := choiceOptions(matching.Audiences)
	for i := range out {
		out[i].Hint = hints[out[i].Value]
	}
	return out
}

// workerForms fills each form on a worker's page from what is stored.
func workerForms(v matching.WorkerView) map[string]*ui.Form {
	forms := map[string]*ui.Form{"add": ui.NewForm(url.Values{"audience": {matching.AudienceNobody}})}
	if wp := v.Profile; wp != nil {
		d := wp.Details
		det := url.Values{"version": {strconv.Itoa(wp.Version)}, "details.gender": {d.Gender}, "details.languages": {strings.Join(d.Languages, ", ")},
			"details.settings": d.Settings, "details.places": d.Places, "details.days": d.Days, "details.times": d.Times, "details.areas": {d.Areas}}
		if d.GenderForMatching {
			det.Set("details.gender_for_matching", "yes")
		}
		forms["details"] = ui.NewForm(det)
		c := wp.Capacity
		capv := url.Values{"version": {strconv.Itoa(wp.Version)}, "capacity.hours_per_week": {strconv.FormatFloat(c.HoursPerWeek, 'f', -1, 64)}}
		if c.CapOverride != nil {
			capv.Set("capacity.cap_override", strconv.Itoa(*c.CapOverride))
		}
		for i, red := range c.Reductions {
			k := fmt.Sprintf("capacity.reductions[%d].", i)
			capv.Set(k+"percent", strconv.Itoa(red.Percent))
			capv.Set(k+"note", red.Note)
			for _, part := range []struct{ name, date string }{{"starts_on", red.StartsOn}, {"ends_on", red.EndsOn}} {
				if len(part.date) == 10 {
					capv.Set(k+part.name+"-year", part.date[:4])
					capv.Set(k+part.name+"-month", strings.TrimLeft(part.date[5:7], "0"))
					capv.Set(k+part.name+"-day", strings.TrimLeft(part.date[8:], "0"))
				}
			}
		}
		forms["capacity"] = ui.NewForm(capv)
	}
	for _, it := range v.Disclosures {
		iv := url.Values{"version": {strconv.Itoa(it.Version)}, "text": {it.Text}, "themes": it.Themes, "audience": {it.Audience}}
		if it.ForMatching {
			iv.Set("for_matching", "yes")
		}
		forms[fmt.Sprintf("item-%d", it.ID)] = ui.NewForm(iv)
	}
	return forms
}

func (s *Server) workerPage(w http.ResponseWriter, r *http.Request, status int, workerID int64, active string, f *ui.Form) error {
	v, err := s.matching.View(r.Context(), principal(r), workerID)
	if err != nil {
		return err
	}
	d := workerPageData{WorkerView: v, Active: active, Genders: append([]ui.Option{{Value: "", Label: "I would rather not say"}}, choiceOptions(matching.Genders)...),
		Settings: choiceOptions(matching.WorkerSettings), Places: choiceOptions(matching.Places), Days: choiceOptions(matching.Days),
		Times: choiceOptions(matching.Times), Themes: themeOptions(v.Themes), Audiences: audienceOptions(), Forms: workerForms(v)}
	if active != "" && f != nil {
		d.Forms[active] = f
	}
	if v.Profile != nil {
		d.MayCapacity = v.Profile.MayEdit.Capacity
		n := len(v.Profile.Capacity.Reductions)
		if active == "capacity" && f != nil {
			n = reductionRows(f) - 1
		}
		for i := 0; i <= n; i++ {
			d.Reductions = append(d.Reductions, i)
		}
	}
	title := "Peer worker: " + v.Name
	if v.Self {
		title = "Your peer worker profile"
	}
	return s.page(w, r, status, "matching/worker", &ui.Page{Title: title, Form: d.Forms[active], Data: d})
}

func (s *Server) handleMyProfile(w http.ResponseWriter, r *http.Request) error {
	return s.workerPage(w, r, http.StatusOK, principal(r).UserID, "", nil)
}

func (s *Server) handleWorker(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.workerPage(w, r, http.StatusOK, id, "", nil)
}

// workerReturn is where a change to a worker's page goes back to.
func workerReturn(p *app.Principal, id int64) string {
	if p.UserID == id {
		return "/my/profile"
	}
	return fmt.Sprintf("/workers/%d", id)
}

func (s *Server) handleWorkerDetails(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	v, _ := strconv.Atoi(f.Value("version"))
	in := matching.SaveWorkerProfile{Version: v, Details: &matching.WorkerDetails{Gender: f.Value("details.gender"), GenderForMatching: checked(f, "details.gender_for_matching"),
		Languages: splitList(f.Value("details.languages")), Settings: f.All("details.settings"), Places: f.All("details.places"),
		Days: f.All("details.days"), Times: f.All("details.times"), Areas: f.Value("details.areas")}}
	_, err = s.matching.SaveWorkerProfile(r.Context(), principal(r), id, in)
	if err == nil {
		setFlash(w, "Your details are saved")
		return redirect(w, r, workerReturn(principal(r), id))
	}
	if status, ok := formAgain(f, err); ok {
		return s.workerPage(w, r, status, id, "details", f)
	}
	return err
}

// reductionRows counts the reduction rows a capacity form sent.
func reductionRows(f *ui.Form) int {
	n := 0
	for k := range f.Values {
		var i int
		var rest string
		if _, err := fmt.Sscanf(k, "capacity.reductions[%d].%s", &i, &rest); err == nil && i+1 > n && i < 50 {
			n = i + 1
		}
	}
	return n
}

func (s *Server) handleWorkerCapacity(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	v, _ := strconv.Atoi(f.Value("version"))
	c := matching.Capacity{}
	hours := strings.TrimSpace(f.Value("capacity.hours_per_week"))
	if c.HoursPerWeek, err = strconv.ParseFloat(hours, 64); err != nil {
		p.Add("capacity.hours_per_week", "Enter hours a week as a number, like 22.5")
	}
	if cv := strings.TrimSpace(f.Value("capacity.cap_override")); cv != "" {
		n, err := strconv.Atoi(cv)
		if err != nil {
			p.Add("capacity.cap_override", "Enter the caseload cap as a whole number, or leave it blank to use the hours")
		}
		c.CapOverride = &n
	}
	for i := range reductionRows(f) {
		k := fmt.Sprintf("capacity.reductions[%d].", i)
		pct, note := strings.TrimSpace(f.Value(k+"percent")), f.Value(k+"note")
		from, to := formDate(f, k+"starts_on", &p), formDate(f, k+"ends_on", &p)
		if checked(f, k+"remove") || (pct == "" && from == "" && to == "" && strings.TrimSpace(note) == "" && !p.Has(k+"starts_on") && !p.Has(k+"ends_on")) {
			continue
		}
		red := matching.Reduction{StartsOn: from, EndsOn: to, Note: note}
		if red.Percent, err = strconv.Atoi(pct); err != nil {
			p.Add(k+"percent", "Enter the share of the cap as a whole number of percent, like 50")
		}
		c.Reductions = append(c.Reductions, red)
	}
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.workerPage(w, r, http.StatusUnprocessableEntity, id, "capacity", f)
	}
	_, err = s.matching.SaveWorkerProfile(r.Context(), principal(r), id, matching.SaveWorkerProfile{Version: v, Capacity: &c})
	if err == nil {
		setFlash(w, "The caseload cap and reduced-capacity periods are saved")
		return redirect(w, r, workerReturn(principal(r), id))
	}
	if status, ok := formAgain(f, err); ok {
		return s.workerPage(w, r, status, id, "capacity", f)
	}
	return err
}

func disclosureFromForm(f *ui.Form) (string, []string, string, bool) {
	return f.Value("text"), f.All("themes"), f.Value("audience"), checked(f, "for_matching")
}

func (s *Server) handleAddDisclosure(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	text, themes, audience, fm := disclosureFromForm(f)
	_, err = s.matching.AddDisclosure(r.Context(), principal(r), id, matching.NewDisclosure{Text: text, Themes: themes, Audience: audience, ForMatching: fm})
	if err == nil {
		setFlash(w, "Added. Only the people you chose can see it, and you can change or withdraw it at any time.")
		return redirect(w, r, workerReturn(principal(r), id))
	}
	if status, ok := formAgain(f, err); ok {
		return s.workerPage(w, r, status, id, "add", f)
	}
	return err
}

func (s *Server) handleChangeDisclosure(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	item, err := pathID(r, "item")
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	text, themes, audience, fm := disclosureFromForm(f)
	v, _ := strconv.Atoi(f.Value("version"))
	_, err = s.matching.ChangeDisclosure(r.Context(), principal(r), id, item, matching.DisclosureChange{Version: v, Text: &text, Themes: &themes,
		Audience: &audience, ForMatching: &fm})
	if err == nil {
		setFlash(w, "Your change is saved and takes effect now")
		return redirect(w, r, workerReturn(principal(r), id))
	}
	if status, ok := formAgain(f, err); ok {
		return s.workerPage(w, r, status, id, fmt.Sprintf("item-%d", item), f)
	}
	return err
}

func (s *Server) handleWithdrawDisclosure(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	item, err := pathID(r, "item")
	if err != nil {
		return err
	}
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.matching.WithdrawDisclosure(r.Context(), principal(r), id, item); err != nil {
		return err
	}
	setFlash(w, "Withdrawn. Nobody can see it any more.")
	return redirect(w, r, workerReturn(principal(r), id))
}

type matchesPageData struct {
	matching.Shortlist
}

func (s *Server) matchesPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	sl, err := s.matching.MatchesFor(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	if f == nil {
		f = ui.NewForm(url.Values{"version": {strconv.Itoa(sl.Version)}})
	} else {
		f.Values.Set("version", strconv.Itoa(sl.Version))
	}
	return s.page(w, r, status, "matching/matches", &ui.Page{Title: "Best matches for " + sl.PersonName, Form: f, Data: matchesPageData{sl},
		BackLink: fmt.Sprintf("/referrals/%d", id)})
}

func (s *Server) handleAllocateMatch(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	v, _ := strconv.Atoi(f.Value("version"))
	got, err := s.referrals.Transition(r.Context(), principal(r), id, referral.Move{To: referral.Allocated, WorkerID: formInt(f, "worker_id"),
		OverCapReason: f.Value("over_cap_reason"), Note: f.Value("note"), Version: v})
	if err == nil {
		setFlash(w, "Referral "+got.Reference+" is now allocated to "+got.AllocatedWorkerName)
		return redirect(w, r, fmt.Sprintf("/referrals/%d", id))
	}
	if status, ok := formAgain(f, err); ok {
		return s.matchesPage(w, r, status, id, f)
	}
	return err
}

type newPlanData struct {
	Teams []ui.Option
}

func (s *Server) newPlanPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	p := principal(r)
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	var d newPlanData
	for _, t := range teams {
		if slices.Contains(p.TeamsAs(app.RolePeerLead), t.ID) {
			d.Teams = append(d.Teams, ui.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
		}
	}
	if f == nil {
		v := url.Values{}
		for _, t := range d.Teams {
			v.Add("teams", t.Value)
		}
		f = ui.NewForm(v)
	}
	return s.page(w, r, status, "matching/plan-new", &ui.Page{Title: "Plan allocation for the waiting list", Form: f, Data: d})
}

func (s *Server) handleNewPlan(w http.ResponseWriter, r *http.Request) error {
	return s.newPlanPage(w, r, http.StatusOK, nil)
}

func (s *Server) handleProposePlan(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var teams []int64
	for _, v := range f.All("teams") {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f.AddError("teams", "Choose teams from the list")
			return s.newPlanPage(w, r, http.StatusUnprocessableEntity, f)
		}
		teams = append(teams, id)
	}
	pl, err := s.matching.ProposePlan(r.Context(), principal(r), matching.NewPlan{Teams: teams})
	if err == nil {
		return redirect(w, r, fmt.Sprintf("/matching/plans/%d", pl.ID))
	}
	if status, ok := formAgain(f, err); ok {
		return s.newPlanPage(w, r, status, f)
	}
	return err
}

type planPageData struct {
	matching.Plan
	Lines   []planLine
	Changes []matching.PlanChange
}

// planLine is one person's row on the plan page.
type planLine struct {
	Person   matching.PlanPerson
	Proposed matching.Assignment
	Has      bool
	Why      string
	Options  []ui.Option
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form, ch []matching.PlanChange) error {
	pl, err := s.matching.GetPlan(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	d := planPageData{Plan: pl, Changes: ch}
	assigned := map[int64]matching.Assignment{}
	for _, a := range pl.Assignments {
		assigned[a.ReferralID] = a
	}
	why := map[int64]string{}
	for _, u := range pl.Unmatched {
		why[u.ReferralID] = u.Why
	}
	names := map[int64]string{}
	for _, w := range pl.Workers {
		names[w.WorkerID] = w.Name
	}
	v := url.Values{}
	for _, pp := range pl.People {
		a, has := assigned[pp.ReferralID]
		line := planLine{Person: pp, Proposed: a, Has: has, Why: why[pp.ReferralID], Options: []ui.Option{{Value: "0", Label: "Leave on the waiting list"}}}
		listed := map[int64]bool{}
		for _, rw := range pp.RankedWorkers {
			listed[rw.WorkerID] = true
			line.Options = append(line.Options, ui.Option{Value: strconv.FormatInt(rw.WorkerID, 10), Label: fmt.Sprintf("%s (choice %d)", names[rw.WorkerID], rw.Rank)})
		}
		for _, wk := range pl.Workers {
			if !listed[wk.WorkerID] && slices.Contains(wk.Teams, pp.TeamID) {
				line.Options = append(line.Options, ui.Option{Value: strconv.FormatInt(wk.WorkerID, 10), Label: wk.Name})
			}
		}
		key := strconv.FormatInt(pp.ReferralID, 10)
		v.Set("worker_"+key, strconv.FormatInt(a.WorkerID, 10))
		d.Lines = append(d.Lines, line)
	}
	if f == nil {
		f = ui.NewForm(v)
	}
	return s.page(w, r, status, "matching/plan", &ui.Page{Title: fmt.Sprintf("Allocation plan %d", id), Form: f, Data: d, BackLink: "/matching/plans/new"})
}

func (s *Server) handlePlan(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.planPage(w, r, http.StatusOK, id, nil, nil)
}

func (s *Server) handleCommitPlan(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var in matching.CommitPlan
	var keys []string
	for k := range f.Values {
		if strings.HasPrefix(k, "worker_") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		ref, err := strconv.ParseInt(strings.TrimPrefix(k, "worker_"), 10, 64)
		if err != nil {
			continue
		}
		wid := formInt(f, k)
		if wid <= 0 {
			continue
		}
		in.Assignments = append(in.Assignments, matching.PlanLine{ReferralID: ref, WorkerID: wid, OverCapReason: f.Value("reason_" + strconv.FormatInt(ref, 10))})
	}
	done, err := s.matching.Commit(r.Context(), principal(r), id, in)
	if err == nil {
		setFlash(w, fmt.Sprintf("Plan committed: %s allocated, %s still waiting.", plural(len(done.Allocated), "person", "people"),
			plural(len(done.Waiting), "person", "people")))
		return redirect(w, r, "/referrals")
	}
	var stale *matching.StaleError
	if errors.As(err, &stale) {
		f.AddError("", stale.AsAppError().Message)
		return s.planPage(w, r, http.StatusConflict, id, f, stale.Changes)
	}
	if status, ok := formAgain(f, err); ok {
		return s.planPage(w, r, status, id, f, nil)
	}
	return err
}

type choiceInsightData struct {
	matching.ChoiceInsight
	TeamOptions []ui.Option
}

func (s *Server) handleChoiceInsight(w http.ResponseWriter, r *http.Request) error {
	q, err := choiceInsightQuery(r)
	if err != nil {
		return err
	}
	ins, err := s.matching.Insight(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	d := choiceInsightData{ChoiceInsight: ins, TeamOptions: []ui.Option{{Value: "", Label: "All teams"}}}
	for _, t := range teams {
		d.TeamOptions = append(d.TeamOptions, ui.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
	}
	return s.page(w, r, http.StatusOK, "matching/insight", &ui.Page{Title: "Choices and allocation", Form: ui.NewForm(r.URL.Query()), Data: d, BackLink: "/insight"})
}

type settingsPageData struct {
	Organisations []ui.Option
	Settings      *matching.Settings
	Rows          []int
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, status int, orgID int64, f *ui.Form) error {
	orgs, err := s.accounts.ListOrganisations(r.Context())
	if err != nil {
		return err
	}
	var d settingsPageData
	for _, o := range orgs {
		d.Organisations = append(d.Organisations, ui.Option{Value: strconv.FormatInt(o.ID, 10), Label: o.Name})
	}
	if orgID == 0 && len(orgs) > 0 {
		orgID = orgs[0].ID
	}
	if orgID != 0 {
		st, err := s.matching.Settings(r.Context(), principal(r), orgID)
		if err != nil {
			return err
		}
		d.Settings = &st
		if f == nil {
			v := url.Values{"organisation": {strconv.FormatInt(orgID, 10)}, "people_per_fte": {strconv.Itoa(st.PeoplePerFTE)},
				"full_time_hours": {strconv.FormatFloat(st.FullTimeHours, 'f', -1, 64)}}
			for i, t := range st.Themes {
				v.Set(fmt.Sprintf("themes[%d].label", i), t.Label)
				v.Set(fmt.Sprintf("themes[%d].code", i), t.Code)
			}
			f = ui.NewForm(v)
		}
		n := max(themeRows(f), len(st.Themes)) + 3
		for i := range n {
			d.Rows = append(d.Rows, i)
		}
	}
	if f == nil {
		f = ui.NewForm(nil)
	}
	return s.page(w, r, status, "matching/settings", &ui.Page{Title: "Matching settings", Form: f, Data: d})
}

func themeRows(f *ui.Form) int {
	n := 0
	for k := range f.Values {
		var i int
		var rest string
		if _, err := fmt.Sscanf(k, "themes[%d].%s", &i, &rest); err == nil && i+1 > n && i < 60 {
			n = i + 1
		}
	}
	return n
}

func (s *Server) handleMatchingSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := queryID(r.URL.Query(), "organisation")
	if err != nil {
		return err
	}
	return s.settingsPage(w, r, http.StatusOK, org, nil)
}

func (s *Server) handleSaveMatchingSettings(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := matching.SettingsChange{}
	if in.PeoplePerFTE, err = strconv.Atoi(strings.TrimSpace(f.Value("people_per_fte"))); err != nil {
		p.Add("people_per_fte", "Enter people per full-time worker as a whole number, like 14")
	}
	if in.FullTimeHours, err = strconv.ParseFloat(strings.TrimSpace(f.Value("full_time_hours")), 64); err != nil {
		p.Add("full_time_hours", "Enter full-time hours as a number, like 37.5")
	}
	var rows []int // the form row of each theme sent
	for i := range themeRows(f) {
		k := fmt.Sprintf("themes[%d].", i)
		label := strings.TrimSpace(f.Value(k + "label"))
		if label == "" || checked(f, k+"remove") {
			continue
		}
		in.Themes = append(in.Themes, matching.Theme{Code: f.Value(k + "code"), Label: label})
		rows = append(rows, i)
	}
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.settingsPage(w, r, http.StatusUnprocessableEntity, id, f)
	}
	_, err = s.matching.SaveSettings(r.Context(), principal(r), id, in)
	if err == nil {
		setFlash(w, "Matching settings saved")
		return redirect(w, r, fmt.Sprintf("/matching/settings?organisation=%d", id))
	}
	// Problems name themes by their place in the list sent; the form
	// names them by row.
	if ae := app.As(err); ae.Code == app.CodeInvalid {
		out := *ae
		out.Fields = slices.Clone(ae.Fields)
		for i, fe := range out.Fields {
			var j int
			var rest string
			if _, serr := fmt.Sscanf(fe.Field, "themes[%d].%s", &j, &rest); serr == nil && j < len(rows) {
				out.Fields[i].Field = fmt.Sprintf("themes[%d].%s", rows[j], rest)
			}
		}
		err = &out
	}
	if status, ok := formAgain(f, err); ok {
		return s.settingsPage(w, r, status, id, f)
	}
	return err
}

func (s *Server) handleReassign(w http.ResponseWriter, r *http.Request) error {
	list, err := s.matching.NeedsReassignment(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "matching/reassign", &ui.Page{Title: "People who need another peer worker", Data: list})
}
