package referral

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Detail is one referral with its history, as the caller may see it.
type Detail struct {
	Referral   Referral               `json:"referral"`
	History    []Event                `json:"history"`
	Contacts   []Contact              `json:"contacts"`
	Earlier    []Referral             `json:"earlier_referrals"`
	Duplicates []person.PossibleMatch `json:"possible_duplicates,omitempty"`
	// Limited is set when the caller is a carer the person has not agreed to
	// share updates with: only the outline is shown.
	Limited bool `json:"limited"`
	// Handover is what the person agreed a new peer worker sees of their
	// support so far, for those who see the support; MayRecordHandover when
	// the caller may record it on the person's say.
	Handover          *HandoverSharing `json:"handover_sharing,omitempty"`
	MayRecordHandover bool             `json:"may_record_handover_sharing"`
	// Moves are the transitions the caller may make now.
	Moves []Status `json:"allowed_moves"`
	// WaitsForAgreement is set while a referral made without the person's
	// agreement waits for a clinician or peer lead to record that they have
	// now agreed, or why the team goes ahead; MayRecordAgreement when the
	// caller may record it.
	WaitsForAgreement  bool `json:"waits_for_agreement"`
	MayRecordAgreement bool `json:"may_record_agreement"`
	// Contact is how to get in touch with the person, for those who may
	// see it (MayContact).
	Contact *ContactDetails `json:"contact,omitempty"`
	// Alerts are the referral's alerts, newest first, for staff.
	Alerts []alert.Alert `json:"alerts,omitempty"`
	// CanSetUrgency: the caller may change the urgency (a lead of its team).
	CanSetUrgency bool `json:"can_set_urgency"`
}

// ContactDetails are how to get in touch with the person a referral is for.
type ContactDetails struct {
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	Preference string `json:"contact_preference,omitempty" doc:"phone, text, email or letter"`
	Times      string `json:"contact_times,omitempty"`
}

// visibleReferral loads a referral in the caller's scope inside tx,
// optionally locking it for update.
func (s *Service) visibleReferral(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, lock bool) (Referral, error) {
	a := store.NewArgs(id)
	q := "SELECT " + referralColumns + referralFrom + " WHERE r.id = $1 AND " + access.Referrals(p, a)
	if lock && tx.Dialect == store.Postgres {
		q += " FOR UPDATE OF r"
	}
	r, err := s.scanReferral(tx.QueryRowContext(ctx, q, a.Values()...))
	if errors.Is(err, sql.ErrNoRows) {
		return r, access.ErrNotVisible
	}
	return r, err
}

