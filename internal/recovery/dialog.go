package recovery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Rating is one item's rating in a session.
type Rating struct {
	Item     Item `json:"item" required:"true" doc:"One of the eleven DIALOG+ item codes."`
	Rating   int  `json:"rating" required:"true" doc:"1 (totally dissatisfied) to 7 (totally satisfied)."`
	MoreHelp bool `json:"more_help" required:"true" doc:"Does the person want more help with this?"`
}

// Discussion is one item talked about through the four steps.
type Discussion struct {
	Item           Item   `json:"item" required:"true"`
	Understanding  string `json:"understanding,omitempty"`
	LookingForward string `json:"looking_forward,omitempty"`
	Options        string `json:"options,omitempty"`
	Actions        string `json:"actions,omitempty" doc:"The agreed actions: they come back at the next session."`
}

// NewSession is a DIALOG+ session to record.
type NewSession struct {
	At          *time.Time   `json:"at,omitempty" doc:"When it happened (RFC 3339); now when left out. Staff may record a meeting up to 90 days ago."`
	Stage       Stage        `json:"stage,omitempty" doc:"start, review, end or between (the default)."`
	Ratings     []Rating     `json:"ratings" required:"true" doc:"All eleven items, each once."`
	Discussions []Discussion `json:"discussions,omitempty" doc:"Up to three items chosen to talk about, each through the four steps."`
	Followup    string       `json:"followup,omitempty" doc:"How the actions agreed last time went."`
}

// Session is a recorded DIALOG+ session.
type Session struct {
	ID          int64        `json:"id"`
	PersonID    int64        `json:"person_id"`
	At          time.Time    `json:"at"`
	Stage       Stage        `json:"stage"`
	Alone       bool         `json:"alone" doc:"The person filled it in on their own."`
	RecordedBy  string       `json:"recorded_by"`
	Ratings     []Rating     `json:"ratings"`
	Discussions []Discussion `json:"discussions"`
	Followup    string       `json:"followup,omitempty"`
	Mean        float64      `json:"mean" doc:"The mean of the eleven ratings."`
}

// Rating returns the session's rating of an item, or 0.
func (s Session) Rating(it Item) int {
	for _, r := range s.Ratings {
		if r.Item == it {
			return r.Rating
		}
	}
	return 0
}

// MoreHelp reports whether the person wanted more help with an item.
func (s Session) MoreHelp(it Item) bool {
	for _, r := range s.Ratings {
		if r.Item == it {
			return r.MoreHelp
		}
	}
	return false
}

// Saved is the answer to recording something a person wrote about how
// they are.
type Saved struct {
	ID       int64        `json:"id"`
	Signpost *Signposting `json:"signpost,omitempty" doc:"Present when what was written sounded like the person may be in distress: how to get help now."`
}

const (
	maxNote     = 2000
	maxSessions = 200
)

