package recovery

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// NewFeedback is feedback given by anyone, with or without an account.
type NewFeedback struct {
	About         About  `json:"about" required:"true" doc:"worker, group or service."`
	AboutName     string `json:"about_name,omitempty" doc:"The worker or group, as you know them."`
	AboutWorkerID int64  `json:"about_worker_id,omitempty" doc:"Signed in: one of your own peer support workers (see your referrals)."`
	TeamID        int64  `json:"team_id,omitempty" doc:"The team or service it is about, if you know."`
	Body          string `json:"body" required:"true" doc:"What you would like to tell us."`
	MayQuote      bool   `json:"may_quote,omitempty" doc:"Your words may be quoted, without your name, on the public \"You said, we did\" page."`
	Anonymous     bool   `json:"anonymous,omitempty" doc:"Give it without saying who you are: nothing links it to you, even when signed in."`
	Name          string `json:"name,omitempty"`
	Email         string `json:"email,omitempty"`
	Phone         string `json:"phone,omitempty"`
	ContactOK     bool   `json:"contact_ok,omitempty" doc:"We may contact you about this feedback."`
	Website       string `json:"website,omitempty" doc:"Leave this empty."`
}

// FeedbackReceipt is the answer to giving feedback.
type FeedbackReceipt struct {
	ID        int64        `json:"-"`
	Reference string       `json:"reference"`
	Token     string       `json:"-"`
	Signpost  *Signposting `json:"signpost,omitempty" doc:"Present when what was written sounded like the person may be in distress: how to get help now."`
}

// Giver is who gave feedback: seen only by peer leads and service managers.
type Giver struct {
	Anonymous  bool   `json:"anonymous"`
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	ContactOK  bool   `json:"contact_ok"`
	HasAccount bool   `json:"has_account"`
	PersonID   int64  `json:"person_id,omitempty"`
}

// FeedbackEvent is one step in feedback's history.
type FeedbackEvent struct {
	At   time.Time      `json:"at"`
	By   string         `json:"by"`
	Role string         `json:"role"`
	From FeedbackStatus `json:"from,omitempty"`
	To   FeedbackStatus `json:"to"`
	Note string         `json:"note,omitempty"`
}

// Feedback is one piece of feedback as staff may see it.
type Feedback struct {
	ID               int64           `json:"id"`
	Reference        string          `json:"reference"`
	Status           FeedbackStatus  `json:"status"`
	Version          int             `json:"version"`
	About            About           `json:"about"`
	AboutName        string          `json:"about_name,omitempty"`
	AboutWorkerID    int64           `json:"about_worker_id,omitempty"`
	TeamID           int64           `json:"team_id,omitempty"`
	TeamName         string          `json:"team_name,omitempty"`
	Body             string          `json:"body"`
	MayQuote         bool            `json:"may_quote"`
	Concern          bool            `json:"concern" doc:"What was written sounded like the person may be in distress."`
	Theme            string          `json:"theme,omitempty"`
	Answer           string          `json:"answer,omitempty"`
	PublicSummary    string          `json:"public_summary,omitempty"`
	Publish          bool            `json:"publish"`
	Quote            bool            `json:"quote"`
	ChangeMade       string          `json:"change_made,omitempty"`
	ReceivedAt       time.Time       `json:"received_at"`
	AcknowledgedAt   *time.Time      `json:"acknowledged_at,omitempty"`
	ConsideredAt     *time.Time      `json:"considered_at,omitempty"`
	AnsweredAt       *time.Time      `json:"answered_at,omitempty"`
	ChangedAt        *time.Time      `json:"changed_at,omitempty"`
	AcknowledgeBy    time.Time       `json:"acknowledge_by" doc:"The target: 5 working days after it was received (a setting)."`
	AnswerBy         time.Time       `json:"answer_by" doc:"The target for an answer, in working days (a setting)."`
	AcknowledgedLate bool            `json:"acknowledged_late"`
	AnsweredLate     bool            `json:"answered_late"`
	SharedWithWorker bool            `json:"shared_with_worker"`
	Giver            *Giver          `json:"giver,omitempty" doc:"Only peer leads and service managers see who gave it."`
	History          []FeedbackEvent `json:"history,omitempty" doc:"Only for those who may move it on."`
	Next             FeedbackStatus  `json:"next,omitempty" doc:"The next step, when you may move it on."`
}

