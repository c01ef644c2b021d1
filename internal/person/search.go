package person

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// searchSlots bounds the searches running at once in this process (see
// Search): one a processor.
var searchSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// Listed is a person in a list, with what tells people of the same name
// apart: when they were born, the teams they are known to, their latest
// referral and when someone last had contact with them — each only as far
// as the caller may see it.
type Listed struct {
	Person
	BirthYear int `json:"birth_year,omitempty" doc:"When only the year of birth is known (from a caseload)."`
	// Teams are the teams whose caseload they are on now.
	Teams []string `json:"teams"`
	// Latest is their newest referral the caller may see.
	LatestReference string     `json:"latest_referral_reference,omitempty"`
	LatestStatus    string     `json:"latest_referral_status,omitempty"`
	LatestTeam      string     `json:"latest_referral_team,omitempty"`
	LastContact     *time.Time `json:"last_contact_at,omitempty" doc:"The latest contact with them recorded on a referral you may see."`
}

// Found is one page of a search.
type Found struct {
	People []Listed `json:"people"`
	Total  int      `json:"total"`
	Limit  int      `json:"limit"`
	Offset int      `json:"offset"`
}

// Search is Find with paging and a total, and with what tells people of
// the same name apart. With an empty query it lists everyone the caller
// may see, by name. Reading the page is audited as one row naming
// everyone on it.
func (s *Service) Search(ctx context.Context, p *app.Principal, query string, limit, offset int) (Found, error) {
	query = strings.TrimSpace(query)
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if offset < 0 {
		return Found{}, app.Invalid(app.FieldError{Field: "offset", Message: "offset must not be negative"})
	}
	out := Found{People: []Listed{}, Limit: limit, Offset: offset}
	// A search that matches many reads the whole people table: at most
	// one a processor runs at once, so that many at once queue here
	// rather than starve every other request of CPU.
	select {
	case searchSlots <- struct{}{}:
		defer func() { <-searchSlots }()
	case <-ctx.Done():
		return Found{}, ctx.Err()
	}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		ref := ""
		if p.HasRole(app.RoleClinician) {
			ref = query
		}
		a := store.NewArgs("%"+strings.ToLower(query)+"%", NormalisePhone(query), strings.ToUpper(query), ref)
		where := `pe.merged_into_id IS NULL AND (LOWER(pe.preferred_name) LIKE $1 OR LOWER(pe.full_name) LIKE $1 OR pe.email LIKE $1
			OR ($2 <> '' AND pe.phone = $2) OR ($4 <> '' AND (pe.trust_ref = $4 OR pe.trust_ref_pending = $4))
			OR pe.id IN (SELECT rr.person_id FROM referrals rr WHERE rr.reference = $3)) AND ` + access.PeopleSet(p, a)
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM people pe WHERE "+where, a.Values()...).Scan(&out.Total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+personColumns+", COALESCE(pe.birth_year, 0) FROM people pe WHERE "+where+
			fmt.Sprintf(" ORDER BY pe.preferred_name, pe.id LIMIT %d OFFSET %d", limit, offset), a.Values()...)
		if err != nil {
			return err
		}
		at := map[int64]int{}
		var ids []int64
		for rows.Next() {
			var l Listed
			pe, err := scanPerson(withExtra(rows, &l.BirthYear))
			if err != nil {
				rows.Close()
				return err
			}
			if !p.HasRole(app.RoleClinician) {
				pe.TrustRef = ""
			}
			if pe.DateOfBirth != nil {
				l.BirthYear = 0
			}
			l.Person, l.Teams = pe, []string{}
			at[pe.ID] = len(out.People)
			ids = append(ids, pe.ID)
			out.People = append(out.People, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > 0 {
			if err := s.describe(ctx, tx, p, ids, at, out.People); err != nil {
				return err
			}
		}
		record(p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "person.search", Subjects: ids, ObjectType: "people", ObjectID: fmt.Sprintf("results=%d", len(ids))})
		return nil
	})
	return out, err
}

// withExtra scans a person row followed by more columns.
func withExtra(row interface{ Scan(...any) error }, extra ...any) interface{ Scan(...any) error } {
	return scanFunc(func(dest ...any) error { return row.Scan(append(dest, extra...)...) })
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// describe adds, to the people listed (ids, at their index in list), the
// teams whose caseload they are on, their newest referral the caller may
// see, and the latest contact on one.
func (s *Service) describe(ctx context.Context, tx *store.Tx, p *app.Principal, ids []int64, at map[int64]int, list []Listed) error {
	a := &store.Args{}
	in := a.IDs(tx.Dialect, ids)
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT ce.person_id, t.name FROM caseload_episodes ce JOIN teams t ON t.id = ce.team_id
		WHERE ce.end_date IS NULL AND ce.person_id IN `+in+` ORDER BY ce.person_id, t.name`, a.Values()...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var team string
		if err := rows.Scan(&id, &team); err != nil {
			rows.Close()
			return err
		}
		list[at[id]].Teams = append(list[at[id]].Teams, team)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	a = &store.Args{}
	in = a.IDs(tx.Dialect, ids)
	rows, err = tx.QueryContext(ctx, `SELECT r.person_id, r.reference, r.status, COALESCE(t.name, '') FROM referrals r LEFT JOIN teams t ON t.id = r.team_id
		WHERE r.person_id IN `+in+` AND `+access.Referrals(p, a)+` ORDER BY r.person_id, r.received_at DESC, r.id DESC`, a.Values()...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var ref, status, team string
		if err := rows.Scan(&id, &ref, &status, &team); err != nil {
			rows.Close()
			return err
		}
		if l := &list[at[id]]; l.LatestReference == "" {
			l.LatestReference, l.LatestStatus, l.LatestTeam = ref, status, team
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	a = &store.Args{}
	in = a.IDs(tx.Dialect, ids)
	// Newest first, compared here: SQLite's MAX over a timestamp answers text.
	rows, err = tx.QueryContext(ctx, `SELECT r.person_id, c.at FROM contacts c JOIN referrals r ON r.id = c.referral_id
		WHERE c.error_at IS NULL AND r.person_id IN `+in+` AND `+access.Referrals(p, a)+` ORDER BY c.at DESC`, a.Values()...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var when time.Time
		if err := rows.Scan(&id, &when); err != nil {
			return err
		}
		if l := &list[at[id]]; l.LastContact == nil {
			w := when.UTC()
			l.LastContact = &w
		}
	}
	return rows.Err()
}
