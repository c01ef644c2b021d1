package recovery

import (
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

func TestNextStatus(t *testing.T) {
	for from, want := range map[FeedbackStatus]FeedbackStatus{Received: Acknowledged, Acknowledged: Considered, Considered: Answered,
		Answered: Changed, Changed: "", "nonsense": ""} {
		if got := NextStatus(from); got != want {
			t.Errorf("NextStatus(%s) = %q, want %q", from, got, want)
		}
	}
}

func TestCheckMove(t *testing.T) {
	for _, c := range []struct {
		name     string
		from     FeedbackStatus
		move     FeedbackMove
		mayQuote bool
		field    string // "" for valid
	}{
		{"AcknowledgeFirst", Received, FeedbackMove{To: Acknowledged}, false, ""},
		{"NoSkipping", Received, FeedbackMove{To: Answered, Answer: "x"}, false, "to"},
		{"NoGoingBack", Considered, FeedbackMove{To: Acknowledged}, false, "to"},
		{"NotBackToReceived", Acknowledged, FeedbackMove{To: Received}, false, "to"},
		{"UnknownStatus", Acknowledged, FeedbackMove{To: "done"}, false, "to"},
		{"LastStep", Changed, FeedbackMove{To: Changed, ChangeMade: "x"}, false, "to"},
		{"ConsideredNeedsTheme", Acknowledged, FeedbackMove{To: Considered}, false, "theme"},
		{"ConsideredUnknownTheme", Acknowledged, FeedbackMove{To: Considered, Theme: "weather"}, false, "theme"},
		{"Considered", Acknowledged, FeedbackMove{To: Considered, Theme: "access"}, false, ""},
		{"AnswerNeedsWords", Considered, FeedbackMove{To: Answered}, false, "answer"},
		{"PublishNeedsSummary", Considered, FeedbackMove{To: Answered, Answer: "We will", Publish: true}, false, "public_summary"},
		{"QuoteNeedsAgreement", Considered, FeedbackMove{To: Answered, Answer: "We will", Publish: true, Quote: true}, false, "quote"},
		{"QuoteWithAgreement", Considered, FeedbackMove{To: Answered, Answer: "We will", Publish: true, Quote: true}, true, ""},
		{"Answered", Considered, FeedbackMove{To: Answered, Answer: "We will", Publish: true, PublicSummary: "People wanted evening groups"}, false, ""},
		{"ChangedNeedsWhat", Answered, FeedbackMove{To: Changed}, false, "change_made"},
		{"Changed", Answered, FeedbackMove{To: Changed, ChangeMade: "Evening group on Thursdays"}, false, ""},
		{"LongNote", Received, FeedbackMove{To: Acknowledged, Note: strings.Repeat("a", 4001)}, false, "note"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := checkMove(c.from, &c.move, c.mayQuote)
			switch {
			case c.field == "" && len(p) > 0:
				t.Fatalf("want valid, got %v", p)
			case c.field != "" && !p.Has(c.field):
				t.Fatalf("want a problem with %s, got %v", c.field, p)
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, app.London)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		from string
		n    int
		want string // the last day, UK time
	}{
		{"2026-11-02 09:00", 5, "2026-11-09"}, // Monday → next Monday
		{"2026-11-06 16:30", 5, "2026-11-13"}, // Friday afternoon → next Friday
		{"2026-11-07 10:00", 5, "2026-11-13"}, // Saturday → Friday
		{"2026-11-08 23:30", 1, "2026-11-09"}, // Sunday night → Monday
		{"2026-03-27 12:00", 5, "2026-04-03"}, // across the clocks going forward
		{"2026-11-02 09:00", 20, "2026-11-30"},
	} {
		got := AddWorkingDays(at(c.from), c.n).In(app.London)
		if got.Format("2006-01-02") != c.want || got.Format("15:04") != "23:59" {
			t.Errorf("AddWorkingDays(%s, %d) = %s, want the end of %s", c.from, c.n, got.Format("2006-01-02 15:04"), c.want)
		}
	}
}

func session(id int64, at time.Time, rating int, alone bool) Session {
	se := Session{ID: id, At: at, Alone: alone}
	for _, it := range Items {
		se.Ratings = append(se.Ratings, Rating{Item: it.Code, Rating: rating, MoreHelp: it.Code == Safety})
	}
	return se
}

func TestSummariseAndCharts(t *testing.T) {
	if _, ok := Summarise(nil); ok {
		t.Fatal("a summary of nothing")
	}
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	// Newest first, as they are read.
	sessions := []Session{session(3, t0.AddDate(0, 6, 0), 5, false), session(2, t0.AddDate(0, 3, 0), 4, true), session(1, t0, 2, false)}
	sm, ok := Summarise(sessions)
	if !ok || sm.Sessions != 3 || len(sm.Items) != 11 {
		t.Fatalf("summary: %+v", sm)
	}
	c := sm.Items[0]
	if c.Latest != 5 || c.Previous != 4 || c.Change != 1 || c.ChangeWords() != "Up 1" {
		t.Fatalf("mental health: %+v %s", c, c.ChangeWords())
	}
	first, _ := Summarise(sessions[2:])
	if first.Items[0].ChangeWords() != "First time" || first.PreviousAt != nil {
		t.Fatalf("a first session: %+v", first.Items[0])
	}
	charts := Charts(sessions, app.London)
	if len(charts) != 11 {
		t.Fatalf("%d charts", len(charts))
	}
	ch := charts[0]
	if len(ch.Points) != 3 || ch.Points[0].Rating != 2 || ch.Points[2].Rating != 5 {
		t.Fatalf("points oldest first: %+v", ch.Points)
	}
	if !(ch.Points[0].X < ch.Points[1].X && ch.Points[1].X < ch.Points[2].X) || ch.Points[0].Y <= ch.Points[2].Y {
		t.Fatalf("time runs left to right and higher ratings are higher up: %+v", ch.Points)
	}
	if ch.Points[0].X < ch.Left || ch.Points[2].X > ch.Right || ch.Points[2].Y < ch.Top || ch.Points[0].Y > ch.Base {
		t.Fatalf("a point outside the plot area: %+v", ch)
	}
	for _, want := range []string{"rated 5 out of 7 on 5 July 2026", "4 the time before (5 April 2026)", "3 ratings since January 2026, from 2 to 5: 2, 4, 5"} {
		if !strings.Contains(ch.Description, want) {
			t.Errorf("description %q lacks %q", ch.Description, want)
		}
	}
	if !strings.HasPrefix(ch.Line, "M") || strings.Count(ch.Line, "L") != 2 {
		t.Errorf("line %q", ch.Line)
	}
	one := Charts(sessions[:1], app.London)[0]
	if len(one.Points) != 1 || !strings.Contains(one.Description, "rated 5 out of 7") {
		t.Errorf("one session: %+v", one)
	}
	if none := Charts(nil, app.London)[0]; none.Description != "No ratings yet." {
		t.Errorf("no sessions: %q", none.Description)
	}
}

func TestCheckSession(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	all := func(r int) []Rating {
		var out []Rating
		for _, it := range Items {
			out = append(out, Rating{Item: it.Code, Rating: r})
		}
		return out
	}
	past := now.AddDate(0, 0, -100)
	future := now.Add(time.Hour)
	for _, c := range []struct {
		name  string
		in    NewSession
		self  bool
		field string
	}{
		{"Valid", NewSession{Ratings: all(4)}, false, ""},
		{"RatingTooLow", NewSession{Ratings: append(all(4)[1:], Rating{Item: MentalHealth, Rating: 0})}, false, "ratings.mental_health"},
		{"RatingTooHigh", NewSession{Ratings: append(all(4)[1:], Rating{Item: MentalHealth, Rating: 8})}, false, "ratings.mental_health"},
		{"UnknownItem", NewSession{Ratings: append(all(4), Rating{Item: "weather", Rating: 4})}, false, "ratings[11].item"},
		{"MissingItem", NewSession{Ratings: all(4)[:10]}, false, "ratings.meetings"},
		{"RatedTwice", NewSession{Ratings: append(all(4), Rating{Item: Job, Rating: 3})}, false, "ratings.job"},
		{"FourDiscussions", NewSession{Ratings: all(4), Discussions: []Discussion{{Item: Job}, {Item: Leisure}, {Item: Safety}, {Item: Medication}}}, false, "discussions"},
		{"DiscussedTwice", NewSession{Ratings: all(4), Discussions: []Discussion{{Item: Job}, {Item: Job}}}, false, "discussions[1].item"},
		{"DiscussUnknown", NewSession{Ratings: all(4), Discussions: []Discussion{{Item: "x"}}}, false, "discussions[0].item"},
		{"LongActions", NewSession{Ratings: all(4), Discussions: []Discussion{{Item: Job, Actions: strings.Repeat("é", 2001)}}}, false, "discussions[0].actions"},
		{"LongFollowup", NewSession{Ratings: all(4), Followup: strings.Repeat("a", 2001)}, false, "followup"},
		{"UnknownStage", NewSession{Ratings: all(4), Stage: "middle"}, false, "stage"},
		{"Future", NewSession{Ratings: all(4), At: &future}, false, "at"},
		{"LongAgo", NewSession{Ratings: all(4), At: &past}, false, "at"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := checkSession(&c.in, now, c.self)
			switch {
			case c.field == "" && len(p) > 0:
				t.Fatalf("want valid, got %v", p)
			case c.field != "" && !p.Has(c.field):
				t.Fatalf("want a problem with %s, got %v", c.field, p)
			}
		})
	}
}
