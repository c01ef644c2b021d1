package notify

// The messages Mutual sends. Each names its template; a test checks each
// type's fields against what its channel may carry.

// SelfReferralReceived confirms a request made without an account.
type SelfReferralReceived struct {
	Reference string
	ClaimLink string // creates an account that follows the request
}

func (SelfReferralReceived) emailTemplate() string { return "self_referral_received" }

// ReferralUpdateEmail tells a referrer to sign in to read an update.
type ReferralUpdateEmail struct {
	Reference string
	Status    string // the new status in words
	Link      string
}

func (ReferralUpdateEmail) emailTemplate() string { return "referral_update" }

// ReferralUpdate is the update itself, shown to the referrer in Mutual.
type ReferralUpdate struct {
	Reference       string
	To              string // the status code moved to
	Reason          string // decline or ending reason, in words
	RedirectedTo    string
	RedirectMessage string
	WorkerFirstName string
	OutcomeSummary  string
}

func (ReferralUpdate) noteTemplate() string { return "referral_update" }

// RoleGranted tells a service manager that someone was given a role that
// sees people's records.
type RoleGranted struct {
	GrantedBy string
	GrantedTo string
	Role      string
	TeamName  string // "in <team>", or "across all teams"
}

func (RoleGranted) noteTemplate() string { return "role_granted" }

// CapExceeded tells a worker's supervisor that a lead allocated someone
// above the worker's caseload cap, and why.
type CapExceeded struct {
	Reference       string
	WorkerFirstName string
	Reason          string // the lead's reason, in their words
}

func (CapExceeded) noteTemplate() string { return "cap_exceeded" }

// WorkerChangeRequested tells a team's leads that a person asked for a
// different peer worker (no reason is asked for, so none is given).
type WorkerChangeRequested struct {
	Reference string
}

func (WorkerChangeRequested) noteTemplate() string { return "worker_change_requested" }

// RiskAlert tells a duty lead that what someone wrote may mean they are at
// risk, and by when to record what they did.
type RiskAlert struct {
	Reference string
	Due       string // "1:04pm on Monday 3 November"
}

func (RiskAlert) noteTemplate() string { return "risk_alert" }

// RiskAlertEmail asks a duty lead to sign in and respond. It carries no
// content: only the reference and a link.
type RiskAlertEmail struct {
	Reference string
	Link      string
}

func (RiskAlertEmail) emailTemplate() string { return "risk_alert" }

// LoneWorkerAlert tells a duty lead that a worker's visit was not checked
// out in time, and by when to record what they did.
type LoneWorkerAlert struct {
	Reference string // the visit's reference, never a name or a place
	Due       string
}

func (LoneWorkerAlert) noteTemplate() string { return "lone_worker_alert" }

// AppointmentsChanged tells a person how many of their appointments the
// service cancelled, or gave to their new peer worker, when their referral
// ended or changed worker: counts only, never when or where.
type AppointmentsChanged struct {
	Reference string
	To        string // the referral's new status code
	Cancelled int
	Moved     int
}

func (AppointmentsChanged) noteTemplate() string { return "appointments_changed" }

// LoneWorkerAlertEmail asks a duty lead to sign in and check on the worker.
// It carries no content: only the visit's reference and a link.
type LoneWorkerAlertEmail struct {
	Reference string
	Link      string
}

func (LoneWorkerAlertEmail) emailTemplate() string { return "lone_worker_alert" }

// AlertEscalated tells a service manager that nobody recorded a response to
// an alert in time.
type AlertEscalated struct {
	About     string // "the possible-risk alert for referral", "the lone-working alert for visit"
	Reference string
	TeamName  string // "North Community Team", or "no team yet"
	Due       string
}

func (AlertEscalated) noteTemplate() string { return "alert_escalated" }

// AlertEscalatedEmail asks a service manager to sign in and see.
type AlertEscalatedEmail struct {
	Reference string
	Link      string
}

func (AlertEscalatedEmail) emailTemplate() string { return "alert_escalated" }

// AlertResolved tells the service managers who were told of an escalation
// that someone has now responded.
type AlertResolved struct {
	About     string
	Reference string
	Outcome   string // what was done, in words
}

func (AlertResolved) noteTemplate() string { return "alert_resolved" }

// Every message type, for the test that checks what each may carry.
var (
	allEmails = []Email{SelfReferralReceived{}, ReferralUpdateEmail{}, BookingMade{}, PlaceOffered{}, OfferEnded{}, BookingReminder{},
		SessionCancelledEmail{}, VenueChangedEmail{}, PositionChanged{}, ClaimInvitation{}, ClaimCode{}, PersonUpdateEmail{}, NewAllocationEmail{},
		RiskAlertEmail{}, AlertEscalatedEmail{}, LoneWorkerAlertEmail{}, AppointmentReminder{}}
	allNotes = []Note{ReferralUpdate{}, RoleGranted{}, GroupUpdate{}, ProposalAnswered{}, PersonUpdate{}, NewAllocation{},
		CapExceeded{}, WorkerChangeRequested{}, RiskAlert{}, AlertEscalated{}, AlertResolved{},
		CommunityDecision{}, CommunityFlagOutcome{}, CommunityConcern{}, CommunitySanction{}, CommunitySanctionLifted{}, CommunityAppealDecided{}, CommunityTrust{}, CommunityReply{}, LoneWorkerAlert{}, ContactComment{}, AppointmentsChanged{}}
)

