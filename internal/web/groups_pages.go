package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// groupsRoutes are groups and events, bookings and the waiting list, the
// register, the public feeds and the peer network: one line per route.
func (s *Server) groupsRoutes() []*Route {
	return []*Route{
		pageRoute("GET /groups", app.PermPublic, s.handleGroups),
		pageRoute("GET /groups/new", app.PermGroupManage, s.handleGroupForm),
		pageRoute("POST /groups", app.PermGroupManage, s.handleGroupCreate),
		pageRoute("GET /groups/{id}", app.PermPublic, byID(s.groupPage)),
		pageRoute("GET /groups/{id}/edit", app.PermGroupManage, byID(s.groupEditPage)),
		pageRoute("POST /groups/{id}/edit", app.PermGroupManage, s.handleGroupUpdate),
		pageRoute("POST /groups/{id}/sessions", app.PermGroupManage, s.handleAddSessions),
		pageRoute("GET /sessions/{id}", app.PermPublic, byID(s.sessionPage)),
		personPage("POST /sessions/{id}/book", app.PermPublic, s.handleBook),
		personPage("GET /bookings/{id}", app.PermPublic, s.handleBooking),
		personPage("POST /bookings/{id}/cancel", app.PermPublic, s.handleBookingCancel),
		personPage("GET /bookings/{id}/calendar.ics", app.PermPublic, s.handleBookingCalendar),
		personPage("POST /offers/{id}/accept", app.PermPublic, s.handleOfferAnswer(true)),
		personPage("POST /offers/{id}/decline", app.PermPublic, s.handleOfferAnswer(false)),
		personPage("GET /sessions/{id}/participants", app.PermGroupRun, byID(s.participantsPage)),
		personPage("POST /sessions/{id}/attendance", app.PermGroupRun, s.handleAttendance),
		personPage("POST /sessions/{id}/move", app.PermGroupManage, s.handleMove),
		personPage("POST /sessions/{id}/capacity", app.PermGroupManage, s.handleCapacity),
		personPage("POST /sessions/{id}/cancel", app.PermGroupManage, s.handleSessionCancel),
		pageRoute("POST /sessions/{id}/facilitators", app.PermGroupManage, s.handleSessionFacilitators),
		personPage("GET /my/groups", app.PermSignedIn, s.handleMyGroups),
		pageRoute("GET /groups/insight", app.PermInsightRead, s.handleGroupInsight),
		pageRoute("GET /network", app.PermNetworkJoin, s.handleNetwork),
		pageRoute("POST /network/proposals", app.PermNetworkJoin, s.handlePropose),
		pageRoute("POST /network/proposals/{id}/interest", app.PermNetworkJoin, s.handleInterest),
		pageRoute("POST /network/proposals/{id}/answer", app.PermGroupManage, s.handleAnswerProposal),
		apiRoute("GET /groups.ics", app.PermPublic, opGroupsFeed, s.handleGroupsFeed),
		apiRoute("GET /groups/feed.xml", app.PermPublic, opNewEventsFeed, s.handleNewEventsFeed),
		apiRoute("GET /api/v1/groups", app.PermPublic, opListGroups, s.apiListGroups),
		apiRoute("POST /api/v1/groups", app.PermGroupManage, opCreateGroup, s.apiCreateGroup),
		apiRoute("GET /api/v1/groups/{id}", app.PermPublic, opGetGroup, s.apiGetGroup),
		apiRoute("PUT /api/v1/groups/{id}", app.PermGroupManage, opEditGroup, s.apiEditGroup),
		apiRoute("POST /api/v1/groups/{id}/sessions", app.PermGroupManage, opAddSessions, s.apiAddSessions),
		apiRoute("GET /api/v1/sessions/{id}", app.PermPublic, opGetSession, s.apiGetSession),
		personAPI("POST /api/v1/sessions/{id}/bookings", app.PermPublic, opBook, s.apiBook),
		personAPI("GET /api/v1/bookings/{id}", app.PermPublic, opGetBooking, s.apiGetBooking),
		personAPI("DELETE /api/v1/bookings/{id}", app.PermPublic, opCancelBooking, s.apiCancelBooking),
		personAPI("POST /api/v1/offers/{id}/accept", app.PermPublic, opAcceptOffer, s.apiAnswerOffer(true)),
		personAPI("POST /api/v1/offers/{id}/decline", app.PermPublic, opDeclineOffer, s.apiAnswerOffer(false)),
		personAPI("POST /api/v1/waiting-list/{id}/move", app.PermGroupManage, opMove, s.apiMove),
		personAPI("GET /api/v1/sessions/{id}/participants", app.PermGroupRun, opParticipants, s.apiParticipants),
		personAPI("POST /api/v1/sessions/{id}/attendance", app.PermGroupRun, opAttendance, s.apiAttendance),
		personAPI("POST /api/v1/sessions/{id}/capacity", app.PermGroupManage, opCapacity, s.apiCapacity),
		personAPI("POST /api/v1/sessions/{id}/cancel", app.PermGroupManage, opCancelSession, s.apiCancelSession),
		apiRoute("PUT /api/v1/sessions/{id}/facilitators", app.PermGroupManage, opSessionFacilitators, s.apiSessionFacilitators),
		personAPI("GET /api/v1/my/bookings", app.PermSignedIn, opMyBookings, s.apiMyBookings),
		apiRoute("GET /api/v1/insight/groups", app.PermInsightRead, opGroupInsight, s.apiGroupInsight),
		apiRoute("GET /api/v1/proposals", app.PermNetworkJoin, opProposals, s.apiProposals),
		apiRoute("POST /api/v1/proposals", app.PermNetworkJoin, opPropose, s.apiPropose),
		apiRoute("POST /api/v1/proposals/{id}/interest", app.PermNetworkJoin, opInterest, s.apiInterest),
		apiRoute("POST /api/v1/proposals/{id}/answer", app.PermGroupManage, opAnswerProposal, s.apiAnswerProposal),
	}
}

