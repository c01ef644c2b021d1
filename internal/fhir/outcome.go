package fhir

import "github.com/mutualhq/mutual/internal/app"

// OperationOutcome is how a FHIR server says what went wrong.
type OperationOutcome struct {
	ResourceType string         `json:"resourceType"`
	Issue        []OutcomeIssue `json:"issue"`
}

// OutcomeIssue is one problem: how bad, its kind from the R4 IssueType
// value set, the words a person can read, and the parameter it is about.
type OutcomeIssue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// issueTypes maps Mutual's error codes to the R4 IssueType codes.
var issueTypes = map[app.Code]string{
	app.CodeInvalid:      "invalid",
	app.CodeNotFound:     "not-found",
	app.CodeConflict:     "conflict",
	app.CodeUnauthorized: "login",
	app.CodeForbidden:    "forbidden",
	app.CodeTooMany:      "throttled",
	app.CodeTooLarge:     "too-long",
	app.CodeUnsupported:  "not-supported",
	app.CodeUnavailable:  "transient",
	app.CodeInternal:     "exception",
}

// Outcome is an error as an OperationOutcome: one issue for the error, and
// one for each field problem, naming the parameter.
func Outcome(e *app.Error) OperationOutcome {
	code := issueTypes[e.Code]
	if code == "" {
		code = "processing"
	}
	oo := OperationOutcome{ResourceType: "OperationOutcome"}
	if len(e.Fields) == 0 || e.Message != "" {
		oo.Issue = append(oo.Issue, OutcomeIssue{Severity: "error", Code: code, Diagnostics: e.Message})
	}
	for _, f := range e.Fields {
		oo.Issue = append(oo.Issue, OutcomeIssue{Severity: "error", Code: code, Diagnostics: f.Message, Expression: []string{f.Field}})
	}
	return oo
}
