package web

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/groups"
	"github.com/mutualhq/mutual/internal/support"
)

// WeekDiary is a worker's week as the diary shows it: their appointments
// (support) and the group sessions they facilitate (groups). The two
// capabilities are both layer 6, so neither imports the other: they are
// put together here, each read through its own access rule.
type WeekDiary struct {
	WorkerID int64      `json:"worker_id"`
	From     time.Time  `json:"from"`
	To       time.Time  `json:"to"`
	Days     []DiaryDay `json:"days" doc:"Monday to Sunday, Europe/London."`
}

// DiaryDay is one day of a worker's diary.
type DiaryDay struct {
	Date          time.Time             `json:"date" doc:"Midnight at the start of the day, Europe/London."`
	Appointments  []support.Appointment `json:"appointments" doc:"Appointments with the people you support (cancelled ones included, marked)."`
	GroupSessions []groups.DiarySession `json:"group_sessions" doc:"Group sessions you facilitate, a kind of their own (kind: group_session; cancelled ones included, marked)."`
}

// diaryEntry is one thing in a day, for the page: an appointment or a
// group session.
type diaryEntry struct {
	Start, End  time.Time
	Appointment *support.Appointment
	Group       *groups.DiarySession
}

// Entries are the day's appointments and group sessions in time order.
func (d DiaryDay) Entries() []diaryEntry {
	var out []diaryEntry
	for i := range d.Appointments {
		a := &d.Appointments[i]
		out = append(out, diaryEntry{Start: a.Start, End: a.End, Appointment: a})
	}
	for i := range d.GroupSessions {
		g := &d.GroupSessions[i]
		out = append(out, diaryEntry{Start: g.Start, End: g.End, Group: g})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// weekDiary reads the caller's week holding day: their appointments (one
// audited read) and the group sessions they facilitate, each on its day in
// Europe/London (a day is from one London midnight to the next, 23 or 25
// hours long when the clocks change).
func (s *Server) weekDiary(ctx context.Context, p *app.Principal, day time.Time) (WeekDiary, error) {
	d, err := s.support.MyDiary(ctx, p, day)
	if err != nil {
		return WeekDiary{}, err
	}
	sessions, err := s.groups.Facilitating(ctx, p, d.From, d.To)
	if err != nil {
		return WeekDiary{}, err
	}
	out := WeekDiary{WorkerID: d.WorkerID, From: d.From, To: d.To}
	for i, sd := range d.Days {
		end := d.To
		if i+1 < len(d.Days) {
			end = d.Days[i+1].Date
		}
		dd := DiaryDay{Date: sd.Date, Appointments: sd.Appointments, GroupSessions: []groups.DiarySession{}}
		for _, g := range sessions {
			// A session is on the day it starts; one that began before the
			// week (overnight into Monday) is on the week's first day, not
			// on none.
			if (i == 0 || !g.Start.Before(sd.Date)) && g.Start.Before(end) {
				dd.GroupSessions = append(dd.GroupSessions, g)
			}
		}
		out.Days = append(out.Days, dd)
	}
	return out, nil
}

// diaryWeek reads the week query value (any day of the week), this week
// when left out.
func (s *Server) diaryWeek(r *http.Request) (time.Time, error) {
	week, err := londonDay(r.URL.Query(), "week")
	if err != nil || !week.IsZero() {
		return week, err
	}
	return s.clock.Now(), nil
}
