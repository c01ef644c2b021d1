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

// TestCommunityJourney: a person on a phone with JavaScript off joins the
// community under a display name and starts a topic, which, as a new
// member's, waits for a moderator; the moderator finds it on their home
// page and approves it. Another member replies with words about risk and
// is shown where to get help now; the first flags the reply as worried,
// and the moderator finds it first in the queue, records a concern and sees
// who wrote it (audited). Every page is checked with axe at both widths.
func TestCommunityJourney(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := webtest.Start(t, store.SQLite, webtest.Options{})
	ctx := context.Background()
	mod := e.Principal(t, "moderator")
	if _, err := e.Community.CreateSpace(ctx, mod, community.Space{Name: "Living with voices", Description: "For people who hear voices.", ForPeople: true}); err != nil {
		t.Fatal(err)
	}

	p := b.newPage(t, e, "person on a phone, no JavaScript")
	p.setViewport(mobile)
	p.disableJS()
	p.signIn(e.Users["person"].Email, testkit.Password)
	p.open("/community")
	p.check()
	p.press("Join the community")
	p.fill("display_name", "Quiet Heron")
	if st := p.press("Join the community"); st != 422 {
		t.Fatalf("joining without answering about the care team: %d", st)
	}
	p.wantSummaryError("Say whether moderators may tell your care team if they are worried about you", "care_team_consent")
	if p.value("display_name") != "Quiet Heron" {
		t.Error("the display name typed was not kept")
	}
	p.choose("care_team_consent", "no")
	p.press("Join the community")
	p.wantText("You take part as Quiet Heron")
	p.press("Living with voices")
	p.fill("title", "Nights")
	p.fill("body", "First time here.\nThe voices are loud at night. What helps you?")
	p.press("Post")
	if f := p.flash(); !strings.Contains(f, "once a moderator has seen it") {
		t.Errorf("flash %q", f)
	}
	p.wantText("Waiting for a moderator", "The voices are loud at night")

	m := b.newPage(t, e, "moderator")
	m.signIn(e.Users["moderator"].Email, testkit.Password)
	m.open("/")
	m.check()
	m.wantText("Moderation queue", "1 post waits for a moderator")
	m.press("Nights")
	m.wantText("Waiting for a moderator", "The voices are loud at night")
	m.choose("action", "approve")
	m.press("Record decision")
	m.wantText("Post approved")

	// Another member, already trusted, replies with words about risk.
	other := e.Principal(t, "person2")
	if _, err := e.Community.SaveSettings(ctx, other, community.Settings{DisplayName: "Bright Finch"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Community.SetTrust(ctx, mod, other.UserID, community.TrustChange{Level: community.LevelMember, Reason: "known"}); err != nil {
		t.Fatal(err)
	}
	o := b.newPage(t, e, "another member, no JavaScript")
	o.disableJS()
	o.signIn(e.Users["person2"].Email, testkit.Password)
	o.open("/community")
	o.press("Living with voices")
	o.press("Nights")
	o.fill("body", "Same here. Some nights I want to die.")
	o.press("Post reply")
	o.wantText("You can get help now", "116 123", "Same here")
	if first := eval[string](o, `document.querySelector('main').firstElementChild.id`); first != "help-now" {
		t.Errorf("the first thing after posting is %q, want the help-now card", first)
	}
	o.press("Me too")

	// The first member is worried about the reply.
	p.open(p.Path())
	p.follow("Tell a moderator about this post by Bright Finch")
	p.check()
	p.choose("kind", "worried")
	p.press("Tell a moderator")
	p.wantText("A moderator will look at the post")

	m.open("/community/moderation")
	m.check()
	if first := m.text("tbody tr"); !strings.Contains(first, "Possible risk") {
		t.Errorf("the first in the queue is not the risk: %q", first)
	}
	m.follow("Nights")
	m.check()
	m.wantText("Bright Finch", "I'm worried about someone")
	m.fill("escalation_reason", "Says they want to die some nights")
	m.press("Record concern")
	m.wantText("follow up with them in the community")
	m.press("See who this is")
	m.wantText("Test person2", "recorded in the audit trail")
}
