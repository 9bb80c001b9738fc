package storagetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tern/storage"
)

var accountTests = []subtest{
	{"CreateGet", testCreateGet},
	{"CreateZeroTime", testCreateZeroTime},
	{"CreateNoKeys", testCreateNoKeys},
	{"CreateDuplicate", testCreateDuplicate},
	{"CreateAccountsBatch", testCreateAccountsBatch},
	{"GetNotFound", testGetAccountNotFound},
	{"SetKeys", testSetKeys},
	{"SetKeysNotFound", testSetKeysNotFound},
	{"Delete", testDeleteAccount},
	{"DeleteNotFound", testDeleteAccountNotFound},
	{"DeleteCascades", testDeleteCascades},
	{"List", testListAccounts},
	{"Count", testCountAccounts},
}

func testCreateGet(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustCreate(t, s, alice)
	got, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if got.Owner != alice {
		t.Errorf("Owner = %v, want %v", got.Owner, alice)
	}
	if !equalKeys(got.Keys, sampleKeys()) {
		t.Errorf("Keys = %+v, want %+v", got.Keys, sampleKeys())
	}
	if !got.CreatedAt.Equal(fixedTime) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, fixedTime)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
}

func testCreateZeroTime(t *testing.T, s storage.Store) {
	ctx := context.Background()
	before := truncate(time.Now())
	if err := s.CreateAccount(ctx, storage.Account{Owner: alice}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	after := time.Now()
	got, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if got.CreatedAt.Before(before) || got.CreatedAt.After(after) {
		t.Errorf("CreatedAt = %v, want between %v and %v", got.CreatedAt, before, after)
	}
}

func testCreateNoKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := storage.Account{Owner: alice, CreatedAt: fixedTime}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	got, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if len(got.Keys) != 0 {
		t.Errorf("Keys = %+v, want none", got.Keys)
	}
}

func testCreateDuplicate(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustCreate(t, s, alice)
	dup := storage.Account{Owner: alice, Keys: sampleKeys()[:1], CreatedAt: time.Now()}
	err := s.CreateAccount(ctx, dup)
	if !errors.Is(err, storage.ErrExists) {
		t.Fatalf("second CreateAccount = %v, want ErrExists", err)
	}
	got, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if !equalKeys(got.Keys, sampleKeys()) {
		t.Errorf("Keys after duplicate create = %+v, want the original ones", got.Keys)
	}
	if !got.CreatedAt.Equal(fixedTime) {
		t.Errorf("CreatedAt after duplicate create = %v, want %v", got.CreatedAt, fixedTime)
	}
}

func testGetAccountNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.GetAccount(ctx, alice); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAccount of unknown owner = %v, want ErrNotFound", err)
	}
	mustCreate(t, s, alice)
	if _, err := s.GetAccount(ctx, aliceOther); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAccount of same localpart in other domain = %v, want ErrNotFound", err)
	}
}

func testSetKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustCreate(t, s, alice)
	mustCreate(t, s, bob)

	keys := []storage.ScramKey{{
		Hash: "SHA-512", Salt: []byte{9, 8, 7}, Iterations: 210000,
		StoredKey: allBytes()[:64], ServerKey: allBytes()[64:128],
	}}
	if err := s.SetKeys(ctx, alice, keys); err != nil {
		t.Fatalf("SetKeys: %v", err)
	}
	got, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if !equalKeys(got.Keys, keys) {
		t.Errorf("Keys = %+v, want %+v", got.Keys, keys)
	}
	if !got.CreatedAt.Equal(fixedTime) {
		t.Errorf("CreatedAt changed by SetKeys: %v, want %v", got.CreatedAt, fixedTime)
	}

	other, err := s.GetAccount(ctx, bob)
	if err != nil {
		t.Fatalf("GetAccount(bob): %v", err)
	}
	if !equalKeys(other.Keys, sampleKeys()) {
		t.Errorf("bob's keys changed by alice's SetKeys: %+v", other.Keys)
	}

	if err := s.SetKeys(ctx, alice, nil); err != nil {
		t.Fatalf("SetKeys(nil): %v", err)
	}
	got, err = s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if len(got.Keys) != 0 {
		t.Errorf("Keys after SetKeys(nil) = %+v, want none", got.Keys)
	}
}

func testSetKeysNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	err := s.SetKeys(ctx, alice, sampleKeys())
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SetKeys of unknown owner = %v, want ErrNotFound", err)
	}
	if _, err := s.GetAccount(ctx, alice); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAccount after failed SetKeys = %v, want ErrNotFound", err)
	}
}

func testDeleteAccount(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustCreate(t, s, alice)
	mustCreate(t, s, bob)
	if err := s.DeleteAccount(ctx, alice); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if _, err := s.GetAccount(ctx, alice); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAccount after delete = %v, want ErrNotFound", err)
	}
	if _, err := s.GetAccount(ctx, bob); err != nil {
		t.Errorf("GetAccount(bob) after deleting alice: %v", err)
	}
	if err := s.DeleteAccount(ctx, alice); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second DeleteAccount = %v, want ErrNotFound", err)
	}
	// The owner can be created again, with a clean record.
	if err := s.CreateAccount(ctx, storage.Account{Owner: alice}); err != nil {
		t.Fatalf("CreateAccount after delete: %v", err)
	}
	got, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount after re-create: %v", err)
	}
	if len(got.Keys) != 0 {
		t.Errorf("re-created account has the old keys: %+v", got.Keys)
	}
}

func testDeleteAccountNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustCreate(t, s, aliceOther)
	if err := s.DeleteAccount(ctx, alice); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteAccount of unknown owner = %v, want ErrNotFound", err)
	}
	if _, err := s.GetAccount(ctx, aliceOther); err != nil {
		t.Errorf("GetAccount(%s) after failed delete: %v", aliceOther, err)
	}
}

// fillOwner stores one record of every kind for o.
func fillOwner(t *testing.T, s storage.Store, o storage.Owner) {
	t.Helper()
	ctx := context.Background()
	mustCreate(t, s, o)
	mustPut(t, s, o, storage.RosterItem{JID: "carol@example.net", Subscription: storage.SubBoth, Listed: true})
	mustPush(t, s, o, []byte("<message/>"))
	if err := s.PutValue(ctx, o, "vcard-temp", []byte("<vCard/>")); err != nil {
		t.Fatalf("PutValue(%s): %v", o, err)
	}
	if err := s.SetLastActivity(ctx, o, storage.LastActivity{Time: fixedTime, Status: "away"}); err != nil {
		t.Fatalf("SetLastActivity(%s): %v", o, err)
	}
}

// checkOwnerRecords checks that o has every record fillOwner stores, or
// none of them.
func checkOwnerRecords(t *testing.T, s storage.Store, o storage.Owner, present bool) {
	t.Helper()
	ctx := context.Background()
	wantErr := func(err error) bool {
		if present {
			return err == nil
		}
		return errors.Is(err, storage.ErrNotFound)
	}

	if _, err := s.GetAccount(ctx, o); !wantErr(err) {
		t.Errorf("GetAccount(%s) = %v, present %v", o, err, present)
	}

	items, ver, err := s.GetRoster(ctx, o)
	if err != nil {
		t.Errorf("GetRoster(%s): %v", o, err)
	}
	if present != (len(items) == 1) {
		t.Errorf("GetRoster(%s) returned %d items, present %v", o, len(items), present)
	}
	if present != (ver > 0) {
		t.Errorf("GetRoster(%s) version = %d, present %v", o, ver, present)
	}

	n, err := s.CountOffline(ctx, o)
	if err != nil {
		t.Errorf("CountOffline(%s): %v", o, err)
	}
	if present != (n == 1) {
		t.Errorf("CountOffline(%s) = %d, present %v", o, n, present)
	}

	if _, err := s.GetValue(ctx, o, "vcard-temp"); !wantErr(err) {
		t.Errorf("GetValue(%s) = %v, present %v", o, err, present)
	}
	if _, err := s.GetLastActivity(ctx, o); !wantErr(err) {
		t.Errorf("GetLastActivity(%s) = %v, present %v", o, err, present)
	}
}

