package support

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Kinds of transition prompt.
const (
	PromptInReach           = "in_reach"
	PromptDischargeFollowUp = "discharge_follow_up"
	PromptCAMHSTransition   = "camhs_transition"
)

// DefaultDischargeFollowUpDays is how soon after a discharge the worker
// should be in touch when the organisation has not set it.
const DefaultDischargeFollowUpDays = 7

// dischargeLookback is how long after a discharge the job still raises
// its follow-up: an import that arrives late still prompts, an old
// discharge loaded in bulk does not.
const dischargeLookback = 30

// Episode is what the transition rules need to know of one caseload
// episode of a person with a peer worker.
type Episode struct {
	Setting     string
	Start       time.Time  // a date, midnight UTC
	End         *time.Time // a date; nil while open
	DateOfBirth *time.Time // the person's, when known
}

// Prompt is a prompt the rules raise for an episode: its kind and when it
// is due.
type Prompt struct {
	Kind string
	Due  time.Time
}

// Prompts decides which prompts an episode calls for on today (a date,
// midnight UTC), given the organisation's follow-up days. It is pure.
//
//   - an acute ward episode under way: an in-reach visit, due on admission;
//   - an acute ward episode that ended within the last 30 days: a
//     follow-up, due followUpDays after discharge;
//   - an open CAMHS transition episode of someone who is 17 or older: a
//     transition plan with the adult team, due on their 17th birthday.
func Prompts(e Episode, today time.Time, followUpDays int) []Prompt {
	var out []Prompt
	switch e.Setting {
	case "acute_ward":
		if e.Start.After(today) {
			return nil
		}
		if e.End == nil || !e.End.Before(today) {
			out = append(out, Prompt{Kind: PromptInReach, Due: e.Start})
		}
		if e.End != nil && !e.End.After(today) && !e.End.Before(today.AddDate(0, 0, -dischargeLookback)) {
			out = append(out, Prompt{Kind: PromptDischargeFollowUp, Due: e.End.AddDate(0, 0, followUpDays)})
		}
	case "camhs_transition":
		if e.End != nil || e.DateOfBirth == nil {
			return nil
		}
		if b := e.DateOfBirth.AddDate(17, 0, 0); !b.After(today) {
			out = append(out, Prompt{Kind: PromptCAMHSTransition, Due: b})
		}
	}
	return out
}

