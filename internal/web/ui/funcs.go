package ui

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must resolve on hosts without a zoneinfo database
)

// london is where Mutual's readers are: every date is shown in UK time.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("ui: " + err.Error()) // cannot happen: time/tzdata is linked in
	}
	return loc
}()

// Funcs returns the template functions the layout, the partials and page
// templates use:
//
//	field    field FORM NAME LABEL OPTS... builds a Field (see MakeField)
//	options  options "value|Label" "value|Label|Hint"... builds []Option
//	date     a time.Time as "2 January 2006" in UK time; "" for the zero time
//	datetime a time.Time as "2 January 2006 at 3:04pm" in UK time; "" for the zero time
//	plural   plural N ONE MANY picks the word for a count
//	dict     dict KEY VALUE... builds a map[string]any, to pass several values to a template
//	list     list A B... builds a []any
func Funcs() template.FuncMap {
	return template.FuncMap{
		"field":    MakeField,
		"options":  Options,
		"date":     FormatDate,
		"datetime": FormatDateTime,
		"plural":   Plural,
		"dict":     dict,
		"list":     func(items ...any) []any { return items },
	}
}

// MakeField builds the Field for one form question, filling its value(s)
// and error from form (which may be nil). Each opt is either a "key=value"
// string or a []Option. Keys:
//
//	type          input type ("email", "tel", "password", "number"...) or "date"
//	hint          hint text under the label
//	autocomplete  autocomplete token; "bday" on a date fills bday-day and so on
//	inputmode     e.g. "numeric"
//	width         "2", "3", "4", "5", "10", "20", "30", "full", "two-thirds", "one-half"...
//	rows          textarea rows
//	heading       "true" makes the label or legend the page's h1
//	size          label or legend size: "s", "m", "l", "xl"
//	spellcheck    "false" or "true"
//	class         extra classes, e.g. "nhsuk-radios--inline"
//	id            the id, when it should not derive from the name
//
// A password field never shows what was typed. A date field reads
// NAME-day, NAME-month and NAME-year, and takes its error from NAME or from
// whichever part has one (so report "dob-day" to link the error summary to
// the day box). It fails on an unknown key or a malformed opt, so a typo
// in a template shows up in its test.
func MakeField(form *Form, name, label string, opts ...any) (Field, error) {
	f := Field{Name: name, ID: FieldID(name), Label: label}
	for _, o := range opts {
		switch o := o.(type) {
		case []Option:
			f.Options = append(f.Options, o...)
		case Option:
			f.Options = append(f.Options, o)
		case string:
			key, value, ok := strings.Cut(o, "=")
			if !ok {
				return f, fmt.Errorf("field %q: option %q is not key=value", name, o)
			}
			if err := f.set(key, value); err != nil {
				return f, fmt.Errorf("field %q: %w", name, err)
			}
		default:
			return f, fmt.Errorf("field %q: option of type %T is neither a key=value string nor []Option", name, o)
		}
	}
	if f.Type == "email" && f.Spellcheck == "" {
		f.Spellcheck = "false"
	}
	switch f.Type {
	case "password":
		// Never send a password back to the browser, but do say what was
		// wrong with it.
		f.Error = form.Error(name)
	case "date":
		var errs []bool
		for _, u := range dateUnits {
			part := name + "-" + u.name
			f.Values = append(f.Values, form.Value(part))
			msg := form.Error(part)
			errs = append(errs, msg != "")
			if f.Error == "" {
				f.Error = msg
			}
		}
		if msg := form.Error(name); msg != "" {
			f.Error, errs = msg, nil
		}
		f.Parts = datePartsFor(f, errs)
	default:
		f.Value = form.Value(name)
		f.Values = form.All(name)
		f.Error = form.Error(name)
	}
	return f, nil
}

func (f *Field) set(key, value string) error {
	switch key {
	case "type":
		f.Type = value
	case "hint":
		f.Hint = value
	case "autocomplete":
		f.Autocomplete = value
	case "inputmode":
		f.Inputmode = value
	case "width":
		f.Width = value
	case "rows":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("rows=%q is not a positive number", value)
		}
		f.Rows = n
	case "heading":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("heading=%q is not true or false", value)
		}
		f.LabelAsHeading = b
	case "size":
		switch value {
		case "s", "m", "l", "xl":
			f.Size = value
		default:
			return fmt.Errorf("size=%q is not s, m, l or xl", value)
		}
	case "spellcheck":
		if value != "true" && value != "false" {
			return fmt.Errorf("spellcheck=%q is not true or false", value)
		}
		f.Spellcheck = value
	case "class":
		f.Classes = strings.TrimSpace(f.Classes + " " + value)
	case "id":
		f.ID = value
	default:
		return fmt.Errorf("unknown option %q", key)
	}
	return nil
}

// Options builds choices from "value|Label" or "value|Label|Hint" strings;
// a string with no "|" is both value and label.
func Options(pairs ...string) []Option {
	opts := make([]Option, 0, len(pairs))
	for _, p := range pairs {
		parts := strings.SplitN(p, "|", 3)
		o := Option{Value: parts[0], Label: parts[0]}
		if len(parts) > 1 {
			o.Label = parts[1]
		}
		if len(parts) > 2 {
			o.Hint = parts[2]
		}
		opts = append(opts, o)
	}
	return opts
}

// FormatDate shows t as "2 January 2006" in UK time, or "" for the zero
// time.
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(london).Format("2 January 2006")
}

// FormatDateTime shows t as "2 January 2006 at 3:04pm" in UK time, or ""
// for the zero time.
func FormatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(london).Format("2 January 2006 at 3:04pm")
}

// Plural picks one when n is 1 and many otherwise.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments (%d)", len(kv))
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %d is a %T, not a string", i/2, kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
