// Package person owns the people table: who someone is and how to reach
// them, validating what forms say about a person, finding possible
// duplicates within the caller's scope, searching people, and the one-time
// claims with which someone who asked without an account can later join an
// account to their record.
package person

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/demographics"
	"github.com/mutualhq/mutual/internal/ratelimit"
	"github.com/mutualhq/mutual/internal/store"
)

// Details is what a referral form asks about the person. Everything
// but a name (or what to call them) and one way to get in touch is
// optional.
type Details struct {
	PreferredName     string `json:"preferred_name" required:"true" doc:"The person's name, or what they would like to be called."`
	FullName          string `json:"full_name,omitempty"`
	DateOfBirth       string `json:"date_of_birth,omitempty" doc:"YYYY-MM-DD"`
	Email             string `json:"email,omitempty"`
	Phone             string `json:"phone,omitempty"`
	ContactPreference string `json:"contact_preference,omitempty" doc:"phone, text, email or letter"`
	ContactTimes      string `json:"contact_times,omitempty" doc:"When is a good time to get in touch."`
	Gender            string `json:"gender,omitempty" doc:"woman, man, non_binary, self_described or prefer_not_to_say"`
	Ethnicity         string `json:"ethnicity,omitempty" doc:"An ONS 2021 census category code, e.g. white_british, black_caribbean, asian_indian; self_described; or prefer_not_to_say"`
	EthnicityOther    string `json:"ethnicity_other,omitempty" doc:"Self-described ethnicity, when ethnicity is self_described."`
	Disability        string `json:"disability,omitempty" doc:"yes, no or prefer_not_to_say"`
	FirstLanguage     string `json:"first_language,omitempty"`
	TrustRef          string `json:"trust_ref,omitempty" doc:"Staff only: the person's identifier in the trust's electronic record, if known. It links them to caseload imports."`
}

// ContactPreferences are the ways someone can ask to be contacted.
var ContactPreferences = []app.Choice{
	{Code: "phone", Label: "Phone call"},
	{Code: "text", Label: "Text message"},
	{Code: "email", Label: "Email"},
	{Code: "letter", Label: "Letter"},
}

