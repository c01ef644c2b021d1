package stable

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// randomInstance draws a small instance: up to maxP people and maxW
// workers, capacities 0–3, each person listing a random subset of workers
// in a random order. Half the instances use a random Rank table; the
// others Keys with many ties and random previous workers, so both ways of
// giving priority are exercised.
func randomInstance(r *rand.Rand, maxP, maxW int) *Instance {
	np, nw := 1+r.IntN(maxP), 1+r.IntN(maxW)
	in := &Instance{People: make([]Person, np), Workers: make([]Worker, nw)}
	for w := range in.Workers {
		in.Workers[w].Capacity = r.IntN(4)
	}
	for p := range in.People {
		perm := r.Perm(nw)
		k := r.IntN(nw + 1)
		for _, w := range perm[:k] {
			in.People[p].Prefs = append(in.People[p].Prefs, int32(w))
		}
		in.People[p].Key = uint64(r.IntN(3))
		in.People[p].Previous = int32(r.IntN(nw+1) - 1)
	}
	if r.IntN(2) == 0 {
		in.Rank = make([][]int32, nw)
		for w := range in.Rank {
			in.Rank[w] = make([]int32, np)
			for i, p := range r.Perm(np) {
				in.Rank[w][p] = int32(i)
			}
		}
	}
	return in
}

// trueRank is how a person with prefs values worker w: its place in the
// list, len(prefs) for no worker, and worse than that for a worker they
// did not list.
func trueRank(prefs []int32, w int32) int {
	if w < 0 {
		return len(prefs)
	}
	if i := slices.Index(prefs, w); i >= 0 {
		return i
	}
	return len(prefs) + 1
}

func mustBeStable(t *testing.T, in *Instance, match []int32, label string) {
	t.Helper()
	overfull, unlisted, blocking := Problems(in, match)
	if len(overfull) > 0 {
		t.Fatalf("%s: workers over capacity: %v", label, overfull)
	}
	if len(unlisted) > 0 {
		t.Fatalf("%s: people matched to workers they did not list: %v", label, unlisted)
	}
	if len(blocking) > 0 {
		t.Fatalf("%s: blocking pairs %v in %v", label, blocking, match)
	}
}

// Caps are never exceeded and no pair blocks, on thousands of random
// instances, large and small.
func TestCapsNeverExceededAndNoBlockingPair(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		maxP, maxW := 12, 5
		if i%10 == 0 {
			maxP, maxW = 200, 30
		}
		in := randomInstance(r, maxP, maxW)
		if err := in.Validate(); err != nil {
			t.Fatal(err)
		}
		res := Match(in)
		mustBeStable(t, in, res.Match, fmt.Sprintf("instance %d", i))
		for w, h := range res.Held {
			if len(h) > max(in.Workers[w].Capacity, 0) {
				t.Fatalf("instance %d: worker %d holds %d with capacity %d", i, w, len(h), in.Workers[w].Capacity)
			}
			for _, p := range h {
				if res.Match[p] != int32(w) {
					t.Fatalf("instance %d: worker %d holds %d, who is matched to %d", i, w, p, res.Match[p])
				}
			}
		}
	}
}

// referenceMatch is deferred acceptance as first written down: in rounds,
// every person not held proposes to the next worker on their list at
// once, and each worker keeps the best of those it holds and those
// proposing, up to its capacity, refusing the rest. It shares nothing
// with Match but Instance.Before.
func referenceMatch(in *Instance) []int32 {
	np := len(in.People)
	next := make([]int, np)
	match := make([]int32, np)
	for p := range match {
		match[p] = -1
	}
	for {
		proposals := map[int32][]int32{}
		any := false
		for p := range in.People {
			if match[p] >= 0 || next[p] >= len(in.People[p].Prefs) {
				continue
			}
			w := in.People[p].Prefs[next[p]]
			next[p]++
			proposals[w] = append(proposals[w], int32(p))
			any = true
		}
		if !any {
			return match
		}
		for w, ps := range proposals {
			var pool []int32
			for p := range in.People {
				if match[p] == w {
					pool = append(pool, int32(p))
				}
			}
			pool = append(pool, ps...)
			slices.SortFunc(pool, func(a, b int32) int {
				if in.Before(w, a, b) {
					return -1
				}
				return 1
			})
			c := max(in.Workers[w].Capacity, 0)
			for i, p := range pool {
				if i < c {
					match[p] = w
				} else {
					match[p] = -1
				}
			}
		}
	}
}

