package store

import (
	"strconv"
	"strings"
)

// Args builds a query's parameters as its text is written: each value is
// added where it is used and answered with its placeholder, so fragments
// (a caller's scope, a filter, an IN list) can be written separately and
// joined without counting placeholders by hand. Values are only ever
// parameters, never text.
//
//	var a store.Args
//	q := "SELECT … WHERE r.team_id = " + a.Add(teamID) + " AND r.status IN " + a.In(referral.Open...)
//	rows, err := tx.QueryContext(ctx, q, a.Values()...)
type Args struct {
	vals []any
}

// NewArgs starts a list with values already numbered $1…$n in the text.
func NewArgs(first ...any) *Args { return &Args{vals: first} }

// Add appends a value and returns its placeholder.
func (a *Args) Add(v any) string {
	a.vals = append(a.vals, v)
	return "$" + strconv.Itoa(len(a.vals))
}

// In returns a parenthesised list of placeholders for vs, for "x IN …".
// An empty list matches nothing. For long lists of ids use IDs, which
// costs one placeholder however many there are.
func In[T any](a *Args, vs ...T) string {
	if len(vs) == 0 {
		return "(NULL)"
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Add(v))
	}
	b.WriteByte(')')
	return b.String()
}

// IDs returns a sub-select of the ids, for "x IN …", written as one
// parameter whatever its length (see Dialect.IDTable).
func (a *Args) IDs(d Dialect, ids []int64) string {
	return "(SELECT ids.id FROM " + d.IDTable(a.Add(IDsParam(ids)), "ids") + ")"
}

// Values are the parameters, in order, for QueryContext and ExecContext.
func (a *Args) Values() []any { return a.vals }

// Len is how many parameters there are.
func (a *Args) Len() int { return len(a.vals) }
