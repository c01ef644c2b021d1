package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/recovery"
)

// Examples for the recovery operations.
var (
	exampleRecoveryPlan = recovery.Plan{PersonID: 7, Version: 3, WhatMatters: "My allotment, my dog, and getting back to work.",
		Crisis:            &recovery.CrisisPlan{EarlySigns: "Not sleeping, not answering the phone", WhatHelps: "A walk with my sister", Contacts: "My sister, then the crisis team", NotWanted: "Being admitted far from home"},
		Advance:           &recovery.AdvanceChoices{WouldTake: "Sertraline", WouldNotTake: "Olanzapine: I put on weight", SecondOpinion: "Yes, from another consultant", Refused: "ECT"},
		ShareWithCareTeam: true, Reviews: recovery.ReviewChoices{Weeks: 8, Attendees: "My sister and my peer worker", Place: "The café by the library"},
		UpdatedAt: &exampleTime, UpdatedBy: "Sam"}
	exampleGoal = recovery.Goal{ID: 12, PersonID: 7, Version: 2, Description: "Go back to the walking group", WhoHelps: "Kofi, my peer worker",
		TargetDate: "2027-01-31", Progress: recovery.OnTheWay, Steps: []recovery.Step{{Description: "Find out when it meets", Done: true}, {Description: "Go once with Kofi"}},
		CreatedAt: exampleTime, CreatedBy: "Sam", UpdatedAt: exampleTime}
	exampleRatings = func() []recovery.Rating {
		var out []recovery.Rating
		for i, it := range recovery.Items {
			out = append(out, recovery.Rating{Item: it.Code, Rating: 3 + i%4, MoreHelp: it.Code == recovery.Job})
		}
		return out
	}()
	exampleDialogSession = recovery.Session{ID: 31, PersonID: 7, At: exampleTime, Stage: recovery.StageReview, RecordedBy: "Kofi Asante", Ratings: exampleRatings,
		Discussions: []recovery.Discussion{{Item: recovery.Job, Understanding: "Misses the routine of work", LookingForward: "Some volunteering",
			Options: "The volunteer centre; a friend's shop", Actions: "Sam calls the volunteer centre by Friday"}}, Mean: 4.4}
	exampleReview = recovery.Review{ID: 5, PersonID: 7, Status: "planned", DueAt: exampleTime.Add(8 * 7 * 24 * time.Hour), Place: "The café by the library",
		Attendees: "My sister and my peer worker"}
	exampleFeedback = recovery.Feedback{ID: 9, Reference: "FB-7KQ3-X9PD", Status: recovery.Considered, Version: 3, About: recovery.AboutGroup,
		AboutName: "Tuesday walking group", TeamID: 3, TeamName: "North Community Team", Body: "Please could the group run in the evenings too? I work days.",
		MayQuote: true, Theme: "groups", ReceivedAt: exampleTime, AcknowledgedAt: &exampleTime, ConsideredAt: &exampleTime,
		AcknowledgeBy: exampleTime.Add(7 * 24 * time.Hour), AnswerBy: exampleTime.Add(28 * 24 * time.Hour), Next: recovery.Answered,
		Giver: &recovery.Giver{Name: "Sam", Email: "sam@example.org", ContactOK: true, HasAccount: true, PersonID: 7}}
	one = 12
)

var personIDParam = []Param{{Name: "id", In: "path", Type: "integer", Required: true, Description: "The person's id (your own, from GET /api/v1/me, for your own plan)."}}

var opGetRecoveryPlan = APIOp{Summary: "A person's plan: what matters, goals, latest DIALOG+, reviews, the crisis plan and advance choices, and every change", Tag: "Recovery",
	Query:       personIDParam,
	Description: "The person sees all of it; staff who may see them see the crisis plan and advance choices only when the person shares them with their care team.",
	Response: recovery.PlanView{PersonID: 7, PersonName: "Sam", Plan: exampleRecoveryPlan, Goals: []recovery.Goal{exampleGoal},
		History: []recovery.PlanVersion{{Version: 3, At: exampleTime, By: "Kofi Asante", ByRole: "peer_worker", DraftedWithWorker: true,
			Changes: []recovery.Change{{Section: "what_matters", Label: "What matters to me", Before: "My allotment and my dog.", After: "My allotment, my dog, and getting back to work."}}}},
		NextReview: &exampleReview, Reviews: []recovery.Review{}, StaffView: true, PersonHasAccount: true}}

