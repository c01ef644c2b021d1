package matching

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// ChoiceVersion is one recorded version of a person's choices.
type ChoiceVersion struct {
	Version        int       `json:"version"`
	RecordedAt     time.Time `json:"recorded_at"`
	RecordedBy     string    `json:"recorded_by" doc:"The name of whoever recorded it: the person, or a member of staff."`
	RecordedByRole string    `json:"recorded_by_role"`
	ByPerson       bool      `json:"by_person" doc:"The person recorded it themselves."`
	WithPerson     bool      `json:"with_person" doc:"A member of staff recorded it with the person."`
	Choices        Choices   `json:"choices"`
}

// ChoiceProfile is a person's choices now, with every earlier version.
type ChoiceProfile struct {
	PersonID   int64           `json:"person_id"`
	PersonName string          `json:"person_name,omitempty"`
	Version    int             `json:"version" doc:"The version in force; 0 when nothing has been recorded yet."`
	Choices    Choices         `json:"choices"`
	History    []ChoiceVersion `json:"history" doc:"Every version, newest first: what was recorded, by whom and when."`
	Themes     []Theme         `json:"themes" doc:"The shared-experience themes on offer to this person."`
}

// SaveChoices records a new version of a person's choices.
type SaveChoices struct {
	Choices
	Version    int  `json:"version" required:"true" doc:"The version you last saw (0 when there was none). If the choices were changed since, the save is refused with 409."`
	WithPerson bool `json:"with_person,omitempty" doc:"Staff: you are recording these choices with the person, now. Staff may only record them with the person."`
}

// MyChoices is a person's own page: their choices, and who their worker is
// with what the worker chose to share with them.
type MyChoices struct {
	ChoiceProfile
	Workers []MyWorker `json:"workers" doc:"The peer workers allocated to the person now."`
}

// MyWorker is a person's peer worker as the person sees them.
type MyWorker struct {
	WorkerID     int64        `json:"worker_id"`
	Name         string       `json:"name"`
	ReferralID   int64        `json:"referral_id"`
	Reference    string       `json:"reference"`
	Status       string       `json:"status"`
	Shared       []Disclosure `json:"shared_with_me" doc:"What the worker chose to share with the people they support (or on their public profile)."`
	ChangeAsked  bool         `json:"change_asked" doc:"The person has asked for a different worker."`
	Exclusions   []string     `json:"-"`
	AllocatedFor string       `json:"-"`
}

// choiceVersions is how a person's choices are read: every version, newest
// first. It is called for a person the caller was checked to see, or for
// the person of a referral being allocated.
func choiceVersions(ctx context.Context, tx *store.Tx, personID int64, limit int) ([]ChoiceVersion, error) {
	rows, err := tx.QueryContext(ctx, `SELECT cp.version, cp.recorded_at, COALESCE(u.name, ''), cp.recorded_by_role, cp.by_person, cp.with_person, cp.choices
		FROM choice_profiles cp LEFT JOIN users u ON u.id = cp.recorded_by_user_id
		WHERE cp.person_id = $1 ORDER BY cp.version DESC LIMIT $2`, personID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ChoiceVersion{}
	for rows.Next() {
		var v ChoiceVersion
		var js string
		if err := rows.Scan(&v.Version, &v.RecordedAt, &v.RecordedBy, &v.RecordedByRole, &v.ByPerson, &v.WithPerson, &js); err != nil {
			return nil, err
		}
		v.RecordedAt = v.RecordedAt.UTC()
		if err := fromJSON(js, &v.Choices); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// currentChoices is a person's choices in force and their version (0 and
// no choices when none were recorded).
func currentChoices(ctx context.Context, tx *store.Tx, personID int64) (Choices, int, error) {
	vs, err := choiceVersions(ctx, tx, personID, 1)
	if err != nil || len(vs) == 0 {
		return Choices{}, 0, err
	}
	return vs[0].Choices, vs[0].Version, nil
}

// personOrgs are the organisations of the teams a person has referrals
// with, whose theme lists they choose from.
func personOrgs(ctx context.Context, tx *store.Tx, personID int64) ([]int64, error) {
	return tx.IDs(ctx, `SELECT DISTINCT t.organisation_id FROM referrals r JOIN teams t ON t.id = r.team_id
		WHERE r.person_id = $1 ORDER BY t.organisation_id`, personID)
}

// profileOf builds a person's choice profile inside tx.
func profileOf(ctx context.Context, tx *store.Tx, personID int64) (ChoiceProfile, error) {
	cp := ChoiceProfile{PersonID: personID, History: []ChoiceVersion{}, Themes: []Theme{}}
	if personID != 0 {
		var err error
		if cp.History, err = choiceVersions(ctx, tx, personID, 200); err != nil {
			return cp, err
		}
	}
	if len(cp.History) > 0 {
		cp.Version, cp.Choices = cp.History[0].Version, cp.History[0].Choices
	}
	orgs, err := personOrgs(ctx, tx, personID)
	if err != nil {
		return cp, err
	}
	offered, err := themesOffered(ctx, tx, orgs)
	if err != nil {
		return cp, err
	}
	// Themes chosen from another list stay on offer, so they read right.
	every, err := allThemes(ctx, tx)
	if err != nil {
		return cp, err
	}
	for _, c := range cp.Choices.Themes {
		if !app.HasChoice(offered, c) {
			offered = append(offered, app.Choice{Code: c, Label: app.ChoiceLabel(every, c)})
		}
	}
	for _, t := range offered {
		cp.Themes = append(cp.Themes, Theme{Code: t.Code, Label: t.Label})
	}
	return cp, nil
}

// Choices returns a person's choices for staff who may see the person,
// audited as a read of their data. Someone the caller may not see is not
// found.
func (s *Service) Choices(ctx context.Context, p *app.Principal, personID int64) (ChoiceProfile, error) {
	var cp ChoiceProfile
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
			return err
		}
		var err error
		if cp, err = profileOf(ctx, tx, personID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT preferred_name FROM people WHERE id = $1", personID).Scan(&cp.PersonName); err != nil {
			return err
		}
		record(p.ActorFor(app.PermPersonRead), audit.Event{Action: "choices.read", SubjectPersonID: personID, ObjectType: "person", ObjectID: itoa(personID)})
		return nil
	})
	if err != nil {
		return cp, s.denied(ctx, err, p, app.PermPersonRead, "choices.read", "person", personID, "The person")
	}
	return cp, nil
}

