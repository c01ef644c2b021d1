// Package support is the support itself: appointments between a person
// and their peer worker (where and when the person chooses), and the
// worker's day — the people they support, who is overdue a contact, and
// their diary.
//
// Who may see what is decided here, once: the person sees and answers
// their own appointments; a peer worker those with the people allocated to
// them; a peer lead those of their teams. Everyone else, a partner worker
// included, gets not found, audited as denied. A worker is never booked
// twice at once: each booking takes the worker's lock before it looks for
// an overlap.
package support

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// Service is the support capability.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	Audit *audit.Log
	// Alerts raises lone-working alerts to a worker's leads.
	Alerts *alert.Service
	// Notify tells a person in Mutual when the service cancels or moves
	// their appointments (FollowMove).
	Notify *notify.Service
	// BaseURL is used in links in email.
	BaseURL string
	// OverdueDays is how long without a contact makes someone overdue when
	// their organisation has not set it (14 when zero).
	OverdueDays int
	// Preferences gives people's choices of where and when to meet, read
	// inside tx for people the caller was checked to see, in one go
	// (wired to the matching capability's choice profiles in cmd/mutual;
	// someone without choices may be absent). Nil: none.
	Preferences func(ctx context.Context, tx *store.Tx, personIDs []int64) (map[int64]Preferences, error)
}

// Preferences are a person's choices of where and when to meet.
type Preferences struct {
	Places []string `json:"places,omitempty" doc:"Where to meet, as place codes, in the person's order."`
	Days   []string `json:"days,omitempty" doc:"Days that suit: mon … sun."`
	Times  []string `json:"times,omitempty" doc:"Times that suit: morning, afternoon, evening."`
}

func (s *Service) overdueDays() int {
	if s.OverdueDays > 0 {
		return s.OverdueDays
	}
	return 14
}

// Places are where, or how, a person and their worker meet.
var Places = app.MeetingPlaces

// PlaceLabel is a place code in words.
func PlaceLabel(code string) string { return app.ChoiceLabel(Places, code) }

// Visit reports whether a place means the worker goes out alone to meet
// the person (at home or in the community): a lone-working visit.
func Visit(place string) bool { return place == "home" || place == "community" }

// preferences reads the person's choices, or none.
func (s *Service) preferences(ctx context.Context, tx *store.Tx, personID int64) (Preferences, error) {
	all, err := s.preferencesOf(ctx, tx, []int64{personID})
	return all[personID], err
}

// preferencesOf reads several people's choices at once (absent: none).
func (s *Service) preferencesOf(ctx context.Context, tx *store.Tx, personIDs []int64) (map[int64]Preferences, error) {
	if s.Preferences == nil || len(personIDs) == 0 {
		return map[int64]Preferences{}, nil
	}
	return s.Preferences(ctx, tx, personIDs)
}

// PreferencesFromChoices adapts a reader of people's choices (the matching
// capability's) to Preferences, for wiring.
func PreferencesFromChoices[C any](read func(context.Context, *store.Tx, []int64) (map[int64]C, error), of func(C) Preferences) func(context.Context, *store.Tx, []int64) (map[int64]Preferences, error) {
	return func(ctx context.Context, tx *store.Tx, ids []int64) (map[int64]Preferences, error) {
		got, err := read(ctx, tx, ids)
		out := make(map[int64]Preferences, len(got))
		for id, c := range got {
			out[id] = of(c)
		}
		return out, err
	}
}

// lockKey is the advisory lock that serialises bookings of one worker on
// PostgreSQL ("supp" and the account id; the store's keys are "mutual" and
// a number and matching's "matc", so they cannot meet).
func lockKey(workerID int64) int64 { return 0x7375_7070<<32 | workerID&0xffff_ffff }

// denied answers a record the caller may not see as not found, audited.
func (s *Service) denied(ctx context.Context, err error, p *app.Principal, perm app.Permission, action, objectType string, id int64, what string) error {
	return access.Denied(ctx, s.Audit, p, perm, action, objectType, id, what, err)
}

// self reports whether the caller acts as the person personID (0: their
// own record).
func self(p *app.Principal, personID int64) bool {
	return p != nil && p.PersonID != 0 && p.HasRole(app.RolePerson, app.RoleCarer) && (personID == 0 || personID == p.PersonID)
}

// supportRef is a person's open referral with its allocated worker.
type supportRef struct {
	ID, PersonID, TeamID, WorkerID int64
	WorkerName                     string
}

// openReferral finds the person's open referral that has a worker
// allocated, within the caller's scope of referrals. With lock it holds
// the referral's row until commit, so a reallocation (or the referral
// closing) waits for the write that relies on its worker, and one made
// just before is seen.
func openReferral(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64, lock bool) (supportRef, error) {
	a := store.NewArgs(personID)
	q := `SELECT r.id, r.person_id, COALESCE(r.team_id, 0), r.allocated_worker_id, COALESCE(u.name, '')
		FROM referrals r LEFT JOIN users u ON u.id = r.allocated_worker_id
		WHERE r.person_id = $1 AND r.status IN ('allocated', 'active') AND r.allocated_worker_id IS NOT NULL AND ` + access.Referrals(p, a) + `
		ORDER BY r.id DESC LIMIT 1`
	if lock && tx.Dialect == store.Postgres {
		q += " FOR UPDATE OF r"
	}
	var r supportRef
	err := tx.QueryRowContext(ctx, q, a.Values()...).Scan(&r.ID, &r.PersonID, &r.TeamID, &r.WorkerID, &r.WorkerName)
	if errors.Is(err, sql.ErrNoRows) {
		return r, app.Errorf(app.CodeConflict, "Appointments are made once a peer worker is allocated, and there is none yet")
	}
	return r, err
}

// stillTheirWorker checks, inside a write that locks the referral's row
// until commit, that an appointment's worker is still the person's
// allocated worker on the same open referral: one made before a
// reallocation (or before the referral closed) is not booked again.
func stillTheirWorker(ctx context.Context, tx *store.Tx, p *app.Principal, a Appointment) error {
	ref, err := openReferral(ctx, tx, p, a.PersonID, true)
	if app.IsCode(err, app.CodeConflict) || (err == nil && (ref.ID != a.ReferralID || ref.WorkerID != a.WorkerID)) {
		return app.Errorf(app.CodeConflict, "%s is no longer the peer worker for this appointment's referral, so it cannot be booked again. Arrange a new appointment instead.", workerLabel(a))
	}
	return err
}

func workerLabel(a Appointment) string {
	if a.WorkerName == "" {
		return "The worker"
	}
	return a.WorkerName
}

// mayWork reports whether a staff caller works with an appointment of
// this worker and team: it is theirs, or they lead the team.
func mayWork(p *app.Principal, workerID, teamID int64) bool {
	if !p.Can(app.PermAppointments) {
		return false
	}
	return (p.HasRole(app.RolePeerWorker) && workerID == p.UserID) || (teamID != 0 && access.LeadsTeam(p, teamID))
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// London formats t as the pages show it, for messages.
func london(t time.Time) string { return t.In(app.London).Format("15:04 on Monday 2 January") }
