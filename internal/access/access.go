// Package access is the one definition of who may see which person and
// which referral. Every capability that reads a person's data bounds its
// queries by these scopes, and asks here whether a caller may see one
// person or one referral, instead of writing its own rules.
//
// Scopes are SQL conditions over fixed aliases (r for referrals, pe for
// people), written from fixed text and parameters only.
package access

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// ErrNotVisible marks a record the caller may not see, or that does not
// exist: the two are answered the same way. Services audit it as a denied
// attempt and answer not found.
var ErrNotVisible = errors.New("not visible")

// Statuses of a referral on a team's waiting list and of an open referral,
// as stored. (The referral package defines the lifecycle; a test there
// checks these agree with it.)
var (
	WaitingList = []string{"received", "accepted"}
	Open        = []string{"received", "accepted", "allocated", "active"}
)

// Options narrow a referral scope for use inside a scope of people.
type Options struct {
	// NoCaseload leaves out the referrals of people on a clinician's
	// teams' caseloads (a set of people already holds those people).
	NoCaseload bool
	// NoUnassigned leaves out referrals not yet given a team.
	NoUnassigned bool
}

// Referrals is the condition on alias r that holds for the referrals the
// caller may see:
//
//   - anyone: referrals they made (whether they follow its progress or see
//     only that they made it is the person's choice: share_with_referrer,
//     decided by the referral capability);
//   - a person (or carer for themselves): their own;
//   - a care co-ordinator or clinician: referrals for their teams, made by
//     their teams, or for people on their teams' caseloads — but only those
//     the person agreed may be shared beyond the peer support team
//     (share_beyond_team), which they can withdraw at any time;
//   - a peer lead: their teams' referrals and those not yet given a team
//     (every lead triages those; see People for what that does not give);
//   - a peer worker: people allocated to them and their teams' waiting list;
//   - a partner worker: only what they referred.
//
// Someone who is both staff and a person who uses services, acting at work,
// never reaches their own referrals through their work roles.
func Referrals(p *app.Principal, a *store.Args) string { return ReferralsWith(p, a, Options{}) }

// ReferralsWith is Referrals, narrowed by o.
func ReferralsWith(p *app.Principal, a *store.Args, o Options) string {
	return or(referralParts(p, a, o))
}

func referralParts(p *app.Principal, a *store.Args, o Options) []string {
	if p == nil {
		return nil
	}
	parts := []string{"r.referrer_user_id = " + a.Add(p.UserID)}
	if p.PersonID != 0 && p.HasRole(app.RolePerson, app.RoleCarer) {
		parts = append(parts, "r.person_id = "+a.Add(p.PersonID))
	}
	if teams := p.TeamsAs(app.RoleClinician); len(teams) > 0 {
		// Beyond the peer support team: only with the person's agreement.
		// Each part keeps its own index (they are unioned as sets).
		parts = append(parts, "(r.share_beyond_team AND r.team_id IN "+store.In(a, teams...)+")",
			"(r.share_beyond_team AND r.referrer_team_id IN "+store.In(a, teams...)+")")
		if !o.NoCaseload {
			// The unary plus keeps a planner without statistics from using
			// the team index here, which would scan a team's whole caseload
			// per row.
			parts = append(parts, "(r.share_beyond_team AND EXISTS (SELECT 1 FROM caseload_episodes ce WHERE ce.person_id = r.person_id AND ce.end_date IS NULL AND +ce.team_id IN "+
				store.In(a, teams...)+"))")
		}
	}
	if teams := p.TeamsAs(app.RolePeerLead); len(teams) > 0 {
		parts = append(parts, "r.team_id IN "+store.In(a, teams...))
		if !o.NoUnassigned {
			parts = append(parts, "r.team_id IS NULL")
		}
	}
	if p.HasRole(app.RolePeerWorker) {
		parts = append(parts, "r.allocated_worker_id = "+a.Add(p.UserID))
		if teams := p.TeamsAs(app.RolePeerWorker); len(teams) > 0 {
			parts = append(parts, "(r.team_id IN "+store.In(a, teams...)+" AND r.status IN "+store.In(a, WaitingList...)+")")
		}
	}
	if own := atWorkWithOwnRecord(p); own != 0 {
		// Each part on its own, so the union of sets keeps its indexes.
		for i, c := range parts {
			parts[i] = "(r.person_id <> " + a.Add(own) + " AND " + c + ")"
		}
	}
	return parts
}

