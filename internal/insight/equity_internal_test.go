package insight

import "testing"

// A first language is grouped however it was typed, and one that starts
// with a letter outside ASCII keeps that letter whole.
func TestLanguageGroup(t *testing.T) {
	for in, want := range map[string]string{"  ": "Not recorded", "ENGLISH": "English", "english ": "English", "ōromo": "Ōromo", "ŌROMO": "Ōromo", "Ελληνικά": "Ελληνικά"} {
		if got := languageGroup(in); got != want {
			t.Errorf("languageGroup(%q) = %q, want %q", in, got, want)
		}
	}
}
