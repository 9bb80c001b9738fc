// Package postgres implements the storage interfaces on PostgreSQL through
// github.com/jackc/pgx/v5.
//
// Every table's primary key starts with the owning account's (domain,
// local), so that a distributed PostgreSQL can shard every table by owner.
// Key columns use the "C" collation, so that sorted results come in byte
// order whatever the database's default collation is. pgx prepares and
// caches each statement on every connection that runs it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tern/storage"
)

// Store is a PostgreSQL storage backend. It implements storage.Store and
// is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database that dsn names and applies every schema
// migration that it lacks. dsn is a libpq connection string in URL or
// keyword/value form, as pgxpool.ParseConfig accepts it, including the
// pool_* settings. If dsn sets search_path, the tables live in its first
// schema, and Open creates that schema when it does not exist. Separate
// schemas let several stores share one database.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's error quotes the DSN, and its password may survive the
		// redaction, so the error is not passed on.
		return nil, errors.New("postgres: invalid connection string (not shown, it may hold a password): " +
			"want a postgres:// URL or keyword=value pairs")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := setUp(ctx, pool, cfg.ConnConfig.RuntimeParams["search_path"]); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s@%s/%s: %w",
			cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool}, nil
}

// setUp creates the search path's first schema if needed and migrates.
func setUp(ctx context.Context, pool *pgxpool.Pool, searchPath string) error {
	if err := pool.Ping(ctx); err != nil {
		return err
	}
	if schema := firstSchema(searchPath); schema != "" {
		if err := createSchema(ctx, pool, schema); err != nil {
			return fmt.Errorf("create schema %q: %w", schema, err)
		}
	}
	return migrate(ctx, pool)
}

// firstSchema returns the first schema of a search_path value, unquoted,
// or "" if there is none or it is "$user".
func firstSchema(searchPath string) string {
	first, _, _ := strings.Cut(searchPath, ",")
	first = strings.TrimSpace(first)
	if len(first) >= 2 && first[0] == '"' && first[len(first)-1] == '"' {
		first = strings.ReplaceAll(first[1:len(first)-1], `""`, `"`)
		if first == "$user" {
			return ""
		}
		return first
	}
	if first == "$user" {
		return ""
	}
	// PostgreSQL folds unquoted identifiers to lower case.
	return strings.ToLower(first)
}

// createSchema creates schema unless it exists. It holds the migration
// lock, so that stores opening together do not race to create it. It
// checks first, because CREATE SCHEMA IF NOT EXISTS needs the CREATE
// privilege on the database even when the schema exists.
func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			return err
		}
		var exists bool
		err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists)
		if err != nil || exists {
			return err
		}
		_, err = tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
		return err
	})
}

// Close closes every connection of the pool. It waits for connections in
// use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// inTx runs fn in a read-write transaction and commits it if fn returns
// nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// inSnapshot runs fn in a read-only transaction that reads from one
// snapshot of the database.
func (s *Store) inSnapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	return pgx.BeginTxFunc(ctx, s.pool, opts, fn)
}

// notFound maps pgx.ErrNoRows to storage.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}

// blob returns b, or an empty slice for nil, which pgx would send as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// micro truncates t to the microsecond precision of timestamptz. Without
// it PostgreSQL would round, and a stored time could be later than t.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