type groupsData struct {
	Groups    []groups.Group
	Running   []groups.Session
	Teams     []ui.Option
	CanManage bool
	FeedTeam  string
	Query     url.Values
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := groupFilter(q)
	if err != nil {
		return err
	}
	p := principalOrPublic(r)
	list, err := s.groups.ListGroups(r.Context(), p, groups.Filter{TeamID: f.TeamID, OrganisationID: f.OrganisationID, Query: q.Get("q")})
	if err != nil {
		return err
	}
	running, err := s.groups.Running(r.Context(), p)
	if err != nil {
		return err
	}
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	d := groupsData{Groups: list, Running: running, CanManage: p.Can(app.PermGroupManage), Query: q,
		Teams: []ui.Option{{Value: "", Label: "All teams and organisations"}}}
	for _, t := range teams {
		d.Teams = append(d.Teams, ui.Option{Value: itoa(t.ID), Label: t.Name + " (" + t.OrganisationName + ")"})
	}
	if f.TeamID != 0 {
		d.FeedTeam = "?team=" + itoa(f.TeamID)
	}
	return s.page(w, r, http.StatusOK, "groups/groups", &ui.Page{Title: "Groups and events", Form: ui.NewForm(q), Data: d})
}

type groupFormData struct {
	Group        groups.Group // when changing one
	Teams        []ui.Option
	Repeats      []ui.Option
	Visibility   []ui.Option
	Booking      []ui.Option
	Facilitators []ui.Option
	Access       []ui.Option
}

func (s *Server) groupFormPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form) error {
	p := principal(r)
	managed := groups.ManagedTeams(p)
	teams, err := s.accounts.ListTeams(r.Context())
	if err != nil {
		return err
	}
	d := groupFormData{Repeats: choiceOptions(groups.RepeatChoices), Visibility: choiceOptions(groups.VisibilityChoices),
		Booking: choiceOptions(groups.BookingChoices),
		Access: []ui.Option{{Value: "step_free", Label: "Step-free access"}, {Value: "hearing_loop", Label: "Hearing loop"},
			{Value: "quiet_room", Label: "A quiet room to take a break"}}}
	for _, t := range teams {
		if slices.Contains(managed, t.ID) {
			d.Teams = append(d.Teams, ui.Option{Value: itoa(t.ID), Label: t.Name + " (" + t.OrganisationName + ")"})
		}
	}
	staff, err := s.groups.StaffOf(r.Context(), managed)
	if err != nil {
		return err
	}
	for _, st := range staff {
		d.Facilitators = append(d.Facilitators, ui.Option{Value: itoa(st.UserID), Label: st.Name})
	}
	return s.page(w, r, status, "groups/group-new", &ui.Page{Title: "Make a group or event", Form: f, Data: d, BackLink: "/groups"})
}

func (s *Server) handleGroupForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	vals := url.Values{"repeats": {"weekly"}, "visibility": {"public"}, "booking": {"required"}, "capacity": {"12"}, "max_places": {"2"}, "hold_hours": {"24"}}
	for _, k := range []string{"proposal_id", "title", "summary"} {
		if v := q.Get(k); v != "" {
			vals.Set(k, v)
		}
	}
	if teams := groups.ManagedTeams(principal(r)); len(teams) == 1 {
		vals.Set("team_id", itoa(teams[0]))
	}
	return s.groupFormPage(w, r, http.StatusOK, ui.NewForm(vals))
}

