package stats

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestExportedDocComments enforces the package convention: every exported
// name has a doc comment that starts with its name and is one sentence.
func TestExportedDocComments(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatal("no source files found")
	}
	sentenceBreak := regexp.MustCompile(`[.!?]\s+[A-Z]`)
	check := func(name string, doc *ast.CommentGroup, pos token.Pos) {
		if !ast.IsExported(name) {
			return
		}
		text := strings.TrimSpace(doc.Text())
		switch {
		case text == "":
			t.Errorf("%s: exported %s has no doc comment", fset.Position(pos), name)
		case !strings.HasPrefix(text, name+" "):
			t.Errorf("%s: doc comment of %s should start with its name", fset.Position(pos), name)
		case !strings.HasSuffix(text, ".") || sentenceBreak.MatchString(text):
			t.Errorf("%s: doc comment of %s should be one sentence: %q", fset.Position(pos), name, text)
		}
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				check(d.Name.Name, d.Doc, d.Pos())
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						doc := s.Doc
						if doc == nil {
							doc = d.Doc
						}
						check(s.Name.Name, doc, s.Pos())
					case *ast.ValueSpec:
						for _, n := range s.Names {
							doc := s.Doc
							if doc == nil && len(d.Specs) == 1 {
								doc = d.Doc
							}
							check(n.Name, doc, n.Pos())
						}
					}
				}
			}
		}
	}
}