// atWorkWithOwnRecord is the caller's own person record when they are
// acting in staff roles only (someone who is both staff and a person who
// uses services, at work): their work roles never reach their own record.
func atWorkWithOwnRecord(p *app.Principal) int64 {
	if p == nil || p.PersonID == 0 || p.HasRole(app.RolePerson, app.RoleCarer) {
		return 0
	}
	return p.PersonID
}

// People is the condition on alias pe that holds for the people the
// caller may see: anyone whose referral they may see (except through a
// referral not yet given a team), anyone on their teams' caseloads, and
// people they added themselves. A person sees only themselves.
//
// Unassigned referrals are shown to every peer lead so that someone
// triages them, but only as referrals: they never bring their person into
// a lead's scope of people. Otherwise anyone could make a peer lead able
// to read a stranger's whole record by sending a self-referral with the
// stranger's phone number and having it linked.
func People(p *app.Principal, a *store.Args) string {
	return or(peopleParts(p, a, false))
}

// PeopleSet selects the same people as People, written for searching
// many people: the people in scope are gathered once, each part from its
// own index, as one set of ids, instead of being checked person by person.
// (0.5–1.3 s → about 0.1–0.4 s for a search among 500,000 people.)
func PeopleSet(p *app.Principal, a *store.Args) string {
	return or(peopleParts(p, a, true))
}

func peopleParts(p *app.Principal, a *store.Args, asSet bool) (out []string) {
	if p == nil {
		return nil
	}
	var parts []string
	if p.PersonID != 0 && p.HasRole(app.RolePerson, app.RoleCarer) {
		parts = append(parts, "pe.id = "+a.Add(p.PersonID))
	}
	if !p.Can(app.PermPersonRead) {
		return parts
	}
	if own := atWorkWithOwnRecord(p); own != 0 {
		defer func() {
			for i, c := range out {
				out[i] = "(pe.id <> " + a.Add(own) + " AND " + c + ")"
			}
		}()
	}
	var sets []string
	u := a.Add(p.UserID)
	if asSet {
		sets = append(sets, "SELECT cp.id FROM people cp WHERE cp.created_by_user_id = "+u)
	} else {
		parts = append(parts, "pe.created_by_user_id = "+u)
	}
	if teams := p.TeamsAs(app.RoleClinician, app.RolePeerLead, app.RolePeerWorker); len(teams) > 0 {
		in := store.In(a, teams...)
		if asSet {
			sets = append(sets, "SELECT ce.person_id FROM caseload_episodes ce WHERE ce.end_date IS NULL AND ce.team_id IN "+in)
		} else {
			parts = append(parts, "EXISTS (SELECT 1 FROM caseload_episodes ce WHERE ce.person_id = pe.id AND ce.end_date IS NULL AND +ce.team_id IN "+in+")")
		}
	}
	// As a set, referrals of people on the caller's teams' caseloads add
	// no one: those people are in the caseload set above.
	rs := referralParts(p, a, Options{NoCaseload: asSet, NoUnassigned: true})
	if !asSet {
		return append(parts, "EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = pe.id AND "+or(rs)+")")
	}
	for _, c := range rs {
		sets = append(sets, "SELECT r.person_id FROM referrals r WHERE "+c)
	}
	return append(parts, "pe.id IN ("+strings.Join(sets, " UNION ")+")")
}

