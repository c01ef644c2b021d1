// Package datarights keeps the promises of the privacy page: a person can
// download everything Mutual holds about them; staff who may see a person
// can produce a subject access copy for them (with a reason, audited); and
// people whose last activity is older than the retention period are
// forgotten, with a report that gives counts and never names.
//
// It holds no person data of its own beyond the record of copies made: it
// is given every capability's person.Holder and asks each for its part.
// Audit rows are never deleted: they hold ids, not personal details, so the
// chain still verifies after people are forgotten.
package datarights

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// DefaultRetentionYears is how long after a person's last activity Mutual
// keeps their data: the NHS records management code of practice keeps
// mental health records for 20 years after care ends.
const DefaultRetentionYears = 20

// Service is the data-rights capability.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	Audit *audit.Log
	// Holders are every capability that keeps people's data, the people
	// capability first: a copy asks each in this order, and forgetting
	// someone asks each in the reverse order (so the person record goes
	// last, after everything that points at it).
	Holders []person.Holder
	// RetentionYears is how many years after their last activity people
	// are forgotten (DefaultRetentionYears when zero).
	RetentionYears int
}

// Unheld names tables that hold people's data but whose capability cannot
// yet forget it (it has no Holder), each with who will add it. Someone with
// rows in one is never forgotten by the retention job, only counted: a
// record is never half deleted. The table names are fixed text.
var Unheld = map[string]string{
	"caseload_episodes": "caseload: episodes from the trust's record, which the caseload capability will forget",
	// Worked out from a person's episodes, referrals and offers; a person
	// has spans only while they have episodes, and forgetting their
	// referrals and offers recounts them.
	"caseload_spans": "caseload: spans worked out from the episodes, forgotten with them",
}

// holders are the given holders and the data-rights service's own record
// of copies made, last, so it is forgotten first.
func (s *Service) holders() []person.Holder {
	return append(append([]person.Holder{}, s.Holders...), s)
}

// Copy is everything Mutual holds about a person, by capability.
type Copy struct {
	GeneratedAt time.Time `json:"generated_at"`
	PersonID    int64     `json:"person_id" doc:"The person's record. Records made by mistake and joined to it are included."`
	Sections    []Section `json:"sections"`
}

// Section is one capability's part of a copy: one entry per record of the
// person (usually one).
type Section struct {
	Name    string `json:"name"`
	Records []any  `json:"records"`
}

// copyOf gathers every holder's part for the person and every record
// joined to them, inside tx.
func (s *Service) copyOf(ctx context.Context, tx *store.Tx, personID int64, now time.Time) (Copy, error) {
	c := Copy{GeneratedAt: now, PersonID: personID, Sections: []Section{}}
	ids, err := person.RecordsOf(ctx, tx, personID)
	if err != nil {
		return c, err
	}
	for _, h := range s.holders() {
		sec := Section{Name: h.HolderName(), Records: []any{}}
		// The person's own record first, then those joined to it.
		for i := len(ids) - 1; i >= 0; i-- {
			v, err := h.Export(ctx, tx, ids[i])
			if err != nil {
				return c, fmt.Errorf("%s: %w", h.HolderName(), err)
			}
			if v != nil && !isEmpty(v) {
				sec.Records = append(sec.Records, v)
			}
		}
		if len(sec.Records) > 0 {
			c.Sections = append(c.Sections, sec)
		}
	}
	return c, nil
}

// isEmpty reports whether an export says nothing (a holder with nothing
// about this record returns nil, or an empty list).
func isEmpty(v any) bool {
	if l, ok := v.([]CopyMade); ok {
		return len(l) == 0
	}
	return false
}

// OwnCopy is the caller's copy of everything Mutual holds about them,
// read in one read-only transaction and audited (the audit row is the
// record that they asked). A caller with no record of their own gets an
// empty copy.
func (s *Service) OwnCopy(ctx context.Context, p *app.Principal) (Copy, error) {
	if p.PersonID == 0 || !p.HasRole(app.RolePerson, app.RoleCarer) {
		// Someone with no record of their own (a carer who has only
		// referred others): Mutual holds nothing about them but their
		// account.
		return Copy{GeneratedAt: s.Clock.Now(), Sections: []Section{}}, nil
	}
	var c Copy
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if c, err = s.copyOf(ctx, tx, p.PersonID, s.Clock.Now()); err != nil {
			return err
		}
		record(p.ActorFor(app.PermOwnRecord), audit.Event{Action: "datarights.own_copy",
			SubjectPersonID: p.PersonID, ObjectType: "person", ObjectID: fmt.Sprint(p.PersonID)})
		return nil
	})
	return c, err
}

