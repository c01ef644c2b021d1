// Package stable computes stable matchings of people to workers with
// capacities: deferred acceptance with people proposing (Gale and Shapley,
// 1962; Roth, 1984, for capacities). It is plain functions over plain
// values, with no database and nothing of Mutual's own.
//
// People rank the workers they find acceptable. Each worker has a number
// of places (its capacity) and a strict priority order over people. The
// result is the people-optimal stable matching:
//
//   - no worker holds more people than its capacity;
//   - no blocking pair: nobody prefers a worker to the one they got (or to
//     none) while that worker has a free place or holds someone of lower
//     priority;
//   - every person does at least as well as in any other stable matching;
//   - nobody can get a better worker by stating other preferences (it is
//     strategy-proof for people);
//   - the same input always gives the same result.
//
// The order in which people propose does not change the result (a
// property of deferred acceptance); they propose in index order.
package stable

import (
	"container/heap"
	"fmt"
)

// Person is one person to match.
type Person struct {
	// Prefs are the indices of the workers this person finds acceptable,
	// most preferred first, without repeats. Workers not listed are not
	// acceptable.
	Prefs []int32
	// Key is the person's place in the service's priority order: a
	// smaller key comes first for every worker (for example urgency, then
	// days waited, packed into one number).
	Key uint64
	// Previous is the index of the worker who supported this person before
	// (-1 for none). Between two people with the same Key, that worker puts
	// the person it supported first (continuity).
	Previous int32
}

// Worker is one worker with places to fill.
type Worker struct {
	// Capacity is how many people the worker can take; 0 or less takes none.
	Capacity int
}

// Instance is one matching problem.
type Instance struct {
	People  []Person
	Workers []Worker
	// Rank, when set, replaces the priority built from Key and Previous:
	// Rank[w][p] is person p's place in worker w's priority order (smaller
	// first). Every worker must rank every person who lists it, and no two
	// people equally. For tests and for services with other priorities.
	Rank [][]int32
}

// Result is a matching with the trail that explains it.
type Result struct {
	// Match is each person's worker index, or -1 for none.
	Match []int32
	// Held lists, for each worker, the people it holds, highest priority
	// first.
	Held [][]int32
	// Proposed is, for each person, how many of the first workers in their
	// Prefs they asked: all but the last of these refused them, each
	// because it was full with people of higher priority; the last holds
	// them, unless Match is -1 and they asked every worker they listed.
	Proposed []int32
}

// Before reports whether worker w puts person a before person b: by Rank
// when the instance has one; otherwise the smaller Key first, then the
// person w supported before, then the smaller index. It is a strict total
// order for each worker.
func (in *Instance) Before(w, a, b int32) bool {
	if in.Rank != nil {
		ra, rb := in.Rank[w][a], in.Rank[w][b]
		if ra != rb {
			return ra < rb
		}
		return a < b
	}
	pa, pb := &in.People[a], &in.People[b]
	if pa.Key != pb.Key {
		return pa.Key < pb.Key
	}
	ca, cb := pa.Previous == w, pb.Previous == w
	if ca != cb {
		return ca
	}
	return a < b
}

// Validate reports the first thing wrong with an instance: a preference
// for a worker that does not exist, a repeat, or a Rank table of the wrong
// shape.
func (in *Instance) Validate() error {
	nw := int32(len(in.Workers))
	seen := make([]int32, nw)
	for i := range seen {
		seen[i] = -1
	}
	for p, pe := range in.People {
		for _, w := range pe.Prefs {
			if w < 0 || w >= nw {
				return fmt.Errorf("person %d lists worker %d, which does not exist", p, w)
			}
			if seen[w] == int32(p) {
				return fmt.Errorf("person %d lists worker %d twice", p, w)
			}
			seen[w] = int32(p)
		}
		if pe.Previous < -1 || pe.Previous >= nw {
			return fmt.Errorf("person %d's previous worker %d does not exist", p, pe.Previous)
		}
	}
	if in.Rank != nil {
		if len(in.Rank) != len(in.Workers) {
			return fmt.Errorf("Rank has %d rows for %d workers", len(in.Rank), len(in.Workers))
		}
		for w, row := range in.Rank {
			if len(row) != len(in.People) {
				return fmt.Errorf("Rank row %d has %d entries for %d people", w, len(row), len(in.People))
			}
		}
	}
	return nil
}

