package watch

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// token is one word of a text: where it is in the original (byte offsets)
// and the form it is matched in.
type token struct {
	norm       string
	start, end int
}

// isApostrophe reports the characters people type as an apostrophe.
func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019' || r == '\u2018' || r == '\u02bc' || r == '`' || r == '\u00b4'
}

// wordRune reports whether r belongs inside a word: letters, digits,
// combining marks (an accent typed separately) and invisible format
// characters (a soft hyphen or zero-width joiner, which would otherwise
// split a word a reader sees as one).
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || unicode.Is(unicode.Cf, r)
}

// tokens splits text into words and normalises each: compatibility
// decomposition (NFKD: "ﬁ" → "fi", full-width letters → ASCII), accents
// and other marks removed, invisible format characters and apostrophes
// removed ("don't" → "dont"), and Unicode case folding ("SUÏCIDE" →
// "suicide", "ß" → "ss"). Anything else (spaces, punctuation, hyphens)
// separates words, so "self-harm" is the two words "self harm". With
// star, a "*" is kept at the end of a word (a watched prefix).
func tokens(text string, star bool) []token {
	var out []token
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		if n := normaliseWord(text[start:end]); n != "" && n != "*" {
			out = append(out, token{norm: n, start: start, end: end})
		}
		start = -1
	}
	for i, r := range text {
		switch {
		case wordRune(r):
			if start < 0 {
				start = i
			}
		case isApostrophe(r) && start >= 0:
			// Inside a word only when a letter follows: "don't", not "dogs'".
			next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
			if !wordRune(next) {
				flush(i)
			}
		case star && r == '*' && start >= 0:
			flush(i + 1)
		default:
			flush(i)
		}
	}
	flush(len(text))
	return out
}

// normaliseWord is one word in the form it is matched in.
func normaliseWord(w string) string {
	ascii := true
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= utf8.RuneSelf || c == '\'' || c == '`' {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(w)
	}
	d := norm.NFKD.String(w)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if unicode.IsMark(r) || unicode.Is(unicode.Cf, r) || isApostrophe(r) {
			continue
		}
		b.WriteRune(r)
	}
	// A Caser keeps state between calls, so each word gets its own; only
	// words outside ASCII come here.
	return cases.Fold().String(b.String())
}

// Normalise returns a phrase in the form it is matched in: its words,
// normalised, joined by single spaces. A word may end in "*" (a watched
// prefix).
func Normalise(phrase string) string {
	ts := tokens(phrase, true)
	words := make([]string, len(ts))
	for i, t := range ts {
		words[i] = t.norm
	}
	return strings.Join(words, " ")
}
