package web

import (
	"net/http"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/recovery"
)

// FeedbackReceived is the answer to giving feedback.
type FeedbackReceived struct {
	Reference  string                `json:"reference"`
	StatusLink string                `json:"status_link" doc:"A private link to follow this feedback without an account: keep it. Anyone with it sees where the feedback has got to and the answer, never the words or who gave them."`
	Signpost   *recovery.Signposting `json:"signpost,omitempty" doc:"Present when what was written sounded like the person may be in distress: how to get help now."`
}

var opGiveFeedback = APIOp{Summary: "Give feedback on a worker, a group or the service (no account needed)", Tag: "Feedback", Status: http.StatusCreated,
	Description: "Limited per network address, like the self-referral form. Named or anonymous; signed in, it is linked to your account unless anonymous. " +
		"Feedback about a named worker goes to their lead, never first to them.",
	Request: recovery.NewFeedback{About: recovery.AboutGroup, AboutName: "Tuesday walking group", TeamID: 3,
		Body: "Please could the group run in the evenings too? I work days.", MayQuote: true, Name: "Sam", Email: "sam@example.org", ContactOK: true},
	Response: FeedbackReceived{Reference: "FB-7KQ3-X9PD", StatusLink: "https://peer-support.example.nhs.uk/feedback/status/…"}}

var opListFeedback = APIOp{Summary: "Feedback you may read: a lead's teams', all of it for a service manager, and feedback about you that your lead shared", Tag: "Feedback",
	Query: []Param{{Name: "status", In: "query", Type: "string", Description: "received, acknowledged, considered, answered or changed"},
		{Name: "open", In: "query", Type: "string", Description: "1: only feedback not yet answered"}, {Name: "team", In: "query", Type: "integer"},
		{Name: "limit", In: "query", Type: "integer"}, {Name: "offset", In: "query", Type: "integer"}},
	Response: recovery.FeedbackPage{Items: []recovery.Feedback{exampleFeedback}, Total: 1, Limit: 50}}

var opGetFeedback = APIOp{Summary: "One piece of feedback, with its history for those who may move it on", Tag: "Feedback", Query: id,
	Description: "Who gave it (giver) is shown only to peer leads and service managers.", Response: exampleFeedback}

var opMoveFeedback = APIOp{Summary: "Move feedback on one step: acknowledged, considered, answered or changed", Tag: "Feedback", Query: id,
	Description: "Only a lead of its team or a service manager, never the worker it is about. Considered needs a theme; answered, an answer (and a summary to publish); " +
		"changed, what changed. A stale version answers 409. The words and who gave them are never changed.",
	Request: recovery.FeedbackMove{To: recovery.Answered, Version: 3, Answer: "We are starting an evening group in January.",
		PublicSummary: "People who work in the day asked for evening groups.", Publish: true},
	Response: exampleFeedback}

var opFeedbackStatus = APIOp{Summary: "Follow feedback through its private link: where it has got to and the answer", Tag: "Feedback",
	Query: []Param{{Name: "token", In: "path", Type: "string", Required: true, Description: "From the status_link given with the feedback."}},
	Response: recovery.OwnFeedback{Reference: "FB-7KQ3-X9PD", Status: recovery.Answered, About: recovery.AboutGroup, ReceivedAt: exampleTime,
		AcknowledgeBy: exampleTime, AnswerBy: exampleTime, AnsweredAt: &exampleTime, Answer: "We are starting an evening group in January."}}

var opMyFeedback = APIOp{Summary: "Feedback you gave from your account (not anonymously), and the answers", Tag: "Feedback",
	Response: []recovery.OwnFeedback{{Reference: "FB-7KQ3-X9PD", Status: recovery.Received, About: recovery.AboutService, Body: "Thank you", ReceivedAt: exampleTime,
		AcknowledgeBy: exampleTime, AnswerBy: exampleTime}}}

