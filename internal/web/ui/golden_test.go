package ui

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// The golden tests compare our partials with the reference HTML that
// nhsuk-frontend ships for each component (dist/nhsuk/components/*/
// fixtures.json, copied into testdata/nhsuk so that tests do not need
// node_modules). Both sides are normalised first: whitespace collapsed,
// attributes sorted, class lists sorted and comments dropped.

type goldenCase struct {
	fixture string // file in testdata/nhsuk
	partial string // template to render
	data    func(t *testing.T) any
	ignore  []string          // attributes left out on both sides
	rewrite map[string]string // deliberate differences, applied to the fixture
}

// dateNames are Mutual's date part names: NAME-day, NAME-month and
// NAME-year, where nhsuk-frontend uses "day" (no prefix) or "NAME[day]".
var dateNames = map[string]string{
	`name="day"`:   `name="example-day"`,
	`name="month"`: `name="example-month"`,
	`name="year"`:  `name="example-year"`,
}

func formWith(values map[string]string, errs ...string) *Form {
	f := NewForm(nil)
	for k, v := range values {
		f.Values.Set(k, v)
	}
	for i := 0; i+1 < len(errs); i += 2 {
		f.AddError(errs[i], errs[i+1])
	}
	return f
}

func mustField(t *testing.T, form *Form, name, label string, opts ...any) Field {
	t.Helper()
	f, err := MakeField(form, name, label, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var contactOptions = Options("email|Email", "phone|Phone", "text|Text message")

var goldenCases = []goldenCase{
	{
		fixture: "input--with-error-message-without-heading.html", partial: "ui-input",
		data: func(t *testing.T) any {
			return mustField(t, formWith(nil, "example", "Enter NHS number"), "example", "What is your NHS number?",
				"id=with-error-message", "width=10", "class=nhsuk-input--code", "inputmode=numeric", "spellcheck=false")
		},
	},
	{
		fixture: "input--example-phone-number-with-error-message.html", partial: "ui-input",
		data: func(t *testing.T) any {
			return mustField(t, formWith(nil, "contact-by-phone", "Enter your phone number"), "contact-by-phone", "Phone number",
				"type=tel", "width=two-thirds")
		},
	},
	{
		fixture: "input--label.html", partial: "ui-input",
		data: func(t *testing.T) any {
			return mustField(t, nil, "example", "What is your NHS number?",
				"id=custom-size", "heading=true", "size=s", "width=10", "class=nhsuk-input--code", "inputmode=numeric", "spellcheck=false")
		},
	},
	{
		fixture: "textarea--with-error-message-and-hint.html", partial: "ui-textarea",
		data: func(t *testing.T) any {
			return mustField(t, formWith(nil, "example", "You must provide an explanation"), "example", "Can you provide more detail?",
				"id=with-hint-error", "heading=true", "hint=Do not include personal information like your name, date of birth or NHS number")
		},
	},
	{
		fixture: "textarea--without-heading.html", partial: "ui-textarea",
		data: func(t *testing.T) any {
			return mustField(t, nil, "example", "Can you provide more detail?",
				"id=without-heading", "hint=Do not include personal information like your name, date of birth or NHS number")
		},
	},
	{
		fixture: "select--with-error-message-and-hint.html", partial: "ui-select",
		data: func(t *testing.T) any {
			return mustField(t, formWith(nil, "example", "Select a location"), "example", "Choose location",
				"id=with-hint-error", "heading=true", "hint=This can be different to where you went before",
				Options("choose|Choose location", "eastmidlands|East Midlands", "eastofengland|East of England", "london|London",
					"northeast|North East", "northwest|North West", "southeast|South East", "southwest|South West",
					"westmidlands|West Midlands", "yorkshire|Yorkshire and the Humber"))
		},
	},
	{
		fixture: "select--with-selected-value.html", partial: "ui-select",
		data: func(t *testing.T) any {
			return mustField(t, formWith(map[string]string{"example": "updated"}), "example", "Sort by",
				"id=with-value", "heading=true",
				Options("published|Recently published", "updated|Recently updated", "views|Most views", "comments|Most comments"))
		},
	},
	{
		fixture: "radios--with-error-message-and-hint.html", partial: "ui-radios",
		data: func(t *testing.T) any {
			return mustField(t, formWith(nil, "example", "Select how you want to be contacted"), "example",
				"How do you want to be contacted about this?", "id=with-hint-error", "heading=true", "hint=Select 1 option", contactOptions)
		},
	},
	{
		fixture: "radios--with-hints-on-items.html", partial: "ui-radios",
		data: func(t *testing.T) any {
			return mustField(t, nil, "example", "Do you have a mobile phone with signal?", "id=with-hint-item", "heading=true",
				Options("mobile|Yes, I have a mobile phone with signal|We will text you a 6 digit security code",
					"landline|No, I want to use my landline|We will call you to give you a 6 digit security code"))
		},
	},
	{
		fixture: "checkboxes--with-error-message-and-hint-without-heading.html", partial: "ui-checkboxes",
		data: func(t *testing.T) any {
			return mustField(t, formWith(nil, "example", "Select how you want to be contacted"), "example",
				"How do you want to be contacted about this?", "id=with-hint-error",
				"hint=Select all options that are relevant to you",
				Options("email|Email", "phone|Phone", "text message|Text message"))
		},
	},
	{
		fixture: "checkboxes--with-hints-on-items.html", partial: "ui-checkboxes",
		data: func(t *testing.T) any {
			return mustField(t, nil, "example", "What medical conditions do you have?", "id=with-hint-item", "heading=true",
				"hint=Select 1 or more",
				Options("alzheimers|Alzheimer's disease or dementia", "asthma|Asthma", "cancer|Cancer",
					"diabetes|Diabetes|including type 1, type 2, and gestational diabetes"))
		},
	},
	{
		fixture: "date-input--with-error-on-day-input.html", partial: "ui-date", rewrite: dateNames,
		data: func(t *testing.T) any {
			form := formWith(map[string]string{"example-month": "3", "example-year": "1980"},
				"example-day", "Date of birth must include a day")
			return mustField(t, form, "example", "What is your date of birth?", "type=date", "heading=true",
				"hint=For example, 31 3 1980")
		},
	},
	{
		fixture: "date-input--with-autocomplete-values.html", partial: "ui-date", rewrite: dateNames,
		data: func(t *testing.T) any {
			return mustField(t, nil, "example", "What is your date of birth?", "type=date", "heading=true",
				"hint=For example, 31 3 1980", "autocomplete=bday")
		},
	},
	{
		fixture: "date-input--with-values.html", partial: "ui-date", rewrite: dateNames,
		data: func(t *testing.T) any {
			form := formWith(map[string]string{"example-day": "5", "example-month": "8", "example-year": "2024"})
			return mustField(t, form, "example", "What is your date of birth?", "type=date", "heading=true",
				"hint=For example, 31 3 1980")
		},
	},
	{
		// tabindex="-1" is ours: the summary can take focus before the
		// script runs (the script adds it itself otherwise).
		fixture: "error-summary--with-multiple-errors.html", partial: "ui-error-summary", ignore: []string{"tabindex"},
		data: func(t *testing.T) any {
			return []FieldError{{"example-first-name", "Enter your first name"}, {"example-last-name", "Enter your last name"}}
		},
	},
	{
		fixture: "error-summary--default.html", partial: "ui-error-summary", ignore: []string{"tabindex"},
		data: func(t *testing.T) any {
			return []FieldError{{"example-day", "Date of birth must be in the past"}}
		},
	},
	{
		fixture: "tag--colour-class.html", partial: "ui-tag",
		data: func(t *testing.T) any { return map[string]any{"Text": "Green", "Colour": "green"} },
	},
	{
		fixture: "tag--default.html", partial: "ui-tag",
		data: func(t *testing.T) any { return map[string]any{"Text": "Active"} },
	},
}

func testRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer(fstest.MapFS{"home.html": {Data: []byte(`{{define "content"}}<h1>Home</h1>{{end}}`)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPartialsMatchNHSFixtures(t *testing.T) {
	r := testRenderer(t)
	for _, c := range goldenCases {
		t.Run(strings.TrimSuffix(c.fixture, ".html"), func(t *testing.T) {
			want := readFixture(t, c.fixture, c.rewrite)
			var got strings.Builder
			if err := r.RenderPartial(&got, c.partial, c.data(t)); err != nil {
				t.Fatal(err)
			}
			if diff := compareHTML(want, got.String(), c.ignore...); diff != "" {
				t.Errorf("%s does not match the nhsuk-frontend fixture:\n%s\nour HTML:\n%s", c.partial, diff, got.String())
			}
		})
	}
}

// TestGoldenComparisonCanFail breaks our output in the ways a mistake would
// (a class, an attribute, an id, text) and checks each is caught.
func TestGoldenComparisonCanFail(t *testing.T) {
	r := testRenderer(t)
	c := goldenCases[0]
	want := readFixture(t, c.fixture, nil)
	var sb strings.Builder
	if err := r.RenderPartial(&sb, c.partial, c.data(t)); err != nil {
		t.Fatal(err)
	}
	good := sb.String()
	if diff := compareHTML(want, good); diff != "" {
		t.Fatalf("baseline does not match:\n%s", diff)
	}
	breaks := map[string][2]string{
		"class":        {"nhsuk-input--error", "nhsuk-input--eror"},
		"missingClass": {"nhsuk-form-group nhsuk-form-group--error", "nhsuk-form-group"},
		"attribute":    {` inputmode="numeric"`, ""},
		"describedby":  {`aria-describedby="with-error-message-error"`, `aria-describedby="with-error-message-hint"`},
		"text":         {"Enter NHS number", "Enter your NHS number"},
		"element":      {"<span class=\"nhsuk-error-message\"", "<div class=\"nhsuk-error-message\""},
	}
	for name, b := range breaks {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(good, b[0]) {
				t.Fatalf("our HTML has no %q to break:\n%s", b[0], good)
			}
			if compareHTML(want, strings.Replace(good, b[0], b[1], 1)) == "" {
				t.Errorf("replacing %q with %q went unnoticed", b[0], b[1])
			}
		})
	}
}

func TestNormaliseHTML(t *testing.T) {
	a := `<div  class="b a" id="x"><!-- note -->
	   <input id="i" type=text checked value='it&#39;s'>  Hello
	   world </div>`
	b := `<div id="x" class="a b"><input checked type="text" id="i" value="it&#x27;s">Hello world</div>`
	if diff := compareHTML(a, b); diff != "" {
		t.Errorf("equivalent HTML differs:\n%s", diff)
	}
	if diff := compareHTML(a, strings.Replace(b, "Hello", "Hullo", 1)); diff == "" {
		t.Error("different text went unnoticed")
	}
	if diff := compareHTML(`<a href="#x" tabindex="-1">x</a>`, `<a href="#x">x</a>`, "tabindex"); diff != "" {
		t.Errorf("ignored attribute still compared:\n%s", diff)
	}
}

func readFixture(t *testing.T, name string, rewrite map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "nhsuk", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for from, to := range rewrite {
		if !strings.Contains(s, from) {
			t.Fatalf("fixture %s has no %q to rewrite", name, from)
		}
		s = strings.ReplaceAll(s, from, to)
	}
	return s
}

// compareHTML returns "" when want and got are the same HTML once
// normalised, and otherwise a line diff of the normalised forms.
func compareHTML(want, got string, ignoreAttrs ...string) string {
	w, g := normaliseHTML(want, ignoreAttrs), normaliseHTML(got, ignoreAttrs)
	if slices.Equal(w, g) {
		return ""
	}
	var b strings.Builder
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	fmt.Fprintf(&b, "first difference at token %d\n", i)
	for j := max(0, i-3); j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	for j := i; j < min(len(w), i+4); j++ {
		fmt.Fprintf(&b, "- %s\n", w[j])
	}
	for j := i; j < min(len(g), i+4); j++ {
		fmt.Fprintf(&b, "+ %s\n", g[j])
	}
	return b.String()
}

// normaliseHTML turns HTML into a list of canonical tokens: start tags with
// sorted attributes (and sorted class lists), end tags, and text with
// entities decoded and whitespace collapsed. Comments and whitespace-only
// text are dropped. It is a small tokenizer for trusted, well-formed test
// HTML, not a general parser.
func normaliseHTML(s string, ignoreAttrs []string) []string {
	var out []string
	addText := func(text string) {
		text = strings.Join(strings.Fields(html.UnescapeString(text)), " ")
		if text != "" {
			out = append(out, "text: "+text)
		}
	}
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			addText(s)
			break
		}
		addText(s[:lt])
		s = s[lt:]
		switch {
		case strings.HasPrefix(s, "<!--"):
			end := strings.Index(s, "-->")
			if end < 0 {
				return append(out, "error: unterminated comment")
			}
			s = s[end+3:]
		case strings.HasPrefix(s, "</"):
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return append(out, "error: unterminated end tag")
			}
			out = append(out, "</"+strings.ToLower(strings.TrimSpace(s[2:end]))+">")
			s = s[end+1:]
		default:
			var tag string
			tag, s = parseStartTag(s[1:], ignoreAttrs)
			out = append(out, tag)
		}
	}
	return out
}

