package groups

import (
	"context"
	"crypto/rand"
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

// BookingRequest asks for places at a session. Without an account, a name
// and a way to be contacted are all that is needed; signed in, the
// account's name and email are used unless others are given.
type BookingRequest struct {
	Name        string `json:"name,omitempty" doc:"Your name, or what you would like to be called. Needed without an account."`
	Email       string `json:"email,omitempty" doc:"An email address or a phone number is needed without an account; with an email you get a link to see or cancel your booking."`
	Phone       string `json:"phone,omitempty"`
	Places      int    `json:"places" required:"true" doc:"How many places: 1, or more with a companion or carer (up to the group's limit)."`
	AccessNeeds string `json:"access_needs,omitempty" doc:"Anything the facilitators should know to make it work for you."`
	Invite      string `json:"invite,omitempty" doc:"The code from an invitation link, for an invitation-only group."`
}

// BookingResult is the answer to a booking: a place, or a place on the
// waiting list.
type BookingResult struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Status    string `json:"status" doc:"booked or waiting"`
	Position  int    `json:"position,omitempty" doc:"Place on the waiting list, when waiting: 1 is next."`
	// Key lets its holder see and cancel the booking without an account;
	// it is shown once and stored only as a hash.
	Key  string `json:"key" doc:"Keep this: with it you can see, cancel, or accept an offered place for this booking (it is also in the link emailed to you)."`
	Link string `json:"link"`
}

// sessionRow is a session locked for a change, with what the change needs
// to know about its group.
type sessionRow struct {
	ID, GroupID, TeamID int64
	Title               string
	StartsAt, EndsAt    time.Time
	Capacity, Held      int
	Status, Booking     string
	MaxPlaces           int
	HoldHours           int
	Visibility          Visibility
	InviteCode          string
}

func (r sessionRow) free() int { return r.Capacity - r.Held }

// lockSession loads a session for a change and locks its row until
// commit, so every change to its places and its waiting list happens one
// at a time (on SQLite the write transaction already holds the database).
//
// The group's settings are read by a second statement, after the lock: on
// PostgreSQL a statement that waited for the lock sees the session row as
// committed by the one it waited for, but a joined row as it was when the
// statement began — so a change to the group (EditGroup holds the coming
// sessions' locks) would otherwise be missed.
func lockSession(ctx context.Context, tx *store.Tx, id int64) (sessionRow, error) {
	var r sessionRow
	err := tx.QueryRowContext(ctx, `SELECT s.id, s.group_id, s.starts_at, s.ends_at, s.capacity, s.places_held, s.status
		FROM group_sessions s WHERE s.id = $1`+tx.Dialect.ForUpdate(), id).Scan(&r.ID, &r.GroupID, &r.StartsAt, &r.EndsAt, &r.Capacity, &r.Held, &r.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return r, access.ErrNotVisible
	}
	if err != nil {
		return r, err
	}
	r.StartsAt, r.EndsAt = r.StartsAt.UTC(), r.EndsAt.UTC()
	err = tx.QueryRowContext(ctx, `SELECT g.team_id, g.title, g.booking, g.max_places, g.hold_hours, g.visibility, g.invite_code
		FROM peer_groups g WHERE g.id = $1`, r.GroupID).Scan(&r.TeamID, &r.Title, &r.Booking, &r.MaxPlaces, &r.HoldHours, &r.Visibility, &r.InviteCode)
	return r, err
}

