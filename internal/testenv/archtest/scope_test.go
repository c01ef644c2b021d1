// Package archtest holds tests of the code's shape: rules that keep every
// capability honest as it grows, checked by reading the source.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// personTables are the tables that hold people's data (or say who is on
// whose list). A query that reads them must be bounded by the caller's
// scope.
var personTables = regexp.MustCompile(`(?i)\b(FROM|JOIN)\s+(people|referrals|offers|contacts|referral_events|notifications|caseload_episodes|` +
	`person_changes|data_requests|group_bookings|group_booking_events|group_offers|group_attendance|` +
	`choice_profiles|allocation_matches|unmet_choices|worker_exclusions|alerts|` +
	`recovery_plans|recovery_plan_versions|recovery_goals|recovery_goal_steps|dialog_sessions|dialog_ratings|dialog_discussions|recovery_reviews|feedback|feedback_events|appointments)\b`)

// unscopedReaders are the functions allowed to read person tables without
// being given the caller, each with the reason it is safe. Keep this list
// short: a new entry needs a reason a reviewer would accept. Everything
// else that reads a person table takes *app.Principal.
var unscopedReaders = map[string]string{
	// Loads by an id the caller was checked to see in the same transaction.
	"referral.(*Service).history":       "a referral's history, after visibleReferral in the same transaction",
	"referral.(*Service).contactsWhere": "contacts under a condition each caller bounds: a referral after visibleReferral, a contact after visibleContact, a person's contacts by access.Referrals, or a person's copy",
	"referral.(*Service).contactsCopy":  "a person's copy (person.Holder): what they may read; restricted notes only in a staff subject access copy, bounded by access.RestrictedNotes for that member of staff",
	"referral.caseloadFor":              "a person's open caseload episodes, after visiblePerson in the same transaction",
	"referral.addToRollup":              "the support roll-up: counts per referral, worker and month of contacts the caller has just written (after visibleReferral or visibleContact) or of every contact (a rebuild), returning nothing",
	"referral.addToTeamDays":            "the support roll-up: counts per team and day, as addToRollup, returning nothing",
	// The holder of a one-time claim is the person it was made for.
	"person.spendClaim": "locks the claimed person's row; the claim's holder gets only the id",
	"person.Holds":      "counts only: whether an account's own record holds anything before it is swapped for a claimed one",
	"person.ChangesOf":  "a person's contact-detail changes, after Visible (or for the person themselves) in the same transaction",
	// Data rights: a person's copy of their data and the retention job. The
	// data-rights service decides who may ask (the person, or staff who may
	// see them, with a reason) before any holder is called; the retention
	// job is the operator's and returns counts only.
	"person.RecordsOf":                    "the ids of a person's records, for their copy or for forgetting them",
	"person.(*Service).Export":            "data rights: the person's own copy, after the caller was checked",
	"person.(*Service).Forget":            "retention: deletes; returns nothing",
	"referral.(*Service).personReferrals": "data rights: every referral of a person, for their copy or for forgetting them",
	"referral.(*Service).Export":          "data rights: the person's own copy, after the caller was checked",
	"referral.(*Service).LastActivity":    "retention: a time, no one's data",
	"referral.(*Service).Forget":          "retention: deletes; returns nothing",
	"notify.OfUser":                       "data rights: an account's own notifications, for the copy of the person the account is joined to",
	"notify.(*Service).ForgetReferrals":   "retention: deletes; returns nothing",
	"notify.(*Service).ForgetUser":        "retention: deletes; returns nothing",
	"datarights.(*Service).Export":        "data rights: the copies made of a person's data, for their own copy",
	"datarights.(*Service).LastActivity":  "retention: a time, no one's data",
	"datarights.(*Service).Forget":        "retention: deletes; returns nothing",
	"datarights.(*Service).Retain":        "retention: the ids of people to check; returns counts only",
	"datarights.(*Service).retainOne":     "retention: one person's ids and times, under their lock; returns what became of them",
	"person.(*Service).LastActivity":      "retention: a time, no one's data",
	"account.(*Service).LockBeforePerson": "retention: locks the person's accounts before the person; returns nothing",
	// Reads that return no one's data.
	"referral.RefreshCaseloadFlags":     "updates flags; returns nothing",
	"referral.(*Service).EstimateWait":  "aggregate: median and 90th percentile days",
	"insight.(*Service).rateCounts":     "aggregate counts, suppressed before they are shown",
	"insight.offerDates":                "input to aggregate coverage, never shown per person",
	"insight.unitCounts":                "aggregate counts for the roll-up",
	"insight.(*Service).tallyWaits":     "part of the waiting times' aggregate counts (each wait read only for the medians, never shown), for WaitingTimes, which is given the caller",
	"insight.directUnitCounts":          "aggregate counts while the roll-up is not built",
	"insight.directSupportCounts":       "the support report's aggregate counts (per person only for medians, never shown), while the support roll-up is not built",
	"insight.rollupSupportCounts":       "the support report's aggregate counts (per person only for medians, never shown), from the support roll-up",
	"insight.teamDayTotals":             "the support report's aggregate totals: team days and part-days, never per person",
	"caseload.(*Service).rebuildRollup": "aggregate: recounts the roll-up; returns nothing",
	"caseload.flagDuplicates":           "import: marks repeated episodes; returns nothing",
	"caseload.lockPeople":               "locks the people an import or Recount is about to recount or refresh the flags of, inside that transaction, and returns nothing",
	"person.lockReferralsOf":            "locks the referrals of the people an import is changing, inside the import's transaction, and returns nothing",
	"caseload.loadFacts":                "input to the caseload spans, never returned beyond the package",
	"caseload.buildSpansChunk":          "aggregate: counts a chunk of people's caseload spans; returns nothing",
	"caseload.findEpisodes":             "import: the episodes a file replaces",
	"person.UpsertFromRecord":           "import: matches the trust record's rows to people by reference; returns ids only",
	// Groups: loaders inside a change or read that checked the caller in
	// the same transaction (bookingOwner, leads or mayRun), under the
	// session's lock.
	"groups.loadContact":    "a booking's contact for a change the caller was checked to make, in the same transaction",
	"groups.waitingEntries": "a locked session's waiting list (ids, positions, places) for the fairness rules; returns no one's details",
	"groups.leaveList":      "takes a booking the caller was checked to act on off a locked session's list",
	"groups.liveBookings":   "the ids of a locked session's live bookings, for telling them of a change the caller was checked to make",
	"groups.lockComing":     "aggregate: how many wait at each coming session of a group the caller was checked to lead, in the same transaction",
	"groups.offerOf":        "a booking's open offer, for the participants list after mayRun",
	"groups.recentRecord":   "counts of a participant's no-shows and late cancellations at this group only, for the participants list after mayRun",
	// Groups: counts only.
	"groups.(*Service).sessionsOf":     "aggregate: places left and how many are waiting, per session",
	"groups.(*Service).publicSessions": "aggregate: places left and how many are waiting, for the public feeds",
	// The data-rights service asks each holder for one person's data.
	"groups.(Holder).Export":       "person.Holder: one person's own copy, asked for by the data-rights service",
	"groups.(Holder).LastActivity": "person.Holder: retention, for the data-rights service",
	"groups.(Holder).Forget":       "person.Holder: retention, for the data-rights service",
	// Matching: loaders called after the caller was checked to see the
	// person or referral (or for the caller's own record), and counts.
	"matching.choiceVersions":        "a person's choices, after MaySeePerson, for the caller's own record, or for a referral being allocated, in the same transaction",
	"matching.PreferencesOfPeople":   "where and when people chose to meet, wired into support, which passes only people it read within the caller's scope in the same transaction (my people: access.Referrals; a booking: MaySeePerson)",
	"matching.personOrgs":            "the organisations whose theme lists a person chooses from, after MaySeePerson or for the caller's own record",
	"matching.excludedBy":            "ids of workers a person asked not to have, for a referral the caller was checked to see",
	"matching.previousWorker":        "a worker id only (to rank that worker first), for a referral the caller was checked to see",
	"matching.peopleFacts":           "choices, exclusions and earlier workers (ids) of the people of a waiting list the caller was checked to see",
	"matching.lastMatch":             "what the allocation just made in this transaction met",
	"matching.loadWorkers":           "counts how many people are allocated to each worker; returns no one's data",
	"matching.(*Service).shortlist":  "fills in the shortlist of a referral MatchesFor checked the caller leads and sees, in the same transaction",
	"matching.(Holder).Export":       "data rights: a person's copy, for a person the data-rights service authorised",
	"matching.(Holder).LastActivity": "data rights: retention, a date only",
	"matching.(Holder).Forget":       "data rights: retention deletes the person's rows",
	"alert.(*Service).EscalateDue":   "background job: the ids of due alerts, each then claimed by escalateOne",
	"alert.(*Service).escalateOne":   "background job: tells the service managers an alert's reference, never the person",
	// An alert is raised inside the write that caused it (a referral the
	// caller just made or was checked to see); it answers with that alert.
	"alert.(*Service).Raise": "inside the write of the referral it is about, which the caller made or may see",
	"alert.ForReferral":      "a referral's alerts, after visibleReferral in the same transaction",
	// The data-rights service asks every holder for one person's data; it
	// decides who may ask (the person, or staff making a subject access copy).
	"alert.(Holder).Export":       "data rights: the person's own copy, or a subject access copy the data-rights service authorised",
	"alert.(Holder).LastActivity": "data rights: retention, returns a time",
	"alert.(Holder).Forget":       "data rights: retention deletes the person's alerts; returns nothing",
	// Fragments, not queries: every query built with them adds the caller's
	// scope (access.Referrals).
	"referral.(*Service).where": "a list filter's condition (an open alert: EXISTS over alerts); ListReferrals and Counts add access.Referrals",
	"referral.listOrder":        "an ORDER BY (open alert first); the list it orders is bounded by access.Referrals",
	// Recovery and voice.
	"person.Lock":                             "locks rows by id inside a caller's write after the caller was checked; returns nothing",
	"recovery.AlertConcerns":                  "inside the write of a person's own words (the caller was checked in that transaction): finds their open referral to route the alert; returns ids and a reference",
	"recovery.writeSteps":                     "a write: deletes a goal's steps to write them again, after the goal's person was checked",
	"recovery.(*Service).SendReviewReminders": "background job: tells a person and their worker of the person's own review; returns a count",
	"recovery.(*Service).dialogOutcomes":      "aggregate: means and intervals over people, suppressed below the threshold",
	"recovery.(*Service).YouSaidWeDidFor":     "the public page: suppressed counts and answers published in the team's words (a person's only with their agreement)",
	"recovery.(*Service).PublicTeams":         "the public page's index: team names only",
	"recovery.(*Service).FeedbackByLink":      "the private link's holder is the giver; it shows where their feedback got to, not their words or details",
	"recovery.(Holder).Export":                "data rights: the person's own copy, read as the person (every query bounded by that scope)",
	"recovery.(Holder).LastActivity":          "data rights: the latest date held about a person, for retention; returns a time",
	"recovery.(Holder).Forget":                "data rights: deletes (and clears) a person's data for retention; returns nothing",
	// Support.
	"support.(*Service).Feed":                   "the secret address's holder is the account it was made for: their own appointments, first names only; audited as that account",
	"support.(*Service).sendReminders":          "background job (SendReminders): emails a person about their own appointment as they chose, a reference, the time and a link; returns a count",
	"support.(*Service).RaiseMissedCheckOuts":   "background job: finds visits not checked out and alerts the worker's leads with a visit reference only; returns a count",
	"support.(*Service).RaiseTransitionPrompts": "background job: raises prompts from the trust's record to each person's own worker; returns a count",
	"support.clash":                             "whether a worker is free: returns two times only; every caller (book, FollowMove) has already checked who may book",
	"support.(Holder).Export":                   "data rights: the person's own copy, after the data-rights service checked the caller",
	"support.(Holder).LastActivity":             "data rights: retention, returns a time",
	"support.(Holder).Forget":                   "data rights: retention deletes the person's appointments; returns nothing",
}

