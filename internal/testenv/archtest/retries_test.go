package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"strings"
	"testing"
)

// TestRetriedWritesStartAfresh fails when a closure given to the store's
// Write, Shared or Exclusive gathers into something declared outside it (x++,
// x += …, x = append(x, …)), or fills it in only when empty (if x.F == "" {
// x.F = … }, and the other ways of writing it: gathered), without setting
// it afresh among its own first statements. The store runs such a closure
// again when its transaction meets a deadlock or a serialization failure,
// so whatever a failed attempt gathered would be counted, listed or sent
// twice (an import report counted a retried batch twice; the outbox could
// have sent an email twice), and a value it filled in would be kept.
func TestRetriedWritesStartAfresh(t *testing.T) {
	root := repoRoot(t)
	checked := 0
	eachProductFile(t, root, func(rel string, fset *token.FileSet, f *ast.File) {
		// The func literals given to Write, Shared or Exclusive:
		// directly, or first named (fn := func(tx *store.Tx) error {…})
		// and given after.
		var lits []*ast.FuncLit
		named := map[string]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || (sel.Sel.Name != "Write" && sel.Sel.Name != "Shared" && sel.Sel.Name != "Exclusive") {
				return true
			}
			for _, arg := range call.Args {
				switch a := arg.(type) {
				case *ast.FuncLit:
					lits = append(lits, a)
				case *ast.Ident:
					named[a.Name] = true
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
				for i, l := range as.Lhs {
					if id, ok := l.(*ast.Ident); ok && named[id.Name] {
						if lit, ok := as.Rhs[i].(*ast.FuncLit); ok {
							lits = append(lits, lit)
						}
					}
				}
			}
			return true
		})
		for _, lit := range lits {
			if !takesTx(lit) {
				continue
			}
			checked++
			for _, g := range gathered(lit) {
				t.Errorf("%s:%d: the retried write gathers into %s, declared outside it: set it afresh at the top of the closure (or count after the commit)",
					rel, fset.Position(g.Pos()).Line, types.ExprString(g))
			}
		}
	})
	if checked < 50 {
		t.Errorf("checked %d retried closures; the check is not looking where it should", checked)
	}
}

// emptyTest answers the x that cond tests for empty, and whether the
// branch taken when x is empty is the if's body (x == "") or its else (x !=
// ""): x == "", 0 or nil either way round, len(x) == 0, x.IsZero(), or any
// of these joined to others by &&. Otherwise nil.
func emptyTest(cond ast.Expr) (x ast.Expr, inBody bool) {
	zero := func(e ast.Expr) bool {
		z := types.ExprString(e)
		return z == `""` || z == "0" || z == "nil"
	}
	lenOf := func(e ast.Expr) ast.Expr {
		if c, ok := e.(*ast.CallExpr); ok && types.ExprString(c.Fun) == "len" && len(c.Args) == 1 {
			return c.Args[0]
		}
		return e
	}
	switch c := cond.(type) {
	case *ast.ParenExpr:
		return emptyTest(c.X)
	case *ast.BinaryExpr:
		switch c.Op {
		case token.LAND:
			if x, in := emptyTest(c.X); x != nil && in {
				return x, true
			}
			if x, in := emptyTest(c.Y); x != nil && in {
				return x, true
			}
			return nil, false
		case token.LOR:
			// x != "" || … : the else runs only when x is empty.
			if x, in := emptyTest(c.X); x != nil && !in {
				return x, false
			}
			if x, in := emptyTest(c.Y); x != nil && !in {
				return x, false
			}
			return nil, false
		case token.EQL, token.NEQ:
			var x ast.Expr
			switch {
			case zero(c.Y):
				x = lenOf(c.X)
			case zero(c.X):
				x = lenOf(c.Y)
			default:
				return nil, false
			}
			return x, c.Op == token.EQL
		}
	case *ast.UnaryExpr:
		if c.Op == token.NOT {
			if x, in := emptyTest(c.X); x != nil {
				return x, !in
			}
		}
	case *ast.CallExpr:
		if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "IsZero" && len(c.Args) == 0 {
			return sel.X, true
		}
	}
	return nil, false
}

