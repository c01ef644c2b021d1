package community

import (
	"reflect"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/watch"
)

func TestLimitsForNewMembers(t *testing.T) {
	l := LimitsFor(LevelNew)
	if l.TopicsPerDay != 3 || l.RepliesPerDay != 10 || l.Links || !l.Held {
		t.Fatalf("a new member's first day: %+v", l)
	}
	if m := LimitsFor(LevelMember); m.Held || !m.Links {
		t.Fatalf("a member: %+v", m)
	}
}

func TestPromote(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	day := now.Add(-25 * time.Hour)
	for _, tc := range []struct {
		name  string
		level int
		r     Record
		want  bool
	}{
		{"RisesAfterADayAndTwoPosts", LevelNew, Record{Joined: day, Approved: 2}, true},
		{"NotOnTheFirstDay", LevelNew, Record{Joined: now.Add(-time.Hour), Approved: 5}, false},
		{"NotWithOnePost", LevelNew, Record{Joined: day, Approved: 1}, false},
		{"NotWithAPostHidden", LevelNew, Record{Joined: day, Approved: 4, Hidden: 1}, false},
		{"OnlyNewMembersRiseOnTheirOwn", LevelMember, Record{Joined: day, Approved: 40}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Promote(tc.level, tc.r, now); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestHasLink(t *testing.T) {
	for text, want := range map[string]bool{
		"see https://example.com/x": true, "www.example.org": true, "try mind.org.uk for more": true,
		"I felt better. Then worse.": false, "10.30 at the café": false,
	} {
		if HasLink(text) != want {
			t.Errorf("%q: want %v", text, want)
		}
	}
}

// Each watched-word action does what it says to a post.
func TestDecide(t *testing.T) {
	m, err := watch.Compile(append(watch.DefaultTerms,
		watch.Term{Phrase: "idiot", Category: watch.Distress, Action: watch.Block},
		watch.Term{Phrase: "bridge street clinic", Category: watch.Identifying, Action: watch.Replace},
		watch.Term{Phrase: "pills", Category: watch.Means, Action: watch.Hold}))
	if err != nil {
		t.Fatal(err)
	}
	check := func(body string) watch.Result { return watch.Merge(m.Check(body), watch.FindDetails(body)) }
	member := LimitsFor(LevelMember)
	for _, tc := range []struct {
		name string
		body string
		lim  Limits
		want Outcome
	}{
		{"Plain", "Walking helped today", member, Outcome{Body: "Walking helped today"}},
		{"SignpostAndStillPost", "I feel hopeless tonight", member, Outcome{Signpost: true, Body: "I feel hopeless tonight"}},
		{"FlagSignpostsAndQueues", "I keep thinking about suicide", member, Outcome{Signpost: true, Flagged: true, Body: "I keep thinking about suicide"}},
		{"HoldHoldsAndQueues", "I have been saving pills", member, Outcome{Signpost: true, Held: true, Flagged: true, Body: "I have been saving pills"}},
		{"BlockRefuses", "what an idiot", member, Outcome{Blocked: true, Signpost: true, Body: "what an idiot"}},
		{"ReplaceHidesTheDetail", "see me at Bridge Street Clinic or ring 07700 900123", member,
			Outcome{Body: "see me at [removed] or ring [removed]"}},
		{"NewMembersHeld", "hello all", LimitsFor(LevelNew), Outcome{Held: true, Body: "hello all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.body, check(tc.body), tc.lim)
			got.Found = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	got, msg := ParseTags("Sleep, voices; #Nights, sleep,  hearing   voices ")
	if msg != "" || !reflect.DeepEqual(got, []string{"sleep", "voices", "nights", "hearing voices"}) {
		t.Fatalf("%v %q", got, msg)
	}
	if _, msg := ParseTags("a,b,c,d,e,f"); msg == "" {
		t.Fatal("six tags accepted")
	}
	if _, msg := ParseTags("<script>"); msg == "" {
		t.Fatal("markup accepted as a tag")
	}
}

func TestCloud(t *testing.T) {
	c := Cloud([]TagCount{{Tag: "sleep", Count: 40}, {Tag: "art", Count: 1}, {Tag: "voices", Count: 6}})
	if c[0].Tag != "art" || c[0].Size != 1 || c[1].Tag != "sleep" || c[1].Size != 5 || c[2].Size < 2 || c[2].Size > 4 {
		t.Fatalf("%+v", c)
	}
	if one := Cloud([]TagCount{{Tag: "x", Count: 3}}); one[0].Size != 1 {
		t.Fatalf("%+v", one)
	}
}

func TestConfirmerRole(t *testing.T) {
	in := func(id int64, role app.Role, team int64) *app.Principal {
		return &app.Principal{UserID: id, Memberships: []app.Membership{{Role: role, TeamID: team}}}
	}
	for _, c := range []struct {
		name string
		p    *app.Principal
		want app.Role
	}{
		{"LeadOfTheTeam", in(2, app.RolePeerLead, 7), app.RolePeerLead},
		{"ClinicianOfTheTeam", in(2, app.RoleClinician, 7), app.RoleClinician},
		{"LeadOfAnotherTeam", in(2, app.RolePeerLead, 8), ""},
		{"PeerWorkerOfTheTeam", in(2, app.RolePeerWorker, 7), ""},
		{"ModeratorWhoRaisedIt", &app.Principal{UserID: 1, Memberships: []app.Membership{{Role: app.RoleModerator}, {Role: app.RolePeerLead, TeamID: 7}}}, ""},
		{"Nobody", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ConfirmerRole(c.p, 7, 1); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestRestrict(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	at := func(h int) *time.Time { x := now.Add(time.Duration(h) * time.Hour); return &x }
	term := func(kind string, end *time.Time) SanctionTerm {
		return SanctionTerm{Kind: kind, StartsAt: now.Add(-time.Hour), EndsAt: end}
	}
	for _, c := range []struct {
		name  string
		terms []SanctionTerm
		want  Restriction
	}{
		{"WarningRestrictsNothing", []SanctionTerm{term("warning", nil)}, Restriction{}},
		{"Held", []SanctionTerm{term("held", at(5))}, Restriction{Held: true, Until: *at(5)}},
		{"ReadOnlyUntilItsEnd", []SanctionTerm{term("held", at(50)), term("read_only", at(5))}, Restriction{Held: true, NoPosting: true, NoReacting: true, Until: *at(5)}},
		{"SuspendedIsStrictest", []SanctionTerm{term("read_only", at(50)), term("suspended", at(5))}, Restriction{NoPosting: true, NoReacting: true, NoEntry: true, Until: *at(5)}},
		{"EndedByTheClock", []SanctionTerm{term("suspended", at(0))}, Restriction{}},
		{"Lifted", []SanctionTerm{{Kind: "suspended", StartsAt: now, EndsAt: at(5), Lifted: true}}, Restriction{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Restrict(c.terms, now); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
	if pr := CheckSanction("warning", "be kind", 0); pr.Err() != nil {
		t.Fatalf("a warning: %v", pr.Err())
	}
	if pr := CheckSanction("suspended", "threats", 0); !pr.Has("days") {
		t.Fatalf("a suspension without an end: %v", pr)
	}
}

func TestOnDuty(t *testing.T) {
	now := time.Date(2026, 11, 2, 22, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return now.Add(time.Duration(n) * time.Hour) }
	for _, c := range []struct {
		name   string
		shifts []Shift
		on     bool
		next   time.Time
	}{
		{"NoRota", nil, false, time.Time{}},
		{"OnNow", []Shift{{h(-1), h(1)}}, true, time.Time{}},
		{"EndsNow", []Shift{{h(-2), h(0)}, {h(9), h(12)}, {h(3), h(4)}}, false, h(3)},
		{"StartsNow", []Shift{{h(0), h(2)}}, true, time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			on, next := OnDuty(c.shifts, now)
			if on != c.on || !next.Equal(c.next) {
				t.Fatalf("got %v %v, want %v %v", on, next, c.on, c.next)
			}
		})
	}
}
