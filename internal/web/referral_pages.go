package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/demographics"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/watch"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// referralRoutes are every door in: the public form, signed-in referrals and the waiting list: one line per route.
func (s *Server) referralRoutes() []*Route {
	return []*Route{
		pageRoute("GET /refer", app.PermPublic, s.handleReferLanding),
		pageRoute("GET /refer/self", app.PermPublic, s.handleSelfReferralForm),
		pageRoute("POST /refer/self", app.PermPublic, s.handleSelfReferral),
		pageRoute("GET /refer/received", app.PermPublic, s.handleSelfReferralDone),
		pageRoute("GET /referrals/new", app.PermReferralCreate, s.handleReferralForm),
		personPage("POST /referrals", app.PermReferralCreate, s.handleReferralCreate),
		personPage("GET /referrals", app.PermReferralRead, s.handleReferralList),
		personPage("GET /referrals/{id}", app.PermReferralView, s.handleReferralView),
		personPage("POST /referrals/{id}/transitions", app.PermReferralView, s.handleReferralTransition),
		personPage("POST /referrals/{id}/contacts", app.PermReferralWork, s.handleContactCreate),
		personPage("POST /referrals/{id}/link-person", app.PermReferralTriage, s.handleLinkPerson),
		personPage("POST /referrals/{id}/urgency", app.PermReferralTriage, s.handleReferralUrgency),
		apiRoute("POST /api/v1/self-referrals", app.PermPublic, opSelfReferral, s.apiSelfReferral),
		personAPI("POST /api/v1/referrals", app.PermReferralCreate, opCreateReferral, s.apiCreateReferral),
		personAPI("GET /api/v1/referrals", app.PermReferralRead, opListReferrals, s.apiListReferrals),
		personAPI("GET /api/v1/referrals/{id}", app.PermReferralView, opGetReferral, s.apiGetReferral),
		personAPI("POST /api/v1/referrals/{id}/transitions", app.PermReferralView, opTransition, s.apiTransition),
		personAPI("POST /api/v1/referrals/{id}/contacts", app.PermReferralWork, opContact, s.apiContact),
		personAPI("POST /api/v1/referrals/{id}/link-person", app.PermReferralTriage, opLinkPerson, s.apiLinkPerson),
		personPage("POST /referrals/{id}/consent", app.PermReferralView, s.handleRecordConsent),
		personAPI("POST /api/v1/referrals/{id}/consent", app.PermReferralView, opRecordConsent, s.apiRecordConsent),
		personAPI("POST /api/v1/referrals/{id}/urgency", app.PermReferralTriage, opSetUrgency, s.apiSetUrgency),
		personPage("GET /my/referrals", app.PermOwnRecord, s.handleMyReferrals),
		personAPI("GET /api/v1/my/referrals", app.PermOwnRecord, opMyReferrals, s.apiMyReferrals),
	}
}

// Public form limits: a burst of a few submissions per address, then one
// every 20 seconds, in memory; and 20 an hour per address across every
// instance, in the database.
const (
	publicFormEvery   = 20 * time.Second
	publicFormBurst   = 5
	publicFormPerHour = 20
)

// formOptions are the choices the referral and person forms offer.
type formOptions struct {
	Teams              []ui.Option
	ContactPreferences []ui.Option
	Genders            []ui.Option
	Ethnicities        []ui.Option
	Disabilities       []ui.Option
	YesNo              []ui.Option
	Consent            []ui.Option
	Urgencies          []ui.Option
}

// urgencyOptions are the urgencies a form offers, routine first, each with
// its waiting standard.
func urgencyOptions() []ui.Option {
	return []ui.Option{
		{Value: string(referral.Routine), Label: "Routine", Hint: "First contact within 4 weeks"},
		{Value: string(referral.Urgent), Label: "Urgent", Hint: "First contact within 24 hours"},
		{Value: string(referral.VeryUrgent), Label: "Very urgent", Hint: "First contact within 4 hours. If anyone is in danger now, call 999."},
	}
}

