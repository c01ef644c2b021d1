package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// supportRoutes are the worker's day (my people, my diary), appointments
// (arranged by a worker with a person, asked for by the person, answered and
// moved by either) and the organisation's settings: one line per route.
func (s *Server) supportRoutes() []*Route {
	return []*Route{
		personPage("GET /my/people", app.PermSupportWork, s.handleMyPeople),
		personPage("GET /my/diary", app.PermSupportWork, s.handleMyDiary),
		personPage("GET /my/transitions", app.PermSupportWork, s.handleMyTransitions),
		personPage("POST /my/transitions/{id}/done", app.PermSupportWork, s.handlePromptDone),
		personPage("GET /my/appointments", app.PermAppointments, s.handleMyAppointments),
		personPage("POST /my/appointments", app.PermAppointments, s.handleMyAppointmentAsk),
		personPage("POST /my/reminders", app.PermOwnRecord, s.handleReminders(false)),
		personPage("POST /people/{id}/reminders", app.PermAppointments, s.handleReminders(true)),
		personPage("GET /people/{id}/appointments/new", app.PermAppointments, s.handleAppointmentForm),
		personPage("POST /people/{id}/appointments", app.PermAppointments, s.handleAppointmentCreate),
		personPage("GET /appointments/{id}", app.PermAppointments, s.handleAppointment),
		personPage("POST /appointments/{id}/transitions", app.PermAppointments, s.handleAppointmentMove),
		personPage("POST /appointments/{id}/reschedule", app.PermAppointments, s.handleAppointmentReschedule),
		personPage("POST /appointments/{id}/check-in", app.PermAppointments, s.handleVisitCheck(true)),
		personPage("POST /appointments/{id}/check-out", app.PermAppointments, s.handleVisitCheck(false)),
		pageRoute("GET /my/calendar", app.PermAppointments, s.handleMyCalendar),
		pageRoute("POST /my/calendar", app.PermAppointments, s.handleCalendarRenew),
		pageRoute("POST /my/calendar/revoke", app.PermAppointments, s.handleCalendarRevoke),
		personAPI("GET /calendar/{file}", app.PermPublic, opCalendarFeed, s.handleCalendarFeed),
		apiRoute("GET /api/v1/my/calendar", app.PermAppointments, opMyFeed, s.apiMyFeed),
		apiRoute("POST /api/v1/my/calendar", app.PermAppointments, opRenewFeed, s.apiRenewFeed),
		apiRoute("DELETE /api/v1/my/calendar", app.PermAppointments, opRevokeFeed, s.apiRevokeFeed),
		personAPI("POST /api/v1/appointments", app.PermAppointments, opCreateAppointment, s.apiCreateAppointment),
		personAPI("GET /api/v1/appointments", app.PermAppointments, opListAppointments, s.apiListAppointments),
		personAPI("GET /api/v1/appointments/{id}", app.PermAppointments, opGetAppointment, s.apiGetAppointment),
		personAPI("POST /api/v1/appointments/{id}/transitions", app.PermAppointments, opMoveAppointment, s.apiMoveAppointment),
		personAPI("POST /api/v1/appointments/{id}/reschedule", app.PermAppointments, opRescheduleAppointment, s.apiRescheduleAppointment),
		personAPI("POST /api/v1/appointments/{id}/check-in", app.PermAppointments, opCheckIn, s.apiVisitCheck(true)),
		personAPI("POST /api/v1/appointments/{id}/check-out", app.PermAppointments, opCheckOut, s.apiVisitCheck(false)),
		personAPI("GET /api/v1/my/reminders", app.PermOwnRecord, opMyReminders, s.apiGetReminders(false)),
		personAPI("PUT /api/v1/my/reminders", app.PermOwnRecord, opSetMyReminders, s.apiSetReminders(false)),
		personAPI("GET /api/v1/people/{id}/reminders", app.PermAppointments, opPersonReminders, s.apiGetReminders(true)),
		personAPI("PUT /api/v1/people/{id}/reminders", app.PermAppointments, opSetPersonReminders, s.apiSetReminders(true)),
		personAPI("GET /api/v1/my/people", app.PermSupportWork, opMyPeople, s.apiMyPeople),
		personAPI("GET /api/v1/my/diary", app.PermSupportWork, opMyDiary, s.apiMyDiary),
		personAPI("GET /api/v1/my/transitions", app.PermSupportWork, opMyTransitions, s.apiMyTransitions),
		personAPI("POST /api/v1/transition-prompts/{id}/done", app.PermSupportWork, opPromptDone, s.apiPromptDone),
		apiRoute("GET /api/v1/organisations/{id}/support-settings", app.PermSupportSettings, opGetSupportSettings, s.apiGetSupportSettings),
		apiRoute("PUT /api/v1/organisations/{id}/support-settings", app.PermSupportSettings, opPutSupportSettings, s.apiPutSupportSettings),
	}
}

