package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// Appointment is one appointment, as its person, worker or their lead see
// it.
type Appointment struct {
	ID         int64  `json:"id"`
	PersonID   int64  `json:"person_id"`
	PersonName string `json:"person_name"`
	ReferralID int64  `json:"referral_id"`
	TeamID     int64  `json:"team_id,omitempty"`
	WorkerID   int64  `json:"worker_id"`
	WorkerName string `json:"worker_name"`
	// A warm handover meeting: the other peer worker, booked too.
	HandoverWorkerID   int64     `json:"handover_worker_id,omitempty" doc:"A warm handover meeting: the other peer worker, who comes and is booked too — the incoming worker until the referral is handed over to them, then the outgoing one."`
	HandoverWorkerName string    `json:"handover_worker_name,omitempty"`
	Start              time.Time `json:"start" doc:"RFC 3339, stored in UTC; shown in Europe/London."`
	End                time.Time `json:"end"`
	Minutes            int       `json:"minutes"`
	Place              string    `json:"place" doc:"home, community, team_base, ward, phone, video or text."`
	PlaceDetail        string    `json:"place_detail,omitempty" doc:"Which café, which ward, which number…"`
	Others             string    `json:"others,omitempty" doc:"Who else comes."`
	Status             Status    `json:"status" doc:"proposed, booked, arrived, fulfilled, cancelled or noshow (FHIR Appointment)."`
	AskedBy            Side      `json:"asked_by" doc:"worker: the worker proposed it; person: the person asked for it."`
	CancelledBy        Side      `json:"cancelled_by,omitempty"`
	CancelReason       string    `json:"cancel_reason,omitempty"`
	RescheduledFrom    int64     `json:"rescheduled_from,omitempty" doc:"The appointment this one replaced."`
	Version            int       `json:"version"`
	// Lone working: a visit (at home or in the community) is checked in and
	// out by the worker.
	Visit      bool       `json:"visit" doc:"A lone-working visit (home or community): the worker checks in and out."`
	CheckedIn  *time.Time `json:"checked_in_at,omitempty"`
	CheckedOut *time.Time `json:"checked_out_at,omitempty"`
	AlertedAt  *time.Time `json:"alerted_at,omitempty" doc:"When the worker's leads were alerted that the visit was not checked out in time."`
	// Next are the moves the caller may make now (not in the API).
	Next []Status `json:"-"`
	// Alert is the lone-working alert raised about this visit, for a lead
	// who may respond to it (Get only; not in the API).
	Alert *alert.Alert `json:"-"`
}

// PlaceLabel is the place in words.
func (a Appointment) PlaceLabel() string { return PlaceLabel(a.Place) }

// NewAppointment asks for, or proposes, an appointment.
type NewAppointment struct {
	PersonID    int64     `json:"person_id,omitempty" doc:"Staff: whom with. A person asking for their own leaves it out."`
	Start       time.Time `json:"start" required:"true" doc:"When it starts (RFC 3339)."`
	Minutes     int       `json:"minutes,omitempty" doc:"How long, 15 to 480 minutes; 60 when left out."`
	Place       string    `json:"place,omitempty" doc:"home, community, team_base, ward, phone, video or text; the person's first chosen place when left out."`
	PlaceDetail string    `json:"place_detail,omitempty"`
	Others      string    `json:"others,omitempty" doc:"Who else comes."`
	Agreed      bool      `json:"agreed,omitempty" doc:"Staff: the person has already agreed, so it is booked at once rather than proposed."`
	// HandoverWorkerID makes it a warm handover meeting.
	HandoverWorkerID int64 `json:"handover_worker_id,omitempty" doc:"Staff: a warm handover meeting with the incoming peer worker (one of the referral's team's peer workers), who comes and is booked too. Both workers must be free."`
}

// Move changes an appointment's status.
type Move struct {
	To      Status `json:"to" required:"true" doc:"booked, arrived, fulfilled, cancelled or noshow."`
	Reason  string `json:"reason,omitempty" doc:"Why: needed to cancel."`
	Version int    `json:"version,omitempty" doc:"The version you saw; a change made since answers 409. Left out: no check."`
}

