package matching

import (
	"slices"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
)

// Kinds of choice that matching compares, as recorded in unmet-choice
// events.
const (
	KindGender     = "gender"
	KindLanguage   = "language"
	KindTheme      = "theme"
	KindPlace      = "place"
	KindDay        = "day"
	KindTime       = "time"
	KindSameWorker = "same_worker"
)

// Kinds lists the kinds of choice with their names in words, in the order
// they are shown.
var Kinds = []app.Choice{
	{Code: KindSameWorker, Label: "The same worker as before"},
	{Code: KindGender, Label: "The worker's gender"},
	{Code: KindLanguage, Label: "Language"},
	{Code: KindTheme, Label: "Shared experience"},
	{Code: KindPlace, Label: "Where to meet"},
	{Code: KindDay, Label: "Days"},
	{Code: KindTime, Label: "Times of day"},
}

// Facts are what matching knows about a worker: only what the worker
// agreed may be used for matching.
type Facts struct {
	ID   int64
	Name string
	// Gender is empty unless the worker agreed it may be used for matching.
	Gender    string
	Languages []string
	// Themes come from the worker's disclosures marked "may be used for
	// matching", whatever their audience.
	Themes []string
	Places []string
	Days   []string
	Times  []string
	// Cap is the caseload cap in force today, Caseload the people
	// allocated now.
	Cap, Caseload int
}

// Free is how many places the worker has now (never below zero).
func (f Facts) Free() int { return max(f.Cap-f.Caseload, 0) }

// Criterion is one of a person's choices held against one worker.
type Criterion struct {
	Kind  string `json:"kind" doc:"same_worker, gender, language, theme, place, day or time."`
	Code  string `json:"code,omitempty" doc:"What was asked for, as a code (a theme, a gender, the languages)."`
	Must  bool   `json:"must,omitempty" doc:"The person said this is a must."`
	Met   bool   `json:"met"`
	Words string `json:"words" doc:"The choice in words."`
}

// personCriteria are a person's choices made ready to hold against many
// workers: the words are worked out once, and each worker only sets which
// were met.
type personCriteria struct {
	crit       []Criterion // Met false
	languages  []string    // lower case
	themes     []string
	themesMust bool
	places     []string
	days       []string
	times      []string
	gender     string
	previous   int64
}

// prepare works out the criteria a person's choices make. previous is the
// worker who supported the person before (0 for none).
func prepare(c Choices, themes []app.Choice, previous int64) *personCriteria {
	pc := &personCriteria{previous: previous}
	add := func(kind, code string, must bool, words string) {
		if must {
			words += " (a must)"
		}
		pc.crit = append(pc.crit, Criterion{Kind: kind, Code: code, Must: must, Words: words})
	}
	if previous != 0 && c.KeepSameWorker() {
		add(KindSameWorker, "", false, "The same worker as before")
	}
	if c.WorkerGender != "" {
		pc.gender = c.WorkerGender
		add(KindGender, c.WorkerGender, c.WorkerGenderMust, app.ChoiceLabel(Genders, c.WorkerGender))
	}
	if len(c.Languages) > 0 {
		for _, l := range c.Languages {
			pc.languages = append(pc.languages, strings.ToLower(l))
		}
		add(KindLanguage, strings.Join(pc.languages, "/"), c.LanguagesMust, "Speaks "+orList(c.Languages))
	}
	pc.themes, pc.themesMust = c.Themes, c.ThemesMust
	for _, t := range c.Themes {
		words := "Shared experience: " + strings.ToLower(app.ChoiceLabel(themes, t))
		if c.ThemesMust && len(c.Themes) > 1 {
			// Sharing any one of them is enough: each is not a must alone.
			words += " (one of these is a must)"
			pc.crit = append(pc.crit, Criterion{Kind: KindTheme, Code: t, Must: true, Words: words})
			continue
		}
		add(KindTheme, t, c.ThemesMust, words)
	}
	if len(c.Places) > 0 {
		pc.places = c.Places
		add(KindPlace, strings.Join(c.Places, "/"), c.PlacesMust, "Meets "+strings.ToLower(orList(labels(c.Places, Places))))
	}
	if len(c.Days) > 0 {
		pc.days = c.Days
		add(KindDay, strings.Join(c.Days, "/"), false, "Available on "+orList(labels(c.Days, Days)))
	}
	if len(c.Times) > 0 {
		pc.times = c.Times
		add(KindTime, strings.Join(c.Times, "/"), false, "Available "+strings.ToLower(orList(labels(c.Times, Times))))
	}
	return pc
}

