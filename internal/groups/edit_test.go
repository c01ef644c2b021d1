package groups_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/mail"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// changeOf is a group's details as a change that alters nothing.
func changeOf(g groups.Group) groups.GroupChange {
	c := groups.GroupChange{Version: g.Version, Title: g.Title, Summary: g.Summary, Repeats: g.Repeats, Visibility: g.Visibility,
		Booking: g.Booking, Capacity: g.Capacity, MaxPlaces: g.MaxPlaces, HoldHours: g.HoldHours, Venue: g.Venue}
	for _, pe := range g.Facilitators {
		c.FacilitatorIDs = append(c.FacilitatorIDs, pe.UserID)
	}
	return c
}

// A group's leads change its details; bad input changes nothing and says
// what is wrong with each field; only its leads may; and people booked or
// waiting are told when where it meets changes — a reference and a link
// by email, nothing of the venue, and a note in their account.
func TestEditingAGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		anon := app.Public("t")
		g, se := setUp(t, w, 2, 2)
		ann := r(w.Groups.Book(ctx, anon, se.ID, public("Ann Able"))).must(t)
		mine := r(w.Groups.Book(ctx, w.Principal(t, "person"), se.ID, groups.BookingRequest{Places: 1})).must(t)
		wait := r(w.Groups.Book(ctx, anon, se.ID, public("Wes Waiting"))).must(t)
		if wait.Status != "waiting" || mine.Status != "booked" {
			t.Fatalf("set-up: %+v %+v", mine, wait)
		}
		g = r(w.Groups.GetGroup(ctx, lead, g.ID, "")).must(t)
		if g.Version == "" {
			t.Fatal("a lead sees no version to send back")
		}
		if seen := r(w.Groups.GetGroup(ctx, anon, g.ID, "")).must(t); seen.Version != "" {
			t.Fatalf("the public sees the version: %+v", seen)
		}

		t.Run("BadInputChangesNothing", func(t *testing.T) {
			c := changeOf(g)
			c.Title = "  "
			c.Venue = groups.Venue{Online: true, OnlineLink: "http://not-secure.example"}
			c.HoldHours = 500
			_, err := w.Groups.EditGroup(ctx, lead, g.ID, c)
			fields := map[string]bool{}
			for _, fe := range app.As(err).Fields {
				fields[fe.Field] = true
			}
			if !app.IsCode(err, app.CodeInvalid) || !fields["title"] || !fields["venue.online_link"] || !fields["hold_hours"] {
				t.Fatalf("want a problem for title, link and hold hours: %v %+v", err, app.As(err).Fields)
			}
			if now := r(w.Groups.GetGroup(ctx, lead, g.ID, "")).must(t); now.Version != g.Version || now.Title != g.Title {
				t.Fatalf("a refused change changed the group: %+v", now)
			}
			// More places per booking than a coming session has, and drop-in
			// while someone waits, are refused with the reason.
			c = changeOf(g)
			c.MaxPlaces = 3
			if _, err := w.Groups.EditGroup(ctx, lead, g.ID, c); !app.IsCode(err, app.CodeInvalid) || app.As(err).Fields[0].Field != "max_places" {
				t.Fatalf("places per booking above a session's places: %v", err)
			}
			c = changeOf(g)
			c.Booking = "drop_in"
			if _, err := w.Groups.EditGroup(ctx, lead, g.ID, c); !app.IsCode(err, app.CodeInvalid) || app.As(err).Fields[0].Field != "booking" {
				t.Fatalf("drop-in with someone waiting: %v", err)
			}
		})

		t.Run("OnlyItsLeads", func(t *testing.T) {
			for _, name := range []string{"worker", "leadB", "clinician", "person", "admin"} {
				if _, err := w.Groups.EditGroup(ctx, w.Principal(t, name), g.ID, changeOf(g)); !app.IsCode(err, app.CodeNotFound) {
					t.Errorf("%s changing the group: %v, want not found", name, err)
				}
			}
			if _, err := w.Groups.EditGroup(ctx, anon, g.ID, changeOf(g)); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("the public changing the group: %v", err)
			}
		})

		t.Run("DetailsWithoutTellingAnyone", func(t *testing.T) {
			before := len(r(mail.List(ctx, db, "", 100)).must(t))
			c := changeOf(g)
			c.Title, c.Summary, c.HoldHours, c.Capacity = "Hearing Voices Group (Tuesdays)", "Peer-led, for anyone who hears voices", 48, 10
			c.Venue.Transport = "Bus 16"
			g = r(w.Groups.EditGroup(ctx, lead, g.ID, c)).must(t)
			if g.Title != c.Title || g.HoldHours != 48 || g.Capacity != 10 || g.Venue.Transport != "Bus 16" || g.Version == c.Version {
				t.Fatalf("changed: %+v", g)
			}
			if after := len(r(mail.List(ctx, db, "", 100)).must(t)); after != before {
				t.Fatalf("%d emails for a change that does not move the group", after-before)
			}
			// The session's own places are its own.
			if got := r(w.Groups.GetSession(ctx, lead, se.ID, "")).must(t).Session; got.Capacity != 2 {
				t.Fatalf("a coming session's places changed with the group's default: %+v", got)
			}
		})

		t.Run("StaleVersionIsAConflict", func(t *testing.T) {
			c := changeOf(g)
			c.Version = ""
			if _, err := w.Groups.EditGroup(ctx, lead, g.ID, c); !app.IsCode(err, app.CodeInvalid) || app.As(err).Fields[0].Field != "version" {
				t.Fatalf("no version: %v", err)
			}
			c.Version = "0000000000000000"
			_, err := w.Groups.EditGroup(ctx, lead, g.ID, c)
			if !app.IsCode(err, app.CodeConflict) || !strings.Contains(app.As(err).Message, "Someone else changed this group") {
				t.Fatalf("a stale version: %v", err)
			}
		})

		t.Run("VisibilityAndTheInvitation", func(t *testing.T) {
			c := changeOf(g)
			c.Visibility = groups.Invitation
			g = r(w.Groups.EditGroup(ctx, lead, g.ID, c)).must(t)
			if g.InviteCode == "" {
				t.Fatal("turning invitation-only gave no code")
			}
			if _, err := w.Groups.GetGroup(ctx, app.Public("x"), g.ID, ""); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("an invitation-only group is public: %v", err)
			}
			r(w.Groups.GetGroup(ctx, app.Public("x"), g.ID, g.InviteCode)).must(t)
			code := g.InviteCode
			c = changeOf(g)
			c.Visibility = groups.Members
			g = r(w.Groups.EditGroup(ctx, lead, g.ID, c)).must(t)
			if _, err := w.Groups.GetGroup(ctx, app.Public("x"), g.ID, code); g.InviteCode != "" || !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("the old invitation still opens a members' group: %q %v", g.InviteCode, err)
			}
			c = changeOf(g)
			c.Visibility = groups.Public
			g = r(w.Groups.EditGroup(ctx, lead, g.ID, c)).must(t)
		})

		t.Run("NewVenueIsToldToEveryoneBooked", func(t *testing.T) {
			c := changeOf(g)
			c.Venue = groups.Venue{Name: "Central Library", Address: "Calverley Street, Leeds", StepFree: true, HearingLoop: true}
			g = r(w.Groups.EditGroup(ctx, lead, g.ID, c)).must(t)
			for _, b := range []groups.BookingResult{ann, wait} {
				email := map[int64]string{ann.ID: "ann.able@example.org", wait.ID: "wes.waiting@example.org"}[b.ID]
				m := r(mail.List(ctx, db, email, 1)).must(t)[0]
				if !strings.HasPrefix(m.Subject, "Changed:") || !strings.Contains(m.Body, b.Reference) || !strings.Contains(m.Body, "/bookings/") {
					t.Errorf("%s's email: %+v", email, m)
				}
				// Checked as words, and without the booking's link: its key
				// is random, and once held "Wes".
				text := bookingLink.ReplaceAllString(m.Subject+"\n"+m.Body, "")
				for _, secret := range []string{"Central Library", "Calverley", "Hearing Voices", "Ann", "Wes"} {
					if regexp.MustCompile(`\b` + regexp.QuoteMeta(secret) + `\b`).MatchString(text) {
						t.Errorf("%s's email carries %q", email, secret)
					}
				}
				bk := r(w.Groups.GetBooking(ctx, anon, b.ID, b.Key)).must(t)
				if last := bk.History[len(bk.History)-1]; last.Kind != "venue_changed" || !last.ByStaff || bk.Venue.Name != "Central Library" {
					t.Errorf("%s's booking: %+v, history %+v", email, bk.Venue, last)
				}
			}
			notes := r(w.Notify.List(ctx, w.Principal(t, "person"), 5)).must(t)
			if len(notes) == 0 || !strings.Contains(notes[0].Message, "has changed") || !strings.Contains(notes[0].Message, mine.Reference) {
				t.Fatalf("the account holder's note: %+v", notes)
			}
			// The audit row names everyone told who has a record (public
			// bookings have none): the account holder.
			if n := count(t, db, `SELECT COUNT(*) FROM audit_subjects s JOIN audit_events a ON a.id = s.audit_id WHERE a.action = 'group.edit'
				AND a.object_id = $1 AND s.person_id = $2`, itoa(g.ID), w.Principal(t, "person").PersonID); n != 1 {
				t.Fatalf("the change names the account holder in %d audit rows, want 1", n)
			}
		})

		t.Run("TheRotaFillsSessionsWithoutFacilitators", func(t *testing.T) {
			bare := r(w.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: w.TeamA.ID, Title: "Walk and Talk", Repeats: groups.Weekly,
				Visibility: groups.Public, Venue: groups.Venue{Name: "Park gates"}})).must(t)
			start := w.Clock.Now().AddDate(0, 0, 3).In(app.London).Format("2006-01-02") + "T10:30"
			ss := r(w.Groups.AddSessions(ctx, lead, bare.ID, groups.NewSessions{Start: start, Minutes: 60, Count: 2})).must(t)
			if len(ss[0].Facilitators) != 0 {
				t.Fatalf("a session with no rota has facilitators: %+v", ss[0])
			}
			bare = r(w.Groups.GetGroup(ctx, lead, bare.ID, "")).must(t)
			c := changeOf(bare)
			c.FacilitatorIDs = []int64{w.Users["worker"].ID, w.Users["lead"].ID}
			bare = r(w.Groups.EditGroup(ctx, lead, bare.ID, c)).must(t)
			if len(bare.Facilitators) != 2 {
				t.Fatalf("rota: %+v", bare.Facilitators)
			}
			for _, s := range bare.Sessions {
				if len(s.Facilitators) != 2 {
					t.Errorf("session %d has facilitators %+v", s.ID, s.Facilitators)
				}
			}
			// Someone who cannot facilitate is refused.
			c = changeOf(bare)
			c.FacilitatorIDs = append(c.FacilitatorIDs, w.Users["person"].ID)
			if _, err := w.Groups.EditGroup(ctx, lead, bare.ID, c); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("a person on the rota: %v", err)
			}
		})
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Two leads change the group at the same moment from the same version:
// one change is made, the other is told someone else changed it, on
// each engine; the group is never half of each.
func TestConcurrentEditsOneWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		g, _ := setUp(t, w, 12, 2)
		g = r(w.Groups.GetGroup(ctx, lead, g.ID, "")).must(t)
		titles := []string{"Tuesday group", "Thursday group"}
		errs := make([]error, len(titles))
		var wg sync.WaitGroup
		for i, title := range titles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := changeOf(g)
				c.Title, c.Venue.Name = title, title+" venue"
				_, errs[i] = w.Groups.EditGroup(ctx, lead, g.ID, c)
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatal("both changes were made from the same version")
				}
				won = i
			case !app.IsCode(err, app.CodeConflict):
				t.Fatalf("the losing change: %v", err)
			}
		}
		if won < 0 {
			t.Fatalf("neither change was made: %v", errs)
		}
		now := r(w.Groups.GetGroup(ctx, lead, g.ID, "")).must(t)
		if now.Title != titles[won] || now.Venue.Name != titles[won]+" venue" {
			t.Fatalf("the group is %q at %q, want %q's change whole", now.Title, now.Venue.Name, titles[won])
		}
	})
}

