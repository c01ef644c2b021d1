// Package caseload owns the caseloads that come in from the trust's
// record: the import (a CSV file or an API batch, checked row by row), the
// episodes, and the roll-up that lets insight count caseloads quickly.
// People it meets for the first time, or whose characteristics the record
// brings up to date, go through the person package, which owns people.
// Insight only reads what this package writes.
package caseload

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/mutualhq/mutual/internal/account"
	"github.com/mutualhq/mutual/internal/app"
	"github.com/mutualhq/mutual/internal/audit"
	"github.com/mutualhq/mutual/internal/demographics"
	"github.com/mutualhq/mutual/internal/person"
	"github.com/mutualhq/mutual/internal/store"
)

// Service is the caseload capability.
type Service struct {
	DB    *store.DB
	Clock app.Clock
	// RefreshFlags brings up to date, for the given people (every person
	// when nil), whether each referral and offer was made while the person
	// was on the maker's caseload. The flags live on referrals and offers,
	// which the referral package owns and writes: cmd/mutual wires in
	// referral.RefreshCaseloadFlagsFor. It runs in the import's transaction.
	RefreshFlags func(ctx context.Context, tx *store.Tx, personIDs []int64) error
}

// Columns are the caseload file's columns, in template order. Names are
// matched case-insensitively; order does not matter; extra columns are an
// error so a misspelt optional column is not silently ignored.
var Columns = []Column{
	{"person_ref", true, "The person's identifier in the trust's electronic record, exactly as it appears there. Stored as given; shown only to staff who need it."},
	{"team", true, "The team's name exactly as it appears in Mutual (Administration › Teams)."},
	{"coordinator_email", true, "The care co-ordinator's work email address."},
	{"start_date", true, "When the person joined this co-ordinator's caseload: YYYY-MM-DD (or DD/MM/YYYY)."},
	{"end_date", false, "When they left it; blank if they are still on it."},
	{"birth_year", false, "Year of birth, four digits."},
	{"gender", false, "woman, man, non_binary, self_described or prefer_not_to_say (or the words)."},
	{"ethnicity", false, "An ONS 2021 census category, as its code (e.g. white_british, black_caribbean, asian_indian) or its words (e.g. Caribbean); prefer_not_to_say."},
	{"disability", false, "yes, no or prefer_not_to_say."},
	{"first_language", false, "The person's first language, in words (e.g. English, Polish, Urdu)."},
	{"setting", false, "Where the episode is: community, acute_ward, secure_ward, crisis, camhs_transition, partner or peer_group. Blank: the team's setting."},
	{"preferred_name", false, "Optional: what the person likes to be called, so staff can find them in Mutual."},
}

// Column describes one caseload file column.
type Column struct {
	Name        string
	Required    bool
	Description string
}

// Episode is one caseload episode: one person on one co-ordinator's
// caseload in one team for a time.
type Episode struct {
	PersonRef        string `json:"person_ref" required:"true" doc:"The person's identifier in the trust's record."`
	Team             string `json:"team" required:"true" doc:"The team's name in Mutual."`
	CoordinatorEmail string `json:"coordinator_email" required:"true"`
	StartDate        string `json:"start_date" required:"true" doc:"YYYY-MM-DD"`
	EndDate          string `json:"end_date,omitempty" doc:"YYYY-MM-DD; empty while the episode is open."`
	BirthYear        int    `json:"birth_year,omitempty"`
	Gender           string `json:"gender,omitempty"`
	Ethnicity        string `json:"ethnicity,omitempty"`
	Disability       string `json:"disability,omitempty"`
	FirstLanguage    string `json:"first_language,omitempty"`
	Setting          string `json:"setting,omitempty"`
	PreferredName    string `json:"preferred_name,omitempty"`
}

// RowProblem is one problem with one row of an import.
type RowProblem struct {
	Row     int    `json:"row"` // the line number in the file (header is line 1), or the index+1 in a batch
	Column  string `json:"column"`
	Message string `json:"message"`
}

// ImportReport says what an import did.
type ImportReport struct {
	Rows      int          `json:"rows"`
	Valid     int          `json:"valid"`
	Invalid   int          `json:"invalid"`
	Inserted  int          `json:"inserted"`
	Updated   int          `json:"updated"`
	Unchanged int          `json:"unchanged"`
	Imported  bool         `json:"imported"`
	Problems  []RowProblem `json:"problems"`
	// MoreProblems counts problems beyond those listed.
	MoreProblems int `json:"more_problems"`
}

