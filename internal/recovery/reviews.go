package recovery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// OnTimeGrace is how long after the date it was due a review still counts
// as held on time.
const OnTimeGrace = 7 * 24 * time.Hour

// Review is a review planned or held.
type Review struct {
	ID              int64      `json:"id"`
	PersonID        int64      `json:"person_id"`
	Status          string     `json:"status" doc:"planned, held or cancelled."`
	DueAt           time.Time  `json:"due_at" doc:"When it is (or was) planned for."`
	Place           string     `json:"place,omitempty"`
	Attendees       string     `json:"attendees,omitempty" doc:"Who the person wants there (planned), or who came (held)."`
	HeldAt          *time.Time `json:"held_at,omitempty"`
	Reviewed        string     `json:"reviewed,omitempty"`
	Agreed          string     `json:"agreed,omitempty"`
	DialogSessionID int64      `json:"dialog_session_id,omitempty"`
	RecordedBy      string     `json:"recorded_by,omitempty"`
	OnTime          *bool      `json:"on_time,omitempty" doc:"Held no later than a week after it was due."`
	// Appointment is the appointment the review was held at, or is
	// arranged for.
	Appointment *ReviewAppointment `json:"appointment,omitempty" doc:"The appointment the review was held at, or is arranged for."`
}

// ReviewAppointment is an appointment with the person that a review is (or
// can be) held at.
type ReviewAppointment struct {
	ID          int64     `json:"id"`
	StartsAt    time.Time `json:"starts_at"`
	Minutes     int       `json:"minutes"`
	Place       string    `json:"place" doc:"home, community, team_base, ward, phone, video or text."`
	PlaceDetail string    `json:"place_detail,omitempty"`
	Status      string    `json:"status" doc:"The appointment's FHIR status: proposed, booked, arrived, fulfilled, cancelled or noshow."`
	WorkerName  string    `json:"worker_name,omitempty"`
}

// PlaceLabel is the place in words.
func (a ReviewAppointment) PlaceLabel() string { return app.ChoiceLabel(app.MeetingPlaces, a.Place) }

// Where is the place in words with its detail: "At a café or community
// place: Library café".
func (a ReviewAppointment) Where() string {
	if a.PlaceDetail == "" {
		return a.PlaceLabel()
	}
	return a.PlaceLabel() + ": " + a.PlaceDetail
}

// Live reports whether the appointment still stands (not cancelled and
// not missed).
func (a ReviewAppointment) Live() bool { return a.Status != "cancelled" && a.Status != "noshow" }

// Late reports whether a held review was held more than a week after it
// was due.
func (r Review) Late() bool { return r.OnTime != nil && !*r.OnTime }

// NextReview is when, where and with whom the next review is.
type NextReview struct {
	At time.Time `json:"at" doc:"RFC 3339. Required unless appointment_id is given."`
	// AppointmentID arranges the review at an appointment already made with
	// the person: its start is the review's date and its place the
	// review's place.
	AppointmentID int64  `json:"appointment_id,omitempty" doc:"Hold the review at this appointment with the person (proposed or booked, in the future): its time and place become the review's."`
	Place         string `json:"place,omitempty"`
	Attendees     string `json:"attendees,omitempty" doc:"Who the person wants there; the people they chose in their plan when left out."`
}

// NewReview records a review that happened, or plans the next one.
type NewReview struct {
	Held            bool        `json:"held" required:"true" doc:"true: record a review that happened; false: only plan (or move) the next review."`
	PlannedID       int64       `json:"planned_review_id,omitempty" doc:"The planned review this records or moves (next_review.id on the plan), when one is planned: a review recorded or moved since answers 409."`
	HeldAt          *time.Time  `json:"held_at,omitempty" doc:"When it happened; now when left out."`
	Attendees       string      `json:"attendees,omitempty" doc:"Who came."`
	Reviewed        string      `json:"reviewed,omitempty" doc:"What was reviewed: goals, DIALOG+, the crisis plan…"`
	Agreed          string      `json:"agreed,omitempty" doc:"What was agreed."`
	DialogSessionID int64       `json:"dialog_session_id,omitempty" doc:"The DIALOG+ session done at the review, if any."`
	AppointmentID   int64       `json:"appointment_id,omitempty" doc:"The appointment with the person the review was held at, if any: held_at defaults to its start. Left out, a review arranged at an appointment that took place is linked to it."`
	Next            *NextReview `json:"next,omitempty" doc:"The next review. After a review, left out: in the person's chosen number of weeks, at their chosen place, with the people they chose."`
}

