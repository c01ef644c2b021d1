package groups

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
)

// GroupMonth is one group's figures for one month (by when its sessions
// started, in UK time). Counts of people below the suppression threshold
// are withheld (null) with Suppressed set; sessions and places are not
// counts of people and are always shown.
type GroupMonth struct {
	GroupID  int64  `json:"group_id"`
	Title    string `json:"title"`
	TeamName string `json:"team_name"`
	Month    string `json:"month" doc:"YYYY-MM"`
	Sessions int    `json:"sessions_held"`
	Places   int    `json:"places"`
	Bookings *int   `json:"bookings" doc:"Bookings that kept their place."`
	Attended *int   `json:"attended" doc:"People who came, drop-ins included."`
	NoShows  *int   `json:"no_shows"`
	Late     *int   `json:"late_cancellations"`
	// Unplaced are people who joined the waiting list and never got a
	// place: the demand the group did not meet.
	Unplaced *int `json:"waited_never_placed"`
	// HoursToPlace is the median time from joining the waiting list to a
	// place, for those who got one (withheld for fewer than the
	// threshold).
	HoursToPlace *float64 `json:"median_hours_to_place"`
	UnmetDemand  bool     `json:"unmet_demand" doc:"Someone waited and never got a place."`
	Suppressed   bool     `json:"suppressed" doc:"Some counts are withheld because they are small."`
	// Text for pages.
	BookingsText, AttendedText, NoShowsText, LateText, UnplacedText, HoursText string `json:"-"`
}

// GroupInsight is the groups' figures for a period.
type GroupInsight struct {
	From      string       `json:"from"`
	To        string       `json:"to"`
	Threshold int          `json:"suppression_threshold"`
	Months    []GroupMonth `json:"months"`
	// Unmet lists the groups where someone waited and never got a place.
	Unmet []string `json:"groups_with_unmet_demand"`
}

// InsightPeriod parses a period given as from and to dates (YYYY-MM-DD,
// both included); empty means the last six whole months and this one.
func InsightPeriod(from, to string, now time.Time) (time.Time, time.Time, error) {
	var pr app.Problems
	l := now.In(app.London)
	f := time.Date(l.Year(), l.Month()-6, 1, 0, 0, 0, 0, time.UTC)
	t := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	if s := strings.TrimSpace(from); s != "" {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			pr.Add("from", "from must be a date like 2026-01-01")
		}
		f = d
	}
	if s := strings.TrimSpace(to); s != "" {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			pr.Add("to", "to must be a date like 2026-06-30")
		}
		t = d
	}
	if !pr.Has("from") && !pr.Has("to") {
		switch {
		case t.Before(f):
			pr.Add("to", "to must not be before from")
		case t.Sub(f) > 5*366*24*time.Hour:
			pr.Add("from", "Choose a period of at most five years")
		}
	}
	return f, t, pr.Err()
}

type monthKey struct {
	group int64
	month string
}

type monthCounts struct {
	title, team                                      string
	sessions, places, booked, attended, noShow, late int
	unplaced                                         int
	hours                                            []float64
}