// hold changes a locked session's places held by delta. The update only
// happens if the result stays within 0 and the capacity, and the table's
// CHECK says the same, so no mistake can overbook a session.
func hold(ctx context.Context, tx *store.Tx, se *sessionRow, delta int, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE group_sessions SET places_held = places_held + $1, updated_at = $2
		WHERE id = $3 AND places_held + $1 >= 0 AND places_held + $1 <= capacity`, delta, now, se.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("session %d: %d places held, cannot change by %d", se.ID, se.Held, delta)
	}
	se.Held += delta
	return nil
}

func checkContact(pr *app.Problems, in *BookingRequest, signedIn bool) {
	in.Name, in.Email, in.Phone, in.AccessNeeds, in.Invite = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email),
		strings.TrimSpace(in.Phone), strings.TrimSpace(in.AccessNeeds), strings.TrimSpace(in.Invite)
	if in.Name == "" && !signedIn {
		pr.Add("name", "Enter your name, or what you would like to be called")
	}
	pr.CheckLen("name", in.Name, 100, "Your name")
	if in.Email != "" {
		e, msg := app.NormaliseEmail(in.Email)
		if msg != "" {
			pr.Add("email", msg)
		}
		in.Email = e
	}
	if in.Phone != "" {
		digits := 0
		for _, r := range in.Phone {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case strings.ContainsRune(" +()-", r):
			default:
				digits = -100
			}
		}
		if digits < 10 || digits > 15 {
			pr.Add("phone", "Enter a phone number, like 07700 900 982 or 0113 496 0000")
		}
	}
	if !signedIn && in.Email == "" && in.Phone == "" && !pr.Has("email") && !pr.Has("phone") {
		pr.Add("email", "Enter an email address or a phone number, so the team can tell you if anything changes")
	}
	pr.CheckLen("access_needs", in.AccessNeeds, 1000, "What would help you")
	pr.CheckLen("invite", in.Invite, 100, "The invitation code")
}

// CheckBooking validates a request's own fields (not the places, which
// depend on the group), so a form can name every problem at once.
func CheckBooking(p *app.Principal, in BookingRequest) error {
	var pr app.Problems
	checkContact(&pr, &in, p != nil && p.UserID != 0)
	return pr.Err()
}

var refAlphabet = []byte("ACDEFGHJKMNPQRTUVWXY34679")

func newReference() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = refAlphabet[int(b[i])%len(refAlphabet)]
	}
	return "GRP-" + string(b[:4]) + "-" + string(b[4:])
}

func (s *Service) nextReference() string {
	if s.References != nil {
		return s.References()
	}
	return newReference()
}

// newKey makes a key for a booking's links and stores its hash.
func newKey(ctx context.Context, tx *store.Tx, bookingID int64, now time.Time) (string, error) {
	key := app.NewSecret(24)
	_, err := tx.ExecContext(ctx, "INSERT INTO group_booking_keys (key_hash, booking_id, created_at) VALUES ($1, $2, $3)", app.HashSecret(key), bookingID, now)
	return key, err
}

func (s *Service) bookingLink(id int64, key string) string {
	return s.BaseURL + "/bookings/" + itoa(id) + "?key=" + key
}

// When is a session's start as people read it.
func When(t time.Time) string {
	l := t.In(app.London)
	h := l.Format("3:04pm")
	h = strings.Replace(h, ":00", "", 1)
	return l.Format("Monday 2 January 2006") + " at " + h
}

func addEvent(ctx context.Context, tx *store.Tx, bookingID int64, now time.Time, actor int64, kind string, from, to int, reason string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO group_booking_events (booking_id, at, actor_user_id, kind, from_position, to_position, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, bookingID, now, nullID(actor), kind, nullInt(from), nullInt(to), reason)
	return err
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// Book asks for places at a session: booked at once when places are free
// (and nobody waiting fits them), otherwise a place on the waiting list in
// arrival order. Anyone may book a group they may see; a signed-in caller
// books as their account, once per session. Under any number of
// simultaneous bookings, exactly the capacity is booked: the session's row
// is locked for each, and the database refuses more places than the
// capacity.
func (s *Service) Book(ctx context.Context, p *app.Principal, sessionID int64, in BookingRequest) (BookingResult, error) {
	signedIn := p != nil && p.UserID != 0 && !p.MFAPending && !p.MFASetup
	var pr app.Problems
	checkContact(&pr, &in, signedIn)
	if in.Places < 1 {
		pr.Add("places", "Choose how many places you need")
	}
	if err := pr.Err(); err != nil {
		return BookingResult{}, err
	}
	name, email, userID, personID, source := in.Name, in.Email, int64(0), int64(0), "public"
	if signedIn {
		userID, personID, source = p.UserID, p.PersonID, "account"
		if name == "" {
			name = p.Name
		}
		if email == "" {
			email = p.Email
		}
	}
	now := s.Clock.Now()
	var res BookingResult
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		se, err := lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if _, err := visibleGroup(ctx, tx, p, se.GroupID, in.Invite); err != nil {
			return err
		}
		switch {
		case se.Status == "cancelled":
			return app.Errorf(app.CodeConflict, "This session has been cancelled, so it cannot be booked")
		case !se.StartsAt.After(now):
			return app.Errorf(app.CodeConflict, "This session has already started, so it can no longer be booked")
		case se.Booking == "drop_in":
			return app.Errorf(app.CodeConflict, "This is a drop-in group: there is no need to book, just come along")
		case in.Places > se.MaxPlaces:
			return app.Invalid(app.FieldError{Field: "places", Message: fmt.Sprintf("You can book up to %d places at this group", se.MaxPlaces)})
		case in.Places > se.Capacity:
			return app.Invalid(app.FieldError{Field: "places", Message: fmt.Sprintf("This session has %d places in all", se.Capacity)})
		}
		if userID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM group_bookings WHERE session_id = $1 AND user_id = $2 AND status IN ('booked', 'waiting')",
				sessionID, userID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return app.Errorf(app.CodeConflict, "You already have a booking for this session: see your bookings")
			}
		}
		res = BookingResult{Status: Book(se.free(), in.Places)}
		var position any
		var joined, booked any
		if res.Status == StatusBooked {
			booked = now
		} else {
			if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(position), 0) + 1 FROM group_bookings WHERE session_id = $1 AND status = 'waiting'",
				sessionID).Scan(&res.Position); err != nil {
				return err
			}
			position, joined = res.Position, now
		}
		// A reference taken, even by a booking committing at this moment,
		// gives way to another (UNIQUE group_bookings.reference); any
		// other unique index still fails the insert.
		ref, err := store.InsertUnique(10, s.nextReference, func(ref string) error {
			return tx.QueryRowContext(ctx, `INSERT INTO group_bookings (session_id, reference, places, status, position, name, email, phone,
			access_needs, user_id, person_id, source, joined_list_at, booked_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
			ON CONFLICT (reference) DO NOTHING RETURNING id`,
				sessionID, ref, in.Places, res.Status, position, name, email, in.Phone, in.AccessNeeds, nullID(userID), nullID(personID),
				source, joined, booked, now).Scan(&res.ID)
		})
		if errors.Is(err, store.ErrNoFreeValue) {
			return app.Errorf(app.CodeConflict, "We could not give this booking a reference just now. Nothing was saved: try again.")
		}
		if err != nil {
			return err
		}
		res.Reference = ref
		if res.Status == StatusBooked {
			if err := hold(ctx, tx, &se, in.Places, now); err != nil {
				return err
			}
			err = addEvent(ctx, tx, res.ID, now, userID, "booked", 0, 0, "")
		} else {
			err = addEvent(ctx, tx, res.ID, now, userID, "joined_list", 0, res.Position, "")
		}
		if err != nil {
			return err
		}
		if res.Key, err = newKey(ctx, tx, res.ID, now); err != nil {
			return err
		}
		res.Link = s.bookingLink(res.ID, res.Key)
		if email != "" {
			status := "booked"
			var attach []mail.Attachment
			if res.Status == StatusWaiting {
				status = fmt.Sprintf("on the waiting list, at number %d", res.Position)
			} else {
				attach = []mail.Attachment{s.emailCalendar(res.Reference, res.ID, se, res.Link, now)}
			}
			if err := notify.SendEmail(ctx, tx, now, email, notify.BookingMade{Reference: res.Reference, Status: status, When: When(se.StartsAt), Link: res.Link}, attach...); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPublic), audit.Event{Action: "group.booking.create", SubjectPersonID: personID,
			ObjectType: "group_booking", ObjectID: itoa(res.ID)})
	})
	if err != nil {
		if errors.Is(err, access.ErrNotVisible) {
			return res, app.NotFound("The session")
		}
		if store.IsUniqueViolation(err) && userID != 0 {
			return res, app.Errorf(app.CodeConflict, "You already have a booking for this session: see your bookings")
		}
		return res, err
	}
	return res, nil
}

// waitingEntries lists a locked session's waiting list in order.
func waitingEntries(ctx context.Context, tx *store.Tx, sessionID int64) ([]Entry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT b.id, b.position, b.places,
		EXISTS (SELECT 1 FROM group_offers o WHERE o.booking_id = b.id AND o.status = 'open')
		FROM group_bookings b WHERE b.session_id = $1 AND b.status = 'waiting' ORDER BY b.position`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.BookingID, &e.Position, &e.Places, &e.Offered); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// contactOf is what a booking needs to tell its holder something.
type contactOf struct {
	ID        int64
	Reference string
	Email     string
	UserID    int64
	PersonID  int64
	Places    int
	Position  int
	Status    string
}

func loadContact(ctx context.Context, tx *store.Tx, id int64) (contactOf, error) {
	var c contactOf
	var pos sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT id, reference, email, COALESCE(user_id, 0), COALESCE(person_id, 0), places, position, status
		FROM group_bookings WHERE id = $1`, id).Scan(&c.ID, &c.Reference, &c.Email, &c.UserID, &c.PersonID, &c.Places, &pos, &c.Status)
	c.Position = int(pos.Int64)
	return c, err
}

// fill offers a locked session's free places down its waiting list
// (PlanOffers), each held until the group's hold time has passed (or the
// session starts, if sooner), told by email and in the account. It
// returns the people offered, for the caller's audit row.
func (s *Service) fill(ctx context.Context, tx *store.Tx, se *sessionRow, actor int64, now time.Time) ([]int64, error) {
	if se.Status != "scheduled" || se.free() <= 0 || se.StartsAt.Sub(now) < 15*time.Minute {
		return nil, nil
	}
	waiting, err := waitingEntries(ctx, tx, se.ID)
	if err != nil {
		return nil, err
	}
	expires := now.Add(time.Duration(se.HoldHours) * time.Hour)
	if expires.After(se.StartsAt) {
		expires = se.StartsAt
	}
	var people []int64
	for _, id := range PlanOffers(se.free(), waiting) {
		c, err := loadContact(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_offers (booking_id, session_id, places, offered_at, expires_at, status)
			VALUES ($1, $2, $3, $4, $5, 'open')`, id, se.ID, c.Places, now, expires); err != nil {
			return nil, err
		}
		if err := hold(ctx, tx, se, c.Places, now); err != nil {
			return nil, err
		}
		if err := addEvent(ctx, tx, id, now, actor, "offered", 0, 0, ""); err != nil {
			return nil, err
		}
		if c.Email != "" {
			key, err := newKey(ctx, tx, id, now)
			if err != nil {
				return nil, err
			}
			if err := notify.SendEmail(ctx, tx, now, c.Email, notify.PlaceOffered{Reference: c.Reference, When: When(se.StartsAt),
				HeldUntil: When(expires), Link: s.bookingLink(id, key)}); err != nil {
				return nil, err
			}
		}
		if c.UserID != 0 {
			if err := s.Notify.Tell(ctx, tx, c.UserID, 0, notify.GroupUpdate{Reference: c.Reference, GroupTitle: se.Title, Kind: "offered",
				When: When(se.StartsAt), HeldUntil: When(expires)}); err != nil {
				return nil, err
			}
		}
		people = append(people, c.PersonID)
	}
	return people, nil
}

