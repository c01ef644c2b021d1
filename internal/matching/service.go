package matching

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/notify"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// Service is the matching capability. Build one in cmd/mutual, and set it
// as the referral service's AllocationRules so every allocation goes
// through its caps and records.
type Service struct {
	DB        *store.DB
	Clock     app.Clock
	Audit     *audit.Log
	Notify    *notify.Service
	Referrals *referral.Service
	Accounts  *account.Service
	// Suppress hides small numbers in the insight figures.
	Suppress stats.Suppressor
}

// denied answers a record the caller may not see as not found, audited.
func (s *Service) denied(ctx context.Context, err error, p *app.Principal, perm app.Permission, action, objectType string, id int64, what string) error {
	return access.Denied(ctx, s.Audit, p, perm, action, objectType, id, what, err)
}

// workerLockKey is the advisory lock that serialises decisions about one
// worker's caseload on PostgreSQL ("matc" and the account id; the other
// keys in store are "mutual" and a number, so they cannot meet).
func workerLockKey(workerID int64) int64 { return 0x6d61_7463<<32 | workerID&0xffff_ffff }

// lockWorkers takes the workers' caseload locks in id order (so two
// transactions taking several cannot deadlock), until commit.
func lockWorkers(ctx context.Context, tx *store.Tx, ids []int64) error {
	sorted := slices.Sorted(slices.Values(ids))
	for i, id := range sorted {
		if i > 0 && sorted[i-1] == id {
			continue
		}
		if err := tx.Lock(ctx, workerLockKey(id)); err != nil {
			return err
		}
	}
	return nil
}

// jsonText encodes a value for a TEXT column.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain values only
	}
	return string(b)
}

// fromJSON decodes a TEXT column written by jsonText.
func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// firstName is the first word of a name.
func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}

// dateOnly is a date as stored: midnight UTC.
func dateOnly(t time.Time) time.Time {
	t = t.In(app.London)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// parseDate reads YYYY-MM-DD.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	return t, err == nil
}
