package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// Settings are an organisation's settings for the worker's day.
type Settings struct {
	OrganisationID int64 `json:"organisation_id"`
	OverdueDays    int   `json:"overdue_days" required:"true" doc:"Someone with no contact for this many days is overdue (1 to 365; 14 unless set)."`
	GraceMinutes   int   `json:"grace_minutes,omitempty" doc:"A lone-working visit not checked out this many minutes after its expected end alerts the worker's leads (5 to 240; 30 unless set)."`
	Default        bool  `json:"default" doc:"true: the organisation has not set its own."`
}

// GetSettings returns an organisation's settings. Only administrators see
// them; an unknown organisation is not found.
func (s *Service) GetSettings(ctx context.Context, p *app.Principal, orgID int64) (Settings, error) {
	if !p.Can(app.PermSupportSettings) {
		return Settings{}, app.Errorf(app.CodeForbidden, "Only administrators can see and change support settings")
	}
	out := Settings{OrganisationID: orgID, OverdueDays: s.overdueDays(), GraceMinutes: int(DefaultGrace / time.Minute), Default: true}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		var days, grace sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT ss.overdue_days, ss.grace_minutes FROM organisations o LEFT JOIN support_settings ss ON ss.organisation_id = o.id
			WHERE o.id = $1`, orgID).Scan(&days, &grace)
		if errors.Is(err, sql.ErrNoRows) {
			return app.NotFound("The organisation")
		}
		if days.Valid {
			out.OverdueDays, out.GraceMinutes, out.Default = int(days.Int64), int(grace.Int64), false
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
	var problems app.Problems
	if in.OverdueDays < 1 || in.OverdueDays > 365 {
		problems.Add("overdue_days", "Overdue after must be between 1 and 365 days")
	}
	if in.GraceMinutes == 0 {
		in.GraceMinutes = int(DefaultGrace / time.Minute)
	}
	if in.GraceMinutes < 5 || in.GraceMinutes > 240 {
		problems.Add("grace_minutes", "The time to check out must be between 5 and 240 minutes")
	}
	if err := problems.Err(); err != nil {
		return Settings{}, err
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO support_settings (organisation_id, overdue_days, grace_minutes, updated_at, updated_by_user_id)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation_id) DO UPDATE SET overdue_days = $2, grace_minutes = $3, updated_at = $4, updated_by_user_id = $5`,
			orgID, in.OverdueDays, in.GraceMinutes, now, nullID(p.UserID)); err != nil {
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
