package watch

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func mustCompile(tb testing.TB, terms []Term) *Matcher {
	tb.Helper()
	m, err := Compile(terms)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// The default list finds what says someone may be at risk, and leaves
// everyday figures of speech alone.
func TestDefaultListTrueAndFalsePositives(t *testing.T) {
	m := mustCompile(t, DefaultTerms)
	flagged := []string{
		"thinking of ending my life tonight",
		"I want to kill myself",
		"took an overdose",
		"Took an OVERDOSE last week",
		"she overdosed on Friday",
		"I've been self-harming again",
		"history of self harm",
		"I'm SUICIDAL",
		"I feel suïcidal",                            // an accent typed
		"I feel sui\u0301cidal",                      // a combining accent
		"ｋｉｌｌ ｍｙｓｅｌｆ",                                // full-width letters
		"kill my\u00adself",                          // a soft hyphen inside a word
		"I don’t want to be here anymore",            // a curly apostrophe
		"I dont want to be here anymore",             // no apostrophe
		"everyone would be better off without me.",   // punctuation around a phrase
		"Thinking about ending it all.",              //
		"I have been stockpiling my tablets",         // a prefix term
		"(cut myself)",                               //
		"Life isn't worth living",                    //
		"I\nwant\tto   die",                          // any spaces between words
		"KILL-MYSELF",                                // a hyphen between words
		"They said they were planning to end it",     //
		"He took all my pills from the cupboard",     // matches on purpose: a lead decides
		"I am not suicidal, just lonely",             // negation still matches, on purpose
		"Took an overdose in 2019; doing better now", // history still matches, on purpose
		"They told me they want to kill themselves",  // a referrer writing about someone
		"She has been thinking about ending her life",
		"He has been cutting himself",
		"Worried they may take their own life",
	}
	for _, text := range flagged {
		r := m.Check(text)
		if !r.Flag() || !r.Signpost() {
			t.Errorf("%q: not flagged (matches %v)", text, r.Matches)
		}
	}
	signpostOnly := []string{"I feel hopeless most days", "I just can't cope with the noise", "in crisis last spring"}
	for _, text := range signpostOnly {
		r := m.Check(text)
		if !r.Signpost() || r.Flag() {
			t.Errorf("%q: signpost %v, flag %v, want signposting only (matches %v)", text, r.Signpost(), r.Flag(), r.Matches)
		}
	}
	clean := []string{
		"I'm dying to meet people",
		"killing time at the weekend",
		"I want to cut down on coffee",
		"Someone to talk to who has been there",
		"My dog's overdue a walk",
		"The self-help book was harmless",
		"Hanging out with friends again would be nice",
		"This job is killing me, honestly",
		"I'd kill for a good night's sleep",
		"A cutting-edge group",
		"End my loneliness",
		"I'm selfish about my time",
		"I live near the bridge",
		"They kill time at the library",
		"She cut her hair short",
		"The train was late",
		"Suicider", // a word that only starts with a watched word
		"",
		"   ",
		"!!!",
	}
	for _, text := range clean {
		if r := m.Check(text); r.Found() {
			t.Errorf("%q matched %v", text, r.Matches)
		}
	}
}

func TestMatchesAreWholeWordsWithPlaces(t *testing.T) {
	m := mustCompile(t, []Term{
		{Phrase: "kill myself", Category: Suicide, Action: Flag},
		{Phrase: "kill", Category: Distress, Action: Signpost},
		{Phrase: "overdos*", Category: Means, Action: Flag},
		{Phrase: "Café Crème", Category: Identifying, Action: Replace},
	})
	text := "I could kill myself. Skill? overdosing! cafe creme"
	r := m.Check(text)
	var got []string
	for _, mt := range r.Matches {
		got = append(got, fmt.Sprintf("%s=%q", mt.Phrase, text[mt.Start:mt.End]))
	}
	want := []string{`kill="kill"`, `kill myself="kill myself"`, `overdos*="overdosing"`, `Café Crème="cafe creme"`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("matches %v, want %v", got, want)
	}
	if r.Strongest() != Flag || !r.Flag() {
		t.Errorf("strongest %q", r.Strongest())
	}
	if cats := r.Categories(); len(cats) != 4 {
		t.Errorf("categories %v", cats)
	}
	// Replace alone does not signpost.
	if r := m.Check("café crème"); r.Signpost() || !r.Found() || r.Strongest() != "" {
		t.Errorf("replace-only result: signpost %v, strongest %q", r.Signpost(), r.Strongest())
	}
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"Self-Harm":           "self harm",
		"  DON’T   want ":     "dont want",
		"Straße":              "strasse",
		"ﬁnish":               "finish",
		"overdos*":            "overdos*",
		"naïve café":          "naive cafe",
		"dogs' home":          "dogs home",
		"'quoted'":            "quoted",
		"sui\u0301cide":       "suicide",
		"ＳＵＩＣＩＤＥ":             "suicide",
		"kill\u200dmyself":    "killmyself",
		"one, two; three...4": "one two three 4",
	} {
		if got := Normalise(in); got != want {
			t.Errorf("Normalise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadTermsAreRefused(t *testing.T) {
	for _, phrase := range []string{"", "  ", "***", "ov*", "o*d", "a b c d e f g h i"} {
		term := Term{Phrase: phrase, Category: Suicide, Action: Flag}
		if err := term.Check(); err == nil {
			t.Errorf("%q was accepted", phrase)
		}
		if _, err := Compile([]Term{{Phrase: phrase}}); err == nil {
			t.Errorf("Compile accepted %q", phrase)
		}
	}
	bad := Term{Phrase: "fine", Category: "nonsense", Action: "shout"}
	if err := bad.Check(); err == nil || !strings.Contains(fmt.Sprint(err), "") {
		t.Error("an unknown category and action were accepted")
	}
}

// randomTerms makes n distinct watched phrases of one to four words from
// a vocabulary of English-like words, with the default list among them.
func randomTerms(n int) []Term {
	rng := rand.New(rand.NewPCG(1, 2))
	syll := []string{"ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pe", "gra", "shi", "tor", "ble", "wen"}
	word := func() string {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		return b.String()
	}
	vocab := make([]string, 3000)
	for i := range vocab {
		vocab[i] = word()
	}
	terms := append([]Term{}, DefaultTerms...)
	seen := map[string]bool{}
	for len(terms) < n {
		words := make([]string, 1+rng.IntN(4))
		for i := range words {
			words[i] = vocab[rng.IntN(len(vocab))]
		}
		p := strings.Join(words, " ")
		if seen[p] {
			continue
		}
		seen[p] = true
		terms = append(terms, Term{Phrase: p, Category: Distress, Action: Signpost})
	}
	return terms
}

// samplePost is about the length of a long post or a full referral.
const samplePost = `I have been struggling a lot since I left hospital in the spring. Most days I don't leave the house and I have
lost touch with friends. My care co-ordinator suggested peer support because she thought talking to someone who has been
through something similar might help. I'd like help getting back out, maybe to a group, and someone to talk to about
medication and what it is like coming off it. Mornings are bad for me, afternoons are better. I would prefer a woman if
possible, and someone who understands what it's like to be a carer too, as I look after my mum. Thank you for reading this.`

// A post is checked against 10,000 terms in microseconds: the trie walk
// depends on the text's length, not on the number of terms. (make bench
// reports it; the bar from the community is under 1 ms a post.)
func BenchmarkCheck10000Terms(b *testing.B) {
	m := mustCompile(b, randomTerms(10_000))
	b.ReportAllocs()
	b.SetBytes(int64(len(samplePost)))
	for b.Loop() {
		if m.Check(samplePost).Found() {
			b.Fatal("the sample post matched")
		}
	}
}

func BenchmarkCompile10000Terms(b *testing.B) {
	terms := randomTerms(10_000)
	b.ReportAllocs()
	for b.Loop() {
		mustCompile(b, terms)
	}
}

// The same 10,000 terms give the same answers as checking each phrase by
// brute force, on texts made to contain some of them.
func TestTrieAgreesWithBruteForce(t *testing.T) {
	terms := randomTerms(2000)
	m := mustCompile(t, terms)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var parts []string
		for range 5 {
			if rng.IntN(2) == 0 {
				parts = append(parts, terms[rng.IntN(len(terms))].Phrase)
			} else {
				parts = append(parts, "filler words here")
			}
		}
		text := strings.Join(parts, ", ")
		norm := " " + Normalise(text) + " "
		want := map[string]bool{}
		for _, term := range terms {
			if strings.Contains(term.Phrase, "*") {
				continue
			}
			if strings.Contains(norm, " "+Normalise(term.Phrase)+" ") {
				want[term.Phrase] = true
			}
		}
		got := map[string]bool{}
		for _, mt := range m.Check(text).Matches {
			if !strings.Contains(mt.Phrase, "*") {
				got[mt.Phrase] = true
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: trie found %v, brute force %v", text, got, want)
		}
	}
}
