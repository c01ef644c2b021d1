package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
)

// MeResponse is GET /api/v1/me.
type MeResponse struct {
	ID       int64            `json:"id"`
	Email    string           `json:"email"`
	Name     string           `json:"name"`
	PersonID int64            `json:"person_id,omitempty"`
	Roles    []app.Membership `json:"roles"`
	Via      string           `json:"authenticated_by"`
}

// CreatedReferral is the answer to creating a referral.
type CreatedReferral struct {
	ID        int64           `json:"id"`
	Reference string          `json:"reference"`
	Status    referral.Status `json:"status"`
	Existing  bool            `json:"existing,omitempty" doc:"The person already had this open referral (one per person): your request was added to its history and no new referral was made."`
}

// CreatedSelfReferral is the answer to a self-referral.
type CreatedSelfReferral struct {
	ID          int64           `json:"id"`
	Reference   string          `json:"reference"`
	Status      referral.Status `json:"status"`
	AccountLink string          `json:"account_link" doc:"Give this to the person: within 30 days it lets them create an account that follows this request."`
}

// DuplicateProblem is a 409 answer offering possible matches.
type DuplicateProblem struct {
	Problem
	Matches []person.PossibleMatch `json:"possible_matches"`
}

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

// TokenRequest is POST /api/v1/me/tokens.
type TokenRequest struct {
	Name          string `json:"name" required:"true" doc:"What the token is for, so you can tell your tokens apart (at most 100 characters)."`
	ExpiresInDays int    `json:"expires_in_days,omitempty" doc:"How many days the token works for: 1 to 365; 90 if left out."`
}

// ContactResponse wraps a recorded contact.
type ContactResponse = referral.Contact

// OwnOfferRequest is POST /api/v1/my/offers.
type OwnOfferRequest struct {
	Told bool   `json:"told" required:"true" doc:"true: I was told about peer support; false: I have never been told."`
	Note string `json:"note,omitempty"`
}

var (
	exampleTime     = time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)
	exampleReferral = referral.Referral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Accepted, FHIRStatus: "active", Version: 2,
		Source: referral.SourceStaff, PersonID: 7, PersonName: "Sam", TeamID: 3, TeamName: "North Community Team", Setting: "community",
		ReferrerUserID: 5, ReferrerName: "Priya Shah", AskedFor: "Someone who understands voices", PersonKnows: true, Consent: "given",
		ReceivedAt: exampleTime, UpdatedAt: exampleTime, DaysWaited: 3}
	exampleToken = account.APIToken{ID: 12, Name: "Caseload import", CreatedAt: exampleTime, LastUsedAt: &exampleTime,
		ExpiresAt: exampleTime.Add(90 * 24 * time.Hour), Status: account.TokenActive}
	examplePerson = person.Details{PreferredName: "Sam", FullName: "Samuel Okoro", DateOfBirth: "1994-06-30",
		Phone: "07700 900982", ContactPreference: "text", ContactTimes: "Weekday afternoons", Ethnicity: "black_african"}
)

