package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"tern/storage"
)

var rosterTests = []subtest{
	{"Empty", testRosterEmpty},
	{"PutGet", testRosterPutGet},
	{"Flags", testRosterFlags},
	{"Replace", testRosterReplace},
	{"GroupOrder", testRosterGroupOrder},
	{"Sorted", testRosterSorted},
	{"VersionsPerOwner", testRosterVersionsPerOwner},
	{"Delete", testRosterDelete},
	{"DeleteMissing", testRosterDeleteMissing},
	{"ItemNotFound", testRosterItemNotFound},
}

// fullItem returns a roster item with every field set.
func fullItem() storage.RosterItem {
	return storage.RosterItem{
		JID:          "juliet@example.net",
		Name:         "Juliet Capulet",
		Groups:       []string{"Friends", "Verona"},
		Subscription: storage.SubBoth,
		AskOut:       true,
		PendingIn:    true,
		PreApproved:  true,
		Listed:       true,
		Stanza:       []byte(`<presence type="subscribe" from="juliet@example.net"/>`),
	}
}

func testRosterEmpty(t *testing.T, s storage.Store) {
	items, ver, err := s.GetRoster(context.Background(), alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if len(items) != 0 {
		t.Errorf("GetRoster returned %d items, want none", len(items))
	}
	if ver != 0 {
		t.Errorf("version = %d, want 0", ver)
	}
}

func testRosterPutGet(t *testing.T, s storage.Store) {
	ctx := context.Background()
	item := fullItem()
	ver := mustPut(t, s, alice, item)
	if ver <= 0 {
		t.Errorf("first version = %d, want > 0", ver)
	}
	got, err := s.GetRosterItem(ctx, alice, item.JID)
	if err != nil {
		t.Fatalf("GetRosterItem: %v", err)
	}
	if !equalItem(got, item) {
		t.Errorf("GetRosterItem = %+v, want %+v", got, item)
	}
	items, gotVer, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if len(items) != 1 || !equalItem(items[0], item) {
		t.Errorf("GetRoster = %+v, want [%+v]", items, item)
	}
	if gotVer != ver {
		t.Errorf("GetRoster version = %d, want %d", gotVer, ver)
	}
}

func testRosterFlags(t *testing.T, s storage.Store) {
	ctx := context.Background()
	cases := []storage.RosterItem{
		{JID: "none@example.net", Subscription: storage.SubNone},
		{JID: "to@example.net", Subscription: storage.SubTo, Listed: true},
		{JID: "from@example.net", Subscription: storage.SubFrom, Listed: true},
		{JID: "both@example.net", Subscription: storage.SubBoth, Listed: true},
		{JID: "askout@example.net", Subscription: storage.SubNone, AskOut: true, Listed: true},
		{JID: "pendingin@example.net", Subscription: storage.SubNone, PendingIn: true,
			Stanza: []byte("<presence type='subscribe'/>")},
		{JID: "preapproved@example.net", Subscription: storage.SubNone, PreApproved: true},
		{JID: "named@example.net", Subscription: storage.SubTo, Name: "Named", Listed: true},
	}
	for _, item := range cases {
		mustPut(t, s, alice, item)
	}
	for _, want := range cases {
		got, err := s.GetRosterItem(ctx, alice, want.JID)
		if err != nil {
			t.Errorf("GetRosterItem(%s): %v", want.JID, err)
			continue
		}
		if !equalItem(got, want) {
			t.Errorf("GetRosterItem(%s) = %+v, want %+v", want.JID, got, want)
		}
	}
	items, _, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if len(items) != len(cases) {
		t.Errorf("GetRoster returned %d items, want %d including unlisted ones", len(items), len(cases))
	}
}

func testRosterReplace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	v1 := mustPut(t, s, alice, fullItem())
	repl := storage.RosterItem{JID: fullItem().JID, Groups: []string{"Work"}, Subscription: storage.SubTo, Listed: true}
	v2 := mustPut(t, s, alice, repl)
	if v2 <= v1 {
		t.Errorf("version after replace = %d, want > %d", v2, v1)
	}
	got, err := s.GetRosterItem(ctx, alice, repl.JID)
	if err != nil {
		t.Fatalf("GetRosterItem: %v", err)
	}
	if !equalItem(got, repl) {
		t.Errorf("GetRosterItem after replace = %+v, want %+v", got, repl)
	}
	items, _, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if len(items) != 1 {
		t.Errorf("GetRoster after replace returned %d items, want 1", len(items))
	}
}

