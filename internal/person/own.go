package person

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// ContactDetails is what a person may change about how to reach them from
// their own account.
type ContactDetails struct {
	PreferredName     string `json:"preferred_name" required:"true" doc:"What you would like to be called."`
	Email             string `json:"email,omitempty"`
	Phone             string `json:"phone,omitempty"`
	ContactPreference string `json:"contact_preference,omitempty" doc:"phone, text, email or letter"`
	ContactTimes      string `json:"contact_times,omitempty" doc:"When is a good time to get in touch."`
}

// Change is one recorded change to a person's contact details.
type Change struct {
	At        time.Time `json:"at"`
	ChangedBy string    `json:"changed_by" doc:"Who made the change: the person themselves, or a named member of staff."`
	Role      string    `json:"role,omitempty"`
	Field     string    `json:"field"`
	Label     string    `json:"label" doc:"The field in words."`
	Old       string    `json:"old,omitempty"`
	New       string    `json:"new,omitempty"`
}

// contactFields are the fields a person may change, with their words.
var contactFields = []struct{ name, label string }{
	{"preferred_name", "Name"},
	{"email", "Email address"},
	{"phone", "Phone number"},
	{"contact_preference", "How you would like to be contacted"},
	{"contact_times", "When to get in touch"},
}

func fieldLabel(name string) string {
	for _, f := range contactFields {
		if f.name == name {
			return f.label
		}
	}
	return name
}

// OwnDetails is a person's own record as they see it, with the history of
// changes to how to reach them.
type OwnDetails struct {
	Person  Person   `json:"person"`
	Changes []Change `json:"changes"`
}

// Own loads the caller's own details and the changes made to them,
// audited as a read of their own record. A caller with no record of their
// own is not found.
func (s *Service) Own(ctx context.Context, p *app.Principal) (OwnDetails, error) {
	var out OwnDetails
	if p.PersonID == 0 || !p.HasRole(app.RolePerson, app.RoleCarer) {
		return out, app.NotFound("Your record")
	}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if out.Person, err = Visible(ctx, tx, p, p.PersonID); err != nil {
			return err
		}
		out.Person.TrustRef = ""
		if out.Changes, err = ChangesOf(ctx, tx, p.PersonID, p.UserID); err != nil {
			return err
		}
		record(p.ActorFor(app.PermOwnRecord), audit.Event{Action: "person.read_own", SubjectPersonID: p.PersonID,
			ObjectType: "person", ObjectID: fmt.Sprint(p.PersonID)})
		return nil
	})
	return out, err
}