// Appointments is the condition on the appointments (alias al, with the
// person's row as pe in the query) the caller may see: a person or carer
// their own; with the appointments permission, a peer worker those they
// hold and a peer lead their teams', of people they may see, and either
// the warm handover meetings they are the other worker at. Clinicians,
// managers and partners see none. Every capability that shows an
// appointment (support, and recovery's reviews held at one) uses it.
func Appointments(p *app.Principal, a *store.Args, al string) string {
	if p == nil {
		return "1 = 0"
	}
	var parts []string
	if p.PersonID != 0 && p.HasRole(app.RolePerson, app.RoleCarer) {
		parts = append(parts, al+".person_id = "+a.Add(p.PersonID))
	}
	if p.Can(app.PermAppointments) {
		var mine []string
		if p.HasRole(app.RolePeerWorker) {
			mine = append(mine, al+".worker_user_id = "+a.Add(p.UserID))
		}
		if teams := p.TeamsAs(app.RolePeerLead); len(teams) > 0 {
			mine = append(mine, al+".team_id IN "+store.In(a, teams...))
		}
		if len(mine) > 0 {
			parts = append(parts, "(("+strings.Join(mine, " OR ")+") AND "+People(p, a)+")")
		}
		if p.HasRole(app.RolePeerWorker, app.RolePeerLead) {
			// The other worker at a warm handover meeting sees the meeting
			// (the person's name, when and where) before the person is in
			// their scope; nothing more of the person comes with it.
			parts = append(parts, al+".handover_worker_id = "+a.Add(p.UserID))
		}
	}
	return or(parts)
}

// RestrictedNotes is the condition on a contact (alias c, its referral r)
// whose restricted notes (safeguarding, risk) the caller may read: the peer
// worker who recorded the contact, a peer lead of the referral's team, and
// clinicians — each only for a referral they may see (Referrals). A person,
// carer, partner worker, manager or anyone else never reads one; the
// person is told only that one exists. Every capability that shows or
// copies a restricted note uses it.
func RestrictedNotes(p *app.Principal, a *store.Args, c, r string) string {
	if p == nil {
		return "1 = 0"
	}
	var parts []string
	if p.HasRole(app.RolePeerWorker, app.RolePeerLead) {
		parts = append(parts, c+".worker_user_id = "+a.Add(p.UserID))
	}
	if teams := p.TeamsAs(app.RolePeerLead); len(teams) > 0 {
		parts = append(parts, r+".team_id IN "+store.In(a, teams...))
	}
	if p.HasRole(app.RoleClinician) {
		parts = append(parts, "1 = 1")
	}
	if len(parts) == 0 {
		return "1 = 0"
	}
	return "(" + or(parts) + " AND " + Referrals(p, a) + ")"
}

// What a new peer worker sees of the history before they took over, as
// the person chose (handover_sharing; no choice yet is HistorySummary).
const (
	HistoryAll     = "all"
	HistorySummary = "summary"
	HistoryNone    = "none"
)

