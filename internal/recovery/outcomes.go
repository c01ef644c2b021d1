package recovery

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
)

// OutcomeQuery asks for outcomes over a period (From inclusive, To
// exclusive) for some teams (none: every team).
type OutcomeQuery struct {
	From, To time.Time
	Teams    []int64
}

// ItemOutcome is the change in one DIALOG+ item (or the mean of all
// eleven) between each person's first and latest session in the period.
type ItemOutcome struct {
	Item       string   `json:"item" doc:"An item code, or \"mean\" for the mean of the eleven."`
	Label      string   `json:"label"`
	People     Figure   `json:"people"`
	FirstMean  *float64 `json:"first_mean" doc:"Mean rating at each person's first session in the period (1 to 7)."`
	LaterMean  *float64 `json:"later_mean" doc:"Mean rating at each person's latest session in the period."`
	Change     *float64 `json:"change" doc:"Mean of each person's change (later − first)."`
	Lower95    *float64 `json:"lower_95" doc:"95% confidence interval for the change (paired, Student's t)."`
	Upper95    *float64 `json:"upper_95"`
	Suppressed bool     `json:"suppressed" doc:"Fewer people than the disclosure threshold: nothing is shown."`
}

// Outcomes are what services report from recovery and voice: people's
// DIALOG+ change, goals, reviews held on time, and feedback answered on
// time and leading to a change, small numbers suppressed.
type Outcomes struct {
	From                       string        `json:"from" doc:"YYYY-MM-DD"`
	To                         string        `json:"to" doc:"YYYY-MM-DD, the last day included."`
	Teams                      []int64       `json:"teams"`
	PeopleWithRepeatDialog     Figure        `json:"people_with_first_and_later_dialog"`
	Items                      []ItemOutcome `json:"items"`
	Overall                    ItemOutcome   `json:"overall"`
	GoalsSet                   Figure        `json:"goals_set"`
	GoalsAchieved              Figure        `json:"goals_achieved"`
	ReviewsHeld                Figure        `json:"reviews_held"`
	ReviewsOnTime              Figure        `json:"reviews_on_time" doc:"Held no later than a week after they were due."`
	ReviewsOnTimeShare         Share         `json:"reviews_on_time_share"`
	FeedbackReceived           Figure        `json:"feedback_received"`
	FeedbackAcknowledgedOnTime Figure        `json:"feedback_acknowledged_on_time"`
	FeedbackAnswered           Figure        `json:"feedback_answered"`
	FeedbackAnsweredOnTime     Figure        `json:"feedback_answered_on_time"`
	FeedbackAnsweredShare      Share         `json:"feedback_answered_on_time_share" doc:"Of the feedback received in the period, the share answered within the target."`
	FeedbackChanged            Figure        `json:"feedback_leading_to_change"`
	SuppressBelow              int           `json:"suppress_below"`
}

