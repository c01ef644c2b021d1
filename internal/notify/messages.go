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

// Every message type, for the test that checks what each may carry.
var (
	allEmails = []Email{SelfReferralReceived{}, ReferralUpdateEmail{}, ClaimInvitation{}, ClaimCode{}, PersonUpdateEmail{}, NewAllocationEmail{}}
	allNotes  = []Note{ReferralUpdate{}, RoleGranted{}, PersonUpdate{}, NewAllocation{}}
)

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
