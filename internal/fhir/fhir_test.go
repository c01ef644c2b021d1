package fhir_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/fhir"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/testenv/fhirschema"
)

var at = time.Date(2026, 11, 2, 9, 30, 15, 123456000, time.UTC)

func TestGoalStatuses(t *testing.T) {
	for p, want := range map[recovery.Progress][2]string{
		recovery.NotStarted: {"planned", ""}, recovery.OnTheWay: {"active", "in-progress"},
		recovery.Achieved: {"completed", "achieved"}, recovery.ChangedMind: {"cancelled", ""},
	} {
		life, ach := fhir.GoalStatuses(p)
		if life != want[0] || ach != want[1] {
			t.Errorf("%s → %s/%s, want %s/%s", p, life, ach, want[0], want[1])
		}
	}
}

// Every goal, in every state, is a valid R4 Goal.
func TestGoalIsValidR4(t *testing.T) {
	for _, p := range []recovery.Progress{recovery.NotStarted, recovery.OnTheWay, recovery.Achieved, recovery.ChangedMind} {
		g := recovery.Goal{ID: 12, PersonID: 7, Version: 2, Description: "Go back to the walking group", Progress: p, WhoHelps: "Kofi",
			TargetDate: "2027-01-31", Steps: []recovery.Step{{Description: "Find out when it meets", Done: true}, {Description: "Go once"}},
			CreatedAt: at, UpdatedAt: at, DraftedWithWorker: p == recovery.OnTheWay}
		fg := fhir.FromGoal(g, "Sam")
		fhirschema.Validate(t, "Goal", fhirschema.Marshal(t, fg))
		if fg.Subject.Reference != "Patient/7" || fg.Description.Text != g.Description || len(fg.Note) != 3 || fg.Target[0].DueDate != "2027-01-31" {
			t.Errorf("goal %s: %+v", p, fg)
		}
	}
}

func fullSession(alone bool) recovery.Session {
	s := recovery.Session{ID: 31, PersonID: 7, At: at, Stage: recovery.StageReview, Alone: alone, RecordedBy: "Kofi Asante",
		Followup: "Called the volunteer centre"}
	for i, it := range recovery.Items {
		s.Ratings = append(s.Ratings, recovery.Rating{Item: it.Code, Rating: 1 + i%7, MoreHelp: i%3 == 0})
	}
	s.Discussions = []recovery.Discussion{{Item: recovery.Job, Understanding: "Misses work", LookingForward: "Volunteering", Options: "Centre", Actions: "Call by Friday"},
		{Item: recovery.Leisure, Actions: "Try the walking group"}}
	return s
}

// A DIALOG+ session is a valid R4 QuestionnaireResponse answering the
// Questionnaire Mutual serves, which is valid too, and every answer's
// linkId is a question in it.
func TestDialogIsValidR4(t *testing.T) {
	q := fhir.DialogQuestionnaire("https://mutual.test")
	fhirschema.Validate(t, "Questionnaire", fhirschema.Marshal(t, q))
	links := map[string]bool{}
	var walk func([]fhir.QuestionnaireItem)
	walk = func(items []fhir.QuestionnaireItem) {
		for _, it := range items {
			links[it.LinkID] = true
			walk(it.Item)
		}
	}
	walk(q.Item)
	for _, alone := range []bool{true, false} {
		qr := fhir.FromSession(fullSession(alone), "Sam", "https://mutual.test")
		fhirschema.Validate(t, "QuestionnaireResponse", fhirschema.Marshal(t, qr))
		if qr.Questionnaire != q.URL || qr.Status != "completed" || len(qr.Item) != 1+11+2+1 {
			t.Errorf("response: %+v", qr)
		}
		var check func([]fhir.AnswerItem)
		check = func(items []fhir.AnswerItem) {
			for _, it := range items {
				if !links[it.LinkID] {
					t.Errorf("answer %s is not a question in the Questionnaire", it.LinkID)
				}
				check(it.Item)
			}
		}
		check(qr.Item)
	}
	b := fhir.SearchSet("https://mutual.test", "https://mutual.test/fhir/R4/QuestionnaireResponse?patient=7",
		[]fhir.Resource{fhir.FromSession(fullSession(true), "Sam", "https://mutual.test"), fhir.FromGoal(recovery.Goal{ID: 1, PersonID: 7, Description: "x", Progress: recovery.OnTheWay, CreatedAt: at, UpdatedAt: at}, "Sam")})
	fhirschema.Validate(t, "Bundle", fhirschema.Marshal(t, b))
}

// The validation can fail: resources that break the R4 schema are refused.
func TestInvalidResourcesAreRefused(t *testing.T) {
	g := fhir.FromGoal(recovery.Goal{ID: 1, PersonID: 7, Description: "x", Progress: recovery.OnTheWay, CreatedAt: at, UpdatedAt: at}, "Sam")
	for name, body := range map[string]string{
		"UnknownLifecycle": strings.Replace(string(fhirschema.Marshal(t, g)), `"lifecycleStatus":"active"`, `"lifecycleStatus":"going well"`, 1),
		"UnknownField":     strings.Replace(string(fhirschema.Marshal(t, g)), `"lifecycleStatus"`, `"mood":"fine","lifecycleStatus"`, 1),
		"NoSubject":        strings.Replace(string(fhirschema.Marshal(t, g)), `"subject":`, `"subjectx":`, 1),
		"BadDate":          strings.Replace(string(fhirschema.Marshal(t, g)), `"startDate":"2026-11-02"`, `"startDate":"2 November 2026"`, 1),
	} {
		if err := fhirschema.Check(t, "Goal", []byte(body)); err == nil {
			t.Errorf("%s: an invalid Goal passed:\n%s", name, body)
		}
	}
	qr := fhir.FromSession(fullSession(false), "Sam", "https://mutual.test")
	bad := strings.Replace(string(fhirschema.Marshal(t, qr)), `"status":"completed"`, `"status":"done"`, 1)
	if err := fhirschema.Check(t, "QuestionnaireResponse", []byte(bad)); err == nil {
		t.Error("a QuestionnaireResponse with an unknown status passed")
	}
}
