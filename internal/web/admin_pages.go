package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// adminRoutes are accounts, teams, the outbox and the audit trail, for administrators: one line per route.
func (s *Server) adminRoutes() []*Route {
	return []*Route{
		pageRoute("GET /admin/users", app.PermAdminUsers, s.handleAdminUsers),
		pageRoute("GET /admin/users/new", app.PermAdminUsers, s.handleAdminInviteForm),
		pageRoute("POST /admin/users", app.PermAdminUsers, s.handleAdminInvite),
		pageRoute("GET /admin/users/{id}", app.PermAdminUsers, s.handleAdminUser),
		pageRoute("POST /admin/users/{id}/roles", app.PermAdminUsers, s.handleAdminRoles),
		pageRoute("POST /admin/users/{id}/{action}", app.PermAdminUsers, s.handleAdminUserAction),
		pageRoute("POST /admin/users/{id}/tokens/{token_id}/revoke", app.PermAdminUsers, s.handleAdminTokenRevoke),
		pageRoute("GET /admin/teams", app.PermAdminUsers, s.handleAdminTeams),
		pageRoute("POST /admin/organisations", app.PermAdminUsers, s.handleAdminCreateOrg),
		pageRoute("POST /admin/teams", app.PermAdminUsers, s.handleAdminCreateTeam),
		pageRoute("GET /admin/outbox", app.PermAdminOutbox, s.handleAdminOutbox),
		pageRoute("GET /admin/audit", app.PermAuditRead, s.handleAdminAudit),
		apiRoute("GET /api/v1/users", app.PermAdminUsers, opUsers, s.apiUsers),
		apiRoute("POST /api/v1/users", app.PermAdminUsers, opInvite, s.apiInvite),
		apiRoute("PUT /api/v1/users/{id}/roles", app.PermAdminUsers, opSetRoles, s.apiSetRoles),
		apiRoute("POST /api/v1/users/{id}/disable", app.PermAdminUsers, opUserActionDisable, s.apiUserAction(true)),
		apiRoute("POST /api/v1/users/{id}/enable", app.PermAdminUsers, opUserActionEnable, s.apiUserAction(false)),
		apiRoute("POST /api/v1/users/{id}/end-sessions", app.PermAdminUsers, opEndSessions, s.apiEndSessions),
		apiRoute("GET /api/v1/users/{id}/tokens", app.PermAdminUsers, opUserTokens, s.apiUserTokens),
		apiRoute("DELETE /api/v1/users/{id}/tokens/{token_id}", app.PermAdminUsers, opRevokeUserToken, s.apiRevokeUserToken),
		apiRoute("GET /api/v1/users/{id}", app.PermAdminUsers, opUser, s.apiUser),
		apiRoute("POST /api/v1/users/{id}/reset-two-factor", app.PermAdminUsers, opResetTwoFactor, s.apiAccountAction(resetTwoFactor)),
		apiRoute("POST /api/v1/users/{id}/resend-invitation", app.PermAdminUsers, opResendInvitation, s.apiAccountAction(resendInvitation)),
		apiRoute("GET /api/v1/organisations", app.PermAdminUsers, opOrganisations, s.apiOrganisations),
		apiRoute("POST /api/v1/organisations", app.PermAdminUsers, opCreateOrganisation, s.apiCreateOrganisation),
		apiRoute("POST /api/v1/teams", app.PermAdminUsers, opCreateTeam, s.apiCreateTeam),
		apiRoute("GET /api/v1/outbox", app.PermAdminOutbox, opOutbox, s.apiOutbox),
		apiRoute("GET /api/v1/audit", app.PermAuditRead, opAudit, s.apiAudit),
	}
}

type adminUsersData struct {
	Users []*account.User
	Query string
	Roles []app.Role
}

func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	users, err := s.accounts.ListUsers(r.Context(), account.UserFilter{Query: q.Get("q"), Role: app.Role(q.Get("role"))})
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "admin/users", &ui.Page{Title: "Accounts", Form: ui.NewForm(q),
		Data: adminUsersData{Users: users, Query: q.Get("q"), Roles: app.Roles}})
}

type membershipForm struct {
	Teams []account.Team
	Roles []app.Role
	User  *account.User
	// On an account's own page: Tokens are its API tokens; Self is set when
	// it is the administrator's own account, whose roles they cannot change.
	Tokens []account.APIToken
	Self   bool
}

