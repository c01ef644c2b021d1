package groups

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/store"
)

// Service is the groups capability.
type Service struct {
	DB      *store.DB
	Clock   app.Clock
	Audit   *audit.Log
	Notify  *notify.Service
	BaseURL string
	// Suppress hides small counts in the groups' insight.
	Suppress stats.Suppressor
	// References makes the reference of each booking (nil: random ones);
	// tests set it to force a clash.
	References func() string
}

// NewGroup is what a lead says about a new group or event.
type NewGroup struct {
	TeamID     int64      `json:"team_id" required:"true" doc:"The team that runs it: one you lead (a team of the trust, a partner agency or the peer network)."`
	Title      string     `json:"title" required:"true"`
	Summary    string     `json:"summary,omitempty" doc:"What happens at it, who it is for."`
	Repeats    Repeats    `json:"repeats" required:"true" doc:"once, weekly, fortnightly or monthly"`
	Visibility Visibility `json:"visibility" required:"true" doc:"public, members or invitation"`
	Booking    string     `json:"booking,omitempty" doc:"required (the default) or drop_in"`
	Capacity   int        `json:"capacity,omitempty" doc:"Places at each session (default 12)."`
	MaxPlaces  int        `json:"max_places,omitempty" doc:"The most places one booking may take, for a companion or carer (default 2)."`
	HoldHours  int        `json:"hold_hours,omitempty" doc:"How long an offered place is held (default 24 hours)."`
	Venue      Venue      `json:"venue"`
	// FacilitatorIDs are the rota: staff accounts who facilitate its
	// sessions.
	FacilitatorIDs []int64 `json:"facilitator_ids,omitempty" doc:"The rota: staff accounts who may facilitate its sessions."`
	ProposalID     int64   `json:"proposal_id,omitempty" doc:"A network proposal this group takes up: the proposal is answered with it."`
}

func (g *NewGroup) normalise(p *app.Principal) error {
	var pr app.Problems
	if g.TeamID == 0 {
		pr.Add("team_id", "Choose the team that runs it")
	} else if !leads(p, g.TeamID) {
		pr.Add("team_id", "Choose a team whose groups you run")
	}
	g.check(&pr)
	return pr.Err()
}

// check tidies and checks a group's details (all but its team), as made
// or changed, adding a problem per field.
func (g *NewGroup) check(pr *app.Problems) {
	g.Title, g.Summary, g.Booking = strings.TrimSpace(g.Title), strings.TrimSpace(g.Summary), strings.TrimSpace(g.Booking)
	v := &g.Venue
	for _, f := range []*string{&v.Name, &v.Address, &v.Transport, &v.AccessNotes, &v.OnlineLink} {
		*f = strings.TrimSpace(*f)
	}
	if g.Title == "" {
		pr.Add("title", "Enter the group's name")
	}
	pr.CheckLen("title", g.Title, 120, "The name")
	pr.CheckLen("summary", g.Summary, 2000, "The description")
	if !app.HasChoice(RepeatChoices, string(g.Repeats)) {
		pr.Add("repeats", "Choose how often it meets: once, every week, every two weeks or every month")
	}
	if !app.HasChoice(VisibilityChoices, string(g.Visibility)) {
		pr.Add("visibility", "Choose who can see it")
	}
	if g.Booking == "" {
		g.Booking = "required"
	}
	if !app.HasChoice(BookingChoices, g.Booking) {
		pr.Add("booking", "Choose whether people need to book")
	}
	if g.Capacity == 0 {
		g.Capacity = DefaultCapacity
	}
	if g.Capacity < 1 || g.Capacity > 500 {
		pr.Add("capacity", "Places must be a number from 1 to 500")
	}
	if g.MaxPlaces == 0 {
		g.MaxPlaces = min(DefaultMaxPlaces, max(g.Capacity, 1))
	}
	if g.MaxPlaces < 1 || g.MaxPlaces > 10 {
		pr.Add("max_places", "Places per booking must be a number from 1 to 10")
	} else if g.MaxPlaces > g.Capacity && !pr.Has("capacity") {
		pr.Add("max_places", "Places per booking cannot be more than the places at each session")
	}
	if g.HoldHours == 0 {
		g.HoldHours = DefaultHoldHours
	}
	if g.HoldHours < 1 || g.HoldHours > 168 {
		pr.Add("hold_hours", "How long to hold an offered place must be from 1 to 168 hours")
	}
	if v.Online {
		if v.OnlineLink != "" {
			if u, err := url.Parse(v.OnlineLink); err != nil || u.Scheme != "https" || u.Host == "" {
				pr.Add("venue.online_link", "Enter the link to join, starting https://")
			}
		}
	} else if v.Name == "" && v.Address == "" {
		pr.Add("venue.name", "Enter where it meets, or say it is online")
	}
	pr.CheckLen("venue.name", v.Name, 200, "The venue's name")
	pr.CheckLen("venue.address", v.Address, 500, "The address")
	pr.CheckLen("venue.transport", v.Transport, 500, "Nearest transport")
	pr.CheckLen("venue.access_notes", v.AccessNotes, 1000, "Access information")
	pr.CheckLen("venue.online_link", v.OnlineLink, 500, "The link")
	if len(g.FacilitatorIDs) > 20 {
		pr.Add("facilitator_ids", "Choose at most 20 facilitators")
	}
}