// HandoverHistory is the one rule for how much of a contact (alias c, its
// referral r) the caller may read once the referral has changed peer
// worker, as an SQL expression answering HistoryAll, HistorySummary or
// HistoryNone. A peer worker (or a lead of another team) reading a contact
// someone else recorded reads it only as the person chose — all of it, a
// summary (when, how long, mode, setting and support types; no note text,
// comments or earlier versions), or nothing; no choice yet is a summary —
// when either:
//   - they are the referral's worker now, the contact was recorded before
//     (or at the instant of) their latest allocation, and another worker
//     had the referral before that allocation (referral_handovers: one row
//     per allocation, so a worker handed it back is narrowed up to the
//     second time); or
//   - they are not its worker (its team's waiting list, after the worker
//     it had was taken off), and another worker has had it.
//
// A first worker reads the triage before them in full; the recorder, the
// referral team's leads, clinicians and the person are never narrowed.
// Restricted notes stay under RestrictedNotes. Every read of contacts
// applies it (referral's contactsWhere), so the page, the API and the
// contact page cannot differ.
func HandoverHistory(p *app.Principal, a *store.Args, c, r string) string {
	if p == nil || p.UserID == 0 || !p.HasRole(app.RolePeerWorker, app.RolePeerLead) || p.HasRole(app.RoleClinician) {
		return "'" + HistoryAll + "'"
	}
	u := a.Add(p.UserID)
	cond := c + ".worker_user_id <> " + u
	if teams := p.TeamsAs(app.RolePeerLead); len(teams) > 0 {
		cond += " AND (" + r + ".team_id IS NULL OR " + r + ".team_id NOT IN " + store.In(a, teams...) + ")"
	}
	// Their latest allocation, by id: allocations of one referral take
	// turns under its row lock, so ids are in their order even when two
	// share a clock time.
	latest := "(SELECT MAX(hl.id) FROM referral_handovers hl WHERE hl.referral_id = " + c + ".referral_id AND hl.to_worker_id = " + u + ")"
	theirs := r + ".allocated_worker_id = " + u +
		" AND " + c + ".created_at <= (SELECT ht.handed_over_at FROM referral_handovers ht WHERE ht.id = " + latest + ")" +
		" AND EXISTS (SELECT 1 FROM referral_handovers hb WHERE hb.referral_id = " + c + ".referral_id AND hb.to_worker_id <> " + u +
		" AND hb.id < " + latest + ")"
	notTheirs := "COALESCE(" + r + ".allocated_worker_id, 0) <> " + u +
		" AND EXISTS (SELECT 1 FROM referral_handovers ho WHERE ho.referral_id = " + c + ".referral_id AND ho.to_worker_id <> " + u + ")"
	return "(CASE WHEN " + cond + " AND ((" + theirs + ") OR (" + notTheirs + ")) THEN COALESCE((SELECT hs.share FROM handover_sharing hs WHERE hs.referral_id = " + c +
		".referral_id), '" + HistorySummary + "') ELSE '" + HistoryAll + "' END)"
}

// or joins conditions; none matches nothing.
func or(parts []string) string {
	if len(parts) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// MaySeePerson answers whether the caller may see the person, inside tx:
// nil, ErrNotVisible, or a database error.
func MaySeePerson(ctx context.Context, tx *store.Tx, p *app.Principal, personID int64) error {
	a := store.NewArgs(personID)
	return exists(ctx, tx, "SELECT 1 FROM people pe WHERE pe.id = $1 AND "+People(p, a), a)
}

// MaySeeReferral answers whether the caller may see the referral, inside
// tx: nil, ErrNotVisible, or a database error.
func MaySeeReferral(ctx context.Context, tx *store.Tx, p *app.Principal, referralID int64) error {
	a := store.NewArgs(referralID)
	return exists(ctx, tx, "SELECT 1 FROM referrals r WHERE r.id = $1 AND "+Referrals(p, a), a)
}

func exists(ctx context.Context, tx *store.Tx, q string, a *store.Args) error {
	var one int
	err := tx.QueryRowContext(ctx, q, a.Values()...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotVisible
	}
	return err
}

// LeadsTeam reports whether the caller leads the team. Team 0 is a
// referral not yet given a team, which any peer lead may triage.
func LeadsTeam(p *app.Principal, teamID int64) bool {
	teams := p.TeamsAs(app.RolePeerLead)
	if teamID == 0 {
		return len(teams) > 0
	}
	return slices.Contains(teams, teamID)
}

// Denied turns ErrNotVisible into an audited "not found": the attempt is
// recorded as denied (the caller's own transaction rolled back), and the
// answer is the same as for a record that does not exist. Any other error
// is returned as it is.
func Denied(ctx context.Context, log *audit.Log, p *app.Principal, perm app.Permission, action, objectType string, id int64, what string, err error) error {
	if !errors.Is(err, ErrNotVisible) {
		return err
	}
	_ = log.AppendDenied(ctx, p.ActorFor(perm), audit.Event{
		Action: action, ObjectType: objectType, ObjectID: strconv.FormatInt(id, 10)})
	return app.NotFound(what)
}
