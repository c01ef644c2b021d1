package caseload_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func importer(w *testkit.World) *caseload.Service {
	return &caseload.Service{DB: w.DB, Clock: w.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}
}

func writeFile(t *testing.T, content string) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "caseload.csv")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestCSVImportValidatesAndIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := importer(w)
		ctx := context.Background()
		team := w.TeamA.Name
		good := "person_ref,team,coordinator_email,start_date,end_date,birth_year,gender,ethnicity\r\n" +
			"R1," + team + ",a@test.example,2026-01-02,,1990,woman,Caribbean\r\n" +
			"R2," + team + ",a@test.example,02/03/2026,2026-06-30,1985,man,white_british\r\n"
		bad := good + "R3,No Such Team,not-an-email,2026-13-01,,1800,martian,blue\r\n" + "R4," + team + ",b@test.example,2026-01-01,2025-01-01,,,\r\n"
		rep, err := svc.ImportCSV(ctx, app.Actor{}, writeFile(t, bad), caseload.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Imported || rep.Valid != 2 || rep.Invalid != 2 {
			t.Fatalf("bad file: %+v", rep)
		}
		want := map[string]bool{"4/team": true, "4/coordinator_email": true, "4/start_date": true, "4/birth_year": true, "4/gender": true, "4/ethnicity": true, "5/end_date": true}
		for _, p := range rep.Problems {
			delete(want, fmt.Sprintf("%d/%s", p.Row, p.Column))
		}
		if len(want) > 0 {
			t.Errorf("problems not reported: %v (got %+v)", want, rep.Problems)
		}
		var n int
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM caseload_episodes").Scan(&n)
		if n != 0 {
			t.Fatalf("%d episodes stored from a file with errors", n)
		}
		rep, err = svc.ImportCSV(ctx, app.Actor{}, writeFile(t, bad), caseload.ImportOptions{ValidRowsOnly: true})
		if err != nil || !rep.Imported || rep.Inserted != 2 {
			t.Fatalf("valid rows only: %+v %v", rep, err)
		}
		rep, err = svc.ImportCSV(ctx, app.Actor{}, writeFile(t, good), caseload.ImportOptions{})
		if err != nil || rep.Inserted != 0 || rep.Updated != 0 || rep.Unchanged != 2 {
			t.Fatalf("re-import changed something: %+v %v", rep, err)
		}
		changed := strings.Replace(good, "2026-06-30", "2026-07-31", 1)
		rep, _ = svc.ImportCSV(ctx, app.Actor{}, writeFile(t, changed), caseload.ImportOptions{})
		if rep.Updated != 1 || rep.Unchanged != 1 {
			t.Fatalf("changed end date: %+v", rep)
		}
		var eth string
		_ = db.QueryRow(ctx, "SELECT ethnicity FROM people WHERE trust_ref = 'R1'").Scan(&eth)
		if eth != "black_caribbean" {
			t.Fatalf("ethnicity by label: %q", eth)
		}
		for _, header := range []string{"", "person_ref,team\r\nR1,x\r\n", "person_ref,team,coordinator_email,start_date,shoe_size\r\n"} {
			if _, err := svc.ImportCSV(ctx, app.Actor{}, writeFile(t, header), caseload.ImportOptions{}); !app.IsCode(err, app.CodeInvalid) {
				t.Errorf("header %q: %v", header, err)
			}
		}
	})
}

