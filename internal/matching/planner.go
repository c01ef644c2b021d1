package matching

import (
	"cmp"
	"slices"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching/stable"
	"github.com/mutualhq/mutual/internal/referral"
)

// Waiting is one person on a waiting list, as the planner sees them.
type Waiting struct {
	ReferralID int64
	PersonID   int64
	TeamID     int64
	Reference  string
	PersonName string
	// Risk: an alert of possible risk on the referral still waits for a
	// response.
	Risk bool
	// Urgency is the referral's: routine, urgent or very_urgent.
	Urgency string
	// Urgent: past the waiting standard for its urgency, with no contact
	// yet.
	Urgent     bool
	DaysWaited int
	// Previous is the worker who supported the person before (0 for none).
	Previous int64
	Choices  Choices
	// Excluded are workers the person asked not to have.
	Excluded []int64
}

// Available is a worker who may take people in a plan, in the teams
// listed.
type Available struct {
	Facts
	Teams []int64
}

// PlanInput is everything a plan is computed from.
type PlanInput struct {
	People  []Waiting
	Workers []Available
	Themes  []app.Choice
}

// Plan is a proposed allocation of a waiting list, with the reasons for
// every line, so that anyone can check it independently: the people's
// rankings, each worker's priority order and places, and the result.
type Plan struct {
	ID          int64        `json:"id"`
	Teams       []int64      `json:"teams"`
	CreatedAt   time.Time    `json:"created_at"`
	CommittedAt *time.Time   `json:"committed_at,omitempty"`
	Assignments []Assignment `json:"assignments" doc:"The stable matching: who would be allocated to whom."`
	Unmatched   []Unmatched  `json:"unmatched" doc:"People the plan cannot allocate now, and why."`
	People      []PlanPerson `json:"people" doc:"For each person, in the service's order, the workers considered, best first, and why."`
	Workers     []PlanWorker `json:"workers" doc:"For each worker, the places used and their priority order over the people who could have them."`
	RankRule    string       `json:"rank_rule" doc:"How each person's workers are ranked, ties included."`
	Priority    string       `json:"priority_rule" doc:"How each worker orders people."`
	Changes     []PlanChange `json:"changes,omitempty" doc:"Set when committing was refused because the plan is stale: what changed since it was made."`
	Summary     PlanSummary  `json:"summary"`
}

// PlanSummary counts a plan's lines.
type PlanSummary struct {
	People     int `json:"people"`
	Allocated  int `json:"allocated"`
	Unmatched  int `json:"unmatched"`
	AllChoices int `json:"every_choice_met" doc:"Allocations that meet every choice the person made."`
}

// Assignment is one line of a plan.
type Assignment struct {
	ReferralID int64    `json:"referral_id"`
	WorkerID   int64    `json:"worker_id"`
	Choice     int      `json:"choice" doc:"The worker's place in the person's ranking: 1 is their best match."`
	Met        []string `json:"met" doc:"The person's choices this worker meets, in words."`
	Unmet      []string `json:"unmet" doc:"The person's choices this worker does not meet, in words."`
}

// Unmatched is a person a plan leaves waiting.
type Unmatched struct {
	ReferralID int64  `json:"referral_id"`
	Why        string `json:"why"`
}

// PlanPerson explains one person's line.
type PlanPerson struct {
	ReferralID     int64           `json:"referral_id"`
	Reference      string          `json:"reference"`
	PersonID       int64           `json:"person_id"`
	PersonName     string          `json:"person_name"`
	TeamID         int64           `json:"team_id"`
	Risk           bool            `json:"possible_risk" doc:"An alert of possible risk on the referral still waits for a response: the person comes first."`
	Urgency        string          `json:"urgency" doc:"The referral's urgency: routine, urgent or very_urgent."`
	Urgent         bool            `json:"past_waiting_standard" doc:"Past the waiting standard for its urgency (4 weeks, 24 hours or 4 hours) with no contact yet."`
	DaysWaited     int             `json:"days_waited"`
	PreviousWorker int64           `json:"previous_worker_id,omitempty"`
	RankedWorkers  []RankedWorker  `json:"ranked_workers" doc:"The first workers considered for this person, best first (see rank_rule), with reasons: each one asked, down to the worker who takes them. Workers ranked lower could not make a better pair."`
	MoreConsidered []int64         `json:"more_considered" doc:"Beyond the first ten: the other workers considered, in rank order, each full with people ahead (the last takes the person when they are allocated)."`
	Acceptable     int             `json:"acceptable_workers" doc:"How many workers in the team the person could have (those ranked; the rest are in not_acceptable)."`
	NotAcceptable  []NotAcceptable `json:"not_acceptable" doc:"Workers in the team left out, and why."`
	ChoicesMade    bool            `json:"choices_recorded"`
}

