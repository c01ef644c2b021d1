package matching

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/mutualhq/mutual/internal/access"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/referral"
	"github.com/mutualhq/mutual/internal/store"
)

// Shortlist is the ranked, explained list of workers for one referral.
type Shortlist struct {
	ReferralID        int64              `json:"referral_id"`
	Reference         string             `json:"reference"`
	PersonID          int64              `json:"person_id"`
	PersonName        string             `json:"person_name"`
	TeamID            int64              `json:"team_id"`
	TeamName          string             `json:"team_name"`
	Status            string             `json:"status"`
	Version           int                `json:"version" doc:"The referral's version, to allocate with."`
	AllocatedWorkerID int64              `json:"allocated_worker_id,omitempty"`
	ChoicesVersion    int                `json:"choices_version" doc:"0: the person has not recorded any choices."`
	Choices           []string           `json:"choices" doc:"The person's choices that matching uses, in words."`
	ReviewFrequency   string             `json:"review_frequency,omitempty"`
	ReviewWith        []string           `json:"review_with,omitempty"`
	AvoidTopics       string             `json:"avoid_topics,omitempty"`
	PreviousWorkerID  int64              `json:"previous_worker_id,omitempty" doc:"The worker who supported the person before, first when they asked to keep the same worker."`
	AskedNotToHave    []AskedNotToHave   `json:"asked_not_to_have" doc:"Workers the person asked to change from: left out."`
	MustsNobodyMeets  []string           `json:"musts_no_worker_meets" doc:"The person's musts that no worker in the team meets."`
	Workers           []ShortlistWorker  `json:"workers" doc:"Every worker in the team: those the person could have ranked first (rank 1 is the best match), then those left out and why."`
	RankRule          string             `json:"rank_rule"`
	Note              string             `json:"note,omitempty" doc:"Why there is nothing to choose from, when there is not."`
	Criteria          map[int64][]string `json:"-"`
}

// AskedNotToHave is a worker a person asked to change from.
type AskedNotToHave struct {
	WorkerID int64     `json:"worker_id"`
	Name     string    `json:"name"`
	At       time.Time `json:"at"`
}

// ShortlistWorker is one worker on a shortlist.
type ShortlistWorker struct {
	WorkerID       int64    `json:"worker_id"`
	Name           string   `json:"name"`
	Rank           int      `json:"rank" doc:"1 for the best match; 0 for a worker left out."`
	Acceptable     bool     `json:"acceptable"`
	Met            []string `json:"met" doc:"The person's choices this worker meets, in words."`
	Unmet          []string `json:"unmet" doc:"The person's choices this worker does not meet, in words."`
	FreeCapacity   int      `json:"free_capacity" doc:"Places free now: the cap in force less the people allocated."`
	Cap            int      `json:"cap"`
	Caseload       int      `json:"caseload"`
	PreviousWorker bool     `json:"previous_worker"`
	AllocatedNow   bool     `json:"allocated_now"`
	Why            string   `json:"why,omitempty" doc:"Why a worker is left out."`
}

