// Package calendar writes iCalendar (RFC 5545) for calendar programs: the
// Europe/London zone with its rules, events in it, CRLF line ends. Groups'
// booking files and feeds and support's appointment reminders use it.
package calendar

import (
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/mutualhq/mutual/internal/app"
)

// Calendars are iCalendar (RFC 5545) with CRLF line ends. Every time is
// written in Europe/London with the zone's rules included (VTIMEZONE), so
// a calendar shows 10:30 as 10:30 on either side of the clocks changing.
// Each session is its own event (sessions can differ: times, places,
// facilitators, cancellations), so no recurrence rule has to be expanded.

// LondonTZ is the zone every time is written in.
const LondonTZ = "Europe/London"

// New is an empty calendar (named, when name is not empty) with the
// Europe/London zone and its rules.
func New(name string) *ics.Calendar {
	cal := ics.NewCalendar()
	cal.SetProductId("-//Mutual//Peer support groups//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	if name != "" {
		cal.SetXWRCalName(name)
	}
	cal.SetXWRTimezone(LondonTZ)
	tz := cal.AddTimezone(LondonTZ)
	day := &ics.Daylight{}
	day.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), "+0000")
	day.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), "+0100")
	day.SetProperty(ics.ComponentProperty(ics.PropertyTzname), "BST")
	day.SetProperty(ics.ComponentPropertyDtStart, "19810329T010000")
	day.AddRrule("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU")
	std := &ics.Standard{}
	std.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), "+0100")
	std.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), "+0000")
	std.SetProperty(ics.ComponentProperty(ics.PropertyTzname), "GMT")
	std.SetProperty(ics.ComponentPropertyDtStart, "19961027T020000")
	std.AddRrule("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU")
	tz.Components = append(tz.Components, day, std)
	return cal
}

// LondonTime is t as a wall-clock time in Europe/London.
func LondonTime(t time.Time) string { return t.In(app.London).Format("20060102T150405") }

// Event is what one calendar event says.
type Event struct {
	UID, Summary, Description, Location, URL string
	Start, End, Stamp                        time.Time
	Cancelled                                bool
	Sequence                                 int
}

// Add adds an event, its times in Europe/London; a cancelled event is
// STATUS:CANCELLED.
func Add(cal *ics.Calendar, e Event) {
	ev := cal.AddEvent(e.UID)
	ev.SetDtStampTime(e.Stamp)
	ev.SetProperty(ics.ComponentPropertyDtStart, LondonTime(e.Start), ics.WithTZID(LondonTZ))
	ev.SetProperty(ics.ComponentPropertyDtEnd, LondonTime(e.End), ics.WithTZID(LondonTZ))
	ev.SetSummary(e.Summary)
	if e.Description != "" {
		ev.SetDescription(e.Description)
	}
	if e.Location != "" {
		ev.SetLocation(e.Location)
	}
	if e.URL != "" {
		ev.SetURL(e.URL)
	}
	ev.SetSequence(e.Sequence)
	if e.Cancelled {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
}

// Bytes is the calendar as text, with CRLF line ends.
func Bytes(cal *ics.Calendar) []byte {
	return []byte(cal.Serialize(ics.WithNewLineWindows))
}