func testRosterGroupOrder(t *testing.T, s storage.Store) {
	ctx := context.Background()
	item := storage.RosterItem{
		JID:    "romeo@example.net",
		Groups: []string{"Zeta", "alpha", "Ärzte", "", "beta", "with,comma", `"quoted"`, "日本"},
	}
	mustPut(t, s, alice, item)
	got, err := s.GetRosterItem(ctx, alice, item.JID)
	if err != nil {
		t.Fatalf("GetRosterItem: %v", err)
	}
	if !slices.Equal(got.Groups, item.Groups) {
		t.Errorf("Groups = %q, want %q", got.Groups, item.Groups)
	}
}

func testRosterSorted(t *testing.T, s storage.Store) {
	ctx := context.Background()
	jids := []string{"zed@a.example", "Zed@a.example", "émile@a.example", "bob@b.example", "bob@a.example", "a@a.example", "ärger@a.example"}
	for _, j := range jids {
		mustPut(t, s, alice, storage.RosterItem{JID: j, Subscription: storage.SubNone, Listed: true})
	}
	items, _, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.JID)
	}
	want := slices.Sorted(slices.Values(jids))
	if !slices.Equal(got, want) {
		t.Errorf("GetRoster order = %q, want %q", got, want)
	}
}

func testRosterVersionsPerOwner(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var last int64
	for i, j := range []string{"a@example.net", "b@example.net", "a@example.net"} {
		v := mustPut(t, s, alice, storage.RosterItem{JID: j})
		if v <= last {
			t.Errorf("put %d: version %d, want > %d", i, v, last)
		}
		last = v
	}
	bobVer := mustPut(t, s, bob, storage.RosterItem{JID: "a@example.net"})
	if bobVer != 1 {
		t.Errorf("bob's first version = %d, want 1: versions are counted per owner", bobVer)
	}
	_, aliceVer, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster(alice): %v", err)
	}
	if aliceVer != last {
		t.Errorf("alice's version after bob's put = %d, want %d", aliceVer, last)
	}
	_, otherVer, err := s.GetRoster(ctx, aliceOther)
	if err != nil {
		t.Fatalf("GetRoster(%s): %v", aliceOther, err)
	}
	if otherVer != 0 {
		t.Errorf("version of %s = %d, want 0", aliceOther, otherVer)
	}
}

func testRosterDelete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	item := fullItem()
	mustPut(t, s, alice, storage.RosterItem{JID: "keep@example.net"})
	v1 := mustPut(t, s, alice, item)
	mustPut(t, s, bob, item)

	v2, err := s.DeleteRosterItem(ctx, alice, item.JID)
	if err != nil {
		t.Fatalf("DeleteRosterItem: %v", err)
	}
	if v2 <= v1 {
		t.Errorf("version after delete = %d, want > %d", v2, v1)
	}

	if _, err := s.GetRosterItem(ctx, alice, item.JID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetRosterItem after delete = %v, want ErrNotFound", err)
	}

	items, ver, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if len(items) != 1 || items[0].JID != "keep@example.net" {
		t.Errorf("GetRoster after delete = %+v, want only keep@example.net", items)
	}
	if ver != v2 {
		t.Errorf("GetRoster version = %d, want %d", ver, v2)
	}

	if _, err := s.GetRosterItem(ctx, bob, item.JID); err != nil {
		t.Errorf("bob's item after alice's delete: %v", err)
	}

	// Removing the last item keeps the version counting.
	v3, err := s.DeleteRosterItem(ctx, alice, "keep@example.net")
	if err != nil {
		t.Fatalf("DeleteRosterItem(last): %v", err)
	}
	_, ver, err = s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if v3 <= v2 || ver != v3 {
		t.Errorf("version after deleting the last item = %d (GetRoster %d), want %d > %d", v3, ver, v3, v2)
	}
}

func testRosterDeleteMissing(t *testing.T, s storage.Store) {
	ctx := context.Background()
	v1 := mustPut(t, s, alice, storage.RosterItem{JID: "a@example.net"})
	mustPut(t, s, bob, storage.RosterItem{JID: "b@example.net"})
	if _, err := s.DeleteRosterItem(ctx, alice, "b@example.net"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteRosterItem of missing contact = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteRosterItem(ctx, aliceOther, "a@example.net"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteRosterItem in other domain = %v, want ErrNotFound", err)
	}
	_, ver, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if ver != v1 {
		t.Errorf("version after failed delete = %d, want unchanged %d", ver, v1)
	}
	if _, err := s.GetRosterItem(ctx, bob, "b@example.net"); err != nil {
		t.Errorf("bob's item after failed delete: %v", err)
	}
}

func testRosterItemNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.GetRosterItem(ctx, alice, "nobody@example.net"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetRosterItem on empty roster = %v, want ErrNotFound", err)
	}
	mustPut(t, s, bob, storage.RosterItem{JID: "nobody@example.net"})
	if _, err := s.GetRosterItem(ctx, alice, "nobody@example.net"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetRosterItem of another owner's contact = %v, want ErrNotFound", err)
	}
}
