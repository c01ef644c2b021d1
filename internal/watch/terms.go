// Package watch checks what people write against watched words and
// phrases: risk language at every door in (self-harm, suicide, the means to
// harm oneself, distress) now, and identifying details in the moderated
// community later. Each organisation keeps its own list, starting from a
// tested default list built in. Matching is whole-word and whole-phrase,
// case- and accent-insensitive, and quick enough to run on every post.
//
// The package only finds; what happens next is the caller's: show crisis
// signposting, alert someone (package alert), hold, replace or block.
package watch

import (
	"strings"

	"github.com/mutualhq/mutual/internal/app"
)

// Category is what a watched term is about.
type Category string

// Categories of watched terms. The first four are risk language; the
// moderated community will add identifying details (phone numbers,
// addresses).
const (
	Suicide     Category = "suicide"
	SelfHarm    Category = "self_harm"
	Means       Category = "means"
	Distress    Category = "distress"
	Identifying Category = "identifying"
)

// Categories lists every category in display order.
var Categories = []Category{Suicide, SelfHarm, Means, Distress, Identifying}

var categoryLabels = map[Category]string{
	Suicide:     "Suicide",
	SelfHarm:    "Self-harm",
	Means:       "Means of harm",
	Distress:    "Distress",
	Identifying: "Identifying details",
}

// Label is the category in words.
func (c Category) Label() string { return categoryLabels[c] }

// Valid reports whether c is a known category.
func (c Category) Valid() bool { _, ok := categoryLabels[c]; return ok }

// Risk reports whether the category is risk language.
func (c Category) Risk() bool { return c == Suicide || c == SelfHarm || c == Means || c == Distress }

// Action is what should happen when a term is found.
type Action string

// Actions, weakest first. The door in uses signpost and flag; the moderated
// community will use the others.
const (
	// Signpost shows the writer where to get help now.
	Signpost Action = "signpost"
	// Flag signposts, and alerts the duty lead.
	Flag Action = "flag"
	// Hold signposts, alerts, and holds a post until a moderator sees it.
	Hold Action = "hold"
	// Block refuses a post.
	Block Action = "block"
	// Replace hides the matched words (identifying details) and keeps the rest.
	Replace Action = "replace"
)

// Actions lists every action in display order.
var Actions = []Action{Signpost, Flag, Hold, Block, Replace}

var actionLabels = map[Action]string{
	Signpost: "Show where to get help now",
	Flag:     "Show where to get help now and alert the duty lead",
	Hold:     "Hold for a moderator (community)",
	Block:    "Refuse the post (community)",
	Replace:  "Hide the words (community)",
}

// Label is the action in words.
func (a Action) Label() string { return actionLabels[a] }

// Valid reports whether a is a known action.
func (a Action) Valid() bool { _, ok := actionLabels[a]; return ok }

func (a Action) rank() int {
	switch a {
	case Signpost:
		return 1
	case Flag:
		return 2
	case Hold:
		return 3
	case Block:
		return 4
	}
	return 0 // replace, or none: no signposting of its own
}

// Term is one watched word or phrase.
type Term struct {
	ID       int64    `json:"id,omitempty"`
	Phrase   string   `json:"phrase" required:"true" doc:"A word or phrase, matched as whole words whatever the case or accents. End a word with * to match any word it begins (at least three letters first), e.g. overdos*."`
	Category Category `json:"category" required:"true" doc:"suicide, self_harm, means, distress or identifying"`
	Action   Action   `json:"action" required:"true" doc:"signpost, flag, hold, block or replace. At the door, flag alerts the duty lead; hold, block and replace are for the community."`
}

// Check validates a term, naming each problem by field.
func (t *Term) Check() error {
	var p app.Problems
	t.Phrase = strings.Join(strings.Fields(t.Phrase), " ")
	switch _, err := termWords(t.Phrase); {
	case t.Phrase == "" || len(tokens(t.Phrase, true)) == 0:
		p.Add("phrase", "Enter a word or phrase")
	case err != nil:
		p.Add("phrase", "This phrase cannot be matched: "+err.Error())
	}
	p.CheckLen("phrase", t.Phrase, 100, "The phrase")
	if !t.Category.Valid() {
		p.Add("category", "Choose what the term is about")
	}
	if !t.Action.Valid() {
		p.Add("action", "Choose what should happen when it is found")
	}
	return p.Err()
}
