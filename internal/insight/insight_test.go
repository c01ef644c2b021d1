package insight_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func service(w *testkit.World) *insight.Service {
	return &insight.Service{DB: w.DB, Clock: w.Clock, Suppress: stats.Suppressor{Threshold: 5}, WaitingStandard: 28 * 24 * time.Hour}
}

func mustCoordinator(t *testing.T, w *testkit.World, email string, team account.Team) *app.Principal {
	t.Helper()
	u, err := w.Accounts.CreateUser(context.Background(), app.Operator("test"), account.NewUser{Email: email, Name: "Coordinator " + email,
		Memberships: []app.Membership{{Role: app.RoleClinician, TeamID: team.ID}}, Password: testkit.Password})
	if err != nil {
		t.Fatal(err)
	}
	u, _ = w.Accounts.GetUser(context.Background(), u.ID)
	return &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Memberships: u.Memberships, RequestID: "t"}
}

// caseload puts n people on a co-ordinator's caseload and has the
// co-ordinator refer `referred` of them.
func caseload(t *testing.T, w *testkit.World, svc *insight.Service, c *app.Principal, team account.Team, n, referred int, group string) {
	t.Helper()
	ctx := context.Background()
	var eps []insight.Episode
	for i := range n {
		eps = append(eps, insight.Episode{PersonRef: fmt.Sprintf("%s-%d", c.Email, i), Team: team.Name, CoordinatorEmail: c.Email,
			StartDate: "2026-01-05", BirthYear: 1980, Gender: "woman", Ethnicity: group})
	}
	rep, err := svc.ImportEpisodes(ctx, app.Actor{}, eps, insight.ImportOptions{})
	if err != nil || !rep.Imported || rep.Inserted != n {
		t.Fatalf("import: %+v %v", rep, err)
	}
	for i := range referred {
		var pid int64
		if err := w.DB.QueryRow(ctx, "SELECT id FROM people WHERE trust_ref = $1", fmt.Sprintf("%s-%d", c.Email, i)).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.CreateReferral(ctx, c, referral.NewReferral{PersonID: pid, AskedFor: "x", PersonKnows: testkit.Yes(), Consent: "given"}); err != nil {
			t.Fatal(err)
		}
	}
}

// One co-ordinator's low rate on a big caseload is significant; another's
// equally low rate on a small caseload is not.
func TestGatekeepingIsJudgedFairly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		w.Clock.Advance(24 * time.Hour)
		ctx := context.Background()
		for i := range 6 {
			c := mustCoordinator(t, w, fmt.Sprintf("typical%d@test.example", i), w.TeamA)
			caseload(t, w, svc, c, w.TeamA, 60, 18, "white_british") // 30%
		}
		low := mustCoordinator(t, w, "low.big@test.example", w.TeamA)
		caseload(t, w, svc, low, w.TeamA, 150, 9, "white_british") // 6% of 150
		small := mustCoordinator(t, w, "low.small@test.example", w.TeamA)
		caseload(t, w, svc, small, w.TeamA, 10, 0, "white_british") // 0% of 10
		mgr := w.Principal(t, "manager")
		r, err := svc.ReferralRates(ctx, mgr, insight.RatesQuery{Period: insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		classes := map[string]string{}
		for _, u := range r.Units {
			classes[u.Unit] = u.Class
		}
		if got := classes["Coordinator low.big@test.example"]; got != insight.ClassBelow998 {
			t.Errorf("big caseload, 6%%: class %q, want below_99_8 (all: %v)", got, classes)
		}
		if got := classes["Coordinator low.small@test.example"]; got != insight.ClassWithin {
			t.Errorf("small caseload, 0%%: class %q, want within", got)
		}
		if got := classes["Coordinator typical0@test.example"]; got != insight.ClassWithin {
			t.Errorf("typical: class %q, want within", got)
		}
		if r.Target < 0.2 || r.Target > 0.25 {
			t.Errorf("overall rate %.3f", r.Target)
		}
		// The analyst sees the same classes without names.
		ar, err := svc.ReferralRates(ctx, w.Principal(t, "analyst"), insight.RatesQuery{Period: insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range ar.Units {
			if strings.Contains(u.Unit, "@") || !strings.HasPrefix(u.Unit, "Co-ordinator ") {
				t.Errorf("analyst sees a named co-ordinator: %q", u.Unit)
			}
		}
		if ar.Units[0].Unit == "" || len(ar.Units) != len(r.Units) {
			t.Fatal("analyst view lost units")
		}
		// Zero referrals on a caseload above the threshold are listed.
		zr, _ := svc.ReferralRates(ctx, mgr, insight.RatesQuery{Period: insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}, ZeroThreshold: 5})
		if len(zr.ZeroEvents) != 1 || zr.ZeroEvents[0] != "Coordinator low.small@test.example" {
			t.Errorf("zero-event units: %v", zr.ZeroEvents)
		}
		// Team level: one team, every referral counted.
		tr, err := svc.ReferralRates(ctx, mgr, insight.RatesQuery{Period: insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}, By: "team"})
		if err != nil || len(tr.Units) != 1 || *tr.Units[0].N != 520 || *tr.Units[0].Events != 117 {
			t.Fatalf("team rates: %+v %v", tr.Units, err)
		}
	})
}

