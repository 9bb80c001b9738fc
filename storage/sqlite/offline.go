package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"tern/storage"
)

var offlineMigration = migration{
	version: 3,
	name:    "offline",
	stmts: []string{
		`CREATE TABLE offline_messages (
			id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
			domain     TEXT NOT NULL,
			local      TEXT NOT NULL,
			stanza     BLOB NOT NULL,
			created_at INTEGER NOT NULL -- microseconds since the Unix epoch
		)`,
		`CREATE INDEX offline_messages_owner ON offline_messages (domain, local, id)`,
		// length is the number of the owner's rows in offline_messages. It
		// lets PushOffline check the limit and count in one statement.
		`CREATE TABLE offline_queues (
			domain TEXT NOT NULL,
			local  TEXT NOT NULL,
			length INTEGER NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"offline_messages", "offline_queues"},
}

var (
	// growQueueSQL adds one to the queue length unless it has reached the
	// limit (third argument), in which case it returns no row.
	growQueueSQL = writeSQL(`INSERT INTO offline_queues (domain, local, length)
		VALUES (?, ?, 1)
		ON CONFLICT (domain, local) DO UPDATE SET length = offline_queues.length + 1
		WHERE offline_queues.length < ?
		RETURNING length`)
	insertOfflineSQL = writeSQL(`INSERT INTO offline_messages (domain, local, stanza, created_at)
		VALUES (?, ?, ?, ?)`)
	emptyQueueSQL = writeSQL(`UPDATE offline_queues SET length = 0
		WHERE domain = ? AND local = ?`)
	popOfflineSQL = writeSQL(`DELETE FROM offline_messages WHERE domain = ? AND local = ?
		RETURNING id, stanza, created_at`)

	countOfflineSQL = readSQL(`SELECT length FROM offline_queues WHERE domain = ? AND local = ?`)
)

// PushOffline implements storage.Offline.
func (s *Store) PushOffline(ctx context.Context, o storage.Owner, stanza []byte, limit int) error {
	s.offlinePushes.Add(1)
	defer s.offlinePushes.Add(-1)
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		if err := growQueue(tx, o, limit); err != nil {
			return err
		}
		_, err := tx.exec(insertOfflineSQL, o.Domain, o.Local, blob(stanza), nowMicros())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: push offline message for %s: %w", o, err)
	}
	return nil
}

// growQueue counts one more message in the owner's queue, or returns
// storage.ErrLimit if it already holds limit messages.
func growQueue(tx *stmtTx, o storage.Owner, limit int) error {
	bound := int64(limit)
	if limit <= 0 {
		bound = 1<<63 - 1
	}
	row, err := tx.queryRow(growQueueSQL, o.Domain, o.Local, bound)
	if err != nil {
		return err
	}
	var length int64
	if err := row.Scan(&length); err != nil {
		if errors.Is(notFound(err), storage.ErrNotFound) {
			return storage.ErrLimit
		}
		return err
	}
	return nil
}

// PopOffline implements storage.Offline.
func (s *Store) PopOffline(ctx context.Context, o storage.Owner) ([]storage.OfflineMessage, error) {
	// Most logins find no messages. Reading the queue length on the reader
	// pool spares them a write transaction, which waits for the single
	// writer. While a PushOffline of this process is under way, the read
	// could miss its message, which a client woken by a push notification
	// logs in to fetch, so the pop then waits for the writer instead.
	if s.offlinePushes.Load() == 0 {
		n, err := s.CountOffline(ctx, o)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil
		}
	}
	var msgs []storage.OfflineMessage
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		if _, err := tx.exec(emptyQueueSQL, o.Domain, o.Local); err != nil {
			return err
		}
		var err error
		msgs, err = popMessages(tx, o)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: pop offline messages of %s: %w", o, err)
	}
	return msgs, nil
}

// popMessages deletes the owner's messages and returns them in push order.
func popMessages(tx *stmtTx, o storage.Owner) ([]storage.OfflineMessage, error) {
	rows, err := tx.query(popOfflineSQL, o.Domain, o.Local)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var msgs []storage.OfflineMessage
	for rows.Next() {
		var m storage.OfflineMessage
		var created int64
		if err := rows.Scan(&m.ID, &m.Stanza, &created); err != nil {
			return nil, err
		}
		m.Created = fromMicros(created)
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// SQLite does not define the order of RETURNING rows.
	slices.SortFunc(msgs, func(a, b storage.OfflineMessage) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// CountOffline implements storage.Offline.
func (s *Store) CountOffline(ctx context.Context, o storage.Owner) (int, error) {
	var n int
	err := s.queryRow(ctx, countOfflineSQL, o.Domain, o.Local).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: count offline messages of %s: %w", o, err)
	}
	return n, nil
}
