package referral

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// A person's own view of their referrals: plain words, and nothing that
// is only the staff's way of working (no "past waiting standard" tag, no
// internal history labels or staff notes).

// OwnReferral is a referral as its person (or the carer who made it)
// reads it.
type OwnReferral struct {
	ID                int64     `json:"id"`
	Reference         string    `json:"reference"`
	Status            Status    `json:"status,omitempty" doc:"Absent from the outline a referrer sees without the person's agreement (limited: true)."`
	StatusText        string    `json:"status_text,omitempty" doc:"Where the referral is, in plain words."`
	TeamName          string    `json:"team_name,omitempty"`
	WorkerFirstName   string    `json:"worker_first_name,omitempty"`
	PersonName        string    `json:"person_name"`
	MadeBy            string    `json:"made_by" doc:"Who asked for peer support: you, or a named person and their team."`
	ReceivedAt        time.Time `json:"received_at"`
	AskedFor          string    `json:"asked_for,omitempty"`
	WorkerPreferences string    `json:"worker_preferences,omitempty"`
	RedirectedTo      string    `json:"redirected_to,omitempty"`
	RedirectMessage   string    `json:"redirect_message,omitempty"`
	OutcomeSummary    string    `json:"outcome_summary,omitempty"`
	Ending            string    `json:"ending,omitempty" doc:"Ended: planned (agreed with you) or unplanned."`
	WhatHelped        string    `json:"what_helped,omitempty" doc:"What helped, in your own words (yours only: not shown to whoever made the referral for you)."`
	// CanSayWhatHelped: the person's own ended referral, so they may add
	// or change their words about what helped.
	CanSayWhatHelped  bool       `json:"can_say_what_helped"`
	Agreement         string     `json:"agreement,omitempty" doc:"self: you asked; given: you agreed when someone referred you; not_obtained: you had not agreed when it was made."`
	ProceedReason     string     `json:"proceed_reason,omitempty" doc:"Without your agreement: why the team went ahead, as recorded by a clinician or peer lead."`
	ProceedBy         string     `json:"proceed_by,omitempty"`
	ProceedAt         *time.Time `json:"proceed_at,omitempty"`
	ShareWithReferrer bool       `json:"share_with_referrer"`
	ShareBeyondTeam   bool       `json:"share_beyond_team"`
	SharingChangedAt  *time.Time `json:"sharing_changed_at,omitempty"`
	ReferrerCanFollow bool       `json:"referrer_can_follow" doc:"Someone other than you made the referral, so whether they may follow it is yours to choose."`
	Closed            bool       `json:"closed"`
	Version           int        `json:"version"`
}

// Step is one thing that happened to a referral, in plain words.
type Step struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// MyReferral is a referral as the person (or the carer who made it) sees
// it, in plain English: Own and Steps. Referral and History are the full
// record, for the pages' own use; they are not sent to the API.
type MyReferral struct {
	Own      OwnReferral `json:"referral"`
	Steps    []Step      `json:"what_happened"`
	Contacts []Contact   `json:"contacts"`
	Limited  bool        `json:"limited"`
	// MadeByMe is set for referrals the caller made for someone else.
	MadeByMe bool `json:"made_by_me"`
	// CanChangeSharing is set for the person's own referrals: they decide
	// who beyond the peer support team may see them.
	CanChangeSharing bool `json:"can_change_sharing"`
	// Handover is the person's choice of what a new peer worker sees of
	// their support so far (their own referrals only).
	Handover *HandoverSharing `json:"handover_sharing,omitempty"`

	Referral Referral `json:"-"`
	History  []Event  `json:"-"`
}

// ownView is a referral in the words its person reads.
func ownView(r Referral, madeByMe bool) OwnReferral {
	o := OwnReferral{ID: r.ID, Reference: r.Reference, Status: r.Status, StatusText: ownStatusText(r, madeByMe), TeamName: r.TeamName,
		WorkerFirstName: firstName(r.AllocatedWorkerName), PersonName: r.PersonName, ReceivedAt: r.ReceivedAt, AskedFor: r.AskedFor,
		WorkerPreferences: r.WorkerPreferences, RedirectedTo: r.RedirectedTo, RedirectMessage: r.RedirectMessage,
		OutcomeSummary: r.OutcomeSummary, Agreement: r.Consent, ProceedReason: r.ProceedReason, ProceedBy: r.ProceedByName,
		ProceedAt: r.ProceedAt, ShareWithReferrer: r.ShareWithReferrer, ShareBeyondTeam: r.ShareBeyondTeam,
		SharingChangedAt: r.SharingChangedAt, ReferrerCanFollow: r.Source != SourceSelf && !r.ForCarer && r.ReferrerUserID != 0,
		Closed: r.Status.Closed(), Version: r.Version, Ending: r.Ending}
	if !madeByMe {
		o.WhatHelped = r.WhatHelped
		o.CanSayWhatHelped = r.Status == Ended
	}
	switch {
	case madeByMe:
		o.MadeBy = "You"
	case r.Source == SourceSelf || r.ForCarer:
		o.MadeBy = "You"
	case r.ReferrerName != "":
		o.MadeBy = r.ReferrerName
		if r.ReferrerRelationship != "" {
			o.MadeBy += " (" + r.ReferrerRelationship + ")"
		}
	default:
		o.MadeBy = r.Source.Label()
	}
	return o
}

