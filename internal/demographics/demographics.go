// Package demographics holds the characteristics Mutual records (always
// optional, always with "prefer not to say") and the groups used to check
// equity of access: ONS 2021 census ethnic groups, gender, disability,
// first language and age bands.
package demographics

import (
	"strings"
	"time"
)

// Option is one answer: a stable code, its label and (for ethnicity) the
// high-level group it belongs to.
type Option struct {
	Code  string
	Label string
	Group string
}

// PreferNotToSay is the code for a declined answer, in every list.
const PreferNotToSay = "prefer_not_to_say"

// Ethnicities are the ONS 2021 census categories for England and Wales,
// plus self-description and "prefer not to say".
var Ethnicities = []Option{
	{"asian_bangladeshi", "Bangladeshi", "Asian or Asian British"},
	{"asian_chinese", "Chinese", "Asian or Asian British"},
	{"asian_indian", "Indian", "Asian or Asian British"},
	{"asian_pakistani", "Pakistani", "Asian or Asian British"},
	{"asian_other", "Any other Asian background", "Asian or Asian British"},
	{"black_african", "African", "Black, Black British, Caribbean or African"},
	{"black_caribbean", "Caribbean", "Black, Black British, Caribbean or African"},
	{"black_other", "Any other Black, Black British or Caribbean background", "Black, Black British, Caribbean or African"},
	{"mixed_white_asian", "White and Asian", "Mixed or multiple ethnic groups"},
	{"mixed_white_black_african", "White and Black African", "Mixed or multiple ethnic groups"},
	{"mixed_white_black_caribbean", "White and Black Caribbean", "Mixed or multiple ethnic groups"},
	{"mixed_other", "Any other mixed or multiple ethnic background", "Mixed or multiple ethnic groups"},
	{"white_british", "English, Welsh, Scottish, Northern Irish or British", "White"},
	{"white_irish", "Irish", "White"},
	{"white_gypsy_traveller", "Gypsy or Irish Traveller", "White"},
	{"white_roma", "Roma", "White"},
	{"white_other", "Any other White background", "White"},
	{"other_arab", "Arab", "Other ethnic group"},
	{"other_any", "Any other ethnic group", "Other ethnic group"},
	{"self_described", "I'll describe it myself", "Other ethnic group"},
	{PreferNotToSay, "Prefer not to say", "Not known"},
}

// Genders offered on forms.
var Genders = []Option{
	{"woman", "Woman", ""},
	{"man", "Man", ""},
	{"non_binary", "Non-binary", ""},
	{"self_described", "I'll describe it myself", ""},
	{PreferNotToSay, "Prefer not to say", ""},
}

// Disabilities: the Equality Act question, answered yes or no.
var Disabilities = []Option{
	{"yes", "Yes", ""},
	{"no", "No", ""},
	{PreferNotToSay, "Prefer not to say", ""},
}

func find(opts []Option, code string) (Option, bool) {
	for _, o := range opts {
		if o.Code == code {
			return o, true
		}
	}
	return Option{}, false
}

// Valid reports whether code is in opts, or empty (not answered).
func Valid(opts []Option, code string) bool {
	if code == "" {
		return true
	}
	_, ok := find(opts, code)
	return ok
}

// Label returns the label of code in opts, "Not recorded" for empty.
func Label(opts []Option, code string) string {
	if code == "" {
		return "Not recorded"
	}
	if o, ok := find(opts, code); ok {
		return o.Label
	}
	return code
}

// EthnicGroup is the high-level ONS group of an ethnicity code.
func EthnicGroup(code string) string {
	if o, ok := find(Ethnicities, code); ok {
		return o.Group
	}
	return "Not known"
}

// EthnicityCode matches an ethnicity given as a code, a label, or a group
// name with "other" (as trusts' systems export them), case-insensitively.
func EthnicityCode(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	for _, o := range Ethnicities {
		if strings.EqualFold(v, o.Code) || strings.EqualFold(v, o.Label) {
			return o.Code, true
		}
	}
	return "", false
}

// Code matches a value against opts by code or label, case-insensitively.
func Code(opts []Option, v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", true
	}
	for _, o := range opts {
		if strings.EqualFold(v, o.Code) || strings.EqualFold(v, o.Label) {
			return o.Code, true
		}
	}
	return "", false
}

// AgeBands are the bands used in equity reports.
var AgeBands = []string{"Under 18", "18 to 25", "26 to 35", "36 to 45", "46 to 55", "56 to 65", "66 and over", "Not known"}

// AgeBand returns the band for someone born in birthYear, as at `at`
// (birth year only, so age may be one year high).
func AgeBand(birthYear int, at time.Time) string {
	if birthYear <= 1900 || birthYear > at.Year() {
		return "Not known"
	}
	age := at.Year() - birthYear
	switch {
	case age < 18:
		return "Under 18"
	case age <= 25:
		return "18 to 25"
	case age <= 35:
		return "26 to 35"
	case age <= 45:
		return "36 to 45"
	case age <= 55:
		return "46 to 55"
	case age <= 65:
		return "56 to 65"
	}
	return "66 and over"
}
