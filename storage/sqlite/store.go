// Package sqlite implements the storage interfaces on an embedded SQLite
// database through modernc.org/sqlite, which needs no cgo.
//
// A Store keeps one connection for writes and a pool of query-only
// connections for reads. The database runs in WAL mode, in which readers
// do not block the writer and the writer does not block readers. Every
// write is a transaction that takes the write lock when it begins, and the
// busy timeout makes a second process that writes to the same file (such
// as ternctl next to a running ternd) wait for the lock instead of failing
// with SQLITE_BUSY.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"tern/storage"

	// Registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"
)

// busyTimeoutMillis is how long a connection waits for another process's
// lock on the database file before it fails with SQLITE_BUSY.
const busyTimeoutMillis = 10000

// Store is a SQLite storage backend. It implements storage.Store and is
// safe for concurrent use.
type Store struct {
	write *sql.DB // a single connection, so writes never contend in-process
	read  *sql.DB // query-only connections

	// Prepared statements by query text, filled by Open and read-only after.
	writeStmts map[string]*sql.Stmt
	readStmts  map[string]*sql.Stmt

	// offlinePushes counts the PushOffline calls under way.
	offlinePushes atomic.Int64
}

// The queries of the repository files, registered at package
// initialization through writeSQL and readSQL so that Open can prepare them
// before any transaction holds the single write connection.
var writeQueries, readQueries []string

// writeSQL registers a query that runs in write transactions.
func writeSQL(query string) string {
	writeQueries = append(writeQueries, query)
	return query
}

// readSQL registers a query that runs on the reader pool.
func readSQL(query string) string {
	readQueries = append(readQueries, query)
	return query
}

// Open opens the database file at path, creating it if it does not exist,
// and applies every schema migration that it lacks. The file is in WAL mode
// with synchronous=NORMAL: a committed write survives a crash of the
// process, but the last commits before a power loss or OS crash may be
// lost. An in-memory database (":memory:") is rejected, because the
// reader and writer connections would each see a different one.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: need the path of a database file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	s := &Store{
		writeStmts: make(map[string]*sql.Stmt),
		readStmts:  make(map[string]*sql.Stmt),
	}
	if s.write, err = sql.Open("sqlite", dsn(abs, false)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxIdleTime(0)
	s.write.SetConnMaxLifetime(0)
	if err := migrate(ctx, s.write); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	// Readers open only after the migrations, when the file is in WAL mode.
	if s.read, err = sql.Open("sqlite", dsn(abs, true)); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)

	if err := s.prepareAll(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return s, nil
}

// prepareAll prepares every registered query.
func (s *Store) prepareAll(ctx context.Context) error {
	sets := []struct {
		db      *sql.DB
		queries []string
		stmts   map[string]*sql.Stmt
	}{
		{s.write, writeQueries, s.writeStmts},
		{s.read, readQueries, s.readStmts},
	}
	for _, set := range sets {
		for _, q := range set.queries {
			st, err := set.db.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("prepare %q: %w", q, err)
			}
			set.stmts[q] = st
		}
	}
	return nil
}

// dsn returns the driver's data source name for the file at abs. Writers
// begin with BEGIN IMMEDIATE, which takes the write lock at once and waits
// for it under the busy timeout. A deferred transaction that reads before
// it writes can instead fail with SQLITE_BUSY_SNAPSHOT, which the busy
// timeout does not retry.
func dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMillis))
	q.Set("_foreign_keys", "1")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Close closes every statement and connection of the store.
func (s *Store) Close() error {
	var errs []error
	for _, m := range []map[string]*sql.Stmt{s.writeStmts, s.readStmts} {
		for _, st := range m {
			errs = append(errs, st.Close())
		}
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	errs = append(errs, s.write.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// queryRow runs a single-row query on the reader pool.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.readStmts[query]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return s.read.QueryRowContext(ctx, query, args...)
}

// query runs a query on the reader pool.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := s.readStmts[query]; ok {
		return st.QueryContext(ctx, args...)
	}
	return s.read.QueryContext(ctx, query, args...)
}

// writeTx runs fn in a write transaction and commits it if fn returns nil.
// Transactions wait for each other, because the writer pool has one
// connection.
func (s *Store) writeTx(ctx context.Context, fn func(tx *stmtTx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &stmtTx{ctx: ctx, sqlTx: sqlTx, stmts: s.writeStmts}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(sqlTx.Rollback()))
	}
	return sqlTx.Commit()
}

// readTx runs fn in a read transaction on the reader pool, so that every
// query of fn reads from the same snapshot of the database.
func (s *Store) readTx(ctx context.Context, fn func(tx *stmtTx) error) error {
	sqlTx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	tx := &stmtTx{ctx: ctx, sqlTx: sqlTx, stmts: s.readStmts}
	err = fn(tx)
	return errors.Join(err, ignoreDone(sqlTx.Rollback()))
}

// ignoreDone drops the error Rollback returns for a transaction that the
// driver already ended, such as one whose context was canceled.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// stmtTx is a transaction that runs the store's prepared statements.
type stmtTx struct {
	ctx   context.Context
	sqlTx *sql.Tx
	stmts map[string]*sql.Stmt
}

// stmt returns the transaction's copy of the prepared statement for query.
// database/sql keeps the copy prepared on the connection, so it is prepared
// once per connection. A query that no file registered is prepared for this
// transaction only.
func (tx *stmtTx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := tx.stmts[query]; ok {
		return tx.sqlTx.StmtContext(tx.ctx, st), nil
	}
	return tx.sqlTx.PrepareContext(tx.ctx, query)
}

// exec runs a statement and returns the number of rows it changed.
func (tx *stmtTx) exec(query string, args ...any) (int64, error) {
	st, err := tx.stmt(query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(tx.ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// queryRow runs a single-row query, such as an INSERT … RETURNING.
func (tx *stmtTx) queryRow(query string, args ...any) (*sql.Row, error) {
	st, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(tx.ctx, args...), nil
}

// query runs a query that returns rows.
func (tx *stmtTx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(tx.ctx, args...)
}

// blob returns b, or an empty slice for nil, which the driver would store
// as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// fromMicros converts microseconds since the Unix epoch to a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nowMicros returns the current time in microseconds since the Unix epoch.
func nowMicros() int64 { return time.Now().UnixMicro() }

// notFound maps sql.ErrNoRows to storage.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}
