package community_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/storetest"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
)

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func join(t *testing.T, w *testkit.World, name, display string, consent bool) *app.Principal {
	t.Helper()
	p := w.Principal(t, name)
	if _, err := w.Community.SaveSettings(context.Background(), p, community.Settings{DisplayName: display, CareTeamConsent: consent}); err != nil {
		t.Fatalf("%s joins: %v", name, err)
	}
	return p
}

func space(t *testing.T, w *testkit.World, sp community.Space) community.Space {
	t.Helper()
	sp, err := w.Community.CreateSpace(context.Background(), w.Principal(t, "moderator"), sp)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func field(err error) string {
	if e := app.As(err); e != nil && len(e.Fields) > 0 {
		return e.Fields[0].Field
	}
	return ""
}

// trusted raises a member so their posts are not held.
func trusted(t *testing.T, w *testkit.World, p *app.Principal) {
	t.Helper()
	if _, err := w.Community.SetTrust(context.Background(), w.Principal(t, "moderator"), p.UserID, community.TrustChange{Level: community.LevelMember, Reason: "known to us"}); err != nil {
		t.Fatal(err)
	}
}

func TestMembersAndSpaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		t.Run("DisplayNamesArePseudonyms", func(t *testing.T) {
			p := w.Principal(t, "person")
			_, err := w.Community.SaveSettings(ctx, p, community.Settings{DisplayName: strings.ToUpper(p.Name)})
			if field(err) != "display_name" {
				t.Fatalf("a real name as display name: %v", err)
			}
			join(t, w, "person", "Quiet Heron", true)
			_, err = w.Community.SaveSettings(ctx, w.Principal(t, "person2"), community.Settings{DisplayName: "quiet  HÉRON"})
			if field(err) != "display_name" {
				t.Fatalf("a display name taken, written differently: %v", err)
			}
		})
		people := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		invite := space(t, w, community.Space{Name: "Tuesday group", InvitationOnly: true})
		t.Run("WhoMayJoin", func(t *testing.T) {
			carer := join(t, w, "carer", "Kind Otter", false)
			list, err := w.Community.Spaces(ctx, carer)
			if err != nil || len(list) != 0 {
				t.Fatalf("the carer sees %+v %v", list, err)
			}
			if _, _, err := w.Community.Topics(ctx, carer, people.ID); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("a space not for carers: %v", err)
			}
			if _, err := w.Community.CreateTopic(ctx, carer, people.ID, community.NewTopic{Title: "Hi", Body: "Hello"}); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("posting in a space not for carers: %v", err)
			}
			person := w.Principal(t, "person")
			if _, _, err := w.Community.Topics(ctx, person, invite.ID); !app.IsCode(err, app.CodeNotFound) {
				t.Fatalf("an invitation-only space before the invitation: %v", err)
			}
			if err := w.Community.Invite(ctx, w.Principal(t, "moderator"), invite.ID, person.UserID); err != nil {
				t.Fatal(err)
			}
			list, err = w.Community.Spaces(ctx, person)
			if err != nil || len(list) != 2 {
				t.Fatalf("the person, invited, sees %+v %v", list, err)
			}
		})
		t.Run("StaffPostUnderTheirRole", func(t *testing.T) {
			worker := w.Principal(t, "worker")
			join(t, w, "worker", worker.Name, false)
			staff := space(t, w, community.Space{Name: "Ideas for our service", ForStaff: true, ForPeople: true})
			trusted(t, w, worker)
			res, err := w.Community.CreateTopic(ctx, worker, staff.ID, community.NewTopic{Title: "Drop-in ideas", Body: "What would help?"})
			if err != nil || res.Post.AuthorRole != "Peer support worker" || res.Held {
				t.Fatalf("%+v %v", res, err)
			}
		})
		t.Run("JoinFirst", func(t *testing.T) {
			_, err := w.Community.CreateTopic(ctx, w.Principal(t, "person2"), people.ID, community.NewTopic{Title: "Hi", Body: "Hello"})
			if !app.IsCode(err, app.CodeForbidden) {
				t.Fatalf("posting before joining: %v", err)
			}
		})
	})
}

