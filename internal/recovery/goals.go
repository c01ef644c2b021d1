package recovery

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Progress is how a goal is going.
type Progress string

// The kinds of progress.
const (
	NotStarted  Progress = "not_started"
	OnTheWay    Progress = "on_the_way"
	Achieved    Progress = "achieved"
	ChangedMind Progress = "changed_mind"
)

// Progresses lists progress in words, in order.
var Progresses = []app.Choice{
	{Code: string(NotStarted), Label: "Not started"},
	{Code: string(OnTheWay), Label: "On the way"},
	{Code: string(Achieved), Label: "Achieved"},
	{Code: string(ChangedMind), Label: "Changed my mind"},
}

// Label is progress in words.
func (p Progress) Label() string { return app.ChoiceLabel(Progresses, string(p)) }

// Valid reports whether p is a known kind of progress.
func (p Progress) Valid() bool { return app.HasChoice(Progresses, string(p)) }

// Step is one small step towards a goal.
type Step struct {
	Description string `json:"description" required:"true"`
	Done        bool   `json:"done"`
}

// Goal is one of a person's goals, in their words.
type Goal struct {
	ID                int64      `json:"id"`
	PersonID          int64      `json:"person_id"`
	Version           int        `json:"version" doc:"Send it back with a change; a change made since answers 409."`
	Description       string     `json:"description"`
	Steps             []Step     `json:"steps"`
	WhoHelps          string     `json:"who_helps,omitempty"`
	TargetDate        string     `json:"target_date,omitempty" doc:"YYYY-MM-DD, when the person chose one."`
	Progress          Progress   `json:"progress"`
	DraftedWithWorker bool       `json:"drafted_with_worker" doc:"A worker wrote it with the person."`
	CreatedAt         time.Time  `json:"created_at"`
	CreatedBy         string     `json:"created_by"`
	UpdatedAt         time.Time  `json:"updated_at"`
	AchievedAt        *time.Time `json:"achieved_at,omitempty"`
}

// StepsDone counts the steps done.
func (g Goal) StepsDone() int {
	n := 0
	for _, s := range g.Steps {
		if s.Done {
			n++
		}
	}
	return n
}

// NewGoal is a goal to set.
type NewGoal struct {
	Description string   `json:"description" required:"true" doc:"The goal in the person's own words."`
	Steps       []Step   `json:"steps,omitempty" doc:"Up to 10 small steps."`
	WhoHelps    string   `json:"who_helps,omitempty"`
	TargetDate  string   `json:"target_date,omitempty" doc:"YYYY-MM-DD, optional."`
	Progress    Progress `json:"progress,omitempty" doc:"not_started (the default), on_the_way, achieved or changed_mind."`
}

// GoalChange changes a goal; what is left out stays as it is.
type GoalChange struct {
	Version     int       `json:"version" required:"true" doc:"The version you are changing."`
	Description *string   `json:"description,omitempty"`
	Steps       *[]Step   `json:"steps,omitempty" doc:"The whole list of steps, replacing the one there."`
	WhoHelps    *string   `json:"who_helps,omitempty"`
	TargetDate  *string   `json:"target_date,omitempty" doc:"YYYY-MM-DD, or empty for none."`
	Progress    *Progress `json:"progress,omitempty"`
}

const maxSteps = 10

