package storage

import "context"

// Blocklist stores the JIDs each account blocks (XEP-0191). Entries are
// JIDs as the account gave them (bare, full or domain), normalized.
type Blocklist interface {
	// GetBlocklist returns the owner's blocked JIDs, sorted.
	GetBlocklist(ctx context.Context, o Owner) ([]string, error)
	// Block adds JIDs; ones already blocked are ignored.
	Block(ctx context.Context, o Owner, jids []string) error
	// Unblock removes JIDs; with none given it removes every entry.
	Unblock(ctx context.Context, o Owner, jids []string) error
}
