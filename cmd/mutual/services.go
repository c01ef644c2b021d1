package main

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/datarights"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/insight"
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

// services are the capability services over one database, built once.
type services struct {
	// Audit commits audited reads together; Close it after the last
	// request.
	Audit     *audit.Log
	Counters  *ratelimit.Counters
	Accounts  *account.Service
	People    *person.Service
	Notify    *notify.Service
	Referrals *referral.Service
	Insight   *insight.Service
	// Caseloads imports the trust's caseloads and keeps the roll-up that
	// insight reads.
	Caseloads *caseload.Service
	Groups    *groups.Service
	// DataRights makes people's copies of their data and runs retention,
	// given every capability that holds people's data.
	DataRights *datarights.Service
	// Matching is also the referral service's allocation rules.
	Matching *matching.Service
	Watch    *watch.Service
	Alerts   *alert.Service
	Recovery *recovery.Service
	// Community is the moderated peer space.
	Community *community.Service
	Support   *support.Service
}

// newServices builds the capability services from the configuration.
func newServices(cfg *Config, db *store.DB, clock app.Clock) *services {
	s := &services{Audit: audit.NewLog(db, clock, audit.LogOptions{}), Counters: &ratelimit.Counters{DB: db, Clock: clock}}
	s.Audit.Start()
	s.Accounts = &account.Service{DB: db, Clock: clock, Hasher: account.NewHasher(), Counters: s.Counters, BaseURL: cfg.BaseURL,
		RequireMFA: cfg.RequireMFA, StaffIdle: 30 * time.Minute, StaffAbsolute: 12 * time.Hour,
		PublicIdle: 24 * time.Hour, PublicAbsolute: 14 * 24 * time.Hour, SessionRecheck: cfg.SessionRecheck}
	standard := time.Duration(cfg.WaitingDays) * 24 * time.Hour
	s.People = &person.Service{DB: db, Clock: clock, Audit: s.Audit, Counters: s.Counters, BaseURL: cfg.BaseURL}
	s.Notify = &notify.Service{DB: db, Clock: clock}
	s.Accounts.Notify = s.Notify
	s.Watch = &watch.Service{DB: db, Clock: clock, Audit: s.Audit}
	s.Alerts = &alert.Service{DB: db, Clock: clock, Audit: s.Audit, Notify: s.Notify, BaseURL: cfg.BaseURL}
	s.Referrals = &referral.Service{DB: db, Clock: clock, BaseURL: cfg.BaseURL, WaitingStandard: standard, Accounts: s.Accounts, Notify: s.Notify,
		Audit: s.Audit,
		Watch: s.Watch, Alerts: s.Alerts}
	s.Insight = &insight.Service{DB: db, Clock: clock, Suppress: stats.Suppressor{Threshold: cfg.SuppressBelow}, WaitingStandard: standard,
		Audit: s.Audit}
	// Referral owns the caseload flags on referrals and offers; the
	// caseload import has them refreshed in its own transaction.
	s.Caseloads = &caseload.Service{DB: db, Clock: clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}
	s.Groups = &groups.Service{DB: db, Clock: clock, Audit: s.Audit, Notify: s.Notify, BaseURL: cfg.BaseURL,
		Suppress: stats.Suppressor{Threshold: cfg.SuppressBelow}}
	s.Matching = &matching.Service{DB: db, Clock: clock, Audit: s.Audit, Notify: s.Notify, Referrals: s.Referrals, Accounts: s.Accounts, Suppress: stats.Suppressor{Threshold: cfg.SuppressBelow}}
	s.Referrals.Allocation = s.Matching
	s.Recovery = &recovery.Service{DB: db, Clock: clock, Audit: s.Audit, Notify: s.Notify, Accounts: s.Accounts, BaseURL: cfg.BaseURL,
		Suppress: stats.Suppressor{Threshold: cfg.SuppressBelow}, DefaultReviewWeeks: cfg.ReviewWeeks, AckWorkingDays: cfg.AckDays,
		AnswerWorkingDays: cfg.AnswerDays,
		// What people write about how they are is checked against their
		// organisation's watched words; a match alerts their team's leads.
		RiskCheck: func(ctx context.Context, orgID int64, text string) bool {
			r, err := s.Watch.Check(ctx, orgID, text)
			return err == nil && r.Signpost()
		},
		RaiseConcern: recovery.AlertConcerns(s.Alerts)}
	s.Community = &community.Service{DB: db, Clock: clock, Audit: s.Audit, Watch: s.Watch, Alerts: s.Alerts, Notify: s.Notify, Limits: s.Counters, Referrals: s.Referrals}
	// Where and when people chose to meet comes from their matching
	// choices.
	s.Support = &support.Service{DB: db, Clock: clock, Audit: s.Audit, Alerts: s.Alerts, Notify: s.Notify, BaseURL: cfg.BaseURL,
		Preferences: support.PreferencesFromChoices(matching.PreferencesOfPeople, func(c matching.Choices) support.Preferences {
			return support.Preferences{Places: c.Places, Days: c.Days, Times: c.Times}
		})}
	// A closed or reallocated referral's appointments follow it, in the
	// move's own transaction.
	s.Referrals.Followers = []referral.MoveFollower{s.Support}
	// Every holder of people's data, the people capability first (see
	// datarights.Service.Holders).
	s.DataRights = &datarights.Service{DB: db, Clock: clock, Audit: s.Audit, RetentionYears: cfg.RetentionYears,
		Holders: []person.Holder{s.People, s.Accounts, s.Referrals, groups.NewHolder(db), matching.NewHolder(), alert.Holder{},
			recovery.NewHolder(s.Recovery), support.Holder{}, community.Holder{}}}
	return s
}

// Close commits every audit row the services acknowledged.
func (s *services) Close() error { return s.Audit.Close() }
