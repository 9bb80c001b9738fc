package postgres

import (
	"context"
	"fmt"

	"tern/storage"
)

var kvMigration = migration{
	version: 4,
	name:    "kv",
	stmts: []string{
		`CREATE TABLE kv (
			domain text COLLATE "C" NOT NULL,
			local  text COLLATE "C" NOT NULL,
			name   text COLLATE "C" NOT NULL,
			value  bytea NOT NULL,
			PRIMARY KEY (domain, local, name)
		)`,
	},
	ownerTables: []string{"kv"},
}

const (
	putValueSQL = `INSERT INTO kv (domain, local, name, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (domain, local, name) DO UPDATE SET value = excluded.value`
	deleteValueSQL = `DELETE FROM kv WHERE domain = $1 AND local = $2 AND name = $3`
	getValueSQL    = `SELECT value FROM kv WHERE domain = $1 AND local = $2 AND name = $3`
)

// GetValue implements storage.KV.
func (s *Store) GetValue(ctx context.Context, o storage.Owner, key string) ([]byte, error) {
	var v []byte
	if err := s.pool.QueryRow(ctx, getValueSQL, o.Domain, o.Local, key).Scan(&v); err != nil {
		return nil, fmt.Errorf("postgres: get value %q of %s: %w", key, o, notFound(err))
	}
	return v, nil
}

// PutValue implements storage.KV.
func (s *Store) PutValue(ctx context.Context, o storage.Owner, key string, value []byte) error {
	if _, err := s.pool.Exec(ctx, putValueSQL, o.Domain, o.Local, key, blob(value)); err != nil {
		return fmt.Errorf("postgres: put value %q of %s: %w", key, o, err)
	}
	return nil
}

// DeleteValue implements storage.KV.
func (s *Store) DeleteValue(ctx context.Context, o storage.Owner, key string) error {
	if _, err := s.pool.Exec(ctx, deleteValueSQL, o.Domain, o.Local, key); err != nil {
		return fmt.Errorf("postgres: delete value %q of %s: %w", key, o, err)
	}
	return nil
}
