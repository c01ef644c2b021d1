package app

import "testing"

func TestUnstorableText(t *testing.T) {
	for _, s := range []string{"", "Sam", "line one\nline two\r\n\ttabbed", "Zoë 日本語 🙂", "\u00a0\u200b\ufeff"} {
		if got := UnstorableText(s); got != "" {
			t.Errorf("UnstorableText(%q) = %q, want it accepted", s, got)
		}
	}
	for s, want := range map[string]string{
		"a\x00b": "a NUL character (U+0000)", "\x00": "a NUL character (U+0000)", "bell\x07": "an invisible control character (U+0007)",
		"\x1b[31m": "an invisible control character (U+001B)", "del\x7f": "an invisible control character (U+007F)",
		"c1\u0085": "an invisible control character (U+0085)", "\x0b": "an invisible control character (U+000B)",
		"bad\xff": "characters that are not UTF-8 text", "half\xe2\x82": "characters that are not UTF-8 text",
	} {
		if got := UnstorableText(s); got != want {
			t.Errorf("UnstorableText(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestUpperFirst(t *testing.T) {
	for in, want := range map[string]string{"": "", "ōromo": "Ōromo", "english": "English", "ñ": "Ñ", "1st": "1st", "\xff": "\xff"} {
		if got := UpperFirst(in); got != want {
			t.Errorf("UpperFirst(%q) = %q, want %q", in, got, want)
		}
		if got := LowerFirst(want); got != in {
			t.Errorf("LowerFirst(%q) = %q, want %q", want, got, in)
		}
	}
}
