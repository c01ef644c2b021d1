package ui

import (
	"bytes"
	"errors"
	"html/template"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const examplePage = `{{define "content"}}
<h1 class="nhsuk-heading-l">Your details</h1>
<form method="post" action="/details" novalidate>
  {{template "ui-input" (field .Form "email" "Email address" "type=email" "autocomplete=email")}}
  {{template "ui-radios" (field .Form "contact" "How should we contact you?" (options "email|Email" "phone|Phone"))}}
  <button class="nhsuk-button" data-module="nhsuk-button" type="submit">Save and continue</button>
</form>
{{template "shared-note" .}}
{{end}}`

func pagesFS() fstest.MapFS {
	return fstest.MapFS{
		"details.html":       {Data: []byte(examplePage)},
		"admin/users.html":   {Data: []byte(`{{define "content"}}<h1>Users {{shout "here"}}</h1>{{end}}`)},
		"_shared.html":       {Data: []byte(`{{define "shared-note"}}<p class="nhsuk-body">Shared note</p>{{end}}`)},
		"broken.html":        {Data: []byte(`{{define "content"}}<p>before</p>{{template "ui-input" (field .Form "x" "X" "colour=red")}}{{end}}`)},
		"head.html":          {Data: []byte(`{{define "head"}}<meta name="robots" content="noindex">{{end}}{{define "content"}}<p>Head</p>{{end}}`)},
		"notes.txt":          {Data: []byte("not a template")},
		"admin/_unused.html": {Data: []byte(`{{define "admin-bit"}}bit{{end}}`)},
	}
}

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer(pagesFS(), template.FuncMap{"shout": strings.ToUpper})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fullPage() *Page {
	form := NewForm(url.Values{"email": {"sam@example"}, "contact": {"phone"}})
	form.AddError("email", "Enter an email address in the correct format, like name@example.com")
	form.AddError("contact", "Select how we should contact you")
	return &Page{
		Title:       "Your details",
		Nonce:       "n0nce-123",
		Nav:         []NavItem{{Label: "Home", Href: "/"}, {Label: "My referrals", Href: "/my/referrals", Current: true}},
		UserName:    "Sam Taylor",
		SignOutCSRF: "tok-1",
		BackLink:    "/start",
		Banner:      "Demonstration mode: two-factor sign-in is switched off.",
		Flash:       "Your details were saved.",
		Errors:      form.Errors,
		Form:        form,
	}
}

func render(t *testing.T, r *Renderer, page string, p *Page) string {
	t.Helper()
	var b strings.Builder
	if err := r.Render(&b, page, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestLayout(t *testing.T) {
	r := newTestRenderer(t)
	out := render(t, r, "details", fullPage())

	mustContain := map[string]string{
		"ErrorTitlePrefix":  "<title>Error: Your details – Mutual</title>",
		"Lang":              `<html lang="en-GB" class="nhsuk-template">`,
		"BodyClass":         `<body class="nhsuk-template__body">`,
		"SkipLink":          `<a class="nhsuk-skip-link" data-module="nhsuk-skip-link" href="#maincontent">Skip to main content</a>`,
		"MainTarget":        `id="maincontent"`,
		"ServiceName":       `<a class="nhsuk-header__service-name" href="/">Mutual</a>`,
		"AriaCurrent":       `<a class="nhsuk-header__navigation-link" href="/my/referrals" aria-current="page">`,
		"OtherNavNotMarked": `<a class="nhsuk-header__navigation-link" href="/">Home</a>`,
		"UserName":          "Sam Taylor",
		"SignOutForm":       `<form class="nhsuk-header__account-form" action="/sign-out" method="post" novalidate>`,
		"SignOutButton":     `<button class="nhsuk-header__account-button">Sign out</button>`,
		"SignOutCSRF":       `<input type="hidden" name="csrf_token" value="tok-1">`,
		"Banner":            "Demonstration mode: two-factor sign-in is switched off.",
		"BackLink":          `<a class="nhsuk-back-link" href="/start">Back</a>`,
		"Flash":             "Your details were saved.",
		"FlashNoAutoFocus":  `data-disable-auto-focus="true"`,
		"ErrorSummary":      `<h2 class="nhsuk-error-summary__heading">There is a problem</h2>`,
		"ErrorLinkEmail":    `<a href="#email">Enter an email address in the correct format, like name@example.com</a>`,
		"ErrorLinkRadio":    `<a href="#contact">Select how we should contact you</a>`,
		"FirstRadioHasID":   `<input class="nhsuk-radios__input" id="contact" name="contact" type="radio" value="email">`,
		"RadioChecked":      `id="contact-2" name="contact" type="radio" value="phone" checked>`,
		"InputValueKept":    `value="sam@example"`,
		"InputError":        `<span class="nhsuk-error-message" id="email-error"><span class="nhsuk-u-visually-hidden">Error: </span>`,
		"SharedPartial":     "Shared note",
		"Stylesheet":        `<link rel="stylesheet" href="/assets/css/mutual.css">`,
		"ModuleScript":      `<script type="module" src="/assets/js/mutual.js" nonce="n0nce-123"></script>`,
		"InlineScript":      `<script nonce="n0nce-123">document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');</script>`,
		"FooterHelp":        `<a class="nhsuk-footer__list-item-link" href="/help">Get help now</a>`,
		"FooterA11y":        `<a class="nhsuk-footer__list-item-link" href="/accessibility">Accessibility statement</a>`,
		"FooterPrivacy":     `<a class="nhsuk-footer__list-item-link" href="/privacy">Privacy</a>`,
		"FooterCrisis":      `<a href="sms:85258?body=SHOUT">text SHOUT to 85258</a>`,
	}
	for name, want := range mustContain {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(out, want) {
				t.Errorf("page lacks %s", want)
			}
		})
	}

	t.Run("CrisisLineWords", func(t *testing.T) {
		want := "In a crisis? Call 999 in an emergency, NHS 111 and choose option 2 for urgent mental health help, " +
			"Samaritans on 116 123 (free, any time) or text SHOUT to 85258."
		if got := visibleText(out); !strings.Contains(got, want) {
			t.Errorf("footer crisis line missing; page text:\n%s", got)
		}
	})
	t.Run("OrderOfMain", func(t *testing.T) {
		order := []string{"nhsuk-header", "app-banner-title", "nhsuk-back-link", `<main`, "app-flash-title",
			"nhsuk-error-summary", "Your details</h1>", "</main>", "nhsuk-footer"}
		last := -1
		for _, s := range order {
			i := strings.Index(out, s)
			if i <= last {
				t.Fatalf("%q is not after the previous part (at %d, previous at %d)", s, i, last)
			}
			last = i
		}
	})
	t.Run("BodyScriptFirst", func(t *testing.T) {
		if !regexp.MustCompile(`<body class="nhsuk-template__body">\s*<script nonce=`).MatchString(out) {
			t.Error("the js-enabled script does not come straight after <body>")
		}
	})
	t.Run("EveryScriptHasNonce", func(t *testing.T) {
		scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(out, -1)
		if len(scripts) != 2 {
			t.Fatalf("want 2 scripts, got %q", scripts)
		}
		for _, s := range scripts {
			if !strings.Contains(s, `nonce="n0nce-123"`) {
				t.Errorf("script without the nonce: %s", s)
			}
		}
	})
	t.Run("NoInlineStylesOrHandlers", func(t *testing.T) {
		if m := regexp.MustCompile(`(?i)\sstyle\s*=`).FindString(out); m != "" {
			t.Errorf("inline style attribute: %q", m)
		}
		if strings.Contains(out, "<style") {
			t.Error("inline <style> element")
		}
		if m := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).FindString(out); m != "" {
			t.Errorf("inline event handler: %q", m)
		}
	})
	t.Run("NothingFromAnotherHost", func(t *testing.T) {
		for _, m := range regexp.MustCompile(`(?i)\b(src|href|action|content)="([^"]*)"`).FindAllStringSubmatch(out, -1) {
			if strings.Contains(m[2], "//") {
				t.Errorf("%s=%q points at another host", m[1], m[2])
			}
		}
		// Only the SVG namespace may mention http(s) at all.
		rest := strings.ReplaceAll(out, `xmlns="http://www.w3.org/2000/svg"`, "")
		if i := strings.Index(rest, "http"); i >= 0 && strings.Contains(rest[i:min(len(rest), i+8)], "://") {
			t.Errorf("absolute URL in page: %q", rest[i:min(len(rest), i+60)])
		}
	})
	t.Run("UniqueIDs", func(t *testing.T) {
		seen := map[string]bool{}
		for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(out, -1) {
			if seen[m[1]] {
				t.Errorf("id %q used twice", m[1])
			}
			seen[m[1]] = true
		}
	})
}

