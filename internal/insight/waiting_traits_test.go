package insight_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// onCaseloadAs imports one episode for ref in team A under c, with the
// given characteristics, and answers the person's id (new or already known).
func onCaseloadAs(t *testing.T, w *testkit.World, c *app.Principal, ref, ethnicity string, born int, gender string) int64 {
	t.Helper()
	ctx := context.Background()
	eps := []caseload.Episode{{PersonRef: ref, Team: w.TeamA.Name, CoordinatorEmail: c.Email, StartDate: "2026-01-05",
		BirthYear: born, Gender: gender, Ethnicity: ethnicity}}
	if rep, err := importer(w).ImportEpisodes(ctx, app.Actor{}, eps, caseload.ImportOptions{}); err != nil || !rep.Imported {
		t.Fatalf("import: %+v %v", rep, err)
	}
	var id int64
	if err := w.DB.QueryRow(ctx, "SELECT id FROM people WHERE trust_ref = $1", ref).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// The waiting view counts each referral by its person's characteristics as
// they are now, read from the referral's copies of them: copied when the
// referral is made, when it is moved to another person, and whenever an
// import changes the person.
func TestWaitingCountsThePersonAsTheyAreNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1}
		ctx := context.Background()
		w.Clock.Advance(24 * time.Hour)
		c := mustCoordinator(t, w, "traits@test.example", w.TeamA)
		tr1 := onCaseloadAs(t, w, c, "TR-1", "white_british", 1980, "woman")
		tr2 := onCaseloadAs(t, w, c, "TR-2", "black_caribbean", 2001, "man")
		if _, err := w.Referrals.CreateReferral(ctx, c, referral.NewReferral{PersonID: tr1, AskedFor: "x", PersonKnows: testkit.Yes(),
			Consent: "given"}); err != nil {
			t.Fatal(err)
		}
		newcomer, err := w.Referrals.CreateReferral(ctx, c, referral.NewReferral{
			Person:   person.Details{PreferredName: "Newcomer", Phone: "07700 900555"},
			AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
		if err != nil {
			t.Fatal(err)
		}
		groups := func() string {
			t.Helper()
			wt, err := svc.WaitingTimes(ctx, w.Principal(t, "analyst"), insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tbl := range wt.Tables {
				if tbl.Key != "ethnicity" && tbl.Key != "age" && tbl.Key != "gender" {
					continue
				}
				for _, r := range tbl.Rows {
					got = append(got, fmt.Sprintf("%s %s: %s", tbl.Key, r.Group, show(r.Referrals)))
				}
			}
			sort.Strings(got)
			return fmt.Sprint(got)
		}
		want := func(stage, w string) {
			t.Helper()
			if got := groups(); got != w {
				t.Errorf("%s:\n got %s\nwant %s", stage, got, w)
			}
			if n := testkit.StaleTraitCopies(t, db); n != 0 {
				t.Errorf("%s: %d referrals hold characteristics their person no longer has", stage, n)
			}
		}
		want("made", "[age 46 to 55: 1 age Not known: 1 ethnicity Not known: 1 ethnicity White: 1 gender Not recorded: 1 gender Woman: 1]")
		// A correction in the trust's record reaches the referral already made.
		onCaseloadAs(t, w, c, "TR-1", "black_caribbean", 1950, "man")
		want("after an import changed the person",
			"[age 66 and over: 1 age Not known: 1 ethnicity Black, Black British, Caribbean or African: 1 ethnicity Not known: 1 gender Man: 1 gender Not recorded: 1]")
		// A referral moved to another person (as linking a duplicate does)
		// takes that person's characteristics.
		if _, err := db.Exec(ctx, "UPDATE referrals SET person_id = $1 WHERE id = $2", tr2, newcomer.ID); err != nil {
			t.Fatal(err)
		}
		want("after the referral moved", "[age 18 to 25: 1 age 66 and over: 1 ethnicity Black, Black British, Caribbean or African: 2 gender Man: 2]")
	})
}