// formNumber reads a whole number a person typed; "" is 0. Anything else
// is a problem for the field.
func formNumber(f *ui.Form, name, label string, p *app.Problems) int {
	v := strings.TrimSpace(f.Value(name))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.Add(name, label+" must be a whole number, like 12")
		return 0
	}
	return n
}

func (s *Server) handleGroupCreate(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var pr app.Problems
	in := groupFromForm(f, &pr)
	in.TeamID, in.ProposalID = formInt(f, "team_id"), formInt(f, "proposal_id")
	if err := pr.Err(); err != nil {
		formWithErrors(f, err)
		return s.groupFormPage(w, r, http.StatusUnprocessableEntity, f)
	}
	g, err := s.groups.CreateGroup(r.Context(), principal(r), in)
	if formWithErrors(f, err) {
		return s.groupFormPage(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	setFlash(w, g.Title+" is made. Now add its sessions.")
	return redirect(w, r, "/groups/"+itoa(g.ID)+"#add-sessions")
}

// groupFromForm reads a group's details from the form that makes or
// changes it (all but its team).
func groupFromForm(f *ui.Form, pr *app.Problems) groups.NewGroup {
	in := groups.NewGroup{Title: f.Value("title"), Summary: f.Value("summary"), Repeats: groups.Repeats(f.Value("repeats")),
		Visibility: groups.Visibility(f.Value("visibility")), Booking: f.Value("booking"),
		Capacity: formNumber(f, "capacity", "Places", pr), MaxPlaces: formNumber(f, "max_places", "Places per booking", pr),
		HoldHours: formNumber(f, "hold_hours", "Hours", pr),
		Venue: groups.Venue{Online: checked(f, "online"), OnlineLink: f.Value("venue.online_link"), Name: f.Value("venue.name"),
			Address: f.Value("venue.address"), Transport: f.Value("venue.transport"), AccessNotes: f.Value("venue.access_notes")}}
	for _, a := range f.All("access") {
		switch a {
		case "step_free":
			in.Venue.StepFree = true
		case "hearing_loop":
			in.Venue.HearingLoop = true
		case "quiet_room":
			in.Venue.QuietRoom = true
		}
	}
	in.FacilitatorIDs = formIDs(f, "facilitator_ids")
	return in
}

// formIDs are the ids ticked in a set of checkboxes.
func formIDs(f *ui.Form, name string) []int64 {
	var out []int64
	for _, v := range f.All(name) {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// groupValues are a group's details as its form shows them.
func groupValues(g groups.Group) url.Values {
	v := g.Venue
	vals := url.Values{"version": {g.Version}, "title": {g.Title}, "summary": {g.Summary}, "repeats": {string(g.Repeats)},
		"visibility": {string(g.Visibility)}, "booking": {g.Booking}, "capacity": {strconv.Itoa(g.Capacity)},
		"max_places": {strconv.Itoa(g.MaxPlaces)}, "hold_hours": {strconv.Itoa(g.HoldHours)}, "venue.online_link": {v.OnlineLink},
		"venue.name": {v.Name}, "venue.address": {v.Address}, "venue.transport": {v.Transport}, "venue.access_notes": {v.AccessNotes}}
	if v.Online {
		vals.Set("online", "yes")
	}
	for name, on := range map[string]bool{"step_free": v.StepFree, "hearing_loop": v.HearingLoop, "quiet_room": v.QuietRoom} {
		if on {
			vals.Add("access", name)
		}
	}
	for _, pe := range g.Facilitators {
		vals.Add("facilitator_ids", itoa(pe.UserID))
	}
	return vals
}

// groupEditPage shows the form that changes a group, to its leads; to
// anyone else the group is not there.
func (s *Server) groupEditPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	g, err := s.groups.GetGroup(r.Context(), principal(r), id, "")
	if err != nil {
		return err
	}
	if !g.Manage {
		return app.NotFound("The group")
	}
	if f == nil {
		f = ui.NewForm(groupValues(g))
	}
	d := groupFormData{Group: g, Repeats: choiceOptions(groups.RepeatChoices), Visibility: choiceOptions(groups.VisibilityChoices),
		Booking: choiceOptions(groups.BookingChoices),
		Access: []ui.Option{{Value: "step_free", Label: "Step-free access"}, {Value: "hearing_loop", Label: "Hearing loop"},
			{Value: "quiet_room", Label: "A quiet room to take a break"}}}
	if d.Facilitators, err = s.staffOptions(r, g.TeamID, g.Facilitators); err != nil {
		return err
	}
	return s.page(w, r, status, "groups/group-edit", &ui.Page{Title: "Change " + g.Title, Form: f, Data: d, BackLink: "/groups/" + itoa(id)})
}

// staffOptions are the people a lead may choose to facilitate: the team's
// staff, and whoever facilitates now (who may have left the team).
func (s *Server) staffOptions(r *http.Request, teamID int64, current []groups.Person) ([]ui.Option, error) {
	staff, err := s.groups.StaffOf(r.Context(), []int64{teamID})
	if err != nil {
		return nil, err
	}
	for _, pe := range current {
		if !slices.ContainsFunc(staff, func(st groups.Person) bool { return st.UserID == pe.UserID }) {
			staff = append(staff, pe)
		}
	}
	var out []ui.Option
	for _, st := range staff {
		out = append(out, ui.Option{Value: itoa(st.UserID), Label: st.Name})
	}
	return out, nil
}

func (s *Server) handleGroupUpdate(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var pr app.Problems
	ng := groupFromForm(f, &pr)
	if err := pr.Err(); err != nil {
		formWithErrors(f, err)
		return s.groupEditPage(w, r, http.StatusUnprocessableEntity, id, f)
	}
	g, err := s.groups.EditGroup(r.Context(), principal(r), id, groups.GroupChange{Version: f.Value("version"), Title: ng.Title, Summary: ng.Summary,
		Repeats: ng.Repeats, Visibility: ng.Visibility, Booking: ng.Booking, Capacity: ng.Capacity, MaxPlaces: ng.MaxPlaces, HoldHours: ng.HoldHours,
		Venue: ng.Venue, FacilitatorIDs: ng.FacilitatorIDs})
	switch {
	case formWithErrors(f, err):
		return s.groupEditPage(w, r, http.StatusUnprocessableEntity, id, f)
	case app.IsCode(err, app.CodeConflict):
		// What they typed stays; the version becomes the one now, so
		// saving again (having looked) makes their change.
		f.AddError("", app.As(err).Message)
		if cur, gerr := s.groups.GetGroup(r.Context(), principal(r), id, ""); gerr == nil {
			f.Values.Set("version", cur.Version)
		}
		return s.groupEditPage(w, r, http.StatusConflict, id, f)
	case err != nil:
		return err
	}
	setFlash(w, g.Title+" is changed.")
	return redirect(w, r, "/groups/"+itoa(id))
}

type groupPageData struct {
	Group      groups.Group
	Invite     string
	InviteLink string
	Repeats    []ui.Option
	FeedLink   string
}

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	invite := r.URL.Query().Get("invite")
	g, err := s.groups.GetGroup(r.Context(), principalOrPublic(r), id, invite)
	if err != nil {
		return err
	}
	d := groupPageData{Group: g, Invite: invite, Repeats: choiceOptions(groups.RepeatChoices)}
	if g.InviteCode != "" {
		d.InviteLink = s.cfg.BaseURL + "/groups/" + itoa(g.ID) + "?invite=" + url.QueryEscape(g.InviteCode)
	}
	if g.Visibility == groups.Public {
		d.FeedLink = "/groups.ics?team=" + itoa(g.TeamID)
	}
	if f == nil {
		f = ui.NewForm(url.Values{"minutes": {"90"}, "count": {"1"}, "repeat": {string(g.Repeats)}, "start-time": {"10:30"}})
	}
	return s.page(w, r, status, "groups/group", &ui.Page{Title: g.Title, Form: f, Data: d, BackLink: "/groups"})
}

func (s *Server) handleAddSessions(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var pr app.Problems
	start := ""
	if day := formDate(f, "start", &pr); day != "" {
		tm := strings.TrimSpace(f.Value("start-time"))
		if _, err := time.Parse("15:04", tm); err != nil {
			pr.Add("start-time", "Enter the start time like 10:30")
		}
		start = day + "T" + tm
	} else if !pr.Has("start") {
		pr.Add("start", "Enter the date of the first session")
	}
	in := groups.NewSessions{Start: start, Minutes: formNumber(f, "minutes", "How long", &pr), Repeat: groups.Repeats(f.Value("repeat")),
		Count: formNumber(f, "count", "How many", &pr), Capacity: formNumber(f, "capacity", "Places", &pr)}
	if err := pr.Err(); err != nil {
		formWithErrors(f, err)
		return s.groupPage(w, r, http.StatusUnprocessableEntity, id, f)
	}
	list, err := s.groups.AddSessions(r.Context(), principal(r), id, in)
	if err != nil {
		if ae := app.As(err); ae.Code == app.CodeInvalid {
			for _, fe := range ae.Fields {
				f.AddError(fe.Field, fe.Message)
			}
			return s.groupPage(w, r, http.StatusUnprocessableEntity, id, f)
		}
		return err
	}
	setFlash(w, plural(len(list), "session", "sessions")+" added")
	return redirect(w, r, "/groups/"+itoa(id))
}

type sessionPageData struct {
	groups.SessionDetail
	SignedIn   bool
	Invite     string
	Places     []ui.Option
	CanBook    bool
	NotBooking string // why the session cannot be booked, when it cannot
	// Spaces: where a member of staff may share the session (none for
	// anyone else).
	Spaces []ui.Option
}

func (s *Server) sessionPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	invite := r.URL.Query().Get("invite")
	if f != nil && f.Value("invite") != "" {
		invite = f.Value("invite")
	}
	p := principalOrPublic(r)
	d, err := s.groups.GetSession(r.Context(), p, id, invite)
	if err != nil {
		return err
	}
	v := sessionPageData{SessionDetail: d, SignedIn: p.UserID != 0, Invite: invite}
	for i := 1; i <= d.Group.MaxPlaces; i++ {
		label := "Just me"
		if i > 1 {
			label = fmt.Sprintf("Me and %s", plural(i-1, "other person (a companion or carer)", "others"))
		}
		v.Places = append(v.Places, ui.Option{Value: strconv.Itoa(i), Label: label})
	}
	switch {
	case d.Session.Cancelled():
		v.NotBooking = "This session has been cancelled: " + d.Session.CancelReason
	case !d.Session.StartsAt.After(s.clock.Now()):
		v.NotBooking = "This session has already started."
	case d.Session.Booking == "drop_in":
		v.NotBooking = "This is a drop-in: there is no need to book, just come along."
	default:
		v.CanBook = true
	}
	if f == nil {
		f = ui.NewForm(url.Values{"places": {"1"}})
	}
	if community.MayShare(p) && !d.Session.Cancelled() {
		if v.Spaces, err = s.shareSpaces(r); err != nil {
			return err
		}
	}
	return s.page(w, r, status, "groups/session", &ui.Page{Title: d.Group.Title + ": " + groups.When(d.Session.StartsAt), Form: f, Data: v,
		BackLink: "/groups/" + itoa(d.Group.ID)})
}

const bookingCookie = "__Host-mutual-booking"

// rememberBooking keeps a booking's key in a short-lived cookie, so its
// page can be shown without the key in the address (and so in history).
func rememberBooking(w http.ResponseWriter, id int64, key string) {
	if key == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: bookingCookie, Value: itoa(id) + "|" + key, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 3600})
}