func checkGoal(p *app.Problems, desc *string, steps []Step, who, target *string, progress Progress, now time.Time) {
	*desc = strings.TrimSpace(*desc)
	if *desc == "" {
		p.Add("description", "Write the goal in your own words")
	}
	checkText(p, "description", desc, 500, "The goal")
	if len(steps) > maxSteps {
		p.Add("steps", fmt.Sprintf("Keep to %d steps or fewer", maxSteps))
	}
	for i := range steps {
		field := fmt.Sprintf("steps[%d].description", i)
		steps[i].Description = strings.TrimSpace(steps[i].Description)
		if steps[i].Description == "" {
			p.Add(field, "Write the step, or leave it out")
		}
		checkText(p, field, &steps[i].Description, 300, "A step")
	}
	checkText(p, "who_helps", who, maxShort, "Who helps")
	*target = strings.TrimSpace(*target)
	if *target != "" {
		t, err := time.Parse("2006-01-02", *target)
		switch {
		case err != nil:
			p.Add("target_date", "Enter the target date as a real date, like 2027-03-31")
		case t.Year() < now.Year()-5 || t.Year() > now.Year()+10:
			p.Add("target_date", fmt.Sprintf("The target date must be between %d and %d", now.Year()-5, now.Year()+10))
		}
	}
	if !progress.Valid() {
		p.Add("progress", "Choose how it is going: not started, on the way, achieved, or changed my mind")
	}
}

// CheckGoal names every problem with a new goal without storing anything.
func (s *Service) CheckGoal(in NewGoal) error {
	if in.Progress == "" {
		in.Progress = NotStarted
	}
	in.Steps = append([]Step(nil), in.Steps...)
	var problems app.Problems
	checkGoal(&problems, &in.Description, in.Steps, &in.WhoHelps, &in.TargetDate, in.Progress, s.Clock.Now())
	return problems.Err()
}

