package insight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/insight/stats"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// SupportReport is the service evaluation's figures for a period and
// teams (#12): who gave and got support, how much, of which kinds, how
// support ended, and how often people did not come — the figures a
// service evaluation reports ("6 peers, 83 clients, 6 months"). Every
// count below the threshold is null; rows that add up to a total are
// protected so no hidden cell can be worked out from it.
type SupportReport struct {
	SuppressionThreshold int      `json:"suppression_threshold"`
	From                 string   `json:"from" doc:"First day of the period (YYYY-MM-DD)."`
	To                   string   `json:"to" doc:"Last day of the period (YYYY-MM-DD)."`
	PeerWorkers          *int     `json:"peer_workers" doc:"Workers who recorded a contact in the period; null when suppressed."`
	PeopleSupported      *int     `json:"people_supported" doc:"People with a contact in the period; null when suppressed."`
	Contacts             *int     `json:"contacts" doc:"Contacts in the period; null when suppressed."`
	Hours                *float64 `json:"hours" doc:"Hours of contact (one decimal); null when the contacts are suppressed."`
	// Medians over the people supported in the period.
	MedianContactsPerPerson *float64 `json:"median_contacts_per_person" doc:"Median contacts in the period per person supported; null when fewer people than the threshold."`
	MedianWeeksPerPerson    *float64 `json:"median_weeks_per_person" doc:"Median weeks from a person's first contact to the end of their support, or to the end of the period if it goes on; null when fewer people than the threshold."`
	// Contacts by support type (several may apply to one contact, so these
	// need not add up to the contacts), by mode and by setting.
	BySupportType []ReportRow `json:"by_support_type"`
	ByMode        []ReportRow `json:"by_mode"`
	BySetting     []ReportRow `json:"by_setting"`
	// Endings are the referrals whose support ended in the period, by reason.
	Endings     []ReportRow `json:"endings"`
	EndingsAll  *int        `json:"endings_all" doc:"All endings in the period; null when suppressed."`
	Attended    *int        `json:"attended" doc:"Appointments in the period that took place (arrived or fulfilled)."`
	NotAttended *int        `json:"not_attended" doc:"Appointments in the period the person did not come to."`
	DNARate     *float64    `json:"did_not_attend_rate" doc:"Not attended ÷ (attended + not attended); null when withheld."`
}

// ReportRow is one group's count in a report table.
type ReportRow struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	Count *int   `json:"count" doc:"null when hidden: below the threshold, or withheld so a small count cannot be worked out from the total."`
	// Withheld: hidden with others so that none can be worked out from
	// the total (rather than small itself).
	Withheld bool `json:"withheld,omitempty"`
}

