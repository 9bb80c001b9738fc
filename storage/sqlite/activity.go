package sqlite

import (
	"context"
	"fmt"

	"tern/storage"
)

var activityMigration = migration{
	version: 5,
	name:    "activity",
	stmts: []string{
		`CREATE TABLE last_activity (
			domain    TEXT NOT NULL,
			local     TEXT NOT NULL,
			logout_at INTEGER NOT NULL, -- microseconds since the Unix epoch
			status    TEXT NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"last_activity"},
}

var (
	setActivitySQL = writeSQL(`INSERT INTO last_activity (domain, local, logout_at, status)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (domain, local) DO UPDATE SET
			logout_at = excluded.logout_at, status = excluded.status`)

	getActivitySQL = readSQL(`SELECT logout_at, status FROM last_activity
		WHERE domain = ? AND local = ?`)
)

// SetLastActivity implements storage.Activity.
func (s *Store) SetLastActivity(ctx context.Context, o storage.Owner, a storage.LastActivity) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		_, err := tx.exec(setActivitySQL, o.Domain, o.Local, a.Time.UnixMicro(), a.Status)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set last activity of %s: %w", o, err)
	}
	return nil
}

// GetLastActivity implements storage.Activity.
func (s *Store) GetLastActivity(ctx context.Context, o storage.Owner) (storage.LastActivity, error) {
	var at int64
	var a storage.LastActivity
	if err := s.queryRow(ctx, getActivitySQL, o.Domain, o.Local).Scan(&at, &a.Status); err != nil {
		return storage.LastActivity{}, fmt.Errorf("sqlite: get last activity of %s: %w", o, notFound(err))
	}
	a.Time = fromMicros(at)
	return a, nil
}
