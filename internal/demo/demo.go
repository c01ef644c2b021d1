// Package demo loads demonstration data: an NHS trust and a partner
// charity, teams in different settings, an account for every role,
// referrals through every door in every state, offers, and caseloads with
// a visible pattern of who is and is not referred. Everything goes through
// the real services, on a simulated clock, so the history is consistent.
package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/watch"
)

// Password is every demonstration account's password.
const Password = "peer-support-demo"

// Deps are the services the demo writes through.
type Deps struct {
	DB        *store.DB
	Accounts  *account.Service
	People    *person.Service
	Referrals *referral.Service
	Clock     app.Clock
}

// Options tune the demo.
type Options struct {
	// Scale, when above zero, adds a generated data set of about Scale
	// caseload episodes and three tenths as many referrals, for benchmarks.
	Scale int
	Log   io.Writer
}

// Account is a demonstration account to print.
type Account struct {
	Email, Role, Team string
}

// Result says what was loaded.
type Result struct {
	Accounts  []Account
	Referrals int
	Offers    int
	Episodes  int
	// Recovery and voice.
	Sessions, Goals, Reviews, Feedback int
	// The support itself.
	Appointments int
}

// Instructions tells a person how to sign in.
func (r Result) Instructions(baseURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Demonstration data loaded: %d referrals, %d offers, %d caseload episodes.\n", r.Referrals, r.Offers, r.Episodes)
	fmt.Fprintf(&b, "Recovery and voice: %d DIALOG+ sessions, %d goals, %d reviews, %d pieces of feedback.\n", r.Sessions, r.Goals, r.Reviews, r.Feedback)
	fmt.Fprintf(&b, "The support itself: %d appointments this week and next (sign in as a peer worker: My people, My diary, with the group sessions they facilitate; "+
		"the demo person chose reminders both the day before and 2 hours before: My appointments).\n\n", r.Appointments)
	fmt.Fprintf(&b, "Open %s and sign in with any of these (password: %s):\n\n", baseURL, Password)
	for _, a := range r.Accounts {
		team := ""
		if a.Team != "" {
			team = " – " + a.Team
		}
		fmt.Fprintf(&b, "  %-34s %s%s\n", a.Email, a.Role, team)
	}
	fmt.Fprintf(&b, "\nAnyone can ask for peer support without an account at %s/refer\n", baseURL)
	return b.String()
}

type loader struct {
	Deps
	clock  *app.FakeClock
	acc    *account.Service
	ref    *referral.Service
	alerts *alert.Service
	rec    *recovery.Service
	rng    *rand.Rand
	rrng   *rand.Rand // the recovery story's own, so it leaves the rest of the story as it was
	teams  map[string]account.Team
	users  map[string]*account.User
	res    Result
	log    io.Writer
	// people are those on the demo caseloads; plans, the referrals told.
	people []demoPerson
	plans  []*plan
}

// Load fills an empty database. It refuses a database that already has
// accounts, so real data is never mixed with demonstration data.
func Load(ctx context.Context, d Deps, o Options) (Result, error) {
	var n int
	if err := d.DB.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return Result{}, err
	}
	if n > 0 {
		return Result{}, fmt.Errorf("the database already has %d accounts: demonstration data only goes into an empty database", n)
	}
	now := d.Clock.Now()
	// The story is told on a simulated clock. Most of it starts eight months
	// ago; Jordan's support, with a year of DIALOG+, starts earlier.
	clock := app.NewFakeClock(now.AddDate(0, -14, 0))
	l := &loader{Deps: d, clock: clock, rng: rand.New(rand.NewPCG(2026, 11)), rrng: rand.New(rand.NewPCG(2026, 13)), teams: map[string]account.Team{}, users: map[string]*account.User{}, log: o.Log}
	if l.log == nil {
		l.log = io.Discard
	}
	a := d.Accounts
	l.acc = &account.Service{DB: d.DB, Clock: clock, Hasher: a.Hasher, Counters: &ratelimit.Counters{DB: d.DB, Clock: clock},
		BaseURL: a.BaseURL, RequireMFA: a.RequireMFA, StaffIdle: a.StaffIdle, StaffAbsolute: a.StaffAbsolute,
		PublicIdle: a.PublicIdle, PublicAbsolute: a.PublicAbsolute}
	l.acc.Notify = &notify.Service{DB: d.DB, Clock: clock}
	// The story's reads are audited on its own clock.
	auditLog := audit.NewLog(d.DB, clock, audit.LogOptions{})
	auditLog.Start()
	defer auditLog.Close()
	l.alerts = &alert.Service{DB: d.DB, Clock: clock, Audit: auditLog, Notify: l.acc.Notify, BaseURL: d.Referrals.BaseURL}
	l.ref = &referral.Service{Audit: auditLog, DB: d.DB, Clock: clock, BaseURL: d.Referrals.BaseURL, WaitingStandard: d.Referrals.WaitingStandard, Accounts: l.acc,
		Notify: l.acc.Notify, Watch: &watch.Service{DB: d.DB, Clock: clock, Audit: auditLog}, Alerts: l.alerts}
	l.rec = &recovery.Service{DB: d.DB, Clock: clock, Audit: auditLog, Notify: l.acc.Notify, Accounts: l.acc, BaseURL: d.Referrals.BaseURL}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"organisations and teams", l.organisations},
		{"accounts", l.accounts},
		{"people and caseloads", l.caseloads},
		{"referrals and offers", l.story},
		{"groups, events and the peer network", l.groupsStory},
		{"choices, worker profiles and disclosures, and an allocation plan", l.matching},
		{"the community", l.communityStory},
		{"each worker's week of appointments", l.supportWeek},
	}
	for _, s := range steps {
		fmt.Fprintf(l.log, "demo: %s…\n", s.name)
		if err := s.fn(ctx); err != nil {
			return l.res, fmt.Errorf("loading %s: %w", s.name, err)
		}
	}
	if o.Scale > 0 {
		fmt.Fprintf(l.log, "demo: generating %d caseload episodes for benchmarks…\n", o.Scale)
		if err := l.scale(ctx, o.Scale); err != nil {
			return l.res, err
		}
	}
	// Episodes were written directly: count the caseload roll-up afresh.
	if err := (&caseload.Service{DB: d.DB, Clock: d.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}).RebuildRollup(ctx); err != nil {
		return l.res, err
	}
	return l.res, d.DB.Analyze(ctx, true)
}

