package matching

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/matching/stable"
)

// pickSome returns n distinct codes drawn from list.
func pickSome(r *rand.Rand, list []string, n int) []string {
	var out []string
	for _, i := range r.Perm(len(list))[:min(n, len(list))] {
		out = append(out, list[i])
	}
	return out
}

func codes[T interface{ ~struct{ Code, Label string } }](cs []T) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = struct{ Code, Label string }(c).Code
	}
	return out
}

var otherLanguages = []string{"Polish", "Urdu", "Punjabi", "Arabic", "Somali", "Romanian", "Bengali", "Welsh", "Portuguese", "Gujarati"}

// realisticInput draws a waiting list of people people across teams teams
// sharing workers workers, with profiles in the proportions a service
// might see: most workers speak English only; a few people make musts;
// some return to a worker they had before.
func realisticInput(seed uint64, people, workers, teams int) PlanInput {
	r := rand.New(rand.NewPCG(seed, seed+1))
	themes := codes(DefaultThemes)
	places, days, times := codes(Places), codes(Days), codes(Times)
	in := PlanInput{Themes: DefaultThemes}
	teamWorkers := make([][]int64, teams)
	for i := range workers {
		f := Facts{ID: int64(1000 + i), Name: fmt.Sprintf("Worker %d", i), Languages: []string{"English"},
			Places: pickSome(r, places, 2+r.IntN(4)), Days: pickSome(r, days, 3+r.IntN(3)), Times: pickSome(r, times, 1+r.IntN(3))}
		switch g := r.IntN(20); {
		case g < 11:
			f.Gender = "woman"
		case g < 18:
			f.Gender = "man"
		case g < 19:
			f.Gender = "non_binary"
		}
		if r.IntN(5) == 0 {
			f.Languages = append(f.Languages, otherLanguages[r.IntN(len(otherLanguages))])
		}
		if r.IntN(10) < 7 {
			f.Themes = pickSome(r, themes, r.IntN(4))
		}
		f.Cap = 4 + r.IntN(11)
		f.Caseload = r.IntN(f.Cap + 3)
		team := int64(i % teams)
		in.Workers = append(in.Workers, Available{Facts: f, Teams: []int64{team}})
		teamWorkers[team] = append(teamWorkers[team], f.ID)
	}
	for i := range people {
		team := int64(r.IntN(teams))
		w := Waiting{ReferralID: int64(i + 1), PersonID: int64(i + 1), TeamID: team, Reference: fmt.Sprintf("MUT-%08d", i),
			PersonName: fmt.Sprintf("Person %d", i), Urgent: r.IntN(5) == 0, DaysWaited: r.IntN(120)}
		if r.IntN(10) < 6 {
			c := &w.Choices
			if r.IntN(10) < 4 {
				c.WorkerGender = []string{"woman", "man", "woman", "non_binary"}[r.IntN(4)]
				c.WorkerGenderMust = r.IntN(10) < 3
			}
			if r.IntN(100) < 15 {
				c.Languages = []string{otherLanguages[r.IntN(len(otherLanguages))]}
				c.LanguagesMust = r.IntN(2) == 0
			}
			if r.IntN(10) < 4 {
				c.Themes = pickSome(r, themes, 1+r.IntN(2))
				c.ThemesMust = r.IntN(10) == 0
			}
			if r.IntN(2) == 0 {
				c.Places = pickSome(r, places, 1+r.IntN(3))
				c.PlacesMust = r.IntN(5) == 0
			}
			if r.IntN(10) < 4 {
				c.Days = pickSome(r, days, 2+r.IntN(3))
			}
			if r.IntN(10) < 3 {
				c.Times = pickSome(r, times, 1+r.IntN(2))
			}
		}
		tw := teamWorkers[team]
		if len(tw) > 0 && r.IntN(100) < 15 {
			w.Previous = tw[r.IntN(len(tw))]
		}
		if len(tw) > 0 && r.IntN(50) == 0 {
			w.Excluded = []int64{tw[r.IntN(len(tw))]}
		}
		in.People = append(in.People, w)
	}
	return in
}

