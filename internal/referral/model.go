package referral

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/demographics"
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
	ShareWithReferrer    bool       `json:"share_with_referrer"`
	ShareBeyondTeam      bool       `json:"share_beyond_team"`
	PreviousReferralID   int64      `json:"previous_referral_id,omitempty"`
	AllocatedWorkerID    int64      `json:"allocated_worker_id,omitempty"`
	AllocatedWorkerName  string     `json:"allocated_worker_name,omitempty"`
	StatusReason         string     `json:"status_reason,omitempty"`
	StatusNote           string     `json:"status_note,omitempty"`
	RedirectedTo         string     `json:"redirected_to,omitempty"`
	RedirectMessage      string     `json:"redirect_message,omitempty"`
	OutcomeSummary       string     `json:"outcome_summary,omitempty"`
	ReceivedAt           time.Time  `json:"received_at"`
	AcceptedAt           *time.Time `json:"accepted_at,omitempty"`
	AllocatedAt          *time.Time `json:"allocated_at,omitempty"`
	FirstContactAt       *time.Time `json:"first_contact_at,omitempty"`
	ClosedAt             *time.Time `json:"closed_at,omitempty"`
	UpdatedAt            time.Time  `json:"updated_at"`
	DaysWaited           int        `json:"days_waited"`
	Overdue              bool       `json:"past_waiting_standard"`
}

// Event is one step in a referral's history.
type Event struct {
	At        time.Time `json:"at"`
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
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	WorkerName   string    `json:"worker_name"`
	Mode         string    `json:"mode"`
	WhileWaiting bool      `json:"while_waiting"`
	Minutes      int       `json:"minutes"`
	Note         string    `json:"note"`
}

// ContactModes are the ways a contact can happen.
var ContactModes = []Reason{
	{"in_person", "In person"},
	{"phone", "Phone call"},
	{"video", "Video call"},
	{"text_email", "Text or email"},
	{"group", "At a group"},
}

// PersonDetails is what a referral form asks about the person. Everything
// but a name (or what to call them) and one way to get in touch is
// optional.
type PersonDetails struct {
	PreferredName     string `json:"preferred_name" required:"true" doc:"The person's name, or what they would like to be called."`
	FullName          string `json:"full_name,omitempty"`
	DateOfBirth       string `json:"date_of_birth,omitempty" doc:"YYYY-MM-DD"`
	Email             string `json:"email,omitempty"`
	Phone             string `json:"phone,omitempty"`
	ContactPreference string `json:"contact_preference,omitempty" doc:"phone, text, email or letter"`
	ContactTimes      string `json:"contact_times,omitempty" doc:"When is a good time to get in touch."`
	Gender            string `json:"gender,omitempty" doc:"woman, man, non_binary, self_described or prefer_not_to_say"`
	Ethnicity         string `json:"ethnicity,omitempty" doc:"An ONS 2021 census category code, e.g. white_british, black_caribbean, asian_indian; self_described; or prefer_not_to_say"`
	EthnicityOther    string `json:"ethnicity_other,omitempty" doc:"Self-described ethnicity, when ethnicity is self_described."`
	Disability        string `json:"disability,omitempty" doc:"yes, no or prefer_not_to_say"`
	FirstLanguage     string `json:"first_language,omitempty"`
	TrustRef          string `json:"trust_ref,omitempty" doc:"Staff only: the person's identifier in the trust's electronic record, if known. It links them to caseload imports."`
}

// ContactPreferences are the ways someone can ask to be contacted.
var ContactPreferences = []Reason{
	{"phone", "Phone call"},
	{"text", "Text message"},
	{"email", "Email"},
	{"letter", "Letter"},
}

func checkLen(p *app.Problems, field, v string, maxLen int, label string) {
	if utf8.RuneCountInString(v) > maxLen {
		p.Add(field, label+" must be "+thousands(maxLen)+" characters or fewer")
	}
}

