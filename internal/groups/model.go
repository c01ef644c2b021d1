// Package groups is peer support outside referrals: groups, courses,
// network meetings and partner events with limited places, a fair waiting
// list, public listings and calendar feeds, the register, and the peer
// network's own proposals. No referral is needed to come to a group, and
// booking a public group needs no account: a name and a way to be
// contacted.
//
// The package owns peer_groups, group_facilitators, group_sessions,
// session_facilitators, group_bookings, group_booking_keys,
// group_booking_events, group_offers, group_attendance, network_proposals
// and network_interest.
//
// Fairness and capacity are decided in one place: every change to a
// session's places or waiting list locks the session's row first (SQLite's
// write transaction already holds the database), and places_held — places
// booked plus places held for open offers — can never exceed the capacity,
// by a CHECK in the database. Which waiting-list entries are offered freed
// places is a pure function, PlanOffers.
package groups

import (
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

// Repeats says how a group's sessions repeat.
type Repeats string

// How groups repeat.
const (
	Once        Repeats = "once"
	Weekly      Repeats = "weekly"
	Fortnightly Repeats = "fortnightly"
	Monthly     Repeats = "monthly"
)

// RepeatChoices are the ways a group repeats, in words.
var RepeatChoices = []app.Choice{
	{Code: string(Once), Label: "A one-off event"},
	{Code: string(Weekly), Label: "Every week"},
	{Code: string(Fortnightly), Label: "Every two weeks"},
	{Code: string(Monthly), Label: "Every month"},
}

// Visibility says who may see a group.
type Visibility string

// Who may see a group.
const (
	Public     Visibility = "public"
	Members    Visibility = "members"
	Invitation Visibility = "invitation"
)

// VisibilityChoices are the visibilities, in words.
var VisibilityChoices = []app.Choice{
	{Code: string(Public), Label: "Anyone: listed publicly, no account needed"},
	{Code: string(Members), Label: "People who use the team's service, and its staff"},
	{Code: string(Invitation), Label: "Only people given the invitation link"},
}

// BookingChoices say whether a group needs booking.
var BookingChoices = []app.Choice{
	{Code: "required", Label: "Booking needed (limited places)"},
	{Code: "drop_in", Label: "Drop-in: no need to book"},
}

// Defaults for a new group.
const (
	DefaultCapacity  = 12
	DefaultMaxPlaces = 2
	DefaultHoldHours = 24
	// LateCancel is how close to the start a cancellation counts as late
	// (recorded for the team's information, never to stop anyone booking).
	LateCancel = 24 * time.Hour
)

// Group is a group or event, as anyone who may see it sees it.
type Group struct {
	ID         int64      `json:"id"`
	TeamID     int64      `json:"team_id"`
	TeamName   string     `json:"team_name"`
	OrgID      int64      `json:"organisation_id"`
	OrgName    string     `json:"organisation_name"`
	OrgKind    string     `json:"organisation_kind" doc:"nhs_trust, partner_agency or peer_network: who runs it"`
	Title      string     `json:"title"`
	Summary    string     `json:"summary"`
	Repeats    Repeats    `json:"repeats"`
	Visibility Visibility `json:"visibility"`
	Booking    string     `json:"booking" doc:"required or drop_in"`
	Capacity   int        `json:"capacity"`
	MaxPlaces  int        `json:"max_places" doc:"The most places one booking may take (for a companion or carer)."`
	HoldHours  int        `json:"hold_hours" doc:"How long an offered place is held before it moves to the next person waiting."`
	Venue      Venue      `json:"venue"`
	// InviteCode is shown only to those who run the group.
	InviteCode   string    `json:"invite_code,omitempty"`
	Facilitators []Person  `json:"facilitators"`
	CreatedAt    time.Time `json:"created_at"`
	// Sessions are the coming sessions (and, for those who run the group,
	// the recent ones).
	Sessions []Session `json:"sessions"`
	// Manage is set when the caller runs the group.
	Manage bool `json:"manage"`
	// Version stands for the details as they are now, for those who run
	// the group: a change sends it back, and a change made since answers
	// 409.
	Version string `json:"version,omitempty" doc:"For those who run the group: send it back with a change (PUT); a change made since answers 409."`
}

// Venue is where a group meets, and how accessible it is.
type Venue struct {
	Online      bool   `json:"online"`
	OnlineLink  string `json:"online_link,omitempty" doc:"Shown only to those who run the group and people booked on it."`
	Name        string `json:"name"`
	Address     string `json:"address"`
	StepFree    bool   `json:"step_free"`
	HearingLoop bool   `json:"hearing_loop"`
	QuietRoom   bool   `json:"quiet_room"`
	Transport   string `json:"transport" doc:"Nearest transport."`
	AccessNotes string `json:"access_notes"`
}

// Where is the venue in a line.
func (v Venue) Where() string {
	if v.Online {
		return "Online"
	}
	switch {
	case v.Name != "" && v.Address != "":
		return v.Name + ", " + v.Address
	case v.Name != "":
		return v.Name
	}
	return v.Address
}

// Person is a member of staff named on a group (a facilitator).
type Person struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
}