// SubjectAccessCopy produces, for a member of staff who may see the
// person, a copy of everything Mutual holds about them: a subject access
// request answered. It is complete (it is the person's, not the caller's
// view), so it needs a reason, which is kept with the person's data and
// shown to them; the copy is audited as seen by the caller. Someone the
// caller may not see is not found (audited as denied); no reason is
// invalid.
func (s *Service) SubjectAccessCopy(ctx context.Context, p *app.Principal, personID int64, reason string) (Copy, error) {
	reason = strings.TrimSpace(reason)
	var problems app.Problems
	if reason == "" {
		problems.Add("reason", "Say why you are making this copy, for example the person's subject access request and its date")
	}
	problems.CheckLen("reason", reason, 500, "The reason")
	if err := problems.Err(); err != nil {
		return Copy{}, err
	}
	now := s.Clock.Now()
	var c Copy
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
			return err
		}
		var merged sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT merged_into_id FROM people WHERE id = $1", personID).Scan(&merged); err != nil {
			return err
		}
		if merged.Valid {
			return app.Errorf(app.CodeConflict, "This record was joined to another record of the same person: make the copy from that one")
		}
		if err := s.recordRequest(ctx, tx, personID, "subject_access", p.UserID, reason, now); err != nil {
			return err
		}
		var err error
		if c, err = s.copyOf(person.ForSubjectAccess(ctx, p), tx, personID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSubjectAccess), audit.Event{Action: "datarights.subject_access",
			SubjectPersonID: personID, ObjectType: "person", ObjectID: fmt.Sprint(personID)})
	})
	if err != nil {
		return Copy{}, access.Denied(ctx, s.Audit, p, app.PermSubjectAccess, "datarights.subject_access", "person", personID, "The person", err)
	}
	return c, nil
}

func (s *Service) recordRequest(ctx context.Context, tx *store.Tx, personID int64, kind string, by int64, reason string, now time.Time) error {
	var byArg any
	if by != 0 {
		byArg = by
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO data_requests (person_id, kind, by_user_id, reason, at) VALUES ($1, $2, $3, $4, $5)",
		personID, kind, byArg, reason, now)
	return err
}

// ---- person.Holder for the record of copies made.

// CopyMade is one subject access copy of a person's data made by staff.
type CopyMade struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
}

// HolderName names this part of a person's copy.
func (s *Service) HolderName() string { return "Copies of your data" }

// Tables are the tables the data-rights capability keeps a person's data in.
func (s *Service) Tables() []string { return []string{"data_requests"} }

