package web

import (
	"time"

	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, handoverTplCases) }

// The person's choice of what a new worker sees (their page and staff's),
// a contact read as a summary, and a warm handover meeting on the
// appointment, booking and diary pages.
func handoverTplCases() []tplCase {
	r := tplReferral(referral.Active)
	none := referral.HandoverSharing{ReferralID: 42, Share: "summary"}
	chosen := referral.HandoverSharing{ReferralID: 42, Share: "none", Chosen: true, ChosenBy: "Priya Shah", Agreement: "Told me on the phone", ChosenAt: &tNow, Version: 2}
	mine := referral.MyReferral{Referral: r, Contacts: []referral.Contact{}, CanChangeSharing: true, Handover: &none,
		Own: referral.OwnReferral{ID: 42, Reference: r.Reference, Status: r.Status, StatusText: "Peer support has started.", PersonName: "Sam", MadeBy: "You", ReceivedAt: tEarlier, Version: 3}}
	d := tplDetail(referral.Active)
	d.Handover, d.MayRecordHandover = &chosen, true
	d.Contacts = []referral.Contact{{ID: 9, ReferralID: 42, At: tEarlier, WorkerName: "Kofi Asante", Mode: "phone", SupportTypes: []string{"emotional"}, HistorySummary: true}}
	meeting := exampleAppointment
	meeting.Start, meeting.End = tNow, tNow.Add(time.Hour)
	meeting.HandoverWorkerID, meeting.HandoverWorkerName = 13, "Jo Newman"
	return []tplCase{
		{page: "own/referral", variant: "handover: no choice yet", pg: &ui.Page{Title: "Your request for peer support", Form: formOf("handover_share", "summary", "handover_version", "0"), Data: mine},
			want: []string{`action="/my/referrals/42/handover-sharing#handover"`, `name="handover_share"`, `value="summary" checked`, "You have not chosen yet, so a new worker would see a summary only",
				`name="handover_version" value="0"`}},
		{page: "own/referral", variant: "handover: stale", pg: &ui.Page{Title: "Your request for peer support",
			Form: withErrors(formOf("handover_share", "all", "handover_version", "1"), "handover_share", "The choice was changed by someone else. Look at it again."), Data: mine},
			want: []string{"The choice was changed by someone else", `value="all" checked`, `href="#handover_share"`}},
		{page: "referral/referral", variant: "handover chosen, summary contact", pg: &ui.Page{Title: "Referral MUT-2026-0042",
			Form: withErrors(formOf("version", "3", "handover_share", "all", "handover_version", "2"), "handover_agreement", "Say on whose say this is recorded, for example when the person told you"),
			Data: tplReferralView(d, "handover")},
			want: []string{`action="/referrals/42/handover-sharing#handover"`, "The person chose: <strong>none of the contacts: a fresh start</strong>", "Told me on the phone",
				"Summary only: the person did not agree to share notes", `name="handover_agreement"`, "Say on whose say this is recorded", "on their say"}},
		{page: "referral/referral", variant: "change the worker: book a warm handover", pg: &ui.Page{Title: "Referral MUT-2026-0042", Form: formOf("version", "3"),
			Data: tplReferralView(tplDetail(referral.Active, referral.Allocated), "allocated")},
			want: []string{`href="/people/7/appointments/new">Book a warm handover</a>`}},
		{page: "referral/contact", variant: "summary only", pg: &ui.Page{Title: "Contact", Form: formOf(),
			Data: contactPageData{ContactDetail: referral.ContactDetail{Contact: d.Contacts[0], Reference: "MUT-2026-0042", PersonName: "Sam"}}},
			want: []string{"Summary only: recorded before you took over"}},
		{page: "support/appointment", variant: "warm handover", pg: &ui.Page{Title: "Appointment with Sam", Data: appointmentData{Appointment: meeting, Staff: true}},
			want: []string{"Warm handover", "With Kofi Asante and Jo Newman"}},
		{page: "support/diary", variant: "warm handover", pg: &ui.Page{Title: "My diary: week of 23 March 2026",
			Data: diaryData{WeekDiary: WeekDiary{WorkerID: 13, Days: []DiaryDay{{Date: tNow, Appointments: []support.Appointment{meeting}}}}, Prev: "2026-03-16", Next: "2026-03-30", This: "2026-03-23"}},
			want: []string{"Warm handover with Kofi Asante"}},
		{page: "support/appointment-new", variant: "warm handover", pg: &ui.Page{Title: "Arrange an appointment with Sam",
			Form: withErrors(formOf("minutes", "60", "place", "team_base", "handover_worker_id", "13"), "", "Jo Newman (the incoming peer worker) is already booked from 10:00 on Tuesday 3 November to 11:00. Choose another time."),
			Data: appointmentFormData{Booking: support.Booking{PersonID: 7, PersonName: "Sam", WorkerName: "Kofi Asante"}, Places: choiceOptions(support.Places), Lengths: appointmentLengths,
				HandoverWorkers: []ui.Option{{Value: "", Label: "No: an ordinary appointment"}, {Value: "13", Label: "Jo Newman"}}}},
			want: []string{`name="handover_worker_id"`, `value="13" selected`, "Is it a warm handover?", "Jo Newman (the incoming peer worker) is already booked"}},
		{page: "support/my-appointments", variant: "warm handover", pg: &ui.Page{Title: "My appointments", Form: formOf("minutes", "60"),
			Data: myAppointmentsData{Upcoming: []support.Appointment{meeting}, Places: choiceOptions(support.Places), Lengths: appointmentLengths}},
			want: []string{"with Kofi Asante and Jo Newman (a warm handover)"}},
	}
}
