// Package matching is "your choice of peer worker": the choice profile a
// person holds (who supports them, where, how their support is reviewed),
// peer workers' profiles with caseload caps and lived-experience
// disclosures under the worker's control, ranked and explained shortlists
// for one referral, fair allocation of a whole waiting list (a stable
// matching, computed by the pure package stable), and the record of every
// choice that could not be met.
//
// It owns the tables choice_profiles, matching_settings, worker_profiles,
// capacity_reductions, disclosures, disclosure_reads, allocation_matches,
// unmet_choices, worker_exclusions and allocation_plans. Referrals are
// allocated through the referral capability (referral.AllocateTx), which
// asks this package (referral.AllocationRules) to check caps and record
// choices met and unmet on every allocation, however it is made.
package matching

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mutualhq/mutual/internal/app"
)

// Choice lists. Codes are stored; labels are what people read.
var (
	// Genders are the genders a person may ask their worker to be, and a
	// worker may record for matching.
	Genders = []app.Choice{
		{Code: "woman", Label: "A woman"},
		{Code: "man", Label: "A man"},
		{Code: "non_binary", Label: "A non-binary person"},
		{Code: "other", Label: "Someone who describes their gender another way"},
	}
	// Places are where, or how, people can meet.
	Places = app.MeetingPlaces
	// Days of the week.
	Days = []app.Choice{
		{Code: "mon", Label: "Monday"}, {Code: "tue", Label: "Tuesday"}, {Code: "wed", Label: "Wednesday"},
		{Code: "thu", Label: "Thursday"}, {Code: "fri", Label: "Friday"}, {Code: "sat", Label: "Saturday"}, {Code: "sun", Label: "Sunday"},
	}
	// Times of day.
	Times = []app.Choice{
		{Code: "morning", Label: "Mornings"}, {Code: "afternoon", Label: "Afternoons"}, {Code: "evening", Label: "Evenings"},
	}
	// ReviewFrequencies are how often a person would like their support
	// reviewed.
	ReviewFrequencies = []app.Choice{
		{Code: "monthly", Label: "About once a month"},
		{Code: "every_3_months", Label: "Every 3 months"},
		{Code: "every_6_months", Label: "Every 6 months"},
		{Code: "when_i_ask", Label: "Only when I ask"},
	}
	// ReviewWith are who a person would like at their reviews.
	ReviewWith = []app.Choice{
		{Code: "peer_worker", Label: "My peer worker"},
		{Code: "care_coordinator", Label: "My care co-ordinator"},
		{Code: "carer", Label: "A carer, friend or family member"},
		{Code: "advocate", Label: "An advocate"},
		{Code: "peer_lead", Label: "The peer support team lead"},
	}
	// WorkerSettings are the settings a peer worker works in.
	WorkerSettings = []app.Choice{
		{Code: "community", Label: "Community"},
		{Code: "acute_ward", Label: "Acute ward"},
		{Code: "secure_ward", Label: "Forensic or high-secure ward"},
		{Code: "camhs_transition", Label: "Children's to adult services transition"},
	}
	// DefaultThemes are the shared-experience themes an organisation
	// starts with; each organisation may edit its own list.
	DefaultThemes = []app.Choice{
		{Code: "psychosis", Label: "Psychosis or hearing voices"},
		{Code: "self_harm", Label: "Self-harm"},
		{Code: "eating", Label: "Eating difficulties"},
		{Code: "parent", Label: "Being a parent"},
		{Code: "lgbtq", Label: "Being LGBTQ+"},
		{Code: "racism", Label: "Racism"},
		{Code: "prison", Label: "Prison"},
		{Code: "bereavement", Label: "Bereavement"},
		{Code: "substance_use", Label: "Substance use"},
		{Code: "ward", Label: "Being on a ward"},
	}
)

// Limits on what is stored.
const (
	maxLanguages   = 10
	maxLanguageLen = 40
	maxThemes      = 30
	maxFreeText    = 2000
	maxDisclosure  = 500
)

