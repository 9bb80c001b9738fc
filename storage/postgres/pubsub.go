package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"tern/storage"
)

var pubsubMigration = migration{
	version: 9,
	name:    "pubsub",
	stmts: []string{
		// PublishItem increments last_seq first, so the row lock orders
		// concurrent publications to one node.
		`CREATE TABLE pubsub_nodes (
			domain       text COLLATE "C" NOT NULL,
			local        text COLLATE "C" NOT NULL,
			node         text COLLATE "C" NOT NULL,
			config       text NOT NULL, -- JSON object: field name to values
			affiliations text NOT NULL, -- JSON object: bare JID to affiliation
			last_seq     bigint NOT NULL, -- seq of the newest publication
			PRIMARY KEY (domain, local, node)
		)`,
		// seq orders the items of a node by publication; republishing an
		// id gives the item a new seq.
		`CREATE TABLE pubsub_items (
			domain    text COLLATE "C" NOT NULL,
			local     text COLLATE "C" NOT NULL,
			node      text COLLATE "C" NOT NULL,
			id        text COLLATE "C" NOT NULL,
			seq       bigint NOT NULL,
			publisher text NOT NULL,
			payload   bytea NOT NULL,
			published timestamptz NOT NULL,
			PRIMARY KEY (domain, local, node, id)
		)`,
		`CREATE INDEX pubsub_items_order ON pubsub_items (domain, local, node, seq)`,
	},
	ownerTables: []string{"pubsub_nodes", "pubsub_items"},
}

const (
	createNodeSQL = `INSERT INTO pubsub_nodes
		(domain, local, node, config, affiliations, last_seq) VALUES ($1, $2, $3, $4, $5, 0)
		ON CONFLICT (domain, local, node) DO NOTHING`
	configureNodeSQL = `UPDATE pubsub_nodes SET config = $4, affiliations = $5
		WHERE domain = $1 AND local = $2 AND node = $3`
	deleteNodeSQL = `DELETE FROM pubsub_nodes
		WHERE domain = $1 AND local = $2 AND node = $3`
	bumpNodeSeqSQL = `UPDATE pubsub_nodes SET last_seq = last_seq + 1
		WHERE domain = $1 AND local = $2 AND node = $3 RETURNING last_seq`
	putItemSQL = `INSERT INTO pubsub_items
		(domain, local, node, id, seq, publisher, payload, published)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (domain, local, node, id) DO UPDATE SET seq = excluded.seq,
			publisher = excluded.publisher, payload = excluded.payload,
			published = excluded.published`
	// trimItemsSQL deletes the items older than the newest $4. With fewer
	// items the subquery is NULL and nothing goes.
	trimItemsSQL = `DELETE FROM pubsub_items
		WHERE domain = $1 AND local = $2 AND node = $3 AND seq <= (
			SELECT seq FROM pubsub_items WHERE domain = $1 AND local = $2 AND node = $3
			ORDER BY seq DESC LIMIT 1 OFFSET $4)`
	deleteItemSQL = `DELETE FROM pubsub_items
		WHERE domain = $1 AND local = $2 AND node = $3 AND id = $4`
	deleteItemsSQL = `DELETE FROM pubsub_items
		WHERE domain = $1 AND local = $2 AND node = $3`
	// lockNodeSQL locks the node's row, so that a purge and a concurrent
	// publication do not interleave.
	lockNodeSQL = `SELECT 1 FROM pubsub_nodes
		WHERE domain = $1 AND local = $2 AND node = $3 FOR UPDATE`
	nodeExistsSQL = `SELECT 1 FROM pubsub_nodes
		WHERE domain = $1 AND local = $2 AND node = $3`
	getNodeSQL = `SELECT node, config, affiliations FROM pubsub_nodes
		WHERE domain = $1 AND local = $2 AND node = $3`
	listNodesSQL = `SELECT node, config, affiliations FROM pubsub_nodes
		WHERE domain = $1 AND local = $2 ORDER BY node`
	// getItemsSQL returns the newest items first; a NULL limit means no
	// limit.
	getItemsSQL = `SELECT id, publisher, payload, published FROM pubsub_items
		WHERE domain = $1 AND local = $2 AND node = $3 ORDER BY seq DESC LIMIT $4`
	getItemSQL = `SELECT id, publisher, payload, published FROM pubsub_items
		WHERE domain = $1 AND local = $2 AND node = $3 AND id = $4`
)

// CreateNode implements storage.PubSub.
func (s *Store) CreateNode(ctx context.Context, o storage.Owner, n storage.PubSubNode) error {
	config, affs, err := encodeNode(n)
	if err != nil {
		return fmt.Errorf("postgres: create node %q of %s: %w", n.Name, o, err)
	}
	tag, err := s.pool.Exec(ctx, createNodeSQL, o.Domain, o.Local, n.Name, config, affs)
	if err == nil && tag.RowsAffected() == 0 {
		err = storage.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: create node %q of %s: %w", n.Name, o, err)
	}
	return nil
}

// GetNode implements storage.PubSub.
func (s *Store) GetNode(ctx context.Context, o storage.Owner, name string) (storage.PubSubNode, error) {
	rows, err := s.pool.Query(ctx, getNodeSQL, o.Domain, o.Local, name)
	if err == nil {
		var n storage.PubSubNode
		n, err = pgx.CollectExactlyOneRow(rows, scanNode)
		if err == nil {
			return n, nil
		}
	}
	return storage.PubSubNode{}, fmt.Errorf("postgres: get node %q of %s: %w", name, o, notFound(err))
}