func reasonOptions(rs []referral.Reason) []ui.Option {
	out := make([]ui.Option, len(rs))
	for i, r := range rs {
		out[i] = ui.Option{Value: r.Code, Label: r.Label}
	}
	return out
}

func demoOptions(os []demographics.Option, grouped bool) []ui.Option {
	out := make([]ui.Option, 0, len(os)+1)
	if grouped {
		out = append(out, ui.Option{Value: "", Label: "Choose, or leave blank"})
	}
	for _, o := range os {
		label := o.Label
		if grouped && o.Group != "Not known" && o.Code != "self_described" {
			label = o.Group + ": " + o.Label
		}
		out = append(out, ui.Option{Value: o.Code, Label: label})
	}
	return out
}

func (s *Server) formOptions(r *http.Request) (formOptions, error) {
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return formOptions{}, err
	}
	o := formOptions{
		ContactPreferences: reasonOptions(person.ContactPreferences),
		Genders:            demoOptions(demographics.Genders, false),
		Ethnicities:        demoOptions(demographics.Ethnicities, true),
		Disabilities:       demoOptions(demographics.Disabilities, false),
		YesNo:              []ui.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}},
		Consent: []ui.Option{
			{Value: "given", Label: "Yes, they have agreed to this referral"},
			{Value: "not_obtained", Label: "No, their agreement could not be obtained", Hint: "Say why below. The peer support team will ask them first."},
		},
		Urgencies: urgencyOptions(),
	}
	o.Teams = append(o.Teams, ui.Option{Value: "", Label: "I'm not sure"})
	for _, t := range teams {
		o.Teams = append(o.Teams, ui.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name + " (" + t.OrganisationName + ")", Hint: t.Setting.Label()})
	}
	return o, nil
}

func (s *Server) handleReferLanding(w http.ResponseWriter, r *http.Request) error {
	return s.page(w, r, http.StatusOK, "referral/refer", &ui.Page{Title: "Ask for peer support"})
}

func personFromForm(f *ui.Form, prefix string, p *app.Problems) person.Details {
	return person.Details{
		PreferredName: f.Value(prefix + "preferred_name"), FullName: f.Value(prefix + "full_name"),
		DateOfBirth: formDate(f, prefix+"date_of_birth", p), Email: f.Value(prefix + "email"), Phone: f.Value(prefix + "phone"),
		ContactPreference: f.Value(prefix + "contact_preference"), ContactTimes: f.Value(prefix + "contact_times"),
		Gender: f.Value(prefix + "gender"), Ethnicity: f.Value(prefix + "ethnicity"), EthnicityOther: f.Value(prefix + "ethnicity_other"),
		Disability: f.Value(prefix + "disability"), FirstLanguage: f.Value(prefix + "first_language"),
		TrustRef: f.Value(prefix + "trust_ref"),
	}
}

func (s *Server) selfReferralPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	opts, err := s.formOptions(r)
	if err != nil {
		return err
	}
	return s.page(w, r, status, "referral/refer-self", &ui.Page{Title: "Ask for peer support for yourself", Form: f, Data: opts, BackLink: "/refer"})
}

func (s *Server) handleSelfReferralForm(w http.ResponseWriter, r *http.Request) error {
	return s.selfReferralPage(w, r, http.StatusOK, ui.NewForm(nil))
}

// limitPublicForm refuses a caller who has sent too many public forms,
// first in memory (cheap, sheds floods) and then in the shared database
// counter (holds across instances).
func (s *Server) limitPublicForm(r *http.Request, kind string) error {
	addr := s.clientAddr(r)
	tooMany := app.Errorf(app.CodeTooMany, "We have had a lot of requests from your connection in a short time, so we could not take this one. "+
		"Your answers are still below: wait a few minutes and send the form again. If you need help now, call NHS 111 and choose option 2.")
	if !s.publicForms.Allow(kind + addr) {
		return tooMany
	}
	n, err := s.counters.Hit(r.Context(), ratelimit.Key(kind, addr), time.Hour)
	if err != nil {
		return err
	}
	if n > publicFormPerHour {
		return tooMany
	}
	return nil
}

