package watch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/memo"
	"github.com/mutualhq/mutual/internal/store"
)

// Service keeps each organisation's watched terms and checks text against
// them.
//
// Each instance builds an organisation's matcher once and reuses it for
// matcherTTL; a change made here is used at once (the instance forgets the
// matcher when the change commits), a change made on another instance
// within matcherTTL.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	// Audit records changes to the lists.
	Audit *audit.Log

	matchers memo.Map[int64, *Matcher] // by organisation; 0 is every organisation's
}

const matcherTTL = 30 * time.Second

// List is an organisation's watched terms.
type List struct {
	OrganisationID   int64  `json:"organisation_id"`
	OrganisationName string `json:"organisation_name"`
	// Own is false while the organisation uses the default list built into
	// Mutual; its first change makes the list its own (a copy it edits).
	Own bool `json:"own" doc:"false: the organisation uses Mutual's default list. Adding a term, or asking for a copy, makes the list its own."`
	// Version counts the changes to the organisation's own list (0 while
	// it uses the defaults); a whole-list change names the version it was
	// made from.
	Version int    `json:"version" doc:"Counts the changes to the organisation's own list; 0 while it uses Mutual's defaults. PUT /api/v1/watched-words names the version it was made from."`
	Terms   []Term `json:"terms"`
}

// CheckForTeam checks texts against the list of the organisation the team
// belongs to. Team 0 (a referral not yet given a team) is checked against
// every organisation's list together: a message must not go unseen
// because nobody knows yet whose it is.
func (s *Service) CheckForTeam(ctx context.Context, teamID int64, texts ...string) (Result, error) {
	var orgID int64
	if teamID != 0 {
		err := s.DB.QueryRowCached(ctx, "SELECT organisation_id FROM teams WHERE id = $1", teamID).Scan(&orgID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Result{}, err
		}
	}
	return s.Check(ctx, orgID, texts...)
}

// Check checks texts against an organisation's list (0: every
// organisation's), each text on its own, so a phrase never spans two
// answers.
func (s *Service) Check(ctx context.Context, orgID int64, texts ...string) (Result, error) {
	m, err := s.matcher(ctx, orgID)
	if err != nil {
		return Result{}, err
	}
	var rs []Result
	for _, t := range texts {
		rs = append(rs, m.Check(t))
	}
	return Merge(rs...), nil
}

func (s *Service) matcher(ctx context.Context, orgID int64) (*Matcher, error) {
	if m, ok := s.matchers.Get(orgID, matcherTTL); ok {
		return m, nil
	}
	terms, err := s.effectiveTerms(ctx, orgID)
	if err != nil {
		return nil, err
	}
	m, err := Compile(terms)
	if err != nil {
		return nil, err
	}
	s.matchers.Put(orgID, m)
	return m, nil
}

// effectiveTerms is the list used for an organisation: its own, or the
// defaults. For every organisation together (orgID 0) it is every own list
// and, if any organisation still uses them (or there is none), the
// defaults; a phrase on several lists is kept once with its strongest
// action.
func (s *Service) effectiveTerms(ctx context.Context, orgID int64) ([]Term, error) {
	var own, total int
	a := store.NewArgs(orgID)
	err := s.DB.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM watch_lists WHERE $1 = 0 OR organisation_id = $1),
		(SELECT COUNT(*) FROM organisations WHERE $1 = 0 OR id = $1)`, a.Values()...).Scan(&own, &total)
	if err != nil {
		return nil, err
	}
	var terms []Term
	if own < total || total == 0 {
		terms = append(terms, DefaultTerms...)
	}
	rows, err := s.DB.Query(ctx, `SELECT id, phrase, category, action FROM watch_terms WHERE $1 = 0 OR organisation_id = $1 ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t Term
		if err := rows.Scan(&t.ID, &t.Phrase, &t.Category, &t.Action); err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return strongestOnce(terms), nil
}