// checkFacilitators refuses accounts that cannot facilitate: each must be
// an active account with a staff role that runs sessions.
func checkFacilitators(ctx context.Context, tx *store.Tx, ids []int64) error {
	for _, id := range ids {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u JOIN memberships m ON m.user_id = u.id
			WHERE u.id = $1 AND u.status = 'active' AND m.role IN ('peer_worker', 'peer_lead', 'clinician', 'partner_worker')`, id).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return app.Invalid(app.FieldError{Field: "facilitator_ids", Message: "Choose facilitators from the staff who run sessions: peer workers, peer leads, clinicians or partner workers"})
		}
	}
	return nil
}

// CreateGroup makes a group or event run by one of the caller's teams.
// Taking up a network proposal answers it in the same transaction.
func (s *Service) CreateGroup(ctx context.Context, p *app.Principal, in NewGroup) (Group, error) {
	if err := in.normalise(p); err != nil {
		return Group{}, err
	}
	in.FacilitatorIDs = slices.Compact(slices.Sorted(slices.Values(in.FacilitatorIDs)))
	now := s.Clock.Now()
	var id int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := checkFacilitators(ctx, tx, in.FacilitatorIDs); err != nil {
			return err
		}
		invite := ""
		if in.Visibility == Invitation {
			invite = app.NewSecret(12)
		}
		v := in.Venue
		err := tx.QueryRowContext(ctx, `INSERT INTO peer_groups (team_id, title, summary, repeats, visibility, invite_code, booking, capacity,
			max_places, hold_hours, online, online_link, venue_name, venue_address, step_free, hearing_loop, quiet_room, transport,
			access_notes, proposal_id, created_by_user_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22) RETURNING id`,
			in.TeamID, in.Title, in.Summary, in.Repeats, in.Visibility, invite, in.Booking, in.Capacity, in.MaxPlaces, in.HoldHours,
			v.Online, v.OnlineLink, v.Name, v.Address, v.StepFree, v.HearingLoop, v.QuietRoom, v.Transport, v.AccessNotes,
			nullID(in.ProposalID), nullID(p.UserID), now).Scan(&id)
		if err != nil {
			return err
		}
		for _, u := range in.FacilitatorIDs {
			if _, err := tx.ExecContext(ctx, "INSERT INTO group_facilitators (group_id, user_id, added_at) VALUES ($1, $2, $3)", id, u, now); err != nil {
				return err
			}
		}
		if in.ProposalID != 0 {
			if err := s.takeUp(ctx, tx, p, in.ProposalID, id, in.Title, now); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "group.create", ObjectType: "group", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return Group{}, err
	}
	return s.GetGroup(ctx, p, id, "")
}

const groupColumns = `g.id, g.team_id, t.name, o.id, o.name, o.kind, g.title, g.summary, g.repeats, g.visibility, g.invite_code, g.booking,
	g.capacity, g.max_places, g.hold_hours, g.online, g.online_link, g.venue_name, g.venue_address, g.step_free, g.hearing_loop,
	g.quiet_room, g.transport, g.access_notes, g.created_at`

const groupFrom = ` FROM peer_groups g JOIN teams t ON t.id = g.team_id JOIN organisations o ON o.id = t.organisation_id`

func scanGroup(row interface{ Scan(...any) error }) (Group, error) {
	var g Group
	v := &g.Venue
	err := row.Scan(&g.ID, &g.TeamID, &g.TeamName, &g.OrgID, &g.OrgName, &g.OrgKind, &g.Title, &g.Summary, &g.Repeats, &g.Visibility,
		&g.InviteCode, &g.Booking, &g.Capacity, &g.MaxPlaces, &g.HoldHours, &v.Online, &v.OnlineLink, &v.Name, &v.Address, &v.StepFree,
		&v.HearingLoop, &v.QuietRoom, &v.Transport, &v.AccessNotes, &g.CreatedAt)
	return g, err
}

// present hides what only the group's leads (and people booked) see.
func present(p *app.Principal, g *Group) {
	g.Manage = leads(p, g.TeamID)
	if !g.Manage {
		g.InviteCode = ""
		g.Venue.OnlineLink = ""
	}
}

// Filter narrows a list of groups.
type Filter struct {
	TeamID         int64
	OrganisationID int64
	Query          string
}

// ListGroups returns the groups the caller may see that have sessions
// coming (or that the caller runs), each with its coming sessions as
// counts only: nobody's booking is read.
func (s *Service) ListGroups(ctx context.Context, p *app.Principal, f Filter) ([]Group, error) {
	now := s.Clock.Now()
	a := store.NewArgs(now)
	conds := []string{visibleGroups(p, a, "")}
	if f.TeamID != 0 {
		conds = append(conds, "g.team_id = "+a.Add(f.TeamID))
	}
	if f.OrganisationID != 0 {
		conds = append(conds, "t.organisation_id = "+a.Add(f.OrganisationID))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := a.Add("%" + strings.ToLower(q) + "%")
		conds = append(conds, "(LOWER(g.title) LIKE "+like+" OR LOWER(g.summary) LIKE "+like+")")
	}
	coming := "EXISTS (SELECT 1 FROM group_sessions cs WHERE cs.group_id = g.id AND cs.ends_at > $1)"
	if teams := ManagedTeams(p); len(teams) > 0 {
		coming = "(" + coming + " OR g.team_id IN " + store.In(a, teams...) + ")"
	}
	conds = append(conds, coming)
	var out []Group
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+groupColumns+groupFrom+" WHERE "+strings.Join(conds, " AND ")+" ORDER BY g.title, g.id LIMIT 500", a.Values()...)
		if err != nil {
			return err
		}
		for rows.Next() {
			g, err := scanGroup(rows)
			if err != nil {
				rows.Close()
				return err
			}
			present(p, &g)
			out = append(out, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]int64, len(out))
		for i, g := range out {
			ids[i] = g.ID
		}
		sessions, err := s.sessionsOf(ctx, tx, ids, now, 6)
		if err != nil {
			return err
		}
		for i := range out {
			out[i].Sessions = sessions[out[i].ID]
			if out[i].Sessions == nil {
				out[i].Sessions = []Session{}
			}
			out[i].Facilitators = []Person{}
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b Group) int { return compareNext(a, b) })
	return out, err
}

// compareNext orders groups by their next session.
func compareNext(a, b Group) int {
	switch {
	case len(a.Sessions) == 0 && len(b.Sessions) == 0:
		return 0
	case len(a.Sessions) == 0:
		return 1
	case len(b.Sessions) == 0:
		return -1
	}
	return a.Sessions[0].StartsAt.Compare(b.Sessions[0].StartsAt)
}

const sessionColumns = `s.id, s.group_id, g.title, s.starts_at, s.ends_at, s.status, s.cancel_reason, s.capacity, s.places_held, g.booking,
	(SELECT COUNT(*) FROM group_bookings wb WHERE wb.session_id = s.id AND wb.status = 'waiting')`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var s Session
	var held int
	err := row.Scan(&s.ID, &s.GroupID, &s.GroupTitle, &s.StartsAt, &s.EndsAt, &s.Status, &s.CancelReason, &s.Capacity, &held, &s.Booking, &s.Waiting)
	s.PlacesLeft = max(s.Capacity-held, 0)
	s.StartsAt, s.EndsAt = s.StartsAt.UTC(), s.EndsAt.UTC()
	return s, err
}

// sessionsOf loads up to limit coming sessions of each group (all, when
// limit is 0), with their facilitators.
func (s *Service) sessionsOf(ctx context.Context, tx *store.Tx, groupIDs []int64, from time.Time, limit int) (map[int64][]Session, error) {
	out := map[int64][]Session{}
	if len(groupIDs) == 0 {
		return out, nil
	}
	a := store.NewArgs(from)
	rows, err := tx.QueryContext(ctx, "SELECT "+sessionColumns+` FROM group_sessions s JOIN peer_groups g ON g.id = s.group_id
		WHERE s.ends_at > $1 AND s.group_id IN `+a.IDs(tx.Dialect, groupIDs)+` ORDER BY s.starts_at, s.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if limit > 0 && len(out[se.GroupID]) >= limit {
			continue
		}
		out[se.GroupID] = append(out[se.GroupID], se)
		ids = append(ids, se.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fac, err := facilitatorsOf(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for g, list := range out {
		for i := range list {
			list[i].Facilitators = fac[list[i].ID]
			if list[i].Facilitators == nil {
				list[i].Facilitators = []Person{}
			}
		}
		out[g] = list
	}
	return out, nil
}

func facilitatorsOf(ctx context.Context, tx *store.Tx, sessionIDs []int64) (map[int64][]Person, error) {
	out := map[int64][]Person{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	a := &store.Args{}
	rows, err := tx.QueryContext(ctx, `SELECT sf.session_id, u.id, u.name FROM session_facilitators sf JOIN users u ON u.id = sf.user_id
		WHERE sf.session_id IN `+a.IDs(tx.Dialect, sessionIDs)+` ORDER BY u.name, u.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sid int64
		var pe Person
		if err := rows.Scan(&sid, &pe.UserID, &pe.Name); err != nil {
			return nil, err
		}
		out[sid] = append(out[sid], pe)
	}
	return out, rows.Err()
}

// visibleGroup loads a group the caller may see, inside tx.
func visibleGroup(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, invite string) (Group, error) {
	a := store.NewArgs(id)
	g, err := scanGroup(tx.QueryRowContext(ctx, "SELECT "+groupColumns+groupFrom+" WHERE g.id = $1 AND "+visibleGroups(p, a, invite), a.Values()...))
	if errors.Is(err, sql.ErrNoRows) {
		return g, access.ErrNotVisible
	}
	return g, err
}

// GetGroup returns a group the caller may see (invite is the code from an
// invitation link, or ""), with its coming sessions; its leads also see
// the last month's. A group the caller may not see is not found.
func (s *Service) GetGroup(ctx context.Context, p *app.Principal, id int64, invite string) (Group, error) {
	var g Group
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		if g, err = visibleGroup(ctx, tx, p, id, invite); err != nil {
			return err
		}
		present(p, &g)
		from := s.Clock.Now()
		if g.Manage {
			from = from.AddDate(0, -1, 0)
		}
		sessions, err := s.sessionsOf(ctx, tx, []int64{id}, from, 0)
		if err != nil {
			return err
		}
		g.Sessions = sessions[id]
		if g.Sessions == nil {
			g.Sessions = []Session{}
		}
		if g.Facilitators, err = rota(ctx, tx, id); err != nil {
			return err
		}
		if g.Manage {
			g.Version = detailsVersion(g, g.Facilitators)
		}
		return nil
	})
	if errors.Is(err, access.ErrNotVisible) {
		return g, app.NotFound("The group")
	}
	return g, err
}

func rota(ctx context.Context, tx *store.Tx, groupID int64) ([]Person, error) {
	rows, err := tx.QueryContext(ctx, `SELECT u.id, u.name FROM group_facilitators gf JOIN users u ON u.id = gf.user_id
		WHERE gf.group_id = $1 ORDER BY gf.added_at, u.id`, groupID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Person{}
	for rows.Next() {
		var pe Person
		if err := rows.Scan(&pe.UserID, &pe.Name); err != nil {
			return nil, err
		}
		out = append(out, pe)
	}
	return out, rows.Err()
}

// SessionDetail is one session with its group, as anyone who may see the
// group sees it.
type SessionDetail struct {
	Session Session `json:"session"`
	Group   Group   `json:"group"`
	// Facilitating is set when the caller may see its participants.
	Facilitating bool `json:"facilitating"`
}

// GetSession returns a session of a group the caller may see: counts
// only, never who is booked.
func (s *Service) GetSession(ctx context.Context, p *app.Principal, id int64, invite string) (SessionDetail, error) {
	var d SessionDetail
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var gid int64
		if err := tx.QueryRowContext(ctx, "SELECT group_id FROM group_sessions WHERE id = $1", id).Scan(&gid); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return access.ErrNotVisible
			}
			return err
		}
		g, err := visibleGroup(ctx, tx, p, gid, invite)
		if err != nil {
			return err
		}
		present(p, &g)
		se, err := scanSession(tx.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM group_sessions s JOIN peer_groups g ON g.id = s.group_id WHERE s.id = $1", id))
		if err != nil {
			return err
		}
		fac, err := facilitatorsOf(ctx, tx, []int64{id})
		if err != nil {
			return err
		}
		se.Facilitators = fac[id]
		if se.Facilitators == nil {
			se.Facilitators = []Person{}
		}
		g.Sessions = []Session{}
		if g.Facilitators, err = rota(ctx, tx, gid); err != nil {
			return err
		}
		d = SessionDetail{Session: se, Group: g}
		d.Facilitating = g.Manage
		if !d.Facilitating {
			d.Facilitating, err = facilitates(ctx, tx, p, id)
		}
		return err
	})
	if errors.Is(err, access.ErrNotVisible) {
		return d, app.NotFound("The session")
	}
	return d, err
}

// NewSessions adds one session, or a run of them.
type NewSessions struct {
	Start          string  `json:"start" required:"true" doc:"The first session's date and time in UK time: YYYY-MM-DDTHH:MM."`
	Minutes        int     `json:"minutes" required:"true" doc:"How long each session lasts, in minutes (15 to 720)."`
	Repeat         Repeats `json:"repeat,omitempty" doc:"once, weekly, fortnightly or monthly: how the run repeats (default: as the group does)."`
	Count          int     `json:"count,omitempty" doc:"How many sessions to add (1 to 52; default 1)."`
	Capacity       int     `json:"capacity,omitempty" doc:"Places at each (default: the group's)."`
	FacilitatorIDs []int64 `json:"facilitator_ids,omitempty" doc:"Who facilitates each session; by default two from the group's rota, taking turns."`
}

// maxSessionLead is how far ahead sessions may be planned.
const maxSessionLead = 2 * 366 * 24 * time.Hour

// AddSessions adds sessions to a group the caller runs, each on its date
// (recurring runs keep their London wall-clock time across the clocks
// changing), with facilitators from the rota taking turns unless chosen.
func (s *Service) AddSessions(ctx context.Context, p *app.Principal, groupID int64, in NewSessions) ([]Session, error) {
	now := s.Clock.Now()
	var pr app.Problems
	first, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(in.Start), app.London)
	switch {
	case err != nil:
		pr.Add("start", "Enter the date and time of the first session, like 2026-11-03T10:30")
	case !first.After(now):
		pr.Add("start", "The first session must be in the future")
	case first.Sub(now) > maxSessionLead:
		pr.Add("start", "Sessions can be planned up to two years ahead")
	}
	if in.Minutes < 15 || in.Minutes > 720 {
		pr.Add("minutes", "How long it lasts must be from 15 to 720 minutes")
	}
	if in.Count == 0 {
		in.Count = 1
	}
	if in.Count < 1 || in.Count > 52 {
		pr.Add("count", "Add from 1 to 52 sessions at a time")
	}
	if in.Repeat != "" && !app.HasChoice(RepeatChoices, string(in.Repeat)) {
		pr.Add("repeat", "Choose once, every week, every two weeks or every month")
	}
	if in.Capacity != 0 && (in.Capacity < 1 || in.Capacity > 500) {
		pr.Add("capacity", "Places must be a number from 1 to 500")
	}
	if len(in.FacilitatorIDs) > 10 {
		pr.Add("facilitator_ids", "Choose at most 10 facilitators for a session")
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	var ids []int64
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		// A retried transaction (store.DB.Write retries one that met a
		// deadlock or a serialization failure) starts again from nothing.
		ids = ids[:0]
		if err := lockGroup(ctx, tx, groupID); err != nil {
			return err
		}
		g, err := visibleGroup(ctx, tx, p, groupID, "")
		if err != nil {
			return err
		}
		if !leads(p, g.TeamID) {
			return access.ErrNotVisible
		}
		repeat := in.Repeat
		if repeat == "" {
			repeat = g.Repeats
		}
		if repeat == Once && in.Count > 1 {
			return app.Invalid(app.FieldError{Field: "count", Message: "A one-off session is one session: choose how it repeats to add more"})
		}
		capacity := in.Capacity
		if capacity == 0 {
			capacity = g.Capacity
		}
		if capacity < g.MaxPlaces {
			return app.Invalid(app.FieldError{Field: "capacity", Message: fmt.Sprintf("Places must be at least %d, the most one booking may take", g.MaxPlaces)})
		}
		chosen := slices.Compact(slices.Sorted(slices.Values(in.FacilitatorIDs)))
		if err := checkFacilitators(ctx, tx, chosen); err != nil {
			return err
		}
		pool, err := rota(ctx, tx, groupID)
		if err != nil {
			return err
		}
		var done int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM group_sessions WHERE group_id = $1", groupID).Scan(&done); err != nil {
			return err
		}
		starts := SessionStarts(first, repeat, in.Count)
		if starts[len(starts)-1].Sub(now) > maxSessionLead {
			return app.Invalid(app.FieldError{Field: "count", Message: "Sessions can be planned up to two years ahead: add fewer"})
		}
		for i, st := range starts {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO group_sessions (group_id, starts_at, ends_at, capacity, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, 'scheduled', $5, $5) RETURNING id`, groupID, st, st.Add(time.Duration(in.Minutes)*time.Minute), capacity, now).Scan(&id); err != nil {
				return err
			}
			fac := chosen
			if len(fac) == 0 {
				fac = Turns(pool, done+i, 2)
			}
			for _, u := range fac {
				if _, err := tx.ExecContext(ctx, "INSERT INTO session_facilitators (session_id, user_id) VALUES ($1, $2)", id, u); err != nil {
					return err
				}
			}
			ids = append(ids, id)
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermGroupManage), audit.Event{Action: "group.sessions.add", ObjectType: "group",
			ObjectID: fmt.Sprintf("%d sessions=%d", groupID, len(ids))})
	})
	if errors.Is(err, access.ErrNotVisible) {
		return nil, access.Denied(ctx, s.Audit, p, app.PermGroupManage, "group.sessions.add", "group", groupID, "The group", err)
	}
	if err != nil {
		return nil, err
	}
	var out []Session
	err = s.DB.Read(ctx, func(tx *store.Tx) error {
		m, err := s.sessionsOf(ctx, tx, []int64{groupID}, now, 0)
		for _, se := range m[groupID] {
			if slices.Contains(ids, se.ID) {
				out = append(out, se)
			}
		}
		return err
	})
	return out, err
}

