package demo

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/matching"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/support"
)

// The support story: each demo peer worker's week, told through the
// support service at today's date — for up to six people allocated to them,
// a meeting earlier in the week recorded with a note for the person (every
// other person, so some are overdue), one appointment booked and one
// waiting for the person's answer later, where the person chose to meet;
// and one home visit under way today, checked in, so "My people", "My
// diary" and lone working all have something to show. (The group sessions
// workers facilitate in the same week, shown in their diaries, are the
// groups story's: the Hearing Voices Group's weekly session, say.) The demo
// person has chosen their reminders: both the day before and 2 hours
// before.
func (l *loader) supportWeek(ctx context.Context) error {
	l.at(l.Clock.Now())
	auditLog := audit.NewLog(l.DB, l.clock, audit.LogOptions{})
	auditLog.Start()
	defer auditLog.Close()
	svc := &support.Service{DB: l.DB, Clock: l.clock, Audit: auditLog, Alerts: l.alerts, BaseURL: l.Referrals.BaseURL,
		Preferences: support.PreferencesFromChoices(matching.PreferencesOfPeople, func(c matching.Choices) support.Preferences {
			return support.Preferences{Places: c.Places, Days: c.Days, Times: c.Times}
		})}
	rows, err := l.DB.Query(ctx, `SELECT r.person_id, r.allocated_worker_id FROM referrals r
		WHERE r.status IN ('allocated', 'active') AND r.allocated_worker_id IS NOT NULL ORDER BY r.allocated_worker_id, r.id`)
	if err != nil {
		return err
	}
	type pair struct{ person, worker int64 }
	var pairs []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.person, &p.worker); err != nil {
			rows.Close()
			return err
		}
		pairs = append(pairs, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := l.Clock.Now()
	day := func(offset, hour int) time.Time {
		d := now.In(app.London).AddDate(0, 0, offset)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, app.London)
	}
	// Up to six people a worker, two days ago, the days ahead, and today.
	seen := map[int64]int{}
	var chosen []pair
	for _, pr := range pairs {
		if seen[pr.worker] < 6 {
			chosen = append(chosen, pr)
		}
		seen[pr.worker]++
	}
	book := func(p *app.Principal, in support.NewAppointment) (support.Appointment, error) {
		a, err := svc.Create(ctx, p, in)
		if app.IsCode(err, app.CodeInvalid) { // no place chosen: the team base
			in.Place = "team_base"
			a, err = svc.Create(ctx, p, in)
		}
		return a, err
	}
	l.at(now)
	// Earlier this week: a meeting recorded as a contact, with a note
	// written for the person, by kind of support.
	seen = map[int64]int{}
	for _, pr := range chosen {
		n := seen[pr.worker]
		seen[pr.worker]++
		if n%2 == 1 {
			continue
		}
		p, err := l.workerPrincipal(ctx, pr.worker)
		if err != nil {
			return err
		}
		var ref int64
		if err := l.DB.QueryRow(ctx, "SELECT id FROM referrals WHERE person_id = $1 AND allocated_worker_id = $2 AND status IN ('allocated', 'active') ORDER BY id DESC LIMIT 1",
			pr.person, pr.worker).Scan(&ref); err != nil {
			return err
		}
		_, err = l.ref.RecordContact(ctx, p, ref, referral.NewContact{At: day(-2-n/2, 11), Mode: "in_person", Minutes: 60,
			SupportTypes: [][]string{{"emotional", "social"}, {"practical"}, {"recovery", "emotional"}}[n/2%3], Note: demoNotes[n/2%len(demoNotes)]})
		if err != nil && !app.IsCode(err, app.CodeInvalid) { // a referral made after that day
			return err
		}
	}
	// Today and the days ahead: booked, and waiting for the person's answer;
	// and, for each worker, a home visit under way, checked in.
	slot := map[int64]int{}
	for _, pr := range chosen {
		p, err := l.workerPrincipal(ctx, pr.worker)
		if err != nil {
			return err
		}
		n := slot[pr.worker]
		slot[pr.worker]++
		if n == 0 {
			v, err := book(p, support.NewAppointment{PersonID: pr.person, Start: now.Add(time.Minute), Minutes: 60, Place: "home", Agreed: true})
			if err != nil {
				return err
			}
			if _, err := svc.CheckIn(ctx, p, v.ID); err != nil {
				return err
			}
		}
		for i, when := range []time.Time{day(1+n/3, 10+(n%3)*2), day(3+n/3, 10+(n%3)*2)} {
			_, err := book(p, support.NewAppointment{PersonID: pr.person, Start: when, Minutes: 60, Agreed: i == 0})
			switch {
			case err == nil:
				l.res.Appointments++
			case !app.IsCode(err, app.CodeConflict):
				return err
			}
		}
	}
	// The demo person has chosen to be reminded both the day before and 2
	// hours before (everyone else has the default, the day before).
	if person, err := l.principal(ctx, "person"); err != nil {
		return err
	} else if person.PersonID != 0 {
		if _, err := svc.SetReminders(ctx, person, 0, support.SetReminders{Choice: support.RemindBoth}); err != nil {
			return err
		}
	}
	if len(chosen) == 0 {
		return nil
	}
	return l.transitions(ctx, svc, chosen[0].person, now)
}

