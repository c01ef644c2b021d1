package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// ---- person.Holder: the referrals capability's part of a person's copy
// of their data, and of forgetting them.

// HolderName names this part of a person's copy.
func (s *Service) HolderName() string { return "Referrals and being told about peer support" }

// Tables are the tables the referrals capability keeps a person's data in.
func (s *Service) Tables() []string {
	return []string{"referrals", "referral_events", "contacts", "contact_note_versions", "contact_comments", "contact_restricted_notes", "offers",
		"referral_handovers", "handover_sharing"}
}

// ExportedReferral is one referral in a person's copy: everything recorded,
// codes in words.
type ExportedReferral struct {
	Reference         string     `json:"reference"`
	Door              string     `json:"how_it_was_made"`
	Status            string     `json:"status"`
	Team              string     `json:"team,omitempty"`
	MadeBy            string     `json:"made_by,omitempty"`
	Relationship      string     `json:"relationship,omitempty"`
	ForCarer          bool       `json:"for_you_as_a_carer,omitempty"`
	AskedFor          string     `json:"asked_for"`
	WorkerPreferences string     `json:"about_who_supports_you,omitempty"`
	ContactHow        string     `json:"how_to_get_in_touch,omitempty"`
	ContactWhen       string     `json:"when_to_get_in_touch,omitempty"`
	MetAt             string     `json:"where_you_met,omitempty"`
	YouKnew           bool       `json:"you_knew_about_it"`
	Agreement         string     `json:"agreement"`
	AgreementReason   string     `json:"why_agreement_was_not_obtained,omitempty"`
	ProceedReason     string     `json:"why_the_team_went_ahead_without_agreement,omitempty"`
	ReferrerFollows   bool       `json:"whoever_made_it_can_follow_it"`
	SharedBeyondTeam  bool       `json:"shared_beyond_the_peer_support_team"`
	Worker            string     `json:"peer_worker,omitempty"`
	StatusReason      string     `json:"reason,omitempty"`
	StatusNote        string     `json:"note,omitempty"`
	RedirectedTo      string     `json:"passed_to,omitempty"`
	RedirectMessage   string     `json:"message_when_passed_on,omitempty"`
	OutcomeSummary    string     `json:"what_peer_support_did,omitempty"`
	Ending            string     `json:"ending,omitempty"`
	WhatHelped        string     `json:"what_helped_in_your_words,omitempty"`
	Received          time.Time  `json:"received"`
	Accepted          *time.Time `json:"accepted,omitempty"`
	Allocated         *time.Time `json:"allocated,omitempty"`
	FirstContact      *time.Time `json:"first_contact,omitempty"`
	Closed            *time.Time `json:"closed,omitempty"`
	History           []Event    `json:"history"`
	Contacts          []Contact  `json:"contacts"`
	// Handover is what a new peer worker sees of the support so far, as
	// chosen (a summary until then); Handovers are the changes of worker.
	Handover  HandoverSharing    `json:"what_a_new_peer_worker_sees"`
	Handovers []ExportedHandover `json:"changes_of_peer_worker,omitempty"`
	// EarlierNotes are the earlier texts of the contacts' notes.
	EarlierNotes []ExportedNoteVersion `json:"earlier_notes,omitempty"`
	// Restricted are the restricted notes, in a subject access copy made
	// by staff only (for them to review before it is given); never in the
	// person's own copy.
	Restricted []ExportedRestricted `json:"restricted_notes,omitempty"`
}