// GetReferral loads a referral with its history, contacts and earlier
// referrals for the same person, audited as a read. A referral the caller
// may not see is not found.
func (s *Service) GetReferral(ctx context.Context, p *app.Principal, id int64) (Detail, error) {
	var d Detail
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		r, err := s.visibleReferral(ctx, tx, p, id, false)
		if err != nil {
			return err
		}
		d.Referral = r
		d.Limited = limitedFor(p, &r)
		if !d.Limited {
			if d.History, err = s.history(ctx, tx, id); err != nil {
				return err
			}
			// What the support was, only for those who see it: the peer
			// team and clinicians (never a partner or other referrer who
			// only follows the referral).
			d.Contacts = []Contact{}
			if seesSupport(p) {
				if d.Contacts, err = s.contacts(ctx, tx, p, id, false); err != nil {
					return err
				}
				h, err := handoverSharing(ctx, tx, id)
				if err != nil {
					return err
				}
				d.Handover = &h
				_, d.MayRecordHandover = mayRecordHandoverChoice(p, &r)
			}
			if d.Earlier, err = s.referralsWhere(ctx, tx, p, store.NewArgs(r.PersonID, r.ID), "r.person_id = $1 AND r.id <> $2", "r.received_at DESC", 20, 0); err != nil {
				return err
			}
			d.WaitsForAgreement = r.Consent == "not_obtained" && r.ProceedReason == "" && !r.Status.Closed()
			if d.WaitsForAgreement {
				_, d.MayRecordAgreement = mayRecordConsent(p, &r)
			}
			for _, to := range Next(r.Status) {
				if _, err := MayMove(p, &r, to); err == nil && !(d.WaitsForAgreement && waitsForConsent(&r, to)) {
					d.Moves = append(d.Moves, to)
				}
			}
			if leads(p, r.TeamID) && r.Status == Received {
				if d.Duplicates, err = s.duplicatesOf(ctx, tx, p, r.PersonID); err != nil {
					return err
				}
			}
			contact, err := MayContact(ctx, tx, p, &r)
			if err != nil {
				return err
			}
			if contact {
				var c ContactDetails
				if err := tx.QueryRowContext(ctx, "SELECT pe.phone, pe.email, pe.contact_preference, pe.contact_times FROM people pe WHERE pe.id = $1",
					r.PersonID).Scan(&c.Phone, &c.Email, &c.Preference, &c.Times); err != nil {
					return err
				}
				d.Contact = &c
			}
			if p.IsStaff() {
				if d.Alerts, err = alert.ForReferral(ctx, tx, r.ID, s.Clock.Now()); err != nil {
					return err
				}
			}
			d.CanSetUrgency = leads(p, r.TeamID) && !r.Status.Closed()
		} else {
			d.Referral = outline(r)
		}
		shown := make([]int64, len(d.Duplicates))
		for i, m := range d.Duplicates {
			shown[i] = m.PersonID
		}
		record(actor(p, readingAs(p, &r)), audit.Event{
			Action: "referral.read", SubjectPersonID: r.PersonID, Subjects: shown, ObjectType: "referral", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return d, s.denied(ctx, err, p, app.PermReferralView, "referral.read", "referral", id, "The referral")
	}
	return d, nil
}

// outline keeps only what a carer may see without the person's agreement.
func outline(r Referral) Referral {
	return Referral{ID: r.ID, Reference: r.Reference, Source: r.Source, ReceivedAt: r.ReceivedAt,
		PersonName: r.PersonName, ReferrerUserID: r.ReferrerUserID, ReferrerName: r.ReferrerName}
}

// duplicatesOf offers the people, among those the caller may already see,
// who may be the referral's person: a referral with someone else's phone
// number must not open a search of everyone.
func (s *Service) duplicatesOf(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) ([]person.PossibleMatch, error) {
	return person.MatchesOf(ctx, tx, p, personID)
}

func (s *Service) history(ctx context.Context, tx *store.Tx, id int64) ([]Event, error) {
	rows, err := tx.QueryContext(ctx, `SELECT e.at, COALESCE(u.name, ''), e.actor_role, e.from_status, e.to_status, e.kind, e.reason, e.note
		FROM referral_events e LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.referral_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.ActorName, &e.ActorRole, &e.From, &e.To, &e.Kind, &e.Reason, &e.Note); err != nil {
			return nil, err
		}
		if e.ActorName == "" {
			e.ActorName = "The person, using the public form"
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Transition moves a referral to a new status, recording who, when and
// why. It is refused with a conflict when the move is not allowed from the
// current status or when someone else changed the referral since the
// caller's version; with forbidden when the caller's role may not make it.
// The referrer is told (in Mutual and by email) about acceptance, decline,
// redirection, allocation and ending.
func (s *Service) Transition(ctx context.Context, p *app.Principal, id int64, m Move) (Referral, error) {
	var after Referral
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		after, err = s.transitionTx(ctx, tx, p, id, m)
		return err
	})
	if err != nil {
		return Referral{}, s.denied(ctx, err, p, app.PermReferralView, "referral.transition", "referral", id, "The referral")
	}
	return after, nil
}

// AllocateTx allocates a referral to a worker inside the caller's
// transaction, exactly as Transition would (the same checks, history,
// notifications, audit and AllocationRules), for capabilities that
// allocate several referrals at once or together with their own records.
// m.To is set to allocated. A referral the caller may not see is
// access.ErrNotVisible, which the caller answers as not found; other
// refusals are application errors, and tx must then be rolled back.
func (s *Service) AllocateTx(ctx context.Context, tx *store.Tx, p *app.Principal, referralID int64, m Move) (Referral, error) {
	m.To = Allocated
	return s.transitionTx(ctx, tx, p, referralID, m)
}

func (s *Service) transitionTx(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, m Move) (Referral, error) {
	now := s.Clock.Now()
	r, err := s.visibleReferral(ctx, tx, p, id, true)
	if err != nil {
		return Referral{}, err
	}
	if limitedFor(p, &r) {
		return Referral{}, access.ErrNotVisible
	}
	if m.Version != 0 && m.Version != r.Version {
		return Referral{}, app.Errorf(app.CodeConflict, "Someone else changed this referral at %s: it is now %s. Check the latest details and try again.",
			r.UpdatedAt.In(app.London).Format("3:04pm on 2 January"), strings.ToLower(r.Status.Label()))
	}
	if err := m.Check(r.Status); err != nil {
		return Referral{}, err
	}
	via, err := MayMove(p, &r, m.To)
	if err != nil {
		return Referral{}, err
	}
	if waitsForConsent(&r, m.To) {
		return Referral{}, app.Errorf(app.CodeConflict, "The person has not agreed to this referral. Before the team takes it on, a clinician or peer lead "+
			"must record that they have now agreed, or why the team is going ahead without their agreement.")
	}
	if m.To == Accepted && m.TeamID != 0 && r.TeamID == 0 {
		if err := s.notOwnTeam(ctx, tx, r.PersonID, m.TeamID, "team_id"); err != nil {
			return Referral{}, err
		}
	}
	if err := s.applyMove(ctx, tx, p, via, &r, m, now); err != nil {
		return Referral{}, err
	}
	// The caller is answered with the referral as they may now see it:
	// a move can take it out of their scope (a peer worker's team
	// waiting list, once someone else is allocated).
	after, err := s.visibleReferral(ctx, tx, p, id, false)
	if errors.Is(err, access.ErrNotVisible) {
		after = outline(r)
		after.Status, after.FHIRStatus = m.To, m.To.FHIRStatus()
		return after, nil
	}
	return after, err
}

// AllocationRules are checked and recorded, inside the allocation's own
// transaction, by the capability that owns caseload caps and choices
// (matching) on every allocation however it is made: one rule for the
// referral page, the API and a batch plan alike.
type AllocationRules interface {
	// CheckAllocation may refuse an allocation (an application error:
	// conflict when the worker has no free place and no reason was given)
	// before anything is written. It must make its decision atomic with
	// the allocation (a lock on the worker, held to commit).
	CheckAllocation(ctx context.Context, tx *store.Tx, p *app.Principal, a Allocation) error
	// RecordAllocation records what the allocation met of the person's
	// choices, once the referral is allocated.
	RecordAllocation(ctx context.Context, tx *store.Tx, p *app.Principal, a Allocation) error
}

// MoveFollower is told of every move of a referral inside the move's own
// transaction, so what hangs off a referral in another capability keeps
// step with it (support: a closed referral's appointments are cancelled,
// a reallocated one's go to the new worker or are cancelled). An error
// undoes the move.
type MoveFollower interface {
	FollowMove(ctx context.Context, tx *store.Tx, p *app.Principal, m FollowedMove) error
}

// FollowedMove is one move as a MoveFollower sees it.
type FollowedMove struct {
	ReferralID, PersonID int64
	Reference            string
	From, To             Status
	// The worker before and after the move (0: none).
	OldWorkerID, NewWorkerID int64
	TeamID                   int64
	// PersonKnows: the person knows of the referral, so Mutual may tell
	// them what changed.
	PersonKnows bool
	// Actor is the mover as the audit trail names them (the role the move
	// was made in).
	Actor app.Actor
	At    time.Time
}

// Allocation describes one allocation to AllocationRules.
type Allocation struct {
	Referral      Referral // as it was before the allocation
	WorkerID      int64
	WorkerName    string
	OverCapReason string
	At            time.Time
}

func (s *Service) applyMove(ctx context.Context, tx *store.Tx, p *app.Principal, via app.Membership, r *Referral, m Move, now time.Time) error {
	teamID := r.TeamID
	if m.To == Accepted && r.TeamID == 0 {
		if m.TeamID == 0 {
			return app.Invalid(app.FieldError{Field: "team_id", Message: "Choose the team whose waiting list this referral joins"})
		}
		ok, err := s.teamExists(ctx, tx, m.TeamID)
		if err != nil {
			return err
		}
		if !ok || !leads(p, m.TeamID) {
			return app.Invalid(app.FieldError{Field: "team_id", Message: "Choose one of your teams"})
		}
		teamID = m.TeamID
	}
	worker := r.AllocatedWorkerID
	var workerName string
	switch m.To {
	case Allocated:
		a := store.NewArgs(m.WorkerID)
		err := tx.QueryRowContext(ctx, "SELECT u.name FROM users u WHERE u.id = $1 AND "+allocatable(a, teamID), a.Values()...).Scan(&workerName)
		if errors.Is(err, sql.ErrNoRows) {
			return app.Invalid(app.FieldError{Field: "worker_id", Message: "Choose a peer worker in this referral's team"})
		} else if err != nil {
			return err
		}
		worker = m.WorkerID
		if s.Allocation != nil {
			if err := s.Allocation.CheckAllocation(ctx, tx, p, Allocation{Referral: *r, WorkerID: worker, WorkerName: workerName,
				OverCapReason: m.OverCapReason, At: now}); err != nil {
				return err
			}
		}
	case Accepted:
		worker = 0
	}
	res, err := tx.ExecContext(ctx, `UPDATE referrals SET status = $1, version = version + 1, team_id = $2, allocated_worker_id = $3,
		status_reason = CASE WHEN $4 = '' THEN status_reason ELSE $4 END,
		status_note = CASE WHEN $5 = '' THEN status_note ELSE $5 END,
		redirected_to = CASE WHEN $6 = '' THEN redirected_to ELSE $6 END,
		redirect_message = CASE WHEN $7 = '' THEN redirect_message ELSE $7 END,
		outcome_summary = CASE WHEN $8 = '' THEN outcome_summary ELSE $8 END,
		accepted_at = CASE WHEN $1 = 'accepted' AND accepted_at IS NULL THEN $9 ELSE accepted_at END,
		allocated_at = CASE WHEN $1 = 'allocated' THEN $9 ELSE allocated_at END,
		first_contact_at = CASE WHEN $1 = 'active' AND first_contact_at IS NULL THEN $9 ELSE first_contact_at END,
		closed_at = CASE WHEN $1 IN ('declined', 'redirected', 'ended', 'withdrawn') THEN $9 ELSE closed_at END,
		ending = CASE WHEN $12 = '' THEN ending ELSE $12 END,
		what_helped = CASE WHEN $13 = '' THEN what_helped ELSE $13 END,
		what_helped_at = CASE WHEN $13 = '' THEN what_helped_at ELSE $9 END,
		updated_at = $9
		WHERE id = $10 AND version = $11`,
		string(m.To), nullID(teamID), nullID(worker), m.Reason, m.Note, m.RedirectedTo, m.RedirectMessage, m.OutcomeSummary,
		now, r.ID, r.Version, m.Ending, m.WhatHelped)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return app.Errorf(app.CodeConflict, "Someone else changed this referral at the same moment. Check the latest details and try again.")
	}
	if m.To == Allocated {
		if err := recordHandover(ctx, tx, r, worker, now); err != nil {
			return err
		}
	}
	if m.To == Active {
		// Its first contact may be now: equity counts the person as started.
		if err := caseload.Recount(ctx, tx, []int64{r.PersonID}); err != nil {
			return err
		}
	}
	// The support report's day counts follow the referral to its team.
	if err := moveTeamCounts(ctx, tx, r.ID, r.TeamID, teamID); err != nil {
		return err
	}
	note := m.Note
	switch m.To {
	case Allocated:
		note = strings.TrimSpace("Allocated to " + workerName + ". " + note)
	case Redirected:
		note = strings.TrimSpace("Passed to " + m.RedirectedTo + ". " + note)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO referral_events (referral_id, at, actor_user_id, actor_role, from_status, to_status, reason, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.ID, now, p.UserID, string(via.Role), string(r.Status), string(m.To), m.Reason, note); err != nil {
		return err
	}
	if teamID != r.TeamID && teamID != 0 {
		// Its open alerts go with it: the new team's leads respond.
		if err := alert.MoveToTeam(ctx, tx, r.ID, teamID); err != nil {
			return err
		}
	}
	for _, f := range s.Followers {
		if err := f.FollowMove(ctx, tx, p, FollowedMove{ReferralID: r.ID, PersonID: r.PersonID, Reference: r.Reference, From: r.Status, To: m.To,
			OldWorkerID: r.AllocatedWorkerID, NewWorkerID: worker, TeamID: teamID, PersonKnows: (r.PersonKnows || r.Source == SourceSelf) && m.Reason != ReasonDied, Actor: actor(p, via), At: now}); err != nil {
			return err
		}
	}
	if err := s.notifyReferrer(ctx, tx, p, r, m, workerName, now); err != nil {
		return err
	}
	if err := s.notifyPerson(ctx, tx, p, r, m, workerName, now); err != nil {
		return err
	}
	if err := s.notifyWorker(ctx, tx, p, r, m, now); err != nil {
		return err
	}
	if m.To == Allocated && s.Allocation != nil {
		if err := s.Allocation.RecordAllocation(ctx, tx, p, Allocation{Referral: *r, WorkerID: worker, WorkerName: workerName,
			OverCapReason: m.OverCapReason, At: now}); err != nil {
			return err
		}
	}
	return audit.Record(ctx, tx, now, actor(p, via), audit.Event{
		Action: "referral.transition." + string(m.To), SubjectPersonID: r.PersonID, ObjectType: "referral", ObjectID: fmt.Sprint(r.ID)})
}

// Worker is a peer worker a referral can be allocated to.
type Worker struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// allocatable is the one rule for who may be allocated a team's referral,
// as a condition on users u: an active account that is a peer worker or
// peer lead in the team.
func allocatable(a *store.Args, teamID int64) string { return allocatableIn(a, a.Add(teamID)) }

// allocatableIn is allocatable for the team given by an SQL expression (a
// placeholder or a column).
func allocatableIn(a *store.Args, team string) string {
	return "u.status = 'active' AND EXISTS (SELECT 1 FROM memberships mm WHERE mm.user_id = u.id AND mm.team_id = " + team +
		" AND mm.role IN " + store.In(a, app.RolePeerWorker, app.RolePeerLead) + ")"
}

// TeamWorker is a worker who may be allocated a team's referrals.
type TeamWorker struct {
	TeamID int64
	Worker
}

// WorkersIn lists, inside tx, the workers each of the teams' referrals can
// be allocated to (the same rule as every allocation), by team and name.
func WorkersIn(ctx context.Context, tx *store.Tx, teamIDs []int64) ([]TeamWorker, error) {
	a := &store.Args{}
	rows, err := tx.QueryContext(ctx, `SELECT t.id, u.id, u.name FROM teams t, users u
		WHERE t.id IN `+store.In(a, teamIDs...)+` AND `+allocatableIn(a, "t.id")+` ORDER BY t.id, u.name, u.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TeamWorker
	for rows.Next() {
		var w TeamWorker
		if err := rows.Scan(&w.TeamID, &w.ID, &w.Name); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Workers lists the peer workers a team's referrals can be allocated to,
// by name.
func (s *Service) Workers(ctx context.Context, teamID int64) ([]Worker, error) {
	a := &store.Args{}
	rows, err := s.DB.Query(ctx, "SELECT u.id, u.name FROM users u WHERE "+allocatable(a, teamID)+" ORDER BY u.name, u.id", a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Worker
	for rows.Next() {
		var w Worker
		if err := rows.Scan(&w.ID, &w.Name); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// notifyReferrer tells whoever made the referral about the steps they care
// about. Email carries no personal details: only the reference and a link.
// A referrer hears nothing unless the person agreed (and still agrees) to
// share updates with them; the person themselves is told by notifyPerson.
func (s *Service) notifyReferrer(ctx context.Context, tx *store.Tx, p *app.Principal, r *Referral, m Move, workerName string, now time.Time) error {
	n := notify.ReferralUpdate{Reference: r.Reference, To: string(m.To), RedirectedTo: m.RedirectedTo, RedirectMessage: m.RedirectMessage,
		WorkerFirstName: firstName(workerName), OutcomeSummary: m.OutcomeSummary}
	switch m.To {
	case Accepted, Redirected, Allocated:
	case Declined:
		n.Reason = ReasonLabel(DeclineReasons, m.Reason)
	case Ended:
		n.Reason = ReasonLabel(EndReasons, m.Reason)
	default:
		return nil
	}
	if r.ReferrerUserID == 0 || r.ReferrerUserID == p.UserID || !r.ShareWithReferrer || r.Source == SourceSelf || r.ForCarer {
		return nil
	}
	if err := s.Notify.Tell(ctx, tx, r.ReferrerUserID, r.ID, n); err != nil {
		return err
	}
	// The notification says what happened to the person's referral; the
	// referrer is the one who reads it.
	if err := s.auditNotification(ctx, tx, r.ReferrerUserID, r.PersonID, r.ID, now, p.RequestID); err != nil {
		return err
	}
	var email string
	if err := tx.QueryRowContext(ctx, "SELECT email FROM users WHERE id = $1 AND status = 'active'", r.ReferrerUserID).Scan(&email); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}
	return notify.SendEmail(ctx, tx, now, email, notify.ReferralUpdateEmail{Reference: r.Reference, Status: strings.ToLower(m.To.Label()),
		Link: fmt.Sprintf("%s/referrals/%d", s.BaseURL, r.ID)})
}

// firstName is the first word of a name, for telling people who their
// worker is without more than they need.
func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}

// auditNotification records that a notification about a person goes to
// an account, attributed to its reader so the person sees who was told.
func (s *Service) auditNotification(ctx context.Context, tx *store.Tx, userID, personID, referralID int64, now time.Time, requestID string) error {
	var role string
	err := tx.QueryRowContext(ctx, "SELECT role FROM memberships WHERE user_id = $1 ORDER BY id LIMIT 1", userID).Scan(&role)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return audit.Record(ctx, tx, now, app.Actor{UserID: userID, Role: app.Role(role), RequestID: requestID}, audit.Event{
		Action: "notification.receive", SubjectPersonID: personID, ObjectType: "referral", ObjectID: fmt.Sprint(referralID)})
}

// peopleOf lists the people of referrals, for the audit trail.
func peopleOf(rs []Referral) []int64 {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.PersonID
	}
	return ids
}

// NewContact is a contact made with the person.
type NewContact struct {
	At      time.Time `json:"at" required:"true" doc:"When the contact happened (RFC 3339)."`
	Mode    string    `json:"mode" required:"true" doc:"in_person, phone, video, text_email or group"`
	Minutes int       `json:"minutes,omitempty" doc:"How long it lasted, in minutes."`
	Note    string    `json:"note,omitempty" doc:"A note the person can read."`
	// SupportTypes are what kind of support it gave, as codes.
	SupportTypes []string `json:"support_types,omitempty" doc:"emotional, practical, social, care (specific to care), recovery (specific to recovery); several may apply."`
	// Setting is where it happened; the team's setting when left out.
	Setting string `json:"setting,omitempty" doc:"community, acute_ward, secure_ward, crisis, camhs_transition, partner or peer_group; the team's setting when left out."`
	// AppointmentID is the appointment the contact records, if any.
	AppointmentID int64 `json:"appointment_id,omitempty" doc:"The appointment this contact records (with this referral's person)."`
}

// RecordContact records a contact with the person on a referral: support
// while they wait, or during peer support. The first contact sets the
// referral's first-contact time. Only the peer team may record contacts.
func (s *Service) RecordContact(ctx context.Context, p *app.Principal, referralID int64, c NewContact) (Contact, error) {
	now := s.Clock.Now()
	c.Note = strings.TrimSpace(c.Note)
	var problems app.Problems
	switch {
	case c.At.IsZero():
		problems.Add("at", "Enter when the contact happened")
	case c.At.After(now.Add(5 * time.Minute)):
		problems.Add("at", "The contact must be in the past")
	}
	if !hasReason(ContactModes, c.Mode) {
		problems.Add("mode", "Choose how the contact happened")
	}
	if c.Minutes < 0 || c.Minutes > 24*60 {
		problems.Add("minutes", "Minutes must be between 0 and 1,440")
	}
	problems.CheckLen("note", c.Note, maxText, "The note")
	c.SupportTypes = slices.Compact(slices.Sorted(slices.Values(c.SupportTypes)))
	for _, t := range c.SupportTypes {
		if !hasReason(SupportTypes, t) {
			problems.Add("support_types", "Choose the kinds of support from the list")
			break
		}
	}
	if c.Setting != "" && !account.Setting(c.Setting).Valid() {
		problems.Add("setting", "Choose where the contact happened")
	}
	if err := problems.Err(); err != nil {
		return Contact{}, err
	}
	var out Contact
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := s.visibleReferral(ctx, tx, p, referralID, true)
		if err != nil {
			return err
		}
		if !p.Can(app.PermReferralWork) {
			return access.ErrNotVisible
		}
		if r.Status.Closed() {
			return app.Errorf(app.CodeConflict, "This referral is %s, so contacts can no longer be added to it", strings.ToLower(r.Status.Label()))
		}
		if c.At.Before(r.ReceivedAt.Add(-time.Minute)) {
			return app.Invalid(app.FieldError{Field: "at", Message: "The contact must be after the referral was made"})
		}
		at := c.At.UTC().Truncate(time.Microsecond)
		// Not written back into c: a retried attempt reads the referral again.
		setting := cmp.Or(c.Setting, r.Setting)
		if c.AppointmentID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM appointments WHERE id = $1 AND referral_id = $2", c.AppointmentID, r.ID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return app.Invalid(app.FieldError{Field: "appointment_id", Message: "Choose one of this referral's appointments"})
			}
		}
		// One contact records one appointment (the index
		// contacts_one_per_appointment): a second, even at the same moment,
		// is refused rather than counted twice.
		if err := tx.QueryRowContext(ctx, `INSERT INTO contacts (referral_id, worker_user_id, at, mode, while_waiting, minutes, note, support_types, setting,
			appointment_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`, r.ID, p.UserID, at, c.Mode, r.Status.Waiting(),
			c.Minutes, c.Note, strings.Join(c.SupportTypes, ","), setting, nullID(c.AppointmentID), now).Scan(&out.ID); err != nil {
			if c.AppointmentID != 0 && store.IsUniqueViolation(err) {
				return app.Errorf(app.CodeConflict, "What happened at this appointment has already been recorded: it is in the referral's contacts")
			}
			return err
		}
		if err := countContact(ctx, tx, out.ID, 1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE referrals SET first_contact_at = $1, updated_at = $2
			WHERE id = $3 AND (first_contact_at IS NULL OR first_contact_at > $1)`, at, now, r.ID); err != nil {
			return err
		}
		if err := caseload.Recount(ctx, tx, []int64{r.PersonID}); err != nil {
			return err
		}
		out = Contact{ID: out.ID, At: at, WorkerName: p.Name, Mode: c.Mode, WhileWaiting: r.Status.Waiting(), Minutes: c.Minutes, Note: c.Note,
			SupportTypes: c.SupportTypes, Setting: setting, ReferralID: r.ID, Version: 1, Comments: []ContactComment{}}
		if out.SupportTypes == nil {
			out.SupportTypes = []string{}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermReferralWork), audit.Event{
			Action: "contact.create", SubjectPersonID: r.PersonID, ObjectType: "referral", ObjectID: fmt.Sprint(r.ID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralWork, "contact.create", "referral", referralID, "The referral")
	}
	return out, nil
}

// LinkPerson joins a referral to a person already known (a re-referral
// that came in as someone new), never silently: a peer lead chooses it.
// The new, now-empty person record is marked as merged into the known one.
func (s *Service) LinkPerson(ctx context.Context, p *app.Principal, referralID, personID int64) error {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		r, err := s.visibleReferral(ctx, tx, p, referralID, true)
		if err != nil {
			return err
		}
		if !leads(p, r.TeamID) {
			return app.Errorf(app.CodeForbidden, "Only a peer supervisor or team lead can link referrals to people")
		}
		if personID == r.PersonID {
			return app.Errorf(app.CodeConflict, "The referral is already linked to this person")
		}
		// The person linked to must be someone the lead may already see;
		// anyone else answers exactly as a person who does not exist.
		if _, err := person.Visible(ctx, tx, p, personID); errors.Is(err, access.ErrNotVisible) {
			return app.Invalid(app.FieldError{Field: "person_id", Message: "Choose one of the possible matches"})
		} else if err != nil {
			return err
		}
		dups, err := s.duplicatesOf(ctx, tx, p, r.PersonID)
		if err != nil {
			return err
		}
		found := false
		for _, d := range dups {
			found = found || d.PersonID == personID
		}
		if !found {
			return app.Invalid(app.FieldError{Field: "person_id", Message: "Choose one of the possible matches"})
		}
		// Both people held while their referrals are counted and moved: a
		// referral made for either meanwhile waits, so the open-referral
		// check and "nothing left, so merged" are decided on what is there.
		if err := person.Lock(ctx, tx, personID, r.PersonID); err != nil {
			return err
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE person_id = $1 AND id <> $2
			AND status IN ('received', 'accepted', 'allocated', 'active')`, personID, r.ID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return app.Errorf(app.CodeConflict, "That person already has an open referral. Withdraw one of the two first.")
		}
		var previous int64
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM referrals WHERE person_id = $1 AND id < $2", personID, r.ID).Scan(&previous); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE referrals SET person_id = $1, previous_referral_id = $2, version = version + 1, updated_at = $3 WHERE id = $4",
			personID, nullID(previous), now, r.ID); store.IsUniqueViolation(err) {
			return app.Errorf(app.CodeConflict, "That person already has an open referral. Withdraw one of the two first.")
		} else if err != nil {
			return err
		}
		// The referral's handovers and the person's choice go with it.
		for _, table := range []string{"referral_handovers", "handover_sharing"} {
			if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET person_id = $1 WHERE referral_id = $2", personID, r.ID); err != nil {
				return err
			}
		}
		// Equity counts the referral for the person it now belongs to.
		if err := caseload.Recount(ctx, tx, []int64{personID, r.PersonID}); err != nil {
			return err
		}
		var others int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM referrals WHERE person_id = $1", r.PersonID).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			if err := person.MarkMerged(ctx, tx, r.PersonID, personID, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO referral_events (referral_id, at, actor_user_id, actor_role, from_status, to_status, note)
			VALUES ($1, $2, $3, 'peer_lead', $4, $4, 'Linked to a person already known to Mutual')`, r.ID, now, p.UserID, string(r.Status)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermReferralTriage), audit.Event{
			Action: "referral.link_person", SubjectPersonID: personID, ObjectType: "referral", ObjectID: fmt.Sprint(r.ID)})
	})
	return s.denied(ctx, err, p, app.PermReferralTriage, "referral.link_person", "referral", referralID, "The referral")
}
