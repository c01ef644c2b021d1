package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching"
)

// StalePlanProblem is the 409 answer to committing a plan that is out of
// date: what changed since it was made.
type StalePlanProblem struct {
	Problem
	Changes []matching.PlanChange `json:"changes,omitempty" doc:"What changed since the plan was made (for a stale plan)."`
}

var (
	exampleChoices = matching.Choices{WorkerGender: "woman", WorkerGenderMust: true, Languages: []string{"Polish"}, Themes: []string{"psychosis", "parent"},
		Places: []string{"community", "phone"}, Days: []string{"tue", "thu"}, Times: []string{"afternoon"}, ReviewFrequency: "every_3_months",
		ReviewWith: []string{"peer_worker", "care_coordinator"}, AvoidTopics: "My brother"}
	exampleProfile = matching.ChoiceProfile{PersonID: 7, Version: 2, Choices: exampleChoices,
		History: []matching.ChoiceVersion{{Version: 2, RecordedAt: exampleTime, RecordedBy: "Kofi Asante", RecordedByRole: "peer_worker", WithPerson: true, Choices: exampleChoices}},
		Themes:  []matching.Theme{{Code: "psychosis", Label: "Psychosis or hearing voices"}, {Code: "parent", Label: "Being a parent"}}}
	exampleDisclosure = matching.Disclosure{ID: 11, WorkerID: 21, Text: "I spent time on an acute ward in my twenties.", Themes: []string{"ward"},
		ThemeLabels: []string{"Being on a ward"}, Audience: matching.AudienceSupported, ForMatching: true, Version: 1, CreatedAt: exampleTime, UpdatedAt: exampleTime}
	exampleWorkerProfile = matching.WorkerProfile{WorkerID: 21, Name: "Kofi Asante", Version: 3, Teams: []matching.TeamRef{{ID: 3, Name: "North Community Team"}},
		Capacity:      matching.Capacity{HoursPerWeek: 22.5, Reductions: []matching.Reduction{{ID: 2, Percent: 50, StartsOn: "2026-11-02", EndsOn: "2026-11-29", Note: "Phased return"}}},
		HoursRecorded: true, Details: matching.WorkerDetails{Languages: []string{"English", "Twi"}, Settings: []string{"community"}, Places: []string{"community", "phone"},
			Days: []string{"mon", "tue", "thu"}, Times: []string{"morning", "afternoon"}, Areas: "North of the river"},
		PeoplePerFTE: 14, FullTimeHours: 37.5, HoursCap: 8, Cap: 8, CapNow: 4, Caseload: 3, FreeCapacity: 1, OverCap: []matching.OverCap{},
		MayEdit: matching.EditRights{Capacity: true}, UpdatedAt: &exampleTime}
	examplePlan = matching.Plan{ID: 5, Teams: []int64{3}, CreatedAt: exampleTime,
		Assignments: []matching.Assignment{{ReferralID: 42, WorkerID: 21, Choice: 1, Met: []string{"A woman (a must)"}, Unmet: []string{"Speaks Polish"}}},
		Unmatched:   []matching.Unmatched{{ReferralID: 43, Why: "Every worker they could have is full with people ahead of them in the service's order."}},
		People: []matching.PlanPerson{{ReferralID: 42, Reference: "MUT-7KQ3-X9PD", PersonID: 7, PersonName: "Sam", TeamID: 3, Urgency: "urgent", Urgent: true, DaysWaited: 31,
			RankedWorkers:  []matching.RankedWorker{{WorkerID: 21, Rank: 1, Met: []string{"A woman (a must)"}, Unmet: []string{"Speaks Polish"}, Outcome: "allocated"}},
			MoreConsidered: []int64{}, Acceptable: 1, NotAcceptable: []matching.NotAcceptable{{WorkerID: 22, Why: "Does not meet a must: A woman (a must)"}}, ChoicesMade: true}},
		Workers:  []matching.PlanWorker{{WorkerID: 21, Name: "Kofi Asante", Teams: []int64{3}, Cap: 8, Caseload: 7, FreeCapacity: 1, Takes: 1, Priority: []int64{42, 43}}},
		RankRule: matching.RankRule, Priority: matching.PriorityRule, Summary: matching.PlanSummary{People: 2, Allocated: 1, Unmatched: 1}}
)

var workerItem = append(slices.Clone(id), Param{Name: "item", In: "path", Type: "integer", Required: true, Description: "The disclosure's id."})

var opMyChoices = APIOp{Summary: "Your choices about your peer support, and who your worker is with what they share with you", Tag: "Choices",
	Description: "Reading this records, for your worker, which of their disclosures you were shown.",
	Response: matching.MyChoices{ChoiceProfile: exampleProfile, Workers: []matching.MyWorker{{WorkerID: 21, Name: "Kofi Asante", ReferralID: 42,
		Reference: "MUT-7KQ3-X9PD", Status: "active", Shared: []matching.Disclosure{exampleDisclosure}}}}}

