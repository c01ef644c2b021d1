package matching

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
)

// InsightQuery chooses the period and teams of the choice figures.
type InsightQuery struct {
	From, To time.Time // dates, inclusive
	Teams    []int64   // none: every team
}

// ChoiceInsight are the figures about choices and allocation. Counts from
// 1 to the threshold less one are withheld (null, suppressed: true).
type ChoiceInsight struct {
	From        string            `json:"from"`
	To          string            `json:"to"`
	Threshold   int               `json:"suppression_threshold" doc:"Counts from 1 to this less one are withheld."`
	Named       bool              `json:"named" doc:"Workers are named only for those who may see named staff."`
	UnmetByKind []KindCount       `json:"unmet_by_kind" doc:"Unmet choices in the period by kind, every team together."`
	Unmet       []UnmetCell       `json:"unmet" doc:"Unmet choices by team, month and kind."`
	Allocations []AllocationShare `json:"allocations" doc:"Per team: allocations made, those for people who had recorded choices, and the share of those meeting every choice."`
	Waits       []AllocationWait  `json:"days_to_allocate" doc:"Per team: whole days from joining the waiting list to being allocated a worker."`
	Caseloads   []WorkerLoad      `json:"caseloads" doc:"Each peer worker's caseload against the cap in force today."`
}

// KindCount is how often one kind of choice went unmet.
type KindCount struct {
	Kind       string `json:"kind"`
	Label      string `json:"label"`
	Count      *int   `json:"count"`
	Suppressed bool   `json:"suppressed"`
}

// UnmetCell is one team's unmet choices of one kind in one month.
type UnmetCell struct {
	TeamID     int64  `json:"team_id"`
	Team       string `json:"team"`
	Month      string `json:"month" doc:"YYYY-MM"`
	Kind       string `json:"kind"`
	Label      string `json:"label"`
	Count      *int   `json:"count"`
	Suppressed bool   `json:"suppressed"`
}

// AllocationShare is one team's allocations and how many met every choice.
type AllocationShare struct {
	TeamID         int64    `json:"team_id"`
	Team           string   `json:"team"`
	Allocations    *int     `json:"allocations"`
	WithChoices    *int     `json:"with_choices" doc:"Allocations for people who had recorded at least one choice matching uses."`
	EveryChoiceMet *int     `json:"every_choice_met" doc:"Of those, allocations that met every choice."`
	Share          *float64 `json:"share_every_choice_met" doc:"every_choice_met ÷ with_choices, from 0 to 1."`
	Suppressed     bool     `json:"suppressed"`
}

// AllocationWait is how long one team's people waited to be allocated.
type AllocationWait struct {
	TeamID      int64    `json:"team_id"`
	Team        string   `json:"team"`
	Allocations *int     `json:"allocations"`
	MedianDays  *float64 `json:"median_days"`
	P90Days     *float64 `json:"p90_days"`
	Suppressed  bool     `json:"suppressed"`
}

// WorkerLoad is one worker's caseload against their cap.
type WorkerLoad struct {
	WorkerID int64    `json:"worker_id,omitempty" doc:"Only when named."`
	Worker   string   `json:"worker" doc:"The worker's name, or a label such as Worker C in a team when not named."`
	Teams    []string `json:"teams"`
	Caseload int      `json:"caseload"`
	Cap      int      `json:"cap"`
	Over     bool     `json:"over_cap"`
}

// count hides a small count: nil and true when suppressed.
func (s *Service) count(n int) (*int, bool) {
	if s.Suppress.Suppressed(n) {
		return nil, true
	}
	return &n, false
}

