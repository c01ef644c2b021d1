package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// A PostgreSQL transaction sends its BEGIN with its first statement.
//
// database/sql over pgx's driver sends BEGIN as a request of its own and
// waits for the answer before the first statement goes: one of the four
// round trips of an audited write (BEGIN, the write, its audit row, COMMIT)
// and of the three of an audited read. Each costs both processes a socket
// write and a wake-up; on two cores at 50 writers, one round trip more per
// write cost a fifth of the writes a second. So each connection Mutual opens
// holds a transaction's BEGIN back until its first statement, and sends the
// two in one pipeline: one network write, one Sync, one wait for both
// answers. The first statement is encoded and read exactly as pgx's driver
// does it (the same parameter encoding from the statement's description, the
// same text or binary result formats, the same values handed to
// database/sql); every later statement, and every statement outside a
// transaction, goes through pgx's driver unchanged.
//
// The first statement needs its description (parameter and column types) to
// be encoded: it is kept per connection, as pgx keeps its prepared
// statements, and found with one round trip the first time a connection
// starts a transaction with that statement. The statement itself is sent
// unnamed, so nothing is left prepared on the server.

// beginWithFirst wraps pgx's connector: its connections are beginConns.
type beginWithFirst struct{ driver.Connector }

func (c beginWithFirst) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("store: pgx's driver gave a %T, not a *stdlib.Conn", dc)
	}
	return &beginConn{Conn: sc, prepared: map[string]*preparedFirst{}}, nil
}

// openPostgresPool opens a pool of beginConns on dsn.
func openPostgresPool(dsn string) (*sql.DB, error) {
	connector, err := stdlib.GetDefaultDriver().(driver.DriverContext).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(beginWithFirst{connector}), nil
}

// mostPrepared is the most first statements a connection keeps prepared:
// they are a few dozen texts, but a statement built with a list of varying
// length is a new text each time.
const mostPrepared = 128

type beginConn struct {
	*stdlib.Conn
	// begin is the BEGIN held back until the transaction's first
	// statement; began says it has been sent (and so a COMMIT or ROLLBACK
	// is owed); ctx is the transaction's, as pgx's driver keeps it.
	begin string
	began bool
	ctx   context.Context

	prepared    map[string]*preparedFirst
	uses, named uint64
	eqb         pgx.ExtendedQueryBuilder
}

func (c *beginConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx sends nothing: the BEGIN goes with the first statement.
func (c *beginConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	if c.begin != "" || c.began {
		return nil, errors.New("store: a transaction is already open on this connection")
	}
	begin := "begin"
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		begin += " isolation level read uncommitted"
	case sql.LevelReadCommitted:
		begin += " isolation level read committed"
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		begin += " isolation level repeatable read"
	case sql.LevelSerializable:
		begin += " isolation level serializable"
	default:
		return nil, fmt.Errorf("unsupported isolation: %v", opts.Isolation)
	}
	if opts.ReadOnly {
		begin += " read only"
	}
	c.begin, c.ctx = begin, ctx
	return beginTx{c}, nil
}

// sendBegin sends a held-back BEGIN on its own, for a first statement that
// does not go through ExecContext or QueryContext (a prepared statement).
func (c *beginConn) sendBegin(ctx context.Context) error {
	if c.begin == "" {
		return nil
	}
	begin := c.begin
	c.begin, c.began = "", true
	_, err := c.Conn.Conn().Exec(ctx, begin)
	return err
}

func (c *beginConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *beginConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.sendBegin(ctx); err != nil {
		return nil, err
	}
	return c.Conn.PrepareContext(ctx, query)
}

func (c *beginConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.begin == "" {
		return c.Conn.ExecContext(ctx, query, args)
	}
	r, err := c.withBegin(ctx, query, args)
	if err != nil {
		return nil, err
	}
	for r.rr.NextRow() {
	}
	tag, err := r.finish()
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *beginConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.begin == "" {
		return c.Conn.QueryContext(ctx, query, args)
	}
	r, err := c.withBegin(ctx, query, args)
	if err != nil {
		return nil, err
	}
	// The first row is read now, as pgx's driver does, so that the
	// statement's error is the query's, not the first Next's.
	if r.more = r.rr.NextRow(); !r.more {
		if _, err := r.finish(); err != nil {
			return nil, err
		}
	}
	r.valueFuncs(c.Conn.Conn().TypeMap())
	return r, nil
}

// ResetSession refuses a connection left inside a transaction.
func (c *beginConn) ResetSession(ctx context.Context) error {
	if c.begin != "" || c.began {
		return driver.ErrBadConn
	}
	return c.Conn.ResetSession(ctx)
}