// AboutWords says what the feedback is about, for a page.
func (f Feedback) AboutWords() string {
	if f.AboutName != "" {
		return f.About.Label() + ": " + f.AboutName
	}
	return f.About.Label()
}

const refAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func newFeedbackReference() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = refAlphabet[int(b[i])%len(refAlphabet)]
	}
	return "FB-" + string(b[:4]) + "-" + string(b[4:])
}

func (s *Service) nextFeedbackReference() string {
	if s.FeedbackReferences != nil {
		return s.FeedbackReferences()
	}
	return newFeedbackReference()
}

// FakeReceipt is what a robot that filled in the hidden field is told:
// it looks like any other answer, and nothing is stored.
func FakeReceipt() FeedbackReceipt { return FeedbackReceipt{Reference: newFeedbackReference()} }

func checkFeedback(in *NewFeedback) app.Problems {
	var p app.Problems
	if !app.HasChoice(Abouts, string(in.About)) {
		p.Add("about", "Choose what your feedback is about: a peer support worker, a group or activity, or the service")
	}
	in.Body = strings.TrimSpace(in.Body)
	if in.Body == "" {
		p.Add("body", "Tell us what you would like to say")
	}
	checkText(&p, "body", &in.Body, maxPlanText, "Your feedback")
	checkText(&p, "about_name", &in.AboutName, 200, "The name")
	checkText(&p, "name", &in.Name, 100, "Your name")
	checkText(&p, "phone", &in.Phone, 30, "Your phone number")
	in.Email = strings.TrimSpace(in.Email)
	if in.Anonymous {
		in.Name, in.Email, in.Phone, in.ContactOK = "", "", "", false
	}
	if in.Email != "" {
		e, msg := app.NormaliseEmail(in.Email)
		if msg != "" {
			p.Add("email", msg)
		}
		in.Email = e
	}
	if in.ContactOK && in.Email == "" && in.Phone == "" && !p.Has("email") {
		p.Add("email", "Give an email address or phone number so we can contact you, or say we should not contact you")
	}
	if in.TeamID < 0 {
		p.Add("team_id", "Choose a team from the list")
	}
	return p
}