// A lead changes who facilitates a coming session: the new facilitator
// sees its participants and the one taken off no longer does; nobody else
// may, and a past or cancelled session keeps its facilitators.
func TestLeadChangesASessionsFacilitators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		lead := w.Principal(t, "lead")
		_, se := setUp(t, w, 12, 2)
		r(w.Groups.Book(ctx, app.Public("t"), se.ID, public("Ann Able"))).must(t)
		r(w.Groups.Participants(ctx, w.Principal(t, "worker"), se.ID)).must(t)
		clinician := w.Users["clinician"].ID
		for _, c := range []groups.SessionFacilitators{{}, {FacilitatorIDs: []int64{w.Users["person"].ID}}} {
			if _, err := w.Groups.SetFacilitators(ctx, lead, se.ID, c); !app.IsCode(err, app.CodeInvalid) {
				t.Fatalf("facilitators %v: %v", c.FacilitatorIDs, err)
			}
		}
		for _, who := range []string{"worker", "leadB", "clinician"} {
			if _, err := w.Groups.SetFacilitators(ctx, w.Principal(t, who), se.ID, groups.SessionFacilitators{FacilitatorIDs: []int64{clinician}}); !app.IsCode(err, app.CodeNotFound) {
				t.Errorf("%s changing the facilitators: %v", who, err)
			}
		}
		got := r(w.Groups.SetFacilitators(ctx, lead, se.ID, groups.SessionFacilitators{FacilitatorIDs: []int64{clinician, clinician}})).must(t)
		if len(got.Facilitators) != 1 || got.Facilitators[0].UserID != clinician {
			t.Fatalf("facilitators: %+v", got.Facilitators)
		}
		r(w.Groups.Participants(ctx, w.Principal(t, "clinician"), se.ID)).must(t)
		if _, err := w.Groups.Participants(ctx, w.Principal(t, "worker"), se.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("the facilitator taken off still sees the participants: %v", err)
		}
		w.Clock.Advance(8 * 24 * time.Hour)
		if _, err := w.Groups.SetFacilitators(ctx, lead, se.ID, groups.SessionFacilitators{FacilitatorIDs: []int64{w.Users["worker"].ID}}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("changing a past session's facilitators: %v", err)
		}
	})
}

// bookingLink matches a booking's link in an email, with its random key.
var bookingLink = regexp.MustCompile(`\S*/bookings/\S*`)
