package web

import (
	"net/url"

	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, groupsTplCases) }

func groupsTplCases() []tplCase {
	g := exampleGroup
	manage := g
	manage.Manage = true
	manage.InviteCode = "abc"
	full := exampleSession
	full.PlacesLeft, full.Waiting = 0, 4
	cancelled := exampleSession
	cancelled.ID, cancelled.Status, cancelled.CancelReason = 32, "cancelled", "The venue is closed"
	manage.Sessions = []groups.Session{exampleSession, cancelled}
	online := g
	online.Venue = groups.Venue{Online: true, OnlineLink: "https://meet.example.org/x"}
	booked := exampleBooking
	booked.Status, booked.Position = "booked", 0
	offered := exampleBooking
	offered.Offer = &groups.Offer{ID: 9, BookingID: 77, Places: 1, OfferedAt: exampleTime, ExpiresAt: exampleTime.Add(24 * 60 * 60 * 1e9), Status: "open"}
	gone := exampleBooking
	gone.Status, gone.Position = "expired", 0
	places := []ui.Option{{Value: "1", Label: "Just me"}, {Value: "2", Label: "Me and 1 other person"}}
	sessionData := func(s groups.Session, signedIn bool) sessionPageData {
		return sessionPageData{SessionDetail: groups.SessionDetail{Session: s, Group: g}, SignedIn: signedIn, Places: places, CanBook: true}
	}
	participant := groups.Participant{Booking: booked, Outcome: "attended", NoShows: 1}
	waiting := groups.Participant{Booking: offered}
	pd := participantsData{Participants: groups.Participants{Session: exampleSession, Group: manage, Booked: []groups.Participant{participant},
		Waiting: []groups.Participant{waiting}, Cancelled: []groups.Participant{{Booking: gone}}, DropIns: []groups.DropIn{{Name: "J", People: 2}},
		Register: &exampleTime, CanManage: true, CanRegister: true},
		Outcomes:    []ui.Option{{Value: "attended", Label: "Came"}, {Value: "no_show", Label: "Did not come"}},
		WaitingList: []ui.Option{{Value: "77", Label: "2. Sam"}}, Staff: []ui.Option{{Value: "8", Label: "Alex Peer"}, {Value: "9", Label: "Priya Shah"}}}
	formData := groupFormData{Teams: []ui.Option{{Value: "3", Label: "North Community Team"}}, Repeats: choiceOptions(groups.RepeatChoices),
		Visibility: choiceOptions(groups.VisibilityChoices), Booking: choiceOptions(groups.BookingChoices),
		Access:       []ui.Option{{Value: "step_free", Label: "Step-free access"}},
		Facilitators: []ui.Option{{Value: "8", Label: "Alex Peer"}}}
	editData := formData
	editData.Group, editData.Teams = manage, nil
	insight := groups.GroupInsight{From: "2026-05-01", To: "2026-11-02", Threshold: 5, Unmet: []string{"Hearing Voices Group"},
		Months: []groups.GroupMonth{{GroupID: 5, Title: "Hearing Voices Group", Month: "2026-10", Sessions: 4, Places: 48, BookingsText: "44",
			AttendedText: "39", NoShowsText: "<5", LateText: "0", UnplacedText: "6", HoursText: "30h"}}}
	proposals := []groups.Proposal{exampleProposal, {ID: 5, Title: "Poetry", Status: "not_taken_up", Answer: "No facilitator yet", Interest: 2, CreatedAt: exampleTime}}
	return []tplCase{
		{page: "groups/groups", pg: &ui.Page{Title: "Groups and events", Form: ui.NewForm(url.Values{}),
			Data: groupsData{Groups: []groups.Group{g}, Running: []groups.Session{full}, CanManage: true, Teams: []ui.Option{{Value: "", Label: "All"}}}},
			want: []string{"3 places left", "Full: waiting list (4 waiting)", "/groups.ics", "/groups/feed.xml", "Make a group or event"}},
		{page: "groups/groups", variant: "none", pg: &ui.Page{Title: "Groups and events", Form: formOf("q", "knitting"), Data: groupsData{}},
			want: []string{"no groups or events coming up that match"}},
		{page: "groups/group-new", pg: &ui.Page{Title: "Make a group or event", Form: formOf("proposal_id", "4"), Data: formData},
			want: []string{"takes up a proposal"}},
		{page: "groups/group-new", variant: "with problems", pg: &ui.Page{Title: "Make a group or event",
			Form: withErrors(formOf("capacity", "x"), "title", "Enter the group's name", "capacity", "Places must be a whole number, like 12",
				"venue.name", "Enter where it meets, or say it is online", "repeats", "Choose how often it meets"), Data: formData}},
		{page: "groups/group-edit", pg: &ui.Page{Title: "Change " + g.Title, Form: ui.NewForm(groupValues(manage)), Data: editData},
			want: []string{"Save changes", "Places at each new session", `value="Hearing Voices Group"`}, notWant: []string{"Which team runs it?"}},
		{page: "groups/group-edit", variant: "with problems", pg: &ui.Page{Title: "Change " + g.Title,
			Form: withErrors(formOf("title", ""), "", "Someone else changed this group since you opened it.", "title", "Enter the group's name"), Data: editData},
			want: []string{"Someone else changed this group", "Enter the group"}},
		{page: "groups/group", pg: &ui.Page{Title: g.Title, Form: ui.NewForm(nil), Data: groupPageData{Group: g, FeedLink: "/groups.ics?team=3"}},
			want: []string{"Step-free access", "Book", "No referral needed"}, notWant: []string{"Add sessions"}},
		{page: "groups/group", variant: "lead", pg: &ui.Page{Title: g.Title, Data: groupPageData{Group: manage, InviteLink: "https://x/groups/5?invite=abc",
			Repeats: choiceOptions(groups.RepeatChoices)},
			Form: withErrors(formOf("minutes", "90"), "start", "Enter the date of the first session", "start-time", "Enter the start time like 10:30")},
			want: []string{"Add sessions", "Cancelled", "Participants", "invite=abc", "/groups/5/edit"}},
		{page: "groups/group", variant: "online", pg: &ui.Page{Title: g.Title, Form: ui.NewForm(nil), Data: groupPageData{Group: online}},
			want: []string{"Online"}},
		{page: "groups/session", pg: &ui.Page{Title: "Hearing Voices Group: Tuesday 10 November 2026 at 10:30am", Form: formOf("places", "1"),
			Data: sessionData(exampleSession, false)}, want: []string{"Your name", `name="website"`, "Book a place"}},
		{page: "groups/session", variant: "full, with problems", pg: &ui.Page{Title: "Hearing Voices Group: Tuesday",
			Form: withErrors(formOf("name", "Sam"), "email", "Enter an email address or a phone number, so the team can tell you if anything changes",
				"places", "You can book up to 2 places at this group"), Data: sessionData(full, false)},
			want: []string{"Join the waiting list", `value="Sam"`}},
		{page: "groups/session", variant: "signed in", pg: &ui.Page{Title: "Hearing Voices Group: Tuesday", Form: formOf("places", "1"),
			Data: sessionData(exampleSession, true)}, notWant: []string{"Your name"}},
		{page: "groups/session", variant: "staff may share, with problems", pg: &ui.Page{Title: "Hearing Voices Group: Tuesday",
			Form: withErrors(formOf("places", "1", "space_id", "3", "topic_id", "x"), "topic_id", "A topic's number is a whole number, from the end of its address"),
			Data: func() sessionPageData {
				d := sessionData(exampleSession, true)
				d.Spaces = []ui.Option{{Value: "", Label: "Choose a space"}, {Value: "3", Label: "Staff room (invitation only)"}}
				return d
			}()},
			want: []string{"Share in the community", `action="/sessions/`, "Staff room (invitation only)", "A topic&#39;s number is a whole number", `value="x"`}},
		{page: "groups/session", variant: "cancelled", pg: &ui.Page{Title: "Hearing Voices Group: Tuesday", Form: ui.NewForm(nil),
			Data: sessionPageData{SessionDetail: groups.SessionDetail{Session: cancelled, Group: g}, NotBooking: "This session has been cancelled: The venue is closed"}},
			want: []string{"The venue is closed"}, notWant: []string{`action="/sessions/32/book"`}},
		{page: "groups/booking", pg: &ui.Page{Title: "Booking GRP-7KQ3-X9PD", Form: ui.NewForm(nil),
			Data: bookingPageData{Booking: exampleBooking, Key: "k", Link: "https://x/bookings/77?key=k", Calendar: "/bookings/77/calendar.ics?key=k"}},
			want: []string{"number 2 on the waiting list", "Leave the waiting list", "because: a carer&#39;s only free day", "(by the team)", "Keep this link"}},
		{page: "groups/booking", variant: "offered", pg: &ui.Page{Title: "Booking GRP-7KQ3-X9PD", Form: withErrors(ui.NewForm(nil), "", "This offer has ended"),
			Data: bookingPageData{Booking: offered, Key: "k"}}, want: []string{"Yes, I will come", "/offers/9/decline"}},
		{page: "groups/booking", variant: "booked", pg: &ui.Page{Title: "Booking GRP-7KQ3-X9PD", Form: ui.NewForm(nil),
			Data: bookingPageData{Booking: booked, Calendar: "/bookings/77/calendar.ics", Mine: true}}, want: []string{"You have a place", "Add it to your calendar", "Cancel my booking"}},
		{page: "groups/booking", variant: "gone", pg: &ui.Page{Title: "Booking GRP-7KQ3-X9PD", Form: ui.NewForm(nil), Data: bookingPageData{Booking: gone}},
			want: []string{"not taken up in time"}, notWant: []string{"Cancel my booking"}},
		{page: "groups/participants", pg: &ui.Page{Title: "Participants: Hearing Voices Group", Form: formOf("outcome-77", "attended"), Data: pd},
			want: []string{"Save the register", "Move someone on the list", "Held until", "(2 people)", "nobody is stopped from booking", "Change facilitators"}},
		{page: "groups/participants", variant: "with problems", pg: &ui.Page{Title: "Participants: Hearing Voices Group",
			Form: withErrors(ui.NewForm(nil), "reason", "Say why: the person will see the reason", "capacity", "3 places are booked or held for people offered them: places cannot be fewer",
				"cancel_reason", "Say why it is cancelled: everyone booked will see the reason", "dropin_people", "How many must be a whole number, like 12",
				"facilitator_ids", "Choose at least one facilitator"), Data: pd}},
		{page: "groups/participants", variant: "empty", pg: &ui.Page{Title: "Participants: Hearing Voices Group", Form: ui.NewForm(nil),
			Data: participantsData{Participants: groups.Participants{Session: exampleSession, Group: g, CanRegister: true}}},
			want: []string{"Nobody has booked yet", "Nobody is waiting"}},
		{page: "groups/my-groups", pg: &ui.Page{Title: "Your groups and events", Data: []groups.Booking{booked, offered, gone}},
			want: []string{"Booked", "A place is offered to you", "Offer ended"}},
		{page: "groups/my-groups", variant: "none", pg: &ui.Page{Title: "Your groups and events", Data: []groups.Booking{}}, want: []string{"You have no bookings"}},
		{page: "groups/insight", pg: &ui.Page{Title: "Groups and events: who comes, and who waits", Form: formOf("from", "2026-05-01"), Data: groupInsightData{Insight: insight}},
			want: []string{"&lt;5", "never got a place: Hearing Voices Group"}},
		{page: "groups/insight", variant: "bad dates", pg: &ui.Page{Title: "Groups and events: who comes, and who waits",
			Form: withErrors(formOf("from", "x"), "from", "from must be a date like 2026-01-01"), Data: groupInsightData{Insight: groups.GroupInsight{Threshold: 5}}},
			want: []string{"No sessions were held"}},
		{page: "groups/network", pg: &ui.Page{Title: "The peer network: ideas for activities", Form: ui.NewForm(nil),
			Data: networkData{Proposals: proposals, CanAnswer: true, Outcomes: []ui.Option{{Value: "taken_up", Label: "Yes"}, {Value: "not_taken_up", Label: "No"}}}},
			want: []string{"I would come", "Answer this idea", "Not for now", "7 people interested"}},
		{page: "groups/network", variant: "with problems", pg: &ui.Page{Title: "The peer network: ideas for activities",
			Form: withErrors(ui.NewForm(nil), "title", "Enter the activity you would like, in a few words", "answer-4", "Write the answer: what happens next, or why not"),
			Data: networkData{Proposals: proposals, CanAnswer: true, Answering: 4, Outcomes: []ui.Option{{Value: "taken_up", Label: "Yes"}}}}},
	}
}
