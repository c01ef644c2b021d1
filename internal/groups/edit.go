package groups

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// GroupChange is a lead's change to a group's details: all of them, as
// the form shows them. A coming session's own places change with
// SetCapacity, and are not changed here.
type GroupChange struct {
	Version    string     `json:"version" required:"true" doc:"The version you saw (from GET /api/v1/groups/{id}): a change made since answers 409."`
	Title      string     `json:"title" required:"true"`
	Summary    string     `json:"summary,omitempty" doc:"What happens at it, who it is for."`
	Repeats    Repeats    `json:"repeats" required:"true" doc:"once, weekly, fortnightly or monthly"`
	Visibility Visibility `json:"visibility" required:"true" doc:"public, members or invitation. Changing to invitation makes a new invite_code; changing away ends the old link."`
	Booking    string     `json:"booking,omitempty" doc:"required (the default) or drop_in; not drop_in while anyone waits for a place at a coming session."`
	Capacity   int        `json:"capacity,omitempty" doc:"Places at sessions added from now on (default 12); each coming session keeps its own."`
	MaxPlaces  int        `json:"max_places,omitempty" doc:"The most places one booking may take (default 2); no more than any coming session's places."`
	HoldHours  int        `json:"hold_hours,omitempty" doc:"How long an offered place is held (default 24 hours), for offers made from now on."`
	Venue      Venue      `json:"venue" doc:"A change to where it meets, its access or its joining link is told to everyone booked or waiting for a coming session."`
	// FacilitatorIDs are the rota: coming sessions that have no
	// facilitators take turns from it; others keep theirs.
	FacilitatorIDs []int64 `json:"facilitator_ids,omitempty" doc:"The rota. Coming sessions without facilitators take turns from it, two at a time; sessions that have them keep them."`
}

