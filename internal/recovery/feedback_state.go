package recovery

import "github.com/mutualhq/mutual/internal/app"

// FeedbackStatus is where a piece of feedback has got to.
type FeedbackStatus string

// The statuses, in order: each piece of feedback moves on one step at a
// time, and answered may be the last (the answer says why nothing will
// change).
const (
	Received     FeedbackStatus = "received"
	Acknowledged FeedbackStatus = "acknowledged"
	Considered   FeedbackStatus = "considered"
	Answered     FeedbackStatus = "answered"
	Changed      FeedbackStatus = "changed"
)

// FeedbackStatuses lists the statuses with their words.
var FeedbackStatuses = []app.Choice{
	{Code: string(Received), Label: "Received"},
	{Code: string(Acknowledged), Label: "Acknowledged"},
	{Code: string(Considered), Label: "Considered"},
	{Code: string(Answered), Label: "Answered"},
	{Code: string(Changed), Label: "Changed"},
}

// Label is the status in words.
func (s FeedbackStatus) Label() string { return app.ChoiceLabel(FeedbackStatuses, string(s)) }

// Valid reports whether s is a known status.
func (s FeedbackStatus) Valid() bool { return app.HasChoice(FeedbackStatuses, string(s)) }

// NextStatus is the one step feedback can move on from s ("" at the end).
func NextStatus(s FeedbackStatus) FeedbackStatus {
	switch s {
	case Received:
		return Acknowledged
	case Acknowledged:
		return Considered
	case Considered:
		return Answered
	case Answered:
		return Changed
	}
	return ""
}

// About is what feedback is about.
type About string

// What feedback can be about.
const (
	AboutWorker  About = "worker"
	AboutGroup   About = "group"
	AboutService About = "service"
)

// Abouts lists what feedback can be about, in words.
var Abouts = []app.Choice{
	{Code: string(AboutWorker), Label: "A peer support worker"},
	{Code: string(AboutGroup), Label: "A group or activity"},
	{Code: string(AboutService), Label: "The service"},
}

// Label is what the feedback is about, in words.
func (a About) Label() string { return app.ChoiceLabel(Abouts, string(a)) }

// Themes are what feedback is about, as the lead records it when they
// consider it; the public page counts feedback by theme.
var Themes = []app.Choice{
	{Code: "access", Label: "Getting support and waiting"},
	{Code: "communication", Label: "Communication and information"},
	{Code: "choice", Label: "Choice and being involved"},
	{Code: "worker", Label: "How I was treated"},
	{Code: "groups", Label: "Groups and activities"},
	{Code: "places", Label: "Places and times"},
	{Code: "practical", Label: "Practical help"},
	{Code: "thanks", Label: "Thanks and praise"},
	{Code: "other", Label: "Something else"},
}

// ThemeLabel is a theme in words.
func ThemeLabel(code string) string { return app.ChoiceLabel(Themes, code) }

// FeedbackMove moves feedback on one step.
type FeedbackMove struct {
	To      FeedbackStatus `json:"to" required:"true" doc:"The next status: acknowledged, considered, answered or changed."`
	Version int            `json:"version" required:"true" doc:"The version you saw; a change made since answers 409."`
	Note    string         `json:"note,omitempty" doc:"An internal note for the history (not shown publicly)."`
	// Considered.
	Theme string `json:"theme,omitempty" doc:"Required to move to considered: one of the themes."`
	// Answered.
	Answer        string `json:"answer,omitempty" doc:"Required to move to answered: what we will do, or why not."`
	PublicSummary string `json:"public_summary,omitempty" doc:"What was said, in the team's words, for the public page; required to publish."`
	Publish       bool   `json:"publish,omitempty" doc:"Show the summary and answer on the team's public \"You said, we did\" page."`
	Quote         bool   `json:"quote,omitempty" doc:"Show the giver's own words instead of the summary: only when they agreed to be quoted."`
	// Changed.
	ChangeMade string `json:"change_made,omitempty" doc:"Required to move to changed: what changed."`
	// Any step.
	ShareWithWorker bool `json:"share_with_worker,omitempty" doc:"Share feedback about a named worker with them (never the giver's details)."`
}

// checkMove validates a move from one status in isolation: the order of
// steps and what each needs.
func checkMove(from FeedbackStatus, m *FeedbackMove, mayQuote bool) app.Problems {
	var p app.Problems
	next := NextStatus(from)
	switch {
	case !m.To.Valid() || m.To == Received:
		p.Add("to", "Choose the next step: acknowledged, considered, answered or changed")
	case next == "":
		p.Add("to", "This feedback has reached its last step")
	case m.To != next:
		p.Add("to", "Feedback moves on one step at a time: the next step is "+next.Label())
	}
	checkText(&p, "note", &m.Note, maxPlanText, "The note")
	checkText(&p, "answer", &m.Answer, maxPlanText, "The answer")
	checkText(&p, "public_summary", &m.PublicSummary, 1000, "The summary")
	checkText(&p, "change_made", &m.ChangeMade, maxPlanText, "What changed")
	switch m.To {
	case Considered:
		if !app.HasChoice(Themes, m.Theme) {
			p.Add("theme", "Choose what the feedback is about")
		}
	case Answered:
		if m.Answer == "" {
			p.Add("answer", "Say what we will do, or why not")
		}
		if m.Publish && m.PublicSummary == "" && !m.Quote {
			p.Add("public_summary", "Write what was said, in a sentence that identifies no one, to publish it")
		}
		if m.Quote && !mayQuote {
			p.Add("quote", "The person did not agree to be quoted: publish a summary instead")
		}
	case Changed:
		if m.ChangeMade == "" {
			p.Add("change_made", "Say what changed")
		}
	}
	return p
}