func TestLayoutSignedOutAndPlain(t *testing.T) {
	r := newTestRenderer(t)
	out := render(t, r, "details", &Page{Title: "Your details", Nonce: "abc"})
	if !strings.Contains(out, "<title>Your details – Mutual</title>") {
		t.Error("title without errors should have no Error: prefix")
	}
	for _, absent := range []string{"/sign-out", "nhsuk-header__account", "nhsuk-header__navigation", "nhsuk-error-summary",
		"nhsuk-notification-banner", "nhsuk-back-link", "csrf_token", "nhsuk-main-wrapper--s"} {
		if strings.Contains(out, absent) {
			t.Errorf("signed-out plain page contains %q", absent)
		}
	}
	// A nil form is fine: fields render empty.
	if !strings.Contains(out, `<input class="nhsuk-input" id="email" name="email" type="email" spellcheck="false" autocomplete="email">`) {
		t.Errorf("empty email input not as expected:\n%s", out)
	}
}

func TestLayoutEscapes(t *testing.T) {
	r := newTestRenderer(t)
	p := &Page{Title: `<b>"x"</b>`, UserName: `<script>alert(1)</script>`, Banner: "<i>b</i>", Flash: "<u>f</u>",
		Nonce: `"><script>`, BackLink: "javascript:alert(1)",
		Errors: []FieldError{{Field: `a"b`, Message: "<em>m</em>"}}}
	out := render(t, r, "details", p)
	for _, bad := range []string{"<b>", "<script>alert", "<i>b", "<u>f", "<em>m", `"><script>`, "javascript:alert"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped %q in page", bad)
		}
	}
}