// bookingKey is the key for a booking: from its link, a form, or the
// cookie set when it was made.
func bookingKey(r *http.Request, id int64, f *ui.Form) string {
	if f != nil && f.Value("key") != "" {
		return f.Value("key")
	}
	if k := r.URL.Query().Get("key"); k != "" {
		return k
	}
	if c, err := r.Cookie(bookingCookie); err == nil {
		if bid, key, ok := strings.Cut(c.Value, "|"); ok && bid == itoa(id) {
			return key
		}
	}
	return ""
}

func (s *Server) handleBook(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var pr app.Problems
	in := groups.BookingRequest{Name: f.Value("name"), Email: f.Value("email"), Phone: f.Value("phone"), Places: formNumber(f, "places", "Places", &pr),
		AccessNeeds: f.Value("access_needs"), Invite: f.Value("invite")}
	if f.Value("website") != "" {
		// A hidden field only robots fill in: look as if it worked, store nothing.
		setFlash(w, "Thank you. Check your email for your booking.")
		return redirect(w, r, "/sessions/"+itoa(id))
	}
	p := principalOrPublic(r)
	if err := pr.Err(); err != nil {
		formWithErrors(f, err)
		formWithErrors(f, groups.CheckBooking(p, in))
		return s.sessionPage(w, r, http.StatusUnprocessableEntity, id, f)
	}
	if p.UserID == 0 {
		if err := groups.CheckBooking(p, in); err != nil {
			formWithErrors(f, err)
			return s.sessionPage(w, r, http.StatusUnprocessableEntity, id, f)
		}
		if err := s.limitPublicForm(r, "group-booking"); err != nil {
			ae := app.As(err)
			if ae.Code != app.CodeTooMany {
				return err
			}
			f.AddError("", ae.Message)
			w.Header().Set("Retry-After", "60")
			return s.sessionPage(w, r, http.StatusTooManyRequests, id, f)
		}
	}
	res, err := s.groups.Book(r.Context(), p, id, in)
	switch {
	case formWithErrors(f, err):
		return s.sessionPage(w, r, http.StatusUnprocessableEntity, id, f)
	case app.IsCode(err, app.CodeConflict):
		f.AddError("", app.As(err).Message)
		return s.sessionPage(w, r, http.StatusConflict, id, f)
	case err != nil:
		return err
	}
	rememberBooking(w, res.ID, res.Key)
	if res.Status == groups.StatusBooked {
		setFlash(w, "You have a place. Your reference is "+res.Reference+".")
	} else {
		setFlash(w, fmt.Sprintf("You are number %d on the waiting list. Your reference is %s.", res.Position, res.Reference))
	}
	return redirect(w, r, "/bookings/"+itoa(res.ID))
}