func TestSmallNumbersSuppressed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		w.Clock.Advance(24 * time.Hour)
		ctx := context.Background()
		c := mustCoordinator(t, w, "few@test.example", w.TeamA)
		caseload(t, w, svc, c, w.TeamA, 40, 3, "white_british")
		d := mustCoordinator(t, w, "more@test.example", w.TeamB)
		caseload(t, w, svc, d, w.TeamB, 30, 10, "black_caribbean")
		period := insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}
		r, err := svc.ReferralRates(ctx, w.Principal(t, "manager"), insight.RatesQuery{Period: period})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range r.Units {
			if strings.Contains(u.Unit, "few@") {
				if !u.Suppressed || u.Events != nil || u.Rate != nil || u.EventsText != "<5" || u.RateText != stats.Withheld {
					t.Errorf("3 referrals not suppressed: %+v", u)
				}
			}
		}
		eq, err := svc.EquityOfAccess(ctx, w.Principal(t, "analyst"), period, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range eq.Tables {
			for _, row := range tbl.Rows {
				for _, cell := range []string{row.Caseload, row.Referred, row.Started} {
					if n := atoi(cell); n >= 1 && n <= 4 {
						t.Errorf("%s %s shows a count of %d", tbl.Label, row.Group, n)
					}
				}
			}
		}
		// Ethnicity: 3 of 40 White and 10 of 30 Black people referred, total
		// 13 shown. The 3 is hidden, and so is the 10, which would
		// otherwise give the 3 away by subtraction.
		for _, tbl := range eq.Tables {
			if tbl.Key != "ethnicity" {
				continue
			}
			if tbl.Total.Referred != "13" || len(tbl.Rows) != 2 {
				t.Fatalf("ethnicity table: %+v", tbl)
			}
			for _, row := range tbl.Rows {
				if row.Referred != stats.Withheld || row.RateRatio != stats.Withheld {
					t.Errorf("%s: referred %q, rate ratio %q: derivable from the total", row.Group, row.Referred, row.RateRatio)
				}
			}
		}
	})
}

func atoi(s string) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		return -1
	}
	return n
}

func TestEquityHighlightsUnderRepresentedGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		w.Clock.Advance(24 * time.Hour)
		c := mustCoordinator(t, w, "a@test.example", w.TeamA)
		caseload(t, w, svc, c, w.TeamA, 200, 70, "white_british")
		d := mustCoordinator(t, w, "b@test.example", w.TeamA)
		caseload(t, w, svc, d, w.TeamA, 80, 6, "black_african")
		eq, err := svc.EquityOfAccess(context.Background(), w.Principal(t, "analyst"), insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range eq.Tables {
			if tbl.Key != "ethnicity" {
				continue
			}
			for _, row := range tbl.Rows {
				if row.Group == "Black, Black British, Caribbean or African" && !row.Under {
					t.Errorf("6 of 80 against 70 of 200 is not highlighted: %+v", row)
				}
				if row.Group == "White" && row.Under {
					t.Errorf("White group wrongly highlighted: %+v", row)
				}
			}
		}
	})
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
		svc := service(w)
		ctx := context.Background()
		team := w.TeamA.Name
		good := "person_ref,team,coordinator_email,start_date,end_date,birth_year,gender,ethnicity\r\n" +
			"R1," + team + ",a@test.example,2026-01-02,,1990,woman,Caribbean\r\n" +
			"R2," + team + ",a@test.example,02/03/2026,2026-06-30,1985,man,white_british\r\n"
		bad := good + "R3,No Such Team,not-an-email,2026-13-01,,1800,martian,blue\r\n" + "R4," + team + ",b@test.example,2026-01-01,2025-01-01,,,\r\n"
		rep, err := svc.ImportCSV(ctx, app.Actor{}, writeFile(t, bad), insight.ImportOptions{})
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
		rep, err = svc.ImportCSV(ctx, app.Actor{}, writeFile(t, bad), insight.ImportOptions{ValidRowsOnly: true})
		if err != nil || !rep.Imported || rep.Inserted != 2 {
			t.Fatalf("valid rows only: %+v %v", rep, err)
		}
		rep, err = svc.ImportCSV(ctx, app.Actor{}, writeFile(t, good), insight.ImportOptions{})
		if err != nil || rep.Inserted != 0 || rep.Updated != 0 || rep.Unchanged != 2 {
			t.Fatalf("re-import changed something: %+v %v", rep, err)
		}
		changed := strings.Replace(good, "2026-06-30", "2026-07-31", 1)
		rep, _ = svc.ImportCSV(ctx, app.Actor{}, writeFile(t, changed), insight.ImportOptions{})
		if rep.Updated != 1 || rep.Unchanged != 1 {
			t.Fatalf("changed end date: %+v", rep)
		}
		var eth string
		_ = db.QueryRow(ctx, "SELECT ethnicity FROM people WHERE trust_ref = 'R1'").Scan(&eth)
		if eth != "black_caribbean" {
			t.Fatalf("ethnicity by label: %q", eth)
		}
		for _, header := range []string{"", "person_ref,team\r\nR1,x\r\n", "person_ref,team,coordinator_email,start_date,shoe_size\r\n"} {
			if _, err := svc.ImportCSV(ctx, app.Actor{}, writeFile(t, header), insight.ImportOptions{}); !app.IsCode(err, app.CodeInvalid) {
				t.Errorf("header %q: %v", header, err)
			}
		}
	})
}

// A 500,000-row file imports in bounded memory: rows are streamed in two
// passes and stored in batches. Run with MUTUAL_BIG_IMPORT=1 (make bench
// reports its time); by default a 20,000-row file checks the same path.
func TestLargeImportStreams(t *testing.T) {
	rows := 20000
	if os.Getenv("MUTUAL_BIG_IMPORT") != "" {
		rows = 500000
	}
	w := testkit.NewWorld(t, storetest.Open(t, store.SQLite))
	svc := service(w)
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
	start := time.Now()
	rep, err := svc.ImportCSV(context.Background(), app.Actor{}, in, insight.ImportOptions{})
	if err != nil || !rep.Imported || rep.Inserted != rows {
		t.Fatalf("%+v %v", rep, err)
	}
	t.Logf("imported %d rows in %v", rows, time.Since(start))
}

func TestOfferCoverageCountsPeopleOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1} // no suppression: check the arithmetic
		w.Clock.Advance(60 * 24 * time.Hour)
		ctx := context.Background()
		var eps []insight.Episode
		for i := range 10 {
			eps = append(eps, insight.Episode{PersonRef: fmt.Sprintf("C%d", i), Team: w.TeamA.Name, CoordinatorEmail: "x@test.example", StartDate: "2026-01-05"})
		}
		// C0 is on both teams' caseloads.
		eps = append(eps, insight.Episode{PersonRef: "C0", Team: w.TeamB.Name, CoordinatorEmail: "y@test.example", StartDate: "2026-02-05"})
		if rep, err := svc.ImportEpisodes(ctx, app.Actor{}, eps, insight.ImportOptions{}); err != nil || !rep.Imported {
			t.Fatalf("%+v %v", rep, err)
		}
		clin := w.Principal(t, "clinician")
		for _, ref := range []string{"C0", "C1", "C2"} {
			var pid int64
			_ = db.QueryRow(ctx, "SELECT id FROM people WHERE trust_ref = $1", ref).Scan(&pid)
			if _, err := w.Referrals.CreateOffer(ctx, clin, referral.NewOffer{PersonID: pid, Method: "review", Response: "not_now"}); err != nil {
				t.Fatal(err)
			}
		}
		now := w.Clock.Now()
		cov, err := svc.OfferCoverage(ctx, w.Principal(t, "analyst"), insight.Period{From: now.AddDate(0, -2, 0), To: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		last := len(cov.Months) - 1
		if got := cov.All.Months[last]; got.Caseload != "10" || got.Offered != "3" || got.Share != "30.0%" {
			t.Errorf("all teams at the end: %+v (a person on two teams must count once)", got)
		}
		byTeam := map[string]insight.CoverageMonth{}
		for _, r := range cov.Teams {
			byTeam[r.Team] = r.Months[last]
		}
		if a := byTeam[w.TeamA.Name]; a.Caseload != "10" || a.Offered != "3" {
			t.Errorf("team A: %+v", a)
		}
		if b := byTeam[w.TeamB.Name]; b.Caseload != "1" || b.Offered != "1" {
			t.Errorf("team B: %+v", b)
		}
	})
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
		rep, err := service(w).ImportEpisodes(ctx, app.Actor{}, []insight.Episode{{PersonRef: "RX0042", Team: w.TeamA.Name,
			CoordinatorEmail: "c@test.example", StartDate: "2026-01-01"}}, insight.ImportOptions{})
		if err != nil || rep.Inserted != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
		var personID int64
		_ = db.QueryRow(ctx, "SELECT person_id FROM caseload_episodes WHERE person_ref = 'RX0042'").Scan(&personID)
		if personID != pe.ID {
			t.Fatalf("episode joined to person %d, want %d", personID, pe.ID)
		}
		rec, _ := w.Referrals.GetPerson(ctx, clin, pe.ID)
		if rec.Person.TrustRef != "RX0042" || len(rec.Caseload) != 1 {
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

// The roll-up answers exactly what a direct count of distinct people over
// the episodes would, for any period, whether it was built in one go or
// kept up to date import by import (new episodes, ended episodes, people
// with several episodes for the same co-ordinator).
func TestRollupMatchesDirectCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1}
		ctx := context.Background()
		mgr := w.Principal(t, "manager")
		rng := rand.New(rand.NewPCG(7, 11))
		teams := []string{w.TeamA.Name, w.TeamB.Name}
		batch := func(n int, withEnds bool) []insight.Episode {
			var eps []insight.Episode
			for range n {
				start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(900))
				e := insight.Episode{PersonRef: fmt.Sprintf("P%d", rng.IntN(60)), Team: teams[rng.IntN(2)],
					CoordinatorEmail: fmt.Sprintf("c%d@test.example", rng.IntN(4)), StartDate: start.Format("2006-01-02")}
				if withEnds && rng.IntN(2) == 0 {
					e.EndDate = start.AddDate(0, 0, rng.IntN(400)).Format("2006-01-02")
				}
				eps = append(eps, e)
			}
			return eps
		}
		direct := func(by string, from, to time.Time) map[string]int {
			col := "coordinator_email"
			if by == "team" {
				col = "CAST(team_id AS TEXT)"
			}
			rows, err := db.Query(ctx, `SELECT `+col+`, COUNT(DISTINCT person_id) FROM caseload_episodes
				WHERE start_date <= $1 AND (end_date IS NULL OR end_date >= $2) GROUP BY 1`, to, from)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int{}
			for rows.Next() {
				var u string
				var c int
				_ = rows.Scan(&u, &c)
				out[u] = c
			}
			return out
		}
		check := func(stage string) {
			t.Helper()
			for range 6 {
				from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(900))
				to := from.AddDate(0, 0, rng.IntN(400))
				for _, by := range []string{"coordinator", "team"} {
					want := direct(by, from, to)
					r, err := svc.ReferralRates(ctx, mgr, insight.RatesQuery{Period: insight.Period{From: from, To: to}, By: by})
					if err != nil {
						t.Fatal(err)
					}
					got := 0
					for _, u := range r.Units {
						got += *u.N
					}
					total := 0
					for _, c := range want {
						total += c
					}
					if got != total || len(r.Units) != len(want) {
						t.Fatalf("%s, by %s, %s to %s: roll-up %d over %d units, direct %d over %d", stage, by,
							from.Format("2006-01-02"), to.Format("2006-01-02"), got, len(r.Units), total, len(want))
					}
				}
			}
		}
		if _, err := svc.ImportEpisodes(ctx, app.Actor{}, batch(150, true), insight.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		check("built in one go")
		// Kept up to date: more episodes, some of them new ends for old ones.
		more := batch(120, true)
		if _, err := svc.ImportEpisodes(ctx, app.Actor{}, more, insight.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		var ends []insight.Episode
		rows, _ := db.Query(ctx, `SELECT ce.person_ref, t.name, ce.coordinator_email, ce.start_date FROM caseload_episodes ce
			JOIN teams t ON t.id = ce.team_id WHERE ce.end_date IS NULL LIMIT 40`)
		for rows.Next() {
			var e insight.Episode
			var start time.Time
			_ = rows.Scan(&e.PersonRef, &e.Team, &e.CoordinatorEmail, &start)
			e.StartDate = start.Format("2006-01-02")
			e.EndDate = start.AddDate(0, 0, 30).Format("2006-01-02")
			ends = append(ends, e)
		}
		rows.Close()
		if rep, err := svc.ImportEpisodes(ctx, app.Actor{}, ends, insight.ImportOptions{}); err != nil || rep.Updated != len(ends) {
			t.Fatalf("ending episodes: %+v %v", rep, err)
		}
		check("kept up to date")
		if err := svc.RebuildRollup(ctx); err != nil {
			t.Fatal(err)
		}
		check("rebuilt")
	})
}