// allStable enumerates every stable matching of a tiny instance.
func allStable(in *Instance) [][]int32 {
	np := len(in.People)
	var out [][]int32
	cur := make([]int32, np)
	var walk func(p int)
	walk = func(p int) {
		if p == np {
			overfull, unlisted, blocking := Problems(in, cur)
			if len(overfull) == 0 && len(unlisted) == 0 && len(blocking) == 0 {
				out = append(out, slices.Clone(cur))
			}
			return
		}
		cur[p] = -1
		walk(p + 1)
		for _, w := range in.People[p].Prefs {
			cur[p] = w
			walk(p + 1)
		}
	}
	walk(0)
	return out
}

// The matching is the people-optimal stable matching: equal to the
// reference implementation on random instances, and, on instances small
// enough to list every stable matching, stable and at least as good for
// every person as each of them.
func TestPeopleOptimalEqualsReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		in := randomInstance(r, 10, 5)
		got := Match(in).Match
		if want := referenceMatch(in); !slices.Equal(got, want) {
			t.Fatalf("instance %d: Match %v, reference %v\n%+v", i, got, want, in)
		}
	}
	for i := range 1500 {
		in := randomInstance(r, 6, 3)
		got := Match(in).Match
		stables := allStable(in)
		found := false
		for _, m := range stables {
			found = found || slices.Equal(m, got)
			for p := range in.People {
				if trueRank(in.People[p].Prefs, got[p]) > trueRank(in.People[p].Prefs, m[p]) {
					t.Fatalf("instance %d: person %d does better in the stable matching %v than in %v", i, p, m, got)
				}
			}
		}
		if !found {
			t.Fatalf("instance %d: %v is not among the stable matchings %v", i, got, stables)
		}
	}
}

// misreport is a random other list for a person: a reordering, a
// shortening, or workers they do not want added.
func misreport(r *rand.Rand, prefs []int32, nw int) []int32 {
	switch r.IntN(4) {
	case 0: // shuffled
		out := slices.Clone(prefs)
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	case 1: // truncated
		if len(prefs) == 0 {
			return nil
		}
		return slices.Clone(prefs[:r.IntN(len(prefs))])
	case 2: // a worker moved to the top
		if len(prefs) == 0 {
			return nil
		}
		i := r.IntN(len(prefs))
		return append([]int32{prefs[i]}, slices.Delete(slices.Clone(prefs), i, i+1)...)
	}
	// Anything at all, including workers they do not find acceptable.
	var out []int32
	for _, w := range r.Perm(nw)[:r.IntN(nw+1)] {
		out = append(out, int32(w))
	}
	return out
}

// Nobody gets a better worker, by their true preferences, by stating
// other ones: random misreports by random people never help.
func TestMisreportingNeverHelps(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 6000 {
		in := randomInstance(r, 10, 5)
		truth := Match(in).Match
		p := r.IntN(len(in.People))
		honest := in.People[p].Prefs
		lie := misreport(r, honest, len(in.Workers))
		in.People[p].Prefs = lie
		got := Match(in).Match
		in.People[p].Prefs = honest
		if trueRank(honest, got[p]) < trueRank(honest, truth[p]) {
			t.Fatalf("instance %d: person %d listing %v instead of %v gets worker %d instead of %d", i, p, lie, honest, got[p], truth[p])
		}
	}
}