func (s *Server) handleSelfReferral(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := referral.SelfReferral{Details: personFromForm(f, "", &p), AskedFor: f.Value("asked_for"),
		WorkerPreferences: f.Value("worker_preferences"), TeamID: formInt(f, "team_id"), ShareBeyondTeam: checked(f, "share_beyond_team")}
	if in.Website = f.Value("website"); in.Website != "" {
		// A hidden field only robots fill in: look as if it worked, store nothing.
		return redirect(w, r, "/refer/received")
	}
	if err := p.Err(); err != nil {
		// Show the service's problems too, so every problem is named at once.
		formWithErrors(f, err)
		formWithErrors(f, s.referrals.CheckSelfReferral(in))
		return s.selfReferralPage(w, r, http.StatusUnprocessableEntity, f)
	}
	if err := s.limitPublicForm(r, "self-referral"); err != nil {
		ae := app.As(err)
		if ae.Code != app.CodeTooMany {
			return err
		}
		f.AddError("", ae.Message)
		w.Header().Set("Retry-After", "60")
		return s.selfReferralPage(w, r, http.StatusTooManyRequests, f)
	}
	res, err := s.referrals.CreateSelfReferral(r.Context(), app.Public(requestID(r.Context())), in)
	if err != nil {
		if !formWithErrors(f, err) {
			return err
		}
		return s.selfReferralPage(w, r, http.StatusUnprocessableEntity, f)
	}
	// The confirmation page reads the reference and the claim from this
	// short-lived cookie, so neither appears in a URL or in history.
	http.SetCookie(w, &http.Cookie{Name: "__Host-mutual-ref", Value: res.Reference + "|" + res.Claim, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	if res.Signpost {
		setHelpNow(w, true, res.PossibleRisk)
	}
	return redirect(w, r, "/refer/received")
}

type referralDoneData struct {
	Reference string
	Claim     string
	Wait      referral.WaitEstimate
}

func (s *Server) handleSelfReferralDone(w http.ResponseWriter, r *http.Request) error {
	var d referralDoneData
	if c, err := r.Cookie("__Host-mutual-ref"); err == nil {
		ref, claim, _ := strings.Cut(c.Value, "|")
		if strings.HasPrefix(ref, "MUT-") && len(ref) == 13 {
			d.Reference, d.Claim = ref, claim
		}
	}
	var err error
	if d.Wait, err = s.referrals.EstimateWait(r.Context(), 0); err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "referral/refer-received", &ui.Page{Title: "We have your request", Data: d})
}

type referralFormData struct {
	formOptions
	Source   referral.Source
	Person   *person.Person
	Matches  []person.PossibleMatch
	IsCarer  bool
	IsPerson bool
	Sources  []ui.Option
	// AsksUrgency: the door chosen lets the referrer say how urgent it is.
	AsksUrgency bool
}

func (s *Server) referralFormPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form, matches []person.PossibleMatch) error {
	return s.referralFormPageHelp(w, r, status, f, matches, "")
}

// referralFormPageHelp is referralFormPage, showing where to get help now
// (ui.Page HelpNow) when help is set.
func (s *Server) referralFormPageHelp(w http.ResponseWriter, r *http.Request, status int, f *ui.Form, matches []person.PossibleMatch, help string) error {
	p := principal(r)
	opts, err := s.formOptions(r)
	if err != nil {
		return err
	}
	d := referralFormData{formOptions: opts, Matches: matches, IsCarer: p.HasRole(app.RoleCarer), IsPerson: p.HasRole(app.RolePerson)}
	for _, src := range referral.SourcesFor(p) {
		d.Sources = append(d.Sources, ui.Option{Value: string(src), Label: src.Label()})
	}
	if f.Value("source") == "" && len(d.Sources) > 0 {
		f.Values.Set("source", d.Sources[0].Value)
	}
	d.Source = referral.Source(f.Value("source"))
	for _, src := range referral.SourcesFor(p) {
		d.AsksUrgency = d.AsksUrgency || referral.UrgencyDoor(src)
	}
	if f.Value("urgency") == "" {
		f.Values.Set("urgency", string(referral.Routine))
	}
	if id := formInt(f, "person_id"); id != 0 {
		rec, err := s.referrals.GetPerson(r.Context(), p, id)
		if err != nil {
			return err
		}
		d.Person = &rec.Person
	}
	title := "Make a referral for peer support"
	if d.Source == referral.SourceSelf {
		title = "Ask for peer support"
	}
	return s.page(w, r, status, "referral/referral-new", &ui.Page{Title: title, Form: f, Data: d, HelpNow: help})
}