var teamsByOrg = []struct {
	org   string
	kind  account.OrgKind
	teams []struct {
		key, name string
		setting   account.Setting
	}
}{
	{"Riverside NHS Foundation Trust", account.OrgNHSTrust, []struct {
		key, name string
		setting   account.Setting
	}{
		{"north", "North Community Mental Health Team", account.SettingCommunity},
		{"south", "South Community Mental Health Team", account.SettingCommunity},
		{"ward", "Ward 4 (Acute Inpatient)", account.SettingAcuteWard},
		{"crisis", "Crisis and Home Treatment Team", account.SettingCrisis},
		{"transitions", "Transitions Team (young people moving to adult services)", account.SettingCAMHSTransition},
		{"forensic", "Willow Ward (Secure Service)", account.SettingSecureWard},
	}},
	{"Horizons Mental Health Charity", account.OrgPartnerAgency, []struct {
		key, name string
		setting   account.Setting
	}{
		{"horizons", "Horizons Community Outreach", account.SettingPartner},
	}},
	{"Peer Voices Network", account.OrgPeerNetwork, []struct {
		key, name string
		setting   account.Setting
	}{
		{"voices", "Hearing Voices Peer Group", account.SettingPeerGroup},
	}},
}

func (l *loader) organisations(ctx context.Context) error {
	for _, o := range teamsByOrg {
		org, err := l.acc.CreateOrganisation(ctx, app.Operator("demo"), o.org, o.kind)
		if err != nil {
			return err
		}
		for _, t := range o.teams {
			team, err := l.acc.CreateTeam(ctx, app.Operator("demo"), org.ID, t.name, t.setting)
			if err != nil {
				return err
			}
			l.teams[t.key] = team
		}
	}
	return nil
}

type demoAccount struct {
	key, email, name string
	roles            []struct {
		role app.Role
		team string
	}
	printed bool
}

func acct(key, email, name string, printed bool, roles ...any) demoAccount {
	a := demoAccount{key: key, email: email, name: name, printed: printed}
	for i := 0; i+1 < len(roles); i += 2 {
		a.roles = append(a.roles, struct {
			role app.Role
			team string
		}{roles[i].(app.Role), roles[i+1].(string)})
	}
	return a
}

// coordinators are the care co-ordinators whose caseloads drive the
// gatekeeping picture: per team, a name and how likely they are to refer.
var coordinators = []struct {
	team, name string
	referRate  float64
}{
	{"north", "Priya Shah", 0.34}, {"north", "Tom Hughes", 0.30}, {"north", "Aisha Rahman", 0.32},
	{"north", "Gareth Lloyd", 0.06}, {"north", "Mei Chen", 0.28}, {"north", "Daniel Okafor", 0.31},
	{"south", "Sarah Whitfield", 0.27}, {"south", "Imran Qureshi", 0.29}, {"south", "Kate Morgan", 0.52},
	{"south", "Liam Brennan", 0.26}, {"south", "Grace Mensah", 0.05}, {"south", "Owen Price", 0.24},
	{"crisis", "Hannah Burke", 0.22}, {"crisis", "Ravi Patel", 0.25},
	{"transitions", "Chloe Adams", 0.30}, {"transitions", "Marcus Reid", 0.10},
	{"ward", "Fiona Walsh", 0.20}, {"ward", "Sam Iqbal", 0.23},
	{"forensic", "Peter Novak", 0.18},
}

