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

// emptyCheck is one test of a value for empty in a condition: the value,
// and whether the branch taken when it is empty is the if's body (x == "")
// or its else (x != "").
type emptyCheck struct {
	x      ast.Expr
	inBody bool
}

// emptyTests answers every test for empty in cond: x == "", 0 or nil
// either way round, len(x) == 0, x.IsZero(), negated or joined to others
// by && or || (either branch may then run with x empty).
func emptyTests(cond ast.Expr) []emptyCheck {
	switch c := cond.(type) {
	case *ast.ParenExpr:
		return emptyTests(c.X)
	case *ast.BinaryExpr:
		switch c.Op {
		case token.LAND, token.LOR:
			return append(emptyTests(c.X), emptyTests(c.Y)...)
		case token.EQL, token.NEQ:
			var x ast.Expr
			switch {
			case writtenEmpty(c.Y):
				x = c.X
			case writtenEmpty(c.X):
				x = c.Y
			default:
				return nil
			}
			if call, ok := x.(*ast.CallExpr); ok && types.ExprString(call.Fun) == "len" && len(call.Args) == 1 {
				x = call.Args[0]
			}
			return []emptyCheck{{x, c.Op == token.EQL}}
		}
	case *ast.UnaryExpr:
		if c.Op == token.NOT {
			var out []emptyCheck
			for _, t := range emptyTests(c.X) {
				out = append(out, emptyCheck{t.x, !t.inBody})
			}
			return out
		}
	case *ast.CallExpr:
		if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "IsZero" && len(c.Args) == 0 {
			return []emptyCheck{{sel.X, true}}
		}
	}
	return nil
}

// writtenEmpty reports whether e is written as "", 0 or nil.
func writtenEmpty(e ast.Expr) bool {
	z := types.ExprString(e)
	return z == `""` || z == "0" || z == "nil"
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

// gathered answers the expressions a closure adds to (x++, x += …, x = x
// + …, x = append(x, …)) or fills in only when empty (if x == "" { x = …
// }, the same on an else branch or a switch's case, x = cmp.Or(x, …))
// whose root name is declared outside the closure, or which the closure
// reaches through its address (r := &rows[i]), and which the closure's own
// top-level statements do not set afresh (x = …, not reading x, or x =
// x[:0]; setting the whole of out sets out.List too). A copy made in the
// closure (in := in) is its own, but a pointer, map or slice inside it is
// still the caller's: filling in.Next.Place counts unless the closure
// points in.Next at a copy of its own first.
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
	// (x := x, x := *p, x := xs[i]); pointers: names declared as the
	// address of something (r := &rows[i]); and every expression the
	// closure assigns to, so a pointer inside a copy that is pointed
	// elsewhere (in.Next = &next) counts as the closure's own.
	copies, pointers, assigned := map[string]bool{}, map[string]ast.Expr{}, map[string]bool{}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			for i, l := range as.Lhs {
				assigned[types.ExprString(l)] = true
				if id, ok := l.(*ast.Ident); ok && as.Tok == token.DEFINE && len(as.Lhs) == len(as.Rhs) {
					switch r := as.Rhs[i].(type) {
					case *ast.UnaryExpr:
						if r.Op == token.AND {
							pointers[id.Name] = r.X
						}
					case *ast.Ident, *ast.SelectorExpr, *ast.StarExpr, *ast.IndexExpr:
						copies[id.Name] = true
					}
				}
			}
		}
		return true
	})
	outside := func(e ast.Expr) bool {
		id, prefixes := rootOf(e)
		if id == nil || id.Name == "_" || fresh[id.Name] || fresh[types.ExprString(e)] {
			return false
		}
		if !inside(id) {
			return true
		}
		// The address of something outside (r := &rows[i]) is the caller's.
		if target, ok := pointers[id.Name]; ok {
			if tid, _ := rootOf(target); tid != nil && !inside(tid) {
				return true
			}
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
					if sameExpr(l, e) {
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
			// A name the if's own init gives the value (if p := x.F; p
			// == "") stands for it.
			alias := map[string]ast.Expr{}
			if as, ok := n.Init.(*ast.AssignStmt); ok && as.Tok == token.DEFINE && len(as.Lhs) == len(as.Rhs) {
				for i, l := range as.Lhs {
					alias[types.ExprString(l)] = as.Rhs[i]
				}
			}
			for _, t := range emptyTests(n.Cond) {
				e := t.x
				if a, ok := alias[types.ExprString(e)]; ok {
					e = a
				}
				if t.inBody {
					fills(n.Body, e)
				} else if n.Else != nil {
					fills(n.Else, e)
				}
			}
		case *ast.SwitchStmt:
			// switch { case x == "": x = … } and switch x { case "": x = … }.
			for _, st := range n.Body.List {
				cc := st.(*ast.CaseClause)
				for _, v := range cc.List {
					if n.Tag == nil {
						for _, t := range emptyTests(v) {
							if t.inBody {
								fills(&ast.BlockStmt{List: cc.Body}, t.x)
							}
						}
					} else if writtenEmpty(v) {
						fills(&ast.BlockStmt{List: cc.Body}, n.Tag)
					}
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
					// x = append(x, …) and x = x + … gather; x = cmp.Or(x,
					// …) fills x in only when empty.
					switch r := n.Rhs[i].(type) {
					case *ast.CallExpr:
						if len(r.Args) > 0 && (types.ExprString(r.Fun) == "append" || types.ExprString(r.Fun) == "cmp.Or") &&
							sameExpr(r.Args[0], l) && outside(l) {
							out = append(out, l)
						}
					case *ast.BinaryExpr:
						if (r.Op == token.ADD || r.Op == token.SUB) &&
							(sameExpr(r.X, l) || sameExpr(r.Y, l)) && outside(l) {
							out = append(out, l)
						}
					}
				}
			}
		}
		return true
	})
	return out
}

