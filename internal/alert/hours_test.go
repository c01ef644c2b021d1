package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

func london(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, app.London)
}

// Working time counts only working hours: evenings, nights and weekends
// are skipped, and the working day is wall-clock time on the days the
// clocks change.
func TestWorkingHours(t *testing.T) {
	set := DefaultSettings
	h, err := set.Check()
	if err != nil {
		t.Fatal(err)
	}
	four := 4 * time.Hour
	for _, c := range []struct {
		name     string
		from     time.Time
		d        time.Duration
		want     time.Time
		settings *Settings
	}{
		{"within a working day", london(2026, 11, 2, 9, 0), four, london(2026, 11, 2, 13, 0), nil},
		{"across the evening", london(2026, 11, 2, 15, 0), four, london(2026, 11, 3, 11, 0), nil},
		{"late on a Friday, to Monday", london(2026, 11, 6, 16, 0), four, london(2026, 11, 9, 12, 0), nil},
		{"raised at the weekend", london(2026, 11, 7, 10, 0), four, london(2026, 11, 9, 13, 0), nil},
		{"raised before the day starts", london(2026, 11, 3, 7, 30), four, london(2026, 11, 3, 13, 0), nil},
		{"raised at night", london(2026, 11, 3, 23, 0), four, london(2026, 11, 4, 13, 0), nil},
		{"exactly at the end of the day", london(2026, 11, 2, 17, 0), time.Minute, london(2026, 11, 3, 9, 1), nil},
		{"the clocks go forward (29 March 2026)", london(2026, 3, 27, 15, 0), four, london(2026, 3, 30, 11, 0), nil},
		{"the clocks go back (25 October 2026)", london(2026, 10, 23, 16, 30), four, london(2026, 10, 26, 12, 30), nil},
		{"longer than a working day", london(2026, 11, 2, 9, 0), 10 * time.Hour, london(2026, 11, 3, 11, 0), nil},
		{"every day, all day", london(2026, 11, 7, 22, 0), four, london(2026, 11, 8, 2, 0),
			&Settings{RespondMinutes: 240, WorkDays: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, DayStart: "00:00", DayEnd: "24:00", TimeZone: "Europe/London"}},
		{"a Saturday service", london(2026, 11, 7, 10, 0), four, london(2026, 11, 7, 14, 0),
			&Settings{RespondMinutes: 240, WorkDays: []string{"sat"}, DayStart: "9:00", DayEnd: "17.00", TimeZone: "Europe/London"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hh := h
			if c.settings != nil {
				var err error
				if hh, err = c.settings.Check(); err != nil {
					t.Fatal(err)
				}
			}
			got := hh.Add(c.from, c.d)
			if !got.Equal(c.want) {
				t.Errorf("%s + %v = %s, want %s", c.from.Format(time.RFC1123), c.d, got.In(app.London).Format(time.RFC1123), c.want.Format(time.RFC1123))
			}
		})
	}
}

func TestSettingsAreChecked(t *testing.T) {
	for _, c := range []struct {
		s     Settings
		field string
	}{
		{Settings{RespondMinutes: 0, WorkDays: []string{"mon"}, DayStart: "09:00", DayEnd: "17:00", TimeZone: "Europe/London"}, "respond_within_minutes"},
		{Settings{RespondMinutes: 60, WorkDays: nil, DayStart: "09:00", DayEnd: "17:00", TimeZone: "Europe/London"}, "work_days"},
		{Settings{RespondMinutes: 60, WorkDays: []string{"funday"}, DayStart: "09:00", DayEnd: "17:00", TimeZone: "Europe/London"}, "work_days"},
		{Settings{RespondMinutes: 60, WorkDays: []string{"mon"}, DayStart: "nine", DayEnd: "17:00", TimeZone: "Europe/London"}, "day_start"},
		{Settings{RespondMinutes: 60, WorkDays: []string{"mon"}, DayStart: "09:00", DayEnd: "08:00", TimeZone: "Europe/London"}, "day_end"},
		{Settings{RespondMinutes: 60, WorkDays: []string{"mon"}, DayStart: "09:00", DayEnd: "25:00", TimeZone: "Europe/London"}, "day_end"},
		{Settings{RespondMinutes: 60, WorkDays: []string{"mon"}, DayStart: "09:00", DayEnd: "17:00", TimeZone: "Mars/Olympus"}, "time_zone"},
		{Settings{RespondMinutes: 60, WorkDays: []string{"mon"}, DayStart: "09:00", DayEnd: "17:00", TimeZone: "Local"}, "time_zone"},
	} {
		_, err := c.s.Check()
		ae := app.As(err)
		found := false
		for _, f := range ae.Fields {
			found = found || f.Field == c.field
		}
		if ae.Code != app.CodeInvalid || !found {
			t.Errorf("%+v: %v, want a problem with %s", c.s, err, c.field)
		}
	}
	s := Settings{RespondMinutes: 90, WorkDays: []string{" MON ", "mon", "wed"}, DayStart: "9.30", DayEnd: "17:00", TimeZone: " Europe/London "}
	if _, err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.WorkDays, ",") != "mon,wed" || s.DayStart != "09:30" || s.TimeZone != "Europe/London" {
		t.Errorf("normalised to %+v", s)
	}
}
