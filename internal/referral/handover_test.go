package referral_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

const (
	beforeCanary = "BEFORE-HANDOVER-CANARY-5521"
	afterCanary  = "AFTER-HANDOVER-CANARY-8830"
)

// A new peer worker reads the contacts recorded before they took over
// only as the person chose — all of them, a summary with no note text, or
// nothing (no choice: a summary) — on every read of contacts (the referral,
// the person's contacts, one contact); what is recorded after the handover
// they always read. The outgoing worker, the team's lead and clinicians
// read everything as before (the outgoing worker no longer sees the
// referral at all, as before); the person too.
func TestHandoverHistoryFollowsThePersonsChoice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, before := noteWorld(t, db)
		ctx := context.Background()
		person, worker, lead, clinician := w.Principal(t, "person"), w.Principal(t, "worker"), w.Principal(t, "lead"), w.Principal(t, "clinician")
		if _, err := w.Referrals.AddComment(ctx, person, before.ID, referral.NewComment{Kind: "comment", Body: "Comment " + beforeCanary}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.EditNote(ctx, worker, before.ID, referral.NoteEdit{Note: "Edited " + beforeCanary, Version: before.Version}); err != nil {
			t.Fatal(err)
		}
		incoming := w.AddWorker(t, "incoming", "A")
		w.Clock.Advance(time.Hour)
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: incoming.UserID}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(time.Hour)
		after, err := w.Referrals.RecordContact(ctx, incoming, r.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Minute), Mode: "in_person",
			Minutes: 30, Note: "Met at the café " + afterCanary})
		if err != nil {
			t.Fatal(err)
		}
		// Every read of contacts, as text.
		reads := func(p *app.Principal) map[string]string {
			out := map[string]string{}
			d, err := w.Referrals.GetReferral(ctx, p, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			out["referral"] = testkit.JSON(t, d.Contacts)
			pg, err := w.Referrals.PersonContacts(ctx, p, r.PersonID, 50, 0)
			if err != nil {
				t.Fatal(err)
			}
			out["person contacts"] = testkit.JSON(t, pg)
			cd, err := w.Referrals.GetContact(ctx, p, before.ID)
			if app.IsCode(err, app.CodeNotFound) {
				out["contact"] = "not found"
			} else if err != nil {
				t.Fatal(err)
			} else {
				out["contact"] = testkit.JSON(t, cd)
			}
			ca, err := w.Referrals.GetContact(ctx, p, after.ID)
			if err != nil || !strings.Contains(testkit.JSON(t, ca), afterCanary) {
				t.Fatalf("the contact after the handover: %v", err)
			}
			return out
		}
		check := func(t *testing.T, share string) {
			t.Helper()
			for route, text := range reads(incoming) {
				if !strings.Contains(text, afterCanary) && route != "contact" {
					t.Errorf("%s: %s: the contact after the handover is missing", share, route)
				}
				switch share {
				case "all":
					if !strings.Contains(text, beforeCanary) {
						t.Errorf("all: %s: the earlier note is missing", route)
					}
				case "summary":
					if strings.Contains(text, beforeCanary) || strings.Contains(text, "walking group") {
						t.Errorf("summary: %s shows the earlier note's text: %s", route, text)
					}
					if !strings.Contains(text, `"history_summary":true`) || !strings.Contains(text, `"mode":"phone"`) {
						t.Errorf("summary: %s lacks the earlier contact's outline: %s", route, text)
					}
				case "none":
					if strings.Contains(text, beforeCanary) || strings.Contains(text, `"mode":"phone"`) || strings.Contains(text, "walking group") {
						t.Errorf("none: %s shows the earlier contact: %s", route, text)
					}
				}
			}
			if share == "none" {
				pg, _ := w.Referrals.PersonContacts(ctx, incoming, r.PersonID, 50, 0)
				if pg.Total != 1 {
					t.Errorf("none: total %d, want 1", pg.Total)
				}
			}
			for name, p := range map[string]*app.Principal{"lead": lead, "clinician": clinician} {
				if text := reads(p)["contact"]; !strings.Contains(text, beforeCanary) {
					t.Errorf("%s: %s lost the earlier note", share, name)
				}
			}
			m, err := w.Referrals.MyReferral(ctx, person, r.ID)
			if err != nil || !strings.Contains(testkit.JSON(t, m.Contacts), beforeCanary) {
				t.Errorf("%s: the person lost their own note: %v", share, err)
			}
		}
		t.Run("NoChoiceIsASummary", func(t *testing.T) {
			h, err := w.Referrals.MyReferral(ctx, person, r.ID)
			if err != nil || h.Handover == nil || h.Handover.Chosen || h.Handover.Share != "summary" {
				t.Fatalf("%v %+v", err, h.Handover)
			}
			check(t, "summary")
		})
		version := 0
		for _, share := range []string{"all", "none", "summary"} {
			t.Run("Chose_"+share, func(t *testing.T) {
				h, err := w.Referrals.ChooseHandoverSharing(ctx, person, r.ID, referral.HandoverChoice{Share: share, Version: version})
				if err != nil || !h.Chosen || !h.ByPerson || h.Share != share {
					t.Fatalf("%v %+v", err, h)
				}
				version = h.Version
				check(t, share)
			})
		}
		t.Run("StaleChoiceIs409", func(t *testing.T) {
			if _, err := w.Referrals.ChooseHandoverSharing(ctx, person, r.ID, referral.HandoverChoice{Share: "all", Version: version - 1}); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("stale: %v", err)
			}
			if _, err := w.Referrals.ChooseHandoverSharing(ctx, person, r.ID, referral.HandoverChoice{Share: "all"}); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("first again: %v", err)
			}
		})
		t.Run("StaffOnThePersonsSay", func(t *testing.T) {
			if _, err := w.Referrals.ChooseHandoverSharing(ctx, incoming, r.ID, referral.HandoverChoice{Share: "all", Version: version}); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("without saying on whose say: %v", err)
			}
			if _, err := w.Referrals.ChooseHandoverSharing(ctx, clinician, r.ID, referral.HandoverChoice{Share: "all", Version: version, Agreement: "x"}); !app.IsCode(err, app.CodeForbidden) {
				t.Fatalf("clinician: %v", err)
			}
			if _, err := w.Referrals.ChooseHandoverSharing(ctx, w.Principal(t, "partner"), r.ID, referral.HandoverChoice{Share: "all", Version: version, Agreement: "x"}); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("partner: %v", err)
			}
			h, err := w.Referrals.ChooseHandoverSharing(ctx, lead, r.ID, referral.HandoverChoice{Share: "all", Version: version, Agreement: "Told me at our meeting today"})
			if err != nil || h.ByPerson || h.Agreement == "" || h.ChosenBy != "Test lead" {
				t.Fatalf("%v %+v", err, h)
			}
			check(t, "all")
			d, err := w.Referrals.GetReferral(ctx, lead, r.ID)
			if err != nil || !strings.Contains(testkit.JSON(t, d.History), "Recorded on the person's say") || !strings.Contains(testkit.JSON(t, d.History), "The person chose") {
				t.Fatalf("history: %v %s", err, testkit.JSON(t, d.History))
			}
		})
	})
}

