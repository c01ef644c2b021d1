package notify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"
)

// What an email may carry: references, links and a status. Never a name,
// contact details, dates of birth or anything anyone wrote about a person.
// A session's date and time and how long a place is held say nothing
// about who the person is; a claim code is a one-time secret like a link,
// not a personal detail.
var emailFields = map[string]bool{"Reference": true, "ClaimLink": true, "Link": true, "SignInLink": true, "ResetLink": true, "Status": true,
	"When": true, "HeldUntil": true, "Code": true,
	// A service's target, in working days.
	"Days": true}

// What a notification in Mutual may carry besides: the referrer reads the
// outcome of a referral they made; staff names are not a person's data.
var noteFields = map[string]bool{"To": true, "From": true, "Reason": true, "RedirectedTo": true, "RedirectMessage": true, "WorkerFirstName": true,
	"OutcomeSummary": true, "GrantedBy": true, "GrantedTo": true, "Role": true, "TeamName": true,
	// A booking's own holder reads, in their account, which group it is and
	// why their place on the list changed; a proposal's words are the
	// proposer's own, answered to them.
	"GroupTitle": true, "Kind": true, "Position": true, "Title": true, "Answer": true,
	// Alerts: when a response is due, and what a lead recorded as done (a
	// coded outcome in words, never their note).
	"Due": true, "Outcome": true,
	// What kind of alert it is, in fixed words from code ("the
	// lone-working alert for visit").
	"About": true,

	// How many appointments the service cancelled or moved: counts.
	"Cancelled": true, "Moved": true,
	// A review reminder says when, never who.
	"Date": true,
	// A comment on a contact: only whether it asks for a correction,
	// never what was written.
	"Correction": true}

func fieldsOf(v any) []string {
	t := reflect.TypeOf(v)
	var out []string
	for i := range t.NumField() {
		out = append(out, t.Field(i).Name)
	}
	return out
}

// No template is given a person's name or other personal detail: each
// message type's fields come from the channel's list, and every message
// type is registered, so a new one cannot skip this test.
func TestMessagesCarryNoPersonalDetails(t *testing.T) {
	for _, m := range allEmails {
		for _, f := range fieldsOf(m) {
			if !emailFields[f] {
				t.Errorf("email %T carries %s: emails carry only references and links", m, f)
			}
		}
		if _, err := render(m.emailTemplate(), "subject", m); err != nil {
			t.Error(err)
		}
		if _, err := render(m.emailTemplate(), "body", m); err != nil {
			t.Error(err)
		}
	}
	for _, n := range allNotes {
		for _, f := range fieldsOf(n) {
			if !emailFields[f] && !noteFields[f] {
				t.Errorf("notification %T carries %s, which is not on the list of what notifications may carry", n, f)
			}
		}
		if _, err := render(n.noteTemplate(), "text", n); err != nil {
			t.Error(err)
		}
	}
	registered := map[string]bool{}
	for _, m := range allEmails {
		registered[reflect.TypeOf(m).Name()] = true
	}
	for _, n := range allNotes {
		registered[reflect.TypeOf(n).Name()] = true
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil || (fd.Name.Name != "emailTemplate" && fd.Name.Name != "noteTemplate") {
					continue
				}
				name := fd.Recv.List[0].Type.(*ast.Ident).Name
				if !registered[name] {
					t.Errorf("message %s is not in allEmails or allNotes", name)
				}
			}
		}
	}
	for _, tpl := range templates.Templates() {
		name, part, ok := strings.Cut(tpl.Name(), "/")
		if !ok {
			continue
		}
		found := false
		for _, m := range allEmails {
			found = found || (m.emailTemplate() == name && (part == "subject" || part == "body"))
		}
		for _, n := range allNotes {
			found = found || (n.noteTemplate() == name && part == "text")
		}
		if !found {
			t.Errorf("template %s is used by no registered message", tpl.Name())
		}
	}
}