// checkSession normalises and validates a session; field names are the
// API's (ratings.<item>, discussions[i].<field>).
func checkSession(in *NewSession, now time.Time, self bool) app.Problems {
	var p app.Problems
	if in.Stage == "" {
		in.Stage = StageBetween
	}
	if !in.Stage.Valid() {
		p.Add("stage", "Choose when this was: at the start, at a review, at the end, or between reviews")
	}
	if in.At != nil {
		switch {
		case in.At.After(now.Add(5 * time.Minute)):
			p.Add("at", "The date must not be in the future")
		case self && now.Sub(*in.At) > 24*time.Hour:
			p.Add("at", "Your own ratings are recorded as of today")
		case now.Sub(*in.At) > 90*24*time.Hour:
			p.Add("at", "Record a session within 90 days of it happening")
		}
	}
	seen := map[Item]bool{}
	for i, r := range in.Ratings {
		switch {
		case !r.Item.Valid():
			p.Add(fmt.Sprintf("ratings[%d].item", i), fmt.Sprintf("%q is not a DIALOG+ item: use one of %s", r.Item, strings.Join(ItemCodes(), ", ")))
		case seen[r.Item]:
			p.Add("ratings."+string(r.Item), r.Item.Label()+" is rated more than once: rate each item once")
		case r.Rating < 1 || r.Rating > 7:
			p.Add("ratings."+string(r.Item), fmt.Sprintf("Choose a rating for %s from 1 (totally dissatisfied) to 7 (totally satisfied)", strings.ToLower(r.Item.Label())))
		}
		seen[r.Item] = true
	}
	for _, it := range Items {
		if !seen[it.Code] {
			p.Add("ratings."+string(it.Code), fmt.Sprintf("Rate how satisfied you are with %s, from 1 to 7", strings.ToLower(it.Label)))
		}
	}
	if len(in.Discussions) > 3 {
		p.Add("discussions", "Choose up to three items to talk about")
	}
	talked := map[Item]bool{}
	for i := range in.Discussions {
		d := &in.Discussions[i]
		f := func(name string) string { return fmt.Sprintf("discussions[%d].%s", i, name) }
		switch {
		case !d.Item.Valid():
			p.Add(f("item"), fmt.Sprintf("Choose which item to talk about (%q is not a DIALOG+ item)", d.Item))
		case talked[d.Item]:
			p.Add(f("item"), "Choose a different item for each conversation")
		}
		talked[d.Item] = true
		checkText(&p, f("understanding"), &d.Understanding, maxNote, "Understanding")
		checkText(&p, f("looking_forward"), &d.LookingForward, maxNote, "Looking forward")
		checkText(&p, f("options"), &d.Options, maxNote, "Exploring options")
		checkText(&p, f("actions"), &d.Actions, maxNote, "Agreed actions")
	}
	checkText(&p, "followup", &in.Followup, maxNote, "How last time's actions went")
	return p
}

// CheckSession names every problem with a session without storing
// anything, so a form can show them all at once with its own.
func (s *Service) CheckSession(p *app.Principal, personID int64, in NewSession) error {
	self := p != nil && p.PersonID == personID && p.HasRole(app.RolePerson, app.RoleCarer)
	return checkSession(&in, s.Clock.Now(), self).Err()
}

