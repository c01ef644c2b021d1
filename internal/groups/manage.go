package groups

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// Move is a lead's change of someone's place on a waiting list.
type Move struct {
	Position int    `json:"position" required:"true" doc:"The new place on the list: 1 is next."`
	Reason   string `json:"reason" required:"true" doc:"Why: shown to the person in their booking's history, and to anyone moved because of it."`
}

// MoveResult is a waiting-list entry after a move.
type MoveResult struct {
	ID       int64  `json:"id"`
	Position int    `json:"position"`
	Status   string `json:"status"`
}

// lockedBookingSession finds a booking's session and locks it, checking
// the caller leads the group; facilitators are told only leads may.
func lockedBookingSession(ctx context.Context, tx *store.Tx, p *app.Principal, bookingID int64) (sessionRow, contactOf, error) {
	var sessionID int64
	if err := tx.QueryRowContext(ctx, "SELECT session_id FROM group_bookings WHERE id = $1", bookingID).Scan(&sessionID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return sessionRow{}, contactOf{}, access.ErrNotVisible
		}
		return sessionRow{}, contactOf{}, err
	}
	se, err := lockSession(ctx, tx, sessionID)
	if err != nil {
		return se, contactOf{}, err
	}
	if !leads(p, se.TeamID) {
		if ok, err := facilitates(ctx, tx, p, se.ID); err != nil || !ok {
			return se, contactOf{}, errors.Join(err, access.ErrNotVisible)
		}
		return se, contactOf{}, app.Errorf(app.CodeForbidden, "Only the group's leads can change the waiting list")
	}
	c, err := loadContact(ctx, tx, bookingID)
	return se, c, err
}

// MoveOnList moves a waiting-list entry to a new position, with a reason
// the person sees ("moved up because …"), as do those it moves along. Only
// the group's leads may. Positions stay distinct: the others between the
// old and new places shift by one, each with the same reason in its
// history.
func (s *Service) MoveOnList(ctx context.Context, p *app.Principal, bookingID int64, m Move) (MoveResult, error) {
	m.Reason = strings.TrimSpace(m.Reason)
	var pr app.Problems
	if m.Position < 1 {
		pr.Add("position", "Enter the new place on the list, 1 or more")
	}
	if m.Reason == "" {
		pr.Add("reason", "Say why: the person will see the reason")
	}
	pr.CheckLen("reason", m.Reason, 500, "The reason")
	if err := pr.Err(); err != nil {
		return MoveResult{}, err
	}
	now := s.Clock.Now()
	var out MoveResult
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		se, c, err := lockedBookingSession(ctx, tx, p, bookingID)
		if err != nil {
			return err
		}
		if c.Status != StatusWaiting {
			return app.Errorf(app.CodeConflict, "Only people on the waiting list can be moved: this booking is %s", c.Status)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM group_bookings WHERE session_id = $1 AND status = 'waiting'", se.ID).Scan(&n); err != nil {
			return err
		}
		if m.Position > n {
			return app.Invalid(app.FieldError{Field: "position", Message: fmt.Sprintf("Choose a place from 1 to %d: there are %d on the list", n, n)})
		}
		from, to := c.Position, m.Position
		if from == to {
			return app.Invalid(app.FieldError{Field: "position", Message: fmt.Sprintf("They are already number %d", from)})
		}
		// Everyone between the two places moves one along, towards from.
		lo, hi, step := to, from-1, 1
		if to > from {
			lo, hi, step = from+1, to, -1
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, position FROM group_bookings WHERE session_id = $1 AND status = 'waiting'
			AND position BETWEEN $2 AND $3 ORDER BY position`, se.ID, lo, hi)
		if err != nil {
			return err
		}
		type shifted struct{ id, pos int64 }
		var others []shifted
		for rows.Next() {
			var o shifted
			if err := rows.Scan(&o.id, &o.pos); err != nil {
				rows.Close()
				return err
			}
			others = append(others, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Park the entry at 0, shift the others through negative values,
		// then put it in its place: no two entries share a position at any
		// moment, as the unique index requires.
		if _, err := tx.ExecContext(ctx, "UPDATE group_bookings SET position = 0, updated_at = $1 WHERE id = $2", now, bookingID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE group_bookings SET position = -(position + $1) WHERE session_id = $2 AND status = 'waiting'
			AND position BETWEEN $3 AND $4`, step, se.ID, lo, hi); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_bookings SET position = -position WHERE session_id = $1 AND status = 'waiting' AND position < 0", se.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_bookings SET position = $1 WHERE id = $2", to, bookingID); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, bookingID, now, p.UserID, "moved", from, to, m.Reason); err != nil {
			return err
		}
		var people []int64
		for _, o := range others {
			if err := addEvent(ctx, tx, o.id, now, p.UserID, "displaced", int(o.pos), int(o.pos)+step, m.Reason); err != nil {
				return err
			}
			oc, err := loadContact(ctx, tx, o.id)
			if err != nil {
				return err
			}
			people = append(people, oc.PersonID)
		}
		if c.Email != "" {
			key, err := newKey(ctx, tx, bookingID, now)
			if err != nil {
				return err
			}
			if err := notify.SendEmail(ctx, tx, now, c.Email, notify.PositionChanged{Reference: c.Reference,
				Status: fmt.Sprintf("now number %d on the waiting list", to), Link: s.bookingLink(bookingID, key)}); err != nil {
				return err
			}
		}
		if c.UserID != 0 {
			if err := s.Notify.Tell(ctx, tx, c.UserID, 0, notify.GroupUpdate{Reference: c.Reference, GroupTitle: se.Title, Kind: "moved",
				When: When(se.StartsAt), Position: to, Reason: m.Reason}); err != nil {
				return err
			}
		}
		out = MoveResult{ID: bookingID, Position: to, Status: StatusWaiting}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "group.waiting_list.move", SubjectPersonID: c.PersonID,
			Subjects: people, ObjectType: "group_booking", ObjectID: itoa(bookingID)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return out, access.Denied(ctx, s.Audit, p, app.PermGroupManage, "group.waiting_list.move", "group_booking", bookingID, "The booking", err)
	}
	return out, err
}