type bookingPageData struct {
	Booking  groups.Booking
	Key      string
	Link     string
	Calendar string
	Mine     bool
	Started  bool
}

func (s *Server) bookingPage(w http.ResponseWriter, r *http.Request, status int, id int64, key string, f *ui.Form) error {
	p := principalOrPublic(r)
	b, err := s.groups.GetBooking(r.Context(), p, id, key)
	if err != nil {
		return err
	}
	d := bookingPageData{Booking: b, Key: key, Mine: p.UserID != 0 && b.UserID == p.UserID, Started: !b.StartsAt.After(s.clock.Now()),
		Calendar: "/bookings/" + itoa(id) + "/calendar.ics"}
	if key != "" {
		d.Link = s.cfg.BaseURL + "/bookings/" + itoa(id) + "?key=" + url.QueryEscape(key)
		d.Calendar += "?key=" + url.QueryEscape(key)
	}
	if f == nil {
		f = ui.NewForm(nil)
	}
	return s.page(w, r, status, "groups/booking", &ui.Page{Title: "Booking " + b.Reference, Form: f, Data: d})
}

func (s *Server) handleBooking(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.bookingPage(w, r, http.StatusOK, id, bookingKey(r, id, nil), nil)
}

func (s *Server) handleBookingCancel(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	key := bookingKey(r, id, f)
	c, err := s.groups.Cancel(r.Context(), principalOrPublic(r), id, key)
	if app.IsCode(err, app.CodeConflict) {
		f.AddError("", app.As(err).Message)
		return s.bookingPage(w, r, http.StatusConflict, id, key, f)
	}
	if err != nil {
		return err
	}
	rememberBooking(w, id, key)
	switch {
	case c.Already:
		setFlash(w, "This booking was already cancelled.")
	case c.Status == groups.StatusLeft:
		setFlash(w, "You have left the waiting list.")
	default:
		setFlash(w, "Your booking is cancelled. Thank you for letting us know: your place can go to someone waiting.")
	}
	return redirect(w, r, "/bookings/"+itoa(id))
}

