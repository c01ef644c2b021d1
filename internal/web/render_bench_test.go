package web

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/web/ui"
)

// BenchmarkRenderHome measures the home page's templates alone, as a peer
// lead sees it.
func BenchmarkRenderHome(b *testing.B) {
	r := templateRenderer(b, allTemplateFiles)
	p := &app.Principal{UserID: 1, Name: "Jess Taylor", Memberships: []app.Membership{{Role: app.RolePeerLead, TeamID: 1}}}
	pg := &ui.Page{Title: "Home", Nav: navFor(p, "/"), UserName: p.Name, Nonce: "abcdefghijklmnop",
		Data: homeData{Counts: referral.Counts{Waiting: 40, Overdue: 3, AllocatedToMe: 2}, Can: map[string]bool{"read": true, "triage": true, "people": true, "refer": true, "work": true}}}
	b.ReportAllocs()
	for range b.N {
		if err := r.Render(io.Discard, "home", pg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHomeMemo: the home page content is drawn again whenever its data
// differs from last time, and reused only when it is the same.
func TestHomeMemo(t *testing.T) {
	s := &Server{render: templateRenderer(t, allTemplateFiles)}
	page := func(waiting int, notes ...notify.Notification) *ui.Page {
		return &ui.Page{Title: "Home", Data: homeData{Counts: referral.Counts{Waiting: waiting}, Notifications: notes, Can: map[string]bool{"read": true}}}
	}
	a, err := s.homeContent(1, page(40))
	if err != nil || !strings.Contains(string(a), ">40<") {
		t.Fatalf("first render: %v\n%s", err, a)
	}
	if b, _ := s.homeContent(1, page(40)); b != a {
		t.Fatal("same data drawn differently")
	}
	if b, _ := s.homeContent(1, page(41)); !strings.Contains(string(b), ">41<") {
		t.Fatalf("changed count not drawn:\n%s", b)
	}
	when := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if b, _ := s.homeContent(1, page(41, notify.Notification{Message: "Referral MUT-1 was accepted", CreatedAt: when})); !strings.Contains(string(b), "MUT-1 was accepted") {
		t.Fatalf("new update not drawn:\n%s", b)
	}
	if b, _ := s.homeContent(2, page(7)); !strings.Contains(string(b), ">7<") {
		t.Fatalf("another account got someone else's page:\n%s", b)
	}
}

// TestRenderNavigationMemo: the header navigation is drawn per distinct list
// of links, so the current section follows the page.
func TestRenderNavigationMemo(t *testing.T) {
	r := templateRenderer(t, allTemplateFiles)
	p := &app.Principal{UserID: 1, Name: "Jess Taylor", Memberships: []app.Membership{{Role: app.RolePeerLead, TeamID: 1}}}
	for _, path := range []string{"/", "/referrals", "/", "/people"} {
		var b strings.Builder
		if err := r.Render(&b, "help", &ui.Page{Title: "Help", Nav: navFor(p, path)}); err != nil {
			t.Fatal(err)
		}
		want := `href="` + path + `" aria-current="page"`
		if !strings.Contains(b.String(), want) || strings.Count(b.String(), `aria-current="page"`) != 1 {
			t.Fatalf("at %s: want one current link %s", path, want)
		}
	}
}

// The wait quoted on "your referrals" is one service's only when every
// waiting referral the person may follow is with that service.
func TestOnlyWaitingTeam(t *testing.T) {
	ref := func(team int64, st referral.Status) referral.MyReferral {
		return referral.MyReferral{Referral: referral.Referral{TeamID: team, TeamName: fmt.Sprint("Team ", team), Status: st}}
	}
	limited := ref(3, referral.Accepted)
	limited.Limited = true
	for _, c := range []struct {
		refs []referral.MyReferral
		want int64
	}{
		{nil, 0},
		{[]referral.MyReferral{ref(1, referral.Received)}, 1},
		{[]referral.MyReferral{ref(1, referral.Received), ref(1, referral.Allocated), ref(2, referral.Ended), ref(0, referral.Received), limited}, 1},
		{[]referral.MyReferral{ref(1, referral.Received), ref(2, referral.Accepted)}, 0},
		{[]referral.MyReferral{ref(2, referral.Ended)}, 0},
	} {
		got, ok := onlyWaitingTeam(c.refs)
		if got.TeamID != c.want || ok != (c.want != 0) || (ok && got.TeamName != fmt.Sprint("Team ", c.want)) {
			t.Errorf("%+v: got team %d %v, want %d", c.refs, got.TeamID, ok, c.want)
		}
	}
}
