package app

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// UnstorableText describes the first thing in s that no text Mutual keeps
// may hold, or returns "" when s is fine: bytes that are not UTF-8, NUL
// (PostgreSQL refuses it in text, so it would fail only there), the other
// C0 control characters but tab, line feed and carriage return, DEL, and
// the C1 control characters (which in typed text only ever come from a file
// read in the wrong encoding). Every way in — forms, JSON bodies, query
// strings, path values and caseload files — checks its text with this, so
// such input is refused as invalid with a clear message instead of failing
// in the database.
func UnstorableText(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return describeControl(rune(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return "characters that are not UTF-8 text"
		}
		if r >= 0x80 && r <= 0x9f {
			return describeControl(r)
		}
		i += size
	}
	return ""
}

func describeControl(r rune) string {
	if r == 0 {
		return "a NUL character (U+0000)"
	}
	return fmt.Sprintf("an invisible control character (U+%04X)", r)
}

// UpperFirst returns s with its first letter in upper case: the whole first
// character, however many bytes it takes ("ōromo" → "Ōromo"), never its
// first byte alone (which would cut a letter in two and leave text that is
// not UTF-8). Every "capitalise" in Mutual goes through this
// (archtest's TestNoFirstByteCapitals).
func UpperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// LowerFirst is UpperFirst's opposite: a message put in the middle of a
// sentence ("coordinator_email: enter an email address").
func LowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToLower(r)) + s[size:]
}