func (s *Server) handleMyPeople(w http.ResponseWriter, r *http.Request) error {
	people, err := s.support.MyPeople(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "support/people", &ui.Page{Title: "My people", Data: people})
}

func (s *Server) handleMyTransitions(w http.ResponseWriter, r *http.Request) error {
	return s.transitionsPage(w, r, http.StatusOK, ui.NewForm(url.Values{}))
}

func (s *Server) transitionsPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	list, err := s.support.MyPrompts(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, status, "support/transitions", &ui.Page{Title: "Transitions to act on", Data: list, Form: f})
}

// handlePromptDone marks a transition prompt done with what was done; a
// problem shows the page again with that prompt's form open and what was
// typed kept.
func (s *Server) handlePromptDone(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	_, err = s.support.MarkPromptDone(r.Context(), principal(r), id, support.PromptDone{Note: f.Value("note")})
	if err == nil {
		setFlash(w, "Marked done")
		return redirect(w, r, "/my/transitions")
	}
	if err := formProblem(f, err, app.CodeConflict); err != nil {
		return err
	}
	f.Values.Set("prompt_id", strconv.FormatInt(id, 10))
	return s.transitionsPage(w, r, app.As(err).Code.Status(), f)
}

type diaryData struct {
	WeekDiary
	Prev, Next, This string
	Today            time.Time
}

func (s *Server) handleMyDiary(w http.ResponseWriter, r *http.Request) error {
	week, err := s.diaryWeek(r)
	if err != nil {
		return err
	}
	d, err := s.weekDiary(r.Context(), principal(r), week)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	from := d.From.In(app.London)
	data := diaryData{WeekDiary: d, Prev: from.AddDate(0, 0, -7).Format("2006-01-02"), Next: from.AddDate(0, 0, 7).Format("2006-01-02"),
		This: support.WeekOf(now).Format("2006-01-02"), Today: now}
	return s.page(w, r, http.StatusOK, "support/diary", &ui.Page{Title: "My diary: week of " + from.Format("2 January 2006"), Data: data})
}

type myAppointmentsData struct {
	Upcoming, Past  []support.Appointment
	Places          []ui.Option
	Lengths         []ui.Option
	Reminders       support.Reminders
	ReminderChoices []ui.Option
}

var appointmentLengths = []ui.Option{{Value: "30", Label: "30 minutes"}, {Value: "60", Label: "1 hour"}, {Value: "90", Label: "1 hour 30 minutes"}, {Value: "120", Label: "2 hours"}}

func (s *Server) handleMyAppointments(w http.ResponseWriter, r *http.Request) error {
	return s.myAppointmentsPage(w, r, http.StatusOK, nil)
}

func (s *Server) myAppointmentsPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	list, err := s.support.List(r.Context(), principal(r), support.Filter{})
	if err != nil {
		return err
	}
	rem, err := s.support.GetReminders(r.Context(), principal(r), 0)
	if err != nil {
		return err
	}
	d := myAppointmentsData{Places: choiceOptions(support.Places), Lengths: appointmentLengths, Reminders: rem, ReminderChoices: choiceOptions(support.ReminderChoices)}
	now := s.clock.Now()
	for _, a := range list {
		if a.Status.Upcoming() && a.End.After(now) {
			d.Upcoming = append(d.Upcoming, a)
		} else {
			d.Past = append([]support.Appointment{a}, d.Past...)
		}
	}
	if f == nil {
		f = ui.NewForm(map[string][]string{"minutes": {"60"}})
	}
	if f.Value("choice") == "" {
		f.Values.Set("choice", string(rem.Choice))
	}
	return s.page(w, r, status, "support/my-appointments", &ui.Page{Title: "My appointments", Form: f, Data: d})
}

