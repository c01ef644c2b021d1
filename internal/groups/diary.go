package groups

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// DiarySession is a group session the caller facilitates, as their diary
// shows it: when, which group, where, and a link to the session's page.
type DiarySession struct {
	Kind       string    `json:"kind" doc:"Always group_session: a group session you facilitate, not an appointment."`
	SessionID  int64     `json:"session_id"`
	GroupID    int64     `json:"group_id"`
	GroupTitle string    `json:"group_title"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Venue      string    `json:"venue" doc:"The venue's name, or Online."`
	Status     string    `json:"status" doc:"scheduled or cancelled"`
}

// Cancelled reports whether the session was called off.
func (d DiarySession) Cancelled() bool { return d.Status == "cancelled" }

// Facilitating lists the sessions the caller facilitates that overlap
// [from, to), soonest first, cancelled ones included (marked): only
// sessions of groups the caller may see (visibleGroups), and none for
// someone who does not run sessions (group.run). Nobody's booking is read.
func (s *Service) Facilitating(ctx context.Context, p *app.Principal, from, to time.Time) ([]DiarySession, error) {
	out := []DiarySession{}
	if p == nil || p.UserID == 0 || !p.Can(app.PermGroupRun) {
		return out, nil
	}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		a := store.NewArgs(p.UserID, from.UTC(), to.UTC())
		rows, err := tx.QueryContext(ctx, `SELECT s.id, g.id, g.title, s.starts_at, s.ends_at, s.status, g.online, g.venue_name
			FROM group_sessions s JOIN peer_groups g ON g.id = s.group_id JOIN session_facilitators sf ON sf.session_id = s.id AND sf.user_id = $1
			WHERE s.ends_at > $2 AND s.starts_at < $3 AND `+visibleGroups(p, a, "")+` ORDER BY s.starts_at, s.id LIMIT 500`, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d := DiarySession{Kind: "group_session"}
			var online bool
			if err := rows.Scan(&d.SessionID, &d.GroupID, &d.GroupTitle, &d.Start, &d.End, &d.Status, &online, &d.Venue); err != nil {
				return err
			}
			d.Start, d.End = d.Start.UTC(), d.End.UTC()
			if online {
				d.Venue = "Online"
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}
