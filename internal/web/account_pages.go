package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// accountRoutes are signing in and out, two-factor, the account page and API tokens: one line per route.
func (s *Server) accountRoutes() []*Route {
	return []*Route{
		pageRoute("GET /sign-in", app.PermPublic, s.handleSignInForm),
		pageRoute("POST /sign-in", app.PermPublic, s.handleSignIn),
		pageRoute("POST /sign-out", app.PermPublic, s.handleSignOut),
		pageRoute("GET /sign-in/two-factor", app.PermMFAPending, s.handleMFAForm),
		pageRoute("POST /sign-in/two-factor", app.PermMFAPending, s.handleMFA),
		pageRoute("GET /account/two-factor/setup", app.PermMFAPending, s.handleTOTPSetupForm),
		pageRoute("POST /account/two-factor/setup", app.PermMFAPending, s.handleTOTPSetup),
		pageRoute("GET /account", app.PermSignedIn, s.handleAccount),
		pageRoute("POST /account/sign-out-everywhere", app.PermSignedIn, s.handleSignOutEverywhere),
		pageRoute("POST /account/tokens", app.PermSignedIn, s.handleTokenCreate),
		pageRoute("POST /account/tokens/{id}/revoke", app.PermSignedIn, s.handleTokenRevoke),
		pageRoute("GET /sign-up", app.PermPublic, s.handleSignUpForm),
		pageRoute("POST /sign-up", app.PermPublic, s.handleSignUp),
		pageRoute("GET /invitation/{token}", app.PermPublic, s.handleLinkForm(true)),
		pageRoute("POST /invitation/{token}", app.PermPublic, s.handleLink(true)),
		pageRoute("GET /password-reset", app.PermPublic, s.handleResetRequestForm),
		pageRoute("POST /password-reset", app.PermPublic, s.handleResetRequest),
		pageRoute("GET /password-reset/{token}", app.PermPublic, s.handleLinkForm(false)),
		pageRoute("POST /password-reset/{token}", app.PermPublic, s.handleLink(false)),
		apiRoute("GET /api/v1/me", app.PermSignedIn, opMe, s.apiMe),
		apiRoute("GET /api/v1/teams", app.PermSignedIn, opTeams, s.apiTeams),
		apiRoute("GET /api/v1/me/tokens", app.PermSignedIn, opMyTokens, s.apiMyTokens),
		apiRoute("POST /api/v1/me/tokens", app.PermSignedIn, opCreateToken, s.apiCreateToken),
		apiRoute("DELETE /api/v1/me/tokens/{id}", app.PermSignedIn, opRevokeMyToken, s.apiRevokeMyToken),
		apiRoute("POST /api/v1/me/sign-out-everywhere", app.PermSignedIn, opSignOutEverywhere, s.apiSignOutEverywhere),
		pageRoute("POST /account/acting-as", app.PermSignedIn, s.handleSwitchContext),
		apiRoute("PUT /api/v1/me/acting-as", app.PermSignedIn, opSwitchContext, s.apiSwitchContext),
	}
}

// handleSwitchContext moves someone who is both staff and a person who
// uses services between their work and their own support.
func (s *Server) handleSwitchContext(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	to := f.Value("acting_as")
	token, err := s.accounts.SwitchContext(r.Context(), principal(r), to)
	if err != nil {
		return err
	}
	setSessionCookie(w, token)
	if to == app.ActingOwn {
		setFlash(w, "You are now using Mutual for your own support. Your work is hidden until you switch back.")
	} else {
		setFlash(w, "You are now using Mutual for your work. Your own support is hidden until you switch back.")
	}
	return redirect(w, r, "/")
}

// safeNext keeps a post-sign-in destination on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return u.RequestURI()
}

