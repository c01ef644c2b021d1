package support

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
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
		// A retried transaction (store.DB.Write retries one that met a
		// deadlock or a serialization failure) starts again from nothing.
		raised = 0
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
	// Done: marked done by the worker, or (an in-reach visit or a
	// discharge follow-up) a contact recorded or an appointment that
	// happened since it was raised; a CAMHS transition plan is done only
	// when marked. Overdue: not done by the time it was due.
	Done     bool       `json:"done"`
	Overdue  bool       `json:"overdue"`
	DoneAt   *time.Time `json:"done_at,omitempty" doc:"When the worker marked it done; absent when it is not, or is done by a contact."`
	DoneNote string     `json:"done_note,omitempty" doc:"What the worker said was done."`
}

// PromptDone is the worker marking a prompt done: what was done, in a few
// words (a transition plan agreed with the adult team, a ward visit made).
type PromptDone struct {
	Note string `json:"note" required:"true" doc:"What was done, in a few words (up to 500 characters)."`
}

// maxPromptNote is how long a prompt's done note may be.
const maxPromptNote = 500

// MyPrompts lists the transition prompts of the people the caller is the
// worker of now (staff with support.work), newest due first, audited as
// one read naming each person. Anyone else gets none.
func (s *Service) MyPrompts(ctx context.Context, p *app.Principal) ([]TransitionPrompt, error) {
	if !p.Can(app.PermSupportWork) {
		return nil, access.ErrNotVisible
	}
	var out []TransitionPrompt
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if out, err = myPrompts(ctx, tx, p, s.Clock.Now(), 0); err != nil {
			return err
		}
		ids := make([]int64, len(out))
		for i, t := range out {
			ids[i] = t.PersonID
		}
		record(p.ActorFor(app.PermSupportWork), audit.Event{Action: "transition_prompt.list", Subjects: ids, ObjectType: "transition_prompts",
			ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// myPrompts reads the caller's prompts (the people they are the worker of
// now, within their scope of referrals), or only the prompt id when it is
// not 0.
func myPrompts(ctx context.Context, tx *store.Tx, p *app.Principal, now time.Time, id int64) ([]TransitionPrompt, error) {
	a := store.NewArgs(p.UserID)
	one := ""
	if id != 0 {
		one = " AND tp.id = " + a.Add(id)
	}
	rows, err := tx.QueryContext(ctx, `SELECT tp.id, tp.kind, tp.person_id, pe.preferred_name, tp.referral_id, tp.due_at, tp.done_at, tp.done_note,
		tp.done_at IS NOT NULL OR tp.kind <> 'camhs_transition' AND (
			EXISTS (SELECT 1 FROM contacts c WHERE c.referral_id = tp.referral_id AND c.at >= tp.raised_at AND c.error_at IS NULL)
			OR EXISTS (SELECT 1 FROM appointments ap WHERE ap.referral_id = tp.referral_id AND ap.status IN ('arrived', 'fulfilled') AND ap.starts_at >= tp.raised_at))
		FROM transition_prompts tp JOIN people pe ON pe.id = tp.person_id JOIN referrals r ON r.id = tp.referral_id
		WHERE r.allocated_worker_id = $1 AND r.status IN ('allocated', 'active') AND `+access.Referrals(p, a)+one+`
		ORDER BY tp.due_at DESC, tp.id LIMIT 200`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TransitionPrompt{}
	for rows.Next() {
		var t TransitionPrompt
		var doneAt sql.NullTime
		if err := rows.Scan(&t.ID, &t.Kind, &t.PersonID, &t.PersonName, &t.ReferralID, &t.Due, &doneAt, &t.DoneNote, &t.Done); err != nil {
			return nil, err
		}
		t.Due = t.Due.UTC()
		if doneAt.Valid {
			at := doneAt.Time.UTC()
			t.DoneAt = &at
		}
		t.Overdue = !t.Done && now.After(t.Due.AddDate(0, 0, 1))
		out = append(out, t)
	}
	return out, rows.Err()
}

// MarkPromptDone records that the worker did what a prompt asked, with
// what was done in a few words. Only the person's worker now marks it (as
// only they see it); it is marked once — a second mark, or two at once, is
// a conflict, and the first note stands.
func (s *Service) MarkPromptDone(ctx context.Context, p *app.Principal, id int64, in PromptDone) (TransitionPrompt, error) {
	in.Note = strings.TrimSpace(in.Note)
	var problems app.Problems
	if in.Note == "" {
		problems.Add("note", "Say in a few words what was done")
	}
	problems.CheckLen("note", in.Note, maxPromptNote, "What was done")
	if err := problems.Err(); err != nil {
		return TransitionPrompt{}, err
	}
	var out TransitionPrompt
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if !p.Can(app.PermSupportWork) {
			return access.ErrNotVisible
		}
		now := s.Clock.Now()
		found, err := myPrompts(ctx, tx, p, now, id)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return access.ErrNotVisible
		}
		if found[0].DoneAt != nil {
			return app.Errorf(app.CodeConflict, "This was already marked done")
		}
		// Still undone, and the caller still the person's worker when the
		// write runs: a reallocation committed since the read is seen.
		if err := tx.ExecOne(ctx, app.Errorf(app.CodeConflict, "This was marked done, or the person's worker changed, at the same moment"),
			`UPDATE transition_prompts SET done_at = $1, done_by_user_id = $2, done_note = $3 WHERE id = $4 AND done_at IS NULL
			AND EXISTS (SELECT 1 FROM referrals r WHERE r.id = transition_prompts.referral_id AND r.allocated_worker_id = $2 AND r.status IN ('allocated', 'active'))`,
			now, p.UserID, in.Note, id); err != nil {
			return err
		}
		if found, err = myPrompts(ctx, tx, p, now, id); err != nil {
			return err
		}
		out = found[0]
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSupportWork), audit.Event{Action: "transition_prompt.done",
			SubjectPersonID: out.PersonID, ObjectType: "transition_prompt", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermSupportWork, "transition_prompt.done", "transition_prompt", id, "The prompt")
	}
	return out, nil
}
