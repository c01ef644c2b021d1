package matching_test

import (
	"context"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

func TestAbsence(t *testing.T) {
	today := day("2026-11-02")
	for _, c := range []struct {
		name    string
		periods []matching.Period
		want    bool
	}{
		{"None", nil, false},
		{"LongAndNow", []matching.Period{{day("2026-10-30"), day("2026-11-20")}}, true},
		{"ExactlyFourteenDays", []matching.Period{{day("2026-11-02"), day("2026-11-15")}}, true},
		{"ThirteenDaysIsShort", []matching.Period{{day("2026-11-02"), day("2026-11-14")}}, false},
		{"StartsWithinAWeek", []matching.Period{{day("2026-11-09"), day("2026-12-31")}}, true},
		{"StartsLater", []matching.Period{{day("2026-11-10"), day("2026-12-31")}}, false},
		{"AlreadyOver", []matching.Period{{day("2026-10-01"), day("2026-11-01")}}, false},
		{"SecondOfTwo", []matching.Period{{day("2026-10-01"), day("2026-10-03")}, {day("2026-11-01"), day("2027-01-01")}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, got := matching.Absence(c.periods, today); got != c.want {
				t.Fatalf("got %t, want %t", got, c.want)
			}
		})
	}
}

// A lead's list of people needing another worker: those of a worker whose
// account is closed, and of a worker away 14 days or more; not those of a
// worker away a few days; only the lead's own teams; audited naming each.
func TestNeedsReassignment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		left := w.Allocated(t, "person", "worker")
		away := w.Allocated(t, "person2", "lead2")
		// The worker leaves; lead2 will be away three weeks from tomorrow.
		if _, err := db.Exec(ctx, "UPDATE users SET status = 'disabled' WHERE id = $1", w.Users["worker"].ID); err != nil {
			t.Fatal(err)
		}
		save := func(from, to string) {
			prof, err := w.Matching.WorkerProfile(ctx, lead, w.Users["lead2"].ID)
			must(t, err)
			_, err = w.Matching.SaveWorkerProfile(ctx, lead, w.Users["lead2"].ID, matching.SaveWorkerProfile{Version: prof.Version,
				Capacity: &matching.Capacity{HoursPerWeek: 30, Reductions: []matching.Reduction{{Percent: 0, StartsOn: from, EndsOn: to, Note: "leave"}}}})
			must(t, err)
		}
		save("2026-11-10", "2026-11-12") // a few days: not listed
		got, err := w.Matching.NeedsReassignment(ctx, lead)
		must(t, err)
		if len(got) != 1 || got[0].ReferralID != left.ID || got[0].Why != matching.WhyWorkerLeft {
			t.Fatalf("with a short absence: %+v", got)
		}
		save("2026-11-03", "2026-11-23")
		got, err = w.Matching.NeedsReassignment(ctx, lead)
		must(t, err)
		if len(got) != 2 {
			t.Fatalf("want 2, got %+v", got)
		}
		for _, r := range got {
			if r.ReferralID == away.ID && (r.Why != matching.WhyWorkerAway || r.AwayFrom != "2026-11-03" || r.AwayUntil != "2026-11-23") {
				t.Fatalf("away: %+v", r)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_subjects s JOIN audit_events e ON e.id = s.audit_id
			WHERE e.action = 'reassignment.list' AND s.person_id IN ($1, $2)`, left.PersonID, away.PersonID); n < 2 {
			t.Fatalf("the list named %d people in the audit trail", n)
		}
		// Another team's lead sees none of them; a worker may not ask.
		other, err := w.Matching.NeedsReassignment(ctx, w.Principal(t, "leadB"))
		if err != nil || len(other) != 0 {
			t.Fatalf("another team's lead: %+v %v", other, err)
		}
		_, err = w.Matching.NeedsReassignment(ctx, w.Principal(t, "workerB"))
		if !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a worker: %v", err)
		}
	})
}
