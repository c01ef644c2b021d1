// Package alert raises alerts that stay until someone records what they
// did, and escalates those nobody has answered in time. The first kind is
// possible risk in what someone wrote at the door in (package watch finds
// it); lone-working visits not checked out will be the next.
//
// An alert belongs to a team. Its duty leads are the team's peer leads, who
// are told at once in Mutual and by email (a reference and a link, never
// what was written); an alert with no team yet (a self-referral that did
// not name a service) goes to every peer lead, as unassigned referrals do.
// It is due after the organisation's time to respond, counted in its
// working hours (4 working hours, Monday to Friday 09:00–17:00 Europe/London
// unless the organisation sets others). When it is due and nobody has
// recorded what they did, the escalation job tells the service managers. A
// team with no active peer lead has nobody to tell, so its alert escalates
// at once.
package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/memo"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// Kind is what an alert is about.
type Kind string

// Kinds of alert.
const (
	// PossibleRisk: words written at the door matched watched risk language.
	PossibleRisk Kind = "possible_risk"
	// LoneWorking: a worker's home or community visit was not checked out
	// by its expected end and the grace period (package support raises it).
	LoneWorking Kind = "lone_working"
)

var kindLabels = map[Kind]string{PossibleRisk: "Possible risk", LoneWorking: "Lone worker not checked out"}

// LoneWorkingOutcomes are what a duty lead can record about a lone worker
// not checked out.
var LoneWorkingOutcomes = []app.Choice{
	{Code: "worker_safe", Label: "Contacted the worker: they are safe"},
	{Code: "checked_out_late", Label: "The worker checked out late: they are safe"},
	{Code: "emergency", Label: "Could not reach them: called 999 or the police"},
	{Code: "other", Label: "Something else"},
}

// Label is the kind in words.
func (k Kind) Label() string { return kindLabels[k] }

// About is what an alert of the kind is about, for messages before its
// reference: "the possible-risk alert for referral".
func (k Kind) About() string {
	if k == LoneWorking {
		return "the lone-working alert for visit"
	}
	return "the possible-risk alert for referral"
}

// RiskOutcomes are what a duty lead can record about a possible-risk alert.
var RiskOutcomes = []app.Choice{
	{Code: "called_person", Label: "Contacted the person"},
	{Code: "crisis_team", Label: "Passed to the crisis team"},
	{Code: "emergency", Label: "Called 999 or asked for a welfare check"},
	{Code: "no_risk", Label: "Looked at it: no risk found"},
	{Code: "other", Label: "Something else"},
}

// Outcomes lists what can be recorded about an alert of a kind.
func Outcomes(k Kind) []app.Choice {
	switch k {
	case PossibleRisk:
		return RiskOutcomes
	case LoneWorking:
		return LoneWorkingOutcomes
	}
	return nil
}

// OutcomeLabel is an outcome code in words.
func OutcomeLabel(k Kind, code string) string { return app.ChoiceLabel(Outcomes(k), code) }

// Alert is one alert, as the people who respond to it see it: a reference
// and codes, never what was written.
type Alert struct {
	ID         int64      `json:"id"`
	Kind       Kind       `json:"kind"`
	TeamID     int64      `json:"team_id,omitempty"`
	TeamName   string     `json:"team_name,omitempty"`
	ReferralID int64      `json:"referral_id,omitempty"`
	PersonID   int64      `json:"-"`
	Reference  string     `json:"reference"`
	Detail     []string   `json:"detail" doc:"Why the alert was raised, as codes: for possible risk, the categories of words found (suicide, self_harm, means, distress)."`
	RaisedAt   time.Time  `json:"raised_at"`
	DueAt      time.Time  `json:"due_at"`
	Escalated  *time.Time `json:"escalated_at,omitempty"`
	Resolved   *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	Outcome    string     `json:"outcome,omitempty"`
	Note       string     `json:"note,omitempty"`
	Version    int        `json:"version"`
	// Link is where the duty lead responds (a referral, a visit).
	Link string `json:"link,omitempty"`
	// Overdue: due, and nobody has recorded a response.
	Overdue bool `json:"overdue"`
}

// OutcomeLabel is the recorded outcome in words.
func (a Alert) OutcomeLabel() string { return OutcomeLabel(a.Kind, a.Outcome) }