// Session is one date of a group, with its places as anyone may see them:
// counts only.
type Session struct {
	ID           int64     `json:"id"`
	GroupID      int64     `json:"group_id"`
	GroupTitle   string    `json:"group_title,omitempty"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	Status       string    `json:"status" doc:"scheduled or cancelled"`
	CancelReason string    `json:"cancel_reason,omitempty"`
	Capacity     int       `json:"capacity"`
	PlacesLeft   int       `json:"places_left"`
	Waiting      int       `json:"waiting" doc:"How many bookings are on the waiting list."`
	Booking      string    `json:"booking" doc:"required or drop_in"`
	Facilitators []Person  `json:"facilitators"`
}

// Cancelled reports whether the session was called off.
func (s Session) Cancelled() bool { return s.Status == "cancelled" }

// Full reports whether a new booking would join the waiting list.
func (s Session) Full() bool { return s.PlacesLeft <= 0 || s.Waiting > 0 }

// Booking statuses.
const (
	StatusBooked    = "booked"
	StatusWaiting   = "waiting"
	StatusCancelled = "cancelled"
	StatusLeft      = "left"
	StatusExpired   = "expired"
)

// Booking is one request for places, as its holder and those who run the
// session see it.
type Booking struct {
	ID          int64      `json:"id"`
	Reference   string     `json:"reference"`
	SessionID   int64      `json:"session_id"`
	GroupID     int64      `json:"group_id"`
	GroupTitle  string     `json:"group_title"`
	StartsAt    time.Time  `json:"starts_at"`
	EndsAt      time.Time  `json:"ends_at"`
	SessionOff  bool       `json:"session_cancelled"`
	Places      int        `json:"places"`
	Status      string     `json:"status" doc:"booked, waiting, cancelled, left or expired"`
	Position    int        `json:"position,omitempty" doc:"Place on the waiting list: 1 is next."`
	Name        string     `json:"name"`
	Email       string     `json:"email,omitempty"`
	Phone       string     `json:"phone,omitempty"`
	AccessNeeds string     `json:"access_needs,omitempty"`
	Venue       Venue      `json:"venue"`
	Offer       *Offer     `json:"offer,omitempty" doc:"An open offer of a place, to accept or decline before it expires."`
	LateCancel  bool       `json:"late_cancel,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	History     []Event    `json:"history"`
	PersonID    int64      `json:"-"`
	UserID      int64      `json:"-"`
	JoinedList  *time.Time `json:"-"`
}

// Live reports whether the booking holds places or a place on the list.
func (b Booking) Live() bool { return b.Status == StatusBooked || b.Status == StatusWaiting }

// Offer is a place offered from the waiting list.
type Offer struct {
	ID        int64     `json:"id"`
	BookingID int64     `json:"booking_id"`
	Places    int       `json:"places"`
	OfferedAt time.Time `json:"offered_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Status    string    `json:"status" doc:"open, accepted, declined, expired or withdrawn"`
}

// Event is one thing that happened to a booking.
type Event struct {
	At           time.Time `json:"at"`
	Kind         string    `json:"kind" doc:"booked, joined_list, moved, offered, offer_accepted, offer_declined, offer_expired, offer_withdrawn, cancelled, left, session_cancelled"`
	Text         string    `json:"text" doc:"What happened, in words, as the person reads it."`
	FromPosition int       `json:"from_position,omitempty"`
	ToPosition   int       `json:"to_position,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	ByStaff      bool      `json:"by_staff"`
}

// Entry is one waiting-list entry, for the pure fairness rules.
type Entry struct {
	BookingID int64
	Position  int
	Places    int
	Offered   bool // holds an open offer already
}
