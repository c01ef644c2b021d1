package matching

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// The matching service is the referral service's AllocationRules: every
// allocation, from the referral page, the API, a shortlist or a plan,
// passes its cap check and is recorded with the choices it met.
var _ referral.AllocationRules = (*Service)(nil)

type planKey struct{}

// withPlan marks allocations made while committing a plan.
func withPlan(ctx context.Context, id int64) context.Context {
	return context.WithValue(ctx, planKey{}, id)
}

func planOf(ctx context.Context) int64 { id, _ := ctx.Value(planKey{}).(int64); return id }

// excludedBy lists the workers a person asked not to have.
func excludedBy(ctx context.Context, tx *store.Tx, personID int64) ([]int64, error) {
	return tx.IDs(ctx, "SELECT worker_user_id FROM worker_exclusions WHERE person_id = $1 ORDER BY worker_user_id", personID)
}

// previousWorker is the worker who last supported a person, on this
// referral (when it is being given someone else) or an earlier one,
// leaving out workers the person asked not to have; 0 for none. Only the
// worker's id is used, to rank them first: the earlier referral itself is
// not shown.
func previousWorker(ctx context.Context, tx *store.Tx, personID, current int64, excluded []int64) (int64, error) {
	if current != 0 && !contains(excluded, current) {
		return current, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT allocated_worker_id FROM referrals WHERE person_id = $1 AND allocated_worker_id IS NOT NULL
		ORDER BY COALESCE(allocated_at, received_at) DESC, id DESC LIMIT 20`, personID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		if !contains(excluded, id) {
			return id, nil
		}
	}
	return 0, rows.Err()
}

func contains(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// CheckAllocation refuses, inside the allocation's transaction, a worker
// the person asked not to have (invalid), and a worker with no free place
// unless the lead gave a reason (conflict). The worker's caseload is
// counted under the worker's lock, so two leads taking the last place at
// once cannot both have it: the second waits, then finds it gone.
func (s *Service) CheckAllocation(ctx context.Context, tx *store.Tx, p *app.Principal, a referral.Allocation) error {
	r := a.Referral
	excluded, err := excludedBy(ctx, tx, r.PersonID)
	if err != nil {
		return err
	}
	if contains(excluded, a.WorkerID) {
		return app.Invalid(app.FieldError{Field: "worker_id", Message: "The person asked for a different worker than " + a.WorkerName + ". Choose someone else."})
	}
	if r.AllocatedWorkerID == a.WorkerID && (r.Status == referral.Allocated || r.Status == referral.Active) {
		return nil // already theirs: it takes no new place
	}
	if err := lockWorkers(ctx, tx, []int64{a.WorkerID}); err != nil {
		return err
	}
	ws, err := loadWorkers(ctx, tx, []int64{a.WorkerID})
	if err != nil {
		return err
	}
	w := ws[a.WorkerID]
	_, _, capNow, _ := w.caps(dateOnly(a.At))
	if w.caseload >= capNow && a.OverCapReason == "" {
		return &app.Error{Code: app.CodeConflict, Message: a.WorkerName + " has no free places: " + itoa(int64(w.caseload)) + " people allocated, and a cap of " +
			itoa(int64(capNow)) + " now. Choose a worker with a free place, or give a reason to allocate above the cap (their supervisor is told).",
			Fields: []app.FieldError{{Field: "over_cap_reason", Message: "Give a reason to allocate above " + firstName(a.WorkerName) + "'s cap, or choose someone else"}}}
	}
	return nil
}

// RecordAllocation records, inside the allocation's transaction, which of
// the person's choices the worker meets and which not, with an unmet-choice
// event for each one not met; and tells the worker's supervisors when the
// allocation was above the worker's cap.
func (s *Service) RecordAllocation(ctx context.Context, tx *store.Tx, p *app.Principal, a referral.Allocation) error {
	r := a.Referral
	choices, version, err := currentChoices(ctx, tx, r.PersonID)
	if err != nil {
		return err
	}
	excluded, err := excludedBy(ctx, tx, r.PersonID)
	if err != nil {
		return err
	}
	previous, err := previousWorker(ctx, tx, r.PersonID, r.AllocatedWorkerID, excluded)
	if err != nil {
		return err
	}
	themes, err := allThemes(ctx, tx)
	if err != nil {
		return err
	}
	ws, err := loadWorkers(ctx, tx, []int64{a.WorkerID})
	if err != nil {
		return err
	}
	w := ws[a.WorkerID]
	_, _, capNow, _ := w.caps(dateOnly(a.At))
	before := w.caseload
	if !(r.AllocatedWorkerID == a.WorkerID && (r.Status == referral.Allocated || r.Status == referral.Active)) {
		before-- // the count already includes this allocation
	}
	f := w.facts(dateOnly(a.At))
	crit, _ := Compare(choices, themes, previous, f)
	var met, unmet []Criterion
	for _, c := range crit {
		if c.Met {
			met = append(met, c)
		} else {
			unmet = append(unmet, c)
		}
	}
	overCap := before >= capNow && !(r.AllocatedWorkerID == a.WorkerID)
	var accepted any
	if r.AcceptedAt != nil {
		accepted = *r.AcceptedAt
	}
	var matchID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO allocation_matches (referral_id, person_id, team_id, worker_user_id, allocated_by_user_id, plan_id,
		choices_version, met, unmet, over_cap, over_cap_reason, caseload, cap, accepted_at, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		r.ID, r.PersonID, nullID(r.TeamID), a.WorkerID, nullID(p.UserID), nullID(planOf(ctx)), version, jsonText(orEmpty(met)), jsonText(orEmpty(unmet)),
		overCap, a.OverCapReason, max(before, 0), capNow, accepted, a.At).Scan(&matchID); err != nil {
		return err
	}
	for _, c := range unmet {
		if _, err := tx.ExecContext(ctx, `INSERT INTO unmet_choices (match_id, referral_id, person_id, team_id, kind, code, must, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, matchID, r.ID, r.PersonID, nullID(r.TeamID), c.Kind, c.Code, c.Must, a.At); err != nil {
			return err
		}
	}
	if overCap {
		return s.tellSupervisors(ctx, tx, p, a, w.teams)
	}
	return nil
}

