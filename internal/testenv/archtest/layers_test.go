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

const module = "github.com/mutualhq/mutual/"

// layers places every package. A package may import packages of lower
// layers only: nothing sideways or upwards, except the pairs in sideways.
// docs/ARCHITECTURE.md describes the same layers in words.
var layers = map[string]int{
	// 0 foundation: plain values and the database.
	"internal/app": 0, "internal/store": 0, "internal/memo": 0, "internal/demographics": 0, "internal/insight/stats": 0,
	"internal/csvexport": 0, "internal/matching/stable": 0,
	// 1 the trail and plumbing every capability uses.
	"internal/audit": 1, "internal/mail": 1, "internal/ratelimit": 1, "internal/web/ui": 1, "internal/calendar": 1,
	// 2 the rules of who sees what, the words of every message, watched
	// words and alerts that wait for a response.
	"internal/access": 2, "internal/notify": 2, "internal/watch": 2, "internal/alert": 2,
	// 3 people.
	"internal/person": 3,
	// 4 accounts, and caseloads from the trust's record.
	"internal/account": 4, "internal/caseload": 4,
	// 5 every door in.
	"internal/referral": 5,
	// 6 what happens after the door.
	"internal/matching": 6, "internal/support": 6, "internal/recovery": 6, "internal/groups": 6, "internal/community": 6,
	"internal/workforce": 6,
	// 7 views across capabilities.
	"internal/insight": 7, "internal/fhir": 7, "internal/datarights": 7,
	// 8 the HTTP surface.
	"internal/web": 8,
	// 9 demonstration data, told through the services.
	"internal/demo": 9,
	// 10 the binary: configuration and wiring.
	"cmd/mutual": 10,
}

// sideways are imports within a layer, each with its reason.
var sideways = map[[2]string]string{
	{"internal/alert", "internal/access"}:     "who may respond to an alert is a lead of its team: access.LeadsTeam, the one definition",
	{"internal/alert", "internal/notify"}:     "an alert tells its duty leads and the service managers, in the same transaction, in notify's words",
	{"internal/caseload", "internal/account"}: "a caseload row names a team and a co-ordinator: account's teams, settings and email rule, the one definition",
}

// testenv are test harnesses: they may import anything, and nothing in
// the product may import them.
var testenv = map[string]bool{"internal/testenv": true}

func isTestenv(pkg string) bool {
	for t := range testenv {
		if pkg == t || strings.HasPrefix(pkg, t+"/") {
			return true
		}
	}
	return false
}