// Normalise trims every field and validates the details, adding problems
// under prefix+field. needContact requires a phone number or email.
func (d *Details) Normalise(p *app.Problems, prefix string, now time.Time, needContact bool) (dob *time.Time) {
	for _, f := range []*string{&d.PreferredName, &d.FullName, &d.DateOfBirth, &d.Email, &d.Phone, &d.ContactPreference,
		&d.ContactTimes, &d.Gender, &d.Ethnicity, &d.EthnicityOther, &d.Disability, &d.FirstLanguage, &d.TrustRef} {
		*f = strings.TrimSpace(*f)
	}
	if d.PreferredName == "" {
		p.Add(prefix+"preferred_name", "Enter a name, or what the person would like to be called")
	}
	p.CheckLen(prefix+"preferred_name", d.PreferredName, 100, "Name")
	p.CheckLen(prefix+"full_name", d.FullName, 200, "Full name")
	if d.DateOfBirth != "" {
		t, err := time.Parse("2006-01-02", d.DateOfBirth)
		switch {
		case err != nil:
			p.Add(prefix+"date_of_birth", "Date of birth must be a real date")
		case t.After(now):
			p.Add(prefix+"date_of_birth", "Date of birth must be in the past")
		case t.Year() < now.Year()-120:
			p.Add(prefix+"date_of_birth", "Date of birth must be after "+strconv.Itoa(now.Year()-120))
		default:
			dob = &t
		}
	}
	if d.Email != "" {
		e, msg := app.NormaliseEmail(d.Email)
		if msg != "" {
			p.Add(prefix+"email", msg)
		}
		d.Email = e
	}
	if d.Phone != "" {
		digits := 0
		for _, r := range d.Phone {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case strings.ContainsRune(" +()-", r):
			default:
				digits = -100
			}
		}
		if digits < 10 || digits > 15 {
			p.Add(prefix+"phone", "Enter a phone number, like 07700 900 982 or 0113 496 0000")
		}
	}
	if needContact && d.Email == "" && d.Phone == "" && !p.Has(prefix+"email") && !p.Has(prefix+"phone") {
		p.Add(prefix+"phone", "Enter a phone number or an email address so the peer support team can get in touch")
	}
	if d.ContactPreference != "" && !app.HasChoice(ContactPreferences, d.ContactPreference) {
		p.Add(prefix+"contact_preference", "Choose how you would like to be contacted")
	}
	if d.ContactPreference == "email" && d.Email == "" {
		p.Add(prefix+"email", "Enter an email address, or choose another way to be contacted")
	}
	if (d.ContactPreference == "phone" || d.ContactPreference == "text") && d.Phone == "" {
		p.Add(prefix+"phone", "Enter a phone number, or choose another way to be contacted")
	}
	p.CheckLen(prefix+"contact_times", d.ContactTimes, 500, "When to get in touch")
	if !demographics.Valid(demographics.Genders, d.Gender) {
		p.Add(prefix+"gender", "Choose a gender from the list, or prefer not to say")
	}
	if !demographics.Valid(demographics.Ethnicities, d.Ethnicity) {
		p.Add(prefix+"ethnicity", "Choose an ethnic group from the list, or prefer not to say")
	}
	if d.Ethnicity != "self_described" {
		d.EthnicityOther = ""
	}
	p.CheckLen(prefix+"ethnicity_other", d.EthnicityOther, 100, "Ethnicity")
	if !demographics.Valid(demographics.Disabilities, d.Disability) {
		p.Add(prefix+"disability", "Choose yes, no or prefer not to say")
	}
	p.CheckLen(prefix+"first_language", d.FirstLanguage, 60, "First language")
	p.CheckLen(prefix+"trust_ref", d.TrustRef, 64, "The trust record number")
	return dob
}