func (s *Server) handleReferralForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	vals := url.Values{}
	for _, k := range []string{"person_id", "source", "for_carer"} {
		if v := q.Get(k); v != "" {
			vals.Set(k, v)
		}
	}
	return s.referralFormPage(w, r, http.StatusOK, ui.NewForm(vals), nil)
}

func referralFromForm(f *ui.Form, p *app.Problems) referral.NewReferral {
	in := referral.NewReferral{
		Source: referral.Source(f.Value("source")), PersonID: formInt(f, "person_id"), TeamID: formInt(f, "team_id"),
		AskedFor: f.Value("asked_for"), WorkerPreferences: f.Value("worker_preferences"), ContactHow: f.Value("contact_how"),
		ContactWhen: f.Value("contact_when"), MetAt: f.Value("met_at"), PersonKnows: yesNo(f, "person_knows"),
		Consent: f.Value("consent"), ConsentReason: f.Value("consent_reason"), ShareWithReferrer: checked(f, "share_with_referrer"),
		ShareBeyondTeam: checked(f, "share_beyond_team"), Relationship: f.Value("relationship"), ForCarer: checked(f, "for_carer"),
		NotDuplicate: f.Value("match") == "new", Urgency: referral.Urgency(f.Value("urgency")),
	}
	if m := f.Value("match"); m != "" && m != "new" {
		in.PersonID, _ = strconv.ParseInt(m, 10, 64)
	}
	if in.PersonID == 0 && !in.ForCarer && in.Source != referral.SourceSelf {
		in.Person = personFromForm(f, "person.", p)
	}
	return in
}

func (s *Server) handleReferralCreate(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := referralFromForm(f, &p)
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.referralFormPage(w, r, http.StatusUnprocessableEntity, f, nil)
	}
	ref, err := s.referrals.CreateReferral(r.Context(), principal(r), in)
	var dup *person.DuplicateError
	var open *referral.OpenReferralError
	switch {
	case errors.As(err, &open) && open.Referral != nil:
		setFlash(w, "This person already has an open referral, "+open.Referral.Reference+". What you asked for has been added to it.")
		if open.Signpost {
			setHelpNow(w, in.Source == referral.SourceSelf, open.Referral.RiskAlertOpen)
		}
		return redirect(w, r, "/referrals/"+strconv.FormatInt(open.Referral.ID, 10))
	case err == nil:
		setFlash(w, "Referral "+ref.Reference+" made. The peer support team will be in touch.")
		if ref.Signpost {
			setHelpNow(w, ref.Source == referral.SourceSelf || ref.ForCarer, ref.PossibleRisk)
		}
		if principal(r).Can(app.PermReferralRead) {
			return redirect(w, r, "/referrals/"+strconv.FormatInt(ref.ID, 10))
		}
		return redirect(w, r, "/my/referrals")
	case errors.As(err, &dup):
		f.AddError("match", "This person may already be known. Choose them from the list, or say they are someone new.")
		return s.referralFormPage(w, r, http.StatusConflict, f, dup.Matches)
	case formWithErrors(f, err):
		return s.referralFormPage(w, r, http.StatusUnprocessableEntity, f, nil)
	case app.IsCode(err, app.CodeConflict):
		f.AddError("", app.As(err).Message)
		help := ""
		if open != nil && open.Signpost {
			// The writer may not see the referral their words joined, but
			// still sees where to get help now.
			help = "referrer"
		}
		return s.referralFormPageHelp(w, r, http.StatusConflict, f, nil, help)
	}
	return err
}