// closeUp takes a booking off a locked session's waiting list (it has
// just left position pos) and moves everyone behind it up one. Positions
// stay distinct throughout: they pass through negative values, as the
// unique index checks each row as it changes.
func closeUp(ctx context.Context, tx *store.Tx, sessionID int64, pos int) error {
	if _, err := tx.ExecContext(ctx, `UPDATE group_bookings SET position = -(position - 1)
		WHERE session_id = $1 AND status = 'waiting' AND position > $2`, sessionID, pos); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE group_bookings SET position = -position WHERE session_id = $1 AND status = 'waiting' AND position < 0`, sessionID)
	return err
}

// bookingOwner checks that the caller may act on a booking: they hold a
// key sent for it, or made it from their account. Anyone else is told it
// is not there. It returns the booking's session.
func bookingOwner(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, key string) (int64, error) {
	var sessionID int64
	var err error
	switch {
	case key != "":
		err = tx.QueryRowContext(ctx, `SELECT b.session_id FROM group_booking_keys k JOIN group_bookings b ON b.id = k.booking_id
			WHERE k.key_hash = $1 AND k.booking_id = $2`, app.HashSecret(key), id).Scan(&sessionID)
		if !errors.Is(err, sql.ErrNoRows) || p == nil || p.UserID == 0 {
			break
		}
		fallthrough
	case p != nil && p.UserID != 0 && !p.MFAPending && !p.MFASetup:
		err = tx.QueryRowContext(ctx, "SELECT session_id FROM group_bookings WHERE id = $1 AND user_id = $2", id, p.UserID).Scan(&sessionID)
	default:
		return 0, access.ErrNotVisible
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, access.ErrNotVisible
	}
	return sessionID, err
}

// Cancelled says what a cancellation did.
type Cancelled struct {
	Status     string `json:"status" doc:"cancelled (a place given back) or left (left the waiting list)"`
	LateCancel bool   `json:"late_cancel" doc:"Cancelled within 24 hours of the start: recorded for the team, never used to stop anyone booking."`
	Already    bool   `json:"-"`
}

// Cancel cancels a booking (giving its places back, which are offered to
// the first people waiting that they fit) or takes it off the waiting
// list, for whoever holds its key or made it from their account. A
// booking already cancelled stays as it is.
func (s *Service) Cancel(ctx context.Context, p *app.Principal, id int64, key string) (Cancelled, error) {
	now := s.Clock.Now()
	var out Cancelled
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		sessionID, err := bookingOwner(ctx, tx, p, id, key)
		if err != nil {
			return err
		}
		se, err := lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		c, err := loadContact(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status != StatusBooked && c.Status != StatusWaiting {
			out = Cancelled{Status: c.Status, Already: true}
			return nil
		}
		switch {
		case se.Status == "cancelled":
			return app.Errorf(app.CodeConflict, "This session was cancelled by the team, so there is nothing to cancel")
		case !se.StartsAt.After(now):
			return app.Errorf(app.CodeConflict, "This session has already started, so the booking can no longer be cancelled")
		}
		actor := int64(0)
		if p != nil {
			actor = p.UserID
		}
		if c.Status == StatusBooked {
			out = Cancelled{Status: StatusCancelled, LateCancel: se.StartsAt.Sub(now) < LateCancel}
			if _, err := tx.ExecContext(ctx, `UPDATE group_bookings SET status = 'cancelled', cancelled_at = $1, late_cancel = $2, updated_at = $1
				WHERE id = $3`, now, out.LateCancel, id); err != nil {
				return err
			}
			if err := hold(ctx, tx, &se, -c.Places, now); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, id, now, actor, "cancelled", 0, 0, ""); err != nil {
				return err
			}
		} else {
			out = Cancelled{Status: StatusLeft}
			if err := leaveList(ctx, tx, &se, c, StatusLeft, "withdrawn", now); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, id, now, actor, "left", c.Position, 0, ""); err != nil {
				return err
			}
		}
		offered, err := s.fill(ctx, tx, &se, actor, now)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPublic), audit.Event{Action: "group.booking.cancel", SubjectPersonID: c.PersonID,
			Subjects: offered, ObjectType: "group_booking", ObjectID: itoa(id)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return out, access.Denied(ctx, s.Audit, p, app.PermPublic, "group.booking.cancel", "group_booking", id, "The booking", err)
	}
	return out, err
}

// leaveList takes a waiting booking off a locked session's list with the
// given status, ending any open offer it holds (offerStatus) and giving
// that offer's places back.
func leaveList(ctx context.Context, tx *store.Tx, se *sessionRow, c contactOf, status, offerStatus string, now time.Time) error {
	var offerID int64
	var places int
	err := tx.QueryRowContext(ctx, "SELECT id, places FROM group_offers WHERE booking_id = $1 AND status = 'open'", c.ID).Scan(&offerID, &places)
	switch {
	case err == nil:
		if _, err := tx.ExecContext(ctx, "UPDATE group_offers SET status = $1, answered_at = $2 WHERE id = $3", offerStatus, now, offerID); err != nil {
			return err
		}
		if err := hold(ctx, tx, se, -places, now); err != nil {
			return err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE group_bookings SET status = $1, position = NULL, cancelled_at = $2, updated_at = $2 WHERE id = $3",
		status, now, c.ID); err != nil {
		return err
	}
	return closeUp(ctx, tx, se.ID, c.Position)
}

// Answer is the answer to an offer of a place.
type Answer struct {
	Key string `json:"key,omitempty" doc:"The key from the booking's link; not needed when signed in as the account that booked."`
}

// offerFor loads an offer and its booking's session for a change, checking
// the caller may act on the booking.
func offerFor(ctx context.Context, tx *store.Tx, p *app.Principal, offerID int64, key string) (Offer, sessionRow, contactOf, error) {
	var o Offer
	err := tx.QueryRowContext(ctx, "SELECT id, booking_id, places, offered_at, expires_at, status FROM group_offers WHERE id = $1", offerID).
		Scan(&o.ID, &o.BookingID, &o.Places, &o.OfferedAt, &o.ExpiresAt, &o.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return o, sessionRow{}, contactOf{}, access.ErrNotVisible
	}
	if err != nil {
		return o, sessionRow{}, contactOf{}, err
	}
	sessionID, err := bookingOwner(ctx, tx, p, o.BookingID, key)
	if err != nil {
		return o, sessionRow{}, contactOf{}, err
	}
	se, err := lockSession(ctx, tx, sessionID)
	if err != nil {
		return o, se, contactOf{}, err
	}
	// Read again under the lock: the offer may have been answered or
	// expired while this transaction waited for it.
	if err := tx.QueryRowContext(ctx, "SELECT status, expires_at FROM group_offers WHERE id = $1", offerID).Scan(&o.Status, &o.ExpiresAt); err != nil {
		return o, se, contactOf{}, err
	}
	c, err := loadContact(ctx, tx, o.BookingID)
	return o, se, c, err
}

func offerEnded(o Offer, now time.Time) error {
	switch {
	case o.Status == "accepted":
		return app.Errorf(app.CodeConflict, "You have already said yes to this place: it is booked")
	case o.Status == "declined":
		return app.Errorf(app.CodeConflict, "You have already said no to this place")
	case o.Status != "open" || !o.ExpiresAt.After(now):
		return app.Errorf(app.CodeConflict, "This offer has ended, and the place has gone to the next person waiting. You can join the waiting list again")
	}
	return nil
}

// AcceptOffer books the place held for an open offer, for whoever holds
// the booking's key or made it from their account.
func (s *Service) AcceptOffer(ctx context.Context, p *app.Principal, offerID int64, key string) (Booking, error) {
	now := s.Clock.Now()
	var bookingID int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		o, se, c, err := offerFor(ctx, tx, p, offerID, key)
		if err != nil {
			return err
		}
		if err := offerEnded(o, now); err != nil {
			return err
		}
		bookingID = o.BookingID
		if _, err := tx.ExecContext(ctx, "UPDATE group_offers SET status = 'accepted', answered_at = $1 WHERE id = $2", now, offerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_bookings SET status = 'booked', position = NULL, booked_at = $1, updated_at = $1 WHERE id = $2",
			now, o.BookingID); err != nil {
			return err
		}
		if err := closeUp(ctx, tx, se.ID, c.Position); err != nil {
			return err
		}
		actor := int64(0)
		if p != nil {
			actor = p.UserID
		}
		if err := addEvent(ctx, tx, o.BookingID, now, actor, "offer_accepted", c.Position, 0, ""); err != nil {
			return err
		}
		if c.Email != "" {
			k, err := newKey(ctx, tx, o.BookingID, now)
			if err != nil {
				return err
			}
			link := s.bookingLink(o.BookingID, k)
			if err := notify.SendEmail(ctx, tx, now, c.Email, notify.BookingMade{Reference: c.Reference, Status: "booked", When: When(se.StartsAt), Link: link},
				s.emailCalendar(c.Reference, o.BookingID, se, link, now)); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPublic), audit.Event{Action: "group.offer.accept", SubjectPersonID: c.PersonID,
			ObjectType: "group_booking", ObjectID: itoa(o.BookingID)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return Booking{}, access.Denied(ctx, s.Audit, p, app.PermPublic, "group.offer.accept", "group_offer", offerID, "The offer", err)
	}
	if err != nil {
		return Booking{}, err
	}
	return s.bookingAfterChange(ctx, p, bookingID)
}

// DeclineOffer says no to an offered place: the booking leaves the
// waiting list and the place goes to the next person it fits.
func (s *Service) DeclineOffer(ctx context.Context, p *app.Principal, offerID int64, key string) (Booking, error) {
	now := s.Clock.Now()
	var bookingID int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		o, se, c, err := offerFor(ctx, tx, p, offerID, key)
		if err != nil {
			return err
		}
		if err := offerEnded(o, now); err != nil {
			return err
		}
		bookingID = o.BookingID
		if err := leaveList(ctx, tx, &se, c, StatusLeft, "declined", now); err != nil {
			return err
		}
		actor := int64(0)
		if p != nil {
			actor = p.UserID
		}
		if err := addEvent(ctx, tx, o.BookingID, now, actor, "offer_declined", c.Position, 0, ""); err != nil {
			return err
		}
		offered, err := s.fill(ctx, tx, &se, actor, now)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPublic), audit.Event{Action: "group.offer.decline", SubjectPersonID: c.PersonID,
			Subjects: offered, ObjectType: "group_booking", ObjectID: itoa(o.BookingID)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return Booking{}, access.Denied(ctx, s.Audit, p, app.PermPublic, "group.offer.decline", "group_offer", offerID, "The offer", err)
	}
	if err != nil {
		return Booking{}, err
	}
	return s.bookingAfterChange(ctx, p, bookingID)
}

// bookingAfterChange returns a booking just changed by its holder. The
// change's own audit row covers this read of it.
func (s *Service) bookingAfterChange(ctx context.Context, p *app.Principal, id int64) (Booking, error) {
	var b Booking
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		b, err = loadBooking(ctx, tx, p, id)
		return err
	})
	return b, err
}

// ExpireOffers ends the open offers whose hold time has passed: each
// booking leaves the waiting list (its holder is told, and may join again)
// and the place goes to the next person it fits. Each offer is ended in a
// transaction of its own that re-checks it under the session's lock, so
// several instances running this at once end each offer once. It returns
// how many it ended.
func (s *Service) ExpireOffers(ctx context.Context, p *app.Principal) (int, error) {
	now := s.Clock.Now()
	return s.eachDue(ctx, "SELECT id FROM group_offers WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at, id LIMIT 200",
		[]any{now}, func(id int64) (bool, error) { return s.expireOffer(ctx, p, id, now) })
}

// eachDue reads the ids of what a background job has due (at most a
// batch), then acts on each in a transaction of its own that claims it;
// it returns how many were acted on.
func (s *Service) eachDue(ctx context.Context, q string, args []any, act func(id int64) (bool, error)) (int, error) {
	var due []int64
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		due, err = tx.IDs(ctx, q, args...)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		done, err := act(id)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

func (s *Service) expireOffer(ctx context.Context, p *app.Principal, offerID int64, now time.Time) (bool, error) {
	done := false
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		done = false
		var sessionID, bookingID int64
		if err := tx.QueryRowContext(ctx, "SELECT session_id, booking_id FROM group_offers WHERE id = $1", offerID).Scan(&sessionID, &bookingID); err != nil {
			return err
		}
		se, err := lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		c, err := loadContact(ctx, tx, bookingID)
		if err != nil {
			return err
		}
		// The decision is the update itself: only an offer still open and
		// due is ended, whoever else is trying.
		res, err := tx.ExecContext(ctx, "UPDATE group_offers SET status = 'expired', answered_at = $1 WHERE id = $2 AND status = 'open' AND expires_at <= $1",
			now, offerID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		var places int
		if err := tx.QueryRowContext(ctx, "SELECT places FROM group_offers WHERE id = $1", offerID).Scan(&places); err != nil {
			return err
		}
		if err := hold(ctx, tx, &se, -places, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_bookings SET status = 'expired', position = NULL, cancelled_at = $1, updated_at = $1 WHERE id = $2",
			now, bookingID); err != nil {
			return err
		}
		if err := closeUp(ctx, tx, se.ID, c.Position); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, bookingID, now, 0, "offer_expired", c.Position, 0, ""); err != nil {
			return err
		}
		if c.Email != "" {
			if err := notify.SendEmail(ctx, tx, now, c.Email, notify.OfferEnded{Reference: c.Reference,
				Link: s.BaseURL + "/sessions/" + itoa(se.ID)}); err != nil {
				return err
			}
		}
		if c.UserID != 0 {
			if err := s.Notify.Tell(ctx, tx, c.UserID, 0, notify.GroupUpdate{Reference: c.Reference, GroupTitle: se.Title, Kind: "offer_ended",
				When: When(se.StartsAt)}); err != nil {
				return err
			}
		}
		offered, err := s.fill(ctx, tx, &se, 0, now)
		if err != nil {
			return err
		}
		done = true
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPublic), audit.Event{Action: "group.offer.expire", SubjectPersonID: c.PersonID,
			Subjects: offered, ObjectType: "group_booking", ObjectID: itoa(bookingID)})
	})
	return done, err
}