// Whether a referral counts for its referrer follows the caseload as it is
// imported: an episode ended before the referral no longer counts it.
func TestEventsFollowImportedCaseloads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1}
		ctx := context.Background()
		c := mustCoordinator(t, w, "flag@test.example", w.TeamA)
		caseload(t, w, svc, c, w.TeamA, 3, 2, "white_british") // episodes from 2026-01-05, two referred now (November)
		period := insight.Period{From: w.Clock.Now().AddDate(0, -3, 0), To: w.Clock.Now()}
		events := func() int {
			r, err := svc.ReferralRates(ctx, w.Principal(t, "manager"), insight.RatesQuery{Period: period})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range r.Units {
				if strings.Contains(u.Unit, "flag@") {
					return *u.Events
				}
			}
			return -1
		}
		if got := events(); got != 2 {
			t.Fatalf("before: %d events, want 2", got)
		}
		// The trust's record now says person 0's episode ended in March.
		rep, err := svc.ImportEpisodes(ctx, app.Actor{}, []insight.Episode{{PersonRef: "flag@test.example-0", Team: w.TeamA.Name,
			CoordinatorEmail: "flag@test.example", StartDate: "2026-01-05", EndDate: "2026-03-31"}}, insight.ImportOptions{})
		if err != nil || rep.Updated != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
		if got := events(); got != 1 {
			t.Fatalf("after the episode ended before the referral: %d events, want 1", got)
		}
	})
}
