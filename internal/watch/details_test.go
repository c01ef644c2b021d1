package watch

import "testing"

// Identifying details are found in the ways people write them, and
// everyday numbers are not.
func TestFindDetails(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string // what ReplaceMatches leaves; "" means unchanged
	}{
		{"ring me on 07700 900123 tonight", "ring me on [removed] tonight"},
		{"call +44 7700 900123", "call [removed]"},
		{"office is 0161 496 0000.", "office is [removed]."},
		{"email jo.bloggs@example.com please", "email [removed] please"},
		{"she lives at 12 Acacia Road, Leeds LS1 4AP", "she lives at [removed], Leeds [removed]"},
		{"meet at 3a Mill Lane", "meet at [removed]"},
		{"I slept 8 hours and walked 5 miles", ""},
		{"it was 2024 when I started, about 300 days", ""},
		{"group on Tuesday at 10:30, room 12", ""},
	} {
		got := ReplaceMatches(tc.text, FindDetails(tc.text))
		want := tc.want
		if want == "" {
			want = tc.text
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", tc.text, got, want)
		}
	}
}

// Replacing keeps what was not matched and only hides replace matches.
func TestReplaceMatchesOnlyReplace(t *testing.T) {
	m, err := Compile([]Term{{Phrase: "Café Crème", Category: Identifying, Action: Replace}, {Phrase: "hopeless", Category: Distress, Action: Signpost}})
	if err != nil {
		t.Fatal(err)
	}
	text := "feeling hopeless at the CAFE CREME today"
	if got := ReplaceMatches(text, m.Check(text)); got != "feeling hopeless at the [removed] today" {
		t.Fatalf("got %q", got)
	}
}
