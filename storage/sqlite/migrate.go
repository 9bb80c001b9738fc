package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
)`

// migrate applies, in order, every migration newer than the database's
// schema version, each in its own transaction. It fails if the database
// has a newer schema than the last migration of this build.
func migrate(ctx context.Context, db *sql.DB) error {
	if err := checkMigrations(migrations); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, m); err != nil {
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
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// applyMigration applies m unless the database already has it. The
// version is read inside the write transaction, so two processes opening
// the same file apply each step once.
func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
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
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx,
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, nowMicros())
	if err != nil {
		return err
	}
	return tx.Commit()
}
