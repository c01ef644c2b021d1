package recovery

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/store"
)

// Figure is a published count: Value is null when the count is small
// enough to identify someone (1 to 4 by default) and Suppressed says so.
type Figure struct {
	Value      *int `json:"value"`
	Suppressed bool `json:"suppressed"`
	Withheld   bool `json:"withheld,omitempty" doc:"Hidden (and suppressed) though not small itself, so that a small count beside it cannot be worked out from the total."`
}

func (s *Service) figure(n int) Figure {
	v := s.suppressor().Value(n)
	return Figure{Value: v, Suppressed: v == nil}
}

// figures publishes a split of total (counts, one a cell) through the
// suppressor's secondary suppression, so that no hidden cell can be worked
// out by taking the shown cells from the shown total; the total is
// figure(total).
func (s *Service) figures(counts []int, total int) ([]Figure, Figure) {
	cells, withheld, shownTotal := s.suppressor().RowValues(counts, total)
	out := make([]Figure, len(cells))
	for i, v := range cells {
		out[i] = Figure{Value: v, Suppressed: v == nil, Withheld: withheld[i]}
	}
	// The total is withheld too when every count behind it is hidden:
	// five themes of 1 must not sit beside a total of 5.
	t := Figure{Value: shownTotal, Suppressed: shownTotal == nil}
	t.Withheld = shownTotal == nil && !s.suppressor().Suppressed(total)
	return out, t
}

// Share is a published proportion: null (and suppressed) when either count
// behind it is small.
type Share struct {
	Value      *float64 `json:"value" doc:"0 to 1."`
	Suppressed bool     `json:"suppressed"`
}

func (s *Service) share(events, n int) Share {
	sup := s.suppressor()
	if n == 0 {
		return Share{}
	}
	if n < sup.Threshold || sup.Suppressed(events) || sup.Suppressed(n-events) {
		return Share{Suppressed: true}
	}
	v := float64(events) / float64(n)
	return Share{Value: &v}
}

// ThemeCount is how much feedback a team had about one theme.
type ThemeCount struct {
	Theme    string `json:"theme"`
	Label    string `json:"label"`
	Received Figure `json:"received"`
	Changed  Figure `json:"changed"`
}

// Published is one answer on the public page: what was said, in the team's
// words (or, when the person agreed, their own, never their name), what we
// did, and what changed.
type Published struct {
	Theme      string     `json:"theme"`
	Label      string     `json:"label"`
	YouSaid    string     `json:"you_said"`
	Quoted     bool       `json:"quoted" doc:"You said is the person's own words, quoted with their agreement."`
	WeDid      string     `json:"we_did"`
	Changed    string     `json:"changed,omitempty"`
	AnsweredAt time.Time  `json:"answered_at"`
	ChangedAt  *time.Time `json:"changed_at,omitempty"`
}

// YouSaidWeDid is a team's public page: themes and the answers and changes
// over the last twelve months, never the person, small numbers suppressed.
type YouSaidWeDid struct {
	TeamID                int64        `json:"team_id"`
	TeamName              string       `json:"team_name"`
	From                  string       `json:"from" doc:"YYYY-MM-DD"`
	To                    string       `json:"to" doc:"YYYY-MM-DD"`
	Received              Figure       `json:"received"`
	Answered              Figure       `json:"answered"`
	Changed               Figure       `json:"changed"`
	AnsweredWithinTarget  Share        `json:"answered_within_target" doc:"Of the feedback whose target date has passed, the share answered by then."`
	AnswerTargetDays      int          `json:"answer_target_working_days"`
	AcknowledgeTargetDays int          `json:"acknowledge_target_working_days"`
	Themes                []ThemeCount `json:"themes"`
	Published             []Published  `json:"published"`
	SuppressBelow         int          `json:"suppress_below"`
}

