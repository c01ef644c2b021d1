package support

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// MyPerson is one person on a worker's list.
type MyPerson struct {
	PersonID    int64        `json:"person_id"`
	Name        string       `json:"name"`
	ReferralID  int64        `json:"referral_id"`
	Status      string       `json:"status" doc:"The referral's status: allocated or active."`
	Next        *Appointment `json:"next,omitempty" doc:"The next appointment arranged (proposed or booked)."`
	LastContact *time.Time   `json:"last_contact,omitempty" doc:"The last contact recorded or appointment that happened."`
	DaysSince   int          `json:"days_since" doc:"Days since the last contact, or since allocation when there has been none."`
	Overdue     bool         `json:"overdue" doc:"No contact for the organisation's number of days (overdue_days)."`
	OverdueDays int          `json:"overdue_days"`
	NeverMet    bool         `json:"never_met" doc:"No contact yet since allocation."`
	Preferences Preferences  `json:"preferences" doc:"Where and when the person chose to meet."`
	AllocatedAt time.Time    `json:"allocated_at"`
}

// PlaceLabels are the person's chosen places in words.
func (m MyPerson) PlaceLabels() []string {
	var out []string
	for _, p := range m.Preferences.Places {
		out = append(out, PlaceLabel(p))
	}
	return out
}

