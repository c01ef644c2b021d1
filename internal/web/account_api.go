package web

import (
	"net/http"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
)

// MeResponse is GET /api/v1/me.
type MeResponse struct {
	ID       int64            `json:"id"`
	Email    string           `json:"email"`
	Name     string           `json:"name"`
	PersonID int64            `json:"person_id,omitempty"`
	Roles    []app.Membership `json:"roles" doc:"The roles in use now: for an account that is both staff and someone who uses services, those of the context it is acting in."`
	Via      string           `json:"authenticated_by"`
	ActingAs string           `json:"acting_as,omitempty" doc:"work or own: which of its roles an account that is both staff and someone who uses services is using (one at a time)."`
}

// ActingAsRequest is PUT /api/v1/me/acting-as.
type ActingAsRequest struct {
	ActingAs string `json:"acting_as" required:"true" doc:"work: your staff roles; own: your own support (person and carer roles)."`
}

var opSwitchContext = APIOp{Summary: "Switch between your work and your own support (accounts that are both)", Tag: "Accounts",
	Description: "One role at a time: changes which roles this session uses and replaces the session (a new cookie). " +
		"An API token keeps the role it was made in, and answers 403.",
	Request:  ActingAsRequest{ActingAs: app.ActingOwn},
	Response: MeResponse{ID: 5, Email: "alex@example.nhs.uk", Name: "Alex", PersonID: 9, Roles: []app.Membership{{Role: app.RolePerson}}, Via: "session", ActingAs: app.ActingOwn}}

func (s *Server) apiSwitchContext(w http.ResponseWriter, r *http.Request) error {
	var in ActingAsRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := principal(r)
	token, err := s.accounts.SwitchContext(r.Context(), p, in.ActingAs)
	if err != nil {
		return err
	}
	setSessionCookie(w, token)
	next, err := s.accounts.Authenticate(r.Context(), token, requestID(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, MeResponse{ID: next.UserID, Email: next.Email, Name: next.Name, PersonID: next.PersonID,
		Roles: next.Memberships, Via: next.Via, ActingAs: next.Acting})
}

// TokenRequest is POST /api/v1/me/tokens.
type TokenRequest struct {
	Name          string `json:"name" required:"true" doc:"What the token is for, so you can tell your tokens apart (at most 100 characters)."`
	ExpiresInDays int    `json:"expires_in_days,omitempty" doc:"How many days the token works for: 1 to 365; 90 if left out."`
}

var opMe = APIOp{Summary: "The caller's account and roles", Tag: "Accounts",
	Response: MeResponse{ID: 5, Email: "priya.shah@example.nhs.uk", Name: "Priya Shah", Roles: []app.Membership{{Role: app.RoleClinician, TeamID: 3, TeamName: "North Community Team"}}, Via: "token"}}

var opTeams = APIOp{Summary: "Organisations' teams and their settings", Tag: "Accounts",
	Response: []account.Team{{ID: 3, OrganisationID: 1, OrganisationName: "Riverside NHS Foundation Trust", Name: "North Community Team", Setting: account.SettingCommunity}}}

var opMyTokens = APIOp{Summary: "Your API tokens, newest first (never the tokens themselves)", Tag: "Accounts",
	Response: []account.APIToken{exampleToken}}

var opCreateToken = APIOp{Summary: "Create an API token for your account", Tag: "Accounts", Status: http.StatusCreated,
	Description: "Only from a fully signed-in session (two-factor done): a token cannot create tokens, and answers 403. The token is in this answer only; it cannot be shown again.",
	Request:     TokenRequest{Name: "Caseload import", ExpiresInDays: 30},
	Response:    account.NewAPIToken{ID: 12, Name: "Caseload import", Token: "mut_3q2…", ExpiresAt: exampleTime.Add(30 * 24 * time.Hour)}}

var opRevokeMyToken = APIOp{Summary: "Revoke one of your API tokens", Tag: "Accounts", Status: http.StatusNoContent, Query: id}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	roles := p.Memberships
	if roles == nil {
		roles = []app.Membership{}
	}
	return writeJSON(w, http.StatusOK, MeResponse{ID: p.UserID, Email: p.Email, Name: p.Name, PersonID: p.PersonID, Roles: roles, Via: p.Via, ActingAs: p.Acting})
}

func (s *Server) apiTeams(w http.ResponseWriter, r *http.Request) error {
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	if teams == nil {
		teams = []account.Team{}
	}
	return writeJSON(w, http.StatusOK, teams)
}

func (s *Server) apiMyTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.accounts.ListAPITokens(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ts)
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in TokenRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	nt, err := s.accounts.CreateOwnAPIToken(r.Context(), principal(r), in.Name, in.ExpiresInDays)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, nt)
}

func (s *Server) apiRevokeMyToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r)
	if err := s.accounts.RevokeAPIToken(r.Context(), p, p.UserID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var opSignOutEverywhere = APIOp{Summary: "Sign your account out everywhere: every session ends (API tokens are revoked separately)", Tag: "Accounts",
	Status: http.StatusNoContent}

func (s *Server) apiSignOutEverywhere(w http.ResponseWriter, r *http.Request) error {
	if err := s.accounts.SignOutEverywhere(r.Context(), principal(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
