package referral_test

import (
	"context"
	"fmt"
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
	readableCanary   = "READABLE-CANARY-7731"
	restrictedCanary = "RESTRICTED-CANARY-4410"
)

// noteWorld is a person allocated to the world's worker, sharing beyond the
// peer team (so team A's clinician may see the referral), with one contact
// whose note the person can read.
func noteWorld(t *testing.T, db *store.DB) (*testkit.World, referral.Referral, referral.Contact) {
	t.Helper()
	w := testkit.NewWorld(t, db)
	ctx := context.Background()
	r := w.Allocated(t, "person", "worker")
	if _, err := w.Referrals.ChangeSharing(ctx, w.Principal(t, "person"), r.ID, referral.Sharing{ShareBeyondTeam: true}); err != nil {
		t.Fatal(err)
	}
	w.Clock.Advance(time.Hour)
	c, err := w.Referrals.RecordContact(ctx, w.Principal(t, "worker"), r.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Minute), Mode: "phone",
		Minutes: 20, Note: "Talked about the walking group " + readableCanary})
	if err != nil {
		t.Fatal(err)
	}
	return w, r, c
}

// The person reads the note, asks for a correction and sees the answer;
// editing keeps every version; a stale edit answers 409.
func TestNotesThePersonReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, c := noteWorld(t, db)
		ctx := context.Background()
		person, worker, lead := w.Principal(t, "person"), w.Principal(t, "worker"), w.Principal(t, "lead")

		t.Run("PersonReadsTheNote", func(t *testing.T) {
			m, err := w.Referrals.MyReferral(ctx, person, r.ID)
			if err != nil || len(m.Contacts) != 1 || !strings.Contains(m.Contacts[0].Note, readableCanary) {
				t.Fatalf("%v %+v", err, m.Contacts)
			}
		})
		t.Run("CorrectionRequested", func(t *testing.T) {
			if _, err := w.Referrals.AddComment(ctx, person, c.ID, referral.NewComment{Kind: "correction"}); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("empty correction: %v", err)
			}
			k, err := w.Referrals.AddComment(ctx, person, c.ID, referral.NewComment{Kind: "correction", Body: "It was the swimming group"})
			if err != nil || !k.ByPerson {
				t.Fatalf("%v %+v", err, k)
			}
			var msg string
			if err := db.QueryRow(ctx, "SELECT message FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1", worker.UserID).Scan(&msg); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(msg, "correct") || strings.Contains(msg, "swimming") {
				t.Fatalf("notification %q", msg)
			}
			if _, err := w.Referrals.AnswerCorrection(ctx, worker, k.ID, referral.CorrectionAnswer{Answer: "declined"}); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("declined without a reason: %v", err)
			}
			if _, err := w.Referrals.AnswerCorrection(ctx, w.Principal(t, "workerB"), k.ID, referral.CorrectionAnswer{Answer: "declined", Reason: "x"}); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("another team's worker: %v", err)
			}
			got, err := w.Referrals.AnswerCorrection(ctx, worker, k.ID, referral.CorrectionAnswer{Answer: "corrected", Note: "Talked about the swimming group", Version: c.Version})
			if err != nil || got.Answer != "corrected" {
				t.Fatalf("%v %+v", err, got)
			}
			if _, err := w.Referrals.AnswerCorrection(ctx, lead, k.ID, referral.CorrectionAnswer{Answer: "declined", Reason: "x"}); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("answered twice: %v", err)
			}
			m, _ := w.Referrals.MyReferral(ctx, person, r.ID)
			pc := m.Contacts[0]
			if pc.Note != "Talked about the swimming group" || pc.EditedAt == nil || len(pc.Comments) != 1 || pc.Comments[0].Answer != "corrected" {
				t.Fatalf("the person sees %+v", pc)
			}
		})
		t.Run("EveryVersionKept", func(t *testing.T) {
			d, err := w.Referrals.GetContact(ctx, lead, c.ID)
			if err != nil || len(d.Versions) != 1 || !strings.Contains(d.Versions[0].Note, readableCanary) || !d.MayAmend {
				t.Fatalf("%v %+v", err, d)
			}
			if _, err := w.Referrals.EditNote(ctx, lead, c.ID, referral.NoteEdit{Note: "stale", Version: c.Version}); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("stale edit: %v", err)
			}
			if _, err := w.Referrals.EditNote(ctx, w.Principal(t, "clinician"), c.ID, referral.NoteEdit{Note: "x", Version: d.Contact.Version}); !app.IsCode(err, app.CodeForbidden) {
				t.Fatalf("a clinician edits: %v", err)
			}
			got, err := w.Referrals.EditNote(ctx, lead, c.ID, referral.NoteEdit{Note: "Third text", Version: d.Contact.Version})
			if err != nil || got.Version != d.Contact.Version+1 {
				t.Fatalf("%v %+v", err, got)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM contact_note_versions WHERE contact_id = $1", c.ID); n != 2 {
				t.Fatalf("%d earlier versions", n)
			}
		})
	})
}

