package matching

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Capacity is how much a worker can take on: agreed with their lead.
type Capacity struct {
	HoursPerWeek float64     `json:"hours_per_week" required:"true" doc:"Contracted hours a week, e.g. 22.5."`
	CapOverride  *int        `json:"cap_override" doc:"A caseload cap set for this worker instead of the one their hours give (0 to 60); null to use the hours."`
	Reductions   []Reduction `json:"reductions" doc:"Periods of reduced capacity, such as a phased return to work: the cap is scaled to percent from starts_on to ends_on. The whole list; periods left out are removed."`
}

// Reduction is one period of reduced capacity.
type Reduction struct {
	ID       int64  `json:"id,omitempty"`
	Percent  int    `json:"percent" required:"true" doc:"The share of the cap in force during the period, 0 to 99."`
	StartsOn string `json:"starts_on" required:"true" doc:"The first day, YYYY-MM-DD."`
	EndsOn   string `json:"ends_on" required:"true" doc:"The last day, YYYY-MM-DD: the period must end."`
	Note     string `json:"note,omitempty" doc:"For example: phased return after sick leave."`
}

// WorkerDetails are what a worker says about themselves for matching.
type WorkerDetails struct {
	Gender            string   `json:"gender,omitempty" doc:"woman, man, non_binary or other. Optional."`
	GenderForMatching bool     `json:"gender_for_matching,omitempty" doc:"The worker agrees their gender may be used for matching: shortlists then say whether it meets a person's choice."`
	Languages         []string `json:"languages,omitempty"`
	Settings          []string `json:"settings,omitempty" doc:"Settings worked in: community, acute_ward, secure_ward, camhs_transition."`
	Places            []string `json:"places,omitempty" doc:"Where the worker meets people: home, community, team_base, ward, phone, video, text."`
	Areas             string   `json:"areas,omitempty" doc:"Areas covered, in words."`
	Days              []string `json:"days,omitempty"`
	Times             []string `json:"times,omitempty"`
}

// TeamRef names a team.
type TeamRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// OverCap is an allocation made above a worker's cap, with the lead's
// reason: shown to the worker and their supervisor.
type OverCap struct {
	ReferralID  int64     `json:"referral_id"`
	Reference   string    `json:"reference"`
	At          time.Time `json:"at"`
	AllocatedBy string    `json:"allocated_by"`
	Reason      string    `json:"reason"`
	Caseload    int       `json:"caseload" doc:"The worker's caseload before this allocation."`
	Cap         int       `json:"cap"`
}

// WorkerProfile is a peer worker's profile as the caller may see it.
type WorkerProfile struct {
	WorkerID      int64         `json:"worker_id"`
	Name          string        `json:"name"`
	Version       int           `json:"version" doc:"0 until the profile is first saved."`
	Teams         []TeamRef     `json:"teams"`
	Capacity      Capacity      `json:"capacity"`
	HoursRecorded bool          `json:"hours_recorded" doc:"false: no hours yet, so a full-time cap is used."`
	Details       WorkerDetails `json:"details" doc:"Gender is shown to a lead only when the worker agreed it may be used for matching."`
	PeoplePerFTE  int           `json:"people_per_fte"`
	FullTimeHours float64       `json:"full_time_hours"`
	HoursCap      int           `json:"hours_cap" doc:"The cap the hours give: people per full-time worker × hours ÷ full-time hours, rounded."`
	Cap           int           `json:"cap" doc:"The cap before any reduction: cap_override if set, otherwise hours_cap."`
	CapNow        int           `json:"cap_now" doc:"The cap in force today, after any reduction."`
	ReductionNow  *Reduction    `json:"reduction_now,omitempty"`
	Caseload      int           `json:"caseload" doc:"People allocated to the worker now (allocated or receiving support)."`
	FreeCapacity  int           `json:"free_capacity"`
	OverCap       []OverCap     `json:"over_cap_allocations"`
	MayEdit       EditRights    `json:"may_edit"`
	UpdatedAt     *time.Time    `json:"updated_at,omitempty"`
}

// EditRights say what the caller may change.
type EditRights struct {
	Details     bool `json:"details" doc:"Only the worker changes their own details."`
	Capacity    bool `json:"capacity" doc:"A lead of one of the worker's teams keeps hours, caps and reductions."`
	Disclosures bool `json:"disclosures" doc:"Only the worker writes and withdraws their disclosures."`
}