// Service raises, lists, resolves and escalates alerts.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	// Audit records reads of alerts.
	Audit *audit.Log
	// Notify tells the duty leads and the service managers.
	Notify *notify.Service
	// BaseURL is used in links in email.
	BaseURL string

	// counts are each account's home-page figures, reused for countsTTL;
	// this instance forgets them all when it commits a change to an alert
	// (alerts are few), and other instances catch up within countsTTL, as
	// notifications do.
	counts memo.Map[int64, Counts]
}

// countsTTL is how long an account's alert figures are reused.
const countsTTL = 10 * time.Second

// changed forgets every account's figures when tx commits.
func (s *Service) changed(tx *store.Tx) { tx.AfterCommit(s.counts.Clear) }

const alertColumns = `a.id, a.kind, COALESCE(a.team_id, 0), COALESCE(t.name, ''), COALESCE(a.referral_id, 0), COALESCE(a.person_id, 0),
	a.reference, a.detail, a.raised_at, a.due_at, a.escalated_at, a.resolved_at, COALESCE(ru.name, ''), a.outcome, a.note, a.version, a.link`

const alertFrom = ` FROM alerts a LEFT JOIN teams t ON t.id = a.team_id LEFT JOIN users ru ON ru.id = a.resolved_by_user_id`

func scanAlert(row interface{ Scan(...any) error }, now time.Time) (Alert, error) {
	var a Alert
	var detail string
	var esc, res sql.NullTime
	err := row.Scan(&a.ID, &a.Kind, &a.TeamID, &a.TeamName, &a.ReferralID, &a.PersonID, &a.Reference, &detail, &a.RaisedAt, &a.DueAt,
		&esc, &res, &a.ResolvedBy, &a.Outcome, &a.Note, &a.Version, &a.Link)
	if err != nil {
		return a, err
	}
	a.RaisedAt, a.DueAt = a.RaisedAt.UTC(), a.DueAt.UTC()
	a.Detail = []string{}
	if detail != "" {
		a.Detail = strings.Split(detail, ",")
	}
	if esc.Valid {
		t := esc.Time.UTC()
		a.Escalated = &t
	}
	if res.Valid {
		t := res.Time.UTC()
		a.Resolved = &t
	}
	a.Overdue = a.Resolved == nil && !now.Before(a.DueAt)
	return a, nil
}

// New is an alert to raise.
type New struct {
	Kind       Kind
	TeamID     int64 // 0: not yet given a team; every peer lead responds
	ReferralID int64
	PersonID   int64
	Reference  string   // what the alert is about, safe to email
	Detail     []string // codes, never words written by anyone
	Link       string   // the path where the duty lead responds, e.g. /referrals/42
}

