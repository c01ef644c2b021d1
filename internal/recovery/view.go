package recovery

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// PlanView is the one page a person's plan is: the plan, what changed and
// by whom, their goals, their latest DIALOG+ ratings against the time
// before, their next review and the reviews held.
type PlanView struct {
	PersonID   int64         `json:"person_id"`
	PersonName string        `json:"person_name"`
	Plan       Plan          `json:"plan"`
	History    []PlanVersion `json:"history" doc:"Every change, newest first: who, when, and what."`
	Goals      []Goal        `json:"goals"`
	Dialog     *Summary      `json:"dialog,omitempty" doc:"The latest DIALOG+ ratings compared with the time before."`
	NextReview *Review       `json:"next_review,omitempty"`
	Reviews    []Review      `json:"reviews" doc:"Reviews held, newest first (up to 20)."`
	// Self is set when the caller is the person; StaffView when staff who
	// may see them (and so may draft with them).
	Self      bool `json:"self"`
	StaffView bool `json:"staff_view"`
	// ReviewDue is when the next review is due when none is planned (zero
	// when not known).
	ReviewDue *time.Time `json:"review_due,omitempty"`
	// Appointments are, for staff, the person's appointments from 90 days
	// ago that a review can be held at.
	Appointments []ReviewAppointment `json:"appointments,omitempty" doc:"Staff only: the person's appointments from 90 days ago on (not cancelled or missed), which a review can be linked to."`
	// PersonHasAccount says whether the person can sign in themselves:
	// only then do they give consent to share from their own account.
	PersonHasAccount bool `json:"person_has_account"`
}

// GetPlan returns a person's plan page as the caller may see it, audited
// as one read. The person sees everything; staff who may see them see all
// but the crisis plan and advance choices, which they see only when the
// person shares them with the care team. Anyone else: not found.
func (s *Service) GetPlan(ctx context.Context, p *app.Principal, personID int64) (PlanView, error) {
	pv := PlanView{PersonID: personID, History: []PlanVersion{}, Goals: []Goal{}, Reviews: []Review{}}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		pv.Self, pv.StaffView = v.self, v.staff
		uid, err := hasAccount(ctx, tx, personID)
		if err != nil {
			return err
		}
		pv.PersonHasAccount = uid != 0
		if pv.PersonName, err = personName(ctx, tx, p, personID); err != nil {
			return err
		}
		row, version, updated, by, exists, err := loadPlan(ctx, tx, p, personID, false)
		if err != nil {
			return err
		}
		if !exists {
			row.Weeks = s.reviewWeeks()
		}
		pv.Plan = row.view(personID, version, v)
		if exists {
			pv.Plan.UpdatedAt = &updated
			if pv.Plan.UpdatedBy, err = userName(ctx, tx, by); err != nil {
				return err
			}
		}
		if pv.History, err = planHistory(ctx, tx, p, personID, v, row.Share); err != nil {
			return err
		}
		if pv.Goals, err = goalsOf(ctx, tx, p, personID); err != nil {
			return err
		}
		sessions, err := sessionsOf(ctx, tx, p, personID, 2)
		if err != nil {
			return err
		}
		if sm, ok := Summarise(sessions); ok {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM dialog_sessions WHERE person_id = $1", personID).Scan(&n); err != nil {
				return err
			}
			sm.Sessions = n
			pv.Dialog = &sm
		}
		reviews, err := reviewsOf(ctx, tx, p, personID, 21)
		if err != nil {
			return err
		}
		for i := range reviews {
			if reviews[i].Status == "planned" {
				pv.NextReview = &reviews[i]
			} else if len(pv.Reviews) < 20 {
				pv.Reviews = append(pv.Reviews, reviews[i])
			}
		}
		if v.staff {
			if pv.Appointments, err = appointmentsForReview(ctx, tx, p, personID, s.Clock.Now()); err != nil {
				return err
			}
		}
		if pv.NextReview == nil {
			due, err := s.dueWithoutPlan(ctx, tx, p, personID, row.Weeks, time.Time{})
			if err != nil {
				return err
			}
			if !due.IsZero() {
				pv.ReviewDue = &due
			}
		}
		record(actor(p, v), audit.Event{Action: "plan.read", SubjectPersonID: personID, ObjectType: "recovery_plan", ObjectID: fmt.Sprint(personID)})
		return nil
	})
	if err != nil {
		return pv, s.denied(ctx, err, p, app.PermRecoveryPlan, "plan.read", "person", personID, "The person")
	}
	return pv, nil
}

// NoPlanYet is recorded when someone opens their own plan before any
// record of them exists: there is nothing to show, and the visit is still
// audited like any other.
func (s *Service) NoPlanYet(ctx context.Context, p *app.Principal) error {
	return s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		record(p.ActorFor(app.PermRecoveryPlan), audit.Event{Action: "plan.read", ObjectType: "recovery_plan", ObjectID: "none"})
		return nil
	})
}

// OwnRecord returns the caller's own person record, making one for their
// account first if they have none (someone who signed up and starts their
// plan before anyone referred them). Only a person or carer has one.
func (s *Service) OwnRecord(ctx context.Context, p *app.Principal) (int64, error) {
	if p == nil || !p.HasRole(app.RolePerson, app.RoleCarer) {
		return 0, app.Errorf(app.CodeForbidden, "Only people who use services keep a plan here.")
	}
	if p.PersonID != 0 {
		return p.PersonID, nil
	}
	if s.Accounts == nil {
		return 0, app.Errorf(app.CodeConflict, "Your account has no record yet.")
	}
	var id int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if id, err = s.Accounts.OwnPerson(ctx, tx, p, s.Clock.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), p.ActorFor(app.PermRecoveryPlan), audit.Event{Action: "person.create", SubjectPersonID: id,
			ObjectType: "person", ObjectID: fmt.Sprint(id)})
	})
	return id, err
}
