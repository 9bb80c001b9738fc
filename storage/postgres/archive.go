package postgres

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"tern/storage"
)

var archiveMigration = migration{
	version: 6,
	name:    "archive",
	stmts: []string{
		// id is archiveID(seq), so the ids of an owner sort in append order.
		`CREATE TABLE archive (
			domain     text COLLATE "C" NOT NULL,
			local      text COLLATE "C" NOT NULL,
			id         text COLLATE "C" NOT NULL,
			with_bare  text COLLATE "C" NOT NULL, -- with_jid without its resource
			with_jid   text COLLATE "C" NOT NULL,
			created_at timestamptz NOT NULL,
			stanza     bytea NOT NULL,
			PRIMARY KEY (domain, local, id)
		)`,
		`CREATE INDEX archive_owner_with ON archive (domain, local, with_bare, id)`,
		`CREATE INDEX archive_owner_time ON archive (domain, local, created_at)`,
		`CREATE INDEX archive_time ON archive (created_at)`,
		// last_seq is the sequence number of the owner's latest id. It
		// outlives the messages, so an id is never handed out twice, and
		// AppendArchive locks the owner's row, so that appends of one
		// owner commit in id order.
		`CREATE TABLE archive_heads (
			domain   text COLLATE "C" NOT NULL,
			local    text COLLATE "C" NOT NULL,
			last_seq bigint NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
	},
	ownerTables: []string{"archive", "archive_heads"},
}

// expireBatch is how many messages ExpireArchive deletes per transaction,
// so that no transaction holds many row locks for long.
const expireBatch = 1000

const (
	// nextSeqSQL returns the owner's next sequence number: the time of the
	// message in microseconds ($3), or one more than the last one when
	// that is later.
	nextSeqSQL = `INSERT INTO archive_heads (domain, local, last_seq) VALUES ($1, $2, $3)
		ON CONFLICT (domain, local) DO UPDATE
		SET last_seq = GREATEST(archive_heads.last_seq + 1, excluded.last_seq)
		RETURNING last_seq`
	insertArchivedSQL = `INSERT INTO archive (domain, local, id, with_bare, with_jid, created_at, stanza)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	replaceArchivedSQL = `UPDATE archive SET stanza = $4 WHERE domain = $1 AND local = $2 AND id = $3`
	expireArchiveSQL   = `DELETE FROM archive WHERE (domain, local, id) IN
		(SELECT domain, local, id FROM archive WHERE created_at < $1 LIMIT $2)`
	archivedExistsSQL = `SELECT EXISTS (SELECT 1 FROM archive WHERE domain = $1 AND local = $2 AND id = $3)`
)

// AppendArchive implements storage.Archive.
func (s *Store) AppendArchive(ctx context.Context, o storage.Owner, m storage.ArchivedMessage) (string, error) {
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	m.Time = micro(m.Time)
	var id string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var seq int64
		err := tx.QueryRow(ctx, nextSeqSQL, o.Domain, o.Local, max(m.Time.UnixMicro(), 0)).Scan(&seq)
		if err != nil {
			return err
		}
		id = archiveID(uint64(seq))
		bare, _, _ := strings.Cut(m.With, "/")
		_, err = tx.Exec(ctx, insertArchivedSQL, o.Domain, o.Local, id, bare, m.With, m.Time, blob(m.Stanza))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("postgres: append to the archive of %s: %w", o, err)
	}
	return id, nil
}

// QueryArchive implements storage.Archive. Every query of one call reads
// the same snapshot, so Count agrees with the page.
func (s *Store) QueryArchive(ctx context.Context, o storage.Owner, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	var page storage.ArchivePage
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		if err := checkBounds(ctx, tx, o, q); err != nil {
			return err
		}
		var err error
		page, err = queryArchive(ctx, tx, o, q)
		return err
	})
	if err != nil {
		return storage.ArchivePage{}, fmt.Errorf("postgres: query the archive of %s: %w", o, err)
	}
	return page, nil
}