// recheck rebuilds the matching problem from a plan's published
// explanation alone — each person's ranked workers, each worker's free
// places and priority order — and checks the assignments against it, as
// anyone reading the API answer could.
func recheck(t *testing.T, pl Plan) {
	t.Helper()
	// Round-trip through JSON: only what the API publishes is used.
	b, err := json.Marshal(pl)
	if err != nil {
		t.Fatal(err)
	}
	var pub Plan
	if err := json.Unmarshal(b, &pub); err != nil {
		t.Fatal(err)
	}
	pidx, widx := map[int64]int32{}, map[int64]int32{}
	in := &stable.Instance{People: make([]stable.Person, len(pub.People)), Workers: make([]stable.Worker, len(pub.Workers))}
	for i, w := range pub.Workers {
		widx[w.WorkerID] = int32(i)
		in.Workers[i].Capacity = w.FreeCapacity
	}
	for i, p := range pub.People {
		pidx[p.ReferralID] = int32(i)
		for _, rw := range p.RankedWorkers {
			in.People[i].Prefs = append(in.People[i].Prefs, widx[rw.WorkerID])
		}
		for _, id := range p.MoreConsidered {
			in.People[i].Prefs = append(in.People[i].Prefs, widx[id])
		}
		in.People[i].Previous = -1
	}
	in.Rank = make([][]int32, len(pub.Workers))
	for w, pw := range pub.Workers {
		in.Rank[w] = make([]int32, len(pub.People))
		for i := range in.Rank[w] {
			in.Rank[w][i] = 1 << 30 // not in the list: never asked
		}
		for pos, ref := range pw.Priority {
			in.Rank[w][pidx[ref]] = int32(pos)
		}
	}
	match := make([]int32, len(pub.People))
	for i := range match {
		match[i] = -1
	}
	for _, a := range pub.Assignments {
		match[pidx[a.ReferralID]] = widx[a.WorkerID]
	}
	overfull, unlisted, blocking := stable.Problems(in, match)
	if len(overfull)+len(unlisted)+len(blocking) > 0 {
		t.Fatalf("the published plan is not stable: over cap %v, unlisted %v, blocking %v", overfull, unlisted, blocking)
	}
	for _, w := range pub.Workers {
		if w.Takes > w.FreeCapacity {
			t.Fatalf("worker %d takes %d with %d free places", w.WorkerID, w.Takes, w.FreeCapacity)
		}
	}
}

// A plan is stable as published, on realistic random waiting lists (and
// on one large team, where people consider more workers than are
// explained in words): no worker over their places, and no person and
// worker who would both rather be together.
func TestPlanIsStableAsPublished(t *testing.T) {
	for seed := range uint64(30) {
		teams := 4
		if seed%5 == 0 {
			teams = 1
		}
		pl := Propose(realisticInput(seed, 300, 40, teams))
		recheck(t, pl)
		if pl.Summary.Allocated+pl.Summary.Unmatched != pl.Summary.People {
			t.Fatalf("summary does not add up: %+v", pl.Summary)
		}
	}
}

// Musts exclude, and so does asking for a different worker; the previous
// worker comes first for someone who asked to keep them; a must no
// worker meets leaves the person unmatched, saying why.
func TestPlanHonoursChoices(t *testing.T) {
	ana := Available{Facts: Facts{ID: 1, Name: "Ana", Gender: "woman", Cap: 5, Themes: []string{"psychosis"}}, Teams: []int64{7}}
	ben := Available{Facts: Facts{ID: 2, Name: "Ben", Gender: "man", Cap: 5, Languages: []string{"Polish"}}, Teams: []int64{7}}
	cat := Available{Facts: Facts{ID: 3, Name: "Cat", Gender: "woman", Cap: 1, Caseload: 1}, Teams: []int64{7}}
	in := PlanInput{Themes: DefaultThemes, Workers: []Available{ana, ben, cat}, People: []Waiting{
		{ReferralID: 10, TeamID: 7, Choices: Choices{WorkerGender: "man", WorkerGenderMust: true}},
		{ReferralID: 11, TeamID: 7, Previous: 2, Choices: Choices{Themes: []string{"psychosis"}}},
		{ReferralID: 12, TeamID: 7, Excluded: []int64{1}},
		{ReferralID: 13, TeamID: 7, Choices: Choices{Languages: []string{"Somali"}, LanguagesMust: true}},
		{ReferralID: 14, TeamID: 8},
	}}
	pl := Propose(in)
	got := map[int64]int64{}
	for _, a := range pl.Assignments {
		got[a.ReferralID] = a.WorkerID
	}
	want := map[int64]int64{10: 2, 11: 2, 12: 2}
	for ref, w := range want {
		if got[ref] != w {
			t.Errorf("referral %d got worker %d, want %d (plan %+v)", ref, got[ref], w, pl.Assignments)
		}
	}
	why := map[int64]string{}
	for _, u := range pl.Unmatched {
		why[u.ReferralID] = u.Why
	}
	if why[13] != "No worker in the team meets what the person needs: Does not meet a must: Speaks Somali (a must)." {
		t.Errorf("unmet must: %q", why[13])
	}
	if why[14] != "There are no peer workers in the team." {
		t.Errorf("empty team: %q", why[14])
	}
	for _, p := range pl.People {
		switch p.ReferralID {
		case 11:
			if p.RankedWorkers[0].WorkerID != 2 || p.RankedWorkers[0].Met[0] != "The same worker as before" {
				t.Errorf("the previous worker is not first: %+v", p.RankedWorkers)
			}
		case 12:
			if len(p.NotAcceptable) != 1 || p.NotAcceptable[0].WorkerID != 1 || p.NotAcceptable[0].Why != "The person asked for a different worker" {
				t.Errorf("exclusion not explained: %+v", p.NotAcceptable)
			}
		}
	}
	for _, w := range pl.Workers {
		if w.WorkerID == 3 && (w.FreeCapacity != 0 || w.Takes != 0) {
			t.Errorf("a full worker took someone: %+v", w)
		}
	}
	recheck(t, pl)
}

