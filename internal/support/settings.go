package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Settings are an organisation's settings for the worker's day.
type Settings struct {
	OrganisationID int64 `json:"organisation_id"`
	OverdueDays    int   `json:"overdue_days" required:"true" doc:"Someone with no contact for this many days is overdue (1 to 365; 14 unless set)."`
	Default        bool  `json:"default" doc:"true: the organisation has not set its own."`
}

// GetSettings returns an organisation's settings. Only administrators see
// them; an unknown organisation is not found.
func (s *Service) GetSettings(ctx context.Context, p *app.Principal, orgID int64) (Settings, error) {
	if !p.Can(app.PermSupportSettings) {
		return Settings{}, app.Errorf(app.CodeForbidden, "Only administrators can see and change support settings")
	}
	out := Settings{OrganisationID: orgID, OverdueDays: s.overdueDays(), Default: true}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var days sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT ss.overdue_days FROM organisations o LEFT JOIN support_settings ss ON ss.organisation_id = o.id
			WHERE o.id = $1`, orgID).Scan(&days)
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The organisation")
		}
		if days.Valid {
			out.OverdueDays, out.Default = int(days.Int64), false
		}
		return err
	})
	return out, err
}

// SetSettings changes an organisation's settings, audited. A number out of
// range is a field problem; an unknown organisation is not found.
func (s *Service) SetSettings(ctx context.Context, p *app.Principal, orgID int64, in Settings) (Settings, error) {
	if !p.Can(app.PermSupportSettings) {
		return Settings{}, app.Errorf(app.CodeForbidden, "Only administrators can see and change support settings")
	}
	if in.OverdueDays < 1 || in.OverdueDays > 365 {
		return Settings{}, app.Invalid(app.FieldError{Field: "overdue_days", Message: "Overdue after must be between 1 and 365 days"})
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM organisations WHERE id = $1", orgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return app.NotFound("The organisation")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO support_settings (organisation_id, overdue_days, updated_at, updated_by_user_id)
			VALUES ($1, $2, $3, $4) ON CONFLICT (organisation_id) DO UPDATE SET overdue_days = $2, updated_at = $3, updated_by_user_id = $4`,
			orgID, in.OverdueDays, now, nullID(p.UserID)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, p.ActorFor(app.PermSupportSettings), audit.Event{Action: "support.settings",
			ObjectType: "organisation", ObjectID: fmt.Sprint(orgID)})
	})
	if err != nil {
		return Settings{}, err
	}
	return s.GetSettings(ctx, p, orgID)
}