// The same input gives the same result, every time; and with strict
// priorities (a Rank table) the order people are given in does not
// matter either.
func TestDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 1000 {
		in := randomInstance(r, 30, 8)
		a, b := Match(in), Match(in)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("instance %d: two runs differ", i)
		}
		if in.Rank == nil {
			continue
		}
		// The same people in another order.
		perm := r.Perm(len(in.People))
		shuffled := &Instance{Workers: in.Workers, People: make([]Person, len(in.People)), Rank: make([][]int32, len(in.Workers))}
		for w := range shuffled.Rank {
			shuffled.Rank[w] = make([]int32, len(in.People))
		}
		for newP, oldP := range perm {
			shuffled.People[newP] = in.People[oldP]
			for w := range in.Workers {
				shuffled.Rank[w][newP] = in.Rank[w][oldP]
			}
		}
		c := Match(shuffled)
		for newP, oldP := range perm {
			if c.Match[newP] != a.Match[oldP] {
				t.Fatalf("instance %d: the order of people changed person %d's match", i, oldP)
			}
		}
	}
}

// Explanations hold: every worker a person was refused by is full with
// people it puts first, and a person left unmatched asked everyone.
func TestTrailExplainsTheResult(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 2000 {
		in := randomInstance(r, 15, 5)
		res := Match(in)
		for p := range in.People {
			asked := in.People[p].Prefs[:res.Proposed[p]]
			for j, w := range asked {
				if j == len(asked)-1 && res.Match[p] == w {
					continue
				}
				h := res.Held[w]
				if len(h) < in.Workers[w].Capacity {
					t.Fatalf("instance %d: person %d refused by worker %d, which has a free place", i, p, w)
				}
				for _, q := range h {
					if !in.Before(w, q, int32(p)) {
						t.Fatalf("instance %d: person %d refused by worker %d, which holds %d after them", i, p, w, q)
					}
				}
			}
			if res.Match[p] < 0 && int(res.Proposed[p]) != len(in.People[p].Prefs) {
				t.Fatalf("instance %d: person %d unmatched after asking %d of %d", i, p, res.Proposed[p], len(in.People[p].Prefs))
			}
		}
	}
}

func TestValidateRefusesBadInstances(t *testing.T) {
	for name, in := range map[string]*Instance{
		"UnknownWorker":  {People: []Person{{Prefs: []int32{2}, Previous: -1}}, Workers: []Worker{{1}}},
		"Repeat":         {People: []Person{{Prefs: []int32{0, 0}, Previous: -1}}, Workers: []Worker{{1}}},
		"BadPrevious":    {People: []Person{{Previous: 4}}, Workers: []Worker{{1}}},
		"RankWrongShape": {People: []Person{{Previous: -1}}, Workers: []Worker{{1}}, Rank: [][]int32{}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := in.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// BenchmarkMatchDense10000x1000 is deferred acceptance alone at its
// hardest: 10,000 people who each rank all 1,000 workers, with
// preferences correlated (some workers are everyone's favourites), for
// about half as many places as people.
func BenchmarkMatchDense10000x1000(b *testing.B) {
	r := rand.New(rand.NewPCG(2026, 12))
	const np, nw = 10_000, 1_000
	in := &Instance{People: make([]Person, np), Workers: make([]Worker, nw)}
	popularity := make([]float64, nw)
	for w := range in.Workers {
		in.Workers[w].Capacity = 1 + r.IntN(9)
		popularity[w] = r.Float64()
	}
	type scored struct {
		w int32
		s float64
	}
	buf := make([]scored, nw)
	for p := range in.People {
		for w := range buf {
			buf[w] = scored{int32(w), popularity[w] + r.Float64()}
		}
		slices.SortFunc(buf, func(a, b scored) int {
			if a.s > b.s {
				return -1
			}
			return 1
		})
		prefs := make([]int32, nw)
		for i, s := range buf {
			prefs[i] = s.w
		}
		in.People[p] = Person{Prefs: prefs, Key: uint64(r.IntN(200)), Previous: int32(r.IntN(nw+1) - 1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		Match(in)
	}
}
