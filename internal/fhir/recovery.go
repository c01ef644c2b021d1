package fhir

import (
	"strings"

	"github.com/mutualhq/mutual/internal/recovery"
)

// Goal is a FHIR R4 Goal.
type Goal struct {
	ResourceType      string           `json:"resourceType"`
	ID                string           `json:"id"`
	Meta              *Meta            `json:"meta,omitempty"`
	LifecycleStatus   string           `json:"lifecycleStatus"`
	AchievementStatus *CodeableConcept `json:"achievementStatus,omitempty"`
	Description       CodeableConcept  `json:"description"`
	Subject           Reference        `json:"subject"`
	StartDate         string           `json:"startDate,omitempty"`
	Target            []GoalTarget     `json:"target,omitempty"`
	StatusDate        string           `json:"statusDate,omitempty"`
	StatusReason      string           `json:"statusReason,omitempty"`
	ExpressedBy       *Reference       `json:"expressedBy,omitempty"`
	Note              []Annotation     `json:"note,omitempty"`
}

// Kind is the resource type.
func (g Goal) Kind() string { return "Goal" }

// ResourceID is the resource's id.
func (g Goal) ResourceID() string { return g.ID }

// GoalTarget is when a goal is aimed to be met.
type GoalTarget struct {
	DueDate string `json:"dueDate,omitempty"`
}

const achievementSystem = "http://terminology.hl7.org/CodeSystem/goal-achievement"

// GoalStatuses maps a goal's progress to FHIR's lifecycle and achievement
// status (achievement "" when none applies): not started is planned, on the
// way is active and in progress, achieved is completed and achieved, and a
// changed mind is cancelled.
func GoalStatuses(p recovery.Progress) (lifecycle, achievement string) {
	switch p {
	case recovery.OnTheWay:
		return "active", "in-progress"
	case recovery.Achieved:
		return "completed", "achieved"
	case recovery.ChangedMind:
		return "cancelled", ""
	}
	return "planned", ""
}

var achievementDisplay = map[string]string{"in-progress": "In Progress", "achieved": "Achieved"}

// FromGoal maps a person's goal to FHIR: the description in their words,
// the steps and who helps as notes, the target date as the target's due
// date.
func FromGoal(g recovery.Goal, personName string) Goal {
	life, ach := GoalStatuses(g.Progress)
	out := Goal{ResourceType: "Goal", ID: itoa(g.ID), Meta: &Meta{LastUpdated: dateTime(g.UpdatedAt)}, LifecycleStatus: life,
		Description: CodeableConcept{Text: g.Description}, Subject: PatientRef(g.PersonID, personName),
		StartDate: g.CreatedAt.UTC().Format("2006-01-02"), StatusDate: g.UpdatedAt.UTC().Format("2006-01-02")}
	if ach != "" {
		out.AchievementStatus = &CodeableConcept{Coding: []Coding{{System: achievementSystem, Code: ach, Display: achievementDisplay[ach]}}, Text: g.Progress.Label()}
	}
	if g.Progress == recovery.ChangedMind {
		out.StatusReason = "The person changed their mind"
	}
	if g.TargetDate != "" {
		out.Target = []GoalTarget{{DueDate: g.TargetDate}}
	}
	if !g.DraftedWithWorker {
		ref := PatientRef(g.PersonID, personName)
		out.ExpressedBy = &ref
	}
	for _, st := range g.Steps {
		done := "To do"
		if st.Done {
			done = "Done"
		}
		out.Note = append(out.Note, Annotation{Text: "Step (" + strings.ToLower(done) + "): " + st.Description})
	}
	if g.WhoHelps != "" {
		out.Note = append(out.Note, Annotation{Text: "Who helps: " + g.WhoHelps})
	}
	return out
}
