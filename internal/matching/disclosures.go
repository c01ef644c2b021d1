package matching

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

var errNotVisible = access.ErrNotVisible

// Disclosure is one item of a worker's lived experience, in their words.
type Disclosure struct {
	ID          int64     `json:"id"`
	WorkerID    int64     `json:"worker_id"`
	Text        string    `json:"text"`
	Themes      []string  `json:"themes"`
	ThemeLabels []string  `json:"theme_labels"`
	Audience    string    `json:"audience" doc:"nobody, lead, supported, team or public."`
	ForMatching bool      `json:"for_matching" doc:"The worker agrees the item's themes may be used for matching. Shortlists then say a worker shares an experience a person asked for; the words are never shown there."`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Disclosures are the items of one worker the caller may see.
type Disclosures struct {
	WorkerID int64        `json:"worker_id"`
	Name     string       `json:"name"`
	Items    []Disclosure `json:"items" doc:"Only the items whose audience includes the caller; nothing says whether there are others."`
	MayEdit  bool         `json:"may_edit"`
	Themes   []Theme      `json:"themes" doc:"The themes the worker chooses from."`
}

// NewDisclosure is an item a worker adds.
type NewDisclosure struct {
	Text        string   `json:"text" required:"true" doc:"A short sentence in the worker's own words (500 characters at most)."`
	Themes      []string `json:"themes,omitempty" doc:"Theme codes from the organisation's list."`
	Audience    string   `json:"audience" required:"true" doc:"Who may see it: nobody, lead, supported, team or public."`
	ForMatching bool     `json:"for_matching,omitempty" doc:"The item's themes may be used for matching, whoever may see the words."`
}

// DisclosureChange changes an item; what is left out stays as it is.
type DisclosureChange struct {
	Version     int       `json:"version" required:"true" doc:"The item's version you last saw; a newer one answers 409."`
	Text        *string   `json:"text,omitempty"`
	Themes      *[]string `json:"themes,omitempty"`
	Audience    *string   `json:"audience,omitempty"`
	ForMatching *bool     `json:"for_matching,omitempty"`
}

// DisclosureRead is one time someone other than the worker was shown some
// of their disclosures.
type DisclosureRead struct {
	At         time.Time `json:"at"`
	ReaderName string    `json:"reader_name"`
	ReaderRole string    `json:"reader_role"`
	Items      []int64   `json:"items" doc:"The items shown, by id (an item withdrawn since is still listed)."`
	Withdrawn  int       `json:"withdrawn_since" doc:"How many of those items have been withdrawn since."`
}

// checkDisclosure validates an item's fields.
func checkDisclosure(text *string, themes *[]string, audience *string, offered []app.Choice, p *app.Problems) {
	if text != nil {
		*text = strings.TrimSpace(*text)
		if *text == "" {
			p.Add("text", "Write a short sentence about the experience, in your own words")
		}
		p.CheckLen("text", *text, maxDisclosure, "The item")
	}
	if themes != nil {
		*themes = normaliseList(*themes)
		if len(*themes) > 10 {
			p.Add("themes", "Choose at most 10 themes")
		}
		checkCodes(p, "themes", *themes, offered, "themes")
		*themes = inOrder(*themes, offered)
	}
	if audience != nil {
		*audience = strings.TrimSpace(*audience)
		if !app.HasChoice(Audiences, *audience) {
			p.Add("audience", "Choose who may see this: only you, your team lead, the people you support, your team, or your public profile")
		}
	}
}

const disclosureColumns = `d.id, d.worker_user_id, d.text, d.themes, d.audience, d.for_matching, d.version, d.created_at, d.updated_at`

func scanDisclosure(row interface{ Scan(...any) error }, themes []app.Choice) (Disclosure, error) {
	var d Disclosure
	var js string
	if err := row.Scan(&d.ID, &d.WorkerID, &d.Text, &js, &d.Audience, &d.ForMatching, &d.Version, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return d, err
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if err := fromJSON(js, &d.Themes); err != nil {
		return d, err
	}
	if d.Themes == nil {
		d.Themes = []string{}
	}
	d.ThemeLabels = labels(d.Themes, themes)
	return d, nil
}

// visibleDisclosures reads the worker's items the caller may see, and,
// when the caller is not the worker and was shown any, records the read
// for the worker (in tx, which must be a write transaction).
func (s *Service) visibleDisclosures(ctx context.Context, tx *store.Tx, p *app.Principal, workerID int64, rel relation, now time.Time) ([]Disclosure, error) {
	themes, err := allThemes(ctx, tx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+disclosureColumns+" FROM disclosures d WHERE d.worker_user_id = $1 ORDER BY d.id", workerID)
	if err != nil {
		return nil, err
	}
	out := []Disclosure{}
	for rows.Next() {
		d, err := scanDisclosure(rows, themes)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if mayRead(d.Audience, rel) {
			out = append(out, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rel.Self || len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	for i, d := range out {
		ids[i] = strconv.FormatInt(d.ID, 10)
	}
	role := readingRole(p, rel).Role
	if rel.Supported && !rel.Team && !rel.Lead {
		role = app.RolePerson
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO disclosure_reads (worker_user_id, reader_user_id, reader_role, items, at) VALUES ($1, $2, $3, $4, $5)",
		workerID, nullID(p.UserID), string(role), strings.Join(ids, ","), now)
	return out, err
}

// workerThemes are the themes a worker chooses from: those of their
// teams' organisations.
func workerThemes(ctx context.Context, tx *store.Tx, workerID int64) ([]app.Choice, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT t.organisation_id FROM memberships m JOIN teams t ON t.id = m.team_id
		WHERE m.user_id = $1 ORDER BY t.organisation_id`, workerID)
	if err != nil {
		return nil, err
	}
	var orgs []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		orgs = append(orgs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return themesOffered(ctx, tx, orgs)
}

// ListDisclosures returns the worker's items whose audience includes the
// caller, and records that the caller read them (the worker sees who). A
// worker who does not exist is not found; someone the worker shared
// nothing with gets an empty list, which says nothing about other items.
func (s *Service) ListDisclosures(ctx context.Context, p *app.Principal, workerID int64) (Disclosures, error) {
	now := s.Clock.Now()
	var out Disclosures
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.Exists {
			return errNoWorker
		}
		out = Disclosures{WorkerID: workerID, Name: rel.Name, MayEdit: rel.mayEditDisclosures(), Themes: []Theme{}}
		if out.Items, err = s.visibleDisclosures(ctx, tx, p, workerID, rel, now); err != nil {
			return err
		}
		if rel.Self {
			offered, err := workerThemes(ctx, tx, workerID)
			if err != nil {
				return err
			}
			for _, t := range offered {
				out.Themes = append(out.Themes, Theme{Code: t.Code, Label: t.Label})
			}
		}
		return audit.Record(ctx, tx, now, actorAs(p, readingRole(p, rel)), audit.Event{Action: "disclosure.read", ObjectType: "worker", ObjectID: itoa(workerID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermSignedIn, "disclosure.read", "worker", workerID, "The peer worker")
	}
	return out, nil
}

// AddDisclosure adds an item to the caller's own disclosures. Nobody else
// may: a worker the caller is not is not found.
func (s *Service) AddDisclosure(ctx context.Context, p *app.Principal, workerID int64, in NewDisclosure) (Disclosure, error) {
	now := s.Clock.Now()
	var out Disclosure
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		in := in // checked and filled in below, afresh by each attempt
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.mayEditDisclosures() {
			return errNoWorker
		}
		offered, err := allThemes(ctx, tx)
		if err != nil {
			return err
		}
		var problems app.Problems
		checkDisclosure(&in.Text, &in.Themes, &in.Audience, offered, &problems)
		if err := problems.Err(); err != nil {
			return err
		}
		// The worker's lock makes the count and the insert one step.
		if err := lockWorkers(ctx, tx, []int64{workerID}); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM disclosures WHERE worker_user_id = $1", workerID).Scan(&n); err != nil {
			return err
		}
		if n >= 50 {
			return app.Errorf(app.CodeConflict, "You have 50 items already: withdraw one before adding another")
		}
		if in.Themes == nil {
			in.Themes = []string{}
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO disclosures (worker_user_id, text, themes, audience, for_matching, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING id`, workerID, in.Text, jsonText(in.Themes), in.Audience, in.ForMatching, now).Scan(&id); err != nil {
			return err
		}
		if out, err = scanDisclosure(tx.QueryRowContext(ctx, "SELECT "+disclosureColumns+" FROM disclosures d WHERE d.id = $1", id), offered); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actorAs(p, readingRole(p, rel)), audit.Event{Action: "disclosure.create", ObjectType: "worker", ObjectID: itoa(workerID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermWorkerProfile, "disclosure.create", "worker", workerID, "The peer worker")
	}
	return out, nil
}

// itemFor loads one of a worker's items for a change, locked: an item the
// caller may not see is not found; one they may see but not change (a lead
// shown it) is forbidden.
func itemFor(ctx context.Context, tx *store.Tx, rel relation, workerID, itemID int64, themes []app.Choice) (Disclosure, error) {
	d, err := scanDisclosure(tx.QueryRowContext(ctx, "SELECT "+disclosureColumns+" FROM disclosures d WHERE d.id = $1 AND d.worker_user_id = $2"+
		tx.Dialect.ForUpdate(), itemID, workerID), themes)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !mayRead(d.Audience, rel)) {
		return d, errNoWorker
	}
	if err != nil {
		return d, err
	}
	if !rel.mayEditDisclosures() {
		return d, app.Errorf(app.CodeForbidden, "Only %s can change or withdraw their own disclosures", rel.Name)
	}
	return d, nil
}

// ChangeDisclosure changes one of the caller's own items, with immediate
// effect: a narrower audience hides it from everyone it no longer
// includes on their next request.
func (s *Service) ChangeDisclosure(ctx context.Context, p *app.Principal, workerID, itemID int64, in DisclosureChange) (Disclosure, error) {
	now := s.Clock.Now()
	var out Disclosure
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.Exists {
			return errNoWorker
		}
		themes, err := allThemes(ctx, tx)
		if err != nil {
			return err
		}
		d, err := itemFor(ctx, tx, rel, workerID, itemID, themes)
		if err != nil {
			return err
		}
		var problems app.Problems
		checkDisclosure(in.Text, in.Themes, in.Audience, themes, &problems)
		if err := problems.Err(); err != nil {
			return err
		}
		if in.Version != d.Version {
			return app.Errorf(app.CodeConflict, "This item was changed since you opened it. Check it and try again.")
		}
		if in.Text != nil {
			d.Text = *in.Text
		}
		if in.Themes != nil {
			d.Themes = *in.Themes
		}
		if in.Audience != nil {
			d.Audience = *in.Audience
		}
		if in.ForMatching != nil {
			d.ForMatching = *in.ForMatching
		}
		res, err := tx.ExecContext(ctx, `UPDATE disclosures SET text = $1, themes = $2, audience = $3, for_matching = $4, version = version + 1, updated_at = $5
			WHERE id = $6 AND version = $7`, d.Text, jsonText(d.Themes), d.Audience, d.ForMatching, now, d.ID, d.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.Errorf(app.CodeConflict, "This item was changed at the same moment. Check it and try again.")
		}
		if out, err = scanDisclosure(tx.QueryRowContext(ctx, "SELECT "+disclosureColumns+" FROM disclosures d WHERE d.id = $1", d.ID), themes); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actorAs(p, readingRole(p, rel)), audit.Event{Action: "disclosure.update", ObjectType: "worker", ObjectID: itoa(workerID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermWorkerProfile, "disclosure.update", "worker", workerID, "The disclosure")
	}
	return out, nil
}

// WithdrawDisclosure deletes one of the caller's own items at once. Who
// read it before stays in the worker's record of reads.
func (s *Service) WithdrawDisclosure(ctx context.Context, p *app.Principal, workerID, itemID int64) error {
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.Exists {
			return errNoWorker
		}
		if _, err := itemFor(ctx, tx, rel, workerID, itemID, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM disclosures WHERE id = $1 AND worker_user_id = $2", itemID, workerID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actorAs(p, readingRole(p, rel)), audit.Event{Action: "disclosure.withdraw", ObjectType: "worker", ObjectID: itoa(workerID)})
	})
	return s.denied(ctx, err, p, app.PermWorkerProfile, "disclosure.withdraw", "worker", workerID, "The disclosure")
}

// DisclosureReads lists, for the worker themselves, who has been shown
// their disclosures, newest first. Nobody else may see this.
func (s *Service) DisclosureReads(ctx context.Context, p *app.Principal, workerID int64, limit int) ([]DisclosureRead, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	out := []DisclosureRead{}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.Self {
			return errNoWorker
		}
		var err2 error
		if out, err2 = readsOf(ctx, tx, workerID, limit); err2 != nil {
			return err2
		}
		record(actorAs(p, readingRole(p, rel)), audit.Event{Action: "disclosure.reads", ObjectType: "worker", ObjectID: itoa(workerID)})
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermWorkerProfile, "disclosure.reads", "worker", workerID, "The peer worker")
	}
	return out, nil
}

