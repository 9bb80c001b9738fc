package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"tern/storage"
)

var archiveMigration = migration{
	version: 6,
	name:    "archive",
	stmts: []string{
		// id is archiveID(seq), so the ids of an owner sort in append order.
		`CREATE TABLE archive (
			domain     TEXT NOT NULL,
			local      TEXT NOT NULL,
			id         TEXT NOT NULL,
			with_bare  TEXT NOT NULL, -- with_jid without its resource
			with_jid   TEXT NOT NULL,
			created_at INTEGER NOT NULL, -- microseconds since the Unix epoch
			stanza     BLOB NOT NULL
		)`,
		`CREATE UNIQUE INDEX archive_owner_id ON archive (domain, local, id)`,
		`CREATE INDEX archive_owner_with ON archive (domain, local, with_bare, id)`,
		`CREATE INDEX archive_owner_time ON archive (domain, local, created_at)`,
		`CREATE INDEX archive_time ON archive (created_at)`,
		// last_seq is the sequence number of the owner's latest id. It
		// outlives the messages, so an id is never handed out twice.
		`CREATE TABLE archive_heads (
			domain   TEXT NOT NULL,
			local    TEXT NOT NULL,
			last_seq INTEGER NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"archive", "archive_heads"},
}

// expireBatch is how many messages ExpireArchive deletes per transaction,
// so that the single writer is never held for long.
const expireBatch = 1000

var (
	// nextSeqSQL returns the owner's next sequence number: the time of the
	// message in microseconds (third argument), or one more than the last
	// one when that is later.
	nextSeqSQL = writeSQL(`INSERT INTO archive_heads (domain, local, last_seq) VALUES (?, ?, ?)
		ON CONFLICT (domain, local) DO UPDATE
		SET last_seq = max(archive_heads.last_seq + 1, excluded.last_seq)
		RETURNING last_seq`)
	insertArchivedSQL = writeSQL(`INSERT INTO archive (domain, local, id, with_bare, with_jid, created_at, stanza)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	replaceArchivedSQL = writeSQL(`UPDATE archive SET stanza = ? WHERE domain = ? AND local = ? AND id = ?`)
	expireArchiveSQL   = writeSQL(`DELETE FROM archive WHERE rowid IN
		(SELECT rowid FROM archive WHERE created_at < ? LIMIT ?)`)

	archivedExistsSQL = readSQL(`SELECT COUNT(*) FROM archive WHERE domain = ? AND local = ? AND id = ?`)
)

// AppendArchive implements storage.Archive.
func (s *Store) AppendArchive(ctx context.Context, o storage.Owner, m storage.ArchivedMessage) (string, error) {
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	var id string
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		row, err := tx.queryRow(nextSeqSQL, o.Domain, o.Local, max(m.Time.UnixMicro(), 0))
		if err != nil {
			return err
		}
		var seq int64
		if err := row.Scan(&seq); err != nil {
			return err
		}
		id = archiveID(uint64(seq))
		bare, _, _ := strings.Cut(m.With, "/")
		_, err = tx.exec(insertArchivedSQL, o.Domain, o.Local, id, bare, m.With, m.Time.UnixMicro(), blob(m.Stanza))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: append to the archive of %s: %w", o, err)
	}
	return id, nil
}

// QueryArchive implements storage.Archive. Every query of one call reads
// the same snapshot, so Count agrees with the page.
func (s *Store) QueryArchive(ctx context.Context, o storage.Owner, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	var page storage.ArchivePage
	err := s.readTx(ctx, func(tx *stmtTx) error {
		if err := checkBounds(tx, o, q); err != nil {
			return err
		}
		var err error
		page, err = queryArchive(tx, o, q)
		return err
	})
	if err != nil {
		return storage.ArchivePage{}, fmt.Errorf("sqlite: query the archive of %s: %w", o, err)
	}
	return page, nil
}

// checkBounds returns storage.ErrNotFound unless AfterID and BeforeID,
// when set, name messages of the owner.
func checkBounds(tx *stmtTx, o storage.Owner, q storage.ArchiveQuery) error {
	for _, id := range []string{q.AfterID, q.BeforeID} {
		if id == "" {
			continue
		}
		row, err := tx.queryRow(archivedExistsSQL, o.Domain, o.Local, id)
		if err != nil {
			return err
		}
		var n int
		if err := row.Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("archive id %q: %w", id, storage.ErrNotFound)
		}
	}
	return nil
}

