package groups_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// findProposal is a proposal as the caller sees it in the network's list.
func findProposal(t *testing.T, w *testkit.World, who string, id int64) groups.Proposal {
	t.Helper()
	for _, p := range r(w.Groups.Proposals(context.Background(), w.Principal(t, who))).must(t) {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("%s does not see proposal %d", who, id)
	return groups.Proposal{}
}

// notes are the newest notifications in a named account.
func notes(t *testing.T, w *testkit.World, who string) []string {
	t.Helper()
	var out []string
	for _, n := range r(w.Notify.List(context.Background(), w.Principal(t, who), 20)).must(t) {
		out = append(out, n.Message)
	}
	return out
}

func hasNote(list []string, words ...string) bool {
	for _, n := range list {
		all := true
		for _, w := range words {
			all = all && strings.Contains(n, w)
		}
		if all {
			return true
		}
	}
	return false
}

// The peer network's flow: a member proposes, others show interest (once
// each), a lead answers — taken up as a group they run, or not with the
// reason — and everyone interested is told in their account, the proposer
// sees the answer, and nobody is named. Those outside the network see and
// do nothing; members cannot answer; an answer is given once.
func TestNetworkProposalsAreAnsweredToEveryoneInterested(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")

		allot := r(w.Groups.Propose(ctx, w.Principal(t, "person"), groups.NewProposal{Title: "Allotment mornings",
			Summary: "Growing vegetables together on Saturdays"})).must(t)
		if !allot.Mine || !allot.Interested || allot.Interest != 1 || allot.Status != groups.ProposalOpen {
			t.Fatalf("the proposer's new proposal: %+v", allot)
		}
		poetry := r(w.Groups.Propose(ctx, w.Principal(t, "carer"), groups.NewProposal{Title: "Poetry evenings"})).must(t)
		if _, err := w.Groups.Propose(ctx, w.Principal(t, "person"), groups.NewProposal{Title: "  "}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("a proposal with no title: %v", err)
		}

		for _, who := range []string{"person2", "worker", "carer", "person2"} {
			r(w.Groups.ShowInterest(ctx, w.Principal(t, who), allot.ID)).must(t)
		}
		r(w.Groups.ShowInterest(ctx, w.Principal(t, "worker"), poetry.ID)).must(t)
		seen := findProposal(t, w, "worker", allot.ID)
		if seen.Interest != 4 || !seen.Interested || seen.Mine {
			t.Fatalf("interest counts each member once (proposer, person2, worker, carer): %+v", seen)
		}
		if seen := findProposal(t, w, "lead", allot.ID); seen.Interested || seen.Interest != 4 {
			t.Fatalf("the lead's view: %+v", seen)
		}

		t.Run("OutsideTheNetwork", func(t *testing.T) {
			for _, who := range []string{"clinician", "analyst", "admin"} {
				p := w.Principal(t, who)
				if _, err := w.Groups.Proposals(ctx, p); !app.IsCode(err, app.CodeForbidden) {
					t.Errorf("%s lists proposals: %v", who, err)
				}
				if _, err := w.Groups.Propose(ctx, p, groups.NewProposal{Title: "x"}); !app.IsCode(err, app.CodeForbidden) {
					t.Errorf("%s proposes: %v", who, err)
				}
				if _, err := w.Groups.ShowInterest(ctx, p, allot.ID); !app.IsCode(err, app.CodeForbidden) {
					t.Errorf("%s shows interest: %v", who, err)
				}
			}
			if _, err := w.Groups.Proposals(ctx, app.Public("t")); !app.IsCode(err, app.CodeForbidden) {
				t.Errorf("the public lists proposals: %v", err)
			}
			// Members show interest but do not answer.
			for _, who := range []string{"person", "worker"} {
				if _, err := w.Groups.AnswerProposal(ctx, w.Principal(t, who), allot.ID, groups.ProposalAnswer{Outcome: groups.ProposalNotTakenUp,
					Answer: "no"}); !app.IsCode(err, app.CodeForbidden) {
					t.Errorf("%s answers: %v", who, err)
				}
			}
			if got := findProposal(t, w, "person", allot.ID); got.Status != groups.ProposalOpen {
				t.Fatalf("a refused answer answered it: %+v", got)
			}
		})

		t.Run("TakenUpAsAGroup", func(t *testing.T) {
			mine := r(w.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: w.TeamA.ID, Title: "Allotment mornings", Repeats: groups.Weekly,
				Visibility: groups.Public, Venue: groups.Venue{Name: "Roundhay allotments"}})).must(t)
			theirs := r(w.Groups.CreateGroup(ctx, w.Principal(t, "leadB"), groups.NewGroup{TeamID: w.TeamB.ID, Title: "Ward garden",
				Repeats: groups.Weekly, Visibility: groups.Public, Venue: groups.Venue{Name: "Ward 4 garden"}})).must(t)
			if _, err := w.Groups.AnswerProposal(ctx, lead, allot.ID, groups.ProposalAnswer{Outcome: groups.ProposalTakenUp, Answer: "Yes",
				GroupID: theirs.ID}); !app.IsCode(err, app.CodeInvalid) || app.As(err).Fields[0].Field != "group_id" {
				t.Fatalf("naming another team's group: %v", err)
			}
			if _, err := w.Groups.AnswerProposal(ctx, lead, allot.ID, groups.ProposalAnswer{Outcome: "maybe"}); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("an answer with no outcome or words: %v", err)
			}
			answer := "Starting in March at Roundhay: book from Groups and events."
			got := r(w.Groups.AnswerProposal(ctx, lead, allot.ID, groups.ProposalAnswer{Outcome: groups.ProposalTakenUp, Answer: answer,
				GroupID: mine.ID})).must(t)
			if got.Status != groups.ProposalTakenUp || got.GroupID != mine.ID || got.Answer != answer || got.AnsweredAt == nil {
				t.Fatalf("the answer: %+v", got)
			}
			for _, who := range []string{"person", "person2", "worker", "carer"} {
				if !hasNote(notes(t, w, who), "Good news", "Allotment mornings", answer) {
					t.Errorf("%s, who was interested, was not told: %q", who, notes(t, w, who))
				}
			}
			for _, who := range []string{"lead", "workerB"} {
				if hasNote(notes(t, w, who), "Allotment mornings") {
					t.Errorf("%s, who was not interested, was told", who)
				}
			}
			// The proposer sees what became of it, and who answered or
			// proposed is named nowhere in it.
			if p := findProposal(t, w, "person", allot.ID); !p.Mine || p.Status != groups.ProposalTakenUp || p.Answer != answer || p.GroupID != mine.ID {
				t.Fatalf("the proposer's view: %+v", p)
			}
			if _, err := w.Groups.ShowInterest(ctx, w.Principal(t, "workerB"), allot.ID); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("interest after the answer: %v", err)
			}
			if _, err := w.Groups.AnswerProposal(ctx, w.Principal(t, "lead2"), allot.ID, groups.ProposalAnswer{Outcome: groups.ProposalNotTakenUp,
				Answer: "No"}); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("answering twice: %v", err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'network.answer' AND object_id = $1 AND subject_person_id = $2",
				itoa(allot.ID), w.Principal(t, "person").PersonID); n != 1 {
				t.Fatalf("the answer is in the audit log %d times, naming the proposer", n)
			}
		})

		t.Run("NotTakenUpWithTheReason", func(t *testing.T) {
			// Two leads answer at once: one answer stands, the other is told.
			reasons := []string{"No facilitator for evenings yet: we will ask again in the spring.", "Not this term."}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, who := range []string{"lead", "lead2"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = w.Groups.AnswerProposal(ctx, w.Principal(t, who), poetry.ID, groups.ProposalAnswer{Outcome: groups.ProposalNotTakenUp,
						Answer: reasons[i], GroupID: 99})
				}()
			}
			wg.Wait()
			won := -1
			for i, err := range errs {
				if err == nil {
					won = i
				} else if !app.IsCode(err, app.CodeConflict) {
					t.Fatalf("the second answer: %v", err)
				}
			}
			if won < 0 || errs[0] == nil && errs[1] == nil {
				t.Fatalf("answers at once: %v", errs)
			}
			p := findProposal(t, w, "carer", poetry.ID)
			if p.Status != groups.ProposalNotTakenUp || p.Answer != reasons[won] || p.GroupID != 0 || !p.Mine {
				t.Fatalf("the proposer's view of a refusal: %+v", p)
			}
			for _, who := range []string{"carer", "worker"} {
				if !hasNote(notes(t, w, who), "Poetry evenings", "is not going ahead", reasons[won]) {
					t.Errorf("%s was not told why not: %q", who, notes(t, w, who))
				}
			}
			if hasNote(notes(t, w, "person"), "Poetry evenings") {
				t.Error("someone not interested was told of the refusal")
			}
		})
	})
}
