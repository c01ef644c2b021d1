package web

import (
	"net/url"
	"time"

	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, supportTplCases) }

func supportTplCases() []tplCase {
	booked := exampleAppointment
	booked.Start, booked.End = tNow, tNow.Add(time.Hour)
	proposed := booked
	proposed.ID, proposed.Status, proposed.Next = 52, support.Proposed, []support.Status{support.Booked, support.Cancelled}
	cancelled := booked
	cancelled.ID, cancelled.Status, cancelled.CancelledBy, cancelled.CancelReason = 53, support.Cancelled, support.SidePerson, "Feeling unwell"
	worker := booked
	worker.Next = []support.Status{support.Arrived, support.Fulfilled, support.NoShow, support.Cancelled}
	person := exampleMyPerson
	never := support.MyPerson{PersonID: 8, Name: "Alex", ReferralID: 43, Status: "allocated", DaysSince: 3, NeverMet: true, OverdueDays: 14}
	days := []DiaryDay{{Date: tNow, Appointments: []support.Appointment{booked, proposed, cancelled},
		GroupSessions: []groups.DiarySession{{Kind: "group_session", SessionID: 31, GroupID: 5, GroupTitle: "Hearing Voices Group", Start: tNow.Add(time.Hour),
			End: tNow.Add(3 * time.Hour), Venue: "Recovery College", Status: "scheduled"}}}, {Date: tNow.AddDate(0, 0, 1), Appointments: []support.Appointment{}}}
	places, lengths := choiceOptions(support.Places), appointmentLengths
	promptBad := ui.NewForm(url.Values{"prompt_id": {"3"}, "note": {"typed"}})
	promptBad.AddError("note", "Say in a few words what was done")
	return []tplCase{
		{page: "support/people", variant: "two people", pg: &ui.Page{Title: "My people", Data: []support.MyPerson{person, never}},
			want: []string{"Overdue", "Not met yet", "Arrange an appointment", "at a café or community place"}},
		{page: "support/transitions", pg: &ui.Page{Title: "Transitions to act on", Data: []support.TransitionPrompt{
			{ID: 1, Kind: support.PromptDischargeFollowUp, PersonName: "Sam", ReferralID: 42, Due: tNow, Overdue: true},
			{ID: 2, Kind: support.PromptInReach, PersonName: "Alex", ReferralID: 43, Due: tNow, Done: true},
			{ID: 3, Kind: support.PromptCAMHSTransition, PersonName: "Jo", ReferralID: 44, Due: tNow},
			{ID: 4, Kind: support.PromptCAMHSTransition, PersonName: "Kit", ReferralID: 45, Due: tNow, Done: true, DoneAt: &tNow, DoneNote: "Plan agreed with the adult team"}}},
			want: []string{`href="/referrals/42"`, "Discharged: follow up", "Overdue", "in-reach visit", "adult team", `action="/my/transitions/3/done"`,
				`id="prompt-3-note"`, "Marked done", "Plan agreed with the adult team"}, notWant: []string{`action="/my/transitions/4/done"`, `action="/my/transitions/2/done"`, " open>"}},
		{page: "support/transitions", variant: "a problem", pg: &ui.Page{Title: "Transitions to act on", Form: promptBad,
			Data: []support.TransitionPrompt{{ID: 3, Kind: support.PromptCAMHSTransition, PersonName: "Jo", ReferralID: 44, Due: tNow}}},
			want: []string{`id="note"`, " open>", "typed", "Say in a few words what was done"}},
		{page: "support/transitions", variant: "none", pg: &ui.Page{Title: "Transitions to act on", Data: []support.TransitionPrompt{}}, want: []string{"Nothing to act on"}},
		{page: "support/people", variant: "no one", pg: &ui.Page{Title: "My people", Data: []support.MyPerson{}}, want: []string{"No one is allocated"}},
		{page: "support/diary", variant: "a week", pg: &ui.Page{Title: "My diary: week of 23 March 2026", Data: diaryData{WeekDiary: WeekDiary{Days: days},
			Prev: "2026-03-16", Next: "2026-03-30", This: "2026-03-23"}}, want: []string{"14:30–15:30", "Cancelled", "Waiting for an answer", "Nothing arranged",
			`href="/sessions/31"`, "Group: Hearing Voices Group", "Recovery College", `class="app-week"`}},
		{page: "support/appointment", variant: "person answers", pg: &ui.Page{Title: "Appointment with Kofi Asante",
			Data: appointmentData{Appointment: proposed, Moves: []support.Status{support.Booked}, Cancel: true, Places: places, Lengths: lengths}},
			want: []string{"Accept", "Cancel the appointment", "Move the appointment"}, notWant: []string{"has agreed the new time"}},
		{page: "support/appointment", variant: "worker records", pg: &ui.Page{Title: "Appointment with Sam", Form: withErrors(formOf("to", "cancelled"), "reason", "Say why the appointment is cancelled"),
			Data: appointmentData{Appointment: worker, Staff: true, Moves: []support.Status{support.Arrived, support.Fulfilled, support.NoShow}, Cancel: true}},
			want: []string{"Record that they arrived", "Say why the appointment is cancelled", "has agreed the new time"}},
		{page: "support/appointment", variant: "record what happened", pg: &ui.Page{Title: "Appointment with Sam",
			Data: appointmentData{Appointment: func() support.Appointment { a := booked; a.Status = support.Fulfilled; return a }(), Staff: true,
				Record: true, Mode: "in_person", SupportTypes: []ui.Option{{Value: "emotional", Label: "Emotional"}}}},
			want: []string{"Record what happened", `name="contact_at-time" value="14:30"`, "Sam can read this note"}},
		{page: "support/appointment", variant: "lone worker not checked out", pg: &ui.Page{Title: "Appointment with Sam",
			Data: appointmentData{Appointment: func() support.Appointment {
				a := booked
				a.Place, a.Visit, a.CheckedIn, a.AlertedAt = "home", true, &tEarlier, &tNow
				return a
			}(), Staff: true, Alert: &alert.Alert{ID: 9, Kind: alert.LoneWorking, Reference: "V-51", RaisedAt: tNow, DueAt: tNow, Version: 1},
				AlertOutcomes: choiceOptions(alert.LoneWorkingOutcomes)}},
			want: []string{"did not check out of this visit in time", `action="/alerts/9/response"`, "Contacted the worker: they are safe", "They have not checked out yet"}},
		{page: "support/appointment", variant: "check in", pg: &ui.Page{Title: "Appointment with Sam",
			Data: appointmentData{Appointment: func() support.Appointment { a := booked; a.Place, a.Visit = "home", true; return a }(), Staff: true, CheckIn: true}},
			want: []string{`action="/appointments/51/check-in"`, "lone-working visit"}},
		{page: "support/appointment", variant: "cancelled", pg: &ui.Page{Title: "Appointment with Sam", Data: appointmentData{Appointment: cancelled, Staff: true}},
			want: []string{"Feeling unwell (by Sam)"}, notWant: []string{"Cancel the appointment"}},
		{page: "support/appointment-new", variant: "with choices", pg: &ui.Page{Title: "Arrange an appointment with Sam",
			Form: withErrors(formOf("minutes", "60", "place", "community"), "start", "The worker is already booked from 10:00 on Tuesday 3 November to 11:00. Choose another time."),
			Data: appointmentFormData{Booking: support.Booking{PersonID: 7, PersonName: "Sam", WorkerName: "Kofi Asante", Upcoming: []support.Appointment{booked}},
				Places: places, Lengths: lengths, Chosen: "at a café or community place"}},
			want: []string{"Sam chose to meet at a café", "already booked", "Already arranged"}},
		{page: "support/appointment-new", variant: "reminder choice refused", pg: &ui.Page{Title: "Arrange an appointment with Sam",
			Form: withErrors(formOf("minutes", "60", "choice", "weekly"), "choice", "Choose when to be reminded: the day before, 2 hours before, both, or no reminders"),
			Data: appointmentFormData{Booking: support.Booking{PersonID: 7, PersonName: "Sam", WorkerName: "Kofi Asante", Reminders: support.Reminders{Choice: support.RemindSoon}},
				Places: places, Lengths: lengths, ReminderChoices: choiceOptions(support.ReminderChoices)}},
			want: []string{"When Sam is reminded", "Now: 2 hours before", `action="/people/7/reminders"`, "Choose when to be reminded"}},
		{page: "support/my-appointments", variant: "upcoming and past", pg: &ui.Page{Title: "My appointments", Form: formOf("minutes", "60"),
			Data: myAppointmentsData{Upcoming: []support.Appointment{proposed}, Past: []support.Appointment{cancelled}, Places: places, Lengths: lengths}},
			want: []string{"Please answer", "Ask for this appointment", "Feeling unwell"}},
		{page: "support/my-appointments", variant: "reminder choice", pg: &ui.Page{Title: "My appointments", Form: formOf("minutes", "60", "choice", "both"),
			Data: myAppointmentsData{Places: places, Lengths: lengths, ReminderChoices: choiceOptions(support.ReminderChoices)}},
			want: []string{"When should we remind you?", `value="both" checked`, "No reminders", `action="/my/reminders"`}},
		{page: "support/calendar", variant: "just made", pg: &ui.Page{Title: "My calendar feed", Data: support.FeedStatus{On: true, Since: &tNow, URL: "https://mutual.test/calendar/abc.ics"}},
			want: []string{"https://mutual.test/calendar/abc.ics", "Turn the feed off"}},
		{page: "support/calendar", variant: "off", pg: &ui.Page{Title: "My calendar feed", Data: support.FeedStatus{}}, want: []string{"Turn on my calendar feed"}},
		{page: "support/my-appointments", variant: "nothing", pg: &ui.Page{Title: "My appointments", Form: formOf(), Data: myAppointmentsData{Places: places, Lengths: lengths}},
			want: []string{"Nothing arranged yet"}},
	}
}
