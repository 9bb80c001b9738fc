package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"tern/storage"
)

var blocklistTests = []subtest{
	{"Empty", testBlocklistEmpty},
	{"BlockSorted", testBlocklistSorted},
	{"BlockTwice", testBlocklistBlockTwice},
	{"Unblock", testBlocklistUnblock},
	{"UnblockAll", testBlocklistUnblockAll},
	{"Isolation", testBlocklistIsolation},
	{"DeleteAccount", testBlocklistDeleteAccount},
	{"Canceled", testBlocklistCanceled},
}

// blocklistOf returns the store's Blocklist repository, which every backend
// implements although storage.Store does not include it.
func blocklistOf(t *testing.T, s storage.Store) storage.Blocklist {
	t.Helper()
	b, ok := s.(storage.Blocklist)
	if !ok {
		t.Fatalf("%T does not implement storage.Blocklist", s)
	}
	return b
}

// mustBlock blocks jids or fails the test.
func mustBlock(t *testing.T, b storage.Blocklist, o storage.Owner, jids ...string) {
	t.Helper()
	if err := b.Block(context.Background(), o, jids); err != nil {
		t.Fatalf("Block(%s, %q): %v", o, jids, err)
	}
}

// checkBlocklist fails the test unless the owner's list is want, in order.
func checkBlocklist(t *testing.T, b storage.Blocklist, o storage.Owner, want ...string) {
	t.Helper()
	got, err := b.GetBlocklist(context.Background(), o)
	if err != nil {
		t.Fatalf("GetBlocklist(%s): %v", o, err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("GetBlocklist(%s) = %q, want %q", o, got, want)
	}
}

func testBlocklistEmpty(t *testing.T, s storage.Store) {
	checkBlocklist(t, blocklistOf(t, s), alice)
}

func testBlocklistSorted(t *testing.T, s storage.Store) {
	b := blocklistOf(t, s)
	// Byte order puts upper case before lower case and multi-byte UTF-8
	// after ASCII, unlike most locale collations.
	mustBlock(t, b, alice, "zed@example.net", "élan@example.net", "Bob@example.net",
		"alice@example.net/phone", "example.org", "example.org/bot", "o'neil@example.net")
	checkBlocklist(t, b, alice,
		"Bob@example.net", "alice@example.net/phone", "example.org", "example.org/bot",
		"o'neil@example.net", "zed@example.net", "élan@example.net")
}

func testBlocklistBlockTwice(t *testing.T, s storage.Store) {
	b := blocklistOf(t, s)
	mustBlock(t, b, alice, "carol@example.net", "carol@example.net")
	mustBlock(t, b, alice, "carol@example.net", "dave@example.net")
	checkBlocklist(t, b, alice, "carol@example.net", "dave@example.net")
	mustBlock(t, b, alice)
	checkBlocklist(t, b, alice, "carol@example.net", "dave@example.net")
}

func testBlocklistUnblock(t *testing.T, s storage.Store) {
	ctx := context.Background()
	b := blocklistOf(t, s)
	mustBlock(t, b, alice, "carol@example.net", "dave@example.net", "example.org")
	if err := b.Unblock(ctx, alice, []string{"dave@example.net", "never@example.net"}); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	checkBlocklist(t, b, alice, "carol@example.net", "example.org")
	// A bare JID entry is not removed by unblocking one of its resources.
	if err := b.Unblock(ctx, alice, []string{"carol@example.net/phone"}); err != nil {
		t.Fatalf("Unblock of a full JID: %v", err)
	}
	checkBlocklist(t, b, alice, "carol@example.net", "example.org")
	if err := b.Unblock(ctx, bob, []string{"carol@example.net"}); err != nil {
		t.Errorf("Unblock for owner with no list = %v, want nil", err)
	}
}

func testBlocklistUnblockAll(t *testing.T, s storage.Store) {
	ctx := context.Background()
	b := blocklistOf(t, s)
	for _, empty := range [][]string{nil, {}} {
		mustBlock(t, b, alice, "carol@example.net", "example.org")
		mustBlock(t, b, bob, "carol@example.net")
		if err := b.Unblock(ctx, alice, empty); err != nil {
			t.Fatalf("Unblock(%#v): %v", empty, err)
		}
		checkBlocklist(t, b, alice)
		checkBlocklist(t, b, bob, "carol@example.net")
	}
}

func testBlocklistIsolation(t *testing.T, s storage.Store) {
	b := blocklistOf(t, s)
	mustBlock(t, b, alice, "carol@example.net")
	mustBlock(t, b, bob, "dave@example.net")
	mustBlock(t, b, aliceOther, "erin@example.net")
	checkBlocklist(t, b, alice, "carol@example.net")
	checkBlocklist(t, b, bob, "dave@example.net")
	checkBlocklist(t, b, aliceOther, "erin@example.net")
}

func testBlocklistDeleteAccount(t *testing.T, s storage.Store) {
	ctx := context.Background()
	b := blocklistOf(t, s)
	mustCreate(t, s, alice)
	mustCreate(t, s, aliceOther)
	mustBlock(t, b, alice, "carol@example.net", "example.org")
	mustBlock(t, b, aliceOther, "carol@example.net")
	if err := s.DeleteAccount(ctx, alice); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	checkBlocklist(t, b, alice)
	checkBlocklist(t, b, aliceOther, "carol@example.net")
	// A re-created account starts with an empty list.
	mustCreate(t, s, alice)
	checkBlocklist(t, b, alice)
}

func testBlocklistCanceled(t *testing.T, s storage.Store) {
	b := blocklistOf(t, s)
	mustBlock(t, b, alice, "carol@example.net")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.GetBlocklist(ctx, alice); !errors.Is(err, context.Canceled) {
		t.Errorf("GetBlocklist with canceled context = %v, want context.Canceled", err)
	}
	if err := b.Block(ctx, alice, []string{"dave@example.net"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Block with canceled context = %v, want context.Canceled", err)
	}
	if err := b.Unblock(ctx, alice, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Unblock with canceled context = %v, want context.Canceled", err)
	}
	// Nothing changed.
	checkBlocklist(t, b, alice, "carol@example.net")
}