// held is one worker's tentative list, kept as a heap with the lowest
// priority person on top, so a proposal is compared with the weakest held.
type held struct {
	in *Instance
	w  int32
	ps []int32
}

func (h *held) Len() int           { return len(h.ps) }
func (h *held) Less(i, j int) bool { return h.in.Before(h.w, h.ps[j], h.ps[i]) }
func (h *held) Swap(i, j int)      { h.ps[i], h.ps[j] = h.ps[j], h.ps[i] }
func (h *held) Push(x any)         { h.ps = append(h.ps, x.(int32)) }
func (h *held) Pop() any {
	x := h.ps[len(h.ps)-1]
	h.ps = h.ps[:len(h.ps)-1]
	return x
}

// Match runs deferred acceptance with people proposing. It panics on an
// instance Validate would refuse; call Validate first on input you did not
// build yourself.
func Match(in *Instance) Result {
	np, nw := len(in.People), len(in.Workers)
	res := Result{Match: make([]int32, np), Held: make([][]int32, nw), Proposed: make([]int32, np)}
	hs := make([]held, nw)
	for w := range hs {
		c := max(in.Workers[w].Capacity, 0)
		hs[w] = held{in: in, w: int32(w), ps: make([]int32, 0, min(c, np))}
	}
	// free is a stack of people waiting to propose; each person is on it
	// at most once at a time.
	free := make([]int32, np)
	for p := range free {
		free[p] = int32(np - 1 - p) // so the first person proposes first
		res.Match[p] = -1
	}
	for len(free) > 0 {
		p := free[len(free)-1]
		free = free[:len(free)-1]
		prefs := in.People[p].Prefs
		for res.Proposed[p] < int32(len(prefs)) {
			w := prefs[res.Proposed[p]]
			res.Proposed[p]++
			h := &hs[w]
			c := in.Workers[w].Capacity
			if c <= 0 {
				continue
			}
			if len(h.ps) < c {
				heap.Push(h, p)
				res.Match[p] = w
				break
			}
			worst := h.ps[0]
			if !in.Before(w, p, worst) {
				continue // refused: full with people of higher priority
			}
			h.ps[0] = p
			heap.Fix(h, 0)
			res.Match[p] = w
			res.Match[worst] = -1
			free = append(free, worst)
			break
		}
	}
	for w := range hs {
		ps := hs[w].ps
		// Highest priority first.
		out := make([]int32, len(ps))
		copy(out, ps)
		sortBy(out, func(a, b int32) bool { return in.Before(int32(w), a, b) })
		res.Held[w] = out
	}
	return res
}

// sortBy is an insertion sort for the short held lists (a worker's places).
func sortBy(xs []int32, less func(a, b int32) bool) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && less(xs[j], xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// Pair is a person and a worker.
type Pair struct{ Person, Worker int32 }

// Problems lists what makes match not a stable matching of in: a person
// matched to a worker they did not list, a worker over capacity, and every
// blocking pair (a person and a worker they prefer to their match, where
// the worker has a free place or holds someone it puts after them). An
// empty list means the matching is stable. Anyone holding the instance can
// run it: it is how a plan can be re-checked independently.
func Problems(in *Instance, match []int32) (overfull []int32, unlisted []Pair, blocking []Pair) {
	nw := len(in.Workers)
	count := make([]int, nw)
	// worst[w] is the lowest-priority person w holds.
	worst := make([]int32, nw)
	for w := range worst {
		worst[w] = -1
	}
	for p, w := range match {
		if w < 0 {
			continue
		}
		listed := false
		for _, x := range in.People[p].Prefs {
			listed = listed || x == w
		}
		if !listed {
			unlisted = append(unlisted, Pair{int32(p), w})
		}
		count[w]++
		if worst[w] < 0 || in.Before(w, worst[w], int32(p)) {
			worst[w] = int32(p)
		}
	}
	for w, c := range count {
		if c > max(in.Workers[w].Capacity, 0) {
			overfull = append(overfull, int32(w))
		}
	}
	for p := range in.People {
		for _, w := range in.People[p].Prefs {
			if w == match[p] {
				break // every worker after this one is liked less
			}
			c := max(in.Workers[w].Capacity, 0)
			if c == 0 {
				continue
			}
			if count[w] < c || in.Before(w, int32(p), worst[w]) {
				blocking = append(blocking, Pair{int32(p), w})
			}
		}
	}
	return overfull, unlisted, blocking
}
