package alert

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

// Settings are an organisation's time to respond to an alert, counted in
// its working hours.
type Settings struct {
	// RespondMinutes is how long, in working time, the duty lead has to
	// record what they did before the alert escalates.
	RespondMinutes int `json:"respond_within_minutes" required:"true" doc:"Working minutes to record a response before the alert escalates to the service managers (default 240: four working hours)."`
	// WorkDays are the working days, "mon" to "sun".
	WorkDays []string `json:"work_days" required:"true" doc:"Working days: mon, tue, wed, thu, fri, sat, sun."`
	// DayStart and DayEnd are the working day's start and end, "09:00".
	DayStart string `json:"day_start" required:"true" doc:"Start of the working day, HH:MM."`
	DayEnd   string `json:"day_end" required:"true" doc:"End of the working day, HH:MM (after the start)."`
	TimeZone string `json:"time_zone" required:"true" doc:"IANA time zone, e.g. Europe/London."`
}

// DefaultSettings are four working hours, Monday to Friday 09:00–17:00
// Europe/London.
var DefaultSettings = Settings{RespondMinutes: 240, WorkDays: []string{"mon", "tue", "wed", "thu", "fri"},
	DayStart: "09:00", DayEnd: "17:00", TimeZone: "Europe/London"}

var dayCodes = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // by time.Weekday

// DayOptions are the working days in the order forms show them.
var DayOptions = []app.Choice{{Code: "mon", Label: "Monday"}, {Code: "tue", Label: "Tuesday"}, {Code: "wed", Label: "Wednesday"},
	{Code: "thu", Label: "Thursday"}, {Code: "fri", Label: "Friday"}, {Code: "sat", Label: "Saturday"}, {Code: "sun", Label: "Sunday"}}

// Hours are working hours: the days, the start and end of the working day
// (minutes after local midnight) and the time zone.
type Hours struct {
	Days       [7]bool // by time.Weekday
	Start, End int
	Loc        *time.Location
}

// Check validates settings and turns them into working hours, naming
// each problem by field.
func (s *Settings) Check() (Hours, error) {
	var p app.Problems
	h := Hours{}
	if s.RespondMinutes < 1 || s.RespondMinutes > 7*24*60 {
		p.Add("respond_within_minutes", "Enter a time to respond between 1 minute and 7 days (10,080 minutes)")
	}
	var days []string
	for _, d := range s.WorkDays {
		d = strings.ToLower(strings.TrimSpace(d))
		i := slices.Index(dayCodes, d)
		if i < 0 {
			p.Add("work_days", fmt.Sprintf("%q is not a day: use mon, tue, wed, thu, fri, sat or sun", d))
			continue
		}
		if !h.Days[i] {
			days = append(days, d)
		}
		h.Days[i] = true
	}
	if len(days) == 0 && !p.Has("work_days") {
		p.Add("work_days", "Choose at least one working day")
	}
	s.WorkDays = days
	var ok1, ok2 bool
	h.Start, ok1 = clockMinutes(s.DayStart)
	h.End, ok2 = clockMinutes(s.DayEnd)
	if !ok1 {
		p.Add("day_start", "Enter the start of the working day as a time, like 09:00")
	}
	if !ok2 {
		p.Add("day_end", "Enter the end of the working day as a time, like 17:00")
	}
	if ok1 && ok2 && h.End <= h.Start {
		p.Add("day_end", "The working day must end after it starts")
	}
	if ok1 && ok2 {
		s.DayStart, s.DayEnd = fmt.Sprintf("%02d:%02d", h.Start/60, h.Start%60), fmt.Sprintf("%02d:%02d", h.End/60, h.End%60)
	}
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "" || strings.EqualFold(s.TimeZone, "local") {
		p.Add("time_zone", "Enter a time zone, like Europe/London")
	}
	h.Loc = loc
	return h, p.Err()
}

// clockMinutes reads "HH:MM" (or "H:MM", or "HH.MM") as minutes after
// midnight; "24:00" is the end of the day.
func clockMinutes(v string) (int, bool) {
	v = strings.ReplaceAll(strings.TrimSpace(v), ".", ":")
	hh, mm, ok := strings.Cut(v, ":")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m > 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Add returns the moment d of working time after t. Time outside working
// hours does not count: four working hours from 16:00 on a Friday, with
// the default hours, end at 12:00 on Monday. The working day is local
// wall-clock time, so it is the same on the days the clocks change.
func (h Hours) Add(t time.Time, d time.Duration) time.Time {
	if h.Loc == nil || d <= 0 {
		return t.Add(max(d, 0))
	}
	working := false
	for _, on := range h.Days {
		working = working || on
	}
	if !working || h.End <= h.Start {
		return t.Add(d)
	}
	cur := t.In(h.Loc)
	for range 3700 { // ten years of days: ends long before for any real setting
		y, m, day := cur.Date()
		if h.Days[cur.Weekday()] {
			start := time.Date(y, m, day, h.Start/60, h.Start%60, 0, 0, h.Loc)
			end := time.Date(y, m, day, h.End/60, h.End%60, 0, 0, h.Loc)
			if h.End == 24*60 {
				end = time.Date(y, m, day+1, 0, 0, 0, 0, h.Loc)
			}
			if cur.Before(start) {
				cur = start
			}
			if cur.Before(end) {
				left := end.Sub(cur)
				if d <= left {
					return cur.Add(d).UTC()
				}
				d -= left
			}
		}
		cur = time.Date(y, m, day+1, 0, 0, 0, 0, h.Loc)
	}
	return cur.Add(d).UTC()
}