// A 500,000-row file imports in bounded memory: rows are streamed in two
// passes and stored in batches. Run with MUTUAL_BIG_IMPORT=1 on both
// engines (make bench does, and reports the time and the largest heap
// seen); MUTUAL_BIG_IMPORT=N imports N rows instead, for profiling. By
// default a 20,000-row file checks the same path on SQLite.
func TestLargeImportStreams(t *testing.T) {
	rows, engines := 20000, []store.Dialect{store.SQLite}
	if v := os.Getenv("MUTUAL_BIG_IMPORT"); v != "" {
		rows, engines = 500000, storetest.Engines
		if n, err := strconv.Atoi(v); err == nil && n > 1 {
			rows = n // MUTUAL_BIG_IMPORT=100000: a smaller run, for profiling
		}
	}
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			w := testkit.NewWorld(t, storetest.OpenDurable(t, engine))
			svc := importer(w)
			p := filepath.Join(t.TempDir(), "big.csv")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprint(f, "person_ref,team,coordinator_email,start_date,end_date,birth_year,gender,ethnicity\n")
			for i := range rows {
				fmt.Fprintf(f, "P%07d,%s,c%d@test.example,2025-%02d-%02d,,%d,woman,white_british\n", i/2, w.TeamA.Name, i%300, 1+i%12, 1+i%28, 1950+i%50)
			}
			f.Close()
			in, _ := os.Open(p)
			defer in.Close()
			// As on a running service, whose background job has built the
			// (empty) roll-up and spans: the import keeps both as it goes.
			if err := svc.RebuildIfStale(context.Background()); err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			peak := watchHeap()
			start := time.Now()
			rep, err := svc.ImportCSV(context.Background(), app.Actor{}, in, caseload.ImportOptions{})
			took := time.Since(start)
			top := peak()
			if err != nil || !rep.Imported || rep.Inserted != rows {
				t.Fatalf("%+v %v", rep, err)
			}
			t.Logf("imported %d rows in %v; heap %d MiB before, at most %d MiB during", rows, took.Round(time.Millisecond),
				before.HeapAlloc>>20, top>>20)
			if built, err := caseload.SpansBuilt(context.Background(), w.DB); err != nil || !built {
				t.Fatalf("the import left the spans unbuilt: %v", err)
			}
			if engine == store.SQLite {
				// The statistics refreshed are the import's tables', not
				// the whole file's (no other table was analysed before).
				analysed := testkit.Column[string](t, w.DB, "SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl")
				for _, tbl := range analysed {
					if !slices.Contains(caseload.ImportedTables, tbl) {
						t.Errorf("the import analysed %s, a table it does not change (analysed: %v)", tbl, analysed)
					}
				}
				for _, tbl := range []string{"caseload_episodes", "caseload_spans", "people"} {
					if !slices.Contains(analysed, tbl) {
						t.Errorf("the import left %s's statistics as they were (analysed: %v)", tbl, analysed)
					}
				}
			}
		})
	}
}

// watchHeap samples the heap in use until the function it returns is
// called, which returns the most seen.
func watchHeap() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var most uint64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			most = max(most, m.HeapAlloc)
			select {
			case <-stop:
				done <- most
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

// Someone staff added with their trust record number is the same person
// when the caseload file names that number.
func TestImportLinksPeopleByTrustReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		pe, err := w.People.Create(ctx, clin, person.Details{PreferredName: "Kit", TrustRef: "RX0042"}, false)
		if err != nil {
			t.Fatal(err)
		}
		// One co-ordinator has an account (named, in any case), the other
		// none (shown by email).
		rep, err := importer(w).ImportEpisodes(ctx, app.Actor{}, []caseload.Episode{{PersonRef: "RX0042", Team: w.TeamA.Name,
			CoordinatorEmail: "c@test.example", StartDate: "2026-01-01"}, {PersonRef: "RX0042", Team: w.TeamA.Name,
			CoordinatorEmail: strings.ToUpper(clin.Email), StartDate: "2026-01-02"}}, caseload.ImportOptions{})
		if err != nil || rep.Inserted != 2 {
			t.Fatalf("%+v %v", rep, err)
		}
		var personID int64
		_ = db.QueryRow(ctx, "SELECT person_id FROM caseload_episodes WHERE person_ref = 'RX0042'").Scan(&personID)
		if personID != pe.ID {
			t.Fatalf("episode joined to person %d, want %d", personID, pe.ID)
		}
		rec, _ := w.Referrals.GetPerson(ctx, clin, pe.ID)
		if rec.Person.TrustRef != "RX0042" || len(rec.Caseload) != 2 || rec.Caseload[0].Coordinator != clin.Name ||
			rec.Caseload[1].Coordinator != "c@test.example" {
			t.Fatalf("clinician's view: %+v", rec)
		}
		// A peer worker on the team sees the person (on their team's
		// caseload) but not the trust's number.
		worker, err := w.Referrals.GetPerson(ctx, w.Principal(t, "worker"), pe.ID)
		if err != nil || worker.Person.TrustRef != "" {
			t.Fatalf("peer worker's view: %+v %v", worker.Person, err)
		}
		// The same number again is offered as a match, never duplicated.
		_, err = w.People.Create(ctx, clin, person.Details{PreferredName: "Kit", TrustRef: "RX0042"}, false)
		var dup *person.DuplicateError
		if !errors.As(err, &dup) || dup.Matches[0].Why != "same trust record number" {
			t.Fatalf("same trust number: %v", err)
		}
		_, err = w.People.Create(ctx, clin, person.Details{PreferredName: "Kit", TrustRef: "RX0042"}, true)
		if !app.IsCode(err, app.CodeInvalid) {
			t.Fatalf("forced duplicate trust number: %v", err)
		}
	})
}