func checkReview(in *NewReview, now time.Time) app.Problems {
	var p app.Problems
	checkText(&p, "attendees", &in.Attendees, maxShort, "Who came")
	checkText(&p, "reviewed", &in.Reviewed, maxPlanText, "What was reviewed")
	checkText(&p, "agreed", &in.Agreed, maxPlanText, "What was agreed")
	if in.Held {
		if in.Reviewed == "" && in.Agreed == "" {
			p.Add("reviewed", "Say what was reviewed and what was agreed")
		}
		if in.HeldAt != nil {
			switch {
			case in.HeldAt.After(now.Add(5 * time.Minute)):
				p.Add("held_at", "A review cannot be recorded before it happens")
			case now.Sub(*in.HeldAt) > 90*24*time.Hour:
				p.Add("held_at", "Record a review within 90 days of it happening")
			}
		}
	} else if in.Next == nil {
		p.Add("next.at", "Enter the date of the next review")
	}
	if n := in.Next; n != nil {
		checkText(&p, "next.place", &n.Place, maxShort, "Where")
		checkText(&p, "next.attendees", &n.Attendees, maxShort, "Who the person wants there")
		switch {
		case n.AppointmentID != 0:
			// The appointment gives the date, checked with it.
		case n.At.IsZero():
			p.Add("next.at", "Enter the date of the next review")
		case n.At.Before(now.Add(-24 * time.Hour)):
			p.Add("next.at", "The next review must be in the future")
		case n.At.After(now.Add(2 * 365 * 24 * time.Hour)):
			p.Add("next.at", "Plan the next review within two years")
		}
	}
	return p
}