// RankedWorker is one worker a person could have, and what happened.
type RankedWorker struct {
	WorkerID int64    `json:"worker_id"`
	Rank     int      `json:"rank"`
	Met      []string `json:"met"`
	Unmet    []string `json:"unmet"`
	Outcome  string   `json:"outcome" doc:"allocated, or full: every place went to people ahead in the worker's order."`
}

// NotAcceptable is a worker left out of a person's ranking.
type NotAcceptable struct {
	WorkerID int64  `json:"worker_id"`
	Why      string `json:"why"`
}

// PlanWorker explains one worker's column.
type PlanWorker struct {
	WorkerID     int64   `json:"worker_id"`
	Name         string  `json:"name"`
	Teams        []int64 `json:"teams" doc:"The teams whose referrals the worker may be allocated."`
	Cap          int     `json:"cap" doc:"The caseload cap used: hours, organisation default or the worker's own cap, and any reduction in force."`
	Caseload     int     `json:"caseload" doc:"People allocated to the worker now."`
	FreeCapacity int     `json:"free_capacity" doc:"Places the plan could fill: cap less caseload, never below zero."`
	Takes        int     `json:"takes" doc:"Places this plan fills."`
	Priority     []int64 `json:"priority" doc:"Referral ids of the people who considered this worker, in the worker's order (see priority_rule)."`
}

// PlanChange is one thing that changed since a plan was made.
type PlanChange struct {
	ReferralID int64  `json:"referral_id,omitempty"`
	WorkerID   int64  `json:"worker_id,omitempty"`
	What       string `json:"what"`
}

// explained is how many of a person's considered workers a plan explains
// in words; the rest are listed by id, so a plan's size grows with the
// people and workers, not with every pair of them.
const explained = 10

// priorityKey packs the service's order into one number, smaller first:
// possible risk waiting for a response, then urgency (very urgent, urgent,
// routine), then past the standard, then days waited — the waiting list's
// own order.
func priorityKey(w Waiting) uint64 {
	var k uint64
	if !w.Risk {
		k |= 1 << 44
	}
	k |= uint64(referral.Urgency(w.Urgency).Rank()) << 42
	if !w.Urgent {
		k |= 1 << 40
	}
	days := min(max(w.DaysWaited, 0), 1<<30)
	return k + uint64(1<<30-days)
}

