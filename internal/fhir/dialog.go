package fhir

import (
	"github.com/mutualhq/mutual/internal/recovery"
)

// QuestionnaireID is the id of the DIALOG+ Questionnaire Mutual serves.
const QuestionnaireID = "dialog-plus"

// QuestionnaireURL is the DIALOG+ Questionnaire's canonical URL on a
// deployment.
func QuestionnaireURL(base string) string { return base + "/fhir/R4/Questionnaire/" + QuestionnaireID }

// Questionnaire is a FHIR R4 Questionnaire.
type Questionnaire struct {
	ResourceType string              `json:"resourceType"`
	ID           string              `json:"id"`
	URL          string              `json:"url"`
	Version      string              `json:"version"`
	Name         string              `json:"name"`
	Title        string              `json:"title"`
	Status       string              `json:"status"`
	SubjectType  []string            `json:"subjectType"`
	Publisher    string              `json:"publisher"`
	Description  string              `json:"description"`
	Item         []QuestionnaireItem `json:"item"`
}

// QuestionnaireItem is one question or group.
type QuestionnaireItem struct {
	LinkID       string              `json:"linkId"`
	Text         string              `json:"text,omitempty"`
	Type         string              `json:"type"`
	Required     bool                `json:"required,omitempty"`
	Repeats      bool                `json:"repeats,omitempty"`
	Extension    []Extension         `json:"extension,omitempty"`
	AnswerOption []AnswerOption      `json:"answerOption,omitempty"`
	Item         []QuestionnaireItem `json:"item,omitempty"`
}

// AnswerOption is an allowed answer.
type AnswerOption struct {
	ValueInteger *int    `json:"valueInteger,omitempty"`
	ValueCoding  *Coding `json:"valueCoding,omitempty"`
}

// ItemSystem is the code system of the DIALOG+ items and stages, as
// Mutual names them.
const ItemSystem = "https://mutual.nhs.uk/fhir/CodeSystem/dialog-plus"

// DialogQuestionnaire is the DIALOG+ Questionnaire: the eleven items, each
// rated 1 (totally dissatisfied) to 7 (totally satisfied) with "do you want
// more help with this?", up to three items discussed through the four
// steps, and how last time's actions went.
func DialogQuestionnaire(base string) Questionnaire {
	q := Questionnaire{ResourceType: "Questionnaire", ID: QuestionnaireID, URL: QuestionnaireURL(base), Version: "1", Name: "DialogPlus",
		Title: "DIALOG+", Status: "active", SubjectType: []string{"Patient"}, Publisher: "Mutual",
		Description: "DIALOG+: satisfaction with eleven areas of life and care, each rated from 1 (totally dissatisfied) to 7 (totally satisfied), " +
			"with whether the person wants more help; up to three areas are then discussed through four steps (understanding, looking forward, " +
			"exploring options, agreed actions), and the agreed actions are reviewed at the next session."}
	var scale []AnswerOption
	for i := 1; i <= 7; i++ {
		v := i
		scale = append(scale, AnswerOption{ValueInteger: &v})
	}
	var items []AnswerOption
	for _, it := range recovery.Items {
		items = append(items, AnswerOption{ValueCoding: &Coding{System: ItemSystem, Code: string(it.Code), Display: it.Label}})
	}
	var stages []AnswerOption
	for _, st := range recovery.Stages {
		stages = append(stages, AnswerOption{ValueCoding: &Coding{System: ItemSystem, Code: st.Code, Display: st.Label}})
	}
	q.Item = append(q.Item, QuestionnaireItem{LinkID: "stage", Text: "When is this?", Type: "choice", AnswerOption: stages})
	for _, it := range recovery.Items {
		code := string(it.Code)
		q.Item = append(q.Item, QuestionnaireItem{LinkID: code, Text: it.Label, Type: "group", Required: true, Item: []QuestionnaireItem{
			{LinkID: code + ".rating", Text: it.Question + " (1 totally dissatisfied – 7 totally satisfied)", Type: "choice", Required: true, AnswerOption: scale},
			{LinkID: code + ".more_help", Text: "Do you want more help with this?", Type: "boolean", Required: true},
		}})
	}
	three := 3
	q.Item = append(q.Item, QuestionnaireItem{LinkID: "discussion", Text: "Items chosen to talk about (up to three)", Type: "group", Repeats: true,
		Extension: []Extension{{URL: "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs", ValueInteger: &three}},
		Item: []QuestionnaireItem{
			{LinkID: "discussion.item", Text: "Item", Type: "choice", Required: true, AnswerOption: items},
			{LinkID: "discussion.understanding", Text: recovery.Steps[0].Label, Type: "text"},
			{LinkID: "discussion.looking_forward", Text: recovery.Steps[1].Label, Type: "text"},
			{LinkID: "discussion.options", Text: recovery.Steps[2].Label, Type: "text"},
			{LinkID: "discussion.actions", Text: recovery.Steps[3].Label, Type: "text"},
		}})
	q.Item = append(q.Item, QuestionnaireItem{LinkID: "followup", Text: "How did the actions agreed last time go?", Type: "text"})
	return q
}

