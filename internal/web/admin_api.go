package web

import (
	"net/http"
	"slices"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/mail"
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

// OrganisationRequest is POST /api/v1/organisations.
type OrganisationRequest struct {
	Name string          `json:"name" required:"true"`
	Kind account.OrgKind `json:"kind" required:"true" doc:"nhs_trust, partner_agency or peer_network"`
}

// TeamRequest is POST /api/v1/teams.
type TeamRequest struct {
	OrganisationID int64           `json:"organisation_id" required:"true"`
	Name           string          `json:"name" required:"true"`
	Setting        account.Setting `json:"setting" required:"true"`
}

// AuditPage is GET /api/v1/audit: the newest rows and the published head.
type AuditPage struct {
	Head audit.Head  `json:"head"`
	Rows []audit.Row `json:"rows"`
}

var opUser = APIOp{Summary: "One account and its roles (administrators)", Tag: "Accounts", Query: id,
	Response: account.User{ID: 9, Email: "new.worker@example.nhs.uk", Name: "Jo Bloggs", Status: account.StatusActive,
		Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: 3}}, CreatedAt: exampleTime}}
var opResetTwoFactor = APIOp{Summary: "Switch an account's two-factor sign-in off: they set it up again at their next sign-in", Tag: "Accounts",
	Status: http.StatusNoContent, Query: id}
var opResendInvitation = APIOp{Summary: "Send an invited account a fresh invitation link", Tag: "Accounts", Status: http.StatusNoContent, Query: id,
	Description: "409 if the account has already been set up."}
var opOrganisations = APIOp{Summary: "Organisations", Tag: "Accounts",
	Response: []account.Organisation{{ID: 1, Name: "Riverside NHS Foundation Trust", Kind: account.OrgNHSTrust}}}
var opCreateOrganisation = APIOp{Summary: "Add an organisation (administrators)", Tag: "Accounts", Status: http.StatusCreated,
	Request:  OrganisationRequest{Name: "Riverside Mind", Kind: account.OrgPartnerAgency},
	Response: account.Organisation{ID: 2, Name: "Riverside Mind", Kind: account.OrgPartnerAgency}}
var opCreateTeam = APIOp{Summary: "Add a team to an organisation (administrators)", Tag: "Accounts", Status: http.StatusCreated,
	Request: TeamRequest{OrganisationID: 1, Name: "East Community Team", Setting: account.SettingCommunity},
	Response: account.Team{ID: 4, OrganisationID: 1, OrganisationName: "Riverside NHS Foundation Trust", Name: "East Community Team",
		Setting: account.SettingCommunity}}
var opOutbox = APIOp{Summary: "How email delivery is going: who each message is to, its subject and status — never its body (administrators)",
	Tag: "Accounts", Response: []mail.Summary{{ID: 31, To: "priya.shah@example.nhs.uk", Subject: "Update on referral MUT-7KQ3-X9PD", CreatedAt: exampleTime, SentAt: &exampleTime, Attempts: 1}}}
var opAudit = APIOp{Summary: "The newest audit rows and the published head of the chain (administrators)", Tag: "Accounts",
	Response: AuditPage{Head: audit.Head{Seq: 1200, ID: 1201, Hash: "9f2c…", At: exampleTime}, Rows: []audit.Row{{ID: 1201, Seq: 1200, At: exampleTime,
		RequestID: "Xq3…", ActorUserID: 5, ActorRole: "peer_lead", Action: "referral.read", SubjectPersonID: 7, ObjectType: "referral", ObjectID: "42",
		Outcome: "ok", Hash: "9f2c…"}}}}

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiAccountAction(action func(*Server, *http.Request, int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := action(s, r, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func resetTwoFactor(s *Server, r *http.Request, id int64) error {
	return s.accounts.ResetTOTP(r.Context(), principal(r), id)
}

func resendInvitation(s *Server, r *http.Request, id int64) error {
	return s.accounts.ResendInvitation(r.Context(), principal(r), id)
}

func (s *Server) apiOrganisations(w http.ResponseWriter, r *http.Request) error {
	orgs, err := s.accounts.ListOrganisations(r.Context())
	if err != nil {
		return err
	}
	if orgs == nil {
		orgs = []account.Organisation{}
	}
	return writeJSON(w, http.StatusOK, orgs)
}

func (s *Server) apiCreateOrganisation(w http.ResponseWriter, r *http.Request) error {
	var in OrganisationRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.accounts.CreateOrganisation(r.Context(), principal(r), in.Name, in.Kind)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, o)
}

func (s *Server) apiCreateTeam(w http.ResponseWriter, r *http.Request) error {
	var in TeamRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.accounts.CreateTeam(r.Context(), principal(r), in.OrganisationID, in.Name, in.Setting)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) apiOutbox(w http.ResponseWriter, r *http.Request) error {
	items, err := mail.Recent(r.Context(), s.db, 100)
	if err != nil {
		return err
	}
	if items == nil {
		items = []mail.Summary{}
	}
	return writeJSON(w, http.StatusOK, items)
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	rows, err := audit.Recent(r.Context(), s.db, 100)
	if err != nil {
		return err
	}
	head, err := audit.ChainHead(r.Context(), s.db)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []audit.Row{}
	}
	return writeJSON(w, http.StatusOK, AuditPage{Head: head, Rows: rows})
}