// skipPackages are not capabilities: demonstration data and test harnesses.
var skipPackages = map[string]bool{"demo": true, "testenv": true}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod found")
		}
		dir = parent
	}
}

// funcName names a declaration as pkg.Func or pkg.(*Type).Method.
func funcName(pkg string, fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return pkg + "." + fd.Name.Name
	}
	var recv string
	switch t := fd.Recv.List[0].Type.(type) {
	case *ast.StarExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			recv = "(*" + id.Name + ")"
		}
	case *ast.Ident:
		recv = "(" + t.Name + ")"
	}
	return pkg + "." + recv + "." + fd.Name.Name
}

// takesCaller reports whether a function has a *app.Principal parameter.
func takesCaller(fd *ast.FuncDecl) bool {
	for _, f := range fd.Type.Params.List {
		if st, ok := f.Type.(*ast.StarExpr); ok {
			if sel, ok := st.X.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "app" && sel.Sel.Name == "Principal" {
					return true
				}
			}
		}
	}
	return false
}

// constText gathers every package's string constants (joined literals,
// with the constants they are built from filled in), keyed by package
// then name, so a query built from a constant such as referralFrom, or
// from another package's (referral.RiskAlertOpen), is seen.
func constText(pkgs map[string][]*ast.File) map[string]map[string]string {
	exprs := map[string]map[string]ast.Expr{}
	for pkg, files := range pkgs {
		exprs[pkg] = map[string]ast.Expr{}
		for _, f := range files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							exprs[pkg][name.Name] = vs.Values[i]
						}
					}
				}
			}
		}
	}
	out := map[string]map[string]string{}
	var resolve func(pkg, name string, depth int) string
	resolve = func(pkg, name string, depth int) string {
		if s, ok := out[pkg][name]; ok {
			return s
		}
		e, ok := exprs[pkg][name]
		if !ok || depth > 20 {
			return ""
		}
		var b strings.Builder
		ast.Inspect(e, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if x.Kind == token.STRING {
					if s, err := strconv.Unquote(x.Value); err == nil {
						b.WriteString(s)
						b.WriteString(" ")
					}
				}
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok {
					b.WriteString(resolve(id.Name, x.Sel.Name, depth+1))
				}
				return false
			case *ast.Ident:
				b.WriteString(resolve(pkg, x.Name, depth+1))
			}
			return true
		})
		if out[pkg] == nil {
			out[pkg] = map[string]string{}
		}
		out[pkg][name] = b.String()
		return out[pkg][name]
	}
	for pkg, m := range exprs {
		for name := range m {
			resolve(pkg, name, 0)
		}
	}
	return out
}

