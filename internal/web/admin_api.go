package web

import (
	"net/http"
	"slices"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
)

// InviteRequest is POST /api/v1/users.
type InviteRequest struct {
	Email string           `json:"email" required:"true"`
	Name  string           `json:"name" required:"true"`
	Roles []app.Membership `json:"roles" required:"true" doc:"Each role, with team_id for team roles (peer_worker, peer_lead, clinician, partner_worker)."`
}

// RolesRequest is PUT /api/v1/users/{id}/roles.
type RolesRequest struct {
	Roles []app.Membership `json:"roles" required:"true"`
}

var opUsers = APIOp{Summary: "Accounts (administrators)", Tag: "Accounts",
	Query:    []Param{{Name: "q", In: "query", Type: "string", Description: "Part of a name or email address."}, {Name: "role", In: "query", Type: "string"}},
	Response: []account.User{{ID: 5, Email: "priya.shah@example.nhs.uk", Name: "Priya Shah", Status: account.StatusActive, Memberships: []app.Membership{{Role: app.RoleClinician, TeamID: 3}}, CreatedAt: exampleTime}}}

var opInvite = APIOp{Summary: "Invite someone: they get an email to choose a password", Tag: "Accounts", Status: http.StatusCreated,
	Request:  InviteRequest{Email: "new.worker@example.nhs.uk", Name: "Jo Bloggs", Roles: []app.Membership{{Role: app.RolePeerWorker, TeamID: 3}}},
	Response: account.User{ID: 9, Email: "new.worker@example.nhs.uk", Name: "Jo Bloggs", Status: account.StatusInvited, Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: 3}}, CreatedAt: exampleTime}}

var opSetRoles = APIOp{Summary: "Replace an account's roles (ends its sessions)", Tag: "Accounts", Status: http.StatusNoContent, Query: id,
	Description: "Your own roles cannot be changed here (403): ask another administrator. Service managers are notified of every new role that can see people's records.",
	Request:     RolesRequest{Roles: []app.Membership{{Role: app.RolePeerLead, TeamID: 3}}}}

var opUserActionDisable = APIOp{Summary: "Disable an account, ending its sessions and tokens", Tag: "Accounts", Status: http.StatusNoContent, Query: id}

var opUserActionEnable = APIOp{Summary: "Enable a disabled account", Tag: "Accounts", Status: http.StatusNoContent, Query: id}

var opEndSessions = APIOp{Summary: "Sign an account out everywhere", Tag: "Accounts", Status: http.StatusNoContent, Query: id}

var opUserTokens = APIOp{Summary: "An account's API tokens (administrators)", Tag: "Accounts", Query: id,
	Response: []account.APIToken{exampleToken}}

var opRevokeUserToken = APIOp{Summary: "Revoke an account's API token (administrators)", Tag: "Accounts", Status: http.StatusNoContent,
	Query: append(slices.Clone(id), Param{Name: "token_id", In: "path", Type: "integer", Required: true, Description: "The token's id."})}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.accounts.ListUsers(r.Context(), account.UserFilter{Query: r.URL.Query().Get("q"), Role: app.Role(r.URL.Query().Get("role"))})
	if err != nil {
		return err
	}
	if users == nil {
		users = []*account.User{}
	}
	return writeJSON(w, http.StatusOK, users)
}

func (s *Server) apiInvite(w http.ResponseWriter, r *http.Request) error {
	var in InviteRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.accounts.CreateUser(r.Context(), principal(r), account.NewUser{Email: in.Email, Name: in.Name, Memberships: in.Roles})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, u)
}

func (s *Server) apiSetRoles(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in RolesRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.accounts.SetMemberships(r.Context(), principal(r), id, in.Roles); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiUserAction(disable bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.accounts.SetDisabled(r.Context(), principal(r), id, disable); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) apiEndSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.accounts.EndSessions(r.Context(), principal(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiUserTokens(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.accounts.GetUser(r.Context(), id); err != nil {
		return err
	}
	ts, err := s.accounts.ListAPITokens(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ts)
}

func (s *Server) apiRevokeUserToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tokenID, err := pathID(r, "token_id")
	if err != nil {
		return err
	}
	if err := s.accounts.RevokeAPIToken(r.Context(), principal(r), id, tokenID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