// Turns picks the facilitators of the n-th session from the rota: per of
// them, taking turns around the rota so each session shows who, and the
// work is shared.
func Turns(pool []Person, n, per int) []int64 {
	if len(pool) == 0 {
		return nil
	}
	per = min(per, len(pool))
	out := make([]int64, 0, per)
	for i := range per {
		out = append(out, pool[(n*per+i)%len(pool)].UserID)
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// StaffOf lists the active accounts that can facilitate sessions in the
// teams (peer workers, peer leads, clinicians, partner workers), for
// choosing a group's rota.
func (s *Service) StaffOf(ctx context.Context, teamIDs []int64) ([]Person, error) {
	out := []Person{}
	if len(teamIDs) == 0 {
		return out, nil
	}
	a := &store.Args{}
	rows, err := s.DB.Query(ctx, `SELECT DISTINCT u.id, u.name FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE u.status = 'active' AND m.role IN ('peer_worker', 'peer_lead', 'clinician', 'partner_worker') AND m.team_id IN `+store.In(a, teamIDs...)+`
		ORDER BY u.name, u.id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pe Person
		if err := rows.Scan(&pe.UserID, &pe.Name); err != nil {
			return nil, err
		}
		out = append(out, pe)
	}
	return out, rows.Err()
}

// Running lists the sessions the caller facilitates, or runs as a lead,
// from two days ago to a month ahead: counts only.
func (s *Service) Running(ctx context.Context, p *app.Principal) ([]Session, error) {
	out := []Session{}
	if p == nil || p.UserID == 0 || !p.Can(app.PermGroupRun) {
		return out, nil
	}
	now := s.Clock.Now()
	a := store.NewArgs(now.AddDate(0, 0, -2), now.AddDate(0, 1, 0), p.UserID)
	cond := "EXISTS (SELECT 1 FROM session_facilitators sf WHERE sf.session_id = s.id AND sf.user_id = $3)"
	if teams := ManagedTeams(p); len(teams) > 0 {
		cond = "(" + cond + " OR g.team_id IN " + store.In(a, teams...) + ")"
	}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+sessionColumns+` FROM group_sessions s JOIN peer_groups g ON g.id = s.group_id
			WHERE s.starts_at >= $1 AND s.starts_at <= $2 AND `+cond+` ORDER BY s.starts_at, s.id LIMIT 100`, a.Values()...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			se, err := scanSession(rows)
			if err != nil {
				return err
			}
			se.Facilitators = []Person{}
			out = append(out, se)
		}
		return rows.Err()
	})
	return out, err
}
