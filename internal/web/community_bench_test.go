package web

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// BenchmarkRenderTopic500 measures a topic page of 500 posts' templates
// alone, as a member (reaction buttons on every post) sees it.
func BenchmarkRenderTopic500(b *testing.B) {
	r := templateRenderer(b, allTemplateFiles)
	p := &app.Principal{UserID: 1, Name: "Quiet Heron", Memberships: []app.Membership{{Role: app.RolePerson}}}
	tp := community.TopicPage{Topic: community.Topic{ID: 1, Title: "A long conversation", SpaceName: "Living with voices", Status: "visible"},
		Member: true, CanReply: true}
	at := time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC)
	for i := range 500 {
		po := community.Post{ID: int64(i + 1), TopicID: 1, Opening: i == 0, Author: "Bright Finch", Status: "visible", CreatedAt: at.Add(time.Duration(i) * time.Minute),
			Body: fmt.Sprintf("Reply %d: a walk, a cup of tea, a message to a friend. Some days just getting through is enough, and that counts too.", i)}
		for _, k := range community.Reactions {
			po.Reactions = append(po.Reactions, community.Reaction{Kind: k.Code, Label: k.Label, Count: i % 4})
		}
		tp.Posts = append(tp.Posts, po)
	}
	pg := &ui.Page{Title: tp.Topic.Title, Nav: navFor(p, "/community"), UserName: p.Name, Nonce: "abcdefghijklmnop", Form: ui.NewForm(nil),
		Data: topicData{Page: tp, Reactions: community.Reactions, LastPostID: 500}}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Render(io.Discard, "community/topic", pg); err != nil {
			b.Fatal(err)
		}
	}
}
