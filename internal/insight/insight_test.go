package insight_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
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

func importer(w *testkit.World) *caseload.Service {
	return &caseload.Service{DB: w.DB, Clock: w.Clock, RefreshFlags: referral.RefreshCaseloadFlagsFor}
}

func service(w *testkit.World) *insight.Service {
	return &insight.Service{DB: w.DB, Clock: w.Clock, Suppress: stats.Suppressor{Threshold: 5}, WaitingStandard: 28 * 24 * time.Hour, Audit: w.Audit}
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

// onCaseload puts n people on a co-ordinator's caseload and has the
// co-ordinator refer `referred` of them.
func onCaseload(t *testing.T, w *testkit.World, svc *insight.Service, c *app.Principal, team account.Team, n, referred int, group string) {
	t.Helper()
	ctx := context.Background()
	var eps []caseload.Episode
	for i := range n {
		eps = append(eps, caseload.Episode{PersonRef: fmt.Sprintf("%s-%d", c.Email, i), Team: team.Name, CoordinatorEmail: c.Email,
			StartDate: "2026-01-05", BirthYear: 1980, Gender: "woman", Ethnicity: group})
	}
	rep, err := importer(w).ImportEpisodes(ctx, app.Actor{}, eps, caseload.ImportOptions{})
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
			onCaseload(t, w, svc, c, w.TeamA, 60, 18, "white_british") // 30%
		}
		low := mustCoordinator(t, w, "low.big@test.example", w.TeamA)
		onCaseload(t, w, svc, low, w.TeamA, 150, 9, "white_british") // 6% of 150
		small := mustCoordinator(t, w, "low.small@test.example", w.TeamA)
		onCaseload(t, w, svc, small, w.TeamA, 10, 0, "white_british") // 0% of 10
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
		onCaseload(t, w, svc, c, w.TeamA, 40, 3, "white_british")
		d := mustCoordinator(t, w, "more@test.example", w.TeamB)
		onCaseload(t, w, svc, d, w.TeamB, 30, 10, "black_caribbean")
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
				for _, cell := range []*int{row.Caseload, row.Referred, row.Started} {
					if cell != nil && *cell >= 1 && *cell <= 4 {
						t.Errorf("%s %s shows a count of %d", tbl.Label, row.Group, *cell)
					}
					if cell == nil && !row.Suppressed {
						t.Errorf("%s %s hides a count without saying so", tbl.Label, row.Group)
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
			if tbl.Total.Referred == nil || *tbl.Total.Referred != 13 || len(tbl.Rows) != 2 {
				t.Fatalf("ethnicity table: %+v", tbl)
			}
			for _, row := range tbl.Rows {
				if row.Referred != nil || !row.ReferredWithheld() || row.RateRatio != nil || !row.Suppressed {
					t.Errorf("%s: referred %v, rate ratio %v: derivable from the total", row.Group, row.Referred, row.RateRatio)
				}
			}
		}
	})
}

// is reports whether a published count is present and n.
func is(v *int, n int) bool { return v != nil && *v == n }

// show prints a published value, or null.
func show[T any](v *T) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
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
		onCaseload(t, w, svc, c, w.TeamA, 200, 70, "white_british")
		d := mustCoordinator(t, w, "b@test.example", w.TeamA)
		onCaseload(t, w, svc, d, w.TeamA, 80, 6, "black_african")
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

func TestOfferCoverageCountsPeopleOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1} // no suppression: check the arithmetic
		w.Clock.Advance(60 * 24 * time.Hour)
		ctx := context.Background()
		var eps []caseload.Episode
		for i := range 10 {
			eps = append(eps, caseload.Episode{PersonRef: fmt.Sprintf("C%d", i), Team: w.TeamA.Name, CoordinatorEmail: "x@test.example", StartDate: "2026-01-05"})
		}
		// C0 is on both teams' caseloads.
		eps = append(eps, caseload.Episode{PersonRef: "C0", Team: w.TeamB.Name, CoordinatorEmail: "y@test.example", StartDate: "2026-02-05"})
		if rep, err := importer(w).ImportEpisodes(ctx, app.Actor{}, eps, caseload.ImportOptions{}); err != nil || !rep.Imported {
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
		if got := cov.All.Months[last]; !is(got.Caseload, 10) || !is(got.Offered, 3) || got.Share == nil || *got.Share != 0.3 || got.Suppressed {
			t.Errorf("all teams at the end: %+v (a person on two teams must count once)", got)
		}
		byTeam := map[string]insight.CoverageMonth{}
		for _, r := range cov.Teams {
			byTeam[r.Team] = r.Months[last]
		}
		if a := byTeam[w.TeamA.Name]; !is(a.Caseload, 10) || !is(a.Offered, 3) {
			t.Errorf("team A: %+v", a)
		}
		if b := byTeam[w.TeamB.Name]; !is(b.Caseload, 1) || !is(b.Offered, 1) {
			t.Errorf("team B: %+v", b)
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
		batch := func(n int, withEnds bool) []caseload.Episode {
			var eps []caseload.Episode
			for range n {
				start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(900))
				e := caseload.Episode{PersonRef: fmt.Sprintf("P%d", rng.IntN(60)), Team: teams[rng.IntN(2)],
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
		if _, err := importer(w).ImportEpisodes(ctx, app.Actor{}, batch(150, true), caseload.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		check("built in one go")
		// Kept up to date: more episodes, some of them new ends for old ones.
		more := batch(120, true)
		if _, err := importer(w).ImportEpisodes(ctx, app.Actor{}, more, caseload.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		var ends []caseload.Episode
		rows, _ := db.Query(ctx, `SELECT ce.person_ref, t.name, ce.coordinator_email, ce.start_date FROM caseload_episodes ce
			JOIN teams t ON t.id = ce.team_id WHERE ce.end_date IS NULL LIMIT 40`)
		for rows.Next() {
			var e caseload.Episode
			var start time.Time
			_ = rows.Scan(&e.PersonRef, &e.Team, &e.CoordinatorEmail, &start)
			e.StartDate = start.Format("2006-01-02")
			e.EndDate = start.AddDate(0, 0, 30).Format("2006-01-02")
			ends = append(ends, e)
		}
		rows.Close()
		if rep, err := importer(w).ImportEpisodes(ctx, app.Actor{}, ends, caseload.ImportOptions{}); err != nil || rep.Updated != len(ends) {
			t.Fatalf("ending episodes: %+v %v", rep, err)
		}
		check("kept up to date")
		if err := importer(w).RebuildRollup(ctx); err != nil {
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
		onCaseload(t, w, svc, c, w.TeamA, 3, 2, "white_british") // episodes from 2026-01-05, two referred now (November)
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
		rep, err := importer(w).ImportEpisodes(ctx, app.Actor{}, []caseload.Episode{{PersonRef: "flag@test.example-0", Team: w.TeamA.Name,
			CoordinatorEmail: "flag@test.example", StartDate: "2026-01-05", EndDate: "2026-03-31"}}, caseload.ImportOptions{})
		if err != nil || rep.Updated != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
		if got := events(); got != 1 {
			t.Fatalf("after the episode ended before the referral: %d events, want 1", got)
		}
	})
}

// A view never builds the roll-up: while it is stale (a bulk load wrote
// episodes directly) the view counts from the episodes and leaves it so;
// the caseload package's rebuild (after an import, or its background job)
// builds it, and the answer is the same either way.
func TestViewsNeverBuildTheRollup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1}
		ctx := context.Background()
		mgr := w.Principal(t, "manager")
		var eps []caseload.Episode
		for i := range 30 {
			eps = append(eps, caseload.Episode{PersonRef: fmt.Sprintf("S%d", i%20), Team: w.TeamA.Name,
				CoordinatorEmail: fmt.Sprintf("c%d@test.example", i%3), StartDate: fmt.Sprintf("2026-01-%02d", 1+i%28)})
		}
		if _, err := importer(w).ImportEpisodes(ctx, app.Actor{}, eps, caseload.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		counts := func() map[string]int {
			r, err := svc.ReferralRates(ctx, mgr, insight.RatesQuery{Period: insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int{}
			for _, u := range r.Units {
				out[u.Unit] = *u.N
			}
			return out
		}
		built := func() bool {
			b, err := caseload.Built(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if !built() {
			t.Fatal("the roll-up is not built after an import")
		}
		fromRollup := counts()
		if len(fromRollup) != 3 {
			t.Fatalf("units: %v", fromRollup)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return caseload.MarkRollupStale(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		if got := counts(); fmt.Sprint(got) != fmt.Sprint(fromRollup) {
			t.Errorf("counted from the episodes: %v, from the roll-up: %v", got, fromRollup)
		}
		if built() {
			t.Fatal("a view rebuilt the roll-up")
		}
		if err := importer(w).RebuildIfStale(ctx); err != nil || !built() {
			t.Fatalf("rebuild: %v", err)
		}
		if got := counts(); fmt.Sprint(got) != fmt.Sprint(fromRollup) {
			t.Errorf("after the rebuild: %v, before: %v", got, fromRollup)
		}
	})
}

// Suppress the count, never the finding: a group that is 15% of the
// caseload but 3% of referrals (3 of 100, a count hidden) is still
// flagged, with its rate ratio as a bound that holds whatever the hidden
// count is, and nothing shown gives the count away.
func TestEquityFlagsSmallUnderRepresentedGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		w.Clock.Advance(24 * time.Hour)
		c := mustCoordinator(t, w, "a@test.example", w.TeamA)
		onCaseload(t, w, svc, c, w.TeamA, 340, 97, "white_british")
		d := mustCoordinator(t, w, "b@test.example", w.TeamA)
		onCaseload(t, w, svc, d, w.TeamA, 60, 3, "black_african")
		eq, err := svc.EquityOfAccess(context.Background(), w.Principal(t, "analyst"), insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, tbl := range eq.Tables {
			if tbl.Key != "ethnicity" {
				continue
			}
			for _, row := range tbl.Rows {
				if row.Group != "Black, Black British, Caribbean or African" {
					continue
				}
				found = true
				if !row.Under {
					t.Errorf("15%% of the caseload and 3%% of referrals is not flagged: %+v", row)
				}
				if row.Referred != nil || !row.Suppressed || row.ShareRef != nil || row.RateRatio != nil || row.CILower != nil || row.CIUpper != nil {
					t.Errorf("the count shows through: %+v", row)
				}
				// The upper limit for 4 of 60 (the largest the hidden
				// count could be) against 96 of 340 is 0.62.
				if row.Below == nil || *row.Below != 0.7 || row.Above != nil {
					t.Errorf("bound %v, want below 0.7", row.Below)
				}
			}
		}
		if !found {
			t.Fatal("no row for the group")
		}
	})
}

// Waiting times over a period read as several parts at once (on SQLite)
// add up to the same answer as one read: referrals received across the
// period, each in one part, every one counted once, and the median and
// 90th percentile taken over all of them.
func TestWaitingAcrossThePeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1}
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		period := insight.Period{From: w.Clock.Now().AddDate(0, 0, -40), To: w.Clock.Now()}
		// Eight routine referrals, received 1, 6, 11, … 36 days into the
		// period, first contacted after 1 to 8 days; one received on the
		// period's last day, not yet contacted; one received the day
		// before the period starts, which is not counted.
		for i := range 10 {
			r, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{
				Person:   person.Details{PreferredName: fmt.Sprintf("Across %c", 'A'+i), Phone: fmt.Sprintf("07700 900%03d", 400+i)},
				AskedFor: "Someone to talk to", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true})
			if err != nil {
				t.Fatal(err)
			}
			received := period.From.AddDate(0, 0, 1+5*i).Add(9 * time.Hour)
			var contacted any = received.AddDate(0, 0, 1+i)
			switch i {
			case 8:
				received, contacted = period.To.Add(10*time.Hour), nil
			case 9:
				received = period.From.Add(-time.Hour)
			}
			if _, err := db.Exec(ctx, "UPDATE referrals SET received_at = $1, first_contact_at = $2 WHERE id = $3", received, contacted, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		wt, err := svc.WaitingTimes(ctx, w.Principal(t, "analyst"), period, nil)
		if err != nil {
			t.Fatal(err)
		}
		routine := wt.Tables[0].Rows[2]
		// Waits of 1 to 8 days: median 4.5, 90th percentile 7.3 (R type 7).
		if got := fmt.Sprintf("%s: %s referrals, %s seen, median %.2f, p90 %.2f", routine.Group, show(routine.Referrals), show(routine.Seen),
			*routine.MedianDays, *routine.P90Days); got != "Routine: 9 referrals, 8 seen, median 4.50, p90 7.30" {
			t.Errorf("got %s", got)
		}
	})
}

// The waiting insight splits by urgency, most urgent first, and measures
// each referral against its own urgency's standard: a very urgent referral
// first contacted after six hours was not seen in time, whatever the
// routine standard.
func TestWaitingSplitsByUrgency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 1} // no suppression: check the arithmetic
		ctx := context.Background()
		clin := w.Principal(t, "clinician")
		refer := func(name string, u referral.Urgency, after time.Duration) {
			r, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{
				Person:   person.Details{PreferredName: name, Phone: fmt.Sprintf("07700 900%03d", len(name)*7+int(after.Hours())%100)},
				AskedFor: "Someone to talk to", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, Urgency: u})
			if err != nil {
				t.Fatal(err)
			}
			// First contact, as the peer support team recorded it (none
			// yet for a negative after).
			if after < 0 {
				return
			}
			if _, err := db.Exec(ctx, "UPDATE referrals SET first_contact_at = $1 WHERE id = $2", r.ReceivedAt.Add(after), r.ID); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			refer(fmt.Sprintf("Quick %c", 'A'+i), referral.VeryUrgent, 2*time.Hour)
			refer(fmt.Sprintf("Slow %c", 'A'+i), referral.VeryUrgent, 6*time.Hour)
			refer(fmt.Sprintf("Routine %c", 'A'+i), referral.Routine, 6*time.Hour)
		}
		// Still waiting, exactly at its standard when first counted below:
		// not yet late, so not yet known either way.
		refer("Waiting", referral.Urgent, -1)
		w.Clock.Advance(24 * time.Hour)
		waiting := func() insight.Waiting {
			t.Helper()
			wt, err := svc.WaitingTimes(ctx, w.Principal(t, "analyst"), insight.Period{From: w.Clock.Now().AddDate(0, -1, 0), To: w.Clock.Now()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return wt
		}
		wt := waiting()
		if len(wt.Tables) == 0 || wt.Tables[0].Key != "urgency" {
			t.Fatalf("the first table is not by urgency: %+v", wt.Tables)
		}
		var got []string
		for _, r := range wt.Tables[0].Rows {
			got = append(got, fmt.Sprintf("%s (%d hours): %s referrals, %s within", r.Group, r.StandardHours, show(r.Referrals), show(r.WithinTarget)))
		}
		want := []string{"Very urgent (4 hours): 6 referrals, 0.5 within", "Urgent (24 hours): 1 referrals, null within",
			"Routine (672 hours): 3 referrals, 1 within"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("by urgency:\n got %q\nwant %q", got, want)
		}
		// Waits in days: very urgent 2, 2, 2, 6, 6, 6 hours (median 4);
		// routine 6 hours each.
		for i, want := range [][2]float64{{4.0 / 24, 6.0 / 24}, {0, 0}, {6.0 / 24, 6.0 / 24}} {
			r := wt.Tables[0].Rows[i]
			if want[0] == 0 {
				if r.MedianDays != nil {
					t.Errorf("%s: a median of %v days with no one seen", r.Group, *r.MedianDays)
				}
				continue
			}
			if r.MedianDays == nil || r.P90Days == nil || math.Abs(*r.MedianDays-want[0]) > 1e-6 || math.Abs(*r.P90Days-want[1]) > 1e-6 {
				t.Errorf("%s: median %s, 90th percentile %s days; want %v and %v", r.Group, show(r.MedianDays), show(r.P90Days), want[0], want[1])
			}
		}
		// A minute past its standard, the one still waiting was not seen in
		// time.
		w.Clock.Advance(time.Minute)
		if r := waiting().Tables[0].Rows[1]; r.WithinTarget == nil || *r.WithinTarget != 0 {
			t.Errorf("still waiting past the standard: %s within, want 0", show(r.WithinTarget))
		}
		// The same standards hold in every other table: the team's share
		// within the standard counts the slow very urgent ones as late.
		for _, r := range wt.Tables[1].Rows {
			if is(r.Referrals, 9) && (r.WithinTarget == nil || math.Abs(*r.WithinTarget-2.0/3) > 1e-9) {
				t.Errorf("team %s: %s within the standard, want 2/3", r.Group, show(r.WithinTarget))
			}
		}
	})
}