// Export lists every copy made of the person's data.
func (s *Service) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	rows, err := tx.QueryContext(ctx, `SELECT d.at, d.kind, COALESCE(u.name, ''), d.reason FROM data_requests d
		LEFT JOIN users u ON u.id = d.by_user_id WHERE d.person_id = $1 ORDER BY d.id`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []CopyMade{}
	for rows.Next() {
		var c CopyMade
		if err := rows.Scan(&c.At, &c.Kind, &c.By, &c.Reason); err != nil {
			return nil, err
		}
		c.Kind = "A subject access copy made by staff"
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastActivity is when a subject access copy was last made (it is not
// care, but a person whose data was asked for is not forgotten that day).
func (s *Service) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	return person.Latest(ctx, tx, personID, "SELECT at FROM data_requests WHERE person_id = $1 ORDER BY at DESC LIMIT 1")
}

// Forget deletes the record of copies made.
func (s *Service) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	_, err := tx.ExecContext(ctx, "DELETE FROM data_requests WHERE person_id = $1", personID)
	return err
}

// ---- Retention.

// RetentionReport is what a retention run did: counts only, never names.
type RetentionReport struct {
	DryRun     bool      `json:"dry_run"`
	Cutoff     time.Time `json:"cutoff" doc:"People with no activity since this time are forgotten."`
	Checked    int       `json:"checked" doc:"People whose own record has not changed since the cutoff."`
	Forgotten  int       `json:"forgotten" doc:"People forgotten (or who would be, in a dry run)."`
	KeptActive int       `json:"kept_active" doc:"Checked, but something about them was recorded after the cutoff (or they are still in care)."`
	KeptUnheld int       `json:"kept_unheld" doc:"Checked, but some of their data is in a table whose capability cannot yet forget it."`
}

func (r RetentionReport) String() string {
	verb := "forgotten"
	if r.DryRun {
		verb = "would be forgotten"
	}
	return fmt.Sprintf("retention: %d checked (no change to their record since %s), %d %s, %d kept (activity since), %d kept (data a capability cannot yet forget)",
		r.Checked, r.Cutoff.In(app.London).Format("2 January 2006"), r.Forgotten, verb, r.KeptActive, r.KeptUnheld)
}

// retentionBatch is how many candidates are read at a time.
const retentionBatch = 500

// Retain forgets everyone whose last activity, across every capability, is
// older than the retention period: each person in their own transaction,
// under their record's lock, deciding again inside it, so activity arriving
// meanwhile keeps them. Records joined to them go with them. Audit rows
// stay (one "retention.forget" row is added for each person forgotten); a
// dry run changes nothing. The report gives counts only.
func (s *Service) Retain(ctx context.Context, dryRun bool) (RetentionReport, error) {
	years := s.RetentionYears
	if years <= 0 {
		years = DefaultRetentionYears
	}
	rep := RetentionReport{DryRun: dryRun, Cutoff: s.Clock.Now().AddDate(-years, 0, 0)}
	var after int64
	for {
		var ids []int64
		rows, err := s.DB.Query(ctx, `SELECT id FROM people WHERE updated_at < $1 AND merged_into_id IS NULL AND id > $2
			ORDER BY id LIMIT $3`, rep.Cutoff, after, retentionBatch)
		if err != nil {
			return rep, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return rep, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return rep, err
		}
		for _, id := range ids {
			after = id
			outcome, err := s.retainOne(ctx, id, rep.Cutoff, dryRun)
			if err != nil {
				return rep, fmt.Errorf("retention, person %d: %w", id, err)
			}
			rep.Checked++
			switch outcome {
			case forgotten:
				rep.Forgotten++
			case keptActive:
				rep.KeptActive++
			case keptUnheld:
				rep.KeptUnheld++
			case gone:
				rep.Checked--
			}
		}
		if len(ids) < retentionBatch {
			break
		}
	}
	if !dryRun {
		err := audit.RecordAlone(ctx, s.DB, s.Clock.Now(), app.Operator("retention").ActorFor(app.PermPublic), audit.Event{
			Action: "retention.run", ObjectType: "people",
			ObjectID: fmt.Sprintf("checked=%d;forgotten=%d;kept_active=%d;kept_unheld=%d", rep.Checked, rep.Forgotten, rep.KeptActive, rep.KeptUnheld)})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

type retention int

const (
	forgotten retention = iota
	keptActive
	keptUnheld
	gone
)

func (s *Service) retainOne(ctx context.Context, personID int64, cutoff time.Time, dryRun bool) (retention, error) {
	var out retention
	run := s.DB.Write
	if dryRun {
		run = s.DB.Read
	}
	err := run(ctx, func(tx *store.Tx) error {
		lock := tx.Dialect.ForUpdate()
		if dryRun {
			lock = ""
		} else {
			for _, h := range s.holders() {
				if l, ok := h.(person.LocksFirst); ok {
					if err := l.LockBeforePerson(ctx, tx, personID); err != nil {
						return fmt.Errorf("%s: %w", h.HolderName(), err)
					}
				}
			}
		}
		var one int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM people WHERE id = $1 AND merged_into_id IS NULL"+lock, personID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			out = gone
			return nil
		}
		if err != nil {
			return err
		}
		ids, err := person.RecordsOf(ctx, tx, personID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			for _, h := range s.holders() {
				last, err := h.LastActivity(ctx, tx, id)
				if err != nil {
					return fmt.Errorf("%s: %w", h.HolderName(), err)
				}
				if !last.Before(cutoff) {
					out = keptActive
					return nil
				}
			}
			for table := range Unheld {
				var n int
				if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE person_id = $1", id).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					out = keptUnheld
					return nil
				}
			}
		}
		out = forgotten
		if dryRun {
			return nil
		}
		hs := s.holders()
		for _, id := range ids { // joined records first, the person last
			for i := len(hs) - 1; i >= 0; i-- {
				if err := hs[i].Forget(ctx, tx, id); err != nil {
					return fmt.Errorf("%s: %w", hs[i].HolderName(), err)
				}
			}
			if err := audit.Record(ctx, tx, s.Clock.Now(), app.Operator("retention").ActorFor(app.PermPublic), audit.Event{
				Action: "retention.forget", SubjectPersonID: id, ObjectType: "person", ObjectID: fmt.Sprint(id)}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Run forgets people past the retention period once a day until ctx ends,
// starting after a short pause, and logs each run's counts.
func (s *Service) Run(ctx context.Context, logf func(msg string, err error)) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := s.Retain(ctx, false)
		if ctx.Err() != nil {
			return
		}
		logf(rep.String(), err)
		t.Reset(24 * time.Hour)
	}
}
