package insight_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/insight"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// The community report (#15) against known rows: 6 members (a seventh
// joins after the period), 6 active, 1 topic with 5 replies, 5 "worried"
// and 1 "unkind" flags (a watched-words flag is not a member's), 6 reviews
// taking 2, 4, 6, 8, 10 and 20 hours, 1 escalation with consent (one to the
// moderators does not count), 1 confirmed safeguarding concern (a declined
// one does not), 2 warnings and 1 read-only, 2 referrals; a reply after
// the period counts nowhere. Then with suppression at 5.
func TestCommunityReportKnownData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		svc := service(w)
		ctx := context.Background()
		start := w.Clock.Now()
		later := start.AddDate(0, 0, 5)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Exec(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		id := func(q string, args ...any) int64 {
			t.Helper()
			exec(q, args...)
			var n int64
			if err := db.QueryRow(ctx, "SELECT MAX(id) FROM "+strings.Fields(q)[2]).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		u := func(name string) int64 { return w.Users[name].ID }
		names := []string{"person", "person2", "carer", "worker", "lead", "moderator"}
		for i, n := range append(names, "admin") {
			at := start
			if n == "admin" {
				at = later
			}
			exec(`INSERT INTO community_members (user_id, display_name, display_key, joined_at) VALUES ($1, $2, $2, $3)`, u(n), fmt.Sprint("Member ", i), at)
		}
		space := id(`INSERT INTO community_spaces (name, for_people, created_at) VALUES ('Talk', $1, $2)`, true, start)
		topic := id(`INSERT INTO community_topics (space_id, title, author_user_id, created_at, last_post_at, status) VALUES ($1, 'Hello', $2, $3, $3, 'visible')`,
			space, u("person"), start)
		post := func(author string, opening bool, at time.Time) int64 {
			return id(`INSERT INTO community_posts (topic_id, opening, author_user_id, body, status, created_at) VALUES ($1, $2, $3, 'Words', 'visible', $4)`,
				topic, opening, u(author), at)
		}
		posts := []int64{post("person", true, start)}
		for _, n := range []string{"person2", "carer", "worker", "lead", "person"} {
			posts = append(posts, post(n, false, start.Add(time.Minute)))
		}
		post("person2", false, later)
		exec(`INSERT INTO community_reactions (post_id, user_id, kind, created_at) VALUES ($1, $2, 'me_too', $3)`, posts[0], u("moderator"), start)
		exec(`INSERT INTO community_reactions (post_id, user_id, kind, created_at) VALUES ($1, $2, 'me_too', $3)`, posts[0], u("admin"), later)
		flag := func(p int64, kind, by string, hours int) {
			var who any
			if by != "" {
				who = u(by)
			}
			exec(`INSERT INTO community_flags (post_id, kind, flagged_by_user_id, created_at, resolved_at, outcome) VALUES ($1, $2, $3, $4, $5, 'kept')`,
				p, kind, who, start, start.Add(time.Duration(hours)*time.Hour))
		}
		for i, h := range []int{2, 4, 6, 8, 10} {
			flag(posts[i], "worried", names[i], h)
		}
		flag(posts[0], "unkind", "carer", 2) // the same review as posts[0]'s worry
		flag(posts[5], "risk", "", 20)
		exec(`INSERT INTO community_escalations (post_id, subject_user_id, route, reason, escalated_at) VALUES ($1, $2, 'care_team', 'Worried', $3)`, posts[1], u("person2"), start)
		exec(`INSERT INTO community_escalations (post_id, subject_user_id, route, reason, escalated_at) VALUES ($1, $2, 'moderators', 'Worried', $3)`, posts[2], u("carer"), start)
		ref := w.StaffReferral(t, "clinician", "Sam Example")
		for _, st := range []string{"confirmed", "declined"} {
			exec(`INSERT INTO community_safeguarding (post_id, subject_user_id, person_id, referral_id, team_id, reason, raised_by_user_id, raised_at, status, decided_at)
				VALUES ($1, $2, $3, $4, $5, 'Worried', $6, $7, $8, $7)`, posts[3], u("person"), ref.PersonID, ref.ID, ref.TeamID, u("moderator"), start, st)
		}
		for _, k := range []string{"warning", "warning", "read_only"} {
			var ends any
			if k != "warning" {
				ends = start.AddDate(0, 0, 7)
			}
			exec(`INSERT INTO community_sanctions (user_id, kind, reason, starts_at, ends_at, created_by_user_id) VALUES ($1, $2, 'Unkind', $3, $4, $5)`,
				u("person2"), k, start, ends, u("moderator"))
		}
		for range 2 {
			exec(`INSERT INTO community_support_requests (user_id, referral_id, created_at) VALUES ($1, $2, $3)`, u("person"), ref.ID, start)
		}
		period := insight.Period{From: start.AddDate(0, 0, -1), To: start.AddDate(0, 0, 1)}

		svc.Suppress = stats.Suppressor{Threshold: 1}
		rep, err := svc.CommunityReport(ctx, w.Principal(t, "analyst"), period)
		if err != nil {
			t.Fatal(err)
		}
		counts := func(rows []insight.ReportRow) string {
			m := map[string]string{}
			for _, r := range rows {
				if r.Count == nil || *r.Count != 0 {
					m[r.Code] = show(r.Count)
				}
			}
			return fmt.Sprint(m)
		}
		got := fmt.Sprintf("members %s, active %s, topics %s, replies %s, flags %s %s, reviews %s median %s p90 %s, consent %s, no consent %s, sanctions %s %s, referrals %s",
			show(rep.Members), show(rep.ActiveMembers), show(rep.Topics), show(rep.Replies), counts(rep.Flags), show(rep.FlagsAll),
			show(rep.Reviews), show(rep.ReviewMedianHours), show(rep.ReviewP90Hours), show(rep.EscalatedConsent), show(rep.EscalatedNoConsent),
			counts(rep.Sanctions), show(rep.SanctionsAll), show(rep.Referrals))
		want := "members 6, active 6, topics 1, replies 5, flags map[unkind:1 worried:5] 6, reviews 6 median 7 p90 15, consent 1, no consent 1, sanctions map[read_only:1 warning:2] 3, referrals 2"
		if got != want {
			t.Errorf("no suppression:\n got %s\nwant %s", got, want)
		}

		// At 5: small counts hidden, the lone unkind flag withheld and the
		// worried flags or the total with it; the review times still shown
		// (6 reviews).
		svc.Suppress = stats.Suppressor{Threshold: 5}
		rep, err = svc.CommunityReport(ctx, w.Principal(t, "manager"), period)
		if err != nil {
			t.Fatal(err)
		}
		if show(rep.Members) != "6" || show(rep.Replies) != "5" || rep.Topics != nil || rep.EscalatedConsent != nil || rep.EscalatedNoConsent != nil ||
			rep.Referrals != nil || rep.SanctionsAll != nil || show(rep.ReviewMedianHours) != "7" {
			t.Errorf("suppressed: %+v", rep)
		}
		for _, r := range rep.Flags {
			if r.Code == "unkind" && r.Count != nil {
				t.Errorf("1 unkind flag shown")
			}
			if r.Code == "worried" && r.Count != nil && rep.FlagsAll != nil {
				t.Errorf("worried %s and all %s shown beside a hidden unkind flag", show(r.Count), show(rep.FlagsAll))
			}
		}
		var audited int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action = 'insight.community' AND subject_person_id IS NULL").Scan(&audited); err != nil || audited != 2 {
			t.Errorf("%d aggregate audit rows for two reports (%v)", audited, err)
		}
	})
}