// takesTx reports whether a func literal takes a *store.Tx.
func takesTx(lit *ast.FuncLit) bool {
	for _, f := range lit.Type.Params.List {
		if star, ok := f.Type.(*ast.StarExpr); ok && types.ExprString(star.X) == "store.Tx" {
			return true
		}
	}
	return false
}

// gathered answers the expressions a closure adds to (x++, x += …, x =
// append(x, …)) or fills in only when empty (if x == "" { x = … }, the
// same on an else branch, x = cmp.Or(x, …)) whose root name is declared
// outside the closure, and which the closure's own top-level statements do
// not set afresh (x = …, not reading x, or x = x[:0]; setting the whole of
// out sets out.List too). A copy made in the closure (in := in) is its own,
// but a pointer inside it is still the caller's: filling in.Next.Place
// counts unless the closure points in.Next at a copy of its own first.
func gathered(lit *ast.FuncLit) []ast.Expr {
	// Names resolve by scope (the parser's objects): a name is the
	// closure's own when it is declared between the closure's braces or
	// among its parameters, wherever else the same name is declared.
	inside := func(id *ast.Ident) bool {
		if id.Obj == nil {
			return false // a package-level name, or another file's
		}
		d, ok := id.Obj.Decl.(ast.Node)
		return ok && d.Pos() >= lit.Pos() && d.Pos() < lit.End()
	}
	// Set afresh among the closure's own statements, before anything is
	// gathered: x = …, where … does not read x.
	fresh := map[string]bool{}
	for _, st := range lit.Body.List {
		as, ok := st.(*ast.AssignStmt)
		if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != len(as.Rhs) {
			continue
		}
		for i, l := range as.Lhs {
			name, rhs := types.ExprString(l), types.ExprString(as.Rhs[i])
			if !strings.Contains(rhs, name) || rhs == name+"[:0]" {
				fresh[name] = true
			}
		}
	}
	// Copies: names declared in the closure as a copy of something
	// (x := x, x := *p); and every expression the closure assigns to, so
	// a pointer inside a copy that is pointed elsewhere (in.Next = &next)
	// counts as the closure's own.
	copies, assigned := map[string]bool{}, map[string]bool{}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			for i, l := range as.Lhs {
				assigned[types.ExprString(l)] = true
				if id, ok := l.(*ast.Ident); ok && as.Tok == token.DEFINE && len(as.Lhs) == len(as.Rhs) {
					switch as.Rhs[i].(type) {
					case *ast.Ident, *ast.SelectorExpr, *ast.StarExpr:
						copies[id.Name] = true
					}
				}
			}
		}
		return true
	})
	// root answers the name an expression starts from and the selector
	// prefixes between it and the whole (in.Next for in.Next.Place).
	root := func(e ast.Expr) (*ast.Ident, []ast.Expr) {
		var prefixes []ast.Expr
		for {
			switch x := e.(type) {
			case *ast.Ident:
				return x, prefixes
			case *ast.SelectorExpr:
				e = x.X
				if _, isRoot := e.(*ast.Ident); !isRoot {
					prefixes = append(prefixes, e)
				}
			case *ast.IndexExpr:
				e = x.X
			case *ast.StarExpr:
				e = x.X
			case *ast.ParenExpr:
				e = x.X
			default:
				return nil, nil
			}
		}
	}
	outside := func(e ast.Expr) bool {
		id, prefixes := root(e)
		if id == nil || id.Name == "_" || fresh[id.Name] || fresh[types.ExprString(e)] {
			return false
		}
		if !inside(id) {
			return true
		}
		// The closure's own copy: still the caller's through a pointer
		// inside it, unless the closure pointed that elsewhere.
		if !copies[id.Name] || len(prefixes) == 0 {
			return false
		}
		for _, p := range prefixes {
			if assigned[types.ExprString(p)] {
				return false
			}
		}
		return true
	}
	var out []ast.Expr
	fills := func(body ast.Node, e ast.Expr) {
		if body == nil || !outside(e) {
			return
		}
		ast.Inspect(body, func(m ast.Node) bool {
			if as, ok := m.(*ast.AssignStmt); ok && as.Tok == token.ASSIGN {
				for _, l := range as.Lhs {
					if types.ExprString(l) == types.ExprString(e) {
						out = append(out, l)
					}
				}
			}
			return true
		})
	}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt:
			// Filled in only when empty: if x.F == "" { x.F = … }. A
			// retry finds it filled by the failed attempt and keeps that.
			if e, inBody := emptyTest(n.Cond); e != nil {
				if inBody {
					fills(n.Body, e)
				} else if n.Else != nil {
					fills(n.Else, e)
				}
			}
		case *ast.IncDecStmt:
			if outside(n.X) {
				out = append(out, n.X)
			}
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				switch {
				case n.Tok == token.ADD_ASSIGN || n.Tok == token.SUB_ASSIGN:
					if outside(l) {
						out = append(out, l)
					}
				case n.Tok == token.ASSIGN && i < len(n.Rhs):
					// x = append(x, …) gathers; x = cmp.Or(x, …) fills x
					// in only when empty.
					if c, ok := n.Rhs[i].(*ast.CallExpr); ok && len(c.Args) > 0 &&
						(types.ExprString(c.Fun) == "append" || types.ExprString(c.Fun) == "cmp.Or") &&
						types.ExprString(c.Args[0]) == types.ExprString(l) && outside(l) {
						out = append(out, l)
					}
				}
			}
		}
		return true
	})
	return out
}