const maxListedProblems = 200

func (r *ImportReport) problem(row int, col, msg string) {
	if len(r.Problems) < maxListedProblems {
		r.Problems = append(r.Problems, RowProblem{Row: row, Column: col, Message: msg})
	} else {
		r.MoreProblems++
	}
}

// episode is a validated row ready to store.
type episode struct {
	ref, email, gender, ethnicity, disability, language, setting, name string
	teamID                                                             int64
	start                                                              time.Time
	end                                                                *time.Time
	birthYear                                                          int
	dupCoordinator, dupTeam                                            bool // set as it is stored (markDuplicates)
}

type validator struct {
	teams map[string]account.Team
	now   time.Time
}

func (s *Service) newValidator(ctx context.Context) (*validator, error) {
	v := &validator{teams: map[string]account.Team{}, now: s.Clock.Now()}
	rows, err := s.DB.Query(ctx, "SELECT id, name, setting FROM teams")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t account.Team
		if err := rows.Scan(&t.ID, &t.Name, &t.Setting); err != nil {
			return nil, err
		}
		v.teams[strings.ToLower(t.Name)] = t
	}
	return v, rows.Err()
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// check validates one episode, adding problems for row; ok reports
// whether it can be stored.
func (v *validator) check(e Episode, row int, rep *ImportReport) (episode, bool) {
	before := len(rep.Problems) + rep.MoreProblems
	for _, f := range []struct{ col, v string }{{"person_ref", e.PersonRef}, {"team", e.Team}, {"coordinator_email", e.CoordinatorEmail},
		{"start_date", e.StartDate}, {"end_date", e.EndDate}, {"gender", e.Gender}, {"ethnicity", e.Ethnicity}, {"disability", e.Disability},
		{"first_language", e.FirstLanguage}, {"setting", e.Setting}, {"preferred_name", e.PreferredName}} {
		if msg := app.UnstorableText(f.v); msg != "" {
			rep.problem(row, f.col, "contains "+msg+", which cannot be stored: remove it (a file from a spreadsheet should be saved as CSV UTF-8)")
		}
	}
	if len(rep.Problems)+rep.MoreProblems != before {
		return episode{}, false
	}
	out := episode{ref: strings.TrimSpace(e.PersonRef), name: strings.TrimSpace(e.PreferredName), language: strings.TrimSpace(e.FirstLanguage)}
	switch {
	case out.ref == "":
		rep.problem(row, "person_ref", "is empty: every row needs the person's reference")
	case utf8.RuneCountInString(out.ref) > 64:
		rep.problem(row, "person_ref", "is longer than 64 characters")
	}
	if t, ok := v.teams[strings.ToLower(strings.TrimSpace(e.Team))]; ok {
		out.teamID = t.ID
		out.setting = string(t.Setting)
	} else if strings.TrimSpace(e.Team) == "" {
		rep.problem(row, "team", "is empty")
	} else {
		rep.problem(row, "team", fmt.Sprintf("%s is not a team in Mutual: add it under Administration › Teams, or check the spelling", shown(e.Team)))
	}
	email, msg := account.NormaliseEmail(e.CoordinatorEmail)
	if msg != "" {
		rep.problem(row, "coordinator_email", app.LowerFirst(msg))
	}
	out.email = email
	if start, ok := parseDate(e.StartDate); !ok {
		rep.problem(row, "start_date", fmt.Sprintf("%s is not a date: use YYYY-MM-DD", shown(e.StartDate)))
	} else if start.After(v.now) {
		rep.problem(row, "start_date", "is in the future")
	} else {
		out.start = start
	}
	if strings.TrimSpace(e.EndDate) != "" {
		if end, ok := parseDate(e.EndDate); !ok {
			rep.problem(row, "end_date", fmt.Sprintf("%s is not a date: use YYYY-MM-DD, or leave it blank while the episode is open", shown(e.EndDate)))
		} else if !out.start.IsZero() && end.Before(out.start) {
			rep.problem(row, "end_date", "is before start_date")
		} else {
			out.end = &end
		}
	}
	if e.BirthYear != 0 && (e.BirthYear < 1900 || e.BirthYear > v.now.Year()) {
		rep.problem(row, "birth_year", fmt.Sprintf("%d is not a plausible year of birth", e.BirthYear))
	}
	out.birthYear = e.BirthYear
	var ok bool
	if out.gender, ok = demographics.Code(demographics.Genders, e.Gender); !ok {
		rep.problem(row, "gender", fmt.Sprintf("%s is not one of woman, man, non_binary, self_described, prefer_not_to_say", shown(e.Gender)))
	}
	if out.ethnicity, ok = demographics.EthnicityCode(e.Ethnicity); !ok {
		rep.problem(row, "ethnicity", fmt.Sprintf("%s is not an ONS 2021 ethnic group (see the column notes)", shown(e.Ethnicity)))
	}
	if out.disability, ok = demographics.Code(demographics.Disabilities, e.Disability); !ok {
		rep.problem(row, "disability", fmt.Sprintf("%s is not yes, no or prefer_not_to_say", shown(e.Disability)))
	}
	if st := strings.TrimSpace(e.Setting); st != "" {
		found := false
		for _, s := range account.Settings {
			if strings.EqualFold(st, string(s)) || strings.EqualFold(st, s.Label()) {
				out.setting, found = string(s), true
			}
		}
		if !found {
			rep.problem(row, "setting", fmt.Sprintf("%s is not a setting (community, acute_ward, secure_ward, crisis, camhs_transition, partner, peer_group)", shown(e.Setting)))
		}
	}
	if utf8.RuneCountInString(out.language) > 60 {
		rep.problem(row, "first_language", "is longer than 60 characters")
	}
	if utf8.RuneCountInString(out.name) > 100 {
		rep.problem(row, "preferred_name", "is longer than 100 characters")
	}
	return out, len(rep.Problems)+rep.MoreProblems == before
}