// ExportedHandover is one change of peer worker in a person's copy.
type ExportedHandover struct {
	From string    `json:"from,omitempty"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

// handovers lists a referral's changes of worker, oldest first.
func handovers(ctx context.Context, tx *store.Tx, referralID int64) ([]ExportedHandover, error) {
	rows, err := tx.QueryContext(ctx, `SELECT COALESCE(fu.name, ''), tu.name, h.handed_over_at FROM referral_handovers h
		JOIN users fu ON fu.id = h.from_worker_id JOIN users tu ON tu.id = h.to_worker_id WHERE h.referral_id = $1 ORDER BY h.handed_over_at, h.id`, referralID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ExportedHandover
	for rows.Next() {
		var h ExportedHandover
		if err := rows.Scan(&h.From, &h.To, &h.At); err != nil {
			return nil, err
		}
		h.At = h.At.UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// ExportedNoteVersion is an earlier text of a contact's note in a
// person's copy.
type ExportedNoteVersion struct {
	ContactID int64 `json:"contact_id"`
	NoteVersion
}

// ExportedReferrals is the referrals capability's part of a person's copy.
type ExportedReferrals struct {
	Referrals []ExportedReferral `json:"referrals"`
	Offers    []Offer            `json:"times_you_were_told_about_peer_support"`
}

var consentWords = map[string]string{
	"self":         "You asked for it yourself",
	"given":        "You agreed to it",
	"not_obtained": "Your agreement could not be obtained when it was made",
}

// personReferrals loads every referral of a person, whoever may see them:
// only for a person's copy of their data and for forgetting them.
func (s *Service) personReferrals(ctx context.Context, tx *store.Tx, personID int64) ([]Referral, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+referralColumns+referralFrom+" WHERE r.person_id = $1 ORDER BY r.received_at, r.id", personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Referral
	for rows.Next() {
		r, err := s.scanReferral(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Export returns every referral of the person with its history and
// contacts, and every time they were told about peer support, inside tx.
func (s *Service) Export(ctx context.Context, tx *store.Tx, personID int64) (any, error) {
	refs, err := s.personReferrals(ctx, tx, personID)
	if err != nil {
		return nil, err
	}
	out := ExportedReferrals{Referrals: []ExportedReferral{}, Offers: []Offer{}}
	for _, r := range refs {
		e := ExportedReferral{Reference: r.Reference, Door: r.Source.Label(), Status: r.Status.Label(), Team: r.TeamName,
			MadeBy: r.ReferrerName, Relationship: r.ReferrerRelationship, ForCarer: r.ForCarer, AskedFor: r.AskedFor,
			WorkerPreferences: r.WorkerPreferences, ContactHow: r.ContactHow, ContactWhen: r.ContactWhen, MetAt: r.MetAt,
			YouKnew: r.PersonKnows, Agreement: firstNonEmptyString(consentWords[r.Consent], r.Consent), AgreementReason: r.ConsentReason,
			ProceedReason: r.ProceedReason, ReferrerFollows: r.ShareWithReferrer, SharedBeyondTeam: r.ShareBeyondTeam,
			Worker: r.AllocatedWorkerName, StatusNote: r.StatusNote, RedirectedTo: r.RedirectedTo, RedirectMessage: r.RedirectMessage,
			OutcomeSummary: r.OutcomeSummary, Ending: r.Ending, WhatHelped: r.WhatHelped, Received: r.ReceivedAt, Accepted: r.AcceptedAt, Allocated: r.AllocatedAt,
			FirstContact: r.FirstContactAt, Closed: r.ClosedAt}
		if r.StatusReason != "" {
			e.StatusReason = ReasonLabel(DeclineReasons, r.StatusReason)
			if e.StatusReason == r.StatusReason {
				e.StatusReason = ReasonLabel(EndReasons, r.StatusReason)
			}
		}
		if e.History, err = s.history(ctx, tx, r.ID); err != nil {
			return nil, err
		}
		for i := range e.History {
			e.History[i].ActorRole = firstNonEmptyString(app.Role(e.History[i].ActorRole).Label(), e.History[i].ActorRole)
		}
		if e.Contacts, e.Restricted, err = s.contactsCopy(ctx, tx, r.ID); err != nil {
			return nil, err
		}
		if e.Handover, err = handoverSharing(ctx, tx, r.ID); err != nil {
			return nil, err
		}
		if e.Handovers, err = handovers(ctx, tx, r.ID); err != nil {
			return nil, err
		}
		for _, c := range e.Contacts {
			vs, err := noteVersions(ctx, tx, c.ID)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				e.EarlierNotes = append(e.EarlierNotes, ExportedNoteVersion{ContactID: c.ID, NoteVersion: v})
			}
		}
		if e.History == nil {
			e.History = []Event{}
		}
		if e.Contacts == nil {
			e.Contacts = []Contact{}
		}
		out.Referrals = append(out.Referrals, e)
	}
	rows, err := tx.QueryContext(ctx, `SELECT o.id, o.person_id, o.at, o.method, o.response, COALESCE(u.name, 'You'), COALESCE(t.name, ''),
		COALESCE(o.referral_id, 0), o.note FROM offers o LEFT JOIN users u ON u.id = o.recorded_by_user_id LEFT JOIN teams t ON t.id = o.team_id
		WHERE o.person_id = $1 ORDER BY o.at, o.id`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o Offer
		if err := rows.Scan(&o.ID, &o.PersonID, &o.At, &o.Method, &o.Response, &o.RecordedBy, &o.TeamName, &o.ReferralID, &o.Note); err != nil {
			return nil, err
		}
		o.Method, o.Response = MethodLabel(o.Method), ResponseLabel(o.Response)
		out.Offers = append(out.Offers, o)
	}
	return out, rows.Err()
}

func firstNonEmptyString(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// LastActivity is when anything about the person's referrals or offers was
// last recorded. Someone with an open referral is still in care: their
// last activity is now, so the retention job never forgets them.
func (s *Service) LastActivity(ctx context.Context, tx *store.Tx, personID int64) (time.Time, error) {
	var open int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM referrals WHERE person_id = $1 AND status IN "+
		"('received', 'accepted', 'allocated', 'active')", personID).Scan(&open); err != nil {
		return time.Time{}, err
	}
	if open > 0 {
		return s.Clock.Now(), nil
	}
	return person.Latest(ctx, tx, personID,
		"SELECT updated_at FROM referrals WHERE person_id = $1 ORDER BY updated_at DESC LIMIT 1",
		"SELECT e.at FROM referral_events e JOIN referrals r ON r.id = e.referral_id WHERE r.person_id = $1 ORDER BY e.at DESC LIMIT 1",
		"SELECT c.at FROM contacts c JOIN referrals r ON r.id = c.referral_id WHERE r.person_id = $1 ORDER BY c.at DESC LIMIT 1",
		"SELECT o.at FROM offers o WHERE o.person_id = $1 ORDER BY o.at DESC LIMIT 1")
}

// Forget deletes the person's referrals with their history, contacts and
// the notifications about them, and their offers, inside tx.
func (s *Service) Forget(ctx context.Context, tx *store.Tx, personID int64) error {
	var ids []int64
	rows, err := tx.QueryContext(ctx, "SELECT id FROM referrals WHERE person_id = $1", personID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := s.Notify.ForgetReferrals(ctx, tx, ids); err != nil {
		return err
	}
	gone := "(SELECT id FROM " + tx.Dialect.IDTable("$1", "gone") + ")"
	list := store.IDsParam(ids)
	if err := forgetCounts(ctx, tx, gone, list); err != nil {
		return fmt.Errorf("forgetting a person's referrals: %w", err)
	}
	for _, q := range []struct {
		sql string
		arg any
	}{
		{"DELETE FROM contact_note_versions WHERE contact_id IN (SELECT id FROM contacts WHERE referral_id IN " + gone + ")", list},
		{"DELETE FROM contact_comments WHERE contact_id IN (SELECT id FROM contacts WHERE referral_id IN " + gone + ")", list},
		{"DELETE FROM contact_restricted_notes WHERE contact_id IN (SELECT id FROM contacts WHERE referral_id IN " + gone + ")", list},
		{"DELETE FROM contacts WHERE referral_id IN " + gone, list},
		{"DELETE FROM referral_events WHERE referral_id IN " + gone, list},
		{"DELETE FROM referral_handovers WHERE referral_id IN " + gone, list},
		{"DELETE FROM handover_sharing WHERE referral_id IN " + gone, list},
		{"DELETE FROM offers WHERE person_id = $1", personID},
		{"UPDATE offers SET referral_id = NULL WHERE referral_id IN " + gone, list},
		{"UPDATE referrals SET previous_referral_id = NULL WHERE previous_referral_id IN " + gone, list},
		{"DELETE FROM referrals WHERE person_id = $1", personID},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.arg); err != nil {
			return fmt.Errorf("forgetting a person's referrals: %w", err)
		}
	}
	// Their offers are gone: offer coverage no longer counts them as told.
	return caseload.Recount(ctx, tx, []int64{personID})
}
