package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"tern/storage"
)

var pubsubMigration = migration{
	version: 9,
	name:    "pubsub",
	stmts: []string{
		`CREATE TABLE pubsub_nodes (
			domain       TEXT NOT NULL,
			local        TEXT NOT NULL,
			node         TEXT NOT NULL,
			config       TEXT NOT NULL, -- JSON object: field name to values
			affiliations TEXT NOT NULL, -- JSON object: bare JID to affiliation
			last_seq     INTEGER NOT NULL, -- seq of the newest publication
			PRIMARY KEY (domain, local, node)
		)`,
		// seq orders the items of a node by publication; republishing an
		// id gives the item a new seq.
		`CREATE TABLE pubsub_items (
			domain    TEXT NOT NULL,
			local     TEXT NOT NULL,
			node      TEXT NOT NULL,
			id        TEXT NOT NULL,
			seq       INTEGER NOT NULL,
			publisher TEXT NOT NULL,
			payload   BLOB NOT NULL,
			published INTEGER NOT NULL, -- microseconds since the Unix epoch
			PRIMARY KEY (domain, local, node, id)
		)`,
		`CREATE INDEX pubsub_items_order ON pubsub_items (domain, local, node, seq)`,
	},
	ownerTables: []string{"pubsub_nodes", "pubsub_items"},
}

var (
	createNodeSQL = writeSQL(`INSERT INTO pubsub_nodes
		(domain, local, node, config, affiliations, last_seq) VALUES (?, ?, ?, ?, ?, 0)
		ON CONFLICT (domain, local, node) DO NOTHING`)
	configureNodeSQL = writeSQL(`UPDATE pubsub_nodes SET config = ?, affiliations = ?
		WHERE domain = ? AND local = ? AND node = ?`)
	deleteNodeSQL = writeSQL(`DELETE FROM pubsub_nodes
		WHERE domain = ? AND local = ? AND node = ?`)
	bumpNodeSeqSQL = writeSQL(`UPDATE pubsub_nodes SET last_seq = last_seq + 1
		WHERE domain = ? AND local = ? AND node = ? RETURNING last_seq`)
	putItemSQL = writeSQL(`INSERT INTO pubsub_items
		(domain, local, node, id, seq, publisher, payload, published)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, local, node, id) DO UPDATE SET seq = excluded.seq,
			publisher = excluded.publisher, payload = excluded.payload,
			published = excluded.published`)
	// trimItemsSQL deletes the items older than the newest N (last
	// argument). With fewer items the subquery is NULL and nothing goes.
	trimItemsSQL = writeSQL(`DELETE FROM pubsub_items
		WHERE domain = ?1 AND local = ?2 AND node = ?3 AND seq <= (
			SELECT seq FROM pubsub_items WHERE domain = ?1 AND local = ?2 AND node = ?3
			ORDER BY seq DESC LIMIT 1 OFFSET ?4)`)
	deleteItemSQL = writeSQL(`DELETE FROM pubsub_items
		WHERE domain = ? AND local = ? AND node = ? AND id = ?`)
	deleteItemsSQL = writeSQL(`DELETE FROM pubsub_items
		WHERE domain = ? AND local = ? AND node = ?`)

	nodeExistsSQL = readSQL(writeSQL(`SELECT 1 FROM pubsub_nodes
		WHERE domain = ? AND local = ? AND node = ?`))
	getNodeSQL = readSQL(`SELECT node, config, affiliations FROM pubsub_nodes
		WHERE domain = ? AND local = ? AND node = ?`)
	listNodesSQL = readSQL(`SELECT node, config, affiliations FROM pubsub_nodes
		WHERE domain = ? AND local = ? ORDER BY node`)
	// getItemsSQL returns the newest items first; a negative LIMIT means
	// no limit in SQLite.
	getItemsSQL = readSQL(`SELECT id, publisher, payload, published FROM pubsub_items
		WHERE domain = ? AND local = ? AND node = ? ORDER BY seq DESC LIMIT ?`)
	getItemSQL = readSQL(`SELECT id, publisher, payload, published FROM pubsub_items
		WHERE domain = ? AND local = ? AND node = ? AND id = ?`)
)

