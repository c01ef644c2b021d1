package groups

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Who may do what with groups, decided here and nowhere else:
//
//   - anyone may see public groups and their sessions' counts, and book;
//   - a members' group is seen by the team's staff, the people it serves
//     (a referral to the team, or on its caseload), its facilitators, and
//     anyone already booked on it;
//   - an invitation-only group by whoever has its link, its team's staff,
//     its facilitators and anyone booked;
//   - a group's leads — those holding group.manage in its team (peer leads;
//     partner workers for a partner agency's events) — run it: sessions,
//     places, the waiting list (moves need a reason), cancellations;
//   - a session's participants and register are seen only by its
//     facilitators and the group's leads, and every look is audited;
//   - a booking is seen, cancelled, and its offers answered, by whoever
//     holds a key sent for it or the account that made it.

// leads reports whether the caller runs groups for the team: a role in
// that team that grants group.manage.
func leads(p *app.Principal, teamID int64) bool {
	return holdsIn(p, app.PermGroupManage, teamID)
}

func holdsIn(p *app.Principal, perm app.Permission, teamID int64) bool {
	if p == nil || p.MFAPending || p.MFASetup {
		return false
	}
	for _, m := range p.Memberships {
		if m.TeamID == teamID && teamID != 0 && slices.Contains(app.RolePermissions(m.Role), perm) {
			return true
		}
	}
	return false
}

// ManagedTeams are the teams whose groups the caller runs.
func ManagedTeams(p *app.Principal) []int64 {
	return teamsWhere(p, func(r app.Role) bool { return slices.Contains(app.RolePermissions(r), app.PermGroupManage) })
}

// staffTeams are the teams the caller works in, in any staff role.
func staffTeams(p *app.Principal) []int64 {
	return teamsWhere(p, app.Role.Staff)
}

// teamsWhere are the caller's teams in roles that pass ok — none for
// someone not fully signed in (two-factor still to do), as holdsIn.
func teamsWhere(p *app.Principal, ok func(app.Role) bool) []int64 {
	var out []int64
	if p == nil || p.MFAPending || p.MFASetup {
		return out
	}
	for _, m := range p.Memberships {
		if m.TeamID != 0 && ok(m.Role) && !slices.Contains(out, m.TeamID) {
			out = append(out, m.TeamID)
		}
	}
	return out
}

// visibleGroups is the condition on alias g for the groups the caller may
// see; invite is an invitation code from a link ("" for none).
func visibleGroups(p *app.Principal, a *store.Args, invite string) string {
	parts := []string{"g.visibility = 'public'"}
	if invite != "" {
		parts = append(parts, "(g.visibility = 'invitation' AND g.invite_code = "+a.Add(invite)+")")
	}
	if p == nil || p.Via == "public" || p.MFAPending || p.MFASetup {
		return "(" + join(parts) + ")"
	}
	if teams := staffTeams(p); len(teams) > 0 {
		parts = append(parts, "g.team_id IN "+store.In(a, teams...))
	}
	if p.UserID != 0 {
		u := a.Add(p.UserID)
		parts = append(parts, "EXISTS (SELECT 1 FROM group_facilitators gf WHERE gf.group_id = g.id AND gf.user_id = "+u+")",
			"EXISTS (SELECT 1 FROM group_sessions vs JOIN group_bookings vb ON vb.session_id = vs.id WHERE vs.group_id = g.id AND vb.user_id = "+u+
				" AND vb.status IN ('booked', 'waiting'))")
	}
	if p.PersonID != 0 {
		pid := a.Add(p.PersonID)
		parts = append(parts, "(g.visibility = 'members' AND (EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = "+pid+" AND r.team_id = g.team_id)"+
			" OR EXISTS (SELECT 1 FROM caseload_episodes ce WHERE ce.person_id = "+pid+" AND ce.team_id = g.team_id AND ce.end_date IS NULL)))")
	}
	return "(" + join(parts) + ")"
}

func join(parts []string) string {
	out := ""
	for i, s := range parts {
		if i > 0 {
			out += " OR "
		}
		out += s
	}
	return out
}

// facilitates reports, inside tx, whether the caller facilitates the
// session.
func facilitates(ctx context.Context, tx *store.Tx, p *app.Principal, sessionID int64) (bool, error) {
	if p == nil || p.UserID == 0 || !p.Can(app.PermGroupRun) {
		return false, nil
	}
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM session_facilitators WHERE session_id = $1 AND user_id = $2", sessionID, p.UserID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// mayRun answers, inside tx, whether the caller may see a session's
// participants and take its register: its facilitators and the group's
// leads. Anyone else is told it is not there.
func mayRun(ctx context.Context, tx *store.Tx, p *app.Principal, sessionID, teamID int64) error {
	if leads(p, teamID) {
		return nil
	}
	ok, err := facilitates(ctx, tx, p, sessionID)
	if err != nil {
		return err
	}
	if !ok {
		return access.ErrNotVisible
	}
	return nil
}