// ownStatusText says where a referral is, to its person (or, them, to the
// carer who made it).
func ownStatusText(r Referral, them bool) string {
	you, your := "You are", "your request"
	if them {
		you, your = r.PersonName+" is", "the referral"
	}
	team := ""
	if r.TeamName != "" {
		team = " for " + r.TeamName
	}
	worker := "A peer support worker"
	if w := firstName(r.AllocatedWorkerName); w != "" {
		worker = w + ", a peer support worker,"
	}
	switch r.Status {
	case Received:
		return "The peer support team has " + your + " and will read it soon."
	case Accepted:
		return you + " on the waiting list" + team + ". A peer support worker will be in touch when one is free."
	case Allocated:
		return worker + " will be in touch to arrange a first meeting."
	case Active:
		return "Peer support has started."
	case Ended:
		return "Peer support has ended."
	case Declined:
		return "The peer support team could not offer peer support this time: " + strings.ToLower(ReasonLabel(DeclineReasons, r.StatusReason)) + "."
	case Redirected:
		return "The peer support team passed " + your + " to another service: " + r.RedirectedTo + "."
	case Withdrawn:
		return "This was withdrawn."
	}
	return ""
}

// OwnSteps turns a referral's history into what happened, in plain words,
// for its person (them: for the carer who made it). Staff notes and the
// team's internal steps are left out.
func OwnSteps(r Referral, history []Event, them bool) []Step {
	you, your := "you", "your"
	if them {
		you, your = r.PersonName, r.PersonName+"'s"
	}
	var out []Step
	add := func(at time.Time, text string) { out = append(out, Step{At: at, Text: text}) }
	for _, e := range history {
		actor := e.ActorName
		if actor == "" || strings.HasPrefix(actor, "The person") {
			actor = "Someone"
		}
		switch {
		case e.From == "" && e.To == Received:
			switch {
			case them:
				add(e.At, "You referred "+r.PersonName+" for peer support.")
			case r.Source == SourceSelf || r.ForCarer:
				add(e.At, "You asked for peer support.")
			default:
				add(e.At, actor+" referred you for peer support"+teamOf(r)+".")
			}
		case e.From == e.To:
			switch {
			case strings.HasPrefix(e.Note, "Also referred by"):
				add(e.At, actor+" also asked for peer support for "+you+".")
			case strings.HasPrefix(e.Note, "Told about peer support again"):
				add(e.At, actor+" told "+you+" about peer support again, and "+map[bool]string{true: "they", false: "you"}[them]+" said yes.")
			case strings.HasPrefix(e.Note, "The person "):
				add(e.At, "Who can see "+map[bool]string{true: "the", false: "your"}[them]+" referral was changed.")
			case strings.HasPrefix(e.Note, "Recorded that the person has now agreed"):
				add(e.At, actor+" recorded that "+you+" agreed to the referral.")
			case strings.HasPrefix(e.Note, "Going ahead without the person's agreement: "):
				add(e.At, actor+" recorded why the team went ahead without "+your+" agreement: "+strings.TrimPrefix(e.Note, "Going ahead without the person's agreement: "))
			}
		case e.To == Accepted && e.From == Allocated:
			add(e.At, "Moved back to the waiting list, to find another peer support worker.")
		case e.To == Accepted:
			add(e.At, "Added to the waiting list.")
		case e.To == Allocated:
			name, _, _ := strings.Cut(strings.TrimPrefix(e.Note, "Allocated to "), ".")
			if w := firstName(name); w != "" && strings.HasPrefix(e.Note, "Allocated to ") {
				add(e.At, w+", a peer support worker, was chosen to support "+you+".")
			} else {
				add(e.At, "A peer support worker was chosen to support "+you+".")
			}
		case e.To == Active:
			add(e.At, "Peer support started.")
		case e.To == Ended:
			add(e.At, "Peer support ended: "+strings.ToLower(ReasonLabel(EndReasons, e.Reason))+".")
		case e.To == Declined:
			add(e.At, "The peer support team could not offer peer support: "+strings.ToLower(ReasonLabel(DeclineReasons, e.Reason))+".")
		case e.To == Redirected:
			add(e.At, "Passed to another service"+map[bool]string{true: ": " + r.RedirectedTo, false: ""}[r.RedirectedTo != ""]+".")
		case e.To == Withdrawn:
			add(e.At, "Withdrawn.")
		}
	}
	return out
}