// ChangesOf lists the changes to a person's contact details, newest first,
// naming who made each (viewer sees "You" for their own). Call it only for
// a person the caller was checked to see in the same transaction.
func ChangesOf(ctx context.Context, tx *store.Tx, personID, viewer int64) ([]Change, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.at, COALESCE(c.changed_by_user_id, 0), COALESCE(u.name, ''), c.actor_role, c.field, c.old_value, c.new_value
		FROM person_changes c LEFT JOIN users u ON u.id = c.changed_by_user_id WHERE c.person_id = $1 ORDER BY c.id DESC LIMIT 200`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Change{}
	for rows.Next() {
		var c Change
		var by int64
		if err := rows.Scan(&c.At, &by, &c.ChangedBy, &c.Role, &c.Field, &c.Old, &c.New); err != nil {
			return nil, err
		}
		switch {
		case by != 0 && by == viewer:
			c.ChangedBy = "You"
		case c.Role == string(app.RolePerson) || c.Role == string(app.RoleCarer):
			c.ChangedBy = "The person, from their account"
		case c.ChangedBy == "":
			c.ChangedBy = "Not recorded"
		}
		c.Label = fieldLabel(c.Field)
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateOwnContact changes how the caller would like to be reached: their
// name, email address, phone number, way and times of contact. Each field
// that changes is recorded with its old value, who changed it and in which
// role, in the same transaction as the change and its audit row. Bad input
// is returned as field problems and nothing is changed.
func (s *Service) UpdateOwnContact(ctx context.Context, p *app.Principal, in ContactDetails) (Person, error) {
	if p.PersonID == 0 || !p.HasRole(app.RolePerson, app.RoleCarer) {
		return Person{}, app.NotFound("Your record")
	}
	now := s.Clock.Now()
	d := Details{PreferredName: in.PreferredName, Email: in.Email, Phone: in.Phone, ContactPreference: in.ContactPreference, ContactTimes: in.ContactTimes}
	var problems app.Problems
	d.Normalise(&problems, "", now, false)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	next := map[string]string{"preferred_name": d.PreferredName, "email": d.Email, "phone": NormalisePhone(d.Phone),
		"contact_preference": d.ContactPreference, "contact_times": d.ContactTimes}
	actor := p.ActorFor(app.PermOwnRecord)
	var out Person
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// Under the person's row lock: two changes at once are made one
		// after the other, and each records what it replaced.
		var cur [5]string
		err := tx.QueryRowContext(ctx, `SELECT preferred_name, email, phone, contact_preference, contact_times FROM people
			WHERE id = $1 AND merged_into_id IS NULL`+tx.Dialect.ForUpdate(), p.PersonID).Scan(&cur[0], &cur[1], &cur[2], &cur[3], &cur[4])
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("Your record")
		}
		if err != nil {
			return err
		}
		changed := 0
		for i, f := range contactFields {
			if cur[i] == next[f.name] {
				continue
			}
			changed++
			if _, err := tx.ExecContext(ctx, `INSERT INTO person_changes (person_id, at, changed_by_user_id, actor_role, field, old_value, new_value)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.PersonID, now, p.UserID, string(actor.Role), f.name, cur[i], next[f.name]); err != nil {
				return err
			}
		}
		if changed > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE people SET preferred_name = $1, email = $2, phone = $3, contact_preference = $4,
				contact_times = $5, updated_at = $6 WHERE id = $7`, next["preferred_name"], next["email"], next["phone"],
				next["contact_preference"], next["contact_times"], now, p.PersonID); err != nil {
				return err
			}
		}
		if out, err = scanPerson(tx.QueryRowContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id = $1", p.PersonID)); err != nil {
			return err
		}
		out.TrustRef = ""
		return audit.Record(ctx, tx, now, actor, audit.Event{Action: "person.update_own", SubjectPersonID: p.PersonID,
			ObjectType: "person", ObjectID: fmt.Sprintf("%d:fields=%d", p.PersonID, changed)})
	})
	return out, err
}

// RecordsOf lists a person's records: the person and every record made by
// mistake and joined to them (merged into them), for a copy of everything
// held about them and for forgetting them. Those joined come first, so they
// can be forgotten before the record they point to.
func RecordsOf(ctx context.Context, tx *store.Tx, personID int64) ([]int64, error) {
	ids := []int64{personID}
	for i := 0; i < len(ids) && len(ids) < 1000; i++ {
		rows, err := tx.QueryContext(ctx, "SELECT id FROM people WHERE merged_into_id = $1 ORDER BY id", ids[i])
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Reverse: the most distant joins first, the person last.
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids, nil
}

// ---- person.Holder: the people capability's part of a person's copy and
// of forgetting them.

// HolderName names this part of a person's copy.
func (s *Service) HolderName() string { return "Your details" }

// Tables are the tables the people capability keeps a person's data in.
func (s *Service) Tables() []string { return []string{"people", "person_claims", "person_changes"} }

// ExportedPerson is the people capability's part of a person's copy.
type ExportedPerson struct {
	RecordID          int64      `json:"record_id"`
	PreferredName     string     `json:"name"`
	FullName          string     `json:"full_name,omitempty"`
	DateOfBirth       string     `json:"date_of_birth,omitempty"`
	Email             string     `json:"email,omitempty"`
	Phone             string     `json:"phone,omitempty"`
	ContactPreference string     `json:"how_to_contact,omitempty"`
	ContactTimes      string     `json:"when_to_contact,omitempty"`
	Gender            string     `json:"gender,omitempty"`
	Ethnicity         string     `json:"ethnicity,omitempty"`
	Disability        string     `json:"disability,omitempty"`
	FirstLanguage     string     `json:"first_language,omitempty"`
	TrustRef          string     `json:"trust_record_number,omitempty"`
	Created           time.Time  `json:"record_made"`
	JoinedTo          int64      `json:"joined_to_record,omitempty"`
	Changes           []Change   `json:"changes_to_contact_details,omitempty"`
	Claims            []OwnClaim `json:"invitations_to_claim_this_record,omitempty"`
}

// OwnClaim is a claim on the record, as its person sees it (never the code).
type OwnClaim struct {
	Kind    string     `json:"kind"`
	Made    time.Time  `json:"made"`
	Expires time.Time  `json:"expires"`
	Used    *time.Time `json:"used,omitempty"`
}

var claimKindWords = map[string]string{
	ClaimSelfReferral: "A link in the confirmation of your request",
	ClaimEmail:        "An invitation emailed by the peer support team",
	ClaimPrinted:      "A printed code from the peer support team",
	ClaimContact:      "A code sent to your email address when you asked to find your record",
}

// Export returns the person record with its words, its changes and its
// claims, inside tx.
func (s *Service) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	pe, err := scanPerson(tx.QueryRowContext(ctx, "SELECT "+personColumns+" FROM people pe WHERE pe.id = $1", personID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := ExportedPerson{RecordID: pe.ID, PreferredName: pe.PreferredName, FullName: pe.FullName, Email: pe.Email, Phone: pe.Phone,
		ContactPreference: app.ChoiceLabel(ContactPreferences, pe.ContactPreference), ContactTimes: pe.ContactTimes,
		Gender: pe.GenderLabel(), Ethnicity: pe.EthnicityLabel(), Disability: pe.DisabilityLabel(), FirstLanguage: pe.FirstLanguage,
		TrustRef: pe.TrustRef, Created: pe.CreatedAt}
	if pe.DateOfBirth != nil {
		out.DateOfBirth = pe.DateOfBirth.Format("2006-01-02")
	}
	var merged sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT merged_into_id FROM people WHERE id = $1", personID).Scan(&merged); err != nil {
		return nil, err
	}
	out.JoinedTo = merged.Int64
	if out.Changes, err = ChangesOf(ctx, tx, personID, 0); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT kind, created_at, expires_at, used_at FROM person_claims WHERE person_id = $1 ORDER BY id", personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c OwnClaim
		var used sql.NullTime
		if err := rows.Scan(&c.Kind, &c.Made, &c.Expires, &used); err != nil {
			return nil, err
		}
		if used.Valid {
			t := used.Time.UTC()
			c.Used = &t
		}
		c.Kind = firstNonEmpty(claimKindWords[c.Kind], c.Kind)
		out.Claims = append(out.Claims, c)
	}
	return out, rows.Err()
}

// LastActivity is when the record, its claims or its changes last changed.
func (s *Service) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	return Latest(ctx, tx, personID,
		"SELECT updated_at FROM people WHERE id = $1",
		"SELECT at FROM person_changes WHERE person_id = $1 ORDER BY at DESC LIMIT 1",
		"SELECT created_at FROM person_claims WHERE person_id = $1 ORDER BY created_at DESC LIMIT 1",
		"SELECT used_at FROM person_claims WHERE person_id = $1 AND used_at IS NOT NULL ORDER BY used_at DESC LIMIT 1")
}

// Latest runs queries that each select one time column of at most one row
// for the id ($1), and returns the latest of them: the zero time when there
// is none. For holders' LastActivity. (Each is a plain column, not MAX():
// SQLite gives an aggregate of a time column back as text.)
func Latest(ctx context.Context, tx *store.Tx, id int64, queries ...string) (time.Time, error) {
	var latest time.Time
	for _, q := range queries {
		var t sql.NullTime
		err := tx.QueryRowContext(ctx, q, id).Scan(&t)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		if t.Valid && t.Time.After(latest) {
			latest = t.Time.UTC()
		}
	}
	return latest, nil
}

// Forget deletes the person record, its claims and its changes, inside
// tx. Every other holder forgets its part first (the data-rights service
// calls the people capability last), and records joined to this one are
// forgotten before it.
func (s *Service) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	for _, q := range []string{
		"DELETE FROM person_changes WHERE person_id = $1",
		"DELETE FROM person_claims WHERE person_id = $1",
		"UPDATE people SET merged_into_id = NULL WHERE merged_into_id = $1",
		"DELETE FROM people WHERE id = $1",
	} {
		if _, err := tx.ExecContext(ctx, q, personID); err != nil {
			return fmt.Errorf("forgetting a person (%s): %w", strings.Fields(q)[2], err)
		}
	}
	return nil
}
