package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoroutinesRecover fails when product code starts a goroutine whose
// panic would stop the whole service: the web layer recovers a panic in a
// request's own goroutine, not in one the request starts. Work handed to
// errgroup or sync.WaitGroup (x.Go(func …)) must run through
// app.Recovered; a bare go statement is allowed only where it is listed
// below, with the reason.
func TestGoroutinesRecover(t *testing.T) {
	root := repoRoot(t)
	bare := map[string]string{
		filepath.Join("cmd", "mutual", "main.go"):    "the process's own jobs, server and shutdown: a panic there should stop it",
		filepath.Join("internal", "audit", "log.go"): "the audit log's writers: a panic there must stop the service rather than serve unaudited",
	}
	handed, started := 0, 0
	eachProductFile(t, root, func(rel string, _ *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				started++
				if bare[rel] == "" {
					t.Errorf("%s: a go statement outside the listed places; hand the work to an errgroup or WaitGroup through app.Recovered", rel)
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Go" || len(n.Args) != 1 {
					return true
				}
				lit, ok := n.Args[0].(*ast.FuncLit)
				if !ok {
					t.Errorf("%s: %s.Go is given a named function; give it a func literal that runs the work through app.Recovered", rel, exprName(sel.X))
					return true
				}
				handed++
				if !callsRecovered(lit.Body) {
					t.Errorf("%s: the func given to %s.Go does not run its work through app.Recovered: a panic in it would stop the service", rel, exprName(sel.X))
				}
			}
			return true
		})
	})
	if handed < 2 || started < 2 {
		t.Errorf("found %d goroutines handed to x.Go and %d go statements; the check is not looking where it should", handed, started)
	}
}

func callsRecovered(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Recovered" && exprName(sel.X) == "app" {
				found = true
			}
		}
		return !found
	})
	return found
}

func exprName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return "…"
}

// eachProductFile parses every product Go file under internal and cmd
// (tests and the test harnesses under internal/testenv left out) and hands
// it to fn with its path from the repository's root.
func eachProductFile(t *testing.T, root string, fn func(rel string, fset *token.FileSet, f *ast.File)) {
	t.Helper()
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if d.IsDir() {
				if rel == filepath.Join("internal", "testenv") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			fn(rel, fset, f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
