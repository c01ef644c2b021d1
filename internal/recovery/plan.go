package recovery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// CrisisPlan is the person's crisis and support plan, in their words (the
// SUN groups' CASP): early signs, what helps, who to contact, and what
// they do not want.
type CrisisPlan struct {
	EarlySigns string `json:"early_signs"`
	WhatHelps  string `json:"what_helps"`
	Contacts   string `json:"contacts" doc:"Who to contact, and how."`
	NotWanted  string `json:"not_wanted" doc:"What the person does not want to happen."`
}

// AdvanceChoices are the person's advance choices about treatment.
type AdvanceChoices struct {
	WouldTake     string `json:"would_take" doc:"Medicines the person would take."`
	WouldNotTake  string `json:"would_not_take" doc:"Medicines the person would not take."`
	SecondOpinion string `json:"second_opinion" doc:"Whether, and from whom, they want a second opinion."`
	Refused       string `json:"refused" doc:"Treatments the person refuses."`
}

// ReviewChoices are how often the person wants their reviews, who they
// want there, and where.
type ReviewChoices struct {
	Weeks     int    `json:"weeks" doc:"Every this many weeks (1 to 52; 12 unless the person chose)."`
	Attendees string `json:"attendees" doc:"Who the person wants at their reviews."`
	Place     string `json:"place" doc:"Where they would like to meet."`
}

// Plan is a person's plan as the caller may see it.
type Plan struct {
	PersonID          int64           `json:"person_id"`
	Version           int             `json:"version" doc:"0 when no plan has been written. Send it back with a change; a change made since answers 409."`
	WhatMatters       string          `json:"what_matters"`
	Crisis            *CrisisPlan     `json:"crisis,omitempty" doc:"Absent when the person has not agreed to share it with their care team."`
	Advance           *AdvanceChoices `json:"advance,omitempty" doc:"Absent when the person has not agreed to share them with their care team."`
	ShareWithCareTeam bool            `json:"share_with_care_team"`
	Withheld          bool            `json:"private_parts_withheld" doc:"true when the crisis plan and advance choices are not shared with you."`
	Reviews           ReviewChoices   `json:"reviews"`
	UpdatedAt         *time.Time      `json:"updated_at,omitempty"`
	UpdatedBy         string          `json:"updated_by,omitempty"`
}

// PlanChange changes a plan. A section left out stays as it is.
type PlanChange struct {
	Version           int             `json:"version" required:"true" doc:"The version you are changing: 0 for a new plan."`
	WhatMatters       *string         `json:"what_matters,omitempty" doc:"What matters to the person, in their words."`
	Crisis            *CrisisPlan     `json:"crisis,omitempty" doc:"Staff may change it only when the person shares it with the care team."`
	Advance           *AdvanceChoices `json:"advance,omitempty" doc:"As crisis."`
	ShareWithCareTeam *bool           `json:"share_with_care_team,omitempty" doc:"The person's consent to share the crisis plan and advance choices with their care team. A person with an account gives it themselves; staff may record it only for someone without one (and may always record it being withdrawn)."`
	Reviews           *ReviewChoices  `json:"reviews,omitempty"`
}

// planRow is a plan as stored, and each version's snapshot.
type planRow struct {
	WhatMatters   string `json:"what_matters"`
	EarlySigns    string `json:"crisis.early_signs"`
	WhatHelps     string `json:"crisis.what_helps"`
	Contacts      string `json:"crisis.contacts"`
	NotWanted     string `json:"crisis.not_wanted"`
	WouldTake     string `json:"advance.would_take"`
	WouldNotTake  string `json:"advance.would_not_take"`
	SecondOpinion string `json:"advance.second_opinion"`
	Refused       string `json:"advance.refused"`
	Share         bool   `json:"share_with_care_team"`
	Weeks         int    `json:"reviews.weeks"`
	Attendees     string `json:"reviews.attendees"`
	Place         string `json:"reviews.place"`
}

// Section is one part of a plan, as history names it.
type Section struct {
	Code    string
	Label   string
	Private bool // crisis plan and advance choices: shared only with consent
	get     func(*planRow) string
}

