package referral

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Source is the door a referral came through.
type Source string

// The doors in.
const (
	SourceSelf      Source = "self"
	SourceCarer     Source = "carer"
	SourceStaff     Source = "staff"
	SourcePartner   Source = "partner"
	SourceCommunity Source = "community"
)

// Sources lists every door, in display order.
var Sources = []Source{SourceSelf, SourceCarer, SourceStaff, SourcePartner, SourceCommunity}

var sourceLabels = map[Source]string{
	SourceSelf:      "Self-referral",
	SourceCarer:     "Carer",
	SourceStaff:     "Staff",
	SourcePartner:   "Partner agency",
	SourceCommunity: "Community (group, event or online)",
}

// Label is the plain-English name of the door.
func (s Source) Label() string { return sourceLabels[s] }

// Valid reports whether s is a known door.
func (s Source) Valid() bool { _, ok := sourceLabels[s]; return ok }

// Referral is one request for peer support for one person.
type Referral struct {
	ID                   int64      `json:"id"`
	Reference            string     `json:"reference"`
	Status               Status     `json:"status,omitempty" doc:"Absent from the outline a carer sees without the person's agreement (limited: true)."`
	FHIRStatus           string     `json:"fhir_status"`
	Version              int        `json:"version"`
	Source               Source     `json:"source"`
	PersonID             int64      `json:"person_id"`
	PersonName           string     `json:"person_name"`
	TeamID               int64      `json:"team_id,omitempty"`
	TeamName             string     `json:"team_name,omitempty"`
	Setting              string     `json:"setting,omitempty"`
	ReferrerUserID       int64      `json:"referrer_user_id,omitempty"`
	ReferrerName         string     `json:"referrer_name,omitempty"`
	ReferrerTeamID       int64      `json:"-"`
	ReferrerRelationship string     `json:"referrer_relationship,omitempty"`
	ForCarer             bool       `json:"for_carer"`
	AskedFor             string     `json:"asked_for"`
	WorkerPreferences    string     `json:"worker_preferences"`
	ContactHow           string     `json:"contact_how"`
	ContactWhen          string     `json:"contact_when"`
	MetAt                string     `json:"met_at,omitempty"`
	PersonKnows          bool       `json:"person_knows"`
	Consent              string     `json:"consent"`
	ConsentReason        string     `json:"consent_reason,omitempty"`
	ShareWithReferrer    bool       `json:"share_with_referrer" doc:"The person agrees that whoever made the referral can follow its progress. They can change this from their account."`
	ShareBeyondTeam      bool       `json:"share_beyond_team" doc:"The person agrees that the referral can be seen beyond the peer support team (clinicians of the teams involved). They can change this from their account."`
	SharingChangedAt     *time.Time `json:"sharing_changed_at,omitempty" doc:"When the person last changed who may see the referral."`
	ProceedReason        string     `json:"proceed_reason,omitempty" doc:"Without the person's agreement: why a clinician or peer lead decided the team should go ahead."`
	ProceedByName        string     `json:"proceed_by_name,omitempty"`
	ProceedAt            *time.Time `json:"proceed_at,omitempty"`
	PreviousReferralID   int64      `json:"previous_referral_id,omitempty"`
	AllocatedWorkerID    int64      `json:"allocated_worker_id,omitempty"`
	AllocatedWorkerName  string     `json:"allocated_worker_name,omitempty"`
	StatusReason         string     `json:"status_reason,omitempty"`
	StatusNote           string     `json:"status_note,omitempty"`
	RedirectedTo         string     `json:"redirected_to,omitempty"`
	RedirectMessage      string     `json:"redirect_message,omitempty"`
	OutcomeSummary       string     `json:"outcome_summary,omitempty"`
	Ending               string     `json:"ending,omitempty" doc:"An ended referral: planned (agreed with the person) or unplanned."`
	WhatHelped           string     `json:"what_helped,omitempty" doc:"A planned ending: what helped, in the person's own words."`
	ReceivedAt           time.Time  `json:"received_at"`
	AcceptedAt           *time.Time `json:"accepted_at,omitempty"`
	AllocatedAt          *time.Time `json:"allocated_at,omitempty"`
	FirstContactAt       *time.Time `json:"first_contact_at,omitempty"`
	ClosedAt             *time.Time `json:"closed_at,omitempty"`
	UpdatedAt            time.Time  `json:"updated_at"`
	DaysWaited           int        `json:"days_waited"`
	HoursWaited          int        `json:"hours_waited" doc:"Whole hours waited so far (or until first contact): urgent and very urgent standards are counted in hours."`
	Overdue              bool       `json:"past_waiting_standard" doc:"Still waiting for a first contact, longer than the standard for its urgency (routine 4 weeks, urgent 24 hours, very urgent 4 hours)."`
	Urgency              Urgency    `json:"urgency,omitempty" doc:"routine, urgent or very_urgent. Absent from the outline a carer sees without the person's agreement."`
	FHIRPriority         string     `json:"fhir_priority" doc:"HL7 FHIR R4 ServiceRequest.priority: routine, urgent or asap (very urgent)."`
	// PossibleRisk is set when words written into the referral matched
	// watched risk language; RiskAlertOpen while nobody has yet recorded
	// what they did about it.
	PossibleRisk  bool       `json:"possible_risk" doc:"Words written into the referral matched watched risk language."`
	RiskFlaggedAt *time.Time `json:"risk_flagged_at,omitempty"`
	RiskAlertOpen bool       `json:"risk_alert_open" doc:"An alert of possible risk is waiting for someone to record what they did."`
	// Signpost is set only on the referral a door has just made, when what
	// was written should show the writer where to get help now.
	Signpost bool `json:"-"`
}