// ImportOptions control an import.
type ImportOptions struct {
	// ValidRowsOnly imports the valid rows of a file that has problems;
	// without it, a file with any problem imports nothing.
	ValidRowsOnly bool
}

// ImportCSV imports a caseload file in two passes over src (so it must be
// seekable): first every row is validated and problems are reported with
// their line and column; then, if there were none (or ValidRowsOnly is
// set), rows are stored in batches. Memory use does not grow with the
// file. Re-importing the same file changes nothing. A file that cannot be
// read as CSV at all is a validation error naming the line; a malformed row
// is a problem reported against its line.
func (s *Service) ImportCSV(ctx context.Context, actor app.Actor, src io.ReadSeeker, o ImportOptions) (ImportReport, error) {
	var rep ImportReport
	v, err := s.newValidator(ctx)
	if err != nil {
		return rep, err
	}
	if err := readCSV(src, &rep, func(e Episode, line int) (bool, error) {
		_, ok := v.check(e, line, &rep)
		return ok, nil
	}); err != nil {
		return rep, err
	}
	if rep.Rows == 0 {
		return rep, app.Invalid(app.FieldError{Field: "file", Message: "The file has a header row but no rows to import"})
	}
	if rep.Invalid > 0 && !o.ValidRowsOnly {
		return rep, nil
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return rep, err
	}
	var discard ImportReport
	if err := s.storeAll(ctx, &rep, func(add func(episode) error) error {
		return readCSV(src, &discard, func(e Episode, line int) (bool, error) {
			ep, ok := v.check(e, line, &discard)
			if !ok {
				return false, nil
			}
			return true, add(ep)
		})
	}); err != nil {
		return rep, err
	}
	if rep.Inserted > 10000 {
		// A big import changes the tables' shape: refresh the planner's view.
		if err := s.DB.AnalyzeAfterLoad(ctx, importedTables...); err != nil {
			return rep, err
		}
	}
	rep.Imported = true
	return rep, s.finish(ctx, actor, rep)
}