// The shapes the check must tell apart, each in a closure the store would
// retry: what it names, and what it must leave alone.
func TestRetriedWriteShapes(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"gathers into a count outside", `n++`, []string{"n"}},
		{"appends to a list outside", `out = append(out, 1)`, []string{"out"}},
		{"starts the list afresh first", "out = nil\n\tout = append(out, 1)", nil},
		{"fills when empty", `if in.Place == "" { in.Place = "x" }`, []string{"in.Place"}},
		{"fills when empty, written the other way round", `if "" == in.Place { in.Place = "x" }`, []string{"in.Place"}},
		{"fills when empty among other conditions", `if ok && in.Place == "" { in.Place = "x" }`, []string{"in.Place"}},
		{"fills an empty list", `if len(in.Themes) == 0 { in.Themes = []string{"x"} }`, []string{"in.Themes"}},
		{"fills on the else branch", `if in.Place != "" { use(in.Place) } else { in.Place = "x" }`, []string{"in.Place"}},
		{"fills with cmp.Or", `in.Place = cmp.Or(in.Place, "x")`, []string{"in.Place"}},
		{"fills a zero time", `if in.At.IsZero() { in.At = now }`, []string{"in.At"}},
		{"fills its own copy", "in := in\n\tif in.Place == \"\" { in.Place = \"x\" }", nil},
		{"a name declared later in another block is still the caller's",
			"if in.Place == \"\" { in.Place = \"x\" }\n\tif ok { in := 1; _ = in }", []string{"in.Place"}},
		{"fills through a pointer its copy shares", "in := in\n\tif in.Next.Place == \"\" { in.Next.Place = \"x\" }", []string{"in.Next.Place"}},
		{"fills through a pointer it copied first",
			"in := in\n\tnext := *in.Next\n\tin.Next = &next\n\tif in.Next.Place == \"\" { in.Next.Place = \"x\" }", nil},
		{"a local of its own", "place := in.Place\n\tif place == \"\" { place = \"x\" }\n\tuse(place)", nil},
		{"a parameter of its own", `if tx == nil { tx = nil }`, nil},
	}
	for _, c := range cases {
		src := "package p\n\nfunc f(in In, out []int, n int, ok bool, now time.Time) {\n\t_ = db.Write(ctx, func(tx *store.Tx) error {\n\t" +
			c.body + "\n\treturn nil\n\t})\n}\n"
		f, err := parser.ParseFile(token.NewFileSet(), "shape.go", src, 0)
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, src)
		}
		var lit *ast.FuncLit
		ast.Inspect(f, func(n ast.Node) bool {
			if l, ok := n.(*ast.FuncLit); ok && lit == nil {
				lit = l
			}
			return true
		})
		var got []string
		for _, e := range gathered(lit) {
			got = append(got, types.ExprString(e))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: named %v, want %v", c.name, got, c.want)
		}
	}
}