func (s *Server) handleBookingCalendar(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, ref, err := s.groups.BookingCalendar(r.Context(), principalOrPublic(r), id, bookingKey(r, id, nil))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="booking-`+ref+`.ics"`)
	_, err = w.Write(b)
	return err
}

func (s *Server) handleOfferAnswer(accept bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		f, err := parseForm(w, r)
		if err != nil {
			return err
		}
		bookingID := formInt(f, "booking_id")
		key := bookingKey(r, bookingID, f)
		answer := s.groups.DeclineOffer
		if accept {
			answer = s.groups.AcceptOffer
		}
		b, err := answer(r.Context(), principalOrPublic(r), id, key)
		if app.IsCode(err, app.CodeConflict) && bookingID != 0 {
			f.AddError("", app.As(err).Message)
			return s.bookingPage(w, r, http.StatusConflict, bookingID, key, f)
		}
		if err != nil {
			return err
		}
		rememberBooking(w, b.ID, key)
		if accept {
			setFlash(w, "The place is yours: you are booked.")
		} else {
			setFlash(w, "Thank you for letting us know. The place will go to the next person waiting.")
		}
		return redirect(w, r, "/bookings/"+itoa(b.ID))
	}
}

type participantsData struct {
	groups.Participants
	Outcomes    []ui.Option
	WaitingList []ui.Option
	Staff       []ui.Option // who a lead may choose to facilitate it
}

func (s *Server) participantsPage(w http.ResponseWriter, r *http.Request, status int, id int64, f *ui.Form) error {
	ps, err := s.groups.Participants(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	d := participantsData{Participants: ps, Outcomes: []ui.Option{{Value: "attended", Label: "Came"}, {Value: "no_show", Label: "Did not come"}}}
	for _, p := range ps.Waiting {
		d.WaitingList = append(d.WaitingList, ui.Option{Value: itoa(p.ID), Label: fmt.Sprintf("%d. %s", p.Position, p.Name)})
	}
	if ps.CanManage {
		var err error
		if d.Staff, err = s.staffOptions(r, ps.Group.TeamID, ps.Session.Facilitators); err != nil {
			return err
		}
	}
	if f == nil {
		vals := url.Values{"capacity": {strconv.Itoa(ps.Session.Capacity)}, "dropin_people": {""}}
		for _, pe := range ps.Session.Facilitators {
			vals.Add("facilitator_ids", itoa(pe.UserID))
		}
		for _, b := range ps.Booked {
			if b.Outcome != "" {
				vals.Set("outcome-"+itoa(b.ID), b.Outcome)
			}
		}
		f = ui.NewForm(vals)
	}
	return s.page(w, r, status, "groups/participants", &ui.Page{Title: "Participants: " + ps.Group.Title, Form: f, Data: d,
		BackLink: "/groups/" + itoa(ps.Group.ID)})
}

// sessionFormError shows a session's participants page again with the
// problems next to their fields, or returns an error that is not about
// what was typed.
func (s *Server) sessionFormError(w http.ResponseWriter, r *http.Request, id int64, f *ui.Form, err error) error {
	ae := app.As(err)
	switch ae.Code {
	case app.CodeInvalid:
		formWithErrors(f, err)
		return s.participantsPage(w, r, http.StatusUnprocessableEntity, id, f)
	case app.CodeConflict, app.CodeForbidden:
		f.AddError("", ae.Message)
		return s.participantsPage(w, r, ae.Code.Status(), id, f)
	}
	return err
}

func (s *Server) handleAttendance(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var in groups.Register
	for k, vs := range f.Values {
		if bid, ok := strings.CutPrefix(k, "outcome-"); ok && len(vs) > 0 && vs[0] != "" {
			n, err := strconv.ParseInt(bid, 10, 64)
			if err != nil {
				continue
			}
			in.Entries = append(in.Entries, groups.RegisterEntry{BookingID: n, Outcome: vs[0]})
		}
	}
	slices.SortFunc(in.Entries, func(a, b groups.RegisterEntry) int { return int(a.BookingID - b.BookingID) })
	var pr app.Problems
	people := formNumber(f, "dropin_people", "How many", &pr)
	if name := strings.TrimSpace(f.Value("dropin_name")); name != "" || people > 0 {
		in.DropIns = append(in.DropIns, groups.DropIn{Name: name, People: max(people, 1)})
	}
	if err := pr.Err(); err != nil {
		return s.sessionFormError(w, r, id, f, err)
	}
	if _, err := s.groups.RecordAttendance(r.Context(), principal(r), id, in); err != nil {
		if ae := app.As(err); ae.Code == app.CodeInvalid {
			// Errors name the register's lines; show them at the top.
			for _, fe := range ae.Fields {
				name := ""
				if strings.HasPrefix(fe.Field, "drop_ins") {
					name = "dropin_people"
				}
				f.AddError(name, fe.Message)
			}
			return s.participantsPage(w, r, http.StatusUnprocessableEntity, id, f)
		}
		return s.sessionFormError(w, r, id, f, err)
	}
	setFlash(w, "Register saved")
	return redirect(w, r, "/sessions/"+itoa(id)+"/participants")
}

func (s *Server) handleMove(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var pr app.Problems
	bookingID := formInt(f, "booking_id")
	if bookingID == 0 {
		pr.Add("booking_id", "Choose who to move")
	}
	pos := formNumber(f, "position", "The new place", &pr)
	if err := pr.Err(); err != nil {
		return s.sessionFormError(w, r, id, f, err)
	}
	if _, err := s.groups.MoveOnList(r.Context(), principal(r), bookingID, groups.Move{Position: pos, Reason: f.Value("reason")}); err != nil {
		return s.sessionFormError(w, r, id, f, err)
	}
	setFlash(w, "Moved to number "+strconv.Itoa(pos)+". They can see the reason you gave.")
	return redirect(w, r, "/sessions/"+itoa(id)+"/participants")
}

func (s *Server) handleCapacity(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	var pr app.Problems
	n := formNumber(f, "capacity", "Places", &pr)
	if err := pr.Err(); err != nil {
		return s.sessionFormError(w, r, id, f, err)
	}
	if _, err := s.groups.SetCapacity(r.Context(), principal(r), id, groups.CapacityChange{Capacity: n}); err != nil {
		return s.sessionFormError(w, r, id, f, err)
	}
	setFlash(w, "Places changed to "+strconv.Itoa(n)+". Any new places have been offered to the people waiting.")
	return redirect(w, r, "/sessions/"+itoa(id)+"/participants")
}

func (s *Server) handleSessionFacilitators(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	in := groups.SessionFacilitators{FacilitatorIDs: formIDs(f, "facilitator_ids")}
	if _, err := s.groups.SetFacilitators(r.Context(), principal(r), id, in); err != nil {
		return s.sessionFormError(w, r, id, f, err)
	}
	setFlash(w, "The session's facilitators are changed.")
	return redirect(w, r, "/sessions/"+itoa(id)+"/participants")
}

func (s *Server) handleSessionCancel(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	if _, err := s.groups.CancelSession(r.Context(), principal(r), id, groups.SessionCancel{Reason: f.Value("cancel_reason")}); err != nil {
		if ae := app.As(err); ae.Code == app.CodeInvalid {
			for _, fe := range ae.Fields {
				f.AddError("cancel_reason", fe.Message)
			}
			return s.participantsPage(w, r, http.StatusUnprocessableEntity, id, f)
		}
		return s.sessionFormError(w, r, id, f, err)
	}
	setFlash(w, "The session is cancelled. Everyone booked or waiting has been told.")
	return redirect(w, r, "/sessions/"+itoa(id)+"/participants")
}

func (s *Server) handleMyGroups(w http.ResponseWriter, r *http.Request) error {
	list, err := s.groups.MyBookings(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return s.page(w, r, http.StatusOK, "groups/my-groups", &ui.Page{Title: "Your groups and events", Data: list})
}

type groupInsightData struct {
	Insight groups.GroupInsight
}

func (s *Server) handleGroupInsight(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := ui.NewForm(q)
	from, to, err := groups.InsightPeriod(q.Get("from"), q.Get("to"), s.clock.Now())
	if err != nil {
		formWithErrors(f, err)
		from, to, _ = groups.InsightPeriod("", "", s.clock.Now())
	}
	gi, ierr := s.groups.Insight(r.Context(), principal(r), from, to)
	if ierr != nil {
		return ierr
	}
	if f.Value("from") == "" {
		f.Values.Set("from", gi.From)
	}
	if f.Value("to") == "" {
		f.Values.Set("to", gi.To)
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	return s.page(w, r, status, "groups/insight", &ui.Page{Title: "Groups and events: who comes, and who waits", Form: f, Data: groupInsightData{Insight: gi}})
}

type networkData struct {
	Proposals []groups.Proposal
	CanAnswer bool
	Outcomes  []ui.Option
	Answering int64
}

func (s *Server) networkPage(w http.ResponseWriter, r *http.Request, status int, f *ui.Form, answering int64) error {
	p := principal(r)
	list, err := s.groups.Proposals(r.Context(), p)
	if err != nil {
		return err
	}
	d := networkData{Proposals: list, CanAnswer: p.Can(app.PermGroupManage), Answering: answering,
		Outcomes: []ui.Option{{Value: groups.ProposalTakenUp, Label: "Yes, it is going ahead"}, {Value: groups.ProposalNotTakenUp, Label: "Not for now"}}}
	if f == nil {
		f = ui.NewForm(nil)
	}
	return s.page(w, r, status, "groups/network", &ui.Page{Title: "The peer network: ideas for activities", Form: f, Data: d})
}

func (s *Server) handleNetwork(w http.ResponseWriter, r *http.Request) error {
	return s.networkPage(w, r, http.StatusOK, nil, 0)
}

func (s *Server) handlePropose(w http.ResponseWriter, r *http.Request) error {
	f, err := parseForm(w, r)
	if err != nil {
		return err
	}
	_, err = s.groups.Propose(r.Context(), principal(r), groups.NewProposal{Title: f.Value("title"), Summary: f.Value("summary")})
	if formWithErrors(f, err) {
		return s.networkPage(w, r, http.StatusUnprocessableEntity, f, 0)
	}
	if err != nil {
		return err
	}
	setFlash(w, "Thank you: your idea is on the list. A lead will answer it.")
	return redirect(w, r, "/network")
}

func (s *Server) handleInterest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := s.groups.ShowInterest(r.Context(), principal(r), id); err != nil {
		return err
	}
	setFlash(w, "Thank you: your interest is counted.")
	return redirect(w, r, "/network")
}

func (s *Server) handleAnswerProposal(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(w, r)
	if err != nil {
		return err
	}
	in := groups.ProposalAnswer{Outcome: f.Value("outcome-" + itoa(id)), Answer: f.Value("answer-" + itoa(id))}
	if _, err := s.groups.AnswerProposal(r.Context(), principal(r), id, in); err != nil {
		ae := app.As(err)
		if ae.Code == app.CodeInvalid || ae.Code == app.CodeConflict {
			for _, fe := range ae.Fields {
				f.AddError(fe.Field+"-"+itoa(id), fe.Message)
			}
			if len(ae.Fields) == 0 {
				f.AddError("", ae.Message)
			}
			return s.networkPage(w, r, ae.Code.Status(), f, id)
		}
		return err
	}
	setFlash(w, "Answered. The member who proposed it, and everyone interested, can read your answer.")
	return redirect(w, r, "/network")
}