func readsOf(ctx context.Context, tx *store.Tx, workerID int64, limit int) ([]DisclosureRead, error) {
	existing := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT id FROM disclosures WHERE worker_user_id = $1", workerID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		existing[id] = true
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT dr.at, COALESCE(u.name, ''), dr.reader_role, dr.items FROM disclosure_reads dr LEFT JOIN users u ON u.id = dr.reader_user_id
		WHERE dr.worker_user_id = $1 ORDER BY dr.id DESC LIMIT $2`, workerID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DisclosureRead{}
	for rows.Next() {
		var r DisclosureRead
		var items string
		if err := rows.Scan(&r.At, &r.ReaderName, &r.ReaderRole, &items); err != nil {
			return nil, err
		}
		r.At = r.At.UTC()
		r.Items = []int64{}
		for _, s := range strings.Split(items, ",") {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				r.Items = append(r.Items, id)
				if !existing[id] {
					r.Withdrawn++
				}
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WorkerView is a worker's page as the caller may see it: for the worker,
// everything with who has read their disclosures; for a lead of their
// team, the profile and the items shared with the lead; for anyone else,
// the items shared with them.
type WorkerView struct {
	WorkerID    int64            `json:"worker_id"`
	Name        string           `json:"name"`
	Self        bool             `json:"self"`
	Profile     *WorkerProfile   `json:"profile,omitempty"`
	Disclosures []Disclosure     `json:"disclosures"`
	Reads       []DisclosureRead `json:"reads,omitempty"`
	Themes      []Theme          `json:"themes"`
}

// View builds a worker's page for the caller in one transaction, with one
// audit row, recording for the worker the disclosures shown to anyone
// else. A worker who does not exist is not found.
func (s *Service) View(ctx context.Context, p *app.Principal, workerID int64) (WorkerView, error) {
	now := s.Clock.Now()
	var v WorkerView
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		rel, err := relationTo(ctx, tx, p, workerID)
		if err != nil {
			return err
		}
		if !rel.Exists {
			return errNoWorker
		}
		v = WorkerView{WorkerID: workerID, Name: rel.Name, Self: rel.Self, Themes: []Theme{}}
		if rel.mayReadProfile() {
			ws, err := loadWorkers(ctx, tx, []int64{workerID})
			if err != nil {
				return err
			}
			wp, err := s.profileFor(ctx, tx, p, rel, ws[workerID])
			if err != nil {
				return err
			}
			v.Profile = &wp
		}
		if v.Disclosures, err = s.visibleDisclosures(ctx, tx, p, workerID, rel, now); err != nil {
			return err
		}
		if rel.Self {
			if v.Reads, err = readsOf(ctx, tx, workerID, 100); err != nil {
				return err
			}
			offered, err := workerThemes(ctx, tx, workerID)
			if err != nil {
				return err
			}
			every, err := allThemes(ctx, tx)
			if err != nil {
				return err
			}
			for _, d := range v.Disclosures {
				for _, t := range d.Themes {
					if !app.HasChoice(offered, t) {
						offered = append(offered, app.Choice{Code: t, Label: app.ChoiceLabel(every, t)})
					}
				}
			}
			for _, t := range offered {
				v.Themes = append(v.Themes, Theme{Code: t.Code, Label: t.Label})
			}
		}
		return audit.Record(ctx, tx, now, actorAs(p, readingRole(p, rel)), audit.Event{Action: "worker.view", ObjectType: "worker", ObjectID: itoa(workerID)})
	})
	if err != nil {
		return v, s.denied(ctx, err, p, app.PermSignedIn, "worker.view", "worker", workerID, "The peer worker")
	}
	return v, nil
}