// membershipsFromForm reads role checkboxes: "role" values are either a
// role (organisation-wide) or role:teamID.
func membershipsFromForm(f *ui.Form) []app.Membership {
	var ms []app.Membership
	for _, v := range f.All("role") {
		role, team, _ := strings.Cut(v, ":")
		id, _ := strconv.ParseInt(team, 10, 64)
		ms = append(ms, app.Membership{Role: app.Role(role), TeamID: id})
	}
	return ms
}

func (s *Server) membershipForm(r *http.Request, u *account.User) (membershipForm, error) {
	teams, err := s.accounts.ListTeams(r.Context())
	return membershipForm{Teams: teams, Roles: app.Roles, User: u}, err
}

func (s *Server) handleAdminInviteForm(w http.ResponseWriter, r *http.Request) error {
	d, err := s.membershipForm(r, nil)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "admin/invite", &ui.Page{Title: "Invite someone", Form: ui.NewForm(nil), Data: d, BackLink: "/admin/users"})
}

func (s *Server) handleAdminInvite(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	u, err := s.accounts.CreateUser(r.Context(), p, account.NewUser{
		Email: f.Value("email"), Name: f.Value("name"), Memberships: membershipsFromForm(f)})
	if err == nil {
		setFlash(w, "Invitation sent to "+u.Email)
		return redirect(w, r, "/admin/users/"+strconv.FormatInt(u.ID, 10))
	}
	if !formWithErrors(f, err) {
		return err
	}
	d, err := s.membershipForm(r, nil)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusUnprocessableEntity, "admin/invite", &ui.Page{Title: "Invite someone", Form: f, Data: d, BackLink: "/admin/users"})
}

// adminUserForm is the data of an account's administration page.
func (s *Server) adminUserForm(r *http.Request, u *account.User) (membershipForm, error) {
	d, err := s.membershipForm(r, u)
	if err != nil {
		return d, err
	}
	d.Self = principal(r).UserID == u.ID
	d.Tokens, err = s.accounts.ListAPITokens(r.Context(), u.ID)
	return d, err
}

func (s *Server) handleAdminUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	d, err := s.adminUserForm(r, u)
	if err != nil {
		return err
	}
	vals := url.Values{}
	for _, m := range u.Memberships {
		if m.TeamID != 0 {
			vals.Add("role", string(m.Role)+":"+strconv.FormatInt(m.TeamID, 10))
		} else {
			vals.Add("role", string(m.Role))
		}
	}
	return s.page(w, r, http.StatusOK, "admin/user", &ui.Page{Title: u.Name, Form: ui.NewForm(vals), Data: d, BackLink: "/admin/users"})
}

func (s *Server) handleAdminRoles(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	err = s.accounts.SetMemberships(r.Context(), principal(r), id, membershipsFromForm(f))
	if err == nil {
		setFlash(w, "Roles updated. The account's sessions have ended so the new roles apply at next sign-in.")
		return redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10))
	}
	status := http.StatusUnprocessableEntity
	if ae := app.As(err); ae.Code == app.CodeForbidden {
		// Their own roles: the page has no roles form to point at.
		status = http.StatusForbidden
		f.AddError("", ae.Message)
	} else if !formWithErrors(f, err) {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	d, err := s.adminUserForm(r, u)
	if err != nil {
		return err
	}
	return s.page(w, r, status, "admin/user", &ui.Page{Title: u.Name, Form: f, Data: d, BackLink: "/admin/users"})
}

func (s *Server) handleAdminTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseForm(w, r); err != nil {
		return err
	}
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
	setFlash(w, "API token revoked: it no longer works")
	return redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10))
}

func (s *Server) handleAdminUserAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	actor := principal(r)
	var msg string
	switch r.PathValue("action") {
	case "disable":
		err, msg = s.accounts.SetDisabled(r.Context(), actor, id, true), "Account disabled and signed out everywhere"
	case "enable":
		err, msg = s.accounts.SetDisabled(r.Context(), actor, id, false), "Account enabled"
	case "end-sessions":
		err, msg = s.accounts.EndSessions(r.Context(), actor, id), "Signed out everywhere"
	case "reset-two-factor":
		err, msg = s.accounts.ResetTOTP(r.Context(), actor, id), "Two-factor sign-in reset: they will set it up again at their next sign-in"
	case "resend-invitation":
		err, msg = s.accounts.ResendInvitation(r.Context(), actor, id), "A new invitation has been sent"
	default:
		return app.NotFound("The page")
	}
	if err != nil {
		return err
	}
	setFlash(w, msg)
	return redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10))
}