// checkBounds returns storage.ErrNotFound unless AfterID and BeforeID,
// when set, name messages of the owner.
func checkBounds(ctx context.Context, tx pgx.Tx, o storage.Owner, q storage.ArchiveQuery) error {
	for _, id := range []string{q.AfterID, q.BeforeID} {
		if id == "" {
			continue
		}
		var exists bool
		if err := tx.QueryRow(ctx, archivedExistsSQL, o.Domain, o.Local, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("archive id %q: %w", id, storage.ErrNotFound)
		}
	}
	return nil
}

// queryArchive reads one page and the count of all matches.
func queryArchive(ctx context.Context, tx pgx.Tx, o storage.Owner, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	where, args := archiveWhere(o, q)

	order := "ASC"
	if q.Last {
		order = "DESC"
	}
	query := "SELECT id, with_jid, created_at, stanza FROM archive WHERE " + where + " ORDER BY id " + order
	pageArgs := args
	if q.Max > 0 {
		query += " LIMIT $" + strconv.Itoa(len(args)+1)
		pageArgs = append(slices.Clip(args), q.Max+1)
	}
	rows, err := tx.Query(ctx, query, pageArgs...)
	if err != nil {
		return storage.ArchivePage{}, err
	}
	msgs, err := pgx.CollectRows(rows, scanArchived)
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

	err = tx.QueryRow(ctx, "SELECT COUNT(*) FROM archive WHERE "+where, args...).Scan(&page.Count)
	if err != nil {
		return storage.ArchivePage{}, err
	}
	return page, nil
}

// archiveWhere returns the WHERE clause of a query and its arguments.
func archiveWhere(o storage.Owner, q storage.ArchiveQuery) (string, []any) {
	conds := []string{"domain = $1", "local = $2"}
	args := []any{o.Domain, o.Local}
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, cond+" $"+strconv.Itoa(len(args)))
	}
	if q.With != "" {
		bare, _, full := strings.Cut(q.With, "/")
		add("with_bare =", bare)
		if full {
			add("with_jid =", q.With)
		}
	}
	if !q.Start.IsZero() {
		add("created_at >=", ceilMicro(q.Start))
	}
	if !q.End.IsZero() {
		add("created_at <=", micro(q.End))
	}
	if q.AfterID != "" {
		add("id >", q.AfterID)
	}
	if q.BeforeID != "" {
		add("id <", q.BeforeID)
	}
	if len(q.IDs) > 0 {
		args = append(args, q.IDs)
		conds = append(conds, "id = ANY($"+strconv.Itoa(len(args))+")")
	}
	return strings.Join(conds, " AND "), args
}

// scanArchived reads one row of a query that selects id, with_jid,
// created_at and stanza.
func scanArchived(row pgx.CollectableRow) (storage.ArchivedMessage, error) {
	var m storage.ArchivedMessage
	err := row.Scan(&m.ID, &m.With, &m.Time, &m.Stanza)
	m.Time = m.Time.UTC()
	return m, err
}

// RemoveArchived implements storage.Archive.
func (s *Store) RemoveArchived(ctx context.Context, o storage.Owner, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	where, args := archiveWhere(o, storage.ArchiveQuery{IDs: ids})
	if _, err := s.pool.Exec(ctx, "DELETE FROM archive WHERE "+where, args...); err != nil {
		return fmt.Errorf("postgres: remove from the archive of %s: %w", o, err)
	}
	return nil
}

// ReplaceArchived implements storage.Archive.
func (s *Store) ReplaceArchived(ctx context.Context, o storage.Owner, id string, stanza []byte) error {
	tag, err := s.pool.Exec(ctx, replaceArchivedSQL, o.Domain, o.Local, id, blob(stanza))
	if err == nil && tag.RowsAffected() == 0 {
		err = storage.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: replace archived message %q of %s: %w", id, o, err)
	}
	return nil
}

// ExpireArchive implements storage.Archive. It deletes in statements of
// expireBatch messages, so after an error the batches before it stay
// deleted.
func (s *Store) ExpireArchive(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, expireArchiveSQL, ceilMicro(before), expireBatch)
		if err != nil {
			return total, fmt.Errorf("postgres: expire archived messages: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < expireBatch {
			return total, nil
		}
	}
}

// ceilMicro rounds t up to the microsecond precision of timestamptz, so
// that "at or after t" and "before t" compare right with stored times.
func ceilMicro(t time.Time) time.Time {
	u := micro(t)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u
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