// strongestOnce keeps each normalised phrase once, with its strongest
// action.
func strongestOnce(terms []Term) []Term {
	at := map[string]int{}
	var out []Term
	for _, t := range terms {
		n := Normalise(t.Phrase)
		if i, ok := at[n]; ok {
			if t.Action.rank() > out[i].Action.rank() {
				out[i] = t
			}
			continue
		}
		at[n] = len(out)
		out = append(out, t)
	}
	return out
}

// List returns an organisation's list, as administrators see it. An
// unknown organisation is not found.
func (s *Service) List(ctx context.Context, p *app.Principal, orgID int64) (List, error) {
	if !p.Can(app.PermSafetySettings) {
		return List{}, app.Errorf(app.CodeForbidden, "Only administrators can see and change the watched words")
	}
	l := List{OrganisationID: orgID, Terms: []Term{}}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT o.name, COALESCE((SELECT w.version FROM watch_lists w WHERE w.organisation_id = o.id), 0)
			FROM organisations o WHERE o.id = $1`, orgID).Scan(&l.OrganisationName, &l.Version)
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The organisation")
		} else if err != nil {
			return err
		}
		l.Own = l.Version > 0 // a list of its own has a row, and its version starts at 1
		if !l.Own {
			l.Terms = append(l.Terms, DefaultTerms...)
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, phrase, category, action FROM watch_terms WHERE organisation_id = $1 ORDER BY id`, orgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t Term
			if err := rows.Scan(&t.ID, &t.Phrase, &t.Category, &t.Action); err != nil {
				return err
			}
			l.Terms = append(l.Terms, t)
		}
		return rows.Err()
	})
	return l, err
}

// edit runs a change to an organisation's list in one transaction: it
// checks the caller and the organisation, makes the list the
// organisation's own first if it is not yet (copying the defaults), and
// forgets the cached matchers when the change commits.
func (s *Service) edit(ctx context.Context, p *app.Principal, orgID int64, action, objectID string, fn func(tx *store.Tx, now time.Time) error) error {
	if !p.Can(app.PermSafetySettings) {
		return app.Errorf(app.CodeForbidden, "Only administrators can change the watched words")
	}
	now := s.Clock.Now()
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM organisations WHERE id = $1", orgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return app.NotFound("The organisation")
		}
		if _, err := s.own(ctx, tx, p, orgID, now); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(tx, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE watch_lists SET version = version + 1, updated_at = $1 WHERE organisation_id = $2", now, orgID); err != nil {
			return err
		}
		tx.AfterCommit(func() {
			s.matchers.DeleteFunc(func(k int64) bool { return k == orgID || k == 0 })
		})
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSafetySettings), audit.Event{Action: action,
			ObjectType: "watch_list", ObjectID: fmt.Sprintf("%d%s", orgID, objectID)})
	})
}

