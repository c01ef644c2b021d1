package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/testenv/testkit"
	"github.com/mutualhq/mutual/internal/testenv/webtest"
)

// TestCommunityEscalationAndFlagOutcome: a member who agreed that their
// care team may be told writes about wanting to die; another member flags
// it as worried. The moderator records a concern, which — because the
// writer agreed and is on a team's list — reaches that team's lead as an
// alert carrying the referral's reference, never the post; the lead opens
// it. Recording the concern settles the flag, and the member who flagged
// is told on their home page. Every page is checked with axe at both widths,
// the members' on a phone without JavaScript.
func TestCommunityEscalationAndFlagOutcome(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	mod := e.Principal(t, "moderator")
	ref := e.Allocated(t, "person", "worker")
	sp, err := e.Community.CreateSpace(ctx, mod, community.Space{Name: "Hard days", ForPeople: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Community.SaveSettings(ctx, mod, community.Settings{DisplayName: "Steady Lark"}); err != nil {
		t.Fatal(err)
	}
	opened, err := e.Community.CreateTopic(ctx, mod, sp.ID, community.NewTopic{Title: "Getting through", Body: "What gets you through a hard day?"})
	if err != nil {
		t.Fatal(err)
	}
	writer, flagger := e.Principal(t, "person"), e.Principal(t, "person2")
	if _, err := e.Community.SaveSettings(ctx, writer, community.Settings{DisplayName: "Quiet Heron", CareTeamConsent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Community.SaveSettings(ctx, flagger, community.Settings{DisplayName: "Bright Finch"}); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []int64{writer.UserID, flagger.UserID} {
		if _, err := e.Community.SetTrust(ctx, mod, uid, community.TrustChange{Level: community.LevelMember, Reason: "known"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Community.Reply(ctx, writer, opened.Topic.ID, community.NewPost{Body: "Some nights I want to die"}); err != nil {
		t.Fatal(err)
	}

	f := b.newPage(t, e, "member who flags, on a phone, no JavaScript")
	f.setViewport(mobile)
	f.disableJS()
	f.signIn(e.Users["person2"].Email, testkit.Password)
	f.open("/community/topics/" + itoa(opened.Topic.ID))
	f.follow("Tell a moderator about this post by Quiet Heron")
	f.check()
	f.choose("kind", "worried")
	f.press("Tell a moderator")
	f.wantText("A moderator will look at the post")

	m := b.newPage(t, e, "moderator")
	m.signIn(e.Users["moderator"].Email, testkit.Password)
	m.open("/community/moderation")
	m.check()
	m.follow("Getting through")
	m.check()
	m.wantText("Quiet Heron", "I'm worried about someone")
	m.fill("escalation_reason", "Says they want to die some nights")
	m.press("Record concern")
	m.wantText("their care team's duty leads have been alerted")

	l := b.newPage(t, e, "the team's lead")
	l.signIn(e.Users["lead"].Email, testkit.Password)
	l.open("/alerts")
	l.check()
	l.wantText(ref.Reference)
	if main := l.mainText(); strings.Contains(main, "Some nights I want to die") || strings.Contains(main, "Quiet Heron") {
		t.Errorf("the lead's alerts show the post or the display name:\n%s", main)
	}

	// Recording the concern settled the post's flags: the queue is
	// empty, and the member who flagged is told on their home page.
	m.open("/community/moderation")
	m.wantText("Nothing is waiting for a moderator")
	f.open("/")
	f.check()
	f.wantText("A moderator looked at it: they are following it up with the people who can help")
}