// Raise raises an alert inside the caller's transaction, so it exists
// exactly when what caused it does, and tells the duty leads in Mutual and
// by email in the same transaction. A referral that already has an open
// alert of the kind keeps that one (answered with joined true), and nobody
// is told twice.
func (s *Service) Raise(ctx context.Context, tx *store.Tx, now time.Time, actor app.Actor, n New) (a Alert, joined bool, err error) {
	if kindLabels[n.Kind] == "" {
		return a, false, fmt.Errorf("alert: unknown kind %q", n.Kind)
	}
	var orgID int64
	if n.TeamID != 0 {
		if err := tx.QueryRowContext(ctx, "SELECT organisation_id FROM teams WHERE id = $1", n.TeamID).Scan(&orgID); err != nil {
			return a, false, fmt.Errorf("alert: the team: %w", err)
		}
	}
	set, hours, err := settingsFor(ctx, tx, orgID)
	if err != nil {
		return a, false, err
	}
	leads, err := dutyLeads(ctx, tx, n.TeamID)
	if err != nil {
		return a, false, err
	}
	due := hours.Add(now, time.Duration(set.RespondMinutes)*time.Minute)
	if len(leads) == 0 {
		due = now // nobody to respond: escalate at once
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO alerts (kind, organisation_id, team_id, referral_id, person_id, reference, detail,
		raised_at, raised_by_user_id, due_at, link) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (kind, referral_id) WHERE resolved_at IS NULL DO NOTHING RETURNING id`,
		string(n.Kind), nullID(orgID), nullID(n.TeamID), nullID(n.ReferralID), nullID(n.PersonID), n.Reference,
		strings.Join(n.Detail, ","), now, nullID(actor.UserID), due, n.Link).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		a, err := scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+alertFrom+
			" WHERE a.kind = $1 AND a.referral_id = $2 AND a.resolved_at IS NULL", string(n.Kind), n.ReferralID), now)
		return a, true, err
	}
	if err != nil {
		return a, false, err
	}
	s.changed(tx)
	if err := audit.Record(ctx, tx, now, actor, audit.Event{Action: "alert.raise", SubjectPersonID: n.PersonID,
		ObjectType: "alert", ObjectID: fmt.Sprint(id)}); err != nil {
		return a, false, err
	}
	dueText := due.In(app.London).Format("3:04pm on Monday 2 January")
	for _, l := range leads {
		var note notify.Note = notify.RiskAlert{Reference: n.Reference, Due: dueText}
		var email notify.Email = notify.RiskAlertEmail{Reference: n.Reference, Link: s.BaseURL + n.Link}
		if n.Kind == LoneWorking {
			note = notify.LoneWorkerAlert{Reference: n.Reference, Due: dueText}
			email = notify.LoneWorkerAlertEmail{Reference: n.Reference, Link: s.BaseURL + n.Link}
		}
		if err := s.Notify.Tell(ctx, tx, l.id, n.ReferralID, note); err != nil {
			return a, false, err
		}
		if err := notify.SendEmail(ctx, tx, now, l.email, email); err != nil {
			return a, false, err
		}
		// The lead is told about the person: it is in their record access.
		if err := audit.Record(ctx, tx, now, app.Actor{UserID: l.id, Role: app.RolePeerLead, RequestID: actor.RequestID}, audit.Event{
			Action: "notification.receive", SubjectPersonID: n.PersonID, ObjectType: "alert", ObjectID: fmt.Sprint(id)}); err != nil {
			return a, false, err
		}
	}
	if len(leads) == 0 {
		if _, err := s.escalateOne(ctx, tx, id, now); err != nil {
			return a, false, err
		}
	}
	a, err = scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE a.id = $1", id), now)
	return a, false, err
}

type recipient struct {
	id    int64
	email string
}

// dutyLeads are the active peer leads of the team, or of every team for an
// alert with none.
func dutyLeads(ctx context.Context, tx *store.Tx, teamID int64) ([]recipient, error) {
	a := store.NewArgs(app.RolePeerLead)
	cond := "m.team_id IS NOT NULL"
	if teamID != 0 {
		cond = "m.team_id = " + a.Add(teamID)
	}
	return recipients(ctx, tx, `SELECT DISTINCT u.id, u.email FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE u.status = 'active' AND m.role = $1 AND `+cond+` ORDER BY u.id`, a.Values()...)
}

// managers are the active service managers.
func managers(ctx context.Context, tx *store.Tx) ([]recipient, error) {
	return recipients(ctx, tx, `SELECT DISTINCT u.id, u.email FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE u.status = 'active' AND m.role = $1 ORDER BY u.id`, app.RoleServiceManager)
}

func recipients(ctx context.Context, tx *store.Tx, q string, args ...any) ([]recipient, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []recipient
	for rows.Next() {
		var r recipient
		if err := rows.Scan(&r.id, &r.email); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MayRespond is the one rule for who may record what was done about an
// alert: a peer lead of its team, or any peer lead for an alert with no
// team yet.
func MayRespond(p *app.Principal, a Alert) bool {
	return p.Can(app.PermAlertRespond) && access.LeadsTeam(p, a.TeamID)
}

// visible is the condition on alias a for the alerts the caller may see: a
// peer lead, those of the teams they lead and those with no team; a
// service manager, the escalated ones.
func visible(p *app.Principal, args *store.Args) string {
	var parts []string
	if p.Can(app.PermAlertRead) {
		if teams := p.TeamsAs(app.RolePeerLead); len(teams) > 0 {
			parts = append(parts, "a.team_id IN "+store.In(args, teams...), "a.team_id IS NULL")
		}
		if p.HasRole(app.RoleServiceManager) {
			parts = append(parts, "a.escalated_at IS NOT NULL")
		}
	}
	if len(parts) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// Filter narrows a list of alerts.
type Filter struct {
	// Resolved lists those with a response, newest first, instead of those
	// waiting for one, soonest due first.
	Resolved bool
	// Since bounds the resolved ones listed (zero: the last 14 days).
	Since time.Time
	Limit int
}

// List returns the alerts the caller may see: open ones (those due first),
// or with Resolved, those answered recently. Reading them is audited as one
// access naming everyone they are about.
func (s *Service) List(ctx context.Context, p *app.Principal, f Filter) ([]Alert, error) {
	now := s.Clock.Now()
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 100
	}
	a := &store.Args{}
	cond := "a.resolved_at IS NULL"
	order := "a.due_at, a.id"
	if f.Resolved {
		since := f.Since
		if since.IsZero() {
			since = now.AddDate(0, 0, -14)
		}
		cond = "a.resolved_at IS NOT NULL AND a.resolved_at >= " + a.Add(since)
		order = "a.resolved_at DESC, a.id DESC"
	}
	out := []Alert{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE "+cond+" AND "+visible(p, a)+
			fmt.Sprintf(" ORDER BY %s LIMIT %d", order, f.Limit), a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var people []int64
		for rows.Next() {
			al, err := scanAlert(rows, now)
			if err != nil {
				return err
			}
			out = append(out, al)
			if al.PersonID != 0 && !slices.Contains(people, al.PersonID) {
				people = append(people, al.PersonID)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		record(p.ActorFor(app.PermAlertRead), audit.Event{Action: "alert.list", Subjects: people,
			ObjectType: "alerts", ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// Counts are the alerts on a home page.
type Counts struct {
	Open        int `json:"open" doc:"Alerts you may respond to that wait for a response."`
	LoneWorking int `json:"lone_working" doc:"Of those, lone workers not checked out of a visit."`
	Overdue     int `json:"overdue" doc:"Of those, the ones past their time to respond."`
	Escalated   int `json:"escalated" doc:"Escalated alerts still waiting for a response (service managers)."`
}

// CountsFor counts, for the home page, the open alerts the caller may
// see, those overdue, and the escalated ones. No one's data is shown, so
// it is not audited.
func (s *Service) CountsFor(ctx context.Context, p *app.Principal) (Counts, error) {
	if c, ok := s.counts.Get(p.UserID, countsTTL); ok {
		return c, nil
	}
	var c Counts
	a := store.NewArgs(s.Clock.Now())
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN a.due_at <= $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN a.escalated_at IS NOT NULL THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN a.kind = 'lone_working' THEN 1 ELSE 0 END), 0)
		FROM alerts a WHERE a.resolved_at IS NULL AND `+visible(p, a), a.Values()...).Scan(&c.Open, &c.Overdue, &c.Escalated, &c.LoneWorking)
	if err == nil {
		s.counts.Put(p.UserID, c)
	}
	return c, err
}

