package watch

import (
	"fmt"
	"slices"
	"strings"
)

// Matcher finds watched terms in text: whole words and whole phrases,
// whatever their case, accents or the apostrophes and hyphens typed. It is
// built once from a list and is safe for concurrent use.
//
// Terms are kept in a trie of normalised words: the root's children are
// every term's first word, so checking a text is one walk per word of the
// text, as deep as the longest term that starts there — the cost depends
// on the text and the longest phrase, not on how many terms there are. A
// word ending in "*" matches any word it begins ("overdos*" matches
// overdose, overdosed, overdosing); those are tried only at the nodes that
// have them.
type Matcher struct {
	root  *node
	terms []Term
}

type node struct {
	next     map[string]*node
	prefixes []prefixEdge
	ends     []int // indexes into terms of the terms that end here
}

type prefixEdge struct {
	prefix string
	to     *node
}

// maxWords is the longest phrase, in words.
const maxWords = 8

// Compile builds a matcher from terms. A term that has no words, or a "*"
// after fewer than three letters, is an error naming it.
func Compile(terms []Term) (*Matcher, error) {
	m := &Matcher{root: &node{}, terms: slices.Clone(terms)}
	for i, t := range m.terms {
		words, err := termWords(t.Phrase)
		if err != nil {
			return nil, fmt.Errorf("term %q: %w", t.Phrase, err)
		}
		n := m.root
		for _, w := range words {
			if p, ok := strings.CutSuffix(w, "*"); ok {
				n = n.prefixChild(p)
				continue
			}
			if n.next == nil {
				n.next = map[string]*node{}
			}
			c := n.next[w]
			if c == nil {
				c = &node{}
				n.next[w] = c
			}
			n = c
		}
		n.ends = append(n.ends, i)
	}
	return m, nil
}

func (n *node) prefixChild(p string) *node {
	for _, e := range n.prefixes {
		if e.prefix == p {
			return e.to
		}
	}
	c := &node{}
	n.prefixes = append(n.prefixes, prefixEdge{prefix: p, to: c})
	return c
}

// termWords splits a phrase into its normalised words, checking it can be
// matched.
func termWords(phrase string) ([]string, error) {
	ts := tokens(phrase, true)
	if len(ts) == 0 {
		return nil, fmt.Errorf("it has no words")
	}
	if len(ts) > maxWords {
		return nil, fmt.Errorf("it has more than %d words", maxWords)
	}
	words := make([]string, len(ts))
	for i, t := range ts {
		p, star := strings.CutSuffix(t.norm, "*")
		if strings.Contains(p, "*") || (star && len([]rune(p)) < 3) {
			return nil, fmt.Errorf("a * may only end a word of at least three letters")
		}
		words[i] = t.norm
	}
	return words, nil
}

// Len is how many terms the matcher holds.
func (m *Matcher) Len() int { return len(m.terms) }

// Check finds every watched term in text. Each term is reported once per
// place it is found, with the place in text (byte offsets), so a caller can
// show or replace exactly what matched.
func (m *Matcher) Check(text string) Result {
	var r Result
	if m == nil || len(m.terms) == 0 {
		return r
	}
	ts := tokens(text, false)
	for i := range ts {
		m.walk(m.root, ts, i, i, &r)
	}
	return r
}

// walk follows the words of ts from position j below n, recording every
// term that ends on the way.
func (m *Matcher) walk(n *node, ts []token, start, j int, r *Result) {
	if j >= len(ts) {
		return
	}
	w := ts[j].norm
	if c := n.next[w]; c != nil {
		m.found(c, ts, start, j, r)
		m.walk(c, ts, start, j+1, r)
	}
	for _, e := range n.prefixes {
		if strings.HasPrefix(w, e.prefix) {
			m.found(e.to, ts, start, j, r)
			m.walk(e.to, ts, start, j+1, r)
		}
	}
}

func (m *Matcher) found(n *node, ts []token, start, end int, r *Result) {
	for _, ti := range n.ends {
		t := m.terms[ti]
		r.Matches = append(r.Matches, Match{Phrase: t.Phrase, Category: t.Category, Action: t.Action,
			Start: ts[start].start, End: ts[end].end})
	}
}

// Match is one place a term was found.
type Match struct {
	Phrase   string   `json:"phrase"`
	Category Category `json:"category"`
	Action   Action   `json:"action"`
	// Start and End are the byte offsets of the matched words in the text.
	Start int `json:"start"`
	End   int `json:"end"`
}

// Result is what checking a text found.
type Result struct {
	Matches []Match `json:"matches"`
}

// Found reports whether anything matched.
func (r Result) Found() bool { return len(r.Matches) > 0 }

// Strongest is the strongest action any match asks for ("" when nothing
// matched). Each action includes those below it in Actions' order:
// signpost < flag < hold < block; replace stands apart.
func (r Result) Strongest() Action {
	var best Action
	for _, m := range r.Matches {
		if m.Action.rank() > best.rank() {
			best = m.Action
		}
	}
	return best
}

// Signpost reports whether the writer should be shown where to get help
// now: any match whose action is signpost or stronger.
func (r Result) Signpost() bool { return r.Strongest().rank() >= Signpost.rank() }

// Flag reports whether someone must be alerted: any match whose action is
// flag or stronger.
func (r Result) Flag() bool { return r.Strongest().rank() >= Flag.rank() }

// Categories lists the categories matched, each once, in Categories' order.
func (r Result) Categories() []Category {
	var out []Category
	for _, c := range Categories {
		for _, m := range r.Matches {
			if m.Category == c {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Merge joins the results of checking several texts.
func Merge(rs ...Result) Result {
	var out Result
	for _, r := range rs {
		out.Matches = append(out.Matches, r.Matches...)
	}
	return out
}
