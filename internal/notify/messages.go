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

// AlertEscalated tells a service manager that nobody recorded a response to
// an alert in time.
type AlertEscalated struct {
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
	Reference string
	Outcome   string // what was done, in words
}

func (AlertResolved) noteTemplate() string { return "alert_resolved" }

// Every message type, for the test that checks what each may carry.
var (
	allEmails = []Email{SelfReferralReceived{}, ReferralUpdateEmail{}, RiskAlertEmail{}, AlertEscalatedEmail{}}
	allNotes  = []Note{ReferralUpdate{}, RoleGranted{}, RiskAlert{}, AlertEscalated{}, AlertResolved{}}
)
