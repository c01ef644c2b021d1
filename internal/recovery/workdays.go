package recovery

import (
	"time"

	"github.com/mutualhq/mutual/internal/app"
)

// AddWorkingDays returns the end of the nth working day (Monday to
// Friday, UK time) after t: feedback received on a Friday afternoon with a
// target of 5 working days is due by the end of the next Friday. Bank
// holidays are counted as working days, which errs on the strict side.
func AddWorkingDays(t time.Time, n int) time.Time {
	d := t.In(app.London)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, app.London)
	for added := 0; added < n; {
		day = day.AddDate(0, 0, 1)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			added++
		}
	}
	// The end of that day, in UK time.
	return day.AddDate(0, 0, 1).Add(-time.Microsecond).UTC()
}