func (s *Server) apiRoutes() []*Route {
	id := []Param{{Name: "id", In: "path", Type: "integer", Required: true, Description: "The record's id."}}
	return []*Route{
		apiRoute("GET /api/v1/openapi.json", app.PermPublic, APIOp{Summary: "This OpenAPI document", Tag: "Meta"}, s.handleOpenAPI),
		apiRoute("GET /api/v1/me", app.PermSignedIn, APIOp{Summary: "The caller's account and roles", Tag: "Accounts",
			Response: MeResponse{ID: 5, Email: "priya.shah@example.nhs.uk", Name: "Priya Shah", Roles: []app.Membership{{Role: app.RoleClinician, TeamID: 3, TeamName: "North Community Team"}}, Via: "token"}},
			s.apiMe),
		apiRoute("GET /api/v1/teams", app.PermSignedIn, APIOp{Summary: "Organisations' teams and their settings", Tag: "Accounts",
			Response: []account.Team{{ID: 3, OrganisationID: 1, OrganisationName: "Riverside NHS Foundation Trust", Name: "North Community Team", Setting: account.SettingCommunity}}},
			s.apiTeams),
		apiRoute("GET /api/v1/users", app.PermAdminUsers, APIOp{Summary: "Accounts (administrators)", Tag: "Accounts",
			Query:    []Param{{Name: "q", In: "query", Type: "string", Description: "Part of a name or email address."}, {Name: "role", In: "query", Type: "string"}},
			Response: []account.User{{ID: 5, Email: "priya.shah@example.nhs.uk", Name: "Priya Shah", Status: account.StatusActive, Memberships: []app.Membership{{Role: app.RoleClinician, TeamID: 3}}, CreatedAt: exampleTime}}},
			s.apiUsers),
		apiRoute("POST /api/v1/users", app.PermAdminUsers, APIOp{Summary: "Invite someone: they get an email to choose a password", Tag: "Accounts", Status: http.StatusCreated,
			Request:  InviteRequest{Email: "new.worker@example.nhs.uk", Name: "Jo Bloggs", Roles: []app.Membership{{Role: app.RolePeerWorker, TeamID: 3}}},
			Response: account.User{ID: 9, Email: "new.worker@example.nhs.uk", Name: "Jo Bloggs", Status: account.StatusInvited, Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: 3}}, CreatedAt: exampleTime}},
			s.apiInvite),
		apiRoute("PUT /api/v1/users/{id}/roles", app.PermAdminUsers, APIOp{Summary: "Replace an account's roles (ends its sessions)", Tag: "Accounts", Status: http.StatusNoContent, Query: id,
			Description: "Your own roles cannot be changed here (403): ask another administrator. Service managers are notified of every new role that can see people's records.",
			Request:     RolesRequest{Roles: []app.Membership{{Role: app.RolePeerLead, TeamID: 3}}}}, s.apiSetRoles),
		apiRoute("POST /api/v1/users/{id}/disable", app.PermAdminUsers, APIOp{Summary: "Disable an account, ending its sessions and tokens", Tag: "Accounts", Status: http.StatusNoContent, Query: id}, s.apiUserAction(true)),
		apiRoute("POST /api/v1/users/{id}/enable", app.PermAdminUsers, APIOp{Summary: "Enable a disabled account", Tag: "Accounts", Status: http.StatusNoContent, Query: id}, s.apiUserAction(false)),
		apiRoute("POST /api/v1/users/{id}/end-sessions", app.PermAdminUsers, APIOp{Summary: "Sign an account out everywhere", Tag: "Accounts", Status: http.StatusNoContent, Query: id}, s.apiEndSessions),

		apiRoute("GET /api/v1/me/tokens", app.PermSignedIn, APIOp{Summary: "Your API tokens, newest first (never the tokens themselves)", Tag: "Accounts",
			Response: []account.APIToken{exampleToken}}, s.apiMyTokens),
		apiRoute("POST /api/v1/me/tokens", app.PermSignedIn, APIOp{Summary: "Create an API token for your account", Tag: "Accounts", Status: http.StatusCreated,
			Description: "Only from a fully signed-in session (two-factor done): a token cannot create tokens, and answers 403. The token is in this answer only; it cannot be shown again.",
			Request:     TokenRequest{Name: "Caseload import", ExpiresInDays: 30},
			Response:    account.NewAPIToken{ID: 12, Name: "Caseload import", Token: "mut_3q2…", ExpiresAt: exampleTime.Add(30 * 24 * time.Hour)}}, s.apiCreateToken),
		apiRoute("DELETE /api/v1/me/tokens/{id}", app.PermSignedIn, APIOp{Summary: "Revoke one of your API tokens", Tag: "Accounts", Status: http.StatusNoContent, Query: id}, s.apiRevokeMyToken),
		apiRoute("GET /api/v1/users/{id}/tokens", app.PermAdminUsers, APIOp{Summary: "An account's API tokens (administrators)", Tag: "Accounts", Query: id,
			Response: []account.APIToken{exampleToken}}, s.apiUserTokens),
		apiRoute("DELETE /api/v1/users/{id}/tokens/{token_id}", app.PermAdminUsers, APIOp{Summary: "Revoke an account's API token (administrators)", Tag: "Accounts", Status: http.StatusNoContent,
			Query: append(slices.Clone(id), Param{Name: "token_id", In: "path", Type: "integer", Required: true, Description: "The token's id."})}, s.apiRevokeUserToken),

		apiRoute("POST /api/v1/self-referrals", app.PermPublic, APIOp{Summary: "Ask for peer support for yourself (no account needed)", Tag: "Referrals", Status: http.StatusCreated,
			Description: "Limited per network address. Possible duplicates are never shown here; the peer team links them.",
			Request:     referral.SelfReferral{Details: examplePerson, AskedFor: "Meeting people who have heard voices too", WorkerPreferences: "A woman, if possible"},
			Response:    CreatedSelfReferral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Received, AccountLink: "https://peer-support.example.nhs.uk/sign-up?claim=…"}}, s.apiSelfReferral),
		personAPI("POST /api/v1/referrals", app.PermReferralCreate, APIOp{Summary: "Make a referral (carer, staff, partner or community door)", Tag: "Referrals", Status: http.StatusCreated,
			Description: "Answers 409 with possible_matches when a new person's details match people you can see; send person_id or not_duplicate: true.",
			Request:     referral.NewReferral{Source: referral.SourceStaff, Person: examplePerson, AskedFor: "Someone who understands voices", PersonKnows: new(true), Consent: "given", TeamID: 3},
			Response:    CreatedReferral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Received},
			Also: []AltResponse{{Status: http.StatusOK, Description: "The person already has an open referral you may see (one per person): your request was added to its history, and this is it.",
				Response: CreatedReferral{ID: 42, Reference: "MUT-7KQ3-X9PD", Status: referral.Accepted, Existing: true}}}}, s.apiCreateReferral),
		personAPI("GET /api/v1/referrals", app.PermReferralRead, APIOp{Summary: "Referrals you may see, longest waiting first", Tag: "Referrals",
			Query: []Param{{Name: "status", In: "query", Type: "string", Description: "Comma-separated statuses."}, {Name: "team", In: "query", Type: "integer"},
				{Name: "source", In: "query", Type: "string"}, {Name: "overdue", In: "query", Type: "string", Description: "1: only those past the waiting standard."},
				{Name: "q", In: "query", Type: "string", Description: "Name or reference."},
				{Name: "mine", In: "query", Type: "string", Description: "1: only people allocated to you."}, {Name: "limit", In: "query", Type: "integer"}, {Name: "offset", In: "query", Type: "integer"}},
			Response: referral.Page{Referrals: []referral.Referral{exampleReferral}, Total: 1, Limit: 50}}, s.apiListReferrals),
		personAPI("GET /api/v1/referrals/{id}", app.PermReferralView, APIOp{Summary: "One referral with its history", Tag: "Referrals", Query: id,
			Response: referral.Detail{Referral: exampleReferral, History: []referral.Event{{At: exampleTime, ActorName: "Priya Shah", ActorRole: "clinician", To: referral.Received}}, Moves: []referral.Status{referral.Allocated}}},
			s.apiGetReferral),
		personAPI("POST /api/v1/referrals/{id}/transitions", app.PermReferralView, APIOp{Summary: "Move a referral on: accept, decline, redirect, allocate, start, end or withdraw", Tag: "Referrals", Query: id,
			Description: "Invalid moves answer 409 with the reason; a stale version answers 409.",
			Request:     referral.Move{To: referral.Declined, Reason: "unable_to_contact", Note: "Three calls and a letter", Version: 2},
			Response:    exampleReferral}, s.apiTransition),
		personAPI("POST /api/v1/referrals/{id}/contacts", app.PermReferralWork, APIOp{Summary: "Record a contact (support while waiting, or during support)", Tag: "Referrals", Status: http.StatusCreated, Query: id,
			Request:  referral.NewContact{At: exampleTime, Mode: "phone", Minutes: 20, Note: "Talked about the walking group"},
			Response: referral.Contact{ID: 1, At: exampleTime, WorkerName: "Alex", Mode: "phone", WhileWaiting: true, Minutes: 20, Note: "Talked about the walking group"}}, s.apiContact),
		personAPI("GET /api/v1/my/referrals", app.PermOwnRecord, APIOp{Summary: "Your own referrals (and those you made as a carer)", Tag: "Referrals",
			Response: []referral.MyReferral{{Referral: exampleReferral}}}, s.apiMyReferrals),

		personAPI("POST /api/v1/people", app.PermPersonRead, APIOp{Summary: "Add a person known to staff", Tag: "People", Status: http.StatusCreated,
			Description: "Answers 409 with possible_matches unless not_duplicate is set.",
			Request:     PersonRequest{Details: examplePerson}, Response: person.Person{ID: 7, PreferredName: "Sam", CreatedAt: exampleTime}}, s.apiCreatePerson),
		personAPI("GET /api/v1/people/{id}", app.PermPersonRead, APIOp{Summary: "A person's record: referrals, offers, open caseload", Tag: "People", Query: id,
			Response: referral.PersonRecord{Person: person.Person{ID: 7, PreferredName: "Sam", CreatedAt: exampleTime}, Referrals: []referral.Referral{}, Offers: []referral.Offer{}, NeedsOffer: true}}, s.apiGetPerson),
		personAPI("POST /api/v1/offers", app.PermOfferCreate, APIOp{Summary: "Record that peer support information was given", Tag: "Offers", Status: http.StatusCreated,
			Description: "response interested makes a referral at once, with consent recorded.",
			Request:     referral.NewOffer{PersonID: 7, Method: "review", Response: "interested"},
			Response:    referral.OfferResult{Offer: referral.Offer{ID: 3, PersonID: 7, At: exampleTime, Method: "review", Response: "interested", RecordedBy: "Priya Shah", ReferralID: 42}, Referral: &exampleReferral}},
			s.apiCreateOffer),
		personAPI("GET /api/v1/people/{id}/offers", app.PermPersonRead, APIOp{Summary: "The offers ledger for one person", Tag: "Offers", Query: id,
			Response: []referral.Offer{{ID: 3, PersonID: 7, At: exampleTime, Method: "review", Response: "not_now", RecordedBy: "Priya Shah"}}}, s.apiListOffers),
		personAPI("POST /api/v1/my/offers", app.PermOwnRecord, APIOp{Summary: "Say for yourself that you were told about peer support, or never were", Tag: "Offers", Status: http.StatusCreated,
			Request: OwnOfferRequest{Told: false}, Response: referral.Offer{ID: 4, PersonID: 7, At: exampleTime, Method: "self_report", Response: "never_told", RecordedBy: "The person"}}, s.apiOwnOffer),
		apiRoute("GET /api/v1/notifications", app.PermSignedIn, APIOp{Summary: "Updates about referrals you made", Tag: "Referrals",
			Response: []notify.Notification{{ID: 1, ReferralID: 42, Message: "Referral MUT-7KQ3-X9PD has been accepted onto the peer support waiting list.", CreatedAt: exampleTime}}},
			s.apiNotifications),
	}
}

