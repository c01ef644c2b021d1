package referral

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/alert"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/caseload"
	"github.com/mutualhq/mutual/internal/memo"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
	"github.com/mutualhq/mutual/internal/watch"
)

// Service is the referrals capability.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	// BaseURL is used in links in email.
	BaseURL string
	// WaitingStandard is how long a routine referral may wait before it is
	// shown as past the standard (4 weeks by default); urgent and very
	// urgent ones have their own (Standard).
	WaitingStandard time.Duration
	// Audit records reads, committing them together with others'.
	Audit *audit.Log
	// Notify tells referrers about their referrals.
	Notify *notify.Service
	// Accounts joins an account to its own person record when someone asks
	// for themselves without one.
	Accounts *account.Service
	// Allocation, when set, checks caseload caps and records the choices
	// met on every allocation (the matching capability).
	Allocation AllocationRules
	// Followers are told of every move inside its transaction (support's
	// appointments, wired in cmd/mutual).
	Followers []MoveFollower
	// Watch checks what is written at every door for risk language;
	// Alerts tells the duty leads when it is found.
	Watch  *watch.Service
	Alerts *alert.Service
	// References makes the reference of each new referral (nil: random
	// ones, as newReference makes); tests set it to force a clash.
	References func() string

	// Home-page figures, reused for countsTTL.
	userCounts memo.Map[int64, Counts] // by account
}

const referralColumns = `r.id, r.reference, r.status, r.version, r.source, r.person_id, pe.preferred_name,
	COALESCE(r.team_id, 0), COALESCE(t.name, ''), COALESCE(t.setting, ''),
	COALESCE(r.referrer_user_id, 0), COALESCE(ru.name, ''), COALESCE(r.referrer_team_id, 0), r.referrer_relationship,
	r.for_carer, r.asked_for, r.worker_preferences, r.contact_how, r.contact_when, r.met_at, r.person_knows,
	r.consent, r.consent_reason, r.share_with_referrer, r.share_beyond_team, COALESCE(r.previous_referral_id, 0),
	COALESCE(r.allocated_worker_id, 0), COALESCE(wu.name, ''), r.status_reason, r.status_note, r.redirected_to,
	r.redirect_message, r.outcome_summary, r.received_at, r.accepted_at, r.allocated_at, r.first_contact_at,
	r.closed_at, r.updated_at, r.sharing_changed_at, r.proceed_reason, COALESCE(pu.name, ''), r.proceed_at, r.urgency, r.risk_flagged_at,
	EXISTS (SELECT 1 FROM alerts al WHERE al.referral_id = r.id AND al.resolved_at IS NULL), r.ending, r.what_helped`

const referralFrom = ` FROM referrals r
	JOIN people pe ON pe.id = r.person_id
	LEFT JOIN teams t ON t.id = r.team_id
	LEFT JOIN users ru ON ru.id = r.referrer_user_id
	LEFT JOIN users wu ON wu.id = r.allocated_worker_id
	LEFT JOIN users pu ON pu.id = r.proceed_by_user_id`