// RecordSession records a DIALOG+ session for a person: the person on
// their own (alone), or staff who may see them with the person. Ratings
// outside 1–7, unknown or missing items, more than three discussions and
// over-long notes are field problems and nothing is stored. Notes that
// sound like distress come back with signposting.
func (s *Service) RecordSession(ctx context.Context, p *app.Principal, personID int64, in NewSession) (Saved, error) {
	now := s.Clock.Now()
	self := p != nil && p.PersonID == personID && p.HasRole(app.RolePerson, app.RoleCarer)
	if problems := checkSession(&in, now, self); len(problems) > 0 {
		return Saved{}, problems.Err()
	}
	at := now
	if in.At != nil {
		at = in.At.UTC().Truncate(time.Microsecond)
	}
	var out Saved
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		team, err := teamOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		a := actor(p, v)
		if err := tx.QueryRowContext(ctx, `INSERT INTO dialog_sessions (person_id, team_id, at, stage, alone, followup, recorded_by_user_id, recorded_role, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, personID, nullID(team), at, string(in.Stage), v.self, in.Followup,
			nullID(p.UserID), string(a.Role), now).Scan(&out.ID); err != nil {
			return err
		}
		for _, r := range in.Ratings {
			if _, err := tx.ExecContext(ctx, "INSERT INTO dialog_ratings (session_id, item, rating, more_help) VALUES ($1, $2, $3, $4)",
				out.ID, string(r.Item), r.Rating, r.MoreHelp); err != nil {
				return err
			}
		}
		texts := []string{in.Followup}
		for i, d := range in.Discussions {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dialog_discussions (session_id, item, position, understanding, looking_forward, options, actions)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, out.ID, string(d.Item), i+1, d.Understanding, d.LookingForward, d.Options, d.Actions); err != nil {
				return err
			}
			texts = append(texts, d.Understanding, d.LookingForward, d.Options, d.Actions)
		}
		org, err := orgOf(ctx, tx, team)
		if err != nil {
			return err
		}
		// Low personal safety is signposted as risk language is.
		lowSafety := false
		for _, r := range in.Ratings {
			lowSafety = lowSafety || (r.Item == Safety && r.Rating <= 2)
		}
		if s.risky(ctx, org, texts...) {
			out.Signpost = &HelpNow
			if v.self {
				if err := s.raise(ctx, tx, Concern{PersonID: personID, TeamID: team, Source: "dialog", ObjectID: out.ID, At: now,
					Actor: p.ActorFor(app.PermRecoveryPlan)}); err != nil {
					return err
				}
			}
		} else if lowSafety {
			out.Signpost = &HelpNow
		}
		return audit.Record(ctx, tx, now, a, audit.Event{Action: "dialog.create", SubjectPersonID: personID, ObjectType: "dialog_session", ObjectID: fmt.Sprint(out.ID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermRecoveryPlan, "dialog.create", "person", personID, "The person")
	}
	return out, nil
}

// Dialog is a person's DIALOG+ history, newest first, with the charts'
// data and what was agreed last time.
type Dialog struct {
	PersonID   int64     `json:"person_id"`
	PersonName string    `json:"person_name"`
	Sessions   []Session `json:"sessions"`
	// LastActions are the actions agreed at the most recent session that
	// had any: they come back at the next one.
	LastActions []Discussion `json:"last_actions"`
	// Prefill is a session the person filled in on their own in the last
	// 14 days, since the last session with staff: a worker recording the
	// meeting starts from it.
	Prefill *Session `json:"prefill,omitempty"`
}

// GetDialog returns a person's DIALOG+ sessions (at most 200, newest first),
// audited as one read. Someone the caller may not see is not found.
func (s *Service) GetDialog(ctx context.Context, p *app.Principal, personID int64) (Dialog, error) {
	d := Dialog{PersonID: personID, Sessions: []Session{}, LastActions: []Discussion{}}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		if d.PersonName, err = personName(ctx, tx, p, personID); err != nil {
			return err
		}
		if d.Sessions, err = sessionsOf(ctx, tx, p, personID, maxSessions); err != nil {
			return err
		}
		d.LastActions, d.Prefill = carried(d.Sessions, s.Clock.Now())
		record(actor(p, v), audit.Event{Action: "dialog.read", SubjectPersonID: personID, ObjectType: "person", ObjectID: fmt.Sprint(personID)})
		return nil
	})
	if err != nil {
		return d, s.denied(ctx, err, p, app.PermRecoveryPlan, "dialog.read", "person", personID, "The person")
	}
	return d, nil
}

// carried finds what a new session starts from: the actions agreed at the
// latest session that agreed any, and a self-completed session since the
// last one with staff.
func carried(sessions []Session, now time.Time) ([]Discussion, *Session) {
	actions := []Discussion{}
	for _, se := range sessions {
		for _, d := range se.Discussions {
			if strings.TrimSpace(d.Actions) != "" {
				actions = append(actions, d)
			}
		}
		if len(actions) > 0 {
			break
		}
	}
	var prefill *Session
	if len(sessions) > 0 && sessions[0].Alone && now.Sub(sessions[0].At) <= 14*24*time.Hour {
		se := sessions[0]
		prefill = &se
	}
	return actions, prefill
}

// sessionsOf loads a person's sessions, newest first, for a person the
// caller was checked to see in the same transaction.
func sessionsOf(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64, limit int) ([]Session, error) {
	return loadSessions(ctx, tx, p, personID, 0, limit)
}

// loadSessions loads a person's sessions, newest first: only the one with
// id only when it is not 0, so a session is found however old it is.
func loadSessions(ctx context.Context, tx *store.Tx, p *app.Principal, personID, only int64, limit int) ([]Session, error) {
	a := store.NewArgs(personID, limit)
	which := ""
	if only != 0 {
		which = " AND s.id = " + a.Add(only)
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.at, s.stage, s.alone, s.followup, COALESCE(u.name, '')
		FROM dialog_sessions s LEFT JOIN users u ON u.id = s.recorded_by_user_id
		WHERE s.person_id = $1`+which+` AND `+inScope(p, a, "s.person_id")+` ORDER BY s.at DESC, s.id DESC LIMIT $2`, a.Values()...)
	if err != nil {
		return nil, err
	}
	out := []Session{}
	byID := map[int64]int{}
	for rows.Next() {
		var se Session
		if err := rows.Scan(&se.ID, &se.At, &se.Stage, &se.Alone, &se.Followup, &se.RecordedBy); err != nil {
			rows.Close()
			return nil, err
		}
		se.PersonID = personID
		se.At = se.At.UTC()
		se.Ratings, se.Discussions = []Rating{}, []Discussion{}
		byID[se.ID] = len(out)
		out = append(out, se)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// The ratings and discussions of the sessions read: those since the
	// oldest of them, or the one asked for.
	since := func() (*store.Args, string) {
		a := store.NewArgs(personID)
		if only != 0 {
			return a, " AND s.id = " + a.Add(only)
		}
		return a, " AND s.at >= " + a.Add(out[len(out)-1].At)
	}
	a, which = since()
	rows, err = tx.QueryContext(ctx, `SELECT r.session_id, r.item, r.rating, r.more_help FROM dialog_ratings r
		JOIN dialog_sessions s ON s.id = r.session_id WHERE s.person_id = $1`+which+` AND `+inScope(p, a, "s.person_id"), a.Values()...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var r Rating
		if err := rows.Scan(&id, &r.Item, &r.Rating, &r.MoreHelp); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].Ratings = append(out[i].Ratings, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	a, which = since()
	rows, err = tx.QueryContext(ctx, `SELECT d.session_id, d.item, d.understanding, d.looking_forward, d.options, d.actions FROM dialog_discussions d
		JOIN dialog_sessions s ON s.id = d.session_id WHERE s.person_id = $1`+which+` AND `+inScope(p, a, "s.person_id")+`
		ORDER BY d.session_id, d.position`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var d Discussion
		if err := rows.Scan(&id, &d.Item, &d.Understanding, &d.LookingForward, &d.Options, &d.Actions); err != nil {
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].Discussions = append(out[i].Discussions, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	order := ItemCodes()
	for i := range out {
		slices.SortFunc(out[i].Ratings, func(a, b Rating) int {
			return slices.Index(order, string(a.Item)) - slices.Index(order, string(b.Item))
		})
		sum := 0
		for _, r := range out[i].Ratings {
			sum += r.Rating
		}
		if n := len(out[i].Ratings); n > 0 {
			out[i].Mean = float64(sum) / float64(n)
		}
	}
	return out, nil
}

// GetSession returns one DIALOG+ session, audited as a read, for the
// person or staff who may see them; anyone else gets not found.
func (s *Service) GetSession(ctx context.Context, p *app.Principal, id int64) (Session, error) {
	var out Session
	var personID int64
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if err := tx.QueryRowContext(ctx, "SELECT person_id FROM dialog_sessions WHERE id = $1", id).Scan(&personID); err != nil {
			return notVisible(err)
		}
		v, err := viewerOf(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		one, err := loadSessions(ctx, tx, p, personID, id, 1)
		if err != nil {
			return err
		}
		if len(one) != 1 {
			return notVisible(nil)
		}
		out = one[0]
		record(actor(p, v), audit.Event{Action: "dialog.read", SubjectPersonID: personID, ObjectType: "dialog_session", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermRecoveryPlan, "dialog.read", "dialog_session", id, "The DIALOG+ session")
	}
	return out, nil
}