// ImportEpisodes imports a batch of episodes (the API). Rows are checked
// first; with any problem nothing is stored unless ValidRowsOnly is set.
func (s *Service) ImportEpisodes(ctx context.Context, actor app.Actor, eps []Episode, o ImportOptions) (ImportReport, error) {
	var rep ImportReport
	if len(eps) == 0 {
		return rep, app.Invalid(app.FieldError{Field: "episodes", Message: "Send at least one episode"})
	}
	if len(eps) > MaxBatch {
		return rep, app.Invalid(app.FieldError{Field: "episodes", Message: fmt.Sprintf("Send at most %d episodes per request", MaxBatch)})
	}
	v, err := s.newValidator(ctx)
	if err != nil {
		return rep, err
	}
	valid := make([]episode, 0, len(eps))
	for i, e := range eps {
		rep.Rows++
		if ep, ok := v.check(e, i+1, &rep); ok {
			rep.Valid++
			valid = append(valid, ep)
		} else {
			rep.Invalid++
		}
	}
	if rep.Invalid > 0 && !o.ValidRowsOnly {
		return rep, nil
	}
	if err := s.storeAll(ctx, &rep, func(add func(episode) error) error {
		for _, e := range valid {
			if err := add(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return rep, err
	}
	rep.Imported = true
	return rep, s.finish(ctx, actor, rep)
}

// importedTables are the tables an import changes in bulk, whose planner
// statistics are refreshed as it grows and after it: its own, the people it
// adds or corrects, and the referrals and offers whose on-caseload flags it
// refreshes. Not the whole database: on SQLite that would read every index
// of tables an import never touches, the audit log above all.
var importedTables = []string{"caseload_episodes", "caseload_spans", "caseload_span_counts", "caseload_gap_counts", "caseload_rollup",
	"people", "referrals", "offers"}

// storeAll stores the rows feed adds, in batches (see importBatch), while
// feed goes on reading and checking the next rows. On SQLite, which has one
// writer, batches are stored one after another. On PostgreSQL an import
// waits for any other to finish (store.LockCaseloadImport), then stores
// importWorkers batches at once, each in its own transaction: each
// person's rows always go to the same worker (by their reference, in the
// file's order), so batches at once share no person but one: the person
// of an episode found by a reference they no longer hold, whom a batch
// locks before it refreshes their flags or recounts them (lockPeople).
// Otherwise they take turns only at the roll-up's and the span counts'
// rows as they commit. One PostgreSQL connection stored at about one
// processor's pace while the others stood idle. The tables' statistics are refreshed as they grow (at
// 5,000 rows stored, then each time that doubles), so a file several times
// the size of what is already held is not planned as a small table.
func (s *Service) storeAll(ctx context.Context, rep *ImportReport, feed func(add func(episode) error) error) error {
	size := importBatch(s.DB.Dialect)
	var mu sync.Mutex // guards stored and next
	stored, next := 0, 5000
	analyze := func(added int) error {
		mu.Lock()
		defer mu.Unlock()
		if stored += added; stored >= next {
			next = 2 * stored
			return s.DB.AnalyzeTables(ctx, importedTables...)
		}
		return nil
	}
	return s.DB.Holding(ctx, store.LockCaseloadImport, func() error {
		n := importWorkers(s.DB.Dialect)
		g, gctx := errgroup.WithContext(ctx)
		work, reps, parts := make([]chan []episode, n), make([]ImportReport, n), make([][]episode, n)
		for i := range n {
			work[i] = make(chan []episode)
			g.Go(func() error {
				return app.Recovered(func() error {
					for batch := range work[i] {
						before := reps[i].Inserted + reps[i].Updated
						if err := s.store(gctx, batch, &reps[i]); err != nil {
							return err
						}
						if err := analyze(reps[i].Inserted + reps[i].Updated - before); err != nil {
							return err
						}
					}
					return nil
				})
			})
		}
		send := func(i int) error {
			select {
			case work[i] <- parts[i]:
				parts[i] = make([]episode, 0, size)
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		seed := maphash.MakeSeed()
		err := feed(func(e episode) error {
			i := int(maphash.String(seed, e.ref) % uint64(n))
			if parts[i] = append(parts[i], e); len(parts[i]) == size {
				return send(i)
			}
			return nil
		})
		for i := range parts {
			if err == nil && len(parts[i]) > 0 {
				err = send(i)
			}
			close(work[i])
		}
		// A worker's error is the cause of any the feed saw after it.
		if werr := g.Wait(); werr != nil {
			err = werr
		}
		for _, r := range reps {
			rep.Inserted, rep.Updated, rep.Unchanged = rep.Inserted+r.Inserted, rep.Updated+r.Updated, rep.Unchanged+r.Unchanged
		}
		return err
	})
}

// importWorkers is how many batches an import stores at once: on
// PostgreSQL one per processor of this instance, two to four; on SQLite,
// which has one writer, one (the rows are still read and checked while the
// batch before them is stored).
func importWorkers(d store.Dialect) int {
	if d != store.Postgres {
		return 1
	}
	return min(max(runtime.NumCPU(), 2), 4)
}

// finish leaves the roll-up counting every episode (each batch kept it up
// to date if it was built; if it was not, it is counted now, after the
// import, never on a reader's request) and records the import.
func (s *Service) finish(ctx context.Context, actor app.Actor, rep ImportReport) error {
	if err := s.rebuildRollupIfStale(ctx); err != nil {
		return err
	}
	return s.DB.Write(ctx, func(tx *store.Tx) error {
		return audit.Record(ctx, tx, s.Clock.Now(), actor, audit.Event{Action: "caseload.import", ObjectType: "caseload",
			ObjectID: fmt.Sprintf("rows=%d inserted=%d updated=%d", rep.Rows, rep.Inserted, rep.Updated)})
	})
}

// MaxBatch is the most episodes one API request may carry.
const MaxBatch = 5000

// importBatch is how many rows an import stores in one transaction. On
// SQLite each commit writes every page the batch touched to the log (and,
// every thousand pages, copies them into the database): a batch's new rows
// land all over the date and co-ordinator indexes, so a commit wrote
// thousands of pages whatever the batch size, and at 1,000 rows commits
// were a quarter of a 500,000-row import. A batch holds the one write lock
// while it is stored, and writers wait for it: 6,000 rows, since spans were
// folded (migration 0060), keep them waiting about as long as 4,000 did
// before (a third of a second, at most about half; see ARCHITECTURE.md).
// PostgreSQL's commits cost little, and larger batches made its lookups
// slower.
func importBatch(d store.Dialect) int {
	if d == store.SQLite {
		return 6000
	}
	return 1000
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// store writes one batch in one transaction, under the caseload lock, with a handful of
// statements whatever the batch size: people are looked up by reference
// and the missing ones created in one statement; existing episodes are
// looked up in one query; new episodes go in one multi-row insert; only
// rows that changed are updated one by one.
//
// Two imports of overlapping files at once would both insert the same new
// people and episodes, or both take the same old end date off the roll-up.
// So only storeAll calls it, holding store.LockCaseloadImport, which keeps
// out every other import, and a batch holds store.LockCaseload shared,
// beside the other batches of its own import (PostgreSQL; SQLite has one
// writer), which hold no person in common with it. A roll-up rebuild holds
// that lock exclusively, so it runs only between batches; under the lock
// each statement sees what the last holder committed.
func (s *Service) store(ctx context.Context, batch []episode, rep *ImportReport) error {
	if len(batch) == 0 {
		return nil
	}
	now := s.Clock.Now()
	// What this batch adds to the report, counted afresh by each attempt:
	// PostgreSQL retries a transaction that met a deadlock or a
	// serialization failure, and a count kept across attempts counted the
	// batch twice (in the report and its audit row).
	var got ImportReport
	fn := func(tx *store.Tx) error {
		got = ImportReport{}
		refs := map[string]*episode{}
		var order []string
		for i := range batch {
			if _, ok := refs[batch[i].ref]; !ok {
				order = append(order, batch[i].ref)
			}
			refs[batch[i].ref] = &batch[i] // the last row wins for characteristics
		}
		recs := make([]person.FromRecord, len(order))
		for i, ref := range order {
			e := refs[ref]
			recs[i] = person.FromRecord{TrustRef: ref, PreferredName: e.name, BirthYear: e.birthYear, Gender: e.gender,
				Ethnicity: e.ethnicity, Disability: e.disability, FirstLanguage: e.language}
		}
		people, created, err := person.UpsertFromRecord(ctx, tx, recs, now)
		if err != nil {
			return err
		}
		// The people created just now have no episodes, spans, referrals
		// or offers to look up: their facts are this batch's.
		ids, heldIDs := make([]int64, 0, len(people)), make([]int64, 0, len(people)-len(created))
		createdFacts := map[int64]*personFacts{}
		for _, ref := range order {
			id := people[ref]
			ids = append(ids, id)
			if !created[ref] {
				heldIDs = append(heldIDs, id)
				continue
			}
			e := refs[ref]
			createdFacts[id] = &personFacts{traits: traits{birthYear: e.birthYear, gender: e.gender, ethnicity: e.ethnicity,
				disability: e.disability, language: e.language}}
		}
		existing, held, err := findEpisodes(ctx, tx, order, heldIDs)
		if err != nil {
			return err
		}
		delta := rollupDelta{}
		var touched []int64
		var fresh []episode
		seen := map[episodeKey]bool{}
		for _, e := range batch {
			k := episodeKey{e.ref, e.teamID, e.email, e.start.Format("2006-01-02")}
			if seen[k] {
				got.Unchanged++ // the same episode twice in one file
				continue
			}
			seen[k] = true
			old, ok := existing[k]
			switch {
			case !ok:
				fresh = append(fresh, e)
			case old.same(e):
				got.Unchanged++
			default:
				// The episode stays its person's: the one it was imported
				// for, who may no longer hold its reference (staff
				// corrected the record). Theirs are the flags and the spans
				// it changes.
				if old.person != people[e.ref] {
					ids = append(ids, old.person)
				}
				if !sameDate(old.end, e.end) {
					delta.add(episode{email: e.email, teamID: e.teamID, end: old.end}, 0, -1)
					delta.add(e, 0, 1)
					touched = append(touched, old.person)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE caseload_episodes SET end_date = $1, birth_year = $2, gender = $3, ethnicity = $4,
					disability = $5, first_language = $6, setting = $7, imported_at = $8 WHERE id = $9`,
					nullTime(e.end), nullInt(e.birthYear), e.gender, e.ethnicity, e.disability, e.language, e.setting, now, old.id); err != nil {
					return err
				}
				got.Updated++
			}
		}
		flagged, err := markDuplicates(ctx, tx, held, fresh, people)
		if err != nil {
			return err
		}
		// In date order: the date indexes' new entries then come together,
		// each statement adding to a few pages of them rather than one
		// page a row (each page a statement changes is copied aside first,
		// so that a failed statement can be undone). A 500,000-row import
		// on SQLite stored its episodes in 11 s instead of 14.
		slices.SortStableFunc(flagged, func(a, b episode) int { return a.start.Compare(b.start) })
		users, err := coordinatorUsers(ctx, tx, flagged)
		if err != nil {
			return err
		}
		if err := insertEpisodes(ctx, tx, flagged, people, users, now); err != nil {
			return err
		}
		for _, e := range fresh {
			delta.add(e, 1, 1)
			id := people[e.ref]
			if f := createdFacts[id]; f != nil {
				ep := episodeFact{team: e.teamID, setting: e.setting, start: day(e.start)}
				if e.end != nil {
					ep.end = day(*e.end)
				}
				f.episodes = append(f.episodes, ep)
				continue // nothing of theirs to flag
			}
			touched = append(touched, id)
		}
		got.Inserted += len(fresh)
		// Until the roll-up is built there is nothing to keep: its build
		// counts these episodes and refreshes every person's flags.
		built, err := rollupBuilt(ctx, tx)
		if err != nil {
			return err
		}
		if built {
			// Locked first: an episode found by a reference its person no
			// longer holds may be theirs while another batch at once
			// (PostgreSQL) holds their new reference; its flags, worked out
			// in one statement's snapshot, would otherwise be written over
			// with the other batch's stale view.
			if err := lockPeople(ctx, tx, touched); err != nil {
				return err
			}
			if err := s.refreshFlags(ctx, tx, touched); err != nil {
				return err
			}
		}
		// Every person in the batch (their characteristics may have changed
		// even where their episodes did not), and the people of episodes
		// found by a reference they no longer hold.
		if err := recount(ctx, tx, ids, createdFacts); err != nil {
			return err
		}
		if !built {
			return nil
		}
		return applyDelta(ctx, tx, delta)
	}
	if err := s.DB.Shared(ctx, store.LockCaseload, fn); err != nil {
		return err
	}
	rep.Inserted, rep.Updated, rep.Unchanged = rep.Inserted+got.Inserted, rep.Updated+got.Updated, rep.Unchanged+got.Unchanged
	return nil
}

type episodeKey struct {
	ref   string
	team  int64
	email string
	start string
}

type episodeRow struct {
	id, person                                       int64 // person: whose it is, whoever holds its reference now
	end                                              *time.Time
	birthYear                                        int
	gender, ethnicity, disability, language, setting string
}

func (o episodeRow) same(e episode) bool {
	return sameDate(o.end, e.end) && o.birthYear == e.birthYear && o.gender == e.gender && o.ethnicity == e.ethnicity &&
		o.disability == e.disability && o.language == e.language && o.setting == e.setting
}

// findEpisodes reads the episodes already held under the batch's
// references (keyed as the file names them, for updating) and every
// episode of the batch's people (for the duplicate flags, which count a
// person's episodes whatever reference they came under).
func findEpisodes(ctx context.Context, tx *store.Tx, refs []string, persons []int64) (map[episodeKey]episodeRow, []heldEpisode, error) {
	out := map[episodeKey]episodeRow{}
	ofBatch, named := make(map[int64]bool, len(persons)), make(map[string]bool, len(refs))
	for _, id := range persons {
		ofBatch[id] = true
	}
	for _, ref := range refs {
		named[ref] = true
	}
	var held []heldEpisode
	// Two lookups, each by its own index, rather than one with OR; an
	// episode found by both is read twice and kept once.
	const cols = `SELECT id, person_id, person_ref, team_id, coordinator_email, start_date, end_date, COALESCE(birth_year, 0),
		gender, ethnicity, disability, first_language, setting, dup_coordinator, dup_team FROM caseload_episodes`
	a := store.NewArgs()
	rows, err := tx.QueryContext(ctx, cols+` WHERE person_ref IN `+store.In(a, refs...)+` UNION ALL `+cols+` WHERE person_id IN `+
		a.IDs(tx.Dialect, persons), a.Values()...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	read := map[int64]bool{}
	for rows.Next() {
		var k episodeKey
		var r episodeRow
		var h heldEpisode
		var start time.Time
		if err := rows.Scan(&r.id, &h.person, &k.ref, &k.team, &k.email, &start, &r.end, &r.birthYear, &r.gender, &r.ethnicity, &r.disability,
			&r.language, &r.setting, &h.dupCoordinator, &h.dupTeam); err != nil {
			return nil, nil, err
		}
		k.start = start.UTC().Format("2006-01-02")
		r.person = h.person
		if read[r.id] {
			continue
		}
		read[r.id] = true
		if named[k.ref] {
			out[k] = r
		}
		if ofBatch[h.person] {
			h.id, h.team, h.email = r.id, k.team, k.email
			held = append(held, h)
		}
	}
	return out, held, rows.Err()
}

// heldEpisode is what the duplicate flags need of an episode already held.
type heldEpisode struct {
	id, person, team        int64
	email                   string
	dupCoordinator, dupTeam bool
}

// markDuplicates sets the duplicate flags (see rollup.go) as episodes are
// stored, rather than by a query over the table afterwards: an episode is
// flagged when its person has another episode of the same co-ordinator
// (team). It returns the new episodes with their flags, for inserting, and
// flags the held episodes that a new one has made duplicates.
func markDuplicates(ctx context.Context, tx *store.Tx, held []heldEpisode, fresh []episode, people map[string]int64) ([]episode, error) {
	type byCoordinator struct {
		person int64
		email  string
	}
	type byTeam struct{ person, team int64 }
	coordinators, teams := map[byCoordinator]int{}, map[byTeam]int{}
	for _, h := range held {
		coordinators[byCoordinator{h.person, h.email}]++
		teams[byTeam{h.person, h.team}]++
	}
	for _, e := range fresh {
		coordinators[byCoordinator{people[e.ref], e.email}]++
		teams[byTeam{people[e.ref], e.teamID}]++
	}
	out := make([]episode, len(fresh))
	for i, e := range fresh {
		e.dupCoordinator = coordinators[byCoordinator{people[e.ref], e.email}] > 1
		e.dupTeam = teams[byTeam{people[e.ref], e.teamID}] > 1
		out[i] = e
	}
	var coordinatorIDs, teamIDs []int64
	for _, h := range held {
		if !h.dupCoordinator && coordinators[byCoordinator{h.person, h.email}] > 1 {
			coordinatorIDs = append(coordinatorIDs, h.id)
		}
		if !h.dupTeam && teams[byTeam{h.person, h.team}] > 1 {
			teamIDs = append(teamIDs, h.id)
		}
	}
	for _, u := range []struct {
		column string
		ids    []int64
	}{{"dup_coordinator", coordinatorIDs}, {"dup_team", teamIDs}} {
		if len(u.ids) == 0 {
			continue
		}
		a := store.NewArgs()
		if _, err := tx.ExecContext(ctx, "UPDATE caseload_episodes SET "+u.column+" = TRUE WHERE id IN "+a.IDs(tx.Dialect, u.ids), a.Values()...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rowsPerStatement is how many episodes one multi-row statement inserts
// on SQLite: as person.recordRowsPerStatement, longer statements cost less
// now that SQLite is given plain ? (store.positional). At 400 a row no
// faster than at 160.
const rowsPerStatement = 160

// coordinatorUsers finds the accounts of the batch's co-ordinators, by
// email, in one query (each row looked its own up, a fifth of the time
// PostgreSQL took to insert an episode).
func coordinatorUsers(ctx context.Context, tx *store.Tx, eps []episode) (map[string]int64, error) {
	emails := make([]string, 0, len(eps))
	for _, e := range eps {
		emails = append(emails, e.email)
	}
	slices.Sort(emails)
	emails = slices.Compact(emails)
	users := map[string]int64{}
	for len(emails) > 0 {
		n := min(len(emails), 500)
		a := store.NewArgs()
		rows, err := tx.QueryContext(ctx, "SELECT id, email FROM users WHERE email IN "+store.In(a, emails[:n]...), a.Values()...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return nil, err
			}
			users[email] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		emails = emails[n:]
	}
	return users, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func insertEpisodes(ctx context.Context, tx *store.Tx, eps []episode, people, users map[string]int64, now time.Time) error {
	if tx.Dialect == store.Postgres {
		return insertEpisodesPG(ctx, tx, eps, people, users, now)
	}
	for len(eps) > rowsPerStatement {
		if err := insertEpisodes(ctx, tx, eps[:rowsPerStatement], people, users, now); err != nil {
			return err
		}
		eps = eps[rowsPerStatement:]
	}
	if len(eps) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, coordinator_user_id, start_date,
		end_date, birth_year, gender, ethnicity, disability, first_language, setting, imported_at, dup_coordinator, dup_team) VALUES `)
	a := store.NewArgs()
	for i, e := range eps {
		if i > 0 {
			b.WriteString(", ")
		}
		ph := make([]string, 0, 16)
		for _, v := range []any{people[e.ref], e.ref, e.teamID, e.email, nullID(users[e.email]), e.start, nullTime(e.end), nullInt(e.birthYear),
			e.gender, e.ethnicity, e.disability, e.language, e.setting, now, e.dupCoordinator, e.dupTeam} {
			ph = append(ph, a.Add(v))
		}
		b.WriteString("(" + strings.Join(ph, ", ") + ")")
	}
	_, err := tx.ExecContext(ctx, b.String(), a.Values()...)
	return err
}

// insertEpisodesPG inserts a batch in one statement on PostgreSQL, each
// column passed as an array: a quarter of the time of multi-row VALUES,
// which PostgreSQL parses and plans afresh for every 40 rows.
func insertEpisodesPG(ctx context.Context, tx *store.Tx, eps []episode, people, users map[string]int64, now time.Time) error {
	if len(eps) == 0 {
		return nil
	}
	n := len(eps)
	var (
		pids, teams                                             = make([]int64, n), make([]int64, n)
		coordinators                                            = make([]*int64, n)
		refs, emails, genders, ethnicities, disabilities, langs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		settings                                                = make([]string, n)
		starts                                                  = make([]time.Time, n)
		ends                                                    = make([]*time.Time, n)
		years                                                   = make([]*int64, n)
		dupCoordinators, dupTeams                               = make([]bool, n), make([]bool, n)
	)
	for i, e := range eps {
		pids[i], teams[i], refs[i], emails[i] = people[e.ref], e.teamID, e.ref, e.email
		genders[i], ethnicities[i], disabilities[i], langs[i], settings[i] = e.gender, e.ethnicity, e.disability, e.language, e.setting
		starts[i], ends[i] = e.start, e.end
		if e.birthYear != 0 {
			y := int64(e.birthYear)
			years[i] = &y
		}
		dupCoordinators[i], dupTeams[i] = e.dupCoordinator, e.dupTeam
		if id, ok := users[e.email]; ok {
			coordinators[i] = &id
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO caseload_episodes (person_id, person_ref, team_id, coordinator_email, coordinator_user_id,
		start_date, end_date, birth_year, gender, ethnicity, disability, first_language, setting, imported_at, dup_coordinator, dup_team)
		SELECT x.p, x.r, x.t, x.e, x.u, x.s, x.en, x.b, x.g, x.et, x.d, x.l, x.st, $14, x.dc, x.dt
		FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::date[], $6::date[], $7::int[], $8::text[], $9::text[],
			$10::text[], $11::text[], $12::text[], $13::boolean[], $15::boolean[], $16::bigint[]) AS x (p, r, t, e, s, en, b, g, et, d, l, st, dc, dt, u)`,
		pids, refs, teams, emails, starts, ends, years, genders, ethnicities, disabilities, langs, settings, dupCoordinators, now, dupTeams, coordinators)
	return err
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Format("2006-01-02") == b.Format("2006-01-02")
}

// Template is a caseload file with the header and two example rows.
func Template() string {
	var names []string
	for _, c := range Columns {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",") + "\r\n" +
		"RX1234567,North Community Mental Health Team,priya.shah@example.nhs.uk,2026-01-15,,1988,woman,black_caribbean,no,English,community,Sam\r\n" +
		"RX7654321,North Community Mental Health Team,priya.shah@example.nhs.uk,2025-06-02,2026-03-30,1971,man,white_british,yes,English,,\r\n"
}
