package referral

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Notes the person can read (#12). A contact's note is written for the
// person: they read it in their account and may comment on it or ask for
// a correction, which is recorded and answered, never a silent change.
// Editing a note keeps every earlier text; a contact recorded by mistake is
// marked entered in error with a reason, never deleted. A restricted note
// (safeguarding, risk) is kept apart, readable only under
// access.RestrictedNotes.

// ContactComment is a comment on a contact, or a request to correct its
// note, with its answer.
type ContactComment struct {
	ID         int64      `json:"id"`
	At         time.Time  `json:"at"`
	AuthorName string     `json:"author_name"`
	ByPerson   bool       `json:"by_person" doc:"Written by the person the contact was with."`
	Kind       string     `json:"kind" doc:"comment, or correction: the person asks for the note to be corrected."`
	Body       string     `json:"body"`
	Answer     string     `json:"answer,omitempty" doc:"For a correction: corrected (the note has a new version) or declined (with a reason); empty while it waits."`
	Reason     string     `json:"answer_reason,omitempty"`
	AnsweredBy string     `json:"answered_by,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// NoteVersion is an earlier text of a contact's note.
type NoteVersion struct {
	Version   int       `json:"version"`
	Note      string    `json:"note"`
	WrittenBy string    `json:"written_by"`
	WrittenAt time.Time `json:"written_at"`
}

// RestrictedNote is a restricted note on a contact (safeguarding, risk):
// never shown to the person.
type RestrictedNote struct {
	ID         int64      `json:"id"`
	Note       string     `json:"note"`
	Reason     string     `json:"reason" doc:"Why it is restricted."`
	WrittenBy  string     `json:"written_by"`
	WrittenAt  time.Time  `json:"written_at"`
	Withheld   string     `json:"notice_withheld_reason,omitempty" doc:"Why the person is not told that this note exists, as a clinician recorded it."`
	WithheldBy string     `json:"notice_withheld_by,omitempty"`
	WithheldAt *time.Time `json:"notice_withheld_at,omitempty"`
}

// ContactDetail is one contact as staff who may see it read it: the note
// with its earlier versions, the comments, and the restricted notes for
// those who may read them.
type ContactDetail struct {
	Contact    Contact          `json:"contact"`
	Reference  string           `json:"referral_reference"`
	PersonName string           `json:"person_name"`
	Versions   []NoteVersion    `json:"earlier_versions"`
	Restricted []RestrictedNote `json:"restricted_notes" doc:"Only for the worker who recorded the contact, their lead and clinicians; empty for anyone else."`
	// MayAmend: the caller may change the note, mark the contact entered
	// in error and answer corrections (the worker who recorded it, or a
	// lead of its team).
	MayAmend bool `json:"may_amend"`
	// MayRestrict: the caller may add a restricted note.
	MayRestrict bool `json:"may_add_restricted_note"`
	// MayWithhold: the caller (a clinician) may record why the person is
	// not told that a restricted note exists.
	MayWithhold bool `json:"may_withhold_notice"`
}

// NoteEdit is a new text for a contact's note.
type NoteEdit struct {
	Note    string `json:"note" doc:"The new text. The person reads it; the earlier text is kept."`
	Version int    `json:"version" required:"true" doc:"The contact's version you saw: a stale one answers 409."`
}

// ErrorMark marks a contact entered in error.
type ErrorMark struct {
	Reason  string `json:"reason" required:"true" doc:"Why the contact was entered in error: the person sees it."`
	Version int    `json:"version" required:"true"`
}

// NewComment is a comment on a contact, or a request to correct its note.
type NewComment struct {
	Kind string `json:"kind" required:"true" doc:"comment, or correction (the person only): ask for the note to be corrected."`
	Body string `json:"body" required:"true"`
}

// CorrectionAnswer answers a request to correct a note.
type CorrectionAnswer struct {
	Answer  string `json:"answer" required:"true" doc:"corrected (send the new note) or declined (send the reason)."`
	Note    string `json:"note,omitempty" doc:"For corrected: the corrected note."`
	Reason  string `json:"reason,omitempty" doc:"For declined: why, in words the person reads."`
	Version int    `json:"version,omitempty" doc:"For corrected: the contact's version you saw."`
}

// NewRestrictedNote is a restricted note on a contact.
type NewRestrictedNote struct {
	Note   string `json:"note" required:"true"`
	Reason string `json:"reason" required:"true" doc:"Why the person may not read it (safeguarding, risk)."`
}

// Withholding is a clinician's reason for not telling the person that a
// contact has a restricted note.
type Withholding struct {
	Reason string `json:"reason" required:"true"`
}

// ContactPage is one page of a person's contacts.
type ContactPage struct {
	Contacts []Contact `json:"contacts"`
	Total    int       `json:"total"`
	Limit    int       `json:"limit"`
	Offset   int       `json:"offset"`
}

// seesSupport reports whether a member of staff may read what the support
// itself was: the peer team and clinicians, never partner workers,
// managers or anyone who only made the referral.
func seesSupport(p *app.Principal) bool {
	return p.Can(app.PermReferralWork) || p.HasRole(app.RoleClinician)
}

// commentColumns and commentFrom read comments with alias cc, scanned
// into ContactComment.fields.
const (
	commentColumns = "cc.id, cc.at, u.name, cc.by_person, cc.kind, cc.body, cc.answer, cc.answer_reason, COALESCE(au.name, ''), cc.answered_at"
	commentFrom    = " FROM contact_comments cc JOIN users u ON u.id = cc.author_user_id LEFT JOIN users au ON au.id = cc.answered_by_user_id"
)

func (k *ContactComment) fields() []any {
	return []any{&k.ID, &k.At, &k.AuthorName, &k.ByPerson, &k.Kind, &k.Body, &k.Answer, &k.Reason, &k.AnsweredBy, &k.AnsweredAt}
}

// contactColumns and contactFrom read contacts with alias c.
const contactColumns = `c.id, c.referral_id, c.at, u.name, c.mode, c.while_waiting, c.minutes, c.note, c.support_types, c.setting,
	c.version, c.edited_at, c.error_at, c.error_reason, c.worker_user_id`

const contactFrom = " FROM contacts c JOIN users u ON u.id = c.worker_user_id"

// rowWith scans a row's extra trailing columns into more.
type rowWith struct {
	row  interface{ Scan(...any) error }
	more *string
}

func (r rowWith) Scan(dest ...any) error { return r.row.Scan(append(dest, r.more)...) }

func scanContact(sc interface{ Scan(...any) error }) (Contact, error) {
	var c Contact
	var types string
	var errAt *time.Time
	err := sc.Scan(&c.ID, &c.ReferralID, &c.At, &c.WorkerName, &c.Mode, &c.WhileWaiting, &c.Minutes, &c.Note, &types, &c.Setting,
		&c.Version, &c.EditedAt, &errAt, &c.ErrorReason, &c.workerUserID)
	c.SupportTypes = []string{}
	if types != "" {
		c.SupportTypes = strings.Split(types, ",")
	}
	c.EnteredInError = errAt != nil
	c.Comments = []ContactComment{}
	return c, err
}

// contactsWhere loads contacts matching cond (over c and r) with their
// comments and whether each has a restricted note; forPerson leaves out
// the notice a clinician withheld.
//
// What the caller reads of each is bounded by access.HandoverHistory (p
// nil: the person's own copy, all of it): a contact recorded before a
// handover the person did not agree to share is left out, or read as a
// summary with no note text and no comments.
func (s *Service) contactsWhere(ctx context.Context, tx *store.Tx, p *app.Principal, a *store.Args, cond, tail string, forPerson bool) ([]Contact, error) {
	share := access.HandoverHistory(p, a, "c", "r")
	rows, err := tx.QueryContext(ctx, "SELECT "+contactColumns+", "+share+contactFrom+" JOIN referrals r ON r.id = c.referral_id WHERE ("+cond+
		") AND "+share+" <> '"+access.HistoryNone+"' ORDER BY c.at DESC, c.id DESC"+tail, a.Values()...)
	if err != nil {
		return nil, err
	}
	out := []Contact{}
	var summaries []int64
	for rows.Next() {
		var level string
		c, err := scanContact(rowWith{rows, &level})
		if err != nil {
			rows.Close()
			return nil, err
		}
		if level == access.HistorySummary {
			// No one's words: not the note, nor why it was entered in error.
			c.HistorySummary, c.Note, c.ErrorReason = true, "", ""
			summaries = append(summaries, c.ID)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]int64, len(out))
	at := map[int64]int{}
	for i, c := range out {
		ids[i], at[c.ID] = c.ID, i
	}
	in := "(SELECT id FROM " + tx.Dialect.IDTable("$1", "ids") + ")"
	crows, err := tx.QueryContext(ctx, "SELECT cc.contact_id, "+commentColumns+commentFrom+" WHERE cc.contact_id IN "+in+" ORDER BY cc.id", store.IDsParam(ids))
	if err != nil {
		return nil, err
	}
	for crows.Next() {
		var id int64
		var k ContactComment
		if err := crows.Scan(append([]any{&id}, k.fields()...)...); err != nil {
			crows.Close()
			return nil, err
		}
		if !out[at[id]].HistorySummary {
			out[at[id]].Comments = append(out[at[id]].Comments, k)
		}
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return nil, err
	}
	// Whether a restricted note exists: never its text.
	told := ""
	if forPerson {
		told = " AND rn.withheld_at IS NULL"
	}
	rrows, err := tx.QueryContext(ctx, "SELECT DISTINCT rn.contact_id FROM contact_restricted_notes rn WHERE rn.contact_id IN "+in+told, store.IDsParam(ids))
	if err != nil {
		return nil, err
	}
	defer rrows.Close()
	for rrows.Next() {
		var id int64
		if err := rrows.Scan(&id); err != nil {
			return nil, err
		}
		out[at[id]].RestrictedNote = true
	}
	return out, rrows.Err()
}

// contacts loads a referral's contacts (already in the caller's scope).
func (s *Service) contacts(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, forPerson bool) ([]Contact, error) {
	return s.contactsWhere(ctx, tx, p, store.NewArgs(id), "c.referral_id = $1", "", forPerson)
}

// visibleContact loads a contact and its referral, in the caller's scope,
// for staff who see the support (or the person whose contact it is when
// own is set), optionally locking the referral.
func (s *Service) visibleContact(ctx context.Context, tx *store.Tx, p *app.Principal, id int64, own, lock bool) (Contact, Referral, error) {
	var refID int64
	err := tx.QueryRowContext(ctx, "SELECT referral_id FROM contacts WHERE id = $1", id).Scan(&refID)
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, Referral{}, access.ErrNotVisible
	} else if err != nil {
		return Contact{}, Referral{}, err
	}
	r, err := s.visibleReferral(ctx, tx, p, refID, lock)
	if err != nil {
		return Contact{}, r, err
	}
	if !(own && ownReferral(p, &r)) && !(seesSupport(p) && !ownReferral(p, &r)) {
		return Contact{}, r, access.ErrNotVisible
	}
	cs, err := s.contactsWhere(ctx, tx, p, store.NewArgs(id), "c.id = $1", "", ownReferral(p, &r))
	if err != nil {
		return Contact{}, r, err
	}
	if len(cs) == 0 {
		return Contact{}, r, access.ErrNotVisible
	}
	return cs[0], r, nil
}

// mayAmend is the rule for who may change a contact's note, mark it
// entered in error and answer corrections: the worker who recorded it, or
// a peer lead of its referral's team.
func mayAmend(p *app.Principal, c Contact, r Referral) bool {
	if !p.Can(app.PermReferralWork) {
		return false
	}
	return c.workerUserID == p.UserID || leads(p, r.TeamID)
}

// mayReadRestricted asks access.RestrictedNotes whether the caller may read
// the contact's restricted notes.
func mayReadRestricted(ctx context.Context, tx *store.Tx, p *app.Principal, contactID int64) (bool, error) {
	a := store.NewArgs(contactID)
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM contacts c JOIN referrals r ON r.id = c.referral_id WHERE c.id = $1 AND "+
		access.RestrictedNotes(p, a, "c", "r"), a.Values()...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// restrictedNotes lists a contact's restricted notes, bounded by
// access.RestrictedNotes (none for anyone else).
func restrictedNotes(ctx context.Context, tx *store.Tx, p *app.Principal, contactID int64) ([]RestrictedNote, error) {
	a := store.NewArgs(contactID)
	rows, err := tx.QueryContext(ctx, `SELECT rn.id, rn.note, rn.reason, u.name, rn.written_at, rn.withheld_reason, COALESCE(wu.name, ''), rn.withheld_at
		FROM contact_restricted_notes rn JOIN contacts c ON c.id = rn.contact_id JOIN referrals r ON r.id = c.referral_id
		JOIN users u ON u.id = rn.written_by_user_id LEFT JOIN users wu ON wu.id = rn.withheld_by_user_id
		WHERE rn.contact_id = $1 AND `+access.RestrictedNotes(p, a, "c", "r")+" ORDER BY rn.id", a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RestrictedNote{}
	for rows.Next() {
		var n RestrictedNote
		if err := rows.Scan(&n.ID, &n.Note, &n.Reason, &n.WrittenBy, &n.WrittenAt, &n.Withheld, &n.WithheldBy, &n.WithheldAt); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func noteVersions(ctx context.Context, tx *store.Tx, contactID int64) ([]NoteVersion, error) {
	rows, err := tx.QueryContext(ctx, `SELECT v.version, v.note, u.name, v.written_at FROM contact_note_versions v
		JOIN users u ON u.id = v.written_by_user_id WHERE v.contact_id = $1 ORDER BY v.version DESC`, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []NoteVersion{}
	for rows.Next() {
		var v NoteVersion
		if err := rows.Scan(&v.Version, &v.Note, &v.WrittenBy, &v.WrittenAt); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// GetContact is one contact as staff who see the support read it, audited
// as a read (contact.read_restricted when restricted notes were shown). A
// contact the caller may not see, and any contact for a partner worker,
// is not found.
func (s *Service) GetContact(ctx context.Context, p *app.Principal, id int64) (ContactDetail, error) {
	var d ContactDetail
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		if !seesSupport(p) {
			return access.ErrNotVisible
		}
		c, r, err := s.visibleContact(ctx, tx, p, id, false, false)
		if err != nil {
			return err
		}
		d = ContactDetail{Contact: c, Reference: r.Reference, PersonName: r.PersonName, MayAmend: mayAmend(p, c, r)}
		d.Versions = []NoteVersion{}
		if !c.HistorySummary {
			if d.Versions, err = noteVersions(ctx, tx, id); err != nil {
				return err
			}
		}
		if d.Restricted, err = restrictedNotes(ctx, tx, p, id); err != nil {
			return err
		}
		readable, err := mayReadRestricted(ctx, tx, p, id)
		if err != nil {
			return err
		}
		d.MayRestrict = readable && p.Can(app.PermReferralWork)
		d.MayWithhold = readable && p.HasRole(app.RoleClinician) && len(d.Restricted) > 0
		action := "contact.read"
		if len(d.Restricted) > 0 {
			action = "contact.read_restricted"
		}
		record(actor(p, readingAs(p, &r)), audit.Event{Action: action, SubjectPersonID: r.PersonID, ObjectType: "contact", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return d, s.denied(ctx, err, p, app.PermReferralView, "contact.read", "contact", id, "The contact")
	}
	return d, nil
}

// PersonContacts is a page of a person's contacts, newest first, for the
// person themselves (their readable view) or staff who see the support,
// only on the referrals the caller may see; audited as one read.
func (s *Service) PersonContacts(ctx context.Context, p *app.Principal, personID int64, limit, offset int) (ContactPage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	offset = max(offset, 0)
	out := ContactPage{Limit: limit, Offset: offset, Contacts: []Contact{}}
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		own := p.PersonID == personID && p.HasRole(app.RolePerson, app.RoleCarer)
		if !own && !seesSupport(p) {
			return access.ErrNotVisible
		}
		if err := access.MaySeePerson(ctx, tx, p, personID); err != nil {
			return err
		}
		a := store.NewArgs(personID)
		cond := "r.person_id = $1 AND " + access.Referrals(p, a) + " AND " + access.HandoverHistory(p, a, "c", "r") + " <> '" + access.HistoryNone + "'"
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts c JOIN referrals r ON r.id = c.referral_id WHERE "+cond, a.Values()...).Scan(&out.Total); err != nil {
			return err
		}
		var err error
		tail := " LIMIT " + a.Add(limit) + " OFFSET " + a.Add(offset)
		if out.Contacts, err = s.contactsWhere(ctx, tx, p, a, cond, tail, own); err != nil {
			return err
		}
		m, _ := p.RoleFor(app.PermReferralView)
		if own {
			m, _ = p.RoleFor(app.PermOwnRecord)
		}
		record(actor(p, m), audit.Event{Action: "contact.list", SubjectPersonID: personID, ObjectType: "person", ObjectID: fmt.Sprint(personID)})
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralView, "contact.list", "person", personID, "The person")
	}
	return out, nil
}

// EditNote writes a new text for a contact's note, keeping the earlier
// one. Only the worker who recorded it or a lead of its team may; the
// version must be the one they saw (a conditional update, so two edits at
// once cannot both win: the second answers 409).
func (s *Service) EditNote(ctx context.Context, p *app.Principal, contactID int64, in NoteEdit) (Contact, error) {
	in.Note = strings.TrimSpace(in.Note)
	var problems app.Problems
	problems.CheckLen("note", in.Note, maxText, "The note")
	if err := problems.Err(); err != nil {
		return Contact{}, err
	}
	var out Contact
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		c, r, err := s.visibleContact(ctx, tx, p, contactID, false, true)
		if err != nil {
			return err
		}
		if err := s.amendable(p, c, r); err != nil {
			return err
		}
		if c.Note == in.Note {
			return app.Invalid(app.FieldError{Field: "note", Message: "The note is the same as before: change it, or go back"})
		}
		if err := s.writeNote(ctx, tx, p, c, in.Version, in.Note); err != nil {
			return err
		}
		if out, _, err = s.visibleContact(ctx, tx, p, contactID, false, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), p.ActorFor(app.PermReferralWork), audit.Event{
			Action: "contact.edit_note", SubjectPersonID: r.PersonID, ObjectType: "contact", ObjectID: fmt.Sprint(contactID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralWork, "contact.edit_note", "contact", contactID, "The contact")
	}
	return out, nil
}

func errStale() error {
	return app.Errorf(app.CodeConflict, "Someone changed this contact since you opened it. Look at it again: what you typed is kept below.")
}

// amendable says why the caller may not change the contact, if they may not.
func (s *Service) amendable(p *app.Principal, c Contact, r Referral) error {
	switch {
	case !mayAmend(p, c, r):
		return app.Errorf(app.CodeForbidden, "Only the peer worker who recorded this contact, or a lead of their team, can change it")
	case c.EnteredInError:
		return app.Errorf(app.CodeConflict, "This contact was marked entered in error, so it can no longer be changed")
	}
	return nil
}

// writeNote replaces the note conditionally on the version seen, keeping
// the text it replaces.
func (s *Service) writeNote(ctx context.Context, tx *store.Tx, p *app.Principal, c Contact, version int, note string) error {
	now := s.Clock.Now()
	// Who wrote the text being replaced, and when: the last editor, or
	// whoever recorded the contact.
	var by int64
	var editedBy sql.NullInt64
	var at time.Time
	var editedAt *time.Time
	if err := tx.QueryRowContext(ctx, "SELECT worker_user_id, edited_by_user_id, created_at, edited_at FROM contacts WHERE id = $1",
		c.ID).Scan(&by, &editedBy, &at, &editedAt); err != nil {
		return err
	}
	if editedBy.Valid && editedAt != nil {
		by, at = editedBy.Int64, *editedAt
	}
	if err := tx.ExecOne(ctx, errStale(), `UPDATE contacts SET note = $1, version = version + 1, edited_by_user_id = $2, edited_at = $3
		WHERE id = $4 AND version = $5 AND version = $6 AND error_at IS NULL`, note, p.UserID, now, c.ID, version, c.Version); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO contact_note_versions (contact_id, version, note, written_by_user_id, written_at) VALUES ($1, $2, $3, $4, $5)",
		c.ID, c.Version, c.Note, by, at)
	if store.IsUniqueViolation(err) {
		return errStale()
	}
	return err
}

// MarkEnteredInError marks a contact recorded by mistake, with the reason
// the person reads. It is never deleted: it stays on the record, struck
// through, and is left out of every count; the referral's first contact
// becomes the earliest contact left. Only the worker who recorded it or a
// lead of its team may; a stale version answers 409.
func (s *Service) MarkEnteredInError(ctx context.Context, p *app.Principal, contactID int64, in ErrorMark) (Contact, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	var problems app.Problems
	if in.Reason == "" {
		problems.Add("reason", "Enter why the contact was entered in error")
	}
	problems.CheckLen("reason", in.Reason, maxText, "The reason")
	if err := problems.Err(); err != nil {
		return Contact{}, err
	}
	var out Contact
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		c, r, err := s.visibleContact(ctx, tx, p, contactID, false, true)
		if err != nil {
			return err
		}
		if err := s.amendable(p, c, r); err != nil {
			return err
		}
		if err := tx.ExecOne(ctx, errStale(), `UPDATE contacts SET error_at = $1, error_by_user_id = $2, error_reason = $3, version = version + 1, appointment_id = NULL
			WHERE id = $4 AND version = $5 AND error_at IS NULL`, now, p.UserID, in.Reason, contactID, in.Version); err != nil {
			return err
		}
		// Out of the support roll-up with it (the conditional update above
		// lets only one marking through).
		if err := countContact(ctx, tx, contactID, -1); err != nil {
			return err
		}
		// The first contact is the earliest one not entered in error; with
		// none left, a referral still waiting has had no first contact
		// (peer support started counts as one).
		if _, err := tx.ExecContext(ctx, `UPDATE referrals SET first_contact_at = COALESCE(
				(SELECT MIN(c.at) FROM contacts c WHERE c.referral_id = $1 AND c.error_at IS NULL),
				CASE WHEN status IN ('received', 'accepted', 'allocated') THEN NULL ELSE first_contact_at END), updated_at = $2
			WHERE id = $1 AND first_contact_at = $3`, r.ID, now, c.At); err != nil {
			return err
		}
		if err := caseload.Recount(ctx, tx, []int64{r.PersonID}); err != nil {
			return err
		}
		if out, _, err = s.visibleContact(ctx, tx, p, contactID, false, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermReferralWork), audit.Event{
			Action: "contact.entered_in_error", SubjectPersonID: r.PersonID, ObjectType: "contact", ObjectID: fmt.Sprint(contactID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralWork, "contact.entered_in_error", "contact", contactID, "The contact")
	}
	return out, nil
}

// AddComment records a comment on a contact, or (the person only) a
// request to correct its note, with who and when. The person may comment
// on their own contacts; staff who see the support on any they may see.
// The worker who recorded the contact is told in Mutual, without what was
// written (no email).
func (s *Service) AddComment(ctx context.Context, p *app.Principal, contactID int64, in NewComment) (ContactComment, error) {
	in.Body = strings.TrimSpace(in.Body)
	var problems app.Problems
	if in.Kind != "comment" && in.Kind != "correction" {
		problems.Add("kind", "Choose whether this is a comment or a request to correct the note")
	}
	if in.Body == "" {
		problems.Add("body", map[bool]string{true: "Enter what should be corrected", false: "Enter your comment"}[in.Kind == "correction"])
	}
	problems.CheckLen("body", in.Body, maxText, "This")
	if err := problems.Err(); err != nil {
		return ContactComment{}, err
	}
	var out ContactComment
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		// The referral's row lock, as MarkEnteredInError takes: a
		// correction is never asked of a contact marked meanwhile.
		c, r, err := s.visibleContact(ctx, tx, p, contactID, true, true)
		if err != nil {
			return err
		}
		byPerson := ownReferral(p, &r)
		if in.Kind == "correction" && !byPerson {
			return app.Invalid(app.FieldError{Field: "kind", Message: "Only the person can ask for a correction: change the note instead"})
		}
		if in.Kind == "correction" && c.EnteredInError {
			return app.Errorf(app.CodeConflict, "This contact was marked entered in error, so its note will not be corrected")
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO contact_comments (contact_id, author_user_id, by_person, kind, body, at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, contactID, p.UserID, byPerson, in.Kind, in.Body, now).Scan(&out.ID); err != nil {
			return err
		}
		out = ContactComment{ID: out.ID, At: now, AuthorName: p.Name, ByPerson: byPerson, Kind: in.Kind, Body: in.Body}
		m, _ := p.RoleFor(app.PermReferralView)
		if byPerson {
			m, _ = p.RoleFor(app.PermOwnRecord)
		}
		// The person's worker now (or, with none allocated, whoever
		// recorded the contact) is told — only while they still work in the
		// referral's team, so no one who has left it hears of the person.
		to := cmp.Or(r.AllocatedWorkerID, c.workerUserID)
		var inTeam int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u JOIN memberships m ON m.user_id = u.id
			WHERE u.id = $1 AND u.status = 'active' AND m.team_id = $2 AND m.role IN ('peer_worker', 'peer_lead')`, to, r.TeamID).Scan(&inTeam); err != nil {
			return err
		}
		if to != p.UserID && inTeam > 0 {
			if err := s.Notify.Tell(ctx, tx, to, r.ID, notify.ContactComment{Reference: r.Reference, Correction: in.Kind == "correction"}); err != nil {
				return err
			}
			if err := s.auditNotification(ctx, tx, to, r.PersonID, r.ID, now, p.RequestID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, actor(p, m), audit.Event{
			Action: "contact.comment", SubjectPersonID: r.PersonID, ObjectType: "contact", ObjectID: fmt.Sprint(contactID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralView, "contact.comment", "contact", contactID, "The contact")
	}
	return out, nil
}

// AnswerCorrection answers the person's request to correct a note, once:
// corrected (a new version of the note, conditional on the version seen)
// or declined with a reason the person reads. Only the worker who recorded
// the contact or a lead of its team may; a request already answered
// answers 409.
func (s *Service) AnswerCorrection(ctx context.Context, p *app.Principal, commentID int64, in CorrectionAnswer) (ContactComment, error) {
	in.Note, in.Reason = strings.TrimSpace(in.Note), strings.TrimSpace(in.Reason)
	var problems app.Problems
	switch in.Answer {
	case "corrected":
		problems.CheckLen("note", in.Note, maxText, "The note")
	case "declined":
		if in.Reason == "" {
			problems.Add("reason", "Enter why the note is not corrected: the person reads it")
		}
		problems.CheckLen("reason", in.Reason, maxText, "The reason")
	default:
		problems.Add("answer", "Choose whether you corrected the note or declined")
	}
	if err := problems.Err(); err != nil {
		return ContactComment{}, err
	}
	var out ContactComment
	var contactID int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		var kind string
		err := tx.QueryRowContext(ctx, "SELECT contact_id, kind FROM contact_comments WHERE id = $1", commentID).Scan(&contactID, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return access.ErrNotVisible
		} else if err != nil {
			return err
		}
		c, r, err := s.visibleContact(ctx, tx, p, contactID, false, true)
		if err != nil {
			return err
		}
		if kind != "correction" {
			return app.Errorf(app.CodeConflict, "This is a comment, not a request for a correction: there is nothing to answer")
		}
		if err := s.amendable(p, c, r); err != nil {
			return err
		}
		if err := tx.ExecOne(ctx, app.Errorf(app.CodeConflict, "This request for a correction has already been answered"), `UPDATE contact_comments SET answer = $1, answer_reason = $2, answered_by_user_id = $3, answered_at = $4
			WHERE id = $5 AND answer = ''`, in.Answer, in.Reason, p.UserID, now, commentID); err != nil {
			return err
		}
		if in.Answer == "corrected" {
			if in.Note == c.Note {
				return app.Invalid(app.FieldError{Field: "note", Message: "The note is the same as before: correct it, or decline with a reason"})
			}
			if err := s.writeNote(ctx, tx, p, c, in.Version, in.Note); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, "SELECT "+commentColumns+commentFrom+" WHERE cc.id = $1", commentID).Scan(out.fields()...); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermReferralWork), audit.Event{
			Action: "contact.answer_correction", SubjectPersonID: r.PersonID, ObjectType: "contact", ObjectID: fmt.Sprint(contactID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralWork, "contact.answer_correction", "contact_comment", commentID, "The request")
	}
	return out, nil
}

// AddRestrictedNote adds a restricted note (safeguarding, risk) to a
// contact, with why it is restricted. Only those access.RestrictedNotes
// lets read it who also work with people (the worker who recorded the
// contact, a lead of its team) may add one. The person is told that one
// exists, unless a clinician records why not.
func (s *Service) AddRestrictedNote(ctx context.Context, p *app.Principal, contactID int64, in NewRestrictedNote) (RestrictedNote, error) {
	in.Note, in.Reason = strings.TrimSpace(in.Note), strings.TrimSpace(in.Reason)
	var problems app.Problems
	if in.Note == "" {
		problems.Add("restricted_note", "Enter the restricted note")
	}
	if in.Reason == "" {
		problems.Add("restricted_reason", "Enter why the person may not read this note")
	}
	problems.CheckLen("restricted_note", in.Note, maxText, "The note")
	problems.CheckLen("restricted_reason", in.Reason, maxText, "The reason")
	if err := problems.Err(); err != nil {
		return RestrictedNote{}, err
	}
	var out RestrictedNote
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		_, r, err := s.visibleContact(ctx, tx, p, contactID, false, false)
		if err != nil {
			return err
		}
		ok, err := mayReadRestricted(ctx, tx, p, contactID)
		if err != nil {
			return err
		}
		if !ok || !p.Can(app.PermReferralWork) {
			return app.Errorf(app.CodeForbidden, "Only the peer worker who recorded this contact, or a lead of their team, can add a restricted note")
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO contact_restricted_notes (contact_id, note, reason, written_by_user_id, written_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, contactID, in.Note, in.Reason, p.UserID, now).Scan(&out.ID); err != nil {
			return err
		}
		out = RestrictedNote{ID: out.ID, Note: in.Note, Reason: in.Reason, WrittenBy: p.Name, WrittenAt: now}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermReferralWork), audit.Event{
			Action: "contact.restricted_note", SubjectPersonID: r.PersonID, ObjectType: "contact", ObjectID: fmt.Sprint(contactID)})
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermReferralWork, "contact.restricted_note", "contact", contactID, "The contact")
	}
	return out, nil
}