// rootOf answers the name an expression starts from and the prefixes
// between it and the whole (in.Next for in.Next.Place, in.Meta for
// in.Meta[k]); nil when it starts from something else (a call, a literal).
func rootOf(e ast.Expr) (*ast.Ident, []ast.Expr) {
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
			// A slice's or map's elements are shared by every copy.
			e = x.X
			prefixes = append(prefixes, e)
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return nil, nil
		}
	}
}

// sameExpr reports whether a and b are written the same.
func sameExpr(a, b ast.Expr) bool { return types.ExprString(a) == types.ExprString(b) }

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
		// From stop 30's review:
		{"the second of two empty tests", `if in.A == "" && in.B == "" { in.B = "x" }`, []string{"in.B"}},
		{"an empty test or another", `if in.Place == "" || ok { in.Place = "x" }`, []string{"in.Place"}},
		{"a tagless switch", "switch {\n\tcase in.Place == \"\":\n\t\tin.Place = \"x\"\n\t}", []string{"in.Place"}},
		{"a switch on the value", "switch in.Place {\n\tcase \"\":\n\t\tin.Place = \"x\"\n\t}", []string{"in.Place"}},
		{"an if with an init", `if p := in.Place; p == "" { in.Place = "x" }`, []string{"in.Place"}},
		{"a count without ++", `n = n + 1`, []string{"n"}},
		{"a pointer into the caller's slice", "for i := range rows { r := &rows[i]; if r.Place == \"\" { r.Place = \"x\" } }", []string{"r.Place"}},
		{"a pointer into its own slice", "mine := make([]Row, 2)\n\tr := &mine[0]\n\tif r.Place == \"\" { r.Place = \"x\" }", nil},
		{"a map inside a copy", "in := in\n\tif in.Meta[\"k\"] == \"\" { in.Meta[\"k\"] = \"x\" }", []string{`in.Meta["k"]`}},
		{"a slice element inside a copy", "in := in\n\tfor i := range in.Items { if in.Items[i].Place == \"\" { in.Items[i].Place = \"x\" } }", []string{"in.Items[i].Place"}},
		{"a copy from an index, a pointer inside", "in := inputs[0]\n\tif in.Next.Place == \"\" { in.Next.Place = \"x\" }", []string{"in.Next.Place"}},
		// Without types the check cannot tell a struct value inside a copy
		// from a pointer, so it names both: write a local instead.
		{"a struct value inside a copy (named, though safe)", "in := in\n\tif in.Addr.Line1 == \"\" { in.Addr.Line1 = \"x\" }", []string{"in.Addr.Line1"}},
	}
	for _, c := range cases {
		src := "package p\n\nfunc f(in In, inputs []In, rows []Row, out []int, n int, ok bool, now time.Time) {\n\t_ = db.Write(ctx, func(tx *store.Tx) error {\n\t" +
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