// CreateNode implements storage.PubSub.
func (s *Store) CreateNode(ctx context.Context, o storage.Owner, n storage.PubSubNode) error {
	config, affs, err := encodeNode(n)
	if err != nil {
		return fmt.Errorf("sqlite: create node %q of %s: %w", n.Name, o, err)
	}
	err = s.writeTx(ctx, func(tx *stmtTx) error {
		created, err := tx.exec(createNodeSQL, o.Domain, o.Local, n.Name, config, affs)
		if err == nil && created == 0 {
			err = storage.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create node %q of %s: %w", n.Name, o, err)
	}
	return nil
}

// GetNode implements storage.PubSub.
func (s *Store) GetNode(ctx context.Context, o storage.Owner, name string) (storage.PubSubNode, error) {
	n, err := scanNode(s.queryRow(ctx, getNodeSQL, o.Domain, o.Local, name))
	if err != nil {
		return storage.PubSubNode{}, fmt.Errorf("sqlite: get node %q of %s: %w", name, o, notFound(err))
	}
	return n, nil
}

// ListNodes implements storage.PubSub.
func (s *Store) ListNodes(ctx context.Context, o storage.Owner) ([]storage.PubSubNode, error) {
	rows, err := s.query(ctx, listNodesSQL, o.Domain, o.Local)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list nodes of %s: %w", o, err)
	}
	defer rows.Close()
	var nodes []storage.PubSubNode
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list nodes of %s: %w", o, err)
		}
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list nodes of %s: %w", o, err)
	}
	return nodes, nil
}

// ConfigureNode implements storage.PubSub.
func (s *Store) ConfigureNode(ctx context.Context, o storage.Owner, n storage.PubSubNode, maxItems int) error {
	config, affs, err := encodeNode(n)
	if err != nil {
		return fmt.Errorf("sqlite: configure node %q of %s: %w", n.Name, o, err)
	}
	err = s.writeTx(ctx, func(tx *stmtTx) error {
		changed, err := tx.exec(configureNodeSQL, config, affs, o.Domain, o.Local, n.Name)
		if err != nil {
			return err
		}
		if changed == 0 {
			return storage.ErrNotFound
		}
		return trimItems(tx, o, n.Name, maxItems)
	})
	if err != nil {
		return fmt.Errorf("sqlite: configure node %q of %s: %w", n.Name, o, err)
	}
	return nil
}

// DeleteNode implements storage.PubSub.
func (s *Store) DeleteNode(ctx context.Context, o storage.Owner, name string) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		deleted, err := tx.exec(deleteNodeSQL, o.Domain, o.Local, name)
		if err != nil {
			return err
		}
		if deleted == 0 {
			return storage.ErrNotFound
		}
		_, err = tx.exec(deleteItemsSQL, o.Domain, o.Local, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete node %q of %s: %w", name, o, err)
	}
	return nil
}

// PublishItem implements storage.PubSub.
func (s *Store) PublishItem(ctx context.Context, o storage.Owner, node string, item storage.PubSubItem, maxItems int) error {
	published := nowMicros()
	if !item.Published.IsZero() {
		published = item.Published.UnixMicro()
	}
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		row, err := tx.queryRow(bumpNodeSeqSQL, o.Domain, o.Local, node)
		if err != nil {
			return err
		}
		var seq int64
		if err := row.Scan(&seq); err != nil {
			return notFound(err)
		}
		_, err = tx.exec(putItemSQL, o.Domain, o.Local, node, item.ID, seq,
			item.Publisher, blob(item.Payload), published)
		if err != nil {
			return err
		}
		return trimItems(tx, o, node, maxItems)
	})
	if err != nil {
		return fmt.Errorf("sqlite: publish item %q to node %q of %s: %w", item.ID, node, o, err)
	}
	return nil
}

// trimItems deletes the node's oldest items beyond maxItems.
func trimItems(tx *stmtTx, o storage.Owner, node string, maxItems int) error {
	if maxItems <= 0 {
		return nil
	}
	_, err := tx.exec(trimItemsSQL, o.Domain, o.Local, node, maxItems)
	return err
}

