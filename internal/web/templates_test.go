package web

import (
	"bytes"
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// The template tests render every page template through the real renderer
// and template functions, with realistic data of the type its handler
// passes (including forms with problems), and check what every page must
// get right: it renders, its title and every problem show, ids are unique,
// labels, hints and error summary links point at something that exists,
// posting forms switch off browser validation, and nothing is written that
// the Content-Security-Policy or html/template would reject.

// allTemplateFiles is every file under templates, including the shared
// partial files whose names start with "_" (which a plain
// "//go:embed templates" leaves out). TestTemplatesAllEmbedded checks that
// the server embeds the same files.
//
//go:embed all:templates
var allTemplateFiles embed.FS

// templateRenderer builds the renderer as New does, without a database,
// from files (templateFiles or allTemplateFiles).
func templateRenderer(t testing.TB, files embed.FS) *ui.Renderer {
	t.Helper()
	s := &Server{cfg: Config{Version: "1.2.3-test"}}
	pages, err := fs.Sub(files, "templates")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ui.NewRenderer(pages, s.allTemplateFuncs()...)
	if err != nil {
		t.Fatalf("templates do not parse: %v", err)
	}
	return r
}

// TestTemplatesAllEmbedded checks the server's embedded templates include
// every template file, shared partial files ("_forms.html") too: without
// them, pages fail with "no such template" when they are shown.
func TestTemplatesAllEmbedded(t *testing.T) {
	err := fs.WalkDir(allTemplateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, err := fs.Stat(templateFiles, p); err != nil {
			t.Errorf("%s is not embedded in the server: files starting with _ need the all: prefix, so change "+
				"\"//go:embed templates\" to \"//go:embed all:templates\" in server.go", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tplCase is one rendering of one page.
type tplCase struct {
	page    string   // template name
	variant string   // what this case covers
	pg      *ui.Page // as the handler builds it
	want    []string // extra text the output must contain
	notWant []string // text it must not contain
}

func formOf(kv ...string) *ui.Form {
	f := ui.NewForm(nil)
	for i := 0; i+1 < len(kv); i += 2 {
		f.Values.Add(kv[i], kv[i+1])
	}
	return f
}

func withErrors(f *ui.Form, kv ...string) *ui.Form {
	for i := 0; i+1 < len(kv); i += 2 {
		f.AddError(kv[i], kv[i+1])
	}
	return f
}

var (
	tNow      = time.Date(2026, 3, 27, 14, 30, 0, 0, time.UTC)
	tEarlier  = tNow.Add(-40 * 24 * time.Hour)
	tDOB      = time.Date(1990, 3, 27, 0, 0, 0, 0, time.UTC)
	tAccepted = tEarlier.Add(48 * time.Hour)
)

func tplFormOptions() formOptions {
	return formOptions{
		Teams: []ui.Option{{Value: "", Label: "I'm not sure"}, {Value: "3", Label: "Leeds North CMHT (Leeds NHS)", Hint: "Community mental health team"},
			{Value: "4", Label: "Ward 5 (Leeds NHS)", Hint: "Acute inpatient ward"}},
		ContactPreferences: []ui.Option{{Value: "phone", Label: "Phone call"}, {Value: "text", Label: "Text message"}, {Value: "email", Label: "Email"}, {Value: "letter", Label: "Letter"}},
		Genders:            []ui.Option{{Value: "woman", Label: "Woman"}, {Value: "man", Label: "Man"}, {Value: "prefer_not_to_say", Label: "Prefer not to say"}},
		Ethnicities:        []ui.Option{{Value: "", Label: "Choose, or leave blank"}, {Value: "white_british", Label: "White: English, Welsh, Scottish, Northern Irish or British"}, {Value: "self_described", Label: "I'll describe it myself"}},
		Disabilities:       []ui.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}, {Value: "prefer_not_to_say", Label: "Prefer not to say"}},
		YesNo:              []ui.Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}},
		Consent: []ui.Option{{Value: "given", Label: "Yes, they have agreed to this referral"},
			{Value: "not_obtained", Label: "No, their agreement could not be obtained", Hint: "Say why below."}},
	}
}

func tplReferral(st referral.Status) referral.Referral {
	return referral.Referral{ID: 42, Reference: "MUT-2026-0042", Status: st, Version: 3, Source: referral.SourceStaff, PersonID: 7,
		PersonName: "Sam O'Neill", TeamID: 3, TeamName: "Leeds North CMHT", Setting: "community", ReferrerUserID: 9, ReferrerName: "Dr Ada Jones",
		AskedFor: "Someone to talk to who has been there.\nGetting out more.", WorkerPreferences: "A woman, the same worker each time",
		ContactHow: "phone", ContactWhen: "Mornings", PersonKnows: true, Consent: "not_obtained", ConsentReason: "Too unwell to discuss at the time",
		ShareBeyondTeam: true, AllocatedWorkerID: 11, AllocatedWorkerName: "Priya Shah", StatusReason: "other", StatusNote: "Moved away",
		ReceivedAt: tEarlier, AcceptedAt: &tAccepted, UpdatedAt: tNow, DaysWaited: 40, Overdue: true}
}

func tplDetail(st referral.Status, moves ...referral.Status) referral.Detail {
	earlier := tplReferral(referral.Ended)
	earlier.ID, earlier.Reference = 12, "MUT-2025-0012"
	return referral.Detail{
		Referral: tplReferral(st),
		History: []referral.Event{
			{At: tEarlier, ActorName: "Dr Ada Jones", ActorRole: "clinician", To: referral.Received},
			{At: tAccepted, ActorName: "Lee Brown", ActorRole: "peer_lead", From: referral.Received, To: referral.Accepted, Note: "Welcome"},
			{At: tNow, ActorName: "Lee Brown", ActorRole: "peer_lead", From: referral.Accepted, To: referral.Declined, Reason: "unable_to_contact"},
		},
		Contacts: []referral.Contact{{ID: 1, At: tNow, WorkerName: "Priya Shah", Mode: "phone", WhileWaiting: true, Minutes: 20, Note: "Left a message"},
			{ID: 2, At: tNow, WorkerName: "Priya Shah", Mode: "in_person"}},
		Earlier: []referral.Referral{earlier},
		Moves:   moves,
	}
}

func tplReferralView(d referral.Detail, active string) referralViewData {
	v := referralViewData{Detail: d,
		Workers:      []referral.Worker{{ID: 11, Name: "Priya Shah"}, {ID: 12, Name: "Tom Green"}},
		Teams:        []ui.Option{{Value: "3", Label: "Leeds North CMHT"}, {Value: "4", Label: "Ward 5"}},
		DeclineOpts:  reasonOptions(referral.DeclineReasons),
		EndOpts:      reasonOptions(referral.EndReasons),
		EndingOpts:   reasonOptions(referral.Endings),
		ContactModes: reasonOptions(referral.ContactModes),
		CanWork:      true, ActiveForm: active, TransitionMap: map[referral.Status]bool{}}
	for _, m := range d.Moves {
		v.TransitionMap[m] = true
		v.CanTriage = v.CanTriage || m == referral.Accepted || m == referral.Allocated
	}
	return v
}

func tplPerson() person.Person {
	return person.Person{ID: 7, PreferredName: "Sam", FullName: "Samantha O'Neill", DateOfBirth: &tDOB, Email: "sam@example.org", Phone: "07700 900982",
		ContactPreference: "text", ContactTimes: "After 10am", Gender: "woman", Ethnicity: "white_british", Disability: "no", FirstLanguage: "English", CreatedAt: tEarlier}
}

func tplUser() *account.User {
	return &account.User{ID: 5, Email: "ada.jones@nhs.example", Name: "Dr Ada Jones", Status: account.StatusActive, TOTPEnabled: true,
		Memberships: []app.Membership{{Role: app.RoleClinician, TeamID: 3, TeamName: "Leeds North CMHT"}, {Role: app.RoleAnalyst}}, CreatedAt: tEarlier}
}

func tplTokens() []account.APIToken {
	return []account.APIToken{
		{ID: 21, Name: "Caseload import", CreatedAt: tEarlier, LastUsedAt: &tNow, ExpiresAt: tNow.Add(50 * 24 * time.Hour), Status: account.TokenActive},
		{ID: 20, Name: "Old script", CreatedAt: tEarlier, ExpiresAt: tEarlier.Add(time.Hour), Status: account.TokenExpired},
		{ID: 19, Name: "Leaked", CreatedAt: tEarlier, ExpiresAt: tNow.Add(time.Hour), RevokedAt: &tNow, Status: account.TokenRevoked},
	}
}

func tplTeams() []account.Team {
	return []account.Team{{ID: 3, OrganisationID: 1, OrganisationName: "Leeds NHS", Name: "Leeds North CMHT", Setting: account.SettingCommunity},
		{ID: 4, OrganisationID: 2, OrganisationName: "Mind in Leeds", Name: "Peer network", Setting: account.SettingPeerGroup}}
}

func tplCases() []tplCase {
	matches := []person.PossibleMatch{{PersonID: 7, Name: "Sam (Samantha O'Neill)", DateOfBirth: "1990-03-27", Why: "same name and date of birth"},
		{PersonID: 8, Name: "Sam Smith", Why: "same phone number"}}
	notif := []notify.Notification{{ID: 1, ReferralID: 42, Message: "Referral MUT-2026-0042 is now on the waiting list", CreatedAt: tNow},
		{ID: 2, Message: "Welcome to Mutual", CreatedAt: tEarlier, ReadAt: &tNow}}
	allCan := map[string]bool{"refer": true, "read": true, "triage": true, "people": true, "insight": true, "import": true, "admin": true, "audit": true, "work": true}
	orgForm := withErrors(formOf("name", "Leeds NHS", "kind", "bogus"), "org_name", "An organisation with this name already exists", "org_kind", "Choose the kind of organisation")
	teamForm := withErrors(formOf("organisation_id", "", "team_name", ""), "organisation_id", "Choose an organisation", "team_name", "Enter the team's name", "setting", "Choose where the team works")
	recordWithOffers := referral.PersonRecord{Person: tplPerson(), Referrals: []referral.Referral{tplReferral(referral.Accepted)},
		Offers: []referral.Offer{{ID: 1, PersonID: 7, At: tEarlier, Method: "review", Response: "interested", RecordedBy: "Dr Ada Jones", TeamName: "Leeds North CMHT", ReferralID: 42, Note: "Keen"},
			{ID: 2, PersonID: 7, At: tNow, Method: "self_report", Response: "never_told", RecordedBy: "Sam"}},
		LastOffer: &tEarlier, Caseload: []referral.CaseloadLink{{TeamName: "Leeds North CMHT", Coordinator: "Dr Ada Jones", Since: tEarlier}}}
	newRecord := referral.PersonRecord{Person: person.Person{ID: 8, PreferredName: "Jo"}, NeedsOffer: true}
	limited := tplReferral(referral.Received)
	limited = referral.Referral{ID: limited.ID, Reference: limited.Reference, Source: referral.SourceCarer, ReceivedAt: limited.ReceivedAt, PersonName: "Alex"}
	waitEst := referral.WaitEstimate{MedianDays: 12, LongDays: 30, Count: 25}

	return []tplCase{
		{page: "error", variant: "404", pg: &ui.Page{Title: "Page not found", Data: map[string]any{"Message": "The page was not found", "Status": http.StatusNotFound, "RequestID": "req-1"}},
			want: []string{"check it is correct"}},
		{page: "error", variant: "403", pg: &ui.Page{Title: "You do not have access to this page", Data: map[string]any{"Message": "You do not have access to this page. If you think you should, ask your administrator.", "Status": http.StatusForbidden, "RequestID": "req-2"}},
			want: []string{"administrator"}},
		{page: "error", variant: "500", pg: &ui.Page{Title: "Sorry, there is a problem with the service", Data: map[string]any{"Message": "Something went wrong", "Status": http.StatusInternalServerError, "RequestID": "req-5f3a"}},
			want: []string{"req-5f3a", `href="/help"`}},
		{page: "landing", pg: &ui.Page{Title: "Peer support, for everyone who could use it"}, want: []string{`href="/refer"`, `href="/sign-up"`, `href="/sign-in"`, "tel:116123"}},
		{page: "home", variant: "staff", pg: &ui.Page{Title: "Home", Data: homeData{Notifications: notif, Unread: 1,
			Counts: referral.Counts{Waiting: 14, Overdue: 3, AllocatedToMe: 2}, Can: allCan,
			Links: homeLinks{Waiting: listLink(referral.WaitingFilter()), Overdue: listLink(referral.PastStandardFilter())}}},
			want: []string{`action="/notifications/read"`, `overdue=1`, `href="/admin/audit"`, `href="/insight"`}},
		{page: "home", variant: "person and carer", pg: &ui.Page{Title: "Home", Data: homeData{Can: map[string]bool{"refer": true}, IsPerson: true, IsCarer: true}},
			want: []string{`href="/my/referrals"`, `href="/my/record-access"`, "Refer someone you care for", "You have no updates"}, notWant: []string{"/notifications/read", `overdue=1`}},
		{page: "help", pg: &ui.Page{Title: "Get help now"}, want: []string{"tel:999", "tel:111", "tel:116123", "sms:85258", "worried about someone else"}},
		{page: "accessibility", pg: &ui.Page{Title: "Accessibility statement"}, want: []string{"WCAG", "1.2.3-test"}},
		{page: "privacy", pg: &ui.Page{Title: "Privacy"}, want: []string{"20 years", `href="/my/record-access"`}},
		{page: "account/sign-in", pg: &ui.Page{Title: "Sign in", Form: withErrors(formOf("next", "/referrals/4", "email", "ada@example.org"), "email", "Your email address or password is wrong", "password", "Enter your password")},
			want: []string{`name="next" value="/referrals/4"`, `autocomplete="current-password"`, `href="/password-reset"`, `href="/sign-up"`}},
		{page: "account/two-factor", pg: &ui.Page{Title: "Enter your security code", Form: withErrors(formOf("next", "/"), "code", "Enter the 6-digit code from your authenticator app, or a recovery code")},
			want: []string{`autocomplete="one-time-code"`, `inputmode="numeric"`, "recovery code"}},
		{page: "account/two-factor-setup", pg: &ui.Page{Title: "Set up two-factor sign-in", Form: withErrors(formOf(), "code", "Enter the 6-digit code shown in your authenticator app"),
			Data: totpView{Secret: "JBSWY3DPEHPK3PXP", URL: "otpauth://totp/Mutual:ada%40example.org?issuer=Mutual&period=30&secret=JBSWY3DPEHPK3PXP",
				QRCode: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="}},
			want: []string{`src="data:image/png;base64,iVBORw0KGgo`, `alt="QR code for your authenticator app"`, "JBSWY3DPEHPK3PXP", `href="otpauth://totp/Mutual:ada%40example.org?issuer=Mutual&amp;period=30&amp;secret=JBSWY3DPEHPK3PXP"`}},
		{page: "account/recovery-codes", pg: &ui.Page{Title: "Save your recovery codes", Data: []string{"abcde-23456", "fghij-78923"}}, want: []string{"abcde-23456", "fghij-78923"}},
		{page: "account/account", pg: &ui.Page{Title: "Your account", Form: formOf("expires_in_days", "90"), Data: accountData{User: tplUser(), Tokens: tplTokens()}},
			want: []string{"Care co-ordinator or clinician, Leeds North CMHT", `action="/account/sign-out-everywhere"`, `href="/password-reset"`,
				`action="/account/tokens/21/revoke"`, "Caseload import", "Expired", "Revoked", `action="/account/tokens"`, `value="90"`},
			notWant: []string{`/account/tokens/20/revoke`, `/account/tokens/19/revoke`}},
		{page: "account/account", variant: "token problems", pg: &ui.Page{Title: "Your account", Form: withErrors(formOf("name", "", "expires_in_days", "400"),
			"name", "Enter a name for the token, so you can tell your tokens apart", "expires_in_days", "Enter a number of days from 1 to 365"),
			Data: accountData{User: &account.User{ID: 7, Name: "Sam", Email: "sam@example.org", Status: account.StatusActive, CreatedAt: tEarlier}}},
			want: []string{`value="400"`, "No API tokens"}},
		{page: "account/api-token", pg: &ui.Page{Title: "Your new API token", Data: account.NewAPIToken{ID: 22, Name: "Caseload import", Token: "mut_abcDEF123", ExpiresAt: tNow}},
			want: []string{"mut_abcDEF123", "only see this token once"}},
		{page: "account/sign-up", pg: &ui.Page{Title: "Create an account", Form: withErrors(formOf("role", "carer", "email", "x"), "name", "Enter your name, or what you would like to be called", "email", "Enter an email address in the right format")},
			want: []string{`value="carer" checked`, "Support for myself"}},
		{page: "account/check-email", variant: "sign-up", pg: &ui.Page{Title: "Check your email", Data: "sign-up"}},
		{page: "account/check-email", variant: "reset", pg: &ui.Page{Title: "Check your email", Data: "reset"}, want: []string{"If there is a Mutual account"}},
		{page: "account/password-reset", pg: &ui.Page{Title: "Reset your password", Form: withErrors(formOf("email", "nope"), "email", "Enter an email address in the right format, like name@example.com")}},
		{page: "account/set-password", pg: &ui.Page{Title: "Choose a password", CurrentPath: "/invitation/abc123", Form: withErrors(formOf(), "password", "Password must be 10 characters or more", "confirm", "The two passwords do not match"),
			Data: linkPage{Invitation: true, Account: account.LinkAccount{UserID: 5, Email: "ada@example.org", Name: "Ada"}}},
			want: []string{`action="/invitation/abc123"`, `autocomplete="new-password"`}},
		{page: "account/link-expired", variant: "invitation", pg: &ui.Page{Title: "This link has expired", Data: true}, want: []string{`href="/password-reset"`}},
		{page: "account/link-expired", variant: "reset", pg: &ui.Page{Title: "This link has expired", Data: false}, want: []string{`href="/password-reset"`}},

		{page: "admin/users", pg: &ui.Page{Title: "Accounts", Form: formOf("q", "ada", "role", "clinician"), Data: adminUsersData{Users: []*account.User{tplUser(),
			{ID: 6, Email: "new@example.org", Name: "New Person", Status: account.StatusInvited}}, Query: "ada", Roles: app.Roles}},
			want: []string{`href="/admin/users/5"`, `value="clinician" selected`, `href="/admin/users/new"`, "Invited"}},
		{page: "admin/users", variant: "empty", pg: &ui.Page{Title: "Accounts", Form: ui.NewForm(nil), Data: adminUsersData{Roles: app.Roles}}, want: []string{"No accounts match"}},
		{page: "admin/invite", pg: &ui.Page{Title: "Invite someone", BackLink: "/admin/users", Form: withErrors(formOf("name", "Ada", "role", "peer_worker:3", "role", "admin"), "roles", "Choose a team for the peer support worker role", "email", "Enter an email address"),
			Data: membershipForm{Teams: tplTeams(), Roles: app.Roles}},
			want: []string{`value="peer_worker:3" checked`, `value="admin" checked`, `value="clinician:4"`, `action="/admin/users"`}},
		{page: "admin/user", variant: "active", pg: &ui.Page{Title: "Dr Ada Jones", BackLink: "/admin/users", Form: formOf("role", "clinician:3", "role", "analyst"),
			Data: membershipForm{Teams: tplTeams(), Roles: app.Roles, User: tplUser(), Tokens: tplTokens()}},
			want: []string{`action="/admin/users/5/roles"`, `action="/admin/users/5/disable"`, `action="/admin/users/5/end-sessions"`, `action="/admin/users/5/reset-two-factor"`, `value="clinician:3" checked`,
				`action="/admin/users/5/tokens/21/revoke"`},
			notWant: []string{"/enable", "resend-invitation", "/tokens/20/revoke"}},
		{page: "admin/user", variant: "own account", pg: &ui.Page{Title: "Dr Ada Jones", BackLink: "/admin/users", Form: withErrors(formOf("role", "clinician:3"), "", "Ask another administrator to change your own roles"),
			Data: membershipForm{Teams: tplTeams(), Roles: app.Roles, User: tplUser(), Self: true}},
			want:    []string{"Ask another administrator to change your own roles", `action="/admin/users/5/disable"`, "No API tokens"},
			notWant: []string{`action="/admin/users/5/roles"`}},
		{page: "admin/user", variant: "invited with problem", pg: &ui.Page{Title: "New Person", BackLink: "/admin/users", Form: withErrors(formOf(), "roles", "Choose at least one role"),
			Data: membershipForm{Roles: app.Roles, User: &account.User{ID: 6, Email: "new@example.org", Name: "New Person", Status: account.StatusInvited}}},
			want: []string{`action="/admin/users/6/resend-invitation"`, "There are no teams yet"}, notWant: []string{"reset-two-factor"}},
		{page: "admin/user", variant: "disabled", pg: &ui.Page{Title: "Old Person", Form: ui.NewForm(nil),
			Data: membershipForm{Teams: tplTeams(), Roles: app.Roles, User: &account.User{ID: 8, Name: "Old Person", Status: account.StatusDisabled}}},
			want: []string{`action="/admin/users/8/enable"`}, notWant: []string{"/disable"}},
		{page: "admin/teams", pg: &ui.Page{Title: "Organisations and teams", Errors: append(append([]ui.FieldError{}, orgForm.Errors...), teamForm.Errors...),
			Data: adminTeamsData{Organisations: []account.Organisation{{ID: 1, Name: "Leeds NHS", Kind: account.OrgNHSTrust}}, Teams: tplTeams(), Settings: account.Settings,
				OrgForm: orgForm, TeamForm: teamForm}},
			want: []string{`action="/admin/organisations"`, `action="/admin/teams"`, `name="name"`, `name="kind"`, `id="org_name"`, "Peer-led group or network", `value="Leeds NHS"`}},
		{page: "admin/teams", variant: "empty", pg: &ui.Page{Title: "Organisations and teams", Data: adminTeamsData{Settings: account.Settings, OrgForm: ui.NewForm(nil), TeamForm: ui.NewForm(nil)}},
			want: []string{"Add an organisation first"}},
		{page: "admin/outbox", variant: "mail folder", pg: &ui.Page{Title: "Email outbox", Data: outboxData{MailDir: "/srv/mutual/mail", Items: []mail.Summary{
			{ID: 1, To: "ada@example.org", Subject: "Your invitation", CreatedAt: tNow, SentAt: &tNow, Attempts: 1},
			{ID: 2, To: "bo@example.org", Subject: "Reset", CreatedAt: tNow, Attempts: 3, LastError: "connection refused"}}}},
			want: []string{"Your invitation", "connection refused", "Retrying", "<code>/srv/mutual/mail</code>"}, notWant: []string{"Read the email"}},
		{page: "admin/outbox", variant: "SMTP", pg: &ui.Page{Title: "Email outbox", Data: outboxData{Items: []mail.Summary{{ID: 1, To: "ada@example.org", Subject: "S", CreatedAt: tNow}}}},
			want: []string{"ada@example.org"}, notWant: []string{"folder"}},
		{page: "admin/audit", variant: "verified", pg: &ui.Page{Title: "Audit trail", Data: auditData{Verify: &audit.VerifyResult{Rows: 120, HeadID: 120, HeadHash: "abc"},
			Rows: []audit.Row{{ID: 120, At: tNow, ActorUserID: 5, ActorRole: "clinician", Action: "person.read", SubjectPersonID: 7, ObjectType: "person", ObjectID: "7", Outcome: "ok"},
				{ID: 119, At: tNow, Action: "referral.create", ObjectType: "referral", ObjectID: "42", Outcome: "denied"}}}},
			want: []string{"Chain verified", `href="/admin/audit?verify=1"`, "person.read"}},
		{page: "admin/audit", variant: "broken", pg: &ui.Page{Title: "Audit trail", Data: auditData{Verify: &audit.VerifyResult{Rows: 10, Problems: []string{"row 7: hash does not match"}}}},
			want: []string{"row 7: hash does not match"}},

		{page: "referral/refer", pg: &ui.Page{Title: "Ask for peer support"}, want: []string{`href="/refer/self"`, `href="/sign-up?as=carer"`, "tel:111"}},
		{page: "referral/refer-self", pg: &ui.Page{Title: "Ask for peer support for yourself", BackLink: "/refer", Data: tplFormOptions(),
			Form: withErrors(formOf("preferred_name", "", "ethnicity", "self_described", "date_of_birth-day", "31", "date_of_birth-month", "2", "date_of_birth-year", "1990", "team_id", "3"),
				"preferred_name", "Enter a name, or what the person would like to be called", "phone", "Enter a phone number or an email address so the peer support team can get in touch",
				"asked_for", "Tell us a little about what you would like support with", "date_of_birth", "Date of birth must be a real date", "",
				"We have had a lot of requests from your connection in a short time")},
			want: []string{`action="/refer/self"`, `name="website"`, "Send my request", `value="3" selected`, `autocomplete="bday-day"`, "<details class=\"nhsuk-details\" open>"}},
		{page: "referral/refer-received", pg: &ui.Page{Title: "We have your request", Data: referralDoneData{Reference: "MUT-2026-0042", Wait: waitEst}},
			want: []string{"MUT-2026-0042", "12 days", "nhsuk-panel", `href="/sign-up?as=person"`}},
		{page: "referral/refer-received", variant: "no reference or waits", pg: &ui.Page{Title: "We have your request", Data: referralDoneData{}}, notWant: []string{"days"}},
		{page: "referral/referral-new", variant: "staff and community with problems", pg: &ui.Page{Title: "Make a referral for peer support",
			Form: withErrors(formOf("source", "staff", "person.preferred_name", "", "consent", "not_obtained", "share_beyond_team", "yes"),
				"person.preferred_name", "Enter a name, or what the person would like to be called", "person.date_of_birth", "Enter the date as numbers, for example 27 3 1990",
				"person_knows", "Say whether the person knows about this referral", "consent_reason", "Say why the person's consent could not be obtained",
				"share_beyond_team", "Sharing beyond the peer support team needs the person's consent", "asked_for", "Say what the person would like support with",
				"met_at", "Say where you met the person: the group, event or online space"),
			Data: referralFormData{formOptions: tplFormOptions(), Source: referral.SourceStaff,
				Sources: []ui.Option{{Value: "staff", Label: "Staff"}, {Value: "community", Label: "Community (group, event or online)"}}}},
			want: []string{`action="/referrals"`, `name="person.preferred_name"`, `value="not_obtained" checked`, `name="met_at"`}, notWant: []string{"for_carer", `name="person_id"`}},
		{page: "referral/referral-new", variant: "carer with possible matches", pg: &ui.Page{Title: "Make a referral for peer support",
			Form: withErrors(formOf("source", "carer", "person.preferred_name", "Sam", "match", "8", "relationship", "Mother"), "match", "This person may already be known. Choose them from the list, or say they are someone new."),
			Data: referralFormData{formOptions: tplFormOptions(), Source: referral.SourceCarer, Matches: matches, IsCarer: true,
				Sources: []ui.Option{{Value: "carer", Label: "Carer"}}}},
			want: []string{`name="match"`, `value="8" checked`, `value="new"`, `name="share_with_referrer"`, `name="for_carer"`, `type="hidden" name="source" value="carer"`, `value="Sam"`, `value="Mother"`}},
		{page: "referral/referral-new", variant: "carer for themselves", pg: &ui.Page{Title: "Make a referral for peer support", Form: formOf("source", "carer", "for_carer", "yes"),
			Data: referralFormData{formOptions: tplFormOptions(), Source: referral.SourceCarer, IsCarer: true, Sources: []ui.Option{{Value: "carer", Label: "Carer"}}}},
			want: []string{`value="yes" checked`}, notWant: []string{"person.preferred_name", `name="consent"`}},
		{page: "referral/referral-new", variant: "self", pg: &ui.Page{Title: "Ask for peer support", Form: formOf("source", "self"),
			Data: referralFormData{formOptions: tplFormOptions(), Source: referral.SourceSelf, IsPerson: true, Sources: []ui.Option{{Value: "self", Label: "Self-referral"}}}},
			want: []string{"Send my request"}, notWant: []string{"person.preferred_name", `name="consent"`, "for_carer"}},
		{page: "referral/referral-new", variant: "known person", pg: &ui.Page{Title: "Make a referral for peer support", Form: formOf("source", "staff", "person_id", "7"),
			Data: referralFormData{formOptions: tplFormOptions(), Source: referral.SourceStaff, Person: func() *person.Person { p := tplPerson(); return &p }(),
				Sources: []ui.Option{{Value: "staff", Label: "Staff"}}}},
			want: []string{`name="person_id" value="7"`, "Sam (Samantha O&#39;Neill)", "27 March 1990", `name="consent"`}, notWant: []string{"person.preferred_name"}},
		{page: "referral/referrals", pg: &ui.Page{Title: "Referrals", Form: formOf("status", "received", "status", "accepted", "team", "3", "overdue", "1"),
			Data: referralListData{Page: referral.Page{Referrals: []referral.Referral{tplReferral(referral.Received),
				func() referral.Referral {
					r := tplReferral(referral.Allocated)
					r.ID, r.Overdue, r.TeamName, r.Setting = 43, false, "", ""
					return r
				}()}, Total: 120, Limit: 50, Offset: 50},
				Teams: tplTeams(), Statuses: func() []ui.Option {
					var o []ui.Option
					for _, st := range referral.Statuses {
						o = append(o, ui.Option{Value: string(st), Label: st.Label()})
					}
					return o
				}(), Sources: []ui.Option{{Value: "self", Label: "Self-referral"}, {Value: "staff", Label: "Staff"}}, StandardWk: 4,
				Pager: pager("/referrals", url.Values{"status": {"received"}}, 120, 50, 50, 2)}},
			want: []string{"app-table__row--overdue", "Past standard", `href="/referrals/42"`, `value="received" checked`, `value="3" selected`, `value="1" checked`,
				"Showing 51 to 52 of 120", `rel="prev"`, `rel="next"`, `aria-label="Page 3"`, `aria-current="page"`, "Not chosen yet", `role="table"`, "Routine"}},
		{page: "referral/referrals", variant: "empty", pg: &ui.Page{Title: "Referrals", Form: ui.NewForm(nil), Data: referralListData{StandardWk: 4}},
			want: []string{"Nobody is waiting"}, notWant: []string{"<table"}},
		{page: "referral/referral", variant: "received, lead, nothing active", pg: &ui.Page{Title: "Referral MUT-2026-0042", Form: formOf("version", "3"),
			Data: func() referralViewData {
				d := tplDetail(referral.Received, referral.Accepted, referral.Declined, referral.Redirected, referral.Withdrawn)
				d.Referral.TeamID, d.Referral.TeamName = 0, ""
				d.Duplicates = matches
				return tplReferralView(d, "")
			}()},
			want: []string{`action="/referrals/42/transitions"`, `name="version" value="3"`, `value="declined"`, `value="redirected"`, `value="withdrawn"`, `name="team_id"`,
				`action="/referrals/42/link-person"`, `action="/referrals/42/contacts"`, "Past waiting standard", "Dr Ada Jones", "Care co-ordinator or clinician", "Phone call",
				"We could not contact the person", `href="/referrals/12"`, "Accept referral"},
			notWant: []string{`value="ended"`, "Start peer support"}},
		{page: "referral/referral", variant: "decline failed", pg: &ui.Page{Title: "Referral MUT-2026-0042",
			Form: withErrors(formOf("version", "3", "to", "declined", "note", "Typed note"), "reason", "Choose why the referral is being declined", "note", "Say what the other reason is"),
			Data: tplReferralView(tplDetail(referral.Received, referral.Accepted, referral.Declined, referral.Redirected, referral.Withdrawn), "declined")},
			want: []string{`id="reason"`, `id="note"`, "Typed note", `id="redirected-note"`, `id="withdrawn-note"`}},
		{page: "referral/referral", variant: "allocate failed", pg: &ui.Page{Title: "Referral MUT-2026-0042",
			Form: withErrors(formOf("version", "3", "to", "allocated"), "worker_id", "Choose a peer worker in this referral's team"),
			Data: tplReferralView(tplDetail(referral.Accepted, referral.Allocated, referral.Redirected, referral.Withdrawn), "allocated")},
			want: []string{`name="worker_id"`, `id="worker_id"`, "Priya Shah"}},
		{page: "referral/referral", variant: "allocated, end failed", pg: &ui.Page{Title: "Referral MUT-2026-0042",
			Form: withErrors(formOf("version", "4", "to", "ended", "outcome_summary", ""), "reason", "Choose why peer support is ending", "outcome_summary",
				"Write a short reply for the referrer about what peer support did, agreed with the person", "", "Someone else changed this referral at the same moment."),
			Data: tplReferralView(tplDetail(referral.Allocated, referral.Allocated, referral.Active, referral.Accepted, referral.Ended, referral.Withdrawn), "ended")},
			want: []string{"Move back to the waiting list", "Change the peer worker", "Start peer support", `id="outcome_summary"`, `name="version" value="4"`,
				`id="ending"`, `value="unplanned"`, `id="what_helped"`, `value="died"`}},
		{page: "referral/referral", variant: "contact failed", pg: &ui.Page{Title: "Referral MUT-2026-0042",
			Form: withErrors(formOf("version", "3", "contact_at-day", "40", "contact_at-time", "25:00", "minutes", "lots", "contact_note", "We met"),
				"contact_at", "Date must be a real date", "contact_at-time", "Enter the time like 14:30", "minutes", "Enter minutes as a number, like 30", "mode", "Choose how the contact happened"),
			Data: tplReferralView(tplDetail(referral.Active, referral.Ended, referral.Withdrawn), "contact")},
			want: []string{`name="contact_at-day"`, `value="40"`, "We met", `name="mode"`}},
		{page: "referral/referral", variant: "closed, read only", pg: &ui.Page{Title: "Referral MUT-2026-0042", Form: formOf("version", "9"),
			Data: func() referralViewData {
				d := tplDetail(referral.Ended)
				d.Referral.OutcomeSummary = "Went to the walking group"
				v := tplReferralView(d, "")
				v.CanWork = false
				return v
			}()},
			want: []string{"Went to the walking group", "Peer support has ended"}, notWant: []string{"<form method=\"post\" action=\"/referrals/42"}},
		{page: "referral/referral", variant: "limited", pg: &ui.Page{Title: "Referral MUT-2026-0042", Form: formOf("version", "0"),
			Data: referralViewData{Detail: referral.Detail{Referral: limited, Limited: true}}},
			want: []string{"has not agreed to share updates"}, notWant: []string{"<form method=\"post\" action=\"/referrals/42", "History"}},
		{page: "person/people", pg: &ui.Page{Title: "People", Form: formOf("q", "sam"), Data: peopleData{Found: person.Found{People: []person.Listed{
			{Person: tplPerson(), Teams: []string{"Leeds North CMHT"}, LatestReference: "MUT-2026-0042", LatestStatus: "accepted", LastContact: &tNow},
			{Person: person.Person{ID: 9, PreferredName: "Jo"}, BirthYear: 1971}, {Person: person.Person{ID: 10, PreferredName: "Jo"}}}, Total: 120, Limit: 50},
			Query: "sam", Pager: pager("/people", url.Values{"q": {"sam"}}, 120, 50, 0, 3)}},
			want: []string{`href="/people/7"`, `href="/people/new"`, "27 March 1990", "in 1971", "Not known", `value="sam"`, "120 people found", "Showing 1 to 3 of 120",
				"Leeds North CMHT", "MUT-2026-0042", "On the waiting list", `rel="next"`}},
		{page: "person/people", variant: "no results", pg: &ui.Page{Title: "People", Form: formOf("q", "zz"), Data: peopleData{Query: "zz"}}, want: []string{"Nobody you can see matches"}},
		{page: "person/person-new", pg: &ui.Page{Title: "Add a person", BackLink: "/people",
			Form: withErrors(formOf("person.preferred_name", "Sam"), "match", "This person may already be known. Choose them from the list, or say they are someone new.",
				"person.email", "Enter an email address in the right format"),
			Data: personFormData{tplFormOptions(), matches}},
			want: []string{`action="/people"`, `name="match"`, `value="Sam"`}},
		{page: "person/person", variant: "known, with ledger", pg: &ui.Page{Title: "Sam", BackLink: "/people", Form: formOf("method", "conversation"),
			Data: personViewData{PersonRecord: recordWithOffers, Methods: reasonOptions(referral.OfferMethods), Responses: reasonOptions(referral.OfferResponses), CanOffer: true, CanRefer: true, HasOpen: true, CanPlan: true}},
			want: []string{`action="/people/7/offers"`, `name="response" value="interested"`, `name="response" value="not_now"`, `name="response" value="declined"`,
				`value="conversation" checked`, "At a care review", "Recorded by the person", "Says they have never been told", `href="/referrals/42"`, "Dr Ada Jones", "Woman"},
			notWant: []string{"/referrals/new?person_id=7", "No record that"}},
		{page: "person/person", variant: "needs offer, problems", pg: &ui.Page{Title: "Jo", Form: withErrors(formOf("method", ""), "method", "Choose how the person was told about peer support", "response", "Choose what the person said"),
			Data: personViewData{PersonRecord: newRecord, Methods: reasonOptions(referral.OfferMethods), CanOffer: true, CanRefer: true}},
			want: []string{"No record that Jo has been told about peer support in the last 12 months", `href="/referrals/new?person_id=8"`, "Not given"}},
		{page: "referral/my-referrals", variant: "person and carer", pg: &ui.Page{Title: "Your referrals", Form: ui.NewForm(nil), Data: myReferralsData{Wait: waitEst, IsPerson: true, IsCarer: true,
			Referrals: []referral.MyReferral{
				{Referral: tplReferral(referral.Accepted), History: tplDetail(referral.Accepted).History, Contacts: tplDetail(referral.Accepted).Contacts},
				{Referral: func() referral.Referral {
					r := tplReferral(referral.Ended)
					r.ID = 44
					r.OutcomeSummary = "Joined a group"
					return r
				}(), MadeByMe: true},
				{Referral: limited, Limited: true, MadeByMe: true}}}},
			want: []string{`name="to" value="withdrawn"`, `name="next" value="/my/referrals"`, `name="version" value="3"`, "about 12 days", "While you wait", `action="/my/offers"`,
				`name="told"`, "Referral for Sam O&#39;Neill", "Joined a group", "Alex has not agreed", "If you need help now"}},
		{page: "referral/my-referrals", variant: "one service's waits", pg: &ui.Page{Title: "Your referrals", Form: ui.NewForm(nil), Data: myReferralsData{Wait: waitEst, WaitTeam: "North CMHT", IsPerson: true,
			Referrals: []referral.MyReferral{{Referral: tplReferral(referral.Accepted)}}}},
			want: []string{"people waiting for North CMHT wait about 12 days"}},
		{page: "referral/my-referrals", variant: "empty", pg: &ui.Page{Title: "Your referrals", Form: ui.NewForm(nil), Data: myReferralsData{IsCarer: true}},
			want: []string{"You have not asked for peer support yet", `href="/referrals/new?source=carer"`}, notWant: []string{"While you wait", "/my/offers"}},
		{page: "person/record-access", pg: &ui.Page{Title: "Who has seen your record", Data: []audit.Access{
			{At: tNow, ActorName: "Dr Ada Jones", ActorRole: "clinician", TeamName: "Leeds North CMHT", Action: "person.read", Outcome: "ok"},
			{At: tEarlier, ActorName: "Someone using the public form", Action: "referral.transition.accepted", Outcome: "denied"},
			{At: tEarlier, ActorName: "Lee", ActorRole: "peer_lead", Action: "something.new", Outcome: "ok"}}},
			want: []string{"Looked at your details", "Care co-ordinator or clinician", "Added a referral to the waiting list", "Not allowed", "something.new"}},
		{page: "person/record-access", variant: "empty", pg: &ui.Page{Title: "Who has seen your record"}, want: []string{"Nobody else has looked"}},
	}
}

var (
	reID       = regexp.MustCompile(`\sid="([^"]*)"`)
	reFor      = regexp.MustCompile(`\sfor="([^"]*)"`)
	reDescBy   = regexp.MustCompile(`\saria-(?:describedby|labelledby)="([^"]*)"`)
	reFormTag  = regexp.MustCompile(`<form\b[^>]*>`)
	reStyle    = regexp.MustCompile(`\sstyle=`)
	reInline   = regexp.MustCompile(`\son[a-z]+=`)
	reH1       = regexp.MustCompile(`<h1\b`)
	reFragment = regexp.MustCompile(`href="#([^"]+)"`)
)

// errorer is the part of testing.T the checker uses, so that the checker
// itself can be tested.
type errorer interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkPage applies the rules every rendered page must keep.
func checkPage(t errorer, c tplCase, out string) {
	t.Helper()
	// html/template writes some characters (such as "+") as references.
	if !strings.Contains(out, html.EscapeString(c.pg.Title)) && !strings.Contains(html.UnescapeString(out), c.pg.Title) {
		t.Errorf("title %q is not on the page", c.pg.Title)
	}
	if n := len(reH1.FindAllString(out, -1)); n != 1 {
		t.Errorf("page has %d <h1> elements; want exactly 1", n)
	}
	if strings.Contains(out, "ZgotmplZ") {
		t.Errorf("html/template refused a value (ZgotmplZ) near: %s", around(out, "ZgotmplZ"))
	}
	if reStyle.MatchString(out) {
		t.Errorf("inline style attribute (forbidden by the CSP) near: %s", around(out, reStyle.FindString(out)))
	}
	if m := reInline.FindString(out); m != "" {
		t.Errorf("inline event handler (forbidden by the CSP) near: %s", around(out, m))
	}
	if strings.Contains(out, "<no value>") {
		t.Errorf("a missing value was printed as <no value> near: %s", around(out, "<no value>"))
	}
	ids := map[string]int{}
	for _, m := range reID.FindAllStringSubmatch(out, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q is used %d times", id, n)
		}
		if id == "" {
			t.Errorf("empty id attribute")
		}
	}
	for _, m := range reFor.FindAllStringSubmatch(out, -1) {
		if ids[m[1]] == 0 {
			t.Errorf("label for=%q points at no element", m[1])
		}
	}
	for _, m := range reDescBy.FindAllStringSubmatch(out, -1) {
		for _, id := range strings.Fields(m[1]) {
			if ids[id] == 0 {
				t.Errorf("aria reference %q points at no element", id)
			}
		}
	}
	for _, m := range reFragment.FindAllStringSubmatch(out, -1) {
		if m[1] != "maincontent" && ids[m[1]] == 0 {
			t.Errorf("link to #%s, but no element has that id", m[1])
		}
	}
	for _, tag := range reFormTag.FindAllString(out, -1) {
		if strings.Contains(tag, `method="post"`) && !strings.Contains(tag, "novalidate") {
			t.Errorf("posting form without novalidate: %s", tag)
		}
		if strings.Contains(tag, `method="post"`) && !strings.Contains(tag, `action="/`) {
			t.Errorf("posting form without an action on this site: %s", tag)
		}
	}
	for _, e := range c.pg.Errors {
		msg := html.EscapeString(e.Message)
		n := strings.Count(out, msg)
		if n == 0 {
			t.Errorf("problem %q (field %q) is not shown", e.Message, e.Field)
			continue
		}
		if e.Field == "" {
			continue
		}
		// Once in the error summary, once beside the field.
		if n != 2 {
			t.Errorf("problem %q (field %q) is shown %d times; want 2 (error summary and beside its field)", e.Message, e.Field, n)
		}
		if id := ui.FieldID(e.Field); ids[id] == 0 {
			t.Errorf("problem for %q links to #%s, but no element has that id", e.Field, id)
		} else if !strings.Contains(out, `id="`+id+`-error"`) {
			t.Errorf("problem for %q has no error message element %q", e.Field, id+"-error")
		}
	}
	for _, w := range c.want {
		if !strings.Contains(out, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
	for _, w := range c.notWant {
		if strings.Contains(out, w) {
			t.Errorf("page contains %q, which it should not, near: %s", w, around(out, w))
		}
	}
}

func around(s, sub string) string {
	i := strings.Index(s, sub)
	if i < 0 || sub == "" {
		return ""
	}
	return s[max(0, i-150):min(len(s), i+len(sub)+150)]
}

// extraTplCases lets another test file in this package add cases for the
// pages it owns, without editing this one:
//
//	func init() { extraTplCases = append(extraTplCases, insightTplCases) }
var extraTplCases []func() []tplCase

func TestTemplatesRenderEveryPage(t *testing.T) {
	r := templateRenderer(t, allTemplateFiles)
	covered := map[string]bool{}
	cases := tplCases()
	for _, more := range extraTplCases {
		cases = append(cases, more()...)
	}
	for _, c := range cases {
		name := c.page
		if c.variant != "" {
			name += "/" + c.variant
		}
		t.Run(name, func(t *testing.T) {
			covered[c.page] = true
			pg := c.pg
			// As Server.page does.
			pg.Nonce = "test-nonce"
			if pg.CurrentPath == "" {
				pg.CurrentPath = "/test"
			}
			pg.Nav = []ui.NavItem{{Label: "Home", Href: "/"}, {Label: "Referrals", Href: "/referrals", Current: true}}
			pg.UserName = "Test Reader"
			pg.Banner = "Demonstration mode"
			pg.Flash = "Saved"
			if pg.Form != nil && len(pg.Errors) == 0 {
				pg.Errors = pg.Form.Errors
			}
			var buf bytes.Buffer
			if err := r.Render(&buf, c.page, pg); err != nil {
				t.Fatalf("render: %v", err)
			}
			checkPage(t, c, buf.String())
			if os.Getenv("MUTUAL_TEMPLATE_DUMP") != "" {
				dir := os.Getenv("MUTUAL_TEMPLATE_DUMP")
				file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "-", ",", "").Replace(name)+".html")
				if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	for _, p := range r.Pages() {
		if !covered[p] {
			t.Errorf("page template %q has no case: add one with the data its handler passes (to tplCases, or through extraTplCases)", p)
		}
	}
}

// TestTemplatesCheckerCatchesMistakes makes sure checkPage can fail.
func TestTemplatesCheckerCatchesMistakes(t *testing.T) {
	bad := `<h1>T</h1><h1>Again</h1><p id="a"></p><p id="a"></p><label for="b">x</label><form method="post" action="/x"></form>` +
		`<p style="color:red">#ZgotmplZ</p><a href="#missing">x</a><button onclick="x()">b</button><input aria-describedby="nothing">`
	ft := &fakeT{}
	checkPage(ft, tplCase{page: "x", pg: &ui.Page{Title: "Missing title", Errors: []ui.FieldError{{Field: "email", Message: "Enter your email"}}},
		want: []string{"wanted text"}, notWant: []string{"Again"}}, bad)
	for _, want := range []string{"title", "<h1>", "ZgotmplZ", "style", "event handler", `id "a"`, `for="b"`, "#missing", "novalidate",
		"Enter your email", `"nothing"`, "wanted text", `"Again"`} {
		if !slices.ContainsFunc(ft.errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("checker did not report %q; it reported %q", want, ft.errs)
		}
	}
}

// fakeT collects errors so the checker itself can be tested.
type fakeT struct{ errs []string }

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, a ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, a...))
}

// TestTemplatesExistForHandlerPages finds every page name the handlers
// render (s.page(w, r, status, "NAME", ...) and s.handleStatic("NAME", ...))
// and checks the renderer has a template for it.
func TestTemplatesExistForHandlerPages(t *testing.T) {
	r := templateRenderer(t, templateFiles)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			arg := -1
			switch sel.Sel.Name {
			case "page":
				arg = 3
			case "handleStatic":
				arg = 0
			}
			if arg < 0 || len(call.Args) <= arg {
				return true
			}
			lit, ok := call.Args[arg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				// A name passed through a variable (handleStatic, a shared
				// helper): its callers' literals are checked instead.
				return true
			}
			name, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
			return true
		})
	}
	for _, must := range []string{"error", "home", "referral/referral", "admin/users", "help"} {
		if !slices.Contains(names, must) {
			t.Errorf("did not find handler page %q: the search for page names is broken", must)
		}
	}
	for _, name := range names {
		if !r.Has(name) {
			t.Errorf("a handler renders page %q, but there is no template internal/web/templates/%s.html", name, name)
		}
	}
}