// PossibleMatch is a person who may already be known, offered for linking.
type PossibleMatch struct {
	PersonID    int64  `json:"person_id"`
	Name        string `json:"name"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Why         string `json:"why"`
}

// DuplicateError is returned when a new person's details match people
// already known: the caller chooses one of Matches (person_id) or confirms
// not_duplicate. It is a conflict.
type DuplicateError struct {
	Matches []PossibleMatch
}

func (e *DuplicateError) Error() string { return "possible duplicate people" }

// AsAppError presents the choice as a conflict with a clear message.
func (e *DuplicateError) AsAppError() *app.Error {
	return &app.Error{Code: app.CodeConflict, Message: "This person may already be known to Mutual. Choose them from the possible matches, or confirm this is someone new.", Err: e}
}

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

// personColumns reads a person from people named pe; insertedColumns
// reads the same from an insert's RETURNING, where SQLite allows only the
// table's bare column names.
var personColumns, insertedColumns = personColumnsOf("pe."), personColumnsOf("")

func personColumnsOf(t string) string {
	return fmt.Sprintf(`%[1]sid, %[1]spreferred_name, %[1]sfull_name, %[1]sdate_of_birth, %[1]semail, %[1]sphone, %[1]scontact_preference,
	%[1]scontact_times, %[1]sgender, %[1]sethnicity, %[1]sethnicity_other, %[1]sdisability, %[1]sfirst_language,
	COALESCE(%[1]strust_ref, %[1]strust_ref_pending), %[1]screated_at`, t)
}

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

// NormalisePhone keeps a phone number's digits and a leading plus, as
// numbers are stored and compared.
func NormalisePhone(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= '0' && r <= '9') || r == '+' {
			return r
		}
		return -1
	}, s)
}

// Insert adds a person inside tx. A trust record number another person
// already holds is refused only when the caller may see that person (they
// were offered them as a possible match); otherwise it is kept as pending,
// for someone who may see both to resolve, and nothing is said.
func Insert(ctx context.Context, tx *store.Tx, p *app.Principal, d Details, dob *time.Time, createdBy int64, now time.Time) (int64, error) {
	pe, err := insertPerson(ctx, tx, p, d, dob, createdBy, now)
	return pe.ID, err
}

// insertPerson is Insert, giving the person as stored (read back by the
// insert itself, not by a second statement).
func insertPerson(ctx context.Context, tx *store.Tx, p *app.Principal, d Details, dob *time.Time, createdBy int64, now time.Time) (Person, error) {
	var dobArg any
	birthYear := any(nil)
	if dob != nil {
		dobArg = *dob
		birthYear = dob.Year()
	}
	insert := func(ref any, pending string) (Person, error) {
		return scanPerson(tx.QueryRowContext(ctx, `INSERT INTO people (preferred_name, full_name, date_of_birth, birth_year, email, phone,
			contact_preference, contact_times, gender, ethnicity, ethnicity_other, disability, first_language, trust_ref,
			trust_ref_pending, created_by_user_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
			ON CONFLICT (trust_ref) DO NOTHING RETURNING `+insertedColumns,
			d.PreferredName, d.FullName, dobArg, birthYear, d.Email, NormalisePhone(d.Phone), d.ContactPreference, d.ContactTimes,
			d.Gender, d.Ethnicity, d.EthnicityOther, d.Disability, d.FirstLanguage, ref, pending, nullID(createdBy), now))
	}
	if d.TrustRef == "" {
		return insert(nil, "")
	}
	pe, err := insert(d.TrustRef, "")
	if !errors.Is(err, sql.ErrNoRows) {
		return pe, err
	}
	// Someone holds the number (the conflict is decided by the unique
	// index, so this is safe however many insert at once).
	var holder int64
	if err := tx.QueryRowContext(ctx, "SELECT id FROM people WHERE trust_ref = $1", d.TrustRef).Scan(&holder); err != nil {
		return Person{}, err
	}
	if p != nil {
		switch err := access.MaySeePerson(ctx, tx, p, holder); {
		case err == nil:
			return Person{}, app.Invalid(app.FieldError{Field: "trust_ref", Message: "Another person in Mutual already has this trust record number. " +
				"If they are the same person, choose them instead of adding someone new."})
		case !errors.Is(err, access.ErrNotVisible):
			return Person{}, err
		}
	}
	return insert(nil, d.TrustRef)
}

// Matches finds people who may be the same person: the same name and
// date of birth; the same full name (a name of two words or more, given as
// either name, against either of theirs) whatever else is known — people
// known from a caseload often have no date of birth, phone or email in
// Mutual, so a referral for "Amira Baker" must find the Amira Baker on the
// team's caseload; or the same email address, phone number or trust record
// number. Only people the caller may already see are offered: a possible
// match is a disclosure like any other.
func Matches(ctx context.Context, tx *store.Tx, p *app.Principal, d Details, dob *time.Time, excludeID int64) ([]PossibleMatch, error) {
	a := store.NewArgs(excludeID)
	var conds []string
	if dob != nil && d.PreferredName != "" {
		names := store.In(a, strings.ToLower(d.PreferredName), strings.ToLower(firstNonEmpty(d.FullName, d.PreferredName)))
		conds = append(conds, "(pe.date_of_birth = "+a.Add(*dob)+" AND (LOWER(pe.preferred_name) IN "+names+" OR LOWER(pe.full_name) IN "+names+"))")
	}
	full := fullNames(d)
	if len(full) > 0 {
		names := store.In(a, full...)
		conds = append(conds, "(LOWER(pe.preferred_name) IN "+names+" OR LOWER(pe.full_name) IN "+names+")")
	}
	if d.Email != "" {
		conds = append(conds, "pe.email = "+a.Add(d.Email))
	}
	if ph := NormalisePhone(d.Phone); len(ph) >= 10 {
		conds = append(conds, "pe.phone = "+a.Add(ph))
	}
	if d.TrustRef != "" {
		ref := a.Add(d.TrustRef)
		conds = append(conds, "(pe.trust_ref = "+ref+" OR pe.trust_ref_pending = "+ref+")")
	}
	if len(conds) == 0 {
		return nil, nil
	}
	where := "(" + strings.Join(conds, " OR ") + ") AND " + access.People(p, a)
	rows, err := tx.QueryContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id <> $1 AND pe.merged_into_id IS NULL AND "+where+" ORDER BY pe.id LIMIT 10", a.Values()...)
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
		if len(why) == 0 && sameFullName(full, pe) {
			why = append(why, "same name")
		}
		if d.Email != "" && pe.Email == d.Email {
			why = append(why, "same email address")
		}
		if ph := NormalisePhone(d.Phone); ph != "" && pe.Phone == ph {
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

// fullNames are the names given that are full names (two words or more),
// in lower case with single spaces, for matching.
func fullNames(d Details) []string {
	var out []string
	for _, n := range []string{d.PreferredName, d.FullName} {
		n = strings.ToLower(strings.Join(strings.Fields(n), " "))
		if strings.Contains(n, " ") && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func sameFullName(names []string, pe Person) bool {
	for _, n := range []string{pe.PreferredName, pe.FullName} {
		if slices.Contains(names, strings.ToLower(strings.Join(strings.Fields(n), " "))) {
			return true
		}
	}
	return false
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Visible loads a person the caller may see, inside tx, or answers
// access.ErrNotVisible (which callers audit as denied and answer as not
// found).
func Visible(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (Person, error) {
	a := store.NewArgs(id)
	pe, err := scanPerson(tx.QueryRowContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id = $1 AND "+access.People(p, a), a.Values()...))
	if errors.Is(err, sql.ErrNoRows) {
		return pe, access.ErrNotVisible
	}
	return pe, err
}

// Disclosed records, in a transaction of its own, that possible matches
// were shown to the caller (whose own transaction rolled back), naming
// each person shown, and returns dup for the caller to present.
func Disclosed(ctx context.Context, db *store.DB, now time.Time, p *app.Principal, perm app.Permission, action string, dup *DuplicateError) error {
	ids := make([]int64, len(dup.Matches))
	for i, m := range dup.Matches {
		ids[i] = m.PersonID
	}
	if err := audit.RecordAlone(ctx, db, now, p.ActorFor(perm), audit.Event{Action: action, Subjects: ids,
		ObjectType: "people", ObjectID: fmt.Sprintf("results=%d", len(ids))}); err != nil {
		return err
	}
	return dup
}

// SameTrustRef finds the people, among those the caller may see, who hold
// or were given the same trust record number as pe.
func SameTrustRef(ctx context.Context, tx *store.Tx, p *app.Principal, pe Person) ([]PossibleMatch, error) {
	a := store.NewArgs(pe.ID, pe.TrustRef)
	rows, err := tx.QueryContext(ctx, `SELECT pe.id, pe.preferred_name, pe.full_name FROM people pe
		WHERE pe.id <> $1 AND (pe.trust_ref = $2 OR pe.trust_ref_pending = $2) AND pe.merged_into_id IS NULL AND `+access.People(p, a)+`
		ORDER BY pe.id LIMIT 10`, a.Values()...)
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

// Find searches the people the caller may see by name, email, phone or
// referral reference (and trust record number, for clinicians). The
// search is audited as one row naming everyone it found.
func (s *Service) Find(ctx context.Context, p *app.Principal, query string, limit int) ([]Person, error) {
	query = strings.TrimSpace(query)
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []Person
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		ref := ""
		if p.HasRole(app.RoleClinician) {
			ref = query
		}
		a := store.NewArgs("%"+strings.ToLower(query)+"%", NormalisePhone(query), strings.ToUpper(query), limit, ref)
		scope := access.PeopleSet(p, a)
		rows, err := tx.QueryContext(ctx, "SELECT "+personColumns+` FROM people pe
			WHERE pe.merged_into_id IS NULL AND (LOWER(pe.preferred_name) LIKE $1 OR LOWER(pe.full_name) LIKE $1 OR pe.email LIKE $1
			OR ($2 <> '' AND pe.phone = $2) OR ($5 <> '' AND (pe.trust_ref = $5 OR pe.trust_ref_pending = $5)) OR pe.id IN (SELECT rr.person_id FROM referrals rr WHERE rr.reference = $3))
			AND `+scope+` ORDER BY pe.preferred_name, pe.id LIMIT $4`, a.Values()...)
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
		record(p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "person.search", Subjects: ids, ObjectType: "people", ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// Create adds a person known to staff (for example, to record that they
// were told about peer support). Possible duplicates the caller may see
// are returned as a *DuplicateError unless notDuplicate is set.
func (s *Service) Create(ctx context.Context, p *app.Principal, d Details, notDuplicate bool) (Person, error) {
	now := s.Clock.Now()
	var problems app.Problems
	dob := d.Normalise(&problems, "", now, false)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	var pe Person
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if !notDuplicate {
			matches, err := Matches(ctx, tx, p, d, dob, 0)
			if err != nil {
				return err
			}
			if len(matches) > 0 {
				return &DuplicateError{Matches: matches}
			}
		}
		var err error
		if pe, err = insertPerson(ctx, tx, p, d, dob, p.UserID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermPersonRead), audit.Event{
			Action: "person.create", SubjectPersonID: pe.ID, ObjectType: "person", ObjectID: fmt.Sprint(pe.ID)})
	})
	var dup *DuplicateError
	if errors.As(err, &dup) {
		return pe, Disclosed(ctx, s.DB, s.Clock.Now(), p, app.PermPersonRead, "person.possible_matches", dup)
	}
	return pe, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Service is the people capability.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	// Audit records searches, committing them together with others'.
	Audit *audit.Log
	// Counters limit requests for codes sent to the contact details on a
	// record.
	Counters *ratelimit.Counters
	// BaseURL is used in links in email.
	BaseURL string
}

// MatchesOf offers the people, among those the caller may see, who may be
// the same as the person of a referral the caller is triaging. It reads
// that person's own details without checking the caller may see the
// person: call it only for the person of a referral the caller was checked
// to see (a peer lead sees an unassigned referral, not its person's
// record).
func MatchesOf(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) ([]PossibleMatch, error) {
	pe, err := scanPerson(tx.QueryRowContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id = $1", personID))
	if err != nil {
		return nil, err
	}
	d := Details{PreferredName: pe.PreferredName, FullName: pe.FullName, Email: pe.Email, Phone: pe.Phone}
	return Matches(ctx, tx, p, d, pe.DateOfBirth, personID)
}

// Lock holds the rows of the people given, in id order (so two callers
// never wait on each other in a circle), until tx ends: counting a
// person's referrals and acting on the count become one step. SQLite's
// write transaction already holds the database.
func Lock(ctx context.Context, tx *store.Tx, ids ...int64) error {
	for _, id := range slices.Sorted(slices.Values(ids)) {
		var got int64
		if err := tx.QueryRowContext(ctx, "SELECT id FROM people WHERE id = $1"+tx.Dialect.ForUpdate(), id).Scan(&got); err != nil {
			return err
		}
	}
	return nil
}

// MarkMerged records, inside tx, that a person record made by mistake (a
// re-referral that came in as someone new) is the same person as into. The
// record stays, so its history still reads true; searches leave it out.
func MarkMerged(ctx context.Context, tx *store.Tx, id, into int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, "UPDATE people SET merged_into_id = $1, updated_at = $2 WHERE id = $3", into, now, id)
	return err
}