// Reschedule moves an appointment to another time or place, with the same
// worker: the old one is cancelled (saying why) and a new one proposed.
type Reschedule struct {
	Start       time.Time `json:"start" required:"true"`
	Minutes     int       `json:"minutes,omitempty" doc:"The old length when left out."`
	Place       string    `json:"place,omitempty" doc:"The old place when left out."`
	PlaceDetail string    `json:"place_detail,omitempty"`
	Reason      string    `json:"reason,omitempty" doc:"Why it moves."`
	Agreed      bool      `json:"agreed,omitempty" doc:"Staff: the person agreed the new time, so it is booked at once."`
}

const (
	maxDetail = 200
	maxReason = 500
)

// Problem text for the booking fields.
func checkWhen(p *app.Problems, start time.Time, minutes *int, now time.Time) {
	switch {
	case start.IsZero():
		p.Add("start", "Enter the date and time of the appointment")
	case !start.After(now):
		p.Add("start", "The appointment must be in the future")
	case start.After(now.AddDate(1, 0, 0)):
		p.Add("start", "Arrange appointments up to a year ahead")
	}
	if *minutes == 0 {
		*minutes = 60
	}
	if *minutes < 15 || *minutes > 480 {
		p.Add("minutes", "An appointment lasts between 15 and 480 minutes")
	}
}

func checkPlace(p *app.Problems, place string) {
	if place != "" && !app.HasChoice(Places, place) {
		p.Add("place", "Choose where to meet")
	}
}

// Create proposes an appointment (a worker, or their lead, with someone
// they support), or asks for one (a person, with their own worker). It is
// with the person's allocated worker, at the person's first chosen place
// unless another is given. Staff may record that the person already
// agreed, which books it. A worker already busy then answers 409 with the
// clash — also when two bookings for one slot arrive at once: one wins.
func (s *Service) Create(ctx context.Context, p *app.Principal, in NewAppointment) (Appointment, error) {
	now := s.Clock.Now()
	var problems app.Problems
	checkWhen(&problems, in.Start, &in.Minutes, now)
	checkPlace(&problems, in.Place)
	in.PlaceDetail, in.Others = strings.TrimSpace(in.PlaceDetail), strings.TrimSpace(in.Others)
	problems.CheckLen("place_detail", in.PlaceDetail, maxDetail, "Where exactly")
	problems.CheckLen("others", in.Others, maxDetail, "Who else comes")
	asPerson := self(p, in.PersonID)
	if !asPerson && in.PersonID <= 0 {
		problems.Add("person_id", "Choose whom the appointment is with")
	}
	if err := problems.Err(); err != nil {
		return Appointment{}, err
	}
	var out Appointment
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		side, personID := SideWorker, in.PersonID
		if asPerson {
			side, personID = SidePerson, p.PersonID
		} else if !p.Can(app.PermAppointments) || !p.IsStaff() {
			return access.ErrNotVisible
		} else if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
			return err
		}
		ref, err := openReferral(ctx, tx, p, personID, true)
		if err != nil {
			return err
		}
		var handoverName string
		if side == SideWorker && !mayWork(p, ref.WorkerID, ref.TeamID) {
			return app.Errorf(app.CodeForbidden, "Appointments are made by the person's own peer worker, or their team's lead")
		}
		if in.HandoverWorkerID != 0 {
			if side != SideWorker {
				return app.Invalid(app.FieldError{Field: "handover_worker_id", Message: "A handover meeting is arranged by the peer worker or their lead"})
			}
			if handoverName, err = handoverWorkerOK(ctx, tx, ref, in.HandoverWorkerID); err != nil {
				return err
			}
		}
		// The place asked for, else the person's first chosen place, read
		// afresh by each attempt (not written back into in).
		place := in.Place
		if place == "" {
			prefs, err := s.preferences(ctx, tx, personID)
			if err != nil {
				return err
			}
			for _, pl := range prefs.Places {
				if app.HasChoice(Places, pl) {
					place = pl
					break
				}
			}
			if place == "" {
				return app.Invalid(app.FieldError{Field: "place", Message: "Choose where to meet"})
			}
		}
		status := Proposed
		if side == SideWorker && in.Agreed {
			status = Booked
		}
		row := apptRow{personID: personID, referralID: ref.ID, teamID: ref.TeamID, workerID: ref.WorkerID, handoverWorkerID: in.HandoverWorkerID,
			workerName: ref.WorkerName, handoverName: handoverName,
			start: in.Start, minutes: in.Minutes, place: place, detail: in.PlaceDetail, others: in.Others, status: status, askedBy: side}
		id, err := s.book(ctx, tx, p, row, 0, now)
		if err != nil {
			return err
		}
		if out, err = loadAppointment(ctx, tx, p, id, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, s.actor(p, side), audit.Event{Action: "appointment.create", SubjectPersonID: personID,
			ObjectType: "appointment", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermAppointments, "appointment.create", "person", in.PersonID, "The person")
	}
	out.Next = Next(Appt{Status: out.Status, AskedBy: out.AskedBy, Start: out.Start}, sideOf(p, out), now)
	return out, nil
}

