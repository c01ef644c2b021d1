package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/support"
)

// Examples for the support operations.
var (
	exampleAppointment = support.Appointment{ID: 51, PersonID: 7, PersonName: "Sam", ReferralID: 42, TeamID: 3, WorkerID: 12, WorkerName: "Kofi Asante",
		Start: exampleTime, End: exampleTime.Add(time.Hour), Minutes: 60, Place: "community", PlaceDetail: "The café by the library",
		Status: support.Booked, AskedBy: support.SideWorker, Version: 2}
	exampleMyPerson = support.MyPerson{PersonID: 7, Name: "Sam", ReferralID: 42, Status: "active", Next: &exampleAppointment,
		LastContact: &exampleTime, DaysSince: 16, Overdue: true, OverdueDays: 14, AllocatedAt: exampleTime.Add(-60 * 24 * time.Hour),
		Preferences: support.Preferences{Places: []string{"community", "phone"}, Times: []string{"morning"}}}
)

var opCreateAppointment = APIOp{Summary: "Propose an appointment (a worker, with someone they support), or ask for one (a person, with their own worker)", Tag: "Support",
	Status: http.StatusCreated,
	Description: "It is with the person's allocated worker, at the person's first chosen place unless place is given. A worker already booked then answers 409 " +
		"saying when — also when two bookings for one slot arrive at once: exactly one wins.",
	Request:  support.NewAppointment{PersonID: 7, Start: exampleTime, Minutes: 60, Place: "community", PlaceDetail: "The café by the library"},
	Response: exampleAppointment}

var opListAppointments = APIOp{Summary: "Appointments you may see: your own, or (staff) those with the people you support, soonest first", Tag: "Support",
	Query: []Param{{Name: "worker", In: "query", Type: "integer", Description: "Only this worker's."},
		{Name: "person", In: "query", Type: "integer", Description: "Only with this person."},
		{Name: "from", In: "query", Type: "string", Description: "Ending after this day, YYYY-MM-DD (Europe/London)."},
		{Name: "to", In: "query", Type: "string", Description: "Starting before the end of this day, YYYY-MM-DD."}},
	Response: []support.Appointment{exampleAppointment}}

var opGetAppointment = APIOp{Summary: "One appointment", Tag: "Support", Query: id, Response: exampleAppointment}

var opMoveAppointment = APIOp{Summary: "Move an appointment on: booked, arrived, fulfilled, cancelled (with a reason) or noshow", Tag: "Support", Query: id,
	Description: "The person accepts a proposal or cancels; the worker books, records arrived, happened or did not attend (not before 30 minutes before the start), or cancels. " +
		"A version that is not the latest answers 409.",
	Request: support.Move{To: support.Cancelled, Reason: "Feeling unwell", Version: 2}, Response: exampleAppointment}

var opRescheduleAppointment = APIOp{Summary: "Reschedule an appointment with the same worker", Tag: "Support", Query: id, Status: http.StatusCreated,
	Description: "The old appointment is cancelled (\"Rescheduled\" and the reason) and the new one proposed to the other side — or booked at once when staff record the person agreed.",
	Request:     support.Reschedule{Start: exampleTime.Add(48 * time.Hour), Reason: "A hospital appointment that morning"}, Response: exampleAppointment}

var opCheckIn = APIOp{Summary: "Check in to a visit at home or in the community (the visit's worker)", Tag: "Support", Query: id,
	Description: "From an hour before the visit starts. A visit not checked out by its end and the organisation's grace period (30 minutes unless set) alerts the worker's leads.",
	Response:    exampleAppointment}

var opCheckOut = APIOp{Summary: "Check out of a visit: the worker is safe", Tag: "Support", Query: id,
	Description: "An alert already raised stays until a lead records what they did.", Response: exampleAppointment}

func (s *Server) apiVisitCheck(in bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		aid, err := pathID(r, "id")
		if err != nil {
			return err
		}
		check := s.support.CheckOut
		if in {
			check = s.support.CheckIn
		}
		a, err := check(r.Context(), principal(r), aid)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, a)
	}
}

var opMyFeed = APIOp{Summary: "Whether your private calendar feed is on", Tag: "Support", Response: support.FeedStatus{On: true, Since: &exampleTime}}

var opRenewFeed = APIOp{Summary: "Turn on your private calendar feed, or give it a new address (the old one stops working)", Tag: "Support",
	Response: support.FeedStatus{On: true, Since: &exampleTime, URL: "https://mutual.example/calendar/3q2-example-token.ics"}}