// GetItems implements storage.PubSub. It checks the node and reads the
// items in one transaction.
func (s *Store) GetItems(ctx context.Context, o storage.Owner, node string, max int) ([]storage.PubSubItem, error) {
	limit := int64(max)
	if max <= 0 {
		limit = -1
	}
	// Presence and login look up nodes that most accounts do not have, such
	// as avatar metadata. One query finds those missing without a transaction.
	if err := scanExists(s.queryRow(ctx, nodeExistsSQL, o.Domain, o.Local, node)); err != nil {
		return nil, fmt.Errorf("sqlite: get items of node %q of %s: %w", node, o, err)
	}
	var items []storage.PubSubItem
	err := s.readTx(ctx, func(tx *stmtTx) error {
		if err := nodeExists(tx, o, node); err != nil {
			return err
		}
		rows, err := tx.query(getItemsSQL, o.Domain, o.Local, node, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanPubSubItem(rows)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: get items of node %q of %s: %w", node, o, err)
	}
	slices.Reverse(items)
	return items, nil
}

// GetItem implements storage.PubSub.
func (s *Store) GetItem(ctx context.Context, o storage.Owner, node, id string) (storage.PubSubItem, error) {
	it, err := scanPubSubItem(s.queryRow(ctx, getItemSQL, o.Domain, o.Local, node, id))
	if err != nil {
		return storage.PubSubItem{}, fmt.Errorf("sqlite: get item %q of node %q of %s: %w", id, node, o, notFound(err))
	}
	return it, nil
}

// RetractItem implements storage.PubSub.
func (s *Store) RetractItem(ctx context.Context, o storage.Owner, node, id string) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		deleted, err := tx.exec(deleteItemSQL, o.Domain, o.Local, node, id)
		if err == nil && deleted == 0 {
			err = storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: retract item %q of node %q of %s: %w", id, node, o, err)
	}
	return nil
}

// PurgeNode implements storage.PubSub.
func (s *Store) PurgeNode(ctx context.Context, o storage.Owner, node string) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		if err := nodeExists(tx, o, node); err != nil {
			return err
		}
		_, err := tx.exec(deleteItemsSQL, o.Domain, o.Local, node)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: purge node %q of %s: %w", node, o, err)
	}
	return nil
}

// nodeExists returns storage.ErrNotFound when the owner has no such node.
func nodeExists(tx *stmtTx, o storage.Owner, node string) error {
	row, err := tx.queryRow(nodeExistsSQL, o.Domain, o.Local, node)
	if err != nil {
		return err
	}
	return scanExists(row)
}

// scanExists returns storage.ErrNotFound unless row, the result of a
// nodeExistsSQL query, has a row.
func scanExists(row *sql.Row) error {
	var one int
	return notFound(row.Scan(&one))
}

// encodeNode serializes a node's configuration and affiliations as JSON.
func encodeNode(n storage.PubSubNode) (config, affs string, err error) {
	c, err := json.Marshal(n.Config)
	if err != nil {
		return "", "", err
	}
	a, err := json.Marshal(n.Affiliations)
	if err != nil {
		return "", "", err
	}
	return string(c), string(a), nil
}

type pubsubRow interface{ Scan(dest ...any) error }

func scanNode(row pubsubRow) (storage.PubSubNode, error) {
	var n storage.PubSubNode
	var config, affs string
	if err := row.Scan(&n.Name, &config, &affs); err != nil {
		return n, err
	}
	if err := json.Unmarshal([]byte(config), &n.Config); err != nil {
		return n, fmt.Errorf("decode config of node %q: %w", n.Name, err)
	}
	if err := json.Unmarshal([]byte(affs), &n.Affiliations); err != nil {
		return n, fmt.Errorf("decode affiliations of node %q: %w", n.Name, err)
	}
	return n, nil
}

func scanPubSubItem(row pubsubRow) (storage.PubSubItem, error) {
	var it storage.PubSubItem
	var published int64
	if err := row.Scan(&it.ID, &it.Publisher, &it.Payload, &published); err != nil {
		return it, err
	}
	it.Published = fromMicros(published)
	return it, nil
}