// OwnChoices is the caller's own page: their choices, and who their peer
// worker is with what the worker shares with the people they support. The
// worker's disclosures read here are recorded for the worker to see.
func (s *Service) OwnChoices(ctx context.Context, p *app.Principal) (MyChoices, error) {
	return s.ownChoices(ctx, p, true)
}

// OwnProfile is the caller's own choices alone, for pages that show them
// beside other things (the plan): no worker or disclosure is read, so no
// disclosure is recorded as read.
func (s *Service) OwnProfile(ctx context.Context, p *app.Principal) (ChoiceProfile, error) {
	mc, err := s.ownChoices(ctx, p, false)
	return mc.ChoiceProfile, err
}

func (s *Service) ownChoices(ctx context.Context, p *app.Principal, workers bool) (MyChoices, error) {
	var mc MyChoices
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if mc.ChoiceProfile, err = profileOf(ctx, tx, p.PersonID); err != nil {
			return err
		}
		mc.Workers = []MyWorker{}
		if workers && p.PersonID != 0 {
			if mc.Workers, err = s.myWorkers(ctx, tx, p, now); err != nil {
				return err
			}
		}
		m, _ := p.RoleFor(app.PermOwnRecord)
		return audit.Record(ctx, tx, now, actorAs(p, m), audit.Event{Action: "choices.read_own", SubjectPersonID: p.PersonID,
			ObjectType: "person", ObjectID: itoa(p.PersonID)})
	})
	return mc, err
}

