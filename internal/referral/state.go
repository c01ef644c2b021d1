// Package referral is "every door in": referrals from the person
// themselves (no account needed), carers, staff, partner agencies and
// community contacts, into one waiting list with a recorded lifecycle; the
// contacts made while someone waits; and the offers ledger of every time
// someone is told about peer support.
package referral

import (
	"slices"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
)

// Status is where a referral is in its lifecycle.
type Status string

// Referral statuses, as named in the API.
const (
	Received   Status = "received"
	Accepted   Status = "accepted"
	Declined   Status = "declined"
	Redirected Status = "redirected"
	Allocated  Status = "allocated"
	Active     Status = "active"
	Ended      Status = "ended"
	Withdrawn  Status = "withdrawn"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{Received, Accepted, Allocated, Active, Ended, Declined, Redirected, Withdrawn}

var statusLabels = map[Status]string{
	Received:   "Received",
	Accepted:   "On the waiting list",
	Declined:   "Declined",
	Redirected: "Passed to another service",
	Allocated:  "Peer worker allocated",
	Active:     "Receiving peer support",
	Ended:      "Ended",
	Withdrawn:  "Withdrawn",
}

// Label is the plain-English name of the status.
func (s Status) Label() string { return statusLabels[s] }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Closed reports whether no further transition is possible.
func (s Status) Closed() bool {
	return s == Declined || s == Redirected || s == Ended || s == Withdrawn
}

// Waiting reports whether the person is still waiting for peer support to
// start.
func (s Status) Waiting() bool { return s == Received || s == Accepted || s == Allocated }

// FHIRStatus maps a status to HL7 FHIR R4 ServiceRequest.status. The finer
// business status travels alongside it.
func (s Status) FHIRStatus() string {
	switch s {
	case Received, Accepted, Allocated, Active:
		return "active"
	case Ended:
		return "completed"
	case Declined, Redirected, Withdrawn:
		return "revoked"
	}
	return "unknown"
}

// transitions lists the allowed moves. Withdrawal is allowed from every
// open status: the person can stop at any point.
var transitions = map[Status][]Status{
	Received:  {Accepted, Declined, Redirected, Withdrawn},
	Accepted:  {Allocated, Redirected, Withdrawn},
	Allocated: {Allocated, Active, Accepted, Ended, Withdrawn},
	// A person may ask for a different worker at any time: a lead then
	// allocates someone else, even during support.
	Active: {Allocated, Ended, Withdrawn},
}

// CanMove reports whether from → to is an allowed transition.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Next lists the statuses reachable from s.
func Next(s Status) []Status { return slices.Clone(transitions[s]) }

// Reason is a coded reason for declining or ending.
type Reason = app.Choice

// DeclineReasons are the reasons a referral can be declined, from mature
// case-management systems.
var DeclineReasons = []Reason{
	{Code: "person_declined", Label: "The person did not want peer support"},
	{Code: "lack_of_capacity", Label: "The person lacked capacity to agree to it"},
	{Code: "unable_to_contact", Label: "We could not contact the person"},
	{Code: "no_longer_needed", Label: "Support is no longer needed"},
	{Code: "moved_service", Label: "The person has moved to another service"},
	{Code: "other", Label: "Another reason"},
}

// EndReasons are the reasons peer support ends, planned and unplanned
// (the support report counts endings by these).
var EndReasons = []Reason{
	{Code: "goals_met", Label: "Goals met"},
	{Code: "person_chose_to_stop", Label: "The person chose to stop"},
	{Code: "no_contact", Label: "No contact after the agreed attempts"},
	{Code: "moved_service", Label: "The person moved to another service"},
	{Code: "moved_away", Label: "The person moved away"},
	{Code: "long_admission", Label: "Admitted to hospital for a long stay"},
	{Code: "died", Label: "The person died"},
	{Code: "other", Label: "Another reason"},
}

// ReasonDied is the ending reason after which the person's account is
// told nothing.
const ReasonDied = "died"

// Endings: planned with the person, or not.
const (
	EndingPlanned   = "planned"
	EndingUnplanned = "unplanned"
)

// Endings are the two kinds of ending, for forms.
var Endings = []app.Choice{
	{Code: EndingPlanned, Label: "Planned: agreed with the person"},
	{Code: EndingUnplanned, Label: "Unplanned"},
}

// unplannedOnly are reasons no ending agreed with the person can have;
// goals met is a planned ending's.
var unplannedOnly = []string{"no_contact", "long_admission", "died"}

// checkEnding checks an ending's kind against its reason and the person's
// words: pure.
func checkEnding(p *app.Problems, ending, reason, words string) {
	switch ending {
	case EndingPlanned:
		if slices.Contains(unplannedOnly, reason) {
			p.Add("ending", "An ending agreed with the person cannot be because of "+strings.ToLower(ReasonLabel(EndReasons, reason))+": choose unplanned")
		}
	case EndingUnplanned:
		if reason == "goals_met" {
			p.Add("ending", "Goals met is a planned ending: choose planned, or another reason")
		}
		if words != "" {
			p.Add("what_helped", "The person's words about what helped belong to a planned ending: leave this empty, or choose planned")
		}
	default:
		p.Add("ending", "Choose whether the ending was planned with the person")
	}
}

// ReasonLabel returns the label for a code in reasons, or the code.
func ReasonLabel(reasons []Reason, code string) string { return app.ChoiceLabel(reasons, code) }

func hasReason(reasons []Reason, code string) bool { return app.HasChoice(reasons, code) }

// Open are the statuses of an open referral, Waiting those of someone
// still waiting for support to start, and WaitingList those of a team's
// waiting list, for queries.
var (
	Open        = []Status{Received, Accepted, Allocated, Active}
	Waiting     = []Status{Received, Accepted, Allocated}
	WaitingList = []Status{Received, Accepted}
)

// Move is a requested transition.
type Move struct {
	To       Status `json:"to" required:"true" doc:"The status to move to: accepted, declined, redirected, allocated, active, ended or withdrawn."`
	Reason   string `json:"reason,omitempty" doc:"Coded reason: required to decline (person_declined, lack_of_capacity, unable_to_contact, no_longer_needed, moved_service, other) and to end (goals_met, person_chose_to_stop, no_contact, moved_service, other)."`
	Note     string `json:"note,omitempty" doc:"Free text: required when the reason is other."`
	WorkerID int64  `json:"worker_id,omitempty" doc:"The peer worker's account id: required to allocate."`
	TeamID   int64  `json:"team_id,omitempty" doc:"Accepting: the team whose waiting list the referral joins, when it has none yet."`
	// Where and what to tell the referrer, when redirecting.
	RedirectedTo    string `json:"redirected_to,omitempty" doc:"Redirecting: the service the person is being passed to."`
	RedirectMessage string `json:"redirect_message,omitempty" doc:"Redirecting: a message for the referrer."`
	// OutcomeSummary is the short reply to the referrer on ending: what peer
	// support did, written with the person.
	OutcomeSummary string `json:"outcome_summary,omitempty" doc:"Ending: what peer support did, written with the person. Sent to the referrer."`
	// Ending and WhatHelped describe an ending: planned with the person or
	// not, and in a planned one the person's own words.
	Ending     string `json:"ending,omitempty" doc:"Ending: planned (agreed with the person) or unplanned. Required to end."`
	WhatHelped string `json:"what_helped,omitempty" doc:"Ending, planned only: what helped, in the person's own words (optional; the person can add them later from their account). Not sent to the referrer."`
	Version    int    `json:"version,omitempty" doc:"The version you last saw; if someone else has changed the referral since, the move is refused with 409."`
	// OverCapReason lets a lead allocate a worker whose caseload is at or
	// over their cap: recorded, and shown to the worker's supervisor.
	OverCapReason string `json:"over_cap_reason,omitempty" doc:"Allocating: why the worker should take this person although their caseload is at or over their cap. Without it such an allocation is refused with 409."`
}

const maxText = 4000

// Check validates a move from the referral's current status. It returns
// problems keyed by field; a transition that is not allowed at all is a
// conflict, with a reason a person can act on.
func (m *Move) Check(from Status) error {
	m.Reason = strings.TrimSpace(m.Reason)
	m.Note = strings.TrimSpace(m.Note)
	m.RedirectedTo = strings.TrimSpace(m.RedirectedTo)
	m.RedirectMessage = strings.TrimSpace(m.RedirectMessage)
	m.OutcomeSummary = strings.TrimSpace(m.OutcomeSummary)
	m.OverCapReason = strings.TrimSpace(m.OverCapReason)
	m.Ending, m.WhatHelped = strings.TrimSpace(m.Ending), strings.TrimSpace(m.WhatHelped)
	if !m.To.Valid() || m.To == Received {
		return app.Invalid(app.FieldError{Field: "to", Message: "Choose what should happen next: accepted, declined, redirected, allocated, active, ended or withdrawn"})
	}
	if !CanMove(from, m.To) {
		if from.Closed() {
			return app.Errorf(app.CodeConflict, "This referral is already %s, so it cannot be changed. Make a new referral if the person needs support again.", strings.ToLower(from.Label()))
		}
		return app.Errorf(app.CodeConflict, "A referral that is %s cannot be moved to %s", strings.ToLower(from.Label()), strings.ToLower(m.To.Label()))
	}
	var p app.Problems
	for field, v := range map[string]string{"note": m.Note, "redirected_to": m.RedirectedTo, "redirect_message": m.RedirectMessage,
		"outcome_summary": m.OutcomeSummary, "over_cap_reason": m.OverCapReason, "what_helped": m.WhatHelped} {
		if len(v) > maxText {
			p.Add(field, "Keep this to 4,000 characters or fewer")
		}
	}
	switch m.To {
	case Declined:
		if !hasReason(DeclineReasons, m.Reason) {
			p.Add("reason", "Choose why the referral is being declined")
		}
	case Ended:
		if !hasReason(EndReasons, m.Reason) {
			p.Add("reason", "Choose why peer support is ending")
		}
		if m.OutcomeSummary == "" {
			p.Add("outcome_summary", "Write a short reply for the referrer about what peer support did, agreed with the person")
		}
		checkEnding(&p, m.Ending, m.Reason, m.WhatHelped)
	case Redirected:
		if m.RedirectedTo == "" {
			p.Add("redirected_to", "Enter the service the person is being passed to")
		}
		if m.RedirectMessage == "" {
			p.Add("redirect_message", "Enter a message for the person who made the referral")
		}
	}
	if m.To != Ended && (m.Ending != "" || m.WhatHelped != "") {
		p.Add("ending", "Say whether an ending was planned only when ending peer support")
	}
	switch m.To {
	case Allocated:
		if m.WorkerID == 0 {
			p.Add("worker_id", "Choose the peer worker")
		}
	}
	if m.Reason == "other" && m.Note == "" {
		p.Add("note", "Say what the other reason is")
	}
	return p.Err()
}
