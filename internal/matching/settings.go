package matching

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// The organisation defaults: a full-time peer worker (37.5 hours a week)
// supports about 14 people at a time, a published pattern.
const (
	DefaultPeoplePerFTE  = 14
	DefaultFullTimeHours = 37.5
)

// Theme is one shared-experience theme on an organisation's list.
type Theme struct {
	Code  string `json:"code" doc:"Stored with choices and disclosures; made from the label when a new theme is added."`
	Label string `json:"label" required:"true"`
}

// Settings are an organisation's matching settings.
type Settings struct {
	OrganisationID   int64   `json:"organisation_id"`
	OrganisationName string  `json:"organisation_name"`
	PeoplePerFTE     int     `json:"people_per_fte" doc:"How many people a full-time peer worker supports at a time: the default caseload cap."`
	FullTimeHours    float64 `json:"full_time_hours" doc:"Hours a week of a full-time post."`
	Themes           []Theme `json:"themes" doc:"The shared-experience themes people and workers choose from."`
	Default          bool    `json:"default" doc:"true until the organisation saves its own settings."`
}

// SettingsChange replaces an organisation's settings.
type SettingsChange struct {
	PeoplePerFTE  int     `json:"people_per_fte" required:"true"`
	FullTimeHours float64 `json:"full_time_hours" required:"true"`
	Themes        []Theme `json:"themes" required:"true" doc:"The whole list, in order. Give a new theme only a label; keep a theme's code to rename it."`
}

func defaultThemes() []Theme {
	out := make([]Theme, len(DefaultThemes))
	for i, t := range DefaultThemes {
		out[i] = Theme{Code: t.Code, Label: t.Label}
	}
	return out
}

func themeChoices(ts []Theme) []app.Choice {
	out := make([]app.Choice, len(ts))
	for i, t := range ts {
		out[i] = app.Choice{Code: t.Code, Label: t.Label}
	}
	return out
}

// settingsFor reads organisations' settings inside tx; an organisation
// with none of its own has the defaults.
func settingsFor(ctx context.Context, tx *store.Tx, orgIDs []int64) (map[int64]Settings, error) {
	out := map[int64]Settings{}
	for _, id := range orgIDs {
		if _, done := out[id]; done {
			continue
		}
		st := Settings{OrganisationID: id, PeoplePerFTE: DefaultPeoplePerFTE, FullTimeHours: DefaultFullTimeHours, Themes: defaultThemes(), Default: true}
		var minutes int
		var themes string
		err := tx.QueryRowContext(ctx, `SELECT o.name, COALESCE(ms.people_per_fte, 0), COALESCE(ms.full_time_minutes, 0), COALESCE(ms.themes, '')
			FROM organisations o LEFT JOIN matching_settings ms ON ms.organisation_id = o.id WHERE o.id = $1`, id).Scan(&st.OrganisationName, &st.PeoplePerFTE, &minutes, &themes)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, err
		}
		if minutes > 0 {
			st.Default = false
			st.FullTimeHours = float64(minutes) / 60
			if err := fromJSON(themes, &st.Themes); err != nil {
				return nil, err
			}
		} else {
			st.PeoplePerFTE = DefaultPeoplePerFTE
		}
		out[id] = st
	}
	return out, nil
}

// allThemes is every theme any organisation offers, with the defaults:
// the labels for codes stored with choices and disclosures, and what they
// are checked against.
func allThemes(ctx context.Context, tx *store.Tx) ([]app.Choice, error) {
	out := slices.Clone(DefaultThemes)
	rows, err := tx.QueryContext(ctx, "SELECT themes FROM matching_settings ORDER BY organisation_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		var ts []Theme
		if err := fromJSON(s, &ts); err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !app.HasChoice(out, t.Code) {
				out = append(out, app.Choice{Code: t.Code, Label: t.Label})
			}
		}
	}
	return out, rows.Err()
}

