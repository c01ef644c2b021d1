package web

import (
	"net/http"
	"strconv"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// sessionShareRoutes share a group session into the community (#15).
func (s *Server) sessionShareRoutes() []*Route {
	return []*Route{
		pageRoute("POST /sessions/{id}/share", app.PermSignedIn, s.handleSessionShare),
		apiRoute("POST /api/v1/sessions/{id}/share", app.PermSignedIn, opShareSession, s.apiShareSession),
	}
}

var opShareSession = APIOp{Summary: "Share a group session in the community", Tag: "Community", Query: id, Status: http.StatusCreated, Limited: true,
	Description: "Staff only (403 otherwise). Starts a topic in the space (or replies in topic_id, which must be in it) with the session's group, date and time " +
		"(UK time) and a link to its public page — no bookings and no names. It is a post like any other: watched words, sanctions and trust apply " +
		"(a new member may not post links, so 422 on body). A members' or invitation-only group's session may be shared only into an invitation-only space (422 on space_id).",
	Request:  community.SessionShare{SpaceID: 3},
	Response: PostedAnswer{Posted: community.Posted{Topic: exampleTopic, Post: examplePost}}}

// shareSession checks the caller may see the session, then shares it.
func (s *Server) shareSession(r *http.Request, id int64, in community.SessionShare) (community.Posted, error) {
	p := principal(r)
	if _, err := s.groups.GetSession(r.Context(), p, id, ""); err != nil {
		return community.Posted{}, err
	}
	return s.community.ShareSession(r.Context(), p, id, in, s.cfg.BaseURL+"/sessions/"+itoa(id))
}

func (s *Server) apiShareSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in community.SessionShare
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.shareSession(r, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, postedAnswer(res))
}

func (s *Server) handleSessionShare(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var in community.SessionShare
	for _, c := range []struct {
		name, label string
		dst         *int64
	}{{"space_id", "Choose a space", &in.SpaceID}, {"topic_id", "A topic's number is a whole number, from the end of its address", &in.TopicID}} {
		if v := f.Value(c.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				f.AddError(c.name, c.label)
				continue
			}
			*c.dst = n
		}
	}
	if !f.Valid() {
		return s.sessionPage(w, r, http.StatusUnprocessableEntity, id, f)
	}
	res, err := s.shareSession(r, id, in)
	if err != nil {
		status, _, ok := postFailed(f, res, err)
		if !ok {
			return err
		}
		return s.sessionPage(w, r, status, id, f)
	}
	return posted(w, r, res)
}

// shareSpaces are the spaces a member of staff may share a session in.
func (s *Server) shareSpaces(r *http.Request) ([]ui.Option, error) {
	spaces, err := s.community.Spaces(r.Context(), principal(r))
	if err != nil {
		return nil, err
	}
	opts := []ui.Option{{Value: "", Label: "Choose a space"}}
	for _, sp := range spaces {
		label := sp.Name
		if sp.InvitationOnly {
			label += " (invitation only)"
		}
		opts = append(opts, ui.Option{Value: itoa(sp.ID), Label: label})
	}
	return opts, nil
}