// Two runs over the same input give the same plan.
func TestPlanDeterministic(t *testing.T) {
	a, _ := json.Marshal(Propose(realisticInput(42, 500, 60, 5)))
	b, _ := json.Marshal(Propose(realisticInput(42, 500, 60, 5)))
	if string(a) != string(b) {
		t.Fatal("two plans from the same input differ")
	}
}

// Compare and the planner agree on what each worker meets.
func TestCompareAgreesWithThePlanner(t *testing.T) {
	in := realisticInput(7, 200, 30, 3)
	pl := Propose(in)
	workers := map[int64]Facts{}
	for _, w := range in.Workers {
		workers[w.ID] = w.Facts
	}
	people := map[int64]Waiting{}
	for _, w := range in.People {
		people[w.ReferralID] = w
	}
	for _, p := range pl.People {
		w := people[p.ReferralID]
		for _, rw := range p.RankedWorkers {
			crit, ok := Compare(w.Choices, DefaultThemes, w.Previous, workers[rw.WorkerID])
			met, unmet := Split(crit)
			if !ok || !slices.Equal(met, rw.Met) || !slices.Equal(unmet, rw.Unmet) {
				t.Fatalf("person %d, worker %d: Compare says %v/%v (acceptable %v), the plan %v/%v", p.ReferralID, rw.WorkerID, met, unmet, ok, rw.Met, rw.Unmet)
			}
		}
	}
}

// BenchmarkPlan10000x1000 plans 10,000 people on 40 teams' waiting lists
// for 1,000 workers, from realistic profiles: ranking every person's
// workers from their choices, the stable matching, and the whole
// explanation. The bar is under a second and under 500 MB on 2 cores;
// peak-heap-MB is the largest live heap seen during one plan, B/op all
// memory allocated.
func BenchmarkPlan10000x1000(b *testing.B) {
	benchPlan(b, realisticInput(2026, 10_000, 1_000, 40))
}

// BenchmarkPlanOneTeam10000x1000 is the same waiting list as one team of
// 1,000 workers, so every person ranks every worker: ten million pairs.
func BenchmarkPlanOneTeam10000x1000(b *testing.B) {
	benchPlan(b, realisticInput(2026, 10_000, 1_000, 1))
}

func benchPlan(b *testing.B, in PlanInput) {
	b.ReportAllocs()
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var pl Plan
	for b.Loop() {
		pl = Propose(in)
	}
	close(stop)
	<-done
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(pl.Summary.Allocated), "allocated")
}

// Counting sort and a stable comparison sort agree.
func TestSortByScoreIsAStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		xs := make([]ranked, r.IntN(40))
		for i := range xs {
			xs[i] = ranked{w: int32(i), score: r.IntN(8)}
			if r.IntN(30) == 0 {
				xs[i].score += 1 << 16
			}
		}
		want := slices.Clone(xs)
		slices.SortStableFunc(want, func(a, b ranked) int { return b.score - a.score })
		sortByScore(xs)
		if !slices.Equal(xs, want) {
			t.Fatalf("got %v, want %v", xs, want)
		}
	}
}

// Workers take people in the waiting list's own order: an open alert of
// possible risk first, then very urgent, urgent and routine, then past the
// standard, then the longest wait.
func TestPlanTakesRiskAndUrgencyFirst(t *testing.T) {
	one := Available{Facts: Facts{ID: 1, Name: "Ana", Cap: 1}, Teams: []int64{7}}
	people := []Waiting{
		{ReferralID: 10, TeamID: 7, Urgency: "routine", Urgent: true, DaysWaited: 90},
		{ReferralID: 11, TeamID: 7, Urgency: "urgent", DaysWaited: 0},
		{ReferralID: 12, TeamID: 7, Urgency: "very_urgent", DaysWaited: 0},
		{ReferralID: 13, TeamID: 7, Urgency: "routine", Risk: true, DaysWaited: 0},
		{ReferralID: 14, TeamID: 7, Urgency: "routine", DaysWaited: 200},
	}
	want := []int64{13, 12, 11, 10, 14}
	for places := 1; places <= len(people); places++ {
		one.Cap = places
		pl := Propose(PlanInput{Themes: DefaultThemes, Workers: []Available{one}, People: people})
		var got []int64
		for _, a := range pl.Assignments {
			got = append(got, a.ReferralID)
		}
		slices.Sort(got)
		exp := slices.Clone(want[:places])
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Fatalf("with %d places the worker takes %v, want %v", places, got, exp)
		}
		recheck(t, pl)
	}
	pl := Propose(PlanInput{Themes: DefaultThemes, Workers: []Available{one}, People: people})
	var order []int64
	for _, p := range pl.People {
		order = append(order, p.ReferralID)
	}
	if !slices.Equal(order, want) {
		t.Fatalf("the plan lists people in the order %v, want %v", order, want)
	}
	if pl.People[0].Urgency != "routine" || !pl.People[0].Risk || pl.People[1].Urgency != "very_urgent" {
		t.Fatalf("the plan does not say why: %+v", pl.People[:2])
	}
}