// Sections are a plan's parts, in the order the page shows them.
var Sections = []Section{
	{"what_matters", "What matters to me", false, func(r *planRow) string { return r.WhatMatters }},
	{"crisis.early_signs", "Crisis plan: early signs", true, func(r *planRow) string { return r.EarlySigns }},
	{"crisis.what_helps", "Crisis plan: what helps", true, func(r *planRow) string { return r.WhatHelps }},
	{"crisis.contacts", "Crisis plan: who to contact", true, func(r *planRow) string { return r.Contacts }},
	{"crisis.not_wanted", "Crisis plan: what I do not want", true, func(r *planRow) string { return r.NotWanted }},
	{"advance.would_take", "Advance choices: medicines I would take", true, func(r *planRow) string { return r.WouldTake }},
	{"advance.would_not_take", "Advance choices: medicines I would not take", true, func(r *planRow) string { return r.WouldNotTake }},
	{"advance.second_opinion", "Advance choices: a second opinion", true, func(r *planRow) string { return r.SecondOpinion }},
	{"advance.refused", "Advance choices: treatments I refuse", true, func(r *planRow) string { return r.Refused }},
	{"share_with_care_team", "Sharing my crisis plan and advance choices with my care team", false, func(r *planRow) string {
		if r.Share {
			return "Shared with my care team"
		}
		return "Not shared"
	}},
	{"reviews.weeks", "How often my reviews happen", false, func(r *planRow) string { return fmt.Sprintf("Every %d weeks", r.Weeks) }},
	{"reviews.attendees", "Who I want at my reviews", false, func(r *planRow) string { return r.Attendees }},
	{"reviews.place", "Where I would like my reviews", false, func(r *planRow) string { return r.Place }},
}

// Change is one section changed in one version.
type Change struct {
	Section  string `json:"section"`
	Label    string `json:"label"`
	Before   string `json:"before"`
	After    string `json:"after"`
	Withheld bool   `json:"withheld" doc:"The section is private and not shared with you: before and after are left out."`
}

// PlanVersion is one change to a plan: who, when, and what changed.
type PlanVersion struct {
	Version           int       `json:"version"`
	At                time.Time `json:"at"`
	By                string    `json:"by"`
	ByRole            string    `json:"by_role"`
	DraftedWithWorker bool      `json:"drafted_with_worker" doc:"A worker wrote this change with the person."`
	Changes           []Change  `json:"changes"`
}

const (
	maxPlanText = 4000
	maxShort    = 500
)

func checkPlan(in *PlanChange) app.Problems {
	var p app.Problems
	if in.Version < 0 {
		p.Add("version", "version must not be negative")
	}
	if in.WhatMatters != nil {
		checkText(&p, "what_matters", in.WhatMatters, maxPlanText, "What matters to you")
	}
	if c := in.Crisis; c != nil {
		checkText(&p, "crisis.early_signs", &c.EarlySigns, maxPlanText, "Early signs")
		checkText(&p, "crisis.what_helps", &c.WhatHelps, maxPlanText, "What helps")
		checkText(&p, "crisis.contacts", &c.Contacts, maxPlanText, "Who to contact")
		checkText(&p, "crisis.not_wanted", &c.NotWanted, maxPlanText, "What you do not want")
	}
	if a := in.Advance; a != nil {
		checkText(&p, "advance.would_take", &a.WouldTake, maxPlanText, "Medicines you would take")
		checkText(&p, "advance.would_not_take", &a.WouldNotTake, maxPlanText, "Medicines you would not take")
		checkText(&p, "advance.second_opinion", &a.SecondOpinion, maxPlanText, "A second opinion")
		checkText(&p, "advance.refused", &a.Refused, maxPlanText, "Treatments you refuse")
	}
	if r := in.Reviews; r != nil {
		if r.Weeks < 1 || r.Weeks > 52 {
			p.Add("reviews.weeks", "Choose how often reviews happen: every 1 to 52 weeks")
		}
		checkText(&p, "reviews.attendees", &r.Attendees, maxShort, "Who you want at your reviews")
		checkText(&p, "reviews.place", &r.Place, maxShort, "Where you would like your reviews")
	}
	return p
}