// SupportReport counts the support given in a period by the given teams
// (every team when none), audited as one aggregate view.
func (s *Service) SupportReport(ctx context.Context, p *app.Principal, period Period, teamIDs []int64) (SupportReport, error) {
	sup := s.Suppress
	out := SupportReport{SuppressionThreshold: sup.Threshold, From: period.From.Format("2006-01-02"), To: period.To.Format("2006-01-02")}
	from, to := period.From, period.end()
	var (
		sc                           supportCounts
		endings                      = map[string]int{}
		endingsAll, attended, missed int
	)
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		// The contacts' figures come from the support roll-up the referral
		// package keeps, or straight from the contacts while it is not
		// built (the same answer, slower: TestSupportRollupMatchesDirectCount).
		var built bool
		if err := tx.QueryRowContext(ctx, "SELECT built FROM support_rollup_state WHERE id = 1").Scan(&built); err != nil {
			return err
		}
		var err error
		if built {
			sc, err = rollupSupportCounts(ctx, tx, from, to, teamIDs)
		} else {
			sc, err = directSupportCounts(ctx, tx, from, to, teamIDs)
		}
		if err != nil {
			return err
		}
		within := func(col string) (*store.Args, string) { return periodTeams(tx, from, to, teamIDs, col) }
		a, teams := within("r.team_id")
		err = countBy(ctx, tx, `SELECT r.status_reason, COUNT(*) FROM referrals r WHERE r.status = 'ended' AND r.closed_at >= $1 AND r.closed_at < $2`+teams+
			` GROUP BY r.status_reason`, a.Values(), func(code string, n int) {
			endings[code] += n
			endingsAll += n
		})
		if err != nil {
			return err
		}
		a, apTeams := within("ap.team_id")
		return tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN ap.status IN ('arrived', 'fulfilled') THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN ap.status = 'noshow' THEN 1 ELSE 0 END), 0)
			FROM appointments ap WHERE ap.starts_at >= $1 AND ap.starts_at < $2`+apTeams, a.Values()...).Scan(&attended, &missed)
	})
	if err != nil {
		return out, err
	}
	workers, people, contacts, minutes := sc.workers, len(sc.perPerson), sc.contacts, sc.minutes
	types, modes, settings := sc.types, sc.modes, sc.settings
	out.PeerWorkers, out.PeopleSupported = sup.Value(workers), sup.Value(people)
	if len(sc.perPerson) >= sup.Threshold && len(sc.perPerson) > 0 {
		m := stats.Median(sc.perPerson)
		out.MedianContactsPerPerson = &m
		if len(sc.weeks) >= sup.Threshold {
			w := float64(int(stats.Median(sc.weeks)*10+0.5)) / 10
			out.MedianWeeksPerPerson = &w
		}
	}
	out.BySupportType, _ = reportRows(sup, referral.SupportTypes, types, -1)
	var byMode, bySetting *int
	out.ByMode, byMode = reportRows(sup, referral.ContactModes, modes, contacts)
	var settingChoices []app.Choice
	for _, st := range account.Settings {
		settingChoices = append(settingChoices, app.Choice{Code: string(st), Label: st.Label()})
	}
	out.BySetting, bySetting = reportRows(sup, settingChoices, settings, contacts)
	// The contacts are the total of both rows: shown only when neither
	// withholds it (with the hours, which grow with it).
	if byMode != nil && bySetting != nil {
		out.Contacts = byMode
		h := float64(int(float64(minutes)/6+0.5)) / 10
		out.Hours = &h
	}
	out.Endings, out.EndingsAll = reportRows(sup, referral.EndReasons, endings, endingsAll)
	out.Attended, out.NotAttended = sup.Value(attended), sup.Value(missed)
	// The rate with one count shown would give the other away.
	if f, ok := sup.Fraction(missed, attended+missed); ok && out.Attended != nil && out.NotAttended != nil {
		out.DNARate = &f
	}
	ids := make([]string, len(teamIDs))
	for i, id := range teamIDs {
		ids[i] = fmt.Sprint(id)
	}
	err = s.record(ctx, p, audit.Event{Action: "insight.support", ObjectType: "insight",
		ObjectID: fmt.Sprintf("from=%s to=%s teams=%s", out.From, out.To, strings.Join(ids, ","))})
	return out, err
}

// countBy runs a query of (code, count) rows, handing each to add.
func countBy(ctx context.Context, tx *store.Tx, q string, args []any, add func(code string, n int)) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return err
		}
		add(code, n)
	}
	return rows.Err()
}

// reportRows lays counts out in the order of their choices (then any other
// code that has contacts, sorted), hiding small counts; when total ≥ 0 the
// counts add up to it and are protected so none can be worked out by
// subtraction, and the total to publish beside them comes back (nil when
// small, or withheld because every count behind it is hidden).
func reportRows(sup stats.Suppressor, choices []app.Choice, counts map[string]int, total int) ([]ReportRow, *int) {
	var codes, others []string
	seen := map[string]bool{}
	for _, c := range choices {
		codes, seen[c.Code] = append(codes, c.Code), true
	}
	for code, n := range counts {
		if !seen[code] && n > 0 {
			others = append(others, code)
		}
	}
	slices.Sort(others)
	codes = append(codes, others...)
	ns := make([]int, len(codes))
	for i, c := range codes {
		ns[i] = counts[c]
	}
	var cells []*int
	var withheld []bool
	var shownTotal *int
	if total >= 0 {
		cells, withheld, shownTotal = sup.RowValues(ns, total)
	} else {
		cells, withheld = make([]*int, len(ns)), make([]bool, len(ns))
		for i, n := range ns {
			cells[i] = sup.Value(n)
		}
	}
	out := []ReportRow{}
	for i, c := range codes {
		label := app.ChoiceLabel(choices, c)
		if c == "" {
			label = "Not recorded"
		}
		out = append(out, ReportRow{Code: c, Label: label, Count: cells[i], Withheld: withheld[i]})
	}
	return out, shownTotal
}