// packageImports lists each package's imports of this module (test files
// excluded), by package path relative to the module.
func packageImports(t *testing.T) map[string][]string {
	t.Helper()
	root := repoRoot(t)
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", "testdata", "data", "bin", "web":
				if path != filepath.Join(root, "internal", "web") {
					if d.Name() == "web" && strings.HasPrefix(path, filepath.Join(root, "internal")) {
						return nil
					}
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if _, ok := out[rel]; !ok {
			out[rel] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) {
				out[rel] = append(out[rel], strings.TrimPrefix(p, module))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Each package imports only packages of lower layers (or a sideways pair
// written down with its reason), every package has a layer, and nothing
// in the product imports a test harness.
func TestLayers(t *testing.T) {
	imports := packageImports(t)
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		if isTestenv(pkg) {
			continue
		}
		lp, ok := layers[pkg]
		if !ok {
			t.Errorf("%s has no layer: add it to layers here and to docs/ARCHITECTURE.md", pkg)
			continue
		}
		for _, imp := range imports[pkg] {
			if isTestenv(imp) {
				t.Errorf("%s imports the test harness %s", pkg, imp)
				continue
			}
			li, ok := layers[imp]
			if !ok {
				continue // reported for the imported package itself
			}
			if _, ok := sideways[[2]string{pkg, imp}]; ok {
				continue
			}
			if li >= lp {
				t.Errorf("%s (layer %d) imports %s (layer %d): a package imports only lower layers", pkg, lp, imp, li)
			}
		}
	}
	for pair := range sideways {
		found := false
		for _, imp := range imports[pair[0]] {
			found = found || imp == pair[1]
		}
		if !found {
			t.Errorf("sideways lists %s → %s, which is no longer imported: remove it", pair[0], pair[1])
		}
	}
}

// owners names the one package that writes each table. Others read it,
// or ask its owner.
var owners = map[string]string{
	"organisations": "account", "teams": "account", "users": "account", "memberships": "account", "recovery_codes": "account",
	"sessions": "account", "api_tokens": "account", "user_tokens": "account",
	"rate_counters": "ratelimit",
	"outbox":        "mail",
	"audit_events":  "audit", "audit_subjects": "audit",
	"notifications": "notify",
	"people":        "person", "person_claims": "person", "person_changes": "person",
	"data_requests": "datarights",
	"referrals":     "referral", "referral_events": "referral", "offers": "referral", "contacts": "referral",
	"contact_note_versions": "referral", "contact_comments": "referral", "contact_restricted_notes": "referral",
	"referral_handovers": "referral", "handover_sharing": "referral",
	"support_rollup": "referral", "support_team_days": "referral", "support_rollup_state": "referral",
	"alerts": "alert", "alert_settings": "alert", "watch_terms": "watch", "watch_lists": "watch",
	"caseload_episodes": "caseload", "caseload_rollup": "caseload", "caseload_rollup_state": "caseload", "caseload_events": "caseload",
	"caseload_spans": "caseload", "caseload_span_counts": "caseload", "caseload_gap_counts": "caseload",
	"choice_profiles": "matching", "matching_settings": "matching", "worker_profiles": "matching", "capacity_reductions": "matching",
	"disclosures": "matching", "disclosure_reads": "matching", "allocation_matches": "matching", "unmet_choices": "matching",
	"worker_exclusions": "matching", "allocation_plans": "matching",
	"schema_migrations": "store",
	"peer_groups":       "groups", "group_facilitators": "groups", "group_sessions": "groups", "session_facilitators": "groups",
	"group_bookings": "groups", "group_booking_keys": "groups", "group_booking_events": "groups", "group_offers": "groups",
	"group_attendance": "groups", "network_proposals": "groups", "network_interest": "groups",
	"recovery_plans": "recovery", "recovery_plan_versions": "recovery", "recovery_goals": "recovery", "recovery_goal_steps": "recovery",
	"dialog_sessions": "recovery", "dialog_ratings": "recovery", "dialog_discussions": "recovery", "recovery_reviews": "recovery",
	"feedback": "recovery", "feedback_links": "recovery", "feedback_events": "recovery",
	"community_spaces": "community", "community_invitations": "community", "community_members": "community",
	"community_trust_changes": "community", "community_topics": "community", "community_posts": "community",
	"community_reactions": "community", "community_flags": "community", "community_escalations": "community", "community_safeguarding": "community", "community_sanctions": "community", "community_appeals": "community", "community_duty": "community",
	"community_support_requests": "community", "community_topic_tags": "community", "community_follows": "community",
	"appointments": "support", "support_settings": "support", "calendar_feeds": "support", "transition_prompts": "support", "reminder_choices": "support",
}

// bulkWriters may write tables they do not own, each with its reason.
var bulkWriters = map[string]string{
	"demo": "generates benchmark volumes (mutual demo --scale) with multi-row inserts; the story itself goes through the services",
}

var (
	writeRE  = regexp.MustCompile(`(?i)\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_]+)`)
	createRE = regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)`)
	renameRE = regexp.MustCompile(`(?i)ALTER TABLE ([a-z_]+) RENAME TO ([a-z_]+)`)
)

// Each table is written by exactly one package: a test that scans every
// package's SQL and fails when a package writes a table it does not own.
func TestOneOwnerPerTable(t *testing.T) {
	root := repoRoot(t)
	// Every table made by a migration has an owner.
	migrations, _ := filepath.Glob(filepath.Join(root, "internal", "store", "migrations", "*.sql"))
	for _, m := range migrations {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		// A table rebuilt under a passing name and renamed (SQLite cannot
		// change a table's shape in place) is the table it becomes.
		renamed := map[string]string{}
		for _, r := range renameRE.FindAllStringSubmatch(string(b), -1) {
			renamed[r[1]] = r[2]
		}
		for _, c := range createRE.FindAllStringSubmatch(string(b), -1) {
			if to, ok := renamed[c[1]]; ok {
				c[1] = to
			}
			if _, ok := owners[c[1]]; !ok {
				t.Errorf("table %s (%s) has no owner: add it to owners", c[1], filepath.Base(m))
			}
		}
	}
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		if isTestenv(rel) {
			return nil
		}
		pkg := filepath.Base(rel)
		if _, ok := bulkWriters[pkg]; ok {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			bl, ok := n.(*ast.BasicLit)
			if !ok || bl.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(bl.Value)
			if err != nil {
				return true
			}
			for _, m := range writeRE.FindAllStringSubmatch(s, -1) {
				table := strings.ToLower(m[2])
				owner, known := owners[table]
				switch {
				case !known:
					// Words like "UPDATE" in prose; real tables are all known.
				case owner != pkg:
					t.Errorf("%s writes %s, which %s owns (%s)", rel, table, owner, fset.Position(bl.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