// GiveFeedback stores feedback from anyone: the public (app.Public) or
// someone signed in, named or anonymous. It is tracked from received, its
// team's peer leads (or, with no team, the service managers) are told,
// and the giver gets a private link to follow it. Feedback about a named
// worker is never shown to that worker until a lead shares it. Bad input
// is field problems and nothing is stored.
func (s *Service) GiveFeedback(ctx context.Context, p *app.Principal, in NewFeedback) (FeedbackReceipt, error) {
	if problems := checkFeedback(&in); len(problems) > 0 {
		return FeedbackReceipt{}, problems.Err()
	}
	now := s.Clock.Now()
	var out FeedbackReceipt
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// Each attempt starts from what was given: below fills in the
		// team and the worker's name when they are empty.
		in := in
		out = FeedbackReceipt{}
		if in.TeamID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM teams WHERE id = $1", in.TeamID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return app.Invalid(app.FieldError{Field: "team_id", Message: "Choose a team from the list"})
			}
		}
		signedIn := p != nil && p.UserID != 0
		if in.AboutWorkerID != 0 {
			team, ok, err := ownWorker(ctx, tx, p, in.AboutWorkerID)
			if err != nil {
				return err
			}
			if !ok {
				return app.Invalid(app.FieldError{Field: "about_worker_id", Message: "Choose your peer support worker from the list, or write their name"})
			}
			in.About = AboutWorker
			if in.TeamID == 0 {
				in.TeamID = team
			}
			if in.AboutName == "" {
				name, err := userName(ctx, tx, in.AboutWorkerID)
				if err != nil {
					return err
				}
				in.AboutName = name
			}
		}
		var giverUser, giverPerson int64
		if signedIn && !in.Anonymous {
			giverUser, giverPerson = p.UserID, p.PersonID
			if in.Name == "" {
				in.Name = p.Name
			}
		}
		// A reference taken, even by feedback committing at this moment,
		// gives way to another (UNIQUE feedback.reference).
		ref, err := store.InsertUnique(10, s.nextFeedbackReference, func(ref string) error {
			return tx.QueryRowContext(ctx, `INSERT INTO feedback (reference, status, about, about_user_id, about_name, team_id, body, may_quote,
			anonymous, giver_user_id, giver_person_id, giver_name, giver_email, giver_phone, contact_ok, received_at)
			VALUES ($1, 'received', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (reference) DO NOTHING RETURNING id`,
				ref, string(in.About), nullID(in.AboutWorkerID), in.AboutName, nullID(in.TeamID), in.Body, in.MayQuote, in.Anonymous,
				nullID(giverUser), nullID(giverPerson), in.Name, in.Email, in.Phone, in.ContactOK, now).Scan(&out.ID)
		})
		if errors.Is(err, store.ErrNoFreeValue) {
			return app.Errorf(app.CodeConflict, "We could not give your feedback a reference just now. Nothing was saved: try again.")
		}
		if err != nil {
			return err
		}
		out.Reference = ref
		if out.Token, err = addLink(ctx, tx, out.ID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO feedback_events (feedback_id, at, actor_user_id, actor_role, to_status) VALUES ($1, $2, $3, $4, 'received')",
			out.ID, now, nullID(giverUser), ""); err != nil {
			return err
		}
		org, err := orgOf(ctx, tx, in.TeamID)
		if err != nil {
			return err
		}
		if s.risky(ctx, org, in.Body) {
			out.Signpost = &HelpNow
			if _, err := tx.ExecContext(ctx, "UPDATE feedback SET concern = TRUE WHERE id = $1", out.ID); err != nil {
				return err
			}
			if err := s.raise(ctx, tx, Concern{PersonID: giverPerson, TeamID: in.TeamID, Source: "feedback", ObjectID: out.ID, At: now,
				Actor: p.ActorFor(app.PermPublic)}); err != nil {
				return err
			}
		}
		if err := s.tellLeads(ctx, tx, out.ID, out.Reference, in.TeamID, in.AboutWorkerID); err != nil {
			return err
		}
		if in.Email != "" && in.ContactOK {
			if err := notify.SendEmail(ctx, tx, now, in.Email, notify.FeedbackReceivedEmail{Reference: out.Reference,
				Link: s.BaseURL + "/feedback/status/" + out.Token, Days: s.ackDays()}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPublic), audit.Event{Action: "feedback.create", SubjectPersonID: giverPerson,
			ObjectType: "feedback", ObjectID: fmt.Sprint(out.ID)})
	})
	return out, err
}

// addLink makes a private link to follow feedback, and returns its token.
func addLink(ctx context.Context, tx *store.Tx, id int64, now time.Time) (string, error) {
	token := app.NewSecret(24)
	_, err := tx.ExecContext(ctx, "INSERT INTO feedback_links (token_hash, feedback_id, created_at) VALUES ($1, $2, $3)", app.HashSecret(token), id, now)
	return token, err
}

