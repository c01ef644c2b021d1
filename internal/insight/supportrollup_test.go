package insight_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// rollupDump lists the support roll-ups' rows that count something, in
// order, for comparing one way of keeping them with another.
func rollupDump(t *testing.T, db *store.DB) string {
	t.Helper()
	days := []string{"team_id", "day", "n", "minutes"}
	for _, rc := range referral.SupportRollupColumns() {
		days = append(days, rc.Column)
	}
	var b strings.Builder
	for _, q := range []string{
		"SELECT referral_id, worker_user_id, month, n FROM support_rollup WHERE n <> 0 ORDER BY referral_id, worker_user_id, month",
		"SELECT " + strings.Join(days, ", ") + " FROM support_team_days WHERE n <> 0 ORDER BY team_id, day",
	} {
		rows, err := db.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]int64, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// The support report from the roll-up gives exactly the figures of a direct
// count from the contacts (#12), for random periods (whole months, part
// months, a day, periods starting mid-day) and team selections, with and
// without suppression, over random data made through the services: two
// teams, three workers, contacts at the very edges of months, contacts
// entered in error, endings and people referred again. The roll-up kept
// up to date write by write also equals one rebuilt from the contacts.
func TestSupportRollupMatchesDirectCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(12, 54))
		if err := w.Referrals.RebuildSupportRollup(ctx); err != nil {
			t.Fatal(err)
		}
		type open struct {
			ref    referral.Referral
			worker []string
		}
		var refs []open
		refer := func(team account.Team, personID int64, n int) {
			clin, lead, workers := "clinician", "lead", []string{"worker", "lead"}
			if team.ID == w.TeamB.ID {
				clin, lead, workers = "clinicianB", "leadB", []string{"workerB"}
			}
			in := referral.NewReferral{AskedFor: "Someone to talk to", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, TeamID: team.ID, PersonID: personID}
			if personID == 0 {
				in.Person = person.Details{PreferredName: fmt.Sprintf("Person %d", n), Phone: fmt.Sprintf("07700 9%05d", n)}
			}
			r, err := w.Referrals.CreateReferral(ctx, w.Principal(t, clin), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: w.Users[workers[0]].ID}} {
				if r, err = w.Referrals.Transition(ctx, w.Principal(t, lead), r.ID, m); err != nil {
					t.Fatal(err)
				}
			}
			refs = append(refs, open{r, workers})
		}
		for i := range 10 {
			team := w.TeamA
			if i%3 == 0 {
				team = w.TeamB
			}
			refer(team, 0, i)
		}
		start := w.Clock.Now()
		record := func(o open, at time.Time) {
			by := w.Principal(t, o.worker[rng.IntN(len(o.worker))])
			var types []string
			for _, st := range referral.SupportTypes {
				if rng.IntN(3) == 0 {
					types = append(types, st.Code)
				}
			}
			setting := ""
			if rng.IntN(2) == 0 {
				setting = string(account.Settings[rng.IntN(len(account.Settings))])
			}
			c, err := w.Referrals.RecordContact(ctx, by, o.ref.ID, referral.NewContact{At: at, Mode: referral.ContactModes[rng.IntN(len(referral.ContactModes))].Code,
				Minutes: rng.IntN(121), SupportTypes: types, Setting: setting})
			if err != nil {
				t.Fatal(err)
			}
			if rng.IntN(8) == 0 {
				if _, err := w.Referrals.MarkEnteredInError(ctx, by, c.ID, referral.ErrorMark{Reason: "Wrong person", Version: c.Version}); err != nil {
					t.Fatal(err)
				}
			}
		}
		n := 100
		for w.Clock.Now().Before(start.AddDate(1, 2, 0)) {
			prev := w.Clock.Now()
			w.Clock.Advance(time.Duration(1+rng.IntN(6*24)) * time.Hour)
			now := w.Clock.Now()
			for range 1 + rng.IntN(3) {
				record(refs[rng.IntN(len(refs))], prev.Add(time.Duration(rng.Int64N(int64(now.Sub(prev))))))
			}
			// The last moment of a month and the first of the next.
			if m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC); m.After(prev) {
				record(refs[rng.IntN(len(refs))], m.Add(-time.Microsecond))
				record(refs[rng.IntN(len(refs))], m)
			}
			// Now and then support ends, and the person is referred again.
			if rng.IntN(12) == 0 {
				i := rng.IntN(len(refs))
				o := refs[i]
				if _, err := w.Referrals.Transition(ctx, w.Principal(t, o.worker[0]), o.ref.ID, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned,
					Reason: "goals_met", OutcomeSummary: "Back at college"}); err != nil {
					t.Fatal(err)
				}
				refs = slices.Delete(refs, i, i+1)
				team := w.TeamA
				if o.ref.TeamID == w.TeamB.ID {
					team = w.TeamB
				}
				n++
				if rng.IntN(3) > 0 {
					refer(team, o.ref.PersonID, n) // the same person again
				} else {
					refer(team, 0, n)
				}
			}
		}
		end := w.Clock.Now()
		day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
		var periods []insight.Period
		for range 14 {
			from := day(start.AddDate(0, 0, rng.IntN(int(end.Sub(start).Hours()/24))-5))
			periods = append(periods, insight.Period{From: from, To: from.AddDate(0, 0, rng.IntN(420))})
		}
		m := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		periods = append(periods,
			insight.Period{From: m, To: m.AddDate(0, 6, -1)},                        // whole months
			insight.Period{From: m.AddDate(0, 1, 0), To: m.AddDate(0, 1, 0)},        // the first day of a month
			insight.Period{From: m.AddDate(0, 2, -1), To: m.AddDate(0, 2, -1)},      // the last day of a month
			insight.Period{From: m.AddDate(0, 0, 3), To: m.AddDate(0, 0, 25)},       // most of one month
			insight.Period{From: m.AddDate(0, 0, 20), To: m.AddDate(0, 1, 2)},       // across a month's end
			insight.Period{From: end.AddDate(-1, 0, -1), To: end},                   // the benchmark's: mid-day
			insight.Period{From: start.AddDate(0, 0, -3), To: end.AddDate(0, 0, 3)}, // everything
		)
		teamSets := [][]int64{nil, {w.TeamA.ID}, {w.TeamB.ID}, {w.TeamA.ID, w.TeamB.ID}}
		analyst := w.Principal(t, "analyst")
		reports := func() []string {
			var out []string
			for _, threshold := range []int{1, 5} {
				svc.Suppress = stats.Suppressor{Threshold: threshold}
				for _, p := range periods {
					for _, teams := range teamSets {
						rep, err := svc.SupportReport(ctx, analyst, p, teams)
						if err != nil {
							t.Fatal(err)
						}
						b, _ := json.Marshal(rep)
						out = append(out, fmt.Sprintf("threshold %d, %s to %s, teams %v: %s", threshold, p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), teams, b))
					}
				}
			}
			return out
		}
		compare := func(what string, got, want []string) {
			t.Helper()
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s:\n got %s\nwant %s", what, got[i], want[i])
				}
			}
		}
		fromRollup := reports()
		kept := rollupDump(t, db)
		if err := db.Write(ctx, func(tx *store.Tx) error { return referral.MarkSupportRollupStale(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		direct := reports()
		if built, err := referral.SupportRollupBuilt(ctx, db); err != nil || built {
			t.Fatalf("a report rebuilt the roll-up (built %v, %v): reports only read", built, err)
		}
		compare("roll-up kept write by write against a direct count", fromRollup, direct)
		if err := w.Referrals.RebuildSupportRollupIfStale(ctx); err != nil {
			t.Fatal(err)
		}
		if rebuilt := rollupDump(t, db); rebuilt != kept {
			t.Errorf("the roll-up kept write by write differs from one rebuilt:\nkept\n%s\nrebuilt\n%s", kept, rebuilt)
		}
		compare("rebuilt roll-up against a direct count", reports(), direct)
		// Something was counted, or the test proves nothing.
		if !strings.Contains(direct[len(periods)*len(teamSets)-4], `"contacts":`) || strings.Contains(direct[len(periods)*len(teamSets)-4], `"contacts":0`) {
			t.Errorf("no contacts in the whole period: %s", direct[len(periods)*len(teamSets)-4])
		}
		// Forgetting people (retention, long after) takes their contacts
		// out of the roll-ups.
		w.Clock.Advance(30 * 365 * 24 * time.Hour)
		if rep, err := w.DataRights.Retain(ctx, false); err != nil || rep.Forgotten == 0 {
			t.Fatalf("retention: %+v %v", rep, err)
		}
		kept = rollupDump(t, db)
		if err := w.Referrals.RebuildSupportRollup(ctx); err != nil {
			t.Fatal(err)
		}
		if rebuilt := rollupDump(t, db); rebuilt != kept {
			t.Errorf("after forgetting people, the roll-up kept differs from one rebuilt:\nkept\n%s\nrebuilt\n%s", kept, rebuilt)
		}
	})
}