// Propose computes a plan: each person's acceptable workers in their team
// ranked from their choices, each worker's priority from the service's
// order, and the stable matching with people proposing. People are taken
// in the order given; give them by referral id, so ties go to the
// referral made first.
func Propose(in PlanInput) Plan {
	pl := Plan{RankRule: RankRule, Priority: PriorityRule, Assignments: []Assignment{}, Unmatched: []Unmatched{},
		People: make([]PlanPerson, len(in.People)), Workers: make([]PlanWorker, len(in.Workers))}
	widx := make(map[int64]int32, len(in.Workers))
	byTeam := map[int64][]int32{}
	inst := &stable.Instance{People: make([]stable.Person, len(in.People)), Workers: make([]stable.Worker, len(in.Workers))}
	for i, w := range in.Workers {
		widx[w.ID] = int32(i)
		for _, t := range w.Teams {
			if !slices.Contains(byTeam[t], int32(i)) {
				byTeam[t] = append(byTeam[t], int32(i))
			}
		}
		inst.Workers[i].Capacity = w.Free()
		pl.Workers[i] = PlanWorker{WorkerID: w.ID, Name: w.Name, Teams: w.Teams, Cap: w.Cap, Caseload: w.Caseload, FreeCapacity: w.Free(), Priority: []int64{}}
	}
	// Workers in a team, in the tie-break order: more free places, then
	// the lower account id.
	for t, ws := range byTeam {
		slices.SortFunc(ws, func(a, b int32) int {
			fa, fb := in.Workers[a].Free(), in.Workers[b].Free()
			if fa != fb {
				return fb - fa
			}
			return cmpInt64(in.Workers[a].ID, in.Workers[b].ID)
		})
		byTeam[t] = ws
	}
	d := newDicts()
	wbits := make([]workerBits, len(in.Workers))
	for i := range in.Workers {
		wbits[i] = d.worker(&in.Workers[i].Facts)
	}
	crits := make([]*personCriteria, len(in.People))
	masks := make([][]uint64, len(in.People)) // aligned with each person's prefs
	var buf []ranked
	for p, wt := range in.People {
		pc := prepare(wt.Choices, in.Themes, wt.Previous)
		crits[p] = pc
		pb := d.person(pc)
		pp := PlanPerson{ReferralID: wt.ReferralID, Reference: wt.Reference, PersonID: wt.PersonID, PersonName: wt.PersonName, TeamID: wt.TeamID,
			Risk: wt.Risk, Urgency: cmp.Or(wt.Urgency, "routine"), Urgent: wt.Urgent, DaysWaited: wt.DaysWaited, PreviousWorker: wt.Previous, RankedWorkers: []RankedWorker{},
			NotAcceptable: []NotAcceptable{}, ChoicesMade: !wt.Choices.Empty()}
		buf = buf[:0]
		whyNot := map[uint64]string{}
		for _, w := range byTeam[wt.TeamID] {
			f := &in.Workers[w].Facts
			if slices.Contains(wt.Excluded, f.ID) {
				pp.NotAcceptable = append(pp.NotAcceptable, NotAcceptable{WorkerID: f.ID, Why: "The person asked for a different worker"})
				continue
			}
			met, ok, sc := pc.evalBits(&pb, &wbits[w], f)
			if !ok {
				why, seen := whyNot[met]
				if !seen {
					_, unmet := pc.words(met)
					why = "Does not meet a must: " + mustsIn(pc, met, unmet)
					whyNot[met] = why
				}
				pp.NotAcceptable = append(pp.NotAcceptable, NotAcceptable{WorkerID: f.ID, Why: why})
				continue
			}
			buf = append(buf, ranked{w: w, met: met, score: sc})
		}
		// A stable sort keeps the team's tie-break order within a score.
		sortByScore(buf)
		prefs := make([]int32, len(buf))
		masks[p] = make([]uint64, len(buf))
		for i, r := range buf {
			prefs[i] = r.w
			masks[p][i] = r.met
		}
		prev := int32(-1)
		if i, ok := widx[wt.Previous]; ok && wt.Choices.KeepSameWorker() {
			prev = i
		}
		inst.People[p] = stable.Person{Prefs: prefs, Key: priorityKey(wt), Previous: prev}
		pl.People[p] = pp
	}
	res := stable.Match(inst)
	// Each worker's priority over the people who considered it: enough to
	// check every pair that could block. People are taken once in the
	// service's order (key, then index), which is each worker's order but
	// for continuity; a worker with a returning person among equals has
	// its list sorted exactly.
	order := make([]int32, len(inst.People))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ka, kb := inst.People[a].Key, inst.People[b].Key
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return int(a - b)
	})
	sizes := make([]int, len(in.Workers))
	for p := range inst.People {
		for _, w := range inst.People[p].Prefs[:res.Proposed[p]] {
			sizes[w]++
		}
	}
	lists := make([][]int32, len(in.Workers))
	for w := range lists {
		lists[w] = make([]int32, 0, sizes[w])
	}
	for _, p := range order {
		for _, w := range inst.People[p].Prefs[:res.Proposed[p]] {
			lists[w] = append(lists[w], p)
		}
	}
	for w, ps := range lists {
		if slices.ContainsFunc(ps, func(p int32) bool { return inst.People[p].Previous == int32(w) }) {
			slices.SortStableFunc(ps, func(a, b int32) int {
				if inst.Before(int32(w), a, b) {
					return -1
				}
				return 1
			})
		}
		pl.Workers[w].Priority = make([]int64, len(ps))
		for i, p := range ps {
			pl.Workers[w].Priority[i] = in.People[p].ReferralID
		}
		pl.Workers[w].Takes = len(res.Held[w])
	}
	for p, wt := range in.People {
		pp := &pl.People[p]
		prefs := inst.People[p].Prefs
		pp.Acceptable = len(prefs)
		// The workers considered are those the person was offered to, in
		// order, down to the one who takes them: workers ranked lower can
		// never make a better pair, so they are counted, not listed. The
		// first few are explained in words; the rest, each of them full
		// with people ahead, are listed by id.
		considered := prefs[:res.Proposed[p]]
		words := map[uint64][2][]string{}
		wordsOf := func(i int) [2][]string {
			mw, ok := words[masks[p][i]]
			if !ok {
				met, unmet := crits[p].words(masks[p][i])
				mw = [2][]string{met, unmet}
				words[masks[p][i]] = mw
			}
			return mw
		}
		pp.RankedWorkers = make([]RankedWorker, 0, min(len(considered), explained))
		pp.MoreConsidered = make([]int64, 0, max(len(considered)-explained, 0))
		for i, w := range considered {
			if i >= explained {
				pp.MoreConsidered = append(pp.MoreConsidered, in.Workers[w].ID)
				continue
			}
			mw := wordsOf(i)
			rw := RankedWorker{WorkerID: in.Workers[w].ID, Rank: i + 1, Met: mw[0], Unmet: mw[1], Outcome: "full"}
			if res.Match[p] == w {
				rw.Outcome = "allocated"
			}
			pp.RankedWorkers = append(pp.RankedWorkers, rw)
		}
		if m := res.Match[p]; m >= 0 {
			last := len(considered) - 1
			mw := wordsOf(last)
			pl.Assignments = append(pl.Assignments, Assignment{ReferralID: wt.ReferralID, WorkerID: in.Workers[m].ID, Choice: last + 1, Met: mw[0], Unmet: mw[1]})
			if len(mw[1]) == 0 {
				pl.Summary.AllChoices++
			}
			continue
		}
		pl.Unmatched = append(pl.Unmatched, Unmatched{ReferralID: wt.ReferralID, Why: whyUnmatched(len(byTeam[wt.TeamID]), pp)})
	}
	pl.Summary.People, pl.Summary.Allocated, pl.Summary.Unmatched = len(in.People), len(pl.Assignments), len(pl.Unmatched)
	// People are shown in the service's order.
	slices.SortStableFunc(pl.People, func(a, b PlanPerson) int {
		ka := priorityKey(Waiting{Risk: a.Risk, Urgency: a.Urgency, Urgent: a.Urgent, DaysWaited: a.DaysWaited})
		kb := priorityKey(Waiting{Risk: b.Risk, Urgency: b.Urgency, Urgent: b.Urgent, DaysWaited: b.DaysWaited})
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return cmpInt64(a.ReferralID, b.ReferralID)
	})
	return pl
}

