package referral

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/demographics"
	"github.com/mutualhq/mutual/internal/store"
)

// Person is someone who uses services, as staff see them.
type Person struct {
	ID                int64      `json:"id"`
	PreferredName     string     `json:"preferred_name"`
	FullName          string     `json:"full_name,omitempty"`
	DateOfBirth       *time.Time `json:"date_of_birth,omitempty"`
	Email             string     `json:"email,omitempty"`
	Phone             string     `json:"phone,omitempty"`
	ContactPreference string     `json:"contact_preference,omitempty"`
	ContactTimes      string     `json:"contact_times,omitempty"`
	Gender            string     `json:"gender,omitempty"`
	Ethnicity         string     `json:"ethnicity,omitempty"`
	EthnicityOther    string     `json:"ethnicity_other,omitempty"`
	Disability        string     `json:"disability,omitempty"`
	FirstLanguage     string     `json:"first_language,omitempty"`
	// TrustRef is shown only to care co-ordinators and clinicians, who work
	// with the trust's record; others never need it.
	TrustRef  string    `json:"trust_ref,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// DisplayName is the name to show: what the person likes to be called, and
// their full name when it differs.
func (p Person) DisplayName() string {
	if p.FullName != "" && !strings.EqualFold(p.FullName, p.PreferredName) {
		return p.PreferredName + " (" + p.FullName + ")"
	}
	return p.PreferredName
}

// GenderLabel and friends give plain-English answers for pages.
func (p Person) GenderLabel() string { return demographics.Label(demographics.Genders, p.Gender) }

// EthnicityLabel is the recorded ethnicity in words.
func (p Person) EthnicityLabel() string {
	if p.Ethnicity == "self_described" && p.EthnicityOther != "" {
		return p.EthnicityOther
	}
	return demographics.Label(demographics.Ethnicities, p.Ethnicity)
}

// DisabilityLabel is the recorded disability answer in words.
func (p Person) DisabilityLabel() string {
	return demographics.Label(demographics.Disabilities, p.Disability)
}

const personColumns = `pe.id, pe.preferred_name, pe.full_name, pe.date_of_birth, pe.email, pe.phone, pe.contact_preference,
	pe.contact_times, pe.gender, pe.ethnicity, pe.ethnicity_other, pe.disability, pe.first_language, COALESCE(pe.trust_ref, pe.trust_ref_pending), pe.created_at`

func scanPerson(row interface{ Scan(...any) error }) (Person, error) {
	var p Person
	var dob sql.NullTime
	err := row.Scan(&p.ID, &p.PreferredName, &p.FullName, &dob, &p.Email, &p.Phone, &p.ContactPreference,
		&p.ContactTimes, &p.Gender, &p.Ethnicity, &p.EthnicityOther, &p.Disability, &p.FirstLanguage, &p.TrustRef, &p.CreatedAt)
	if dob.Valid {
		t := dob.Time.UTC()
		p.DateOfBirth = &t
	}
	return p, err
}

func normalisePhone(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= '0' && r <= '9') || r == '+' {
			return r
		}
		return -1
	}, s)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// insertPerson adds a person. A trust record number another person
// already holds is refused only when the caller may see that person (they
// were offered them as a possible match); otherwise it is kept as pending,
// for someone who may see both to resolve, and nothing is said.
func insertPerson(ctx context.Context, tx *store.Tx, p *app.Principal, d PersonDetails, dob *time.Time, createdBy int64, now time.Time) (int64, error) {
	var dobArg any
	birthYear := any(nil)
	if dob != nil {
		dobArg = *dob
		birthYear = dob.Year()
	}
	insert := func(ref any, pending string) (int64, error) {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO people (preferred_name, full_name, date_of_birth, birth_year, email, phone,
			contact_preference, contact_times, gender, ethnicity, ethnicity_other, disability, first_language, trust_ref,
			trust_ref_pending, created_by_user_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
			ON CONFLICT (trust_ref) DO NOTHING RETURNING id`,
			d.PreferredName, d.FullName, dobArg, birthYear, d.Email, normalisePhone(d.Phone), d.ContactPreference, d.ContactTimes,
			d.Gender, d.Ethnicity, d.EthnicityOther, d.Disability, d.FirstLanguage, ref, pending, nullID(createdBy), now).Scan(&id)
		return id, err
	}
	if d.TrustRef == "" {
		return insert(nil, "")
	}
	id, err := insert(d.TrustRef, "")
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	// Someone holds the number (the conflict is decided by the unique
	// index, so this is safe however many insert at once).
	var holder int64
	if err := tx.QueryRowContext(ctx, "SELECT id FROM people WHERE trust_ref = $1", d.TrustRef).Scan(&holder); err != nil {
		return 0, err
	}
	if p != nil {
		switch _, err := visiblePersonIn(ctx, tx, p, holder); {
		case err == nil:
			return 0, app.Invalid(app.FieldError{Field: "trust_ref", Message: "Another person in Mutual already has this trust record number. " +
				"If they are the same person, choose them instead of adding someone new."})
		case !errors.Is(err, errNotVisible):
			return 0, err
		}
	}
	return insert(nil, d.TrustRef)
}

