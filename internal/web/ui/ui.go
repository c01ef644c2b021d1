// Package ui is Mutual's kit of NHS.UK frontend (v10) templates: the page
// layout, form partials that match the design system's markup, template
// functions, the compiled stylesheet and script, and a Renderer that puts
// them together with a surface's page templates.
//
// A page template is a file that defines {{define "content"}}; it is
// rendered inside the "layout" template with a *Page as its data. Form
// fields are built with the "field" function and drawn by the ui-* partials:
//
//	{{template "ui-input" (field .Form "email" "Email address" "type=email" "autocomplete=email")}}
package ui

import (
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ServiceName is shown in the header and at the end of every <title>.
const ServiceName = "Mutual"

// NavItem is one link in the header navigation; Current marks the page the
// reader is on.
type NavItem struct {
	Label, Href string
	Current     bool
}

// Page is the data every full page is rendered with: the layout reads the
// shared parts and the page's own template reads Data (and Form).
type Page struct {
	Title       string    // <title> is "Title – Mutual", prefixed "Error: " when there are Errors
	Nonce       string    // CSP nonce for the inline script and the module script
	Nav         []NavItem // header navigation for the caller's roles
	UserName    string    // signed-in account name; "" when signed out
	SignOutCSRF string    // sent with the sign-out form as csrf_token when not empty
	BackLink    string    // optional href for a back link above the main content
	Banner      string    // deployment warning shown on every page when not empty
	Flash       string    // one success message shown at the top of the main content
	// HelpNow shows where to get help now at the top of the main content,
	// after a form whose words may mean someone is at risk: "self" or
	// "referrer" (who wrote it), with "-alerted" when the duty lead was
	// alerted. See the ui-help-now partial.
	HelpNow string
	// FullWidth lays the main content across the whole window, for staff
	// work pages that hold wide lists.
	FullWidth   bool
	Errors      []FieldError // error summary list
	Form        *Form        // values and errors of the page's form; may be nil
	Data        any          // page-specific data
	CurrentPath string       // path of the request, for pages that link to themselves
	// Content is the page's main content rendered earlier by
	// Renderer.RenderContent; when set, the page's "content" template is
	// not run again.
	Content template.HTML
	// NavHTML is Nav drawn as HTML; Render sets it.
	NavHTML template.HTML
}

// DocumentTitle is the text of the page's <title> element.
func (p *Page) DocumentTitle() string {
	t := strings.TrimSpace(p.Title)
	if t == "" {
		t = ServiceName
	} else {
		t += " – " + ServiceName
	}
	if len(p.Errors) > 0 {
		t = "Error: " + t
	}
	return t
}

// FieldError is one problem with a form: Field is the form field's name
// (the error summary links to "#"+FieldID(Field)) and Message says what to
// do, in the words shown to the person.
type FieldError struct {
	Field, Message string
}

// Href is the error summary's link target for the error, or "" when the
// error is not about one field.
func (e FieldError) Href() string {
	if e.Field == "" {
		return ""
	}
	return "#" + FieldID(e.Field)
}

// Form holds the submitted values of a form and its errors, so a page can be
// shown again with what the person typed. All its methods accept a nil Form.
type Form struct {
	Values url.Values
	Errors []FieldError
}

// NewForm returns a form holding values (which may be nil).
func NewForm(values url.Values) *Form {
	if values == nil {
		values = url.Values{}
	}
	return &Form{Values: values}
}

// Value is the first submitted value of the field, or "".
func (f *Form) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(name)
}

// All is every submitted value of the field, for checkboxes.
func (f *Form) All(name string) []string {
	if f == nil {
		return nil
	}
	return f.Values[name]
}

// Has reports whether value is among the field's submitted values.
func (f *Form) Has(name, value string) bool {
	return slices.Contains(f.All(name), value)
}

// Error is the message of the field's first error, or "".
func (f *Form) Error(name string) string {
	if f == nil {
		return ""
	}
	for _, e := range f.Errors {
		if e.Field == name {
			return e.Message
		}
	}
	return ""
}

// AddError records a problem with a field.
func (f *Form) AddError(field, message string) {
	f.Errors = append(f.Errors, FieldError{Field: field, Message: message})
}

// Valid reports whether the form has no errors.
func (f *Form) Valid() bool { return f == nil || len(f.Errors) == 0 }

// Option is one choice of a select, radios or checkboxes field.
type Option struct {
	Value, Label, Hint string
}