func TestNewMembersFirstPostHeldAndApproved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		newbie := join(t, w, "person", "Quiet Heron", false)
		other := join(t, w, "person2", "Bright Finch", false)
		mod := w.Principal(t, "moderator")
		if _, err := w.Community.CreateTopic(ctx, newbie, sp.ID, community.NewTopic{Title: "Hello", Body: "see www.example.com"}); field(err) != "body" {
			t.Fatalf("a new member's link: %v", err)
		}
		res, err := w.Community.CreateTopic(ctx, newbie, sp.ID, community.NewTopic{Title: "Hello", Body: "First time here, hearing voices since spring."})
		if err != nil || !res.Held || res.Topic.Status != "held" {
			t.Fatalf("a new member's first topic: %+v %v", res, err)
		}
		if _, list, _ := w.Community.Topics(ctx, other, sp.ID); len(list) != 0 {
			t.Fatalf("another member sees a held topic: %+v", list)
		}
		if _, list, _ := w.Community.Topics(ctx, newbie, sp.ID); len(list) != 1 {
			t.Fatalf("the writer should see their held topic: %+v", list)
		}
		if _, err := w.Community.Topic(ctx, other, res.Topic.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a held topic to another member: %v", err)
		}
		q, err := w.Community.Queue(ctx, mod)
		if err != nil || len(q) != 1 || q[0].Post.ID != res.Post.ID || q[0].TrustLevel != community.LevelNew {
			t.Fatalf("queue: %+v %v", q, err)
		}
		if _, err := w.Community.Queue(ctx, other); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a member reading the queue: %v", err)
		}
		if _, err := w.Community.Decide(ctx, mod, res.Post.ID, community.Decision{Action: "approve"}); err != nil {
			t.Fatal(err)
		}
		tp, err := w.Community.Topic(ctx, other, res.Topic.ID)
		if err != nil || len(tp.Posts) != 1 || tp.Posts[0].Status != "visible" {
			t.Fatalf("approved topic: %+v %v", tp, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%approved your post%'", newbie.UserID); n != 1 {
			t.Fatalf("the writer was told %d times", n)
		}
		if _, err := w.Community.Decide(ctx, mod, res.Post.ID, community.Decision{Action: "approve"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("deciding again: %v", err)
		}
		t.Run("FirstDayLimits", func(t *testing.T) {
			for i := range 2 {
				if _, err := w.Community.CreateTopic(ctx, newbie, sp.ID, community.NewTopic{Title: "More", Body: "another " + string(rune('a'+i))}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := w.Community.CreateTopic(ctx, newbie, sp.ID, community.NewTopic{Title: "Fourth", Body: "one too many"})
			if !app.IsCode(err, app.CodeTooMany) {
				t.Fatalf("a fourth topic on the first day: %v", err)
			}
		})
		t.Run("RisesAfterADay", func(t *testing.T) {
			for _, it := range must(w.Community.Queue(ctx, mod)) {
				if _, err := w.Community.Decide(ctx, mod, it.Post.ID, community.Decision{Action: "approve"}); err != nil {
					t.Fatal(err)
				}
			}
			w.Clock.Advance(25 * 3600e9)
			r, err := w.Community.Reply(ctx, newbie, res.Topic.ID, community.NewPost{Body: "Thanks all"})
			if err != nil || r.Held {
				t.Fatalf("after a day and approved posts: %+v %v", r, err)
			}
			if m, _ := w.Community.Me(ctx, newbie); m.TrustLevel != community.LevelMember {
				t.Fatalf("trust level %d", m.TrustLevel)
			}
		})
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWatchedWordsOnEveryPost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		writer := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, writer)
		reader := join(t, w, "person2", "Bright Finch", false)
		mod := w.Principal(t, "moderator")
		calm, err := w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Good day", Body: "A walk helped"})
		if err != nil || calm.HelpNow || calm.Held {
			t.Fatalf("%+v %v", calm, err)
		}
		if err := w.Community.Flag(ctx, reader, calm.Post.ID, community.NewFlag{Kind: "spam"}); err != nil {
			t.Fatal(err)
		}
		risky, err := w.Community.Reply(ctx, writer, calm.Topic.ID, community.NewPost{Body: "Some nights I want to die, honestly"})
		if err != nil || !risky.HelpNow || risky.Held || risky.Post.Status != "visible" {
			t.Fatalf("risk language: signposted and still posted: %+v %v", risky, err)
		}
		q := must(w.Community.Queue(ctx, mod))
		if len(q) != 2 || q[0].Post.ID != risky.Post.ID || !q[0].Risk {
			t.Fatalf("risk first in the queue: %+v", q)
		}
		sad, err := w.Community.Reply(ctx, writer, calm.Topic.ID, community.NewPost{Body: "feeling hopeless"})
		if err != nil || !sad.HelpNow || len(must(w.Community.Queue(ctx, mod))) != 2 {
			t.Fatalf("signpost only: %+v %v", sad, err)
		}
		named, err := w.Community.Reply(ctx, writer, calm.Topic.ID, community.NewPost{Body: "text me on 07700 900123 or come to 12 Acacia Road"})
		if err != nil || !named.Replaced || strings.Contains(named.Post.Body, "07700") || strings.Contains(named.Post.Body, "Acacia") {
			t.Fatalf("identifying details replaced: %+v %v", named, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM community_posts WHERE body LIKE '%07700%'"); n != 0 {
			t.Fatal("the phone number was stored")
		}
		if _, err := w.Community.Reply(ctx, writer, calm.Topic.ID, community.NewPost{Body: strings.Repeat("a", 5001)}); field(err) != "body" {
			t.Fatalf("too long: %v", err)
		}
	})
}

func TestFlagResolvedAndFlaggerTold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Carers and people", ForPeople: true, ForCarers: true})
		writer := join(t, w, "person", "Quiet Heron", false)
		trusted(t, w, writer)
		flagger := join(t, w, "carer", "Kind Otter", false)
		mod := w.Principal(t, "moderator")
		res := must(w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "About my neighbour", Body: "My neighbour Jo is awful"}))
		if err := w.Community.Flag(ctx, flagger, res.Post.ID, community.NewFlag{Kind: "nonsense"}); field(err) != "kind" {
			t.Fatalf("unknown kind: %v", err)
		}
		for range 2 {
			if err := w.Community.Flag(ctx, flagger, res.Post.ID, community.NewFlag{Kind: "identifies", Note: "names a neighbour"}); err != nil {
				t.Fatal(err)
			}
		}
		it, err := w.Community.Item(ctx, mod, res.Post.ID)
		if err != nil || len(it.Flags) != 1 || it.Flags[0].FlaggedBy != "Kind Otter" || it.Flags[0].Note != "names a neighbour" {
			t.Fatalf("item: %+v %v", it, err)
		}
		if _, err := w.Community.Decide(ctx, mod, res.Post.ID, community.Decision{Action: "hide"}); field(err) != "reason" {
			t.Fatalf("hiding without a reason: %v", err)
		}
		// Two moderators decide at once: one decides, the other finds it done.
		mod2, err := w.Accounts.CreateUser(ctx, app.Operator("t"), accountUser("mod2@test.example"))
		if err != nil {
			t.Fatal(err)
		}
		p2 := &app.Principal{UserID: mod2.ID, Memberships: mod2.Memberships, Name: mod2.Name}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []*app.Principal{mod, p2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Community.Decide(ctx, p, res.Post.ID, community.Decision{Action: "hide", Reason: "It names someone who is not here"})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !app.IsCode(err, app.CodeConflict) {
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d decisions succeeded: %v", ok, errs)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%looked at it: hidden%'", flagger.UserID); n != 1 {
			t.Fatalf("the flagger was told %d times", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%It names someone who is not here%'", writer.UserID); n != 1 {
			t.Fatalf("the writer was told %d times", n)
		}
		// A hidden opening post hides its topic from other members; its
		// writer still sees it, with the reason.
		if _, err := w.Community.Topic(ctx, flagger, res.Topic.ID); !app.IsCode(err, app.CodeNotFound) {
			t.Fatalf("a hidden topic to another member: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.decide'"); n != 1 {
			t.Fatalf("%d decisions audited", n)
		}
	})
}

func TestEscalationNeedsConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		mod := w.Principal(t, "moderator")
		// Both have an open referral with team A.
		for _, n := range []string{"person", "person2"} {
			if _, err := w.Referrals.CreateReferral(ctx, w.Principal(t, n), referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: w.TeamA.ID}); err != nil {
				t.Fatal(err)
			}
		}
		agreed := join(t, w, "person", "Quiet Heron", true)
		trusted(t, w, agreed)
		notAgreed := join(t, w, "person2", "Bright Finch", false)
		trusted(t, w, notAgreed)
		a := must(w.Community.CreateTopic(ctx, agreed, sp.ID, community.NewTopic{Title: "Rough week", Body: "I have been thinking of ending it all"}))
		b := must(w.Community.CreateTopic(ctx, notAgreed, sp.ID, community.NewTopic{Title: "Rough week too", Body: "I have been thinking of ending it all"}))
		// Each member flags the other's post as worried: the concern
		// settles the flag, and the flagger is told it is being followed up
		// — never that a care team was told.
		if err := w.Community.Flag(ctx, notAgreed, a.Post.ID, community.NewFlag{Kind: "worried"}); err != nil {
			t.Fatal(err)
		}
		if err := w.Community.Flag(ctx, agreed, b.Post.ID, community.NewFlag{Kind: "worried"}); err != nil {
			t.Fatal(err)
		}
		defer func() {
			for _, m := range []*app.Principal{notAgreed, agreed} {
				if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%following it up%' AND message NOT LIKE '%care team%'", m.UserID); n != 1 {
					t.Errorf("the member who flagged was told %d times that it is being followed up", n)
				}
			}
		}()
		before := count(t, db, "SELECT COUNT(*) FROM alerts")
		if _, err := w.Community.Escalate(ctx, mod, a.Post.ID, community.NewEscalation{}); field(err) != "reason" {
			t.Fatalf("escalating without a reason: %v", err)
		}
		if _, err := w.Community.Escalate(ctx, agreed, a.Post.ID, community.NewEscalation{Reason: "x"}); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a member escalating: %v", err)
		}
		e, err := w.Community.Escalate(ctx, mod, a.Post.ID, community.NewEscalation{Reason: "Talks of ending it all"})
		if err != nil || e.Route != "care_team" {
			t.Fatalf("with consent: %+v %v", e, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE person_id = $1 AND team_id = $2 AND detail = 'community'", agreed.PersonID, w.TeamA.ID); n != 1 {
			t.Fatalf("alerts for the care team: %d", n)
		}
		// Submitted twice: one concern, one alert.
		if _, err := w.Community.Escalate(ctx, mod, a.Post.ID, community.NewEscalation{Reason: "Talks of ending it all"}); !app.IsCode(err, app.CodeConflict) {
			t.Fatalf("a second concern about the same post: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts WHERE person_id = $1 AND detail = 'community'", agreed.PersonID); n != 1 {
			t.Fatalf("alerts after a second submit: %d", n)
		}
		e, err = w.Community.Escalate(ctx, mod, b.Post.ID, community.NewEscalation{Reason: "Talks of ending it all"})
		if err != nil || e.Route != "moderators" {
			t.Fatalf("without consent: %+v %v", e, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM alerts"); n != before+1 {
			t.Fatalf("an alert without consent: %d alerts, %d before", n, before)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%will check in with you%'", notAgreed.UserID); n != 1 {
			t.Fatalf("the member without consent was told %d times", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND message LIKE '%let your care team know%'", agreed.UserID); n != 1 {
			t.Fatalf("the member with consent was told %d times", n)
		}
		// The risk flags are closed by the escalation; the queue is empty.
		if q := must(w.Community.Queue(ctx, mod)); len(q) != 0 {
			t.Fatalf("queue after escalating: %+v", q)
		}
	})
}

func TestIdentityOnlyForModeratorsAndAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testkit.NewWorld(t, db)
		sp := space(t, w, community.Space{Name: "Living with voices", ForPeople: true})
		writer := join(t, w, "person", "Quiet Heron", false)
		reader := join(t, w, "person2", "Bright Finch", false)
		trusted(t, w, writer)
		res := must(w.Community.CreateTopic(ctx, writer, sp.ID, community.NewTopic{Title: "Hello", Body: "Hi all"}))
		tp := must(w.Community.Topic(ctx, reader, res.Topic.ID))
		if tp.Posts[0].Author != "Quiet Heron" || strings.Contains(must(jsonOf(tp)), writer.Name) || strings.Contains(must(jsonOf(tp)), writer.Email) {
			t.Fatalf("a member sees the writer's identity: %+v", tp)
		}
		if _, err := w.Community.Identity(ctx, reader, writer.UserID); !app.IsCode(err, app.CodeForbidden) {
			t.Fatalf("a member asking who is behind a name: %v", err)
		}
		id, err := w.Community.Identity(ctx, w.Principal(t, "moderator"), writer.UserID)
		if err != nil || id.Name != writer.Name || id.DisplayName != "Quiet Heron" {
			t.Fatalf("%+v %v", id, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.identity.read'"); n != 1 {
			t.Fatalf("%d identity reads audited", n)
		}
		// A member with a record: the moderator learns that they have one,
		// never its id; the audit trail names the person.
		r, err := w.Referrals.CreateReferral(ctx, writer, referral.NewReferral{Source: referral.SourceSelf, AskedFor: "company", TeamID: w.TeamA.ID})
		if err != nil {
			t.Fatal(err)
		}
		id, err = w.Community.Identity(ctx, w.Principal(t, "moderator"), writer.UserID)
		if err != nil || !id.HasRecord {
			t.Fatalf("%+v %v", id, err)
		}
		if js := must(jsonOf(id)); strings.Contains(js, "person_id") || !strings.Contains(js, `"has_record":true`) {
			t.Fatalf("the identity shown to a moderator names the record: %s", js)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM audit_events WHERE action = 'community.identity.read' AND subject_person_id = $1", r.PersonID); n < 1 {
			t.Fatalf("%d identity reads audited naming the person", n)
		}
	})
}