// lockManagedSession locks a session of a group the caller leads.
func lockManagedSession(ctx context.Context, tx *store.Tx, p *app.Principal, sessionID int64) (sessionRow, error) {
	se, err := lockSession(ctx, tx, sessionID)
	if err != nil {
		return se, err
	}
	if !leads(p, se.TeamID) {
		return se, access.ErrNotVisible
	}
	return se, nil
}

// lockComingManaged locks a session of a group the caller leads that is
// still to come and not cancelled; what is what the caller would change.
func lockComingManaged(ctx context.Context, tx *store.Tx, p *app.Principal, sessionID int64, now time.Time, what string) (sessionRow, error) {
	se, err := lockManagedSession(ctx, tx, p, sessionID)
	if err == nil && (se.Status == "cancelled" || !se.StartsAt.After(now)) {
		err = app.Errorf(app.CodeConflict, "The %s of a session that was cancelled or has started cannot be changed", what)
	}
	return se, err
}

// CapacityChange sets a session's places.
type CapacityChange struct {
	Capacity int `json:"capacity" required:"true" doc:"The session's places: no fewer than are booked or held for offers."`
}

// SetCapacity changes a session's places, for the group's leads. More
// places are offered at once down the waiting list; fewer than are booked
// or held is refused.
func (s *Service) SetCapacity(ctx context.Context, p *app.Principal, sessionID int64, c CapacityChange) (Session, error) {
	if c.Capacity < 1 || c.Capacity > 500 {
		return Session{}, app.Invalid(app.FieldError{Field: "capacity", Message: "Places must be a number from 1 to 500"})
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		se, err := lockComingManaged(ctx, tx, p, sessionID, now, "places")
		if err != nil {
			return err
		}
		if c.Capacity < se.Held {
			return app.Invalid(app.FieldError{Field: "capacity", Message: fmt.Sprintf("%d places are booked or held for people offered them: places cannot be fewer", se.Held)})
		}
		if c.Capacity < se.MaxPlaces {
			return app.Invalid(app.FieldError{Field: "capacity", Message: fmt.Sprintf("Places must be at least %d, the most one booking may take", se.MaxPlaces)})
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_sessions SET capacity = $1, updated_at = $2 WHERE id = $3", c.Capacity, now, sessionID); err != nil {
			return err
		}
		se.Capacity = c.Capacity
		offered, err := s.fill(ctx, tx, &se, p.UserID, now)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "group.session.capacity", Subjects: offered,
			ObjectType: "group_session", ObjectID: itoa(sessionID)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return Session{}, access.Denied(ctx, s.Audit, p, app.PermGroupManage, "group.session.capacity", "group_session", sessionID, "The session", err)
	}
	if err != nil {
		return Session{}, err
	}
	d, err := s.GetSession(ctx, p, sessionID, "")
	return d.Session, err
}

// SessionCancel calls a session off.
type SessionCancel struct {
	Reason string `json:"reason" required:"true" doc:"Why: shown to everyone booked or waiting, and on the public listing."`
}

