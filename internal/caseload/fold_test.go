package caseload

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Folding a person's spans into rows (migration 0060) keeps every span,
// and folds each one that can be: no span of a folding kind keeps a row
// of its own while a span of its base kind with the same days has room
// for it. A person in one team and one setting takes one row, not three.
func TestFoldKeepsEverySpan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := func(n int) time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	folded := 0
	for i := range 3000 {
		f := &personFacts{traits: traits{birthYear: 1980, gender: "woman"}}
		for range 1 + rng.IntN(4) {
			e := episodeFact{team: int64(1 + rng.IntN(3)), setting: []string{"", "community", "acute_ward"}[rng.IntN(3)], start: d(rng.IntN(60))}
			if rng.IntN(2) == 0 {
				e.end = e.start.AddDate(0, 0, rng.IntN(40))
			}
			f.episodes = append(f.episodes, e)
		}
		for range rng.IntN(3) {
			f.offers = append(f.offers, d(rng.IntN(90)).Add(10*time.Hour))
		}
		for range rng.IntN(4) {
			f.referrals = append(f.referrals, referralFact{d(rng.IntN(90)), rng.IntN(2) == 0})
		}
		spans := spansOf(f)
		rows := fold(spans)
		var back []span
		for _, r := range rows {
			back = append(back, r.unfold()...)
		}
		if !sameSpans(spans, back) {
			t.Fatalf("person %d: folding lost or changed a span:\n%v\n%v", i, spans, back)
		}
		folded += len(spans) - len(rows)
		for _, r := range rows {
			base, ok := FoldBase(r.kind)
			if !ok {
				continue
			}
			team, _ := Folded(base)
			for _, b := range rows {
				free := b.setting == nil
				if r.kind == team {
					free = b.team == nil
				}
				if b.kind == base && free && b.start.Equal(r.start) && b.end.Equal(r.end) && b.prev.Equal(r.prev) {
					t.Fatalf("person %d: %s span %s not folded into the %s span with the same days", i, r.kind, fmt.Sprint(r.start), base)
				}
			}
		}
	}
	if folded == 0 {
		t.Fatal("nothing folded")
	}
	one := spansOf(&personFacts{episodes: []episodeFact{{team: 7, setting: "community", start: d(0)}, {team: 7, setting: "community", start: d(30)}}})
	if rows := fold(one); len(one) != 3 || len(rows) != 1 || *rows[0].team != "7" || *rows[0].setting != "community" {
		t.Fatalf("one team and one setting: %d spans in %d rows: %+v", len(one), len(rows), rows)
	}
}
