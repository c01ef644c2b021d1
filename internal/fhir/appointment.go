package fhir

import (
	"github.com/mutualhq/mutual/internal/support"
)

// Appointment is a FHIR R4 Appointment.
type Appointment struct {
	ResourceType      string                   `json:"resourceType"`
	ID                string                   `json:"id"`
	Status            string                   `json:"status"`
	CancelationReason *CodeableConcept         `json:"cancelationReason,omitempty"`
	ServiceType       []CodeableConcept        `json:"serviceType,omitempty"`
	Description       string                   `json:"description,omitempty"`
	Start             string                   `json:"start"`
	End               string                   `json:"end"`
	MinutesDuration   int                      `json:"minutesDuration,omitempty"`
	Comment           string                   `json:"comment,omitempty"`
	Participant       []AppointmentParticipant `json:"participant"`
}

// Kind is the resource type.
func (a Appointment) Kind() string { return "Appointment" }

// ResourceID is the resource's id.
func (a Appointment) ResourceID() string { return a.ID }

// AppointmentParticipant is someone at an appointment and their answer.
type AppointmentParticipant struct {
	Actor    Reference `json:"actor"`
	Required string    `json:"required,omitempty"`
	Status   string    `json:"status"`
}

// FromAppointment maps an appointment to FHIR: its status is already
// FHIR's; the person (Patient) and the worker (Practitioner, by account)
// take part — while it is proposed, the one who did not ask has yet to
// answer (needs-action) — and the place is the comment, in words.
func FromAppointment(a support.Appointment) Appointment {
	out := Appointment{ResourceType: "Appointment", ID: itoa(a.ID), Status: string(a.Status),
		ServiceType: []CodeableConcept{{Text: "Peer support"}}, Description: "Peer support",
		Start: dateTime(a.Start), End: dateTime(a.End), MinutesDuration: a.Minutes}
	out.Comment = a.PlaceLabel()
	if a.PlaceDetail != "" {
		out.Comment += ": " + a.PlaceDetail
	}
	answer := func(side support.Side) string {
		switch {
		case a.Status == support.Proposed && a.AskedBy != side:
			return "needs-action"
		case a.Status == support.Cancelled && a.CancelledBy == side:
			return "declined"
		}
		return "accepted"
	}
	out.Participant = []AppointmentParticipant{
		{Actor: PatientRef(a.PersonID, a.PersonName), Required: "required", Status: answer(support.SidePerson)},
		{Actor: Reference{Reference: "Practitioner/" + itoa(a.WorkerID), Display: a.WorkerName}, Required: "required", Status: answer(support.SideWorker)},
	}
	if a.Status == support.Cancelled && a.CancelReason != "" {
		out.CancelationReason = &CodeableConcept{Text: a.CancelReason}
	}
	return out
}
