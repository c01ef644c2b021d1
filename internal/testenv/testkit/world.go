// Package testkit builds a small, real world for tests: an NHS trust and a
// partner charity, teams in two settings, and one account for every role,
// stored in a real database through the real services.
package testkit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/recovery"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/watch"
)

// Password is every test account's password.
const Password = "test passphrase 1234"

// hasher is cheap: worlds create fifteen accounts each and tests sign in
// often (account tests check the production cost).
var hasher = account.NewTestHasher()

// World is the test world.
type World struct {
	DB        *store.DB
	Clock     *app.FakeClock
	Audit     *audit.Log
	Accounts  *account.Service
	People    *person.Service
	Notify    *notify.Service
	Referrals *referral.Service
	Groups    *groups.Service
	// DataRights is given every holder of people's data, as in cmd/mutual.
	DataRights *datarights.Service
	// Matching checks caps and records choices on every allocation.
	Matching *matching.Service
	Watch    *watch.Service
	Alerts   *alert.Service
	Recovery *recovery.Service
	// Community is the moderated peer space.
	Community *community.Service
	Support   *support.Service
	// Concerns are the concerns the recovery service raised: risk language
	// (RiskMarker, in this world) in a person's own words.
	Concerns *Concerns
	TeamA    account.Team // community team
	TeamB    account.Team // acute ward
	Partner  account.Team
	// Accounts by name; Principal returns a signed-in caller for each.
	Users map[string]*account.User
}

// Roles in the world, by account name.
var worldAccounts = []struct {
	name  string
	role  app.Role
	team  string
	email string
}{
	{"person", app.RolePerson, "", "person@test.example"},
	{"person2", app.RolePerson, "", "person2@test.example"},
	{"carer", app.RoleCarer, "", "carer@test.example"},
	{"worker", app.RolePeerWorker, "A", "worker@test.example"},
	{"workerB", app.RolePeerWorker, "B", "workerb@test.example"},
	{"lead", app.RolePeerLead, "A", "lead@test.example"},
	{"lead2", app.RolePeerLead, "A", "lead2@test.example"},
	{"leadB", app.RolePeerLead, "B", "leadb@test.example"},
	{"clinician", app.RoleClinician, "A", "clinician@test.example"},
	{"clinicianB", app.RoleClinician, "B", "clinicianb@test.example"},
	{"partner", app.RolePartnerWorker, "P", "partner@test.example"},
	{"moderator", app.RoleModerator, "", "moderator@test.example"},
	{"analyst", app.RoleAnalyst, "", "analyst@test.example"},
	{"manager", app.RoleServiceManager, "", "manager@test.example"},
	{"admin", app.RoleAdmin, "", "admin@test.example"},
}

