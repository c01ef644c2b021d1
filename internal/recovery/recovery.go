// Package recovery is recovery and voice: the plan a person holds (what
// matters to them, their crisis and support plan and advance choices, how
// often their reviews happen and who comes), their goals in their own words,
// DIALOG+ ratings and the conversations about them, reviews, feedback that
// is tracked to a visible answer ("you said, we did"), and the outcomes
// services report from them, small numbers suppressed.
//
// Who may see what is decided here, once: the person sees all of their
// own; staff who may see the person (access.MaySeePerson) see the rest, but
// the crisis and support plan and the advance choices only when the person
// has agreed to share them with their care team. Feedback is seen by the
// peer leads of its team and the service managers; feedback about a named
// worker reaches that worker only when a lead shares it, and the giver's
// details never reach them.
package recovery

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Service is the recovery and voice capability.
type Service struct {
	DB       *store.DB
	Clock    app.Clock
	Audit    *audit.Log
	Notify   *notify.Service
	Accounts *account.Service
	BaseURL  string
	// DefaultReviewWeeks is how often reviews happen when the person has
	// not chosen (12 when zero).
	DefaultReviewWeeks int
	// AckWorkingDays and AnswerWorkingDays are the targets for
	// acknowledging and answering feedback, in working days (5 and 20 when
	// zero).
	AckWorkingDays    int
	AnswerWorkingDays int
	// Suppress hides small counts in outcomes and on the public "you said,
	// we did" pages (Threshold 5 when zero).
	Suppress stats.Suppressor
	// RiskCheck reports whether text someone wrote about how they are holds
	// risk language, for the organisation it was written in (0 when not
	// known). When it does, the writer is shown how to get help now. Nil
	// matches nothing. (Wired to the risk-language matcher in cmd/mutual.)
	RiskCheck func(ctx context.Context, orgID int64, text string) bool
	// RaiseConcern is called, inside the transaction that stores it, when a
	// person's own words match RiskCheck, so that their worker or lead can
	// be alerted. Nil raises nothing. An error rolls the write back.
	RaiseConcern func(ctx context.Context, tx *store.Tx, c Concern) error
	// FeedbackReferences makes the reference of each piece of feedback
	// (nil: random ones); tests set it to force a clash.
	FeedbackReferences func() string
}

// Concern is risk language found in something a person wrote.
type Concern struct {
	PersonID int64  // 0 for anonymous feedback
	TeamID   int64  // the team supporting the person, or the feedback's team; 0 when none
	Source   string // "plan", "goal", "dialog" or "feedback"
	ObjectID int64  // the goal, DIALOG+ session or feedback; the person for a plan
	At       time.Time
	Actor    app.Actor // who wrote it, for the audit trail
}

// Signposting is how to get help now, sent with an answer when what was
// written sounded like someone may be in distress.
type Signposting struct {
	Message string   `json:"message"`
	Numbers []string `json:"numbers"`
	Link    string   `json:"link"`
}

// HelpNow is the signposting every such answer carries.
var HelpNow = Signposting{
	Message: "What you wrote sounds like things may be hard right now. You do not have to wait for peer support: you can talk to someone now, day or night.",
	Numbers: []string{"999 if your life or someone else's is at risk now", "NHS 111, option 2, for urgent mental health help",
		"Samaritans on 116 123", "Text SHOUT to 85258"},
	Link: "/help",
}

func (s *Service) reviewWeeks() int {
	if s.DefaultReviewWeeks > 0 {
		return s.DefaultReviewWeeks
	}
	return 12
}

// AcknowledgeDays is the target for acknowledging feedback, in working
// days, as pages promise it.
func (s *Service) AcknowledgeDays() int { return s.ackDays() }

func (s *Service) ackDays() int {
	if s.AckWorkingDays > 0 {
		return s.AckWorkingDays
	}
	return 5
}

func (s *Service) answerDays() int {
	if s.AnswerWorkingDays > 0 {
		return s.AnswerWorkingDays
	}
	return 20
}

func (s *Service) suppressor() stats.Suppressor {
	if s.Suppress.Threshold > 0 {
		return s.Suppress
	}
	return stats.Suppressor{Threshold: 5}
}

// risky reports whether any of texts holds risk language.
func (s *Service) risky(ctx context.Context, orgID int64, texts ...string) bool {
	if s.RiskCheck == nil {
		return false
	}
	for _, t := range texts {
		if strings.TrimSpace(t) != "" && s.RiskCheck(ctx, orgID, t) {
			return true
		}
	}
	return false
}

