// Package storage defines the repository interfaces that Tern's modules use
// and the record types they exchange. Every backend (storage/sqlite,
// storage/postgres) implements all of them and passes the conformance suite
// in storage/storagetest.
//
// Every record is keyed by its owning account, a (domain, localpart) pair,
// so that a distributed database can shard each table by owner. Only
// Accounts checks that an account exists: the other repositories store
// records for any owner, and DeleteAccount removes them all.
//
// Conventions shared by every backend:
//   - Times are stored with microsecond precision and returned in UTC.
//   - Sorted lists are in byte order of their UTF-8 strings, as
//     [sort.Strings] orders them, whatever the database's collation.
//   - A nil and an empty byte slice or string list are the same value: a
//     backend may return either for an empty one.
//   - Every method returns an error wrapping ctx.Err() when ctx is done
//     before the operation completes, and a write that fails is not stored.
//
// Both backends also have a method outside the Store interface,
// CreateAccounts(ctx, []Account) error, which stores many accounts in one
// transaction: all of them, or none and an error wrapping ErrExists that
// names the first account that exists. Callers find it with a type
// assertion.
package storage

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors returned by every backend. Callers match them with errors.Is.
var (
	// ErrNotFound reports that the requested record does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrExists reports that a record with the same key already exists.
	ErrExists = errors.New("storage: already exists")
	// ErrLimit reports that a per-account limit (such as the offline queue
	// length) has been reached; nothing was stored.
	ErrLimit = errors.New("storage: limit reached")
)

// Owner identifies the account that owns a record. Domain and Local are in
// their normalized (PRECIS) form.
type Owner struct {
	Domain string
	Local  string
}

// String returns the owner's bare JID.
func (o Owner) String() string { return o.Local + "@" + o.Domain }

// ScramKey is the salted SCRAM verifier for one hash function (RFC 5802).
// The password itself is never stored.
type ScramKey struct {
	Hash       string // "SHA-1", "SHA-256" or "SHA-512"
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// Account is a local user account.
type Account struct {
	Owner
	Keys      []ScramKey
	CreatedAt time.Time
}

// Accounts stores user accounts and their SCRAM verifiers.
type Accounts interface {
	// CreateAccount stores a new account; it returns ErrExists if one with
	// the same owner exists. A zero CreatedAt is stored as the current time.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns ErrNotFound for an unknown owner.
	GetAccount(ctx context.Context, o Owner) (Account, error)
	// SetKeys replaces the SCRAM verifiers of an existing account. It
	// returns ErrNotFound for an unknown owner.
	SetKeys(ctx context.Context, o Owner, keys []ScramKey) error
	// DeleteAccount removes the account and every record it owns in every
	// repository of the backend. It returns ErrNotFound for an unknown owner.
	DeleteAccount(ctx context.Context, o Owner) error
	// ListAccounts returns the localparts of a domain's accounts, sorted in
	// byte order.
	ListAccounts(ctx context.Context, domain string) ([]string, error)
	// CountAccounts returns the number of accounts in a domain.
	CountAccounts(ctx context.Context, domain string) (int, error)
}

// Subscription states of a roster item (RFC 6121 §2.1.2.5).
const (
	SubNone = "none"
	SubTo   = "to"
	SubFrom = "from"
	SubBoth = "both"
)

// RosterItem is one contact in an account's roster, together with the
// subscription bookkeeping RFC 6121 Appendix A needs.
type RosterItem struct {
	JID          string // bare JID of the contact
	Name         string
	Groups       []string
	Subscription string // SubNone, SubTo, SubFrom or SubBoth
	AskOut       bool   // outbound subscription request pending ("Pending Out")
	PendingIn    bool   // inbound subscription request pending ("Pending In")
	PreApproved  bool   // inbound subscription pre-approved (RFC 6121 §3.4)
	// Listed is false for contacts that exist only to track an inbound
	// request or a pre-approval. Roster results sent to clients leave them
	// out, but GetRoster returns them like any other item.
	Listed bool
	// Stanza is the stored inbound subscribe presence (serialized), so it
	// can be redelivered at login while PendingIn is set.
	Stanza []byte
}

// Roster stores rosters with a version counter per owner (RFC 6121 §2.6).
//
// DeleteAccount resets the counter, so a re-created account counts from 1
// again. Code that sends versions to clients should combine the counter
// with the account's CreatedAt, so that a client's cached version of the
// old account never matches the new one.
type Roster interface {
	// GetRoster returns every item of the owner, sorted by JID in byte
	// order, and the current roster version. An owner with no roster has
	// version 0; removing every item does not reset the version.
	GetRoster(ctx context.Context, o Owner) ([]RosterItem, int64, error)
	// GetRosterItem returns ErrNotFound when the contact is not present.
	GetRosterItem(ctx context.Context, o Owner, contact string) (RosterItem, error)
	// PutRosterItem inserts or replaces the item and returns the new roster
	// version, which is greater than every earlier one of this owner.
	PutRosterItem(ctx context.Context, o Owner, item RosterItem) (int64, error)
	// DeleteRosterItem removes the item and returns the new roster version.
	// It returns ErrNotFound when the contact is not present.
	DeleteRosterItem(ctx context.Context, o Owner, contact string) (int64, error)
}

// OfflineMessage is a message stored for an account that had no available
// session when it arrived (XEP-0160).
type OfflineMessage struct {
	ID      int64
	Stanza  []byte // the message as serialized XML, with a delay stamp
	Created time.Time
}

// Offline stores messages for accounts that are offline.
type Offline interface {
	// PushOffline appends a message unless the owner already has limit
	// messages queued, in which case it returns ErrLimit. limit <= 0 means
	// no limit.
	PushOffline(ctx context.Context, o Owner, stanza []byte, limit int) error
	// PopOffline removes and returns every queued message, oldest first.
	// IDs increase in the order the messages were pushed, and Created is
	// the time PushOffline stored the message.
	PopOffline(ctx context.Context, o Owner) ([]OfflineMessage, error)
	// CountOffline returns the number of queued messages.
	CountOffline(ctx context.Context, o Owner) (int, error)
}

// KV stores small XML documents per owner under a key, used for vCards
// (XEP-0054, key "vcard-temp"), private XML storage (XEP-0049, key
// "private:<namespace>") and similar single-document data.
type KV interface {
	// GetValue returns ErrNotFound when no value is stored under key.
	GetValue(ctx context.Context, o Owner, key string) ([]byte, error)
	// PutValue stores value under key, replacing any earlier value.
	PutValue(ctx context.Context, o Owner, key string, value []byte) error
	// DeleteValue removes the key; deleting a missing key is not an error.
	DeleteValue(ctx context.Context, o Owner, key string) error
}

// LastActivity is the time and status of an account's last logout
// (XEP-0012).
type LastActivity struct {
	Time   time.Time
	Status string
}

// Activity stores the last logout of each account.
type Activity interface {
	SetLastActivity(ctx context.Context, o Owner, a LastActivity) error
	// GetLastActivity returns ErrNotFound when the account never logged out.
	GetLastActivity(ctx context.Context, o Owner) (LastActivity, error)
}

// Store is the full set of repositories a backend provides.
type Store interface {
	Accounts
	Roster
	Offline
	KV
	Activity
	// Close releases the backend's connections.
	Close() error
}