// Insight returns, per group and month, the sessions held, places,
// bookings, attendance, no-shows, late cancellations, people who waited
// and never got a place, and the median time from the waiting list to a
// place; small counts suppressed. Only sessions already held (or, for the
// waiting list, past) count; cancelled sessions do not.
func (s *Service) Insight(ctx context.Context, p *app.Principal, from, to time.Time) (GroupInsight, error) {
	now := s.Clock.Now()
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, app.London).UTC()
	end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, app.London).UTC()
	if end.After(now) {
		end = now
	}
	counts := map[monthKey]*monthCounts{}
	month := func(t time.Time) string { return t.In(app.London).Format("2006-01") }
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT s.id, s.group_id, g.title, t.name, s.starts_at, s.capacity,
			(SELECT COALESCE(SUM(a.people), 0) FROM group_attendance a WHERE a.session_id = s.id AND a.outcome = 'attended'),
			(SELECT COUNT(*) FROM group_attendance a WHERE a.session_id = s.id AND a.outcome = 'no_show')
			FROM group_sessions s JOIN peer_groups g ON g.id = s.group_id JOIN teams t ON t.id = g.team_id
			WHERE s.status = 'scheduled' AND s.starts_at >= $1 AND s.starts_at < $2`, start, end)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, gid int64
			var title, team string
			var at time.Time
			var capacity, attended, noShow int
			if err := rows.Scan(&id, &gid, &title, &team, &at, &capacity, &attended, &noShow); err != nil {
				rows.Close()
				return err
			}
			k := monthKey{gid, month(at)}
			c := counts[k]
			if c == nil {
				c = &monthCounts{title: title, team: team}
				counts[k] = c
			}
			c.sessions++
			c.places += capacity
			c.attended += attended
			c.noShow += noShow
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		brows, err := tx.QueryContext(ctx, `SELECT s.group_id, g.title, t.name, s.starts_at, b.status, b.late_cancel, b.joined_list_at, b.booked_at
			FROM group_bookings b JOIN group_sessions s ON s.id = b.session_id JOIN peer_groups g ON g.id = s.group_id JOIN teams t ON t.id = g.team_id
			WHERE s.status = 'scheduled' AND s.starts_at >= $1 AND s.starts_at < $2`, start, end)
		if err != nil {
			return err
		}
		defer brows.Close()
		for brows.Next() {
			var gid int64
			var title, team, status string
			var at time.Time
			var late bool
			var joined, booked sql.NullTime
			if err := brows.Scan(&gid, &title, &team, &at, &status, &late, &joined, &booked); err != nil {
				return err
			}
			k := monthKey{gid, month(at)}
			c := counts[k]
			if c == nil {
				c = &monthCounts{title: title, team: team}
				counts[k] = c
			}
			switch {
			case status == StatusBooked:
				c.booked++
			case late:
				c.late++
			}
			if joined.Valid && booked.Valid {
				c.hours = append(c.hours, booked.Time.Sub(joined.Time).Hours())
			}
			if joined.Valid && !booked.Valid {
				c.unplaced++
			}
		}
		return brows.Err()
	})
	if err != nil {
		return GroupInsight{}, err
	}
	out := GroupInsight{From: from.Format("2006-01-02"), To: to.Format("2006-01-02"), Threshold: s.Suppress.Threshold, Months: []GroupMonth{}, Unmet: []string{}}
	unmet := map[string]bool{}
	for k, c := range counts {
		m := GroupMonth{GroupID: k.group, Title: c.title, TeamName: c.team, Month: k.month, Sessions: c.sessions, Places: c.places,
			UnmetDemand: c.unplaced > 0}
		m.Bookings, m.BookingsText = s.count(c.booked, &m.Suppressed)
		m.Attended, m.AttendedText = s.count(c.attended, &m.Suppressed)
		m.NoShows, m.NoShowsText = s.count(c.noShow, &m.Suppressed)
		m.Late, m.LateText = s.count(c.late, &m.Suppressed)
		m.Unplaced, m.UnplacedText = s.count(c.unplaced, &m.Suppressed)
		m.HoursText = stats.Withheld
		if len(c.hours) >= max(s.Suppress.Threshold, 1) {
			h := stats.Median(c.hours)
			m.HoursToPlace = &h
			m.HoursText = formatHours(h)
		} else if len(c.hours) == 0 {
			m.HoursText = "–"
		}
		if m.UnmetDemand && !unmet[c.title] {
			unmet[c.title] = true
			out.Unmet = append(out.Unmet, c.title)
		}
		out.Months = append(out.Months, m)
	}
	sort.Slice(out.Months, func(i, j int) bool {
		a, b := out.Months[i], out.Months[j]
		if a.Month != b.Month {
			return a.Month < b.Month
		}
		if a.Title != b.Title {
			return a.Title < b.Title
		}
		return a.GroupID < b.GroupID
	})
	sort.Strings(out.Unmet)
	return out, nil
}

func (s *Service) count(n int, suppressed *bool) (*int, string) {
	if s.Suppress.Suppressed(n) {
		*suppressed = true
		return nil, s.Suppress.Count(n)
	}
	v := n
	return &v, s.Suppress.Count(n)
}

func formatHours(h float64) string {
	switch {
	case h < 1:
		return "under an hour"
	case h < 48:
		return strings.TrimSuffix(strings.TrimSuffix(time.Duration(h*float64(time.Hour)).Round(time.Hour).String(), "0s"), "0m")
	}
	return itoa(int64(h/24+0.5)) + " days"
}