// Imports of overlapping files at once (as from two instances) all
// complete, create each person and episode once, and leave the roll-up
// exactly as a rebuild from the episodes would; rebuilds at once (every
// instance runs the background job) build it once, without error.
func TestImportsAndRebuildsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		svc := importer(w)
		file := func(k int) []caseload.Episode {
			var eps []caseload.Episode
			for i := range 60 {
				e := caseload.Episode{PersonRef: fmt.Sprintf("R%d", i), Team: w.TeamA.Name, CoordinatorEmail: fmt.Sprintf("c%d@test.example", i%3),
					StartDate: fmt.Sprintf("2025-%02d-01", 1+i%12)}
				if (i+k)%4 == 0 {
					e.EndDate = fmt.Sprintf("2026-%02d-15", 1+k)
				}
				eps = append(eps, e)
				// Files 1 and 3 give every fifth person a second episode in
				// the team, every tenth with the same co-ordinator: the
				// duplicate flags are set whichever file is stored first.
				if k%2 == 1 && i%5 == 0 {
					c := (i + 1) % 3
					if i%10 == 0 {
						c = i % 3
					}
					eps = append(eps, caseload.Episode{PersonRef: e.PersonRef, Team: w.TeamA.Name, CoordinatorEmail: fmt.Sprintf("c%d@test.example", c),
						StartDate: fmt.Sprintf("2024-%02d-01", 1+i%12), EndDate: "2024-12-31"})
				}
			}
			return eps
		}
		// Built first, so every batch keeps the roll-up up to date.
		if err := svc.RebuildRollup(ctx); err != nil {
			t.Fatal(err)
		}
		// One file first, so the second episodes always find the first
		// already held.
		if _, err := svc.ImportEpisodes(ctx, app.Actor{}, file(0), caseload.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 4)
		for k := range 4 {
			go func() {
				_, err := svc.ImportEpisodes(ctx, app.Actor{}, file(k), caseload.ImportOptions{})
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("an import at the same time failed: %v", err)
			}
		}
		var people, episodes int
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM people WHERE trust_ref LIKE 'R%'").Scan(&people)
		_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM caseload_episodes").Scan(&episodes)
		if people != 60 || episodes != 72 {
			t.Fatalf("%d people and %d episodes, want 60 and 72", people, episodes)
		}
		rollup := func() string {
			rows, err := db.Query(ctx, "SELECT kind, unit, team_id, month, starts, ends FROM caseload_rollup WHERE starts <> 0 OR ends <> 0 ORDER BY kind, unit, team_id, month")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var kind, unit string
				var team int64
				var month, starts, ends int
				_ = rows.Scan(&kind, &unit, &team, &month, &starts, &ends)
				fmt.Fprintf(&b, "%s %s %d %d %d %d\n", kind, unit, team, month, starts, ends)
			}
			// And the duplicate flags, which the import sets as it goes.
			flags, err := db.Query(ctx, "SELECT person_ref, coordinator_email, start_date, dup_coordinator, dup_team FROM caseload_episodes ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer flags.Close()
			dups := 0
			for flags.Next() {
				var ref, email string
				var start time.Time
				var coordinator, team bool
				_ = flags.Scan(&ref, &email, &start, &coordinator, &team)
				fmt.Fprintf(&b, "%s %s %s %v %v\n", ref, email, start.Format(time.DateOnly), coordinator, team)
				if team {
					dups++
				}
			}
			if dups != 24 {
				t.Errorf("%d episodes flagged as sharing a person with another of the team, want 24", dups)
			}
			return b.String()
		}
		kept := rollup()
		if err := db.Write(ctx, func(tx *store.Tx) error { return caseload.MarkRollupStale(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			go func() { errs <- svc.RebuildIfStale(ctx) }()
		}
		for range 3 {
			if err := <-errs; err != nil {
				t.Fatalf("a rebuild at the same time failed: %v", err)
			}
		}
		if built, err := caseload.Built(ctx, db); err != nil || !built {
			t.Fatalf("built %v %v", built, err)
		}
		if rebuilt := rollup(); rebuilt != kept {
			t.Errorf("the roll-up kept by concurrent imports:\n%s\ndiffers from a rebuild:\n%s", kept, rebuilt)
		}
	})
}