// YouSaidWeDidFor builds a team's public page for the twelve months to
// now. It names no one: counts of 1 to 4 are suppressed, and a person's
// words appear only when they agreed to be quoted and the lead chose to.
// An unknown team is not found.
func (s *Service) YouSaidWeDidFor(ctx context.Context, teamID int64) (YouSaidWeDid, error) {
	now := s.Clock.Now()
	from := now.AddDate(-1, 0, 0)
	y := YouSaidWeDid{TeamID: teamID, From: from.In(app.London).Format("2006-01-02"), To: now.In(app.London).Format("2006-01-02"),
		AnswerTargetDays: s.answerDays(), AcknowledgeTargetDays: s.ackDays(), Themes: []ThemeCount{}, Published: []Published{},
		SuppressBelow: s.suppressor().Threshold}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT name FROM teams WHERE id = $1", teamID).Scan(&y.TeamName); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return app.NotFound("The team")
			}
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT f.theme, f.status, f.received_at, f.answered_at FROM feedback f
			WHERE f.team_id = $1 AND f.received_at >= $2 AND f.forgotten_at IS NULL`, teamID, from)
		if err != nil {
			return err
		}
		received, answered, changed, due, onTime := 0, 0, 0, 0, 0
		byTheme := map[string][2]int{}
		for rows.Next() {
			var theme string
			var st FeedbackStatus
			var rec time.Time
			var ans sql.NullTime
			if err := rows.Scan(&theme, &st, &rec, &ans); err != nil {
				rows.Close()
				return err
			}
			received++
			c := byTheme[theme]
			c[0]++
			if st == Answered || st == Changed {
				answered++
			}
			if st == Changed {
				changed++
				c[1]++
			}
			byTheme[theme] = c
			by := AddWorkingDays(rec.UTC(), s.answerDays())
			if ans.Valid || now.After(by) {
				due++
				if ans.Valid && !ans.Time.After(by) {
					onTime++
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		y.Received, y.Answered, y.Changed = s.figure(received), s.figure(answered), s.figure(changed)
		y.AnsweredWithinTarget = s.share(onTime, due)
		// The themes split the totals: one small theme must not be found by
		// taking the others from the total. Feedback not yet given a theme
		// is a cell that is never shown.
		var shown []app.Choice
		var rec, chg []int
		for _, t := range Themes {
			if c, ok := byTheme[t.Code]; ok {
				shown = append(shown, t)
				rec, chg = append(rec, c[0]), append(chg, c[1])
				delete(byTheme, t.Code)
			}
		}
		unshown := [2]int{}
		for _, c := range byTheme {
			unshown[0], unshown[1] = unshown[0]+c[0], unshown[1]+c[1]
		}
		recF, recTotal := s.figures(append(rec, unshown[0]), received)
		chgF, chgTotal := s.figures(append(chg, unshown[1]), changed)
		y.Received, y.Changed = recTotal, chgTotal
		for i, t := range shown {
			y.Themes = append(y.Themes, ThemeCount{Theme: t.Code, Label: t.Label, Received: recF[i], Changed: chgF[i]})
		}
		// The person's words are read only when they agreed to be quoted
		// and the lead chose to quote them.
		prow, err := tx.QueryContext(ctx, `SELECT f.theme, f.public_summary, f.quote AND f.may_quote,
			CASE WHEN f.quote AND f.may_quote THEN f.body ELSE '' END, f.answer, f.change_made, f.answered_at, f.changed_at
			FROM feedback f WHERE f.team_id = $1 AND f.publish AND f.status IN ('answered', 'changed') AND f.answered_at >= $2
			AND f.forgotten_at IS NULL ORDER BY f.answered_at DESC, f.id DESC LIMIT 50`, teamID, from)
		if err != nil {
			return err
		}
		defer prow.Close()
		for prow.Next() {
			var pb Published
			var summary, body string
			var chg sql.NullTime
			if err := prow.Scan(&pb.Theme, &summary, &pb.Quoted, &body, &pb.WeDid, &pb.Changed, &pb.AnsweredAt, &chg); err != nil {
				return err
			}
			pb.Label = ThemeLabel(pb.Theme)
			pb.AnsweredAt = pb.AnsweredAt.UTC()
			pb.ChangedAt = timePtr(chg)
			pb.YouSaid = summary
			if pb.Quoted && body != "" {
				pb.YouSaid = body
			} else {
				pb.Quoted = false
			}
			if pb.YouSaid == "" {
				continue
			}
			y.Published = append(y.Published, pb)
		}
		return prow.Err()
	})
	return y, err
}

// PublicTeam is a team with a public "You said, we did" page.
type PublicTeam struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// PublicTeams lists the teams with published answers in the last twelve
// months, for the public index.
func (s *Service) PublicTeams(ctx context.Context) ([]PublicTeam, error) {
	out := []PublicTeam{}
	err := s.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.id, t.name FROM teams t WHERE EXISTS (SELECT 1 FROM feedback f WHERE f.team_id = t.id
			AND f.publish AND f.status IN ('answered', 'changed') AND f.answered_at >= $1 AND f.forgotten_at IS NULL) ORDER BY t.name`, s.Clock.Now().AddDate(-1, 0, 0))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t PublicTeam
			if err := rows.Scan(&t.ID, &t.Name); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}