// A restricted note: never in anything the person, another team, a partner
// worker or the person's own copy receives; the person is told it exists
// unless a clinician records why not.
func TestRestrictedNotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, c := noteWorld(t, db)
		ctx := context.Background()
		person, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		if _, err := w.Referrals.AddRestrictedNote(ctx, worker, c.ID, referral.NewRestrictedNote{Note: restrictedCanary}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("no reason: %v", err)
		}
		if _, err := w.Referrals.AddRestrictedNote(ctx, w.Principal(t, "clinician"), c.ID, referral.NewRestrictedNote{Note: "x", Reason: "y"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a clinician adds: %v", err)
		}
		if _, err := w.Referrals.AddRestrictedNote(ctx, worker, c.ID, referral.NewRestrictedNote{Note: restrictedCanary, Reason: "Safeguarding: a risk from a family member"}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"worker", "lead", "clinician"} {
			d, err := w.Referrals.GetContact(ctx, w.Principal(t, name), c.ID)
			if err != nil || len(d.Restricted) != 1 || d.Restricted[0].Note != restrictedCanary {
				t.Fatalf("%s: %v %+v", name, err, d.Restricted)
			}
		}
		for _, name := range []string{"workerB", "leadB", "clinicianB", "partner", "person", "person2", "carer", "manager"} {
			d, err := w.Referrals.GetContact(ctx, w.Principal(t, name), c.ID)
			if err == nil || strings.Contains(testkit.JSON(t, d), restrictedCanary) {
				t.Fatalf("%s reads the contact: %v", name, err)
			}
			page, _ := w.Referrals.PersonContacts(ctx, w.Principal(t, name), r.PersonID, 10, 0)
			det, _ := w.Referrals.GetReferral(ctx, w.Principal(t, name), r.ID)
			for _, v := range []any{page, det} {
				if s := testkit.JSON(t, v); strings.Contains(s, restrictedCanary) || (name != "person" && strings.Contains(s, readableCanary)) {
					t.Fatalf("%s: %s", name, s)
				}
			}
		}
		m, err := w.Referrals.MyReferral(ctx, person, r.ID)
		if err != nil || !m.Contacts[0].RestrictedNote || strings.Contains(testkit.JSON(t, m), restrictedCanary) {
			t.Fatalf("the person: %v %s", err, testkit.JSON(t, m))
		}
		page, err := w.Referrals.PersonContacts(ctx, person, r.PersonID, 10, 0)
		if err != nil || page.Total != 1 || !page.Contacts[0].RestrictedNote || strings.Contains(testkit.JSON(t, page), restrictedCanary) {
			t.Fatalf("the person's list: %v %s", err, testkit.JSON(t, page))
		}
		own, err := w.DataRights.OwnCopy(ctx, person)
		if err != nil || strings.Contains(testkit.JSON(t, own), restrictedCanary) || !strings.Contains(testkit.JSON(t, own), readableCanary) {
			t.Fatalf("own copy: %v", err)
		}
		sar, err := w.DataRights.SubjectAccessCopy(ctx, w.Principal(t, "lead"), r.PersonID, "Subject access request of 1 November")
		if err != nil || !strings.Contains(testkit.JSON(t, sar), restrictedCanary) {
			t.Fatalf("a subject access copy made by the lead leaves out the restricted note: %v", err)
		}
		t.Run("NoticeWithheldByAClinician", func(t *testing.T) {
			if err := w.Referrals.WithholdRestrictedNotice(ctx, w.Principal(t, "lead"), c.ID, referral.Withholding{Reason: "x"}); !app.IsCode(err, app.CodeForbidden) {
				t.Fatalf("a lead withholds: %v", err)
			}
			if err := w.Referrals.WithholdRestrictedNotice(ctx, w.Principal(t, "clinician"), c.ID, referral.Withholding{}); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("no reason: %v", err)
			}
			if err := w.Referrals.WithholdRestrictedNotice(ctx, w.Principal(t, "clinician"), c.ID, referral.Withholding{Reason: "Telling them would put them at risk"}); err != nil {
				t.Fatal(err)
			}
			if err := w.Referrals.WithholdRestrictedNotice(ctx, w.Principal(t, "clinician"), c.ID, referral.Withholding{Reason: "again"}); !app.IsCode(err, app.CodeConflict) {
				t.Fatalf("twice: %v", err)
			}
			m, _ := w.Referrals.MyReferral(ctx, person, r.ID)
			if m.Contacts[0].RestrictedNote {
				t.Fatal("the person is still told")
			}
			d, _ := w.Referrals.GetContact(ctx, worker, c.ID)
			if !d.Contact.RestrictedNote || d.Restricted[0].Withheld == "" || d.Restricted[0].WithheldBy == "" {
				t.Fatalf("the withholding is not recorded: %+v", d.Restricted)
			}
		})
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'contact.read_restricted' AND subject_person_id = $1", r.PersonID); n < 3 {
			t.Fatalf("%d audited restricted reads", n)
		}
		t.Run("NobodyOutsideTheTeamIsTold", func(t *testing.T) {
			// The worker leaves (their account is closed): a later comment
			// tells no one outside the team about the person.
			before := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", worker.UserID)
			if _, err := db.Exec(ctx, "UPDATE users SET status = 'disabled' WHERE id = $1", worker.UserID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Referrals.AddComment(ctx, person, c.ID, referral.NewComment{Kind: "comment", Body: "Thank you"}); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1", worker.UserID); n != before {
				t.Fatalf("a worker who has left was told of a comment (%d notifications, %d before)", n, before)
			}
		})
	})
}

