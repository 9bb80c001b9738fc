package storagetest

import (
	"context"
	"errors"
	"testing"

	"tern/storage"
)

var contextTests = []subtest{
	{"Canceled", testContextCanceled},
}

// canceledCalls lists one call of every Store method.
var canceledCalls = []struct {
	name string
	call func(ctx context.Context, s storage.Store) error
}{
	{"CreateAccount", func(ctx context.Context, s storage.Store) error {
		return s.CreateAccount(ctx, storage.Account{Owner: bob, Keys: sampleKeys()})
	}},
	{"GetAccount", func(ctx context.Context, s storage.Store) error {
		_, err := s.GetAccount(ctx, alice)
		return err
	}},
	{"SetKeys", func(ctx context.Context, s storage.Store) error {
		return s.SetKeys(ctx, alice, nil)
	}},
	{"DeleteAccount", func(ctx context.Context, s storage.Store) error {
		return s.DeleteAccount(ctx, alice)
	}},
	{"ListAccounts", func(ctx context.Context, s storage.Store) error {
		_, err := s.ListAccounts(ctx, alice.Domain)
		return err
	}},
	{"CountAccounts", func(ctx context.Context, s storage.Store) error {
		_, err := s.CountAccounts(ctx, alice.Domain)
		return err
	}},
	{"GetRoster", func(ctx context.Context, s storage.Store) error {
		_, _, err := s.GetRoster(ctx, alice)
		return err
	}},
	{"GetRosterItem", func(ctx context.Context, s storage.Store) error {
		_, err := s.GetRosterItem(ctx, alice, "carol@example.net")
		return err
	}},
	{"PutRosterItem", func(ctx context.Context, s storage.Store) error {
		_, err := s.PutRosterItem(ctx, alice, storage.RosterItem{JID: "dave@example.net"})
		return err
	}},
	{"DeleteRosterItem", func(ctx context.Context, s storage.Store) error {
		_, err := s.DeleteRosterItem(ctx, alice, "carol@example.net")
		return err
	}},
	{"PushOffline", func(ctx context.Context, s storage.Store) error {
		return s.PushOffline(ctx, alice, []byte("<message/>"), 0)
	}},
	{"PopOffline", func(ctx context.Context, s storage.Store) error {
		_, err := s.PopOffline(ctx, alice)
		return err
	}},
	{"CountOffline", func(ctx context.Context, s storage.Store) error {
		_, err := s.CountOffline(ctx, alice)
		return err
	}},
	{"GetValue", func(ctx context.Context, s storage.Store) error {
		_, err := s.GetValue(ctx, alice, "vcard-temp")
		return err
	}},
	{"PutValue", func(ctx context.Context, s storage.Store) error {
		return s.PutValue(ctx, alice, "vcard-temp", []byte("<changed/>"))
	}},
	{"DeleteValue", func(ctx context.Context, s storage.Store) error {
		return s.DeleteValue(ctx, alice, "vcard-temp")
	}},
	{"SetLastActivity", func(ctx context.Context, s storage.Store) error {
		return s.SetLastActivity(ctx, alice, storage.LastActivity{Status: "changed"})
	}},
	{"GetLastActivity", func(ctx context.Context, s storage.Store) error {
		_, err := s.GetLastActivity(ctx, alice)
		return err
	}},
}

// testContextCanceled calls every method with a canceled context and checks
// that each returns the context's error and that no write took effect.
func testContextCanceled(t *testing.T, s storage.Store) {
	fillOwner(t, s, alice)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range canceledCalls {
		err := c.call(ctx, s)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", c.name, err)
		}
	}

	checkOwnerRecords(t, s, alice, true)
	bg := context.Background()
	if _, err := s.GetAccount(bg, bob); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("account created with a canceled context: GetAccount = %v", err)
	}

	acct, err := s.GetAccount(bg, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if !equalKeys(acct.Keys, sampleKeys()) {
		t.Errorf("SetKeys with a canceled context changed the keys")
	}

	if _, err := s.GetRosterItem(bg, alice, "dave@example.net"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("roster item stored with a canceled context: GetRosterItem = %v", err)
	}
	if v, err := s.GetValue(bg, alice, "vcard-temp"); err != nil || string(v) != "<vCard/>" {
		t.Errorf("value after writes with a canceled context = %q, %v, want %q", v, err, "<vCard/>")
	}
	if a, err := s.GetLastActivity(bg, alice); err != nil || a.Status != "away" {
		t.Errorf("last activity after a write with a canceled context = %+v, %v", a, err)
	}
}
