package web

import (
	"net/url"

	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, matchingTplCases) }

func matchingTplCases() []tplCase {
	own := choicesPageData{Profile: exampleProfile, Opts: choiceFormOpts(exampleProfile.Themes), Own: true, Action: "/my/choices", CanEdit: true,
		Workers: []matching.MyWorker{{WorkerID: 21, Name: "Kofi Asante", ReferralID: 42, Reference: "MUT-7KQ3-X9PD", Shared: []matching.Disclosure{exampleDisclosure}}}}
	bad := choicesForm(exampleChoices, 2)
	bad.AddError("worker_gender", "Choose a gender from the list, or no preference")
	bad.AddError("themes", "Choose shared experiences from the list")
	bad.AddError("avoid_topics", "Things not to talk about must be 2,000 characters or fewer")
	staff := own
	staff.Own, staff.Workers, staff.Action = false, nil, "/people/7/choices"
	staffBad := choicesForm(exampleChoices, 2)
	staffBad.AddError("with_person", "Record a person's choices only with them")

	view := matching.WorkerView{WorkerID: 21, Name: "Kofi Asante", Self: true, Profile: &exampleWorkerProfile,
		Disclosures: []matching.Disclosure{exampleDisclosure, {ID: 12, WorkerID: 21, Text: "I am a parent.", Themes: []string{}, Audience: "nobody", Version: 2}},
		Reads:       []matching.DisclosureRead{{At: exampleTime, ReaderName: "Jess Taylor", ReaderRole: "peer_lead", Items: []int64{11}, Withdrawn: 1}},
		Themes:      exampleProfile.Themes}
	wp := *view.Profile
	wp.MayEdit = matching.EditRights{Details: true, Capacity: true, Disclosures: true}
	wp.OverCap = []matching.OverCap{{ReferralID: 42, Reference: "MUT-7KQ3-X9PD", At: exampleTime, AllocatedBy: "Jess Taylor", Reason: "Asked for Kofi", Caseload: 8, Cap: 8}}
	view.Profile = &wp
	workerData := func(active string, f *ui.Form) workerPageData {
		d := workerPageData{WorkerView: view, Active: active, Genders: []ui.Option{{Value: "", Label: "I would rather not say"}},
			Settings: choiceOptions(matching.WorkerSettings), Places: choiceOptions(matching.Places), Days: choiceOptions(matching.Days),
			Times: choiceOptions(matching.Times), Themes: themeOptions(view.Themes), Audiences: audienceOptions(), Forms: workerForms(view),
			Reductions: []int{0, 1}, MayCapacity: true}
		if f != nil {
			d.Forms[active] = f
		}
		return d
	}
	capBad := workerForms(view)["capacity"]
	capBad.AddError("capacity.hours_per_week", "Hours a week must be more than 0 and at most 60")
	capBad.AddError("capacity.reductions[0].ends_on", "The period must end on or after the day it starts")
	itemBad := ui.NewForm(url.Values{"version": {"1"}, "text": {""}, "audience": {"everyone"}})
	itemBad.AddError("text", "Write a short sentence about the experience, in your own words")
	itemBad.AddError("audience", "Choose who may see this")
	other := view
	other.Self, other.Profile, other.Reads, other.Disclosures = false, nil, nil, view.Disclosures[:1]
	otherData := workerData("", nil)
	otherData.WorkerView, otherData.MayCapacity, otherData.Reductions = other, false, nil

	sl, _ := opMatches.Response.(matching.Shortlist)
	sl.MustsNobodyMeets = []string{"Speaks Somali (a must)"}
	sl.AskedNotToHave = []matching.AskedNotToHave{{WorkerID: 22, Name: "Sam Hill", At: exampleTime}}
	sl.Workers = append(sl.Workers, matching.ShortlistWorker{WorkerID: 22, Name: "Sam Hill", Met: []string{}, Unmet: []string{}, Why: "The person asked for a different worker"})
	matchBad := ui.NewForm(url.Values{"version": {"2"}, "worker_id": {"21"}})
	matchBad.AddError("", "Kofi Asante has no free places")
	matchBad.AddError("over_cap_reason", "Give a reason to allocate above Kofi's cap, or choose someone else")

	plan := planPageData{Plan: examplePlan, Lines: []planLine{
		{Person: examplePlan.People[0], Proposed: examplePlan.Assignments[0], Has: true, Options: []ui.Option{{Value: "0", Label: "Leave on the waiting list"}, {Value: "21", Label: "Kofi Asante (choice 1)"}}},
		{Person: matching.PlanPerson{ReferralID: 43, Reference: "MUT-PQ4R-7TXA", PersonName: "Ali", TeamID: 3, DaysWaited: 5}, Why: "Every worker is full",
			Options: []ui.Option{{Value: "0", Label: "Leave on the waiting list"}, {Value: "21", Label: "Kofi Asante"}}}}}
	stale := plan
	stale.Changes = []matching.PlanChange{{ReferralID: 44, What: "MUT-PQ4R-7TXA joined the waiting list"}}
	staleForm := ui.NewForm(url.Values{"worker_42": {"21"}, "worker_43": {"0"}})
	staleForm.AddError("", "This plan is out of date")
	done := plan
	done.CommittedAt = &exampleTime

	ins, _ := opChoiceInsight.Response.(matching.ChoiceInsight)
	settings, _ := opMatchingSettings.Response.(matching.Settings)
	setForm := ui.NewForm(url.Values{"people_per_fte": {"0"}, "full_time_hours": {"37.5"}, "themes[0].label": {"Psychosis"}, "themes[0].code": {"psychosis"}})
	setForm.AddError("people_per_fte", "People per full-time worker must be a whole number from 1 to 60")

	return []tplCase{
		{page: "matching/choices", variant: "own", pg: &ui.Page{Title: "Your choices about your peer support", Form: choicesForm(exampleChoices, 2), Data: own},
			want: []string{"What Kofi Asante has chosen to share with you", "Ask for a different worker", "Kofi Asante, Peer support worker, with you"}},
		{page: "matching/choices", variant: "errors", pg: &ui.Page{Title: "Your choices about your peer support", Form: bad, Data: own}},
		{page: "matching/choices", variant: "staff", pg: &ui.Page{Title: "Sam's choices", Form: staffBad, Data: staff, BackLink: "/people/7"},
			want: []string{"they are with me"}, notWant: []string{"Ask for a different worker"}},
		{page: "matching/worker", variant: "self", pg: &ui.Page{Title: "Your peer worker profile", Data: workerData("", nil)},
			want: []string{"Who has read your disclosures", "Jess Taylor", "Withdraw", "Allocations above the cap", "1 withdrawn since"}},
		{page: "matching/worker", variant: "capacity-errors", pg: &ui.Page{Title: "Your peer worker profile", Form: capBad, Data: workerData("capacity", capBad)}},
		{page: "matching/worker", variant: "item-errors", pg: &ui.Page{Title: "Your peer worker profile", Form: itemBad, Data: workerData("item-11", itemBad)}},
		{page: "matching/worker", variant: "someone-else", pg: &ui.Page{Title: "Peer worker: Kofi Asante", Data: otherData},
			want: []string{"I spent time on an acute ward"}, notWant: []string{"I am a parent", "Who has read", "Hours a week"}},
		{page: "matching/matches", pg: &ui.Page{Title: "Best matches for Sam", Form: ui.NewForm(url.Values{"version": {"2"}}), Data: matchesPageData{sl}},
			want: []string{"A must no worker in the team meets", "asked for a different worker than Sam Hill"}},
		{page: "matching/matches", variant: "over-cap", pg: &ui.Page{Title: "Best matches for Sam", Form: matchBad, Data: matchesPageData{sl}}},
		{page: "matching/plan-new", pg: &ui.Page{Title: "Plan allocation for the waiting list", Form: ui.NewForm(nil),
			Data: newPlanData{Teams: []ui.Option{{Value: "3", Label: "North Community Team"}}}}},
		{page: "matching/plan", pg: &ui.Page{Title: "Allocation plan 5", Form: ui.NewForm(url.Values{"worker_42": {"21"}, "worker_43": {"0"}}), Data: plan},
			want: []string{"Commit the plan", "Stays on the waiting list"}},
		{page: "matching/plan", variant: "stale", pg: &ui.Page{Title: "Allocation plan 5", Form: staleForm, Data: stale}, want: []string{"joined the waiting list"}},
		{page: "matching/plan", variant: "committed", pg: &ui.Page{Title: "Allocation plan 5", Form: ui.NewForm(nil), Data: done}, notWant: []string{"Commit the plan"}},
		{page: "matching/reassign", pg: &ui.Page{Title: "People who need another peer worker", Data: []matching.Reassignment{
			{ReferralID: 42, Reference: "MUT-2026-0042", PersonName: "Sam", WorkerName: "Priya Shah", Why: matching.WhyWorkerLeft},
			{ReferralID: 43, Reference: "MUT-2026-0043", PersonName: "Alex", WorkerName: "Lee Brown", Why: matching.WhyWorkerAway, AwayFrom: "2026-11-03", AwayUntil: "2026-11-23"}}},
			want: []string{`href="/referrals/42"`, "Has left", "Away from 2026-11-03 to 2026-11-23"}},
		{page: "matching/reassign", variant: "none", pg: &ui.Page{Title: "People who need another peer worker", Data: []matching.Reassignment{}},
			want: []string{"Nobody needs another peer worker now"}},
		{page: "matching/insight", pg: &ui.Page{Title: "Choices and allocation", Form: ui.NewForm(nil),
			Data: choiceInsightData{ChoiceInsight: ins, TeamOptions: []ui.Option{{Value: "", Label: "All teams"}}}}, want: []string{"&lt;5", "72.0%"}},
		{page: "matching/settings", pg: &ui.Page{Title: "Matching settings", Form: setForm,
			Data: settingsPageData{Organisations: []ui.Option{{Value: "1", Label: "Riverside"}}, Settings: &settings, Rows: []int{0, 1, 2}}}},
	}
}
