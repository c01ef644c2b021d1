package groups

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// The peer network plans its own activities: a member (someone who uses
// services, a carer, a peer worker) proposes an activity or workshop,
// others show interest, and a lead or network organiser answers every
// proposal — taken up as an event, or why not. Proposals never name who
// made them or who is interested: the network sees ideas and counts.

// Proposal statuses.
const (
	ProposalOpen       = "open"
	ProposalTakenUp    = "taken_up"
	ProposalNotTakenUp = "not_taken_up"
)

// Proposal is an activity a member proposed.
type Proposal struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Summary    string     `json:"summary"`
	Status     string     `json:"status" doc:"open, taken_up or not_taken_up"`
	Answer     string     `json:"answer,omitempty" doc:"What became of it, or why not."`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	GroupID    int64      `json:"group_id,omitempty" doc:"The group or event it became."`
	Interest   int        `json:"interest" doc:"How many members are interested (the proposer included)."`
	Interested bool       `json:"interested" doc:"The caller has shown interest."`
	Mine       bool       `json:"mine" doc:"The caller proposed it."`
	CreatedAt  time.Time  `json:"created_at"`
}

// NewProposal is a member's idea for an activity.
type NewProposal struct {
	Title   string `json:"title" required:"true" doc:"The activity or workshop, in a few words."`
	Summary string `json:"summary,omitempty" doc:"What it would be, who it is for, and anything that would make it work."`
}

// ProposalAnswer is a lead's answer to a proposal.
type ProposalAnswer struct {
	Outcome string `json:"outcome" required:"true" doc:"taken_up or not_taken_up"`
	Answer  string `json:"answer" required:"true" doc:"What happens next, or why not: the proposer and everyone interested read it."`
	GroupID int64  `json:"group_id,omitempty" doc:"For taken_up: the group or event it became, one you run."`
}

func mayJoinNetwork(p *app.Principal) bool {
	return p.Can(app.PermNetworkJoin) || p.Can(app.PermGroupManage)
}

// Propose adds a member's proposal; the proposer counts as its first
// interested member.
func (s *Service) Propose(ctx context.Context, p *app.Principal, in NewProposal) (Proposal, error) {
	in.Title, in.Summary = strings.TrimSpace(in.Title), strings.TrimSpace(in.Summary)
	var pr app.Problems
	if in.Title == "" {
		pr.Add("title", "Enter the activity you would like, in a few words")
	}
	pr.CheckLen("title", in.Title, 120, "The activity")
	pr.CheckLen("summary", in.Summary, 2000, "The description")
	if err := pr.Err(); err != nil {
		return Proposal{}, err
	}
	if !mayJoinNetwork(p) {
		return Proposal{}, app.Errorf(app.CodeForbidden, "Only members of the network can propose activities")
	}
	now := s.Clock.Now()
	var id int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO network_proposals (title, summary, proposed_by_user_id, status, created_at, updated_at)
			VALUES ($1, $2, $3, 'open', $4, $4) RETURNING id`, in.Title, in.Summary, p.UserID, now).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO network_interest (proposal_id, user_id, created_at) VALUES ($1, $2, $3)", id, p.UserID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermNetworkJoin), audit.Event{Action: "network.propose", SubjectPersonID: p.PersonID,
			ObjectType: "proposal", ObjectID: itoa(id)})
	})
	if err != nil {
		return Proposal{}, err
	}
	return s.proposal(ctx, p, id)
}

const proposalColumns = `n.id, n.title, n.summary, n.status, n.answer, n.answered_at, COALESCE(n.group_id, 0), n.created_at,
	(SELECT COUNT(*) FROM network_interest i WHERE i.proposal_id = n.id),
	EXISTS (SELECT 1 FROM network_interest i WHERE i.proposal_id = n.id AND i.user_id = $1), n.proposed_by_user_id = $1`

func scanProposal(row interface{ Scan(...any) error }) (Proposal, error) {
	var pr Proposal
	var answered sql.NullTime
	err := row.Scan(&pr.ID, &pr.Title, &pr.Summary, &pr.Status, &pr.Answer, &answered, &pr.GroupID, &pr.CreatedAt, &pr.Interest, &pr.Interested, &pr.Mine)
	if answered.Valid {
		t := answered.Time.UTC()
		pr.AnsweredAt = &t
	}
	pr.CreatedAt = pr.CreatedAt.UTC()
	return pr, err
}

func (s *Service) proposal(ctx context.Context, p *app.Principal, id int64) (Proposal, error) {
	pr, err := scanProposal(s.DB.QueryRow(ctx, "SELECT "+proposalColumns+" FROM network_proposals n WHERE n.id = $2", p.UserID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return pr, app.NotFound("The proposal")
	}
	return pr, err
}

// Proposals lists the network's proposals, the unanswered first (oldest
// first: every one is answered), then the answered, newest first.
func (s *Service) Proposals(ctx context.Context, p *app.Principal) ([]Proposal, error) {
	if !mayJoinNetwork(p) {
		return nil, app.Errorf(app.CodeForbidden, "Only members of the network can see its proposals")
	}
	rows, err := s.DB.Query(ctx, "SELECT "+proposalColumns+` FROM network_proposals n
		ORDER BY CASE WHEN n.status = 'open' THEN 0 ELSE 1 END, CASE WHEN n.status = 'open' THEN n.created_at END,
		n.answered_at DESC, n.id DESC LIMIT 200`, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Proposal{}
	for rows.Next() {
		pr, err := scanProposal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, rows.Err()
}

// ShowInterest records that the caller would come; doing it twice counts
// once.
func (s *Service) ShowInterest(ctx context.Context, p *app.Principal, id int64) (Proposal, error) {
	if !mayJoinNetwork(p) {
		return Proposal{}, app.Errorf(app.CodeForbidden, "Only members of the network can show interest")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, "SELECT status FROM network_proposals WHERE id = $1", id).Scan(&status); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return app.NotFound("The proposal")
			}
			return err
		}
		if status != ProposalOpen {
			return app.Errorf(app.CodeConflict, "This proposal has already been answered")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO network_interest (proposal_id, user_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (proposal_id, user_id) DO NOTHING`, id, p.UserID, now)
		return err
	})
	if err != nil {
		return Proposal{}, err
	}
	return s.proposal(ctx, p, id)
}