// NewWorld builds the world in db.
func NewWorld(tb testing.TB, db *store.DB) *World {
	tb.Helper()
	ctx := context.Background()
	clock := app.NewFakeClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	w := &World{DB: db, Clock: clock, Users: map[string]*account.User{}}
	w.Accounts = &account.Service{DB: db, Clock: clock, Hasher: hasher, Counters: &ratelimit.Counters{DB: db, Clock: clock},
		BaseURL: "https://mutual.test", RequireMFA: false,
		StaffIdle: 30 * time.Minute, StaffAbsolute: 12 * time.Hour, PublicIdle: 24 * time.Hour, PublicAbsolute: 14 * 24 * time.Hour,
		SessionRecheck: time.Second}
	w.Audit = audit.NewLog(db, clock, audit.LogOptions{})
	w.Audit.Start()
	tb.Cleanup(func() { w.Audit.Close() })
	tb.Cleanup(func() { checkTraitCopies(tb, db) })
	w.People = &person.Service{DB: db, Clock: clock, Audit: w.Audit, Counters: w.Accounts.Counters, BaseURL: "https://mutual.test"}
	w.Notify = &notify.Service{DB: db, Clock: clock}
	w.Watch = &watch.Service{DB: db, Clock: clock, Audit: w.Audit}
	w.Alerts = &alert.Service{DB: db, Clock: clock, Audit: w.Audit, Notify: w.Notify, BaseURL: "https://mutual.test"}
	w.Referrals = &referral.Service{DB: db, Clock: clock, BaseURL: "https://mutual.test", WaitingStandard: 28 * 24 * time.Hour,
		Accounts: w.Accounts, Notify: w.Notify, Audit: w.Audit, Watch: w.Watch, Alerts: w.Alerts}
	w.Accounts.Notify = w.Notify
	w.Groups = &groups.Service{DB: db, Clock: clock, Audit: w.Audit, Notify: w.Notify, BaseURL: "https://mutual.test",
		Suppress: stats.Suppressor{Threshold: 5}}
	w.Matching = &matching.Service{DB: db, Clock: clock, Audit: w.Audit, Notify: w.Notify, Referrals: w.Referrals, Accounts: w.Accounts, Suppress: stats.Suppressor{Threshold: 5}}
	w.Referrals.Allocation = w.Matching
	w.Concerns = &Concerns{}
	w.Recovery = &recovery.Service{DB: db, Clock: clock, Audit: w.Audit, Notify: w.Notify, Accounts: w.Accounts, BaseURL: "https://mutual.test",
		RiskCheck:    func(_ context.Context, _ int64, text string) bool { return strings.Contains(text, RiskMarker) },
		RaiseConcern: w.Concerns.raise}
	w.Community = &community.Service{DB: db, Clock: clock, Audit: w.Audit, Watch: w.Watch, Alerts: w.Alerts, Notify: w.Notify, Limits: w.Accounts.Counters, Referrals: w.Referrals}
	w.Support = &support.Service{DB: db, Clock: clock, Audit: w.Audit, Alerts: w.Alerts, Notify: w.Notify, BaseURL: "https://mutual.test", Preferences: SupportPreferences}
	w.Referrals.Followers = []referral.MoveFollower{w.Support}
	w.DataRights = &datarights.Service{DB: db, Clock: clock, Audit: w.Audit, Holders: []person.Holder{w.People, w.Accounts, w.Referrals, groups.NewHolder(db), matching.NewHolder(), alert.Holder{},
		recovery.NewHolder(w.Recovery), support.Holder{}, community.Holder{}}}
	trust, err := w.Accounts.CreateOrganisation(ctx, app.Operator("test"), "Test Trust", account.OrgNHSTrust)
	must(tb, err)
	charity, err := w.Accounts.CreateOrganisation(ctx, app.Operator("test"), "Test Charity", account.OrgPartnerAgency)
	must(tb, err)
	w.TeamA, err = w.Accounts.CreateTeam(ctx, app.Operator("test"), trust.ID, "North Community Team", account.SettingCommunity)
	must(tb, err)
	w.TeamB, err = w.Accounts.CreateTeam(ctx, app.Operator("test"), trust.ID, "Ward 4", account.SettingAcuteWard)
	must(tb, err)
	w.Partner, err = w.Accounts.CreateTeam(ctx, app.Operator("test"), charity.ID, "Charity Outreach", account.SettingPartner)
	must(tb, err)
	teams := map[string]int64{"A": w.TeamA.ID, "B": w.TeamB.ID, "P": w.Partner.ID}
	for _, a := range worldAccounts {
		u, err := w.Accounts.CreateUser(ctx, app.Operator("test"), account.NewUser{Email: a.email, Name: "Test " + a.name,
			Memberships: []app.Membership{{Role: a.role, TeamID: teams[a.team]}}, Password: Password})
		must(tb, err)
		w.Users[a.name] = u
	}
	return w
}

// Principal returns the signed-in caller for a named account.
func (w *World) Principal(tb testing.TB, name string) *app.Principal {
	tb.Helper()
	u, ok := w.Users[name]
	if !ok {
		tb.Fatalf("no account %q", name)
	}
	u, err := w.Accounts.GetUser(context.Background(), u.ID)
	must(tb, err)
	return &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, PersonID: u.PersonID, Memberships: u.Memberships, Via: "test", RequestID: "test"}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// Yes is a pointer to true, for optional booleans.
func Yes() *bool { b := true; return &b }

