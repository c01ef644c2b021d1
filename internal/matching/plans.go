package matching

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// maxPlanTeams bounds how many teams one plan covers.
const maxPlanTeams = 50

// NewPlan asks for a plan.
type NewPlan struct {
	Teams []int64 `json:"teams" required:"true" doc:"The teams whose waiting lists to plan: teams you lead."`
}

// PlanLine is one line of a plan as the lead commits it.
type PlanLine struct {
	ReferralID    int64  `json:"referral_id" required:"true"`
	WorkerID      int64  `json:"worker_id" required:"true" doc:"The worker to allocate; 0 leaves the person on the waiting list."`
	OverCapReason string `json:"over_cap_reason,omitempty" doc:"Needed when the worker would go above their cap: why. Their supervisor is told."`
}

// CommitPlan is the plan as the lead reviewed and edited it.
type CommitPlan struct {
	Assignments []PlanLine `json:"assignments" required:"true" doc:"Every allocation to make, usually the plan's own assignments, edited as needed. People not listed stay on the waiting list."`
}

// Committed is what committing a plan did.
type Committed struct {
	ID          int64        `json:"id"`
	CommittedAt time.Time    `json:"committed_at"`
	Allocated   []Assignment `json:"allocated"`
	Waiting     []int64      `json:"still_waiting" doc:"Referral ids of the plan's people left on the waiting list."`
}

// StaleError refuses a plan that no longer matches the waiting list, the
// workers or the people's choices, saying what changed.
type StaleError struct {
	Changes []PlanChange
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("the plan is stale: %d changes", len(e.Changes))
}