// Outcomes computes outcomes for a period and teams. Only those who may
// read insight may ask; the answer holds counts and means, never a person.
func (s *Service) Outcomes(ctx context.Context, p *app.Principal, q OutcomeQuery) (Outcomes, error) {
	if !p.Can(app.PermInsightRead) {
		return Outcomes{}, app.Errorf(app.CodeForbidden, "Only analysts and service managers can see outcomes.")
	}
	if !q.To.After(q.From) {
		return Outcomes{}, app.Invalid(app.FieldError{Field: "from", Message: "from must be on or before to"})
	}
	out := Outcomes{From: q.From.Format("2006-01-02"), To: q.To.AddDate(0, 0, -1).Format("2006-01-02"), Teams: q.Teams, Items: []ItemOutcome{},
		SuppressBelow: s.suppressor().Threshold}
	if out.Teams == nil {
		out.Teams = []int64{}
	}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		teamCond := func(a *store.Args, col string) string {
			if len(q.Teams) == 0 {
				return ""
			}
			return " AND " + col + " IN " + store.In(a, q.Teams...)
		}
		if err := s.dialogOutcomes(ctx, tx, q, teamCond, &out); err != nil {
			return err
		}
		count := func(query string, a *store.Args) (int, error) {
			var n int
			err := tx.QueryRowContext(ctx, query, a.Values()...).Scan(&n)
			return n, err
		}
		a := store.NewArgs(q.From, q.To)
		set, err := count("SELECT COUNT(*) FROM recovery_goals g WHERE g.created_at >= $1 AND g.created_at < $2"+teamCond(a, "g.team_id"), a)
		if err != nil {
			return err
		}
		a = store.NewArgs(q.From, q.To)
		achieved, err := count("SELECT COUNT(*) FROM recovery_goals g WHERE g.progress = 'achieved' AND g.achieved_at >= $1 AND g.achieved_at < $2"+teamCond(a, "g.team_id"), a)
		if err != nil {
			return err
		}
		out.GoalsSet, out.GoalsAchieved = s.figure(set), s.figure(achieved)

		a = store.NewArgs(q.From, q.To)
		rows, err := tx.QueryContext(ctx, "SELECT rv.held_at, rv.due_at FROM recovery_reviews rv WHERE rv.status = 'held' AND rv.held_at >= $1 AND rv.held_at < $2"+
			teamCond(a, "rv.team_id"), a.Values()...)
		if err != nil {
			return err
		}
		held, onTime := 0, 0
		for rows.Next() {
			var h, d time.Time
			if err := rows.Scan(&h, &d); err != nil {
				rows.Close()
				return err
			}
			held++
			if !h.After(d.Add(OnTimeGrace)) {
				onTime++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		out.ReviewsHeld, out.ReviewsOnTime, out.ReviewsOnTimeShare = s.figure(held), s.figure(onTime), s.share(onTime, held)

		a = store.NewArgs(q.From, q.To)
		rows, err = tx.QueryContext(ctx, "SELECT f.received_at, f.acknowledged_at, f.answered_at, f.changed_at FROM feedback f WHERE f.received_at >= $1 AND f.received_at < $2"+
			teamCond(a, "f.team_id"), a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		received, ackOnTime, answered, ansOnTime, changed := 0, 0, 0, 0, 0
		for rows.Next() {
			var rec time.Time
			var ack, ans, chg sql.NullTime
			if err := rows.Scan(&rec, &ack, &ans, &chg); err != nil {
				return err
			}
			received++
			if ack.Valid && !ack.Time.After(AddWorkingDays(rec.UTC(), s.ackDays())) {
				ackOnTime++
			}
			if ans.Valid {
				answered++
				if !ans.Time.After(AddWorkingDays(rec.UTC(), s.answerDays())) {
					ansOnTime++
				}
			}
			if chg.Valid {
				changed++
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		out.FeedbackReceived, out.FeedbackAcknowledgedOnTime = s.figure(received), s.figure(ackOnTime)
		out.FeedbackAnswered, out.FeedbackAnsweredOnTime, out.FeedbackChanged = s.figure(answered), s.figure(ansOnTime), s.figure(changed)
		out.FeedbackAnsweredShare = s.share(ansOnTime, received)
		return nil
	})
	return out, err
}

// dialogOutcomes pairs each person's first and latest session in the
// period and summarises the change per item.
func (s *Service) dialogOutcomes(ctx context.Context, tx *store.Tx, q OutcomeQuery, teamCond func(*store.Args, string) string, out *Outcomes) error {
	a := store.NewArgs(q.From, q.To)
	rows, err := tx.QueryContext(ctx, "SELECT s.person_id, s.id FROM dialog_sessions s WHERE s.at >= $1 AND s.at < $2"+teamCond(a, "s.team_id")+
		" ORDER BY s.person_id, s.at, s.id", a.Values()...)
	if err != nil {
		return err
	}
	type pair struct{ first, last int64 }
	pairs := map[int64]*pair{}
	var order []int64
	for rows.Next() {
		var person, id int64
		if err := rows.Scan(&person, &id); err != nil {
			rows.Close()
			return err
		}
		pr, ok := pairs[person]
		if !ok {
			pr = &pair{first: id}
			pairs[person] = pr
			order = append(order, person)
		}
		pr.last = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var ids []int64
	for _, person := range order {
		if pr := pairs[person]; pr.first != pr.last {
			ids = append(ids, pr.first, pr.last)
		}
	}
	ratings := map[int64]map[Item]int{}
	if len(ids) > 0 {
		b := &store.Args{}
		rows, err := tx.QueryContext(ctx, "SELECT r.session_id, r.item, r.rating FROM dialog_ratings r WHERE r.session_id IN "+b.IDs(tx.Dialect, ids), b.Values()...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var it Item
			var v int
			if err := rows.Scan(&id, &it, &v); err != nil {
				rows.Close()
				return err
			}
			if ratings[id] == nil {
				ratings[id] = map[Item]int{}
			}
			ratings[id][it] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	people := len(ids) / 2
	out.PeopleWithRepeatDialog = s.figure(people)
	summarise := func(code, label string, value func(session int64) (float64, bool)) ItemOutcome {
		o := ItemOutcome{Item: code, Label: label}
		var firsts, lasts, diffs []float64
		for _, person := range order {
			pr := pairs[person]
			if pr.first == pr.last {
				continue
			}
			f, ok1 := value(pr.first)
			l, ok2 := value(pr.last)
			if ok1 && ok2 {
				firsts, lasts, diffs = append(firsts, f), append(lasts, l), append(diffs, l-f)
			}
		}
		o.People = s.figure(len(diffs))
		if len(diffs) == 0 || s.suppressor().Suppressed(len(diffs)) {
			o.Suppressed = len(diffs) > 0
			return o
		}
		fm, lm := mean(firsts), mean(lasts)
		change, lo, hi := stats.PairedMeanDifference(diffs, 0.95)
		o.FirstMean, o.LaterMean, o.Change, o.Lower95, o.Upper95 = num(fm), num(lm), num(change), num(lo), num(hi)
		return o
	}
	for _, it := range Items {
		code := it.Code
		out.Items = append(out.Items, summarise(string(code), it.Label, func(id int64) (float64, bool) {
			v, ok := ratings[id][code]
			return float64(v), ok
		}))
	}
	out.Overall = summarise("mean", "All eleven items (mean)", func(id int64) (float64, bool) {
		r := ratings[id]
		if len(r) == 0 {
			return 0, false
		}
		sum := 0
		for _, v := range r {
			sum += v
		}
		return float64(sum) / float64(len(r)), true
	})
	return nil
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// num rounds to three places for publication, and leaves NaN out.
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r := math.Round(v*1000) / 1000
	return &r
}