// thousands formats n with comma separators, as people write numbers.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// normalise trims every field and validates the details, adding problems
// under prefix+field. needContact requires a phone number or email.
func (d *PersonDetails) normalise(p *app.Problems, prefix string, now time.Time, needContact bool) (dob *time.Time) {
	for _, f := range []*string{&d.PreferredName, &d.FullName, &d.DateOfBirth, &d.Email, &d.Phone, &d.ContactPreference,
		&d.ContactTimes, &d.Gender, &d.Ethnicity, &d.EthnicityOther, &d.Disability, &d.FirstLanguage, &d.TrustRef} {
		*f = strings.TrimSpace(*f)
	}
	if d.PreferredName == "" {
		p.Add(prefix+"preferred_name", "Enter a name, or what the person would like to be called")
	}
	checkLen(p, prefix+"preferred_name", d.PreferredName, 100, "Name")
	checkLen(p, prefix+"full_name", d.FullName, 200, "Full name")
	if d.DateOfBirth != "" {
		t, err := time.Parse("2006-01-02", d.DateOfBirth)
		switch {
		case err != nil:
			p.Add(prefix+"date_of_birth", "Date of birth must be a real date")
		case t.After(now):
			p.Add(prefix+"date_of_birth", "Date of birth must be in the past")
		case t.Year() < now.Year()-120:
			p.Add(prefix+"date_of_birth", "Date of birth must be after "+strconv.Itoa(now.Year()-120))
		default:
			dob = &t
		}
	}
	if d.Email != "" {
		e, msg := account.NormaliseEmail(d.Email)
		if msg != "" {
			p.Add(prefix+"email", msg)
		}
		d.Email = e
	}
	if d.Phone != "" {
		digits := 0
		for _, r := range d.Phone {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case strings.ContainsRune(" +()-", r):
			default:
				digits = -100
			}
		}
		if digits < 10 || digits > 15 {
			p.Add(prefix+"phone", "Enter a phone number, like 07700 900 982 or 0113 496 0000")
		}
	}
	if needContact && d.Email == "" && d.Phone == "" && !p.Has(prefix+"email") && !p.Has(prefix+"phone") {
		p.Add(prefix+"phone", "Enter a phone number or an email address so the peer support team can get in touch")
	}
	if d.ContactPreference != "" && !hasReason(ContactPreferences, d.ContactPreference) {
		p.Add(prefix+"contact_preference", "Choose how you would like to be contacted")
	}
	if d.ContactPreference == "email" && d.Email == "" {
		p.Add(prefix+"email", "Enter an email address, or choose another way to be contacted")
	}
	if (d.ContactPreference == "phone" || d.ContactPreference == "text") && d.Phone == "" {
		p.Add(prefix+"phone", "Enter a phone number, or choose another way to be contacted")
	}
	checkLen(p, prefix+"contact_times", d.ContactTimes, 500, "When to get in touch")
	if !demographics.Valid(demographics.Genders, d.Gender) {
		p.Add(prefix+"gender", "Choose a gender from the list, or prefer not to say")
	}
	if !demographics.Valid(demographics.Ethnicities, d.Ethnicity) {
		p.Add(prefix+"ethnicity", "Choose an ethnic group from the list, or prefer not to say")
	}
	if d.Ethnicity != "self_described" {
		d.EthnicityOther = ""
	}
	checkLen(p, prefix+"ethnicity_other", d.EthnicityOther, 100, "Ethnicity")
	if !demographics.Valid(demographics.Disabilities, d.Disability) {
		p.Add(prefix+"disability", "Choose yes, no or prefer not to say")
	}
	checkLen(p, prefix+"first_language", d.FirstLanguage, 60, "First language")
	checkLen(p, prefix+"trust_ref", d.TrustRef, 64, "The trust record number")
	return dob
}

// SelfReferral is the public form: a person asking for peer support for
// themselves, without an account.
type SelfReferral struct {
	PersonDetails
	AskedFor          string `json:"asked_for" required:"true" doc:"What the person would like support with."`
	WorkerPreferences string `json:"worker_preferences,omitempty" doc:"Anything that matters to the person about who supports them."`
	TeamID            int64  `json:"team_id,omitempty" doc:"The team or service the person would like support from, if they know."`
	// Website is a honeypot: hidden from people, filled in by bots.
	Website string `json:"website,omitempty" doc:"Leave empty."`
}

// NewReferral is a referral made by someone signed in: a carer, staff, a
// partner agency, or a peer worker recording someone met in the community.
type NewReferral struct {
	Source   Source        `json:"source,omitempty" doc:"carer, staff, partner or community. Defaults from the caller's role."`
	PersonID int64         `json:"person_id,omitempty" doc:"An existing person's id. Otherwise give person."`
	Person   PersonDetails `json:"person,omitzero" doc:"A new person's details, when person_id is not given."`
	// NotDuplicate confirms the person is new when possible matches were
	// offered.
	NotDuplicate      bool   `json:"not_duplicate,omitempty" doc:"Set true to confirm the person is not one of the possible matches offered."`
	TeamID            int64  `json:"team_id,omitempty" doc:"The team whose waiting list the referral joins."`
	AskedFor          string `json:"asked_for" required:"true" doc:"What the person would like support with."`
	WorkerPreferences string `json:"worker_preferences,omitempty"`
	ContactHow        string `json:"contact_how,omitempty"`
	ContactWhen       string `json:"contact_when,omitempty"`
	MetAt             string `json:"met_at,omitempty" doc:"Community door: the group, event or online space where you met."`
	PersonKnows       *bool  `json:"person_knows,omitempty" doc:"Whether the person knows about this referral. Required unless the carer is asking for themselves."`
	Consent           string `json:"consent,omitempty" doc:"given or not_obtained. Required unless the carer is asking for themselves."`
	ConsentReason     string `json:"consent_reason,omitempty" doc:"Why consent could not be obtained: required when consent is not_obtained."`
	ShareWithReferrer bool   `json:"share_with_referrer,omitempty" doc:"Carer referrals: the person agrees that the carer can follow progress."`
	ShareBeyondTeam   bool   `json:"share_beyond_team,omitempty" doc:"The person agrees their referral can be shared beyond the peer support team. Needs consent."`
	Relationship      string `json:"relationship,omitempty" doc:"Carer referrals: how the carer knows the person."`
	ForCarer          bool   `json:"for_carer,omitempty" doc:"A carer asking for peer support for themselves as a carer."`
}

// PossibleMatch is a person who may already be known, offered for linking.
type PossibleMatch struct {
	PersonID    int64  `json:"person_id"`
	Name        string `json:"name"`
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Why         string `json:"why"`
}

// DuplicateError is returned when a new person's details match people
// already known: the caller chooses one of Matches (person_id) or confirms
// not_duplicate. It is a conflict.
type DuplicateError struct {
	Matches []PossibleMatch
}

func (e *DuplicateError) Error() string { return "possible duplicate people" }

// AsAppError presents the choice as a conflict with a clear message.
func (e *DuplicateError) AsAppError() *app.Error {
	return &app.Error{Code: app.CodeConflict, Message: "This person may already be known to Mutual. Choose them from the possible matches, or confirm this is someone new.", Err: e}
}
