package groups

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/calendar"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/store"
)

// emailCalendar is the calendar file attached to a booking's emails. Like
// the email, it carries no more than a reference, the time and a link: not
// the group's name or place, which could say something about the person to
// whoever sees their calendar or inbox.
func (s *Service) emailCalendar(ref string, bookingID int64, se sessionRow, link string, now time.Time) mail.Attachment {
	cal := calendar.New("")
	calendar.Add(cal, calendar.Event{UID: fmt.Sprintf("booking-%d@mutual", bookingID), Summary: "Booking " + ref,
		Description: "Details, directions and cancellation: " + link, URL: link, Start: se.StartsAt, End: se.EndsAt, Stamp: now})
	return attachment("booking-"+ref+".ics", calendar.Bytes(cal))
}

// cancelledCalendar cancels the event of an earlier calendar file.
func (s *Service) cancelledCalendar(ref string, bookingID int64, se sessionRow, now time.Time) mail.Attachment {
	cal := calendar.New("")
	calendar.Add(cal, calendar.Event{UID: fmt.Sprintf("booking-%d@mutual", bookingID), Summary: "Cancelled: booking " + ref,
		Start: se.StartsAt, End: se.EndsAt, Stamp: now, Cancelled: true, Sequence: 1})
	return attachment("booking-"+ref+".ics", calendar.Bytes(cal))
}

// BookingCalendar is a booking's calendar file for its holder (by key or
// account), with the group's name and place: the holder downloads it
// themselves. A cancelled booking or session is STATUS:CANCELLED.
func (s *Service) BookingCalendar(ctx context.Context, p *app.Principal, id int64, key string) ([]byte, string, error) {
	var out []byte
	var ref string
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if _, err := bookingOwner(ctx, tx, p, id, key); err != nil {
			return err
		}
		b, err := loadBooking(ctx, tx, p, id)
		if err != nil {
			return err
		}
		ref = b.Reference
		cal := calendar.New("")
		cancelled := b.SessionOff || !b.Live()
		seq := 0
		if cancelled {
			seq = 1
		}
		calendar.Add(cal, calendar.Event{UID: fmt.Sprintf("booking-%d@mutual", b.ID), Summary: b.GroupTitle, Location: b.Venue.Where(),
			Description: "Booking " + b.Reference + ". " + s.BaseURL + "/bookings/" + itoa(b.ID), Start: b.StartsAt, End: b.EndsAt,
			Stamp: s.Clock.Now(), Cancelled: cancelled, Sequence: seq})
		out = calendar.Bytes(cal)
		record(p.ActorFor(app.PermPublic), audit.Event{Action: "group.booking.calendar", SubjectPersonID: b.PersonID, ObjectType: "group_booking", ObjectID: itoa(id)})
		return nil
	})
	if errors.Is(err, access.ErrNotVisible) {
		return nil, "", access.Denied(ctx, s.Audit, p, app.PermPublic, "group.booking.calendar", "group_booking", id, "The booking", err)
	}
	return out, ref, err
}

// FeedFilter picks a public calendar feed: every public group, one team's,
// or one organisation's (a partner agency's, say).
type FeedFilter struct {
	TeamID         int64
	OrganisationID int64
}

type feedSession struct {
	Session
	Group Group
}

// publicSessions are the public groups' sessions from a month ago to a
// year ahead, cancelled ones included (so calendars that had them show
// them cancelled). Counts only: nobody's booking is read.
func (s *Service) publicSessions(ctx context.Context, f FeedFilter) ([]feedSession, string, error) {
	now := s.Clock.Now()
	a := store.NewArgs(now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	conds := []string{"g.visibility = 'public'", "s.starts_at >= $1", "s.starts_at <= $2"}
	if f.TeamID != 0 {
		conds = append(conds, "g.team_id = "+a.Add(f.TeamID))
	}
	if f.OrganisationID != 0 {
		conds = append(conds, "t.organisation_id = "+a.Add(f.OrganisationID))
	}
	var out []feedSession
	name := "Peer support groups and events"
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		if f.TeamID != 0 || f.OrganisationID != 0 {
			q := "SELECT t.name FROM teams t WHERE t.id = $1"
			id := f.TeamID
			if f.TeamID == 0 {
				q, id = "SELECT o.name FROM organisations o WHERE o.id = $1", f.OrganisationID
			}
			var n string
			if err := tx.QueryRowContext(ctx, q, id).Scan(&n); err != nil {
				return app.NotFound("The team or organisation")
			}
			name += ": " + n
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+sessionColumns+", s.updated_at, "+groupColumns+
			" FROM group_sessions s JOIN peer_groups g ON g.id = s.group_id JOIN teams t ON t.id = g.team_id JOIN organisations o ON o.id = t.organisation_id WHERE "+
			strings.Join(conds, " AND ")+" ORDER BY s.starts_at, s.id LIMIT 5000", a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var fs feedSession
			var held int
			var updated time.Time
			g := &fs.Group
			v := &g.Venue
			if err := rows.Scan(&fs.ID, &fs.GroupID, &fs.GroupTitle, &fs.StartsAt, &fs.EndsAt, &fs.Status, &fs.CancelReason, &fs.Capacity, &held, &fs.Booking,
				&fs.Waiting, &updated, &g.ID, &g.TeamID, &g.TeamName, &g.OrgID, &g.OrgName, &g.OrgKind, &g.Title, &g.Summary, &g.Repeats, &g.Visibility,
				&g.InviteCode, &g.Booking, &g.Capacity, &g.MaxPlaces, &g.HoldHours, &v.Online, &v.OnlineLink, &v.Name, &v.Address, &v.StepFree,
				&v.HearingLoop, &v.QuietRoom, &v.Transport, &v.AccessNotes, &g.CreatedAt); err != nil {
				return err
			}
			fs.PlacesLeft = max(fs.Capacity-held, 0)
			fs.StartsAt, fs.EndsAt, g.CreatedAt = fs.StartsAt.UTC(), fs.EndsAt.UTC(), updated.UTC()
			out = append(out, fs)
		}
		return rows.Err()
	})
	return out, name, err
}

