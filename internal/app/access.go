package app

import (
	"slices"
)

// Role is what an account does in Mutual. One account may hold several
// roles, each in a team (or organisation-wide when TeamID is zero).
type Role string

// The roles, in the order they are offered on forms.
const (
	RolePerson         Role = "person"
	RoleCarer          Role = "carer"
	RolePeerWorker     Role = "peer_worker"
	RolePeerLead       Role = "peer_lead"
	RoleClinician      Role = "clinician"
	RolePartnerWorker  Role = "partner_worker"
	RoleModerator      Role = "moderator"
	RoleAnalyst        Role = "analyst"
	RoleServiceManager Role = "service_manager"
	RoleAdmin          Role = "admin"
)

// Roles lists every role in display order.
var Roles = []Role{RolePerson, RoleCarer, RolePeerWorker, RolePeerLead, RoleClinician,
	RolePartnerWorker, RoleModerator, RoleAnalyst, RoleServiceManager, RoleAdmin}

var roleLabels = map[Role]string{
	RolePerson:         "Person who uses services",
	RoleCarer:          "Carer",
	RolePeerWorker:     "Peer support worker",
	RolePeerLead:       "Peer supervisor or team lead",
	RoleClinician:      "Care co-ordinator or clinician",
	RolePartnerWorker:  "Partner-agency worker",
	RoleModerator:      "Moderator",
	RoleAnalyst:        "Analyst",
	RoleServiceManager: "Service manager",
	RoleAdmin:          "Administrator",
}

// Label is the plain-English name of a role.
func (r Role) Label() string { return roleLabels[r] }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := roleLabels[r]; return ok }

// Staff reports whether the role is a staff role: staff must use two-factor
// sign-in and have shorter sessions.
func (r Role) Staff() bool { return r != RolePerson && r != RoleCarer && r != "" }

// TeamScoped reports whether the role only makes sense within a team.
func (r Role) TeamScoped() bool {
	switch r {
	case RolePeerWorker, RolePeerLead, RoleClinician, RolePartnerWorker:
		return true
	}
	return false
}

// Permission names what a route or action needs. Every route declares one.
type Permission string

