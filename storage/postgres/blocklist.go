package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"tern/storage"
)

var blocklistMigration = migration{
	version: 8,
	name:    "blocklist",
	stmts: []string{
		`CREATE TABLE blocklist (
			domain text COLLATE "C" NOT NULL,
			local  text COLLATE "C" NOT NULL,
			jid    text COLLATE "C" NOT NULL, -- bare, full or domain JID, normalized
			PRIMARY KEY (domain, local, jid)
		)`,
	},
	ownerTables: []string{"blocklist"},
}

const (
	// ON CONFLICT DO NOTHING also skips a JID given twice in one call.
	blockSQL = `INSERT INTO blocklist (domain, local, jid)
		SELECT $1, $2, unnest($3::text[])
		ON CONFLICT (domain, local, jid) DO NOTHING`
	unblockSQL      = `DELETE FROM blocklist WHERE domain = $1 AND local = $2 AND jid = ANY($3::text[])`
	unblockAllSQL   = `DELETE FROM blocklist WHERE domain = $1 AND local = $2`
	getBlocklistSQL = `SELECT jid FROM blocklist WHERE domain = $1 AND local = $2 ORDER BY jid`
)

// GetBlocklist implements storage.Blocklist. The "C" collation of the jid
// column sorts in byte order.
func (s *Store) GetBlocklist(ctx context.Context, o storage.Owner) ([]string, error) {
	rows, err := s.pool.Query(ctx, getBlocklistSQL, o.Domain, o.Local)
	var jids []string
	if err == nil {
		jids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get blocklist of %s: %w", o, err)
	}
	return jids, nil
}

// Block implements storage.Blocklist. Every JID is added in one statement.
func (s *Store) Block(ctx context.Context, o storage.Owner, jids []string) error {
	if jids == nil {
		jids = []string{} // pgx sends a nil slice as NULL
	}
	if _, err := s.pool.Exec(ctx, blockSQL, o.Domain, o.Local, jids); err != nil {
		return fmt.Errorf("postgres: block %d JIDs for %s: %w", len(jids), o, err)
	}
	return nil
}

// Unblock implements storage.Blocklist. With no JIDs it empties the
// owner's list.
func (s *Store) Unblock(ctx context.Context, o storage.Owner, jids []string) error {
	var err error
	if len(jids) == 0 {
		_, err = s.pool.Exec(ctx, unblockAllSQL, o.Domain, o.Local)
	} else {
		_, err = s.pool.Exec(ctx, unblockSQL, o.Domain, o.Local, jids)
	}
	if err != nil {
		return fmt.Errorf("postgres: unblock %d JIDs for %s: %w", len(jids), o, err)
	}
	return nil
}