// SaveWorkerProfile changes a worker's profile. Each part is replaced
// whole when given and left as it is when not.
type SaveWorkerProfile struct {
	Version  int            `json:"version" required:"true" doc:"The version you last saw (0 before the first save); a newer one answers 409."`
	Capacity *Capacity      `json:"capacity,omitempty" doc:"Leads only."`
	Details  *WorkerDetails `json:"details,omitempty" doc:"The worker only."`
}

// workerState is everything stored about a worker that matching uses.
type workerState struct {
	id, org        int64
	name           string
	version        int
	recorded       bool
	minutes        int
	capOverride    *int
	details        WorkerDetails
	reductions     []Reduction
	caseload       int
	themes         []string // from disclosures that may be used for matching
	disclosureMark int      // changes whenever those disclosures do
	teams          []TeamRef
	updatedAt      *time.Time
	settings       Settings
}

// hoursCap is the cap hours give, rounded half up.
func hoursCap(perFTE, fullTimeMinutes, minutes int) int {
	if fullTimeMinutes <= 0 {
		return perFTE
	}
	return (2*perFTE*minutes + fullTimeMinutes) / (2 * fullTimeMinutes)
}

// capOn is the cap in force on a day, and the reduction that sets it
// (the lowest share when periods overlap).
func capOn(cap int, reductions []Reduction, day time.Time) (int, *Reduction) {
	d := day.Format("2006-01-02")
	var in *Reduction
	for i, r := range reductions {
		if r.StartsOn <= d && d <= r.EndsOn && (in == nil || r.Percent < in.Percent) {
			in = &reductions[i]
		}
	}
	if in == nil {
		return cap, nil
	}
	return cap * in.Percent / 100, in
}

// caps works out a worker's caps on a day.
func (w *workerState) caps(day time.Time) (hours, cap, now int, red *Reduction) {
	minutes := w.minutes
	ft := int(math.Round(w.settings.FullTimeHours * 60))
	if !w.recorded {
		minutes = ft
	}
	hours = hoursCap(w.settings.PeoplePerFTE, ft, minutes)
	cap = hours
	if w.capOverride != nil {
		cap = *w.capOverride
	}
	now, red = capOn(cap, w.reductions, day)
	return hours, cap, now, red
}

// facts are what matching may use about the worker.
func (w *workerState) facts(day time.Time) Facts {
	_, _, capNow, _ := w.caps(day)
	f := Facts{ID: w.id, Name: w.name, Languages: w.details.Languages, Themes: w.themes, Places: w.details.Places,
		Days: w.details.Days, Times: w.details.Times, Cap: capNow, Caseload: w.caseload}
	if w.details.GenderForMatching {
		f.Gender = w.details.Gender
	}
	return f
}