type referralListData struct {
	Page       referral.Page
	Teams      []account.Team
	Statuses   []ui.Option
	Sources    []ui.Option
	Urgencies  []ui.Option
	Query      url.Values
	StandardWk int
	Pager      Pager
}

func filterFromQuery(q url.Values, p *app.Principal) (referral.Filter, error) {
	f := referral.Filter{Source: referral.Source(q.Get("source")), Overdue: q.Get("overdue") == "1", Query: q.Get("q"),
		Urgency: referral.Urgency(q.Get("urgency")), Risk: q.Get("risk") == "1"}
	if q.Get("mine") == "1" {
		f.WorkerID = p.UserID
	}
	if q.Get("made") == "1" {
		f.MadeBy = p.UserID
	}
	for _, st := range q["status"] {
		for _, v := range strings.Split(st, ",") {
			if v = strings.TrimSpace(v); v != "" {
				f.Statuses = append(f.Statuses, referral.Status(v))
			}
		}
	}
	var err error
	if f.TeamID, err = queryID(q, "team"); err != nil {
		return f, err
	}
	if f.Offset, err = queryOffset(q); err != nil {
		return f, err
	}
	var lim int64
	if lim, err = queryID(q, "limit"); err != nil {
		return f, err
	}
	f.Limit = int(lim)
	if q.Get("view") == "" && len(f.Statuses) == 0 && q.Get("all") != "1" && q.Get("mine") != "1" && q.Get("made") != "1" {
		// The default view is the waiting list.
		f.Statuses = []referral.Status{referral.Received, referral.Accepted, referral.Allocated}
	}
	return f, nil
}

func (s *Server) handleReferralList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := filterFromQuery(q, principal(r))
	if err != nil {
		return err
	}
	pg, err := s.referrals.ListReferrals(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	d := referralListData{Page: pg, Teams: teams, Query: q, StandardWk: int(s.referrals.WaitingStandard.Hours() / 24 / 7),
		Pager: pager("/referrals", q, pg.Total, pg.Limit, pg.Offset, len(pg.Referrals))}
	for _, st := range referral.Statuses {
		d.Statuses = append(d.Statuses, ui.Option{Value: string(st), Label: st.Label()})
	}
	for _, src := range referral.Sources {
		d.Sources = append(d.Sources, ui.Option{Value: string(src), Label: src.Label()})
	}
	for _, u := range referral.Urgencies {
		d.Urgencies = append(d.Urgencies, ui.Option{Value: string(u), Label: u.Label()})
	}
	return s.page(w, r, http.StatusOK, "referral/referrals", &ui.Page{Title: "Referrals", Form: ui.NewForm(q), Data: d, FullWidth: true})
}

type referralViewData struct {
	referral.Detail
	Urgencies     []ui.Option
	AlertOutcomes []ui.Option
	// AskedFor and Preferences are the referral's words with what matched
	// the watched words marked, when it is marked possible risk.
	AskedFor, Preferences []watch.Part
	// Respond are the open alerts the reader may record a response to.
	Respond       []alert.Alert
	Workers       []referral.Worker
	Teams         []ui.Option
	DeclineOpts   []ui.Option
	EndOpts       []ui.Option
	EndingOpts    []ui.Option
	ContactModes  []ui.Option
	SupportTypes  []ui.Option
	CanTriage     bool
	CanWork       bool
	ActiveForm    string
	TransitionMap map[referral.Status]bool
}

