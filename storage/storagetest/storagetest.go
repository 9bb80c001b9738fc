// Package storagetest is the conformance suite for storage backends. Every
// backend's tests call Run, so all backends keep the contracts documented
// in package storage.
package storagetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"tern/storage"
)

// Run runs the conformance suite against the stores that open returns.
// Each subtest calls open for a new, empty store, and subtests run in
// parallel, so open must be safe for concurrent use. Run closes every store
// when the subtest that opened it ends, so open must not close it.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"Accounts", accountTests},
		{"Roster", rosterTests},
		{"Offline", offlineTests},
		{"KV", kvTests},
		{"Activity", activityTests},
		{"Archive", archiveTests},
		{"Rooms", roomTests},
		{"Blocklist", blocklistTests},
		{"PubSub", pubsubTests},
		{"Concurrency", concurrencyTests},
		{"Data", dataTests},
		{"Context", contextTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) {
					t.Parallel()
					st.run(t, newStore(t, open))
				})
			}
		})
	}
}

// subtest is one named check of the suite.
type subtest struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// newStore opens a store and closes it when t ends.
func newStore(t *testing.T, open func(t *testing.T) storage.Store) storage.Store {
	t.Helper()
	s := open(t)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// Owners used throughout the suite. alice and bob share a domain, and
// aliceOther has alice's localpart in another domain, so that a query
// which ignores the domain fails a test.
var (
	alice      = storage.Owner{Domain: "example.com", Local: "alice"}
	bob        = storage.Owner{Domain: "example.com", Local: "bob"}
	aliceOther = storage.Owner{Domain: "example.org", Local: "alice"}
)

// allBytes returns every byte value, a NUL first, with invalid UTF-8 in
// between, so that a backend that treats blobs as text fails.
func allBytes() []byte {
	b := make([]byte, 0, 258)
	for i := range 256 {
		b = append(b, byte(i))
	}
	return append(b, 0, 0xff)
}

// sampleKeys returns two SCRAM verifiers with binary salts and keys.
func sampleKeys() []storage.ScramKey {
	return []storage.ScramKey{
		{
			Hash: "SHA-256", Salt: []byte{0, 1, 2, 0xff}, Iterations: 4096,
			StoredKey: bytes.Repeat([]byte{0xab}, 32), ServerKey: allBytes()[:32],
		},
		{
			Hash: "SHA-1", Salt: []byte("salt\x00salt"), Iterations: 10000,
			StoredKey: bytes.Repeat([]byte{0}, 20), ServerKey: bytes.Repeat([]byte{0x80}, 20),
		},
	}
}

// fixedTime is a time with microsecond precision in a zone other than UTC,
// so a backend that drops the zone offset or keeps local time fails.
var fixedTime = time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.FixedZone("X", -7*3600))

// truncate drops what the storage contract lets a backend lose of a time.
func truncate(tm time.Time) time.Time { return tm.Truncate(time.Microsecond) }

// equalKeys reports whether two key lists are the same, in order.
func equalKeys(a, b []storage.ScramKey) bool {
	return slices.EqualFunc(a, b, func(x, y storage.ScramKey) bool {
		return x.Hash == y.Hash && x.Iterations == y.Iterations &&
			bytes.Equal(x.Salt, y.Salt) && bytes.Equal(x.StoredKey, y.StoredKey) &&
			bytes.Equal(x.ServerKey, y.ServerKey)
	})
}

// equalItem reports whether two roster items are the same, treating nil and
// empty slices as equal.
func equalItem(a, b storage.RosterItem) bool {
	return a.JID == b.JID && a.Name == b.Name && slices.Equal(a.Groups, b.Groups) &&
		a.Subscription == b.Subscription && a.AskOut == b.AskOut &&
		a.PendingIn == b.PendingIn && a.PreApproved == b.PreApproved &&
		a.Listed == b.Listed && bytes.Equal(a.Stanza, b.Stanza)
}

// mustCreate creates an account with sample keys or fails the test.
func mustCreate(t *testing.T, s storage.Store, o storage.Owner) {
	t.Helper()
	a := storage.Account{Owner: o, Keys: sampleKeys(), CreatedAt: fixedTime}
	if err := s.CreateAccount(context.Background(), a); err != nil {
		t.Fatalf("CreateAccount(%s): %v", o, err)
	}
}

// mustPut stores a roster item or fails the test, returning the version.
func mustPut(t *testing.T, s storage.Store, o storage.Owner, item storage.RosterItem) int64 {
	t.Helper()
	v, err := s.PutRosterItem(context.Background(), o, item)
	if err != nil {
		t.Fatalf("PutRosterItem(%s, %s): %v", o, item.JID, err)
	}
	return v
}

// mustPush queues an offline message with no limit or fails the test.
func mustPush(t *testing.T, s storage.Store, o storage.Owner, stanza []byte) {
	t.Helper()
	if err := s.PushOffline(context.Background(), o, stanza, 0); err != nil {
		t.Fatalf("PushOffline(%s): %v", o, err)
	}
}
