package recovery

import "github.com/mutualhq/mutual/internal/app"

// Item is one of the eleven DIALOG+ items.
type Item string

// The DIALOG+ items, in the order they are asked.
const (
	MentalHealth   Item = "mental_health"
	PhysicalHealth Item = "physical_health"
	Job            Item = "job"
	Accommodation  Item = "accommodation"
	Leisure        Item = "leisure"
	Friendships    Item = "friendships"
	PartnerFamily  Item = "partner_family"
	Safety         Item = "safety"
	Medication     Item = "medication"
	PracticalHelp  Item = "practical_help"
	Meetings       Item = "meetings"
)

// ItemInfo says an item in words.
type ItemInfo struct {
	Code     Item   `json:"code"`
	Label    string `json:"label"`
	Question string `json:"question"`
}

// Items are the eleven DIALOG+ items in order, each with the question asked.
var Items = []ItemInfo{
	{MentalHealth, "Mental health", "How satisfied are you with your mental health?"},
	{PhysicalHealth, "Physical health", "How satisfied are you with your physical health?"},
	{Job, "Job situation", "How satisfied are you with your job situation?"},
	{Accommodation, "Accommodation", "How satisfied are you with your accommodation?"},
	{Leisure, "Leisure activities", "How satisfied are you with your leisure activities?"},
	{Friendships, "Friendships", "How satisfied are you with your friendships?"},
	{PartnerFamily, "Partner or family", "How satisfied are you with your partner or family?"},
	{Safety, "Personal safety", "How satisfied are you with your personal safety?"},
	{Medication, "Medication", "How satisfied are you with your medication?"},
	{PracticalHelp, "Practical help", "How satisfied are you with the practical help you receive?"},
	{Meetings, "Meetings with professionals", "How satisfied are you with your meetings with mental health professionals?"},
}

// ItemCodes lists the item codes in order.
func ItemCodes() []string {
	out := make([]string, len(Items))
	for i, it := range Items {
		out[i] = string(it.Code)
	}
	return out
}

// Label is the item in words ("" for an unknown item).
func (i Item) Label() string {
	for _, it := range Items {
		if it.Code == i {
			return it.Label
		}
	}
	return ""
}

// Valid reports whether i is one of the eleven items.
func (i Item) Valid() bool { return i.Label() != "" }

// ScaleLabels are the words for ratings 1 to 7 (index 0 is rating 1).
var ScaleLabels = []string{"Totally dissatisfied", "Very dissatisfied", "Fairly dissatisfied", "In the middle",
	"Fairly satisfied", "Very satisfied", "Totally satisfied"}

// Stage is when in someone's support a DIALOG+ session happened.
type Stage string

// The stages.
const (
	StageStart   Stage = "start"
	StageReview  Stage = "review"
	StageEnd     Stage = "end"
	StageBetween Stage = "between"
)

// Stages lists the stages with their words.
var Stages = []app.Choice{
	{Code: string(StageStart), Label: "At the start of peer support"},
	{Code: string(StageReview), Label: "At a review"},
	{Code: string(StageEnd), Label: "At the end of peer support"},
	{Code: string(StageBetween), Label: "Between reviews"},
}

// Label is the stage in words.
func (s Stage) Label() string { return app.ChoiceLabel(Stages, string(s)) }

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return app.HasChoice(Stages, string(s)) }

// The four steps each item chosen for discussion goes through.
var Steps = []app.Choice{
	{Code: "understanding", Label: "Understanding: what is going well, what is not, and why"},
	{Code: "looking_forward", Label: "Looking forward: what would be better, and what is the smallest change that would help"},
	{Code: "options", Label: "Exploring options: what the person, the worker and others could do"},
	{Code: "actions", Label: "Agreed actions: who will do what by the next time"},
}
