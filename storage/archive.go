package storage

import (
	"context"
	"time"
)

// ArchivedMessage is one message in a message archive (XEP-0313). The
// archive's owner is an account, or a room for group chat archives
// (Domain is then the MUC service and Local the room's name).
type ArchivedMessage struct {
	// ID is the archive id, unique within the owner's archive, assigned by
	// AppendArchive; it is also the XEP-0359 stanza-id.
	ID string
	// With is the bare JID of the other party (the room occupant's real or
	// room JID for room archives), used by the 'with' filter.
	With string
	// Time is when the message was archived, in UTC.
	Time time.Time
	// Stanza is the message as serialized XML.
	Stanza []byte
}

// ArchiveQuery selects and pages archived messages. Zero values mean no
// constraint. Results are in chronological order.
type ArchiveQuery struct {
	With     string // bare JID; a full JID matches only that resource's messages
	Start    time.Time
	End      time.Time
	AfterID  string
	BeforeID string
	IDs      []string
	// Max is the page size; Last selects the last page of the matches
	// instead of the first (RSM <before/>).
	Max  int
	Last bool
}

// ArchivePage is the result of an archive query.
type ArchivePage struct {
	Messages []ArchivedMessage
	// Complete is true when the page reaches the end of the matches in
	// the direction of the query.
	Complete bool
	// Count is the number of messages matching the query ignoring paging,
	// or -1 when the backend does not count.
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
	// moderated message that becomes a tombstone. ErrNotFound if absent.
	ReplaceArchived(ctx context.Context, o Owner, id string, stanza []byte) error
	// ExpireArchive deletes messages older than before, for every owner,
	// and returns how many it deleted.
	ExpireArchive(ctx context.Context, before time.Time) (int64, error)
}