var opPutPlan = APIOp{Summary: "Change a plan: the person, or a worker drafting it with them (recorded as such)", Tag: "Recovery", Query: personIDParam,
	Description: "Sections left out stay as they are. A stale version answers 409. Staff change the crisis plan and advance choices only when the person shares them; " +
		"only the person gives that consent from their account (staff may record it for someone without one). Words that sound like distress come back with signpost.",
	Request:  recovery.PlanChange{Version: 2, WhatMatters: new("My allotment, my dog, and getting back to work."), Reviews: &recovery.ReviewChoices{Weeks: 8, Attendees: "My sister", Place: "The café"}},
	Response: recovery.PlanSaved{PersonID: 7, Version: 3, Changed: []string{"what_matters", "reviews.weeks"}}}

var opListGoals = APIOp{Summary: "A person's goals", Tag: "Recovery", Query: personIDParam, Response: []recovery.Goal{exampleGoal}}

// GoalSaved is a goal as saved, with signposting when its words sounded
// like distress.
type GoalSaved struct {
	recovery.Goal
	Signpost *recovery.Signposting `json:"signpost,omitempty" doc:"Present when what was written sounded like the person may be in distress: how to get help now."`
}

var opCreateGoal = APIOp{Summary: "Set a goal, in the person's own words", Tag: "Recovery", Status: http.StatusCreated, Query: personIDParam,
	Request:  recovery.NewGoal{Description: "Go back to the walking group", WhoHelps: "Kofi", TargetDate: "2027-01-31", Steps: []recovery.Step{{Description: "Find out when it meets"}}},
	Response: GoalSaved{Goal: exampleGoal}}

var opGetGoal = APIOp{Summary: "One goal", Tag: "Recovery", Query: id, Response: exampleGoal}

var opPatchGoal = APIOp{Summary: "Change a goal: its words, steps, who helps, target date or progress", Tag: "Recovery", Query: id,
	Description: "Fields left out stay as they are; steps, when sent, replace the list. A stale version answers 409.",
	Request:     recovery.GoalChange{Version: 2, Progress: new(recovery.Achieved)}, Response: GoalSaved{Goal: exampleGoal}}

var opGetDialog = APIOp{Summary: "A person's DIALOG+ sessions, newest first, with the actions agreed last time", Tag: "Recovery", Query: personIDParam,
	Response: recovery.Dialog{PersonID: 7, PersonName: "Sam", Sessions: []recovery.Session{exampleDialogSession}, LastActions: exampleDialogSession.Discussions}}

var opPostDialog = APIOp{Summary: "Record DIALOG+: the person on their own, or with a worker", Tag: "Recovery", Status: http.StatusCreated, Query: personIDParam,
	Description: "All eleven items rated 1 (totally dissatisfied) to 7 (totally satisfied), each with more_help; up to three discussions through the four steps. " +
		"Item codes: " + strings.Join(recovery.ItemCodes(), ", ") + ".",
	Request:  recovery.NewSession{Stage: recovery.StageReview, Ratings: exampleRatings, Discussions: exampleDialogSession.Discussions, Followup: "Went to the group twice"},
	Response: recovery.Saved{ID: 31}}

var opGetDialogSession = APIOp{Summary: "One DIALOG+ session, however old", Tag: "Recovery", Query: id, Response: exampleDialogSession}

var opGetReview = APIOp{Summary: "One review, however old", Tag: "Recovery", Query: id, Response: exampleReview}

var opListReviews = APIOp{Summary: "A person's reviews: the next one first, then those held", Tag: "Recovery", Query: personIDParam,
	Response: []recovery.Review{exampleReview}}

var opPostReview = APIOp{Summary: "Record a review held with the person and set the next, or plan the next one", Tag: "Recovery", Status: http.StatusCreated, Query: personIDParam,
	Description: "After a review the next is set in the weeks the person chose, with the people they chose, unless next says otherwise. " +
		"When a review is planned, send its id as planned_review_id: a review recorded or moved since answers 409.",
	Request: recovery.NewReview{Held: true, PlannedID: 5, Attendees: "Sam, their sister, Kofi", Reviewed: "Goals, DIALOG+ and the crisis plan",
		Agreed: "Keep going to the walking group; look at volunteering"},
	Response: exampleReview}

var opReviewsDue = APIOp{Summary: "Reviews overdue or due in the next two weeks, for the people you support (a lead: your teams')", Tag: "Recovery",
	Response: []recovery.DueReview{{PersonID: 7, PersonName: "Sam", ReferralID: 42, TeamName: "North Community Team", WorkerName: "Kofi Asante",
		DueAt: exampleTime, Planned: true, Place: "The café", Overdue: true, DaysOverdue: 3}}}

