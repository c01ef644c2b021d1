package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// whereRE is a reference to a function in the inventory: `pkg/file.go:Func`,
// relative to internal/.
var whereRE = regexp.MustCompile("`([a-z0-9_]+(?:/[a-z0-9_]+)*\\.go):([A-Za-z_][A-Za-z0-9_]*)`")

// The capabilities whose writes the inventory must cover, each with a
// section of its own.
var readDecideWriteSections = []string{"account", "ratelimit", "person", "referral", "alert", "matching", "groups",
	"recovery", "watch", "datarights"}

// The inventory of every read, decide, write (docs/safety/read-decide-write.md)
// names real code and real tests: each function in a Where column is declared
// in the file named, each test named exists, and each row says how it is
// raced (a test, **none**, or — when nothing is decided), so the list cannot
// go out of date without this failing.
func TestReadDecideWriteNamesRealCode(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "docs", "safety", "read-decide-write.md"))
	if err != nil {
		t.Fatalf("the read-decide-write inventory is missing: %v", err)
	}
	doc := string(b)
	tests := definedTests(t, root)
	for _, m := range namedTestRE.FindAllStringSubmatch(doc, -1) {
		if problem := tests.missing(m); problem != "" {
			t.Errorf("the inventory names %s", problem)
		}
	}

	funcs := map[string]map[string]bool{} // file → functions and methods it declares
	declared := func(file, name string) bool {
		if _, ok := funcs[file]; !ok {
			funcs[file] = map[string]bool{}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "internal", filepath.FromSlash(file)), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Errorf("the inventory names %s: %v", file, err)
				return true // reported once, as a missing file
			}
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok {
					funcs[file][fd.Name.Name] = true
				}
			}
		}
		return funcs[file][name]
	}

	sections := map[string]int{}
	section := ""
	for i, line := range strings.Split(doc, "\n") {
		if title, ok := strings.CutPrefix(line, "## "); ok {
			section = title
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			t.Errorf("line %d: a row has four cells (where, what is decided, atomic by, race test): %q", i+1, line)
			continue
		}
		refs := whereRE.FindAllStringSubmatch(cells[0], -1)
		if len(refs) == 0 {
			t.Errorf("line %d: the Where column names no `file.go:Function`: %q", i+1, cells[0])
		}
		for _, r := range refs {
			if !declared(r[1], r[2]) {
				t.Errorf("line %d: internal/%s declares no function %s", i+1, r[1], r[2])
			}
		}
		race := cells[3]
		if !namedTestRE.MatchString(race) && !strings.Contains(race, "**none**") && race != "—" {
			t.Errorf("line %d: say how %s is raced: name the test, or write **none** (or — when nothing is decided)", i+1, cells[0])
		}
		sections[section]++
	}
	for _, s := range readDecideWriteSections {
		if sections[s] == 0 {
			t.Errorf("the inventory has no rows for %s (a section \"## %s\" with a table)", s, s)
		}
	}
}
