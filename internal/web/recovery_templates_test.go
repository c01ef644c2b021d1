package web

import (
	"time"

	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, recoveryTplCases) }

func tplSessions() []recovery.Session {
	var out []recovery.Session
	for i := range 3 {
		s := recovery.Session{ID: int64(10 - i), PersonID: 7, At: tNow.AddDate(0, -3*i, 0), Stage: recovery.StageReview, Alone: i == 1, RecordedBy: "Kofi Asante"}
		for j, it := range recovery.Items {
			s.Ratings = append(s.Ratings, recovery.Rating{Item: it.Code, Rating: 1 + (i+j)%7, MoreHelp: j == 2})
		}
		if i == 0 {
			s.Discussions = []recovery.Discussion{{Item: recovery.Job, Understanding: "Misses work", LookingForward: "Volunteering", Options: "Centre",
				Actions: "Call the volunteer centre by Friday"}}
			s.Followup = "Went to the group twice"
		}
		out = append(out, s)
	}
	return out
}

func tplPlanView(self, shared bool) recovery.PlanView {
	held := tEarlier
	late := false
	pv := recovery.PlanView{PersonID: 7, PersonName: "Sam", Self: self, StaffView: !self, PersonHasAccount: true,
		Plan: recovery.Plan{PersonID: 7, Version: 3, WhatMatters: "My allotment.\nMy dog.", ShareWithCareTeam: shared,
			Reviews: recovery.ReviewChoices{Weeks: 8, Attendees: "My sister", Place: "The café"}, UpdatedAt: &tNow, UpdatedBy: "Sam"},
		History: []recovery.PlanVersion{{Version: 3, At: tNow, By: "Kofi Asante", ByRole: "peer_worker", DraftedWithWorker: true,
			Changes: []recovery.Change{{Section: "what_matters", Label: "What matters to me", Before: "My allotment.", After: "My allotment.\nMy dog."},
				{Section: "crisis.early_signs", Label: "Crisis plan: early signs", Withheld: true}}}},
		Goals: []recovery.Goal{{ID: 12, PersonID: 7, Version: 2, Description: "Go back to the walking group", Progress: recovery.OnTheWay, WhoHelps: "Kofi",
			TargetDate: "2027-01-31", Steps: []recovery.Step{{Description: "Find out when", Done: true}, {Description: "Go once"}}, CreatedAt: tEarlier, CreatedBy: "Sam", UpdatedAt: tNow}},
		NextReview: &recovery.Review{ID: 5, Status: "planned", DueAt: tNow.Add(7 * 24 * time.Hour), Place: "The café", Attendees: "My sister"},
		Reviews:    []recovery.Review{{ID: 4, Status: "held", DueAt: tEarlier, HeldAt: &held, OnTime: &late, Attendees: "Sam, Kofi", Reviewed: "Goals", Agreed: "Keep going"}},
	}
	if self || shared {
		pv.Plan.Crisis = &recovery.CrisisPlan{EarlySigns: "Not sleeping", WhatHelps: "Walks", Contacts: "My sister", NotWanted: "Admission far away"}
		pv.Plan.Advance = &recovery.AdvanceChoices{WouldNotTake: "Olanzapine"}
	} else {
		pv.Plan.Withheld = true
	}
	sm, _ := recovery.Summarise(tplSessions())
	pv.Dialog = &sm
	return pv
}