// WithholdRestrictedNotice records a clinician's reason for not telling
// the person that the contact has restricted notes (those written so far:
// a later one is told unless withheld again). The withholding is itself
// recorded, with the clinician and the reason. Only a clinician who may
// read the notes may; with nothing left to withhold it answers 409.
func (s *Service) WithholdRestrictedNotice(ctx context.Context, p *app.Principal, contactID int64, in Withholding) error {
	in.Reason = strings.TrimSpace(in.Reason)
	var problems app.Problems
	if in.Reason == "" {
		problems.Add("withhold_reason", "Enter why the person should not be told that a restricted note exists")
	}
	problems.CheckLen("withhold_reason", in.Reason, maxText, "The reason")
	if err := problems.Err(); err != nil {
		return err
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		now := s.Clock.Now()
		_, r, err := s.visibleContact(ctx, tx, p, contactID, false, false)
		if err != nil {
			return err
		}
		ok, err := mayReadRestricted(ctx, tx, p, contactID)
		if err != nil {
			return err
		}
		m, clinician := roleIn(p, 0, app.RoleClinician)
		if !ok || !clinician {
			return app.Errorf(app.CodeForbidden, "Only a clinician can decide that the person is not told about a restricted note")
		}
		if err := tx.ExecOne(ctx, app.Errorf(app.CodeConflict, "There is no restricted note on this contact that the person is told about"), `UPDATE contact_restricted_notes SET withheld_reason = $1, withheld_by_user_id = $2, withheld_at = $3
			WHERE contact_id = $4 AND withheld_at IS NULL`, in.Reason, p.UserID, now, contactID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actor(p, m), audit.Event{
			Action: "contact.withhold_notice", SubjectPersonID: r.PersonID, ObjectType: "contact", ObjectID: fmt.Sprint(contactID)})
	})
	return s.denied(ctx, err, p, app.PermReferralView, "contact.withhold_notice", "contact", contactID, "The contact")
}

