// Command racetests prints a go test -run pattern naming every test that
// does things at once, for make test to run under the race detector (the
// rest of the suite runs without it: the detector multiplied the suite's
// time by five, and a test that does one thing at a time gives it little
// to find). A test does things at once when it starts a goroutine, calls
// a Go method (sync.WaitGroup.Go, errgroup), or calls — directly or
// through other functions — a function that does: the helpers
// testkit.Race, webtest.Parallel and their like are found the same way,
// so a new concurrency test is picked up without anyone listing it.
// Functions are matched by name across the whole tree, which can only
// add tests, never miss one. make test-race runs the whole suite under
// the detector.
//
//	go test -race -run "$(go run ./internal/testenv/racetests)" $(go run ./internal/testenv/racetests -packages)
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

func main() {
	names, dirs, err := Find(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "racetests:", err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "-packages" {
		// The packages holding them: go test builds a test binary for
		// every package it is given, and under the race detector the
		// building took minutes for packages with nothing to run.
		fmt.Println(strings.Join(dirs, " "))
		return
	}
	fmt.Println(Pattern(names))
}

// measuresOnly lists the tests whose only goroutine watches what a
// sequential run does, with the reason each is left out. Each name must
// still be a test that starts a goroutine (Find fails otherwise), so the
// list cannot outlive what it excuses.
var measuresOnly = map[string]string{
	// Its goroutine samples the heap while one import runs batch after
	// batch; under the detector modernc's SQLite took 53 s for its 20,000
	// rows. Imports beside rebuilds and writers are TestImportsAndRebuildsAtOnce's.
	"TestLargeImportStreams": "samples the heap of a sequential import",
}

// Pattern is a -run pattern matching exactly the named tests (and their
// subtests).
func Pattern(names []string) string {
	return "^(" + strings.Join(names, "|") + ")$"
}

// Find returns, sorted, the names of the tests under root that do things
// at once, and the directories of the packages holding them (as ./path).
func Find(root string) ([]string, []string, error) {
	type fn struct {
		name  string
		calls map[string]bool
		at    bool   // starts a goroutine or calls a Go method itself
		dir   string // of a test file's function
	}
	var fns []fn
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// loadtest is make bench's command, not a harness of tests.
			if n := d.Name(); n == "node_modules" || n == "loadtest" || (strings.HasPrefix(n, ".") && p != root) {
				return filepath.SkipDir
			}
			return nil
		}
		// Tests and test harnesses only: product code's own goroutines
		// (the audit writer, the server) are reached by every test.
		if !strings.HasSuffix(p, "_test.go") && !(strings.HasSuffix(p, ".go") && strings.Contains(filepath.ToSlash(p), "internal/testenv/")) {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		// A function is known by its name in its own package's tests, by
		// package.Name from a harness, and a method by .Name.
		harness := !strings.HasSuffix(p, "_test.go")
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			x := fn{name: fd.Name.Name, calls: map[string]bool{}}
			if !harness {
				x.dir = filepath.Dir(p)
			}
			switch {
			case fd.Recv != nil:
				x.name = "." + x.name
			case harness:
				x.name = f.Name.Name + "." + x.name
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					x.at = true
				case *ast.CallExpr:
					switch f := n.Fun.(type) {
					case *ast.Ident:
						x.calls[f.Name] = true
					case *ast.SelectorExpr:
						if f.Sel.Name == "Go" {
							x.at = true
						}
						if id, ok := f.X.(*ast.Ident); ok {
							x.calls[id.Name+"."+f.Sel.Name] = true
						}
						x.calls["."+f.Sel.Name] = true
					}
				}
				return true
			})
			fns = append(fns, x)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Every name that does things at once, to a fixed point.
	at := map[string]bool{}
	for _, f := range fns {
		if f.at {
			at[f.name] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, f := range fns {
			if at[f.name] {
				continue
			}
			for c := range f.calls {
				if at[c] {
					at[f.name], changed = true, true
					break
				}
			}
		}
	}
	var out []string
	for name := range at {
		if strings.HasPrefix(name, "Test") && name != "TestMain" && measuresOnly[name] == "" {
			out = append(out, name)
		}
	}
	for name := range measuresOnly {
		if !at[name] {
			return nil, nil, fmt.Errorf("%s is listed as only measuring, but no such test starts a goroutine", name)
		}
	}
	sort.Strings(out)
	// A package is named when a test of one of those names is declared in
	// it (a name matched in a package that does not need it costs a run).
	var dirs []string
	for _, f := range fns {
		if f.dir != "" && slices.Contains(out, f.name) {
			rel, err := filepath.Rel(root, f.dir)
			if err != nil {
				return nil, nil, err
			}
			dirs = append(dirs, "./"+filepath.ToSlash(rel))
		}
	}
	slices.Sort(dirs)
	return out, slices.Compact(dirs), nil
}