// MaxOpenRequests is how many appointments a person may have asked for
// that their worker has not yet answered.
const MaxOpenRequests = 3

// apptRow is an appointment to write.
type apptRow struct {
	personID, referralID, teamID, workerID int64
	handoverWorkerID                       int64  // a warm handover meeting's other worker (0: none)
	workerName, handoverName               string // for a handover meeting's clash messages
	start                                  time.Time
	minutes                                int
	place, detail, others                  string
	status                                 Status
	askedBy                                Side
	from                                   int64
}

// book writes an appointment after taking the worker's lock and finding
// no appointment of theirs that overlaps it (except skip, the appointment
// being moved). The lock is held until commit, so two bookings of one
// worker take turns and the second sees the first. A warm handover meeting
// books both workers: it takes both locks, the lower account id first (so
// two handover bookings of the same two workers cannot each hold one lock
// and wait for the other), and neither may have an overlap.
func (s *Service) book(ctx context.Context, tx *store.Tx, p *app.Principal, r apptRow, skip int64, now time.Time) (int64, error) {
	for _, w := range lockOrder(r.workerID, r.handoverWorkerID) {
		if err := tx.Lock(ctx, lockKey(w)); err != nil {
			return 0, err
		}
	}
	if r.askedBy == SidePerson && r.status == Proposed {
		// A person's open requests are few, counted under the worker's
		// lock: requests nobody has answered must not fill the worker's
		// diary.
		var open int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM appointments WHERE person_id = $1 AND asked_by = $2 AND status = $3 AND id <> $4",
			r.personID, string(SidePerson), string(Proposed), skip).Scan(&open); err != nil {
			return 0, err
		}
		if open >= MaxOpenRequests {
			return 0, app.Errorf(app.CodeConflict, "You have already asked for %d appointments your peer worker has not answered yet. Wait for them to answer, or cancel one of them first.", MaxOpenRequests)
		}
	}
	start := r.start.UTC().Truncate(time.Microsecond)
	end := start.Add(time.Duration(r.minutes) * time.Minute)
	clashStart, clashEnd, err := clash(ctx, tx, r.workerID, start, end, skip)
	switch {
	case err == nil:
		if self(p, r.personID) {
			// Not when, or with whom: a person asking and cancelling
			// could otherwise map their worker's other appointments.
			return 0, app.Errorf(app.CodeConflict, "Your peer worker is not free then. Choose another time.")
		}
		who := "The worker"
		if r.handoverWorkerID != 0 {
			who = named(r.workerName, "the person's peer worker")
		}
		return 0, app.Errorf(app.CodeConflict, "%s is already booked from %s to %s. Choose another time.",
			who, london(clashStart), clashEnd.In(app.London).Format("15:04"))
	case !errors.Is(err, sql.ErrNoRows):
		return 0, err
	}
	if r.handoverWorkerID != 0 {
		// When only: never with whom (the other worker's diary is theirs).
		clashStart, clashEnd, err := clash(ctx, tx, r.handoverWorkerID, start, end, skip)
		switch {
		case err == nil:
			return 0, app.Errorf(app.CodeConflict, "%s is already booked from %s to %s. Choose another time.",
				named(r.handoverName, "the incoming peer worker"), london(clashStart), clashEnd.In(app.London).Format("15:04"))
		case !errors.Is(err, sql.ErrNoRows):
			return 0, err
		}
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO appointments (person_id, referral_id, team_id, worker_user_id, starts_at, ends_at, minutes, place,
		place_detail, others, status, asked_by, rescheduled_from, created_by_user_id, created_at, updated_at, updated_by_user_id, handover_worker_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $14, $16) RETURNING id`,
		r.personID, r.referralID, nullID(r.teamID), r.workerID, start, end, r.minutes, r.place, r.detail, r.others, string(r.status),
		string(r.askedBy), nullID(r.from), nullID(p.UserID), now, nullID(r.handoverWorkerID)).Scan(&id)
	return id, err
}

// clash finds the first appointment that holds the worker's time (as its
// worker, or as the other worker at a handover meeting) and overlaps
// [start, end), apart from skip: sql.ErrNoRows when they are free. The
// caller must hold the worker's lock (lockKey) to act on it.
func clash(ctx context.Context, tx *store.Tx, workerID int64, start, end time.Time, skip int64) (time.Time, time.Time, error) {
	a := store.NewArgs(workerID, end, start, skip)
	var clashStart, clashEnd time.Time
	in := store.In(a, holdingStatuses...)
	// Two halves, each on its own index (worker; handover worker).
	err := tx.QueryRowContext(ctx, `SELECT starts_at, ends_at FROM (
		SELECT starts_at, ends_at FROM appointments WHERE worker_user_id = $1 AND starts_at < $2 AND ends_at > $3 AND id <> $4 AND status IN `+in+`
		UNION ALL
		SELECT starts_at, ends_at FROM appointments WHERE handover_worker_id = $1 AND starts_at < $2 AND ends_at > $3 AND id <> $4 AND status IN `+in+`
		) x ORDER BY starts_at LIMIT 1`, a.Values()...).Scan(&clashStart, &clashEnd)
	return clashStart, clashEnd, err
}

// named is a worker in a clash message: their name and their part
// ("Jo Newman (the incoming peer worker)"), or the part alone.
func named(name, part string) string {
	if name == "" {
		return app.UpperFirst(part)
	}
	return name + " (" + part + ")"
}

// lockOrder is the workers' locks to take, in one order for everyone
// (the lower account id first), leaving out none (0) and repeats.
func lockOrder(a, b int64) []int64 {
	switch {
	case b == 0 || a == b:
		return []int64{a}
	case a < b:
		return []int64{a, b}
	}
	return []int64{b, a}
}

// handoverWorkerOK checks the other worker for a handover meeting: a peer
// worker the referral could be allocated to (the one rule of its team),
// other than its worker now; its name.
func handoverWorkerOK(ctx context.Context, tx *store.Tx, ref supportRef, workerID int64) (string, error) {
	bad := app.Invalid(app.FieldError{Field: "handover_worker_id", Message: "Choose the incoming peer worker from the person's team, other than their worker now"})
	if workerID == ref.WorkerID || ref.TeamID == 0 {
		return "", bad
	}
	ws, err := referral.WorkersIn(ctx, tx, []int64{ref.TeamID})
	if err != nil {
		return "", err
	}
	for _, w := range ws {
		if w.ID == workerID {
			return w.Name, nil
		}
	}
	return "", bad
}

// actor is the caller as the audit trail names them (the role that
// grants appointments: the person's own, or their work role).
func (s *Service) actor(p *app.Principal, _ Side) app.Actor { return p.ActorFor(app.PermAppointments) }

// sideOf is how the caller stands to an appointment they may see.
func sideOf(p *app.Principal, a Appointment) Side {
	if self(p, a.PersonID) {
		return SidePerson
	}
	return SideWorker
}

const apptColumns = `a.id, a.person_id, pe.preferred_name, a.referral_id, a.worker_user_id, COALESCE(u.name, ''), a.starts_at, a.ends_at,
	a.minutes, a.place, a.place_detail, a.others, a.status, a.asked_by, a.cancelled_by, a.cancel_reason, COALESCE(a.rescheduled_from, 0),
	a.version, COALESCE(a.team_id, 0), a.checked_in_at, a.checked_out_at, a.lone_alert_at, COALESCE(a.handover_worker_id, 0), COALESCE(hu.name, '')`

const apptFrom = ` FROM appointments a JOIN people pe ON pe.id = a.person_id LEFT JOIN users u ON u.id = a.worker_user_id
	LEFT JOIN users hu ON hu.id = a.handover_worker_id`

func scanAppointment(row interface{ Scan(...any) error }) (Appointment, error) {
	var a Appointment
	var in, out, alerted sql.NullTime
	err := row.Scan(&a.ID, &a.PersonID, &a.PersonName, &a.ReferralID, &a.WorkerID, &a.WorkerName, &a.Start, &a.End, &a.Minutes, &a.Place,
		&a.PlaceDetail, &a.Others, &a.Status, &a.AskedBy, &a.CancelledBy, &a.CancelReason, &a.RescheduledFrom, &a.Version, &a.TeamID, &in, &out, &alerted,
		&a.HandoverWorkerID, &a.HandoverWorkerName)
	a.Start, a.End = a.Start.UTC(), a.End.UTC()
	a.Visit = Visit(a.Place)
	a.CheckedIn, a.CheckedOut, a.AlertedAt = timePtr(in), timePtr(out), timePtr(alerted)
	return a, err
}

// visible is the condition that the caller may see appointment a: the
// person's own, or (staff with support.work) their own appointments and
// their led teams', of people in their scope.
func visible(p *app.Principal, args *store.Args) string { return access.Appointments(p, args, "a") }

// loadAppointment reads one appointment the caller may see (locking it
// when lock), or access.ErrNotVisible.
func loadAppointment(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, lock bool) (Appointment, error) {
	args := store.NewArgs(id)
	q := "SELECT " + apptColumns + apptFrom + " WHERE a.id = $1 AND " + visible(p, args)
	if lock && tx.Dialect == store.Postgres {
		q += " FOR UPDATE OF a"
	}
	a, err := scanAppointment(tx.QueryRowContext(ctx, q, args.Values()...))
	if errors.Is(err, sql.ErrNoRows) {
		return a, access.ErrNotVisible
	}
	return a, err
}

// Get returns one appointment the caller may see, audited.
func (s *Service) Get(ctx context.Context, p *app.Principal, id int64) (Appointment, error) {
	var out Appointment
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if out, err = loadAppointment(ctx, tx, p, id, false); err != nil {
			return err
		}
		side := sideOf(p, out)
		out.Next = nextFor(p, out, s.Clock.Now())
		if out.AlertedAt != nil && alert.MayRespond(p, alert.Alert{TeamID: out.TeamID}) {
			if out.Alert, err = alert.ForLink(ctx, tx, p, VisitLink(id), s.Clock.Now()); err != nil {
				return err
			}
		}
		record(s.actor(p, side), audit.Event{Action: "appointment.read", SubjectPersonID: out.PersonID, ObjectType: "appointment", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermAppointments, "appointment.read", "appointment", id, "The appointment")
	}
	return out, nil
}

// Transition moves an appointment: the person accepts or cancels; the
// worker (or their lead) books, records arrived, happened or did not
// attend, or cancels. Cancelling records who and why. A stale version, or a
// move made by someone else at the same moment, answers 409.
func (s *Service) Transition(ctx context.Context, p *app.Principal, id int64, m Move) (Appointment, error) {
	now := s.Clock.Now()
	m.Reason = strings.TrimSpace(m.Reason)
	var problems app.Problems
	problems.CheckLen("reason", m.Reason, maxReason, "The reason")
	if err := problems.Err(); err != nil {
		return Appointment{}, err
	}
	var out Appointment
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		a, err := loadAppointment(ctx, tx, p, id, true)
		if err != nil {
			return err
		}
		side := sideOf(p, a)
		if side == SideWorker && !mayWork(p, a.WorkerID, a.TeamID) {
			return errNotTheirs()
		}
		if m.Version != 0 && m.Version != a.Version {
			return app.Errorf(app.CodeConflict, "This appointment was changed by someone else. Look at it again.")
		}
		if err := CheckMove(Appt{Status: a.Status, AskedBy: a.AskedBy, Start: a.Start}, side, m.To, m.Reason, now); err != nil {
			return err
		}
		if m.To == Booked {
			// Accepting a proposal books the worker: only while they are
			// still the person's worker.
			if err := stillTheirWorker(ctx, tx, p, a); err != nil {
				return err
			}
		}
		by, reason := "", ""
		if m.To == Cancelled {
			by, reason = string(side), m.Reason
		}
		res, err := tx.ExecContext(ctx, `UPDATE appointments SET status = $1, cancelled_by = $2, cancel_reason = $3, updated_at = $4,
			updated_by_user_id = $5, version = version + 1 WHERE id = $6 AND version = $7`, string(m.To), by, reason, now, nullID(p.UserID), id, a.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "This appointment was changed by someone else. Look at it again.")
		}
		if out, err = loadAppointment(ctx, tx, p, id, false); err != nil {
			return err
		}
		out.Next = Next(Appt{Status: out.Status, AskedBy: out.AskedBy, Start: out.Start}, side, now)
		return audit.Record(ctx, tx, now, s.actor(p, side), audit.Event{Action: "appointment." + string(m.To), SubjectPersonID: a.PersonID,
			ObjectType: "appointment", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermAppointments, "appointment.transition", "appointment", id, "The appointment")
	}
	return out, nil
}

// Move reschedules an appointment that has not happened, with the same
// worker: the old one is cancelled by whoever moved it ("rescheduled" and
// why), and the new one is proposed to the other side (or booked at once
// when staff record that the person agreed). The new time must be free.
func (s *Service) Move(ctx context.Context, p *app.Principal, id int64, in Reschedule) (Appointment, error) {
	now := s.Clock.Now()
	in.Reason, in.PlaceDetail = strings.TrimSpace(in.Reason), strings.TrimSpace(in.PlaceDetail)
	var problems app.Problems
	keepLength := in.Minutes == 0
	checkWhen(&problems, in.Start, &in.Minutes, now)
	checkPlace(&problems, in.Place)
	problems.CheckLen("place_detail", in.PlaceDetail, maxDetail, "Where exactly")
	problems.CheckLen("reason", in.Reason, maxReason, "The reason")
	if err := problems.Err(); err != nil {
		return Appointment{}, err
	}
	var out Appointment
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		old, err := loadAppointment(ctx, tx, p, id, true)
		if err != nil {
			return err
		}
		if !old.Status.Upcoming() {
			return app.Errorf(app.CodeConflict, "Only an appointment still to happen can be moved")
		}
		side := sideOf(p, old)
		if side == SideWorker && !mayWork(p, old.WorkerID, old.TeamID) {
			return errNotTheirs()
		}
		if err := stillTheirWorker(ctx, tx, p, old); err != nil {
			return err
		}
		minutes := in.Minutes
		if keepLength {
			minutes = old.Minutes
		}
		row := apptRow{personID: old.PersonID, referralID: old.ReferralID, teamID: old.TeamID, workerID: old.WorkerID, handoverWorkerID: old.HandoverWorkerID,
			workerName: old.WorkerName, handoverName: old.HandoverWorkerName, start: in.Start,
			minutes: minutes, place: old.Place, detail: old.PlaceDetail, others: old.Others, status: Proposed, askedBy: side, from: old.ID}
		if in.Place != "" {
			row.place, row.detail = in.Place, in.PlaceDetail
		}
		if side == SideWorker && in.Agreed {
			row.status = Booked
		}
		reason := "Rescheduled"
		if in.Reason != "" {
			reason += ": " + in.Reason
		}
		res, err := tx.ExecContext(ctx, `UPDATE appointments SET status = 'cancelled', cancelled_by = $1, cancel_reason = $2, updated_at = $3,
			updated_by_user_id = $4, version = version + 1 WHERE id = $5 AND version = $6`, string(side), reason, now, nullID(p.UserID), id, old.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "This appointment was changed by someone else. Look at it again.")
		}
		newID, err := s.book(ctx, tx, p, row, id, now)
		if err != nil {
			return err
		}
		if out, err = loadAppointment(ctx, tx, p, newID, false); err != nil {
			return err
		}
		out.Next = Next(Appt{Status: out.Status, AskedBy: out.AskedBy, Start: out.Start}, side, now)
		return audit.Record(ctx, tx, now, s.actor(p, side), audit.Event{Action: "appointment.reschedule", SubjectPersonID: old.PersonID,
			ObjectType: "appointment", ObjectID: fmt.Sprint(newID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermAppointments, "appointment.reschedule", "appointment", id, "The appointment")
	}
	return out, nil
}

// Filter narrows a list of appointments.
type Filter struct {
	PersonID int64
	WorkerID int64
	From, To time.Time // zero: open
	Limit    int       // 500 when zero
}

// List returns the appointments the caller may see, soonest first,
// audited as one read naming each person shown.
func (s *Service) List(ctx context.Context, p *app.Principal, f Filter) ([]Appointment, error) {
	out := []Appointment{}
	if f.Limit <= 0 || f.Limit > 2000 {
		f.Limit = 500
	}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		args := store.NewArgs()
		q := "SELECT " + apptColumns + apptFrom + " WHERE " + visible(p, args)
		if f.PersonID != 0 {
			q += " AND a.person_id = " + args.Add(f.PersonID)
		}
		before := "" // the same bound, for the driving selects below
		if !f.To.IsZero() {
			to := args.Add(f.To.UTC())
			q += " AND a.starts_at < " + to
			before = " AND starts_at < " + to
		}
		if !f.From.IsZero() {
			q += " AND a.ends_at > " + args.Add(f.From.UTC())
		}
		if f.WorkerID != 0 {
			// Their own, and the handover meetings they come to: each found
			// by its own index, so the list is driven by the worker's
			// appointments and not by every appointment before the week's
			// end (a planner given the OR and a range on starts_at scanned
			// the whole table: 0.95 s at 200,000 appointments,
			// BenchmarkWorkerViews).
			w := args.Add(f.WorkerID)
			q += " AND a.id IN (SELECT id FROM appointments WHERE worker_user_id = " + w + before +
				" UNION ALL SELECT id FROM appointments WHERE handover_worker_id = " + w + before + ")"
		}
		q += " ORDER BY a.starts_at, a.id LIMIT " + args.Add(f.Limit)
		rows, err := tx.QueryContext(ctx, q, args.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		seen := map[int64]bool{}
		var ids []int64
		now := s.Clock.Now()
		for rows.Next() {
			a, err := scanAppointment(rows)
			if err != nil {
				return err
			}
			a.Next = nextFor(p, a, now)
			out = append(out, a)
			if !seen[a.PersonID] {
				seen[a.PersonID] = true
				ids = append(ids, a.PersonID)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		record(p.ActorFor(app.PermAppointments), audit.Event{Action: "appointment.list", Subjects: ids, ObjectType: "appointments", ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// nextFor is the moves the caller may make on an appointment they see:
// none for the other worker at a handover meeting, who comes to it but
// does not arrange it.
func nextFor(p *app.Principal, a Appointment, now time.Time) []Status {
	if a.OtherWorker(p) {
		return nil
	}
	return Next(Appt{Status: a.Status, AskedBy: a.AskedBy, Start: a.Start}, sideOf(p, a), now)
}

// OtherWorker reports whether the caller sees the appointment only as the
// other worker at a warm handover meeting: they come to it, and neither
// change it nor record what happened at it.
func (a Appointment) OtherWorker(p *app.Principal) bool {
	return p != nil && a.HandoverWorkerID == p.UserID && !self(p, a.PersonID) && !mayWork(p, a.WorkerID, a.TeamID)
}

// errNotTheirs refuses a change to an appointment by the other worker at a
// handover meeting.
func errNotTheirs() error {
	return app.Errorf(app.CodeForbidden, "Only the person's peer worker, or their team's lead, changes this appointment")
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
