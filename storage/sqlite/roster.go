package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"tern/storage"
)

var rosterMigration = migration{
	version: 2,
	name:    "roster",
	stmts: []string{
		`CREATE TABLE roster_items (
			domain       TEXT NOT NULL,
			local        TEXT NOT NULL,
			contact      TEXT NOT NULL, -- bare JID
			name         TEXT NOT NULL,
			groups_json  TEXT NOT NULL, -- JSON array of group names, in order
			subscription TEXT NOT NULL,
			ask_out      BOOLEAN NOT NULL,
			pending_in   BOOLEAN NOT NULL,
			pre_approved BOOLEAN NOT NULL,
			listed       BOOLEAN NOT NULL,
			stanza       BLOB,
			PRIMARY KEY (domain, local, contact)
		)`,
		`CREATE TABLE roster_versions (
			domain  TEXT NOT NULL,
			local   TEXT NOT NULL,
			version INTEGER NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"roster_items", "roster_versions"},
}

// rosterColumns are the columns scanItem reads, in its order.
const rosterColumns = `contact, name, groups_json, subscription,
	ask_out, pending_in, pre_approved, listed, stanza`

var (
	bumpRosterVersionSQL = writeSQL(`INSERT INTO roster_versions (domain, local, version)
		VALUES (?, ?, 1)
		ON CONFLICT (domain, local) DO UPDATE SET version = roster_versions.version + 1
		RETURNING version`)
	putRosterItemSQL = writeSQL(`INSERT INTO roster_items (domain, local, ` + rosterColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, local, contact) DO UPDATE SET
			name = excluded.name, groups_json = excluded.groups_json,
			subscription = excluded.subscription, ask_out = excluded.ask_out,
			pending_in = excluded.pending_in, pre_approved = excluded.pre_approved,
			listed = excluded.listed, stanza = excluded.stanza`)
	deleteRosterItemSQL = writeSQL(`DELETE FROM roster_items
		WHERE domain = ? AND local = ? AND contact = ?`)

	// getRosterSQL returns the version row (is_item false, with the
	// columns of an empty item) and then the items, ordered by contact.
	getRosterSQL = readSQL(`SELECT FALSE AS is_item, version,
			'', '', '[]', '', FALSE, FALSE, FALSE, FALSE, NULL
		FROM roster_versions WHERE domain = ?1 AND local = ?2
		UNION ALL
		SELECT TRUE, 0, ` + rosterColumns + ` FROM roster_items
		WHERE domain = ?1 AND local = ?2
		ORDER BY 1, 3`)
	getRosterItemSQL = readSQL(`SELECT ` + rosterColumns + ` FROM roster_items
		WHERE domain = ? AND local = ? AND contact = ?`)
)

// GetRoster implements storage.Roster. One statement reads the version
// and the items, so they come from one snapshot without a transaction.
func (s *Store) GetRoster(ctx context.Context, o storage.Owner) ([]storage.RosterItem, int64, error) {
	items, version, err := s.getRoster(ctx, o)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: get roster of %s: %w", o, err)
	}
	return items, version, nil
}

func (s *Store) getRoster(ctx context.Context, o storage.Owner) ([]storage.RosterItem, int64, error) {
	rows, err := s.query(ctx, getRosterSQL, o.Domain, o.Local)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var items []storage.RosterItem
	var version int64
	for rows.Next() {
		var isItem bool
		var rowVersion int64
		item, err := scanItem(prefixedRow{rows, []any{&isItem, &rowVersion}})
		if err != nil {
			return nil, 0, err
		}
		if isItem {
			items = append(items, item)
		} else {
			version = rowVersion
		}
	}
	return items, version, rows.Err()
}

// prefixedRow scans the columns of a row into prefix and then into the
// destinations its caller passes.
type prefixedRow struct {
	rows   *sql.Rows
	prefix []any
}

func (r prefixedRow) Scan(dest ...any) error {
	return r.rows.Scan(append(r.prefix, dest...)...)
}

// GetRosterItem implements storage.Roster.
func (s *Store) GetRosterItem(ctx context.Context, o storage.Owner, contact string) (storage.RosterItem, error) {
	item, err := scanItem(s.queryRow(ctx, getRosterItemSQL, o.Domain, o.Local, contact))
	if err != nil {
		return storage.RosterItem{}, fmt.Errorf("sqlite: get roster item %s of %s: %w", contact, o, notFound(err))
	}
	return item, nil
}

// PutRosterItem implements storage.Roster.
func (s *Store) PutRosterItem(ctx context.Context, o storage.Owner, item storage.RosterItem) (int64, error) {
	groups, err := json.Marshal(item.Groups)
	if err != nil {
		return 0, fmt.Errorf("sqlite: put roster item %s of %s: %w", item.JID, o, err)
	}
	var version int64
	err = s.writeTx(ctx, func(tx *stmtTx) error {
		if version, err = bumpRosterVersion(tx, o); err != nil {
			return err
		}
		_, err := tx.exec(putRosterItemSQL, o.Domain, o.Local, item.JID, item.Name,
			string(groups), item.Subscription, item.AskOut, item.PendingIn,
			item.PreApproved, item.Listed, item.Stanza)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: put roster item %s of %s: %w", item.JID, o, err)
	}
	return version, nil
}

// DeleteRosterItem implements storage.Roster.
func (s *Store) DeleteRosterItem(ctx context.Context, o storage.Owner, contact string) (int64, error) {
	var version int64
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		n, err := tx.exec(deleteRosterItemSQL, o.Domain, o.Local, contact)
		if err != nil {
			return err
		}
		if n == 0 {
			return storage.ErrNotFound
		}
		version, err = bumpRosterVersion(tx, o)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete roster item %s of %s: %w", contact, o, err)
	}
	return version, nil
}

// bumpRosterVersion increments the owner's roster version and returns it.
func bumpRosterVersion(tx *stmtTx, o storage.Owner) (int64, error) {
	row, err := tx.queryRow(bumpRosterVersionSQL, o.Domain, o.Local)
	if err != nil {
		return 0, err
	}
	var v int64
	err = row.Scan(&v)
	return v, err
}

// scanItem reads one row of rosterColumns.
func scanItem(row interface{ Scan(...any) error }) (storage.RosterItem, error) {
	var item storage.RosterItem
	var groups string
	err := row.Scan(&item.JID, &item.Name, &groups, &item.Subscription,
		&item.AskOut, &item.PendingIn, &item.PreApproved, &item.Listed, &item.Stanza)
	if err != nil {
		return storage.RosterItem{}, err
	}
	if err := json.Unmarshal([]byte(groups), &item.Groups); err != nil {
		return storage.RosterItem{}, fmt.Errorf("decode groups of %s: %w", item.JID, err)
	}
	return item, nil
}
