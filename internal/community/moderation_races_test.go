package community_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Members taking one display name at the same moment, joining or
// renaming: one has it; each other is given the field message, and keeps
// what they had.
func TestDisplayNameTakenOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		members := []*app.Principal{w.Principal(t, "person"), w.Principal(t, "person2"), w.Principal(t, "carer")}
		for round := range 5 {
			name := fmt.Sprintf("Quiet Heron %c", 'A'+round)
			errs := testkit.Race(len(members), func(i int) error {
				_, err := w.Community.SaveSettings(ctx, members[i], community.Settings{DisplayName: name})
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeInvalid); won != 1 {
				t.Fatalf("round %d: %d members took %q", round, won, name)
			}
			for i, err := range errs {
				if err != nil && (field(err) != "display_name" || !strings.Contains(app.As(err).Fields[0].Message, "Someone already uses this display name")) {
					t.Fatalf("round %d: member %d: %v", round, i, err)
				}
			}
			if n := count(t, db, "SELECT COUNT(*) FROM community_members WHERE display_name = $1", name); n != 1 {
				t.Fatalf("round %d: %d members named %q", round, n, name)
			}
			if round == 0 {
				// The losers join under names of their own, so later
				// rounds rename members.
				for i, err := range errs {
					if err != nil {
						join(t, w, []string{"person", "person2", "carer"}[i], fmt.Sprintf("Own Name %d", i), false)
					}
				}
			}
			if n := count(t, db, "SELECT COUNT(*) FROM community_members"); n != len(members) {
				t.Fatalf("round %d: %d members", round, n)
			}
		}
	})
}

// One member flagging a post for one reason, and reacting to it, several
// times at once: one open flag, at most one reaction of the kind.
func TestFlagAndReactOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Carers and people", ForPeople: true, ForCarers: true})
		writer := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, writer)
		reader := join(t, w, "carer", "Kind Otter", false)
		for round := range 5 {
			res := must(w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: fmt.Sprintf("Topic %d", round), Body: "Hello all"}))
			errs := testkit.Race(6, func(i int) error {
				if i < 3 {
					return w.Community.Flag(ctx, reader, res.Post.ID, community.NewFlag{Kind: "identifies", Note: "names a neighbour"})
				}
				_, err := w.Community.React(ctx, reader, res.Post.ID, "thank_you")
				return err
			})
			if won := testkit.Winners(t, errs); won != len(errs) {
				t.Fatalf("round %d: %v", round, errs)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM community_flags WHERE post_id = $1 AND resolved_at IS NULL", res.Post.ID); n != 1 {
				t.Fatalf("round %d: %d open flags", round, n)
			}
			// React gives or takes back, so racing toggles may end either
			// way (TestReactAndFollowUnderConcurrency counts them), but
			// never with two reactions of a kind.
			if n := count(t, db, "SELECT COUNT(*) FROM community_reactions WHERE post_id = $1", res.Post.ID); n > 1 {
				t.Fatalf("round %d: %d reactions of one kind by one member", round, n)
			}
		}
	})
}

// Moderators changing one member's trust level at the same moment: each
// change is from the level the one before left, and a change to the level
// the member already has is refused with the field message.
func TestSetTrustUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		mod := w.Principal(t, "moderator")
		for round, name := range []string{"person", "person2", "carer"} {
			m := join(t, w, name, fmt.Sprintf("Member %d", round), false)
			levels := []int{community.LevelMember, community.LevelMember, 2, community.LevelMember}
			errs := testkit.Race(len(levels), func(i int) error {
				_, err := w.Community.SetTrust(ctx, mod, m.UserID, community.TrustChange{Level: levels[i], Reason: "known to us"})
				return err
			})
			won := testkit.Winners(t, errs, app.CodeInvalid)
			rows, err := db.Query(ctx, "SELECT from_level, to_level FROM community_trust_changes WHERE user_id = $1 ORDER BY id", m.UserID)
			if err != nil {
				t.Fatal(err)
			}
			var chain [][2]int
			for rows.Next() {
				var from, to int
				if err := rows.Scan(&from, &to); err != nil {
					t.Fatal(err)
				}
				chain = append(chain, [2]int{from, to})
			}
			rows.Close()
			if len(chain) != won {
				t.Fatalf("round %d: %d changes recorded, %d answered", round, len(chain), won)
			}
			level := 0
			for _, c := range chain {
				if c[0] != level || c[1] == c[0] {
					t.Fatalf("round %d: the changes do not follow each other: %v", round, chain)
				}
				level = c[1]
			}
			if n := count(t, db, "SELECT trust_level FROM community_members WHERE user_id = $1", m.UserID); n != level {
				t.Fatalf("round %d: level %d, the last change left %d", round, n, level)
			}
		}
	})
}

// One member toggling one reaction several times at once: the toggles take
// turns, as clicks would, so an even number leaves the reaction as it was
// and an odd number changes it. Following a topic several times at once
// follows it once; stopping several times at once stops it.
func TestReactAndFollowUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Carers and people", ForPeople: true, ForCarers: true})
		writer := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, writer)
		reader := join(t, w, "carer", "Kind Otter", false)
		res := must(w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Toggles", Body: "Hello all"}))
		reactions := func() int {
			return count(t, db, "SELECT COUNT(*) FROM community_reactions WHERE post_id = $1 AND user_id = $2 AND kind = 'thank_you'", res.Post.ID, reader.UserID)
		}
		for round := range 8 {
			before, toggles := reactions(), 2+round%2
			errs := testkit.Race(toggles, func(int) error {
				_, err := w.Community.React(ctx, reader, res.Post.ID, "thank_you")
				return err
			})
			if won := testkit.Winners(t, errs); won != toggles {
				t.Fatalf("round %d: %v", round, errs)
			}
			if want := (before + toggles) % 2; reactions() != want {
				t.Fatalf("round %d: %d toggles from %d reactions left %d, want %d", round, toggles, before, reactions(), want)
			}
		}
		follows := func() int {
			return count(t, db, "SELECT COUNT(*) FROM community_follows WHERE topic_id = $1 AND user_id = $2", res.Topic.ID, reader.UserID)
		}
		for round := range 5 {
			for _, on := range []bool{true, false} {
				errs := testkit.Race(4, func(int) error {
					_, err := w.Community.Follow(ctx, reader, res.Topic.ID, on)
					return err
				})
				if won := testkit.Winners(t, errs); won != 4 {
					t.Fatalf("round %d: %v", round, errs)
				}
				if want := map[bool]int{true: 1, false: 0}[on]; follows() != want {
					t.Fatalf("round %d: following %v four times at once left %d follows", round, on, follows())
				}
			}
		}
	})
}
