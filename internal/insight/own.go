package insight

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/store"
)

// OwnRate is one rate in a care co-ordinator's own view: the people on a
// caseload in the period and how many of them were referred (or told about
// peer support) while on it. The co-ordinator's own figures are about
// their own work and are shown in full; a team's are suppressed like any
// aggregate (null and Suppressed).
type OwnRate struct {
	Unit       string   `json:"unit" doc:"\"You\", or the team's name."`
	N          *int     `json:"n"`
	Events     *int     `json:"events"`
	Rate       *float64 `json:"rate"`
	Suppressed bool     `json:"suppressed"`
}

// OwnMeasure is one measure (referred or offered): the caller's rate
// beside each of their teams'.
type OwnMeasure struct {
	Measure string    `json:"measure" doc:"referred or offered"`
	Label   string    `json:"label"`
	You     OwnRate   `json:"you"`
	Teams   []OwnRate `json:"teams"`
}

// NotOffered is someone on the caller's caseload now who has not been told
// about peer support, nor referred, in the last twelve months.
type NotOffered struct {
	PersonID int64  `json:"person_id"`
	Name     string `json:"name"`
	// OnCaseloadSince is when their current episode with the caller began.
	OnCaseloadSince string `json:"on_caseload_since" doc:"YYYY-MM-DD"`
}

// OwnInsight is a care co-ordinator's own view: their referral and offer
// rates over the last twelve months beside their teams' (never another
// co-ordinator's), and the people on their caseload never offered peer
// support in that time.
type OwnInsight struct {
	From       string       `json:"from"`
	To         string       `json:"to"`
	Measures   []OwnMeasure `json:"measures"`
	NotOffered []NotOffered `json:"not_offered"`
}

// maxNotOffered bounds the list; a co-ordinator's caseload is a few dozen.
const maxNotOffered = 500

// OwnRates answers the caller's own view. Their caseload is the episodes
// that name their email address as co-ordinator; their teams are those
// they work in as a clinician. The people listed are only those the
// caller may see (access.People), and each is named in the audit row.
func (s *Service) OwnRates(ctx context.Context, p *app.Principal) (OwnInsight, error) {
	now := s.Clock.Now()
	period, err := ParsePeriod("", "", now)
	if err != nil {
		return OwnInsight{}, err
	}
	out := OwnInsight{From: period.From.Format("2006-01-02"), To: period.To.Format("2006-01-02"), NotOffered: []NotOffered{}}
	teams := p.TeamsAs(app.RoleClinician)
	err = s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		out.Measures, out.NotOffered = nil, []NotOffered{}
		names, err := teamNameMap(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range []string{"referred", "offered"} {
			om := OwnMeasure{Measure: m, Label: MeasureLabel(m), You: OwnRate{Unit: "You"}}
			// Only the caller's own unit is kept from the co-ordinator
			// counts: nobody else's rate leaves this function.
			mine, err := s.rateCounts(ctx, tx, RatesQuery{Period: period, By: "coordinator", Measure: m})
			if err != nil {
				return err
			}
			n, ev := 0, 0
			for _, u := range mine {
				if u.key == p.Email {
					n, ev = u.n, u.events
				}
			}
			om.You.N, om.You.Events = &n, &ev
			if n > 0 {
				r := float64(ev) / float64(n)
				om.You.Rate = &r
			}
			if len(teams) > 0 {
				byTeam, err := s.rateCounts(ctx, tx, RatesQuery{Period: period, By: "team", Measure: m, TeamIDs: teams})
				if err != nil {
					return err
				}
				counts := map[string]rawUnit{}
				for _, u := range byTeam {
					counts[u.key] = u
				}
				for _, id := range teams {
					u := counts[strconv.FormatInt(id, 10)]
					tr := OwnRate{Unit: names[id]}
					if _, ok := s.Suppress.Rate(u.events, u.n); ok {
						tn, te, r := u.n, u.events, float64(u.events)/float64(u.n)
						tr.N, tr.Events, tr.Rate = &tn, &te, &r
					} else {
						tr.Suppressed = u.n > 0
						if u.n == 0 {
							zero := 0
							tr.N, tr.Events = &zero, &zero
						}
					}
					om.Teams = append(om.Teams, tr)
				}
			}
			out.Measures = append(out.Measures, om)
		}
		out.NotOffered, err = notOffered(ctx, tx, p, period, now)
		if err != nil {
			return err
		}
		ids := make([]int64, len(out.NotOffered))
		for i, n := range out.NotOffered {
			ids[i] = n.PersonID
		}
		record(p.ActorFor(app.PermInsightOwn), audit.Event{Action: "insight.own", Subjects: ids, ObjectType: "insight",
			ObjectID: fmt.Sprintf("from=%s to=%s not_offered=%d", out.From, out.To, len(ids))})
		return nil
	})
	return out, err
}

// notOffered lists the people on the caller's caseload today, within the
// caller's scope, with no offer of peer support recorded and no referral
// received in the period.
func notOffered(ctx context.Context, tx *store.Tx, p *app.Principal, period Period, now time.Time) ([]NotOffered, error) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	a := store.NewArgs()
	q := `SELECT pe.id, pe.preferred_name, pe.full_name, COALESCE(pe.trust_ref, ''), ce.start_date
		FROM caseload_episodes ce JOIN people pe ON pe.id = ce.person_id
		WHERE ce.coordinator_email = ` + a.Add(p.Email) + ` AND ce.start_date <= ` + a.Add(today) + `
		AND (ce.end_date IS NULL OR ce.end_date >= ` + a.Add(today) + `) AND ` + access.People(p, a) + `
		AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.person_id = pe.id AND o.at >= ` + a.Add(period.From) + ` AND o.response <> 'never_told')
		AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = pe.id AND r.received_at >= ` + a.Add(period.From) + `)
		ORDER BY ce.start_date, pe.id LIMIT ` + strconv.Itoa(maxNotOffered)
	rows, err := tx.QueryContext(ctx, q, a.Values()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []NotOffered{}
	seen := map[int64]bool{}
	for rows.Next() {
		var n NotOffered
		var full, ref string
		var since time.Time
		if err := rows.Scan(&n.PersonID, &n.Name, &full, &ref, &since); err != nil {
			return nil, err
		}
		if seen[n.PersonID] {
			continue // a second episode with the caller: the earliest is listed
		}
		seen[n.PersonID] = true
		switch {
		case n.Name == "" && full != "":
			n.Name = full
		case n.Name == "" && ref != "":
			n.Name = "Trust record " + ref
		case n.Name == "":
			n.Name = "Name not recorded"
		}
		n.OnCaseloadSince = since.Format("2006-01-02")
		out = append(out, n)
	}
	return out, rows.Err()
}

// MeasureLabel names a measure: "Referred to peer support" or "Told about
// peer support".
func MeasureLabel(m string) string {
	if m == "offered" {
		return "Told about peer support"
	}
	return "Referred to peer support"
}
