package support

import (
	"testing"
	"time"
)

// The state machine: who may make which move, and when.
func TestCheckMove(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	later, soon := now.Add(24*time.Hour), now.Add(20*time.Minute)
	cases := []struct {
		name   string
		a      Appt
		side   Side
		to     Status
		reason string
		ok     bool
	}{
		{"PersonAcceptsWorkersProposal", Appt{Proposed, SideWorker, later}, SidePerson, Booked, "", true},
		{"WorkerRecordsAgreement", Appt{Proposed, SideWorker, later}, SideWorker, Booked, "", true},
		{"WorkerAcceptsPersonsRequest", Appt{Proposed, SidePerson, later}, SideWorker, Booked, "", true},
		{"PersonCannotAcceptOwnRequest", Appt{Proposed, SidePerson, later}, SidePerson, Booked, "", false},
		{"NoBookingOncePassed", Appt{Proposed, SideWorker, now.Add(-time.Minute)}, SidePerson, Booked, "", false},
		{"CancelNeedsReason", Appt{Booked, SideWorker, later}, SidePerson, Cancelled, "", false},
		{"PersonCancelsWithReason", Appt{Booked, SideWorker, later}, SidePerson, Cancelled, "ill", true},
		{"PersonCannotRecordHappened", Appt{Booked, SideWorker, now}, SidePerson, Fulfilled, "", false},
		{"ArrivedNotTooEarly", Appt{Booked, SideWorker, later}, SideWorker, Arrived, "", false},
		{"ArrivedJustBefore", Appt{Booked, SideWorker, soon}, SideWorker, Arrived, "", true},
		{"NoShowAfterStart", Appt{Booked, SideWorker, now.Add(-time.Hour)}, SideWorker, NoShow, "", true},
		{"ArrivedThenHappened", Appt{Arrived, SideWorker, now}, SideWorker, Fulfilled, "", true},
		{"NoShowNotFromProposed", Appt{Proposed, SideWorker, now}, SideWorker, NoShow, "", false},
		{"CancelledIsFinal", Appt{Cancelled, SideWorker, later}, SideWorker, Booked, "", false},
		{"FulfilledIsFinal", Appt{Fulfilled, SideWorker, now}, SideWorker, Cancelled, "x", false},
		{"UnknownStatus", Appt{Booked, SideWorker, later}, SideWorker, "done", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckMove(c.a, c.side, c.to, c.reason, now)
			if (err == nil) != c.ok {
				t.Fatalf("got %v, want ok=%v", err, c.ok)
			}
		})
	}
	if got := Next(Appt{Booked, SideWorker, soon}, SideWorker, now); len(got) != 4 {
		t.Fatalf("next for a worker just before: %v", got)
	}
	if got := Next(Appt{Proposed, SideWorker, later}, SidePerson, now); len(got) != 2 || got[0] != Booked || got[1] != Cancelled {
		t.Fatalf("next for the person: %v", got)
	}
}