// contactsCopy is a referral's contacts in a person's data copy: what
// they may read, and (in a subject access copy made by staff only) the
// restricted notes that member of staff may read, for them to review
// before it is given.
func (s *Service) contactsCopy(ctx context.Context, tx *store.Tx, referralID int64) ([]Contact, []ExportedRestricted, error) {
	cs, err := s.contacts(ctx, tx, nil, referralID, true)
	staff := person.SubjectAccessBy(ctx)
	if err != nil || staff == nil {
		return cs, nil, err
	}
	a := store.NewArgs(referralID)
	rows, err := tx.QueryContext(ctx, `SELECT rn.contact_id, rn.note, rn.reason, u.name, rn.written_at, rn.withheld_reason
		FROM contact_restricted_notes rn JOIN contacts c ON c.id = rn.contact_id JOIN referrals r ON r.id = c.referral_id
		JOIN users u ON u.id = rn.written_by_user_id WHERE c.referral_id = $1 AND `+access.RestrictedNotes(staff, a, "c", "r")+" ORDER BY rn.id", a.Values()...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := []ExportedRestricted{}
	for rows.Next() {
		var e ExportedRestricted
		if err := rows.Scan(&e.ContactID, &e.Note, &e.Reason, &e.WrittenBy, &e.WrittenAt, &e.Withheld); err != nil {
			return nil, nil, err
		}
		out = append(out, e)
	}
	return cs, out, rows.Err()
}

// ExportedRestricted is a restricted note in a subject access copy made by
// staff (never in the person's own copy).
type ExportedRestricted struct {
	ContactID int64     `json:"contact_id"`
	Note      string    `json:"note"`
	Reason    string    `json:"why_restricted"`
	WrittenBy string    `json:"written_by"`
	WrittenAt time.Time `json:"written_at"`
	Withheld  string    `json:"why_the_person_is_not_told,omitempty"`
}