// detailsVersion stands for a group's details and rota as they are: any
// change to them gives another. It needs no column of its own, and two
// changes can only collide when the second would overwrite the first.
func detailsVersion(g Group, rota []Person) string {
	h := sha256.New()
	v := g.Venue
	fmt.Fprintf(h, "%q %q %q %q %q %d %d %d|%t %q %q %q %t %t %t %q %q|", g.Title, g.Summary, g.Repeats, g.Visibility, g.Booking, g.Capacity,
		g.MaxPlaces, g.HoldHours, v.Online, v.OnlineLink, v.Name, v.Address, v.StepFree, v.HearingLoop, v.QuietRoom, v.Transport, v.AccessNotes)
	ids := make([]int64, len(rota))
	for i, pe := range rota {
		ids[i] = pe.UserID
	}
	slices.Sort(ids)
	fmt.Fprint(h, ids)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// WhereChanged reports whether people booked need telling: where it
// meets, whether it is online, the link to join, or its step-free access,
// hearing loop or quiet room changed.
func WhereChanged(a, b Venue) bool {
	return a.Online != b.Online || a.OnlineLink != b.OnlineLink || a.Name != b.Name || a.Address != b.Address ||
		a.StepFree != b.StepFree || a.HearingLoop != b.HearingLoop || a.QuietRoom != b.QuietRoom
}

const changedByOther = "Someone else changed this group since you opened it. Its details are shown as they are now, with your changes kept in the form: check them and save again."

// EditGroup changes a group's details, for its leads (those who may make
// its team's groups). The change is refused with a conflict when the
// group changed since the caller saw version in.Version. Turning a group
// invitation-only makes a new invitation code; turning it away from that
// ends the old link. When where it meets, its access or its joining link
// changes, everyone booked or waiting for a coming session is told: an
// email with only their booking's reference and a link, and a note in
// their account.
func (s *Service) EditGroup(ctx context.Context, p *app.Principal, id int64, in GroupChange) (Group, error) {
	ng := NewGroup{Title: in.Title, Summary: in.Summary, Repeats: in.Repeats, Visibility: in.Visibility, Booking: in.Booking,
		Capacity: in.Capacity, MaxPlaces: in.MaxPlaces, HoldHours: in.HoldHours, Venue: in.Venue, FacilitatorIDs: in.FacilitatorIDs}
	var pr app.Problems
	ng.check(&pr)
	if in.Version == "" {
		pr.Add("version", "Send the version of the group you are changing, from the group as you read it")
	}
	if err := pr.Err(); err != nil {
		return Group{}, err
	}
	ng.FacilitatorIDs = slices.Compact(slices.Sorted(slices.Values(ng.FacilitatorIDs)))
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// The group's row is locked first (SQLite's write transaction
		// already holds the database), so of two changes at once the
		// second sees the first and is refused.
		if err := lockGroup(ctx, tx, id); err != nil {
			return err
		}
		cur, err := visibleGroup(ctx, tx, p, id, "")
		if err != nil {
			return err
		}
		if !leads(p, cur.TeamID) {
			return access.ErrNotVisible
		}
		pool, err := rota(ctx, tx, id)
		if err != nil {
			return err
		}
		if detailsVersion(cur, pool) != in.Version {
			return app.Errorf(app.CodeConflict, "%s", changedByOther)
		}
		if err := checkFacilitators(ctx, tx, ng.FacilitatorIDs); err != nil {
			return err
		}
		coming, err := lockComing(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if ng.MaxPlaces > cur.MaxPlaces {
			for _, se := range coming {
				if se.capacity < ng.MaxPlaces {
					return app.Invalid(app.FieldError{Field: "max_places", Message: fmt.Sprintf(
						"The session on %s has %d places: places per booking cannot be more. Give it more places first", When(se.startsAt), se.capacity)})
				}
			}
		}
		if ng.Booking == "drop_in" && cur.Booking != "drop_in" {
			waiting := 0
			for _, se := range coming {
				waiting += se.waiting
			}
			if waiting > 0 {
				return app.Invalid(app.FieldError{Field: "booking", Message: fmt.Sprintf(
					"%d waiting for a place at coming sessions: give them places first (more places for their sessions), or keep booking needed", waiting)})
			}
		}
		invite := cur.InviteCode
		switch {
		case ng.Visibility != Invitation:
			invite = ""
		case cur.Visibility != Invitation || invite == "":
			invite = app.NewSecret(12)
		}
		v := ng.Venue
		if _, err := tx.ExecContext(ctx, `UPDATE peer_groups SET title = $1, summary = $2, repeats = $3, visibility = $4, invite_code = $5, booking = $6,
			capacity = $7, max_places = $8, hold_hours = $9, online = $10, online_link = $11, venue_name = $12, venue_address = $13, step_free = $14,
			hearing_loop = $15, quiet_room = $16, transport = $17, access_notes = $18, updated_at = $19 WHERE id = $20`,
			ng.Title, ng.Summary, ng.Repeats, ng.Visibility, invite, ng.Booking, ng.Capacity, ng.MaxPlaces, ng.HoldHours, v.Online, v.OnlineLink,
			v.Name, v.Address, v.StepFree, v.HearingLoop, v.QuietRoom, v.Transport, v.AccessNotes, now, id); err != nil {
			return err
		}
		if err := s.setRota(ctx, tx, id, pool, ng.FacilitatorIDs, coming, now); err != nil {
			return err
		}
		var people []int64
		if WhereChanged(cur.Venue, v) {
			if people, err = s.tellWhereChanged(ctx, tx, p, ng.Title, coming, now); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "group.edit", Subjects: people,
			ObjectType: "group", ObjectID: itoa(id)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return Group{}, access.Denied(ctx, s.Audit, p, app.PermGroupManage, "group.edit", "group", id, "The group", err)
	}
	if err != nil {
		return Group{}, err
	}
	return s.GetGroup(ctx, p, id, "")
}

// comingSession is a session of the group still to come, locked for a
// change to the group.
type comingSession struct {
	id                int64
	startsAt, endsAt  time.Time
	capacity, waiting int
	facilitated       bool
}

// lockGroup holds the group's row until commit (SQLite's write
// transaction already holds the database): changes to the group and
// sessions added to it take turns, each seeing the other's settings.
func lockGroup(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, "SELECT id FROM peer_groups WHERE id = $1"+tx.Dialect.ForUpdate(), id)
	return err
}

// lockComing locks the group's scheduled sessions still to come, in
// order, so no place or waiting list changes under a change to the group.
func lockComing(ctx context.Context, tx *store.Tx, groupID int64, now time.Time) ([]comingSession, error) {
	q := `SELECT s.id, s.starts_at, s.ends_at, s.capacity FROM group_sessions s WHERE s.group_id = $1 AND s.status = 'scheduled' AND s.starts_at > $2
		ORDER BY s.starts_at, s.id`
	rows, err := tx.QueryContext(ctx, q+tx.Dialect.ForUpdate(), groupID, now)
	if err != nil {
		return nil, err
	}
	var out []comingSession
	for rows.Next() {
		var se comingSession
		if err := rows.Scan(&se.id, &se.startsAt, &se.endsAt, &se.capacity); err != nil {
			rows.Close()
			return nil, err
		}
		se.startsAt, se.endsAt = se.startsAt.UTC(), se.endsAt.UTC()
		out = append(out, se)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM group_bookings WHERE session_id = $1 AND status = 'waiting'),
			(SELECT COUNT(*) FROM session_facilitators WHERE session_id = $1)`, out[i].id).Scan(&out[i].waiting, &n); err != nil {
			return nil, err
		}
		out[i].facilitated = n > 0
	}
	return out, nil
}

// setRota makes the group's rota the chosen accounts (those staying keep
// their place in its order), and gives coming sessions that have no
// facilitators theirs from it, taking turns.
func (s *Service) setRota(ctx context.Context, tx *store.Tx, groupID int64, old []Person, chosen []int64, coming []comingSession, now time.Time) error {
	for _, pe := range old {
		if !slices.Contains(chosen, pe.UserID) {
			if _, err := tx.ExecContext(ctx, "DELETE FROM group_facilitators WHERE group_id = $1 AND user_id = $2", groupID, pe.UserID); err != nil {
				return err
			}
		}
	}
	for _, u := range chosen {
		if !slices.ContainsFunc(old, func(pe Person) bool { return pe.UserID == u }) {
			if _, err := tx.ExecContext(ctx, "INSERT INTO group_facilitators (group_id, user_id, added_at) VALUES ($1, $2, $3)", groupID, u, now); err != nil {
				return err
			}
		}
	}
	pool, err := rota(ctx, tx, groupID)
	if err != nil || len(pool) == 0 {
		return err
	}
	for i, se := range coming {
		if se.facilitated {
			continue
		}
		for _, u := range Turns(pool, i, 2) {
			if _, err := tx.ExecContext(ctx, "INSERT INTO session_facilitators (session_id, user_id) VALUES ($1, $2)", se.id, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// tellWhereChanged tells everyone booked or waiting for the coming
// sessions that where the group meets, or how to join it, changed: a line
// in each booking's history, an email with its reference and a link (the
// details are behind the link), and a note in their account. It returns
// the people told, for the audit row.
func (s *Service) tellWhereChanged(ctx context.Context, tx *store.Tx, p *app.Principal, title string, coming []comingSession, now time.Time) ([]int64, error) {
	var people []int64
	for _, se := range coming {
		if _, err := tx.ExecContext(ctx, "UPDATE group_sessions SET updated_at = $1 WHERE id = $2", now, se.id); err != nil {
			return nil, err
		}
		ids, err := liveBookings(ctx, tx, se.id)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			c, err := loadContact(ctx, tx, id)
			if err != nil {
				return nil, err
			}
			people = append(people, c.PersonID)
			if err := addEvent(ctx, tx, id, now, p.UserID, "venue_changed", 0, 0, ""); err != nil {
				return nil, err
			}
			if c.Email != "" {
				key, err := newKey(ctx, tx, id, now)
				if err != nil {
					return nil, err
				}
				if err := notify.SendEmail(ctx, tx, now, c.Email, notify.VenueChangedEmail{Reference: c.Reference, When: When(se.startsAt),
					Link: s.bookingLink(id, key)}); err != nil {
					return nil, err
				}
			}
			if c.UserID != 0 {
				if err := s.Notify.Tell(ctx, tx, c.UserID, 0, notify.GroupUpdate{Reference: c.Reference, GroupTitle: title, Kind: "venue_changed",
					When: When(se.startsAt)}); err != nil {
					return nil, err
				}
			}
		}
	}
	return people, nil
}

// liveBookings are the ids of a session's bookings that hold a place or a
// place on its waiting list, oldest first.
func liveBookings(ctx context.Context, tx *store.Tx, sessionID int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM group_bookings WHERE session_id = $1 AND status IN ('booked', 'waiting') ORDER BY id", sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SessionFacilitators chooses who facilitates one coming session.
type SessionFacilitators struct {
	FacilitatorIDs []int64 `json:"facilitator_ids" required:"true" doc:"Who facilitates it: 1 to 10 staff who run sessions (peer workers, peer leads, clinicians, partner workers)."`
}

// SetFacilitators changes who facilitates a coming session, for the
// group's leads: someone taken off it no longer sees its participants;
// someone put on it does, from now. The rota is unchanged.
func (s *Service) SetFacilitators(ctx context.Context, p *app.Principal, sessionID int64, in SessionFacilitators) (Session, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(in.FacilitatorIDs)))
	switch {
	case len(ids) == 0:
		return Session{}, app.Invalid(app.FieldError{Field: "facilitator_ids", Message: "Choose at least one facilitator"})
	case len(ids) > 10:
		return Session{}, app.Invalid(app.FieldError{Field: "facilitator_ids", Message: "Choose at most 10 facilitators for a session"})
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := lockComingManaged(ctx, tx, p, sessionID, now, "facilitators"); err != nil {
			return err
		}
		if err := checkFacilitators(ctx, tx, ids); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM session_facilitators WHERE session_id = $1", sessionID); err != nil {
			return err
		}
		for _, u := range ids {
			if _, err := tx.ExecContext(ctx, "INSERT INTO session_facilitators (session_id, user_id) VALUES ($1, $2)", sessionID, u); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "group.session.facilitators",
			ObjectType: "group_session", ObjectID: itoa(sessionID)})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return Session{}, access.Denied(ctx, s.Audit, p, app.PermGroupManage, "group.session.facilitators", "group_session", sessionID, "The session", err)
	}
	if err != nil {
		return Session{}, err
	}
	d, err := s.GetSession(ctx, p, sessionID, "")
	return d.Session, err
}
