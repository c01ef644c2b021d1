package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoFirstByteCapitals fails when product code changes the case of a
// string's first byte (strings.ToUpper(s[:1]) and the like): for a word
// that starts with a letter outside ASCII — a first language recorded as
// "ōromo", a name — it cuts the letter in two and leaves text that is not
// UTF-8, which PostgreSQL refuses and a page shows garbled. app.UpperFirst
// changes the whole first character.
func TestNoFirstByteCapitals(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	var offenders []string
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "strings" && pkg.Name != "bytes" || !caseChange[sel.Sel.Name] {
					return true
				}
				if firstByte(call.Args[0]) {
					rel, _ := filepath.Rel(root, path)
					offenders = append(offenders, rel+":"+strconv.Itoa(fset.Position(call.Pos()).Line))
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range offenders {
		t.Errorf("%s changes the case of a first byte, not a first letter: use app.UpperFirst", o)
	}
}

var caseChange = map[string]bool{"ToUpper": true, "ToLower": true, "ToTitle": true}

// firstByte reports whether e is s[:1], s[0:1] or string(s[0]).
func firstByte(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.SliceExpr:
		lit, ok := x.High.(*ast.BasicLit)
		return ok && lit.Value == "1" && (x.Low == nil || isZero(x.Low))
	case *ast.CallExpr:
		if fn, ok := x.Fun.(*ast.Ident); ok && fn.Name == "string" && len(x.Args) == 1 {
			if ix, ok := x.Args[0].(*ast.IndexExpr); ok {
				return isZero(ix.Index)
			}
		}
	}
	return false
}

func isZero(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Value == "0"
}