func (s *Service) scanReferral(row interface{ Scan(...any) error }) (Referral, error) {
	var r Referral
	var acc, alloc, first, closed, sharing, proceed, risk sql.NullTime
	err := row.Scan(&r.ID, &r.Reference, &r.Status, &r.Version, &r.Source, &r.PersonID, &r.PersonName,
		&r.TeamID, &r.TeamName, &r.Setting, &r.ReferrerUserID, &r.ReferrerName, &r.ReferrerTeamID, &r.ReferrerRelationship,
		&r.ForCarer, &r.AskedFor, &r.WorkerPreferences, &r.ContactHow, &r.ContactWhen, &r.MetAt, &r.PersonKnows,
		&r.Consent, &r.ConsentReason, &r.ShareWithReferrer, &r.ShareBeyondTeam, &r.PreviousReferralID,
		&r.AllocatedWorkerID, &r.AllocatedWorkerName, &r.StatusReason, &r.StatusNote, &r.RedirectedTo,
		&r.RedirectMessage, &r.OutcomeSummary, &r.ReceivedAt, &acc, &alloc, &first, &closed, &r.UpdatedAt,
		&sharing, &r.ProceedReason, &r.ProceedByName, &proceed, &r.Urgency, &risk, &r.RiskAlertOpen, &r.Ending, &r.WhatHelped)
	if err != nil {
		return r, err
	}
	for _, p := range []struct {
		src sql.NullTime
		dst **time.Time
	}{{acc, &r.AcceptedAt}, {alloc, &r.AllocatedAt}, {first, &r.FirstContactAt}, {closed, &r.ClosedAt}, {sharing, &r.SharingChangedAt}, {proceed, &r.ProceedAt}, {risk, &r.RiskFlaggedAt}} {
		if p.src.Valid {
			t := p.src.Time.UTC()
			*p.dst = &t
		}
	}
	r.FHIRStatus = r.Status.FHIRStatus()
	if !r.Urgency.Valid() {
		r.Urgency = Routine
	}
	r.FHIRPriority = r.Urgency.FHIRPriority()
	r.PossibleRisk = r.RiskFlaggedAt != nil
	end := s.Clock.Now()
	if r.FirstContactAt != nil {
		end = *r.FirstContactAt
	} else if r.ClosedAt != nil {
		end = *r.ClosedAt
	}
	waited := end.Sub(r.ReceivedAt)
	r.DaysWaited = int(math.Floor(waited.Hours() / 24))
	r.HoursWaited = int(math.Floor(waited.Hours()))
	std := s.Standard(r.Urgency)
	r.Overdue = r.Status.Waiting() && r.FirstContactAt == nil && std > 0 && waited > std
	return r, nil
}

// referralsWhere lists referrals matching an extra condition, within the
// caller's scope. cond uses the placeholders of a, which is not changed.
func (s *Service) referralsWhere(ctx context.Context, tx *store.Tx, p *app.Principal, a *store.Args, cond string, order string, limit, offset int) ([]Referral, error) {
	a = store.NewArgs(a.Values()...)
	q := "SELECT " + referralColumns + referralFrom + " WHERE " + cond + " AND " + access.Referrals(p, a) +
		fmt.Sprintf(" ORDER BY %s LIMIT %d OFFSET %d", order, limit, offset)
	rows, err := tx.QueryContext(ctx, q, a.Values()...)
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

const refAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newReference makes a reference people can read out on the phone: no
// 0/O, 1/I/L.
func newReference() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = refAlphabet[int(b[i])%len(refAlphabet)]
	}
	return "MUT-" + string(b[:4]) + "-" + string(b[4:])
}

func (s *Service) nextReference() string {
	if s.References != nil {
		return s.References()
	}
	return newReference()
}

// errNoReference answers the (astronomically rare) request whose every
// reference tried was taken: nothing was written.
func errNoReference() error {
	return app.Errorf(app.CodeConflict, "We could not give this referral a reference just now. Nothing was saved: try again.")
}

type insertArgs struct {
	personID, teamID, referrerID, referrerTeamID, previousID int64
	source                                                   Source
	urgency                                                  Urgency
	relationship, askedFor, prefs, contactHow, contactWhen   string
	metAt, consent, consentReason                            string
	forCarer, personKnows, shareReferrer, shareBeyond        bool
}