var opSaveMyChoices = APIOp{Summary: "Record your choices: a new version", Tag: "Choices",
	Description: "Every field is optional; leaving one out means no preference. A stale version answers 409.",
	Request:     matching.SaveChoices{Choices: exampleChoices, Version: 1}, Response: exampleProfile}

var opPersonChoices = APIOp{Summary: "A person's choices, with every version: what was recorded, by whom and when", Tag: "Choices", Query: id,
	Response: exampleProfile}

var opSavePersonChoices = APIOp{Summary: "Record a person's choices with them (staff)", Tag: "Choices", Query: id,
	Description: "Only with the person: with_person must be true. A stale version answers 409.",
	Request:     matching.SaveChoices{Choices: exampleChoices, Version: 1, WithPerson: true}, Response: exampleProfile}

var opWorkerChange = APIOp{Summary: "Ask for a different peer worker, without giving a reason", Tag: "Choices",
	Description: "The team's leads are told, and matching leaves that worker out for you from then on.",
	Request:     matching.WorkerChange{ReferralID: 42}, Response: matching.WorkerChangeResult{ReferralID: 42, WorkerID: 21, RecordedAt: exampleTime}}

var opWorkerProfile = APIOp{Summary: "A peer worker's profile: hours, caseload cap and what matching may use (the worker and their leads)", Tag: "Workers", Query: id,
	Response: exampleWorkerProfile}

var opSaveWorkerProfile = APIOp{Summary: "Change a peer worker's profile: the worker their details, a lead their capacity", Tag: "Workers", Query: id,
	Description: "Each part (details, capacity) is replaced whole when given and left alone when not. A part you may not change answers 403. A stale version answers 409.",
	Request: matching.SaveWorkerProfile{Version: 3, Capacity: &matching.Capacity{HoursPerWeek: 22.5,
		Reductions: []matching.Reduction{{Percent: 50, StartsOn: "2026-11-02", EndsOn: "2026-11-29", Note: "Phased return"}}}},
	Response: exampleWorkerProfile}

var opDisclosures = APIOp{Summary: "A peer worker's lived-experience disclosures that you may see", Tag: "Workers", Query: id,
	Description: "Only items whose audience includes you; nothing says whether there are others. Each read is recorded for the worker.",
	Response:    matching.Disclosures{WorkerID: 21, Name: "Kofi Asante", Items: []matching.Disclosure{exampleDisclosure}, Themes: []matching.Theme{}}}

var opAddDisclosure = APIOp{Summary: "Add one of your own disclosures", Tag: "Workers", Query: id, Status: http.StatusCreated,
	Request:  matching.NewDisclosure{Text: "I spent time on an acute ward in my twenties.", Themes: []string{"ward"}, Audience: matching.AudienceSupported, ForMatching: true},
	Response: exampleDisclosure}

var opChangeDisclosure = APIOp{Summary: "Change one of your own disclosures, with immediate effect", Tag: "Workers", Query: workerItem,
	Description: "Fields left out stay as they are. An item not shared with you answers 404; one shared with you but not yours answers 403.",
	Request:     matching.DisclosureChange{Version: 1, Audience: new(matching.AudienceNobody)}, Response: exampleDisclosure}

var opWithdrawDisclosure = APIOp{Summary: "Withdraw one of your own disclosures: it is deleted at once", Tag: "Workers", Query: workerItem, Status: http.StatusNoContent}

var opDisclosureReads = APIOp{Summary: "Who has been shown your disclosures (the worker only)", Tag: "Workers", Query: id,
	Response: []matching.DisclosureRead{{At: exampleTime, ReaderName: "Jess Taylor", ReaderRole: "peer_lead", Items: []int64{11}}}}

var opMatches = APIOp{Summary: "Ranked workers for one referral, with the choices each meets and does not, and free places (leads)", Tag: "Matching", Query: id,
	Response: matching.Shortlist{ReferralID: 42, Reference: "MUT-7KQ3-X9PD", PersonID: 7, PersonName: "Sam", TeamID: 3, TeamName: "North Community Team",
		Status: "accepted", Version: 2, ChoicesVersion: 2, Choices: []string{"A woman (a must)", "Speaks Polish"}, AskedNotToHave: []matching.AskedNotToHave{},
		MustsNobodyMeets: []string{}, RankRule: matching.RankRule,
		Workers: []matching.ShortlistWorker{{WorkerID: 21, Name: "Kofi Asante", Rank: 1, Acceptable: true, Met: []string{"A woman (a must)"}, Unmet: []string{"Speaks Polish"},
			FreeCapacity: 1, Cap: 8, Caseload: 7}}}}

