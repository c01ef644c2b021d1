package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// namedTestRE is a test named in a document: `TestX`, or one of its
// subtests, `TestX/case` (the case's name as t.Run is given it, written
// with hyphens or underscores for spaces).
var namedTestRE = regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]+)(?:/([A-Za-z0-9_-]+))?`")

// Every test the hazard log names as checking a control exists, so the
// log cannot claim a control nobody tests; and every hazard names at
// least one.
func TestHazardLogNamesRealTests(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "docs", "safety", "hazard-log.md"))
	if err != nil {
		t.Fatalf("the hazard log is missing: %v", err)
	}
	tests := definedTests(t, root)
	for _, section := range strings.Split(string(b), "\n## ")[1:] {
		title, _, _ := strings.Cut(section, "\n")
		names := namedTestRE.FindAllStringSubmatch(section, -1)
		if len(names) == 0 {
			t.Errorf("hazard %q names no test for any control", title)
		}
		for _, m := range names {
			if problem := tests.missing(m); problem != "" {
				t.Errorf("hazard %q names %s", title, problem)
			}
		}
	}
}

// testNames maps every top-level function in the repository's test files
// (tests, fuzz targets, benchmarks and helpers) to the string literals of
// the file that declares it: a subtest's name is one of them.
type testNames map[string]map[string]bool

// missing says what is wrong with a namedTestRE match, or "" when the test
// exists and, for a subtest, its file holds the subtest's name.
func (tn testNames) missing(m []string) string {
	lits, ok := tn[m[1]]
	if !ok {
		return m[1] + ", which no test file defines"
	}
	if sub := m[2]; sub != "" && !lits[sub] && !lits[strings.ReplaceAll(sub, "_", " ")] {
		return m[1] + "/" + sub + ", but no string in " + m[1] + "'s file names that subtest"
	}
	return ""
}

// definedTests returns the name of every top-level function in the
// repository's test files, each with its file's string literals.
func definedTests(t *testing.T, root string) testNames {
	t.Helper()
	tests := testNames{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		lits := map[string]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if b, ok := n.(*ast.BasicLit); ok && b.Kind == token.STRING {
				if s, err := strconv.Unquote(b.Value); err == nil {
					lits[s] = true
				}
			}
			return true
		})
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil {
				tests[fd.Name.Name] = lits
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tests
}

// Every test, benchmark or fuzz target README.md and the documents under
// docs/ name exists: a figure or a control said to be checked by a test
// that was renamed or removed would otherwise stand unchecked.
func TestDocumentsNameRealTests(t *testing.T) {
	root := repoRoot(t)
	tests := definedTests(t, root)
	docs := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			docs = append(docs, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, doc)
		for _, m := range namedTestRE.FindAllStringSubmatch(string(b), -1) {
			if problem := tests.missing(m); problem != "" {
				t.Errorf("%s names %s", rel, problem)
			}
		}
	}
}