// CancelSession calls a session off, for the group's leads: its open
// offers end, and everyone booked or waiting is told (by email, and in
// their account), with the reason. Calendar feeds show it as cancelled.
func (s *Service) CancelSession(ctx context.Context, p *app.Principal, sessionID int64, in SessionCancel) (Session, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	var pr app.Problems
	if in.Reason == "" {
		pr.Add("reason", "Say why it is cancelled: everyone booked will see the reason")
	}
	pr.CheckLen("reason", in.Reason, 500, "The reason")
	if err := pr.Err(); err != nil {
		return Session{}, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		se, err := lockManagedSession(ctx, tx, p, sessionID)
		if err != nil {
			return err
		}
		if se.Status == "cancelled" {
			return app.Errorf(app.CodeConflict, "This session is already cancelled")
		}
		if !se.StartsAt.After(now) {
			return app.Errorf(app.CodeConflict, "This session has already started")
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_sessions SET status = 'cancelled', cancel_reason = $1, updated_at = $2 WHERE id = $3",
			in.Reason, now, sessionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_offers SET status = 'withdrawn', answered_at = $1 WHERE session_id = $2 AND status = 'open'",
			now, sessionID); err != nil {
			return err
		}
		ids, err := liveBookings(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		var people []int64
		for _, id := range ids {
			c, err := loadContact(ctx, tx, id)
			if err != nil {
				return err
			}
			people = append(people, c.PersonID)
			if err := addEvent(ctx, tx, id, now, p.UserID, "session_cancelled", 0, 0, in.Reason); err != nil {
				return err
			}
			if c.Email != "" {
				key, err := newKey(ctx, tx, id, now)
				if err != nil {
					return err
				}
				if err := notify.SendEmail(ctx, tx, now, c.Email, notify.SessionCancelledEmail{Reference: c.Reference, When: When(se.StartsAt),
					Link: s.bookingLink(id, key)}, s.cancelledCalendar(c.Reference, id, se, now)); err != nil {
					return err
				}
			}
			if c.UserID != 0 {
				if err := s.Notify.Tell(ctx, tx, c.UserID, 0, notify.GroupUpdate{Reference: c.Reference, GroupTitle: se.Title, Kind: "session_cancelled",
					When: When(se.StartsAt), Reason: in.Reason}); err != nil {
					return err
				}
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "group.session.cancel", Subjects: people,
			ObjectType: "group_session", ObjectID: itoa(sessionID)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return Session{}, access.Denied(ctx, s.Audit, p, app.PermGroupManage, "group.session.cancel", "group_session", sessionID, "The session", err)
	}
	if err != nil {
		return Session{}, err
	}
	d, err := s.GetSession(ctx, p, sessionID, "")
	return d.Session, err
}

// Register is a facilitator's register for a session.
type Register struct {
	Entries []RegisterEntry `json:"entries" required:"true" doc:"For each booking: attended or no_show (an empty list when only drop-ins came)."`
	DropIns []DropIn        `json:"drop_ins,omitempty" doc:"People who came without booking: a name (or initials, or blank) and how many."`
}

// RegisterEntry is one booking's line on the register.
type RegisterEntry struct {
	BookingID int64  `json:"booking_id" required:"true"`
	Outcome   string `json:"outcome" required:"true" doc:"attended or no_show"`
}

// RegisterSummary is what a session's register now says, in numbers.
type RegisterSummary struct {
	TakenAt  time.Time
	Attended int // people, drop-ins included
	NoShows  int // bookings
	DropIns  int // people
}

// RecordAttendance takes a session's register, for its facilitators and
// the group's leads, from the day of the session: each booking attended or
// did not come, and drop-ins added. Taking it again corrects it.
func (s *Service) RecordAttendance(ctx context.Context, p *app.Principal, sessionID int64, in Register) (RegisterSummary, error) {
	var pr app.Problems
	if len(in.Entries) == 0 && len(in.DropIns) == 0 {
		pr.Add("entries", "Mark who came, or add someone who came without booking")
	}
	if len(in.Entries) > 500 || len(in.DropIns) > 50 {
		pr.Add("entries", "The register is too long")
	}
	seen := map[int64]bool{}
	for i, e := range in.Entries {
		if e.Outcome != "attended" && e.Outcome != "no_show" {
			pr.Add(fmt.Sprintf("entries[%d].outcome", i), "Choose whether they came or not")
		}
		if seen[e.BookingID] {
			pr.Add(fmt.Sprintf("entries[%d].booking_id", i), "Each booking can be on the register once")
		}
		seen[e.BookingID] = true
	}
	for i := range in.DropIns {
		d := &in.DropIns[i]
		d.Name = strings.TrimSpace(d.Name)
		if d.People == 0 {
			d.People = 1
		}
		if d.People < 1 || d.People > 50 {
			pr.Add(fmt.Sprintf("drop_ins[%d].people", i), "How many came must be from 1 to 50")
		}
		pr.CheckLen(fmt.Sprintf("drop_ins[%d].name", i), d.Name, 100, "The name")
	}
	if err := pr.Err(); err != nil {
		return RegisterSummary{}, err
	}
	now := s.Clock.Now()
	sum := RegisterSummary{TakenAt: now}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		se, err := lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if err := mayRun(ctx, tx, p, sessionID, se.TeamID); err != nil {
			return err
		}
		if !registerOpen(Session{StartsAt: se.StartsAt, Status: se.Status}, now) {
			if se.Status == "cancelled" {
				return app.Errorf(app.CodeConflict, "This session was cancelled, so there is no register")
			}
			return app.Errorf(app.CodeConflict, "The register can be taken from the day of the session")
		}
		var people []int64
		for i, e := range in.Entries {
			var status string
			var places int
			var personID sql.NullInt64
			err := tx.QueryRowContext(ctx, "SELECT status, places, person_id FROM group_bookings WHERE id = $1 AND session_id = $2", e.BookingID, sessionID).
				Scan(&status, &places, &personID)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && status != StatusBooked) {
				return app.Invalid(app.FieldError{Field: fmt.Sprintf("entries[%d].booking_id", i), Message: "This is not a booking on this session"})
			}
			if err != nil {
				return err
			}
			n := places
			if e.Outcome == "no_show" {
				n = 0
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO group_attendance (session_id, booking_id, people, outcome, recorded_by_user_id, recorded_at)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (session_id, booking_id) DO UPDATE SET people = excluded.people, outcome = excluded.outcome,
				recorded_by_user_id = excluded.recorded_by_user_id, recorded_at = excluded.recorded_at`,
				sessionID, e.BookingID, n, e.Outcome, nullID(p.UserID), now); err != nil {
				return err
			}
			people = append(people, personID.Int64)
		}
		for _, d := range in.DropIns {
			if _, err := tx.ExecContext(ctx, `INSERT INTO group_attendance (session_id, name, people, outcome, recorded_by_user_id, recorded_at)
				VALUES ($1, $2, $3, 'attended', $4, $5)`, sessionID, d.Name, d.People, nullID(p.UserID), now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_sessions SET register_taken_at = $1 WHERE id = $2", now, sessionID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN outcome = 'attended' THEN people ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN outcome = 'no_show' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN booking_id IS NULL THEN people ELSE 0 END), 0) FROM group_attendance WHERE session_id = $1`, sessionID).
			Scan(&sum.Attended, &sum.NoShows, &sum.DropIns); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupRun), audit.Event{Action: "group.attendance.record", Subjects: people,
			ObjectType: "group_session", ObjectID: itoa(sessionID)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return RegisterSummary{}, access.Denied(ctx, s.Audit, p, app.PermGroupRun, "group.attendance.record", "group_session", sessionID, "The session", err)
	}
	return sum, err
}

// SendReminders sends the day-before reminders: each session starting in
// the next 24 hours that has not had them gets one email per booking with
// an email address (a calendar file attached, and a link to cancel in one
// step) and a note in each account. Each session is claimed by a
// conditional update in the transaction that queues its emails, so
// several instances running this at once remind each session once. It
// returns how many sessions were reminded.
func (s *Service) SendReminders(ctx context.Context, p *app.Principal) (int, error) {
	now := s.Clock.Now()
	return s.eachDue(ctx, `SELECT id FROM group_sessions WHERE reminded_at IS NULL AND status = 'scheduled'
		AND starts_at > $1 AND starts_at <= $2 ORDER BY starts_at, id LIMIT 200`, []any{now, now.Add(24 * time.Hour)},
		func(id int64) (bool, error) { return s.remind(ctx, p, id, now) })
}

func (s *Service) remind(ctx context.Context, p *app.Principal, sessionID int64, now time.Time) (bool, error) {
	done := false
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		done = false
		res, err := tx.ExecContext(ctx, "UPDATE group_sessions SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND status = 'scheduled'", now, sessionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		se, err := lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT id FROM group_bookings WHERE session_id = $1 AND status = 'booked' ORDER BY id", sessionID)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var people []int64
		for _, id := range ids {
			c, err := loadContact(ctx, tx, id)
			if err != nil {
				return err
			}
			people = append(people, c.PersonID)
			if c.Email != "" {
				key, err := newKey(ctx, tx, id, now)
				if err != nil {
					return err
				}
				link := s.bookingLink(id, key)
				if err := notify.SendEmail(ctx, tx, now, c.Email, notify.BookingReminder{Reference: c.Reference, When: When(se.StartsAt), Link: link},
					s.emailCalendar(c.Reference, id, se, link, now)); err != nil {
					return err
				}
			}
		}
		done = true
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPublic), audit.Event{Action: "group.session.remind", Subjects: people,
			ObjectType: "group_session", ObjectID: itoa(sessionID)})
	})
	return done, err
}

// attachment wraps calendar text for an email.
func attachment(name string, cal []byte) mail.Attachment {
	return mail.Attachment{Name: name, ContentType: "text/calendar; charset=utf-8; method=PUBLISH", Data: cal}
}