// possibleMatches finds people who may be the same person: the same name
// and date of birth, or the same email address, phone number or trust
// record number. Only people the caller may already see are offered: a
// possible match is a disclosure like any other.
func possibleMatches(ctx context.Context, tx *store.Tx, p *app.Principal, d PersonDetails, dob *time.Time, excludeID int64) ([]PossibleMatch, error) {
	var conds []string
	args := []any{excludeID}
	if dob != nil && d.PreferredName != "" {
		args = append(args, *dob, strings.ToLower(d.PreferredName), strings.ToLower(firstNonEmpty(d.FullName, d.PreferredName)))
		n := len(args)
		conds = append(conds, fmt.Sprintf("(pe.date_of_birth = $%d AND (LOWER(pe.preferred_name) IN ($%d, $%d) OR LOWER(pe.full_name) IN ($%d, $%d)))", n-2, n-1, n, n-1, n))
	}
	if d.Email != "" {
		args = append(args, d.Email)
		conds = append(conds, fmt.Sprintf("pe.email = $%d", len(args)))
	}
	if ph := normalisePhone(d.Phone); len(ph) >= 10 {
		args = append(args, ph)
		conds = append(conds, fmt.Sprintf("pe.phone = $%d", len(args)))
	}
	if d.TrustRef != "" {
		args = append(args, d.TrustRef)
		conds = append(conds, fmt.Sprintf("(pe.trust_ref = $%d OR pe.trust_ref_pending = $%d)", len(args), len(args)))
	}
	if len(conds) == 0 {
		return nil, nil
	}
	where := "(" + strings.Join(conds, " OR ") + ")"
	sc := personScope(p, len(args)+1)
	args = append(args, sc.args...)
	where += " AND " + sc.where()
	rows, err := tx.QueryContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id <> $1 AND pe.merged_into_id IS NULL AND "+where+" ORDER BY pe.id LIMIT 10", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PossibleMatch
	for rows.Next() {
		pe, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		m := PossibleMatch{PersonID: pe.ID, Name: pe.DisplayName()}
		var why []string
		if pe.DateOfBirth != nil {
			m.DateOfBirth = pe.DateOfBirth.Format("2006-01-02")
			if dob != nil && pe.DateOfBirth.Equal(*dob) {
				why = append(why, "same name and date of birth")
			}
		}
		if d.Email != "" && pe.Email == d.Email {
			why = append(why, "same email address")
		}
		if ph := normalisePhone(d.Phone); ph != "" && pe.Phone == ph {
			why = append(why, "same phone number")
		}
		if d.TrustRef != "" && pe.TrustRef == d.TrustRef {
			why = append(why, "same trust record number")
		}
		m.Why = strings.Join(why, ", ")
		out = append(out, m)
	}
	return out, rows.Err()
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// visiblePerson loads a person the caller may see, inside tx, or answers
// errNotVisible (which callers audit as denied and answer as not found).
func (s *Service) visiblePerson(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Person, error) {
	return visiblePersonIn(ctx, tx, p, id)
}

func visiblePersonIn(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Person, error) {
	sc := personScope(p, 2)
	pe, err := scanPerson(tx.QueryRowContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id = $1 AND "+sc.where(),
		append([]any{id}, sc.args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return pe, errNotVisible
	}
	return pe, err
}

// errNotVisible marks a record the caller may not see (or that does not
// exist). Callers audit it as denied, commit, and answer not found.
var errNotVisible = errors.New("not visible")

// deniedAs turns errNotVisible into an audited "not found", recording the
// attempt in its own transaction (the caller's one rolls back).
func (s *Service) deniedAs(ctx context.Context, err error, p *app.Principal, perm app.Permission, action, objectType string, id int64, what string) error {
	if !errors.Is(err, errNotVisible) {
		return err
	}
	_ = audit.RecordAlone(ctx, s.DB, s.Clock.Now(), p.ActorFor(perm), audit.Event{
		Action: action, ObjectType: objectType, ObjectID: fmt.Sprint(id), Outcome: audit.OutcomeDenied})
	return app.NotFound(what)
}

// disclosed records, in a transaction of its own, that possible matches
// were shown to the caller (whose own transaction rolled back), naming
// each person shown, and returns dup for the caller to present.
func (s *Service) disclosed(ctx context.Context, p *app.Principal, perm app.Permission, action string, dup *DuplicateError) error {
	ids := make([]int64, len(dup.Matches))
	for i, m := range dup.Matches {
		ids[i] = m.PersonID
	}
	if err := audit.RecordAlone(ctx, s.DB, s.Clock.Now(), p.ActorFor(perm), audit.Event{Action: action, Subjects: ids,
		ObjectType: "people", ObjectID: fmt.Sprintf("results=%d", len(ids))}); err != nil {
		return err
	}
	return dup
}

// PersonRecord is a person's page for staff.
type PersonRecord struct {
	Person     Person         `json:"person"`
	Referrals  []Referral     `json:"referrals"`
	Offers     []Offer        `json:"offers"`
	LastOffer  *time.Time     `json:"last_offer_at,omitempty"`
	NeedsOffer bool           `json:"needs_offer"`
	Caseload   []CaseloadLink `json:"caseload"`
	// SameTrustRef are people the caller may also see who have the same
	// trust record number: possibly the same person, to be resolved.
	SameTrustRef []PossibleMatch `json:"same_trust_ref,omitempty"`
}

// CaseloadLink is one open caseload episode, as staff see it.
type CaseloadLink struct {
	TeamName    string    `json:"team_name"`
	Coordinator string    `json:"coordinator"`
	Since       time.Time `json:"since"`
}

// OfferInterval is how often staff are prompted to tell someone about
// peer support.
const OfferInterval = 365 * 24 * time.Hour

// GetPerson loads a person's record for staff, audited as a read of their
// data. Someone the caller may not see is not found.
func (s *Service) GetPerson(ctx context.Context, p *app.Principal, id int64) (PersonRecord, error) {
	var rec PersonRecord
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if rec.Person, err = s.visiblePerson(ctx, tx, p, id); err != nil {
			return err
		}
		if !p.HasRole(app.RoleClinician) {
			rec.Person.TrustRef = ""
		}
		if rec.Referrals, err = s.referralsWhere(ctx, tx, p, "r.person_id = $1", []any{id}, "r.received_at DESC", 50, 0); err != nil {
			return err
		}
		if rec.Offers, err = s.offersFor(ctx, tx, p, id); err != nil {
			return err
		}
		for _, o := range rec.Offers {
			if o.Response != "never_told" {
				t := o.At
				rec.LastOffer = &t
				break
			}
		}
		rec.NeedsOffer = rec.LastOffer == nil || s.Clock.Now().Sub(*rec.LastOffer) > OfferInterval
		if rec.Caseload, err = caseloadFor(ctx, tx, id); err != nil {
			return err
		}
		var shown []int64
		if rec.Person.TrustRef != "" {
			if rec.SameTrustRef, err = sameTrustRef(ctx, tx, p, rec.Person); err != nil {
				return err
			}
			for _, m := range rec.SameTrustRef {
				shown = append(shown, m.PersonID)
			}
		}
		return audit.Record(ctx, tx, s.Clock.Now(), p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "person.read", SubjectPersonID: id, Subjects: shown, ObjectType: "person", ObjectID: fmt.Sprint(id)})
	})
	if err != nil {
		return rec, s.deniedAs(ctx, err, p, app.PermPersonRead, "person.read", "person", id, "The person")
	}
	return rec, nil
}