// RaiseTransitionPrompts is the background job: for every person with an
// allocated or active referral, it reads their acute ward and CAMHS
// transition episodes from the trust's record and raises the prompts the
// rules call for to their worker, each once per episode (the unique
// constraint: several instances at once raise it once). It returns how
// many it raised.
func (s *Service) RaiseTransitionPrompts(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	l := now.In(app.London)
	today := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	raised := 0
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT e.id, e.setting, e.start_date, e.end_date, pe.date_of_birth, r.id, r.person_id,
			COALESCE(r.team_id, 0), r.allocated_worker_id, COALESCE(ss.discharge_follow_up_days, 0)
			FROM caseload_episodes e JOIN people pe ON pe.id = e.person_id
			JOIN referrals r ON r.person_id = e.person_id AND r.status IN ('allocated', 'active') AND r.allocated_worker_id IS NOT NULL
			LEFT JOIN teams t ON t.id = r.team_id LEFT JOIN support_settings ss ON ss.organisation_id = t.organisation_id
			WHERE e.setting IN ('acute_ward', 'camhs_transition') ORDER BY e.id`)
		if err != nil {
			return err
		}
		type cand struct {
			episode, referral, person, team, worker int64
			prompt                                  Prompt
		}
		var cands []cand
		for rows.Next() {
			var c cand
			var e Episode
			var end, dob sql.NullTime
			var days int
			if err := rows.Scan(&c.episode, &e.Setting, &e.Start, &end, &dob, &c.referral, &c.person, &c.team, &c.worker, &days); err != nil {
				rows.Close()
				return err
			}
			e.Start = e.Start.UTC()
			if end.Valid {
				t := end.Time.UTC()
				e.End = &t
			}
			if dob.Valid {
				t := dob.Time.UTC()
				e.DateOfBirth = &t
			}
			if days <= 0 {
				days = DefaultDischargeFollowUpDays
			}
			for _, p := range Prompts(e, today, days) {
				c.prompt = p
				cands = append(cands, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range cands {
			res, err := tx.ExecContext(ctx, `INSERT INTO transition_prompts (kind, episode_id, person_id, referral_id, team_id, worker_user_id, due_at, raised_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (kind, episode_id) DO NOTHING`,
				c.prompt.Kind, c.episode, c.person, c.referral, nullID(c.team), c.worker, c.prompt.Due, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				raised++
				if err := audit.Record(ctx, tx, now, app.Actor{Role: "operator", RequestID: "transition-prompts"}, audit.Event{Action: "transition_prompt.raise",
					SubjectPersonID: c.person, ObjectType: "transition_prompt", ObjectID: fmt.Sprintf("%s:%d", c.prompt.Kind, c.episode)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return raised, err
}

// RunTransitionPrompts runs RaiseTransitionPrompts every interval until
// ctx ends.
func (s *Service) RunTransitionPrompts(ctx context.Context, log *slog.Logger, interval time.Duration) {
	every(ctx, log, interval, "transition prompts raised", s.RaiseTransitionPrompts)
}

// TransitionPrompt is a prompt as the worker sees it.
type TransitionPrompt struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind" doc:"in_reach: the person was admitted to a ward, visit them there; discharge_follow_up: they were discharged, be in touch by due_at; camhs_transition: they are 17 on a CAMHS caseload, plan the move to adult services with the adult team."`
	PersonID   int64     `json:"person_id"`
	PersonName string    `json:"person_name"`
	ReferralID int64     `json:"referral_id"`
	Due        time.Time `json:"due_at"`
	// Done: for a discharge follow-up, a contact recorded or an appointment
	// that happened since the discharge was raised; Overdue: not done by
	// the time it was due.
	Done    bool `json:"done"`
	Overdue bool `json:"overdue"`
}

// MyPrompts lists the transition prompts of the people the caller is the
// worker of now (staff with support.work), newest due first, audited as
// one read naming each person. Anyone else gets none.
func (s *Service) MyPrompts(ctx context.Context, p *app.Principal) ([]TransitionPrompt, error) {
	if !p.Can(app.PermSupportWork) {
		return nil, access.ErrNotVisible
	}
	now := s.Clock.Now()
	out := []TransitionPrompt{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := store.NewArgs(p.UserID)
		rows, err := tx.QueryContext(ctx, `SELECT tp.id, tp.kind, tp.person_id, pe.preferred_name, tp.referral_id, tp.due_at, tp.raised_at,
			EXISTS (SELECT 1 FROM contacts c WHERE c.referral_id = tp.referral_id AND c.at >= tp.raised_at AND c.error_at IS NULL)
			OR EXISTS (SELECT 1 FROM appointments ap WHERE ap.referral_id = tp.referral_id AND ap.status IN ('arrived', 'fulfilled') AND ap.starts_at >= tp.raised_at)
			FROM transition_prompts tp JOIN people pe ON pe.id = tp.person_id JOIN referrals r ON r.id = tp.referral_id
			WHERE r.allocated_worker_id = $1 AND r.status IN ('allocated', 'active') AND `+access.Referrals(p, a)+`
			ORDER BY tp.due_at DESC, tp.id LIMIT 200`, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var t TransitionPrompt
			var raised time.Time
			if err := rows.Scan(&t.ID, &t.Kind, &t.PersonID, &t.PersonName, &t.ReferralID, &t.Due, &raised, &t.Done); err != nil {
				return err
			}
			t.Due = t.Due.UTC()
			t.Overdue = !t.Done && now.After(t.Due.AddDate(0, 0, 1))
			out = append(out, t)
			ids = append(ids, t.PersonID)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		record(p.ActorFor(app.PermSupportWork), audit.Event{Action: "transition_prompt.list", Subjects: ids, ObjectType: "transition_prompts",
			ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}