// Field is everything a ui-* form partial needs to draw one question. Build
// it with the "field" template function, which fills Value, Values and
// Error from the page's Form.
type Field struct {
	Name, ID, Label, Hint, Type, Autocomplete, Inputmode, Width, Error string

	Value   string
	Values  []string
	Rows    int
	Options []Option

	LabelAsHeading bool   // label or legend is the page's h1 (size "l" unless Size says otherwise)
	Spellcheck     string // "false" to switch off, "true" to switch on; "" leaves the browser's default
	Size           string // label or legend size: "s", "m", "l" or "xl"
	Classes        string // extra classes on the input, textarea, select, or radios/checkboxes container
	Parts          []DatePart
}

// DatePart is the day, month or year box of a date field.
type DatePart struct {
	Name, ID, Label, Value, Width, Autocomplete string
	Error                                       bool
}

// FieldID turns a form field name into an HTML id: letters, digits,
// underscores and hyphens are kept and anything else (dots, brackets,
// spaces) becomes a single hyphen, so "contact_email" stays as it is and
// "items[0].name" becomes "items-0-name".
func FieldID(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			hyphen = false
		default:
			if !hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// HintID is the id of the field's hint.
func (f Field) HintID() string { return f.ID + "-hint" }

// ErrorID is the id of the field's error message.
func (f Field) ErrorID() string { return f.ID + "-error" }

// DescribedBy is the aria-describedby value that ties the hint and error
// message to the field, or "".
func (f Field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.HintID())
	}
	if f.Error != "" {
		ids = append(ids, f.ErrorID())
	}
	return strings.Join(ids, " ")
}

// InputType is the input's type attribute, "text" unless Type says
// otherwise.
func (f Field) InputType() string {
	switch f.Type {
	case "", "textarea", "select", "radios", "checkboxes", "date":
		return "text"
	}
	return f.Type
}

// LabelSize is the size modifier of the label or legend ("" for none).
func (f Field) LabelSize() string {
	if f.Size != "" {
		return f.Size
	}
	if f.LabelAsHeading {
		return "l"
	}
	return ""
}

// WidthClass is the class that sets an input's width: fixed character
// widths ("2", "3", "4", "5", "10", "20", "30") or fractions of the
// column ("full", "three-quarters", "two-thirds", "one-half",
// "one-third", "one-quarter").
func (f Field) WidthClass() string {
	switch f.Width {
	case "":
		return ""
	case "2", "3", "4", "5", "10", "20", "30":
		return "nhsuk-input--width-" + f.Width
	}
	return "nhsuk-u-width-" + f.Width
}

// TextareaRows is the textarea's rows attribute, 5 unless Rows says
// otherwise.
func (f Field) TextareaRows() int {
	if f.Rows > 0 {
		return f.Rows
	}
	return 5
}

// OptionID is the id of the i'th radio or checkbox. The first takes the
// field's own id so that error summary links land on it.
func (f Field) OptionID(i int) string {
	if i == 0 {
		return f.ID
	}
	return f.ID + "-" + strconv.Itoa(i+1)
}

// Checked reports whether the option with this value is chosen.
func (f Field) Checked(value string) bool {
	if len(f.Values) > 0 {
		return slices.Contains(f.Values, value)
	}
	return f.Value != "" && f.Value == value
}

// DateParts are the day, month and year boxes of a date field: Parts when
// set, otherwise built from Values (day, month, year), with every box
// marked in error when the field has an error.
func (f Field) DateParts() []DatePart {
	if len(f.Parts) > 0 {
		return f.Parts
	}
	return datePartsFor(f, nil)
}

var dateUnits = [...]struct{ name, label, width string }{
	{"day", "Day", "2"}, {"month", "Month", "2"}, {"year", "Year", "4"},
}

// datePartsFor builds the boxes of a date field. errs says which parts have
// their own error; when it is empty and the field has an error, all do.
func datePartsFor(f Field, errs []bool) []DatePart {
	parts := make([]DatePart, len(dateUnits))
	anyPart := slices.Contains(errs, true)
	for i, u := range dateUnits {
		p := DatePart{Name: f.Name + "-" + u.name, ID: f.ID + "-" + u.name, Label: u.label, Width: u.width}
		if i < len(f.Values) {
			p.Value = f.Values[i]
		}
		if f.Autocomplete == "bday" {
			p.Autocomplete = "bday-" + u.name
		}
		if anyPart {
			p.Error = errs[i]
		} else {
			p.Error = f.Error != ""
		}
		parts[i] = p
	}
	return parts
}