// overlaps reports whether two short lists share an item.
func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// eval holds the criteria against one worker: bit i of met is set when
// criterion i is met; acceptable is false when a must is unmet; score
// orders acceptable workers (see RankRule).
func (pc *personCriteria) eval(w *Facts) (met uint64, acceptable bool, score int) {
	acceptable = true
	sharesTheme := false
	for i := range pc.crit {
		c := &pc.crit[i]
		var ok bool
		switch c.Kind {
		case KindSameWorker:
			ok = w.ID == pc.previous
		case KindGender:
			ok = w.Gender == pc.gender
		case KindLanguage:
			ok = slices.ContainsFunc(w.Languages, func(x string) bool { return slices.Contains(pc.languages, strings.ToLower(x)) })
		case KindTheme:
			ok = slices.Contains(w.Themes, c.Code)
			sharesTheme = sharesTheme || ok
		case KindPlace:
			ok = overlaps(pc.places, w.Places)
		case KindDay:
			ok = overlaps(pc.days, w.Days)
		case KindTime:
			ok = overlaps(pc.times, w.Times)
		}
		if ok {
			met |= 1 << i
			if c.Kind == KindSameWorker {
				score += 1 << 16
			} else {
				score++
			}
		} else if c.Must && c.Kind != KindTheme {
			acceptable = false
		}
	}
	// With shared experience as a must, sharing any one theme is enough.
	if pc.themesMust && len(pc.themes) > 0 && !sharesTheme {
		acceptable = false
	}
	return met, acceptable, score
}

// with returns the criteria with Met set from a mask.
func (pc *personCriteria) with(met uint64) []Criterion {
	out := slices.Clone(pc.crit)
	for i := range out {
		out[i].Met = met&(1<<i) != 0
	}
	return out
}

// words returns the words of the criteria met and unmet for a mask.
func (pc *personCriteria) words(met uint64) (yes, no []string) {
	yes, no = []string{}, []string{}
	for i, c := range pc.crit {
		if met&(1<<i) != 0 {
			yes = append(yes, c.Words)
		} else {
			no = append(no, c.Words)
		}
	}
	return yes, no
}

// Compare holds a person's choices against one worker, in the order the
// person's page lists them. previous is the worker who supported the
// person before (0 for none). A worker is acceptable unless a must is
// unmet (with shared experience as a must, sharing any one of the themes
// is enough); a worker the person asked not to have is the caller's to
// leave out.
func Compare(c Choices, themes []app.Choice, previous int64, w Facts) (crit []Criterion, acceptable bool) {
	pc := prepare(c, themes, previous)
	met, ok, _ := pc.eval(&w)
	return pc.with(met), ok
}

// Split divides criteria into the words of those met and unmet.
func Split(crit []Criterion) (met, unmet []string) {
	met, unmet = []string{}, []string{}
	for _, c := range crit {
		if c.Met {
			met = append(met, c.Words)
		} else {
			unmet = append(unmet, c.Words)
		}
	}
	return met, unmet
}

// RankRule is the documented rule by which a person's acceptable workers
// are ranked, shown with every plan and shortlist.
const RankRule = "Musts exclude a worker, and so does asking for a different worker. The others are ranked: the worker who supported the person before first, " +
	"if they asked to keep the same worker; then by how many of the person's other choices each meets; ties go to the worker with more free places, " +
	"then to the worker whose account was made first."

// PriorityRule is the documented order in which every worker takes people.
const PriorityRule = "Each worker takes people in the service's order, the waiting list's own: first those with an alert of possible risk still waiting for a response, " +
	"then by urgency (very urgent, urgent, routine), then those waiting past the standard for their urgency with no contact yet, then those who " +
	"have waited longest (in whole days), then, for the worker who supported them before, a returning person; ties go to the referral made first."
