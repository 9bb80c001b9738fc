package storagetest

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"tern/storage"
)

var dataTests = []subtest{
	{"BinaryBlobs", testBinaryBlobs},
	{"UnicodeOwners", testUnicodeOwners},
}

func testBinaryBlobs(t *testing.T, s storage.Store) {
	ctx := context.Background()
	blob := allBytes()
	keys := []storage.ScramKey{{Hash: "SHA-256", Salt: blob, Iterations: 1, StoredKey: blob, ServerKey: blob}}
	if err := s.CreateAccount(ctx, storage.Account{Owner: alice, Keys: keys}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	acct, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if !equalKeys(acct.Keys, keys) {
		t.Errorf("binary SCRAM keys changed in storage")
	}

	mustPush(t, s, alice, blob)
	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("PopOffline: %v", err)
	}
	if len(msgs) != 1 || !bytes.Equal(msgs[0].Stanza, blob) {
		t.Errorf("binary offline stanza changed in storage")
	}

	if err := s.PutValue(ctx, alice, "blob", blob); err != nil {
		t.Fatalf("PutValue: %v", err)
	}
	v, err := s.GetValue(ctx, alice, "blob")
	if err != nil {
		t.Fatalf("GetValue: %v", err)
	}
	if !bytes.Equal(v, blob) {
		t.Errorf("binary KV value changed in storage")
	}

	mustPut(t, s, alice, storage.RosterItem{JID: "b@example.net", Stanza: blob})
	item, err := s.GetRosterItem(ctx, alice, "b@example.net")
	if err != nil {
		t.Fatalf("GetRosterItem: %v", err)
	}
	if !bytes.Equal(item.Stanza, blob) {
		t.Errorf("binary roster stanza changed in storage")
	}
}

func testUnicodeOwners(t *testing.T, s storage.Store) {
	ctx := context.Background()
	domain := "bücher.例え.テスト"
	owners := []storage.Owner{
		{Domain: domain, Local: "zoë"},
		{Domain: domain, Local: "ñandú"},
		{Domain: domain, Local: "δοκιμή"},
		{Domain: domain, Local: "🦜"},
		{Domain: domain, Local: "o'brien"},
	}

	for _, o := range owners {
		fillOwner(t, s, o)
	}

	var want []string
	for _, o := range owners {
		want = append(want, o.Local)
		checkOwnerRecords(t, s, o, true)
	}
	slices.Sort(want)

	got, err := s.ListAccounts(ctx, domain)
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListAccounts = %q, want %q", got, want)
	}

	if err := s.DeleteAccount(ctx, owners[0]); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	checkOwnerRecords(t, s, owners[0], false)
	checkOwnerRecords(t, s, owners[1], true)
}