// PersonRequest is POST /api/v1/people.
type PersonRequest struct {
	person.Details
	NotDuplicate bool `json:"not_duplicate,omitempty" doc:"Confirm the person is not one of the possible matches offered."`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	roles := p.Memberships
	if roles == nil {
		roles = []app.Membership{}
	}
	return writeJSON(w, http.StatusOK, MeResponse{ID: p.UserID, Email: p.Email, Name: p.Name, PersonID: p.PersonID, Roles: roles, Via: p.Via})
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

func (s *Server) apiSelfReferral(w http.ResponseWriter, r *http.Request) error {
	var in referral.SelfReferral
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.limitPublicForm(r, "self-referral"); err != nil {
		return err
	}
	res, err := s.referrals.CreateSelfReferral(r.Context(), app.Public(requestID(r.Context())), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, CreatedSelfReferral{ID: res.ID, Reference: res.Reference, Status: referral.Received,
		AccountLink: s.cfg.BaseURL + "/sign-up?claim=" + res.Claim})
}

// duplicateOr writes a 409 with possible matches for a *DuplicateError,
// or returns err.
func (s *Server) duplicateOr(w http.ResponseWriter, r *http.Request, err error) error {
	var dup *person.DuplicateError
	if !errors.As(err, &dup) {
		return err
	}
	ae := dup.AsAppError()
	writeJSONStatus(w, http.StatusConflict, "application/problem+json", DuplicateProblem{
		Problem: Problem{Type: "https://mutual.example/problems/possible-duplicate", Title: "Possible duplicate", Status: http.StatusConflict,
			Detail: ae.Message, Instance: r.URL.Path, RequestID: requestID(r.Context())},
		Matches: dup.Matches})
	return nil
}

func (s *Server) apiCreateReferral(w http.ResponseWriter, r *http.Request) error {
	var in referral.NewReferral
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ref, err := s.referrals.CreateReferral(r.Context(), principal(r), in)
	var open *referral.OpenReferralError
	if errors.As(err, &open) && open.Referral != nil {
		w.Header().Set("Location", "/api/v1/referrals/"+strconv.FormatInt(open.Referral.ID, 10))
		return writeJSON(w, http.StatusOK, CreatedReferral{ID: open.Referral.ID, Reference: open.Referral.Reference, Status: open.Referral.Status, Existing: true})
	}
	if err != nil {
		return s.duplicateOr(w, r, err)
	}
	w.Header().Set("Location", "/api/v1/referrals/"+strconv.FormatInt(ref.ID, 10))
	return writeJSON(w, http.StatusCreated, CreatedReferral{ID: ref.ID, Reference: ref.Reference, Status: ref.Status})
}

func (s *Server) apiListReferrals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	q.Set("view", "api") // the API lists every status unless asked
	f, err := filterFromQuery(q, principal(r))
	if err != nil {
		return err
	}
	pg, err := s.referrals.ListReferrals(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pg)
}

