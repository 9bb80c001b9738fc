package storage

import (
	"context"
	"time"
)

// ArchivedMessage is one message in a message archive (XEP-0313). The
// archive's owner is an account, or a room for group chat archives
// (Domain is then the MUC service and Local the room's name).
type ArchivedMessage struct {
	// ID is the archive id, assigned by AppendArchive. It is also the
	// XEP-0359 stanza-id. The ids of one owner are unique, never handed
	// out again (even after the message is removed), hard to guess, and
	// sort as byte strings in the order the messages were appended.
	ID string
	// With is the JID of the other party: bare, or full when the message
	// went to or came from one resource (for room archives, the
	// occupant's real or room JID). The query's With filter matches it.
	With string
	// Time is when the message was archived, in UTC. AppendArchive stores
	// the current time for a zero Time.
	Time time.Time
	// Stanza is the message as serialized XML, stored byte for byte.
	Stanza []byte
}

// ArchiveQuery selects and pages archived messages. Zero values, and an
// empty IDs list, mean no constraint. Results are in archive id order,
// which is the order of appending: chronological when every message is
// appended with the current time.
type ArchiveQuery struct {
	// With selects messages with a JID: a bare JID matches every message
	// whose With has that bare JID, a full JID only the messages whose
	// With is that full JID.
	With string
	// Start and End bound Time, both inclusive.
	Start time.Time
	End   time.Time
	// AfterID and BeforeID select the messages strictly after and before
	// these ids. QueryArchive returns ErrNotFound when one names no
	// message of the owner.
	AfterID  string
	BeforeID string
	// IDs selects these messages. Ids that name no message of the owner
	// are ignored.
	IDs []string
	// Max is the page size. Last selects the last page of the matches
	// instead of the first (RSM <before/>). The page's messages are in
	// archive order either way.
	Max  int
	Last bool
}

// ArchivePage is the result of an archive query.
type ArchivePage struct {
	Messages []ArchivedMessage
	// Complete is true when the page reaches the end of the matches in
	// the direction of the query: the newest match, or the oldest when
	// Last is set.
	Complete bool
	// Count is the number of messages matching every constraint of the
	// query except Max and Last, or -1 when the backend does not count.
	Count int
}

// Archive stores message archives.
type Archive interface {
	// AppendArchive stores a message and returns its archive id.
	AppendArchive(ctx context.Context, o Owner, m ArchivedMessage) (string, error)
	// QueryArchive returns one page of the owner's archive. It returns
	// ErrNotFound when AfterID or BeforeID names no message of the owner.
	QueryArchive(ctx context.Context, o Owner, q ArchiveQuery) (ArchivePage, error)
	// RemoveArchived deletes messages of the owner by id (retraction,
	// moderation); missing ids are ignored.
	RemoveArchived(ctx context.Context, o Owner, ids []string) error
	// ReplaceArchived replaces the stored XML of one message, as for a
	// moderated message that becomes a tombstone. Its id, With and Time
	// stay. It returns ErrNotFound when the owner has no message with id.
	ReplaceArchived(ctx context.Context, o Owner, id string, stanza []byte) error
	// ExpireArchive deletes the messages whose Time is before the given
	// time, of every owner, and returns how many it deleted. A backend
	// may delete in several transactions, so after an error the messages
	// deleted before it stay deleted.
	ExpireArchive(ctx context.Context, before time.Time) (int64, error)
}
