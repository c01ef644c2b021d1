package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// positional rewrites a query's $N placeholders, for SQLite, as plain ?
// with the arguments in the order they appear (an argument used twice is
// passed twice). SQLite treats $N as a name: it looks each one up in a
// list of the names before it when it parses the statement, and again
// when it binds it, so a statement's cost grew with the square of its
// placeholders (a multi-row insert of 40 rows of 13 columns spent a third
// of its time there). Plain ? costs nothing to look up. Quoted text and
// comments are left alone; a query that already has a ?, names an
// argument, or uses a $N with no argument is returned as it is, for the
// driver to answer as before.
func positional(query string, args []any) (string, []any) {
	if len(args) == 0 || strings.IndexByte(query, '$') < 0 {
		return query, args
	}
	for _, a := range args {
		if _, named := a.(sql.NamedArg); named {
			return query, args
		}
	}
	var b strings.Builder
	b.Grow(len(query))
	out := make([]any, 0, len(args))
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// To the closing quote; a doubled quote inside is two
			// quoted stretches one after the other, copied alike.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				return query, args
			}
			b.WriteString(query[i : i+j+2])
			i += j + 2
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				return query, args
			}
			b.WriteString(query[i : i+j+4])
			i += j + 4
		case c == '?':
			return query, args
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(query[i+1 : j])
			if err != nil || n < 1 || n > len(args) {
				return query, args
			}
			b.WriteByte('?')
			out = append(out, args[n-1])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), out
}

// rewrite is positional on SQLite; PostgreSQL takes $N as they are.
func rewrite(d Dialect, query string, args []any) (string, []any) {
	if d != SQLite {
		return query, args
	}
	return positional(query, args)
}

// ExecContext is sql.Tx's, with SQLite's placeholders made positional.
// On SQLite a statement run a second time in a transaction is prepared
// once and kept until it ends (see prepared).
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = rewrite(tx.Dialect, query, args)
	if st, err := tx.prepared(ctx, query, len(args)); err != nil {
		return nil, err
	} else if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// maxPrepared bounds the statements one transaction keeps prepared.
const maxPrepared = 32

// prepared returns a prepared statement for a write the transaction runs
// again (a batch's multi-row inserts, an upsert in a loop), or nil for one
// run once. SQLite's driver parses a statement's text every time it runs
// it, and PostgreSQL's keeps its own cache: an import of 100,000 caseload
// rows on SQLite spent 15% of its time parsing the same few statements.
// Only ExecContext uses it: a query's statement may still be being read
// when the same text runs again, which one prepared statement cannot serve.
func (tx *Tx) prepared(ctx context.Context, query string, nargs int) (*sql.Stmt, error) {
	if tx.Dialect != SQLite || nargs == 0 || strings.IndexByte(query, ';') >= 0 {
		return nil, nil
	}
	if st := tx.stmts[query]; st != nil {
		return st, nil
	}
	if !tx.ranOnce[query] {
		if tx.ranOnce == nil {
			tx.ranOnce = map[string]bool{}
		}
		if len(tx.ranOnce) < 4*maxPrepared {
			tx.ranOnce[query] = true
		}
		return nil, nil
	}
	if len(tx.stmts) >= maxPrepared {
		return nil, nil
	}
	st, err := tx.Tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if tx.stmts == nil {
		tx.stmts = map[string]*sql.Stmt{}
	}
	tx.stmts[query] = st
	return st, nil
}

// QueryContext is sql.Tx's, with SQLite's placeholders made positional.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = rewrite(tx.Dialect, query, args)
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext is sql.Tx's, with SQLite's placeholders made positional.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = rewrite(tx.Dialect, query, args)
	return tx.Tx.QueryRowContext(ctx, query, args...)
}