// A batch whose transaction is retried (PostgreSQL retries one that met a
// deadlock or a serialization failure) is counted once in the report and
// its audit row: each attempt counts the batch afresh.
func TestRetriedBatchCountsOnce(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	w := testkit.NewWorld(t, db)
	ctx := context.Background()
	svc := importer(w)
	rows := "person_ref,team,coordinator_email,start_date\n"
	for i := range 3 {
		rows += fmt.Sprintf("RETRY-%d,%s,c@test.example,2026-01-0%d\n", i, w.TeamA.Name, i+1)
	}
	rows += fmt.Sprintf("RETRY-0,%s,c@test.example,2026-01-01\n", w.TeamA.Name) // the same episode again
	// As on a running service, whose background job has built the spans:
	// the batch then writes them, after counting its episodes.
	if err := svc.RebuildIfStale(ctx); err != nil {
		t.Fatal(err)
	}
	// The batch's first attempt fails as a deadlock would; the second
	// goes through (a sequence is not rolled back with its transaction).
	if _, err := db.Exec(ctx, `CREATE SEQUENCE zz_attempts;
		CREATE FUNCTION zz_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('zz_attempts') = 1 THEN RAISE EXCEPTION 'as a deadlock would' USING ERRCODE = '40P01'; END IF;
			RETURN NULL;
		END $$;
		CREATE TRIGGER zz_fail_once AFTER INSERT ON caseload_spans FOR EACH STATEMENT EXECUTE FUNCTION zz_fail_once()`); err != nil {
		t.Fatal(err)
	}
	rep, err := svc.ImportCSV(ctx, app.Actor{}, writeFile(t, rows), caseload.ImportOptions{})
	if err != nil || !rep.Imported {
		t.Fatalf("%+v %v", rep, err)
	}
	var attempts int64
	if err := db.QueryRow(ctx, "SELECT last_value FROM zz_attempts").Scan(&attempts); err != nil || attempts < 2 {
		t.Fatalf("the batch was not retried (%d attempts, %v)", attempts, err)
	}
	if rep.Inserted != 3 || rep.Unchanged != 1 || rep.Updated != 0 {
		t.Errorf("a retried batch reported %d inserted, %d unchanged, %d updated; want 3, 1, 0", rep.Inserted, rep.Unchanged, rep.Updated)
	}
}