func TestRenderPages(t *testing.T) {
	r := newTestRenderer(t)
	if got, want := r.Pages(), []string{"admin/users", "broken", "details", "head"}; !slices.Equal(got, want) {
		t.Errorf("pages = %q, want %q (no shared _ files, no .txt)", got, want)
	}
	t.Run("SubfolderAndExtraFuncs", func(t *testing.T) {
		out := render(t, r, "admin/users", &Page{Title: "Users"})
		if !strings.Contains(out, "<h1>Users HERE</h1>") {
			t.Error("admin/users content or extra func missing")
		}
		if strings.Contains(out, "Your details") {
			t.Error("another page's content leaked in")
		}
	})
	t.Run("PagesDoNotClash", func(t *testing.T) {
		out := render(t, r, "details", &Page{})
		if strings.Contains(out, "Users") {
			t.Error("admin/users content in details")
		}
	})
	t.Run("HeadBlock", func(t *testing.T) {
		out := render(t, r, "head", &Page{})
		if !strings.Contains(out, `<meta name="robots" content="noindex">`) {
			t.Error("page head block not rendered")
		}
	})
	t.Run("ErrorWritesNothing", func(t *testing.T) {
		var b bytes.Buffer
		err := r.Render(&b, "broken", &Page{Title: "Broken"})
		if err == nil || !strings.Contains(err.Error(), "colour") {
			t.Errorf("err = %v, want unknown option colour", err)
		}
		if b.Len() != 0 {
			t.Errorf("wrote %d bytes of a failed page", b.Len())
		}
	})
	t.Run("UnknownPage", func(t *testing.T) {
		if err := r.Render(&bytes.Buffer{}, "nope", &Page{}); err == nil {
			t.Error("no error for an unknown page")
		}
		if r.Has("nope") || !r.Has("admin/users") {
			t.Error("Has is wrong")
		}
	})
	t.Run("NilPage", func(t *testing.T) {
		if out := render(t, r, "head", nil); !strings.Contains(out, "<title>Mutual</title>") {
			t.Error("nil page should render with the bare service name as title")
		}
	})
	t.Run("WriterError", func(t *testing.T) {
		if err := r.Render(failWriter{}, "head", &Page{}); err == nil {
			t.Error("writer error not returned")
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestNewRendererErrors(t *testing.T) {
	if _, err := NewRenderer(fstest.MapFS{}, nil); err == nil {
		t.Error("no error for no pages")
	}
	bad := fstest.MapFS{"a.html": {Data: []byte(`{{define "content"}}{{.Broken}{{end}}`)}}
	if _, err := NewRenderer(bad, nil); err == nil || !strings.Contains(err.Error(), "a.html") {
		t.Errorf("err = %v, want a parse error naming a.html", err)
	}
	unknownFunc := fstest.MapFS{"a.html": {Data: []byte(`{{define "content"}}{{nosuch 1}}{{end}}`)}}
	if _, err := NewRenderer(unknownFunc, nil); err == nil {
		t.Error("no error for an unknown function")
	}
	for name := range Funcs() {
		if _, err := NewRenderer(pagesFS(), template.FuncMap{name: strings.ToUpper}); err == nil || !strings.Contains(err.Error(), name+" is defined twice") {
			t.Fatalf("replacing %s: err = %v, want it refused", name, err)
		}
		break
	}
}

func TestRenderPartial(t *testing.T) {
	r := newTestRenderer(t)
	var b strings.Builder
	if err := r.RenderPartial(&b, "ui-crisis", nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"If you need help now", `href="tel:999"`, `href="tel:111"`, "option 2",
		`href="tel:116123"`, "116 123", `href="sms:85258?body=SHOUT"`, "SHOUT", "85258", "nhsuk-card--care"} {
		if !strings.Contains(out, want) {
			t.Errorf("crisis card lacks %q", want)
		}
	}
	if err := r.RenderPartial(&b, "shared-note", nil); err != nil {
		t.Errorf("shared partial: %v", err)
	}
	if err := r.RenderPartial(&b, "no-such-partial", nil); err == nil {
		t.Error("no error for an unknown partial")
	}
	var empty strings.Builder
	if err := r.RenderPartial(&empty, "ui-input", "not a field"); err == nil || empty.Len() != 0 {
		t.Errorf("bad data: err = %v, wrote %q", err, empty.String())
	}
}

func TestMakeField(t *testing.T) {
	form := NewForm(url.Values{
		"contact_email": {"a@example.com"},
		"needs":         {"emotional", "practical"},
		"password":      {"hunter2"},
		"dob-day":       {"31"}, "dob-month": {"3"}, "dob-year": {"1980"},
		"start-day": {"1"},
	})
	form.AddError("contact_email", "Enter a real email address")
	form.AddError("contact_email", "second error is not shown")
	form.AddError("dob-month", "Date of birth must be a real date")
	form.AddError("start", "Enter the start date")

	t.Run("ValueAndError", func(t *testing.T) {
		f := mustField(t, form, "contact_email", "Email", "type=email", "hint=We will only use it to contact you",
			"autocomplete=email", "width=two-thirds", "heading=true")
		want := Field{Name: "contact_email", ID: "contact_email", Label: "Email", Hint: "We will only use it to contact you",
			Type: "email", Autocomplete: "email", Width: "two-thirds", Error: "Enter a real email address",
			Value: "a@example.com", Values: []string{"a@example.com"}, LabelAsHeading: true, Spellcheck: "false"}
		if !fieldsEqual(f, want) {
			t.Errorf("got  %+v\nwant %+v", f, want)
		}
		if f.DescribedBy() != "contact_email-hint contact_email-error" {
			t.Errorf("DescribedBy = %q", f.DescribedBy())
		}
		if f.LabelSize() != "l" || f.WidthClass() != "nhsuk-u-width-two-thirds" || f.InputType() != "email" {
			t.Errorf("LabelSize %q WidthClass %q InputType %q", f.LabelSize(), f.WidthClass(), f.InputType())
		}
	})
	t.Run("AllOpts", func(t *testing.T) {
		f := mustField(t, nil, "notes", "Notes", "rows=8", "inputmode=text", "spellcheck=true", "size=m",
			"class=a", "class=b", "id=custom", "width=10")
		if f.Rows != 8 || f.TextareaRows() != 8 || f.Inputmode != "text" || f.Spellcheck != "true" || f.Size != "m" ||
			f.Classes != "a b" || f.ID != "custom" || f.WidthClass() != "nhsuk-input--width-10" || f.LabelSize() != "m" {
			t.Errorf("opts not applied: %+v", f)
		}
		if mustField(t, nil, "notes", "Notes").TextareaRows() != 5 {
			t.Error("default rows should be 5")
		}
	})
	t.Run("HintMayContainEquals", func(t *testing.T) {
		if f := mustField(t, nil, "x", "X", "hint=a=b"); f.Hint != "a=b" {
			t.Errorf("hint = %q", f.Hint)
		}
	})
	t.Run("CheckboxValues", func(t *testing.T) {
		f := mustField(t, form, "needs", "Needs", Options("emotional|Emotional", "practical|Practical", "social|Social"))
		if !f.Checked("emotional") || !f.Checked("practical") || f.Checked("social") {
			t.Errorf("checked wrong: %+v", f.Values)
		}
		if len(f.Options) != 3 || f.OptionID(0) != "needs" || f.OptionID(2) != "needs-3" {
			t.Errorf("options %+v ids %q %q", f.Options, f.OptionID(0), f.OptionID(2))
		}
		if form.Has("needs", "social") || !form.Has("needs", "practical") {
			t.Error("Form.Has wrong")
		}
	})
	t.Run("PasswordNeverEchoed", func(t *testing.T) {
		f := mustField(t, form, "password", "Password", "type=password")
		if f.Value != "" || len(f.Values) != 0 {
			t.Errorf("password echoed: %+v", f)
		}
	})
	t.Run("DatePartError", func(t *testing.T) {
		f := mustField(t, form, "dob", "Date of birth", "type=date")
		if f.Error != "Date of birth must be a real date" {
			t.Errorf("error = %q", f.Error)
		}
		parts := f.DateParts()
		if len(parts) != 3 || parts[0].Value != "31" || parts[1].Value != "3" || parts[2].Value != "1980" {
			t.Fatalf("parts = %+v", parts)
		}
		if parts[0].Error || !parts[1].Error || parts[2].Error {
			t.Errorf("only the month should be in error: %+v", parts)
		}
		if parts[2].Name != "dob-year" || parts[2].ID != "dob-year" || parts[2].Width != "4" || parts[0].Width != "2" {
			t.Errorf("year part = %+v", parts[2])
		}
	})
	t.Run("DateWholeError", func(t *testing.T) {
		f := mustField(t, form, "start", "Start date", "type=date")
		for _, p := range f.DateParts() {
			if !p.Error {
				t.Errorf("%s should be in error when the whole date is", p.Name)
			}
		}
		if f.Values[0] != "1" {
			t.Errorf("values = %q", f.Values)
		}
	})
	t.Run("NilForm", func(t *testing.T) {
		f := mustField(t, nil, "x", "X", "type=date")
		if f.Error != "" || len(f.DateParts()) != 3 || f.DateParts()[0].Error {
			t.Errorf("nil form field = %+v", f)
		}
		var nf *Form
		if nf.Value("x") != "" || nf.All("x") != nil || nf.Error("x") != "" || nf.Has("x", "") || !nf.Valid() {
			t.Error("nil Form methods")
		}
	})
	t.Run("BadOpts", func(t *testing.T) {
		for _, opt := range []any{"colour=red", "heading", "rows=0", "rows=x", "heading=maybe", "size=xxl", "spellcheck=no", 42} {
			if _, err := MakeField(nil, "x", "X", opt); err == nil {
				t.Errorf("no error for opt %v", opt)
			}
		}
	})
}

func fieldsEqual(a, b Field) bool {
	return a.Name == b.Name && a.ID == b.ID && a.Label == b.Label && a.Hint == b.Hint && a.Type == b.Type &&
		a.Autocomplete == b.Autocomplete && a.Inputmode == b.Inputmode && a.Width == b.Width && a.Error == b.Error &&
		a.Value == b.Value && slices.Equal(a.Values, b.Values) && a.Rows == b.Rows && slices.Equal(a.Options, b.Options) &&
		a.LabelAsHeading == b.LabelAsHeading && a.Spellcheck == b.Spellcheck && a.Size == b.Size && a.Classes == b.Classes
}

func TestFieldID(t *testing.T) {
	for name, want := range map[string]string{
		"contact_email":  "contact_email",
		"contact-email":  "contact-email",
		"person.name":    "person-name",
		"items[0].name":  "items-0-name",
		"needs[]":        "needs",
		"a  b":           "a-b",
		"[lead]":         "lead",
		"Référence_No.1": "R-f-rence_No-1",
	} {
		if got := FieldID(name); got != want {
			t.Errorf("FieldID(%q) = %q, want %q", name, got, want)
		}
	}
	if (FieldError{Field: "items[0]"}).Href() != "#items-0" || (FieldError{}).Href() != "" {
		t.Error("FieldError.Href")
	}
}

func TestOptions(t *testing.T) {
	got := Options("yes|Yes", "no|No|You can change this later", "maybe", "a|B|C|D")
	want := []Option{{"yes", "Yes", ""}, {"no", "No", "You can change this later"}, {"maybe", "maybe", ""}, {"a", "B", "C|D"}}
	if !slices.Equal(got, want) {
		t.Errorf("Options = %+v", got)
	}
}

func TestDates(t *testing.T) {
	winter := time.Date(2026, 1, 5, 15, 4, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 31, 23, 30, 0, 0, time.UTC) // 00:30 on 1 August in London
	cases := []struct{ got, want string }{
		{FormatDate(winter), "5 January 2026"},
		{FormatDateTime(winter), "5 January 2026 at 3:04pm"},
		{FormatDate(summer), "1 August 2026"},
		{FormatDateTime(summer), "1 August 2026 at 12:30am"},
		{FormatDate(time.Time{}), ""},
		{FormatDateTime(time.Time{}), ""},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestSmallFuncs(t *testing.T) {
	if Plural(1, "person", "people") != "person" || Plural(0, "person", "people") != "people" || Plural(2, "a", "b") != "b" {
		t.Error("Plural")
	}
	m, err := dict("Text", "Waiting", "Colour", "yellow")
	if err != nil || m["Text"] != "Waiting" || m["Colour"] != "yellow" {
		t.Errorf("dict = %v, %v", m, err)
	}
	if _, err := dict("odd"); err == nil {
		t.Error("dict with odd arguments")
	}
	if _, err := dict(1, 2); err == nil {
		t.Error("dict with a non-string key")
	}
	list := Funcs()["list"].(func(...any) []any)
	if got := list(1, "a"); len(got) != 2 {
		t.Errorf("list = %v", got)
	}
	for _, name := range []string{"field", "options", "date", "datetime", "plural", "dict", "list"} {
		if Funcs()[name] == nil {
			t.Errorf("Funcs lacks %q", name)
		}
	}
}

func TestDocumentTitle(t *testing.T) {
	cases := []struct {
		p    Page
		want string
	}{
		{Page{Title: "Ask for peer support"}, "Ask for peer support – Mutual"},
		{Page{Title: "Ask for peer support", Errors: []FieldError{{"a", "b"}}}, "Error: Ask for peer support – Mutual"},
		{Page{}, "Mutual"},
	}
	for _, c := range cases {
		if got := c.p.DocumentTitle(); got != c.want {
			t.Errorf("DocumentTitle() = %q, want %q", got, c.want)
		}
	}
}

func TestTag(t *testing.T) {
	r := newTestRenderer(t)
	var b strings.Builder
	if err := r.RenderPartial(&b, "ui-tag", map[string]any{"Text": "Waiting past standard", "Colour": "yellow"}); err != nil {
		t.Fatal(err)
	}
	if b.String() != `<strong class="nhsuk-tag nhsuk-tag--yellow">Waiting past standard</strong>` {
		t.Errorf("tag = %s", b.String())
	}
}

func TestStaticAssets(t *testing.T) {
	static := StaticFS()
	read := func(name string) string {
		t.Helper()
		b, err := fs.ReadFile(static, name)
		if err != nil {
			t.Fatalf("%s: %v (run bash scripts/build-assets.sh)", name, err)
		}
		return string(b)
	}
	css := read("css/mutual.css")
	if len(css) < 100_000 {
		t.Errorf("mutual.css is only %d bytes: NHS.UK frontend missing?", len(css))
	}
	for _, want := range []string{".nhsuk-header", ".nhsuk-error-summary", ".app-chart", ".app-table__row--overdue", ".app-crisis__number"} {
		if !strings.Contains(css, want) {
			t.Errorf("mutual.css lacks %s", want)
		}
	}
	if regexp.MustCompile(`https?://`).MatchString(css) {
		t.Error("mutual.css contains an absolute URL")
	}
	if strings.Contains(css, "@font-face") {
		t.Error("mutual.css contains @font-face")
	}
	refs := regexp.MustCompile(`url\("?([^")]+)"?\)`).FindAllStringSubmatch(css, -1)
	if len(refs) == 0 {
		t.Error("expected the CSS to refer to some icons")
	}
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") {
			continue
		}
		name, ok := strings.CutPrefix(ref, "/assets/")
		if !ok {
			t.Errorf("CSS refers to %s, outside /assets/", ref)
			continue
		}
		if _, err := fs.Stat(static, name); err != nil {
			t.Errorf("CSS refers to %s, which is not in static/", ref)
		}
	}
	js := read("js/mutual.js")
	if !strings.Contains(js, `import { initAll } from './nhsuk-frontend.min.js'`) || !strings.Contains(js, "initAll()") {
		t.Errorf("mutual.js does not import and call initAll:\n%s", js)
	}
	nhsuk := read("js/nhsuk-frontend.min.js")
	if !regexp.MustCompile(`export\{[^}]*\binitAll\b`).MatchString(nhsuk) {
		t.Error("nhsuk-frontend.min.js is not the ES module exporting initAll")
	}
	// The layout's icons must exist too.
	for _, name := range []string{"images/favicon.ico", "images/favicon.svg"} {
		if _, err := fs.Stat(static, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// visibleText strips tags and collapses whitespace, roughly what a reader sees.
func visibleText(s string) string {
	s = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]*>`).ReplaceAllString(s, "")
	return strings.Join(strings.Fields(s), " ")
}