// appointmentInput reads the date, time, length and place of a booking
// form.
func appointmentInput(f *ui.Form, p *app.Problems) support.NewAppointment {
	in := support.NewAppointment{Place: f.Value("place"), PlaceDetail: f.Value("place_detail"), Others: f.Value("others"), Agreed: checked(f, "agreed")}
	if h := strings.TrimSpace(f.Value("handover_worker_id")); h != "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n <= 0 {
			p.Add("handover_worker_id", "Choose the incoming peer worker from the list")
		}
		in.HandoverWorkerID = n
	}
	in.Start = formStart(f, p)
	if m := strings.TrimSpace(f.Value("minutes")); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil {
			p.Add("minutes", "Enter how long in minutes, like 60")
		}
		in.Minutes = n
	}
	return in
}

// formStart reads the start date and time (both needed), in UK time.
func formStart(f *ui.Form, p *app.Problems) time.Time {
	ds := formDate(f, "start", p)
	if p.Has("start") {
		return time.Time{}
	}
	if ds == "" {
		p.Add("start", "Enter the date of the appointment")
		return time.Time{}
	}
	tm := strings.TrimSpace(f.Value("start-time"))
	t, err := time.ParseInLocation("2006-01-02 15:04", ds+" "+tm, app.London)
	if err != nil {
		p.Add("start-time", "Enter the time like 14:30")
		return time.Time{}
	}
	return t.UTC()
}

// bookingErrors puts a service's refusal on the form: field problems next
// to their fields, a clash or other conflict at the top. Other errors are
// returned.
func bookingErrors(f *ui.Form, err error) error {
	if formWithErrors(f, err) {
		return nil
	}
	if app.IsCode(err, app.CodeConflict) || app.IsCode(err, app.CodeForbidden) {
		f.AddError("", app.As(err).Message)
		return nil
	}
	return err
}

// formPage shows a booking form again, with what was typed and its problems.
type formPage func(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error

// createFromForm reads a booking form and arranges the appointment: for
// personID (0: the caller's own request). On a problem it shows the form
// again through again and answers ok false.
func (s *Server) createFromForm(w http.ResponseWriter, r *http.Request, personID int64, again formPage) (a support.Appointment, ok bool, err error) {
	f, err := parseForm(w, r)
	if err != nil {
		return a, false, err
	}
	var p app.Problems
	in := appointmentInput(f, &p)
	in.PersonID = personID
	if personID == 0 {
		in.Agreed = false
	}
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return a, false, again(w, r, http.StatusUnprocessableEntity, f)
	}
	if a, err = s.support.Create(r.Context(), principal(r), in); err != nil {
		if err := bookingErrors(f, err); err != nil {
			return a, false, err
		}
		return a, false, again(w, r, http.StatusUnprocessableEntity, f)
	}
	return a, true, nil
}

func (s *Server) handleMyAppointmentAsk(w http.ResponseWriter, r *http.Request) error {
	a, ok, err := s.createFromForm(w, r, 0, s.myAppointmentsPage)
	if !ok {
		return err
	}
	setFlash(w, "Your request was sent to "+a.WorkerName)
	return redirect(w, r, "/my/appointments")
}

type appointmentFormData struct {
	support.Booking
	// HandoverWorkers are the choices for a warm handover meeting's
	// incoming worker (none: the choice is not offered).
	HandoverWorkers []ui.Option
	Places          []ui.Option
	Lengths         []ui.Option
	ReminderChoices []ui.Option
	Chosen          string
}

func (s *Server) handleAppointmentForm(w http.ResponseWriter, r *http.Request) error {
	return s.appointmentForm(w, r, http.StatusOK, nil)
}

func (s *Server) appointmentForm(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := s.support.ForBooking(r.Context(), principal(r), pid)
	if err != nil {
		return err
	}
	d := appointmentFormData{Booking: b, Places: choiceOptions(support.Places), Lengths: appointmentLengths, ReminderChoices: choiceOptions(support.ReminderChoices)}
	if len(b.HandoverWorkers) > 0 {
		d.HandoverWorkers = []ui.Option{{Value: "", Label: "No: an ordinary appointment"}}
		for _, w := range b.HandoverWorkers {
			d.HandoverWorkers = append(d.HandoverWorkers, ui.Option{Value: strconv.FormatInt(w.ID, 10), Label: w.Name})
		}
	}
	var chosen []string
	for _, pl := range b.Preferences.Places {
		chosen = append(chosen, strings.ToLower(support.PlaceLabel(pl)))
	}
	d.Chosen = strings.Join(chosen, ", ")
	if f == nil {
		v := map[string][]string{"minutes": {"60"}}
		if len(b.Preferences.Places) > 0 {
			v["place"] = []string{b.Preferences.Places[0]}
		}
		f = ui.NewForm(v)
	}
	if f.Value("choice") == "" {
		f.Values.Set("choice", string(b.Reminders.Choice))
	}
	return s.page(w, r, status, "support/appointment-new", &ui.Page{Title: "Arrange an appointment with " + b.PersonName, Form: f, Data: d,
		BackLink: "/my/people"})
}