// readsPersonTables reports whether a function body holds, or uses a
// constant (its package's or another's) holding, a query that reads a
// person table. A field that shares a constant's name (r.RiskAlertOpen)
// is not the constant.
func readsPersonTables(pkg string, body *ast.BlockStmt, consts map[string]map[string]string) bool {
	found := false
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		if found {
			return false
		}
		switch x := n.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				if s, err := strconv.Unquote(x.Value); err == nil && personTables.MatchString(s) {
					found = true
				}
			}
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				found = personTables.MatchString(consts[id.Name][x.Sel.Name]) || personTables.MatchString(consts[pkg][id.Name])
			} else {
				ast.Inspect(x.X, visit)
			}
			return false // x.Sel is a field or method, not a constant
		case *ast.Ident:
			if personTables.MatchString(consts[pkg][x.Name]) {
				found = true
			}
		}
		return !found
	}
	ast.Inspect(body, visit)
	return found
}

// Every query that reads a person's data is bounded by the caller's scope:
// a function that reads a person table takes the caller, or is listed in
// unscopedReaders with the reason it is safe. A new unscoped loader fails
// here until someone decides, in review, that it is safe.
func TestPersonDataReadsTakeTheCaller(t *testing.T) {
	root := filepath.Join(repoRoot(t), "internal")
	used := map[string]bool{}
	var offenders []string
	fset := token.NewFileSet()
	files := map[string][]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if skipPackages[d.Name()] {
			return filepath.SkipDir
		}
		pkgs, err := parser.ParseDir(fset, path, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			return err
		}
		for name, pkg := range pkgs {
			for _, f := range pkg.Files {
				files[name] = append(files[name], f)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	consts := constText(files)
	for name, fs := range files {
		for _, f := range fs {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil || !readsPersonTables(name, fd.Body, consts) {
					continue
				}
				fn := funcName(name, fd)
				if _, ok := unscopedReaders[fn]; ok {
					used[fn] = true
					continue
				}
				if !takesCaller(fd) {
					offenders = append(offenders, fn+" ("+fset.Position(fd.Pos()).String()+")")
				}
			}
		}
	}
	sort.Strings(offenders)
	for _, o := range offenders {
		t.Errorf("%s reads a person table without being given the caller: pass *app.Principal and bound the query by the caller's scope, "+
			"or add it to unscopedReaders with the reason it is safe", o)
	}
	for fn := range unscopedReaders {
		if !used[fn] {
			t.Errorf("unscopedReaders lists %s, which no longer reads a person table: remove it", fn)
		}
	}
}