// loadPlan reads the stored plan of a person the caller was checked to
// see, optionally locking it; ok is false when there is none.
func loadPlan(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64, lock bool) (r planRow, version int, updated time.Time, by int64, ok bool, err error) {
	q := `SELECT version, what_matters, crisis_early_signs, crisis_what_helps, crisis_contacts, crisis_not_wanted, advance_would_take,
		advance_would_not_take, advance_second_opinion, advance_refused, share_with_care_team, review_weeks, review_attendees, review_place,
		updated_at, COALESCE(updated_by_user_id, 0) FROM recovery_plans WHERE person_id = $1 AND `
	a := store.NewArgs(personID)
	q += inScope(p, a, "person_id")
	if lock {
		q += tx.Dialect.ForUpdate()
	}
	err = tx.QueryRowContext(ctx, q, a.Values()...).Scan(&version, &r.WhatMatters, &r.EarlySigns, &r.WhatHelps, &r.Contacts, &r.NotWanted,
		&r.WouldTake, &r.WouldNotTake, &r.SecondOpinion, &r.Refused, &r.Share, &r.Weeks, &r.Attendees, &r.Place, &updated, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return r, 0, time.Time{}, 0, false, nil
	}
	return r, version, updated.UTC(), by, err == nil, err
}

// view turns a stored plan into what v may see.
func (r *planRow) view(personID int64, version int, v viewer) Plan {
	pl := Plan{PersonID: personID, Version: version, WhatMatters: r.WhatMatters, ShareWithCareTeam: r.Share,
		Reviews: ReviewChoices{Weeks: r.Weeks, Attendees: r.Attendees, Place: r.Place}}
	if v.private(r.Share) {
		pl.Crisis = &CrisisPlan{EarlySigns: r.EarlySigns, WhatHelps: r.WhatHelps, Contacts: r.Contacts, NotWanted: r.NotWanted}
		pl.Advance = &AdvanceChoices{WouldTake: r.WouldTake, WouldNotTake: r.WouldNotTake, SecondOpinion: r.SecondOpinion, Refused: r.Refused}
	} else {
		pl.Withheld = r.private() != ""
	}
	return pl
}

// private is the crisis plan and advance choices run together, to tell
// whether there are any.
func (r *planRow) private() string {
	return strings.TrimSpace(r.EarlySigns + r.WhatHelps + r.Contacts + r.NotWanted + r.WouldTake + r.WouldNotTake + r.SecondOpinion + r.Refused)
}

// PlanSaved is the answer to saving a plan.
type PlanSaved struct {
	PersonID int64        `json:"person_id"`
	Version  int          `json:"version"`
	Changed  []string     `json:"changed" doc:"The sections this change altered."`
	Signpost *Signposting `json:"signpost,omitempty" doc:"Present when what was written sounded like the person may be in distress: how to get help now."`
}