var opCalendarFeed = APIOp{Summary: "Your private calendar feed, at its secret address: subscribe to it in a calendar program", Tag: "Feeds",
	Path: "/calendar/{token}.ics",
	Query: []Param{{Name: "token", In: "path", Type: "string",
		Description: "The secret part of the address given when the feed was turned on or renewed (POST /api/v1/my/calendar)."}},
	Description: "iCalendar (RFC 5545) of the account's appointments, past and to come, without proposals: \"Peer support with <first name>\" for a worker, " +
		"\"Peer support\" for a person, never the place; times in Europe/London across the clocks changing; a cancelled appointment is STATUS:CANCELLED. " +
		"The address is the credential (no sign-in). An unknown, renewed or revoked address answers 404. Each read is audited as the feed's account.",
	ContentType: "text/calendar", Response: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mutual//Peer support groups//EN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Peer support\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n…\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:appointment-51@mutual\r\n" +
		"DTSTART;TZID=Europe/London:20261110T103000\r\nDTEND;TZID=Europe/London:20261110T113000\r\nSUMMARY:Peer support with Sam\r\n" +
		"STATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"}

var opRevokeFeed = APIOp{Summary: "Turn off your private calendar feed", Tag: "Support", Status: http.StatusNoContent}

func (s *Server) apiMyFeed(w http.ResponseWriter, r *http.Request) error {
	st, err := s.support.MyFeed(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) apiRenewFeed(w http.ResponseWriter, r *http.Request) error {
	st, err := s.support.RenewFeed(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) apiRevokeFeed(w http.ResponseWriter, r *http.Request) error {
	if err := s.support.RevokeFeed(r.Context(), principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var opMyTransitions = APIOp{Summary: "Transitions to act on for the people you support: ward admissions, discharges, 17th birthdays on a CAMHS caseload", Tag: "Support",
	Description: "Raised from the trust's record by a background job, once per episode. A visit or a discharge follow-up is done with a contact or an appointment that happened since it was raised, or when the worker marks it done (POST /api/v1/transition-prompts/{id}/done); a CAMHS transition plan only when marked. Overdue when not done by its day (the organisation's discharge follow-up days after discharge, 7 unless set).",
	Response:    []support.TransitionPrompt{{ID: 3, Kind: support.PromptDischargeFollowUp, PersonID: 7, PersonName: "Sam", ReferralID: 42, Due: exampleTime, Overdue: true}}}

var opPromptDone = APIOp{Summary: "Mark a transition prompt done, saying what was done (the person's worker)", Tag: "Support", Query: id,
	Description: "Once: a prompt already marked is 409 and keeps its first note. A CAMHS transition plan is done only this way; a visit or a follow-up is also done by a contact recorded since it was raised.",
	Request:     support.PromptDone{Note: "Transition plan agreed with the adult team"},
	Response:    support.TransitionPrompt{ID: 3, Kind: support.PromptCAMHSTransition, PersonID: 7, PersonName: "Sam", ReferralID: 42, Due: exampleTime, Done: true, DoneAt: &exampleTime, DoneNote: "Transition plan agreed with the adult team"}}

func (s *Server) apiPromptDone(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in support.PromptDone
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.support.MarkPromptDone(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiMyTransitions(w http.ResponseWriter, r *http.Request) error {
	list, err := s.support.MyPrompts(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

var exampleReminders = support.Reminders{PersonID: 7, Choice: support.RemindBoth, UpdatedAt: &exampleTime}

var opMyReminders = APIOp{Summary: "When you are reminded of your booked appointments", Tag: "Support",
	Description: "24h (the day before; the default, with default true, until you choose), 2h (2 hours before), both, or none. Reminders are emails with a calendar file: a reference, the time and a link, never the place or the worker.",
	Response:    exampleReminders}

var opSetMyReminders = APIOp{Summary: "Choose when you are reminded of your booked appointments: 24h, 2h, both or none", Tag: "Support",
	Description: "It applies at once to every booked appointment not yet reminded of that kind. Both, for an appointment booked within 2 hours of its start, sends the one reminder 2 hours before.",
	Request:     support.SetReminders{Choice: support.RemindBoth}, Response: exampleReminders}

var opPersonReminders = APIOp{Summary: "When someone you support is reminded of their booked appointments", Tag: "Support", Query: id,
	Description: "Their peer worker, or a lead of the team, sees it; anyone else gets 404.", Response: exampleReminders}

var opSetPersonReminders = APIOp{Summary: "Record, for someone you support, when they want to be reminded: 24h, 2h, both or none", Tag: "Support", Query: id,
	Description: "Recorded as done by staff (by_staff); the person sees it and can change it from their account.",
	Request:     support.SetReminders{Choice: support.RemindSoon}, Response: support.Reminders{PersonID: 7, Choice: support.RemindSoon, UpdatedAt: &exampleTime, ByStaff: true}}

// remindersPerson reads the person in the path (forPerson), or 0 for the
// caller's own.
func remindersPerson(r *http.Request, forPerson bool) (int64, error) {
	if !forPerson {
		return 0, nil
	}
	return pathID(r, "id")
}

func (s *Server) apiGetReminders(forPerson bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		pid, err := remindersPerson(r, forPerson)
		if err != nil {
			return err
		}
		rem, err := s.support.GetReminders(r.Context(), principal(r), pid)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, rem)
	}
}

func (s *Server) apiSetReminders(forPerson bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		pid, err := remindersPerson(r, forPerson)
		if err != nil {
			return err
		}
		var in support.SetReminders
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		rem, err := s.support.SetReminders(r.Context(), principal(r), pid, in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, rem)
	}
}

var opMyPeople = APIOp{Summary: "My people: everyone allocated to, or active with, you — next and last contact, days since, overdue", Tag: "Support",
	Description: "Overdue (no contact for the organisation's overdue_days, 14 unless set) first, then the longest since contact.",
	Response:    []support.MyPerson{exampleMyPerson}}

var opMyDiary = APIOp{Summary: "My diary: your appointments and the group sessions you facilitate in one week, Monday to Sunday (Europe/London)", Tag: "Support",
	Description: "Each day lists its appointments and, as a kind of their own (kind: group_session), the group sessions you facilitate, with the group's name and venue; " +
		"each group session's page is /sessions/{session_id}. Days run from one London midnight to the next, so times stay right across the clocks changing.",
	Query: []Param{{Name: "week", In: "query", Type: "string", Description: "Any day of the week, YYYY-MM-DD; this week when left out."}},
	Response: WeekDiary{WorkerID: 12, From: exampleTime, To: exampleTime.Add(7 * 24 * time.Hour), Days: []DiaryDay{{Date: exampleTime,
		Appointments: []support.Appointment{exampleAppointment},
		GroupSessions: []groups.DiarySession{{Kind: "group_session", SessionID: 31, GroupID: 5, GroupTitle: "Hearing Voices Group",
			Start: exampleTime.Add(3 * time.Hour), End: exampleTime.Add(5 * time.Hour), Venue: "Recovery College", Status: "scheduled"}}}}}}

var opGetSupportSettings = APIOp{Summary: "An organisation's support settings", Tag: "Support", Query: id,
	Response: support.Settings{OrganisationID: 1, OverdueDays: 14, Default: true}}

var opPutSupportSettings = APIOp{Summary: "Change an organisation's support settings", Tag: "Support", Query: id,
	Request: support.Settings{OverdueDays: 10}, Response: support.Settings{OrganisationID: 1, OverdueDays: 10}}

func (s *Server) apiCreateAppointment(w http.ResponseWriter, r *http.Request) error {
	var in support.NewAppointment
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.support.Create(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/appointments/"+strconv.FormatInt(a.ID, 10))
	return writeJSON(w, http.StatusCreated, a)
}

// londonDay reads an optional YYYY-MM-DD query value as midnight in
// Europe/London, or the zero time.
func londonDay(q url.Values, name string) (time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, app.London)
	if err != nil {
		return t, app.Invalid(app.FieldError{Field: name, Message: name + " must be a date like 2026-11-02"})
	}
	return t, nil
}

func (s *Server) apiListAppointments(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f support.Filter
	var err error
	if f.WorkerID, err = queryID(q, "worker"); err != nil {
		return err
	}
	if f.PersonID, err = queryID(q, "person"); err != nil {
		return err
	}
	if f.From, err = londonDay(q, "from"); err != nil {
		return err
	}
	if f.To, err = londonDay(q, "to"); err != nil {
		return err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1)
	}
	list, err := s.support.List(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiGetAppointment(w http.ResponseWriter, r *http.Request) error {
	aid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.support.Get(r.Context(), principal(r), aid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiMoveAppointment(w http.ResponseWriter, r *http.Request) error {
	aid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var m support.Move
	if err := decodeJSON(r, &m); err != nil {
		return err
	}
	a, err := s.support.Transition(r.Context(), principal(r), aid, m)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiRescheduleAppointment(w http.ResponseWriter, r *http.Request) error {
	aid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in support.Reschedule
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.support.Move(r.Context(), principal(r), aid, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/appointments/"+strconv.FormatInt(a.ID, 10))
	return writeJSON(w, http.StatusCreated, a)
}

func (s *Server) apiMyPeople(w http.ResponseWriter, r *http.Request) error {
	people, err := s.support.MyPeople(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, people)
}

func (s *Server) apiMyDiary(w http.ResponseWriter, r *http.Request) error {
	week, err := s.diaryWeek(r)
	if err != nil {
		return err
	}
	d, err := s.weekDiary(r.Context(), principal(r), week)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiGetSupportSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	set, err := s.support.GetSettings(r.Context(), principal(r), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, set)
}

func (s *Server) apiPutSupportSettings(w http.ResponseWriter, r *http.Request) error {
	org, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in support.Settings
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	set, err := s.support.SetSettings(r.Context(), principal(r), org, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, set)
}