// teamWorkers loads the workers who may be allocated each team's
// referrals, with what matching knows about them.
func teamWorkers(ctx context.Context, tx *store.Tx, teams []int64, day time.Time) ([]Available, map[int64]*workerState, error) {
	tws, err := referral.WorkersIn(ctx, tx, teams)
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	byWorker := map[int64][]int64{}
	for _, tw := range tws {
		if _, seen := byWorker[tw.ID]; !seen {
			ids = append(ids, tw.ID)
		}
		byWorker[tw.ID] = append(byWorker[tw.ID], tw.TeamID)
	}
	states, err := loadWorkers(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(ids)
	out := make([]Available, 0, len(ids))
	for _, id := range ids {
		out = append(out, Available{Facts: states[id].facts(day), Teams: byWorker[id]})
	}
	return out, states, nil
}

// MatchesFor ranks the workers of a referral's team for its person, with
// what each meets of the person's choices and their free places, audited
// as a read of the person's data. Only a lead of the referral's team may
// ask; anyone else is answered as if there were no such referral.
func (s *Service) MatchesFor(ctx context.Context, p *app.Principal, referralID int64) (Shortlist, error) {
	var sl Shortlist
	day := dateOnly(s.Clock.Now())
	err := s.Audit.Read(ctx, func(tx *store.Tx, record audit.Recorder) error {
		a := store.NewArgs(referralID)
		var allocated sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT r.id, r.reference, r.person_id, pe.preferred_name, COALESCE(r.team_id, 0), COALESCE(t.name, ''), r.status, r.version, r.allocated_worker_id
			FROM referrals r JOIN people pe ON pe.id = r.person_id LEFT JOIN teams t ON t.id = r.team_id
			WHERE r.id = $1 AND `+access.Referrals(p, a), a.Values()...).Scan(&sl.ReferralID, &sl.Reference, &sl.PersonID, &sl.PersonName,
			&sl.TeamID, &sl.TeamName, &sl.Status, &sl.Version, &allocated)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotVisible
		} else if err != nil {
			return err
		}
		if sl.TeamID == 0 || !access.LeadsTeam(p, sl.TeamID) {
			return errNotVisible
		}
		sl.AllocatedWorkerID = allocated.Int64
		sl.RankRule = RankRule
		if err := s.shortlist(ctx, tx, &sl, day); err != nil {
			return err
		}
		m, _ := p.RoleFor(app.PermReferralTriage)
		for _, pm := range p.Memberships {
			if pm.Role == app.RolePeerLead && pm.TeamID == sl.TeamID {
				m = pm
			}
		}
		record(actorAs(p, m), audit.Event{Action: "matching.shortlist", SubjectPersonID: sl.PersonID, ObjectType: "referral", ObjectID: itoa(referralID)})
		return nil
	})
	if err != nil {
		return sl, s.denied(ctx, err, p, app.PermReferralTriage, "matching.shortlist", "referral", referralID, "The referral")
	}
	return sl, nil
}

// shortlist fills in a shortlist for a referral already loaded.
func (s *Service) shortlist(ctx context.Context, tx *store.Tx, sl *Shortlist, day time.Time) error {
	sl.Workers, sl.AskedNotToHave, sl.MustsNobodyMeets, sl.Choices = []ShortlistWorker{}, []AskedNotToHave{}, []string{}, []string{}
	switch referral.Status(sl.Status) {
	case referral.Received:
		sl.Note = "Accept the referral onto the team's waiting list before allocating a worker."
	case referral.Accepted, referral.Allocated, referral.Active:
	default:
		sl.Note = "This referral is closed, so no worker can be allocated."
	}
	choices, version, err := currentChoices(ctx, tx, sl.PersonID)
	if err != nil {
		return err
	}
	sl.ChoicesVersion = version
	sl.ReviewFrequency = app.ChoiceLabel(ReviewFrequencies, choices.ReviewFrequency)
	if choices.ReviewFrequency == "" {
		sl.ReviewFrequency = ""
	}
	sl.ReviewWith = labels(choices.ReviewWith, ReviewWith)
	sl.AvoidTopics = choices.AvoidTopics
	rows, err := tx.QueryContext(ctx, `SELECT we.worker_user_id, COALESCE(u.name, ''), we.at FROM worker_exclusions we LEFT JOIN users u ON u.id = we.worker_user_id
		WHERE we.person_id = $1 ORDER BY we.at`, sl.PersonID)
	if err != nil {
		return err
	}
	var excluded []int64
	for rows.Next() {
		var x AskedNotToHave
		if err := rows.Scan(&x.WorkerID, &x.Name, &x.At); err != nil {
			rows.Close()
			return err
		}
		x.At = x.At.UTC()
		excluded = append(excluded, x.WorkerID)
		sl.AskedNotToHave = append(sl.AskedNotToHave, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if sl.PreviousWorkerID, err = previousWorker(ctx, tx, sl.PersonID, sl.AllocatedWorkerID, excluded); err != nil {
		return err
	}
	themes, err := allThemes(ctx, tx)
	if err != nil {
		return err
	}
	pc := prepare(choices, themes, sl.PreviousWorkerID)
	for _, c := range pc.crit {
		sl.Choices = append(sl.Choices, c.Words)
	}
	if sl.TeamID == 0 {
		return nil
	}
	avail, _, err := teamWorkers(ctx, tx, []int64{sl.TeamID}, day)
	if err != nil {
		return err
	}
	if len(avail) == 0 && sl.Note == "" {
		sl.Note = "There are no peer workers in this team yet."
	}
	type scored struct {
		ShortlistWorker
		score int
	}
	var ok, left []scored
	metBy := make([]bool, len(pc.crit))
	for _, w := range avail {
		f := w.Facts
		sw := ShortlistWorker{WorkerID: f.ID, Name: f.Name, FreeCapacity: f.Free(), Cap: f.Cap, Caseload: f.Caseload,
			PreviousWorker: f.ID == sl.PreviousWorkerID, AllocatedNow: f.ID == sl.AllocatedWorkerID}
		if contains(excluded, f.ID) {
			sw.Met, sw.Unmet, sw.Why = []string{}, []string{}, "The person asked for a different worker"
			left = append(left, scored{ShortlistWorker: sw})
			continue
		}
		met, acceptable, sc := pc.eval(&f)
		for i := range pc.crit {
			metBy[i] = metBy[i] || met&(1<<i) != 0
		}
		sw.Met, sw.Unmet = pc.words(met)
		sw.Acceptable = acceptable
		if !acceptable {
			sw.Why = "Does not meet a must: " + mustsIn(pc, met, sw.Unmet)
			left = append(left, scored{ShortlistWorker: sw})
			continue
		}
		ok = append(ok, scored{ShortlistWorker: sw, score: sc})
	}
	var themeWords []string
	themeMet := false
	for i, c := range pc.crit {
		switch {
		case c.Kind == KindTheme && c.Must:
			themeWords = append(themeWords, strings.ToLower(app.ChoiceLabel(themes, c.Code)))
			themeMet = themeMet || metBy[i]
		case c.Must && !metBy[i]:
			sl.MustsNobodyMeets = append(sl.MustsNobodyMeets, c.Words)
		}
	}
	if len(themeWords) > 0 && !themeMet {
		sl.MustsNobodyMeets = append(sl.MustsNobodyMeets, "Shared experience: "+orList(themeWords)+" (a must)")
	}
	slices.SortStableFunc(ok, func(a, b scored) int {
		if a.score != b.score {
			return b.score - a.score
		}
		if a.FreeCapacity != b.FreeCapacity {
			return b.FreeCapacity - a.FreeCapacity
		}
		return cmpInt64(a.WorkerID, b.WorkerID)
	})
	for i, w := range ok {
		w.Rank = i + 1
		sl.Workers = append(sl.Workers, w.ShortlistWorker)
	}
	for _, w := range left {
		sl.Workers = append(sl.Workers, w.ShortlistWorker)
	}
	return nil
}