// ListNodes implements storage.PubSub.
func (s *Store) ListNodes(ctx context.Context, o storage.Owner) ([]storage.PubSubNode, error) {
	rows, err := s.pool.Query(ctx, listNodesSQL, o.Domain, o.Local)
	if err != nil {
		return nil, fmt.Errorf("postgres: list nodes of %s: %w", o, err)
	}
	nodes, err := pgx.CollectRows(rows, scanNode)
	if err != nil {
		return nil, fmt.Errorf("postgres: list nodes of %s: %w", o, err)
	}
	return nodes, nil
}

// ConfigureNode implements storage.PubSub.
func (s *Store) ConfigureNode(ctx context.Context, o storage.Owner, n storage.PubSubNode, maxItems int) error {
	config, affs, err := encodeNode(n)
	if err != nil {
		return fmt.Errorf("postgres: configure node %q of %s: %w", n.Name, o, err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, configureNodeSQL, o.Domain, o.Local, n.Name, config, affs)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		return trimItems(ctx, tx, o, n.Name, maxItems)
	})
	if err != nil {
		return fmt.Errorf("postgres: configure node %q of %s: %w", n.Name, o, err)
	}
	return nil
}

// DeleteNode implements storage.PubSub.
func (s *Store) DeleteNode(ctx context.Context, o storage.Owner, name string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, deleteNodeSQL, o.Domain, o.Local, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		_, err = tx.Exec(ctx, deleteItemsSQL, o.Domain, o.Local, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete node %q of %s: %w", name, o, err)
	}
	return nil
}

// PublishItem implements storage.PubSub.
func (s *Store) PublishItem(ctx context.Context, o storage.Owner, node string, item storage.PubSubItem, maxItems int) error {
	published := item.Published
	if published.IsZero() {
		published = time.Now()
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var seq int64
		if err := tx.QueryRow(ctx, bumpNodeSeqSQL, o.Domain, o.Local, node).Scan(&seq); err != nil {
			return notFound(err)
		}
		_, err := tx.Exec(ctx, putItemSQL, o.Domain, o.Local, node, item.ID, seq,
			item.Publisher, blob(item.Payload), micro(published))
		if err != nil {
			return err
		}
		return trimItems(ctx, tx, o, node, maxItems)
	})
	if err != nil {
		return fmt.Errorf("postgres: publish item %q to node %q of %s: %w", item.ID, node, o, err)
	}
	return nil
}

// trimItems deletes the node's oldest items beyond maxItems.
func trimItems(ctx context.Context, tx pgx.Tx, o storage.Owner, node string, maxItems int) error {
	if maxItems <= 0 {
		return nil
	}
	_, err := tx.Exec(ctx, trimItemsSQL, o.Domain, o.Local, node, int64(maxItems))
	return err
}

// GetItems implements storage.PubSub. It checks the node and reads the
// items from one snapshot.
func (s *Store) GetItems(ctx context.Context, o storage.Owner, node string, max int) ([]storage.PubSubItem, error) {
	var limit *int64
	if max > 0 {
		n := int64(max)
		limit = &n
	}
	var items []storage.PubSubItem
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, nodeExistsSQL, o.Domain, o.Local, node).Scan(&one); err != nil {
			return notFound(err)
		}
		rows, err := tx.Query(ctx, getItemsSQL, o.Domain, o.Local, node, limit)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, scanPubSubItem)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: get items of node %q of %s: %w", node, o, err)
	}
	slices.Reverse(items)
	return items, nil
}

// GetItem implements storage.PubSub.
func (s *Store) GetItem(ctx context.Context, o storage.Owner, node, id string) (storage.PubSubItem, error) {
	rows, err := s.pool.Query(ctx, getItemSQL, o.Domain, o.Local, node, id)
	if err == nil {
		var it storage.PubSubItem
		it, err = pgx.CollectExactlyOneRow(rows, scanPubSubItem)
		if err == nil {
			return it, nil
		}
	}
	return storage.PubSubItem{}, fmt.Errorf("postgres: get item %q of node %q of %s: %w", id, node, o, notFound(err))
}

// RetractItem implements storage.PubSub.
func (s *Store) RetractItem(ctx context.Context, o storage.Owner, node, id string) error {
	tag, err := s.pool.Exec(ctx, deleteItemSQL, o.Domain, o.Local, node, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = storage.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: retract item %q of node %q of %s: %w", id, node, o, err)
	}
	return nil
}

// PurgeNode implements storage.PubSub.
func (s *Store) PurgeNode(ctx context.Context, o storage.Owner, node string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, lockNodeSQL, o.Domain, o.Local, node).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := tx.Exec(ctx, deleteItemsSQL, o.Domain, o.Local, node)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: purge node %q of %s: %w", node, o, err)
	}
	return nil
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

func scanNode(row pgx.CollectableRow) (storage.PubSubNode, error) {
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

func scanPubSubItem(row pgx.CollectableRow) (storage.PubSubItem, error) {
	var it storage.PubSubItem
	if err := row.Scan(&it.ID, &it.Publisher, &it.Payload, &it.Published); err != nil {
		return it, err
	}
	it.Published = it.Published.UTC()
	return it, nil
}