func recoveryTplCases() []tplCase {
	sessions := tplSessions()
	sm, _ := recovery.Summarise(sessions)
	charts := recovery.Charts(sessions, time.UTC)
	dialog := recovery.Dialog{PersonID: 7, PersonName: "Sam", Sessions: sessions, LastActions: sessions[0].Discussions, Prefill: &sessions[1]}
	formData := func(self bool) dialogFormData {
		d := dialogFormData{Dialog: dialog, Self: self, Base: "/people/7", Items: recovery.Items, Slots: []int{1, 2, 3},
			YesNo: []ui.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}}
		for i := 1; i <= 7; i++ {
			d.Scale = append(d.Scale, ui.Option{Value: string(rune('0' + i)), Label: string(rune('0' + i))})
		}
		d.Stages = []ui.Option{{Value: "start", Label: "At the start"}, {Value: "review", Label: "At a review"}}
		d.ItemOptions = []ui.Option{{Value: "", Label: "Choose an item"}, {Value: "job", Label: "Job situation"}}
		if self {
			d.Base = "/my"
		}
		return d
	}
	one, two := 12, 3
	outcomes := recovery.Outcomes{From: "2025-11-01", To: "2026-10-31", PeopleWithRepeatDialog: recovery.Figure{Value: &one}, SuppressBelow: 5,
		Items: []recovery.ItemOutcome{{Item: "mental_health", Label: "Mental health", People: recovery.Figure{Value: &one}, FirstMean: new(3.2), LaterMean: new(4.1),
			Change: new(0.9), Lower95: new(0.3), Upper95: new(1.5)}, {Item: "job", Label: "Job situation", People: recovery.Figure{Suppressed: true}, Suppressed: true}},
		Overall:  recovery.ItemOutcome{Item: "mean", Label: "All eleven items (mean)", People: recovery.Figure{Value: &one}, Change: new(-0.2), Lower95: new(-0.5), Upper95: new(0.1)},
		GoalsSet: recovery.Figure{Value: &one}, GoalsAchieved: recovery.Figure{Suppressed: true}, ReviewsHeld: recovery.Figure{Value: &two},
		ReviewsOnTimeShare: recovery.Share{Value: new(0.75)}, FeedbackAnsweredShare: recovery.Share{Suppressed: true}}
	fb := exampleFeedback
	fb.Concern = true
	fb.AboutWorkerID = 11
	fb.History = []recovery.FeedbackEvent{{At: tEarlier, By: "The person who gave it", To: recovery.Received}, {At: tNow, By: "Lee", Role: "peer_lead", From: recovery.Received, To: recovery.Acknowledged, Note: "Read"}}
	themes := []ui.Option{{Value: "", Label: "Choose a theme"}, {Value: "groups", Label: "Groups and activities"}}
	item := func(next recovery.FeedbackStatus, errs ...string) tplCase {
		f := fb
		f.Next = next
		form := withErrors(formOf("version", "3", "to", string(next)), errs...)
		return tplCase{page: "feedback/item", variant: string(next), pg: &ui.Page{Title: "Feedback " + f.Reference, Form: form, Data: feedbackItemData{Feedback: f, Themes: themes}}}
	}
	return []tplCase{
		{page: "recovery/plan", variant: "own", pg: &ui.Page{Title: "My plan", Data: recoveryPlanData{PlanView: tplPlanView(true, false), Base: "/my", Signpost: true}},
			want: []string{"Only you can see this part", "Not sleeping", "tel:116123", "drafted with you", "Later than planned"}},
		{page: "recovery/plan", variant: "staff, not shared", pg: &ui.Page{Title: "Sam's plan", Data: recoveryPlanData{PlanView: tplPlanView(false, false), Base: "/people/7"}},
			want: []string{"not chosen to share", "not shared with you", "Record a review"}, notWant: []string{"Not sleeping"}},
		{page: "recovery/plan", variant: "nothing yet", pg: &ui.Page{Title: "My plan", Data: recoveryPlanData{PlanView: recovery.PlanView{Self: true, Plan: recovery.Plan{Reviews: recovery.ReviewChoices{Weeks: 12}}}, Base: "/my"}}},
		{page: "recovery/plan-edit", variant: "own", pg: &ui.Page{Title: "Change my plan",
			Form: withErrors(formOf("version", "3", "what_matters", "x", "reviews.weeks", "99", "share_with_care_team", "no"), "reviews.weeks", "Choose how often reviews happen: every 1 to 52 weeks", "crisis.early_signs", "Early signs must be 4000 characters or fewer"),
			Data: planEditData{PlanView: tplPlanView(true, false), Base: "/my", Private: true, Consent: true, YesNo: []ui.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}}}},
		{page: "recovery/plan-edit", variant: "staff, not shared", pg: &ui.Page{Title: "Change Sam's plan with them", Form: formOf("version", "3"),
			Data: planEditData{PlanView: tplPlanView(false, false), Base: "/people/7"}}, notWant: []string{"crisis.early_signs"}},
		{page: "recovery/goals", pg: &ui.Page{Title: "My goals", Form: withErrors(formOf("description", ""), "description", "Write the goal in your own words", "target_date", "Enter the date as numbers"),
			Data: goalsPageData{Self: true, Base: "/my", Goals: tplPlanView(true, false).Goals, Signpost: true}}},
		{page: "recovery/goal", pg: &ui.Page{Title: "Change a goal", Form: withErrors(formOf("version", "2", "step.1", "Find out when", "done", "1"), "step.2", "A step must be 300 characters or fewer"),
			Data: goalPageData{Goal: tplPlanView(true, false).Goals[0], Progresses: []ui.Option{{Value: "not_started", Label: "Not started"}, {Value: "achieved", Label: "Achieved"}}, Rows: []int{1, 2, 3}, Back: "/my/goals"}}},
		{page: "recovery/dialog", pg: &ui.Page{Title: "My DIALOG+ ratings", Data: dialogPageData{Dialog: dialog, Self: true, Base: "/my", Summary: &sm, Charts: charts}},
			want: []string{`role="img"`, "chart-mental-health-title", "Compared with last time", "Call the volunteer centre"}},
		{page: "recovery/dialog", variant: "empty", pg: &ui.Page{Title: "My DIALOG+ ratings", Data: dialogPageData{Self: true, Base: "/my"}}},
		{page: "recovery/dialog-new", variant: "own", pg: &ui.Page{Title: "Fill in DIALOG+", Form: withErrors(formOf("rating.job", "9"), "rating.job", "Choose a rating for job situation from 1 (totally dissatisfied) to 7 (totally satisfied)", "help.job", "Say whether you would like more help with job situation", "d2.item", "Choose which item this conversation is about"),
			Data: formData(true)}},
		{page: "recovery/dialog-new", variant: "worker", pg: &ui.Page{Title: "DIALOG+ with Sam", Form: formOf("stage", "review"), Data: formData(false)}, want: []string{"filled in their ratings"}},
		{page: "recovery/review-new", pg: &ui.Page{Title: "Reviews with Sam", Form: withErrors(formOf("planned_review_id", "5"), "reviewed", "Say what was reviewed and what was agreed", "next_at", "The next review must be in the future", "plan_at-time", "Enter the time like 14:30"),
			Data: reviewFormData{PlanView: tplPlanView(false, true), Base: "/people/7"}}},
		{page: "recovery/reviews-due", pg: &ui.Page{Title: "Reviews due", Data: []recovery.DueReview{{PersonID: 7, PersonName: "Sam", DueAt: tEarlier, Overdue: true, DaysOverdue: 3, Planned: true, Place: "Café"},
			{PersonID: 8, PersonName: "Jo", DueAt: tNow}}}, want: []string{"Overdue by 3 days", "(not arranged)"}},
		{page: "recovery/reviews-due", variant: "none", pg: &ui.Page{Title: "Reviews due", Data: []recovery.DueReview{}}},
		{page: "recovery/outcomes", pg: &ui.Page{Title: "Recovery and voice outcomes", Form: formOf("from", "2025-11-01", "to", "2026-10-31"),
			Data: outcomesPageData{Outcomes: &outcomes, Teams: []ui.Option{{Value: "", Label: "All teams"}, {Value: "3", Label: "North"}}}},
			want: []string{"&#43;0.9", "&#43;0.3 to &#43;1.5", "−0.2", "&lt;5", "75%"}},
		{page: "recovery/outcomes", variant: "bad period", pg: &ui.Page{Title: "Recovery and voice outcomes", Form: withErrors(formOf("from", "x"), "from", "from must be a date like 2025-11-01"),
			Data: outcomesPageData{Teams: []ui.Option{{Value: "", Label: "All teams"}}}}},
		{page: "feedback/give", pg: &ui.Page{Title: "Give feedback", Form: withErrors(formOf("who", "named"), "about", "Choose what your feedback is about", "body", "Tell us what you would like to say", "email", "Enter an email address"),
			Data: feedbackFormData{Abouts: []ui.Option{{Value: "worker", Label: "A peer support worker"}, {Value: "service", Label: "The service"}}, Teams: tplFormOptions().Teams,
				Workers: []ui.Option{{Value: "", Label: "Someone else"}, {Value: "11", Label: "Kofi Asante"}}, Who: []ui.Option{{Value: "named", Label: "Yes"}, {Value: "anonymous", Label: "No"}}, SignedIn: "Sam"}}},
		{page: "feedback/thanks", pg: &ui.Page{Title: "Thank you for your feedback", Data: feedbackThanksData{Reference: "FB-7KQ3-X9PD", Link: "https://mutual.test/feedback/status/abc", Signpost: true, Days: 5}},
			want: []string{"FB-7KQ3-X9PD", "tel:999", "within 5 working days"}},
		{page: "feedback/thanks", variant: "no cookie", pg: &ui.Page{Title: "Thank you for your feedback", Data: feedbackThanksData{}}},
		{page: "feedback/status", pg: &ui.Page{Title: "Your feedback FB-7KQ3-X9PD", Data: recovery.OwnFeedback{Reference: "FB-7KQ3-X9PD", Status: recovery.Changed,
			About: recovery.AboutGroup, ReceivedAt: tEarlier, AcknowledgedAt: &tEarlier, AnsweredAt: &tNow, ChangedAt: &tNow, AnswerBy: tNow, AcknowledgeBy: tNow,
			Answer: "We will", ChangeMade: "Evening group"}}, want: []string{"Evening group"}},
		{page: "feedback/mine", pg: &ui.Page{Title: "Your feedback", Data: []recovery.OwnFeedback{{Reference: "FB-7KQ3-X9PD", Status: recovery.Received, About: recovery.AboutService,
			Body: "Thanks", ReceivedAt: tNow, AcknowledgeBy: tNow, AnswerBy: tNow}}}},
		{page: "feedback/mine", variant: "none", pg: &ui.Page{Title: "Your feedback", Data: []recovery.OwnFeedback{}}},
		{page: "feedback/you-said-index", pg: &ui.Page{Title: "You said, we did", Data: []recovery.PublicTeam{{ID: 3, Name: "North"}}}},
		{page: "feedback/you-said-index", variant: "none", pg: &ui.Page{Title: "You said, we did", Data: []recovery.PublicTeam{}}},
		{page: "feedback/you-said", pg: &ui.Page{Title: "You said, we did: North", Data: func() recovery.YouSaidWeDid {
			y := opYouSaid.Response.(recovery.YouSaidWeDid)
			y.SuppressBelow = 5
			y.Published = append(y.Published, recovery.Published{Label: "Thanks", YouSaid: "Brilliant group", Quoted: true, WeDid: "Told them", AnsweredAt: tNow, Changed: "Nothing"})
			return y
		}()}, want: []string{"&lt;5", "“Brilliant group”"}},
		{page: "feedback/inbox", pg: &ui.Page{Title: "Feedback", Form: formOf("status", ""), Data: feedbackInboxData{Page: recovery.FeedbackPage{Items: []recovery.Feedback{fb, exampleFeedback}, Total: 2},
			Statuses: []ui.Option{{Value: "", Label: "Any"}, {Value: "received", Label: "Received"}}}}, want: []string{"May be in distress"}},
		{page: "feedback/inbox", variant: "empty", pg: &ui.Page{Title: "Feedback", Form: formOf(), Data: feedbackInboxData{Statuses: []ui.Option{{Value: "", Label: "Any"}}}}},
		item(recovery.Acknowledged),
		item(recovery.Considered, "theme", "Choose what the feedback is about"),
		item(recovery.Answered, "answer", "Say what we will do, or why not", "public_summary", "Write what was said"),
		item(recovery.Changed, "change_made", "Say what changed"),
		{page: "feedback/item", variant: "worker's view", pg: &ui.Page{Title: "Feedback FB-1", Form: formOf(), Data: feedbackItemData{Feedback: recovery.Feedback{ID: 1, Reference: "FB-1",
			Status: recovery.Answered, About: recovery.AboutWorker, Body: "Kind words", ReceivedAt: tNow, AnsweredAt: &tNow, Answer: "Thanks"}}}, notWant: []string{"Who gave it", `action="/feedback/inbox/1/transitions"`}},
	}
}
