package sqlite

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
			domain TEXT NOT NULL,
			local  TEXT NOT NULL,
			name   TEXT NOT NULL,
			value  BLOB NOT NULL,
			PRIMARY KEY (domain, local, name)
		)`,
	},
	ownerTables: []string{"kv"},
}

var (
	putValueSQL = writeSQL(`INSERT INTO kv (domain, local, name, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (domain, local, name) DO UPDATE SET value = excluded.value`)
	deleteValueSQL = writeSQL(`DELETE FROM kv WHERE domain = ? AND local = ? AND name = ?`)

	getValueSQL = readSQL(`SELECT value FROM kv WHERE domain = ? AND local = ? AND name = ?`)
)

// GetValue implements storage.KV.
func (s *Store) GetValue(ctx context.Context, o storage.Owner, key string) ([]byte, error) {
	var v []byte
	if err := s.queryRow(ctx, getValueSQL, o.Domain, o.Local, key).Scan(&v); err != nil {
		return nil, fmt.Errorf("sqlite: get value %q of %s: %w", key, o, notFound(err))
	}
	return v, nil
}

// PutValue implements storage.KV.
func (s *Store) PutValue(ctx context.Context, o storage.Owner, key string, value []byte) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		_, err := tx.exec(putValueSQL, o.Domain, o.Local, key, blob(value))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put value %q of %s: %w", key, o, err)
	}
	return nil
}

// DeleteValue implements storage.KV.
func (s *Store) DeleteValue(ctx context.Context, o storage.Owner, key string) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		_, err := tx.exec(deleteValueSQL, o.Domain, o.Local, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete value %q of %s: %w", key, o, err)
	}
	return nil
}