// BookingMade confirms a booking or a place on a waiting list. It carries
// the booking's reference, what it is (booked, or its place on the list),
// when the session is, and a link that holds the booking's key.
type BookingMade struct {
	Reference string
	Status    string // "booked", or "on the waiting list at number 3"
	When      string // the session's date and time, in UK time
	Link      string
}

func (BookingMade) emailTemplate() string { return "booking_made" }

// PlaceOffered tells someone waiting that a place is theirs if they want
// it, until a time.
type PlaceOffered struct {
	Reference string
	When      string
	HeldUntil string
	Link      string
}

func (PlaceOffered) emailTemplate() string { return "place_offered" }

// OfferEnded tells someone their offered place was not taken up in time.
type OfferEnded struct {
	Reference string
	Link      string
}

func (OfferEnded) emailTemplate() string { return "offer_ended" }

// BookingReminder is sent the day before, with a calendar file.
type BookingReminder struct {
	Reference string
	When      string
	Link      string
}

func (BookingReminder) emailTemplate() string { return "booking_reminder" }

// AppointmentReminder reminds a person of an appointment with their peer
// worker the day before, with a calendar file: a reference, when, and a
// link — never the worker's name or the place.
type AppointmentReminder struct {
	Reference string
	When      string
	Link      string
}

func (AppointmentReminder) emailTemplate() string { return "appointment_reminder" }

// SessionCancelledEmail tells people booked or waiting that a session is
// off.
type SessionCancelledEmail struct {
	Reference string
	When      string
	Link      string
}

func (SessionCancelledEmail) emailTemplate() string { return "session_cancelled" }

// VenueChangedEmail tells people booked or waiting that where a session
// meets, its access, or how to join it online has changed; the details
// are behind the link.
type VenueChangedEmail struct {
	Reference string
	When      string
	Link      string
}

func (VenueChangedEmail) emailTemplate() string { return "venue_changed" }

// PositionChanged tells someone staff moved them on a waiting list; the
// reason is on the booking's page, behind the link.
type PositionChanged struct {
	Reference string
	Status    string // "now number 2 on the waiting list"
	Link      string
}

func (PositionChanged) emailTemplate() string { return "position_changed" }

// GroupUpdate is shown in the account of someone who booked: what happened
// to their booking, in their own account.
type GroupUpdate struct {
	Reference  string
	GroupTitle string
	Kind       string // offered, moved, session_cancelled, offer_ended, venue_changed
	When       string
	HeldUntil  string
	Position   int
	Reason     string
}

func (GroupUpdate) noteTemplate() string { return "group_update" }

// ProposalAnswered tells the member who proposed an activity, and those
// who showed interest, what became of it.
type ProposalAnswered struct {
	Title  string
	To     string // taken_up or not_taken_up
	Answer string
}

func (ProposalAnswered) noteTemplate() string { return "proposal_answered" }

// ClaimInvitation invites someone to claim the record a service made for
// them: a one-time code, and links to use it with a new account or an
// account they already have. The code is a secret like a link, not a
// personal detail.
type ClaimInvitation struct {
	Code      string
	ClaimLink string // creates an account joined to the record
	Link      string // where someone with an account enters the code
}

func (ClaimInvitation) emailTemplate() string { return "claim_invitation" }

// ClaimCode is a code sent to the email address on a record when someone
// signed in asked to find their record.
type ClaimCode struct {
	Code string
	Link string
}

func (ClaimCode) emailTemplate() string { return "claim_code" }

// PersonUpdate tells the person what happened to their own request for
// peer support, in Mutual.
type PersonUpdate struct {
	Reference       string
	To              string // the status code moved to
	From            string // the status code moved from
	Reason          string // decline or ending reason, in words
	RedirectedTo    string
	RedirectMessage string
	WorkerFirstName string
	TeamName        string
}

func (PersonUpdate) noteTemplate() string { return "person_update" }

// PersonUpdateEmail tells the person, when they chose email, that there is
// news about their request: only its reference and a link.
type PersonUpdateEmail struct {
	Reference string
	Status    string // the new status in words
	Link      string
}

func (PersonUpdateEmail) emailTemplate() string { return "person_update" }

// NewAllocation tells a peer worker that someone has been allocated to
// them.
type NewAllocation struct {
	Reference string
}

func (NewAllocation) noteTemplate() string { return "new_allocation" }

// NewAllocationEmail is the same, by email: the reference and a link.
type NewAllocationEmail struct {
	Reference string
	Link      string
}

func (NewAllocationEmail) emailTemplate() string { return "new_allocation" }

