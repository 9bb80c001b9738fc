package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"tern/storage"
)

var offlineMigration = migration{
	version: 3,
	name:    "offline",
	stmts: []string{
		`CREATE TABLE offline_messages (
			domain     text COLLATE "C" NOT NULL,
			local      text COLLATE "C" NOT NULL,
			id         bigint GENERATED ALWAYS AS IDENTITY,
			stanza     bytea NOT NULL,
			created_at timestamptz NOT NULL,
			PRIMARY KEY (domain, local, id)
		)`,
		// length is the number of the owner's rows in offline_messages.
		// PushOffline and PopOffline lock the owner's row first, so that
		// concurrent pushes respect the limit and a pop deletes every
		// message that the length counts.
		`CREATE TABLE offline_queues (
			domain text COLLATE "C" NOT NULL,
			local  text COLLATE "C" NOT NULL,
			length integer NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"offline_messages", "offline_queues"},
}

const (
	// growQueueSQL adds one to the queue length unless it has reached the
	// limit ($3), in which case it returns no row.
	growQueueSQL = `INSERT INTO offline_queues (domain, local, length)
		VALUES ($1, $2, 1)
		ON CONFLICT (domain, local) DO UPDATE SET length = offline_queues.length + 1
		WHERE offline_queues.length < $3
		RETURNING length`
	insertOfflineSQL = `INSERT INTO offline_messages (domain, local, stanza, created_at)
		VALUES ($1, $2, $3, $4)`
	// emptyQueueSQL locks the owner's queue row, creating it if needed, so
	// that a first push running at the same time commits before the pop
	// reads the messages, or waits until the pop commits.
	emptyQueueSQL = `INSERT INTO offline_queues (domain, local, length)
		VALUES ($1, $2, 0)
		ON CONFLICT (domain, local) DO UPDATE SET length = 0`
	popOfflineSQL = `DELETE FROM offline_messages WHERE domain = $1 AND local = $2
		RETURNING id, stanza, created_at`
	countOfflineSQL = `SELECT COALESCE(MAX(length), 0) FROM offline_queues
		WHERE domain = $1 AND local = $2`
)

// PushOffline implements storage.Offline.
func (s *Store) PushOffline(ctx context.Context, o storage.Owner, stanza []byte, limit int) error {
	bound := int64(limit)
	if limit <= 0 {
		bound = math.MaxInt32
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var length int64
		err := tx.QueryRow(ctx, growQueueSQL, o.Domain, o.Local, bound).Scan(&length)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrLimit
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, insertOfflineSQL, o.Domain, o.Local, blob(stanza), micro(time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: push offline message for %s: %w", o, err)
	}
	return nil
}

// PopOffline implements storage.Offline.
func (s *Store) PopOffline(ctx context.Context, o storage.Owner) ([]storage.OfflineMessage, error) {
	var msgs []storage.OfflineMessage
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, emptyQueueSQL, o.Domain, o.Local); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, popOfflineSQL, o.Domain, o.Local)
		if err != nil {
			return err
		}
		msgs, err = pgx.CollectRows(rows, scanOffline)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: pop offline messages of %s: %w", o, err)
	}
	// PostgreSQL does not define the order of RETURNING rows.
	slices.SortFunc(msgs, func(a, b storage.OfflineMessage) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// scanOffline reads one row of popOfflineSQL.
func scanOffline(row pgx.CollectableRow) (storage.OfflineMessage, error) {
	var m storage.OfflineMessage
	err := row.Scan(&m.ID, &m.Stanza, &m.Created)
	m.Created = m.Created.UTC()
	return m, err
}

// CountOffline implements storage.Offline.
func (s *Store) CountOffline(ctx context.Context, o storage.Owner) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, countOfflineSQL, o.Domain, o.Local).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count offline messages of %s: %w", o, err)
	}
	return n, nil
}
