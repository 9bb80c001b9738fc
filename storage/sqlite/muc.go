package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tern/storage"
)

// Rooms are keyed like accounts: domain is the MUC service and local the
// room's name. The tables are not owner tables, because a room is not an
// account and DeleteAccount must not touch it.
var mucMigration = migration{
	version: 7,
	name:    "muc",
	stmts: []string{
		`CREATE TABLE muc_rooms (
			domain     TEXT NOT NULL,
			local      TEXT NOT NULL,
			config     BLOB NOT NULL,
			subject    TEXT NOT NULL,
			subject_by TEXT NOT NULL,
			subject_at INTEGER, -- microseconds since the Unix epoch; NULL when never set
			created_at INTEGER NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
		`CREATE TABLE muc_affiliations (
			domain      TEXT NOT NULL,
			local       TEXT NOT NULL,
			jid         TEXT NOT NULL, -- bare JID or domain
			affiliation TEXT NOT NULL,
			nick        TEXT NOT NULL,
			reason      TEXT NOT NULL,
			PRIMARY KEY (domain, local, jid)
		)`,
		`CREATE INDEX muc_affiliations_jid ON muc_affiliations (domain, jid, local)`,
	},
}

// roomColumns are the columns scanRoom reads, in its order.
const roomColumns = `domain, local, config, subject, subject_by, subject_at, created_at`

var (
	insertRoomSQL = writeSQL(`INSERT INTO muc_rooms (` + roomColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, local) DO NOTHING`)
	updateRoomSQL = writeSQL(`UPDATE muc_rooms SET config = ?, subject = ?, subject_by = ?, subject_at = ?
		WHERE domain = ? AND local = ?`)
	deleteRoomSQL         = writeSQL(`DELETE FROM muc_rooms WHERE domain = ? AND local = ?`)
	deleteAffiliationsSQL = writeSQL(`DELETE FROM muc_affiliations WHERE domain = ? AND local = ?`)
	roomExistsSQL         = writeSQL(`SELECT COUNT(*) FROM muc_rooms WHERE domain = ? AND local = ?`)
	putAffiliationSQL     = writeSQL(`INSERT INTO muc_affiliations (domain, local, jid, affiliation, nick, reason)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, local, jid) DO UPDATE SET
			affiliation = excluded.affiliation, nick = excluded.nick, reason = excluded.reason`)
	deleteAffiliationSQL = writeSQL(`DELETE FROM muc_affiliations WHERE domain = ? AND local = ? AND jid = ?`)

	getRoomSQL         = readSQL(`SELECT ` + roomColumns + ` FROM muc_rooms WHERE domain = ? AND local = ?`)
	listRoomsSQL       = readSQL(`SELECT ` + roomColumns + ` FROM muc_rooms WHERE domain = ? ORDER BY local`)
	readRoomExistsSQL  = readSQL(`SELECT COUNT(*) FROM muc_rooms WHERE domain = ? AND local = ?`)
	getAffiliationsSQL = readSQL(`SELECT jid, affiliation, nick, reason FROM muc_affiliations WHERE domain = ? AND local = ? ORDER BY jid`)
	affiliatedRoomsSQL = readSQL(`SELECT local, affiliation FROM muc_affiliations WHERE domain = ? AND jid = ? ORDER BY local`)
)

// CreateRoom implements storage.Rooms.
func (s *Store) CreateRoom(ctx context.Context, r storage.Room, affs []storage.RoomAffiliation) error {
	created := r.Created
	if created.IsZero() {
		created = time.Now()
	}
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		n, err := tx.exec(insertRoomSQL, r.Owner.Domain, r.Owner.Local, blob(r.Config),
			r.Subject, r.SubjectBy, optionalMicros(r.SubjectTime), created.UnixMicro())
		if err != nil {
			return err
		}
		if n == 0 {
			return storage.ErrExists
		}
		return setAffiliations(tx, r.Owner, affs)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create room %s: %w", r.Owner, err)
	}
	return nil
}

// UpdateRoom implements storage.Rooms.
func (s *Store) UpdateRoom(ctx context.Context, r storage.Room) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		n, err := tx.exec(updateRoomSQL, blob(r.Config), r.Subject, r.SubjectBy,
			optionalMicros(r.SubjectTime), r.Owner.Domain, r.Owner.Local)
		if err == nil && n == 0 {
			err = storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: update room %s: %w", r.Owner, err)
	}
	return nil
}