// Choices made at once from one version (the person in two tabs, and their
// worker on their say): exactly one is recorded, the others answered 409;
// the first choice too (an insert that must add the row).
func TestHandoverChoiceOnceUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, _ := noteWorld(t, db)
		ctx := context.Background()
		person, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		for version, shares := range [][]string{{"all", "none", "summary"}, {"none", "all", "summary"}} {
			errs := testkit.Race(len(shares), func(i int) error {
				p, say := person, ""
				if i == 2 {
					p, say = worker, "Told me just now"
				}
				_, err := w.Referrals.ChooseHandoverSharing(ctx, p, r.ID, referral.HandoverChoice{Share: shares[i], Agreement: say, Version: version})
				return err
			})
			if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
				t.Fatalf("version %d: %d choices won", version, won)
			}
			var v, events int
			if err := db.QueryRow(ctx, "SELECT version FROM handover_sharing WHERE referral_id = $1", r.ID).Scan(&v); err != nil || v != version+1 {
				t.Fatalf("version %d: row version %d %v", version, v, err)
			}
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND note LIKE '%new peer worker sees%'", r.ID).Scan(&events); err != nil || events != version+1 {
				t.Fatalf("version %d: %d history events %v", version, events, err)
			}
		}
	})
}

// The person's copy of their data holds their choice and the changes of
// worker; forgetting them removes both.
func TestHandoverInTheCopyAndForgotten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, _ := noteWorld(t, db)
		ctx := context.Background()
		incoming := w.AddWorker(t, "incoming", "A")
		if _, err := w.Referrals.Transition(ctx, w.Principal(t, "lead"), r.ID, referral.Move{To: referral.Allocated, WorkerID: incoming.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.ChooseHandoverSharing(ctx, w.Principal(t, "person"), r.ID, referral.HandoverChoice{Share: "none"}); err != nil {
			t.Fatal(err)
		}
		var copyText string
		err := db.Write(ctx, func(tx *store.Tx) error {
			c, err := w.Referrals.Export(ctx, tx, r.PersonID)
			copyText = testkit.JSON(t, c)
			return err
		})
		if err != nil || !strings.Contains(copyText, `"share":"none"`) || !strings.Contains(copyText, `"to":"Test incoming"`) {
			t.Fatalf("copy: %v %s", err, copyText)
		}
		hs := append(slices.Clone(w.DataRights.Holders), w.DataRights)
		if err := db.Write(ctx, func(tx *store.Tx) error {
			for i := len(hs) - 1; i >= 0; i-- { // as retention does: the person last
				if err := hs[i].Forget(ctx, tx, r.PersonID); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"referral_handovers", "handover_sharing"} {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE person_id = $1", r.PersonID).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%s: %d left %v", table, n, err)
			}
		}
	})
}

