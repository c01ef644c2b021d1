package web_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/testenv/icaltest"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// auditCall is one call to a route that touches a person's data, for
// TestAuditOneRowPerCall.
// makeGroup makes a public group of team A (the peer worker on its rota)
// and a session days ahead at 10:30 UK time.
func makeGroup(t *testing.T, e *webtest.Env, capacity int, days int) (groups.Group, groups.Session) {
	t.Helper()
	ctx := context.Background()
	lead := e.Principal(t, "lead")
	g, err := e.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: e.TeamA.ID, Title: "Walk and Talk", Repeats: groups.Weekly,
		Visibility: groups.Public, Capacity: capacity, MaxPlaces: min(2, capacity), Venue: groups.Venue{Name: "Park gates", Address: "Roundhay Park"},
		FacilitatorIDs: []int64{e.Users["worker"].ID}})
	if err != nil {
		t.Fatal(err)
	}
	return g, addSession(t, e, g.ID, e.Clock.Now().AddDate(0, 0, days).In(app.London).Format("2006-01-02")+"T10:30")
}

func addSession(t *testing.T, e *webtest.Env, groupID int64, start string) groups.Session {
	t.Helper()
	ss, err := e.Groups.AddSessions(context.Background(), e.Principal(t, "lead"), groupID, groups.NewSessions{Start: start, Minutes: 60})
	if err != nil || len(ss) != 1 {
		t.Fatalf("adding a session at %s: %v %v", start, ss, err)
	}
	return ss[0]
}