// RecordReview records a review held with a person (what was reviewed and
// agreed, who came) and sets the next one — by default in the weeks the
// person chose, with the people they chose — or only plans the next
// review. Only staff who may see the person record reviews. Two workers
// recording the same review at once: one succeeds, the other gets a
// conflict.
func (s *Service) RecordReview(ctx context.Context, p *app.Principal, personID int64, in NewReview) (Review, error) {
	now := s.Clock.Now()
	if problems := checkReview(&in, now); len(problems) > 0 {
		return Review{}, problems.Err()
	}
	var heldAt time.Time
	var out Review
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// A retried transaction (store.DB.Write retries one that met a
		// deadlock or a serialization failure) starts again from nothing.
		heldAt = now
		if in.HeldAt != nil {
			heldAt = in.HeldAt.UTC().Truncate(time.Microsecond)
		}
		// The next review's time and place are filled in from its
		// appointment below: on a copy, so a retry starts from what was
		// asked (and the caller's NewReview is left as it was given).
		in := in
		if in.Next != nil {
			next := *in.Next
			in.Next = &next
		}
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		if !v.staff {
			return app.Errorf(app.CodeForbidden, "Your worker records your reviews. You can choose how often they happen and who comes, in your plan.")
		}
		a := actor(p, v)
		choices, _, _, _, exists, err := loadPlan(ctx, tx, p, personID, false)
		if err != nil {
			return err
		}
		if !exists {
			choices.Weeks = s.reviewWeeks()
		}
		team, err := teamOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		var plannedID, plannedAppt int64
		var plannedDue time.Time
		err = tx.QueryRowContext(ctx, "SELECT id, due_at, COALESCE(appointment_id, 0) FROM recovery_reviews WHERE person_id = $1 AND status = 'planned'"+tx.Dialect.ForUpdate(),
			personID).Scan(&plannedID, &plannedDue, &plannedAppt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		conflict := app.Errorf(app.CodeConflict, "Someone else recorded or moved this review at the same moment. Look at the plan again.")
		if plannedID != in.PlannedID {
			return conflict
		}
		var heldAppt, nextAppt int64
		if in.Held && in.AppointmentID != 0 {
			ap, err := appointmentFor(ctx, tx, p, personID, in.AppointmentID, "appointment_id")
			if err != nil {
				return err
			}
			switch {
			case !ap.Live() || ap.Status == "proposed":
				return app.Invalid(app.FieldError{Field: "appointment_id", Message: "Choose an appointment that took place: this one was " + appointmentStatusWords(ap.Status)})
			case ap.StartsAt.After(now.Add(5 * time.Minute)):
				return app.Invalid(app.FieldError{Field: "appointment_id", Message: "That appointment has not happened yet: record the review after it"})
			case in.HeldAt == nil && now.Sub(ap.StartsAt) > 90*24*time.Hour:
				return app.Invalid(app.FieldError{Field: "appointment_id", Message: "Record a review within 90 days of it happening"})
			}
			if in.HeldAt == nil {
				heldAt = ap.StartsAt
			}
			heldAppt = ap.ID
		}
		if in.Held && in.AppointmentID == 0 && plannedAppt != 0 {
			// Recorded without saying where: it was held at the appointment
			// it was arranged for, if that took place.
			ap, err := appointmentFor(ctx, tx, p, personID, plannedAppt, "appointment_id")
			switch {
			case err != nil && !app.IsCode(err, app.CodeInvalid):
				return err
			case err != nil:
				// An appointment the caller may not see (a clinician
				// recording a review a worker arranged): the link stays as
				// it was arranged, and nothing of it is shown to them.
				heldAppt = plannedAppt
			case ap.Live() && ap.Status != "proposed" && !ap.StartsAt.After(now.Add(5*time.Minute)):
				heldAppt = ap.ID
				if in.HeldAt == nil {
					heldAt = ap.StartsAt
				}
			}
		}
		if in.Next != nil && in.Next.AppointmentID != 0 {
			ap, err := appointmentFor(ctx, tx, p, personID, in.Next.AppointmentID, "next.appointment_id")
			if err != nil {
				return err
			}
			if (ap.Status != "proposed" && ap.Status != "booked") || !ap.StartsAt.After(now) {
				return app.Invalid(app.FieldError{Field: "next.appointment_id", Message: "Choose an appointment still to come (proposed or booked) for the next review"})
			}
			in.Next.At = ap.StartsAt
			if in.Next.Place == "" {
				in.Next.Place = ap.Where()
			}
			nextAppt = ap.ID
		}
		onePerAppointment := app.Errorf(app.CodeConflict, "A review is already recorded or arranged at that appointment. Choose another, or none.")
		if heldAppt != 0 && heldAppt == nextAppt {
			return app.Invalid(app.FieldError{Field: "next.appointment_id", Message: "The next review cannot be at the appointment this one was held at"})
		}
		for _, id := range []int64{heldAppt, nextAppt} {
			var taken bool
			if id == 0 {
				continue
			}
			// The review being recorded or moved may keep its own
			// appointment; any other review there is a clash (the unique
			// index decides a race, as a conflict).
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM recovery_reviews WHERE appointment_id = $1 AND id <> $2)", id, plannedID).Scan(&taken); err != nil {
				return err
			}
			if taken {
				return onePerAppointment
			}
		}
		if in.Held {
			if in.DialogSessionID != 0 {
				var owner int64
				if err := tx.QueryRowContext(ctx, "SELECT person_id FROM dialog_sessions WHERE id = $1", in.DialogSessionID).Scan(&owner); err != nil || owner != personID {
					if err != nil && !errors.Is(err, sql.ErrNoRows) {
						return err
					}
					return app.Invalid(app.FieldError{Field: "dialog_session_id", Message: "Choose one of this person's DIALOG+ sessions"})
				}
			}
			if plannedID != 0 {
				// Held at a different appointment from the one arranged (or
				// at none): the link follows where it was held.
				res, err := tx.ExecContext(ctx, `UPDATE recovery_reviews SET status = 'held', held_at = $1, attendees = $2, reviewed = $3, agreed = $4,
					dialog_session_id = $5, recorded_by_user_id = $6, recorded_role = $7, updated_at = $8, appointment_id = $10 WHERE id = $9 AND status = 'planned'`,
					heldAt, in.Attendees, in.Reviewed, in.Agreed, nullID(in.DialogSessionID), nullID(p.UserID), string(a.Role), now, plannedID, nullID(heldAppt))
				if store.IsUniqueViolation(err) {
					return onePerAppointment
				}
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n != 1 {
					return conflict
				}
				out.ID = plannedID
			} else {
				due, err := s.dueWithoutPlan(ctx, tx, p, personID, choices.Weeks, heldAt)
				if err != nil {
					return err
				}
				if err := tx.QueryRowContext(ctx, `INSERT INTO recovery_reviews (person_id, team_id, status, due_at, held_at, attendees, reviewed, agreed,
					dialog_session_id, recorded_by_user_id, recorded_role, created_at, updated_at, appointment_id)
					VALUES ($1, $2, 'held', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id`, personID, nullID(team), due, heldAt,
					in.Attendees, in.Reviewed, in.Agreed, nullID(in.DialogSessionID), nullID(p.UserID), string(a.Role), now, nullID(heldAppt)).Scan(&out.ID); err != nil {
					if store.IsUniqueViolation(err) {
						return onePerAppointment
					}
					return err
				}
			}
			next := NextReview{At: heldAt.Add(time.Duration(choices.Weeks) * 7 * 24 * time.Hour), Place: choices.Place, Attendees: choices.Attendees}
			if in.Next != nil {
				next = *in.Next
				if next.Attendees == "" {
					next.Attendees = choices.Attendees
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_reviews (person_id, team_id, status, due_at, place, attendees, recorded_by_user_id,
				recorded_role, created_at, updated_at, appointment_id) VALUES ($1, $2, 'planned', $3, $4, $5, $6, $7, $8, $8, $9)`, personID, nullID(team),
				next.At.UTC().Truncate(time.Microsecond), next.Place, next.Attendees, nullID(p.UserID), string(a.Role), now, nullID(nextAppt)); err != nil {
				if store.IsUniqueViolation(err) {
					return conflict
				}
				return err
			}
		} else {
			next := *in.Next
			if next.Attendees == "" {
				next.Attendees = choices.Attendees
			}
			if next.Place == "" {
				next.Place = choices.Place
			}
			at := next.At.UTC().Truncate(time.Microsecond)
			if plannedID != 0 {
				res, err := tx.ExecContext(ctx, `UPDATE recovery_reviews SET due_at = $1, place = $2, attendees = $3, reminded_at = NULL, updated_at = $4,
					appointment_id = $6 WHERE id = $5 AND status = 'planned'`, at, next.Place, next.Attendees, now, plannedID, nullID(nextAppt))
				if store.IsUniqueViolation(err) {
					return onePerAppointment
				}
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n != 1 {
					return conflict
				}
				out.ID = plannedID
			} else if err := tx.QueryRowContext(ctx, `INSERT INTO recovery_reviews (person_id, team_id, status, due_at, place, attendees,
				recorded_by_user_id, recorded_role, created_at, updated_at, appointment_id) VALUES ($1, $2, 'planned', $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id`,
				personID, nullID(team), at, next.Place, next.Attendees, nullID(p.UserID), string(a.Role), now, nullID(nextAppt)).Scan(&out.ID); err != nil {
				if store.IsUniqueViolation(err) {
					return conflict
				}
				return err
			}
		}
		rs, err := loadReviews(ctx, tx, p, personID, out.ID, 1)
		if err != nil {
			return err
		}
		if len(rs) == 1 {
			out = rs[0]
		}
		action := "review.plan"
		if in.Held {
			action = "review.create"
		}
		return audit.Record(ctx, tx, now, a, audit.Event{Action: action, SubjectPersonID: personID, ObjectType: "review", ObjectID: fmt.Sprint(out.ID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermRecoveryWork, "review.create", "person", personID, "The person")
	}
	return out, nil
}

// appointmentFor reads one of the person's appointments for a review,
// after the caller was checked to see the person (and bounded by their
// scope): another person's, or one out of sight, is an invalid choice.
func appointmentFor(ctx context.Context, tx *store.Tx, p *app.Principal, personID, id int64, field string) (ReviewAppointment, error) {
	a := store.NewArgs(id, personID)
	ap, err := scanReviewAppointment(tx.QueryRowContext(ctx, reviewApptSelect+` WHERE ap.id = $1 AND ap.person_id = $2 AND `+appointmentScope(p, a), a.Values()...))
	if errors.Is(err, sql.ErrNoRows) {
		return ap, app.Invalid(app.FieldError{Field: field, Message: "Choose one of this person's appointments"})
	}
	return ap, err
}

// reviewApptSelect reads the appointment columns a review shows, from
// appointments ap; scanReviewAppointment scans them.
const reviewApptSelect = `SELECT ap.id, ap.starts_at, ap.minutes, ap.place, ap.place_detail, ap.status, COALESCE(u.name, '')
	FROM appointments ap LEFT JOIN users u ON u.id = ap.worker_user_id`

func scanReviewAppointment(row interface{ Scan(...any) error }) (ReviewAppointment, error) {
	var ap ReviewAppointment
	err := row.Scan(&ap.ID, &ap.StartsAt, &ap.Minutes, &ap.Place, &ap.PlaceDetail, &ap.Status, &ap.WorkerName)
	ap.StartsAt = ap.StartsAt.UTC()
	return ap, err
}

// appointmentScope is the condition that the caller may see appointment
// ap: the appointments capability's own rule (access.Appointments), so a
// review never shows an appointment its reader could not open.
func appointmentScope(p *app.Principal, a *store.Args) string {
	return "EXISTS (SELECT 1 FROM people pe WHERE pe.id = ap.person_id AND " + access.Appointments(p, a, "ap") + ")"
}

// appointmentsForReview lists the person's appointments a review can be
// linked to: from 90 days ago onwards, not cancelled, soonest first (at
// most 50), after the caller was checked to see the person.
func appointmentsForReview(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64, now time.Time) ([]ReviewAppointment, error) {
	a := store.NewArgs(personID, now.Add(-90*24*time.Hour))
	rows, err := tx.QueryContext(ctx, reviewApptSelect+` WHERE ap.person_id = $1 AND ap.starts_at >= $2 AND ap.status NOT IN ('cancelled', 'noshow')
		AND `+appointmentScope(p, a)+` ORDER BY ap.starts_at, ap.id LIMIT 50`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ReviewAppointment{}
	for rows.Next() {
		ap, err := scanReviewAppointment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ap)
	}
	return out, rows.Err()
}

// appointmentStatusWords says an appointment's status in a sentence.
func appointmentStatusWords(status string) string {
	switch status {
	case "noshow":
		return "missed"
	case "proposed":
		return "only proposed"
	}
	return status
}

// dueWithoutPlan is when a review was due when none was planned: the
// chosen weeks after the last review held, or after support began.
func (s *Service) dueWithoutPlan(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64, weeks int, fallback time.Time) (time.Time, error) {
	var last anyTime
	a := store.NewArgs(personID)
	if err := tx.QueryRowContext(ctx, "SELECT MAX(rv.held_at) FROM recovery_reviews rv WHERE rv.person_id = $1 AND rv.status = 'held' AND "+
		inScope(p, a, "rv.person_id"), a.Values()...).Scan(&last); err != nil {
		return time.Time{}, err
	}
	var start anyTime
	a = store.NewArgs(personID)
	if err := tx.QueryRowContext(ctx, `SELECT MIN(COALESCE(r.first_contact_at, r.allocated_at)) FROM referrals r
		WHERE r.person_id = $1 AND r.status IN ('allocated', 'active', 'ended') AND `+inScope(p, a, "r.person_id"), a.Values()...).Scan(&start); err != nil {
		return time.Time{}, err
	}
	if due, _, ok := dueAt(anyTime{}, last, start, weeks); ok {
		return due, nil
	}
	return fallback, nil
}

// reviewsOf reads a person's reviews, the planned one first and then the
// newest held, after the caller was checked to see them; limit 0 is all.
func reviewsOf(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64, limit int) ([]Review, error) {
	return loadReviews(ctx, tx, p, personID, 0, limit)
}

// loadReviews reads a person's reviews as reviewsOf does: only the one
// with id only when it is not 0, so a review is found however old it is.
func loadReviews(ctx context.Context, tx *store.Tx, p *app.Principal, personID, only int64, limit int) ([]Review, error) {
	a := store.NewArgs(personID)
	which := ""
	if only != 0 {
		which = " AND rv.id = " + a.Add(only)
	}
	q := `SELECT rv.id, rv.status, rv.due_at, rv.place, rv.attendees, rv.held_at, rv.reviewed, rv.agreed, COALESCE(rv.dialog_session_id, 0),
		COALESCE(u.name, ''), COALESCE(ap.id, 0), ap.starts_at, COALESCE(ap.minutes, 0), COALESCE(ap.place, ''), COALESCE(ap.place_detail, ''), COALESCE(ap.status, ''), COALESCE(wu.name, '')
		FROM recovery_reviews rv LEFT JOIN users u ON u.id = rv.recorded_by_user_id
		LEFT JOIN appointments ap ON ap.id = rv.appointment_id AND ` + appointmentScope(p, a) + ` LEFT JOIN users wu ON wu.id = ap.worker_user_id
		WHERE rv.person_id = $1` + which + ` AND ` + inScope(p, a, "rv.person_id") + ` ORDER BY CASE WHEN rv.status = 'planned' THEN 0 ELSE 1 END, COALESCE(rv.held_at, rv.due_at) DESC, rv.id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := tx.QueryContext(ctx, q, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Review{}
	for rows.Next() {
		r := Review{PersonID: personID}
		var held, apStart sql.NullTime
		var ap ReviewAppointment
		if err := rows.Scan(&r.ID, &r.Status, &r.DueAt, &r.Place, &r.Attendees, &held, &r.Reviewed, &r.Agreed, &r.DialogSessionID, &r.RecordedBy,
			&ap.ID, &apStart, &ap.Minutes, &ap.Place, &ap.PlaceDetail, &ap.Status, &ap.WorkerName); err != nil {
			return nil, err
		}
		if ap.ID != 0 {
			ap.StartsAt = apStart.Time.UTC()
			r.Appointment = &ap
		}
		r.DueAt = r.DueAt.UTC()
		if held.Valid {
			t := held.Time.UTC()
			r.HeldAt = &t
			onTime := !t.After(r.DueAt.Add(OnTimeGrace))
			r.OnTime = &onTime
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListReviews returns a person's reviews, the next one first, audited as
// one read.
func (s *Service) ListReviews(ctx context.Context, p *app.Principal, personID int64) ([]Review, error) {
	out := []Review{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		if out, err = reviewsOf(ctx, tx, p, personID, 0); err != nil {
			return err
		}
		record(actor(p, v), audit.Event{Action: "review.list", SubjectPersonID: personID, ObjectType: "person", ObjectID: fmt.Sprint(personID)})
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermRecoveryPlan, "review.list", "person", personID, "The person")
	}
	return out, nil
}

// GetReview returns one review, audited as a read, for the person or staff
// who may see them; anyone else gets not found.
func (s *Service) GetReview(ctx context.Context, p *app.Principal, id int64) (Review, error) {
	var out Review
	var personID int64
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if err := tx.QueryRowContext(ctx, "SELECT person_id FROM recovery_reviews WHERE id = $1", id).Scan(&personID); err != nil {
			return notVisible(err)
		}
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		one, err := loadReviews(ctx, tx, p, personID, id, 1)
		if err != nil {
			return err
		}
		if len(one) != 1 {
			return notVisible(nil)
		}
		out = one[0]
		record(actor(p, v), audit.Event{Action: "review.read", SubjectPersonID: personID, ObjectType: "review", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermRecoveryPlan, "review.read", "review", id, "The review")
	}
	return out, nil
}

// DueReview is a person whose next review is soon or overdue.
type DueReview struct {
	PersonID    int64     `json:"person_id"`
	PersonName  string    `json:"person_name"`
	ReferralID  int64     `json:"referral_id"`
	TeamName    string    `json:"team_name,omitempty"`
	WorkerName  string    `json:"worker_name,omitempty"`
	DueAt       time.Time `json:"due_at"`
	Planned     bool      `json:"planned" doc:"A date is set; otherwise it is worked out from the last review and the weeks the person chose."`
	Place       string    `json:"place,omitempty"`
	Overdue     bool      `json:"overdue"`
	DaysOverdue int       `json:"days_overdue,omitempty"`
}

// DueSoon is how far ahead a review counts as due: the list of reviews
// due holds those overdue and those due within it.
const DueSoon = 14 * 24 * time.Hour

// dueSQL is the one definition of when a person's next review is due, as
// an SQL moment (store.Dialect.Moment) over the columns named: the planned
// date; else the chosen weeks after the last review held; else the weeks
// after support began; NULL (none due) before anyone has met them. dueAt is
// the same in Go.
func dueSQL(d store.Dialect, planned, lastHeld, weeks, start string) string {
	return "CASE WHEN " + planned + " IS NOT NULL THEN " + d.Moment(planned) +
		" WHEN " + lastHeld + " IS NOT NULL THEN " + d.DaysAfter(lastHeld, weeks+" * 7") +
		" WHEN " + start + " IS NOT NULL THEN " + d.DaysAfter(start, weeks+" * 7") + " END"
}

// dueAt is dueSQL in Go: when the next review is due, and whether one is.
func dueAt(planned, lastHeld, start anyTime, weeks int) (at time.Time, isPlanned, ok bool) {
	every := time.Duration(weeks) * 7 * 24 * time.Hour
	switch {
	case planned.Valid:
		return planned.Time.UTC(), true, true
	case lastHeld.Valid:
		return lastHeld.Time.UTC().Add(every), false, true
	case start.Valid:
		return start.Time.UTC().Add(every), false, true
	}
	return time.Time{}, false, false
}

// maxDue is the most people the list of reviews due holds.
var maxDue = 2000

// ReviewsDue lists the people in active support the caller may see
// (a worker: those allocated to them; a lead: their teams') whose review is
// overdue or due within DueSoon, soonest first, audited as one list naming
// each of them. Whether a review is due is decided in the query (dueSQL),
// before the list is cut short, so none due is left off for others not due.
func (s *Service) ReviewsDue(ctx context.Context, p *app.Principal) ([]DueReview, error) {
	now := s.Clock.Now()
	out := []DueReview{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := store.NewArgs()
		due := dueSQL(tx.Dialect, "x.planned", "x.last_held", "x.weeks", "x.start")
		q := `SELECT x.person_id, x.name, x.referral_id, x.team, x.worker, x.planned, x.place, x.last_held, x.weeks, x.start FROM (
			SELECT r.person_id AS person_id, pe.preferred_name AS name, r.id AS referral_id, COALESCE(t.name, '') AS team, COALESCE(u.name, '') AS worker,
			rv.due_at AS planned, COALESCE(rv.place, '') AS place,
			(SELECT MAX(h.held_at) FROM recovery_reviews h WHERE h.person_id = r.person_id AND h.status = 'held') AS last_held,
			COALESCE(pl.review_weeks, ` + a.Add(s.reviewWeeks()) + `) AS weeks, COALESCE(r.first_contact_at, r.allocated_at) AS start
			FROM referrals r JOIN people pe ON pe.id = r.person_id
			LEFT JOIN teams t ON t.id = r.team_id LEFT JOIN users u ON u.id = r.allocated_worker_id
			LEFT JOIN recovery_reviews rv ON rv.person_id = r.person_id AND rv.status = 'planned'
			LEFT JOIN recovery_plans pl ON pl.person_id = r.person_id
			WHERE r.status IN ('allocated', 'active') AND ` + access.Referrals(p, a) + `) x
			WHERE ` + due + ` <= ` + tx.Dialect.Moment(a.Add(now.Add(DueSoon))) + `
			ORDER BY ` + due + `, x.referral_id LIMIT ` + a.Add(maxDue)
		rows, err := tx.QueryContext(ctx, q, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		seen := map[int64]bool{}
		for rows.Next() {
			var d DueReview
			var planned, lastHeld, start anyTime
			var weeks int
			if err := rows.Scan(&d.PersonID, &d.PersonName, &d.ReferralID, &d.TeamName, &d.WorkerName, &planned, &d.Place, &lastHeld, &weeks, &start); err != nil {
				return err
			}
			if seen[d.PersonID] {
				continue
			}
			seen[d.PersonID] = true
			var ok bool
			if d.DueAt, d.Planned, ok = dueAt(planned, lastHeld, start, weeks); !ok {
				continue
			}
			if d.DueAt.Before(now) {
				d.Overdue = true
				d.DaysOverdue = int(now.Sub(d.DueAt).Hours() / 24)
			}
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		slices.SortStableFunc(out, func(x, y DueReview) int { return x.DueAt.Compare(y.DueAt) })
		ids := make([]int64, len(out))
		for i, d := range out {
			ids[i] = d.PersonID
		}
		record(p.ActorFor(app.PermRecoveryWork), audit.Event{Action: "review.due_list", Subjects: ids, ObjectType: "reviews", ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// ReminderLead is how long before a planned review the reminders go.
const ReminderLead = 7 * 24 * time.Hour

// SendReviewReminders tells the person (in Mutual and by email, if they
// have an account) and their worker (in Mutual) about each planned review
// due within the next week that has not been reminded yet. Each review is
// claimed by setting reminded_at, so several instances running this at
// once remind each person once. It returns how many reviews were reminded.
func (s *Service) SendReviewReminders(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	type due struct {
		id, personID int64
		at           time.Time
	}
	var list []due
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, person_id, due_at FROM recovery_reviews WHERE status = 'planned' AND reminded_at IS NULL
			AND due_at <= $1 AND due_at > $2 ORDER BY due_at LIMIT 500`, now.Add(ReminderLead), now.Add(-24*time.Hour))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.personID, &d.at); err != nil {
				return err
			}
			list = append(list, d)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range list {
		claimed := false
		err := s.DB.Write(ctx, func(tx *store.Tx) error {
			claimed = false
			res, err := tx.ExecContext(ctx, "UPDATE recovery_reviews SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND status = 'planned'", now, d.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil // another instance has it
			}
			when := d.at.In(app.London).Format("Monday 2 January 2006 at 3:04pm")
			when = strings.Replace(when, " at 12:00am", "", 1)
			if uid, err := hasAccount(ctx, tx, d.personID); err != nil {
				return err
			} else if uid != 0 && s.Notify != nil {
				if err := s.Notify.Tell(ctx, tx, uid, 0, notify.OwnReviewReminder{Date: when, Link: s.BaseURL + "/my/plan"}); err != nil {
					return err
				}
				var email string
				if err := tx.QueryRowContext(ctx, "SELECT email FROM users WHERE id = $1", uid).Scan(&email); err != nil {
					return err
				}
				if err := notify.SendEmail(ctx, tx, now, email, notify.OwnReviewReminderEmail{Link: s.BaseURL + "/my/plan"}); err != nil {
					return err
				}
			}
			var worker int64
			err = tx.QueryRowContext(ctx, `SELECT COALESCE(allocated_worker_id, 0) FROM referrals WHERE person_id = $1 AND status IN ('allocated', 'active')
				ORDER BY received_at DESC LIMIT 1`, d.personID).Scan(&worker)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if worker != 0 && s.Notify != nil {
				if err := s.Notify.Tell(ctx, tx, worker, 0, notify.ReviewReminder{Date: when, Link: fmt.Sprintf("%s/people/%d/plan", s.BaseURL, d.personID)}); err != nil {
					return err
				}
				// The worker is told about the person: recorded as seen by them.
				var role string
				if err := tx.QueryRowContext(ctx, "SELECT role FROM memberships WHERE user_id = $1 ORDER BY id LIMIT 1", worker).Scan(&role); err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				if err := audit.Record(ctx, tx, now, app.Actor{UserID: worker, Role: app.Role(role), RequestID: "review-reminders"}, audit.Event{
					Action: "notification.receive", SubjectPersonID: d.personID, ObjectType: "review", ObjectID: fmt.Sprint(d.id)}); err != nil {
					return err
				}
			}
			claimed = true
			return nil
		})
		if err != nil {
			return sent, err
		}
		if claimed {
			sent++
		}
	}
	return sent, nil
}