func testDeleteCascades(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, o := range []storage.Owner{alice, bob, aliceOther} {
		fillOwner(t, s, o)
	}
	if err := s.DeleteAccount(ctx, alice); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	checkOwnerRecords(t, s, alice, false)
	checkOwnerRecords(t, s, bob, true)
	checkOwnerRecords(t, s, aliceOther, true)
}

func testListAccounts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	locals := []string{"zoe", "Zed", "éloïse", "adam", "bob", "10", "ädam", "a", "日本"}
	for _, l := range locals {
		mustCreate(t, s, storage.Owner{Domain: "example.com", Local: l})
	}
	mustCreate(t, s, storage.Owner{Domain: "example.org", Local: "other"})
	got, err := s.ListAccounts(ctx, "example.com")
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	want := slices.Sorted(slices.Values(locals))
	if !slices.Equal(got, want) {
		t.Errorf("ListAccounts = %q, want %q", got, want)
	}
	got, err = s.ListAccounts(ctx, "example.net")
	if err != nil {
		t.Fatalf("ListAccounts of empty domain: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("ListAccounts of empty domain = %q, want none", got)
	}
}

func testCountAccounts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, l := range []string{"a", "b", "c"} {
		mustCreate(t, s, storage.Owner{Domain: "example.com", Local: l})
	}
	mustCreate(t, s, storage.Owner{Domain: "example.org", Local: "a"})
	cases := []struct {
		domain string
		want   int
	}{
		{"example.com", 3},
		{"example.org", 1},
		{"example.net", 0},
	}
	for _, c := range cases {
		n, err := s.CountAccounts(ctx, c.domain)
		if err != nil {
			t.Errorf("CountAccounts(%s): %v", c.domain, err)
			continue
		}
		if n != c.want {
			t.Errorf("CountAccounts(%s) = %d, want %d", c.domain, n, c.want)
		}
	}
}

// batchCreator is the optional bulk method of a backend.
type batchCreator interface {
	CreateAccounts(ctx context.Context, accounts []storage.Account) error
}

func testCreateAccountsBatch(t *testing.T, s storage.Store) {
	ctx := context.Background()
	b, ok := s.(batchCreator)
	if !ok {
		t.Skip("backend has no CreateAccounts method")
	}
	if err := b.CreateAccounts(ctx, nil); err != nil {
		t.Errorf("CreateAccounts(nil) = %v, want nil", err)
	}
	mustCreate(t, s, bob)
	carol := storage.Owner{Domain: "example.com", Local: "carol"}
	failing := map[string][]storage.Account{
		"existing":       {{Owner: alice}, {Owner: bob, Keys: sampleKeys()}},
		"repeated":       {{Owner: alice}, {Owner: carol}, {Owner: alice}},
		"existing first": {{Owner: bob}, {Owner: alice}},
	}
	for name, batch := range failing {
		err := b.CreateAccounts(ctx, batch)
		if !errors.Is(err, storage.ErrExists) {
			t.Errorf("CreateAccounts with %s owner = %v, want ErrExists", name, err)
		} else if name == "existing" && !strings.Contains(err.Error(), bob.String()) {
			t.Errorf("CreateAccounts error %q does not name %s", err, bob)
		}
		if n, err := s.CountAccounts(ctx, "example.com"); err != nil || n != 1 {
			t.Errorf("after failed batch with %s owner: CountAccounts = %d, %v, want 1", name, n, err)
		}
	}
	batch := []storage.Account{
		{Owner: alice, Keys: sampleKeys(), CreatedAt: fixedTime},
		{Owner: carol},
		{Owner: aliceOther, Keys: sampleKeys()[1:]},
	}
	if err := b.CreateAccounts(ctx, batch); err != nil {
		t.Fatalf("CreateAccounts: %v", err)
	}
	for _, want := range batch {
		got, err := s.GetAccount(ctx, want.Owner)
		if err != nil {
			t.Errorf("GetAccount(%s): %v", want.Owner, err)
			continue
		}
		if !equalKeys(got.Keys, want.Keys) {
			t.Errorf("GetAccount(%s) keys = %+v, want %+v", want.Owner, got.Keys, want.Keys)
		}
		if got.CreatedAt.IsZero() {
			t.Errorf("GetAccount(%s) has a zero CreatedAt", want.Owner)
		}
	}
}
