package app

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Choice is one coded answer offered on a form: a stored code and the
// words people read.
type Choice struct {
	Code  string
	Label string
}

// MeetingPlaces are where, or how, a person and their peer worker meet:
// the places a person chooses (matching), an appointment is at (support)
// and a review is held at (recovery).
var MeetingPlaces = []Choice{
	{Code: "home", Label: "At home"},
	{Code: "community", Label: "At a café or community place"},
	{Code: "team_base", Label: "At the team base"},
	{Code: "ward", Label: "On the ward"},
	{Code: "phone", Label: "By phone"},
	{Code: "video", Label: "By video call"},
	{Code: "text", Label: "By text message"},
}

// ChoiceLabel returns the label for code in choices, or the code itself.
func ChoiceLabel(choices []Choice, code string) string {
	for _, c := range choices {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

// HasChoice reports whether code is one of choices.
func HasChoice(choices []Choice, code string) bool {
	for _, c := range choices {
		if c.Code == code {
			return true
		}
	}
	return false
}

// CheckLen adds a problem when v is longer than maxLen characters.
func (p *Problems) CheckLen(field, v string, maxLen int, label string) {
	if utf8.RuneCountInString(v) > maxLen {
		p.Add(field, label+" must be "+Thousands(maxLen)+" characters or fewer")
	}
}

// Thousands formats n with comma separators, as people write numbers.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// NormaliseEmail lower-cases and trims an address, and checks its form. The
// message is suitable for showing next to the field.
func NormaliseEmail(raw string) (string, string) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" {
		return "", "Enter an email address"
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") || len(e) > 254 {
		return e, "Enter an email address in the correct format, like name@example.com"
	}
	return e, ""
}
