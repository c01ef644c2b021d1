package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/calendar"
	"github.com/mutualhq/mutual/internal/store"
)

// FeedStatus is whether the caller's private calendar feed is on.
type FeedStatus struct {
	On    bool       `json:"on"`
	Since *time.Time `json:"since,omitempty"`
	// URL is the feed's secret address, given only when it is made.
	URL string `json:"url,omitempty" doc:"The secret address, shown once, when the feed is turned on or renewed. Anyone with it can read the feed: revoke it if it is shared by mistake."`
}

// MyFeed says whether the caller's feed is on.
func (s *Service) MyFeed(ctx context.Context, p *app.Principal) (FeedStatus, error) {
	var out FeedStatus
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var since time.Time
		err := tx.QueryRowContext(ctx, "SELECT created_at FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL", p.UserID).Scan(&since)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		since = since.UTC()
		out.On, out.Since = err == nil, &since
		return err
	})
	return out, err
}

// RenewFeed turns the caller's private calendar feed on, or gives it a new
// secret address (the old one stops working at once). The address is
// answered once; only its hash is kept.
func (s *Service) RenewFeed(ctx context.Context, p *app.Principal) (FeedStatus, error) {
	now := s.Clock.Now()
	token := app.NewSecret(32)
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL", now, p.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3)", p.UserID, app.HashSecret(token), now); err != nil {
			if store.IsUniqueViolation(err) {
				return app.Errorf(app.CodeConflict, "Your feed was changed at the same moment. Try again.")
			}
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermAppointments), audit.Event{Action: "calendar_feed.renew", ObjectType: "user", ObjectID: fmt.Sprint(p.UserID)})
	})
	if err != nil {
		return FeedStatus{}, err
	}
	return FeedStatus{On: true, Since: &now, URL: s.BaseURL + "/calendar/" + token + ".ics"}, nil
}

// RevokeFeed turns the caller's feed off: its address stops working.
func (s *Service) RevokeFeed(ctx context.Context, p *app.Principal) error {
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL", now, p.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermAppointments), audit.Event{Action: "calendar_feed.revoke", ObjectType: "user", ObjectID: fmt.Sprint(p.UserID)})
	})
}

// Feed is the calendar behind a secret address: for a peer worker, their
// appointments as "Peer support with <first name>"; for a person, theirs as
// "Peer support" — from 30 days ago to a year ahead, times in
// Europe/London, cancelled ones STATUS:CANCELLED, never a place or a
// surname. An unknown or revoked address is not found. Each read is
// audited, naming the people shown, as its account.
func (s *Service) Feed(ctx context.Context, token string) ([]byte, error) {
	now := s.Clock.Now()
	var out []byte
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var userID, personID int64
		var worker bool
		err := tx.QueryRowContext(ctx, `SELECT f.user_id, COALESCE(u.person_id, 0),
			EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = f.user_id AND m.role = 'peer_worker')
			FROM calendar_feeds f JOIN users u ON u.id = f.user_id
			WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND u.status = 'active'`, app.HashSecret(token)).Scan(&userID, &personID, &worker)
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The calendar")
		} else if err != nil {
			return err
		}
		a := store.NewArgs(now.AddDate(0, 0, -30), now.AddDate(1, 0, 0))
		var who, drive []string
		window := " AND starts_at >= $1 AND starts_at < $2"
		if worker {
			// Only people the worker still supports: after a referral is
			// reallocated or closed, its appointments leave the old
			// worker's feed as they leave the worker's pages.
			u := a.Add(userID)
			who = append(who, "(a.worker_user_id = "+u+" AND EXISTS (SELECT 1 FROM referrals r WHERE r.id = a.referral_id AND r.allocated_worker_id = "+u+
				" AND r.status IN ('allocated', 'active')))",
				// The warm handover meetings they come to as the other worker.
				"a.handover_worker_id = "+u)
			drive = append(drive, "SELECT id FROM appointments WHERE worker_user_id = "+u+window,
				"SELECT id FROM appointments WHERE handover_worker_id = "+u+window)
		}
		if personID != 0 {
			pp := a.Add(personID)
			who = append(who, "a.person_id = "+pp)
			drive = append(drive, "SELECT id FROM appointments WHERE person_id = "+pp+window)
		}
		if len(who) == 0 {
			who, drive = []string{"1 = 0"}, []string{"SELECT 0"}
		}
		rows, err := tx.QueryContext(ctx, `SELECT a.id, a.person_id, pe.preferred_name, a.worker_user_id, COALESCE(a.handover_worker_id, 0), a.starts_at, a.ends_at, a.status, a.version
			FROM appointments a JOIN people pe ON pe.id = a.person_id
			WHERE a.id IN (`+strings.Join(drive, " UNION ALL ")+`)
			AND a.starts_at >= $1 AND a.starts_at < $2 AND a.status <> 'proposed' AND (`+strings.Join(who, " OR ")+`) ORDER BY a.starts_at LIMIT 2000`, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cal := calendar.New("Peer support")
		seen := map[int64]bool{}
		var ids []int64
		for rows.Next() {
			var id, pid, wid, hid int64
			var name, status string
			var start, end time.Time
			var version int
			if err := rows.Scan(&id, &pid, &name, &wid, &hid, &start, &end, &status, &version); err != nil {
				return err
			}
			summary := "Peer support"
			if (wid == userID || hid == userID) && pid != personID {
				summary = "Peer support with " + firstName(name)
				if !seen[pid] {
					seen[pid] = true
					ids = append(ids, pid)
				}
			}
			calendar.Add(cal, calendar.Event{UID: fmt.Sprintf("appointment-%d@mutual", id), Summary: summary, Start: start, End: end, Stamp: now,
				URL: s.BaseURL + fmt.Sprintf("/appointments/%d", id), Cancelled: status == string(Cancelled), Sequence: version})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		out = calendar.Bytes(cal)
		role := app.RolePerson
		if worker {
			role = app.RolePeerWorker
		}
		record(app.Actor{UserID: userID, Role: role, RequestID: "calendar-feed"}, audit.Event{Action: "calendar_feed.read", Subjects: ids, ObjectType: "user", ObjectID: fmt.Sprint(userID)})
		return nil
	})
	return out, err
}

// firstName is the first word of a name.
func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}
