package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"tern/storage"
)

// Rooms are keyed like accounts: domain is the MUC service and local the
// room's name, so the tables shard by room. They are not owner tables,
// because a room is not an account and DeleteAccount must not touch it.
var mucMigration = migration{
	version: 7,
	name:    "muc",
	stmts: []string{
		`CREATE TABLE muc_rooms (
			domain     text COLLATE "C" NOT NULL,
			local      text COLLATE "C" NOT NULL,
			config     bytea NOT NULL,
			subject    text NOT NULL,
			subject_by text NOT NULL,
			subject_at timestamptz, -- NULL when the subject was never set
			created_at timestamptz NOT NULL,
			PRIMARY KEY (domain, local)
		)`,
		// muc_affiliations has no foreign key to muc_rooms: its rows are
		// written only after the room row is locked or created, and
		// deleted together with it, in one transaction.
		`CREATE TABLE muc_affiliations (
			domain      text COLLATE "C" NOT NULL,
			local       text COLLATE "C" NOT NULL,
			jid         text COLLATE "C" NOT NULL, -- bare JID or domain
			affiliation text NOT NULL,
			nick        text NOT NULL,
			reason      text NOT NULL,
			PRIMARY KEY (domain, local, jid)
		)`,
		`CREATE INDEX muc_affiliations_jid ON muc_affiliations (domain, jid, local)`,
	},
}

// roomColumns are the columns scanRoom reads, in its order.
const roomColumns = `domain, local, config, subject, subject_by, subject_at, created_at`