// Permissions. PermPublic and PermMFAPending are the only ones that do not
// need a fully signed-in caller. PermReferralView is following one
// referral one may see (the person, a carer, a referrer, the peer team);
// PermReferralRead is reading the lists of them.
const (
	PermPublic         Permission = "public"
	PermMFAPending     Permission = "mfa.pending"
	PermSignedIn       Permission = "signed_in"
	PermOwnRecord      Permission = "self.record"
	PermReferralCreate Permission = "referral.create"
	PermReferralRead   Permission = "referral.read"
	PermReferralView   Permission = "referral.view"
	PermReferralTriage Permission = "referral.triage"
	PermReferralWork   Permission = "referral.work"
	PermPersonRead     Permission = "person.read"
	PermOfferCreate    Permission = "offer.create"
	// PermSubjectAccess is producing a subject access copy of everything
	// Mutual holds about a person the caller may see, with a reason.
	PermSubjectAccess Permission = "person.subject_access"
	PermInsightRead   Permission = "insight.read"
	PermInsightNamed  Permission = "insight.named_staff"
	// PermInsightOwn is a care co-ordinator's own view: their own referral
	// and offer rates beside their teams', and the people on their caseload
	// not yet told about peer support.
	PermInsightOwn     Permission = "insight.own"
	PermCaseloadImport Permission = "caseload.import"
	PermAdminUsers     Permission = "admin.users"
	PermAdminOutbox    Permission = "admin.outbox"
	PermAuditRead      Permission = "audit.read"
	PermMetrics        Permission = "ops.metrics"
	// PermGroupManage is running a team's groups and events: making them,
	// their sessions and places, moving the waiting list (with a reason),
	// and answering the network's proposals. The capability checks the
	// team.
	PermGroupManage Permission = "group.manage"
	// PermGroupRun is facilitating sessions: their participants and
	// register, for the sessions one facilitates (or leads the team of).
	PermGroupRun Permission = "group.run"
	// PermNetworkJoin is taking part in the peer network: proposing
	// activities and showing interest.
	PermNetworkJoin Permission = "network.join"
	// PermChoicesRecord is recording a person's choices with them (staff).
	PermChoicesRecord Permission = "choices.record"
	// PermWorkerProfile is keeping a peer worker's profile: one's own, or,
	// for a lead, their team's workers' caseload caps.
	PermWorkerProfile Permission = "worker.profile"
	// PermAlertRead is seeing alerts: a peer lead sees the open alerts of
	// the teams they lead, a service manager the escalated ones (package
	// alert decides which).
	PermAlertRead Permission = "alert.read"
	// PermAlertRespond is recording what was done about an alert.
	PermAlertRespond Permission = "alert.respond"
	// PermSafetySettings is changing an organisation's watched words and
	// its time to respond to alerts.
	PermSafetySettings Permission = "safety.settings"
	// PermRecoveryPlan is taking part in a recovery plan: one's own, or,
	// for staff, that of someone they may see (the recovery capability
	// decides which). PermRecoveryWork is recording with the person as
	// staff: reviews, and the lists of reviews due.
	PermRecoveryPlan Permission = "recovery.plan"
	PermRecoveryWork Permission = "recovery.work"
	// PermFeedbackRead is reading feedback: a lead's and service manager's
	// inbox, and feedback about a worker once their lead has shared it with
	// them. PermFeedbackManage is moving feedback on to an answer.
	PermFeedbackRead   Permission = "feedback.read"
	PermFeedbackManage Permission = "feedback.manage"
	// PermModerate is moderating the community: the review queue, approving
	// and hiding posts, trust levels, who is behind a display name
	// (audited), and concerns raised with a member's care team.
	PermModerate Permission = "community.moderate"
	// PermSafeguarding is confirming (or not) a moderator's safeguarding
	// concern about a member who has not agreed to their care team being
	// told: a peer lead or clinician of the member's team, never the
	// moderator who raised it (the community capability decides).
	PermSafeguarding Permission = "community.safeguarding"
	// PermCommunityLead is leading the community: deciding members' appeals
	// against sanctions (never the moderator who applied one) and setting
	// the moderators' duty rota.
	PermCommunityLead Permission = "community.lead"
	// PermAppointments is taking part in appointments: a person's own
	// (asking for one, accepting or cancelling it), or, for a peer worker,
	// those with the people they support (a lead: their teams'; the support
	// capability decides which). PermSupportWork is a peer worker's day:
	// their people and their diary. PermSupportSettings is changing an
	// organisation's settings for it (when someone is overdue).
	PermAppointments    Permission = "support.appointments"
	PermSupportWork     Permission = "support.work"
	PermSupportSettings Permission = "support.settings"
)

// rolePermissions grants each role its permissions. Each capability adds
// its own permissions in grants below, one line per permission.
var rolePermissions = map[Role][]Permission{
	RolePerson:         {PermOwnRecord, PermReferralCreate, PermReferralView},
	RoleCarer:          {PermOwnRecord, PermReferralCreate, PermReferralView},
	RolePeerWorker:     {PermReferralCreate, PermReferralView, PermReferralRead, PermReferralWork, PermPersonRead, PermOfferCreate},
	RolePeerLead:       {PermReferralCreate, PermReferralView, PermReferralRead, PermReferralWork, PermReferralTriage, PermPersonRead, PermOfferCreate},
	RoleClinician:      {PermReferralCreate, PermReferralView, PermReferralRead, PermPersonRead, PermOfferCreate},
	RolePartnerWorker:  {PermReferralCreate, PermReferralView, PermReferralRead, PermPersonRead, PermOfferCreate},
	RoleModerator:      {},
	RoleAnalyst:        {PermInsightRead, PermCaseloadImport},
	RoleServiceManager: {PermInsightRead, PermInsightNamed, PermCaseloadImport},
	RoleAdmin:          {PermAdminUsers, PermAdminOutbox, PermAuditRead, PermMetrics, PermCaseloadImport, PermInsightRead},
}