// MyPeople lists everyone allocated to, or active with, the calling
// worker: their next and last contact, days since the last, whether they
// are overdue (no contact for the organisation's setting, 14 days unless
// set), and where and when they chose to meet. Overdue first, then longest
// since contact. Audited as one read naming each person.
func (s *Service) MyPeople(ctx context.Context, p *app.Principal) ([]MyPerson, error) {
	now := s.Clock.Now()
	out := []MyPerson{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if !p.HasRole(app.RolePeerWorker) {
			record(p.ActorFor(app.PermSupportWork), audit.Event{Action: "support.my_people", ObjectType: "people", ObjectID: "results=0"})
			return nil
		}
		a := store.NewArgs(p.UserID, s.overdueDays())
		q := `SELECT r.id, r.person_id, pe.preferred_name, r.status, COALESCE(r.allocated_at, r.received_at),
			(SELECT MAX(c.at) FROM contacts c WHERE c.referral_id = r.id AND c.error_at IS NULL),
			(SELECT MAX(ap.starts_at) FROM appointments ap WHERE ap.referral_id = r.id AND ap.status IN ('arrived', 'fulfilled')),
			COALESCE(ss.overdue_days, $2)
			FROM referrals r JOIN people pe ON pe.id = r.person_id LEFT JOIN teams t ON t.id = r.team_id
			LEFT JOIN support_settings ss ON ss.organisation_id = t.organisation_id
			WHERE r.allocated_worker_id = $1 AND r.status IN ('allocated', 'active') AND ` + access.Referrals(p, a) + ` ORDER BY r.id LIMIT 1000`
		rows, err := tx.QueryContext(ctx, q, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m MyPerson
			var allocated, contact, met store.AnyTime
			if err := rows.Scan(&m.ReferralID, &m.PersonID, &m.Name, &m.Status, &allocated, &contact, &met, &m.OverdueDays); err != nil {
				return err
			}
			m.AllocatedAt = allocated.Time
			last := contact
			if met.Valid && met.Time.Before(now) && (!last.Valid || met.Time.After(last.Time)) {
				last = met
			}
			since := m.AllocatedAt
			if last.Valid {
				t := last.Time
				m.LastContact, since = &t, t
			} else {
				m.NeverMet = true
			}
			m.DaysSince = int(now.Sub(since).Hours() / 24)
			m.Overdue = m.DaysSince >= m.OverdueDays
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		ids := make([]int64, len(out))
		for i := range out {
			ids[i] = out[i].PersonID
		}
		next, err := nextAppointments(ctx, tx, p, ids, now)
		if err != nil {
			return err
		}
		prefs, err := s.preferencesOf(ctx, tx, ids)
		if err != nil {
			return err
		}
		for i := range out {
			out[i].Next = next[out[i].PersonID]
			out[i].Preferences = prefs[out[i].PersonID]
		}
		sortPeople(out)
		record(p.ActorFor(app.PermSupportWork), audit.Event{Action: "support.my_people", Subjects: ids, ObjectType: "people", ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// sortPeople puts the overdue first, then the longest since contact.
func sortPeople(xs []MyPerson) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && before(xs[j], xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func before(x, y MyPerson) bool {
	if x.Overdue != y.Overdue {
		return x.Overdue
	}
	if x.DaysSince != y.DaysSince {
		return x.DaysSince > y.DaysSince
	}
	return x.Name < y.Name
}

// nextAppointments are the people's next appointments still to happen
// that the caller may see, by person (none: absent), in one query.
func nextAppointments(ctx context.Context, tx *store.Tx, p *app.Principal, personIDs []int64, now time.Time) (map[int64]*Appointment, error) {
	out := map[int64]*Appointment{}
	if len(personIDs) == 0 {
		return out, nil
	}
	args := store.NewArgs(now)
	// Driven by the people's own appointments (their index), not by every
	// appointment still to come in the service.
	rows, err := tx.QueryContext(ctx, "SELECT "+apptColumns+apptFrom+" WHERE a.id IN (SELECT id FROM appointments WHERE person_id IN "+args.IDs(tx.Dialect, personIDs)+
		" AND starts_at >= $1) AND a.starts_at >= $1 AND a.status IN ('proposed', 'booked') AND "+visible(p, args)+" ORDER BY a.person_id, a.starts_at, a.id", args.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			return nil, err
		}
		if out[a.PersonID] == nil {
			out[a.PersonID] = &a
		}
	}
	return out, rows.Err()
}

// Day is one day of a diary.
type Day struct {
	Date         time.Time     `json:"date" doc:"Midnight at the start of the day, Europe/London."`
	Appointments []Appointment `json:"appointments"`
}

// Diary is a worker's week.
type Diary struct {
	WorkerID int64     `json:"worker_id"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Days     []Day     `json:"days" doc:"Monday to Sunday, each with its appointments (cancelled ones included, marked)."`
}

// WeekOf is the Monday 00:00 Europe/London starting the week that holds t.
func WeekOf(t time.Time) time.Time {
	l := t.In(app.London)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, app.London)
	off := (int(d.Weekday()) + 6) % 7
	return d.AddDate(0, 0, -off)
}

// MyDiary is the calling worker's appointments in the week holding day
// (Monday to Sunday, Europe/London, across a change of the clocks),
// grouped by day. Audited as one read.
func (s *Service) MyDiary(ctx context.Context, p *app.Principal, day time.Time) (Diary, error) {
	from := WeekOf(day)
	to := from.AddDate(0, 0, 7)
	d := Diary{WorkerID: p.UserID, From: from.UTC(), To: to.UTC()}
	list, err := s.List(ctx, p, Filter{WorkerID: p.UserID, From: from, To: to, Limit: 2000})
	if err != nil {
		return d, err
	}
	for i := range 7 {
		start := from.AddDate(0, 0, i)
		end := from.AddDate(0, 0, i+1)
		day := Day{Date: start, Appointments: []Appointment{}}
		for _, a := range list {
			if !a.Start.Before(start) && a.Start.Before(end) {
				day.Appointments = append(day.Appointments, a)
			}
		}
		d.Days = append(d.Days, day)
	}
	return d, nil
}

// Booking is what a worker needs to arrange an appointment with someone:
// their name, where and when they chose to meet, their worker, and the
// appointments already arranged.
type Booking struct {
	PersonID    int64         `json:"person_id"`
	PersonName  string        `json:"person_name"`
	WorkerName  string        `json:"worker_name"`
	Preferences Preferences   `json:"preferences"`
	Upcoming    []Appointment `json:"upcoming"`
	Reminders   Reminders     `json:"reminders" doc:"When the person chose to be reminded."`
	// HandoverWorkers are the peer workers who could come to a warm
	// handover meeting as the incoming worker (the team's, but not the
	// worker now).
	HandoverWorkers []referral.Worker `json:"handover_workers"`
}

// ForBooking reads what a worker (or their lead) needs to arrange an
// appointment with a person they support, audited. Someone they may not
// see is not found; someone without an allocated worker is a conflict.
func (s *Service) ForBooking(ctx context.Context, p *app.Principal, personID int64) (Booking, error) {
	now := s.Clock.Now()
	out := Booking{PersonID: personID, Upcoming: []Appointment{}}
	err := s.readAbout(ctx, p, personID, "appointment.booking", func(tx *store.Tx) (int64, error) {
		if !p.IsStaff() || !p.Can(app.PermAppointments) {
			return 0, access.ErrNotVisible
		}
		if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
			return 0, err
		}
		ref, err := openReferral(ctx, tx, p, personID, false)
		if err != nil {
			return 0, err
		}
		if !mayWork(p, ref.WorkerID, ref.TeamID) {
			return 0, access.ErrNotVisible
		}
		out.WorkerName = ref.WorkerName
		out.HandoverWorkers = []referral.Worker{}
		if ref.TeamID != 0 {
			ws, err := referral.WorkersIn(ctx, tx, []int64{ref.TeamID})
			if err != nil {
				return 0, err
			}
			for _, w := range ws {
				if w.ID != ref.WorkerID {
					out.HandoverWorkers = append(out.HandoverWorkers, w.Worker)
				}
			}
		}
		if err := tx.QueryRowContext(ctx, "SELECT preferred_name FROM people WHERE id = $1", personID).Scan(&out.PersonName); err != nil {
			return 0, err
		}
		if out.Preferences, err = s.preferences(ctx, tx, personID); err != nil {
			return 0, err
		}
		if out.Reminders, err = remindersOf(ctx, tx, personID); err != nil {
			return 0, err
		}
		args := store.NewArgs(personID, now)
		rows, err := tx.QueryContext(ctx, "SELECT "+apptColumns+apptFrom+" WHERE a.person_id = $1 AND a.ends_at > $2 AND a.status IN ('proposed', 'booked') AND "+
			visible(p, args)+" ORDER BY a.starts_at LIMIT 50", args.Values()...)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAppointment(rows)
			if err != nil {
				return 0, err
			}
			out.Upcoming = append(out.Upcoming, a)
		}
		return personID, rows.Err()
	})
	return out, err
}