var opOutcomes = APIOp{Summary: "Outcomes: DIALOG+ change with 95% intervals, goals, reviews on time, feedback answered on time and leading to change", Tag: "Insight",
	Query:       period,
	Description: "Counts from 1 to 4, and figures over fewer than 5 people, are suppressed: null, with suppressed true.",
	Response: recovery.Outcomes{From: "2025-11-01", To: "2026-10-31", Teams: []int64{3}, PeopleWithRepeatDialog: recovery.Figure{Value: &one},
		Items: []recovery.ItemOutcome{{Item: "mental_health", Label: "Mental health", People: recovery.Figure{Value: &one}, FirstMean: new(3.2), LaterMean: new(4.1),
			Change: new(0.9), Lower95: new(0.3), Upper95: new(1.5)}, {Item: "job", Label: "Job situation", People: recovery.Figure{Suppressed: true}, Suppressed: true}},
		GoalsSet: recovery.Figure{Value: &one}, GoalsAchieved: recovery.Figure{Suppressed: true}, SuppressBelow: 5}}

func (s *Server) apiGetRecoveryPlan(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pv, err := s.recovery.GetPlan(r.Context(), principal(r), pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pv)
}

func (s *Server) apiPutPlan(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in recovery.PlanChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	saved, err := s.recovery.SavePlan(r.Context(), principal(r), pid, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, saved)
}

func (s *Server) apiListGoals(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	goals, err := s.recovery.ListGoals(r.Context(), principal(r), pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, goals)
}

func (s *Server) apiCreateGoal(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in recovery.NewGoal
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, saved, err := s.recovery.CreateGoal(r.Context(), principal(r), pid, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/goals/"+strconv.FormatInt(g.ID, 10))
	return writeJSON(w, http.StatusCreated, GoalSaved{Goal: g, Signpost: saved.Signpost})
}

func (s *Server) apiGetGoal(w http.ResponseWriter, r *http.Request) error {
	gid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := s.recovery.GetGoal(r.Context(), principal(r), gid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) apiGetDialogSession(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	se, err := s.recovery.GetSession(r.Context(), principal(r), sid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, se)
}

func (s *Server) apiGetReview(w http.ResponseWriter, r *http.Request) error {
	rid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rv, err := s.recovery.GetReview(r.Context(), principal(r), rid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rv)
}

func (s *Server) apiPatchGoal(w http.ResponseWriter, r *http.Request) error {
	gid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in recovery.GoalChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, saved, err := s.recovery.UpdateGoal(r.Context(), principal(r), gid, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, GoalSaved{Goal: g, Signpost: saved.Signpost})
}

func (s *Server) apiGetDialog(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.recovery.GetDialog(r.Context(), principal(r), pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiPostDialog(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in recovery.NewSession
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	saved, err := s.recovery.RecordSession(r.Context(), principal(r), pid, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/fhir/R4/QuestionnaireResponse/"+strconv.FormatInt(saved.ID, 10))
	return writeJSON(w, http.StatusCreated, saved)
}

func (s *Server) apiListReviews(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rs, err := s.recovery.ListReviews(r.Context(), principal(r), pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rs)
}

func (s *Server) apiPostReview(w http.ResponseWriter, r *http.Request) error {
	pid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in recovery.NewReview
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	rv, err := s.recovery.RecordReview(r.Context(), principal(r), pid, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, rv)
}

func (s *Server) apiReviewsDue(w http.ResponseWriter, r *http.Request) error {
	due, err := s.recovery.ReviewsDue(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, due)
}

// outcomeQuery reads the period and teams of an outcomes request.
func (s *Server) outcomeQuery(r *http.Request) (recovery.OutcomeQuery, error) {
	q := r.URL.Query()
	p, err := insight.ParsePeriod(q.Get("from"), q.Get("to"), s.clock.Now())
	if err != nil {
		return recovery.OutcomeQuery{}, err
	}
	oq := recovery.OutcomeQuery{From: p.From, To: p.To.AddDate(0, 0, 1)}
	for _, v := range q["team"] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil || id <= 0 {
				return oq, invalidTeam()
			}
			oq.Teams = append(oq.Teams, id)
		}
	}
	return oq, nil
}

func (s *Server) apiOutcomes(w http.ResponseWriter, r *http.Request) error {
	q, err := s.outcomeQuery(r)
	if err != nil {
		return err
	}
	o, err := s.recovery.Outcomes(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}