type adminTeamsData struct {
	Organisations []account.Organisation
	Teams         []account.Team
	Settings      []account.Setting
	OrgForm       *ui.Form
	TeamForm      *ui.Form
}

func (s *Server) adminTeamsPage(w http.ResponseWriter, r *http.Request, status int, orgForm, teamForm *ui.Form) error {
	orgs, err := s.accounts.ListOrganisations(r.Context())
	if err != nil {
		return err
	}
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	pg := &ui.Page{Title: "Organisations and teams", Data: adminTeamsData{Organisations: orgs, Teams: teams, Settings: account.Settings,
		OrgForm: orgForm, TeamForm: teamForm}}
	pg.Errors = append(append(pg.Errors, orgForm.Errors...), teamForm.Errors...)
	return s.page(w, r, status, "admin/teams", pg)
}

func (s *Server) handleAdminTeams(w http.ResponseWriter, r *http.Request) error {
	return s.adminTeamsPage(w, r, http.StatusOK, ui.NewForm(nil), ui.NewForm(nil))
}

func (s *Server) handleAdminCreateOrg(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	_, err = s.accounts.CreateOrganisation(r.Context(), principal(r), f.Value("name"), account.OrgKind(f.Value("kind")))
	if err == nil {
		setFlash(w, "Organisation added")
		return redirect(w, r, "/admin/teams")
	}
	// Field names on this page are prefixed so the two forms' errors link
	// to the right fields.
	ae := app.As(err)
	if ae.Code != app.CodeInvalid {
		return err
	}
	for _, fe := range ae.Fields {
		f.AddError("org_"+fe.Field, fe.Message)
	}
	return s.adminTeamsPage(w, r, http.StatusUnprocessableEntity, f, ui.NewForm(nil))
}

func (s *Server) handleAdminCreateTeam(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	orgID := formInt(f, "organisation_id")
	_, err = s.accounts.CreateTeam(r.Context(), principal(r), orgID, f.Value("team_name"), account.Setting(f.Value("setting")))
	if err == nil {
		setFlash(w, "Team added")
		return redirect(w, r, "/admin/teams")
	}
	ae := app.As(err)
	if ae.Code == app.CodeNotFound {
		f.AddError("organisation_id", "Choose an organisation")
	} else if ae.Code != app.CodeInvalid {
		return err
	}
	for _, fe := range ae.Fields {
		name := fe.Field
		if name == "name" {
			name = "team_name"
		}
		f.AddError(name, fe.Message)
	}
	return s.adminTeamsPage(w, r, http.StatusUnprocessableEntity, ui.NewForm(nil), f)
}

type outboxData struct {
	Items []mail.Summary
	// MailDir is the folder email is written to when there is no SMTP
	// server: the page says to read messages there.
	MailDir string
}

// handleAdminOutbox shows how email delivery is going. It never shows a
// message's body: bodies hold one-time links (invitations, password resets,
// account claims) that would let whoever reads them take over an account.
func (s *Server) handleAdminOutbox(w http.ResponseWriter, r *http.Request) error {
	items, err := mail.Recent(r.Context(), s.db, 100)
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "admin/outbox", &ui.Page{Title: "Email outbox", Data: outboxData{Items: items, MailDir: s.cfg.MailDir}})
}

type auditData struct {
	Rows   []audit.Row
	Verify *audit.VerifyResult
	Head   *audit.Head // the newest sealed row, to be noted down elsewhere
}

func (s *Server) handleAdminAudit(w http.ResponseWriter, r *http.Request) error {
	rows, err := audit.Recent(r.Context(), s.db, 100)
	if err != nil {
		return err
	}
	head, err := audit.ChainHead(r.Context(), s.db)
	if err != nil {
		return err
	}
	d := auditData{Rows: rows, Head: &head}
	if r.URL.Query().Get("verify") == "1" {
		res, err := audit.Verify(r.Context(), s.db)
		if err != nil {
			return err
		}
		d.Verify = &res
	}
	return s.page(w, r, http.StatusOK, "admin/audit", &ui.Page{Title: "Audit trail", Data: d})
}