// Feed is the public iCalendar feed of public groups' sessions.
func (s *Service) Feed(ctx context.Context, f FeedFilter) ([]byte, error) {
	sessions, name, err := s.publicSessions(ctx, f)
	if err != nil {
		return nil, err
	}
	cal := calendar.New(name)
	cal.SetRefreshInterval("PT1H")
	for _, fs := range sessions {
		desc := fs.Group.Summary
		if fs.Cancelled() {
			desc = "Cancelled: " + fs.CancelReason + "\n\n" + desc
		} else if fs.Booking == "drop_in" {
			desc += "\n\nDrop-in: no need to book."
		} else {
			desc += "\n\nBook a place: " + s.BaseURL + "/sessions/" + itoa(fs.ID)
		}
		calendar.Add(cal, calendar.Event{UID: fmt.Sprintf("session-%d@mutual", fs.ID), Summary: fs.GroupTitle, Description: strings.TrimSpace(desc),
			Location: fs.Group.Venue.Where(), URL: s.BaseURL + "/sessions/" + itoa(fs.ID), Start: fs.StartsAt, End: fs.EndsAt,
			Stamp: fs.Group.CreatedAt, Cancelled: fs.Cancelled(), Sequence: boolInt(fs.Cancelled())})
	}
	return calendar.Bytes(cal), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// atom is an Atom (RFC 4287) feed.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Summary string   `xml:"summary"`
}

// NewEventsFeed is an Atom feed of the newest public groups and events,
// newest first, each with its next session.
func (s *Service) NewEventsFeed(ctx context.Context) ([]byte, error) {
	now := s.Clock.Now()
	var groups []Group
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+groupColumns+groupFrom+" WHERE g.visibility = 'public' ORDER BY g.created_at DESC, g.id DESC LIMIT 50")
		if err != nil {
			return err
		}
		for rows.Next() {
			g, err := scanGroup(rows)
			if err != nil {
				rows.Close()
				return err
			}
			groups = append(groups, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]int64, len(groups))
		for i, g := range groups {
			ids[i] = g.ID
		}
		m, err := s.sessionsOf(ctx, tx, ids, now, 1)
		for i := range groups {
			groups[i].Sessions = m[groups[i].ID]
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	host := "mutual"
	if u, err := url.Parse(s.BaseURL); err == nil && u.Host != "" {
		host = u.Host
	}
	f := atomFeed{Title: "New peer support groups and events", ID: "tag:" + host + ",2026:groups", Updated: now.Format(time.RFC3339),
		Links:  []atomLink{{Href: s.BaseURL + "/groups/feed.xml", Rel: "self", Type: "application/atom+xml"}, {Href: s.BaseURL + "/groups", Rel: "alternate", Type: "text/html"}},
		Author: atomAuthor{Name: "Mutual"}}
	if len(groups) > 0 {
		f.Updated = groups[0].CreatedAt.UTC().Format(time.RFC3339)
	}
	for _, g := range groups {
		sum := g.Summary
		if len(g.Sessions) > 0 {
			next := g.Sessions[0]
			sum = strings.TrimSpace(fmt.Sprintf("Next: %s, %s. %s", When(next.StartsAt), g.Venue.Where(), sum))
		}
		f.Entries = append(f.Entries, atomEntry{Title: g.Title, ID: fmt.Sprintf("tag:%s,2026:group-%d", host, g.ID),
			Updated: g.CreatedAt.UTC().Format(time.RFC3339), Link: atomLink{Href: s.BaseURL + "/groups/" + itoa(g.ID), Rel: "alternate"}, Summary: sum})
	}
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}
