package archtest

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// TestRetriedWritesStartAfresh fails when a closure given to the store's
// Write, Shared or Exclusive gathers into something declared outside it (x++,
// x += …, x = append(x, …)), or fills it in only when empty (if x.F == "" {
// x.F = … }), without setting it afresh among its own first statements. The store runs such a closure again when its transaction meets a
// deadlock or a serialization failure, so whatever a failed attempt gathered
// would be counted, listed or sent twice (an import report counted a retried
// batch twice; the outbox could have sent an email twice).
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

// emptyTest answers x when cond is x == "", x == 0, x == nil or
// x.IsZero(); otherwise nil.
func emptyTest(cond ast.Expr) ast.Expr {
	switch c := cond.(type) {
	case *ast.BinaryExpr:
		if c.Op != token.EQL {
			return nil
		}
		if z := types.ExprString(c.Y); z == `""` || z == "0" || z == "nil" {
			return c.X
		}
	case *ast.CallExpr:
		if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "IsZero" && len(c.Args) == 0 {
			return sel.X
		}
	}
	return nil
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
// append(x, …)) whose root name is declared outside the closure, and which
// the closure's own top-level statements do not set afresh (x = …, not
// reading x, or x = x[:0]; setting the whole of out sets out.List too).
func gathered(lit *ast.FuncLit) []ast.Expr {
	local := map[string]bool{}
	ast.Inspect(lit, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			for _, f := range n.Type.Params.List {
				for _, name := range f.Names {
					local[name.Name] = true
				}
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						local[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, name := range n.Names {
				local[name.Name] = true
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						local[id.Name] = true
					}
				}
			}
		}
		return true
	})
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
	root := func(e ast.Expr) string {
		for {
			switch x := e.(type) {
			case *ast.Ident:
				return x.Name
			case *ast.SelectorExpr:
				e = x.X
			case *ast.IndexExpr:
				e = x.X
			case *ast.StarExpr:
				e = x.X
			case *ast.ParenExpr:
				e = x.X
			default:
				return ""
			}
		}
	}
	var out []ast.Expr
	outside := func(e ast.Expr) bool {
		r := root(e)
		return r != "" && r != "_" && !local[r] && !fresh[r] && !fresh[types.ExprString(e)]
	}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt:
			// Filled in only when empty: if x.F == "" { x.F = … }. A
			// retry finds it filled by the failed attempt and keeps that.
			if e := emptyTest(n.Cond); e != nil && outside(e) {
				ast.Inspect(n.Body, func(m ast.Node) bool {
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
					if c, ok := n.Rhs[i].(*ast.CallExpr); ok && types.ExprString(c.Fun) == "append" && len(c.Args) > 0 &&
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