// ownWorker reports whether a worker is allocated to the caller's own
// referral, and that referral's team.
func ownWorker(ctx context.Context, tx *store.Tx, p *app.Principal, workerID int64) (int64, bool, error) {
	if p == nil || p.PersonID == 0 {
		return 0, false, nil
	}
	var team sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT r.team_id FROM referrals r WHERE r.person_id = $1 AND r.allocated_worker_id = $2
		ORDER BY r.received_at DESC LIMIT 1`, p.PersonID, workerID).Scan(&team)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return team.Int64, err == nil, err
}

// tellLeads tells the peer leads of the team — never the worker the
// feedback is about — or, when there are none, the service managers of the
// team's organisation (account.ManagersOf); feedback given no team, the
// service managers.
func (s *Service) tellLeads(ctx context.Context, tx *store.Tx, id int64, ref string, teamID, aboutID int64) error {
	if s.Notify == nil {
		return nil
	}
	a := store.NewArgs(aboutID)
	q := `SELECT DISTINCT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.status = 'active' AND m.user_id <> $1 AND `
	if teamID != 0 {
		q += "m.role = 'peer_lead' AND m.team_id = " + a.Add(teamID)
	} else {
		q += "m.role = 'service_manager'"
	}
	ids, err := userIDs(ctx, tx, q, a)
	if err != nil {
		return err
	}
	if len(ids) == 0 && teamID != 0 {
		// No lead: the service managers of the team's organisation, not
		// every organisation's.
		managers, err := account.ManagersOf(ctx, tx, []int64{teamID})
		if err != nil {
			return err
		}
		for _, m := range managers {
			if m.UserID != aboutID {
				ids = append(ids, m.UserID)
			}
		}
	}
	for _, uid := range ids {
		if err := s.Notify.Tell(ctx, tx, uid, 0, notify.FeedbackForLead{Reference: ref, Link: fmt.Sprintf("%s/feedback/inbox/%d", s.BaseURL, id), Days: s.ackDays()}); err != nil {
			return err
		}
	}
	return nil
}

func userIDs(ctx context.Context, tx *store.Tx, q string, a *store.Args) ([]int64, error) {
	return tx.IDs(ctx, q+" ORDER BY m.user_id LIMIT 50", a.Values()...)
}

// feedbackScope is the condition on alias f for the feedback the caller
// may read as staff: a service manager, all of it; a peer lead, their
// teams' and feedback not given a team, except feedback about themselves;
// a worker (or lead), feedback about them that a lead has shared.
func feedbackScope(p *app.Principal, a *store.Args) string {
	if p == nil || p.UserID == 0 || !p.Can(app.PermFeedbackRead) {
		return "1 = 0"
	}
	if p.HasRole(app.RoleServiceManager) {
		return "1 = 1"
	}
	me := a.Add(p.UserID)
	parts := []string{"(f.about_user_id = " + me + " AND f.shared_with_worker_at IS NOT NULL)"}
	if teams := p.TeamsAs(app.RolePeerLead); len(teams) > 0 {
		parts = append(parts, "((f.team_id IN "+store.In(a, teams...)+" OR f.team_id IS NULL) AND (f.about_user_id IS NULL OR f.about_user_id <> "+me+"))")
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// manages reports whether the caller may move feedback on and see who gave
// it: a service manager, or a lead of its team (any lead for feedback not
// given a team) when it is not about them.
func manages(p *app.Principal, teamID, aboutID int64) bool {
	if p == nil || !p.Can(app.PermFeedbackManage) {
		return false
	}
	if p.HasRole(app.RoleServiceManager) {
		return true
	}
	if aboutID == p.UserID {
		return false
	}
	teams := p.TeamsAs(app.RolePeerLead)
	if teamID == 0 {
		return len(teams) > 0
	}
	for _, t := range teams {
		if t == teamID {
			return true
		}
	}
	return false
}

const feedbackColumns = `f.id, f.reference, f.status, f.version, f.about, COALESCE(f.about_user_id, 0), f.about_name, COALESCE(f.team_id, 0),
	COALESCE(t.name, ''), f.body, f.may_quote, f.concern, f.theme, f.answer, f.public_summary, f.publish, f.quote, f.change_made,
	f.received_at, f.acknowledged_at, f.considered_at, f.answered_at, f.changed_at, f.shared_with_worker_at,
	f.anonymous, f.giver_name, f.giver_email, f.giver_phone, f.contact_ok, COALESCE(f.giver_user_id, 0), COALESCE(f.giver_person_id, 0)`

const feedbackFrom = " FROM feedback f LEFT JOIN teams t ON t.id = f.team_id"

func (s *Service) scanFeedback(row interface{ Scan(...any) error }, p *app.Principal, now time.Time) (Feedback, error) {
	var f Feedback
	var ack, con, ans, chg, shared sql.NullTime
	var g Giver
	var giverUser int64
	err := row.Scan(&f.ID, &f.Reference, &f.Status, &f.Version, &f.About, &f.AboutWorkerID, &f.AboutName, &f.TeamID, &f.TeamName, &f.Body,
		&f.MayQuote, &f.Concern, &f.Theme, &f.Answer, &f.PublicSummary, &f.Publish, &f.Quote, &f.ChangeMade, &f.ReceivedAt, &ack, &con, &ans, &chg,
		&shared, &g.Anonymous, &g.Name, &g.Email, &g.Phone, &g.ContactOK, &giverUser, &g.PersonID)
	if err != nil {
		return f, err
	}
	f.ReceivedAt = f.ReceivedAt.UTC()
	f.AcknowledgedAt, f.ConsideredAt, f.AnsweredAt, f.ChangedAt = timePtr(ack), timePtr(con), timePtr(ans), timePtr(chg)
	f.SharedWithWorker = shared.Valid
	f.AcknowledgeBy = AddWorkingDays(f.ReceivedAt, s.ackDays())
	f.AnswerBy = AddWorkingDays(f.ReceivedAt, s.answerDays())
	f.AcknowledgedLate = late(f.AcknowledgedAt, f.AcknowledgeBy, now)
	f.AnsweredLate = late(f.AnsweredAt, f.AnswerBy, now)
	if manages(p, f.TeamID, f.AboutWorkerID) {
		g.HasAccount = giverUser != 0
		f.Giver = &g
		f.Next = NextStatus(f.Status)
	}
	return f, nil
}

// forUpdateOf locks the rows of one table in a join on PostgreSQL (the
// other side of an outer join cannot be locked); SQLite's write lock is
// already held.
func forUpdateOf(tx *store.Tx, alias string) string {
	if tx.Dialect == store.Postgres {
		return " FOR UPDATE OF " + alias
	}
	return ""
}

func late(done *time.Time, by, now time.Time) bool {
	if done != nil {
		return done.After(by)
	}
	return now.After(by)
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// FeedbackFilter narrows the feedback inbox.
type FeedbackFilter struct {
	Status FeedbackStatus
	TeamID int64
	Open   bool // not yet answered
	Limit  int
	Offset int
}

// FeedbackPage is one page of the feedback inbox.
type FeedbackPage struct {
	Items  []Feedback `json:"items"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
}