func (s *Service) raise(ctx context.Context, tx *store.Tx, c Concern) error {
	if s.RaiseConcern == nil {
		return nil
	}
	return s.RaiseConcern(ctx, tx, c)
}

// viewer is how a caller stands to one person's recovery data.
type viewer struct {
	self  bool // the person themselves
	staff bool // staff who may see the person
}

// private reports whether the viewer may see the crisis plan and advance
// choices, given whether the person shares them with the care team.
func (v viewer) private(shared bool) bool { return v.self || (v.staff && shared) }

// viewerOf decides, inside tx, how the caller may see a person's recovery
// data: as the person, as staff who may see them, or not at all
// (access.ErrNotVisible, answered as not found).
func viewerOf(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) (viewer, error) {
	if p == nil || personID <= 0 {
		return viewer{}, access.ErrNotVisible
	}
	if p.PersonID == personID && p.HasRole(app.RolePerson, app.RoleCarer) {
		return viewer{self: true}, nil
	}
	if !p.Can(app.PermRecoveryWork) {
		return viewer{}, access.ErrNotVisible
	}
	if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
		return viewer{}, err
	}
	return viewer{staff: true}, nil
}

// actor is the caller as the audit trail names them for v.
func actor(p *app.Principal, v viewer) app.Actor {
	if v.self {
		return p.ActorFor(app.PermRecoveryPlan)
	}
	return p.ActorFor(app.PermRecoveryWork)
}

// denied turns a not-visible error into an audited not found.
func (s *Service) denied(ctx context.Context, err error, p *app.Principal, perm app.Permission, action, objectType string, id int64, what string) error {
	return access.Denied(ctx, s.Audit, p, perm, action, objectType, id, what, err)
}

// inScope is the condition that the person in column col is one the
// caller may see. The loaders below run after viewerOf has decided, and
// carry it anyway, so none of them can be used for someone out of scope.
func inScope(p *app.Principal, a *store.Args, col string) string {
	return "EXISTS (SELECT 1 FROM people pe WHERE pe.id = " + col + " AND " + access.People(p, a) + ")"
}

// teamOf is the team supporting a person now: their open referral's team,
// or else their most recent referral's, or 0.
func teamOf(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) (int64, error) {
	var team sql.NullInt64
	a := store.NewArgs(personID)
	err := tx.QueryRowContext(ctx, `SELECT r.team_id FROM referrals r WHERE r.person_id = $1 AND r.team_id IS NOT NULL AND `+inScope(p, a, "r.person_id")+`
		ORDER BY CASE WHEN r.status IN ('received', 'accepted', 'allocated', 'active') THEN 0 ELSE 1 END, r.received_at DESC, r.id DESC LIMIT 1`,
		a.Values()...).Scan(&team)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return team.Int64, err
}

// orgOf is the organisation a team belongs to, or 0.
func orgOf(ctx context.Context, tx *store.Tx, teamID int64) (int64, error) {
	if teamID == 0 {
		return 0, nil
	}
	var org int64
	err := tx.QueryRowContext(ctx, "SELECT organisation_id FROM teams WHERE id = $1", teamID).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return org, err
}

// hasAccount reports whether the person can sign in to Mutual themselves.
func hasAccount(ctx context.Context, tx *store.Tx, personID int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE person_id = $1 AND status = 'active'", personID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// userName is an account's name, or "".
func userName(ctx context.Context, tx *store.Tx, id int64) (string, error) {
	if id == 0 {
		return "", nil
	}
	var name string
	err := tx.QueryRowContext(ctx, "SELECT name FROM users WHERE id = $1", id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// checkText trims a text field and checks its length in characters.
func checkText(p *app.Problems, field string, v *string, maxLen int, label string) {
	*v = strings.TrimSpace(*v)
	if utf8.RuneCountInString(*v) > maxLen {
		p.Add(field, label+" must be "+strconv.Itoa(maxLen)+" characters or fewer")
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// firstName is the first word of a name.
func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}

// personName is what the person likes to be called, read within the
// caller's scope.
func personName(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) (string, error) {
	pe, err := person.Visible(ctx, tx, p, personID)
	if err != nil {
		return "", err
	}
	return pe.PreferredName, nil
}

// notVisible answers a record that is not there as one the caller may not
// see: the two are the same to them.
func notVisible(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return access.ErrNotVisible
	}
	return err
}

// anyTime scans a timestamp that SQLite may give back as text
// (store.AnyTime).
type anyTime = store.AnyTime