// loadWorkers reads what matching knows about workers, inside tx. It reads
// how many people are allocated to each (a count, no one's data).
func loadWorkers(ctx context.Context, tx *store.Tx, ids []int64) (map[int64]*workerState, error) {
	out := map[int64]*workerState{}
	if len(ids) == 0 {
		return out, nil
	}
	a := &store.Args{}
	in := a.IDs(tx.Dialect, ids)
	rows, err := tx.QueryContext(ctx, `SELECT u.id, u.name, COALESCE(wp.version, 0), wp.user_id IS NOT NULL, COALESCE(wp.minutes_per_week, 0), wp.cap_override,
		COALESCE(wp.gender, ''), COALESCE(wp.gender_for_matching, FALSE), COALESCE(wp.details, ''), wp.updated_at
		FROM users u LEFT JOIN worker_profiles wp ON wp.user_id = u.id WHERE u.id IN `+in, a.Values()...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		w := &workerState{}
		var details string
		var capOverride *int64
		var updated *time.Time
		if err := rows.Scan(&w.id, &w.name, &w.version, &w.recorded, &w.minutes, &capOverride, &w.details.Gender, &w.details.GenderForMatching, &details, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		if capOverride != nil {
			c := int(*capOverride)
			w.capOverride = &c
		}
		if updated != nil {
			t := updated.UTC()
			w.updatedAt = &t
		}
		gender, gfm := w.details.Gender, w.details.GenderForMatching
		if err := fromJSON(details, &w.details); err != nil {
			rows.Close()
			return nil, err
		}
		w.details.Gender, w.details.GenderForMatching = gender, gfm
		out[w.id] = w
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	each := func(q string, fn func(rows interface{ Scan(...any) error }) error) error {
		a := &store.Args{}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(q, a.IDs(tx.Dialect, ids)), a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err = each(`SELECT user_id, id, percent, starts_on, ends_on, note FROM capacity_reductions WHERE user_id IN %s ORDER BY user_id, starts_on, id`,
		func(r interface{ Scan(...any) error }) error {
			var uid int64
			var red Reduction
			var from, to time.Time
			if err := r.Scan(&uid, &red.ID, &red.Percent, &from, &to, &red.Note); err != nil {
				return err
			}
			red.StartsOn, red.EndsOn = from.UTC().Format("2006-01-02"), to.UTC().Format("2006-01-02")
			if w := out[uid]; w != nil {
				w.reductions = append(w.reductions, red)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT allocated_worker_id, COUNT(*) FROM referrals WHERE allocated_worker_id IN %s AND status IN ('allocated', 'active') GROUP BY allocated_worker_id`,
		func(r interface{ Scan(...any) error }) error {
			var uid int64
			var n int
			if err := r.Scan(&uid, &n); err != nil {
				return err
			}
			if w := out[uid]; w != nil {
				w.caseload = n
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = each(`SELECT worker_user_id, themes, version FROM disclosures WHERE worker_user_id IN %s AND for_matching ORDER BY worker_user_id, id`,
		func(r interface{ Scan(...any) error }) error {
			var uid int64
			var js string
			var v int
			if err := r.Scan(&uid, &js, &v); err != nil {
				return err
			}
			var ts []string
			if err := fromJSON(js, &ts); err != nil {
				return err
			}
			if w := out[uid]; w != nil {
				w.disclosureMark = w.disclosureMark*31 + v + len(ts)
				for _, t := range ts {
					if !strings.Contains(","+strings.Join(w.themes, ",")+",", ","+t+",") {
						w.themes = append(w.themes, t)
					}
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	var orgs []int64
	err = each(`SELECT m.user_id, t.id, t.name, t.organisation_id FROM memberships m JOIN teams t ON t.id = m.team_id
		WHERE m.user_id IN %s AND m.role IN ('peer_worker', 'peer_lead') ORDER BY m.user_id, t.id`,
		func(r interface{ Scan(...any) error }) error {
			var uid, org int64
			var t TeamRef
			if err := r.Scan(&uid, &t.ID, &t.Name, &org); err != nil {
				return err
			}
			if w := out[uid]; w != nil {
				if len(w.teams) == 0 || w.teams[len(w.teams)-1].ID != t.ID {
					w.teams = append(w.teams, t)
				}
				if w.org == 0 {
					w.org = org
					orgs = append(orgs, org)
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	sets, err := settingsFor(ctx, tx, orgs)
	if err != nil {
		return nil, err
	}
	for _, w := range out {
		if st, ok := sets[w.org]; ok {
			w.settings = st
		} else {
			w.settings = Settings{PeoplePerFTE: DefaultPeoplePerFTE, FullTimeHours: DefaultFullTimeHours, Themes: defaultThemes()}
		}
	}
	return out, nil
}

// profileFor builds the profile the caller may see.
func (s *Service) profileFor(ctx context.Context, tx *store.Tx, p *app.Principal, rel relation, w *workerState) (WorkerProfile, error) {
	today := dateOnly(s.Clock.Now())
	hours, cp, now, red := w.caps(today)
	wp := WorkerProfile{WorkerID: w.id, Name: w.name, Version: w.version, Teams: w.teams, HoursRecorded: w.recorded,
		Capacity: Capacity{HoursPerWeek: float64(w.minutes) / 60, CapOverride: w.capOverride, Reductions: w.reductions},
		Details:  w.details, PeoplePerFTE: w.settings.PeoplePerFTE, FullTimeHours: w.settings.FullTimeHours,
		HoursCap: hours, Cap: cp, CapNow: now, ReductionNow: red, Caseload: w.caseload, FreeCapacity: max(now-w.caseload, 0),
		UpdatedAt: w.updatedAt, MayEdit: EditRights{Details: rel.mayEditDetails(), Capacity: rel.mayEditCapacity(), Disclosures: rel.mayEditDisclosures()},
		OverCap: []OverCap{}}
	if wp.Capacity.Reductions == nil {
		wp.Capacity.Reductions = []Reduction{}
	}
	if !w.recorded {
		wp.Capacity.HoursPerWeek = w.settings.FullTimeHours
	}
	if !rel.Self && !w.details.GenderForMatching {
		wp.Details.Gender = ""
	}
	// Allocations above the cap, of referrals the caller may see.
	a := store.NewArgs(w.id)
	rows, err := tx.QueryContext(ctx, `SELECT am.referral_id, r.reference, am.at, COALESCE(u.name, ''), am.over_cap_reason, am.caseload, am.cap
		FROM allocation_matches am JOIN referrals r ON r.id = am.referral_id LEFT JOIN users u ON u.id = am.allocated_by_user_id
		WHERE am.worker_user_id = $1 AND am.over_cap AND `+access.Referrals(p, a)+` ORDER BY am.id DESC LIMIT 50`, a.Values()...)
	if err != nil {
		return wp, err
	}
	defer rows.Close()
	for rows.Next() {
		var o OverCap
		if err := rows.Scan(&o.ReferralID, &o.Reference, &o.At, &o.AllocatedBy, &o.Reason, &o.Caseload, &o.Cap); err != nil {
			return wp, err
		}
		o.At = o.At.UTC()
		wp.OverCap = append(wp.OverCap, o)
	}
	return wp, rows.Err()
}

// WorkerProfile returns a worker's profile to the worker or a lead of one
// of their teams, audited; anyone else is answered as if there were no
// such worker.
func (s *Service) WorkerProfile(ctx context.Context, p *app.Principal, workerID int64) (WorkerProfile, error) {
	var wp WorkerProfile
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.mayReadProfile() {
			return errNoWorker
		}
		ws, err := loadWorkers(ctx, tx, []int64{workerID})
		if err != nil {
			return err
		}
		if wp, err = s.profileFor(ctx, tx, p, rel, ws[workerID]); err != nil {
			return err
		}
		record(actorAs(p, readingRole(p, rel)), audit.Event{Action: "worker_profile.read", ObjectType: "worker", ObjectID: itoa(workerID)})
		return nil
	})
	if err != nil {
		return wp, s.denied(ctx, err, p, app.PermWorkerProfile, "worker_profile.read", "worker", workerID, "The peer worker")
	}
	return wp, nil
}

// errNoWorker is a worker the caller may not see, or who does not exist.
var errNoWorker = errNotVisible

// checkCapacity validates a capacity, field by field.
func checkCapacity(c *Capacity, p *app.Problems) {
	if math.IsNaN(c.HoursPerWeek) || c.HoursPerWeek <= 0 || c.HoursPerWeek > 60 {
		p.Add("capacity.hours_per_week", "Hours a week must be more than 0 and at most 60")
	} else if m := c.HoursPerWeek * 4; m != math.Trunc(m) {
		p.Add("capacity.hours_per_week", "Give hours to the nearest quarter hour, like 22.5")
	}
	if c.CapOverride != nil && (*c.CapOverride < 0 || *c.CapOverride > 60) {
		p.Add("capacity.cap_override", "The caseload cap must be a whole number from 0 to 60")
	}
	if len(c.Reductions) > 20 {
		p.Add("capacity.reductions", "Keep to 20 periods or fewer")
	}
	for i := range c.Reductions {
		r := &c.Reductions[i]
		f := fmt.Sprintf("capacity.reductions[%d].", i)
		r.Note = strings.TrimSpace(r.Note)
		if r.Percent < 0 || r.Percent > 99 {
			p.Add(f+"percent", "The share of the cap must be from 0 to 99 percent")
		}
		from, ok1 := parseDate(r.StartsOn)
		to, ok2 := parseDate(r.EndsOn)
		if !ok1 {
			p.Add(f+"starts_on", "Enter the first day of the period as a real date")
		}
		if !ok2 {
			p.Add(f+"ends_on", "Enter the last day of the period as a real date")
		}
		if ok1 && ok2 && to.Before(from) {
			p.Add(f+"ends_on", "The period must end on or after the day it starts")
		}
		if ok1 && ok2 && to.Sub(from) > 366*24*time.Hour {
			p.Add(f+"ends_on", "A period of reduced capacity can last at most a year")
		}
		if ok1 {
			r.StartsOn = from.Format("2006-01-02")
		}
		if ok2 {
			r.EndsOn = to.Format("2006-01-02")
		}
		p.CheckLen(f+"note", r.Note, 200, "The note")
	}
}

// checkDetails validates a worker's details, field by field.
func checkDetails(d *WorkerDetails, p *app.Problems) {
	d.Gender = strings.TrimSpace(d.Gender)
	if d.Gender != "" && !app.HasChoice(Genders, d.Gender) {
		p.Add("details.gender", "Choose a gender from the list, or leave it blank")
	}
	if d.Gender == "" && d.GenderForMatching {
		p.Add("details.gender_for_matching", "Give your gender before agreeing it may be used for matching")
	}
	d.Languages = normaliseList(d.Languages)
	checkLanguages(p, "details.languages", d.Languages)
	d.Settings = inOrder(normaliseList(d.Settings), WorkerSettings)
	checkCodes(p, "details.settings", d.Settings, WorkerSettings, "settings")
	d.Places = inOrder(normaliseList(d.Places), Places)
	checkCodes(p, "details.places", d.Places, Places, "where you meet people")
	d.Days = inOrder(normaliseList(d.Days), Days)
	checkCodes(p, "details.days", d.Days, Days, "days")
	d.Times = inOrder(normaliseList(d.Times), Times)
	checkCodes(p, "details.times", d.Times, Times, "times of day")
	d.Areas = strings.TrimSpace(d.Areas)
	p.CheckLen("details.areas", d.Areas, 500, "Areas")
}

// SaveWorkerProfile changes a worker's profile: the worker their own
// details, a lead of their team the capacity. A part the caller may not
// change is refused (403) and nothing is saved; a worker the caller may
// not see is not found; a stale version is a conflict.
func (s *Service) SaveWorkerProfile(ctx context.Context, p *app.Principal, workerID int64, in SaveWorkerProfile) (WorkerProfile, error) {
	var problems app.Problems
	if in.Capacity == nil && in.Details == nil {
		problems.Add("details", "Send the details, the capacity, or both")
	}
	if in.Capacity != nil {
		checkCapacity(in.Capacity, &problems)
	}
	if in.Details != nil {
		checkDetails(in.Details, &problems)
	}
	if err := problems.Err(); err != nil {
		return WorkerProfile{}, err
	}
	now := s.Clock.Now()
	var wp WorkerProfile
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.mayReadProfile() {
			return errNoWorker
		}
		if in.Details != nil && !rel.mayEditDetails() {
			return app.Errorf(app.CodeForbidden, "Only %s can change what matching may use about them", rel.Name)
		}
		if in.Capacity != nil && !rel.mayEditCapacity() {
			return app.Errorf(app.CodeForbidden, "Hours, caseload caps and reduced-capacity periods are agreed with, and kept by, a peer team lead")
		}
		// The worker's row is locked first, so saves take turns.
		if err := lockWorkers(ctx, tx, []int64{workerID}); err != nil {
			return err
		}
		ws, err := loadWorkers(ctx, tx, []int64{workerID})
		if err != nil {
			return err
		}
		w := ws[workerID]
		if in.Version != w.version {
			return app.Errorf(app.CodeConflict, "This profile was changed since you opened it (it is now version %d). Check it and try again.", w.version)
		}
		minutes, capOverride, details := w.minutes, w.capOverride, w.details
		if !w.recorded {
			minutes = int(math.Round(w.settings.FullTimeHours * 60))
		}
		if in.Capacity != nil {
			minutes, capOverride = int(math.Round(in.Capacity.HoursPerWeek*60)), in.Capacity.CapOverride
		}
		if in.Details != nil {
			details = *in.Details
		}
		gender, gfm := details.Gender, details.GenderForMatching
		stored := details
		stored.Gender, stored.GenderForMatching = "", false
		var co any
		if capOverride != nil {
			co = *capOverride
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO worker_profiles (user_id, version, minutes_per_week, cap_override, gender, gender_for_matching, details, updated_by_user_id, updated_at)
			VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (user_id) DO UPDATE SET version = worker_profiles.version + 1, minutes_per_week = $2, cap_override = $3, gender = $4,
			gender_for_matching = $5, details = $6, updated_by_user_id = $7, updated_at = $8`,
			workerID, minutes, co, gender, gfm, jsonText(stored), nullID(p.UserID), now); err != nil {
			return err
		}
		if in.Capacity != nil {
			if _, err := tx.ExecContext(ctx, "DELETE FROM capacity_reductions WHERE user_id = $1", workerID); err != nil {
				return err
			}
			for _, r := range in.Capacity.Reductions {
				from, _ := parseDate(r.StartsOn)
				to, _ := parseDate(r.EndsOn)
				if _, err := tx.ExecContext(ctx, `INSERT INTO capacity_reductions (user_id, percent, starts_on, ends_on, note, created_by_user_id, created_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7)`, workerID, r.Percent, from, to, r.Note, nullID(p.UserID), now); err != nil {
					return err
				}
			}
		}
		if err := audit.Record(ctx, tx, now, actorAs(p, readingRole(p, rel)), audit.Event{Action: "worker_profile.update",
			ObjectType: "worker", ObjectID: itoa(workerID)}); err != nil {
			return err
		}
		if ws, err = loadWorkers(ctx, tx, []int64{workerID}); err != nil {
			return err
		}
		wp, err = s.profileFor(ctx, tx, p, rel, ws[workerID])
		return err
	})
	if err != nil {
		return wp, s.denied(ctx, err, p, app.PermWorkerProfile, "worker_profile.update", "worker", workerID, "The peer worker")
	}
	return wp, nil
}