// ListFeedback returns the feedback the caller may read, oldest waiting
// first, audited as one list naming the people whose details it showed.
func (s *Service) ListFeedback(ctx context.Context, p *app.Principal, f FeedbackFilter) (FeedbackPage, error) {
	if f.Status != "" && !f.Status.Valid() {
		return FeedbackPage{}, app.Invalid(app.FieldError{Field: "status", Message: "status must be received, acknowledged, considered, answered or changed"})
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		return FeedbackPage{}, app.Invalid(app.FieldError{Field: "offset", Message: "offset must not be negative"})
	}
	now := s.Clock.Now()
	pg := FeedbackPage{Items: []Feedback{}, Limit: f.Limit, Offset: f.Offset}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := &store.Args{}
		conds := []string{feedbackScope(p, a)}
		if f.Status != "" {
			conds = append(conds, "f.status = "+a.Add(string(f.Status)))
		}
		if f.Open {
			conds = append(conds, "f.status IN ('received', 'acknowledged', 'considered')")
		}
		if f.TeamID != 0 {
			conds = append(conds, "f.team_id = "+a.Add(f.TeamID))
		}
		where := " WHERE " + strings.Join(conds, " AND ")
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM feedback f"+where, a.Values()...).Scan(&pg.Total); err != nil {
			return err
		}
		q := "SELECT " + feedbackColumns + feedbackFrom + where + " ORDER BY CASE WHEN f.status IN ('answered', 'changed') THEN 1 ELSE 0 END, f.received_at, f.id LIMIT " +
			a.Add(f.Limit) + " OFFSET " + a.Add(f.Offset)
		rows, err := tx.QueryContext(ctx, q, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var subjects []int64
		for rows.Next() {
			fb, err := s.scanFeedback(rows, p, now)
			if err != nil {
				return err
			}
			if fb.Giver != nil && fb.Giver.PersonID != 0 {
				subjects = append(subjects, fb.Giver.PersonID)
			}
			pg.Items = append(pg.Items, fb)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		record(p.ActorFor(app.PermFeedbackRead), audit.Event{Action: "feedback.list", Subjects: subjects, ObjectType: "feedback", ObjectID: fmt.Sprintf("results=%d", len(pg.Items))})
		return nil
	})
	return pg, err
}

