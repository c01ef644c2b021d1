// Package community is Mutual's moderated peer space: spaces of topics and
// replies, supportive reactions (never scores), pseudonymous members whose
// real identity only moderators see (audited), trust levels that limit new
// members, watched words acted on in every post (hold, flag, signpost,
// replace, block), members' flags into the moderators' queue, and
// escalation to a person's own care team only with their consent.
//
// This file is the pure core: what a trust level allows and what the
// watched words' findings mean for a post. It touches no database.
package community

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/watch"
)

// Trust levels. New members start at LevelNew; they rise to LevelMember on
// their own once they have taken part without problems (Promote), and
// moderators may set any level with a reason.
const (
	LevelNew     = 0
	LevelMember  = 1
	LevelTrusted = 2
)

// LevelLabel is a trust level in words.
func LevelLabel(level int) string {
	switch level {
	case LevelNew:
		return "New member"
	case LevelMember:
		return "Member"
	case LevelTrusted:
		return "Trusted member"
	}
	return ""
}

// Limits is what a trust level allows.
type Limits struct {
	TopicsPerDay  int
	RepliesPerDay int
	Links         bool
	// Held: every post waits for a moderator before others see it.
	Held bool
}

// LimitsFor is what members at a trust level may do: new members, 3 topics
// and 10 replies a day, no links, and their posts held for a moderator.
func LimitsFor(level int) Limits {
	switch level {
	case LevelNew:
		return Limits{TopicsPerDay: 3, RepliesPerDay: 10, Links: false, Held: true}
	case LevelMember:
		return Limits{TopicsPerDay: 10, RepliesPerDay: 50, Links: true}
	default:
		return Limits{TopicsPerDay: 20, RepliesPerDay: 200, Links: true}
	}
}

// Record is what promotion looks at: how long someone has been a member and
// how their posts fared.
type Record struct {
	Joined   time.Time
	Approved int // posts others can see
	Hidden   int // posts a moderator hid
}

// Promote reports whether a new member has earned LevelMember: a day since
// joining, two posts approved or seen, and none hidden. Only LevelNew rises
// on its own; a moderator who lowers someone decides when they rise again.
func Promote(level int, r Record, now time.Time) bool {
	return level == LevelNew && now.Sub(r.Joined) >= 24*time.Hour && r.Approved >= 2 && r.Hidden == 0
}

