package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migration is one step of the database schema.
type migration struct {
	version int    // position in migrations, counting from 1
	name    string // short description, stored in schema_migrations
	stmts   []string
	// ownerTables lists the tables this step creates whose rows belong to
	// one account, keyed by (domain, local). DeleteAccount clears them.
	ownerTables []string
}

// migrations is the schema history, applied in order. Append new steps;
// never edit or reorder one that a release has applied.
var migrations = []migration{
	accountsMigration,
	rosterMigration,
	offlineMigration,
	kvMigration,
	activityMigration,
	archiveMigration,
	mucMigration,
	blocklistMigration,
	pubsubMigration,
}

// ownerTables returns every table whose rows belong to one account.
func ownerTables() []string {
	var tables []string
	for _, m := range migrations {
		tables = append(tables, m.ownerTables...)
	}
	return tables
}

// migrationLock is the key of the transaction-level advisory lock that
// serializes migrations, so that nodes starting together apply each step
// once. Its value is arbitrary; it only has to be the same on every node.
const migrationLock = 0x7465726e // "tern"

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate applies, in order, every migration newer than the database's
// schema version, each in its own transaction. It fails if the database
// has a newer schema than the last migration of this build.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	if err := checkMigrations(migrations); err != nil {
		return err
	}
	for _, m := range migrations {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return applyMigration(ctx, tx, m) })
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// checkMigrations checks that versions count up from 1 with no gap.
func checkMigrations(ms []migration) error {
	for i, m := range ms {
		if m.version != i+1 {
			return fmt.Errorf("migration %q has version %d, want %d", m.name, m.version, i+1)
		}
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for none.
func schemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	err := q.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// applyMigration applies m in tx unless the database already has it.
func applyMigration(ctx context.Context, tx pgx.Tx, m migration) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
		return err
	}
	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program supports (%d): use a newer release",
			current, len(migrations))
	}
	if current >= m.version {
		return nil
	}
	for _, stmt := range m.stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
	return err
}