// transitions gives the demonstration a discharge follow-up due: one
// person supported was on an acute ward until two days ago (an episode
// from the trust's record, written as the caseload import would), and the
// job raises its prompt to their worker. The worker with the fewest people
// is away for three weeks from tomorrow, so those people need another
// worker; one of them has a warm handover booked today.
func (l *loader) transitions(ctx context.Context, svc *support.Service, personID int64, now time.Time) error {
	today := now.UTC().Truncate(24 * time.Hour)
	if _, err := l.DB.Exec(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, start_date, end_date, setting, imported_at)
		SELECT r.person_id, 'DEMO-WARD-1', r.team_id, 'ward@demo.example', $2, $3, 'acute_ward', $4 FROM referrals r
		WHERE r.person_id = $1 AND r.status IN ('allocated', 'active') AND r.team_id IS NOT NULL ORDER BY r.id DESC LIMIT 1`,
		personID, today.AddDate(0, 0, -12), today.AddDate(0, 0, -2), now); err != nil {
		return err
	}
	if _, err := svc.RaiseTransitionPrompts(ctx); err != nil {
		return err
	}
	var worker int64
	err := l.DB.QueryRow(ctx, `SELECT allocated_worker_id FROM referrals WHERE status IN ('allocated', 'active') AND allocated_worker_id IS NOT NULL
		GROUP BY allocated_worker_id ORDER BY COUNT(*), allocated_worker_id LIMIT 1`).Scan(&worker)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	if _, err = l.DB.Exec(ctx, `INSERT INTO capacity_reductions (user_id, percent, starts_on, ends_on, note, created_at) VALUES ($1, 0, $2, $3, 'Leave', $4)`,
		worker, today.AddDate(0, 0, 1), today.AddDate(0, 0, 21), now); err != nil {
		return err
	}
	return l.warmHandover(ctx, svc, worker, now)
}

// warmHandover books, for one person of the worker going on leave, a warm
// handover meeting today with another peer worker of their team, and
// records on the person's say that a new worker may see a summary of their
// support so far.
func (l *loader) warmHandover(ctx context.Context, svc *support.Service, worker int64, now time.Time) error {
	var personID, referralID, incoming int64
	err := l.DB.QueryRow(ctx, `SELECT r.person_id, r.id, m.user_id FROM referrals r JOIN memberships m ON m.team_id = r.team_id AND m.role = 'peer_worker'
		JOIN users u ON u.id = m.user_id AND u.status = 'active'
		WHERE r.allocated_worker_id = $1 AND r.status IN ('allocated', 'active') AND m.user_id <> $1 ORDER BY r.id, m.user_id LIMIT 1`, worker).
		Scan(&personID, &referralID, &incoming)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	p, err := l.workerPrincipal(ctx, worker)
	if err != nil {
		return err
	}
	start := now.Truncate(time.Hour).Add(2 * time.Hour)
	for try := range 8 {
		_, err = svc.Create(ctx, p, support.NewAppointment{PersonID: personID, Start: start.Add(time.Duration(try) * time.Hour), Minutes: 60,
			Place: "team_base", Agreed: true, HandoverWorkerID: incoming, Others: "Your new peer worker, for a warm handover"})
		if !app.IsCode(err, app.CodeConflict) {
			break
		}
	}
	if err != nil {
		return err
	}
	l.res.Appointments++
	_, err = l.ref.ChooseHandoverSharing(ctx, p, referralID, referral.HandoverChoice{Share: "summary",
		Agreement: "We talked about my leave at our last meeting: a summary, and they will tell the new worker the rest themselves"})
	return err
}

var demoNotes = []string{
	"Good to see you. We walked to the library and found out when the Tuesday group meets. Next time we'll go together.",
	"We sorted the letter from the council together and you rang them yourself. Well done.",
	"You said the grounding exercise helped twice this week. We agreed to keep going and talk about sleep next time.",
}

// workerPrincipal is a demo account as its own caller.
func (l *loader) workerPrincipal(ctx context.Context, userID int64) (*app.Principal, error) {
	u, err := l.acc.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &app.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, PersonID: u.PersonID, Memberships: u.Memberships, Via: "demo", RequestID: "demo"}, nil
}