// AnswerProposal answers an open proposal, for leads and network
// organisers: taken up (naming the group it became, one they run) or not,
// with the answer the proposer and everyone interested read. Two leads
// answering at once: one answer stands, the other is told.
func (s *Service) AnswerProposal(ctx context.Context, p *app.Principal, id int64, in ProposalAnswer) (Proposal, error) {
	in.Answer = strings.TrimSpace(in.Answer)
	var pr app.Problems
	if in.Outcome != ProposalTakenUp && in.Outcome != ProposalNotTakenUp {
		pr.Add("outcome", "Choose whether it is going ahead")
	}
	if in.Answer == "" {
		pr.Add("answer", "Write the answer: what happens next, or why not")
	}
	pr.CheckLen("answer", in.Answer, 1000, "The answer")
	if in.Outcome == ProposalNotTakenUp {
		in.GroupID = 0
	}
	if err := pr.Err(); err != nil {
		return Proposal{}, err
	}
	if !p.Can(app.PermGroupManage) {
		return Proposal{}, app.Errorf(app.CodeForbidden, "Only leads and network organisers answer proposals")
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if in.GroupID != 0 {
			g, err := visibleGroup(ctx, tx, p, in.GroupID, "")
			if errors.Is(err, access.ErrNotVisible) || (err == nil && !leads(p, g.TeamID)) {
				return app.Invalid(app.FieldError{Field: "group_id", Message: "Choose a group or event you run"})
			}
			if err != nil {
				return err
			}
		}
		return s.answer(ctx, tx, p, id, in.Outcome, in.Answer, in.GroupID, now)
	})
	if err != nil {
		return Proposal{}, err
	}
	return s.proposal(ctx, p, id)
}

// takeUp answers a proposal with the group just made from it.
func (s *Service) takeUp(ctx context.Context, tx *store.Tx, p *app.Principal, id, groupID int64, title string, now time.Time) error {
	err := s.answer(ctx, tx, p, id, ProposalTakenUp, "It is going ahead as "+title+": see Groups and events to book.", groupID, now)
	if app.IsCode(err, app.CodeNotFound) {
		return app.Invalid(app.FieldError{Field: "proposal_id", Message: "That proposal was not found"})
	}
	return err
}

func (s *Service) answer(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, outcome, text string, groupID int64, now time.Time) error {
	var title string
	var proposer int64
	if err := tx.QueryRowContext(ctx, "SELECT title, proposed_by_user_id FROM network_proposals WHERE id = $1", id).Scan(&title, &proposer); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The proposal")
		}
		return err
	}
	// The decision is the update: only an open proposal is answered.
	res, err := tx.ExecContext(ctx, `UPDATE network_proposals SET status = $1, answer = $2, answered_by_user_id = $3, answered_at = $4,
		group_id = $5, updated_at = $4 WHERE id = $6 AND status = 'open'`, outcome, text, p.UserID, now, nullID(groupID), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return app.Errorf(app.CodeConflict, "This proposal has already been answered")
	}
	rows, err := tx.QueryContext(ctx, "SELECT user_id FROM network_interest WHERE proposal_id = $1 ORDER BY user_id", id)
	if err != nil {
		return err
	}
	var users []int64
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return err
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, u := range users {
		if err := s.Notify.Tell(ctx, tx, u, 0, notify.ProposalAnswered{Title: title, To: outcome, Answer: text}); err != nil {
			return err
		}
	}
	var personID sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT person_id FROM users WHERE id = $1", proposer).Scan(&personID); err != nil {
		return err
	}
	return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "network.answer", SubjectPersonID: personID.Int64,
		ObjectType: "proposal", ObjectID: itoa(id)})
}

// OpenProposals counts the proposals waiting for an answer, for the
// leads' home page.
func (s *Service) OpenProposals(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM network_proposals WHERE status = 'open'").Scan(&n)
	return n, err
}