// Insight computes the choice and allocation figures for a period. Only
// aggregates leave it; workers are named only for a caller with the
// named-staff permission.
func (s *Service) Insight(ctx context.Context, p *app.Principal, q InsightQuery) (ChoiceInsight, error) {
	if q.To.IsZero() {
		q.To = dateOnly(s.Clock.Now())
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(-1, 0, 1)
	}
	if q.To.Before(q.From) {
		return ChoiceInsight{}, app.Invalid(app.FieldError{Field: "from", Message: "The start of the period must be on or before its end"})
	}
	out := ChoiceInsight{From: q.From.Format("2006-01-02"), To: q.To.Format("2006-01-02"), Threshold: s.Suppress.Threshold,
		Named: p.Can(app.PermInsightNamed), UnmetByKind: []KindCount{}, Unmet: []UnmetCell{}, Allocations: []AllocationShare{},
		Waits: []AllocationWait{}, Caseloads: []WorkerLoad{}}
	from, to := q.From, q.To.AddDate(0, 0, 1)
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		teamNames, err := teamNames(ctx, tx)
		if err != nil {
			return err
		}
		teamCond := func(a *store.Args, col string) string {
			if len(q.Teams) == 0 {
				return "1 = 1"
			}
			return col + " IN " + store.In(a, q.Teams...)
		}
		// Unmet choices by kind, team and month.
		a := store.NewArgs(from, to)
		rows, err := tx.QueryContext(ctx, `SELECT uc.kind, COALESCE(uc.team_id, 0), `+tx.Dialect.YearMonth("uc.at")+`, COUNT(*)
			FROM unmet_choices uc WHERE uc.at >= $1 AND uc.at < $2 AND `+teamCond(a, "uc.team_id")+`
			GROUP BY uc.kind, uc.team_id, `+tx.Dialect.YearMonth("uc.at"), a.Values()...)
		if err != nil {
			return err
		}
		byKind := map[string]int{}
		for rows.Next() {
			var kind string
			var team int64
			var ym, n int
			if err := rows.Scan(&kind, &team, &ym, &n); err != nil {
				rows.Close()
				return err
			}
			byKind[kind] += n
			c := UnmetCell{TeamID: team, Team: teamNames[team], Month: fmt.Sprintf("%04d-%02d", ym/100, ym%100), Kind: kind, Label: app.ChoiceLabel(Kinds, kind)}
			c.Count, c.Suppressed = s.count(n)
			out.Unmet = append(out.Unmet, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		sort.Slice(out.Unmet, func(i, j int) bool {
			a, b := out.Unmet[i], out.Unmet[j]
			if a.Team != b.Team {
				return a.Team < b.Team
			}
			if a.Month != b.Month {
				return a.Month < b.Month
			}
			return kindPos(a.Kind) < kindPos(b.Kind)
		})
		for _, k := range Kinds {
			kc := KindCount{Kind: k.Code, Label: k.Label}
			kc.Count, kc.Suppressed = s.count(byKind[k.Code])
			out.UnmetByKind = append(out.UnmetByKind, kc)
		}
		// Allocations, choices met and waits, per team.
		a = store.NewArgs(from, to)
		rows, err = tx.QueryContext(ctx, `SELECT COALESCE(am.team_id, 0), am.choices_version > 0, am.unmet, am.accepted_at, am.at
			FROM allocation_matches am WHERE am.at >= $1 AND am.at < $2 AND `+teamCond(a, "am.team_id"), a.Values()...)
		if err != nil {
			return err
		}
		type agg struct {
			n, withChoices, allMet int
			days                   []float64
		}
		aggs := map[int64]*agg{}
		for rows.Next() {
			var team int64
			var chose bool
			var unmet string
			var accepted *time.Time
			var at time.Time
			if err := rows.Scan(&team, &chose, &unmet, &accepted, &at); err != nil {
				rows.Close()
				return err
			}
			g := aggs[team]
			if g == nil {
				g = &agg{}
				aggs[team] = g
			}
			g.n++
			if chose {
				g.withChoices++
				if unmet == "[]" {
					g.allMet++
				}
			}
			if accepted != nil && !at.Before(*accepted) {
				g.days = append(g.days, math.Floor(at.Sub(*accepted).Hours()/24))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		teams := make([]int64, 0, len(aggs))
		for t := range aggs {
			teams = append(teams, t)
		}
		slices.SortFunc(teams, func(a, b int64) int {
			if teamNames[a] != teamNames[b] {
				if teamNames[a] < teamNames[b] {
					return -1
				}
				return 1
			}
			return cmpInt64(a, b)
		})
		for _, t := range teams {
			g := aggs[t]
			sh := AllocationShare{TeamID: t, Team: teamNames[t]}
			var s1, s2, s3 bool
			sh.Allocations, s1 = s.count(g.n)
			sh.WithChoices, s2 = s.count(g.withChoices)
			sh.EveryChoiceMet, s3 = s.count(g.allMet)
			sh.Suppressed = s1 || s2 || s3
			if !s2 && !s3 && g.withChoices >= max(s.Suppress.Threshold, 1) {
				v := float64(g.allMet) / float64(g.withChoices)
				sh.Share = &v
			}
			out.Allocations = append(out.Allocations, sh)
			wt := AllocationWait{TeamID: t, Team: teamNames[t]}
			wt.Allocations, wt.Suppressed = s.count(len(g.days))
			if !wt.Suppressed && len(g.days) > 0 {
				m, p90 := stats.Median(g.days), stats.Percentile(g.days, 0.9)
				wt.MedianDays, wt.P90Days = &m, &p90
			}
			out.Waits = append(out.Waits, wt)
		}
		return s.caseloads(ctx, tx, &out, q.Teams)
	})
	return out, err
}

func kindPos(kind string) int {
	for i, k := range Kinds {
		if k.Code == kind {
			return i
		}
	}
	return len(Kinds)
}

// teamNames names every team.
func teamNames(ctx context.Context, tx *store.Tx) (map[int64]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, name FROM teams")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{0: "No team"}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// caseloads adds each peer worker's caseload against their cap.
func (s *Service) caseloads(ctx context.Context, tx *store.Tx, out *ChoiceInsight, teams []int64) error {
	a := &store.Args{}
	cond := "1 = 1"
	if len(teams) > 0 {
		cond = "m.team_id IN " + store.In(a, teams...)
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.role = 'peer_worker' AND u.status = 'active' AND m.team_id IS NOT NULL AND `+cond+` ORDER BY m.user_id`, a.Values()...)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ws, err := loadWorkers(ctx, tx, ids)
	if err != nil {
		return err
	}
	day := dateOnly(s.Clock.Now())
	for _, id := range ids {
		w := ws[id]
		_, _, capNow, _ := w.caps(day)
		wl := WorkerLoad{Caseload: w.caseload, Cap: capNow, Over: w.caseload > capNow, Teams: []string{}}
		for _, t := range w.teams {
			wl.Teams = append(wl.Teams, t.Name)
		}
		if out.Named {
			wl.WorkerID, wl.Worker = id, w.name
		}
		out.Caseloads = append(out.Caseloads, wl)
	}
	sort.SliceStable(out.Caseloads, func(i, j int) bool {
		a, b := out.Caseloads[i], out.Caseloads[j]
		ta, tb := firstOr(a.Teams), firstOr(b.Teams)
		if ta != tb {
			return ta < tb
		}
		if out.Named {
			return a.Worker < b.Worker
		}
		return a.Caseload > b.Caseload
	})
	if !out.Named {
		perTeam := map[string]int{}
		for i := range out.Caseloads {
			t := firstOr(out.Caseloads[i].Teams)
			out.Caseloads[i].Worker = "Worker " + string(rune('A'+perTeam[t]%26))
			if perTeam[t] >= 26 {
				out.Caseloads[i].Worker += fmt.Sprint(perTeam[t] / 26)
			}
			perTeam[t]++
		}
	}
	return nil
}

func firstOr(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}