func (s *Service) insertReferral(ctx context.Context, tx *store.Tx, a insertArgs, actor app.Actor) (int64, string, error) {
	now := s.Clock.Now()
	var id int64
	// A reference taken, even by a referral committing at this moment,
	// gives way to another (UNIQUE referrals.reference).
	ref, err := store.InsertUnique(10, s.nextReference, func(ref string) error {
		return tx.QueryRowContext(ctx, `INSERT INTO referrals (reference, person_id, source, status, team_id, referrer_user_id,
		referrer_team_id, referrer_relationship, for_carer, asked_for, worker_preferences, contact_how, contact_when, met_at,
		person_knows, consent, consent_reason, share_with_referrer, share_beyond_team, previous_referral_id, received_at, updated_at, urgency)
		VALUES ($1, $2, $3, 'received', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21)
		ON CONFLICT (reference) DO NOTHING RETURNING id`,
			ref, a.personID, a.source, nullID(a.teamID), nullID(a.referrerID), nullID(a.referrerTeamID), a.relationship,
			a.forCarer, a.askedFor, a.prefs, a.contactHow, a.contactWhen, a.metAt, a.personKnows, a.consent, a.consentReason,
			a.shareReferrer, a.shareBeyond, nullID(a.previousID), now, string(cmp.Or(a.urgency, Routine))).Scan(&id)
	})
	if errors.Is(err, store.ErrNoFreeValue) {
		return 0, "", errNoReference()
	}
	if err != nil {
		return 0, "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO referral_events (referral_id, at, actor_user_id, actor_role, to_status, note)
		VALUES ($1, $2, $3, $4, 'received', $5)`, id, now, nullID(actor.UserID), string(actor.Role), "Referral made: "+a.source.Label()); err != nil {
		return 0, "", err
	}
	if a.referrerID != 0 {
		if err := RefreshCaseloadFlags(ctx, tx, "referrals", id, nil); err != nil {
			return 0, "", err
		}
	}
	// Equity counts the referral from the person's caseload spans.
	if err := caseload.Recount(ctx, tx, []int64{a.personID}); err != nil {
		return 0, "", err
	}
	return id, ref, audit.Record(ctx, tx, now, actor, audit.Event{Action: "referral.create", SubjectPersonID: a.personID,
		ObjectType: "referral", ObjectID: fmt.Sprint(id)})
}

func checkText(p *app.Problems, field, v string, required bool, missing string) {
	if required && v == "" {
		p.Add(field, missing)
	}
	p.CheckLen(field, v, maxText, "This")
}

func (s *Service) teamExists(ctx context.Context, tx *store.Tx, id int64) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM teams WHERE id = $1", id).Scan(&n)
	return n > 0, err
}

// SelfReferralResult is what someone who asked without an account gets
// back: the reference to quote, and a one-time claim with which they can
// create an account later and follow the request.
type SelfReferralResult struct {
	ID        int64
	Reference string
	Claim     string
	// Signpost: what the person wrote should show them where to get help
	// now. PossibleRisk: it matched risk language that alerts the duty
	// leads, and the referral goes to the top of the queue.
	Signpost     bool
	PossibleRisk bool
}

// CreateSelfReferral records a person asking for peer support for
// themselves, with no account. Bad input is returned as field problems;
// nothing is stored.
func (s *Service) CreateSelfReferral(ctx context.Context, p *app.Principal, in SelfReferral) (res SelfReferralResult, err error) {
	now := s.Clock.Now()
	dob, err := checkSelfReferral(&in, now)
	if err != nil {
		return res, err
	}
	found, err := s.checkWords(ctx, in.TeamID, in.AskedFor, in.WorkerPreferences, in.ContactTimes)
	if err != nil {
		return res, err
	}
	res.Signpost, res.PossibleRisk = found.Signpost(), found.Flag()
	actor := p.ActorFor(app.PermPublic)
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		if in.TeamID != 0 {
			ok, err := s.teamExists(ctx, tx, in.TeamID)
			if err != nil {
				return err
			}
			if !ok {
				return app.Invalid(app.FieldError{Field: "team_id", Message: "Choose a service from the list"})
			}
		}
		personID, err := person.Insert(ctx, tx, nil, in.Details, dob, 0, now)
		if err != nil {
			return err
		}
		res.ID, res.Reference, err = s.insertReferral(ctx, tx, insertArgs{
			personID: personID, teamID: in.TeamID, source: SourceSelf, askedFor: in.AskedFor, prefs: in.WorkerPreferences,
			contactHow: in.ContactPreference, contactWhen: in.ContactTimes, consent: "self", personKnows: true,
			shareReferrer: true, shareBeyond: in.ShareBeyondTeam,
		}, actor)
		if err != nil {
			return err
		}
		if found.Flag() {
			if err := s.markRisk(ctx, tx, now, actor, flagged{id: res.ID, personID: personID, teamID: in.TeamID,
				reference: res.Reference, status: Received}, found); err != nil {
				return err
			}
		}
		if res.Claim, err = person.CreateClaim(ctx, tx, personID, now); err != nil {
			return err
		}
		if in.Email != "" {
			return notify.SendEmail(ctx, tx, now, in.Email, notify.SelfReferralReceived{Reference: res.Reference,
				ClaimLink: s.BaseURL + "/sign-up?claim=" + res.Claim})
		}
		return nil
	})
	return res, err
}

// CheckSelfReferral validates a self-referral without storing anything, so
// a form can show every problem at once.
func (s *Service) CheckSelfReferral(in SelfReferral) error {
	_, err := checkSelfReferral(&in, s.Clock.Now())
	return err
}

func checkSelfReferral(in *SelfReferral, now time.Time) (*time.Time, error) {
	in.TrustRef = "" // the public form cannot claim a trust record
	var p app.Problems
	dob := in.Details.Normalise(&p, "", now, true)
	in.AskedFor = strings.TrimSpace(in.AskedFor)
	in.WorkerPreferences = strings.TrimSpace(in.WorkerPreferences)
	checkText(&p, "asked_for", in.AskedFor, true, "Tell us a little about what you would like support with")
	checkText(&p, "worker_preferences", in.WorkerPreferences, false, "")
	if strings.TrimSpace(in.Website) != "" {
		p.Add("website", "Leave this field empty")
	}
	return dob, p.Err()
}

// doorRoles are the roles that may use each door. This is the one place
// the rule is written; forms ask SourcesFor.
var doorRoles = map[Source][]app.Role{
	SourceSelf:      {app.RolePerson},
	SourceCarer:     {app.RoleCarer},
	SourceStaff:     {app.RoleClinician, app.RolePeerLead},
	SourcePartner:   {app.RolePartnerWorker},
	SourceCommunity: {app.RolePeerWorker, app.RolePeerLead},
}

// urgencyDoors are the doors whose referrers say how urgent a referral is:
// staff, partner agencies and peer workers who met the person. Carers and
// people asking for themselves leave it to the peer support team, who
// triage every referral.
var urgencyDoors = map[Source]bool{SourceStaff: true, SourcePartner: true, SourceCommunity: true}

// UrgencyDoor reports whether referrers through a door say how urgent it is.
func UrgencyDoor(src Source) bool { return urgencyDoors[src] }

// doorOrder is the order doors are offered in: a caller's natural door
// first.
var doorOrder = []Source{SourceStaff, SourcePartner, SourceCommunity, SourceCarer, SourceSelf}

// SourcesFor lists the doors the caller may refer through, the natural one
// first.
func SourcesFor(p *app.Principal) []Source {
	var out []Source
	for _, src := range doorOrder {
		if p.HasRole(doorRoles[src]...) {
			out = append(out, src)
		}
	}
	return out
}

// sourceFor picks the door for a signed-in caller, and the role they use
// it in: as asked, if the caller holds a role that uses it, or their
// natural door.
func sourceFor(p *app.Principal, asked Source) (Source, app.Membership, error) {
	order := doorOrder
	if asked != "" {
		if !asked.Valid() {
			return "", app.Membership{}, app.Invalid(app.FieldError{Field: "source", Message: "source must be self, carer, staff, partner or community"})
		}
		order = []Source{asked}
	}
	for _, src := range order {
		for _, m := range p.Memberships {
			if slices.Contains(doorRoles[src], m.Role) {
				return src, m, nil
			}
		}
	}
	if asked != "" {
		return "", app.Membership{}, app.Invalid(app.FieldError{Field: "source", Message: "Your roles do not let you make a " + strings.ToLower(asked.Label()) + " referral"})
	}
	return "", app.Membership{}, app.Errorf(app.CodeForbidden, "Your roles do not let you make referrals")
}

// CreateReferral records a referral made by someone signed in. The person
// is an existing person the caller may see (PersonID), the caller
// themselves (a person asking while signed in, or a carer asking for
// themselves), or someone new; for someone new, possible duplicates are
// offered first as a *person.DuplicateError. Someone else's referral records the
// person's consent or why it could not be obtained.
func (s *Service) CreateReferral(ctx context.Context, p *app.Principal, in NewReferral) (Referral, error) {
	now := s.Clock.Now()
	src, via, err := sourceFor(p, in.Source)
	if err != nil {
		return Referral{}, err
	}
	in.ForCarer = in.ForCarer && src == SourceCarer
	self := src == SourceSelf || in.ForCarer
	var problems app.Problems
	for _, f := range []*string{&in.AskedFor, &in.WorkerPreferences, &in.ContactHow, &in.ContactWhen, &in.MetAt,
		&in.Consent, &in.ConsentReason, &in.Relationship} {
		*f = strings.TrimSpace(*f)
	}
	var dob *time.Time
	if in.PersonID == 0 && !self {
		dob = in.Person.Normalise(&problems, "person.", now, src == SourceCarer)
	}
	checkText(&problems, "asked_for", in.AskedFor, true, "Say what the person would like support with")
	checkText(&problems, "worker_preferences", in.WorkerPreferences, false, "")
	problems.CheckLen("contact_how", in.ContactHow, 500, "How to get in touch")
	problems.CheckLen("contact_when", in.ContactWhen, 500, "When to get in touch")
	if src == SourceCommunity && in.MetAt == "" {
		problems.Add("met_at", "Say where you met the person: the group, event or online space")
	}
	problems.CheckLen("met_at", in.MetAt, 500, "Where you met")
	consent := "self"
	if !self {
		if in.PersonKnows == nil {
			problems.Add("person_knows", "Say whether the person knows about this referral")
		}
		switch in.Consent {
		case "given":
		case "not_obtained":
			if in.ConsentReason == "" {
				problems.Add("consent_reason", "Say why the person's consent could not be obtained")
			}
			if in.ShareBeyondTeam {
				problems.Add("share_beyond_team", "Sharing beyond the peer support team needs the person's consent")
			}
			if in.ShareWithReferrer {
				problems.Add("share_with_referrer", "Sharing updates with you needs the person's consent")
			}
		default:
			problems.Add("consent", "Say whether the person has agreed to this referral")
		}
		consent = in.Consent
		problems.CheckLen("consent_reason", in.ConsentReason, 1000, "The reason")
	}
	if src == SourceCarer && !in.ForCarer && in.Relationship == "" {
		problems.Add("relationship", "Say how you know the person, for example parent, partner or friend")
	}
	problems.CheckLen("relationship", in.Relationship, 100, "Relationship")
	switch {
	case in.Urgency == "":
		in.Urgency = Routine
	case !in.Urgency.Valid():
		problems.Add("urgency", "Choose routine, urgent or very urgent")
	case in.Urgency != Routine && !urgencyDoors[src]:
		problems.Add("urgency", "The peer support team decides how urgent this is: leave urgency as routine. If anyone is in danger now, call 999.")
	}
	if err := problems.Err(); err != nil {
		return Referral{}, err
	}
	// The words are checked against the list of the organisation the
	// referral goes to, as the transaction below will choose it.
	checkTeam := in.TeamID
	if checkTeam == 0 && via.TeamID != 0 && src != SourcePartner {
		checkTeam = via.TeamID
	}
	found, err := s.checkWords(ctx, checkTeam, in.AskedFor, in.WorkerPreferences, in.ContactHow, in.ContactWhen, in.MetAt,
		in.ConsentReason, in.Relationship, in.Person.ContactTimes)
	if err != nil {
		return Referral{}, err
	}
	personKnows := true
	if in.PersonKnows != nil && !self {
		personKnows = *in.PersonKnows
	}
	actor := app.Actor{UserID: p.UserID, Role: via.Role, TeamID: via.TeamID, RequestID: p.RequestID}
	var made Referral
	var open *OpenReferralError
	write := func(tx *store.Tx) error {
		open = nil
		personID := in.PersonID
		switch {
		case self:
			var err error
			if personID, err = s.Accounts.OwnPerson(ctx, tx, p, now); err != nil {
				return err
			}
		case personID != 0:
			if personID == p.PersonID && !p.HasRole(app.RolePerson, app.RoleCarer) {
				// Someone who is both staff and a person who uses services,
				// at work, asking for themselves: that is a self-referral,
				// made from their own support, never a staff referral.
				return app.Invalid(app.FieldError{Field: "person_id", Message: "This is you. To ask for peer support for yourself, " +
					"switch to your own support: it will be a self-referral, and your colleagues will not see it."})
			}
			if _, err := person.Visible(ctx, tx, p, personID); err != nil {
				return err
			}
		default:
			if !in.NotDuplicate {
				matches, err := person.Matches(ctx, tx, p, in.Person, dob, 0)
				if err != nil {
					return err
				}
				if len(matches) > 0 {
					return &person.DuplicateError{Matches: matches}
				}
			}
			var err error
			if personID, err = person.Insert(ctx, tx, p, in.Person, dob, p.UserID, now); err != nil {
				return err
			}
		}
		existing, seen, err := s.openReferral(ctx, tx, p, personID)
		if err != nil {
			return err
		}
		if existing != 0 {
			// One open referral per person: this request joins the one
			// there is, so the team holding it hears about it.
			open = &OpenReferralError{Signpost: found.Signpost()}
			// The referral's lock first (before the note, whose foreign
			// key would otherwise share it and deadlock two joiners): an
			// alert goes to the team the referral is in when this commits,
			// not one it was just moved from (MoveToTeam runs under the
			// same lock).
			var f flagged
			if err := tx.QueryRowContext(ctx, "SELECT id, person_id, COALESCE(team_id, 0), reference, status FROM referrals WHERE id = $1"+tx.Dialect.ForUpdate(),
				existing).Scan(&f.id, &f.personID, &f.teamID, &f.reference, &f.status); err != nil {
				return err
			}
			if f.status.Closed() {
				// Closed while this request looked: it is a new referral.
				return errClosedMeanwhile
			}
			note := "Also referred by " + p.Name + teamSuffix(via) + ". What they asked for: " + in.AskedFor
			if in.Urgency != Routine {
				note += " They said it is " + strings.ToLower(in.Urgency.Label()) + "."
			}
			if err := addNote(ctx, tx, existing, p, via, now, note); err != nil {
				return err
			}
			if found.Flag() {
				// What was written goes to the referral there is, so its
				// duty leads are alerted all the same.
				if err := s.markRisk(ctx, tx, now, actor, f, found); err != nil {
					return err
				}
			}
			if seen {
				r, err := s.visibleReferral(ctx, tx, p, existing, false)
				if err != nil {
					return err
				}
				open.Referral = &r
			}
			return audit.Record(ctx, tx, now, actor, audit.Event{Action: "referral.add_note", SubjectPersonID: personID,
				ObjectType: "referral", ObjectID: fmt.Sprint(existing)})
		}
		var previous int64
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM referrals WHERE person_id = $1", personID).Scan(&previous); err != nil {
			return err
		}
		teamID := in.TeamID
		if teamID == 0 && via.TeamID != 0 && src != SourcePartner {
			teamID = via.TeamID
		}
		if teamID != 0 {
			ok, err := s.teamExists(ctx, tx, teamID)
			if err != nil {
				return err
			}
			if !ok {
				return app.Invalid(app.FieldError{Field: "team_id", Message: "Choose a team from the list"})
			}
			if err := s.notOwnTeam(ctx, tx, personID, teamID, "team_id"); err != nil {
				return err
			}
		}
		id, ref, err := s.insertReferral(ctx, tx, insertArgs{
			personID: personID, teamID: teamID, referrerID: p.UserID, referrerTeamID: via.TeamID, previousID: previous,
			source: src, relationship: in.Relationship, askedFor: in.AskedFor, prefs: in.WorkerPreferences,
			contactHow: in.ContactHow, contactWhen: in.ContactWhen, metAt: in.MetAt, consent: consent,
			consentReason: in.ConsentReason, forCarer: in.ForCarer, personKnows: personKnows,
			shareReferrer: in.ShareWithReferrer || self, shareBeyond: in.ShareBeyondTeam, urgency: in.Urgency,
		}, actor)
		if err != nil {
			return err
		}
		if found.Flag() {
			if err := s.markRisk(ctx, tx, now, actor, flagged{id: id, personID: personID, teamID: teamID, reference: ref, status: Received}, found); err != nil {
				return err
			}
		}
		// The referrer made it, so it is in their scope.
		made, err = s.visibleReferral(ctx, tx, p, id, false)
		made.Signpost = found.Signpost()
		if err == nil && in.Then != nil {
			err = in.Then(ctx, tx, made)
		}
		return err
	}
	err = s.DB.Write(ctx, write)
	for try := 0; try < 3 && (errors.Is(err, errClosedMeanwhile) || store.IsUniqueViolation(err) && (self || in.PersonID != 0)); try++ {
		// Someone made this person's open referral at the same moment (the
		// database allows one): now it exists, and this request joins it.
		// Or the open referral it was joining closed meanwhile: this
		// request is a referral of its own.
		err = s.DB.Write(ctx, write)
	}
	if err != nil {
		var dup *person.DuplicateError
		if errors.As(err, &dup) {
			return Referral{}, person.Disclosed(ctx, s.DB, s.Clock.Now(), p, app.PermReferralCreate, "referral.possible_matches", dup)
		}
		return Referral{}, s.denied(ctx, err, p, app.PermReferralCreate, "referral.create", "person", in.PersonID, "The person")
	}
	if open != nil {
		return Referral{}, open
	}
	return made, nil
}

// errClosedMeanwhile is a request that found the person's open referral
// closed once it held the referral's lock; it is tried again.
var errClosedMeanwhile = errors.New("the open referral closed meanwhile")

// notOwnTeam refuses to put someone's referral on the waiting list of a
// team they work in: someone who is both staff and a person who uses
// services gets peer support away from their colleagues, who would
// otherwise see their referral merely because they share a team.
func (s *Service) notOwnTeam(ctx context.Context, tx *store.Tx, personID, teamID int64, field string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE u.person_id = $1 AND m.team_id = $2 AND m.role NOT IN ('person', 'carer')`, personID, teamID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return app.Invalid(app.FieldError{Field: field, Message: "This person works in that team. Choose another team, so their own support " +
			"stays apart from their colleagues, or leave the team for the peer support leads to choose."})
	}
	return nil
}

// OpenReferralError answers a referral for someone who already has an open
// one: there is one open referral per person, and the request has been
// added to its history. Referral is that referral when the caller may see
// it; otherwise nothing about it is said.
type OpenReferralError struct {
	Referral *Referral
	// Signpost: what was written should show the writer where to get
	// help now.
	Signpost bool
}

func (e *OpenReferralError) Error() string { return "the person already has an open referral" }

// AsAppError presents the answer for a caller who may not see the open
// referral: a conflict that says no more than that one exists.
func (e *OpenReferralError) AsAppError() *app.Error {
	return &app.Error{Code: app.CodeConflict, Err: e, Message: "This person already has an open referral for peer support, so another one " +
		"is not needed. What you asked for has been added to it, and the peer support team holding it will see it."}
}