var linkRE = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9\-]+\.(?:com|co\.uk|org|org\.uk|net|uk|io|info|ly)\b(?:/\S*)?`)

// HasLink reports whether text holds a web link or web address.
func HasLink(text string) bool { return linkRE.MatchString(text) }

// Outcome is what happens to a post, given what the watched words found.
type Outcome struct {
	// Blocked: the post is refused, nothing is stored.
	Blocked bool
	// Held: the post waits for a moderator before others see it.
	Held bool
	// Flagged: the post goes into the moderators' queue (risk first).
	Flagged bool
	// Signpost: the writer is shown where to get help now.
	Signpost bool
	// Body is the text as posted, with identifying details replaced.
	Body string
	// Found are the categories of what was found, for the queue.
	Found []watch.Category
}

// Decide turns what the watched words found in body into what happens to
// the post. Risk language always shows the writer where to get help now,
// in every action; a held post is in the queue; a block refuses it.
func Decide(body string, found watch.Result, limits Limits) Outcome {
	o := Outcome{Body: watch.ReplaceMatches(body, found), Found: found.Categories()}
	for _, m := range found.Matches {
		if m.Category.Risk() {
			o.Signpost = true
		}
		switch m.Action {
		case watch.Block:
			o.Blocked = true
		case watch.Hold:
			o.Held, o.Flagged = true, true
		case watch.Flag:
			o.Flagged = true
		case watch.Signpost:
			o.Signpost = true
		}
	}
	if limits.Held {
		o.Held = true
	}
	return o
}

// MaxTags is how many tags a topic may have.
const MaxTags = 5

// ParseTags reads tags as people type them ("Sleep, voices; #nights"):
// lower case, letters, numbers and single spaces or hyphens, each once,
// at most MaxTags. It reports a problem in words, or "".
func ParseTags(text string) ([]string, string) {
	var out []string
	for _, raw := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == '#' || r == '\n' }) {
		t := strings.ToLower(strings.Join(strings.Fields(raw), " "))
		if t == "" {
			continue
		}
		if len([]rune(t)) > 30 {
			return nil, "Each tag must be 30 characters or fewer"
		}
		for _, r := range t {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '-' {
				return nil, "Tags can have letters, numbers, spaces and hyphens, separated by commas"
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, "Give at most 5 tags"
	}
	return out, ""
}

// TagCount is one tag in the cloud.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
	// Size is 1 (fewest topics) to 5 (most), for drawing the cloud.
	Size int `json:"size"`
}

// Cloud gives each tag a size from 1 to 5 by its count, on a log scale
// so one busy tag does not flatten the rest; tags come back in name order.
func Cloud(counts []TagCount) []TagCount {
	lo, hi := 0, 0
	for i, c := range counts {
		if i == 0 || c.Count < lo {
			lo = c.Count
		}
		if c.Count > hi {
			hi = c.Count
		}
	}
	out := slices.Clone(counts)
	for i := range out {
		out[i].Size = 1
		if hi > lo {
			f := (math.Log(float64(out[i].Count)) - math.Log(float64(max(lo, 1)))) / (math.Log(float64(hi)) - math.Log(float64(max(lo, 1))))
			out[i].Size = 1 + int(math.Round(f*4))
		}
	}
	slices.SortFunc(out, func(a, b TagCount) int { return strings.Compare(a.Tag, b.Tag) })
	return out
}

// ConfirmerRole is the role in which the caller may confirm a safeguarding
// concern about a member of team teamID raised by raisedBy: a peer lead or
// clinician of that team, and never the moderator who raised it (a second
// person judges). "" when they may not: a peer worker, a moderator, a lead
// of another team.
func ConfirmerRole(p *app.Principal, teamID, raisedBy int64) app.Role {
	if p == nil || p.UserID == 0 || p.UserID == raisedBy || teamID == 0 {
		return ""
	}
	for _, r := range []app.Role{app.RolePeerLead, app.RoleClinician} {
		if slices.Contains(p.TeamsAs(r), teamID) {
			return r
		}
	}
	return ""
}

// SanctionKinds are what a moderator may apply to a member, each with a
// reason; all but a warning have an end.
var SanctionKinds = []app.Choice{
	{Code: "warning", Label: "Warning"},
	{Code: "held", Label: "Posts held for review"},
	{Code: "read_only", Label: "Read-only"},
	{Code: "suspended", Label: "Suspended"},
}

// MaxSanctionDays is the longest a sanction may last.
const MaxSanctionDays = 365

// SanctionTerm is when a sanction is in force.
type SanctionTerm struct {
	Kind     string
	StartsAt time.Time
	EndsAt   *time.Time
	Lifted   bool
}

// InForce reports whether the sanction applies at now: not a warning
// (which restricts nothing and has no end), started, not lifted, and not
// past its end.
func (t SanctionTerm) InForce(now time.Time) bool {
	return t.Kind != "warning" && !t.Lifted && !now.Before(t.StartsAt) && (t.EndsAt == nil || now.Before(*t.EndsAt))
}

// Restriction is what the sanctions in force stop a member doing.
type Restriction struct {
	// Held: every post waits for a moderator.
	Held bool
	// NoPosting: no topics or replies (read-only or suspended).
	NoPosting bool
	// NoReacting: no reactions (read-only or suspended).
	NoReacting bool
	// NoEntry: the spaces are closed to them (suspended); they cannot flag.
	NoEntry bool
	// Until is when the strictest of them ends.
	Until time.Time
}

// Restrict combines the sanctions in force at now: the strictest decides,
// and Until is the latest end among those that restrict posting (or
// entry, when suspended).
func Restrict(terms []SanctionTerm, now time.Time) Restriction {
	var r Restriction
	later := func(t *time.Time) {
		if t != nil && t.After(r.Until) {
			r.Until = *t
		}
	}
	for _, t := range terms {
		if !t.InForce(now) {
			continue
		}
		switch t.Kind {
		case "held":
			r.Held = true
		case "read_only":
			r.NoPosting, r.NoReacting = true, true
		case "suspended":
			r.NoPosting, r.NoReacting, r.NoEntry = true, true, true
		}
	}
	for _, t := range terms {
		if !t.InForce(now) {
			continue
		}
		switch {
		case r.NoEntry && t.Kind == "suspended", !r.NoEntry && r.NoPosting && t.Kind == "read_only", !r.NoPosting && r.Held && t.Kind == "held":
			later(t.EndsAt)
		}
	}
	return r
}

// CheckSanction reports the problems with a sanction as a moderator
// wrote it: a known kind, a reason, and days (1 to MaxSanctionDays) for
// all but a warning, which has none.
func CheckSanction(kind, reason string, days int) app.Problems {
	var pr app.Problems
	if !app.HasChoice(SanctionKinds, kind) {
		pr.Add("kind", "Choose a warning, posts held, read-only or suspended")
	}
	if strings.TrimSpace(reason) == "" {
		pr.Add("reason", "Say why: the member is told")
	}
	pr.CheckLen("reason", reason, 1000, "The reason")
	switch {
	case kind == "warning" && days != 0:
		pr.Add("days", "A warning has no end: leave the days empty")
	case kind != "warning" && app.HasChoice(SanctionKinds, kind) && (days < 1 || days > MaxSanctionDays):
		pr.Add("days", fmt.Sprintf("Give how many days it lasts, from 1 to %d", MaxSanctionDays))
	}
	return pr
}

// Shift is one moderator's duty period.
type Shift struct {
	From, To time.Time
}

// OnDuty reports whether any shift covers now, and when the next one
// starts if none does (zero when none is planned).
func OnDuty(shifts []Shift, now time.Time) (on bool, next time.Time) {
	for _, s := range shifts {
		if !now.Before(s.From) && now.Before(s.To) {
			return true, time.Time{}
		}
		if s.From.After(now) && (next.IsZero() || s.From.Before(next)) {
			next = s.From
		}
	}
	return false, next
}
