package web

import (
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/web/ui"
)

func init() { extraTplCases = append(extraTplCases, communityTplCases) }

func communityTplCases() []tplCase {
	post := func(id int64, status string, mine bool) community.Post {
		return community.Post{ID: id, TopicID: 3, Author: "Quiet Heron", Body: "Line one\n\nLine two", Status: status, Mine: mine, CreatedAt: tNow,
			Reactions: []community.Reaction{{Kind: "me_too", Label: "Me too", Count: 2, Mine: true}, {Kind: "strength", Label: "Sending strength"}}}
	}
	staff := post(9, "visible", false)
	staff.Author, staff.AuthorRole = "Kofi Asante", "Peer support worker"
	hidden := post(10, "hidden", false)
	hidden.Body, hidden.Reason = "", ""
	topic := community.Topic{ID: 3, SpaceID: 2, SpaceName: "Living with voices", Title: "What helps at night?", Author: "Quiet Heron", Status: "visible", Replies: 2,
		CreatedAt: tNow, LastPostAt: tNow, Tags: []string{"sleep", "nights"}}
	flags := []community.Flag{{ID: 1, Kind: "risk", Label: "Watched words about risk", Note: "suicide", CreatedAt: tNow},
		{ID: 2, Kind: "worried", Label: "I'm worried about someone", FlaggedBy: "Bright Finch", Note: "very low", CreatedAt: tNow}}
	q := community.QueueItem{Post: post(8, "visible", false), TopicTitle: "What helps at night?", SpaceName: "Living with voices", Flags: flags, Risk: true, WaitingFrom: tNow}
	item := community.Item{QueueItem: q, Context: []community.Post{post(7, "visible", false), post(8, "visible", false)}, WriterID: 12, Consent: true,
		History:     []community.Flag{{ID: 0, Kind: "spam", Label: "It's spam", Outcome: "approved", CreatedAt: tNow}},
		Escalations: []community.Escalation{{ID: 1, Route: "care_team", Reason: "Very low", At: tNow, By: "Mo Clarke"}}}
	levels := []ui.Option{{Value: "0", Label: "New member"}, {Value: "1", Label: "Member"}, {Value: "2", Label: "Trusted member"}}
	spaces := []community.Space{{ID: 2, Name: "Living with voices", Description: "For people who hear voices", ForPeople: true, Topics: 4},
		{ID: 3, Name: "Tuesday group", InvitationOnly: true}}
	member := &community.Member{DisplayName: "Quiet Heron"}
	return []tplCase{
		{page: "community/home", variant: "member", pg: &ui.Page{Title: "Community", Form: formOf(), Data: communityData{Spaces: spaces, Member: member, CanAsk: true,
			Cloud: []community.TagCount{{Tag: "sleep", Count: 9, Size: 5}, {Tag: "art", Count: 1, Size: 1}}, Query: "lavender", Searched: true, Found: []community.Topic{topic}}},
			want: []string{"Quiet Heron", "Living with voices", "invitation only", "1:1 peer support", "<strong>sleep</strong>", "Topics with “lavender”", `href="/community?tag=art"`}, notWant: []string{"Make a space"}},
		{page: "community/home", variant: "moderator, not joined", pg: &ui.Page{Title: "Community", Form: formOf("for", "people"),
			Data: communityData{Spaces: spaces, Moderator: true, Waiting: 3, Risk: 1}}, want: []string{"Join the community", "Make a space", "3 posts wait", "1 about possible risk"}},
		{page: "community/home", variant: "nothing open", pg: &ui.Page{Title: "Community", Form: formOf(), Data: communityData{}}, want: []string{"no spaces open to you"}},
		{page: "community/settings", variant: "joining, with an error", pg: &ui.Page{Title: "Your community settings", Form: errForm(formOf("display_name", "x"), "display_name", "A display name must be 3 to 30 characters"), Data: false},
			want: []string{"Join the community", "3 to 30 characters", `value="x"`}},
		{page: "community/settings", variant: "member", pg: &ui.Page{Title: "Your community settings", Form: formOf("display_name", "Quiet Heron", "care_team_consent", "yes"), Data: true}, want: []string{"Save"}},
		{page: "community/space", variant: "member", pg: &ui.Page{Title: "Living with voices", Form: formOf(), Data: spaceData{Space: spaces[0],
			Topics: []community.Topic{topic, {ID: 4, Title: "Mine, held", Author: "Quiet Heron", Status: "held", CreatedAt: tNow, LastPostAt: tNow}}, Member: true}},
			want: []string{"What helps at night?", "Waiting for a moderator", "Start a topic"}},
		{page: "community/space", variant: "not joined", pg: &ui.Page{Title: "Living with voices", Form: formOf(), Data: spaceData{Space: spaces[0]}}, want: []string{"No topics yet", "to start a topic"}},
		{page: "community/topic", variant: "member", pg: &ui.Page{Title: topic.Title, Form: formOf(), HelpNow: "self", Data: topicData{
			Page:      community.TopicPage{Topic: topic, Posts: []community.Post{post(7, "visible", true), staff, hidden, post(11, "held", true)}, Member: true, CanReply: true, Following: true},
			Reactions: community.Reactions}},
			want: []string{"Peer support worker", "A moderator hid this post", "Waiting for a moderator", "Me too", "(2)", `aria-pressed="true"`, "<p>Line two</p>", "Post reply", "116 123", "Stop following this topic", `href="/community?tag=nights"`}},
		{page: "community/topic", variant: "moderator, not joined", pg: &ui.Page{Title: topic.Title, Form: formOf(), Data: topicData{
			Page: community.TopicPage{Topic: topic, Posts: []community.Post{post(7, "visible", false)}}, Moderator: true, Reactions: community.Reactions}},
			want: []string{"Moderate", "to reply"}, notWant: []string{"Post reply"}},
		{page: "community/flag", pg: &ui.Page{Title: "Tell a moderator about this post", Form: formOf(), Data: struct {
			PostID int64
			Kinds  []ui.Option
		}{8, choiceOptions(community.FlagKinds)}}, want: []string{"worried about someone"}},
		{page: "community/queue", variant: "waiting", pg: &ui.Page{Title: "Moderation queue", Data: []community.QueueItem{q}}, want: []string{"Possible risk", "I&#39;m worried about someone"}},
		{page: "community/queue", variant: "empty", pg: &ui.Page{Title: "Moderation queue", Data: []community.QueueItem{}}, want: []string{"Nothing is waiting"}},
		{page: "community/item", pg: &ui.Page{Title: "Post by Quiet Heron", Form: formOf("level", "0"), Data: itemData{Item: item, Levels: levels}},
			want: []string{"Record decision", "Care team alerted", "Bright Finch", "this post", "See who this is"}},
		{page: "community/support", pg: &ui.Page{Title: "Ask for 1:1 peer support", Form: errForm(formOf("asked_for", "Nights"), "agree", "Tick to agree")},
			want: []string{"Tick to agree", "Nights</textarea>"}},
		{page: "community/identity", pg: &ui.Page{Title: "Who is Quiet Heron", Data: community.Identity{DisplayName: "Quiet Heron", Name: "Sam Jones", Email: "sam@example.com", HasRecord: true}},
			want: []string{"Sam Jones", "recorded in the audit trail"}},
	}
}

func errForm(f *ui.Form, field, msg string) *ui.Form {
	f.AddError(field, msg)
	return f
}
