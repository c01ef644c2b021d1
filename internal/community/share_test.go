package community_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

// shareGroup makes a group of the given visibility with one session a
// week from now, and books a named person onto it.
func shareGroup(t *testing.T, w *testkit.World, vis groups.Visibility) (groups.Group, groups.Session) {
	t.Helper()
	ctx := context.Background()
	lead := w.Principal(t, "lead")
	g, err := w.Groups.CreateGroup(ctx, lead, groups.NewGroup{TeamID: w.TeamA.ID, Title: "Hearing Voices Group", Repeats: groups.Weekly,
		Visibility: vis, Venue: groups.Venue{Name: "Recovery College", Address: "1 High Street, Leeds"}})
	if err != nil {
		t.Fatal(err)
	}
	start := w.Clock.Now().AddDate(0, 0, 7).In(app.London).Format("2006-01-02") + "T10:30"
	ss, err := w.Groups.AddSessions(ctx, lead, g.ID, groups.NewSessions{Start: start, Minutes: 90})
	if err != nil || len(ss) != 1 {
		t.Fatalf("sessions %v %v", ss, err)
	}
	if vis == groups.Public {
		if _, err := w.Groups.Book(ctx, app.Public("t"), ss[0].ID, groups.BookingRequest{Name: "Pat Booker", Email: "pat@example.org", Places: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return g, ss[0]
}

// Sharing a group session (#15): a trusted member of staff starts a topic
// with the session's title, UK date and time and link — no booking, no
// name — or replies in a chosen topic; the post goes the normal way (a new
// member of staff may not post a link yet; a suspended one may not post);
// people may not share; an invitation-only group's session is refused in a
// space others can see and allowed in an invitation-only one; a topic in
// another space is refused by field.
func TestShareSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		open := space(t, w, community.Space{Name: "Open", ForPeople: true, ForStaff: true})
		other := space(t, w, community.Space{Name: "Other", ForPeople: true, ForStaff: true})
		closed := space(t, w, community.Space{Name: "Invited", InvitationOnly: true})
		lead := join(t, w, "lead", "Lead Lin", false)
		if _, err := db.Exec(ctx, "UPDATE community_members SET trust_level = 2 WHERE user_id = $1", w.Users["lead"].ID); err != nil {
			t.Fatal(err)
		}
		_, se := shareGroup(t, w, groups.Public)
		link := "https://mutual.test/sessions/1"
		got, err := w.Community.ShareSession(ctx, lead, se.ID, community.SessionShare{SpaceID: open.ID}, link)
		if err != nil {
			t.Fatal(err)
		}
		when := se.StartsAt.In(app.London).Format("Monday 2 January 2006, 3:04pm")
		if !got.Post.Opening || got.Post.Status != "visible" || !strings.Contains(got.Topic.Title, "Hearing Voices Group") ||
			!strings.Contains(got.Post.Body, when+" (UK time)") || !strings.Contains(got.Post.Body, link) || strings.Contains(got.Post.Body, "Pat") {
			t.Errorf("shared: %+v", got)
		}
		reply, err := w.Community.ShareSession(ctx, lead, se.ID, community.SessionShare{SpaceID: open.ID, TopicID: got.Topic.ID}, link)
		if err != nil || reply.Post.Opening || reply.Topic.ID != got.Topic.ID {
			t.Errorf("reply: %+v %v", reply, err)
		}
		if _, err := w.Community.ShareSession(ctx, lead, se.ID, community.SessionShare{SpaceID: other.ID, TopicID: got.Topic.ID}, link); field(err) != "topic_id" {
			t.Errorf("a topic in another space: %v", err)
		}
		// A long title with letters of more than one byte is cut by
		// characters, never in the middle of one.
		long := strings.Repeat("é", 130)
		if _, err := db.Exec(ctx, "UPDATE peer_groups SET title = $1 WHERE id = (SELECT group_id FROM group_sessions WHERE id = $2)", long, se.ID); err != nil {
			t.Fatal(err)
		}
		cut, err := w.Community.ShareSession(ctx, lead, se.ID, community.SessionShare{SpaceID: open.ID}, link)
		if err != nil || cut.Topic.Title != strings.Repeat("é", 120) {
			t.Errorf("a long title: %q %v", cut.Topic.Title, err)
		}
		if _, err := w.Community.ShareSession(ctx, lead, se.ID, community.SessionShare{}, link); field(err) != "space_id" {
			t.Errorf("no space: %v", err)
		}
		// The normal path: a new member of staff may not post links.
		worker := join(t, w, "worker", "Worker Wren", false)
		if _, err := w.Community.ShareSession(ctx, worker, se.ID, community.SessionShare{SpaceID: open.ID}, link); field(err) != "body" {
			t.Errorf("a new member posted a link: %v", err)
		}
		person := join(t, w, "person", "Quiet Heron", false)
		if _, err := w.Community.ShareSession(ctx, person, se.ID, community.SessionShare{SpaceID: open.ID}, link); !app.IsCode(err, app.CodeForbidden) {
			t.Errorf("a person shared a session: %v", err)
		}
		// An invitation-only group: not into a space others see.
		_, inv := shareGroup(t, w, groups.Invitation)
		if _, err := w.Community.ShareSession(ctx, lead, inv.ID, community.SessionShare{SpaceID: open.ID}, link); field(err) != "space_id" {
			t.Errorf("an invitation-only group shared openly: %v", err)
		}
		if err := w.Community.Invite(ctx, w.Principal(t, "moderator"), closed.ID, w.Users["lead"].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Community.ShareSession(ctx, lead, inv.ID, community.SessionShare{SpaceID: closed.ID}, link); err != nil {
			t.Errorf("into an invitation-only space: %v", err)
		}
	})
}

// A share racing the group being made invitation-only: either the share
// committed first (its audit row before the change's) or it was refused.
func TestShareSessionRacesGroupMadePrivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := testkit.NewWorld(t, db)
		ctx := context.Background()
		open := space(t, w, community.Space{Name: "Open", ForPeople: true, ForStaff: true})
		lead := join(t, w, "lead", "Lead Lin", false)
		if _, err := db.Exec(ctx, "UPDATE community_members SET trust_level = 2 WHERE user_id = $1", w.Users["lead"].ID); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			g, se := shareGroup(t, w, groups.Public)
			g, err := w.Groups.GetGroup(ctx, w.Principal(t, "lead"), g.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var shareErr, editErr error
			var posted community.Posted
			wg.Add(2)
			go func() {
				defer wg.Done()
				posted, shareErr = w.Community.ShareSession(ctx, lead, se.ID, community.SessionShare{SpaceID: open.ID}, "https://mutual.test/sessions/1")
			}()
			go func() {
				defer wg.Done()
				_, editErr = w.Groups.EditGroup(ctx, w.Principal(t, "lead"), g.ID, groups.GroupChange{Version: g.Version, Title: g.Title, Repeats: g.Repeats,
					Visibility: groups.Invitation, Venue: g.Venue})
			}()
			wg.Wait()
			if editErr != nil {
				t.Fatal(editErr)
			}
			if shareErr != nil {
				if field(shareErr) != "space_id" {
					t.Fatalf("share: %v", shareErr)
				}
				continue
			}
			var postAt, editAt int64
			if err := db.QueryRow(ctx, "SELECT id FROM audit_events WHERE action = 'community.post' AND object_id = $1", strconv.FormatInt(posted.Post.ID, 10)).Scan(&postAt); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(ctx, "SELECT MAX(id) FROM audit_events WHERE action = 'group.edit'").Scan(&editAt); err != nil {
				t.Fatal(err)
			}
			if postAt > editAt {
				t.Fatalf("shared after the group was made invitation-only (audit %d after %d)", postAt, editAt)
			}
		}
	})
}
