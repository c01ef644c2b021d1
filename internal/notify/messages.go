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

// Every message type, for the test that checks what each may carry.
var (
	allEmails = []Email{SelfReferralReceived{}, ReferralUpdateEmail{}}
	allNotes  = []Note{ReferralUpdate{}, RoleGranted{}, CapExceeded{}, WorkerChangeRequested{}}
)
