package insight_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// The support report (#12) against data made through the services, with
// known answers: 6 people supported by one worker, 2 contacts each (one
// in person, 60 minutes, emotional and practical; one by phone, 30
// minutes, emotional), 2 endings; another team's contact left out when a
// team is chosen; small counts hidden when suppression is on, and a small
// mode count that could be worked out from the total withheld too.
func TestSupportReportKnownData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		ctx := context.Background()
		clin, lead, worker := w.Principal(t, "clinician"), w.Principal(t, "lead"), w.Principal(t, "worker")
		start := w.Clock.Now()
		var refs []referral.Referral
		for i := range 6 {
			r, err := w.Referrals.CreateReferral(ctx, clin, referral.NewReferral{
				Person:   person.Details{PreferredName: fmt.Sprintf("Person %c", 'A'+i), Phone: fmt.Sprintf("07700 900%03d", 100+i)},
				AskedFor: "Someone to talk to", PersonKnows: testkit.Yes(), Consent: "given", NotDuplicate: true, TeamID: w.TeamA.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []referral.Move{{To: referral.Accepted}, {To: referral.Allocated, WorkerID: w.Users["worker"].ID}} {
				if _, err := w.Referrals.Transition(ctx, lead, r.ID, m); err != nil {
					t.Fatal(err)
				}
			}
			refs = append(refs, r)
		}
		w.Clock.Advance(7 * 24 * time.Hour)
		for _, r := range refs {
			if _, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Hour), Mode: "in_person", Minutes: 60,
				SupportTypes: []string{"emotional", "practical"}}); err != nil {
				t.Fatal(err)
			}
		}
		w.Clock.Advance(14 * 24 * time.Hour)
		for _, r := range refs {
			if _, err := w.Referrals.RecordContact(ctx, worker, r.ID, referral.NewContact{At: w.Clock.Now().Add(-time.Hour), Mode: "phone", Minutes: 30,
				SupportTypes: []string{"emotional"}}); err != nil {
				t.Fatal(err)
			}
		}
		// A contact entered in error counts nowhere: not as a contact, an
		// hour, a mode or a kind of support.
		wrong, err := w.Referrals.RecordContact(ctx, worker, refs[0].ID, referral.NewContact{At: w.Clock.Now().Add(-time.Hour), Mode: "video", Minutes: 120,
			SupportTypes: []string{"recovery"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.MarkEnteredInError(ctx, worker, wrong.ID, referral.ErrorMark{Reason: "Recorded twice", Version: wrong.Version}); err != nil {
			t.Fatal(err)
		}
		for _, r := range refs[:2] {
			if _, err := w.Referrals.Transition(ctx, worker, r.ID, referral.Move{To: referral.Ended, Ending: referral.EndingPlanned, Reason: "goals_met", OutcomeSummary: "Back at college"}); err != nil {
				t.Fatal(err)
			}
		}
		period := insight.Period{From: start.AddDate(0, 0, -1), To: w.Clock.Now()}

		svc.Suppress = stats.Suppressor{Threshold: 1} // no suppression: check the arithmetic
		rep, err := svc.SupportReport(ctx, w.Principal(t, "analyst"), period, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("workers %s, people %s, contacts %s, hours %s, median contacts %s, endings %s",
			show(rep.PeerWorkers), show(rep.PeopleSupported), show(rep.Contacts), show(rep.Hours), show(rep.MedianContactsPerPerson), show(rep.EndingsAll))
		if want := "workers 1, people 6, contacts 12, hours 9, median contacts 2, endings 2"; got != want {
			t.Errorf("totals:\n got %s\nwant %s", got, want)
		}
		counts := func(rows []insight.ReportRow) map[string]string {
			m := map[string]string{}
			for _, r := range rows {
				if r.Count == nil || *r.Count != 0 {
					m[r.Code] = show(r.Count)
				}
			}
			return m
		}
		if got := fmt.Sprint(counts(rep.BySupportType)); got != "map[emotional:12 practical:6]" {
			t.Errorf("by support type: %s", got)
		}
		if got := fmt.Sprint(counts(rep.ByMode)); got != "map[in_person:6 phone:6]" {
			t.Errorf("by mode: %s", got)
		}
		if got := fmt.Sprint(counts(rep.Endings)); got != "map[goals_met:2]" {
			t.Errorf("endings: %s", got)
		}
		// Weeks of support: the two who ended, from their first contact to
		// the ending two weeks later (2.0); the other four to the end of the
		// period's last day (2.1 to 2.2): the median is between.
		if rep.MedianWeeksPerPerson == nil || *rep.MedianWeeksPerPerson < 2.0 || *rep.MedianWeeksPerPerson > 2.25 {
			t.Errorf("median weeks per person: %s", show(rep.MedianWeeksPerPerson))
		}
		// Another team's report holds none of it.
		other, err := svc.SupportReport(ctx, w.Principal(t, "analyst"), period, []int64{w.TeamB.ID})
		if err != nil || show(other.Contacts) != "0" || show(other.PeopleSupported) != "0" {
			t.Fatalf("team B: %+v %v", other, err)
		}

		// With suppression at 5: the 2 endings are hidden, and with them
		// any ending count that could be worked out from the total.
		svc.Suppress = stats.Suppressor{Threshold: 5}
		rep, err = svc.SupportReport(ctx, w.Principal(t, "analyst"), period, []int64{w.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		if rep.EndingsAll != nil || rep.PeerWorkers != nil || show(rep.PeopleSupported) != "6" || show(rep.Contacts) != "12" {
			t.Errorf("suppressed: endings %s, workers %s, people %s, contacts %s", show(rep.EndingsAll), show(rep.PeerWorkers), show(rep.PeopleSupported), show(rep.Contacts))
		}
		for _, r := range rep.Endings {
			if r.Code == "goals_met" && r.Count != nil {
				t.Errorf("2 endings for goals met shown: %s", show(r.Count))
			}
		}
		var audited int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action = 'insight.support'").Scan(&audited); err != nil || audited != 3 {
			t.Errorf("%d audit rows for three reports (%v)", audited, err)
		}
	})
}