func parseStartTag(s string, ignoreAttrs []string) (tag, rest string) {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
	i := 0
	for i < len(s) && !isSpace(s[i]) && s[i] != '>' && s[i] != '/' {
		i++
	}
	name := strings.ToLower(s[:i])
	var attrs []string
	for {
		for i < len(s) && (isSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			return "error: unterminated <" + name, ""
		}
		if s[i] == '>' {
			i++
			break
		}
		start := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/' {
			i++
		}
		key := strings.ToLower(s[start:i])
		value, hasValue := "", false
		if i < len(s) && s[i] == '=' {
			hasValue = true
			i++
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return "error: unterminated attribute value in <" + name, ""
				}
				value = s[i+1 : i+1+end]
				i += end + 2
			} else {
				start := i
				for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					i++
				}
				value = s[start:i]
			}
		}
		if slices.Contains(ignoreAttrs, key) {
			continue
		}
		value = html.UnescapeString(value)
		if key == "class" {
			classes := strings.Fields(value)
			slices.Sort(classes)
			value = strings.Join(classes, " ")
		}
		if hasValue {
			attrs = append(attrs, fmt.Sprintf("%s=%q", key, value))
		} else {
			attrs = append(attrs, key)
		}
	}
	slices.Sort(attrs)
	tag = "<" + name
	if len(attrs) > 0 {
		tag += " " + strings.Join(attrs, " ")
	}
	return tag + ">", s[i:]
}