// withBegin sends the held-back BEGIN and query in one pipeline and returns
// the query's result, still to be read.
func (c *beginConn) withBegin(ctx context.Context, query string, args []driver.NamedValue) (*firstRows, error) {
	pc := c.Conn.Conn()
	if pc.IsClosed() {
		return nil, driver.ErrBadConn
	}
	sd, err := c.describe(ctx, query)
	if err != nil {
		return nil, err
	}
	values := make([]any, len(args))
	for i, a := range args {
		values[i] = a.Value
	}
	if err := c.eqb.Build(pc.TypeMap(), sd, values); err != nil {
		return nil, err
	}
	formats := make([]int16, len(sd.Fields))
	for i, f := range sd.Fields {
		formats[i] = resultFormats[f.DataTypeOID]
	}
	begin := c.begin
	c.begin, c.began = "", true
	p := pc.PgConn().StartPipeline(ctx)
	p.SendQueryParams(begin, nil, nil, nil, nil)
	p.SendQueryPrepared(sd.Name, c.eqb.ParamValues, c.eqb.ParamFormats, formats)
	if err := p.Sync(); err != nil {
		p.Close()
		if pgconn.SafeToRetry(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	r := &firstRows{c: c, p: p, query: query}
	res, err := p.GetResults()
	if err == nil {
		_, err = res.(*pgconn.ResultReader).Close()
	}
	if err == nil {
		res, err = p.GetResults()
	}
	if err != nil {
		r.err = err
		_, err = r.finish()
		return nil, err
	}
	r.rr = res.(*pgconn.ResultReader)
	// The connection reuses its field descriptions for its next result.
	r.fds = slices.Clone(r.rr.FieldDescriptions())
	return r, nil
}

// describe returns the statement prepared on this connection, with its
// parameter and column types: prepared the first time the connection
// starts a transaction with it, kept while it is among the connection's
// mostPrepared most recently used.
func (c *beginConn) describe(ctx context.Context, query string) (*pgconn.StatementDescription, error) {
	c.uses++
	if p, ok := c.prepared[query]; ok {
		p.used = c.uses
		return p.sd, nil
	}
	pc := c.Conn.Conn().PgConn()
	if len(c.prepared) >= mostPrepared {
		oldest := ""
		for q, p := range c.prepared {
			if oldest == "" || p.used < c.prepared[oldest].used {
				oldest = q
			}
		}
		if err := pc.Deallocate(ctx, c.prepared[oldest].sd.Name); err != nil {
			return nil, err
		}
		delete(c.prepared, oldest)
	}
	c.named++
	sd, err := pc.Prepare(ctx, fmt.Sprintf("mutual_first_%d", c.named), query, nil)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	c.prepared[query] = &preparedFirst{sd: sd, used: c.uses}
	return sd, nil
}

type preparedFirst struct {
	sd   *pgconn.StatementDescription
	used uint64
}

// resultFormats are pgx's driver's: binary for the types database/sql
// handles itself, text for the rest.
var resultFormats = map[uint32]int16{
	pgtype.BoolOID: 1, pgtype.ByteaOID: 1, pgtype.CIDOID: 1, pgtype.DateOID: 1, pgtype.Float4OID: 1, pgtype.Float8OID: 1,
	pgtype.Int2OID: 1, pgtype.Int4OID: 1, pgtype.Int8OID: 1, pgtype.OIDOID: 1, pgtype.TimestampOID: 1,
	pgtype.TimestamptzOID: 1, pgtype.XIDOID: 1,
}

type beginTx struct{ c *beginConn }

// Commit sends COMMIT, unless nothing was sent: an empty transaction.
func (t beginTx) Commit() error {
	c := t.c
	defer c.endTx()
	if !c.began {
		return nil
	}
	pc := c.Conn.Conn()
	tag, err := pc.Exec(c.ctx, "commit")
	if err != nil {
		if pc.PgConn().TxStatus() != 'I' {
			_ = c.Conn.Close()
		}
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback sends ROLLBACK, unless nothing was sent.
func (t beginTx) Rollback() error {
	c := t.c
	defer c.endTx()
	if !c.began {
		return nil
	}
	if _, err := c.Conn.Conn().Exec(c.ctx, "rollback"); err != nil {
		_ = c.Conn.Close() // a failed rollback leaves the connection in doubt
		return err
	}
	return nil
}

func (c *beginConn) endTx() { c.begin, c.began, c.ctx = "", false, nil }

// firstRows is the result of a transaction's first statement, handed to
// database/sql as pgx's driver hands its rows.
type firstRows struct {
	c     *beginConn
	p     *pgconn.Pipeline
	rr    *pgconn.ResultReader
	query string
	fds   []pgconn.FieldDescription
	more  bool // the first row, read by QueryContext, is still to be handed over
	funcs []func([]byte) (driver.Value, error)
	names []string
	done  bool
	tag   pgconn.CommandTag
	err   error
}

// finish reads the rest of the result and the pipeline's end, and gives
// the statement's command tag and first error.
func (r *firstRows) finish() (pgconn.CommandTag, error) {
	if r.done {
		return r.tag, r.err
	}
	r.done = true
	if r.rr != nil {
		tag, err := r.rr.Close()
		r.tag, r.err = tag, cmpErr(r.err, err)
	}
	r.err = cmpErr(r.err, r.p.Close())
	if r.err != nil {
		r.c.forget(r.query, r.err)
	}
	return r.tag, r.err
}

// forget drops a first statement that PostgreSQL can no longer run as
// prepared (the schema changed under it: "cached plan must not change
// result type"), so that it is prepared afresh next time, as pgx does with
// its own. The old one stays on the server until the connection closes: it
// may not be closed inside the failed transaction.
func (c *beginConn) forget(query string, err error) {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "0A000" {
		delete(c.prepared, query)
	}
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

func (r *firstRows) Columns() []string {
	if r.names == nil {
		fds := r.fds
		r.names = make([]string, len(fds))
		for i, fd := range fds {
			r.names[i] = fd.Name
		}
	}
	return r.names
}

func (r *firstRows) Close() error {
	_, err := r.finish()
	return err
}

func (r *firstRows) Next(dest []driver.Value) error {
	if r.more {
		r.more = false
	} else if r.done || !r.rr.NextRow() {
		if _, err := r.finish(); err != nil {
			return err
		}
		return io.EOF
	}
	for i, v := range r.rr.Values() {
		if v == nil {
			dest[i] = nil
			continue
		}
		var err error
		if dest[i], err = r.funcs[i](v); err != nil {
			return fmt.Errorf("convert field %d failed: %w", i, err)
		}
	}
	return nil
}

// valueFuncs sets how each column becomes a database/sql value: as pgx's
// driver does it, type by type (github.com/jackc/pgx/v5/stdlib, Rows'
// initValueFuncs, MIT licence; TestFirstStatementReadsAsTheDriver compares
// the two).
func (r *firstRows) valueFuncs(m *pgtype.Map) {
	fds := r.fds
	r.funcs = make([]func([]byte) (driver.Value, error), len(fds))
	for i, fd := range fds {
		switch fd.DataTypeOID {
		case pgtype.BoolOID:
			r.funcs[i] = valueAs(m, fd, func(d bool) (driver.Value, error) { return d, nil })
		case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
			r.funcs[i] = valueAs(m, fd, func(d []byte) (driver.Value, error) { return d, nil })
		case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
			r.funcs[i] = valueAs(m, fd, func(d pgtype.Uint32) (driver.Value, error) { return d.Value() })
		case pgtype.DateOID:
			r.funcs[i] = valueAs(m, fd, func(d pgtype.Date) (driver.Value, error) { return d.Value() })
		case pgtype.Float4OID:
			r.funcs[i] = valueAs(m, fd, func(d float32) (driver.Value, error) { return float64(d), nil })
		case pgtype.Float8OID:
			r.funcs[i] = valueAs(m, fd, func(d float64) (driver.Value, error) { return d, nil })
		case pgtype.Int2OID:
			r.funcs[i] = valueAs(m, fd, func(d int16) (driver.Value, error) { return int64(d), nil })
		case pgtype.Int4OID:
			r.funcs[i] = valueAs(m, fd, func(d int32) (driver.Value, error) { return int64(d), nil })
		case pgtype.Int8OID:
			r.funcs[i] = valueAs(m, fd, func(d int64) (driver.Value, error) { return d, nil })
		case pgtype.TimestampOID:
			r.funcs[i] = valueAs(m, fd, func(d pgtype.Timestamp) (driver.Value, error) { return d.Value() })
		case pgtype.TimestamptzOID:
			r.funcs[i] = valueAs(m, fd, func(d pgtype.Timestamptz) (driver.Value, error) { return d.Value() })
		default:
			r.funcs[i] = valueAs(m, fd, func(d string) (driver.Value, error) { return d, nil })
		}
	}
}

// valueAs scans a column's bytes into a T, as planned once for the column,
// and hands conv's value to database/sql.
func valueAs[T any](m *pgtype.Map, fd pgconn.FieldDescription, conv func(T) (driver.Value, error)) func([]byte) (driver.Value, error) {
	var d T
	plan := m.PlanScan(fd.DataTypeOID, fd.Format, &d)
	return func(src []byte) (driver.Value, error) {
		if err := plan.Scan(src, &d); err != nil {
			return nil, err
		}
		return conv(d)
	}
}
