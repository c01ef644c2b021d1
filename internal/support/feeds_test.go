package support_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/support"
	"github.com/mutualhq/mutual/internal/testenv/icaltest"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// Private calendar feeds: the worker's says "Peer support with <first
// name>", the person's "Peer support", nothing more; 10:00 stays 10:00 on
// either side of the clocks changing; a cancelled appointment is
// STATUS:CANCELLED and a proposal is left out; renewing stops the old
// address, revoking stops the feed.
func TestCalendarFeeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		pid := supported(t, w)
		worker, person := w.Principal(t, "worker"), w.Principal(t, "person")
		winter := tomorrow10(w)
		summer := time.Date(2027, 3, 30, 10, 0, 0, 0, app.London) // after the clocks go forward
		for _, in := range []support.NewAppointment{
			{PersonID: pid, Start: winter, Minutes: 60, Place: "home", PlaceDetail: "CANARY-ROAD", Agreed: true},
			{PersonID: pid, Start: summer, Minutes: 60, Place: "community", Agreed: true},
			{PersonID: pid, Start: winter.Add(24 * time.Hour), Minutes: 30, Place: "phone"}, // proposed: not in the feed
		} {
			if _, err := w.Support.Create(ctx, worker, in); err != nil {
				t.Fatal(err)
			}
		}
		cancelled, err := w.Support.Create(ctx, worker, support.NewAppointment{PersonID: pid, Start: winter.Add(48 * time.Hour), Minutes: 30, Place: "video", Agreed: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Support.Transition(ctx, person, cancelled.ID, support.Move{To: support.Cancelled, Reason: "Away"}); err != nil {
			t.Fatal(err)
		}
		token := func(f support.FeedStatus) string {
			return strings.TrimSuffix(strings.TrimPrefix(f.URL, "https://mutual.test/calendar/"), ".ics")
		}
		wf, err := w.Support.RenewFeed(ctx, worker)
		if err != nil || !wf.On || !strings.HasPrefix(wf.URL, "https://mutual.test/calendar/") {
			t.Fatalf("%v %+v", err, wf)
		}
		pf, err := w.Support.RenewFeed(ctx, person)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			feed    support.FeedStatus
			summary string
		}{{wf, "Peer support with Test"}, {pf, "Peer support"}} {
			text, err := w.Support.Feed(ctx, token(c.feed))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(text), "CANARY") || strings.Contains(string(text), "person") {
				t.Fatalf("the feed says more than it should:\n%s", text)
			}
			cal := icaltest.Parse(t, text)
			if len(cal.Events) != 3 {
				t.Fatalf("%s: %d events", c.summary, len(cal.Events))
			}
			for _, e := range cal.Events {
				if e.Summary != c.summary || e.Location != "" || e.TZID != "Europe/London" {
					t.Errorf("event: %+v", e)
				}
			}
			if cal.Events[0].StartWall != winter.Format("2006-01-02T15:04") || cal.Events[2].StartWall != "2027-03-30T10:00" ||
				!cal.Events[2].Start.Equal(summer) || !cal.Events[0].Start.Equal(winter) {
				t.Errorf("times across the change: %+v", cal.Events)
			}
			if cal.Events[1].Status != "CANCELLED" || cal.Events[0].Status == "CANCELLED" {
				t.Errorf("statuses: %+v", cal.Events)
			}
		}
		renewed, err := w.Support.RenewFeed(ctx, worker)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Support.Feed(ctx, token(wf))
		wantCode(t, err, app.CodeNotFound)
		if _, err := w.Support.Feed(ctx, token(renewed)); err != nil {
			t.Fatal(err)
		}
		// Reallocated to another worker: the person's appointments leave
		// the old worker's feed (and stay in the person's own).
		var refID int64
		if err := db.QueryRow(ctx, "SELECT id FROM referrals WHERE person_id = $1", pid).Scan(&refID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Referrals.Transition(ctx, w.Principal(t, "lead"), refID, referral.Move{To: referral.Allocated, WorkerID: w.Users["lead2"].ID}); err != nil {
			t.Fatal(err)
		}
		if text, err := w.Support.Feed(ctx, token(renewed)); err != nil || len(icaltest.Parse(t, text).Events) != 0 {
			t.Fatalf("the old worker's feed after reallocation: %v\n%s", err, text)
		}
		if text, err := w.Support.Feed(ctx, token(pf)); err != nil || len(icaltest.Parse(t, text).Events) != 3 {
			t.Fatalf("the person's feed after reallocation: %v", err)
		}
		if err := w.Support.RevokeFeed(ctx, worker); err != nil {
			t.Fatal(err)
		}
		_, err = w.Support.Feed(ctx, token(renewed))
		wantCode(t, err, app.CodeNotFound)
		if st, _ := w.Support.MyFeed(ctx, worker); st.On {
			t.Fatal("still on after revoking")
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'calendar_feed.read'"); n < 3 {
			t.Fatalf("feed reads audited: %d", n)
		}
	})
}