// Entered in error: kept, shown with its reason, left out of the counts,
// and no longer changed; forgetting the person removes every new row.
func TestEnteredInErrorAndForgetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, c := noteWorld(t, db)
		ctx := context.Background()
		person, worker := w.Principal(t, "person"), w.Principal(t, "worker")
		if _, err := w.Referrals.MarkEnteredInError(ctx, worker, c.ID, referral.ErrorMark{Version: c.Version}); !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("no reason: %v", err)
		}
		got, err := w.Referrals.MarkEnteredInError(ctx, worker, c.ID, referral.ErrorMark{Reason: "Recorded on the wrong person", Version: c.Version})
		if err != nil || !got.EnteredInError || got.ErrorReason == "" {
			t.Fatalf("%v %+v", err, got)
		}
		if _, err := w.Referrals.EditNote(ctx, worker, c.ID, referral.NoteEdit{Note: "x", Version: got.Version}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("edited after: %v", err)
		}
		m, _ := w.Referrals.MyReferral(ctx, person, r.ID)
		if len(m.Contacts) != 1 || !m.Contacts[0].EnteredInError {
			t.Fatalf("the person sees %+v", m.Contacts)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM referrals WHERE id = $1 AND first_contact_at IS NULL", r.ID); n != 1 {
			t.Fatal("the contact entered in error is still the first contact")
		}
		people, err := w.Support.MyPeople(ctx, worker)
		if err != nil || len(people) != 1 || people[0].LastContact != nil {
			t.Fatalf("my people counts it: %v %+v", err, people)
		}
		found, err := w.People.Search(ctx, worker, "Test person", 10, 0)
		if err != nil || len(found.People) != 1 || found.People[0].LastContact != nil {
			t.Fatalf("the people list counts it: %v %+v", err, found.People)
		}
		if _, err := w.Referrals.AddComment(ctx, person, c.ID, referral.NewComment{Kind: "comment", Body: "Thank you"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.AddRestrictedNote(ctx, worker, c.ID, referral.NewRestrictedNote{Note: "n", Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		// Every holder forgets, in the retention job's order (the reverse of
		// the copy's).
		if err := db.Write(ctx, func(tx *store.Tx) error {
			hs := w.DataRights.Holders
			for i := len(hs) - 1; i >= 0; i-- {
				if err := hs[i].Forget(ctx, tx, r.PersonID); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"contact_note_versions", "contact_comments", "contact_restricted_notes", "contacts"} {
			if n := count(t, db, "SELECT COUNT(*) FROM "+table); n != 0 {
				t.Fatalf("%d rows left in %s", n, table)
			}
		}
	})
}

// Two edits of one note at once with the version both saw: one wins, the
// other answers 409, and exactly one earlier text is kept. Two answers to
// one correction request: one wins.
func TestNoteEditsUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, _, c := noteWorld(t, db)
		ctx := context.Background()
		editors := []*app.Principal{w.Principal(t, "worker"), w.Principal(t, "lead"), w.Principal(t, "lead2"), w.Principal(t, "worker")}
		errs := testkit.Race(len(editors), func(i int) error {
			_, err := w.Referrals.EditNote(ctx, editors[i], c.ID, referral.NoteEdit{Note: "Edit " + string(rune('A'+i)), Version: c.Version})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d edits won", won)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM contact_note_versions WHERE contact_id = $1", c.ID); n != 1 {
			t.Fatalf("%d earlier versions", n)
		}
		k, err := w.Referrals.AddComment(ctx, w.Principal(t, "person"), c.ID, referral.NewComment{Kind: "correction", Body: "Not quite"})
		if err != nil {
			t.Fatal(err)
		}
		errs = testkit.Race(len(editors), func(i int) error {
			_, err := w.Referrals.AnswerCorrection(ctx, editors[i], k.ID, referral.CorrectionAnswer{Answer: "declined", Reason: "It is right"})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d answers won", won)
		}
		// An edit and marking entered in error from one version: one wins.
		var version int
		if err := db.QueryRow(ctx, "SELECT version FROM contacts WHERE id = $1", c.ID).Scan(&version); err != nil {
			t.Fatal(err)
		}
		errs = testkit.Race(len(editors), func(i int) error {
			if i%2 == 0 {
				_, err := w.Referrals.MarkEnteredInError(ctx, editors[i], c.ID, referral.ErrorMark{Reason: "Twice", Version: version})
				return err
			}
			_, err := w.Referrals.EditNote(ctx, editors[i], c.ID, referral.NoteEdit{Note: fmt.Sprint("Late edit ", i), Version: version})
			return err
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("%d of the edits and marks won", won)
		}
		// The person is told once withheld, by one of several at once.
		if _, err := w.Referrals.AddRestrictedNote(ctx, editors[0], c.ID, referral.NewRestrictedNote{Note: "n", Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		clinician := w.Principal(t, "clinician")
		errs = testkit.Race(3, func(int) error {
			return w.Referrals.WithholdRestrictedNotice(ctx, clinician, c.ID, referral.Withholding{Reason: "At risk if told"})
		})
		if won := testkit.Winners(t, errs, app.CodeConflict); won != 1 {
			t.Fatalf("withheld %d times", won)
		}
	})
}

// A correction asked for at the moment the contact is marked entered in
// error: either the request came first (and is recorded) or it is refused;
// never a correction request recorded after the mark. Five rounds, both
// engines.
func TestCorrectionRacesEnteredInError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, r, _ := noteWorld(t, db)
		ctx := context.Background()
		for round := range 5 {
			w.Clock.Advance(time.Hour)
			c, err := w.Referrals.RecordContact(ctx, w.Principal(t, "worker"), r.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Minute), Mode: "phone", Note: "Round"})
			if err != nil {
				t.Fatal(err)
			}
			errs := testkit.Race(4, func(i int) error {
				if i == 0 {
					_, err := w.Referrals.MarkEnteredInError(ctx, w.Principal(t, "worker"), c.ID, referral.ErrorMark{Reason: "Wrong person", Version: c.Version})
					return err
				}
				_, err := w.Referrals.AddComment(ctx, w.Principal(t, "person"), c.ID, referral.NewComment{Kind: "correction", Body: fmt.Sprint("Fix ", i)})
				return err
			})
			if errs[0] != nil {
				t.Fatalf("round %d: the mark: %v", round, errs[0])
			}
			// Under the referral's lock the writes take turns, so their audit
			// rows are in the order they happened: every correction recorded
			// came before the mark.
			oid := fmt.Sprint(c.ID)
			if n := count(t, db, `SELECT COUNT(*) FROM audit_events WHERE object_type = 'contact' AND object_id = $1 AND action = 'contact.comment'
				AND id > (SELECT id FROM audit_events WHERE object_type = 'contact' AND object_id = $1 AND action = 'contact.entered_in_error')`, oid); n != 0 {
				t.Fatalf("round %d: %d corrections recorded after the contact was marked entered in error", round, n)
			}
			if n, won := count(t, db, "SELECT COUNT(*) FROM contact_comments WHERE contact_id = $1", c.ID), testkit.Winners(t, errs[1:], app.CodeConflict, app.CodeInvalid); n != won {
				t.Fatalf("round %d: %d corrections stored, %d accepted", round, n, won)
			}
			after, err := w.Referrals.AddComment(ctx, w.Principal(t, "person"), c.ID, referral.NewComment{Kind: "correction", Body: "After"})
			if err == nil {
				t.Fatalf("round %d: a correction asked for after the mark was recorded: %+v", round, after)
			}
		}
	})
}