// handleReminders records when a person is reminded of their
// appointments: their own choice from their appointments page, or (forPerson)
// a worker's record of it for them from the booking page. A refused choice
// shows the page again with the problem next to the choices.
func (s *Server) handleReminders(forPerson bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var pid int64
		again, back := s.myAppointmentsPage, "/my/appointments"
		if forPerson {
			var err error
			if pid, err = pathID(r, "id"); err != nil {
				return err
			}
			again, back = s.appointmentForm, fmt.Sprintf("/people/%d/appointments/new", pid)
		}
		f, err := parseForm(w, r)
		if err != nil {
			return err
		}
		rem, err := s.support.SetReminders(r.Context(), principal(r), pid, support.SetReminders{Choice: support.ReminderChoice(f.Value("choice"))})
		if err != nil {
			if err := formProblem(f, err, app.CodeConflict); err != nil {
				return err
			}
			return again(w, r, http.StatusUnprocessableEntity, f)
		}
		setFlash(w, "Reminders: "+strings.ToLower(rem.Choice.Label()))
		return redirect(w, r, back)
	}
}

func (s *Server) handleAppointmentCreate(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, ok, err := s.createFromForm(w, r, pid, s.appointmentForm)
	if !ok {
		return err
	}
	if a.Status == support.Booked {
		setFlash(w, "Appointment booked")
	} else {
		setFlash(w, "Appointment proposed: "+a.PersonName+" can accept it in their account")
	}
	return redirect(w, r, fmt.Sprintf("/appointments/%d", a.ID))
}

type appointmentData struct {
	support.Appointment
	Staff   bool
	Moves   []support.Status
	Cancel  bool
	Places  []ui.Option
	Lengths []ui.Option
	// Record: the worker can record what happened, as a contact on the
	// referral (its one contact history), in Mode, with these kinds.
	Record bool
	Mode   string
	// Review: staff who record reviews can record one held at this
	// appointment (it took place).
	Review       bool
	SupportTypes []ui.Option
	// Lone working: the worker checks in and out; a lead answers the alert
	// raised when they did not check out in time.
	CheckIn, CheckOut bool
	Alert             *alert.Alert
	AlertOutcomes     []ui.Option
}

// contactMode is how a contact at a place happened.
func contactMode(place string) string {
	switch place {
	case "phone", "video":
		return place
	case "text":
		return "text_email"
	}
	return "in_person"
}

func (s *Server) handleAppointment(w http.ResponseWriter, r *http.Request) error {
	return s.appointmentPage(w, r, http.StatusOK, nil)
}

func (s *Server) appointmentPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	aid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.appointmentPageFor(w, r, aid, status, f)
}

// appointmentPageFor shows appointment aid, with f (what was typed in one
// of its forms, and the problems) when it is shown again.
func (s *Server) appointmentPageFor(w http.ResponseWriter, r *http.Request, aid int64, status int, f *ui.Form) error {
	a, err := s.support.Get(r.Context(), principal(r), aid)
	if err != nil {
		return err
	}
	p := principal(r)
	d := appointmentData{Appointment: a, Staff: !(p.PersonID == a.PersonID && p.HasRole(app.RolePerson, app.RoleCarer)),
		Places: choiceOptions(support.Places), Lengths: appointmentLengths}
	for _, to := range a.Next {
		if to == support.Cancelled {
			d.Cancel = true
		} else {
			d.Moves = append(d.Moves, to)
		}
	}
	if d.Staff && !a.OtherWorker(p) && (a.Status == support.Arrived || a.Status == support.Fulfilled) {
		d.Record, d.Mode, d.SupportTypes = true, contactMode(a.Place), reasonOptions(referral.SupportTypes)
		d.Review = p.Can(app.PermRecoveryWork)
	}
	now := s.clock.Now()
	d.CheckIn, d.CheckOut = a.MayCheckIn(p, now), a.MayCheckOut(p)
	if a.Alert != nil && a.Alert.Resolved == nil {
		d.Alert, d.AlertOutcomes = a.Alert, reasonOptions(alert.LoneWorkingOutcomes)
	}
	if f == nil {
		f = ui.NewForm(nil)
	}
	back := "/my/appointments"
	if d.Staff {
		back = "/my/diary?week=" + a.Start.In(app.London).Format("2006-01-02")
	}
	title := "Appointment with " + a.WorkerName
	if d.Staff {
		title = "Appointment with " + a.PersonName
	}
	return s.page(w, r, status, "support/appointment", &ui.Page{Title: title, Form: f, Data: d, BackLink: back})
}

