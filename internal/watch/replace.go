package watch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// MaxTerms is the most words and phrases one organisation's list may hold.
const MaxTerms = 20000

// Replacement is a whole list to put in place of an organisation's list.
type Replacement struct {
	// Version is the list's version the change was made from: 0 while the
	// organisation uses the defaults.
	Version int    `json:"version" required:"true" doc:"The version of the list the change was made from, as GET gave it (0 while the organisation uses Mutual's defaults). Someone else's change since then answers 409 and changes nothing."`
	Terms   []Term `json:"terms" required:"true" doc:"Every word or phrase the list is to hold, at least one."`
}

// ReplaceTerms puts a whole list in place of an organisation's list, in
// one transaction, from the version the caller saw: the list is made the
// organisation's own if it was not, and a change made by someone else
// since that version is a conflict that changes nothing. Each term is
// checked, and a problem is named by its place in the list
// ("terms[3].phrase").
func (s *Service) ReplaceTerms(ctx context.Context, p *app.Principal, orgID int64, in Replacement) (List, error) {
	if !p.Can(app.PermSafetySettings) {
		return List{}, app.Errorf(app.CodeForbidden, "Only administrators can change the watched words")
	}
	var problems app.Problems
	switch {
	case len(in.Terms) == 0:
		problems.Add("terms", "Give at least one word or phrase: an empty list would let risk language go unseen")
	case len(in.Terms) > MaxTerms:
		problems.Add("terms", fmt.Sprintf("A list may hold up to %s words and phrases", app.Thousands(MaxTerms)))
	}
	if in.Version < 0 {
		problems.Add("version", "Give the version of the list you changed, as it was given to you")
	}
	first := map[string]int{}
	for i := range in.Terms {
		t := &in.Terms[i]
		t.ID = 0
		phraseOK := true
		if err := t.Check(); err != nil {
			var ae *app.Error
			if !errors.As(err, &ae) {
				return List{}, err
			}
			for _, f := range ae.Fields {
				problems.Add(fmt.Sprintf("terms[%d].%s", i, f.Field), f.Message)
				phraseOK = phraseOK && f.Field != "phrase"
			}
		}
		if !phraseOK {
			continue
		}
		n := Normalise(t.Phrase)
		if j, ok := first[n]; ok {
			problems.Add(fmt.Sprintf("terms[%d].phrase", i), fmt.Sprintf("This word or phrase is already in the list, at number %d", j+1))
			continue
		}
		first[n] = i
	}
	if err := problems.Err(); err != nil {
		return List{}, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM organisations WHERE id = $1", orgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return app.NotFound("The organisation")
		}
		// The version check and the claim are one write: on PostgreSQL the
		// row lock makes a second replacement from the same version wait,
		// then find the version moved on and change nothing.
		var res interface{ RowsAffected() (int64, error) }
		var err error
		if in.Version == 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO watch_lists (organisation_id, version, created_at, updated_at) VALUES ($1, 1, $2, $2)
				ON CONFLICT (organisation_id) DO NOTHING`, orgID, now)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE watch_lists SET version = version + 1, updated_at = $1 WHERE organisation_id = $2 AND version = $3`,
				now, orgID, in.Version)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var current int
			if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM watch_lists WHERE organisation_id = $1", orgID).Scan(&current); err != nil {
				return err
			}
			return app.Errorf(app.CodeConflict, "The watched words were changed by someone else since version %d (they are now at version %d): load them again and make your change to that", in.Version, current)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM watch_terms WHERE organisation_id = $1", orgID); err != nil {
			return err
		}
		if err := s.insertTerms(ctx, tx, p, orgID, in.Terms, now); err != nil {
			return err
		}
		tx.AfterCommit(func() {
			s.matchers.DeleteFunc(func(k int64) bool { return k == orgID || k == 0 })
		})
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSafetySettings), audit.Event{Action: "watch.list.replace",
			ObjectType: "watch_list", ObjectID: fmt.Sprint(orgID)})
	})
	if err != nil {
		return List{}, err
	}
	return s.List(ctx, p, orgID)
}

// insertTerms adds terms (already checked, each phrase once) to an
// organisation's list, a few hundred to a statement.
func (s *Service) insertTerms(ctx context.Context, tx *store.Tx, p *app.Principal, orgID int64, terms []Term, now time.Time) error {
	const perStatement = 200 // 7 values each: well under SQLite's 32,766 parameters
	for start := 0; start < len(terms); start += perStatement {
		batch := terms[start:min(start+perStatement, len(terms))]
		a := store.NewArgs(orgID, now, nullID(p.UserID))
		var b strings.Builder
		b.WriteString("INSERT INTO watch_terms (organisation_id, phrase, normalised, category, action, created_at, created_by_user_id) VALUES ")
		for i, t := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($1, %s, %s, %s, %s, $2, $3)", a.Add(t.Phrase), a.Add(Normalise(t.Phrase)), a.Add(string(t.Category)), a.Add(string(t.Action)))
		}
		if _, err := tx.ExecContext(ctx, b.String(), a.Values()...); err != nil {
			return err
		}
	}
	return nil
}

// Organisation is the organisation a request about watched words is for:
// the one named, or, when none is named, the only one there is.
func (s *Service) Organisation(ctx context.Context, orgID int64) (int64, error) {
	if orgID != 0 {
		return orgID, nil
	}
	var n int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MIN(id), 0) FROM organisations").Scan(&n, &orgID); err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, app.Invalid(app.FieldError{Field: "organisation", Message: fmt.Sprintf("Name the organisation (organisation=<id>): there are %d", n)})
	}
	return orgID, nil
}
