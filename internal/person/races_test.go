package person_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Printed and emailed invitations and contact codes asked for at the same
// moment for one record: every request is answered, and one code is live.
func TestOneLiveClaimCodeUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		askers := []*app.Principal{w.Principal(t, "person"), w.Principal(t, "person2")}
		for round := range 5 {
			w.Clock.Advance(61 * time.Minute) // past the contact-code limit
			email := fmt.Sprintf("kit%d@example.org", round)
			r, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{
				Person:   person.Details{PreferredName: fmt.Sprintf("Kit %d", round), Email: email},
				AskedFor: "Someone to talk to", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			errs := testkit.Race(6, func(i int) error {
				switch i {
				case 0, 1:
					_, err := w.People.InviteToClaim(ctx, clin, r.PersonID, person.InviteByPrint)
					return err
				case 2:
					_, err := w.People.InviteToClaim(ctx, clin, r.PersonID, person.InviteByEmail)
					return err
				default:
					return w.People.SendContactCode(ctx, askers[i%2], email, fmt.Sprintf("192.0.2.%d", i))
				}
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: request %d: %v", round, i, err)
				}
			}
			var live, all int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FILTER (WHERE used_at IS NULL), COUNT(*) FROM person_claims WHERE person_id = $1", r.PersonID).Scan(&live, &all); err != nil {
				t.Fatal(err)
			}
			if live != 1 || all != 6 {
				t.Fatalf("round %d: %d live codes of %d, want 1 of 6", round, live, all)
			}
		}
	})
}

// Records with one trust number made at the same moment by two teams: one
// record holds the number; each other made is kept with it pending, or (in
// the maker's own scope) refused with the field message; nothing fails.
func TestTrustRefClashUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		makers := []*app.Principal{w.Principal(t, "clinician"), w.Principal(t, "clinicianB"), w.Principal(t, "clinician"), w.Principal(t, "clinicianB")}
		for round := range 5 {
			ref := fmt.Sprintf("RX-20%02d", round)
			ids := make([]int64, len(makers))
			errs := testkit.Race(len(makers), func(i int) error {
				pe, err := w.People.Create(ctx, makers[i], person.Details{PreferredName: fmt.Sprintf("Made %d %d", round, i), TrustRef: ref}, true)
				ids[i] = pe.ID
				return err
			})
			made := testkit.Winners(t, errs, app.CodeInvalid)
			for i, err := range errs {
				if err != nil && app.As(err).Fields[0].Field != "trust_ref" {
					t.Fatalf("round %d: maker %d: %v", round, i, err)
				}
			}
			var holders, pending int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FILTER (WHERE trust_ref = $1), COUNT(*) FILTER (WHERE trust_ref_pending = $1) FROM people", ref).Scan(&holders, &pending); err != nil {
				t.Fatal(err)
			}
			if holders != 1 || holders+pending != made {
				t.Fatalf("round %d: %d made, %d hold the number, %d have it pending", round, made, holders, pending)
			}
		}
	})
}

// A person changing their email from two devices at once: the changes are
// made one after the other, and each records the value it replaced.
func TestOwnContactChangesUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := w.Accounts.OwnPerson(ctx, tx, w.Principal(t, "person"), w.Clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		me := w.Principal(t, "person")
		for round := range 3 {
			errs := testkit.Race(4, func(i int) error {
				_, err := w.People.UpdateOwnContact(ctx, me, person.ContactDetails{PreferredName: "Pat", Email: fmt.Sprintf("pat%d.%d@example.org", round, i), ContactPreference: "email"})
				return err
			})
			if won := testkit.Winners(t, errs); won != len(errs) {
				t.Fatal(errs)
			}
		}
		rows, err := db.Query(ctx, "SELECT old_value, new_value FROM person_changes WHERE person_id = $1 AND field = 'email' ORDER BY id", me.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		last, n := "person@test.example", 0
		for rows.Next() {
			var old, next string
			if err := rows.Scan(&old, &next); err != nil {
				t.Fatal(err)
			}
			if old != last {
				t.Fatalf("change %d records %q replaced, but the email was %q", n, old, last)
			}
			last, n = next, n+1
		}
		if n != 12 {
			t.Fatalf("%d email changes recorded, want 12", n)
		}
		var email string
		if err := db.QueryRow(ctx, "SELECT email FROM people WHERE id = $1", me.PersonID).Scan(&email); err != nil || email != last {
			t.Fatalf("the record's email %q, the last change %q: %v", email, last, err)
		}
	})
}