// StaffReferral makes a referral from a named staff account for a new
// person, with consent given, and returns it.
func (w *World) StaffReferral(tb testing.TB, by, name string) referral.Referral {
	tb.Helper()
	r, err := w.Referrals.CreateReferral(context.Background(), w.Principal(tb, by), referral.NewReferral{
		Person:   person.Details{PreferredName: name, Phone: "07700 900" + phoneSuffix(name)},
		AskedFor: "Someone to talk to who has been there", PersonKnows: Yes(), Consent: "given", NotDuplicate: true, ShareWithReferrer: true,
	})
	must(tb, err)
	return r
}

func phoneSuffix(s string) string {
	n := 0
	for _, c := range s {
		n = (n*31 + int(c)) % 1000
	}
	return string([]byte{'0' + byte(n/100), '0' + byte(n/10%10), '0' + byte(n%10)})
}

// RiskMarker stands in for risk language in this world: the recovery
// service's risk check matches text holding it. (The real matcher is wired
// in cmd/mutual.)
const RiskMarker = "RISK-MARKER"

// Concerns records the concerns raised, for tests.
type Concerns struct {
	mu   sync.Mutex
	list []recovery.Concern
}

func (c *Concerns) raise(_ context.Context, _ *store.Tx, rc recovery.Concern) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, rc)
	return nil
}

// List returns the concerns raised so far.
func (c *Concerns) List() []recovery.Concern {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recovery.Concern(nil), c.list...)
}

// SupportPreferences gives the support capability a person's chosen places
// and times from their matching choices, as cmd/mutual wires it.
var SupportPreferences = support.PreferencesFromChoices(matching.PreferencesOfPeople, func(c matching.Choices) support.Preferences {
	return support.Preferences{Places: c.Places, Days: c.Days, Times: c.Times}
})

// Allocated has a named person or carer account refer themselves to team A,
// accepted by the world's lead and allocated to the named worker, and
// returns the referral.
func (w *World) Allocated(tb testing.TB, account, worker string) referral.Referral {
	tb.Helper()
	ctx := context.Background()
	r, err := w.Referrals.CreateReferral(ctx, w.Principal(tb, account), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: w.TeamA.ID})
	must(tb, err)
	lead := w.Principal(tb, "lead")
	for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: w.Users[worker].ID}} {
		r, err = w.Referrals.Transition(ctx, lead, r.ID, m)
		must(tb, err)
	}
	return r
}

// AddWorker adds a peer worker account in team A (or B) to the world, for
// tests that need a second worker in one team.
func (w *World) AddWorker(tb testing.TB, name, team string) *app.Principal {
	tb.Helper()
	teamID := w.TeamA.ID
	if team == "B" {
		teamID = w.TeamB.ID
	}
	u, err := w.Accounts.CreateUser(context.Background(), app.Operator("test"), account.NewUser{Email: name + "@test.example", Name: "Test " + name,
		Memberships: []app.Membership{{Role: app.RolePeerWorker, TeamID: teamID}}, Password: Password})
	must(tb, err)
	w.Users[name] = u
	return w.Principal(tb, name)
}

// checkTraitCopies fails the test if, at its end, any referral's copies of
// its person's characteristics differ from the person's own: whatever the
// test did, the database's triggers should have kept them in step.
func checkTraitCopies(tb testing.TB, db *store.DB) {
	if n := StaleTraitCopies(tb, db); n > 0 {
		tb.Errorf("%d referrals hold characteristics their person does not have (migration 0061's triggers)", n)
	}
}

// StaleTraitCopies counts the referrals whose copies of their person's
// characteristics (migration 0061: the waiting view counts by them) differ
// from the person's own.
func StaleTraitCopies(tb testing.TB, db *store.DB) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM referrals r JOIN people p ON p.id = r.person_id
		WHERE r.person_ethnicity <> p.ethnicity OR r.person_gender <> p.gender
		OR COALESCE(r.person_birth_year, -1) <> COALESCE(p.birth_year, -1)`).Scan(&n); err != nil {
		tb.Errorf("checking the referrals' copies of their people's characteristics: %v", err)
	}
	return n
}

// Column runs a query selecting one column and answers its values in the
// query's order; a failure fails the test.
func Column[T any](tb testing.TB, db *store.DB, query string, args ...any) []T {
	tb.Helper()
	rows, err := db.Query(context.Background(), query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var s T
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