// SavePlan changes a person's plan: the person themselves, or a worker
// who may see them drafting it with them (recorded as such). Only the
// person gives consent to share the crisis plan and advance choices, from
// their account; staff may record it for someone without an account, and
// may not change those parts unless they are shared. A stale version is a
// conflict; bad input is field problems and nothing is stored.
func (s *Service) SavePlan(ctx context.Context, p *app.Principal, personID int64, in PlanChange) (PlanSaved, error) {
	if problems := checkPlan(&in); len(problems) > 0 {
		return PlanSaved{}, problems.Err()
	}
	now := s.Clock.Now()
	out := PlanSaved{PersonID: personID, Changed: []string{}}
	asked := personID
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// A retried transaction starts again from what was asked.
		personID, out.PersonID, out.Changed, out.Signpost = asked, asked, []string{}, nil
		if personID == 0 && p != nil && p.HasRole(app.RolePerson, app.RoleCarer) && s.Accounts != nil {
			// Someone starting their own plan before anyone has a record of
			// them: their account gets one.
			id, err := s.Accounts.OwnPerson(ctx, tx, p, now)
			if err != nil {
				return err
			}
			personID, out.PersonID = id, id
		}
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		cur, version, _, _, exists, err := loadPlan(ctx, tx, p, personID, true)
		if err != nil {
			return err
		}
		if !exists {
			cur.Weeks = s.reviewWeeks()
		}
		if version != in.Version {
			return app.Errorf(app.CodeConflict, "This plan was changed by someone else since you opened it. Your changes are below: look at the plan again and save once more.")
		}
		next := cur
		var problems app.Problems
		if in.ShareWithCareTeam != nil && *in.ShareWithCareTeam != cur.Share {
			if v.staff && *in.ShareWithCareTeam {
				account, err := hasAccount(ctx, tx, personID)
				if err != nil {
					return err
				}
				if account != 0 {
					problems.Add("share_with_care_team", "Only the person can choose to share their crisis plan and advance choices, from their own account")
				}
			}
			next.Share = *in.ShareWithCareTeam
		}
		if v.staff && !next.Share && (in.Crisis != nil || in.Advance != nil) {
			problems.Add("crisis.early_signs", "The person has not agreed to share their crisis plan and advance choices with the care team, so only they can change them")
		}
		if err := problems.Err(); err != nil {
			return err
		}
		if in.WhatMatters != nil {
			next.WhatMatters = *in.WhatMatters
		}
		if c := in.Crisis; c != nil {
			next.EarlySigns, next.WhatHelps, next.Contacts, next.NotWanted = c.EarlySigns, c.WhatHelps, c.Contacts, c.NotWanted
		}
		if a := in.Advance; a != nil {
			next.WouldTake, next.WouldNotTake, next.SecondOpinion, next.Refused = a.WouldTake, a.WouldNotTake, a.SecondOpinion, a.Refused
		}
		if r := in.Reviews; r != nil {
			next.Weeks, next.Attendees, next.Place = r.Weeks, r.Attendees, r.Place
		}
		var written []string
		for _, sec := range Sections {
			if sec.get(&cur) != sec.get(&next) {
				out.Changed = append(out.Changed, sec.Code)
				if sec.Code != "share_with_care_team" && sec.Code != "reviews.weeks" {
					written = append(written, sec.get(&next))
				}
			}
		}
		a := actor(p, v)
		if len(out.Changed) == 0 {
			out.Version = version
			return audit.Record(ctx, tx, now, a, audit.Event{Action: "plan.update", SubjectPersonID: personID, ObjectType: "recovery_plan",
				ObjectID: fmt.Sprint(personID)})
		}
		out.Version = version + 1
		if !exists {
			_, err = tx.ExecContext(ctx, `INSERT INTO recovery_plans (person_id, version, what_matters, crisis_early_signs, crisis_what_helps,
				crisis_contacts, crisis_not_wanted, advance_would_take, advance_would_not_take, advance_second_opinion, advance_refused,
				share_with_care_team, review_weeks, review_attendees, review_place, created_at, updated_at, updated_by_user_id)
				VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16)`,
				personID, next.WhatMatters, next.EarlySigns, next.WhatHelps, next.Contacts, next.NotWanted, next.WouldTake, next.WouldNotTake,
				next.SecondOpinion, next.Refused, next.Share, next.Weeks, next.Attendees, next.Place, now, nullID(p.UserID))
			if store.IsUniqueViolation(err) {
				return app.Errorf(app.CodeConflict, "This plan was started by someone else at the same moment. Look at the plan again and save once more.")
			}
		} else {
			var res sql.Result
			res, err = tx.ExecContext(ctx, `UPDATE recovery_plans SET version = version + 1, what_matters = $1, crisis_early_signs = $2,
				crisis_what_helps = $3, crisis_contacts = $4, crisis_not_wanted = $5, advance_would_take = $6, advance_would_not_take = $7,
				advance_second_opinion = $8, advance_refused = $9, share_with_care_team = $10, review_weeks = $11, review_attendees = $12,
				review_place = $13, updated_at = $14, updated_by_user_id = $15 WHERE person_id = $16 AND version = $17`,
				next.WhatMatters, next.EarlySigns, next.WhatHelps, next.Contacts, next.NotWanted, next.WouldTake, next.WouldNotTake,
				next.SecondOpinion, next.Refused, next.Share, next.Weeks, next.Attendees, next.Place, now, nullID(p.UserID), personID, version)
			if err == nil {
				if n, _ := res.RowsAffected(); n != 1 {
					return app.Errorf(app.CodeConflict, "This plan was changed by someone else since you opened it. Your changes are below: look at the plan again and save once more.")
				}
			}
		}
		if err != nil {
			return err
		}
		snap, err := json.Marshal(next)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_plan_versions (person_id, version, at, by_user_id, by_role, drafted_with_worker, changed, snapshot)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, personID, out.Version, now, nullID(p.UserID), string(a.Role), v.staff,
			strings.Join(out.Changed, ","), string(snap)); err != nil {
			if store.IsUniqueViolation(err) {
				return app.Errorf(app.CodeConflict, "This plan was changed by someone else at the same moment. Look at the plan again and save once more.")
			}
			return err
		}
		team, err := teamOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		org, err := orgOf(ctx, tx, team)
		if err != nil {
			return err
		}
		if s.risky(ctx, org, written...) {
			out.Signpost = &HelpNow
			if v.self {
				if err := s.raise(ctx, tx, Concern{PersonID: personID, TeamID: team, Source: "plan", ObjectID: personID, At: now,
					Actor: p.ActorFor(app.PermRecoveryPlan)}); err != nil {
					return err
				}
			}
		}
		if v.staff && s.Notify != nil {
			// The person always sees what changed: tell them a worker
			// changed it with them.
			if uid, err := hasAccount(ctx, tx, personID); err != nil {
				return err
			} else if uid != 0 && uid != p.UserID {
				if err := s.Notify.Tell(ctx, tx, uid, 0, notifyPlanChanged(p.Name, s.BaseURL)); err != nil {
					return err
				}
			}
		}
		return audit.Record(ctx, tx, now, a, audit.Event{Action: "plan.update", SubjectPersonID: personID, ObjectType: "recovery_plan",
			ObjectID: fmt.Sprint(personID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermRecoveryPlan, "plan.update", "person", personID, "The person")
	}
	return out, nil
}