// moveLabels are the buttons that move an appointment on.
var moveLabels = map[support.Status]string{support.Booked: "Accept", support.Arrived: "Record that they arrived",
	support.Fulfilled: "Record that it happened", support.NoShow: "Record that they did not come"}

func (s *Server) handleAppointmentMove(w http.ResponseWriter, r *http.Request) error {
	aid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	m := support.Move{To: support.Status(f.Value("to")), Reason: f.Value("reason"), Version: int(formInt(f, "version"))}
	a, err := s.support.Transition(r.Context(), principal(r), aid, m)
	if err != nil {
		if err := bookingErrors(f, err); err != nil {
			return err
		}
		return s.appointmentPage(w, r, http.StatusUnprocessableEntity, f)
	}
	setFlash(w, "Appointment: "+strings.ToLower(a.Status.Label()))
	return redirect(w, r, fmt.Sprintf("/appointments/%d", a.ID))
}

func (s *Server) handleAppointmentReschedule(w http.ResponseWriter, r *http.Request) error {
	aid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	in := support.Reschedule{Start: formStart(f, &p), Reason: f.Value("move_reason"), Agreed: checked(f, "agreed")}
	if err := p.Err(); err != nil {
		formWithErrors(f, err)
		return s.appointmentPage(w, r, http.StatusUnprocessableEntity, f)
	}
	a, err := s.support.Move(r.Context(), principal(r), aid, in)
	if err != nil {
		if app.IsCode(err, app.CodeInvalid) {
			for _, fe := range app.As(err).Fields {
				if fe.Field == "reason" {
					f.AddError("move_reason", fe.Message)
				}
			}
		}
		if err := bookingErrors(f, err); err != nil {
			return err
		}
		return s.appointmentPage(w, r, http.StatusUnprocessableEntity, f)
	}
	setFlash(w, "Appointment moved to "+a.Start.In(app.London).Format("15:04 on Monday 2 January"))
	return redirect(w, r, fmt.Sprintf("/appointments/%d", a.ID))
}

func (s *Server) handleVisitCheck(in bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		aid, err := pathID(r, "id")
		if err != nil {
			return err
		}
		f, err := parseForm(w, r)
		if err != nil {
			return err
		}
		check, msg := s.support.CheckOut, "Checked out: your lead knows you are safe"
		if in {
			check, msg = s.support.CheckIn, "Checked in. Remember to check out when you leave"
		}
		if _, err := check(r.Context(), principal(r), aid); err != nil {
			if err := bookingErrors(f, err); err != nil {
				return err
			}
			return s.appointmentPage(w, r, http.StatusConflict, f)
		}
		setFlash(w, msg)
		return redirect(w, r, fmt.Sprintf("/appointments/%d", aid))
	}
}

func (s *Server) handleMyCalendar(w http.ResponseWriter, r *http.Request) error {
	st, err := s.support.MyFeed(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "support/calendar", &ui.Page{Title: "My calendar feed", Data: st})
}

func (s *Server) handleCalendarRenew(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	st, err := s.support.RenewFeed(r.Context(), principal(r))
	if err != nil {
		return err
	}
	// The address is shown once, on this answer, never in a redirect.
	return s.page(w, r, http.StatusOK, "support/calendar", &ui.Page{Title: "My calendar feed", Data: st})
}

func (s *Server) handleCalendarRevoke(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.support.RevokeFeed(r.Context(), principal(r)); err != nil {
		return err
	}
	setFlash(w, "Your calendar feed is off: its address no longer works")
	return redirect(w, r, "/my/calendar")
}

func (s *Server) handleCalendarFeed(w http.ResponseWriter, r *http.Request) error {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || token == "" {
		return app.NotFound("The calendar")
	}
	text, err := s.support.Feed(r.Context(), token)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="peer-support.ics"`)
	_, err = w.Write(text)
	return err
}
