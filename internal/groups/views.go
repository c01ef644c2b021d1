package groups

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

const bookingColumns = `b.id, b.reference, b.session_id, s.group_id, g.title, s.starts_at, s.ends_at, s.status, b.places, b.status,
	COALESCE(b.position, 0), b.name, b.email, b.phone, b.access_needs, b.late_cancel, b.created_at, COALESCE(b.person_id, 0),
	COALESCE(b.user_id, 0), g.online, g.online_link, g.venue_name, g.venue_address, g.step_free, g.hearing_loop, g.quiet_room,
	g.transport, g.access_notes`

const bookingFrom = ` FROM group_bookings b JOIN group_sessions s ON s.id = b.session_id JOIN peer_groups g ON g.id = s.group_id`

func scanBooking(row interface{ Scan(...any) error }) (Booking, error) {
	var b Booking
	var sessionStatus string
	v := &b.Venue
	err := row.Scan(&b.ID, &b.Reference, &b.SessionID, &b.GroupID, &b.GroupTitle, &b.StartsAt, &b.EndsAt, &sessionStatus, &b.Places, &b.Status,
		&b.Position, &b.Name, &b.Email, &b.Phone, &b.AccessNeeds, &b.LateCancel, &b.CreatedAt, &b.PersonID, &b.UserID,
		&v.Online, &v.OnlineLink, &v.Name, &v.Address, &v.StepFree, &v.HearingLoop, &v.QuietRoom, &v.Transport, &v.AccessNotes)
	b.SessionOff = sessionStatus == "cancelled"
	b.StartsAt, b.EndsAt = b.StartsAt.UTC(), b.EndsAt.UTC()
	if b.Status != StatusBooked {
		// The joining link is for people with a place.
		v.OnlineLink = ""
	}
	b.History = []Event{}
	return b, err
}

// loadBooking reads a booking with its history and any open offer, for a
// caller already checked to act on it (its holder, by key or account).
func loadBooking(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Booking, error) {
	b, err := scanBooking(tx.QueryRowContext(ctx, "SELECT "+bookingColumns+bookingFrom+" WHERE b.id = $1", id))
	if err != nil {
		return b, err
	}
	if b.History, err = history(ctx, tx, p, id); err != nil {
		return b, err
	}
	var o Offer
	err = tx.QueryRowContext(ctx, "SELECT id, booking_id, places, offered_at, expires_at, status FROM group_offers WHERE booking_id = $1 AND status = 'open'", id).
		Scan(&o.ID, &o.BookingID, &o.Places, &o.OfferedAt, &o.ExpiresAt, &o.Status)
	switch {
	case err == nil:
		b.Offer = &o
	case !errors.Is(err, sql.ErrNoRows):
		return b, err
	}
	return b, nil
}