// history reads a plan's versions, newest first, for a person the caller
// was checked to see, leaving private sections out unless v may see them.
func planHistory(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64, v viewer, shared bool) ([]PlanVersion, error) {
	a := store.NewArgs(personID)
	rows, err := tx.QueryContext(ctx, `SELECT pv.version, pv.at, COALESCE(u.name, ''), pv.by_role, pv.drafted_with_worker, pv.snapshot
		FROM recovery_plan_versions pv LEFT JOIN users u ON u.id = pv.by_user_id WHERE pv.person_id = $1 AND `+inScope(p, a, "pv.person_id")+`
		ORDER BY pv.version`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PlanVersion
	var prev planRow
	for rows.Next() {
		var pv PlanVersion
		var snap string
		if err := rows.Scan(&pv.Version, &pv.At, &pv.By, &pv.ByRole, &pv.DraftedWithWorker, &snap); err != nil {
			return nil, err
		}
		pv.At = pv.At.UTC()
		var cur planRow
		if err := json.Unmarshal([]byte(snap), &cur); err != nil {
			return nil, err
		}
		if pv.Version == 1 {
			prev = planRow{Weeks: cur.Weeks}
		}
		pv.Changes = []Change{}
		for _, sec := range Sections {
			before, after := sec.get(&prev), sec.get(&cur)
			if pv.Version == 1 && sec.Code == "reviews.weeks" {
				before = ""
			}
			if before == after {
				continue
			}
			c := Change{Section: sec.Code, Label: sec.Label, Before: before, After: after}
			if sec.Private && !v.private(shared) {
				c = Change{Section: sec.Code, Label: sec.Label, Withheld: true}
			}
			pv.Changes = append(pv.Changes, c)
		}
		out = append(out, pv)
		prev = cur
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if out == nil {
		out = []PlanVersion{}
	}
	return out, nil
}