// CreateGoal sets a goal for a person: the person themselves, or staff who
// may see them with the person (recorded as drafted with a worker). An
// empty goal and over-long text are field problems, and nothing is
// stored.
func (s *Service) CreateGoal(ctx context.Context, p *app.Principal, personID int64, in NewGoal) (Goal, Saved, error) {
	now := s.Clock.Now()
	if in.Progress == "" {
		in.Progress = NotStarted
	}
	var problems app.Problems
	checkGoal(&problems, &in.Description, in.Steps, &in.WhoHelps, &in.TargetDate, in.Progress, now)
	if err := problems.Err(); err != nil {
		return Goal{}, Saved{}, err
	}
	var g Goal
	var saved Saved
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		team, err := teamOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		var achieved any
		if in.Progress == Achieved {
			achieved = now
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO recovery_goals (person_id, team_id, description, who_helps, target_date, progress,
			drafted_with_worker, created_at, created_by_user_id, updated_at, updated_by_user_id, achieved_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9, $10) RETURNING id`, personID, nullID(team), in.Description, in.WhoHelps,
			in.TargetDate, string(in.Progress), v.staff, now, nullID(p.UserID), achieved).Scan(&saved.ID); err != nil {
			return err
		}
		if err := writeSteps(ctx, tx, saved.ID, in.Steps); err != nil {
			return err
		}
		texts := []string{in.Description, in.WhoHelps}
		for _, st := range in.Steps {
			texts = append(texts, st.Description)
		}
		if err := s.checkRisk(ctx, tx, p, v, personID, team, "goal", saved.ID, &saved, texts...); err != nil {
			return err
		}
		if g, err = loadGoal(ctx, tx, p, saved.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor(p, v), audit.Event{Action: "goal.create", SubjectPersonID: personID, ObjectType: "goal", ObjectID: fmt.Sprint(saved.ID)})
	})
	if err != nil {
		return g, saved, s.denied(ctx, err, p, app.PermRecoveryPlan, "goal.create", "person", personID, "The person")
	}
	return g, saved, nil
}

// checkRisk signposts, and raises a concern for the person's own words,
// when texts hold risk language.
func (s *Service) checkRisk(ctx context.Context, tx *store.Tx, p *app.Principal, v viewer, personID, team int64, source string, id int64, saved *Saved, texts ...string) error {
	org, err := orgOf(ctx, tx, team)
	if err != nil {
		return err
	}
	if !s.risky(ctx, org, texts...) {
		return nil
	}
	saved.Signpost = &HelpNow
	if !v.self {
		return nil
	}
	return s.raise(ctx, tx, Concern{PersonID: personID, TeamID: team, Source: source, ObjectID: id, At: s.Clock.Now(),
		Actor: p.ActorFor(app.PermRecoveryPlan)})
}

func writeSteps(ctx context.Context, tx *store.Tx, goalID int64, steps []Step) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM recovery_goal_steps WHERE goal_id = $1", goalID); err != nil {
		return err
	}
	for i, st := range steps {
		if _, err := tx.ExecContext(ctx, "INSERT INTO recovery_goal_steps (goal_id, position, description, done) VALUES ($1, $2, $3, $4)",
			goalID, i+1, st.Description, st.Done); err != nil {
			return err
		}
	}
	return nil
}

// UpdateGoal changes a goal: its words, steps, who helps, target date or
// progress. The caller must be the person or staff who may see them; a
// stale version is a conflict.
func (s *Service) UpdateGoal(ctx context.Context, p *app.Principal, id int64, in GoalChange) (Goal, Saved, error) {
	now := s.Clock.Now()
	var g Goal
	saved := Saved{ID: id}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var personID int64
		if err := tx.QueryRowContext(ctx, "SELECT person_id FROM recovery_goals WHERE id = $1"+tx.Dialect.ForUpdate(), id).Scan(&personID); err != nil {
			return notVisible(err)
		}
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		cur, err := loadGoal(ctx, tx, p, id)
		if err != nil {
			return err
		}
		next := cur
		if in.Description != nil {
			next.Description = *in.Description
		}
		if in.Steps != nil {
			next.Steps = append([]Step{}, (*in.Steps)...)
		}
		if in.WhoHelps != nil {
			next.WhoHelps = *in.WhoHelps
		}
		if in.TargetDate != nil {
			next.TargetDate = *in.TargetDate
		}
		if in.Progress != nil {
			next.Progress = *in.Progress
		}
		var problems app.Problems
		checkGoal(&problems, &next.Description, next.Steps, &next.WhoHelps, &next.TargetDate, next.Progress, now)
		if err := problems.Err(); err != nil {
			return err
		}
		if cur.Version != in.Version {
			return app.Errorf(app.CodeConflict, "This goal was changed by someone else since you opened it. Look at it again and save once more.")
		}
		achieved := any(nil)
		switch {
		case next.Progress == Achieved && cur.AchievedAt != nil:
			achieved = *cur.AchievedAt
		case next.Progress == Achieved:
			achieved = now
		}
		res, err := tx.ExecContext(ctx, `UPDATE recovery_goals SET version = version + 1, description = $1, who_helps = $2, target_date = $3,
			progress = $4, achieved_at = $5, updated_at = $6, updated_by_user_id = $7 WHERE id = $8 AND version = $9`,
			next.Description, next.WhoHelps, next.TargetDate, string(next.Progress), achieved, now, nullID(p.UserID), id, cur.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "This goal was changed by someone else since you opened it. Look at it again and save once more.")
		}
		if in.Steps != nil {
			if err := writeSteps(ctx, tx, id, next.Steps); err != nil {
				return err
			}
		}
		var texts []string
		if in.Description != nil {
			texts = append(texts, next.Description)
		}
		if in.WhoHelps != nil {
			texts = append(texts, next.WhoHelps)
		}
		if in.Steps != nil {
			for _, st := range next.Steps {
				texts = append(texts, st.Description)
			}
		}
		team, err := teamOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		if err := s.checkRisk(ctx, tx, p, v, personID, team, "goal", id, &saved, texts...); err != nil {
			return err
		}
		if g, err = loadGoal(ctx, tx, p, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor(p, v), audit.Event{Action: "goal.update", SubjectPersonID: personID, ObjectType: "goal", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return g, saved, s.denied(ctx, err, p, app.PermRecoveryPlan, "goal.update", "goal", id, "The goal")
	}
	return g, saved, nil
}

// GetGoal returns one goal, audited as a read, for the person or staff
// who may see them.
func (s *Service) GetGoal(ctx context.Context, p *app.Principal, id int64) (Goal, error) {
	var g Goal
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var personID int64
		if err := tx.QueryRowContext(ctx, "SELECT person_id FROM recovery_goals WHERE id = $1", id).Scan(&personID); err != nil {
			return notVisible(err)
		}
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		if g, err = loadGoal(ctx, tx, p, id); err != nil {
			return err
		}
		record(actor(p, v), audit.Event{Action: "goal.read", SubjectPersonID: personID, ObjectType: "goal", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return g, s.denied(ctx, err, p, app.PermRecoveryPlan, "goal.read", "goal", id, "The goal")
	}
	return g, nil
}

// ListGoals returns a person's goals, oldest first, audited as one read.
func (s *Service) ListGoals(ctx context.Context, p *app.Principal, personID int64) ([]Goal, error) {
	goals := []Goal{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		if goals, err = goalsOf(ctx, tx, p, personID); err != nil {
			return err
		}
		record(actor(p, v), audit.Event{Action: "goal.list", SubjectPersonID: personID, ObjectType: "person", ObjectID: fmt.Sprint(personID)})
		return nil
	})
	if err != nil {
		return goals, s.denied(ctx, err, p, app.PermRecoveryPlan, "goal.list", "person", personID, "The person")
	}
	return goals, nil
}

const goalColumns = `g.id, g.person_id, g.version, g.description, g.who_helps, g.target_date, g.progress, g.drafted_with_worker,
	g.created_at, COALESCE(u.name, ''), g.updated_at, g.achieved_at`

func scanGoal(row interface{ Scan(...any) error }) (Goal, error) {
	var g Goal
	var achieved sql.NullTime
	err := row.Scan(&g.ID, &g.PersonID, &g.Version, &g.Description, &g.WhoHelps, &g.TargetDate, &g.Progress, &g.DraftedWithWorker,
		&g.CreatedAt, &g.CreatedBy, &g.UpdatedAt, &achieved)
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	if achieved.Valid {
		t := achieved.Time.UTC()
		g.AchievedAt = &t
	}
	g.Steps = []Step{}
	return g, err
}

// loadGoal reads one goal with its steps, after the caller was checked to
// see its person in the same transaction.
func loadGoal(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Goal, error) {
	a := store.NewArgs(id)
	g, err := scanGoal(tx.QueryRowContext(ctx, "SELECT "+goalColumns+" FROM recovery_goals g LEFT JOIN users u ON u.id = g.created_by_user_id WHERE g.id = $1 AND "+
		inScope(p, a, "g.person_id"), a.Values()...))
	if err != nil {
		return g, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT description, done FROM recovery_goal_steps WHERE goal_id = $1 ORDER BY position", id)
	if err != nil {
		return g, err
	}
	defer rows.Close()
	for rows.Next() {
		var st Step
		if err := rows.Scan(&st.Description, &st.Done); err != nil {
			return g, err
		}
		g.Steps = append(g.Steps, st)
	}
	return g, rows.Err()
}

// goalsOf reads a person's goals, oldest first, after the caller was
// checked to see them in the same transaction.
func goalsOf(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) ([]Goal, error) {
	a := store.NewArgs(personID)
	rows, err := tx.QueryContext(ctx, "SELECT "+goalColumns+` FROM recovery_goals g LEFT JOIN users u ON u.id = g.created_by_user_id
		WHERE g.person_id = $1 AND `+inScope(p, a, "g.person_id")+` ORDER BY g.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	out := []Goal{}
	byID := map[int64]int{}
	for rows.Next() {
		g, err := scanGoal(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byID[g.ID] = len(out)
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	srows, err := tx.QueryContext(ctx, `SELECT st.goal_id, st.description, st.done FROM recovery_goal_steps st
		JOIN recovery_goals g ON g.id = st.goal_id WHERE g.person_id = $1 ORDER BY st.goal_id, st.position`, personID)
	if err != nil {
		return nil, err
	}
	defer srows.Close()
	for srows.Next() {
		var id int64
		var st Step
		if err := srows.Scan(&id, &st.Description, &st.Done); err != nil {
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].Steps = append(out[i].Steps, st)
		}
	}
	return out, srows.Err()
}
