package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// OrgKind is the kind of organisation.
type OrgKind string

// Organisation kinds.
const (
	OrgNHSTrust      OrgKind = "nhs_trust"
	OrgPartnerAgency OrgKind = "partner_agency"
	OrgPeerNetwork   OrgKind = "peer_network"
)

var orgKindLabels = map[OrgKind]string{
	OrgNHSTrust:      "NHS trust",
	OrgPartnerAgency: "Partner agency",
	OrgPeerNetwork:   "Peer-led network",
}

// Label is the plain-English name of the kind.
func (k OrgKind) Label() string { return orgKindLabels[k] }

// Setting is where a team works.
type Setting string

// Team settings, from the brief.
const (
	SettingCommunity       Setting = "community"
	SettingAcuteWard       Setting = "acute_ward"
	SettingSecureWard      Setting = "secure_ward"
	SettingCrisis          Setting = "crisis"
	SettingCAMHSTransition Setting = "camhs_transition"
	SettingPartner         Setting = "partner"
	SettingPeerGroup       Setting = "peer_group"
)

// Settings lists every setting in display order.
var Settings = []Setting{SettingCommunity, SettingAcuteWard, SettingSecureWard, SettingCrisis,
	SettingCAMHSTransition, SettingPartner, SettingPeerGroup}

var settingLabels = map[Setting]string{
	SettingCommunity:       "Community mental health team",
	SettingAcuteWard:       "Acute inpatient ward",
	SettingSecureWard:      "High-secure or forensic ward",
	SettingCrisis:          "Crisis or home treatment",
	SettingCAMHSTransition: "Children's to adult services transition",
	SettingPartner:         "Partner (voluntary sector) service",
	SettingPeerGroup:       "Peer-led group or network",
}

// Label is the plain-English name of the setting.
func (s Setting) Label() string { return settingLabels[s] }

// Valid reports whether s is a known setting.
func (s Setting) Valid() bool { _, ok := settingLabels[s]; return ok }

// Organisation is an NHS trust, partner agency or peer-led network.
type Organisation struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	Kind OrgKind `json:"kind"`
}

// Team belongs to one organisation and works in one setting.
type Team struct {
	ID               int64   `json:"id"`
	OrganisationID   int64   `json:"organisation_id"`
	OrganisationName string  `json:"organisation_name"`
	Name             string  `json:"name"`
	Setting          Setting `json:"setting"`
}

// CreateOrganisation adds an organisation. It fails on an empty or
// duplicate name or unknown kind.
func (s *Service) CreateOrganisation(ctx context.Context, p *app.Principal, name string, kind OrgKind) (Organisation, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Organisation{}, app.Invalid(app.FieldError{Field: "name", Message: "Enter the organisation's name"})
	}
	if kind.Label() == "" {
		return Organisation{}, app.Invalid(app.FieldError{Field: "kind", Message: "Choose the kind of organisation"})
	}
	o := Organisation{Name: name, Kind: kind}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, "INSERT INTO organisations (name, kind, created_at) VALUES ($1, $2, $3) RETURNING id",
			name, kind, s.Clock.Now()).Scan(&o.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), p.ActorFor(app.PermAdminUsers), audit.Event{Action: "organisation.create",
			ObjectType: "organisation", ObjectID: fmt.Sprint(o.ID)})
	})
	if store.IsUniqueViolation(err) {
		return o, app.Invalid(app.FieldError{Field: "name", Message: "An organisation with this name already exists"})
	}
	return o, err
}

// CreateTeam adds a team to an organisation. It fails on an empty or
// duplicate name, unknown setting or missing organisation.
func (s *Service) CreateTeam(ctx context.Context, p *app.Principal, orgID int64, name string, setting Setting) (Team, error) {
	name = strings.TrimSpace(name)
	var problems app.Problems
	if name == "" {
		problems.Add("name", "Enter the team's name")
	}
	if !setting.Valid() {
		problems.Add("setting", "Choose where the team works")
	}
	if err := problems.Err(); err != nil {
		return Team{}, err
	}
	t := Team{OrganisationID: orgID, Name: name, Setting: setting}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT name FROM organisations WHERE id = $1", orgID).Scan(&t.OrganisationName); err != nil {
			return app.NotFound("The organisation")
		}
		if err := tx.QueryRowContext(ctx, "INSERT INTO teams (organisation_id, name, setting, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
			orgID, name, setting, s.Clock.Now()).Scan(&t.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.Clock.Now(), p.ActorFor(app.PermAdminUsers), audit.Event{Action: "team.create",
			ObjectType: "team", ObjectID: fmt.Sprint(t.ID)})
	})
	if store.IsUniqueViolation(err) {
		return t, app.Invalid(app.FieldError{Field: "name", Message: "This organisation already has a team with this name"})
	}
	return t, err
}

// ListOrganisations returns every organisation by name.
func (s *Service) ListOrganisations(ctx context.Context) ([]Organisation, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, name, kind FROM organisations ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Organisation
	for rows.Next() {
		var o Organisation
		if err := rows.Scan(&o.ID, &o.Name, &o.Kind); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ListTeams returns every team, by organisation then name.
func (s *Service) ListTeams(ctx context.Context) ([]Team, error) {
	rows, err := s.DB.Query(ctx, `SELECT t.id, t.organisation_id, o.name, t.name, t.setting
		FROM teams t JOIN organisations o ON o.id = t.organisation_id ORDER BY o.name, t.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Team
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.ID, &t.OrganisationID, &t.OrganisationName, &t.Name, &t.Setting); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindTeamByName finds a team by its name (case-insensitive), for the
// command line and imports. It fails with not found, or invalid when the
// name is ambiguous across organisations.
func (s *Service) FindTeamByName(ctx context.Context, name string) (Team, error) {
	teams, err := s.ListTeams(ctx)
	if err != nil {
		return Team{}, err
	}
	var found []Team
	for _, t := range teams {
		if strings.EqualFold(t.Name, strings.TrimSpace(name)) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return Team{}, app.NotFound("The team " + name)
	case 1:
		return found[0], nil
	}
	return Team{}, app.Errorf(app.CodeInvalid, "More than one organisation has a team called %s", name)
}

// ManagersOf are the active service managers of the organisations the
// teams belong to, and those not tied to a team (a manager of the whole
// service), each once: whom to tell when a team has no lead to tell.
func ManagersOf(ctx context.Context, tx *store.Tx, teams []int64) ([]app.Actor, error) {
	a := &store.Args{}
	in := a.IDs(tx.Dialect, teams)
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.role = 'service_manager' AND u.status = 'active' AND (m.team_id IS NULL OR m.team_id IN (SELECT t2.id FROM teams t2 WHERE t2.organisation_id IN
			(SELECT t.organisation_id FROM teams t WHERE t.id IN `+in+`))) ORDER BY m.user_id`, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Actor
	for rows.Next() {
		ac := app.Actor{Role: app.RoleServiceManager}
		if err := rows.Scan(&ac.UserID); err != nil {
			return nil, err
		}
		out = append(out, ac)
	}
	return out, rows.Err()
}
