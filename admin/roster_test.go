package admin

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// fakeRoster is a RosterEditor over a map from user to contacts.
type fakeRoster map[string]map[string]bool

func (f fakeRoster) SetItem(_ context.Context, user, contact jid.JID, _ string, _ []string) error {
	if f[user.String()] == nil {
		f[user.String()] = map[string]bool{}
	}
	f[user.String()][contact.String()] = true
	return nil
}

func (f fakeRoster) RemoveItem(_ context.Context, user, contact jid.JID) error {
	if !f[user.String()][contact.String()] {
		return stanza.ItemNotFound
	}
	delete(f[user.String()], contact.String())
	return nil
}

func TestRemoveRosterItemErrors(t *testing.T) {
	st := openStore(t)
	roster := fakeRoster{}
	svc := newService(t, st, serviceTable{services: map[string]any{"roster": roster}})
	ctx := context.Background()
	if err := svc.AddUsers(ctx, []NewUser{{JID: "tybalt@example.com", Password: "x"}}); err != nil {
		t.Fatalf("AddUsers: %v", err)
	}
	if err := svc.SetRosterItem(ctx, "tybalt@example.com", "romeo@example.com", "", nil); err != nil {
		t.Fatalf("SetRosterItem: %v", err)
	}
	if err := svc.RemoveRosterItem(ctx, "tybalt@example.com", "romeo@example.com"); err != nil {
		t.Fatalf("RemoveRosterItem of a contact: %v", err)
	}
	if roster["tybalt@example.com"]["romeo@example.com"] {
		t.Error("romeo@example.com is still on the roster after RemoveRosterItem")
	}

	err := svc.RemoveRosterItem(ctx, "tybalt@example.com", "juliet@example.com")
	if !errors.Is(err, ErrNotInRoster) {
		t.Errorf("removing a contact not on the roster = %v, want ErrNotInRoster", err)
	}
	if errors.Is(err, ErrNotFound) {
		t.Errorf("removing a contact not on the roster = %v, which reports a missing account", err)
	}
	if err != nil && !strings.Contains(err.Error(), "juliet@example.com") {
		t.Errorf("error %q does not name the contact", err)
	}

	err = svc.RemoveRosterItem(ctx, "nobody@example.com", "juliet@example.com")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("removing from a missing account = %v, want ErrNotFound", err)
	}
	if err := svc.SetRosterItem(ctx, "nobody@example.com", "juliet@example.com", "", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("adding to a missing account = %v, want ErrNotFound", err)
	}
	if _, ok := roster["nobody@example.com"]; ok {
		t.Error("the roster of a missing account was changed")
	}
}