// myWorkers are the workers allocated to the caller's open referrals,
// with what each shares with the people they support.
func (s *Service) myWorkers(ctx context.Context, tx *store.Tx, p *app.Principal, now time.Time) ([]MyWorker, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.reference, r.status, r.allocated_worker_id, u.name FROM referrals r JOIN users u ON u.id = r.allocated_worker_id
		WHERE r.person_id = $1 AND r.status IN ('allocated', 'active') ORDER BY r.id`, p.PersonID)
	if err != nil {
		return nil, err
	}
	out := []MyWorker{}
	for rows.Next() {
		var w MyWorker
		if err := rows.Scan(&w.ReferralID, &w.Reference, &w.Status, &w.WorkerID, &w.Name); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		w := &out[i]
		rel, err := relationTo(ctx, tx, p, w.WorkerID)
		if err != nil {
			return nil, err
		}
		if w.Shared, err = s.visibleDisclosures(ctx, tx, p, w.WorkerID, rel, now); err != nil {
			return nil, err
		}
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM worker_exclusions WHERE person_id = $1 AND worker_user_id = $2",
			p.PersonID, w.WorkerID).Scan(&w.ChangeAsked); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SaveChoices records a new version of a person's choices, made by staff
// with the person. It is refused unless the caller may see the person and
// says the person is with them; with 409 when the choices changed since
// the version the caller saw.
func (s *Service) SaveChoices(ctx context.Context, p *app.Principal, personID int64, in SaveChoices) (ChoiceProfile, error) {
	if !in.WithPerson {
		return ChoiceProfile{}, app.Invalid(app.FieldError{Field: "with_person",
			Message: "Record a person's choices only with them: confirm that they are with you and have told you these choices"})
	}
	cp, err := s.saveChoices(ctx, p, personID, in, false)
	if err != nil {
		return cp, s.denied(ctx, err, p, app.PermChoicesRecord, "choices.update", "person", personID, "The person")
	}
	return cp, nil
}

// SaveOwnChoices records a new version of the caller's own choices. An
// account without a person record yet is given one.
func (s *Service) SaveOwnChoices(ctx context.Context, p *app.Principal, in SaveChoices) (ChoiceProfile, error) {
	in.WithPerson = false
	return s.saveChoices(ctx, p, 0, in, true)
}

func (s *Service) saveChoices(ctx context.Context, p *app.Principal, personID int64, in SaveChoices, own bool) (ChoiceProfile, error) {
	now := s.Clock.Now()
	var cp ChoiceProfile
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		themes, err := allThemes(ctx, tx)
		if err != nil {
			return err
		}
		var problems app.Problems
		in.Choices.Normalise(&problems, themes)
		if in.Version < 0 {
			problems.Add("version", "version must be 0 or more")
		}
		if err := problems.Err(); err != nil {
			return err
		}
		perm := app.PermChoicesRecord
		if own {
			perm = app.PermOwnRecord
			if personID, err = s.Accounts.OwnPerson(ctx, tx, p, now); err != nil {
				return err
			}
		} else if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM choice_profiles WHERE person_id = $1", personID).Scan(&current); err != nil {
			return err
		}
		if in.Version != current {
			return staleChoices(ctx, tx, personID, current)
		}
		if in.Choices.SameWorker != nil && *in.Choices.SameWorker {
			in.Choices.SameWorker = nil // the default, stored as such
		}
		m, _ := p.RoleFor(perm)
		if _, err := tx.ExecContext(ctx, `INSERT INTO choice_profiles (person_id, version, choices, recorded_by_user_id, recorded_by_role, by_person, with_person, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, personID, current+1, jsonText(in.Choices), nullID(p.UserID), string(m.Role), own, in.WithPerson, now); err != nil {
			if store.IsUniqueViolation(err) {
				return app.Errorf(app.CodeConflict, "Someone else saved these choices at the same moment. Check them and try again.")
			}
			return err
		}
		if err := audit.Record(ctx, tx, now, actorAs(p, m), audit.Event{Action: "choices.update", SubjectPersonID: personID,
			ObjectType: "person", ObjectID: itoa(personID)}); err != nil {
			return err
		}
		cp, err = profileOf(ctx, tx, personID)
		return err
	})
	return cp, err
}

// staleChoices is the conflict for a save made on an old version.
func staleChoices(ctx context.Context, tx *store.Tx, personID int64, current int) error {
	vs, err := choiceVersions(ctx, tx, personID, 1)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return app.Errorf(app.CodeConflict, "These choices have changed since you opened them. Check them and try again.")
	}
	return app.Errorf(app.CodeConflict, "These choices were changed by %s at %s (version %d). Check them and try again.",
		vs[0].RecordedBy, vs[0].RecordedAt.In(app.London).Format("3:04pm on 2 January"), current)
}

// PreferencesOfPeople is where and when each of several people chose to
// meet, from their choices in force, in one query (a worker's list of 25
// people is one round trip, not 25). People without choices are absent.
func PreferencesOfPeople(ctx context.Context, tx *store.Tx, personIDs []int64) (map[int64]Choices, error) {
	out := map[int64]Choices{}
	if len(personIDs) == 0 {
		return out, nil
	}
	a := store.NewArgs()
	rows, err := tx.QueryContext(ctx, `SELECT cp.person_id, cp.choices FROM choice_profiles cp
		WHERE cp.person_id IN `+a.IDs(tx.Dialect, personIDs)+`
		AND cp.version = (SELECT MAX(x.version) FROM choice_profiles x WHERE x.person_id = cp.person_id)`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var js string
		if err := rows.Scan(&id, &js); err != nil {
			return nil, err
		}
		var c Choices
		if err := fromJSON(js, &c); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}
