package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/web/ui"
)

const maxFormBody = 64 << 10

// parseForm reads a posted form: at most 64 KiB, and only text Mutual can
// store (see checkValues). Every posted page reads its form through here,
// even those that use none of it, so a form that cannot be read is refused
// the same way everywhere.
func parseForm(w http.ResponseWriter, r *http.Request) (*ui.Form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, app.Errorf(app.CodeTooLarge, "What you sent is too long. Shorten your answers and try again.")
		}
		return nil, app.Errorf(app.CodeInvalid, "The form could not be read. Go back and try again.")
	}
	if err := checkValues(r.PostForm, "form"); err != nil {
		return nil, err
	}
	for _, vs := range r.PostForm {
		for i, v := range vs {
			// Normalise line endings so length limits count what people see.
			vs[i] = strings.ReplaceAll(v, "\r\n", "\n")
		}
	}
	return ui.NewForm(r.PostForm), nil
}

// checkValues refuses form or query values that are not text Mutual can
// store: invalid UTF-8, NUL (which PostgreSQL refuses, so it would fail only
// there, as a 500) and other control characters but tab and line breaks.
// where is "form" or "address".
func checkValues(vals url.Values, where string) error {
	for k, vs := range vals {
		if msg := app.UnstorableText(k); msg != "" {
			return app.Invalid(app.FieldError{Field: where, Message: fmt.Sprintf("A field name in the %s contains %s, which cannot be read. Go back and try again.", where, msg)})
		}
		for _, v := range vs {
			if msg := app.UnstorableText(v); msg != "" {
				what := "What was typed in " + k
				if where == "address" {
					what = "The address's " + k + " value"
				}
				return app.Invalid(app.FieldError{Field: k, Message: fmt.Sprintf("%s contains %s, which cannot be stored. Remove it and try again.", what, msg)})
			}
		}
	}
	return nil
}

// checkAddress refuses a request whose path or query string holds text
// Mutual cannot store, before any handler reads it.
func checkAddress(r *http.Request) error {
	if msg := app.UnstorableText(r.URL.Path); msg != "" {
		return app.Invalid(app.FieldError{Field: "path", Message: fmt.Sprintf("The address contains %s, which cannot be read. Check the link.", msg)})
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	return checkValues(r.URL.Query(), "address")
}

// formWithErrors copies an application error's field problems onto the
// form, so the page can be shown again with what was typed and each
// problem next to its field. It reports whether err was a validation
// error; other errors are the caller's to return.
func formWithErrors(f *ui.Form, err error) bool {
	if err == nil {
		return false
	}
	ae := app.As(err)
	if ae.Code != app.CodeInvalid {
		return false
	}
	if len(ae.Fields) == 0 {
		f.AddError("", ae.Message)
	}
	for _, fe := range ae.Fields {
		name := fe.Field
		if dateFields[name] {
			// A date is three boxes: point the error summary at the first,
			// which can take focus.
			name += "-day"
		}
		if f.Error(name) == "" {
			f.AddError(name, fe.Message)
		}
	}
	return true
}

// dateFields are the forms' day-month-year fields.
var dateFields = map[string]bool{"date_of_birth": true, "person.date_of_birth": true, "contact_at": true,
	"target_date": true, "held_at": true, "next_at": true, "plan_at": true, "start": true}

// pathID reads a numeric path value; anything else is not found.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.NotFound("The page")
	}
	return id, nil
}

// idAndForm is a posted page's {id} and its form: the first steps of
// every handler that changes one thing.
func idAndForm(w http.ResponseWriter, r *http.Request) (int64, *ui.Form, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	f, err := parseForm(w, r)
	return id, f, err
}

// byID is a page shown for the {id} in its path: its first view, with no
// form yet.
func byID(page func(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		return page(w, r, http.StatusOK, id, nil)
	}
}

// queryID reads an optional numeric query value; bad values are invalid.
func queryID(q url.Values, name string) (int64, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, app.Invalid(app.FieldError{Field: name, Message: name + " must be a whole number"})
	}
	return id, nil
}

// maxOffset bounds a list's offset: far beyond any list, and small enough
// for every database and client to hold.
const maxOffset = 1_000_000_000

// queryOffset reads an optional offset into a list.
func queryOffset(q url.Values) (int, error) {
	off, err := queryID(q, "offset")
	if err == nil && off > maxOffset {
		err = app.Invalid(app.FieldError{Field: "offset", Message: fmt.Sprintf("offset must be a whole number from 0 to %d", maxOffset)})
	}
	return int(off), err
}

func formInt(f *ui.Form, name string) int64 {
	id, _ := strconv.ParseInt(strings.TrimSpace(f.Value(name)), 10, 64)
	return id
}

// formDate reads a date entered as day, month and year boxes (NHS date
// input), as YYYY-MM-DD, or "" when all three are empty. A partial or
// impossible date is a problem for the field.
func formDate(f *ui.Form, name string, p *app.Problems) string {
	d, m, y := strings.TrimSpace(f.Value(name+"-day")), strings.TrimSpace(f.Value(name+"-month")), strings.TrimSpace(f.Value(name+"-year"))
	if d == "" && m == "" && y == "" {
		return ""
	}
	di, e1 := strconv.Atoi(d)
	mi, e2 := strconv.Atoi(m)
	yi, e3 := strconv.Atoi(y)
	if e1 != nil || e2 != nil || e3 != nil || len(y) != 4 {
		p.Add(name, "Enter the date as numbers, for example 27 3 1990")
		return ""
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Day() != di || int(t.Month()) != mi {
		p.Add(name, "Date must be a real date")
		return ""
	}
	return t.Format("2006-01-02")
}

// formDateTime reads a date (day, month, year boxes) and a time ("14:30")
// in UK time. Empty means now.
func formDateTime(f *ui.Form, name string, now time.Time, p *app.Problems) time.Time {
	ds := formDate(f, name, p)
	if p.Has(name) {
		return time.Time{}
	}
	if ds == "" {
		return now
	}
	tm := strings.TrimSpace(f.Value(name + "-time"))
	if tm == "" {
		tm = "12:00"
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", ds+" "+tm, app.London)
	if err != nil {
		p.Add(name+"-time", "Enter the time like 14:30")
		return time.Time{}
	}
	return t.UTC()
}

func checked(f *ui.Form, name string) bool {
	v := f.Value(name)
	return v == "yes" || v == "true" || v == "on"
}

func yesNo(f *ui.Form, name string) *bool {
	switch f.Value(name) {
	case "yes":
		b := true
		return &b
	case "no":
		b := false
		return &b
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// choiceOptions lists a closed set of choices as form options.
func choiceOptions(cs []app.Choice) []ui.Option {
	out := make([]ui.Option, len(cs))
	for i, c := range cs {
		out[i] = ui.Option{Value: c.Code, Label: c.Label}
	}
	return out
}

// formProblem puts a refused form's problems on the form, by field when
// invalid, at the top for the codes shown; any other error is returned, to
// be answered as an error page.
func formProblem(f *ui.Form, err error, shown ...app.Code) error {
	e := app.As(err)
	switch {
	case e.Code == app.CodeInvalid:
		formWithErrors(f, err)
	case slices.Contains(shown, e.Code):
		f.AddError("", e.Message)
	default:
		return err
	}
	return nil
}