// A referral made for a person while an import is changing their
// characteristics carries what the import wrote: the referral waits for the
// import's transaction (on PostgreSQL its trigger locks the person's row as
// it reads them), and is never left with what the person was before.
func TestReferralMadeDuringAnImportTakesItsChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		w.Clock.Advance(24 * time.Hour)
		c := mustCoordinator(t, w, "race@test.example", w.TeamA)
		pid := onCaseloadAs(t, w, c, "RACE-1", "white_british", 1980, "woman")
		made := make(chan error, 1)
		if err := db.Write(ctx, func(tx *store.Tx) error {
			// What an import does to a person whose record changed.
			if _, err := tx.ExecContext(ctx, "UPDATE people SET ethnicity = 'black_caribbean', birth_year = 1950 WHERE id = $1", pid); err != nil {
				return err
			}
			go func() {
				_, err := w.Referrals.CreateReferral(ctx, c, referral.NewReferral{PersonID: pid, AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given"})
				made <- err
			}()
			// Until the referral is waiting for this transaction (on
			// SQLite, for the write lock), or has been made without
			// waiting, as it was before its trigger locked the person.
			if db.Dialect == store.Postgres {
				return untilBlockedBy(ctx, t, db, tx, made)
			}
			time.Sleep(100 * time.Millisecond)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := <-made; err != nil {
			t.Fatal(err)
		}
		var eth string
		var born int
		if err := db.QueryRow(ctx, "SELECT person_ethnicity, person_birth_year FROM referrals WHERE person_id = $1", pid).Scan(&eth, &born); err != nil {
			t.Fatal(err)
		}
		if eth != "black_caribbean" || born != 1950 {
			t.Errorf("the referral holds %s, born %d: what the person was before the import", eth, born)
		}
	})
}

// untilBlockedBy waits (PostgreSQL) until another session is waiting for a
// lock tx holds, or until done has a result (the other session finished
// without waiting).
func untilBlockedBy(ctx context.Context, t *testing.T, db *store.DB, tx *store.Tx, done chan error) error {
	t.Helper()
	var me int
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&me); err != nil {
		return err
	}
	for start := time.Now(); len(done) == 0; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", me).Scan(&waiting); err != nil {
			return err
		}
		if waiting > 0 {
			return nil
		}
		if time.Since(start) > 10*time.Second {
			return fmt.Errorf("no one waited for this transaction, and nothing finished")
		}
	}
	return nil
}

// An import that changes a person's characteristics takes their
// referrals' locks before the person's own (PostgreSQL), the order every
// writer that changes a referral takes them in (the referral, then its
// person to recount their spans). So an import meeting a referral being
// changed waits for it, and the referral's writer can still lock the
// person: before, the import locked the person first and its trigger then
// waited for the referral, and the two deadlocked. SQLite has one writer
// at a time, so there is nothing to order.
func TestImportWaitsForAReferralBeingChanged(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	w := testkit.NewWorld(t, db)
	ctx := context.Background()
	w.Clock.Advance(24 * time.Hour)
	c := mustCoordinator(t, w, "order@test.example", w.TeamA)
	pid := onCaseloadAs(t, w, c, "ORDER-1", "white_british", 1980, "woman")
	r, err := w.Referrals.CreateReferral(ctx, c, referral.NewReferral{PersonID: pid, AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given"})
	if err != nil {
		t.Fatal(err)
	}
	imported := make(chan error, 1)
	calls := 0
	if err := db.Write(ctx, func(tx *store.Tx) error {
		calls++
		// A writer changing the referral: the referral first.
		if _, err := tx.ExecContext(ctx, "SELECT id FROM referrals WHERE id = $1 FOR UPDATE", r.ID); err != nil {
			return err
		}
		if calls == 1 {
			go func() {
				eps := []caseload.Episode{{PersonRef: "ORDER-1", Team: w.TeamA.Name, CoordinatorEmail: c.Email, StartDate: "2026-01-05",
					BirthYear: 1980, Gender: "woman", Ethnicity: "black_caribbean"}}
				_, err := importer(w).ImportEpisodes(ctx, app.Actor{}, eps, caseload.ImportOptions{})
				imported <- err
			}()
			if err := untilBlockedBy(ctx, t, db, tx, imported); err != nil {
				return err
			}
			if len(imported) > 0 {
				return fmt.Errorf("the import finished without waiting for the referral being changed")
			}
		}
		// Then the person, as caseload.Recount locks them: free, since
		// the import is waiting for the referral before touching them.
		_, err := tx.ExecContext(ctx, "SELECT id FROM people WHERE id = $1 FOR NO KEY UPDATE NOWAIT", pid)
		return err
	}); err != nil {
		t.Fatalf("the referral's writer could not lock the person while an import waited: %v", err)
	}
	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	var eth string
	if err := db.QueryRow(ctx, "SELECT person_ethnicity FROM referrals WHERE id = $1", r.ID).Scan(&eth); err != nil {
		t.Fatal(err)
	}
	if eth != "black_caribbean" {
		t.Errorf("after the import the referral holds %s", eth)
	}
}
