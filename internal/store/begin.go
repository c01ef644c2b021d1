package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

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
// write and a wake-up: without it, PostgreSQL's CPU per write transaction
// was 7-26% lower and the client's 10-27% (seven pairs of 50 goroutines),
// though through HTTP the gain was within a noisy machine's variation (see
// ARCHITECTURE.md, "Performance choices"). So each connection Mutual opens
// holds a transaction's BEGIN back until its first statement, and sends the
// two in one pipeline: one network write, one Sync, one wait for both
// answers. The first statement is encoded and read exactly as pgx's driver
// does it (the same parameter encoding from the statement's description, the
// same text or binary result formats, the same values handed to
// database/sql); every later statement, and every statement outside a
// transaction, goes through pgx's driver unchanged.
//
// The first statement is prepared under a name of its own on each
// connection, once (one round trip the first time a connection starts a
// transaction with it), as pgx prepares its own: the most recent 128 are
// kept, and one that fails is prepared afresh next time (the schema may have
// changed under it), as pgx does. Three kinds of first statement go as
// before, BEGIN first: a statement that fails to prepare (so that it fails
// inside its transaction and aborts it), a statement without arguments
// (which pgx sends as a simple query, several commands allowed: BEGIN goes
// in the same message), and a statement prepared with database/sql, which
// sends BEGIN before it runs.

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
	stale       []string // names to close before the next is prepared
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

// PrepareContext prepares through pgx's driver; the statement sends a
// held-back BEGIN before it runs (database/sql runs a statement prepared on
// the pool, tx.StmtContext, through the driver statement it already holds).
func (c *beginConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &beginStmt{Stmt: st.(*stdlib.Stmt), c: c}, nil
}

// beginStmt is a statement prepared through pgx's driver on a beginConn.
type beginStmt struct {
	*stdlib.Stmt
	c *beginConn
}

func (s *beginStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("store: Exec without a context is not supported")
}

func (s *beginStmt) Query(args []driver.Value) (driver.Rows, error) {
	return nil, errors.New("store: Query without a context is not supported")
}

