package watch

import (
	"regexp"
	"strings"
)

// Identifying details are found by pattern rather than by word: a phone
// number, an email address, a postcode or a street address is different
// every time. FindDetails is the community's default list for them; each
// is reported with the Identifying category and the Replace action, so the
// detail is hidden and the rest of the post kept.
var detailPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	// UK phone numbers: 07700 900123, 0161 496 0000, +44 7700 900123,
	// (020) 7946 0000 — ten or eleven digits with spaces, dots or dashes.
	{"a phone number", regexp.MustCompile(`(?:\+44\s?\(?0?\)?\s?|\(?0)\d(?:[\s.\-()]*\d){8,9}\b`)},
	{"an email address", regexp.MustCompile(`(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b`)},
	// Postcodes: SW1A 1AA, M1 1AE, B33 8TH, CR2 6XH, DN55 1PT.
	{"a postcode", regexp.MustCompile(`(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b`)},
	// A house number and a street: 12 Acacia Road, 3a Mill Lane.
	{"an address", regexp.MustCompile(`(?i)\b\d{1,4}[a-z]?,?\s+(?:[A-Z][a-z'’\-]+\s+){1,3}(?:road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|crescent|court|ct|place|terrace|gardens|grove|hill|walk|square|mews|row|park)\b`)},
}

// FindDetails finds identifying details in text: phone numbers, email
// addresses, postcodes and street addresses. Each match's Phrase says what
// was found ("a phone number"), never the detail itself.
func FindDetails(text string) Result {
	var r Result
	for _, p := range detailPatterns {
		for _, loc := range p.re.FindAllStringIndex(text, -1) {
			r.Matches = append(r.Matches, Match{Phrase: p.what, Category: Identifying, Action: Replace, Start: loc[0], End: loc[1]})
		}
	}
	return r
}

// Removed is what a replaced detail or word is shown as.
const Removed = "[removed]"

// ReplaceMatches hides, in text, what every match with the Replace action
// covers, keeping the rest. r must come from checking this very text.
func ReplaceMatches(text string, r Result) string {
	var keep Result
	for _, m := range r.Matches {
		if m.Action == Replace {
			keep.Matches = append(keep.Matches, m)
		}
	}
	if len(keep.Matches) == 0 {
		return text
	}
	var b strings.Builder
	pos := 0
	for _, s := range mergedSpans(text, keep) {
		b.WriteString(text[pos:s[0]])
		b.WriteString(Removed)
		pos = s[1]
	}
	b.WriteString(text[pos:])
	return b.String()
}