// themesOffered is the list people in these organisations choose from:
// theirs (the defaults when none), each theme once.
func themesOffered(ctx context.Context, tx *store.Tx, orgIDs []int64) ([]app.Choice, error) {
	if len(orgIDs) == 0 {
		return slices.Clone(DefaultThemes), nil
	}
	sets, err := settingsFor(ctx, tx, orgIDs)
	if err != nil {
		return nil, err
	}
	var out []app.Choice
	for _, id := range orgIDs {
		for _, t := range sets[id].Themes {
			if !app.HasChoice(out, t.Code) {
				out = append(out, app.Choice{Code: t.Code, Label: t.Label})
			}
		}
	}
	return out, nil
}

// Settings returns an organisation's matching settings. Organisations are
// not secret: anyone who may change settings may read them.
func (s *Service) Settings(ctx context.Context, p *app.Principal, orgID int64) (Settings, error) {
	var st Settings
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		sets, err := settingsFor(ctx, tx, []int64{orgID})
		if err != nil {
			return err
		}
		var ok bool
		if st, ok = sets[orgID]; !ok {
			return app.NotFound("The organisation")
		}
		return nil
	})
	return st, err
}

// slug makes a theme code from its label: lower-case letters and digits
// joined by underscores.
func slug(label string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(label) {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
		default:
			gap = true
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = strings.TrimRight(out[:40], "_")
	}
	return out
}

// SaveSettings replaces an organisation's matching settings (its theme
// list and caseload rule), audited. Problems are reported field by field
// (themes[2].label); nothing is saved unless all is well.
func (s *Service) SaveSettings(ctx context.Context, p *app.Principal, orgID int64, in SettingsChange) (Settings, error) {
	var problems app.Problems
	if in.PeoplePerFTE < 1 || in.PeoplePerFTE > 60 {
		problems.Add("people_per_fte", "People per full-time worker must be a whole number from 1 to 60")
	}
	if in.FullTimeHours < 1 || in.FullTimeHours > 60 {
		problems.Add("full_time_hours", "Full-time hours must be from 1 to 60 hours a week")
	}
	if len(in.Themes) == 0 {
		problems.Add("themes", "Keep at least one theme")
	}
	if len(in.Themes) > 40 {
		problems.Add("themes", "Keep the list to 40 themes or fewer")
	}
	var themes []Theme
	for i, t := range in.Themes {
		field := fmt.Sprintf("themes[%d]", i)
		t.Label = strings.Join(strings.Fields(t.Label), " ")
		t.Code = strings.TrimSpace(t.Code)
		switch {
		case t.Label == "":
			problems.Add(field+".label", "Enter the theme's name, or remove it")
			continue
		case len([]rune(t.Label)) > 60:
			problems.Add(field+".label", "Keep each theme to 60 characters or fewer")
			continue
		}
		if t.Code == "" {
			t.Code = slug(t.Label)
		}
		if t.Code == "" || t.Code != slug(t.Code) {
			problems.Add(field+".code", "A theme's code is lower-case letters, digits and underscores; leave it empty to make one from the name")
			continue
		}
		if slices.ContainsFunc(themes, func(x Theme) bool { return x.Code == t.Code || strings.EqualFold(x.Label, t.Label) }) {
			problems.Add(field+".label", "Each theme must be on the list once")
			continue
		}
		themes = append(themes, t)
	}
	if err := problems.Err(); err != nil {
		return Settings{}, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM organisations WHERE id = $1", orgID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The organisation")
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO matching_settings (organisation_id, people_per_fte, full_time_minutes, themes, updated_by_user_id, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (organisation_id) DO UPDATE SET people_per_fte = $2, full_time_minutes = $3, themes = $4, updated_by_user_id = $5, updated_at = $6`,
			orgID, in.PeoplePerFTE, int(in.FullTimeHours*60+0.5), jsonText(themes), nullID(p.UserID), now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermAdminUsers), audit.Event{
			Action: "matching.settings.update", ObjectType: "organisation", ObjectID: itoa(orgID)})
	})
	if err != nil {
		return Settings{}, err
	}
	return s.Settings(ctx, p, orgID)
}