// ranked is one acceptable worker of a person, while ranking.
type ranked struct {
	w     int32
	met   uint64
	score int
}

// sortByScore orders a person's workers by score, highest first, keeping
// the order they came in within a score. Scores are small (a bonus for the
// previous worker, plus at most a few dozen choices), so it counts rather
// than compares.
func sortByScore(xs []ranked) {
	if len(xs) < 2 {
		return
	}
	const prevBonus = 1 << 16
	var top []ranked // the previous worker, if they are here
	maxScore := 0
	for _, x := range xs {
		if x.score < prevBonus {
			maxScore = max(maxScore, x.score)
		}
	}
	if maxScore > 64 {
		slices.SortStableFunc(xs, func(a, b ranked) int { return b.score - a.score })
		return
	}
	var counts [66]int
	for _, x := range xs {
		if x.score >= prevBonus {
			top = append(top, x)
			continue
		}
		counts[x.score]++
	}
	// Start of each score's run, highest score first, after the top.
	var start [66]int
	pos := len(top)
	for sc := maxScore; sc >= 0; sc-- {
		start[sc] = pos
		pos += counts[sc]
	}
	out := make([]ranked, len(xs))
	copy(out, top)
	for _, x := range xs {
		if x.score >= prevBonus {
			continue
		}
		out[start[x.score]] = x
		start[x.score]++
	}
	slices.SortStableFunc(out[:len(top)], func(a, b ranked) int { return b.score - a.score })
	copy(xs, out)
}

// mustsIn names the musts among the unmet words.
func mustsIn(pc *personCriteria, met uint64, unmet []string) string {
	var out []string
	for i, c := range pc.crit {
		if c.Must && met&(1<<i) == 0 {
			out = append(out, c.Words)
		}
	}
	if len(out) == 0 {
		return orList(unmet)
	}
	return orList(out)
}

// whyUnmatched says, in words, why a plan leaves someone waiting.
func whyUnmatched(teamWorkers int, pp *PlanPerson) string {
	switch {
	case teamWorkers == 0:
		return "There are no peer workers in the team."
	case len(pp.RankedWorkers) == 0 && len(pp.NotAcceptable) > 0:
		return "No worker in the team meets what the person needs: " + pp.NotAcceptable[0].Why + "."
	case len(pp.RankedWorkers) == 0:
		return "No worker in the team can take them."
	}
	return "Every worker they could have is full with people ahead of them in the service's order."
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