// Every mode, setting and kind of support has its column in the roll-up: a
// code added to a list needs one (and a migration), or its contacts would
// go uncounted.
func TestSupportRollupHasAColumnPerCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, rc := range referral.SupportRollupColumns() {
			var n int
			if err := db.QueryRow(context.Background(), "SELECT COUNT("+rc.Column+") FROM support_team_days").Scan(&n); err != nil {
				t.Errorf("%s %q: %v", rc.Dim, rc.Code, err)
			}
		}
	})
}

// Workers recording contacts in the same roll-up cell at once (one
// referral, one worker, one month), and marking others entered in error,
// lose no count: the upsert adds to the row as it is when written
// (PostgreSQL READ COMMITTED; SQLite has one writer). A rebuild racing
// them counts each contact once.
func TestSupportRollupConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		if err := w.Referrals.RebuildSupportRollup(ctx); err != nil {
			t.Fatal(err)
		}
		r := w.Allocated(t, "person", "worker")
		worker := w.Principal(t, "worker")
		w.Clock.Advance(2 * time.Hour)
		at := w.Clock.Now().Add(-time.Hour)
		var first []referral.Contact
		for range 4 {
			c, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: at, Mode: "phone", Minutes: 10})
			if err != nil {
				t.Fatal(err)
			}
			first = append(first, c)
		}
		const writers = 12
		var wg sync.WaitGroup
		errs := make(chan error, writers+len(first)+1)
		release := make(chan struct{})
		for i := range writers {
			wg.Go(func() {
				<-release
				_, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: at, Mode: "in_person", Minutes: 30, SupportTypes: []string{"emotional"}})
				if err == nil && i == 0 {
					err = w.Referrals.RebuildSupportRollup(ctx)
				}
				errs <- err
			})
		}
		for _, c := range first {
			wg.Go(func() {
				<-release
				_, err := w.Referrals.MarkEnteredInError(ctx, worker, c.ID, referral.ErrorMark{Reason: "Recorded twice", Version: c.Version})
				errs <- err
			})
		}
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n, days, minutes, inPerson, phone, emotional int
		if err := db.QueryRow(ctx, "SELECT SUM(n) FROM support_rollup WHERE referral_id = $1", r.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, "SELECT SUM(n), SUM(minutes), SUM(mode_in_person), SUM(mode_phone), SUM(type_emotional) FROM support_team_days WHERE team_id = $1",
			w.TeamA.ID).Scan(&days, &minutes, &inPerson, &phone, &emotional); err != nil {
			t.Fatal(err)
		}
		if days != n {
			t.Errorf("%d contacts by referral, %d by team and day", n, days)
		}
		if got, want := fmt.Sprint(n, minutes, inPerson, phone, emotional), fmt.Sprint(writers, writers*30, writers, 0, writers); got != want {
			t.Errorf("roll-up after %d contacts at once and %d marked in error: got n, minutes, in person, phone, emotional %s, want %s", writers, len(first), got, want)
		}
		var kept, rebuilt string
		kept = rollupDump(t, db)
		if err := w.Referrals.RebuildSupportRollup(ctx); err != nil {
			t.Fatal(err)
		}
		if rebuilt = rollupDump(t, db); kept != rebuilt {
			t.Errorf("kept %s, rebuilt %s", kept, rebuilt)
		}
	})
}