// The person's choice holds however the referral changes worker: by way of
// the waiting list (the worker taken off, then another allocated) — and
// while it waits, for the team's other peer workers — and when a worker is
// handed it back a second time (narrowed up to the second time). A first
// worker reads what was recorded before them in full. A summary shows no
// one's words, not even why a contact was entered in error.
func TestHandoverChoiceHoldsOnEveryPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, before := noteWorld(t, db)
		ctx := context.Background()
		person, worker, lead := w.Principal(t, "person"), w.Principal(t, "worker"), w.Principal(t, "lead")
		incoming := w.AddWorker(t, "incoming", "A")
		bystander := w.AddWorker(t, "bystander", "A")
		sees := func(p *app.Principal, canary string) bool {
			t.Helper()
			d, err := w.Referrals.GetReferral(ctx, p, r.ID)
			if app.IsCode(err, app.CodeNotFound) {
				return false
			}
			if err != nil {
				t.Fatal(err)
			}
			pg, err := w.Referrals.PersonContacts(ctx, p, r.PersonID, 50, 0)
			if err != nil {
				t.Fatal(err)
			}
			return strings.Contains(testkit.JSON(t, d.Contacts)+testkit.JSON(t, pg), canary)
		}
		// The first worker recorded the canary; a mistaken contact's reason
		// is words too.
		wrong, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now().Add(-30 * time.Second), Mode: "phone", Minutes: 5})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.MarkEnteredInError(ctx, worker, wrong.ID, referral.ErrorMark{Reason: "Wrong person " + beforeCanary, Version: wrong.Version}); err != nil {
			t.Fatal(err)
		}
		if !sees(worker, readableCanary) {
			t.Fatal("the first worker cannot read their own note")
		}
		h, err := w.Referrals.ChooseHandoverSharing(ctx, person, r.ID, referral.HandoverChoice{Share: "summary"})
		if err != nil {
			t.Fatal(err)
		}
		// The worker is taken off: back to the waiting list.
		w.Clock.Advance(time.Hour)
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Accepted}); err != nil {
			t.Fatalf("back to the waiting list: %v", err)
		}
		for name, p := range map[string]*app.Principal{"a peer worker of the team": bystander, "the next worker, before allocation": incoming} {
			if sees(p, readableCanary) || sees(p, beforeCanary) {
				t.Errorf("%s reads the earlier worker's words on the waiting list", name)
			}
		}
		if !sees(lead, readableCanary) {
			t.Error("the team's lead cannot read the note")
		}
		w.Clock.Advance(time.Hour)
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: incoming.UserID}); err != nil {
			t.Fatal(err)
		}
		if sees(incoming, readableCanary) || sees(incoming, beforeCanary) {
			t.Error("the new worker, allocated from the waiting list, reads the earlier worker's words")
		}
		// Handed back to the first worker, who records more; then to the
		// incoming worker again: narrowed up to the second time.
		w.Clock.Advance(time.Hour)
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: w.Users["worker"].ID}); err != nil {
			t.Fatal(err)
		}
		w.Clock.Advance(time.Hour)
		if _, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Minute), Mode: "phone", Minutes: 10,
			Note: "Second time " + afterCanary}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, lead, r.ID, referral.Move{To: referral.Allocated, WorkerID: incoming.UserID}); err != nil {
			t.Fatal(err)
		}
		if sees(incoming, afterCanary) {
			t.Error("handed the referral a second time, the worker reads what was recorded between the two")
		}
		if !sees(lead, afterCanary) || !sees(lead, readableCanary) {
			t.Error("the lead cannot read the notes")
		}
		// The person's choice of all opens it.
		if _, err := w.Referrals.ChooseHandoverSharing(ctx, person, r.ID, referral.HandoverChoice{Share: "all", Version: h.Version}); err != nil {
			t.Fatal(err)
		}
		if !sees(incoming, afterCanary) || !sees(incoming, readableCanary) {
			t.Error("with all shared, the new worker cannot read the earlier notes")
		}
		_ = before
	})
}