// own makes the organisation's list its own, copying the defaults, if it
// is not already. Two administrators doing it at once copy them once: the
// list's row is claimed by its primary key.
func (s *Service) own(ctx context.Context, tx *store.Tx, p *app.Principal, orgID int64, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO watch_lists (organisation_id, created_at, updated_at) VALUES ($1, $2, $2)
		ON CONFLICT (organisation_id) DO NOTHING`, orgID, now)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	for _, t := range DefaultTerms {
		if _, err := tx.ExecContext(ctx, `INSERT INTO watch_terms (organisation_id, phrase, normalised, category, action, created_at, created_by_user_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, orgID, t.Phrase, Normalise(t.Phrase), t.Category, t.Action, now, nullID(p.UserID)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// MakeOwn makes the organisation's list its own, a copy of the defaults to
// change (nothing changes if it already is), and returns it.
func (s *Service) MakeOwn(ctx context.Context, p *app.Principal, orgID int64) (List, error) {
	if err := s.edit(ctx, p, orgID, "watch.list.own", "", nil); err != nil {
		return List{}, err
	}
	return s.List(ctx, p, orgID)
}

// AddTerm adds a term to an organisation's list (making the list its own
// first). A term already on the list, written any way that matches the
// same, is a field problem.
func (s *Service) AddTerm(ctx context.Context, p *app.Principal, orgID int64, t Term) (Term, error) {
	if err := t.Check(); err != nil {
		return Term{}, err
	}
	err := s.edit(ctx, p, orgID, "watch.term.add", "", func(tx *store.Tx, now time.Time) error {
		return s.insertTerm(ctx, tx, p, orgID, &t, now)
	})
	return t, err
}

func (s *Service) insertTerm(ctx context.Context, tx *store.Tx, p *app.Principal, orgID int64, t *Term, now time.Time) error {
	n := Normalise(t.Phrase)
	var exists int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM watch_terms WHERE organisation_id = $1 AND normalised = $2", orgID, n).Scan(&exists); err != nil {
		return err
	}
	if exists > 0 {
		return errAlreadyListed()
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO watch_terms (organisation_id, phrase, normalised, category, action, created_at, created_by_user_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, orgID, t.Phrase, n, t.Category, t.Action, now, nullID(p.UserID)).Scan(&t.ID)
	if store.IsUniqueViolation(err) {
		// The same phrase added at the same moment by someone else.
		return errAlreadyListed()
	}
	return err
}

// errAlreadyListed answers a phrase already on the list (checked first,
// and by UNIQUE (organisation_id, normalised) for one added at once).
func errAlreadyListed() error {
	return app.Invalid(app.FieldError{Field: "phrase", Message: "This word or phrase is already on the list"})
}

// UpdateTerm changes a term on an organisation's own list. A term that is
// not on it is not found.
func (s *Service) UpdateTerm(ctx context.Context, p *app.Principal, orgID, id int64, t Term) (Term, error) {
	if err := t.Check(); err != nil {
		return Term{}, err
	}
	t.ID = id
	err := s.edit(ctx, p, orgID, "watch.term.update", fmt.Sprintf("/%d", id), func(tx *store.Tx, now time.Time) error {
		n := Normalise(t.Phrase)
		var clash int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM watch_terms WHERE organisation_id = $1 AND normalised = $2 AND id <> $3",
			orgID, n, id).Scan(&clash); err != nil {
			return err
		}
		if clash > 0 {
			return errAlreadyListed()
		}
		res, err := tx.ExecContext(ctx, `UPDATE watch_terms SET phrase = $1, normalised = $2, category = $3, action = $4
			WHERE id = $5 AND organisation_id = $6`, t.Phrase, n, t.Category, t.Action, id, orgID)
		if store.IsUniqueViolation(err) {
			return errAlreadyListed()
		} else if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return app.NotFound("The word or phrase")
		}
		return nil
	})
	return t, err
}

// DeleteTerm removes a term from an organisation's own list. A term that
// is not on it is not found.
func (s *Service) DeleteTerm(ctx context.Context, p *app.Principal, orgID, id int64) error {
	return s.edit(ctx, p, orgID, "watch.term.delete", fmt.Sprintf("/%d", id), func(tx *store.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM watch_terms WHERE id = $1 AND organisation_id = $2", id, orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return app.NotFound("The word or phrase")
		}
		return nil
	})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Highlight splits text into the parts that matched and those that did
// not, in order, for showing a reader what was found.
func Highlight(text string, r Result) []Part {
	var out []Part
	pos := 0
	for _, m := range mergedSpans(text, r) {
		if m[0] > pos {
			out = append(out, Part{Text: text[pos:m[0]]})
		}
		out = append(out, Part{Text: text[m[0]:m[1]], Matched: true})
		pos = m[1]
	}
	if pos < len(text) {
		out = append(out, Part{Text: text[pos:]})
	}
	return out
}

// Part is a piece of a highlighted text.
type Part struct {
	Text    string
	Matched bool
}

// mergedSpans are the matches' places, sorted, with overlaps joined.
func mergedSpans(text string, r Result) [][2]int {
	var spans [][2]int
	for _, m := range r.Matches {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			continue
		}
		spans = append(spans, [2]int{m.Start, m.End})
	}
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j][0] < spans[j-1][0]; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	var out [][2]int
	for _, s := range spans {
		if n := len(out); n > 0 && s[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], s[1])
			continue
		}
		out = append(out, s)
	}
	return out
}
