package groups

import (
	"fmt"
	"sort"
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

// PlanOffers decides who is offered places that are free (not booked and
// not held for an open offer): going down the list in position order,
// each entry without an open offer whose places fit what is still free is
// offered them. An entry that needs more places than are free keeps its
// position — it is never skipped for good, only until enough places free
// up — and the places go to the first entry behind it that fits. It
// returns the booking ids to offer, in order.
func PlanOffers(free int, waiting []Entry) []int64 {
	list := append([]Entry(nil), waiting...)
	sort.Slice(list, func(i, j int) bool { return list[i].Position < list[j].Position })
	var out []int64
	for _, e := range list {
		if free <= 0 {
			break
		}
		if e.Offered || e.Places > free {
			continue
		}
		out = append(out, e.BookingID)
		free -= e.Places
	}
	return out
}

// Book decides what a new request for places gets: a place at once when
// the places are free, otherwise a place on the waiting list. Free places
// are only ever ones no one waiting fits (PlanOffers has offered the
// rest), so a request that fits them jumps no one.
func Book(free, places int) string {
	if places <= free {
		return StatusBooked
	}
	return StatusWaiting
}

// SessionStarts lists the start times of count sessions from first,
// repeating as r says, each at the same wall-clock time in London: 10:30
// stays 10:30 across the clocks changing, so the UTC instant moves by an
// hour. Monthly sessions fall on first's day of the month, or the month's
// last day when it is shorter (31 January, 28 February, 31 March). A wall
// time that does not exist (the hour skipped when the clocks go forward)
// moves forward by that hour, as Go's time.Date does; one that happens
// twice (when they go back) is the first, in summer time.
func SessionStarts(first time.Time, r Repeats, count int) []time.Time {
	l := first.In(app.London)
	y, m, d := l.Date()
	hh, mm, _ := l.Clock()
	out := make([]time.Time, 0, count)
	for i := range count {
		var t time.Time
		switch r {
		case Weekly:
			t = time.Date(y, m, d+7*i, hh, mm, 0, 0, app.London)
		case Fortnightly:
			t = time.Date(y, m, d+14*i, hh, mm, 0, 0, app.London)
		case Monthly:
			mi := time.Month(int(m) + i)
			last := time.Date(y, mi+1, 0, 0, 0, 0, 0, app.London).Day()
			t = time.Date(y, mi, min(d, last), hh, mm, 0, 0, app.London)
		default:
			if i > 0 {
				return out
			}
			t = l
		}
		out = append(out, t.UTC())
	}
	return out
}

// EventText says what happened to a booking, as the person reads it.
func EventText(kind string, from, to int, reason string) string {
	switch kind {
	case "booked":
		return "Place booked"
	case "joined_list":
		return fmt.Sprintf("Joined the waiting list at number %d", to)
	case "moved":
		dir := "down"
		if to < from {
			dir = "up"
		}
		return fmt.Sprintf("Moved %s the waiting list from number %d to number %d because: %s", dir, from, to, reason)
	case "displaced":
		return fmt.Sprintf("Now number %d on the waiting list instead of number %d, because someone else was moved: %s", to, from, reason)
	case "offered":
		return "Offered a place"
	case "offer_accepted":
		return "Accepted the offered place"
	case "offer_declined":
		return "Said no to the offered place, and left the waiting list"
	case "offer_expired":
		return "The offered place was not taken up in time, so it went to the next person waiting. You can join the waiting list again"
	case "offer_withdrawn":
		return "The offer was withdrawn"
	case "cancelled":
		return "Booking cancelled"
	case "left":
		return "Left the waiting list"
	case "session_cancelled":
		return "The session was cancelled: " + reason
	case "venue_changed":
		return "Where it meets, or how to join it, changed: the details are on this page"
	}
	return kind
}