// sameTrustRef finds the people, among those the caller may see, who hold
// or were given the same trust record number as pe.
func sameTrustRef(ctx context.Context, tx *store.Tx, p *app.Principal, pe Person) ([]PossibleMatch, error) {
	sc := personScope(p, 3)
	rows, err := tx.QueryContext(ctx, `SELECT pe.id, pe.preferred_name, pe.full_name FROM people pe
		WHERE pe.id <> $1 AND (pe.trust_ref = $2 OR pe.trust_ref_pending = $2) AND pe.merged_into_id IS NULL AND `+sc.where()+`
		ORDER BY pe.id LIMIT 10`, append([]any{pe.ID, pe.TrustRef}, sc.args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PossibleMatch
	for rows.Next() {
		var o Person
		if err := rows.Scan(&o.ID, &o.PreferredName, &o.FullName); err != nil {
			return nil, err
		}
		out = append(out, PossibleMatch{PersonID: o.ID, Name: o.DisplayName(), Why: "same trust record number"})
	}
	return out, rows.Err()
}

func caseloadFor(ctx context.Context, tx *store.Tx, personID int64) ([]CaseloadLink, error) {
	rows, err := tx.QueryContext(ctx, `SELECT t.name, COALESCE(u.name, ce.coordinator_email), ce.start_date
		FROM caseload_episodes ce JOIN teams t ON t.id = ce.team_id LEFT JOIN users u ON u.id = ce.coordinator_user_id
		WHERE ce.person_id = $1 AND ce.end_date IS NULL ORDER BY ce.start_date DESC`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CaseloadLink
	for rows.Next() {
		var c CaseloadLink
		if err := rows.Scan(&c.TeamName, &c.Coordinator, &c.Since); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FindPeople searches the people the caller may see by name, email,
// phone or referral reference. The search is audited (one row).
func (s *Service) FindPeople(ctx context.Context, p *app.Principal, query string, limit int) ([]Person, error) {
	query = strings.TrimSpace(query)
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []Person
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		ref := ""
		if p.HasRole(app.RoleClinician) {
			ref = query
		}
		args := []any{"%" + strings.ToLower(query) + "%", normalisePhone(query), strings.ToUpper(query), limit, ref}
		sc := personSearchScope(p, len(args)+1)
		args = append(args, sc.args...)
		rows, err := tx.QueryContext(ctx, "SELECT "+personColumns+` FROM people pe
			WHERE pe.merged_into_id IS NULL AND (LOWER(pe.preferred_name) LIKE $1 OR LOWER(pe.full_name) LIKE $1 OR pe.email LIKE $1
			OR ($2 <> '' AND pe.phone = $2) OR ($5 <> '' AND (pe.trust_ref = $5 OR pe.trust_ref_pending = $5)) OR pe.id IN (SELECT rr.person_id FROM referrals rr WHERE rr.reference = $3))
			AND `+sc.where()+` ORDER BY pe.preferred_name, pe.id LIMIT $4`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			pe, err := scanPerson(rows)
			if err != nil {
				return err
			}
			if !p.HasRole(app.RoleClinician) {
				pe.TrustRef = ""
			}
			out = append(out, pe)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]int64, len(out))
		for i, pe := range out {
			ids[i] = pe.ID
		}
		return audit.Record(ctx, tx, s.Clock.Now(), p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "person.search", Subjects: ids, ObjectType: "people", ObjectID: fmt.Sprintf("results=%d", len(out))})
	})
	return out, err
}

// CreatePerson adds a person known to staff (for example, to record that
// they were told about peer support). Possible duplicates the caller may
// see are returned as a *DuplicateError unless notDuplicate is set.
func (s *Service) CreatePerson(ctx context.Context, p *app.Principal, d PersonDetails, notDuplicate bool) (Person, error) {
	now := s.Clock.Now()
	var problems app.Problems
	dob := d.normalise(&problems, "", now, false)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	var pe Person
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if !notDuplicate {
			matches, err := possibleMatches(ctx, tx, p, d, dob, 0)
			if err != nil {
				return err
			}
			if len(matches) > 0 {
				return &DuplicateError{Matches: matches}
			}
		}
		id, err := insertPerson(ctx, tx, p, d, dob, p.UserID, now)
		if err != nil {
			return err
		}
		if pe, err = scanPerson(tx.QueryRowContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id = $1", id)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "person.create", SubjectPersonID: id, ObjectType: "person", ObjectID: fmt.Sprint(id)})
	})
	var dup *DuplicateError
	if errors.As(err, &dup) {
		return pe, s.disclosed(ctx, p, app.PermPersonRead, "person.possible_matches", dup)
	}
	return pe, err
}
