package insight

import (
	"context"
	"math"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/community"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/store"
)

// MinReviews is the fewest reviews a review-time figure is shown for.
const MinReviews = 5

// CommunityReport is the moderated community's figures for a period
// (#15): how many take part, what they write, what is flagged and how
// quickly moderators review it, what was escalated, sanctioned or led to
// peer support. It names no one; every count below the threshold is null
// and rows that add up to a total are protected.
type CommunityReport struct {
	SuppressionThreshold int         `json:"suppression_threshold"`
	From                 string      `json:"from" doc:"First day of the period (YYYY-MM-DD)."`
	To                   string      `json:"to" doc:"Last day of the period (YYYY-MM-DD)."`
	Members              *int        `json:"members" doc:"Members who had joined by the end of the period; null when suppressed."`
	ActiveMembers        *int        `json:"active_members" doc:"Accounts that posted or reacted in the period; null when suppressed."`
	Topics               *int        `json:"topics" doc:"Topics started in the period; null when suppressed."`
	Replies              *int        `json:"replies" doc:"Replies written in the period (whatever became of them); null when suppressed."`
	Flags                []ReportRow `json:"flags" doc:"Members' flags raised in the period, by kind."`
	FlagsAll             *int        `json:"flags_all" doc:"All members' flags raised in the period; null when suppressed or withheld."`
	Reviews              *int        `json:"reviews" doc:"Reviews of a flagged or held post finished in the period; null when suppressed."`
	ReviewMedianHours    *float64    `json:"review_median_hours" doc:"Median hours from a post's first flag (or its holding) to its review; null when fewer than 5 reviews or the reviews are suppressed."`
	ReviewP90Hours       *float64    `json:"review_p90_hours" doc:"90th percentile of the same hours; null as the median is."`
	EscalatedConsent     *int        `json:"escalated_with_consent" doc:"Worries passed to the member's care team with their agreement in the period; null when suppressed."`
	EscalatedNoConsent   *int        `json:"escalated_without_consent" doc:"Safeguarding concerns without the member's agreement confirmed by their team in the period; null when suppressed."`
	Sanctions            []ReportRow `json:"sanctions" doc:"Sanctions that started in the period, by kind."`
	SanctionsAll         *int        `json:"sanctions_all" doc:"All sanctions that started in the period; null when suppressed or withheld."`
	Referrals            *int        `json:"referrals" doc:"Referrals to peer support members asked for from the community in the period; null when suppressed."`
}

// CommunityReport counts the community's activity in a period, audited as
// one aggregate view naming no one.
func (s *Service) CommunityReport(ctx context.Context, p *app.Principal, period Period) (CommunityReport, error) {
	sup := s.Suppress
	out := CommunityReport{SuppressionThreshold: sup.Threshold, From: period.From.Format("2006-01-02"), To: period.To.Format("2006-01-02")}
	from, to := period.From, period.end()
	var members, active, topics, replies, consent, noConsent, referrals, flagsAll, sanctionsAll int
	flags, sanctions := map[string]int{}, map[string]int{}
	var hours []float64
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		one := func(q string, dest *int) error {
			return tx.QueryRowContext(ctx, q, from, to).Scan(dest)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM community_members WHERE joined_at < $1`, to).Scan(&members); err != nil {
			return err
		}
		for _, c := range []struct {
			q    string
			dest *int
		}{
			{`SELECT COUNT(*) FROM (SELECT author_user_id AS u FROM community_posts WHERE created_at >= $1 AND created_at < $2
				UNION SELECT user_id FROM community_reactions WHERE created_at >= $1 AND created_at < $2) a`, &active},
			{`SELECT COUNT(*) FROM community_topics WHERE created_at >= $1 AND created_at < $2`, &topics},
			{`SELECT COUNT(*) FROM community_posts WHERE NOT opening AND created_at >= $1 AND created_at < $2`, &replies},
			{`SELECT COUNT(*) FROM community_escalations WHERE route = 'care_team' AND escalated_at >= $1 AND escalated_at < $2`, &consent},
			{`SELECT COUNT(*) FROM community_safeguarding WHERE status = 'confirmed' AND decided_at >= $1 AND decided_at < $2`, &noConsent},
			{`SELECT COUNT(*) FROM community_support_requests WHERE created_at >= $1 AND created_at < $2`, &referrals},
		} {
			if err := one(c.q, c.dest); err != nil {
				return err
			}
		}
		err := countBy(ctx, tx, `SELECT kind, COUNT(*) FROM community_flags WHERE kind NOT IN ('risk', 'held') AND created_at >= $1 AND created_at < $2 GROUP BY kind`,
			[]any{from, to}, func(code string, n int) { flags[code] += n; flagsAll += n })
		if err != nil {
			return err
		}
		err = countBy(ctx, tx, `SELECT kind, COUNT(*) FROM community_sanctions WHERE starts_at >= $1 AND starts_at < $2 GROUP BY kind`,
			[]any{from, to}, func(code string, n int) { sanctions[code] += n; sanctionsAll += n })
		if err != nil {
			return err
		}
		// A review is a post's flags (its holding among them) resolved
		// together: timed from the first of them.
		rows, err := tx.QueryContext(ctx, `SELECT MIN(created_at), resolved_at FROM community_flags
			WHERE resolved_at >= $1 AND resolved_at < $2 GROUP BY post_id, resolved_at`, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var first, done store.AnyTime
			if err := rows.Scan(&first, &done); err != nil {
				return err
			}
			if first.Valid && done.Valid {
				hours = append(hours, max(0, done.Time.Sub(first.Time).Hours()))
			}
		}
		return rows.Err()
	})
	if err != nil {
		return out, err
	}
	out.Members, out.ActiveMembers, out.Topics, out.Replies = sup.Value(members), sup.Value(active), sup.Value(topics), sup.Value(replies)
	out.EscalatedConsent, out.EscalatedNoConsent, out.Referrals = sup.Value(consent), sup.Value(noConsent), sup.Value(referrals)
	out.Flags, out.FlagsAll = reportRows(sup, community.FlagKinds, flags, flagsAll)
	out.Sanctions, out.SanctionsAll = reportRows(sup, community.SanctionKinds, sanctions, sanctionsAll)
	out.Reviews = sup.Value(len(hours))
	if len(hours) >= MinReviews && out.Reviews != nil {
		m, p90 := oneDecimal(stats.Median(hours)), oneDecimal(stats.Percentile(hours, 0.9))
		out.ReviewMedianHours, out.ReviewP90Hours = &m, &p90
	}
	err = s.record(ctx, p, audit.Event{Action: "insight.community", ObjectType: "insight", ObjectID: "from=" + out.From + " to=" + out.To})
	return out, err
}

func oneDecimal(x float64) float64 { return math.Round(x*10) / 10 }
