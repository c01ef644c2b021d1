// Package insight shows whether peer support reaches everyone who could use
// it: honest referral and offer rates per care co-ordinator and team
// (funnel plots), equity of access by age, gender, ethnicity and other
// characteristics, offer coverage and waiting times — always as
// aggregates, with small numbers suppressed. It only reads: caseloads come
// in through the caseload package, which keeps the roll-up these views
// count from; no request here writes or rebuilds anything.
package insight

import (
	"context"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
)

// Service is the insight capability.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	// Suppress hides small counts in every aggregate view and export.
	Suppress stats.Suppressor
	// WaitingStandard is the waiting-time standard (4 weeks by default).
	WaitingStandard time.Duration
	// Audit commits the row each view records together with those of
	// concurrent reads, so a view never takes the write lock itself.
	Audit *audit.Log
}

// record appends the audit row of a view (aggregate data, or people the
// caller may see, named in e's subjects) and returns once it is durably
// committed: nothing is shown before its row.
func (s *Service) record(ctx context.Context, p *app.Principal, e audit.Event) error {
	return s.Audit.Append(ctx, p.ActorFor(app.PermInsightRead), e)
}
