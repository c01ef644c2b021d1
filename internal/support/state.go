package support

import (
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

// Status is where an appointment is, as FHIR Appointment names it.
type Status string

// The statuses: proposed → booked → arrived → fulfilled, or cancelled, or
// noshow.
const (
	Proposed  Status = "proposed"
	Booked    Status = "booked"
	Arrived   Status = "arrived"
	Fulfilled Status = "fulfilled"
	Cancelled Status = "cancelled"
	NoShow    Status = "noshow"
)

var statusLabels = map[Status]string{
	Proposed: "Waiting for an answer", Booked: "Booked", Arrived: "Arrived", Fulfilled: "Happened",
	Cancelled: "Cancelled", NoShow: "Did not attend",
}

// Label is the status in words.
func (s Status) Label() string { return statusLabels[s] }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Holds reports whether an appointment in this status takes up the
// worker's time: no other appointment may overlap it.
func (s Status) Holds() bool { return s == Proposed || s == Booked || s == Arrived || s == Fulfilled }

// Upcoming reports whether the appointment is still to happen.
func (s Status) Upcoming() bool { return s == Proposed || s == Booked }

// holdingStatuses are the statuses that take up a worker's time, for SQL.
var holdingStatuses = []string{string(Proposed), string(Booked), string(Arrived), string(Fulfilled)}

// Side is who is moving an appointment: the person, or their worker (or
// the worker's lead).
type Side string

// The two sides of an appointment, and the service itself: an appointment
// the service cancelled because the referral ended or changed worker
// (never a side that moves one by hand).
const (
	SidePerson  Side = "person"
	SideWorker  Side = "worker"
	SideService Side = "service"
)

// moves are the moves the state machine allows, and who may make them.
var moves = map[Status]map[Status][]Side{
	Proposed: {Booked: {SidePerson, SideWorker}, Cancelled: {SidePerson, SideWorker}},
	Booked:   {Arrived: {SideWorker}, Fulfilled: {SideWorker}, NoShow: {SideWorker}, Cancelled: {SidePerson, SideWorker}},
	Arrived:  {Fulfilled: {SideWorker}},
}

// EarlyArrival is how long before its start an appointment may be marked
// as arrived, happened or not attended.
const EarlyArrival = 30 * time.Minute

// Appt is what the state machine needs to know of an appointment.
type Appt struct {
	Status  Status
	AskedBy Side
	Start   time.Time
}

// CheckMove decides whether side may move a to status to at now, with the
// reason given: nil, or an error whose message says why not. It is pure.
//
//   - Only the other side answers a proposal: a person accepts what the
//     worker proposed (or the worker records that the person agreed), and
//     the worker accepts what the person asked for.
//   - Arrived, happened and did not attend are the worker's to record, and
//     not before the appointment is about to start.
//   - Cancelling needs a reason, from either side.
func CheckMove(a Appt, side Side, to Status, reason string, now time.Time) error {
	if !to.Valid() {
		return app.Invalid(app.FieldError{Field: "to", Message: "Choose proposed, booked, arrived, fulfilled, cancelled or noshow"})
	}
	sides, ok := moves[a.Status][to]
	if !ok {
		return app.Errorf(app.CodeConflict, "An appointment that is %q cannot become %q", a.Status.Label(), to.Label())
	}
	allowed := false
	for _, s := range sides {
		allowed = allowed || s == side
	}
	if !allowed {
		if side == SidePerson {
			return app.Errorf(app.CodeForbidden, "Your peer worker records this")
		}
		return app.Errorf(app.CodeForbidden, "Only the person can do this")
	}
	if a.Status == Proposed && to == Booked && side == SidePerson && a.AskedBy == SidePerson {
		return app.Errorf(app.CodeConflict, "You asked for this appointment: your peer worker will answer")
	}
	switch to {
	case Arrived, Fulfilled, NoShow:
		if now.Before(a.Start.Add(-EarlyArrival)) {
			return app.Errorf(app.CodeConflict, "This appointment has not started yet")
		}
	case Cancelled:
		if reason == "" {
			return app.Invalid(app.FieldError{Field: "reason", Message: "Say why the appointment is cancelled"})
		}
	case Booked:
		if !now.Before(a.Start) {
			return app.Errorf(app.CodeConflict, "This appointment's time has passed: arrange a new one")
		}
	}
	return nil
}

// Next lists the statuses side may move a to now, in the order a page
// offers them.
func Next(a Appt, side Side, now time.Time) []Status {
	var out []Status
	for _, to := range []Status{Booked, Arrived, Fulfilled, NoShow, Cancelled} {
		if CheckMove(a, side, to, "a reason", now) == nil {
			out = append(out, to)
		}
	}
	return out
}

// Overlaps reports whether [s1, e1) and [s2, e2) share any time.
func Overlaps(s1, e1, s2, e2 time.Time) bool { return s1.Before(e2) && s2.Before(e1) }
