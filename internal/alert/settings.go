package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// settingsFor reads an organisation's settings inside tx (the defaults
// when it has none, or for no organisation).
func settingsFor(ctx context.Context, tx *store.Tx, orgID int64) (Settings, Hours, error) {
	set := DefaultSettings
	set.WorkDays = append([]string(nil), DefaultSettings.WorkDays...)
	if orgID != 0 {
		var days string
		var start, end int
		err := tx.QueryRowContext(ctx, `SELECT respond_minutes, work_days, day_start_minute, day_end_minute, time_zone
			FROM alert_settings WHERE organisation_id = $1`, orgID).Scan(&set.RespondMinutes, &days, &start, &end, &set.TimeZone)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return set, Hours{}, err
		default:
			set.WorkDays = strings.Split(days, ",")
			set.DayStart, set.DayEnd = fmt.Sprintf("%02d:%02d", start/60, start%60), fmt.Sprintf("%02d:%02d", end/60, end%60)
		}
	}
	h, err := set.Check()
	if err != nil {
		// Stored settings were checked when saved; fall back rather than
		// fail to raise an alert.
		set = DefaultSettings
		h, _ = set.Check()
	}
	return set, h, nil
}

// OrgSettings are an organisation's settings, as administrators see them.
type OrgSettings struct {
	OrganisationID   int64  `json:"organisation_id"`
	OrganisationName string `json:"organisation_name"`
	Default          bool   `json:"default" doc:"true: the organisation has not set its own, and these are Mutual's defaults."`
	Settings
}

// GetSettings returns an organisation's time to respond and working
// hours. Only administrators may see them; an unknown organisation is not
// found.
func (s *Service) GetSettings(ctx context.Context, p *app.Principal, orgID int64) (OrgSettings, error) {
	if !p.Can(app.PermSafetySettings) {
		return OrgSettings{}, app.Errorf(app.CodeForbidden, "Only administrators can see and change alert settings")
	}
	out := OrgSettings{OrganisationID: orgID}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var own int
		err := tx.QueryRowContext(ctx, `SELECT o.name, (SELECT COUNT(*) FROM alert_settings s WHERE s.organisation_id = o.id)
			FROM organisations o WHERE o.id = $1`, orgID).Scan(&out.OrganisationName, &own)
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The organisation")
		} else if err != nil {
			return err
		}
		out.Default = own == 0
		out.Settings, _, err = settingsFor(ctx, tx, orgID)
		return err
	})
	return out, err
}

// SetSettings changes an organisation's time to respond and working
// hours, audited. Bad values are field problems; an unknown organisation
// is not found. Alerts already raised keep the time they are due.
func (s *Service) SetSettings(ctx context.Context, p *app.Principal, orgID int64, set Settings) (OrgSettings, error) {
	if !p.Can(app.PermSafetySettings) {
		return OrgSettings{}, app.Errorf(app.CodeForbidden, "Only administrators can change alert settings")
	}
	h, err := set.Check()
	if err != nil {
		return OrgSettings{}, err
	}
	now := s.Clock.Now()
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM organisations WHERE id = $1", orgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return app.NotFound("The organisation")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_settings (organisation_id, respond_minutes, work_days, day_start_minute,
			day_end_minute, time_zone, updated_at, updated_by_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (organisation_id) DO UPDATE SET respond_minutes = $2, work_days = $3, day_start_minute = $4,
			day_end_minute = $5, time_zone = $6, updated_at = $7, updated_by_user_id = $8`,
			orgID, set.RespondMinutes, strings.Join(set.WorkDays, ","), h.Start, h.End, set.TimeZone, now, nullID(p.UserID)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSafetySettings), audit.Event{Action: "alert.settings",
			ObjectType: "organisation", ObjectID: fmt.Sprint(orgID)})
	})
	if err != nil {
		return OrgSettings{}, err
	}
	return s.GetSettings(ctx, p, orgID)
}