// Event is one step in a referral's history.
type Event struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind,omitempty" doc:"Empty for a move or a note; urgency for a change of urgency; risk when words of possible risk were found."`
	ActorName string    `json:"actor_name"`
	ActorRole string    `json:"actor_role,omitempty"`
	From      Status    `json:"from,omitempty"`
	To        Status    `json:"to"`
	Reason    string    `json:"reason,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// Contact is a contact made with the person, while waiting or during
// support.
type Contact struct {
	ID           int64      `json:"id"`
	At           time.Time  `json:"at"`
	WorkerName   string     `json:"worker_name"`
	Mode         string     `json:"mode"`
	WhileWaiting bool       `json:"while_waiting"`
	Minutes      int        `json:"minutes"`
	Note         string     `json:"note"`
	SupportTypes []string   `json:"support_types" doc:"emotional, practical, social, care, recovery: what kind of support it gave."`
	Setting      string     `json:"setting,omitempty" doc:"Where it happened: a team setting (community, acute_ward, secure_ward, camhs_transition…)."`
	ReferralID   int64      `json:"referral_id"`
	Version      int        `json:"version" doc:"Send it back when changing the note or marking the contact entered in error: a stale version answers 409."`
	EditedAt     *time.Time `json:"edited_at,omitempty" doc:"Set when the note was changed after it was first written: every earlier text is kept."`
	// EnteredInError marks a contact recorded by mistake: kept, shown
	// struck through with the reason, and left out of every count.
	EnteredInError bool   `json:"entered_in_error"`
	ErrorReason    string `json:"entered_in_error_reason,omitempty"`
	// RestrictedNote says that there is also a restricted note the person
	// cannot read; for the person, false when a clinician recorded why
	// they are not told.
	RestrictedNote bool             `json:"restricted_note" doc:"There is also a restricted note (safeguarding or risk). The person is told unless a clinician recorded a reason not to."`
	Comments       []ContactComment `json:"comments"`
	// HistorySummary: recorded before the caller took the referral over
	// from another worker, and the person shares only a summary of that
	// history: no note text, no comments (access.HandoverHistory).
	HistorySummary bool `json:"history_summary,omitempty" doc:"Recorded before you took over from another peer worker: the person shares only a summary of that history (when, how long, mode, setting, support types), so the note and comments are left out."`
	workerUserID   int64
}

// SupportTypes are the kinds of support a contact can give, from the
// service evaluation of peer support: several may apply.
var SupportTypes = []Reason{
	{Code: "emotional", Label: "Emotional"},
	{Code: "practical", Label: "Practical"},
	{Code: "social", Label: "Social"},
	{Code: "care", Label: "Specific to care"},
	{Code: "recovery", Label: "Specific to recovery"},
}

// ContactModes are the ways a contact can happen.
var ContactModes = []Reason{
	{Code: "in_person", Label: "In person"},
	{Code: "phone", Label: "Phone call"},
	{Code: "video", Label: "Video call"},
	{Code: "text_email", Label: "Text or email"},
	{Code: "group", Label: "At a group"},
}

// SelfReferral is the public form: a person asking for peer support for
// themselves, without an account.
type SelfReferral struct {
	person.Details
	AskedFor          string `json:"asked_for" required:"true" doc:"What the person would like support with."`
	WorkerPreferences string `json:"worker_preferences,omitempty" doc:"Anything that matters to the person about who supports them."`
	TeamID            int64  `json:"team_id,omitempty" doc:"The team or service the person would like support from, if they know."`
	ShareBeyondTeam   bool   `json:"share_beyond_team,omitempty" doc:"The person agrees their request can be shared beyond the peer support team, for example with their care co-ordinator. They can change this later."`
	// Website is a honeypot: hidden from people, filled in by bots.
	Website string `json:"website,omitempty" doc:"Leave empty."`
}

// NewReferral is a referral made by someone signed in: a carer, staff, a
// partner agency, or a peer worker recording someone met in the community.
type NewReferral struct {
	Source   Source         `json:"source,omitempty" doc:"carer, staff, partner or community. Defaults from the caller's role."`
	PersonID int64          `json:"person_id,omitempty" doc:"An existing person's id. Otherwise give person."`
	Person   person.Details `json:"person,omitzero" doc:"A new person's details, when person_id is not given."`
	// NotDuplicate confirms the person is new when possible matches were
	// offered.
	NotDuplicate      bool    `json:"not_duplicate,omitempty" doc:"Set true to confirm the person is not one of the possible matches offered."`
	TeamID            int64   `json:"team_id,omitempty" doc:"The team whose waiting list the referral joins."`
	Urgency           Urgency `json:"urgency,omitempty" doc:"Staff, partner and community referrals: routine (the default, first contact within 4 weeks), urgent (24 hours) or very_urgent (4 hours). Carers and people asking for themselves leave it to the peer support team."`
	AskedFor          string  `json:"asked_for" required:"true" doc:"What the person would like support with."`
	WorkerPreferences string  `json:"worker_preferences,omitempty"`
	ContactHow        string  `json:"contact_how,omitempty"`
	ContactWhen       string  `json:"contact_when,omitempty"`
	MetAt             string  `json:"met_at,omitempty" doc:"Community door: the group, event or online space where you met."`
	PersonKnows       *bool   `json:"person_knows,omitempty" doc:"Whether the person knows about this referral. Required unless the carer is asking for themselves."`
	Consent           string  `json:"consent,omitempty" doc:"given or not_obtained. Required unless the carer is asking for themselves."`
	ConsentReason     string  `json:"consent_reason,omitempty" doc:"Why consent could not be obtained: required when consent is not_obtained."`
	ShareWithReferrer bool    `json:"share_with_referrer,omitempty" doc:"The person agrees that you (whoever makes the referral) can follow its progress. Needs consent; without it you see only that you made it."`
	ShareBeyondTeam   bool    `json:"share_beyond_team,omitempty" doc:"The person agrees their referral can be shared beyond the peer support team. Needs consent."`
	Relationship      string  `json:"relationship,omitempty" doc:"Carer referrals: how the carer knows the person."`
	ForCarer          bool    `json:"for_carer,omitempty" doc:"A carer asking for peer support for themselves as a carer."`
	// Then, when set, runs in the transaction that makes a new referral,
	// after it is made, so a capability's own record of where the referral
	// came from is written with it or not at all. It does not run when
	// the request joins the person's open referral.
	Then func(ctx context.Context, tx *store.Tx, made Referral) error `json:"-"`
}
