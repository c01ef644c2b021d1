package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// dataRightsRoutes are a person's copy of their data and the subject
// access copy staff make for a person: one line per route.
func (s *Server) dataRightsRoutes() []*Route {
	return []*Route{
		personPage("GET /my/data", app.PermOwnRecord, s.handleMyData),
		personPage("POST /people/{id}/subject-access", app.PermSubjectAccess, s.handleSubjectAccess),
		personAPI("GET /api/v1/my/data", app.PermOwnRecord, opMyData, s.apiMyData),
		personAPI("POST /api/v1/people/{id}/subject-access-copies", app.PermSubjectAccess, opSubjectAccess, s.apiSubjectAccess),
	}
}

// SubjectAccessRequest is POST /api/v1/people/{id}/subject-access-copies.
type SubjectAccessRequest struct {
	Reason string `json:"reason" required:"true" doc:"Why you are making the copy, for example the person's subject access request and its date. The person can read it."`
}

var exampleCopy = datarights.Copy{GeneratedAt: exampleTime, PersonID: 7, Sections: []datarights.Section{
	{Name: "Your details", Records: []any{map[string]any{"record_id": 7, "name": "Sam", "email": "sam@example.org"}}}}}

var opMyData = APIOp{Summary: "A copy of everything Mutual holds about you", Tag: "Your record",
	Description: "Every capability's part: your details and their changes, your account, referrals with their history and contacts, " +
		"each time you were told about peer support, and the copies staff made for a subject access request. Audited.",
	Response: exampleCopy}

var opSubjectAccess = APIOp{Summary: "Make a subject access copy of everything Mutual holds about a person", Tag: "People", Query: id,
	Description: "Complete, whatever you may see yourself: needs a reason, which is kept with the person's data and shown to them. Audited.",
	Request:     SubjectAccessRequest{Reason: "Subject access request received 3 November"}, Response: exampleCopy}

// dataNode is one part of a copy, laid out for reading: a label and a
// value, or a list of parts.
type dataNode struct {
	Label    string
	Text     string
	Children []dataNode
	List     bool // children are items, not fields
}

// readable turns a copy's JSON into labelled parts, in the order the
// fields were written, with dates, yes/no and empty lists in words.
func readable(v any) ([]dataNode, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	tree, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	return tree.Children, nil
}

// decodeOrdered reads one JSON value keeping object fields in order.
func decodeOrdered(dec *json.Decoder) (dataNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return dataNode{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := dataNode{List: t == '['}
		for dec.More() {
			label := ""
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return n, err
				}
				label = humanise(fmt.Sprint(k))
			}
			child, err := decodeOrdered(dec)
			if err != nil {
				return n, err
			}
			if child.Text == "" && child.Children == nil && !child.List {
				continue // null or empty: nothing to show
			}
			child.Label = label
			n.Children = append(n.Children, child)
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return n, err
		}
		if n.List && len(n.Children) == 0 {
			return dataNode{Text: "None"}, nil
		}
		return n, nil
	case bool:
		return dataNode{Text: map[bool]string{true: "Yes", false: "No"}[t]}, nil
	case string:
		if at, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return dataNode{Text: ui.FormatDateTime(at)}, nil
		}
		return dataNode{Text: t}, nil
	case nil:
		return dataNode{}, nil
	default:
		return dataNode{Text: fmt.Sprint(t)}, nil
	}
}

// humanise turns a JSON field name into words: "how_it_was_made" → "How it
// was made".
func humanise(key string) string {
	return app.UpperFirst(strings.ReplaceAll(key, "_", " "))
}

type dataPage struct {
	Copy     datarights.Copy
	Sections []dataSection
	Staff    bool
	Reason   string
}

type dataSection struct {
	Name    string
	Records [][]dataNode
}

func readableCopy(c datarights.Copy) ([]dataSection, error) {
	var out []dataSection
	for _, sec := range c.Sections {
		ds := dataSection{Name: sec.Name}
		for _, rec := range sec.Records {
			nodes, err := readable(rec)
			if err != nil {
				return nil, err
			}
			ds.Records = append(ds.Records, nodes)
		}
		out = append(out, ds)
	}
	return out, nil
}

// writeCopyFile sends a copy as a JSON file to save.
func writeCopyFile(w http.ResponseWriter, c datarights.Copy, name string) error {
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleMyData(w http.ResponseWriter, r *http.Request) error {
	c, err := s.dataRights.OwnCopy(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "json" {
		return writeCopyFile(w, c, "mutual-my-data-"+c.GeneratedAt.Format("2006-01-02")+".json")
	}
	secs, err := readableCopy(c)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "own/data", &ui.Page{Title: "Your data", Data: dataPage{Copy: c, Sections: secs}})
}

func (s *Server) handleSubjectAccess(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	c, err := s.dataRights.SubjectAccessCopy(r.Context(), principal(r), id, f.Value("reason"))
	if err != nil {
		e := app.As(err)
		switch e.Code {
		case app.CodeInvalid:
			formWithErrors(f, err)
		case app.CodeConflict:
			f.AddError("reason", e.Message)
		default:
			return err
		}
		return s.personPage(w, r, e.Code.Status(), id, f)
	}
	if f.Value("format") == "json" {
		return writeCopyFile(w, c, fmt.Sprintf("mutual-subject-access-%d-%s.json", id, c.GeneratedAt.Format("2006-01-02")))
	}
	secs, err := readableCopy(c)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "own/data", &ui.Page{Title: "Subject access copy", BackLink: fmt.Sprintf("/people/%d", id),
		Data: dataPage{Copy: c, Sections: secs, Staff: true, Reason: f.Value("reason")}})
}

func (s *Server) apiMyData(w http.ResponseWriter, r *http.Request) error {
	c, err := s.dataRights.OwnCopy(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiSubjectAccess(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in SubjectAccessRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.dataRights.SubjectAccessCopy(r.Context(), principal(r), id, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}