func (s *beginStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.c.sendBegin(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.ExecContext(ctx, args)
}

func (s *beginStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.sendBegin(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.QueryContext(ctx, args)
}

func (c *beginConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.begin == "" {
		return c.Conn.ExecContext(ctx, query, args)
	}
	if len(args) == 0 {
		// pgx sends a statement without arguments as a simple query,
		// which may hold several commands: the BEGIN goes first in it.
		begin := c.begin
		c.begin, c.began = "", true
		tag, err := c.Conn.Conn().Exec(ctx, begin+"; "+query)
		if err != nil {
			return nil, err
		}
		return driver.RowsAffected(tag.RowsAffected()), nil
	}
	r, err := c.withBegin(ctx, query, args)
	if errors.Is(err, errNotPrepared) {
		return c.Conn.ExecContext(ctx, query, args)
	}
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
	if errors.Is(err, errNotPrepared) {
		return c.Conn.QueryContext(ctx, query, args)
	}
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
	first, err := c.describe(ctx, query)
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// It fails inside its transaction, as with pgx's driver alone,
		// so that the transaction is aborted whatever the caller does
		// next: BEGIN goes first, the statement through pgx's driver.
		if err := c.sendBegin(ctx); err != nil {
			return nil, err
		}
		return nil, errNotPrepared
	}
	if err != nil {
		return nil, err
	}
	values := make([]any, len(args))
	for i, a := range args {
		values[i] = a.Value
	}
	if err := c.eqb.Build(pc.TypeMap(), first.sd, values); err != nil {
		return nil, err
	}
	begin := c.begin
	c.begin, c.began = "", true
	p := pc.PgConn().StartPipeline(ctx)
	p.SendQueryParams(begin, nil, nil, nil, nil)
	p.SendQueryPrepared(first.sd.Name, c.eqb.ParamValues, c.eqb.ParamFormats, first.formats)
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
// mostPrepared most recently used. It runs between transactions, and
// first closes the statements evicted or forgotten since last time.
func (c *beginConn) describe(ctx context.Context, query string) (*preparedFirst, error) {
	c.uses++
	if p, ok := c.prepared[query]; ok {
		p.used = c.uses
		return p, nil
	}
	if len(c.prepared) >= mostPrepared {
		oldest := ""
		for q, p := range c.prepared {
			if oldest == "" || p.used < c.prepared[oldest].used {
				oldest = q
			}
		}
		c.stale = append(c.stale, c.prepared[oldest].sd.Name)
		delete(c.prepared, oldest)
	}
	pc := c.Conn.Conn().PgConn()
	if len(c.stale) > 0 {
		// Closing a statement that no longer exists is not an error.
		p := pc.StartPipeline(ctx)
		for _, name := range c.stale {
			p.SendDeallocate(name)
		}
		err := p.Sync()
		if cerr := p.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		c.stale = c.stale[:0]
	}
	c.named++
	sd, err := pc.Prepare(ctx, fmt.Sprintf("mutual_first_%d", c.named), query, nil)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	first := &preparedFirst{sd: sd, used: c.uses, formats: make([]int16, len(sd.Fields))}
	for i, f := range sd.Fields {
		first.formats[i] = resultFormats[f.DataTypeOID]
	}
	c.prepared[query] = first
	return first, nil
}

// errNotPrepared says a first statement could not be prepared: BEGIN has
// been sent, and the statement goes through pgx's driver.
var errNotPrepared = errors.New("store: the first statement could not be prepared")

// preparedFirst is a first statement prepared on a connection, with the
// result formats pgx's driver would ask for its columns.
type preparedFirst struct {
	sd      *pgconn.StatementDescription
	formats []int16
	used    uint64
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
		r.tag, r.err = tag, cmp.Or(r.err, err)
	}
	r.err = cmp.Or(r.err, r.p.Close())
	if r.err != nil {
		r.c.forget(r.query)
	}
	return r.tag, r.err
}

// forget drops a first statement that failed, as pgx drops its own: the
// schema may have changed under it (a column's type), or the statement may
// have been deallocated (DISCARD ALL). It is prepared afresh next time, and
// closed before that, outside this transaction.
func (c *beginConn) forget(query string) {
	if p, ok := c.prepared[query]; ok {
		delete(c.prepared, query)
		c.stale = append(c.stale, p.sd.Name)
	}
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

// ColumnTypeDatabaseTypeName and the three below answer rows.ColumnTypes
// as pgx's driver does.
func (r *firstRows) ColumnTypeDatabaseTypeName(i int) string {
	if dt, ok := r.c.Conn.Conn().TypeMap().TypeForOID(r.fds[i].DataTypeOID); ok {
		return strings.ToUpper(dt.Name)
	}
	return strconv.FormatInt(int64(r.fds[i].DataTypeOID), 10)
}

func (r *firstRows) ColumnTypeLength(i int) (int64, bool) {
	const varHeaderSize = 4
	fd := r.fds[i]
	switch fd.DataTypeOID {
	case pgtype.TextOID, pgtype.ByteaOID:
		return math.MaxInt64, true
	case pgtype.VarcharOID, pgtype.BPCharOID:
		return int64(fd.TypeModifier - varHeaderSize), true
	case pgtype.VarbitOID:
		return int64(fd.TypeModifier), true
	}
	return 0, false
}

func (r *firstRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	const varHeaderSize = 4
	fd := r.fds[i]
	if fd.DataTypeOID != pgtype.NumericOID {
		return 0, 0, false
	}
	mod := fd.TypeModifier - varHeaderSize
	return int64((mod >> 16) & 0xffff), int64(mod & 0xffff), true
}

func (r *firstRows) ColumnTypeScanType(i int) reflect.Type {
	switch r.fds[i].DataTypeOID {
	case pgtype.Float8OID:
		return reflect.TypeFor[float64]()
	case pgtype.Float4OID:
		return reflect.TypeFor[float32]()
	case pgtype.Int8OID:
		return reflect.TypeFor[int64]()
	case pgtype.Int4OID:
		return reflect.TypeFor[int32]()
	case pgtype.Int2OID:
		return reflect.TypeFor[int16]()
	case pgtype.BoolOID:
		return reflect.TypeFor[bool]()
	case pgtype.NumericOID:
		return reflect.TypeFor[float64]()
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		return reflect.TypeFor[time.Time]()
	case pgtype.ByteaOID:
		return reflect.TypeFor[[]byte]()
	}
	return reflect.TypeFor[string]()
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