func (s *Server) handleSignInForm(w http.ResponseWriter, r *http.Request) error {
	if p := principal(r); p != nil && !p.MFAPending && !p.MFASetup {
		return redirect(w, r, "/")
	}
	f := ui.NewForm(url.Values{"next": {safeNext(r.URL.Query().Get("next"))}})
	return s.page(w, r, http.StatusOK, "account/sign-in", &ui.Page{Title: "Sign in", Form: f})
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var p app.Problems
	if strings.TrimSpace(f.Value("email")) == "" {
		p.Add("email", "Enter your email address")
	}
	if f.Value("password") == "" {
		p.Add("password", "Enter your password")
	}
	if len(p) == 0 {
		res, err := s.accounts.SignIn(r.Context(), f.Value("email"), f.Value("password"), s.clientAddr(r), requestID(r.Context()))
		if err == nil {
			setSessionCookie(w, res.Token)
			switch {
			case res.NeedsSetup:
				return redirect(w, r, "/account/two-factor/setup")
			case res.NeedsMFA:
				return redirect(w, r, "/sign-in/two-factor?next="+url.QueryEscape(safeNext(f.Value("next"))))
			}
			return redirect(w, r, safeNext(f.Value("next")))
		}
		ae := app.As(err)
		if ae.Code != app.CodeUnauthorized && ae.Code != app.CodeTooMany {
			return err
		}
		p.Add("email", ae.Message)
	}
	f.Values.Del("password")
	formWithErrors(f, p.Err())
	return s.page(w, r, http.StatusUnprocessableEntity, "account/sign-in", &ui.Page{Title: "Sign in", Form: f})
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	if p := principal(r); p != nil && p.SessionID != "" {
		if err := s.accounts.SignOut(r.Context(), p.SessionID); err != nil {
			return err
		}
	}
	clearSessionCookie(w)
	setFlash(w, "You have signed out")
	return redirect(w, r, "/")
}

func (s *Server) handleMFAForm(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p == nil {
		return redirect(w, r, "/sign-in")
	}
	if p.MFASetup {
		return redirect(w, r, "/account/two-factor/setup")
	}
	if !p.MFAPending {
		return redirect(w, r, "/")
	}
	f := ui.NewForm(url.Values{"next": {safeNext(r.URL.Query().Get("next"))}})
	return s.page(w, r, http.StatusOK, "account/two-factor", &ui.Page{Title: "Enter your security code", Form: f})
}

func (s *Server) handleMFA(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	if p == nil || !p.MFAPending {
		return redirect(w, r, "/sign-in")
	}
	token, err := s.accounts.VerifyMFA(r.Context(), p, f.Value("code"))
	if err == nil {
		setSessionCookie(w, token)
		return redirect(w, r, safeNext(f.Value("next")))
	}
	if ae := app.As(err); ae.Code == app.CodeTooMany {
		f.AddError("code", ae.Message)
	} else if !formWithErrors(f, err) {
		return err
	}
	f.Values.Del("code")
	return s.page(w, r, http.StatusUnprocessableEntity, "account/two-factor", &ui.Page{Title: "Enter your security code", Form: f})
}

func (s *Server) totpSetupPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	p := principal(r)
	setup, err := s.accounts.BeginTOTP(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	// Both URLs are built by Mutual (a PNG data URL and an otpauth link),
	// so they are marked safe for the templates.
	v := totpView{Secret: setup.Secret, QRCode: template.URL(setup.QRCode), URL: template.URL(setup.URL)}
	return s.page(w, r, status, "account/two-factor-setup", &ui.Page{Title: "Set up two-factor sign-in", Form: f, Data: v})
}

func (s *Server) handleTOTPSetupForm(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p == nil {
		return redirect(w, r, "/sign-in")
	}
	if !p.MFASetup {
		return redirect(w, r, "/")
	}
	return s.totpSetupPage(w, r, http.StatusOK, ui.NewForm(nil))
}