// QuestionnaireResponse is a FHIR R4 QuestionnaireResponse.
type QuestionnaireResponse struct {
	ResourceType  string       `json:"resourceType"`
	ID            string       `json:"id"`
	Meta          *Meta        `json:"meta,omitempty"`
	Questionnaire string       `json:"questionnaire"`
	Status        string       `json:"status"`
	Subject       Reference    `json:"subject"`
	Authored      string       `json:"authored"`
	Author        *Reference   `json:"author,omitempty"`
	Source        *Reference   `json:"source,omitempty"`
	Item          []AnswerItem `json:"item"`
}

// Kind is the resource type.
func (q QuestionnaireResponse) Kind() string { return "QuestionnaireResponse" }

// ResourceID is the resource's id.
func (q QuestionnaireResponse) ResourceID() string { return q.ID }

// AnswerItem is one answered question or group.
type AnswerItem struct {
	LinkID string       `json:"linkId"`
	Text   string       `json:"text,omitempty"`
	Answer []Answer     `json:"answer,omitempty"`
	Item   []AnswerItem `json:"item,omitempty"`
}

// Answer is one answer.
type Answer struct {
	ValueInteger *int    `json:"valueInteger,omitempty"`
	ValueBoolean *bool   `json:"valueBoolean,omitempty"`
	ValueString  string  `json:"valueString,omitempty"`
	ValueCoding  *Coding `json:"valueCoding,omitempty"`
}

// FromSession maps a DIALOG+ session to a QuestionnaireResponse to the
// DIALOG+ Questionnaire: completed, authored by the person when they filled
// it in alone, and otherwise recorded with a worker.
func FromSession(s recovery.Session, personName, base string) QuestionnaireResponse {
	qr := QuestionnaireResponse{ResourceType: "QuestionnaireResponse", ID: itoa(s.ID), Meta: &Meta{LastUpdated: dateTime(s.At)},
		Questionnaire: QuestionnaireURL(base), Status: "completed", Subject: PatientRef(s.PersonID, personName), Authored: dateTime(s.At)}
	patient := PatientRef(s.PersonID, personName)
	qr.Source = &patient
	if s.Alone {
		qr.Author = &patient
	} else if s.RecordedBy != "" {
		qr.Author = &Reference{Display: s.RecordedBy}
	}
	qr.Item = append(qr.Item, AnswerItem{LinkID: "stage", Text: "When is this?", Answer: []Answer{{ValueCoding: &Coding{System: ItemSystem,
		Code: string(s.Stage), Display: s.Stage.Label()}}}})
	for _, r := range s.Ratings {
		rating, help := r.Rating, r.MoreHelp
		code := string(r.Item)
		qr.Item = append(qr.Item, AnswerItem{LinkID: code, Text: r.Item.Label(), Item: []AnswerItem{
			{LinkID: code + ".rating", Answer: []Answer{{ValueInteger: &rating}}},
			{LinkID: code + ".more_help", Answer: []Answer{{ValueBoolean: &help}}},
		}})
	}
	for _, d := range s.Discussions {
		g := AnswerItem{LinkID: "discussion", Item: []AnswerItem{{LinkID: "discussion.item", Answer: []Answer{{ValueCoding: &Coding{System: ItemSystem,
			Code: string(d.Item), Display: d.Item.Label()}}}}}}
		for _, f := range []struct{ id, v string }{{"understanding", d.Understanding}, {"looking_forward", d.LookingForward},
			{"options", d.Options}, {"actions", d.Actions}} {
			if f.v != "" {
				g.Item = append(g.Item, AnswerItem{LinkID: "discussion." + f.id, Answer: []Answer{{ValueString: f.v}}})
			}
		}
		qr.Item = append(qr.Item, g)
	}
	if s.Followup != "" {
		qr.Item = append(qr.Item, AnswerItem{LinkID: "followup", Answer: []Answer{{ValueString: s.Followup}}})
	}
	return qr
}