func emailFor(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@riverside.demo.nhs.uk"
}

func (l *loader) accounts(ctx context.Context) error {
	list := []demoAccount{
		acct("admin", "admin@mutual.demo", "Alex Admin", true, app.RoleAdmin, ""),
		acct("manager", "manager@mutual.demo", "Morgan Ellis", true, app.RoleServiceManager, ""),
		acct("analyst", "analyst@mutual.demo", "Ana Lytics", true, app.RoleAnalyst, ""),
		acct("lead", "lead@mutual.demo", "Jess Taylor", true, app.RolePeerLead, "north", app.RolePeerLead, "south"),
		acct("lead.ward", "lead.ward@mutual.demo", "Niamh Doyle", true, app.RolePeerLead, "ward", app.RolePeerLead, "crisis", app.RolePeerLead, "transitions", app.RolePeerLead, "forensic"),
		acct("peer", "peer@mutual.demo", "Kofi Asante", true, app.RolePeerWorker, "north"),
		acct("peer2", "peer2@mutual.demo", "Becky Holt", false, app.RolePeerWorker, "north"),
		acct("peer3", "peer3@mutual.demo", "Yusuf Ali", false, app.RolePeerWorker, "south"),
		acct("peer4", "peer4@mutual.demo", "Sian Evans", false, app.RolePeerWorker, "south"),
		acct("peer5", "peer5@mutual.demo", "Amara Osei", false, app.RolePeerWorker, "north"),
		acct("peer6", "peer6@mutual.demo", "Tom Reilly", false, app.RolePeerWorker, "north"),
		acct("peer7", "peer7@mutual.demo", "Ola Bankole", false, app.RolePeerWorker, "south"),
		acct("peer.ward", "peer.ward@mutual.demo", "Dee Francis", true, app.RolePeerWorker, "ward", app.RolePeerWorker, "crisis"),
		acct("peer.transitions", "peer.transitions@mutual.demo", "Leo Martin", false, app.RolePeerWorker, "transitions", app.RolePeerWorker, "forensic"),
		acct("nurse", "nurse@mutual.demo", "Ruth Oduya", true, app.RoleClinician, "ward"),
		acct("partner", "partner@mutual.demo", "Tariq Hussain", true, app.RolePartnerWorker, "horizons"),
		acct("moderator", "moderator@mutual.demo", "Mo Clarke", true, app.RoleModerator, ""),
		acct("carer", "carer@mutual.demo", "Linda Brooks", true, app.RoleCarer, ""),
		acct("person", "person@mutual.demo", "Jordan Lee", true, app.RolePerson, ""),
		// A peer worker who also uses services: one role at a time.
		acct("peer.own", "sam.rivers@mutual.demo", "Sam Rivers", true, app.RolePeerWorker, "crisis", app.RolePerson, ""),
	}
	for i, c := range coordinators {
		list = append(list, acct(fmt.Sprintf("coord%d", i), emailFor(c.name), c.name, i == 0, app.RoleClinician, c.team))
	}
	for _, a := range list {
		var ms []app.Membership
		for _, r := range a.roles {
			m := app.Membership{Role: r.role}
			if r.team != "" {
				m.TeamID = l.teams[r.team].ID
			}
			ms = append(ms, m)
		}
		u, err := l.acc.CreateUser(ctx, app.Operator("demo"), account.NewUser{Email: a.email, Name: a.name, Memberships: ms, Password: Password})
		if err != nil {
			return err
		}
		l.users[a.key] = u
		if a.printed {
			var roles, teams []string
			for _, r := range a.roles {
				roles = append(roles, r.role.Label())
				if r.team != "" {
					teams = append(teams, l.teams[r.team].Name)
				}
			}
			l.res.Accounts = append(l.res.Accounts, Account{Email: a.email, Role: strings.Join(uniq(roles), ", "), Team: strings.Join(teams, ", ")})
		}
	}
	return nil
}

func uniq(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (l *loader) principal(ctx context.Context, key string) (*app.Principal, error) {
	u, err := l.acc.GetUser(ctx, l.users[key].ID)
	if err != nil {
		return nil, err
	}
	return &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, PersonID: u.PersonID, Memberships: u.Memberships, Via: "demo", RequestID: "demo"}, nil
}

// at runs fn with the simulated clock at t.
func (l *loader) at(t time.Time) {
	if d := t.Sub(l.clock.Now()); d > 0 {
		l.clock.Advance(d)
	}
}