func (s *Server) handleTOTPSetup(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	p := principal(r)
	if p == nil || !p.MFASetup {
		return redirect(w, r, "/sign-in")
	}
	token, codes, err := s.accounts.ConfirmTOTP(r.Context(), p, f.Value("code"))
	if err == nil {
		setSessionCookie(w, token)
		// Recovery codes are shown once, on this response; they are stored
		// only as hashes.
		return s.page(w, r, http.StatusOK, "account/recovery-codes", &ui.Page{Title: "Save your recovery codes", Data: codes})
	}
	if ae := app.As(err); ae.Code == app.CodeTooMany {
		f.AddError("code", ae.Message)
	} else if !formWithErrors(f, err) {
		return err
	}
	f.Values.Del("code")
	return s.totpSetupPage(w, r, http.StatusUnprocessableEntity, f)
}

type accountData struct {
	User   *account.User
	Tokens []account.APIToken
	Acting string
}

// accountPage shows the caller's account with f as the new-token form.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	p := principal(r)
	u, err := s.accounts.GetUser(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	tokens, err := s.accounts.ListAPITokens(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	return s.page(w, r, status, "account/account", &ui.Page{Title: "Your account", Form: f, Data: accountData{User: u, Tokens: tokens, Acting: p.Acting}})
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) error {
	return s.accountPage(w, r, http.StatusOK, ui.NewForm(url.Values{"expires_in_days": {strconv.Itoa(account.DefaultTokenDays)}}))
}

// tokenDays reads a token's lifetime from a form: blank is the default.
func tokenDays(f *ui.Form) (int, bool) {
	v := strings.TrimSpace(f.Value("expires_in_days"))
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	days, ok := tokenDays(f)
	if !ok {
		// Still check the name, so every problem shows at once.
		_, err = account.CheckTokenRequest(f.Value("name"), 0)
		formWithErrors(f, err)
		f.AddError("expires_in_days", fmt.Sprintf("Enter the number of days as a whole number from 1 to %d, like 90", account.MaxTokenDays))
		return s.accountPage(w, r, http.StatusUnprocessableEntity, f)
	}
	nt, err := s.accounts.CreateOwnAPIToken(r.Context(), principal(r), f.Value("name"), days)
	if err == nil {
		// Shown once, on this response; only its hash is stored.
		return s.page(w, r, http.StatusOK, "account/api-token", &ui.Page{Title: "Your new API token", Data: nt})
	}
	if !formWithErrors(f, err) {
		return err
	}
	return s.accountPage(w, r, http.StatusUnprocessableEntity, f)
}

func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r)
	if err := s.accounts.RevokeAPIToken(r.Context(), p, p.UserID, id); err != nil {
		return err
	}
	setFlash(w, "API token revoked: it no longer works")
	return redirect(w, r, "/account#api-tokens")
}

func (s *Server) handleSignOutEverywhere(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.accounts.SignOutEverywhere(r.Context(), principal(r)); err != nil {
		return err
	}
	clearSessionCookie(w)
	setFlash(w, "You have been signed out on every device")
	return redirect(w, r, "/sign-in")
}

func (s *Server) handleSignUpForm(w http.ResponseWriter, r *http.Request) error {
	f := ui.NewForm(url.Values{"role": {r.URL.Query().Get("as")}, "claim": {r.URL.Query().Get("claim")}})
	if f.Value("claim") != "" {
		f.Values.Set("role", string(app.RolePerson))
	}
	return s.page(w, r, http.StatusOK, "account/sign-up", &ui.Page{Title: "Create an account", Form: f})
}