// A care co-ordinator sees their own referral and offer rates beside their
// team's, never another co-ordinator's, and the people on their caseload
// nobody has told about peer support in twelve months — only people they
// may see, each named in the audit row.
func TestCoordinatorSeesOwnRatesAndPeopleNotOffered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		svc.Suppress = stats.Suppressor{Threshold: 5}
		ctx := context.Background()
		w.Clock.Advance(24 * time.Hour)
		c := mustCoordinator(t, w, "own@test.example", w.TeamA)
		onCaseload(t, w, svc, c, w.TeamA, 20, 5, "white_british")
		d := mustCoordinator(t, w, "other@test.example", w.TeamA)
		onCaseload(t, w, svc, d, w.TeamA, 20, 10, "white_british")
		// One of c's people is told about peer support and says not now.
		var told int64
		if err := db.QueryRow(ctx, "SELECT id FROM people WHERE trust_ref = $1", "own@test.example-19").Scan(&told); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.CreateOffer(ctx, c, referral.NewOffer{PersonID: told, Method: "review", Response: "not_now"}); err != nil {
			t.Fatal(err)
		}
		// c is named on another team's caseload too, a team c does not
		// work in: that person is out of c's scope and is not listed.
		if _, err := importer(w).ImportEpisodes(ctx, app.Actor{}, []caseload.Episode{{PersonRef: "elsewhere", Team: w.TeamB.Name,
			CoordinatorEmail: c.Email, StartDate: "2026-01-05", PreferredName: "Elsewhere"}}, caseload.ImportOptions{}); err != nil {
			t.Fatal(err)
		}

		own, err := svc.OwnRates(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		rate := func(r insight.OwnRate) string {
			if r.N == nil || r.Events == nil {
				return r.Unit + ": withheld"
			}
			return fmt.Sprintf("%s: %d of %d", r.Unit, *r.Events, *r.N)
		}
		var got []string
		for _, m := range own.Measures {
			got = append(got, m.Measure+" "+rate(m.You))
			for _, tr := range m.Teams {
				got = append(got, m.Measure+" "+rate(tr))
			}
		}
		want := []string{"referred You: 5 of 21", "referred " + w.TeamA.Name + ": 15 of 40", "offered You: 1 of 21", "offered " + w.TeamA.Name + ": withheld"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rates:\n got %q\nwant %q", got, want)
		}
		b, _ := json.Marshal(own)
		if strings.Contains(string(b), "other@test.example") || strings.Contains(string(b), `"events":10`) {
			t.Errorf("another co-ordinator's figures show: %s", b)
		}
		// The team's one offer is a small count: withheld, and said so.
		if !own.Measures[1].Teams[0].Suppressed {
			t.Errorf("team offers not marked suppressed: %+v", own.Measures[1].Teams[0])
		}
		// Not told and not referred: 20 − 5 referred − 1 told = 14, all
		// on team A; "Elsewhere" is out of scope.
		if len(own.NotOffered) != 14 {
			t.Fatalf("%d people not offered, want 14: %+v", len(own.NotOffered), own.NotOffered)
		}
		listed := map[int64]bool{}
		for _, n := range own.NotOffered {
			listed[n.PersonID] = true
			if n.Name == "Elsewhere" || n.PersonID == told {
				t.Errorf("listed %+v", n)
			}
		}
		// The audit row names each person shown, and only them.
		var audited int
		var subjects []int64
		rows, err := db.Query(ctx, `SELECT s.person_id FROM audit_subjects s JOIN audit_events e ON e.id = s.audit_id WHERE e.action = 'insight.own'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			subjects = append(subjects, id)
			if listed[id] {
				audited++
			}
		}
		rows.Close()
		if audited != 14 || len(subjects) != 14 {
			t.Errorf("audit subjects %v: want the 14 people shown", subjects)
		}
		// A co-ordinator with no caseload sees zeros, and no one's list.
		e := mustCoordinator(t, w, "new@test.example", w.TeamB)
		own, err = svc.OwnRates(ctx, e)
		if err != nil || len(own.NotOffered) != 0 || *own.Measures[0].You.N != 0 {
			t.Fatalf("new co-ordinator: %+v %v", own, err)
		}
	})
}