// ForReferral lists a referral's alerts, newest first, inside tx. Call it
// only for a referral the caller was checked to see in the same
// transaction.
func ForReferral(ctx context.Context, tx *store.Tx, referralID int64, now time.Time) ([]Alert, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE a.referral_id = $1 ORDER BY a.raised_at DESC, a.id DESC", referralID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		a, err := scanAlert(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ForLink is the newest alert the caller may see whose response is at link
// (a visit's page), or nil, read inside tx: the page of the one thing it
// is about shows its own alert, read with that page (and audited there),
// never through the list of every alert.
func ForLink(ctx context.Context, tx *store.Tx, p *app.Principal, link string, now time.Time) (*Alert, error) {
	args := store.NewArgs(link)
	a, err := scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE a.link = $1 AND "+visible(p, args)+
		" ORDER BY a.raised_at DESC, a.id DESC LIMIT 1", args.Values()...), now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// MoveToTeam gives a referral's open alerts to the team its referral was
// accepted into, inside the caller's transaction: that team's leads now
// respond to them.
func MoveToTeam(ctx context.Context, tx *store.Tx, referralID, teamID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE alerts SET team_id = $1, organisation_id = (SELECT organisation_id FROM teams WHERE id = $1),
		version = version + 1 WHERE referral_id = $2 AND resolved_at IS NULL AND (team_id IS NULL OR team_id <> $1)`, teamID, referralID)
	return err
}

// Response is what a duty lead records about an alert.
type Response struct {
	Outcome string `json:"outcome" required:"true" doc:"For possible risk: called_person, crisis_team, emergency, no_risk or other."`
	Note    string `json:"note,omitempty" doc:"What happened. Needed when the outcome is other."`
	Version int    `json:"version,omitempty" doc:"The version you last saw; if someone has responded since, the answer is 409."`
}

// Resolve records what a duty lead did about an alert. Someone who may not
// respond to it is answered as if it did not exist (audited as denied); an
// alert someone has already answered is a conflict naming who and when. Two
// leads answering at once: one is recorded, the other told.
func (s *Service) Resolve(ctx context.Context, p *app.Principal, id int64, r Response) (Alert, error) {
	now := s.Clock.Now()
	r.Outcome = strings.TrimSpace(r.Outcome)
	r.Note = strings.TrimSpace(r.Note)
	var out Alert
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// Lock the alert first (PostgreSQL will not lock the outer-joined
		// rows the full read brings), then read it.
		var locked int64
		err := tx.QueryRowContext(ctx, "SELECT a.id FROM alerts a WHERE a.id = $1"+tx.Dialect.ForUpdate(), id).Scan(&locked)
		var a Alert
		if err == nil {
			a, err = scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE a.id = $1", id), now)
		}
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !MayRespond(p, a)) {
			return access.ErrNotVisible
		}
		if err != nil {
			return err
		}
		var problems app.Problems
		if !app.HasChoice(Outcomes(a.Kind), r.Outcome) {
			problems.Add("outcome", "Choose what you did")
		}
		if r.Outcome == "other" && r.Note == "" {
			problems.Add("note", "Say what you did")
		}
		problems.CheckLen("note", r.Note, 2000, "The note")
		if err := problems.Err(); err != nil {
			return err
		}
		if a.Resolved != nil || (r.Version != 0 && r.Version != a.Version) {
			who := a.ResolvedBy
			if who == "" {
				who = "Someone"
			}
			if a.Resolved == nil {
				return app.Errorf(app.CodeConflict, "This alert has changed since you opened it. Check it and try again.")
			}
			return app.Errorf(app.CodeConflict, "%s already recorded a response at %s: %s.", who,
				a.Resolved.In(app.London).Format("3:04pm on 2 January"), strings.ToLower(a.OutcomeLabel()))
		}
		res, err := tx.ExecContext(ctx, `UPDATE alerts SET resolved_at = $1, resolved_by_user_id = $2, outcome = $3, note = $4, version = version + 1
			WHERE id = $5 AND resolved_at IS NULL AND version = $6`, now, p.UserID, r.Outcome, r.Note, id, a.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "Someone else responded to this alert at the same moment. Check it and try again.")
		}
		s.changed(tx)
		if a.Escalated != nil {
			ms, err := managers(ctx, tx)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if err := s.Notify.Tell(ctx, tx, m.id, 0, notify.AlertResolved{About: a.Kind.About(), Reference: a.Reference, Outcome: OutcomeLabel(a.Kind, r.Outcome)}); err != nil {
					return err
				}
			}
		}
		if err := audit.Record(ctx, tx, now, p.ActorFor(app.PermAlertRespond), audit.Event{Action: "alert.resolve",
			SubjectPersonID: a.PersonID, ObjectType: "alert", ObjectID: fmt.Sprint(id)}); err != nil {
			return err
		}
		out, err = scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+alertFrom+" WHERE a.id = $1", id), now)
		return err
	})
	if err != nil {
		return Alert{}, access.Denied(ctx, s.Audit, p, app.PermAlertRespond, "alert.resolve", "alert", id, "The alert", err)
	}
	return out, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Totals counts every open alert, those overdue and those escalated,
// across every team, for a service manager's home page: numbers only.
func (s *Service) Totals(ctx context.Context, p *app.Principal) (Counts, error) {
	var c Counts
	if !p.Can(app.PermAlertRead) || !p.HasRole(app.RoleServiceManager) {
		return c, app.Errorf(app.CodeForbidden, "Only service managers see the numbers of alerts across every team")
	}
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at <= $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM alerts WHERE resolved_at IS NULL`, s.Clock.Now()).
		Scan(&c.Open, &c.Overdue, &c.Escalated)
	return c, err
}