// FeedbackReceivedEmail confirms feedback to someone who gave an email
// address and agreed to be contacted: the reference and the private link
// to follow it.
type FeedbackReceivedEmail struct {
	Reference string
	Link      string
	Days      int // the working days within which it will be acknowledged
}

func (FeedbackReceivedEmail) emailTemplate() string { return "feedback_received" }

// FeedbackAnsweredEmail tells someone who agreed to be contacted that
// their feedback has an answer, to read through the private link.
type FeedbackAnsweredEmail struct {
	Reference string
	Link      string
}

func (FeedbackAnsweredEmail) emailTemplate() string { return "feedback_answered" }

// FeedbackForLead tells a peer lead or service manager that feedback has
// come in for them to acknowledge.
type FeedbackForLead struct {
	Reference string
	Link      string
	Days      int // the working days within which to acknowledge it
}

func (FeedbackForLead) noteTemplate() string { return "feedback_for_lead" }

// FeedbackShared tells a worker that their lead has shared feedback about
// them.
type FeedbackShared struct {
	Reference string
	Link      string
}

func (FeedbackShared) noteTemplate() string { return "feedback_shared" }

// ReviewReminder tells a worker that a review with someone they support
// is coming up (the person is named only behind the link).
type ReviewReminder struct {
	Date string
	Link string
}

func (ReviewReminder) noteTemplate() string { return "review_reminder" }

// OwnReviewReminder tells a person that their own review is coming up.
type OwnReviewReminder struct {
	Date string
	Link string
}

func (OwnReviewReminder) noteTemplate() string { return "own_review_reminder" }

// OwnReviewReminderEmail asks a person to sign in to see when and where
// their review is.
type OwnReviewReminderEmail struct {
	Link string
}

func (OwnReviewReminderEmail) emailTemplate() string { return "own_review_reminder" }

// PlanChanged tells a person that a worker changed their plan with them,
// so they can see what changed.
type PlanChanged struct {
	WorkerFirstName string
	Link            string
}

func (PlanChanged) noteTemplate() string { return "plan_changed" }

func init() {
	allEmails = append(allEmails, FeedbackReceivedEmail{}, FeedbackAnsweredEmail{}, OwnReviewReminderEmail{})
	allNotes = append(allNotes, FeedbackForLead{}, FeedbackShared{}, ReviewReminder{}, OwnReviewReminder{}, PlanChanged{})
}

// CommunityDecision tells the writer of a post what a moderator decided:
// Outcome is "approved" or "hidden", Reason the moderator's reason for
// hiding it (their words to the writer).
type CommunityDecision struct {
	Outcome string
	Reason  string
}

func (CommunityDecision) noteTemplate() string { return "community_decision" }

// CommunityFlagOutcome tells someone who flagged a post what happened.
type CommunityFlagOutcome struct {
	Outcome string // "left up", "hidden"
}

func (CommunityFlagOutcome) noteTemplate() string { return "community_flag_outcome" }

// CommunityConcern tells a member that a moderator was worried about them,
// and who was told: their care team (Kind "care_team"), nobody beyond the
// moderators ("moderators"), or their care team without their agreement
// after a second person confirmed the risk ("safeguarding").
type CommunityConcern struct {
	Kind string
}

func (CommunityConcern) noteTemplate() string { return "community_concern" }

// CommunitySanction tells a member a moderator applied a sanction: what,
// why, until when, and how to appeal.
type CommunitySanction struct {
	Kind   string // warning, held, read_only, suspended
	Title  string // the kind in words
	Reason string
	Date   string // until when, UK date and time; "" for a warning
}

func (CommunitySanction) noteTemplate() string { return "community_sanction" }

// CommunitySanctionLifted tells a member a sanction was lifted early (by a
// moderator, or by a lead overturning it on appeal), and why.
type CommunitySanctionLifted struct {
	Title  string // the kind in words
	Reason string
}

func (CommunitySanctionLifted) noteTemplate() string { return "community_sanction_lifted" }

// CommunityAppealDecided tells a member what a lead decided on their
// appeal against a sanction, and why.
type CommunityAppealDecided struct {
	Outcome string // upheld, overturned
	Reason  string
}

func (CommunityAppealDecided) noteTemplate() string { return "community_appeal_decided" }

// CommunityTrust tells a member their trust level changed, and why.
type CommunityTrust struct {
	Title  string // the level in words
	Reason string
}

func (CommunityTrust) noteTemplate() string { return "community_trust" }

// CommunityReply tells a member following a topic that it has a new reply.
// The title is the topic's, as shown to members (details hidden).
type CommunityReply struct {
	Title string
}

func (CommunityReply) noteTemplate() string { return "community_reply" }

// ContactComment tells the worker who recorded a contact that someone
// commented on it or asked for its note to be corrected: the reference
// only, never what was written.
type ContactComment struct {
	Reference  string
	Correction bool
}

func (ContactComment) noteTemplate() string { return "contact_comment" }
