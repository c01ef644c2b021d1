package matching

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// LongAbsenceDays is how long a period away (a capacity reduction to 0%)
// must last before the people of a worker away are listed for
// reassignment; shorter absences are covered by the team.
const LongAbsenceDays = 14

// absenceLookahead is how soon a long absence must start to be listed:
// a lead sees it a week ahead and can arrange a warm handover.
const absenceLookahead = 7

// Why a person needs another worker.
const (
	WhyWorkerLeft = "worker_left"
	WhyWorkerAway = "worker_away"
)

// Period is a worker's period away (a capacity reduction to 0%), in whole
// days, for Absence.
type Period struct {
	StartsOn, EndsOn time.Time // dates, at midnight UTC
}

// Absence finds, among a worker's periods away, the one that makes their
// people need reassigning on today: a period of at least LongAbsenceDays
// days that has not ended and starts within a week. It is pure.
func Absence(periods []Period, today time.Time) (Period, bool) {
	for _, p := range periods {
		days := int(p.EndsOn.Sub(p.StartsOn).Hours()/24) + 1
		if days >= LongAbsenceDays && !p.EndsOn.Before(today) && !p.StartsOn.After(today.AddDate(0, 0, absenceLookahead)) {
			return p, true
		}
	}
	return Period{}, false
}

// Reassignment is one person whose worker has left or will be away long.
type Reassignment struct {
	ReferralID int64  `json:"referral_id"`
	Reference  string `json:"reference"`
	PersonID   int64  `json:"person_id"`
	PersonName string `json:"person_name"`
	TeamID     int64  `json:"team_id"`
	WorkerID   int64  `json:"worker_id"`
	WorkerName string `json:"worker_name"`
	Why        string `json:"why" doc:"worker_left: the worker's account is closed; worker_away: the worker is away for 14 days or more (a capacity reduction to 0%), from away_from to away_until."`
	AwayFrom   string `json:"away_from,omitempty" doc:"YYYY-MM-DD."`
	AwayUntil  string `json:"away_until,omitempty" doc:"YYYY-MM-DD."`
}

// NeedsReassignment lists, for a peer lead, the people in the teams they
// lead whose allocated worker has left (their account is no longer
// active) or is away for LongAbsenceDays or more, starting within a week;
// audited as one read naming each person listed. Anyone who leads no team
// is forbidden. The lead reallocates from the referral (the one allocation
// step).
func (s *Service) NeedsReassignment(ctx context.Context, p *app.Principal) ([]Reassignment, error) {
	teams := p.TeamsAs(app.RolePeerLead)
	if len(teams) == 0 {
		return nil, app.Errorf(app.CodeForbidden, "Only a peer lead sees who needs another worker, for the teams they lead")
	}
	today := s.Clock.Now().In(app.London)
	todayDate := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	out := []Reassignment{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := store.NewArgs()
		rows, err := tx.QueryContext(ctx, `SELECT r.id, r.reference, r.person_id, pe.preferred_name, r.team_id, u.id, u.name, u.status
			FROM referrals r JOIN people pe ON pe.id = r.person_id JOIN users u ON u.id = r.allocated_worker_id
			WHERE r.status IN ('allocated', 'active') AND r.team_id IN `+store.In(a, teams...)+` AND `+access.Referrals(p, a)+`
			AND (u.status <> 'active' OR EXISTS (SELECT 1 FROM capacity_reductions cr WHERE cr.user_id = u.id AND cr.percent = 0))
			ORDER BY u.name, u.id, r.id`, a.Values()...)
		if err != nil {
			return err
		}
		type row struct {
			Reassignment
			status string
		}
		var cands []row
		var workers []int64
		for rows.Next() {
			var c row
			if err := rows.Scan(&c.ReferralID, &c.Reference, &c.PersonID, &c.PersonName, &c.TeamID, &c.WorkerID, &c.WorkerName, &c.status); err != nil {
				rows.Close()
				return err
			}
			cands = append(cands, c)
			if !slices.Contains(workers, c.WorkerID) {
				workers = append(workers, c.WorkerID)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(cands) == 0 {
			if err == nil {
				record(p.ActorFor(app.PermReferralTriage), audit.Event{Action: "reassignment.list", ObjectType: "reassignments", ObjectID: "results=0"})
			}
			return err
		}
		away := map[int64][]Period{}
		b := store.NewArgs()
		prow, err := tx.QueryContext(ctx, `SELECT user_id, starts_on, ends_on FROM capacity_reductions WHERE percent = 0 AND user_id IN `+
			store.In(b, workers...)+` ORDER BY user_id, starts_on`, b.Values()...)
		if err != nil {
			return err
		}
		for prow.Next() {
			var uid int64
			var per Period
			if err := prow.Scan(&uid, &per.StartsOn, &per.EndsOn); err != nil {
				prow.Close()
				return err
			}
			per.StartsOn, per.EndsOn = per.StartsOn.UTC(), per.EndsOn.UTC()
			away[uid] = append(away[uid], per)
		}
		prow.Close()
		if err := prow.Err(); err != nil {
			return err
		}
		var ids []int64
		for _, c := range cands {
			r := c.Reassignment
			if c.status != "active" {
				r.Why = WhyWorkerLeft
			} else if per, ok := Absence(away[c.WorkerID], todayDate); ok {
				r.Why, r.AwayFrom, r.AwayUntil = WhyWorkerAway, per.StartsOn.Format(time.DateOnly), per.EndsOn.Format(time.DateOnly)
			} else {
				continue
			}
			out = append(out, r)
			if !slices.Contains(ids, r.PersonID) {
				ids = append(ids, r.PersonID)
			}
		}
		record(p.ActorFor(app.PermReferralTriage), audit.Event{Action: "reassignment.list", Subjects: ids, ObjectType: "reassignments",
			ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}