var opProposePlan = APIOp{Summary: "Plan the allocation of whole waiting lists: a stable matching, explained", Tag: "Matching", Status: http.StatusCreated,
	Description: "People propose to workers in the order of their choices; workers keep people in the service's order; nobody goes over their cap. " +
		"The answer holds everything needed to check the plan independently. Commit it, edited as needed, with POST /api/v1/allocation-plans/{id}/commit.",
	Request: matching.NewPlan{Teams: []int64{3}}, Response: examplePlan}

var opGetPlan = APIOp{Summary: "A plan made earlier", Tag: "Matching", Query: id, Response: examplePlan}

var opCommitPlan = APIOp{Summary: "Commit a plan, edited as needed, in one transaction", Tag: "Matching", Query: id,
	Description: "All or nothing. A plan made before the waiting list, the workers or the people's choices changed answers 409 with changes.",
	Request:     matching.CommitPlan{Assignments: []matching.PlanLine{{ReferralID: 42, WorkerID: 21}}},
	Response:    matching.Committed{ID: 5, CommittedAt: exampleTime, Allocated: examplePlan.Assignments, Waiting: []int64{43}},
	Conflict: StalePlanProblem{Problem: Problem{Type: "https://mutual.example/problems/conflict", Title: "Conflict", Status: http.StatusConflict,
		Detail: "This plan is out of date: 1 thing has changed since it was made. Nothing was allocated. Make a new plan."},
		Changes: []matching.PlanChange{{ReferralID: 44, What: "MUT-PQ4R-7TXA joined the waiting list"}}}}

var opReassignments = APIOp{Summary: "People in the teams you lead whose peer worker has left or will be away 14 days or more", Tag: "Matching",
	Description: "A worker has left when their account is closed; away when a capacity reduction to 0% of 14 days or more has begun or begins within a week. " +
		"Reallocate each from its referral (POST /api/v1/referrals/{id}/transitions, to: allocated): appointments still to come go to the new worker when free.",
	Response: []matching.Reassignment{{ReferralID: 42, Reference: "MUT-2026-0042", PersonID: 7, PersonName: "Sam", TeamID: 1, WorkerID: 9,
		WorkerName: "Priya Shah", Why: matching.WhyWorkerAway, AwayFrom: "2026-11-03", AwayUntil: "2026-11-23"}}}

