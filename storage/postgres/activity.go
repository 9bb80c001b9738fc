package postgres

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
			domain    text COLLATE "C" NOT NULL,
			local     text COLLATE "C" NOT NULL,
			logout_at timestamptz NOT NULL,
			status    text NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"last_activity"},
}

const (
	setActivitySQL = `INSERT INTO last_activity (domain, local, logout_at, status)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (domain, local) DO UPDATE SET
			logout_at = excluded.logout_at, status = excluded.status`
	getActivitySQL = `SELECT logout_at, status FROM last_activity
		WHERE domain = $1 AND local = $2`
)

// SetLastActivity implements storage.Activity.
func (s *Store) SetLastActivity(ctx context.Context, o storage.Owner, a storage.LastActivity) error {
	_, err := s.pool.Exec(ctx, setActivitySQL, o.Domain, o.Local, micro(a.Time), a.Status)
	if err != nil {
		return fmt.Errorf("postgres: set last activity of %s: %w", o, err)
	}
	return nil
}

// GetLastActivity implements storage.Activity.
func (s *Store) GetLastActivity(ctx context.Context, o storage.Owner) (storage.LastActivity, error) {
	var a storage.LastActivity
	if err := s.pool.QueryRow(ctx, getActivitySQL, o.Domain, o.Local).Scan(&a.Time, &a.Status); err != nil {
		return storage.LastActivity{}, fmt.Errorf("postgres: get last activity of %s: %w", o, notFound(err))
	}
	a.Time = a.Time.UTC()
	return a, nil
}