// Choices are a person's choices about their peer support. Every field is
// optional, and leaving one empty means "no preference".
type Choices struct {
	WorkerGender     string   `json:"worker_gender,omitempty" doc:"The worker's gender: woman, man, non_binary or other. Empty: no preference."`
	WorkerGenderMust bool     `json:"worker_gender_must,omitempty" doc:"true: only a worker of this gender (a must); false: a preference."`
	Languages        []string `json:"languages,omitempty" doc:"Languages the person would like to use, e.g. Polish. Any one of them will do."`
	LanguagesMust    bool     `json:"languages_must,omitempty" doc:"true: only a worker who speaks one of the languages."`
	Themes           []string `json:"themes,omitempty" doc:"Shared-experience themes the person would value, as codes from the organisation's list (e.g. psychosis, parent)."`
	ThemesMust       bool     `json:"themes_must,omitempty" doc:"true: only a worker who shares at least one of the themes."`
	Places           []string `json:"places,omitempty" doc:"Where to meet: home, community, team_base, ward, phone, video, text."`
	PlacesMust       bool     `json:"places_must,omitempty" doc:"true: only a worker who meets in one of these places."`
	Days             []string `json:"days,omitempty" doc:"Days that suit: mon … sun."`
	Times            []string `json:"times,omitempty" doc:"Times that suit: morning, afternoon, evening."`
	SameWorker       *bool    `json:"same_worker,omitempty" doc:"Keep the same worker as before, if there was one. Defaults to true."`
	ReviewFrequency  string   `json:"review_frequency,omitempty" doc:"How often to review support: monthly, every_3_months, every_6_months or when_i_ask."`
	ReviewWith       []string `json:"review_with,omitempty" doc:"Who to have at reviews: peer_worker, care_coordinator, carer, advocate, peer_lead."`
	AvoidTopics      string   `json:"avoid_topics,omitempty" doc:"Things the person does not want to talk about."`
}

// KeepSameWorker reports whether the person wants the same worker as
// before (the default).
func (c Choices) KeepSameWorker() bool { return c.SameWorker == nil || *c.SameWorker }

// Empty reports whether the person has made no choice that matching uses.
func (c Choices) Empty() bool {
	return c.WorkerGender == "" && len(c.Languages) == 0 && len(c.Themes) == 0 && len(c.Places) == 0 &&
		len(c.Days) == 0 && len(c.Times) == 0
}