// AsAppError presents a stale plan as a conflict.
func (e *StaleError) AsAppError() *app.Error {
	return &app.Error{Code: app.CodeConflict, Err: e, Message: fmt.Sprintf("This plan is out of date: %s since it was made. Nothing was allocated. Make a new plan.",
		plural(len(e.Changes), "thing has changed", "things have changed"))}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// planState is everything a plan is computed from, with what is compared
// at commit.
type planState struct {
	in       PlanInput
	refVer   map[int64]int // referral → version
	choiceV  map[int64]int // person → choices version
	excl     map[int64]int // person → workers asked not to have
	workers  map[int64]*workerState
	pairs    map[string]bool // "team:worker" allocatable
	refNames map[int64]string
}

// loadPlanState reads a waiting list and its workers inside tx: accepted
// referrals of the teams that the caller may see, in referral order.
func (s *Service) loadPlanState(ctx context.Context, tx *store.Tx, p *app.Principal, teams []int64, now time.Time) (*planState, error) {
	st := &planState{refVer: map[int64]int{}, choiceV: map[int64]int{}, excl: map[int64]int{}, pairs: map[string]bool{}, refNames: map[int64]string{}}
	day := dateOnly(now)
	a := &store.Args{}
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.person_id, r.team_id, r.reference, pe.preferred_name, r.received_at, r.first_contact_at, r.version, r.urgency,
		`+referral.RiskAlertOpen+`
		FROM referrals r JOIN people pe ON pe.id = r.person_id
		WHERE r.status = 'accepted' AND r.team_id IN `+store.In(a, teams...)+` AND `+access.Referrals(p, a)+` ORDER BY r.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var w Waiting
		var received time.Time
		var first sql.NullTime
		var version int
		if err := rows.Scan(&w.ReferralID, &w.PersonID, &w.TeamID, &w.Reference, &w.PersonName, &received, &first, &version, &w.Urgency, &w.Risk); err != nil {
			rows.Close()
			return nil, err
		}
		w.DaysWaited = int(math.Floor(now.Sub(received).Hours() / 24))
		std := s.Referrals.Standard(referral.Urgency(w.Urgency)) // the waiting list's own standard for its urgency
		w.Urgent = !first.Valid && std > 0 && now.Sub(received) > std
		st.in.People = append(st.in.People, w)
		st.refVer[w.ReferralID] = version
		st.refNames[w.ReferralID] = w.Reference
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if st.in.Themes, err = allThemes(ctx, tx); err != nil {
		return nil, err
	}
	ids := make([]int64, len(st.in.People))
	for i, w := range st.in.People {
		ids[i] = w.PersonID
	}
	facts, err := peopleFacts(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for i := range st.in.People {
		w := &st.in.People[i]
		f := facts[w.PersonID]
		w.Choices, st.choiceV[w.PersonID], w.Excluded = f.choices, f.version, f.excluded
		st.excl[w.PersonID] = len(w.Excluded)
		for _, prev := range f.workers {
			if !contains(w.Excluded, prev) {
				w.Previous = prev
				break
			}
		}
	}
	if st.in.Workers, st.workers, err = teamWorkers(ctx, tx, teams, day); err != nil {
		return nil, err
	}
	for _, w := range st.in.Workers {
		for _, t := range w.Teams {
			st.pairs[fmt.Sprintf("%d:%d", t, w.ID)] = true
		}
	}
	return st, nil
}

// personFacts are what a plan needs about each person waiting.
type personFacts struct {
	choices  Choices
	version  int
	excluded []int64
	workers  []int64 // workers who supported them, most recent first
}

// peopleFacts reads, in three statements however many people a plan has,
// their current choices, the workers they asked not to have, and the
// workers who supported them before (ids only), for the people of a
// waiting list the caller was checked to see.
func peopleFacts(ctx context.Context, tx *store.Tx, ids []int64) (map[int64]*personFacts, error) {
	out := make(map[int64]*personFacts, len(ids))
	for _, id := range ids {
		out[id] = &personFacts{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	each := func(q string, scan func(rows *sql.Rows) error) error {
		a := &store.Args{}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(q, a.IDs(tx.Dialect, ids)), a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := each(`SELECT cp.person_id, cp.version, cp.choices FROM choice_profiles cp WHERE cp.person_id IN %s
		AND cp.version = (SELECT MAX(c2.version) FROM choice_profiles c2 WHERE c2.person_id = cp.person_id)`, func(rows *sql.Rows) error {
		var id int64
		var v int
		var js string
		if err := rows.Scan(&id, &v, &js); err != nil {
			return err
		}
		f := out[id]
		f.version = v
		return fromJSON(js, &f.choices)
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT person_id, worker_user_id FROM worker_exclusions WHERE person_id IN %s ORDER BY person_id, worker_user_id`, func(rows *sql.Rows) error {
		var id, w int64
		if err := rows.Scan(&id, &w); err != nil {
			return err
		}
		out[id].excluded = append(out[id].excluded, w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT person_id, allocated_worker_id FROM referrals WHERE person_id IN %s AND allocated_worker_id IS NOT NULL
		ORDER BY person_id, COALESCE(allocated_at, received_at) DESC, id DESC`, func(rows *sql.Rows) error {
		var id, w int64
		if err := rows.Scan(&id, &w); err != nil {
			return err
		}
		out[id].workers = append(out[id].workers, w)
		return nil
	})
	return out, err
}

// basis is what a plan depends on, compared at commit.
func (st *planState) basis(day time.Time) map[string]int {
	b := map[string]int{}
	for id, v := range st.refVer {
		b["r:"+itoa(id)] = v
	}
	for id, v := range st.choiceV {
		b["c:"+itoa(id)] = v
	}
	for id, n := range st.excl {
		b["x:"+itoa(id)] = n
	}
	for id, w := range st.workers {
		_, _, capNow, _ := w.caps(day)
		k := "w:" + itoa(id) + ":"
		b[k+"load"], b[k+"cap"], b[k+"v"], b[k+"d"] = w.caseload, capNow, w.version, w.disclosureMark
	}
	for pair := range st.pairs {
		b["m:"+pair] = 1
	}
	return b
}

// changes says, in words, how the basis of a plan has moved.
func changes(old, now map[string]int, refs map[int64]string, names map[int64]string) []PlanChange {
	var keys []string
	for k := range old {
		keys = append(keys, k)
	}
	for k := range now {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []PlanChange
	ref := func(id int64) string {
		if r := refs[id]; r != "" {
			return r
		}
		return "Referral " + itoa(id)
	}
	name := func(id int64) string {
		if n := names[id]; n != "" {
			return n
		}
		return "A worker"
	}
	seenWorker := map[int64]bool{}
	for _, k := range keys {
		o, had := old[k]
		n, has := now[k]
		if had && has && o == n {
			continue
		}
		parts := strings.Split(k, ":")
		id, _ := strconv.ParseInt(parts[1], 10, 64)
		switch parts[0] {
		case "r":
			switch {
			case !has:
				out = append(out, PlanChange{ReferralID: id, What: ref(id) + " is no longer on the waiting list"})
			case !had:
				out = append(out, PlanChange{ReferralID: id, What: ref(id) + " joined the waiting list"})
			default:
				out = append(out, PlanChange{ReferralID: id, What: ref(id) + " was changed"})
			}
		case "c", "x":
			// A person joining or leaving is reported by their referral.
			if !had || !has {
				continue
			}
			if parts[0] == "c" {
				out = append(out, PlanChange{What: "A person on the waiting list changed their choices"})
			} else {
				out = append(out, PlanChange{What: "A person on the waiting list asked for a different worker"})
			}
		case "w":
			if seenWorker[id] && parts[2] != "load" {
				continue
			}
			switch parts[2] {
			case "load":
				out = append(out, PlanChange{WorkerID: id, What: fmt.Sprintf("%s's caseload changed (it was %d, now %d)", name(id), o, n)})
			case "cap":
				out = append(out, PlanChange{WorkerID: id, What: fmt.Sprintf("%s's cap changed (it was %d, now %d)", name(id), o, n)})
			default:
				out = append(out, PlanChange{WorkerID: id, What: name(id) + "'s profile changed"})
			}
			seenWorker[id] = true
		case "m":
			wid, _ := strconv.ParseInt(parts[2], 10, 64)
			if !has {
				out = append(out, PlanChange{WorkerID: wid, What: name(wid) + " can no longer be allocated in a team of this plan"})
			} else {
				out = append(out, PlanChange{WorkerID: wid, What: name(wid) + " joined a team of this plan"})
			}
		}
	}
	return slices.CompactFunc(out, func(a, b PlanChange) bool { return a == b })
}

// checkTeams validates the teams a caller asks to plan.
func checkTeams(p *app.Principal, teams []int64) ([]int64, error) {
	out := slices.Compact(slices.Sorted(slices.Values(teams)))
	switch {
	case len(out) == 0:
		return nil, app.Invalid(app.FieldError{Field: "teams", Message: "Choose at least one team whose waiting list to plan"})
	case len(out) > maxPlanTeams:
		return nil, app.Invalid(app.FieldError{Field: "teams", Message: "Plan at most 50 teams at once"})
	}
	for _, t := range out {
		if t <= 0 || !access.LeadsTeam(p, t) {
			return nil, app.Invalid(app.FieldError{Field: "teams", Message: "Choose only teams you lead"})
		}
	}
	return out, nil
}

// ProposePlan computes a plan for the waiting lists of teams the caller
// leads, stores it for review, and returns it with its explanation. Every
// person in it is recorded as shown to the caller.
func (s *Service) ProposePlan(ctx context.Context, p *app.Principal, in NewPlan) (Plan, error) {
	teams, err := checkTeams(p, in.Teams)
	if err != nil {
		return Plan{}, err
	}
	now := s.Clock.Now()
	var pl Plan
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		st, err := s.loadPlanState(ctx, tx, p, teams, now)
		if err != nil {
			return err
		}
		pl = Propose(st.in)
		pl.Teams, pl.CreatedAt = teams, now
		if err := tx.QueryRowContext(ctx, `INSERT INTO allocation_plans (created_by_user_id, teams, body, basis, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			p.UserID, jsonText(teams), jsonText(pl), jsonText(st.basis(dateOnly(now))), now).Scan(&pl.ID); err != nil {
			return err
		}
		m, _ := p.RoleFor(app.PermReferralTriage)
		return audit.Record(ctx, tx, now, actorAs(p, m), audit.Event{Action: "allocation_plan.create", Subjects: planPeople(st.in),
			ObjectType: "allocation_plan", ObjectID: itoa(pl.ID)})
	})
	return pl, err
}

func planPeople(in PlanInput) []int64 {
	ids := make([]int64, len(in.People))
	for i, w := range in.People {
		ids[i] = w.PersonID
	}
	return ids
}

// storedPlan loads a plan the caller may see: one they made, or one whose
// teams they all lead.
func storedPlan(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, lock bool) (Plan, map[string]int, error) {
	var pl Plan
	var by int64
	var teams, body, basis string
	var committed sql.NullTime
	q := "SELECT created_by_user_id, teams, body, basis, created_at, committed_at FROM allocation_plans WHERE id = $1"
	if lock {
		q += tx.Dialect.ForUpdate()
	}
	var created time.Time
	err := tx.QueryRowContext(ctx, q, id).Scan(&by, &teams, &body, &basis, &created, &committed)
	if errors.Is(err, sql.ErrNoRows) {
		return pl, nil, errNotVisible
	} else if err != nil {
		return pl, nil, err
	}
	var ts []int64
	if err := fromJSON(teams, &ts); err != nil {
		return pl, nil, err
	}
	if by != p.UserID {
		for _, t := range ts {
			if !access.LeadsTeam(p, t) {
				return pl, nil, errNotVisible
			}
		}
	}
	if !p.Can(app.PermReferralTriage) {
		return pl, nil, errNotVisible
	}
	if err := fromJSON(body, &pl); err != nil {
		return pl, nil, err
	}
	var b map[string]int
	if err := fromJSON(basis, &b); err != nil {
		return pl, nil, err
	}
	pl.ID, pl.Teams, pl.CreatedAt = id, ts, created.UTC()
	if committed.Valid {
		t := committed.Time.UTC()
		pl.CommittedAt = &t
	}
	return pl, b, nil
}

// GetPlan returns a stored plan to a lead who may see it, audited as a read
// of everyone in it.
func (s *Service) GetPlan(ctx context.Context, p *app.Principal, id int64) (Plan, error) {
	var pl Plan
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if pl, _, err = storedPlan(ctx, tx, p, id, false); err != nil {
			return err
		}
		m, _ := p.RoleFor(app.PermReferralTriage)
		record(actorAs(p, m), audit.Event{Action: "allocation_plan.read", Subjects: peopleOfPlan(pl), ObjectType: "allocation_plan", ObjectID: itoa(id)})
		return nil
	})
	if err != nil {
		return pl, s.denied(ctx, err, p, app.PermReferralTriage, "allocation_plan.read", "allocation_plan", id, "The plan")
	}
	return pl, nil
}

// peopleOfPlan are the people a plan shows, for the audit trail.
func peopleOfPlan(pl Plan) []int64 {
	out := make([]int64, len(pl.People))
	for i, pp := range pl.People {
		out[i] = pp.PersonID
	}
	return out
}

// Commit allocates a plan's lines — as the lead edited them — in one
// transaction: all of them or none. A plan made on a waiting list, workers
// or choices that have changed since is refused with what changed
// (*StaleError); a line to a worker with no free place needs a reason; a
// plan already committed is a conflict.
func (s *Service) Commit(ctx context.Context, p *app.Principal, id int64, in CommitPlan) (Committed, error) {
	now := s.Clock.Now()
	out := Committed{ID: id, Allocated: []Assignment{}, Waiting: []int64{}}
	var problems app.Problems
	seen := map[int64]bool{}
	for i, l := range in.Assignments {
		f := fmt.Sprintf("assignments[%d]", i)
		l.OverCapReason = strings.TrimSpace(l.OverCapReason)
		in.Assignments[i].OverCapReason = l.OverCapReason
		switch {
		case l.ReferralID <= 0:
			problems.Add(f+".referral_id", "Give the referral of each line")
		case seen[l.ReferralID]:
			problems.Add(f+".referral_id", "Give each referral once")
		case l.WorkerID < 0:
			problems.Add(f+".worker_id", "Choose a worker, or 0 to leave the person waiting")
		}
		seen[l.ReferralID] = true
		problems.CheckLen(f+".over_cap_reason", l.OverCapReason, 2000, "The reason")
	}
	if len(in.Assignments) > 20000 {
		problems.Add("assignments", "A plan can allocate at most 20,000 people")
	}
	if err := problems.Err(); err != nil {
		return out, err
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// A retried transaction (store.DB.Write retries one that met a
		// deadlock or a serialization failure) starts again from nothing.
		out.Waiting, out.Allocated = nil, nil
		pl, basis, err := storedPlan(ctx, tx, p, id, true)
		if err != nil {
			return err
		}
		if pl.CommittedAt != nil {
			return app.Errorf(app.CodeConflict, "This plan was already committed at %s. Make a new plan for anyone still waiting.",
				pl.CommittedAt.In(app.London).Format("3:04pm on 2 January"))
		}
		inPlan := map[int64]PlanPerson{}
		for _, pp := range pl.People {
			inPlan[pp.ReferralID] = pp
		}
		for i, l := range in.Assignments {
			if _, ok := inPlan[l.ReferralID]; !ok {
				return app.Invalid(app.FieldError{Field: fmt.Sprintf("assignments[%d].referral_id", i), Message: "This referral is not in the plan"})
			}
		}
		// Lock what the plan depends on, then look again: the waiting
		// referrals (in id order), then the workers (in id order).
		a := &store.Args{}
		lockQ := "SELECT r.id FROM referrals r WHERE (r.status = 'accepted' AND r.team_id IN " + store.In(a, pl.Teams...) + ") OR r.id IN " +
			a.IDs(tx.Dialect, slices.Collect(func(yield func(int64) bool) {
				for id := range inPlan {
					if !yield(id) {
						return
					}
				}
			})) + " ORDER BY r.id" + tx.Dialect.ForUpdate()
		if err := lockRows(ctx, tx, lockQ, a); err != nil {
			return err
		}
		var workerIDs []int64
		for _, w := range pl.Workers {
			workerIDs = append(workerIDs, w.WorkerID)
		}
		tws, err := referral.WorkersIn(ctx, tx, pl.Teams)
		if err != nil {
			return err
		}
		for _, tw := range tws {
			workerIDs = append(workerIDs, tw.ID)
		}
		if err := lockWorkers(ctx, tx, workerIDs); err != nil {
			return err
		}
		st, err := s.loadPlanState(ctx, tx, p, pl.Teams, now)
		if err != nil {
			return err
		}
		names := map[int64]string{}
		for _, w := range pl.Workers {
			names[w.WorkerID] = w.Name
		}
		for _, w := range st.in.Workers {
			names[w.ID] = w.Name
		}
		refs := st.refNames
		for _, pp := range pl.People {
			refs[pp.ReferralID] = pp.Reference
		}
		if ch := changes(basis, st.basis(dateOnly(now)), refs, names); len(ch) > 0 {
			return &StaleError{Changes: ch}
		}
		byRef := map[int64]PlanLine{}
		for _, l := range in.Assignments {
			byRef[l.ReferralID] = l
		}
		pctx := withPlan(ctx, id)
		for _, pp := range pl.People {
			l, ok := byRef[pp.ReferralID]
			if !ok || l.WorkerID == 0 {
				out.Waiting = append(out.Waiting, pp.ReferralID)
				continue
			}
			if !st.pairs[fmt.Sprintf("%d:%d", pp.TeamID, l.WorkerID)] {
				return app.Invalid(app.FieldError{Field: "assignments", Message: pp.Reference + ": choose a worker in the person's team"})
			}
			if _, err := s.Referrals.AllocateTx(pctx, tx, p, pp.ReferralID, referral.Move{WorkerID: l.WorkerID, Version: st.refVer[pp.ReferralID],
				OverCapReason: l.OverCapReason, Note: "Allocated through allocation plan " + itoa(id) + "."}); err != nil {
				if errors.Is(err, errNotVisible) {
					return err
				}
				ae := app.As(err)
				return &app.Error{Code: ae.Code, Message: pp.Reference + ": " + ae.Message, Fields: ae.Fields, Err: err}
			}
			var met, unmet []Criterion
			if err := lastMatch(ctx, tx, pp.ReferralID, &met, &unmet); err != nil {
				return err
			}
			as := Assignment{ReferralID: pp.ReferralID, WorkerID: l.WorkerID, Met: []string{}, Unmet: []string{}}
			for _, c := range met {
				as.Met = append(as.Met, c.Words)
			}
			for _, c := range unmet {
				as.Unmet = append(as.Unmet, c.Words)
			}
			out.Allocated = append(out.Allocated, as)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE allocation_plans SET committed_at = $1 WHERE id = $2 AND committed_at IS NULL", now, id); err != nil {
			return err
		}
		out.CommittedAt = now
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralTriage, "allocation_plan.commit", "allocation_plan", id, "The plan")
	}
	return out, nil
}

// lockRows runs a locking select and reads its rows.
func lockRows(ctx context.Context, tx *store.Tx, q string, a *store.Args) error {
	rows, err := tx.QueryContext(ctx, q, a.Values()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// lastMatch reads what the latest allocation of a referral met.
func lastMatch(ctx context.Context, tx *store.Tx, referralID int64, met, unmet *[]Criterion) error {
	var m, u string
	if err := tx.QueryRowContext(ctx, "SELECT met, unmet FROM allocation_matches WHERE referral_id = $1 ORDER BY id DESC LIMIT 1", referralID).Scan(&m, &u); err != nil {
		return err
	}
	if err := fromJSON(m, met); err != nil {
		return err
	}
	return fromJSON(u, unmet)
}