func orEmpty(c []Criterion) []Criterion {
	if c == nil {
		return []Criterion{}
	}
	return c
}

// leadsOf lists the peer leads of teams, with the team each leads.
func leadsOf(ctx context.Context, tx *store.Tx, teams []int64) ([]app.Actor, error) {
	a := &store.Args{}
	in := a.IDs(tx.Dialect, teams)
	rows, err := tx.QueryContext(ctx, `SELECT m.user_id, MIN(m.team_id) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.role = 'peer_lead' AND u.status = 'active' AND m.team_id IN `+in+` GROUP BY m.user_id ORDER BY m.user_id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Actor
	for rows.Next() {
		var ac app.Actor
		if err := rows.Scan(&ac.UserID, &ac.TeamID); err != nil {
			return nil, err
		}
		ac.Role = app.RolePeerLead
		out = append(out, ac)
	}
	return out, rows.Err()
}

// tellSupervisors tells the leads of a worker's teams (but the one who
// did it) that the worker was allocated someone above their cap, and why;
// when that lead is the teams' only one, the service managers.
func (s *Service) tellSupervisors(ctx context.Context, tx *store.Tx, p *app.Principal, a referral.Allocation, teams []TeamRef) error {
	ids := make([]int64, len(teams))
	for i, t := range teams {
		ids[i] = t.ID
	}
	leads, err := leadsOf(ctx, tx, ids)
	if err != nil {
		return err
	}
	var others []app.Actor
	for _, l := range leads {
		if l.UserID != p.UserID {
			others = append(others, l)
		}
	}
	if len(others) == 0 {
		// The team's only lead did it: someone must still know, so the
		// service managers are told instead.
		if others, err = account.ManagersOf(ctx, tx, ids); err != nil {
			return err
		}
	}
	for _, l := range others {
		if l.UserID == p.UserID {
			continue
		}
		if err := s.Notify.Tell(ctx, tx, l.UserID, a.Referral.ID, notify.CapExceeded{Reference: a.Referral.Reference,
			WorkerFirstName: firstName(a.WorkerName), Reason: a.OverCapReason}); err != nil {
			return err
		}
		l.RequestID = p.RequestID
		if err := audit.Record(ctx, tx, a.At, l, audit.Event{Action: "notification.receive", SubjectPersonID: a.Referral.PersonID,
			ObjectType: "referral", ObjectID: itoa(a.Referral.ID)}); err != nil {
			return err
		}
	}
	return nil
}

// WorkerChange is a person asking for a different worker.
type WorkerChange struct {
	ReferralID int64 `json:"referral_id" required:"true" doc:"Your referral whose worker you would like changed."`
}

// WorkerChangeResult says what was recorded.
type WorkerChangeResult struct {
	ReferralID int64     `json:"referral_id"`
	WorkerID   int64     `json:"worker_id"`
	RecordedAt time.Time `json:"recorded_at"`
	Already    bool      `json:"already_asked" doc:"You had asked before; nothing more was needed."`
}

// AskForDifferentWorker records that the caller wants a different worker
// on one of their referrals — no reason is asked for — and tells the
// team's leads. From then on matching leaves that worker out for them.
// A referral that is not the caller's is not found; one with no worker
// allocated is a conflict.
func (s *Service) AskForDifferentWorker(ctx context.Context, p *app.Principal, referralID int64) (WorkerChangeResult, error) {
	now := s.Clock.Now()
	res := WorkerChangeResult{ReferralID: referralID, RecordedAt: now}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if p.PersonID == 0 {
			return errNotVisible
		}
		var ref, status string
		var worker sql.NullInt64
		var team sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT r.reference, r.status, r.allocated_worker_id, r.team_id FROM referrals r WHERE r.id = $1 AND r.person_id = $2`+
			tx.Dialect.ForUpdate(), referralID, p.PersonID).Scan(&ref, &status, &worker, &team)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotVisible
		} else if err != nil {
			return err
		}
		if !worker.Valid || (status != string(referral.Allocated) && status != string(referral.Active)) {
			return app.Errorf(app.CodeConflict, "No peer worker is allocated on this referral, so there is no one to change")
		}
		res.WorkerID = worker.Int64
		out, err := tx.ExecContext(ctx, `INSERT INTO worker_exclusions (person_id, worker_user_id, referral_id, recorded_by_user_id, at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id, worker_user_id) DO NOTHING`, p.PersonID, worker.Int64, referralID, p.UserID, now)
		if err != nil {
			return err
		}
		if n, _ := out.RowsAffected(); n == 0 {
			res.Already = true
		}
		m, _ := p.RoleFor(app.PermOwnRecord)
		if err := audit.Record(ctx, tx, now, actorAs(p, m), audit.Event{Action: "worker_change.request", SubjectPersonID: p.PersonID,
			ObjectType: "referral", ObjectID: itoa(referralID)}); err != nil {
			return err
		}
		if res.Already || !team.Valid {
			return nil
		}
		leads, err := leadsOf(ctx, tx, []int64{team.Int64})
		if err != nil {
			return err
		}
		for _, l := range leads {
			if err := s.Notify.Tell(ctx, tx, l.UserID, referralID, notify.WorkerChangeRequested{Reference: ref}); err != nil {
				return err
			}
			l.RequestID = p.RequestID
			if err := audit.Record(ctx, tx, now, l, audit.Event{Action: "notification.receive", SubjectPersonID: p.PersonID,
				ObjectType: "referral", ObjectID: itoa(referralID)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, s.denied(ctx, err, p, app.PermOwnRecord, "worker_change.request", "referral", referralID, "The referral")
	}
	return res, nil
}
