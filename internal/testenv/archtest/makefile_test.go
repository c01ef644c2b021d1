package archtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakefileNamesRealCode fails when a Makefile target names a package
// that is not there, or a test, benchmark or fuzz target its package does
// not define: a target left behind by a move (make fuzz once pointed at
// internal/insight after the caseload reader moved to internal/caseload)
// would otherwise run nothing and say "ok".
func TestMakefileNamesRealCode(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	assign := regexp.MustCompile(`^([A-Z_]+)\s*[:?]?=\s*(.*)$`)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if m := assign.FindStringSubmatch(l); m != nil {
			vars[m[1]] = m[2]
			continue
		}
		lines = append(lines, l)
	}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "$("+k+")", v)
		}
		return strings.ReplaceAll(s, "$$", "$")
	}
	pkgRe := regexp.MustCompile(`\./(internal|cmd)/[A-Za-z0-9_/]*(\.\.\.)?`)
	flagRe := regexp.MustCompile(`-(run|bench|fuzz|skip) '?([^' ]+)'?`)
	checked := 0
	for _, raw := range lines {
		l := expand(raw)
		if !strings.Contains(l, "go test") && !strings.Contains(l, "go run") && !strings.Contains(l, "go build") {
			continue
		}
		pkgs := pkgRe.FindAllString(l, -1)
		for _, p := range pkgs {
			dir := filepath.Join(root, strings.TrimSuffix(strings.TrimSuffix(p, "..."), "/"))
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				t.Errorf("Makefile: %q names %s, which is not a package here", strings.TrimSpace(raw), p)
			}
		}
		if len(pkgs) != 1 || strings.HasSuffix(pkgs[0], "...") {
			continue // names are checked in one package at a time
		}
		funcs := testFuncs(t, filepath.Join(root, pkgs[0]))
		for _, m := range flagRe.FindAllStringSubmatch(l, -1) {
			kind, pattern := m[1], m[2]
			if strings.HasPrefix(strings.Trim(pattern, `"'`), "$") {
				continue // computed when make runs (racetests), and tested there
			}
			for _, name := range strings.Split(strings.Trim(pattern, "^$()"), "|") {
				name = strings.Trim(name, "^$()")
				if name == "" || name == "." {
					continue
				}
				checked++
				if !definesFunc(funcs, kind, name) {
					t.Errorf("Makefile: -%s %s in %q: %s defines no such %s", kind, name, strings.TrimSpace(raw), pkgs[0], kind)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no -run, -bench or -fuzz names in the Makefile: is the parsing still right?")
	}
}

// testFuncs lists the top-level functions of a package's test files.
func testFuncs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^func ((Test|Benchmark|Fuzz)[A-Za-z0-9_]*)\(`)
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// definesFunc reports whether funcs hold what a flag names: -run and -skip
// a test by its whole name, -fuzz a fuzz target by its whole name, -bench
// a benchmark whose name contains it.
func definesFunc(funcs []string, kind, name string) bool {
	for _, f := range funcs {
		switch kind {
		case "run", "skip":
			if f == name {
				return true
			}
		case "fuzz":
			if f == name && strings.HasPrefix(f, "Fuzz") {
				return true
			}
		case "bench":
			if strings.HasPrefix(f, "Benchmark") && strings.Contains(f, name) {
				return true
			}
		}
	}
	return false
}
