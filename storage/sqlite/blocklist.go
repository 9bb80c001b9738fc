package sqlite

import (
	"context"
	"fmt"

	"tern/storage"
)

var blocklistMigration = migration{
	version: 8,
	name:    "blocklist",
	stmts: []string{
		`CREATE TABLE blocklist (
			domain TEXT NOT NULL,
			local  TEXT NOT NULL,
			jid    TEXT NOT NULL, -- bare, full or domain JID, normalized
			PRIMARY KEY (domain, local, jid)
		)`,
	},
	ownerTables: []string{"blocklist"},
}

var (
	blockSQL = writeSQL(`INSERT INTO blocklist (domain, local, jid) VALUES (?, ?, ?)
		ON CONFLICT (domain, local, jid) DO NOTHING`)
	unblockSQL    = writeSQL(`DELETE FROM blocklist WHERE domain = ? AND local = ? AND jid = ?`)
	unblockAllSQL = writeSQL(`DELETE FROM blocklist WHERE domain = ? AND local = ?`)

	// The BINARY collation of SQLite compares bytes, so the list comes
	// in byte order.
	getBlocklistSQL = readSQL(`SELECT jid FROM blocklist WHERE domain = ? AND local = ? ORDER BY jid`)
)

// GetBlocklist implements storage.Blocklist.
func (s *Store) GetBlocklist(ctx context.Context, o storage.Owner) ([]string, error) {
	jids, err := s.blocklist(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get blocklist of %s: %w", o, err)
	}
	return jids, nil
}

func (s *Store) blocklist(ctx context.Context, o storage.Owner) ([]string, error) {
	rows, err := s.query(ctx, getBlocklistSQL, o.Domain, o.Local)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jids []string
	for rows.Next() {
		var j string
		if err := rows.Scan(&j); err != nil {
			return nil, err
		}
		jids = append(jids, j)
	}
	return jids, rows.Err()
}

// Block implements storage.Blocklist. Every JID is added in one
// transaction.
func (s *Store) Block(ctx context.Context, o storage.Owner, jids []string) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		for _, j := range jids {
			if _, err := tx.exec(blockSQL, o.Domain, o.Local, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: block %d JIDs for %s: %w", len(jids), o, err)
	}
	return nil
}

// Unblock implements storage.Blocklist. With no JIDs it empties the
// owner's list.
func (s *Store) Unblock(ctx context.Context, o storage.Owner, jids []string) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		if len(jids) == 0 {
			_, err := tx.exec(unblockAllSQL, o.Domain, o.Local)
			return err
		}
		for _, j := range jids {
			if _, err := tx.exec(unblockSQL, o.Domain, o.Local, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: unblock %d JIDs for %s: %w", len(jids), o, err)
	}
	return nil
}