// history is a booking's events as its holder (and those running the
// session) read them: staff moves with their reasons.
func history(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) ([]Event, error) {
	rows, err := tx.QueryContext(ctx, `SELECT e.at, e.kind, COALESCE(e.from_position, 0), COALESCE(e.to_position, 0), e.reason,
		COALESCE(e.actor_user_id, 0) <> 0 AND COALESCE(e.actor_user_id, 0) <> COALESCE(b.user_id, 0)
		FROM group_booking_events e JOIN group_bookings b ON b.id = e.booking_id WHERE e.booking_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.Kind, &e.FromPosition, &e.ToPosition, &e.Reason, &e.ByStaff); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		e.Text = EventText(e.Kind, e.FromPosition, e.ToPosition, e.Reason)
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetBooking returns a booking to whoever holds a key sent for it or made
// it from their account, audited as a read. Anyone else is told it is not
// there.
func (s *Service) GetBooking(ctx context.Context, p *app.Principal, id int64, key string) (Booking, error) {
	var b Booking
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if _, err := bookingOwner(ctx, tx, p, id, key); err != nil {
			return err
		}
		var err error
		if b, err = loadBooking(ctx, tx, p, id); err != nil {
			return err
		}
		record(p.ActorFor(app.PermPublic), audit.Event{Action: "group.booking.read", SubjectPersonID: b.PersonID, ObjectType: "group_booking", ObjectID: itoa(id)})
		return nil
	})
	if errors.Is(err, access.ErrNotVisible) {
		return b, access.Denied(ctx, s.Audit, p, app.PermPublic, "group.booking.read", "group_booking", id, "The booking", err)
	}
	return b, err
}

// MyBookings lists the bookings the caller made from their account, the
// coming ones first, audited as a read of their own data.
func (s *Service) MyBookings(ctx context.Context, p *app.Principal) ([]Booking, error) {
	out := []Booking{}
	since := s.Clock.Now().AddDate(0, -3, 0)
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, "SELECT "+bookingColumns+bookingFrom+" WHERE b.user_id = $1 AND s.ends_at > $2 ORDER BY s.starts_at, b.id LIMIT 200",
			p.UserID, since)
		if err != nil {
			return err
		}
		for rows.Next() {
			b, err := scanBooking(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			var o Offer
			err := tx.QueryRowContext(ctx, "SELECT id, booking_id, places, offered_at, expires_at, status FROM group_offers WHERE booking_id = $1 AND status = 'open'", out[i].ID).
				Scan(&o.ID, &o.BookingID, &o.Places, &o.OfferedAt, &o.ExpiresAt, &o.Status)
			switch {
			case err == nil:
				out[i].Offer = &o
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		record(p.ActorFor(app.PermSignedIn), audit.Event{Action: "group.booking.list_own", SubjectPersonID: p.PersonID, ObjectType: "group_bookings",
			ObjectID: "mine"})
		return nil
	})
	return out, err
}

// Participant is one booking on a session's list, as its facilitators and
// the group's leads see it.
type Participant struct {
	Booking
	Outcome string `json:"outcome,omitempty" doc:"attended or no_show, once the register is taken"`
	// NoShows and LateCancels are the account's (or the same email's)
	// other recent no-shows and late cancellations, for the team's
	// information only: Mutual never stops anyone booking because of them.
	NoShows     int `json:"recent_no_shows"`
	LateCancels int `json:"recent_late_cancellations"`
}

// DropIn is someone at a session who did not book.
type DropIn struct {
	Name   string `json:"name"`
	People int    `json:"people"`
}

// Participants is a session's list: who is booked, who is waiting (in
// order), who cancelled late, and the register.
type Participants struct {
	Session     Session       `json:"session"`
	Group       Group         `json:"group"`
	Booked      []Participant `json:"booked"`
	Waiting     []Participant `json:"waiting"`
	Cancelled   []Participant `json:"cancelled"`
	DropIns     []DropIn      `json:"drop_ins"`
	Register    *time.Time    `json:"register_taken_at,omitempty"`
	CanManage   bool          `json:"can_manage" doc:"The caller leads the group: they may move the waiting list and change places."`
	CanRegister bool          `json:"can_register" doc:"The register can be taken now (from the day of the session)."`
}

// Participants lists who is booked on and waiting for a session, for its
// facilitators and the group's leads only; the read is audited, naming
// everyone shown. Anyone else is told it is not there.
func (s *Service) Participants(ctx context.Context, p *app.Principal, sessionID int64) (Participants, error) {
	var out Participants
	now := s.Clock.Now()
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var gid int64
		if err := tx.QueryRowContext(ctx, "SELECT group_id FROM group_sessions WHERE id = $1", sessionID).Scan(&gid); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return access.ErrNotVisible
			}
			return err
		}
		g, err := scanGroup(tx.QueryRowContext(ctx, "SELECT "+groupColumns+groupFrom+" WHERE g.id = $1", gid))
		if err != nil {
			return err
		}
		if err := mayRun(ctx, tx, p, sessionID, g.TeamID); err != nil {
			return err
		}
		present(p, &g)
		g.Sessions, g.Facilitators = []Session{}, []Person{}
		out = Participants{Group: g, CanManage: g.Manage, Booked: []Participant{}, Waiting: []Participant{}, Cancelled: []Participant{}, DropIns: []DropIn{}}
		if out.Session, err = scanSession(tx.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM group_sessions s JOIN peer_groups g ON g.id = s.group_id WHERE s.id = $1", sessionID)); err != nil {
			return err
		}
		fac, err := facilitatorsOf(ctx, tx, []int64{sessionID})
		if err != nil {
			return err
		}
		out.Session.Facilitators = append([]Person{}, fac[sessionID]...)
		out.CanRegister = registerOpen(out.Session, now)
		var taken sql.NullTime
		if err := tx.QueryRowContext(ctx, "SELECT register_taken_at FROM group_sessions WHERE id = $1", sessionID).Scan(&taken); err != nil {
			return err
		}
		if taken.Valid {
			t := taken.Time.UTC()
			out.Register = &t
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+bookingColumns+`, COALESCE(a.outcome, '')`+bookingFrom+`
			LEFT JOIN group_attendance a ON a.session_id = b.session_id AND a.booking_id = b.id
			WHERE b.session_id = $1 AND (b.status IN ('booked', 'waiting') OR b.late_cancel) ORDER BY b.status, b.position, b.created_at, b.id`, sessionID)
		if err != nil {
			return err
		}
		var shown []int64
		for rows.Next() {
			var pa Participant
			b, err := scanBooking(scanWith(rows, &pa.Outcome))
			if err != nil {
				rows.Close()
				return err
			}
			pa.Booking = b
			shown = append(shown, b.PersonID)
			switch b.Status {
			case StatusBooked:
				out.Booked = append(out.Booked, pa)
			case StatusWaiting:
				out.Waiting = append(out.Waiting, pa)
			default:
				out.Cancelled = append(out.Cancelled, pa)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, list := range [][]Participant{out.Booked, out.Waiting} {
			for i := range list {
				if err := recentRecord(ctx, tx, gid, &list[i], now); err != nil {
					return err
				}
				if err := offerOf(ctx, tx, &list[i].Booking); err != nil {
					return err
				}
			}
		}
		drows, err := tx.QueryContext(ctx, "SELECT name, people FROM group_attendance WHERE session_id = $1 AND booking_id IS NULL ORDER BY id", sessionID)
		if err != nil {
			return err
		}
		for drows.Next() {
			var d DropIn
			if err := drows.Scan(&d.Name, &d.People); err != nil {
				drows.Close()
				return err
			}
			out.DropIns = append(out.DropIns, d)
		}
		drows.Close()
		if err := drows.Err(); err != nil {
			return err
		}
		record(p.ActorFor(app.PermGroupRun), audit.Event{Action: "group.participants.read", Subjects: shown, ObjectType: "group_session",
			ObjectID: itoa(sessionID)})
		return nil
	})
	if errors.Is(err, access.ErrNotVisible) {
		return out, access.Denied(ctx, s.Audit, p, app.PermGroupRun, "group.participants.read", "group_session", sessionID, "The session", err)
	}
	return out, err
}

func offerOf(ctx context.Context, tx *store.Tx, b *Booking) error {
	var o Offer
	err := tx.QueryRowContext(ctx, "SELECT id, booking_id, places, offered_at, expires_at, status FROM group_offers WHERE booking_id = $1 AND status = 'open'", b.ID).
		Scan(&o.ID, &o.BookingID, &o.Places, &o.OfferedAt, &o.ExpiresAt, &o.Status)
	switch {
	case err == nil:
		b.Offer = &o
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

// recentRecord counts a participant's other no-shows and late
// cancellations in the last six months at this group's own sessions (by
// account, or by email address), for those who run the session: never
// what the person did at other groups, teams or organisations.
func recentRecord(ctx context.Context, tx *store.Tx, groupID int64, pa *Participant, now time.Time) error {
	if pa.UserID == 0 && pa.Email == "" {
		return nil
	}
	since := now.AddDate(0, -6, 0)
	match := "b.user_id = $1"
	var who any = pa.UserID
	if pa.UserID == 0 {
		match, who = "b.email = $1", pa.Email
	}
	return tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM group_attendance a JOIN group_bookings b ON b.id = a.booking_id JOIN group_sessions s ON s.id = b.session_id
			WHERE `+match+` AND a.outcome = 'no_show' AND s.starts_at > $2 AND b.id <> $3 AND s.group_id = $4),
		(SELECT COUNT(*) FROM group_bookings b JOIN group_sessions s ON s.id = b.session_id
			WHERE `+match+` AND b.late_cancel AND s.starts_at > $2 AND b.id <> $3 AND s.group_id = $4)`, who, since, pa.ID, groupID).Scan(&pa.NoShows, &pa.LateCancels)
}

// scanWith appends extra destinations after a booking's columns.
func scanWith(row interface{ Scan(...any) error }, extra ...any) interface{ Scan(...any) error } {
	return scanFunc(func(dest ...any) error { return row.Scan(append(dest, extra...)...) })
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// registerOpen reports whether a session's register can be taken: from
// the start of its day in London, unless it was cancelled.
func registerOpen(se Session, now time.Time) bool {
	if se.Cancelled() {
		return false
	}
	l := se.StartsAt.In(app.London)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, app.London)
	return !now.Before(day)
}