// normaliseList trims, drops empties and repeats (case-insensitively), and
// keeps the first spelling.
func normaliseList(xs []string) []string {
	var out []string
	for _, x := range xs {
		x = strings.Join(strings.Fields(x), " ")
		if x == "" || slices.ContainsFunc(out, func(y string) bool { return strings.EqualFold(x, y) }) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// checkCodes adds a problem when a list holds a code not in choices.
func checkCodes(p *app.Problems, field string, xs []string, choices []app.Choice, what string) {
	for _, x := range xs {
		if !app.HasChoice(choices, x) {
			p.Add(field, "Choose "+what+" from the list")
			return
		}
	}
}

// checkLanguages checks a list of languages people typed.
func checkLanguages(p *app.Problems, field string, langs []string) {
	if len(langs) > maxLanguages {
		p.Add(field, "Give at most 10 languages")
	}
	for _, l := range langs {
		if utf8.RuneCountInString(l) > maxLanguageLen {
			p.Add(field, "Each language must be 40 characters or fewer")
		}
		for _, r := range l {
			if strings.ContainsRune(",;/|", r) {
				p.Add(field, "Give one language per line, or separate them with commas in the form")
				return
			}
		}
	}
}

// Normalise tidies the choices and checks each field against its list,
// adding problems under prefix+field. themes are the codes on offer.
func (c *Choices) Normalise(p *app.Problems, themes []app.Choice) {
	c.WorkerGender = strings.TrimSpace(c.WorkerGender)
	if c.WorkerGender == "any" {
		c.WorkerGender = ""
	}
	if c.WorkerGender != "" && !app.HasChoice(Genders, c.WorkerGender) {
		p.Add("worker_gender", "Choose a gender from the list, or no preference")
	}
	if c.WorkerGender == "" && c.WorkerGenderMust {
		p.Add("worker_gender_must", "Choose a gender before saying it is a must")
	}
	c.Languages = normaliseList(c.Languages)
	checkLanguages(p, "languages", c.Languages)
	if len(c.Languages) == 0 && c.LanguagesMust {
		p.Add("languages_must", "Give a language before saying it is a must")
	}
	c.Themes = normaliseList(c.Themes)
	if len(c.Themes) > maxThemes {
		p.Add("themes", "Choose at most 30 themes")
	}
	checkCodes(p, "themes", c.Themes, themes, "shared experiences")
	if len(c.Themes) == 0 && c.ThemesMust {
		p.Add("themes_must", "Choose a shared experience before saying it is a must")
	}
	c.Places = normaliseList(c.Places)
	checkCodes(p, "places", c.Places, Places, "where to meet")
	if len(c.Places) == 0 && c.PlacesMust {
		p.Add("places_must", "Choose where to meet before saying it is a must")
	}
	c.Days = normaliseList(c.Days)
	checkCodes(p, "days", c.Days, Days, "days")
	c.Times = normaliseList(c.Times)
	checkCodes(p, "times", c.Times, Times, "times of day")
	c.ReviewFrequency = strings.TrimSpace(c.ReviewFrequency)
	if c.ReviewFrequency != "" && !app.HasChoice(ReviewFrequencies, c.ReviewFrequency) {
		p.Add("review_frequency", "Choose how often to review your support from the list")
	}
	c.ReviewWith = normaliseList(c.ReviewWith)
	checkCodes(p, "review_with", c.ReviewWith, ReviewWith, "who to have at reviews")
	c.AvoidTopics = strings.TrimSpace(c.AvoidTopics)
	p.CheckLen("avoid_topics", c.AvoidTopics, maxFreeText, "Things not to talk about")
	// Lists in the order they are offered, so versions compare and read
	// the same however they were sent.
	c.Places = inOrder(c.Places, Places)
	c.Days = inOrder(c.Days, Days)
	c.Times = inOrder(c.Times, Times)
	c.ReviewWith = inOrder(c.ReviewWith, ReviewWith)
	c.Themes = inOrder(c.Themes, themes)
}

// inOrder sorts codes into the order of choices (unknown codes last).
func inOrder(xs []string, choices []app.Choice) []string {
	pos := func(x string) int {
		for i, c := range choices {
			if c.Code == x {
				return i
			}
		}
		return len(choices)
	}
	slices.SortStableFunc(xs, func(a, b string) int { return pos(a) - pos(b) })
	return xs
}

// labels turns codes into words.
func labels(xs []string, choices []app.Choice) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = app.ChoiceLabel(choices, x)
	}
	return out
}

// orList joins words as people write them: "a, b or c".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// Describe puts a version of a person's choices into words, one line per
// choice, for the person and staff to read.
func Describe(c Choices, themes []Theme) []string {
	tc := themeChoices(themes)
	var out []string
	if c.WorkerGender != "" {
		s := "Worker: " + strings.ToLower(app.ChoiceLabel(Genders, c.WorkerGender))
		if c.WorkerGenderMust {
			s += " (a must)"
		}
		out = append(out, s)
	}
	must := func(s string, m bool) string {
		if m {
			return s + " (a must)"
		}
		return s
	}
	if len(c.Languages) > 0 {
		out = append(out, must("Languages: "+strings.Join(c.Languages, ", "), c.LanguagesMust))
	}
	if len(c.Themes) > 0 {
		out = append(out, must("Shared experience: "+strings.ToLower(strings.Join(labels(c.Themes, tc), ", ")), c.ThemesMust))
	}
	if len(c.Places) > 0 {
		out = append(out, must("Meet: "+strings.ToLower(strings.Join(labels(c.Places, Places), ", ")), c.PlacesMust))
	}
	if len(c.Days) > 0 {
		out = append(out, "Days: "+strings.Join(labels(c.Days, Days), ", "))
	}
	if len(c.Times) > 0 {
		out = append(out, "Times: "+strings.ToLower(strings.Join(labels(c.Times, Times), ", ")))
	}
	if !c.KeepSameWorker() {
		out = append(out, "Would like someone new, not the same worker as before")
	}
	if c.ReviewFrequency != "" {
		out = append(out, "Reviews: "+strings.ToLower(app.ChoiceLabel(ReviewFrequencies, c.ReviewFrequency)))
	}
	if len(c.ReviewWith) > 0 {
		out = append(out, "At reviews: "+strings.ToLower(strings.Join(labels(c.ReviewWith, ReviewWith), ", ")))
	}
	if c.AvoidTopics != "" {
		out = append(out, "Not to talk about: "+c.AvoidTopics)
	}
	return out
}