func book(t *testing.T, e *webtest.Env, sessionID int64, name string) groups.BookingResult {
	t.Helper()
	r, err := e.Groups.Book(context.Background(), app.Public("t"), sessionID, groups.BookingRequest{Name: name,
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", Places: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// openOffer is the id of a booking's open offer.
func openOffer(t *testing.T, e *webtest.Env, bookingID int64) string {
	t.Helper()
	var id int64
	if err := e.DB.QueryRow(context.Background(), "SELECT id FROM group_offers WHERE booking_id = $1 AND status = 'open'", bookingID).Scan(&id); err != nil {
		t.Fatalf("booking %d has no open offer: %v", bookingID, err)
	}
	return strconv.FormatInt(id, 10)
}

func sid(id int64) string { return strconv.FormatInt(id, 10) }

// groupAuditCalls makes one successful call to each groups route that
// touches a person's data, in an order in which each succeeds.
func groupAuditCalls(t *testing.T, e *webtest.Env) []auditCall {
	_, se := makeGroup(t, e, 1, 7)
	s := sid(se.ID)
	first := book(t, e, se.ID, "Audit First")
	second := book(t, e, se.ID, "Audit Second")
	third := book(t, e, se.ID, "Audit Third")
	fourth := book(t, e, se.ID, "Audit Fourth")
	g2, today := makeGroup(t, e, 5, 0)
	_ = g2
	todayLater := addSession(t, e, g2.ID, e.Clock.Now().In(app.London).Format("2006-01-02")+"T18:00")
	came := book(t, e, todayLater.ID, "Audit Came")
	off1 := addSession(t, e, g2.ID, e.Clock.Now().AddDate(0, 0, 9).In(app.London).Format("2006-01-02")+"T10:30")
	off2 := addSession(t, e, g2.ID, e.Clock.Now().AddDate(0, 0, 10).In(app.London).Format("2006-01-02")+"T10:30")
	_ = today
	anon, lead, worker, person := e.Client(t), e.As(t, "lead"), e.As(t, "worker"), e.As(t, "person")
	anonAPI, leadAPI, workerAPI, personAPI := e.Client(t), e.Bearer(t, "lead"), e.Bearer(t, "worker"), e.Bearer(t, "person")
	var apiBooked groups.BookingResult
	return []auditCall{
		{"POST /sessions/{id}/book", func() *webtest.Response {
			return anon.PostForm("/sessions/"+s+"/book", url.Values{"name": {"Page Booker"}, "phone": {"07700 900555"}, "places": {"1"}})
		}, 303},
		{"POST /api/v1/sessions/{id}/bookings", func() *webtest.Response {
			r := anonAPI.JSON(http.MethodPost, "/api/v1/sessions/"+s+"/bookings", map[string]any{"name": "Api Booker", "email": "api.booker@example.org", "places": 1})
			apiBooked = decode[groups.BookingResult](t, r)
			return r
		}, 201},
		{"GET /bookings/{id}", func() *webtest.Response { return anon.Get("/bookings/" + sid(first.ID) + "?key=" + first.Key) }, 200},
		{"GET /api/v1/bookings/{id}", func() *webtest.Response {
			return anonAPI.Get("/api/v1/bookings/" + sid(apiBooked.ID) + "?key=" + apiBooked.Key)
		}, 200},
		{"GET /bookings/{id}/calendar.ics", func() *webtest.Response {
			return anon.Get("/bookings/" + sid(first.ID) + "/calendar.ics?key=" + first.Key)
		}, 200},
		{"GET /sessions/{id}/participants", func() *webtest.Response { return worker.Get("/sessions/" + s + "/participants") }, 200},
		{"GET /api/v1/sessions/{id}/participants", func() *webtest.Response { return leadAPI.Get("/api/v1/sessions/" + s + "/participants") }, 200},
		{"POST /sessions/{id}/move", func() *webtest.Response {
			return lead.PostForm("/sessions/"+s+"/move", url.Values{"booking_id": {sid(fourth.ID)}, "position": {"1"}, "reason": {"They asked first, by phone"}})
		}, 303},
		{"POST /api/v1/waiting-list/{id}/move", func() *webtest.Response {
			return leadAPI.JSON(http.MethodPost, "/api/v1/waiting-list/"+sid(third.ID)+"/move", map[string]any{"position": 1, "reason": "A carer's only free day"})
		}, 200},
		// The place frees and is offered to the head of the list (third).
		{"POST /bookings/{id}/cancel", func() *webtest.Response {
			return anon.PostForm("/bookings/"+sid(first.ID)+"/cancel", url.Values{"key": {first.Key}})
		}, 303},
		{"POST /offers/{id}/decline", func() *webtest.Response {
			return anon.PostForm("/offers/"+openOffer(t, e, third.ID)+"/decline", url.Values{"key": {third.Key}, "booking_id": {sid(third.ID)}})
		}, 303},
		// Declined: it moves on to fourth, who says no through the API, then to second.
		{"POST /api/v1/offers/{id}/decline", func() *webtest.Response {
			return anonAPI.Do(http.MethodPost, "/api/v1/offers/"+openOffer(t, e, fourth.ID)+"/decline?key="+fourth.Key, nil, nil)
		}, 200},
		{"POST /offers/{id}/accept", func() *webtest.Response {
			return anon.PostForm("/offers/"+openOffer(t, e, second.ID)+"/accept", url.Values{"key": {second.Key}, "booking_id": {sid(second.ID)}})
		}, 303},
		{"DELETE /api/v1/bookings/{id}", func() *webtest.Response {
			return anonAPI.Do(http.MethodDelete, "/api/v1/bookings/"+sid(second.ID)+"?key="+second.Key, nil, nil)
		}, 200},
		// Second's place went to the page booker (now first); the API booker waits.
		{"POST /sessions/{id}/capacity", func() *webtest.Response {
			return lead.PostForm("/sessions/"+s+"/capacity", url.Values{"capacity": {"2"}})
		}, 303},
		{"POST /api/v1/offers/{id}/accept", func() *webtest.Response {
			return anonAPI.Do(http.MethodPost, "/api/v1/offers/"+openOffer(t, e, apiBooked.ID)+"/accept?key="+apiBooked.Key, nil, nil)
		}, 200},
		{"POST /api/v1/sessions/{id}/capacity", func() *webtest.Response {
			return leadAPI.JSON(http.MethodPost, "/api/v1/sessions/"+s+"/capacity", map[string]any{"capacity": 3})
		}, 200},
		{"POST /sessions/{id}/attendance", func() *webtest.Response {
			return worker.PostForm("/sessions/"+sid(todayLater.ID)+"/attendance", url.Values{"outcome-" + sid(came.ID): {"attended"}, "dropin_people": {"2"}})
		}, 303},
		{"POST /api/v1/sessions/{id}/attendance", func() *webtest.Response {
			return workerAPI.JSON(http.MethodPost, "/api/v1/sessions/"+sid(todayLater.ID)+"/attendance",
				map[string]any{"entries": []any{map[string]any{"booking_id": came.ID, "outcome": "no_show"}}})
		}, 200},
		{"POST /sessions/{id}/cancel", func() *webtest.Response {
			return lead.PostForm("/sessions/"+sid(off1.ID)+"/cancel", url.Values{"cancel_reason": {"The park is closed"}})
		}, 303},
		{"POST /api/v1/sessions/{id}/cancel", func() *webtest.Response {
			return leadAPI.JSON(http.MethodPost, "/api/v1/sessions/"+sid(off2.ID)+"/cancel", map[string]any{"reason": "Snow"})
		}, 200},
		{"GET /my/groups", func() *webtest.Response { return person.Get("/my/groups") }, 200},
		{"GET /api/v1/my/bookings", func() *webtest.Response { return personAPI.Get("/api/v1/my/bookings") }, 200},
	}
}

// groupCanary is team B's group with a session whose only booking is the
// canary: only team B's lead and the facilitator (workerB) may see who is
// booked.
type groupCanary struct {
	group, session, booking, offer, proposal int64
}

func makeGroupCanary(t *testing.T, e *webtest.Env) groupCanary {
	t.Helper()
	ctx := context.Background()
	lead := e.Principal(t, "leadB")
	g, err := e.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: e.TeamB.ID, Title: "Ward art group", Repeats: groups.Weekly,
		Visibility: groups.Public, Capacity: 1, MaxPlaces: 1, Venue: groups.Venue{Name: "Ward 4 day room"}, FacilitatorIDs: []int64{e.Users["workerB"].ID}})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := e.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: e.Clock.Now().AddDate(0, 0, 3).In(app.London).Format("2006-01-02") + "T14:00", Minutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := e.Groups.Book(ctx, app.Public("t"), ss[0].ID, groups.BookingRequest{Name: "Holder of the place", Email: "holder@example.org", Places: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Groups.Book(ctx, app.Public("t"), ss[0].ID, groups.BookingRequest{Name: canary, Email: canaryEmail, Phone: canaryPhone, Places: 1,
		AccessNeeds: canaryPrefs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Groups.Cancel(ctx, app.Public("t"), holder.ID, holder.Key); err != nil {
		t.Fatal(err)
	}
	var offer int64
	if err := e.DB.QueryRow(ctx, "SELECT id FROM group_offers WHERE booking_id = $1", b.ID).Scan(&offer); err != nil {
		t.Fatal(err)
	}
	pr, err := e.Groups.Propose(ctx, e.Principal(t, "person"), groups.NewProposal{Title: "Canary walks"})
	if err != nil {
		t.Fatal(err)
	}
	return groupCanary{group: g.ID, session: ss[0].ID, booking: b.ID, offer: offer, proposal: pr.ID}
}

// ids fills a groups route's path with the canary's records ("" for other
// routes).
func (c groupCanary) path(pattern string) string {
	var id int64
	switch {
	case strings.Contains(pattern, "/groups/"):
		id = c.group
	case strings.Contains(pattern, "/sessions/"):
		id = c.session
	case strings.Contains(pattern, "/bookings/"), strings.Contains(pattern, "/waiting-list/"):
		id = c.booking
	case strings.Contains(pattern, "/offers/{id}/"):
		id = c.offer
	case strings.Contains(pattern, "/proposals/"):
		id = c.proposal
	default:
		return ""
	}
	return fill(pattern, map[string]string{"id": sid(id)})
}

// A member of the public books, is told their place on the waiting list,
// is offered a place when one frees, and cancels — all through the API,
// as the shapes say, checked against the OpenAPI document.
func TestGroupsAPIJourney(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		leadAPI := e.Bearer(t, "lead")
		created := leadAPI.JSON(http.MethodPost, "/api/v1/groups", map[string]any{"team_id": e.TeamA.ID, "title": "Hearing Voices Group",
			"repeats": "weekly", "visibility": "public", "capacity": 1, "max_places": 1,
			"venue": map[string]any{"name": "Recovery College", "step_free": true}, "facilitator_ids": []int64{e.Users["worker"].ID}})
		want(t, created, http.StatusCreated)
		g := decode[groups.Group](t, created)
		sessions := leadAPI.JSON(http.MethodPost, "/api/v1/groups/"+sid(g.ID)+"/sessions", map[string]any{"start": "2026-11-10T10:30", "minutes": 90,
			"repeat": "weekly", "count": 3})
		want(t, sessions, http.StatusCreated)
		ss := decode[[]groups.Session](t, sessions)
		if len(ss) != 3 || len(ss[0].Facilitators) != 1 {
			t.Fatalf("sessions: %+v", ss)
		}
		s := sid(ss[0].ID)
		anon := e.Client(t)
		list := decode[[]groups.Group](t, anon.Get("/api/v1/groups"))
		if len(list) != 1 || list[0].Sessions[0].PlacesLeft != 1 {
			t.Fatalf("public list: %+v", list)
		}
		if strings.Contains(anon.Get("/api/v1/groups").Body, "invite_code") {
			t.Fatal("the public list carries an invitation code")
		}
		one := anon.JSON(http.MethodPost, "/api/v1/sessions/"+s+"/bookings", map[string]any{"name": "Ann", "email": "ann@example.org", "places": 1})
		want(t, one, http.StatusCreated)
		a := decode[map[string]any](t, one)
		if a["status"] != "booked" || a["id"] == nil {
			t.Fatalf("first booking: %v", a)
		}
		two := anon.JSON(http.MethodPost, "/api/v1/sessions/"+s+"/bookings", map[string]any{"name": "Bo", "phone": "07700 900123", "places": 1})
		want(t, two, http.StatusCreated)
		b := decode[map[string]any](t, two)
		if b["status"] != "waiting" || b["position"] != float64(1) {
			t.Fatalf("second booking: %v", b)
		}
		want(t, anon.JSON(http.MethodPost, "/api/v1/sessions/"+s+"/bookings", map[string]any{"name": "", "places": 1}), http.StatusUnprocessableEntity)
		// Public pages and answers show counts only.
		sess := anon.Get("/api/v1/sessions/" + s)
		if strings.Contains(sess.Body, "Ann") || !strings.Contains(sess.Body, `"waiting": 1`) {
			t.Fatalf("public session: %s", sess.Body)
		}
		if page := anon.Get("/sessions/" + s); !strings.Contains(page.Body, "Full: waiting list (1 waiting)") || strings.Contains(page.Body, "Ann") {
			t.Fatalf("public session page: %d", page.StatusCode)
		}
		// Cancel with the key: Bo is offered the place and accepts it.
		aid, akey := sid(int64(a["id"].(float64))), a["key"].(string)
		want(t, anon.Do(http.MethodDelete, "/api/v1/bookings/"+aid, nil, nil), http.StatusNotFound)
		want(t, anon.Do(http.MethodDelete, "/api/v1/bookings/"+aid+"?key=wrong", nil, nil), http.StatusNotFound)
		cancelled := anon.Do(http.MethodDelete, "/api/v1/bookings/"+aid+"?key="+akey, nil, nil)
		want(t, cancelled, http.StatusOK)
		if !strings.Contains(cancelled.Body, `"cancelled"`) {
			t.Fatal(cancelled.Body)
		}
		bid, bkey := sid(int64(b["id"].(float64))), b["key"].(string)
		got := decode[groups.Booking](t, anon.Get("/api/v1/bookings/"+bid+"?key="+bkey))
		if got.Offer == nil {
			t.Fatalf("Bo was not offered the place: %+v", got)
		}
		accepted := anon.Do(http.MethodPost, "/api/v1/offers/"+sid(got.Offer.ID)+"/accept?key="+bkey, nil, nil)
		want(t, accepted, http.StatusOK)
		want(t, anon.Do(http.MethodPost, "/api/v1/offers/"+sid(got.Offer.ID)+"/accept?key="+bkey, nil, nil), http.StatusConflict)
		// The register, on the day, through the API.
		e.Clock.Advance(8 * 24 * time.Hour)
		reg := e.Bearer(t, "worker").JSON(http.MethodPost, "/api/v1/sessions/"+s+"/attendance", map[string]any{
			"entries": []any{map[string]any{"booking_id": got.ID, "outcome": "attended"}}, "drop_ins": []any{map[string]any{"name": "J", "people": 1}}})
		want(t, reg, http.StatusOK)
		if r := decode[map[string]any](t, reg); r["attended"] != float64(2) {
			t.Fatalf("register: %v", r)
		}
		// Insight: the analyst sees the month, small counts withheld.
		e.Clock.Advance(24 * time.Hour)
		ins := e.Bearer(t, "analyst").Get("/api/v1/insight/groups")
		want(t, ins, http.StatusOK)
		gi := decode[groups.GroupInsight](t, ins)
		if len(gi.Months) != 1 || gi.Months[0].Sessions != 1 || gi.Months[0].Attended != nil || !gi.Months[0].Suppressed {
			t.Fatalf("insight: %s", ins.Body)
		}
		want(t, e.Bearer(t, "analyst").Get("/api/v1/insight/groups?from=nonsense"), http.StatusUnprocessableEntity)
		want(t, e.Bearer(t, "lead").Get("/api/v1/insight/groups"), http.StatusForbidden)
	})
}

// The public calendar feeds parse with a real iCalendar library: each
// session at its London wall-clock time on both sides of the clocks going
// back, a cancelled session STATUS:CANCELLED, per team and per partner
// agency; and the Atom feed of new events is well-formed.
func TestCalendarFeedsAcrossTheClocksChanging(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, storetest.Engines[0], webtest.Options{})
	ctx := context.Background()
	lead := e.Principal(t, "lead")
	g, err := e.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: e.TeamA.ID, Title: "Monday Evening Group", Repeats: groups.Weekly,
		Visibility: groups.Public, Venue: groups.Venue{Name: "Community hub"}})
	if err != nil {
		t.Fatal(err)
	}
	// The clocks go forward on 28 March 2027: sessions on 22 and 29 March.
	ss, err := e.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: "2027-03-22T18:30", Minutes: 90, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(130 * 24 * time.Hour) // into March 2027, so both are in the feed's window
	if _, err := e.Groups.CancelSession(ctx, lead, ss[1].ID, groups.SessionCancel{Reason: "Facilitator unwell"}); err != nil {
		t.Fatal(err)
	}
	partnerGroup, err := e.Groups.CreateGroup(ctx, e.Principal(t, "partner"), groups.NewGroup{TeamID: e.Partner.ID, Title: "Charity coffee morning",
		Repeats: groups.Once, Visibility: groups.Public, Venue: groups.Venue{Name: "Charity office"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Groups.AddSessions(ctx, e.Principal(t, "partner"), partnerGroup.ID, groups.NewSessions{Start: "2027-03-20T10:00", Minutes: 60}); err != nil {
		t.Fatal(err)
	}
	hidden, err := e.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: e.TeamA.ID, Title: "Members only", Repeats: groups.Once,
		Visibility: groups.Members, Venue: groups.Venue{Name: "Room 2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Groups.AddSessions(ctx, lead, hidden.ID, groups.NewSessions{Start: "2027-03-21T10:00", Minutes: 60}); err != nil {
		t.Fatal(err)
	}
	c := e.Client(t)
	all := c.Get("/groups.ics")
	if all.StatusCode != http.StatusOK || !strings.HasPrefix(all.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("feed: %d %s", all.StatusCode, all.Header.Get("Content-Type"))
	}
	cal := icaltest.Parse(t, []byte(all.Body))
	if len(cal.Events) != 3 || !slices.Contains(cal.Timezones, "Europe/London") {
		t.Fatalf("events %d, timezones %v:\n%s", len(cal.Events), cal.Timezones, all.Body)
	}
	before := cal.ByUID(t, fmt.Sprintf("session-%d@mutual", ss[0].ID))
	after := cal.ByUID(t, fmt.Sprintf("session-%d@mutual", ss[1].ID))
	if before.StartWall != "2027-03-22T18:30" || !before.Start.Equal(time.Date(2027, 3, 22, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("before the change (GMT): %+v", before)
	}
	if after.StartWall != "2027-03-29T18:30" || !after.Start.Equal(time.Date(2027, 3, 29, 17, 30, 0, 0, time.UTC)) {
		t.Errorf("after the change (BST): %+v", after)
	}
	if before.Status != "CONFIRMED" || after.Status != "CANCELLED" || !strings.Contains(after.Description, "Facilitator unwell") {
		t.Errorf("statuses: %q %q", before.Status, after.Status)
	}
	if strings.Contains(all.Body, "Members only") {
		t.Error("a members' group is in the public feed")
	}
	team := icaltest.Parse(t, []byte(c.Get("/groups.ics?team="+sid(e.TeamA.ID)).Body))
	org := icaltest.Parse(t, []byte(c.Get("/groups.ics?organisation="+sid(e.Partner.OrganisationID)).Body))
	if len(team.Events) != 2 || len(org.Events) != 1 || org.Events[0].Summary != "Charity coffee morning" {
		t.Fatalf("team feed %d events, partner agency feed %+v", len(team.Events), org.Events)
	}
	if r := c.Get("/groups.ics?team=abc"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Header.Get("Content-Type"), "problem+json") {
		t.Fatalf("bad team: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	want(t, c.Get("/groups.ics?team=999999"), http.StatusNotFound)

	atom := c.Get("/groups/feed.xml")
	var feed struct {
		Entries []struct {
			Title string `xml:"title"`
			ID    string `xml:"id"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(atom.Body), &feed); err != nil || len(feed.Entries) != 2 || feed.Entries[0].Title != "Charity coffee morning" {
		t.Fatalf("atom feed (%v): %+v\n%s", err, feed, atom.Body)
	}

	// A booking's own calendar file, downloaded with its key.
	bk, err := e.Groups.Book(ctx, app.Public("t"), ss[0].ID, groups.BookingRequest{Name: "Sam", Email: "sam@example.org", Places: 1})
	if err != nil {
		t.Fatal(err)
	}
	own := icaltest.Parse(t, []byte(c.Get("/bookings/"+sid(bk.ID)+"/calendar.ics?key="+bk.Key).Body))
	if ev := own.ByUID(t, fmt.Sprintf("booking-%d@mutual", bk.ID)); ev.Summary != "Monday Evening Group" || ev.StartWall != "2027-03-22T18:30" {
		t.Fatalf("the booking's calendar: %+v", ev)
	}
}

// 200 people book 12 places at the same moment over HTTP, each from their
// own address: exactly 12 are booked and 188 wait at distinct positions.
func TestTwoHundredSimultaneousBookings(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{TrustLoopbackProxy: true}, func(t *testing.T, e *webtest.Env) {
		_, se := makeGroup(t, e, 12, 7)
		calls := make([]webtest.Call, 200)
		for i := range calls {
			c := e.Client(t)
			c.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)}}
			calls[i] = webtest.Call{Client: c, Method: http.MethodPost, Path: "/api/v1/sessions/" + sid(se.ID) + "/bookings",
				JSON: map[string]any{"name": fmt.Sprintf("Person %d", i), "email": fmt.Sprintf("p%d@example.org", i), "places": 1}}
		}
		booked, positions := 0, []int{}
		for _, r := range webtest.Parallel(t, calls) {
			if r.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", r.StatusCode, r.Body)
			}
			res := decode[groups.BookingResult](t, r)
			if res.Status == "booked" {
				booked++
			} else {
				positions = append(positions, res.Position)
			}
		}
		slices.Sort(positions)
		if booked != 12 || len(positions) != 188 || positions[0] != 1 || positions[187] != 188 || len(slices.Compact(positions)) != 188 {
			t.Fatalf("booked %d, waiting %d", booked, len(positions))
		}
		var held, sum int
		_ = e.DB.QueryRow(context.Background(), "SELECT places_held FROM group_sessions WHERE id = $1", se.ID).Scan(&held)
		_ = e.DB.QueryRow(context.Background(), "SELECT COALESCE(SUM(places), 0) FROM group_bookings WHERE session_id = $1 AND status = 'booked'", se.ID).Scan(&sum)
		if held != 12 || sum != 12 {
			t.Fatalf("places held %d, booked %d", held, sum)
		}
	})
}

// A flood of bookings from one address is limited; someone else books at
// the same time, and earlier bookings are intact.
func TestBookingFloodLocksNobodyOut(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, storetest.Engines[0], webtest.Options{TrustLoopbackProxy: true})
	_, se := makeGroup(t, e, 12, 7)
	early := e.Client(t)
	early.Header = http.Header{"X-Forwarded-For": {"198.51.100.7"}}
	want(t, early.JSON(http.MethodPost, "/api/v1/sessions/"+sid(se.ID)+"/bookings", map[string]any{"name": "Early", "email": "early@example.org", "places": 1}), http.StatusCreated)
	flood := e.Client(t)
	flood.Header = http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	limited, made := 0, 0
	start := time.Now()
	for i := range 300 {
		r := flood.PostForm("/sessions/"+sid(se.ID)+"/book", url.Values{"name": {"Flood"}, "email": {fmt.Sprintf("f%d@example.org", i)}, "places": {"1"}})
		switch r.StatusCode {
		case http.StatusTooManyRequests:
			limited++
			if !strings.Contains(r.Body, `value="Flood"`) {
				t.Fatal("what was typed is not kept on the refused form")
			}
		case http.StatusSeeOther:
			made++
		default:
			t.Fatalf("flood %d: %d", i, r.StatusCode)
		}
	}
	if allowed := publicFormsAllowed(start); made > allowed || limited < 300-allowed {
		t.Fatalf("flood: %d made, %d limited", made, limited)
	}
	other := e.Client(t)
	other.Header = http.Header{"X-Forwarded-For": {"192.0.2.44"}}
	if r := other.PostForm("/sessions/"+sid(se.ID)+"/book", url.Values{"name": {"Other"}, "email": {"other@example.org"}, "places": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("someone else was refused during the flood: %d", r.StatusCode)
	}
	var n int
	_ = e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM group_bookings WHERE session_id = $1", se.ID).Scan(&n)
	if n != 2+made {
		t.Fatalf("%d bookings, want %d", n, 2+made)
	}
	// The honeypot: a robot's booking looks accepted, and nothing is stored.
	robot := e.Client(t)
	robot.Header = http.Header{"X-Forwarded-For": {"192.0.2.99"}}
	if r := robot.PostForm("/sessions/"+sid(se.ID)+"/book", url.Values{"name": {"Bot"}, "email": {"bot@example.org"}, "places": {"1"}, "website": {"x"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("honeypot: %d", r.StatusCode)
	}
	var m int
	_ = e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM group_bookings WHERE session_id = $1", se.ID).Scan(&m)
	if m != n {
		t.Fatal("the honeypot stored a booking")
	}
}

// Bad input on the booking form: each problem next to its field, what was
// typed kept, nothing stored.
func TestBookingFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, storetest.Engines[0], webtest.Options{})
	_, se := makeGroup(t, e, 12, 7)
	r := e.Client(t).PostForm("/sessions/"+sid(se.ID)+"/book", url.Values{"name": {"Sam"}, "email": {"not an email"}, "places": {"3"}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("%d", r.StatusCode)
	}
	for _, want := range []string{`value="Sam"`, "Enter an email address in the correct format", "nhsuk-error-summary"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	r = e.Client(t).PostForm("/sessions/"+sid(se.ID)+"/book", url.Values{"name": {"Sam"}, "email": {"sam@example.org"}, "places": {"3"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "You can book up to 2 places at this group") {
		t.Fatalf("too many places: %d", r.StatusCode)
	}
	var n int
	_ = e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM group_bookings").Scan(&n)
	if n != 0 {
		t.Fatalf("%d bookings stored from refused forms", n)
	}
}

// A group's lead changes it on the page and through the API: the form
// shows its details, bad input keeps what was typed with a message per
// field, two changes sent at once from the same version make one change
// and a 409, and a page change from a stale version keeps what was typed.
// Anyone else finds no form and no group to change.
func TestChangingAGroupOverHTTP(t *testing.T) {
	t.Parallel()
	webtest.Each(t, webtest.Options{}, func(t *testing.T, e *webtest.Env) {
		g, se := makeGroup(t, e, 12, 7)
		path := "/groups/" + sid(g.ID)
		lead, leadAPI := e.As(t, "lead"), e.Bearer(t, "lead")
		form := lead.Get(path + "/edit")
		want(t, form, http.StatusOK)
		cur := decode[groups.Group](t, leadAPI.Get("/api/v1/groups/"+sid(g.ID)))
		if !strings.Contains(form.Body, `value="Walk and Talk"`) || !strings.Contains(form.Body, `value="`+cur.Version+`"`) {
			t.Fatal("the form does not show the group's details and version")
		}
		typed := url.Values{"version": {cur.Version}, "title": {""}, "summary": {"Kept as typed"}, "repeats": {"weekly"}, "visibility": {"public"},
			"booking": {"required"}, "capacity": {"12"}, "max_places": {"2"}, "hold_hours": {"lots"}, "venue.name": {"Park gates"}}
		bad := lead.PostForm(path+"/edit", typed)
		want(t, bad, http.StatusUnprocessableEntity)
		for _, s := range []string{"Kept as typed", `value="lots"`, "Hours must be a whole number"} {
			if !strings.Contains(bad.Body, s) {
				t.Errorf("the refused form lacks %q", s)
			}
		}
		change := map[string]any{"version": cur.Version, "title": "Walk and Talk", "repeats": "weekly", "visibility": "public", "capacity": 12,
			"max_places": 2, "hold_hours": 24, "venue": map[string]any{"name": "Park gates", "address": "Roundhay Park"}}
		one, two := map[string]any{}, map[string]any{}
		for k, v := range change {
			one[k], two[k] = v, v
		}
		one["summary"], two["summary"] = "First", "Second"
		rs := webtest.Parallel(t, []webtest.Call{{Client: leadAPI, Method: http.MethodPut, Path: "/api/v1/groups/" + sid(g.ID), JSON: one},
			{Client: e.Bearer(t, "lead"), Method: http.MethodPut, Path: "/api/v1/groups/" + sid(g.ID), JSON: two}})
		codes := []int{rs[0].StatusCode, rs[1].StatusCode}
		slices.Sort(codes)
		if codes[0] != http.StatusOK || codes[1] != http.StatusConflict {
			t.Fatalf("two changes at once: %v", codes)
		}
		typed.Set("title", "Walk and Talk (Saturdays)")
		typed.Set("hold_hours", "24")
		stale := lead.PostForm(path+"/edit", typed)
		want(t, stale, http.StatusConflict)
		if !strings.Contains(stale.Body, "Someone else changed this group") || !strings.Contains(stale.Body, `value="Walk and Talk (Saturdays)"`) {
			t.Fatal("the stale form lost what was typed or does not say why")
		}
		now := decode[groups.Group](t, leadAPI.Get("/api/v1/groups/"+sid(g.ID)))
		typed.Set("version", now.Version)
		want(t, lead.PostForm(path+"/edit", typed), http.StatusSeeOther)
		if got := decode[groups.Group](t, leadAPI.Get("/api/v1/groups/"+sid(g.ID))); got.Title != "Walk and Talk (Saturdays)" {
			t.Fatalf("the change was not made: %+v", got)
		}
		want(t, e.As(t, "leadB").Get(path+"/edit"), http.StatusNotFound)
		want(t, e.Bearer(t, "leadB").JSON(http.MethodPut, "/api/v1/groups/"+sid(g.ID), change), http.StatusNotFound)
		want(t, e.Bearer(t, "worker").JSON(http.MethodPut, "/api/v1/groups/"+sid(g.ID), change), http.StatusForbidden)
		// A session's own facilitators, on the page and through the API.
		fac := "/sessions/" + sid(se.ID) + "/facilitators"
		want(t, lead.PostForm(fac, url.Values{"facilitator_ids": {sid(e.Users["lead"].ID)}}), http.StatusSeeOther)
		got := decode[groups.Session](t, leadAPI.JSON(http.MethodPut, "/api/v1"+fac, map[string]any{"facilitator_ids": []int64{e.Users["worker"].ID}}))
		if len(got.Facilitators) != 1 || got.Facilitators[0].UserID != e.Users["worker"].ID {
			t.Fatalf("the session's facilitators: %+v", got.Facilitators)
		}
		want(t, lead.PostForm(fac, url.Values{}), http.StatusUnprocessableEntity)
		want(t, e.Bearer(t, "leadB").JSON(http.MethodPut, "/api/v1"+fac, map[string]any{"facilitator_ids": []int64{e.Users["worker"].ID}}), http.StatusNotFound)
	})
}

// The network over the API: a member proposes, another shows interest, a
// lead answers with words, and the proposer reads the answer; staff
// outside the network are refused. The rules are in the groups package.
func TestNetworkOverHTTP(t *testing.T) {
	t.Parallel()
	e := webtest.Start(t, storetest.Engines[0], webtest.Options{})
	person := e.Bearer(t, "person")
	made := person.JSON(http.MethodPost, "/api/v1/proposals", map[string]any{"title": "Allotment mornings"})
	want(t, made, http.StatusCreated)
	p := decode[groups.Proposal](t, made)
	want(t, e.Bearer(t, "carer").JSON(http.MethodPost, "/api/v1/proposals/"+sid(p.ID)+"/interest", nil), http.StatusOK)
	want(t, e.Bearer(t, "clinician").Get("/api/v1/proposals"), http.StatusForbidden)
	want(t, e.Bearer(t, "carer").JSON(http.MethodPost, "/api/v1/proposals/"+sid(p.ID)+"/answer",
		map[string]any{"outcome": "not_taken_up", "answer": "No"}), http.StatusForbidden)
	want(t, e.Bearer(t, "lead").JSON(http.MethodPost, "/api/v1/proposals/"+sid(p.ID)+"/answer",
		map[string]any{"outcome": "not_taken_up", "answer": "No venue on Saturdays yet"}), http.StatusOK)
	list := decode[[]groups.Proposal](t, person.Get("/api/v1/proposals"))
	if len(list) != 1 || list[0].Status != "not_taken_up" || list[0].Answer != "No venue on Saturdays yet" || list[0].Interest != 2 || !list[0].Mine {
		t.Fatalf("the proposer's list: %+v", list)
	}
	if page := e.As(t, "person").Get("/network"); !strings.Contains(page.Body, "No venue on Saturdays yet") {
		t.Fatal("the network page does not show the answer")
	}
}