func (s *Server) referralPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form, active string) error {
	p := principal(r)
	d, err := s.referrals.GetReferral(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := referralViewData{Detail: d, Urgencies: urgencyOptions(), AlertOutcomes: reasonOptions(alert.RiskOutcomes),
		DeclineOpts: reasonOptions(referral.DeclineReasons), EndOpts: reasonOptions(referral.EndReasons), EndingOpts: reasonOptions(referral.Endings),
		ContactModes: reasonOptions(referral.ContactModes), SupportTypes: reasonOptions(referral.SupportTypes), CanWork: p.Can(app.PermReferralWork) && !d.Referral.Status.Closed(),
		ActiveForm: active, TransitionMap: map[referral.Status]bool{}}
	for _, m := range d.Moves {
		v.TransitionMap[m] = true
		v.CanTriage = v.CanTriage || m == referral.Accepted || m == referral.Allocated
	}
	if v.TransitionMap[referral.Allocated] {
		if v.Workers, err = s.referrals.Workers(r.Context(), d.Referral.TeamID); err != nil {
			return err
		}
	}

	if v.TransitionMap[referral.Accepted] && d.Referral.TeamID == 0 {
		teams, err := s.accounts.ListTeams(r.Context())
		if err != nil {
			return err
		}
		for _, t := range teams {
			for _, tid := range p.TeamsAs(app.RolePeerLead) {
				if tid == t.ID {
					v.Teams = append(v.Teams, ui.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
				}
			}
		}
	}
	for _, a := range d.Alerts {
		if a.Resolved == nil && alert.MayRespond(p, a) {
			v.Respond = append(v.Respond, a)
		}
	}
	if d.Referral.PossibleRisk {
		found, err := s.watch.CheckForTeam(r.Context(), d.Referral.TeamID, d.Referral.AskedFor)
		if err != nil {
			return err
		}
		v.AskedFor = watch.Highlight(d.Referral.AskedFor, found)
		found, err = s.watch.CheckForTeam(r.Context(), d.Referral.TeamID, d.Referral.WorkerPreferences)
		if err != nil {
			return err
		}
		v.Preferences = watch.Highlight(d.Referral.WorkerPreferences, found)
	}
	if f == nil {
		f = ui.NewForm(url.Values{"version": {strconv.Itoa(d.Referral.Version)}})
	}
	handoverValues(f, d.Handover)
	if f.Value("urgency") == "" {
		f.Values.Set("urgency", string(d.Referral.Urgency))
	}
	return s.page(w, r, status, "referral/referral", &ui.Page{Title: "Referral " + d.Referral.Reference, Form: f, Data: v})
}

func (s *Server) handleReferralView(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if ownView(principal(r)) {
		// The person (or a carer) reads their referral in plain words, not
		// the staff view. Links in their updates lead here.
		return redirect(w, r, "/my/referrals/"+strconv.FormatInt(id, 10))
	}
	return s.referralPage(w, r, http.StatusOK, id, nil, "")
}

// ownView reports whether the caller uses Mutual for their own support
// (as a person or a carer), and so sees referrals in their own words.
func ownView(p *app.Principal) bool {
	return p != nil && !p.IsStaff() && p.HasRole(app.RolePerson, app.RoleCarer)
}

func (s *Server) handleRecordConsent(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	_, err = s.referrals.RecordConsent(r.Context(), principal(r), id, referral.ConsentDecision{Decision: f.Value("decision"), Reason: f.Value("consent_decision_reason")})
	if err == nil {
		setFlash(w, "Recorded. The referral can now be taken on.")
		return redirect(w, r, "/referrals/"+strconv.FormatInt(id, 10))
	}
	ae := app.As(err)
	switch ae.Code {
	case app.CodeInvalid:
		for _, fe := range ae.Fields {
			name := fe.Field
			if name == "reason" {
				name = "consent_decision_reason"
			}
			f.AddError(name, fe.Message)
		}
	case app.CodeConflict, app.CodeForbidden:
		f.AddError("", ae.Message)
	default:
		return err
	}
	return s.referralPage(w, r, ae.Code.Status(), id, f, "consent")
}

func moveFromForm(f *ui.Form) referral.Move {
	v, _ := strconv.Atoi(f.Value("version"))
	return referral.Move{To: referral.Status(f.Value("to")), Reason: f.Value("reason"), Note: f.Value("note"),
		WorkerID: formInt(f, "worker_id"), TeamID: formInt(f, "team_id"), RedirectedTo: f.Value("redirected_to"),
		RedirectMessage: f.Value("redirect_message"), OutcomeSummary: f.Value("outcome_summary"), OverCapReason: f.Value("over_cap_reason"), Version: v,
		Ending: f.Value("ending"), WhatHelped: f.Value("what_helped")}
}

func (s *Server) handleReferralTransition(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	m := moveFromForm(f)
	got, err := s.referrals.Transition(r.Context(), principal(r), id, m)
	if err != nil && ownView(principal(r)) {
		// The person's own page shows what went wrong; the staff page is not
		// theirs.
		ae := app.As(err)
		if ae.Code != app.CodeInvalid && ae.Code != app.CodeConflict && ae.Code != app.CodeForbidden {
			return err
		}
		f.AddError("", ae.Message)
		return s.myReferralPage(w, r, ae.Code.Status(), id, f)
	}
	if err == nil {
		setFlash(w, "Referral "+got.Reference+" is now: "+strings.ToLower(got.Status.Label()))
		if next := f.Value("next"); next == "/my/referrals" || next == "/my/referrals/"+strconv.FormatInt(id, 10) {
			return redirect(w, r, next)
		}
		return redirect(w, r, "/referrals/"+strconv.FormatInt(id, 10))
	}
	ae := app.As(err)
	switch ae.Code {
	case app.CodeInvalid:
		formWithErrors(f, err)
		return s.referralPage(w, r, http.StatusUnprocessableEntity, id, f, string(m.To))
	case app.CodeConflict, app.CodeForbidden:
		// Show the latest version with the reason, keeping what was typed.
		f.AddError("", ae.Message)
		d, gerr := s.referrals.GetReferral(r.Context(), principal(r), id)
		if gerr == nil {
			f.Values.Set("version", strconv.Itoa(d.Referral.Version))
		}
		return s.referralPage(w, r, ae.Code.Status(), id, f, string(m.To))
	}
	return err
}

func (s *Server) handleContactCreate(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	at := formDateTime(f, "contact_at", s.clock.Now(), &p)
	mins, _ := strconv.Atoi(strings.TrimSpace(f.Value("minutes")))
	if v := strings.TrimSpace(f.Value("minutes")); v != "" && (mins <= 0 && v != "0") {
		p.Add("minutes", "Enter minutes as a number, like 30")
	}
	if err := p.Err(); err == nil {
		_, err = s.referrals.RecordContact(r.Context(), principal(r), id, referral.NewContact{At: at, Mode: f.Value("mode"), Minutes: mins, Note: f.Value("contact_note"),
			SupportTypes: f.All("support_types"), AppointmentID: formInt(f, "appointment_id")})
		if err == nil {
			setFlash(w, "Contact recorded")
			return redirect(w, r, "/referrals/"+strconv.FormatInt(id, 10))
		}
		ae := app.As(err)
		if ae.Code != app.CodeInvalid {
			if ae.Code == app.CodeConflict {
				f.AddError("", ae.Message)
				return s.contactAgain(w, r, http.StatusConflict, id, f)
			}
			return err
		}
		for _, fe := range ae.Fields {
			name := fe.Field
			switch name {
			case "note":
				name = "contact_note"
			case "at":
				name = "contact_at"
			}
			f.AddError(name, fe.Message)
		}
	} else {
		formWithErrors(f, err)
	}
	return s.contactAgain(w, r, http.StatusUnprocessableEntity, id, f)
}

// contactAgain shows the contact form again with what was typed and its
// problems: on the appointment page it was sent from (from=appointment),
// or the referral's.
func (s *Server) contactAgain(w http.ResponseWriter, r *http.Request, status int, referralID int64, f *ui.Form) error {
	if aid := formInt(f, "appointment_id"); aid != 0 && f.Value("from") == "appointment" {
		// The appointment page shows only the kinds and the note; a
		// problem with what it filled in itself is shown at the top.
		for i, e := range f.Errors {
			if e.Field != "support_types" && e.Field != "contact_note" {
				f.Errors[i].Field = ""
			}
		}
		return s.appointmentPageFor(w, r, aid, status, f)
	}
	return s.referralPage(w, r, status, referralID, f, "contact")
}

func (s *Server) handleReferralUrgency(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	v, _ := strconv.Atoi(f.Value("version"))
	got, err := s.referrals.SetUrgency(r.Context(), principal(r), id, referral.UrgencyChange{Urgency: referral.Urgency(f.Value("urgency")),
		Reason: f.Value("urgency_reason"), Version: v})
	if err == nil {
		setFlash(w, "Referral "+got.Reference+" is now "+strings.ToLower(got.Urgency.Label()))
		return redirect(w, r, "/referrals/"+strconv.FormatInt(id, 10))
	}
	ae := app.As(err)
	switch ae.Code {
	case app.CodeInvalid:
		for _, fe := range ae.Fields {
			name := fe.Field
			if name == "reason" {
				name = "urgency_reason"
			}
			f.AddError(name, fe.Message)
		}
		return s.referralPage(w, r, http.StatusUnprocessableEntity, id, f, "urgency")
	case app.CodeConflict, app.CodeForbidden:
		f.AddError("", ae.Message)
		if d, gerr := s.referrals.GetReferral(r.Context(), principal(r), id); gerr == nil {
			f.Values.Set("version", strconv.Itoa(d.Referral.Version))
		}
		return s.referralPage(w, r, ae.Code.Status(), id, f, "urgency")
	}
	return err
}

func (s *Server) handleLinkPerson(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	err = s.referrals.LinkPerson(r.Context(), principal(r), id, formInt(f, "person_id"))
	if err == nil {
		setFlash(w, "Referral linked to the person already known to Mutual")
		return redirect(w, r, "/referrals/"+strconv.FormatInt(id, 10))
	}
	ae := app.As(err)
	if ae.Code == app.CodeInvalid || ae.Code == app.CodeConflict {
		f.AddError("", ae.Message)
		return s.referralPage(w, r, ae.Code.Status(), id, f, "")
	}
	return err
}

type myReferralsData struct {
	Referrals []referral.MyReferral
	Wait      referral.WaitEstimate
	WaitTeam  string // the service Wait describes; "" for all services
	IsPerson  bool
	IsCarer   bool
}

// minTeamWaits is how many recent first contacts a team needs before its
// own waits are quoted to someone waiting for it; with fewer, the figure
// for all services is more honest.
const minTeamWaits = 10

func (s *Server) handleMyReferrals(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	refs, err := s.referrals.MyReferrals(r.Context(), p)
	if err != nil {
		return err
	}
	d := myReferralsData{Referrals: refs, IsPerson: p.HasRole(app.RolePerson), IsCarer: p.HasRole(app.RoleCarer)}
	// Someone waiting for one service is told how long that service's
	// recent waits have been, when it has enough of them.
	if team, ok := onlyWaitingTeam(refs); ok {
		if d.Wait, err = s.referrals.EstimateWait(r.Context(), team.TeamID); err != nil {
			return err
		}
		d.WaitTeam = team.TeamName
	}
	if d.Wait.Count < minTeamWaits {
		d.WaitTeam = ""
		if d.Wait, err = s.referrals.EstimateWait(r.Context(), 0); err != nil {
			return err
		}
	}
	return s.page(w, r, http.StatusOK, "referral/my-referrals", &ui.Page{Title: "Your referrals", Form: ui.NewForm(nil), Data: d})
}

// onlyWaitingTeam returns the referral of the one service all the
// caller's waiting referrals (that they may follow) are with, if there is
// exactly one.
func onlyWaitingTeam(refs []referral.MyReferral) (referral.Referral, bool) {
	var team referral.Referral
	for _, m := range refs {
		r := m.Referral
		if m.Limited || !r.Status.Waiting() || r.TeamID == 0 {
			continue
		}
		if team.TeamID != 0 && team.TeamID != r.TeamID {
			return referral.Referral{}, false
		}
		team = r
	}
	return team, team.TeamID != 0
}