// GetFeedback returns one piece of feedback the caller may read, with its
// history for those who may move it on, audited as a read. Feedback the
// caller may not read is not found.
func (s *Service) GetFeedback(ctx context.Context, p *app.Principal, id int64) (Feedback, error) {
	now := s.Clock.Now()
	var fb Feedback
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := store.NewArgs(id)
		var err error
		fb, err = s.scanFeedback(tx.QueryRowContext(ctx, "SELECT "+feedbackColumns+feedbackFrom+" WHERE f.id = $1 AND "+feedbackScope(p, a), a.Values()...), p, now)
		if err != nil {
			return notVisible(err)
		}
		if fb.Giver != nil {
			if fb.History, err = feedbackHistory(ctx, tx, p, id); err != nil {
				return err
			}
		}
		subject := int64(0)
		if fb.Giver != nil {
			subject = fb.Giver.PersonID
		}
		record(p.ActorFor(app.PermFeedbackRead), audit.Event{Action: "feedback.read", SubjectPersonID: subject, ObjectType: "feedback", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return fb, s.denied(ctx, err, p, app.PermFeedbackRead, "feedback.read", "feedback", id, "The feedback")
	}
	return fb, nil
}

// feedbackHistory reads the steps of feedback the caller manages.
func feedbackHistory(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) ([]FeedbackEvent, error) {
	a := store.NewArgs(id)
	rows, err := tx.QueryContext(ctx, `SELECT e.at, COALESCE(u.name, ''), e.actor_role, e.from_status, e.to_status, e.note
		FROM feedback_events e LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.feedback_id = $1
		AND EXISTS (SELECT 1 FROM feedback f WHERE f.id = e.feedback_id AND `+feedbackScope(p, a)+`) ORDER BY e.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []FeedbackEvent{}
	for rows.Next() {
		var e FeedbackEvent
		if err := rows.Scan(&e.At, &e.By, &e.Role, &e.From, &e.To, &e.Note); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		if e.To == Received {
			e.By = "The person who gave it"
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// MoveFeedback moves feedback on one step — acknowledged, considered (with
// a theme), answered (what we will do, or why not; optionally published),
// changed (what changed) — and may share feedback about a named worker with
// them. Only a lead of its team or a service manager may, never the worker
// it is about; the words and the giver's details are never changed. A
// stale version is a conflict.
func (s *Service) MoveFeedback(ctx context.Context, p *app.Principal, id int64, m FeedbackMove) (Feedback, error) {
	now := s.Clock.Now()
	var out Feedback
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		a := store.NewArgs(id)
		cur, err := s.scanFeedback(tx.QueryRowContext(ctx, "SELECT "+feedbackColumns+feedbackFrom+" WHERE f.id = $1 AND "+feedbackScope(p, a)+
			forUpdateOf(tx, "f"), a.Values()...), p, now)
		if err != nil {
			return notVisible(err)
		}
		if !manages(p, cur.TeamID, cur.AboutWorkerID) {
			return app.Errorf(app.CodeForbidden, "Only a peer lead of the team or a service manager can move feedback on.")
		}
		if cur.Version != m.Version {
			return app.Errorf(app.CodeConflict, "Someone else moved this feedback on since you opened it. Look at it again.")
		}
		if problems := checkMove(cur.Status, &m, cur.MayQuote); len(problems) > 0 {
			return problems.Err()
		}
		set := []string{"status = $1", "version = version + 1"}
		args := store.NewArgs(string(m.To))
		switch m.To {
		case Acknowledged:
			set = append(set, "acknowledged_at = "+args.Add(now))
		case Considered:
			set = append(set, "considered_at = "+args.Add(now), "theme = "+args.Add(m.Theme))
		case Answered:
			set = append(set, "answered_at = "+args.Add(now), "answer = "+args.Add(m.Answer), "public_summary = "+args.Add(m.PublicSummary),
				"publish = "+args.Add(m.Publish), "quote = "+args.Add(m.Quote && cur.MayQuote))
		case Changed:
			set = append(set, "changed_at = "+args.Add(now), "change_made = "+args.Add(m.ChangeMade))
		}
		shareNow := m.ShareWithWorker && cur.AboutWorkerID != 0 && !cur.SharedWithWorker
		if shareNow {
			set = append(set, "shared_with_worker_at = "+args.Add(now))
		}
		res, err := tx.ExecContext(ctx, "UPDATE feedback SET "+strings.Join(set, ", ")+" WHERE id = "+args.Add(id)+" AND version = "+args.Add(m.Version), args.Values()...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "Someone else moved this feedback on since you opened it. Look at it again.")
		}
		act := p.ActorFor(app.PermFeedbackManage)
		note := m.Note
		if shareNow {
			note = strings.TrimSpace(note + "\n(Shared with the worker it is about.)")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO feedback_events (feedback_id, at, actor_user_id, actor_role, from_status, to_status, note)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, now, nullID(p.UserID), string(act.Role), string(cur.Status), string(m.To), note); err != nil {
			return err
		}
		if shareNow && s.Notify != nil {
			if err := s.Notify.Tell(ctx, tx, cur.AboutWorkerID, 0, notify.FeedbackShared{Reference: cur.Reference,
				Link: fmt.Sprintf("%s/feedback/inbox/%d", s.BaseURL, id)}); err != nil {
				return err
			}
		}
		if m.To == Answered && cur.Giver != nil && cur.Giver.ContactOK && cur.Giver.Email != "" {
			token, err := addLink(ctx, tx, id, now)
			if err != nil {
				return err
			}
			if err := notify.SendEmail(ctx, tx, now, cur.Giver.Email, notify.FeedbackAnsweredEmail{Reference: cur.Reference,
				Link: s.BaseURL + "/feedback/status/" + token}); err != nil {
				return err
			}
		}
		subject := int64(0)
		if cur.Giver != nil {
			subject = cur.Giver.PersonID
		}
		if err := audit.Record(ctx, tx, now, act, audit.Event{Action: "feedback.transition." + string(m.To), SubjectPersonID: subject,
			ObjectType: "feedback", ObjectID: fmt.Sprint(id)}); err != nil {
			return err
		}
		b := store.NewArgs(id)
		out, err = s.scanFeedback(tx.QueryRowContext(ctx, "SELECT "+feedbackColumns+feedbackFrom+" WHERE f.id = $1 AND "+feedbackScope(p, b), b.Values()...), p, now)
		if err != nil {
			return err
		}
		out.History, err = feedbackHistory(ctx, tx, p, id)
		return err
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermFeedbackManage, "feedback.transition", "feedback", id, "The feedback")
	}
	return out, nil
}

// OwnFeedback is feedback as the person who gave it follows it: never who
// handled it or any internal note.
type OwnFeedback struct {
	Reference      string         `json:"reference"`
	Status         FeedbackStatus `json:"status"`
	About          About          `json:"about"`
	AboutName      string         `json:"about_name,omitempty"`
	Body           string         `json:"body,omitempty" doc:"Your words, when you are signed in; left out on the private link."`
	ReceivedAt     time.Time      `json:"received_at"`
	AcknowledgedAt *time.Time     `json:"acknowledged_at,omitempty"`
	ConsideredAt   *time.Time     `json:"considered_at,omitempty"`
	AnsweredAt     *time.Time     `json:"answered_at,omitempty"`
	ChangedAt      *time.Time     `json:"changed_at,omitempty"`
	AcknowledgeBy  time.Time      `json:"acknowledge_by"`
	AnswerBy       time.Time      `json:"answer_by"`
	Answer         string         `json:"answer,omitempty"`
	ChangeMade     string         `json:"change_made,omitempty"`
}

const ownColumns = `f.reference, f.status, f.about, f.about_name, f.body, f.received_at, f.acknowledged_at, f.considered_at, f.answered_at,
	f.changed_at, f.answer, f.change_made`

// linkColumns are ownColumns without the giver's words: whoever holds the
// private link (a shared phone, a forwarded message) learns where the
// feedback has got to, never what was said.
const linkColumns = `f.reference, f.status, f.about, f.about_name, '', f.received_at, f.acknowledged_at, f.considered_at, f.answered_at,
	f.changed_at, f.answer, f.change_made`

func (s *Service) scanOwn(row interface{ Scan(...any) error }) (OwnFeedback, error) {
	var o OwnFeedback
	var ack, con, ans, chg sql.NullTime
	err := row.Scan(&o.Reference, &o.Status, &o.About, &o.AboutName, &o.Body, &o.ReceivedAt, &ack, &con, &ans, &chg, &o.Answer, &o.ChangeMade)
	o.ReceivedAt = o.ReceivedAt.UTC()
	o.AcknowledgedAt, o.ConsideredAt, o.AnsweredAt, o.ChangedAt = timePtr(ack), timePtr(con), timePtr(ans), timePtr(chg)
	o.AcknowledgeBy = AddWorkingDays(o.ReceivedAt, s.ackDays())
	o.AnswerBy = AddWorkingDays(o.ReceivedAt, s.answerDays())
	return o, err
}

// FeedbackByLink follows feedback through its private link: where it has
// got to and the answer, without the words or who gave it. An unknown link
// is not found.
func (s *Service) FeedbackByLink(ctx context.Context, token string) (OwnFeedback, error) {
	var o OwnFeedback
	if token == "" || len(token) > 100 {
		return o, app.NotFound("The feedback")
	}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		o, err = s.scanOwn(tx.QueryRowContext(ctx, "SELECT "+linkColumns+` FROM feedback f JOIN feedback_links l ON l.feedback_id = f.id
			WHERE l.token_hash = $1`, app.HashSecret(token)))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return o, app.NotFound("The feedback")
	}
	return o, err
}

// MyFeedback lists the feedback the caller gave from their account (not
// anonymously), newest first, audited as a read of their own data.
func (s *Service) MyFeedback(ctx context.Context, p *app.Principal) ([]OwnFeedback, error) {
	out := []OwnFeedback{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+ownColumns+" FROM feedback f WHERE f.giver_user_id = $1 ORDER BY f.received_at DESC, f.id DESC LIMIT 100", p.UserID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := s.scanOwn(rows)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		record(p.ActorFor(app.PermSignedIn), audit.Event{Action: "feedback.own_list", SubjectPersonID: p.PersonID, ObjectType: "feedback",
			ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// Worker is someone a person may give feedback about: one of their own
// peer support workers.
type Worker struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// MyWorkers lists the peer support workers allocated to the caller's own
// referrals, for the feedback form.
func (s *Service) MyWorkers(ctx context.Context, p *app.Principal) ([]Worker, error) {
	out := []Worker{}
	if p == nil || p.PersonID == 0 {
		return out, nil
	}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT u.id, u.name FROM referrals r JOIN users u ON u.id = r.allocated_worker_id
			WHERE r.person_id = $1 ORDER BY u.name`, p.PersonID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w Worker
			if err := rows.Scan(&w.ID, &w.Name); err != nil {
				return err
			}
			out = append(out, w)
		}
		return rows.Err()
	})
	return out, err
}
