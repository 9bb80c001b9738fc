package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"tern/storage"
)

var rosterMigration = migration{
	version: 2,
	name:    "roster",
	stmts: []string{
		`CREATE TABLE roster_items (
			domain       text COLLATE "C" NOT NULL,
			local        text COLLATE "C" NOT NULL,
			contact      text COLLATE "C" NOT NULL, -- bare JID
			name         text NOT NULL,
			groups       text[] NOT NULL, -- in the client's order
			subscription text NOT NULL,
			ask_out      boolean NOT NULL,
			pending_in   boolean NOT NULL,
			pre_approved boolean NOT NULL,
			listed       boolean NOT NULL,
			stanza       bytea,
			PRIMARY KEY (domain, local, contact)
		)`,
		// Every roster change increments the owner's row in the same
		// transaction. The row lock orders concurrent changes, so versions
		// increase in commit order.
		`CREATE TABLE roster_versions (
			domain  text COLLATE "C" NOT NULL,
			local   text COLLATE "C" NOT NULL,
			version bigint NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"roster_items", "roster_versions"},
}

// rosterColumns are the columns scanItem reads, in its order.
const rosterColumns = `contact, name, groups, subscription,
	ask_out, pending_in, pre_approved, listed, stanza`

const (
	bumpRosterVersionSQL = `INSERT INTO roster_versions (domain, local, version)
		VALUES ($1, $2, 1)
		ON CONFLICT (domain, local) DO UPDATE SET version = roster_versions.version + 1
		RETURNING version`
	putRosterItemSQL = `INSERT INTO roster_items (domain, local, ` + rosterColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (domain, local, contact) DO UPDATE SET
			name = excluded.name, groups = excluded.groups,
			subscription = excluded.subscription, ask_out = excluded.ask_out,
			pending_in = excluded.pending_in, pre_approved = excluded.pre_approved,
			listed = excluded.listed, stanza = excluded.stanza`
	deleteRosterItemSQL = `DELETE FROM roster_items
		WHERE domain = $1 AND local = $2 AND contact = $3`
	getRosterSQL = `SELECT ` + rosterColumns + ` FROM roster_items
		WHERE domain = $1 AND local = $2 ORDER BY contact`
	getRosterVersionSQL = `SELECT COALESCE(MAX(version), 0) FROM roster_versions
		WHERE domain = $1 AND local = $2`
	getRosterItemSQL = `SELECT ` + rosterColumns + ` FROM roster_items
		WHERE domain = $1 AND local = $2 AND contact = $3`
)

// GetRoster implements storage.Roster. It reads the items and the version
// from one snapshot, so they match.
func (s *Store) GetRoster(ctx context.Context, o storage.Owner) ([]storage.RosterItem, int64, error) {
	var items []storage.RosterItem
	var version int64
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, getRosterSQL, o.Domain, o.Local)
		if err != nil {
			return err
		}
		if items, err = pgx.CollectRows(rows, scanItem); err != nil {
			return err
		}
		return tx.QueryRow(ctx, getRosterVersionSQL, o.Domain, o.Local).Scan(&version)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: get roster of %s: %w", o, err)
	}
	return items, version, nil
}

// GetRosterItem implements storage.Roster.
func (s *Store) GetRosterItem(ctx context.Context, o storage.Owner, contact string) (storage.RosterItem, error) {
	rows, err := s.pool.Query(ctx, getRosterItemSQL, o.Domain, o.Local, contact)
	var item storage.RosterItem
	if err == nil {
		item, err = pgx.CollectExactlyOneRow(rows, scanItem)
	}
	if err != nil {
		return storage.RosterItem{}, fmt.Errorf("postgres: get roster item %s of %s: %w", contact, o, notFound(err))
	}
	return item, nil
}

// PutRosterItem implements storage.Roster.
func (s *Store) PutRosterItem(ctx context.Context, o storage.Owner, item storage.RosterItem) (int64, error) {
	groups := item.Groups
	if groups == nil {
		groups = []string{}
	}
	var version int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, bumpRosterVersionSQL, o.Domain, o.Local).Scan(&version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, putRosterItemSQL, o.Domain, o.Local, item.JID, item.Name,
			groups, item.Subscription, item.AskOut, item.PendingIn,
			item.PreApproved, item.Listed, item.Stanza)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: put roster item %s of %s: %w", item.JID, o, err)
	}
	return version, nil
}

// DeleteRosterItem implements storage.Roster. Like PutRosterItem it locks
// the version row before the item row, so the two cannot deadlock. When the
// item is missing, the rollback undoes the increment.
func (s *Store) DeleteRosterItem(ctx context.Context, o storage.Owner, contact string) (int64, error) {
	var version int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, bumpRosterVersionSQL, o.Domain, o.Local).Scan(&version); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, deleteRosterItemSQL, o.Domain, o.Local, contact)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete roster item %s of %s: %w", contact, o, err)
	}
	return version, nil
}

// scanItem reads one row of rosterColumns.
func scanItem(row pgx.CollectableRow) (storage.RosterItem, error) {
	var item storage.RosterItem
	err := row.Scan(&item.JID, &item.Name, &item.Groups, &item.Subscription,
		&item.AskOut, &item.PendingIn, &item.PreApproved, &item.Listed, &item.Stanza)
	return item, err
}