func teamOf(r Referral) string {
	if r.Source == SourceCarer && r.ReferrerRelationship != "" {
		return " (" + r.ReferrerRelationship + ")"
	}
	return ""
}

// myReferral builds the caller's own view of one referral inside tx: their
// own, or one they made for someone else. Anything else is not visible.
func (s *Service) myReferral(ctx context.Context, tx *store.Tx, p *app.Principal, id int64) (MyReferral, error) {
	r, err := s.visibleReferral(ctx, tx, p, id, false)
	if err != nil {
		return MyReferral{}, err
	}
	own := ownReferral(p, &r)
	if !own && r.ReferrerUserID != p.UserID {
		return MyReferral{}, access.ErrNotVisible
	}
	return s.fillMine(ctx, tx, p, r)
}

func (s *Service) fillMine(ctx context.Context, tx *store.Tx, p *app.Principal, r Referral) (MyReferral, error) {
	own := ownReferral(p, &r)
	m := MyReferral{Referral: r, Limited: limitedFor(p, &r), MadeByMe: !own, CanChangeSharing: own && !r.Status.Closed()}
	if m.Limited {
		m.Referral = outline(r)
		m.Referral.PersonID = r.PersonID // for the audit trail; never sent
		m.Own = OwnReferral{ID: r.ID, Reference: r.Reference, PersonName: r.PersonName, MadeBy: "You", ReceivedAt: r.ReceivedAt}
		m.Steps, m.Contacts = []Step{}, []Contact{}
		return m, nil
	}
	var err error
	if m.History, err = s.history(ctx, tx, r.ID); err != nil {
		return m, err
	}
	// The notes are written for the person: a carer who made the
	// referral follows its steps, never what was said in the support.
	m.Contacts = []Contact{}
	if own {
		if m.Contacts, err = s.contacts(ctx, tx, p, r.ID, true); err != nil {
			return m, err
		}
		h, err := handoverSharing(ctx, tx, r.ID)
		if err != nil {
			return m, err
		}
		m.Handover = &h
	}
	m.Own = ownView(r, m.MadeByMe)
	m.Steps = OwnSteps(r, m.History, m.MadeByMe)
	if m.Steps == nil {
		m.Steps = []Step{}
	}
	return m, nil
}

// MyReferrals lists the caller's own referrals and those they made (as a
// carer), with what happened to each in plain words, audited as a read of
// the caller's data.
func (s *Service) MyReferrals(ctx context.Context, p *app.Principal) ([]MyReferral, error) {
	var out []MyReferral
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		own := int64(0)
		if p.HasRole(app.RolePerson, app.RoleCarer) {
			own = p.PersonID
		}
		rows, err := s.referralsWhere(ctx, tx, p, store.NewArgs(p.UserID, own), "(r.referrer_user_id = $1 OR r.person_id = $2)", "r.received_at DESC", 50, 0)
		if err != nil {
			return err
		}
		for _, r := range rows {
			m, err := s.fillMine(ctx, tx, p, r)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		record(p.ActorFor(app.PermOwnRecord), audit.Event{
			Action: "referral.list_own", SubjectPersonID: own, Subjects: peopleOf(rows), ObjectType: "referrals", ObjectID: fmt.Sprintf("results=%d", len(out))})
		return nil
	})
	return out, err
}

// MyReferral is one of the caller's own referrals (or one they made for
// someone else), in plain words, audited as a read. Any other referral is
// not found.
func (s *Service) MyReferral(ctx context.Context, p *app.Principal, id int64) (MyReferral, error) {
	var out MyReferral
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		var err error
		if out, err = s.myReferral(ctx, tx, p, id); err != nil {
			return err
		}
		record(p.ActorFor(app.PermOwnRecord), audit.Event{Action: "referral.read_own", SubjectPersonID: out.Referral.PersonID,
			ObjectType: "referral", ObjectID: fmt.Sprint(id)})
		return nil
	})
	if err != nil {
		return out, s.denied(ctx, err, p, app.PermOwnRecord, "referral.read_own", "referral", id, "The referral")
	}
	return out, nil
}

// IsOwn reports whether the referral is the caller's own, as the person:
// pages send them to their own view of it.
func IsOwn(p *app.Principal, r Referral) bool { return ownReferral(p, &r) }