func (s *Server) apiReassignments(w http.ResponseWriter, r *http.Request) error {
	list, err := s.matching.NeedsReassignment(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

var opChoiceInsight = APIOp{Summary: "Unmet choices by kind, team and month; allocations meeting every choice; days to allocation; caseload against cap", Tag: "Insight",
	Description: "Counts from 1 to 4 are withheld (null, suppressed: true). Workers are named only for service managers.",
	Query: []Param{{Name: "from", In: "query", Type: "string", Description: "First day, YYYY-MM-DD (default: a year before to)."},
		{Name: "to", In: "query", Type: "string", Description: "Last day, YYYY-MM-DD (default: today)."},
		{Name: "team", In: "query", Type: "integer", Description: "Limit to a team; repeat for several."}},
	Response: matching.ChoiceInsight{From: "2025-11-03", To: "2026-11-02", Threshold: 5,
		UnmetByKind: []matching.KindCount{{Kind: "language", Label: "Language", Count: new(12)}, {Kind: "gender", Label: "The worker's gender", Suppressed: true}},
		Unmet:       []matching.UnmetCell{{TeamID: 3, Team: "North Community Team", Month: "2026-10", Kind: "language", Label: "Language", Count: new(7)}},
		Allocations: []matching.AllocationShare{{TeamID: 3, Team: "North Community Team", Allocations: new(40), WithChoices: new(25), EveryChoiceMet: new(18), Share: new(0.72)}},
		Waits:       []matching.AllocationWait{{TeamID: 3, Team: "North Community Team", Allocations: new(40), MedianDays: new(12.0), P90Days: new(30.0)}},
		Caseloads:   []matching.WorkerLoad{{Worker: "Worker A", Teams: []string{"North Community Team"}, Caseload: 9, Cap: 8, Over: true}}}}

var opMatchingSettings = APIOp{Summary: "An organisation's matching settings: shared-experience themes and people per full-time worker", Tag: "Matching", Query: id,
	Response: matching.Settings{OrganisationID: 1, OrganisationName: "Riverside NHS Foundation Trust", PeoplePerFTE: 14, FullTimeHours: 37.5,
		Themes: []matching.Theme{{Code: "psychosis", Label: "Psychosis or hearing voices"}}, Default: true}}

var opSaveMatchingSettings = APIOp{Summary: "Replace an organisation's matching settings (administrators)", Tag: "Matching", Query: id,
	Request: matching.SettingsChange{PeoplePerFTE: 14, FullTimeHours: 37.5, Themes: []matching.Theme{{Code: "psychosis", Label: "Psychosis or hearing voices"},
		{Label: "Being a young carer"}}},
	Response: matching.Settings{OrganisationID: 1, OrganisationName: "Riverside NHS Foundation Trust", PeoplePerFTE: 14, FullTimeHours: 37.5,
		Themes: []matching.Theme{{Code: "psychosis", Label: "Psychosis or hearing voices"}, {Code: "being_a_young_carer", Label: "Being a young carer"}}}}

func (s *Server) apiMyChoices(w http.ResponseWriter, r *http.Request) error {
	mc, err := s.matching.OwnChoices(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, mc)
}

func (s *Server) apiSaveMyChoices(w http.ResponseWriter, r *http.Request) error {
	var in matching.SaveChoices
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	cp, err := s.matching.SaveOwnChoices(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cp)
}

func (s *Server) apiPersonChoices(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cp, err := s.matching.Choices(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cp)
}

func (s *Server) apiSavePersonChoices(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in matching.SaveChoices
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	cp, err := s.matching.SaveChoices(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cp)
}

func (s *Server) apiWorkerChange(w http.ResponseWriter, r *http.Request) error {
	var in matching.WorkerChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.matching.AskForDifferentWorker(r.Context(), principal(r), in.ReferralID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiWorkerProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	wp, err := s.matching.WorkerProfile(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wp)
}

func (s *Server) apiSaveWorkerProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in matching.SaveWorkerProfile
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	wp, err := s.matching.SaveWorkerProfile(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wp)
}

func (s *Server) apiDisclosures(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.matching.ListDisclosures(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiAddDisclosure(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in matching.NewDisclosure
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := s.matching.AddDisclosure(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/workers/"+strconv.FormatInt(id, 10)+"/disclosures/"+strconv.FormatInt(d.ID, 10))
	return writeJSON(w, http.StatusCreated, d)
}

func (s *Server) apiChangeDisclosure(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	item, err := pathID(r, "item")
	if err != nil {
		return err
	}
	var in matching.DisclosureChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := s.matching.ChangeDisclosure(r.Context(), principal(r), id, item, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiWithdrawDisclosure(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	item, err := pathID(r, "item")
	if err != nil {
		return err
	}
	if err := s.matching.WithdrawDisclosure(r.Context(), principal(r), id, item); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiDisclosureReads(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	reads, err := s.matching.DisclosureReads(r.Context(), principal(r), id, 0)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, reads)
}

func (s *Server) apiMatches(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sl, err := s.matching.MatchesFor(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sl)
}

func (s *Server) apiProposePlan(w http.ResponseWriter, r *http.Request) error {
	var in matching.NewPlan
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pl, err := s.matching.ProposePlan(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/allocation-plans/"+strconv.FormatInt(pl.ID, 10))
	return writeJSON(w, http.StatusCreated, pl)
}

func (s *Server) apiGetPlan(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pl, err := s.matching.GetPlan(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pl)
}

func (s *Server) apiCommitPlan(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in matching.CommitPlan
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	done, err := s.matching.Commit(r.Context(), principal(r), id, in)
	var stale *matching.StaleError
	if errors.As(err, &stale) {
		ae := stale.AsAppError()
		writeJSONStatus(w, http.StatusConflict, "application/problem+json", StalePlanProblem{
			Problem: Problem{Type: "https://mutual.example/problems/conflict", Title: problemTitles[ae.Code], Status: http.StatusConflict,
				Detail: ae.Message, Instance: r.URL.Path, RequestID: requestID(r.Context())},
			Changes: stale.Changes})
		return nil
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, done)
}

// choiceInsightQuery reads the period and teams of the choice figures.
func choiceInsightQuery(r *http.Request) (matching.InsightQuery, error) {
	q := r.URL.Query()
	var out matching.InsightQuery
	for _, k := range []string{"from", "to"} {
		v := q.Get(k)
		if v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return out, app.Invalid(app.FieldError{Field: k, Message: k + " must be a date like 2026-11-02"})
		}
		if k == "from" {
			out.From = t
		} else {
			out.To = t
		}
	}
	for _, v := range q["team"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return out, app.Invalid(app.FieldError{Field: "team", Message: "team must be a team's id"})
		}
		out.Teams = append(out.Teams, id)
	}
	return out, nil
}

func (s *Server) apiChoiceInsight(w http.ResponseWriter, r *http.Request) error {
	q, err := choiceInsightQuery(r)
	if err != nil {
		return err
	}
	ins, err := s.matching.Insight(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ins)
}

func (s *Server) apiMatchingSettings(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.matching.Settings(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) apiSaveMatchingSettings(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in matching.SettingsChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	st, err := s.matching.SaveSettings(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