func (s *Server) apiGetReferral(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.referrals.GetReferral(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiTransition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var m referral.Move
	if err := decodeJSON(r, &m); err != nil {
		return err
	}
	got, err := s.referrals.Transition(r.Context(), principal(r), id, m)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, got)
}

func (s *Server) apiContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var c referral.NewContact
	if err := decodeJSON(r, &c); err != nil {
		return err
	}
	got, err := s.referrals.RecordContact(r.Context(), principal(r), id, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, got)
}

func (s *Server) apiMyReferrals(w http.ResponseWriter, r *http.Request) error {
	refs, err := s.referrals.MyReferrals(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if refs == nil {
		refs = []referral.MyReferral{}
	}
	return writeJSON(w, http.StatusOK, refs)
}

func (s *Server) apiCreatePerson(w http.ResponseWriter, r *http.Request) error {
	var in PersonRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pe, err := s.people.Create(r.Context(), principal(r), in.Details, in.NotDuplicate)
	if err != nil {
		return s.duplicateOr(w, r, err)
	}
	return writeJSON(w, http.StatusCreated, pe)
}

func (s *Server) apiGetPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rec, err := s.referrals.GetPerson(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}

func (s *Server) apiCreateOffer(w http.ResponseWriter, r *http.Request) error {
	var in referral.NewOffer
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.referrals.CreateOffer(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, res)
}

func (s *Server) apiListOffers(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	offers, err := s.referrals.ListOffers(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, offers)
}

func (s *Server) apiOwnOffer(w http.ResponseWriter, r *http.Request) error {
	var in OwnOfferRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.referrals.RecordOwnOffer(r.Context(), principal(r), in.Told, in.Note)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, o)
}

func (s *Server) apiNotifications(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.notify.List(r.Context(), principal(r), 50)
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []notify.Notification{}
	}
	return writeJSON(w, http.StatusOK, ns)
}