const (
	insertRoomSQL = `INSERT INTO muc_rooms (` + roomColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (domain, local) DO NOTHING`
	updateRoomSQL = `UPDATE muc_rooms SET config = $3, subject = $4, subject_by = $5, subject_at = $6
		WHERE domain = $1 AND local = $2`
	deleteRoomSQL         = `DELETE FROM muc_rooms WHERE domain = $1 AND local = $2`
	deleteAffiliationsSQL = `DELETE FROM muc_affiliations WHERE domain = $1 AND local = $2`
	lockRoomSQL           = `SELECT 1 FROM muc_rooms WHERE domain = $1 AND local = $2 FOR UPDATE`
	roomExistsSQL         = `SELECT 1 FROM muc_rooms WHERE domain = $1 AND local = $2`
	putAffiliationSQL     = `INSERT INTO muc_affiliations (domain, local, jid, affiliation, nick, reason)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (domain, local, jid) DO UPDATE SET
			affiliation = excluded.affiliation, nick = excluded.nick, reason = excluded.reason`
	deleteAffiliationSQL = `DELETE FROM muc_affiliations WHERE domain = $1 AND local = $2 AND jid = $3`
	getRoomSQL           = `SELECT ` + roomColumns + ` FROM muc_rooms WHERE domain = $1 AND local = $2`
	listRoomsSQL         = `SELECT ` + roomColumns + ` FROM muc_rooms WHERE domain = $1 ORDER BY local`
	getAffiliationsSQL   = `SELECT jid, affiliation, nick, reason FROM muc_affiliations
		WHERE domain = $1 AND local = $2 ORDER BY jid`
	affiliatedRoomsSQL = `SELECT local, affiliation FROM muc_affiliations
		WHERE domain = $1 AND jid = $2 ORDER BY local`
)

// CreateRoom implements storage.Rooms.
func (s *Store) CreateRoom(ctx context.Context, r storage.Room, affs []storage.RoomAffiliation) error {
	created := micro(r.Created)
	if r.Created.IsZero() {
		created = micro(time.Now())
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertRoomSQL, r.Owner.Domain, r.Owner.Local, blob(r.Config),
			r.Subject, r.SubjectBy, optionalTime(r.SubjectTime), created)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrExists
		}
		return setAffiliations(ctx, tx, r.Owner, affs)
	})
	if err != nil {
		return fmt.Errorf("postgres: create room %s: %w", r.Owner, err)
	}
	return nil
}

// UpdateRoom implements storage.Rooms.
func (s *Store) UpdateRoom(ctx context.Context, r storage.Room) error {
	tag, err := s.pool.Exec(ctx, updateRoomSQL, r.Owner.Domain, r.Owner.Local, blob(r.Config),
		r.Subject, r.SubjectBy, optionalTime(r.SubjectTime))
	if err == nil && tag.RowsAffected() == 0 {
		err = storage.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: update room %s: %w", r.Owner, err)
	}
	return nil
}

// GetRoom implements storage.Rooms.
func (s *Store) GetRoom(ctx context.Context, o storage.Owner) (storage.Room, error) {
	r, err := scanRoom(s.pool.QueryRow(ctx, getRoomSQL, o.Domain, o.Local))
	if err != nil {
		return storage.Room{}, fmt.Errorf("postgres: get room %s: %w", o, notFound(err))
	}
	return r, nil
}

// DeleteRoom implements storage.Rooms.
func (s *Store) DeleteRoom(ctx context.Context, o storage.Owner) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, deleteRoomSQL, o.Domain, o.Local)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		_, err = tx.Exec(ctx, deleteAffiliationsSQL, o.Domain, o.Local)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete room %s: %w", o, err)
	}
	return nil
}

// ListRooms implements storage.Rooms.
func (s *Store) ListRooms(ctx context.Context, service string) ([]storage.Room, error) {
	rows, err := s.pool.Query(ctx, listRoomsSQL, service)
	if err != nil {
		return nil, fmt.Errorf("postgres: list rooms of %s: %w", service, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Room, error) { return scanRoom(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list rooms of %s: %w", service, err)
	}
	return out, nil
}

// GetAffiliations implements storage.Rooms. It reads from one snapshot,
// so a room deleted meanwhile is reported as not found.
func (s *Store) GetAffiliations(ctx context.Context, o storage.Owner) ([]storage.RoomAffiliation, error) {
	var out []storage.RoomAffiliation
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		if err := notFound(tx.QueryRow(ctx, roomExistsSQL, o.Domain, o.Local).Scan(new(int))); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, getAffiliationsSQL, o.Domain, o.Local)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[storage.RoomAffiliation])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: get affiliations of room %s: %w", o, err)
	}
	return out, nil
}

// SetAffiliations implements storage.Rooms. It locks the room row, so a
// concurrent DeleteRoom cannot leave affiliations of a deleted room.
func (s *Store) SetAffiliations(ctx context.Context, o storage.Owner, changes []storage.RoomAffiliation) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := notFound(tx.QueryRow(ctx, lockRoomSQL, o.Domain, o.Local).Scan(new(int))); err != nil {
			return err
		}
		return setAffiliations(ctx, tx, o, changes)
	})
	if err != nil {
		return fmt.Errorf("postgres: set affiliations of room %s: %w", o, err)
	}
	return nil
}

// AffiliatedRooms implements storage.Rooms.
func (s *Store) AffiliatedRooms(ctx context.Context, service, jid string) ([]storage.AffiliatedRoom, error) {
	rows, err := s.pool.Query(ctx, affiliatedRoomsSQL, service, jid)
	if err != nil {
		return nil, fmt.Errorf("postgres: rooms of %s on %s: %w", jid, service, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[storage.AffiliatedRoom])
	if err != nil {
		return nil, fmt.Errorf("postgres: rooms of %s on %s: %w", jid, service, err)
	}
	return out, nil
}

// setAffiliations applies changes in order, so the last change of a JID
// wins.
func setAffiliations(ctx context.Context, tx pgx.Tx, o storage.Owner, changes []storage.RoomAffiliation) error {
	for _, a := range changes {
		var err error
		if a.Affiliation == "" || a.Affiliation == storage.AffiliationNone {
			_, err = tx.Exec(ctx, deleteAffiliationSQL, o.Domain, o.Local, a.JID)
		} else {
			_, err = tx.Exec(ctx, putAffiliationSQL, o.Domain, o.Local, a.JID, a.Affiliation, a.Nick, a.Reason)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scanRoom reads one row of roomColumns.
func scanRoom(row pgx.Row) (storage.Room, error) {
	var r storage.Room
	var subjectAt *time.Time
	err := row.Scan(&r.Owner.Domain, &r.Owner.Local, &r.Config, &r.Subject, &r.SubjectBy, &subjectAt, &r.Created)
	if err != nil {
		return storage.Room{}, err
	}
	if subjectAt != nil {
		r.SubjectTime = subjectAt.UTC()
	}
	r.Created = r.Created.UTC()
	return r, nil
}

// optionalTime returns t truncated to microseconds, or nil (NULL) for the
// zero time.
func optionalTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micro(t)
}