// GetRoom implements storage.Rooms.
func (s *Store) GetRoom(ctx context.Context, o storage.Owner) (storage.Room, error) {
	r, err := scanRoom(s.queryRow(ctx, getRoomSQL, o.Domain, o.Local))
	if err != nil {
		return storage.Room{}, fmt.Errorf("sqlite: get room %s: %w", o, notFound(err))
	}
	return r, nil
}

// DeleteRoom implements storage.Rooms.
func (s *Store) DeleteRoom(ctx context.Context, o storage.Owner) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		if _, err := tx.exec(deleteAffiliationsSQL, o.Domain, o.Local); err != nil {
			return err
		}
		n, err := tx.exec(deleteRoomSQL, o.Domain, o.Local)
		if err == nil && n == 0 {
			err = storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete room %s: %w", o, err)
	}
	return nil
}

// ListRooms implements storage.Rooms.
func (s *Store) ListRooms(ctx context.Context, service string) ([]storage.Room, error) {
	rows, err := s.query(ctx, listRoomsSQL, service)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list rooms of %s: %w", service, err)
	}
	defer rows.Close()
	var out []storage.Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list rooms of %s: %w", service, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list rooms of %s: %w", service, err)
	}
	return out, nil
}

// GetAffiliations implements storage.Rooms. It reads in one transaction,
// so a room deleted meanwhile is reported as not found.
func (s *Store) GetAffiliations(ctx context.Context, o storage.Owner) ([]storage.RoomAffiliation, error) {
	var out []storage.RoomAffiliation
	err := s.readTx(ctx, func(tx *stmtTx) error {
		if err := roomExists(tx, readRoomExistsSQL, o); err != nil {
			return err
		}
		rows, err := tx.query(getAffiliationsSQL, o.Domain, o.Local)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a storage.RoomAffiliation
			if err := rows.Scan(&a.JID, &a.Affiliation, &a.Nick, &a.Reason); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: get affiliations of room %s: %w", o, err)
	}
	return out, nil
}

// SetAffiliations implements storage.Rooms.
func (s *Store) SetAffiliations(ctx context.Context, o storage.Owner, changes []storage.RoomAffiliation) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		if err := roomExists(tx, roomExistsSQL, o); err != nil {
			return err
		}
		return setAffiliations(tx, o, changes)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set affiliations of room %s: %w", o, err)
	}
	return nil
}

// AffiliatedRooms implements storage.Rooms.
func (s *Store) AffiliatedRooms(ctx context.Context, service, jid string) ([]storage.AffiliatedRoom, error) {
	rows, err := s.query(ctx, affiliatedRoomsSQL, service, jid)
	if err != nil {
		return nil, fmt.Errorf("sqlite: rooms of %s on %s: %w", jid, service, err)
	}
	defer rows.Close()
	var out []storage.AffiliatedRoom
	for rows.Next() {
		var a storage.AffiliatedRoom
		if err := rows.Scan(&a.Room, &a.Affiliation); err != nil {
			return nil, fmt.Errorf("sqlite: rooms of %s on %s: %w", jid, service, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: rooms of %s on %s: %w", jid, service, err)
	}
	return out, nil
}

// roomExists returns storage.ErrNotFound when the room is not stored.
func roomExists(tx *stmtTx, query string, o storage.Owner) error {
	row, err := tx.queryRow(query, o.Domain, o.Local)
	if err != nil {
		return err
	}
	var n int
	if err := row.Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// setAffiliations applies changes in order, so the last change of a JID
// wins.
func setAffiliations(tx *stmtTx, o storage.Owner, changes []storage.RoomAffiliation) error {
	for _, a := range changes {
		var err error
		if a.Affiliation == "" || a.Affiliation == storage.AffiliationNone {
			_, err = tx.exec(deleteAffiliationSQL, o.Domain, o.Local, a.JID)
		} else {
			_, err = tx.exec(putAffiliationSQL, o.Domain, o.Local, a.JID, a.Affiliation, a.Nick, a.Reason)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scanRoom reads one row of roomColumns.
func scanRoom(row interface{ Scan(...any) error }) (storage.Room, error) {
	var r storage.Room
	var subjectAt sql.NullInt64
	var created int64
	err := row.Scan(&r.Owner.Domain, &r.Owner.Local, &r.Config, &r.Subject, &r.SubjectBy, &subjectAt, &created)
	if err != nil {
		return storage.Room{}, err
	}
	if subjectAt.Valid {
		r.SubjectTime = fromMicros(subjectAt.Int64)
	}
	r.Created = fromMicros(created)
	return r, nil
}

// optionalMicros returns t in microseconds since the Unix epoch, or nil
// (NULL) for the zero time.
func optionalMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}
