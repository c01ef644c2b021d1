package groups

import (
	"context"
	"database/sql"
	"time"

	"github.com/mutualhq/mutual/internal/store"
)

// Holder is the groups capability as a holder of people's data (see
// person.Holder): the bookings a person made from their account or that
// carry their person record, what happened to them, their attendance, and
// the proposals they made or showed interest in.
//
// Public bookings made without an account carry a name and contact
// details but no person record; they are found by the team (the booking's
// reference) and are not part of a person's copy unless linked.
type Holder struct{ DB *store.DB }

// NewHolder returns the groups capability's holder of people's data.
func NewHolder(db *store.DB) Holder { return Holder{DB: db} }

// HolderName is the heading in a person's copy.
func (Holder) HolderName() string { return "Groups and events" }

// Tables are where the capability keeps people's data.
func (Holder) Tables() []string {
	return []string{"group_bookings", "group_booking_events", "group_booking_keys", "group_offers", "group_attendance",
		"network_proposals", "network_interest"}
}

// personBookings selects the bookings of a person: made with their
// person record, or from their account.
const personBookings = `(b.person_id = $1 OR b.user_id IN (SELECT u.id FROM users u WHERE u.person_id = $1))`

// ExportedBooking is one booking in a person's copy.
type ExportedBooking struct {
	Booking
	Attendance string `json:"attendance,omitempty"`
}

// ExportedProposal is one proposal in a person's copy.
type ExportedProposal struct {
	Title     string    `json:"title"`
	Summary   string    `json:"summary"`
	Status    string    `json:"status"`
	Answer    string    `json:"answer,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Proposed  bool      `json:"proposed_by_you"`
}

// Export returns the person's bookings (with their history) and the
// proposals they made or showed interest in.
func (h Holder) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+bookingColumns+`, COALESCE(a.outcome, '')`+bookingFrom+`
		LEFT JOIN group_attendance a ON a.session_id = b.session_id AND a.booking_id = b.id
		WHERE `+personBookings+` ORDER BY s.starts_at, b.id`, personID)
	if err != nil {
		return nil, err
	}
	bookings := []ExportedBooking{}
	for rows.Next() {
		var e ExportedBooking
		b, err := scanBooking(scanWith(rows, &e.Attendance))
		if err != nil {
			rows.Close()
			return nil, err
		}
		e.Booking = b
		bookings = append(bookings, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range bookings {
		if bookings[i].History, err = history(ctx, tx, nil, bookings[i].ID); err != nil {
			return nil, err
		}
	}
	prows, err := tx.QueryContext(ctx, `SELECT n.title, n.summary, n.status, n.answer, n.created_at, n.proposed_by_user_id = u.id
		FROM network_proposals n JOIN users u ON u.person_id = $1
		WHERE n.proposed_by_user_id = u.id OR EXISTS (SELECT 1 FROM network_interest i WHERE i.proposal_id = n.id AND i.user_id = u.id)
		ORDER BY n.created_at, n.id`, personID)
	if err != nil {
		return nil, err
	}
	defer prows.Close()
	proposals := []ExportedProposal{}
	for prows.Next() {
		var e ExportedProposal
		if err := prows.Scan(&e.Title, &e.Summary, &e.Status, &e.Answer, &e.CreatedAt, &e.Proposed); err != nil {
			return nil, err
		}
		proposals = append(proposals, e)
	}
	return map[string]any{"bookings": bookings, "proposals": proposals}, prows.Err()
}

// LastActivity is the person's latest booking change or proposal.
func (h Holder) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	var b, n sql.NullTime
	if err := tx.QueryRowContext(ctx, "SELECT MAX(b.updated_at) FROM group_bookings b WHERE "+personBookings, personID).Scan(&b); err != nil {
		return time.Time{}, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT MAX(n.updated_at) FROM network_proposals n JOIN users u ON u.id = n.proposed_by_user_id
		WHERE u.person_id = $1`, personID).Scan(&n); err != nil {
		return time.Time{}, err
	}
	out := b.Time
	if n.Valid && n.Time.After(out) {
		out = n.Time
	}
	return out.UTC(), nil
}

// Forget deletes the person's bookings (and their keys, history, offers
// and register lines) and proposals, for retention. A booking still live
// on a session to come gives its places back first, so the session's
// counts stay true.
func (h Holder) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT b.id, b.session_id FROM group_bookings b WHERE `+personBookings+` AND b.status IN ('booked', 'waiting')`, personID)
	if err != nil {
		return err
	}
	type live struct{ id, session int64 }
	var lives []live
	for rows.Next() {
		var l live
		if err := rows.Scan(&l.id, &l.session); err != nil {
			rows.Close()
			return err
		}
		lives = append(lives, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, l := range lives {
		se, err := lockSession(ctx, tx, l.session)
		if err != nil {
			return err
		}
		c, err := loadContact(ctx, tx, l.id)
		if err != nil {
			return err
		}
		if c.Status == StatusBooked {
			if _, err := tx.ExecContext(ctx, "UPDATE group_bookings SET status = 'cancelled', updated_at = $1 WHERE id = $2", now, l.id); err != nil {
				return err
			}
			if err := hold(ctx, tx, &se, -c.Places, now); err != nil {
				return err
			}
		} else if err := leaveList(ctx, tx, &se, c, StatusLeft, "withdrawn", now); err != nil {
			return err
		}
	}
	for _, q := range []string{
		"DELETE FROM group_attendance WHERE booking_id IN (SELECT b.id FROM group_bookings b WHERE " + personBookings + ")",
		"DELETE FROM group_booking_events WHERE booking_id IN (SELECT b.id FROM group_bookings b WHERE " + personBookings + ")",
		"DELETE FROM group_booking_keys WHERE booking_id IN (SELECT b.id FROM group_bookings b WHERE " + personBookings + ")",
		"DELETE FROM group_offers WHERE booking_id IN (SELECT b.id FROM group_bookings b WHERE " + personBookings + ")",
		"DELETE FROM group_bookings WHERE id IN (SELECT b.id FROM group_bookings b WHERE " + personBookings + ")",
		"DELETE FROM network_interest WHERE user_id IN (SELECT u.id FROM users u WHERE u.person_id = $1)",
		"DELETE FROM network_interest WHERE proposal_id IN (SELECT n.id FROM network_proposals n JOIN users u ON u.id = n.proposed_by_user_id WHERE u.person_id = $1)",
		"DELETE FROM network_proposals WHERE proposed_by_user_id IN (SELECT u.id FROM users u WHERE u.person_id = $1)",
	} {
		if _, err := tx.ExecContext(ctx, q, personID); err != nil {
			return err
		}
	}
	return nil
}