// grants are the permissions each capability adds, one line per
// permission: the roles it is granted to.
var grants = []struct {
	perm  Permission
	roles []Role
}{
	{PermSubjectAccess, []Role{RolePeerLead, RoleClinician}},
	{PermGroupManage, []Role{RolePeerLead, RolePartnerWorker}},
	{PermGroupRun, []Role{RolePeerWorker, RolePeerLead, RoleClinician, RolePartnerWorker}},
	{PermNetworkJoin, []Role{RolePerson, RoleCarer, RolePeerWorker, RolePeerLead}},
	{PermChoicesRecord, []Role{RolePeerWorker, RolePeerLead, RoleClinician, RolePartnerWorker}},
	{PermWorkerProfile, []Role{RolePeerWorker, RolePeerLead}},
	{PermAlertRead, []Role{RolePeerLead, RoleServiceManager}},
	{PermAlertRespond, []Role{RolePeerLead}},
	{PermSafetySettings, []Role{RoleAdmin}},
	{PermRecoveryPlan, []Role{RolePerson, RoleCarer, RolePeerWorker, RolePeerLead, RoleClinician}},
	{PermRecoveryWork, []Role{RolePeerWorker, RolePeerLead, RoleClinician}},
	{PermFeedbackRead, []Role{RolePeerWorker, RolePeerLead, RoleServiceManager}},
	{PermFeedbackManage, []Role{RolePeerLead, RoleServiceManager}},
	{PermInsightOwn, []Role{RoleClinician}},
	{PermModerate, []Role{RoleModerator}},
	{PermSafeguarding, []Role{RolePeerLead, RoleClinician}},
	{PermCommunityLead, []Role{RolePeerLead}},
	{PermAppointments, []Role{RolePerson, RoleCarer, RolePeerWorker, RolePeerLead}},
	{PermSupportWork, []Role{RolePeerWorker, RolePeerLead}},
	{PermSupportSettings, []Role{RoleAdmin}},
}

func init() {
	for _, g := range grants {
		for _, r := range g.roles {
			rolePermissions[r] = append(rolePermissions[r], g.perm)
		}
	}
}

// ReadsPersonData reports whether the role can see people's records or
// referrals (its permissions include person.read or referral.read). Grants
// of such roles are shown to the service managers.
func (r Role) ReadsPersonData() bool {
	return slices.Contains(rolePermissions[r], PermPersonRead) || slices.Contains(rolePermissions[r], PermReferralRead)
}

// RolePermissions returns the permissions a role grants (without the
// implicit signed-in ones).
func RolePermissions(r Role) []Permission { return slices.Clone(rolePermissions[r]) }

// Membership is one role held by an account, in a team or organisation-wide.
type Membership struct {
	Role     Role   `json:"role"`
	TeamID   int64  `json:"team_id,omitempty"`
	TeamName string `json:"team_name,omitempty"`
}

// Principal is the signed-in caller of one request.
type Principal struct {
	UserID      int64
	Name        string
	Email       string
	PersonID    int64 // the person record of this account, when it has one
	Memberships []Membership
	SessionID   string // hash of the session token; empty for bearer tokens
	Via         string // "session" or "token"
	MFAPending  bool   // password accepted, second factor still needed
	MFASetup    bool   // staff account that must set up two-factor first
	RequestID   string
	// Acting is which of its roles an account that is both staff and
	// someone who uses services is using now: ActingWork or ActingOwn, and
	// Memberships holds only those roles. Empty for every other account.
	Acting string
}

