package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
)

var (
	exampleSession = groups.Session{ID: 31, GroupID: 5, GroupTitle: "Hearing Voices Group", StartsAt: time.Date(2026, 11, 10, 10, 30, 0, 0, time.UTC),
		EndsAt: time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC), Status: "scheduled", Capacity: 12, PlacesLeft: 3, Booking: "required",
		Facilitators: []groups.Person{{UserID: 8, Name: "Alex Peer"}, {UserID: 9, Name: "Priya Shah"}}}
	exampleVenue = groups.Venue{Name: "Recovery College", Address: "12 Park Row, Leeds LS1 5HD", StepFree: true, HearingLoop: true, QuietRoom: true,
		Transport: "Leeds station, 5 minutes' walk; buses 1, 4 and 16"}
	exampleGroup = groups.Group{ID: 5, TeamID: 3, TeamName: "North Community Team", OrgID: 1, OrgName: "Leeds and York Partnership", OrgKind: "nhs_trust",
		Title: "Hearing Voices Group", Summary: "A peer-led group for anyone who hears voices.", Repeats: groups.Weekly, Visibility: groups.Public,
		Booking: "required", Capacity: 12, MaxPlaces: 2, HoldHours: 24, Venue: exampleVenue, Facilitators: []groups.Person{{UserID: 8, Name: "Alex Peer"}},
		CreatedAt: exampleTime, Sessions: []groups.Session{exampleSession}}
	exampleBooking = groups.Booking{ID: 77, Reference: "GRP-7KQ3-X9PD", SessionID: 31, GroupID: 5, GroupTitle: "Hearing Voices Group",
		StartsAt: exampleSession.StartsAt, EndsAt: exampleSession.EndsAt, Places: 1, Status: "waiting", Position: 2, Name: "Sam",
		Email: "sam@example.org", Venue: exampleVenue, CreatedAt: exampleTime,
		History: []groups.Event{{At: exampleTime, Kind: "joined_list", Text: "Joined the waiting list at number 3", ToPosition: 3},
			{At: exampleTime, Kind: "moved", Text: "Moved up the waiting list from number 3 to number 2 because: a carer's only free day",
				FromPosition: 3, ToPosition: 2, Reason: "a carer's only free day", ByStaff: true}}}
	exampleProposal = groups.Proposal{ID: 4, Title: "Allotment mornings", Summary: "Growing vegetables together on Saturday mornings",
		Status: "open", Interest: 7, CreatedAt: exampleTime}
	exampleICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mutual//Peer support groups//EN\r\nMETHOD:PUBLISH\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n…\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:session-31@mutual\r\n" +
		"DTSTART;TZID=Europe/London:20261110T103000\r\nDTEND;TZID=Europe/London:20261110T120000\r\nSUMMARY:Hearing Voices Group\r\n" +
		"STATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	exampleAtom = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom"><title>New peer support groups and events</title>` +
		`<entry><title>Hearing Voices Group</title><id>tag:mutual.example,2026:group-5</id><updated>2026-11-02T10:30:00Z</updated>` +
		`<link href="https://mutual.example/groups/5" rel="alternate"></link><summary>Next: Tuesday 10 November 2026 at 10:30am, Recovery College</summary></entry></feed>`
)

var (
	keyParam     = Param{Name: "key", In: "query", Type: "string", Description: "The booking's key, from its link (not needed when signed in as the account that booked)."}
	inviteParam  = Param{Name: "invite", In: "query", Type: "string", Description: "The code from an invitation link, for an invitation-only group."}
	groupFilters = []Param{{Name: "team", In: "query", Type: "integer", Description: "Only this team's groups."},
		{Name: "organisation", In: "query", Type: "integer", Description: "Only groups of this organisation's teams (a partner agency, say)."}}
	groupPeriod = []Param{{Name: "from", In: "query", Type: "string", Description: "First day, YYYY-MM-DD (default: six months ago, from the 1st)."},
		{Name: "to", In: "query", Type: "string", Description: "Last day, YYYY-MM-DD (default: today)."}}
)

var opListGroups = APIOp{Summary: "Groups and events you may see, with their coming sessions (public ones without a token)", Tag: "Groups",
	Description: "Places are counts only (places_left, waiting): nobody's booking is shown.",
	Query:       append(append([]Param{}, groupFilters...), Param{Name: "q", In: "query", Type: "string", Description: "Words in the name or description."}),
	Response:    []groups.Group{exampleGroup}}

var opGetGroup = APIOp{Summary: "One group or event, with its sessions", Tag: "Groups", Query: append(append([]Param{}, id...), inviteParam), Response: exampleGroup}

var opCreateGroup = APIOp{Summary: "Make a group or event run by a team you lead", Tag: "Groups", Status: http.StatusCreated,
	Description: "Add its sessions with POST /api/v1/groups/{id}/sessions. An invitation-only group gets an invite_code for its link.",
	Request: groups.NewGroup{TeamID: 3, Title: "Hearing Voices Group", Summary: "A peer-led group for anyone who hears voices.", Repeats: groups.Weekly,
		Visibility: groups.Public, Capacity: 12, MaxPlaces: 2, HoldHours: 24, Venue: exampleVenue, FacilitatorIDs: []int64{8, 9}},
	Response: exampleGroup}

var opEditGroup = APIOp{Summary: "Change a group or event you lead: its details, where it meets, who can see it, booking and the rota", Tag: "Groups", Query: id,
	Description: "Send every detail, with the version from GET /api/v1/groups/{id}: a change made since answers 409. A change to where it meets, " +
		"its access or its joining link is told to everyone booked or waiting for a coming session. A coming session's places change with " +
		"POST /api/v1/sessions/{id}/capacity.",
	Request: groups.GroupChange{Version: "5f2c8e1a9b3d4c70", Title: "Hearing Voices Group", Summary: "A peer-led group for anyone who hears voices.",
		Repeats: groups.Weekly, Visibility: groups.Public, Booking: "required", Capacity: 12, MaxPlaces: 2, HoldHours: 24, Venue: exampleVenue,
		FacilitatorIDs: []int64{8, 9}},
	Response: exampleGroup}

var opAddSessions = APIOp{Summary: "Add a session, or a weekly, fortnightly or monthly run of them, to a group you lead", Tag: "Groups",
	Status: http.StatusCreated, Query: id,
	Description: "Times are UK time and keep their wall-clock time across the clocks changing. Monthly sessions on the 29th–31st fall on the last day of shorter months.",
	Request:     groups.NewSessions{Start: "2026-11-10T10:30", Minutes: 90, Repeat: groups.Weekly, Count: 8},
	Response:    []groups.Session{exampleSession}}

var opGetSession = APIOp{Summary: "One session: when, where, places left", Tag: "Groups", Query: append(append([]Param{}, id...), inviteParam),
	Response: groups.SessionDetail{Session: exampleSession, Group: exampleGroup}}

var opBook = APIOp{Summary: "Book a place (no account needed: a name and an email or phone number)", Tag: "Bookings", Status: http.StatusCreated, Query: id,
	Description: "Answers status booked, or waiting with your position on the waiting list (arrival order). When a place frees, the first person waiting " +
		"whom it fits is offered it, held for the group's hold time. Keep the key: with it you can see or cancel the booking. Limited per network address.",
	Request:  groups.BookingRequest{Name: "Sam", Email: "sam@example.org", Places: 1},
	Response: groups.BookingResult{ID: 77, Reference: "GRP-7KQ3-X9PD", Status: "waiting", Position: 3, Key: "Zk3…", Link: "https://mutual.example/bookings/77?key=Zk3…"}}

var opGetBooking = APIOp{Summary: "A booking: its status, place on the waiting list, any offer, and its history (moves by staff with their reasons)", Tag: "Bookings",
	Query: append(append([]Param{}, id...), keyParam), Response: exampleBooking}

var opCancelBooking = APIOp{Summary: "Cancel a booking, or leave the waiting list, in one step", Tag: "Bookings", Query: append(append([]Param{}, id...), keyParam),
	Description: "With the booking's key, or signed in as the account that booked. The places go at once to the first people waiting whom they fit. " +
		"A booking already cancelled answers as it is.",
	Response: groups.Cancelled{Status: "cancelled"}}

var opMove = APIOp{Summary: "Move someone on a waiting list, with the reason they will see (the group's leads)", Tag: "Bookings", Query: id,
	Description: "The id is the booking's. Everyone between the old and new places moves one along, with the same reason in their history.",
	Request:     groups.Move{Position: 1, Reason: "Tuesday is the only day their carer can come"},
	Response:    groups.MoveResult{ID: 77, Position: 1, Status: "waiting"}}

var opAcceptOffer = APIOp{Summary: "Say yes to a place offered from the waiting list", Tag: "Bookings", Query: append(append([]Param{}, id...), keyParam),
	Response: exampleBooking}

var opDeclineOffer = APIOp{Summary: "Say no to a place offered from the waiting list (and leave the list)", Tag: "Bookings", Query: append(append([]Param{}, id...), keyParam),
	Response: exampleBooking}

// RegisterResult is what taking a register recorded.
type RegisterResult struct {
	SessionID int64     `json:"session_id"`
	TakenAt   time.Time `json:"register_taken_at"`
	Attended  int       `json:"attended" doc:"People who came, drop-ins included."`
	NoShows   int       `json:"no_shows"`
	DropIns   int       `json:"drop_ins" doc:"People who came without booking."`
}

var opAttendance = APIOp{Summary: "Take a session's register, drop-ins included (its facilitators and the group's leads)", Tag: "Groups", Query: id,
	Description: "From the day of the session. Taking it again corrects it.",
	Request:     groups.Register{Entries: []groups.RegisterEntry{{BookingID: 77, Outcome: "attended"}}, DropIns: []groups.DropIn{{Name: "J", People: 1}}},
	Response:    RegisterResult{SessionID: 31, TakenAt: exampleTime, Attended: 9, NoShows: 1, DropIns: 1}}

var opParticipants = APIOp{Summary: "Who is booked on and waiting for a session (its facilitators and the group's leads; audited)", Tag: "Groups", Query: id,
	Response: groups.Participants{Session: exampleSession, Group: exampleGroup, Booked: []groups.Participant{{Booking: exampleBooking}},
		Waiting: []groups.Participant{}, Cancelled: []groups.Participant{}, DropIns: []groups.DropIn{}, CanManage: true}}

var opCapacity = APIOp{Summary: "Change a session's places (the group's leads): more places are offered at once down the waiting list", Tag: "Groups", Query: id,
	Request: groups.CapacityChange{Capacity: 14}, Response: exampleSession}

var opCancelSession = APIOp{Summary: "Cancel a session (the group's leads): everyone booked or waiting is told, with the reason", Tag: "Groups", Query: id,
	Request: groups.SessionCancel{Reason: "The venue is closed for repairs"}, Response: exampleSession}

var opSessionFacilitators = APIOp{Summary: "Choose who facilitates a coming session (the group's leads)", Tag: "Groups", Query: id,
	Description: "Someone taken off it no longer sees its participants. The group's rota is unchanged: change it with PUT /api/v1/groups/{id}.",
	Request:     groups.SessionFacilitators{FacilitatorIDs: []int64{8, 9}}, Response: exampleSession}

var opMyBookings = APIOp{Summary: "Your own bookings and places on waiting lists", Tag: "Bookings", Response: []groups.Booking{exampleBooking}}

var opGroupInsight = APIOp{Summary: "Groups per month: sessions, places, bookings, attendance, no-shows, unmet demand, time to a place", Tag: "Insight",
	Description: "Counts of people from 1 to 4 are suppressed (null, suppressed: true).", Query: groupPeriod,
	Response: groups.GroupInsight{From: "2026-05-01", To: "2026-11-02", Threshold: 5, Unmet: []string{"Hearing Voices Group"},
		Months: []groups.GroupMonth{{GroupID: 5, Title: "Hearing Voices Group", TeamName: "North Community Team", Month: "2026-10", Sessions: 4, Places: 48,
			Bookings: new(44), Attended: new(39), NoShows: nil, Late: nil, Unplaced: new(6), HoursToPlace: new(30.5), UnmetDemand: true, Suppressed: true}}}}

var opProposals = APIOp{Summary: "The peer network's proposed activities: unanswered first, then what became of the rest", Tag: "Network",
	Response: []groups.Proposal{exampleProposal}}

var opPropose = APIOp{Summary: "Propose an activity or workshop to the peer network", Tag: "Network", Status: http.StatusCreated,
	Request: groups.NewProposal{Title: "Allotment mornings", Summary: "Growing vegetables together on Saturday mornings"}, Response: exampleProposal}

var opInterest = APIOp{Summary: "Show interest in a proposed activity", Tag: "Network", Query: id, Response: exampleProposal}

var opAnswerProposal = APIOp{Summary: "Answer a proposal: taken up as an event, or why not (leads and network organisers)", Tag: "Network", Query: id,
	Request:  groups.ProposalAnswer{Outcome: "not_taken_up", Answer: "No venue on Saturdays yet: we will ask the allotment society in spring."},
	Response: exampleProposal}

var opGroupsFeed = APIOp{Summary: "iCalendar feed of public groups and events (all, one team's, or one organisation's)", Tag: "Feeds",
	Description: "Subscribe in a calendar program. Times are Europe/London; cancelled sessions are STATUS:CANCELLED.",
	Query:       groupFilters, ContentType: "text/calendar", Response: exampleICS}

var opNewEventsFeed = APIOp{Summary: "Atom feed of new public groups and events", Tag: "Feeds", ContentType: "application/atom+xml", Response: exampleAtom}

// groupFilter reads the team and organisation query values.
func groupFilter(q url.Values) (groups.FeedFilter, error) {
	var f groups.FeedFilter
	var err error
	if f.TeamID, err = queryID(q, "team"); err != nil {
		return f, err
	}
	f.OrganisationID, err = queryID(q, "organisation")
	return f, err
}

func (s *Server) apiListGroups(w http.ResponseWriter, r *http.Request) error {
	f, err := groupFilter(r.URL.Query())
	if err != nil {
		return err
	}
	list, err := s.groups.ListGroups(r.Context(), principalOrPublic(r), groups.Filter{TeamID: f.TeamID, OrganisationID: f.OrganisationID, Query: r.URL.Query().Get("q")})
	if err != nil {
		return err
	}
	if list == nil {
		list = []groups.Group{}
	}
	return writeJSON(w, http.StatusOK, list)
}

// principalOrPublic is the caller, or the public caller for a request made
// without signing in.
func principalOrPublic(r *http.Request) *app.Principal {
	if p := principal(r); p != nil && !p.MFAPending && !p.MFASetup {
		return p
	}
	return app.Public(requestID(r.Context()))
}

func (s *Server) apiGetGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := s.groups.GetGroup(r.Context(), principalOrPublic(r), id, r.URL.Query().Get("invite"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) apiCreateGroup(w http.ResponseWriter, r *http.Request) error {
	var in groups.NewGroup
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := s.groups.CreateGroup(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/groups/"+itoa(g.ID))
	return writeJSON(w, http.StatusCreated, g)
}

func (s *Server) apiEditGroup(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.GroupChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := s.groups.EditGroup(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) apiAddSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.NewSessions
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	list, err := s.groups.AddSessions(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, list)
}

func (s *Server) apiGetSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.groups.GetSession(r.Context(), principalOrPublic(r), id, r.URL.Query().Get("invite"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiBook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.BookingRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p := principalOrPublic(r)
	if p.UserID == 0 {
		if err := groups.CheckBooking(p, in); err != nil {
			return err
		}
		if err := s.limitPublicForm(r, "group-booking"); err != nil {
			return err
		}
	}
	res, err := s.groups.Book(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/bookings/"+itoa(res.ID))
	return writeJSON(w, http.StatusCreated, res)
}

func (s *Server) apiGetBooking(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := s.groups.GetBooking(r.Context(), principalOrPublic(r), id, r.URL.Query().Get("key"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func (s *Server) apiCancelBooking(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.groups.Cancel(r.Context(), principalOrPublic(r), id, r.URL.Query().Get("key"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiMove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.Move
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.groups.MoveOnList(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiAnswerOffer(accept bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		answer := s.groups.DeclineOffer
		if accept {
			answer = s.groups.AcceptOffer
		}
		b, err := answer(r.Context(), principalOrPublic(r), id, r.URL.Query().Get("key"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, b)
	}
}

func (s *Server) apiAttendance(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.Register
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.groups.RecordAttendance(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RegisterResult{SessionID: id, TakenAt: res.TakenAt, Attended: res.Attended, NoShows: res.NoShows, DropIns: res.DropIns})
}

func (s *Server) apiParticipants(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ps, err := s.groups.Participants(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ps)
}

func (s *Server) apiCapacity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.CapacityChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	se, err := s.groups.SetCapacity(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, se)
}

func (s *Server) apiSessionFacilitators(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.SessionFacilitators
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	se, err := s.groups.SetFacilitators(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, se)
}

func (s *Server) apiCancelSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.SessionCancel
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	se, err := s.groups.CancelSession(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, se)
}

func (s *Server) apiMyBookings(w http.ResponseWriter, r *http.Request) error {
	list, err := s.groups.MyBookings(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiGroupInsight(w http.ResponseWriter, r *http.Request) error {
	from, to, err := groups.InsightPeriod(r.URL.Query().Get("from"), r.URL.Query().Get("to"), s.clock.Now())
	if err != nil {
		return err
	}
	gi, err := s.groups.Insight(r.Context(), principal(r), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, gi)
}

func (s *Server) apiProposals(w http.ResponseWriter, r *http.Request) error {
	list, err := s.groups.Proposals(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiPropose(w http.ResponseWriter, r *http.Request) error {
	var in groups.NewProposal
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pr, err := s.groups.Propose(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, pr)
}

func (s *Server) apiInterest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pr, err := s.groups.ShowInterest(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

func (s *Server) apiAnswerProposal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in groups.ProposalAnswer
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pr, err := s.groups.AnswerProposal(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

func (s *Server) handleGroupsFeed(w http.ResponseWriter, r *http.Request) error {
	f, err := groupFilter(r.URL.Query())
	if err != nil {
		return err
	}
	b, err := s.groups.Feed(r.Context(), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="groups.ics"`)
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(b)
	return err
}

func (s *Server) handleNewEventsFeed(w http.ResponseWriter, r *http.Request) error {
	b, err := s.groups.NewEventsFeed(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(b)
	return err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