var opYouSaid = APIOp{Summary: "A team's public \"You said, we did\": themes, answers and changes over the last twelve months", Tag: "Feedback",
	Query:       []Param{{Name: "id", In: "path", Type: "integer", Required: true, Description: "The team's id."}},
	Description: "Never the person: counts from 1 to 4 are suppressed (null, suppressed: true), and a person's words appear only when they agreed to be quoted.",
	Response: recovery.YouSaidWeDid{TeamID: 3, TeamName: "North Community Team", From: "2025-11-02", To: "2026-11-02", Received: recovery.Figure{Value: &one},
		Answered: recovery.Figure{Value: &one}, Changed: recovery.Figure{Suppressed: true}, AnswerTargetDays: 20, AcknowledgeTargetDays: 5,
		Themes: []recovery.ThemeCount{{Theme: "groups", Label: "Groups and activities", Received: recovery.Figure{Value: &one}, Changed: recovery.Figure{Suppressed: true}}},
		Published: []recovery.Published{{Theme: "groups", Label: "Groups and activities", YouSaid: "People who work in the day asked for evening groups.",
			WeDid: "We are starting an evening group in January.", AnsweredAt: exampleTime}}}}

func (s *Server) apiGiveFeedback(w http.ResponseWriter, r *http.Request) error {
	var in recovery.NewFeedback
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Website != "" {
		// A hidden field only robots fill in: look as if it worked, store nothing.
		fake := recovery.FakeReceipt()
		return writeJSON(w, http.StatusCreated, FeedbackReceived{Reference: fake.Reference, StatusLink: s.cfg.BaseURL + "/feedback/status/" + app.NewSecret(24)})
	}
	if err := s.limitPublicForm(r, "feedback"); err != nil {
		return err
	}
	rc, err := s.recovery.GiveFeedback(r.Context(), s.giver(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, FeedbackReceived{Reference: rc.Reference, StatusLink: s.cfg.BaseURL + "/feedback/status/" + rc.Token, Signpost: rc.Signpost})
}

// giver is who is giving feedback: the signed-in caller, or the public.
func (s *Server) giver(r *http.Request) *app.Principal {
	if p := principal(r); p != nil && !p.MFAPending && !p.MFASetup {
		return p
	}
	return app.Public(requestID(r.Context()))
}

func feedbackFilter(r *http.Request) (recovery.FeedbackFilter, error) {
	q := r.URL.Query()
	f := recovery.FeedbackFilter{Status: recovery.FeedbackStatus(strings.TrimSpace(q.Get("status"))), Open: q.Get("open") == "1"}
	var err error
	if f.TeamID, err = queryID(q, "team"); err != nil {
		return f, err
	}
	if f.Offset, err = queryOffset(q); err != nil {
		return f, err
	}
	lim, err := queryID(q, "limit")
	f.Limit = int(min(lim, 1000))
	return f, err
}

func (s *Server) apiListFeedback(w http.ResponseWriter, r *http.Request) error {
	f, err := feedbackFilter(r)
	if err != nil {
		return err
	}
	pg, err := s.recovery.ListFeedback(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pg)
}

func (s *Server) apiGetFeedback(w http.ResponseWriter, r *http.Request) error {
	fid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fb, err := s.recovery.GetFeedback(r.Context(), principal(r), fid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, fb)
}

func (s *Server) apiMoveFeedback(w http.ResponseWriter, r *http.Request) error {
	fid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var m recovery.FeedbackMove
	if err := decodeJSON(r, &m); err != nil {
		return err
	}
	fb, err := s.recovery.MoveFeedback(r.Context(), principal(r), fid, m)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, fb)
}

func (s *Server) apiFeedbackStatus(w http.ResponseWriter, r *http.Request) error {
	o, err := s.recovery.FeedbackByLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}

func (s *Server) apiMyFeedback(w http.ResponseWriter, r *http.Request) error {
	list, err := s.recovery.MyFeedback(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiYouSaid(w http.ResponseWriter, r *http.Request) error {
	tid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	y, err := s.recovery.YouSaidWeDidFor(r.Context(), tid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, y)
}