// The two contexts of an account that is both staff and someone who uses
// services (common for peer workers): one at a time.
const (
	ActingWork = "work"
	ActingOwn  = "own"
)

// OwnContext reports whether a membership belongs to someone's own support
// (person or carer) rather than to their work.
func (m Membership) OwnContext() bool { return m.Role == RolePerson || m.Role == RoleCarer }

// ActingMemberships splits an account's roles for one context: the
// memberships of that context, and whether the account has roles of both
// kinds (and so must act in one at a time). acting is ActingWork or
// ActingOwn; anything else means work, the default for such accounts.
func ActingMemberships(all []Membership, acting string) ([]Membership, bool) {
	var own, work []Membership
	for _, m := range all {
		if m.OwnContext() {
			own = append(own, m)
		} else {
			work = append(work, m)
		}
	}
	if len(own) == 0 || len(work) == 0 {
		return all, false
	}
	if acting == ActingOwn {
		return own, true
	}
	return work, true
}

// Can reports whether the caller holds perm through any role.
func (p *Principal) Can(perm Permission) bool {
	if perm == PermPublic {
		return true
	}
	if p == nil {
		return false
	}
	if perm == PermMFAPending {
		return true
	}
	if p.MFAPending || p.MFASetup {
		return false
	}
	if perm == PermSignedIn {
		return true
	}
	_, ok := p.RoleFor(perm)
	return ok
}

// RoleFor returns the first membership that grants perm; it is the role and
// team recorded in the audit trail for that action.
func (p *Principal) RoleFor(perm Permission) (Membership, bool) {
	if p == nil {
		return Membership{}, false
	}
	for _, m := range p.Memberships {
		if slices.Contains(rolePermissions[m.Role], perm) {
			return m, true
		}
	}
	return Membership{}, false
}

// HasRole reports whether the caller holds role in any team.
func (p *Principal) HasRole(roles ...Role) bool {
	if p == nil {
		return false
	}
	for _, m := range p.Memberships {
		if slices.Contains(roles, m.Role) {
			return true
		}
	}
	return false
}

// TeamsAs lists the teams in which the caller holds any of roles.
func (p *Principal) TeamsAs(roles ...Role) []int64 {
	var ids []int64
	if p == nil {
		return ids
	}
	for _, m := range p.Memberships {
		if slices.Contains(roles, m.Role) && m.TeamID != 0 && !slices.Contains(ids, m.TeamID) {
			ids = append(ids, m.TeamID)
		}
	}
	return ids
}

// IsStaff reports whether any of the caller's roles is a staff role.
func (p *Principal) IsStaff() bool {
	if p == nil {
		return false
	}
	for _, m := range p.Memberships {
		if m.Role.Staff() {
			return true
		}
	}
	return false
}

// Public is the caller of a request made without signing in (the public
// self-referral form, sign-in, sign-up): no account, no roles.
func Public(requestID string) *Principal { return &Principal{RequestID: requestID, Via: "public"} }

// Operator is someone running a command on the server (mutual user add,
// an import from the command line): recorded in the audit trail as the
// operator, with no account.
func Operator(requestID string) *Principal {
	return &Principal{RequestID: requestID, Via: "operator"}
}

// Actor is how the audit trail names the caller of an action.
type Actor struct {
	UserID    int64
	Role      Role
	TeamID    int64
	RequestID string
}

// ActorFor describes p acting under perm, for the audit trail. A nil
// principal is the public (anonymous) caller.
func (p *Principal) ActorFor(perm Permission) Actor {
	if p == nil {
		return Actor{}
	}
	if p.Via == "operator" {
		return Actor{Role: "operator", RequestID: p.RequestID}
	}
	m, _ := p.RoleFor(perm)
	if m.Role == "" && len(p.Memberships) > 0 {
		m = p.Memberships[0]
	}
	return Actor{UserID: p.UserID, Role: m.Role, TeamID: m.TeamID, RequestID: p.RequestID}
}
