package web

import (
	"io"
	"testing"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// BenchmarkRenderHome measures the home page's templates alone, as a peer
// lead sees it.
func BenchmarkRenderHome(b *testing.B) {
	r := templateRenderer(b, allTemplateFiles)
	p := &app.Principal{UserID: 1, Name: "Jess Taylor", Memberships: []app.Membership{{Role: app.RolePeerLead, TeamID: 1}}}
	pg := &ui.Page{Title: "Home", Nav: navFor(p, "/"), UserName: p.Name, Nonce: "abcdefghijklmnop",
		Data: homeData{Waiting: 40, Overdue: 3, Mine: 2, Can: map[string]bool{"read": true, "triage": true, "people": true, "refer": true, "work": true}}}
	b.ReportAllocs()
	for range b.N {
		if err := r.Render(io.Discard, "home", pg); err != nil {
			b.Fatal(err)
		}
	}
}