func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if c := strings.TrimSpace(f.Value("claim")); c != "" && len(c) < 40 && !person.LooksLikeCode(c) {
		f.AddError("claim", "Enter the code as it is written, like ABCD-EFGH-JKMN, or leave it blank")
		return s.page(w, r, http.StatusUnprocessableEntity, "account/sign-up", &ui.Page{Title: "Create an account", Form: f})
	}
	role := app.Role(f.Value("role"))
	if strings.TrimSpace(f.Value("claim")) != "" && role == "" {
		role = app.RolePerson // a record's own person
	}
	err = s.accounts.SignUp(r.Context(), f.Value("email"), f.Value("name"), role, strings.TrimSpace(f.Value("claim")), s.clientAddr(r), requestID(r.Context()))
	if err == nil {
		return s.page(w, r, http.StatusOK, "account/check-email", &ui.Page{Title: "Check your email", Data: "sign-up"})
	}
	if ae := app.As(err); ae.Code == app.CodeTooMany {
		f.AddError("email", ae.Message)
	} else if !formWithErrors(f, err) {
		return err
	}
	return s.page(w, r, http.StatusUnprocessableEntity, "account/sign-up", &ui.Page{Title: "Create an account", Form: f})
}

func (s *Server) handleResetRequestForm(w http.ResponseWriter, r *http.Request) error {
	return s.page(w, r, http.StatusOK, "account/password-reset", &ui.Page{Title: "Reset your password", Form: ui.NewForm(nil)})
}

func (s *Server) handleResetRequest(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	err = s.accounts.RequestPasswordReset(r.Context(), f.Value("email"), s.clientAddr(r))
	if err == nil {
		return s.page(w, r, http.StatusOK, "account/check-email", &ui.Page{Title: "Check your email", Data: "reset"})
	}
	if ae := app.As(err); ae.Code == app.CodeTooMany {
		f.AddError("email", ae.Message)
	} else if !formWithErrors(f, err) {
		return err
	}
	return s.page(w, r, http.StatusUnprocessableEntity, "account/password-reset", &ui.Page{Title: "Reset your password", Form: f})
}

type totpView struct {
	Secret      string
	QRCode, URL template.URL
}

type linkPage struct {
	Invitation bool
	Account    account.LinkAccount
}

func linkTitle(invitation bool) string {
	if invitation {
		return "Choose a password"
	}
	return "Choose a new password"
}

func (s *Server) handleLinkForm(invitation bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		la, err := s.accounts.CheckLink(r.Context(), r.PathValue("token"), invitation)
		if err != nil {
			return s.page(w, r, http.StatusNotFound, "account/link-expired", &ui.Page{Title: "This link has expired", Data: invitation})
		}
		return s.page(w, r, http.StatusOK, "account/set-password", &ui.Page{Title: linkTitle(invitation), Form: ui.NewForm(nil),
			Data: linkPage{Invitation: invitation, Account: la}})
	}
}

func (s *Server) handleLink(invitation bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := parseForm(w, r)
		if err != nil {
			return err
		}
		token := r.PathValue("token")
		la, err := s.accounts.CheckLink(r.Context(), token, invitation)
		if err != nil {
			return s.page(w, r, http.StatusNotFound, "account/link-expired", &ui.Page{Title: "This link has expired", Data: invitation})
		}
		if f.Value("password") != f.Value("confirm") {
			f.AddError("confirm", "The two passwords do not match")
		} else {
			userID, err := s.accounts.CompleteLink(r.Context(), token, f.Value("password"), invitation, requestID(r.Context()))
			if err == nil {
				if invitation {
					res, err := s.accounts.StartSession(r.Context(), userID)
					if err != nil {
						return err
					}
					setSessionCookie(w, res.Token)
					if res.NeedsSetup {
						return redirect(w, r, "/account/two-factor/setup")
					}
					setFlash(w, "Your account is ready")
					return redirect(w, r, "/")
				}
				setFlash(w, "Your password has been changed. Sign in with your new password.")
				return redirect(w, r, "/sign-in")
			}
			if !formWithErrors(f, err) {
				return err
			}
		}
		f.Values.Del("password")
		f.Values.Del("confirm")
		return s.page(w, r, http.StatusUnprocessableEntity, "account/set-password", &ui.Page{Title: linkTitle(invitation), Form: f,
			Data: linkPage{Invitation: invitation, Account: la}})
	}
}