// queryArchive reads one page and the count of all matches.
func queryArchive(tx *stmtTx, o storage.Owner, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	where, args := archiveWhere(o, q)

	order := "ASC"
	if q.Last {
		order = "DESC"
	}
	query := "SELECT id, with_jid, created_at, stanza FROM archive WHERE " + where + " ORDER BY id " + order
	pageArgs := args
	if q.Max > 0 {
		query += " LIMIT ?"
		pageArgs = append(slices.Clip(args), q.Max+1)
	}
	msgs, err := scanArchived(tx, query, pageArgs)
	if err != nil {
		return storage.ArchivePage{}, err
	}

	page := storage.ArchivePage{Messages: msgs, Complete: true}
	if q.Max > 0 && len(msgs) > q.Max {
		page.Messages, page.Complete = msgs[:q.Max], false
	}
	if q.Last {
		slices.Reverse(page.Messages)
	}

	row, err := tx.queryRow("SELECT COUNT(*) FROM archive WHERE "+where, args...)
	if err != nil {
		return storage.ArchivePage{}, err
	}
	if err := row.Scan(&page.Count); err != nil {
		return storage.ArchivePage{}, err
	}
	return page, nil
}

// archiveWhere returns the WHERE clause of a query and its arguments.
func archiveWhere(o storage.Owner, q storage.ArchiveQuery) (string, []any) {
	conds := []string{"domain = ?", "local = ?"}
	args := []any{o.Domain, o.Local}
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if q.With != "" {
		bare, _, full := strings.Cut(q.With, "/")
		add("with_bare = ?", bare)
		if full {
			add("with_jid = ?", q.With)
		}
	}
	if !q.Start.IsZero() {
		add("created_at >= ?", ceilMicros(q.Start))
	}
	if !q.End.IsZero() {
		add("created_at <= ?", q.End.UnixMicro())
	}
	if q.AfterID != "" {
		add("id > ?", q.AfterID)
	}
	if q.BeforeID != "" {
		add("id < ?", q.BeforeID)
	}
	if len(q.IDs) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.IDs)), ", ")
		conds = append(conds, "id IN ("+marks+")")
		for _, id := range q.IDs {
			args = append(args, id)
		}
	}
	return strings.Join(conds, " AND "), args
}

// scanArchived runs a query that selects id, with_jid, created_at and
// stanza.
func scanArchived(tx *stmtTx, query string, args []any) ([]storage.ArchivedMessage, error) {
	rows, err := tx.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var msgs []storage.ArchivedMessage
	for rows.Next() {
		var m storage.ArchivedMessage
		var created int64
		if err := rows.Scan(&m.ID, &m.With, &created, &m.Stanza); err != nil {
			return nil, err
		}
		m.Time = fromMicros(created)
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// RemoveArchived implements storage.Archive.
func (s *Store) RemoveArchived(ctx context.Context, o storage.Owner, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		where, args := archiveWhere(o, storage.ArchiveQuery{IDs: ids})
		_, err := tx.exec("DELETE FROM archive WHERE "+where, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: remove from the archive of %s: %w", o, err)
	}
	return nil
}

// ReplaceArchived implements storage.Archive.
func (s *Store) ReplaceArchived(ctx context.Context, o storage.Owner, id string, stanza []byte) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		n, err := tx.exec(replaceArchivedSQL, blob(stanza), o.Domain, o.Local, id)
		if err == nil && n == 0 {
			err = storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace archived message %q of %s: %w", id, o, err)
	}
	return nil
}

// ExpireArchive implements storage.Archive. It deletes in transactions of
// expireBatch messages, so messages being archived meanwhile wait for one
// batch at most. After an error, the batches before it stay deleted.
func (s *Store) ExpireArchive(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.writeTx(ctx, func(tx *stmtTx) error {
			var err error
			n, err = tx.exec(expireArchiveSQL, ceilMicros(before), expireBatch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: expire archived messages: %w", err)
		}
		total += n
		if n < expireBatch {
			return total, nil
		}
	}
}

// ceilMicros returns t in microseconds since the Unix epoch, rounded up,
// so that "at or after t" and "before t" compare right with stored times.
func ceilMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

// idDigits are the digits of archive ids, in ASCII order so that ids of
// equal length sort as their numbers do.
const idDigits = "0123456789abcdefghijklmnopqrstuv"

// archiveID returns the id of the message with sequence number seq: seq in
// 13 base-32 digits, so that ids sort in sequence order, then 8 random
// digits (40 bits), because XEP-0313 requires ids that are hard to guess.
func archiveID(seq uint64) string {
	var r [8]byte
	rand.Read(r[3:])
	random := binary.BigEndian.Uint64(r[:])
	var b [21]byte
	for i := 12; i >= 0; i-- {
		b[i] = idDigits[seq&31]
		seq >>= 5
	}
	for i := 20; i >= 13; i-- {
		b[i] = idDigits[random&31]
		random >>= 5
	}
	return string(b[:])
}
