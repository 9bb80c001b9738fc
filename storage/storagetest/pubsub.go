package storagetest

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"tern/storage"
)

var pubsubTests = []subtest{
	{"NotFound", testPubSubNotFound},
	{"CreateGet", testPubSubCreateGet},
	{"CreateExists", testPubSubCreateExists},
	{"ListSorted", testPubSubListSorted},
	{"PublishOrder", testPubSubPublishOrder},
	{"MaxItems", testPubSubMaxItems},
	{"Configure", testPubSubConfigure},
	{"GetItem", testPubSubGetItem},
	{"Retract", testPubSubRetract},
	{"Purge", testPubSubPurge},
	{"DeleteNode", testPubSubDeleteNode},
	{"ItemData", testPubSubItemData},
	{"Isolation", testPubSubIsolation},
	{"DeleteAccount", testPubSubDeleteAccount},
}

// pubsubOf returns the store's PubSub repository or fails the test.
func pubsubOf(t *testing.T, s storage.Store) storage.PubSub {
	t.Helper()
	ps, ok := s.(storage.PubSub)
	if !ok {
		t.Fatalf("%T does not implement storage.PubSub", s)
	}
	return ps
}

func mustCreateNode(t *testing.T, ps storage.PubSub, o storage.Owner, name string) {
	t.Helper()
	n := storage.PubSubNode{Name: name, Config: map[string][]string{"pubsub#max_items": {"10"}}}
	if err := ps.CreateNode(context.Background(), o, n); err != nil {
		t.Fatalf("CreateNode(%s, %q): %v", o, name, err)
	}
}

func mustPublish(t *testing.T, ps storage.PubSub, o storage.Owner, node, id string, maxItems int) {
	t.Helper()
	it := storage.PubSubItem{ID: id, Publisher: o.String() + "/r", Payload: []byte("<p xmlns='x'>" + id + "</p>")}
	if err := ps.PublishItem(context.Background(), o, node, it, maxItems); err != nil {
		t.Fatalf("PublishItem(%s, %q, %q): %v", o, node, id, err)
	}
}

// itemIDs returns the items of a node, oldest first, or fails the test.
func itemIDs(t *testing.T, ps storage.PubSub, o storage.Owner, node string, max int) []string {
	t.Helper()
	items, err := ps.GetItems(context.Background(), o, node, max)
	if err != nil {
		t.Fatalf("GetItems(%s, %q, %d): %v", o, node, max, err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

func testPubSubNotFound(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	item := storage.PubSubItem{ID: "1", Payload: []byte("<x/>")}
	checks := map[string]error{
		"PurgeNode":     ps.PurgeNode(ctx, alice, "n"),
		"DeleteNode":    ps.DeleteNode(ctx, alice, "n"),
		"RetractItem":   ps.RetractItem(ctx, alice, "n", "1"),
		"PublishItem":   ps.PublishItem(ctx, alice, "n", item, 1),
		"ConfigureNode": ps.ConfigureNode(ctx, alice, storage.PubSubNode{Name: "n"}, 1),
	}
	_, checks["GetNode"] = ps.GetNode(ctx, alice, "n")
	_, checks["GetItems"] = ps.GetItems(ctx, alice, "n", 0)
	_, checks["GetItem"] = ps.GetItem(ctx, alice, "n", "1")
	for name, err := range checks {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s of a missing node = %v, want ErrNotFound", name, err)
		}
	}
}

func testPubSubCreateGet(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	want := storage.PubSubNode{
		Name: "urn:xmpp:bookmarks:1",
		Config: map[string][]string{
			"pubsub#access_model":          {"roster"},
			"pubsub#roster_groups_allowed": {"Friends", "Family", "Ünïcode"},
			"pubsub#max_items":             {"max"},
		},
		Affiliations: map[string]string{"bob@example.com": "member", "eve@example.net": "outcast"},
	}
	if err := ps.CreateNode(ctx, alice, want); err != nil {
		t.Fatalf("CreateNode: %v", err)
	}
	got, err := ps.GetNode(ctx, alice, want.Name)
	if err != nil {
		t.Fatalf("GetNode: %v", err)
	}
	if got.Name != want.Name {
		t.Errorf("GetNode name = %q, want %q", got.Name, want.Name)
	}
	if !maps.EqualFunc(got.Config, want.Config, slices.Equal) {
		t.Errorf("GetNode config = %v, want %v", got.Config, want.Config)
	}
	if !maps.Equal(got.Affiliations, want.Affiliations) {
		t.Errorf("GetNode affiliations = %v, want %v", got.Affiliations, want.Affiliations)
	}
	if ids := itemIDs(t, ps, alice, want.Name, 0); len(ids) != 0 {
		t.Errorf("new node has items %v", ids)
	}
}

func testPubSubCreateExists(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	mustCreateNode(t, ps, alice, "n")
	mustPublish(t, ps, alice, "n", "kept", 0)
	err := ps.CreateNode(context.Background(), alice, storage.PubSubNode{Name: "n"})
	if !errors.Is(err, storage.ErrExists) {
		t.Errorf("second CreateNode = %v, want ErrExists", err)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{"kept"}) {
		t.Errorf("items after a failed CreateNode = %v, want [kept]", ids)
	}
}

func testPubSubListSorted(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	for _, name := range []string{"b", "é", "B", "a", "urn:xmpp:avatar:data"} {
		mustCreateNode(t, ps, alice, name)
	}
	mustCreateNode(t, ps, bob, "c")
	nodes, err := ps.ListNodes(context.Background(), alice)
	if err != nil {
		t.Fatalf("ListNodes: %v", err)
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	want := []string{"B", "a", "b", "urn:xmpp:avatar:data", "é"}
	if !slices.Equal(names, want) {
		t.Errorf("ListNodes = %q, want %q (byte order)", names, want)
	}
	if nodes[0].Config["pubsub#max_items"][0] != "10" {
		t.Errorf("ListNodes config = %v", nodes[0].Config)
	}
	empty, err := ps.ListNodes(context.Background(), aliceOther)
	if err != nil || len(empty) != 0 {
		t.Errorf("ListNodes of an owner with no nodes = %v, %v", empty, err)
	}
}

func testPubSubPublishOrder(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	mustCreateNode(t, ps, alice, "n")
	for _, id := range []string{"a", "b", "c"} {
		mustPublish(t, ps, alice, "n", id, 0)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Errorf("items = %v, want [a b c]", ids)
	}
	// Republishing an id replaces the item and makes it the newest.
	mustPublish(t, ps, alice, "n", "a", 0)
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{"b", "c", "a"}) {
		t.Errorf("items after republishing a = %v, want [b c a]", ids)
	}
	if ids := itemIDs(t, ps, alice, "n", 2); !slices.Equal(ids, []string{"c", "a"}) {
		t.Errorf("two newest items = %v, want [c a]", ids)
	}
	if ids := itemIDs(t, ps, alice, "n", 1); !slices.Equal(ids, []string{"a"}) {
		t.Errorf("newest item = %v, want [a]", ids)
	}
}

func testPubSubMaxItems(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	mustCreateNode(t, ps, alice, "n")
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		mustPublish(t, ps, alice, "n", id, 3)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{"3", "4", "5"}) {
		t.Errorf("items with max 3 = %v, want [3 4 5]", ids)
	}
	mustPublish(t, ps, alice, "n", "only", 1)
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{"only"}) {
		t.Errorf("items with max 1 = %v, want [only]", ids)
	}
}

func testPubSubConfigure(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	mustCreateNode(t, ps, alice, "n")
	for _, id := range []string{"1", "2", "3"} {
		mustPublish(t, ps, alice, "n", id, 0)
	}
	n := storage.PubSubNode{
		Name:         "n",
		Config:       map[string][]string{"pubsub#access_model": {"open"}},
		Affiliations: map[string]string{"bob@example.com": "member"},
	}
	if err := ps.ConfigureNode(ctx, alice, n, 2); err != nil {
		t.Fatalf("ConfigureNode: %v", err)
	}
	got, err := ps.GetNode(ctx, alice, "n")
	if err != nil {
		t.Fatalf("GetNode: %v", err)
	}
	if !maps.EqualFunc(got.Config, n.Config, slices.Equal) || !maps.Equal(got.Affiliations, n.Affiliations) {
		t.Errorf("GetNode after ConfigureNode = %+v, want %+v", got, n)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{"2", "3"}) {
		t.Errorf("items after configuring max 2 = %v, want [2 3]", ids)
	}
	if err := ps.ConfigureNode(ctx, alice, storage.PubSubNode{Name: "n"}, 0); err != nil {
		t.Fatalf("ConfigureNode with no limit: %v", err)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); len(ids) != 2 {
		t.Errorf("items after configuring no limit = %v, want 2 items", ids)
	}
	got, err = ps.GetNode(ctx, alice, "n")
	if err != nil || len(got.Config) != 0 || len(got.Affiliations) != 0 {
		t.Errorf("GetNode after clearing the config = %+v, %v", got, err)
	}
}

func testPubSubGetItem(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	mustCreateNode(t, ps, alice, "n")
	mustPublish(t, ps, alice, "n", "a", 0)
	it, err := ps.GetItem(ctx, alice, "n", "a")
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if it.ID != "a" || string(it.Payload) != "<p xmlns='x'>a</p>" {
		t.Errorf("GetItem = %+v", it)
	}
	if _, err := ps.GetItem(ctx, alice, "n", "A"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetItem of a missing id = %v, want ErrNotFound (ids are case-sensitive)", err)
	}
}

func testPubSubRetract(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	mustCreateNode(t, ps, alice, "n")
	for _, id := range []string{"a", "b"} {
		mustPublish(t, ps, alice, "n", id, 0)
	}
	if err := ps.RetractItem(ctx, alice, "n", "a"); err != nil {
		t.Fatalf("RetractItem: %v", err)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{"b"}) {
		t.Errorf("items after retract = %v, want [b]", ids)
	}
	if err := ps.RetractItem(ctx, alice, "n", "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second RetractItem = %v, want ErrNotFound", err)
	}
}

func testPubSubPurge(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	mustCreateNode(t, ps, alice, "n")
	mustCreateNode(t, ps, alice, "other")
	mustPublish(t, ps, alice, "n", "a", 0)
	mustPublish(t, ps, alice, "other", "b", 0)
	if err := ps.PurgeNode(ctx, alice, "n"); err != nil {
		t.Fatalf("PurgeNode: %v", err)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); len(ids) != 0 {
		t.Errorf("items after purge = %v", ids)
	}
	if _, err := ps.GetNode(ctx, alice, "n"); err != nil {
		t.Errorf("GetNode after purge = %v, want the node kept", err)
	}
	if ids := itemIDs(t, ps, alice, "other", 0); !slices.Equal(ids, []string{"b"}) {
		t.Errorf("other node's items after purge = %v, want [b]", ids)
	}
}

func testPubSubDeleteNode(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	mustCreateNode(t, ps, alice, "n")
	mustPublish(t, ps, alice, "n", "a", 0)
	if err := ps.DeleteNode(ctx, alice, "n"); err != nil {
		t.Fatalf("DeleteNode: %v", err)
	}
	if _, err := ps.GetNode(ctx, alice, "n"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetNode after delete = %v, want ErrNotFound", err)
	}
	// A node created again under the same name starts empty.
	mustCreateNode(t, ps, alice, "n")
	if ids := itemIDs(t, ps, alice, "n", 0); len(ids) != 0 {
		t.Errorf("re-created node has items %v", ids)
	}
}

func testPubSubItemData(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	mustCreateNode(t, ps, alice, "n")
	want := storage.PubSubItem{ID: "bin", Publisher: "alice@example.com/phone", Payload: allBytes(), Published: fixedTime}
	if err := ps.PublishItem(ctx, alice, "n", want, 0); err != nil {
		t.Fatalf("PublishItem: %v", err)
	}
	before := time.Now().Add(-time.Second)
	mustPublish(t, ps, alice, "n", "now", 0)
	items, err := ps.GetItems(ctx, alice, "n", 0)
	if err != nil || len(items) != 2 {
		t.Fatalf("GetItems = %v, %v", items, err)
	}
	got := items[0]
	if got.Publisher != want.Publisher || !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("item publisher or payload changed in storage: %q", got.Publisher)
	}
	if !got.Published.Equal(truncate(fixedTime)) || got.Published.Location() != time.UTC {
		t.Errorf("Published = %v, want %v in UTC", got.Published, truncate(fixedTime).UTC())
	}
	if items[1].Published.Before(before) || items[1].Published.Location() != time.UTC {
		t.Errorf("zero Published stored as %v, want the current time in UTC", items[1].Published)
	}
}

func testPubSubIsolation(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	for _, o := range []storage.Owner{alice, bob, aliceOther} {
		mustCreateNode(t, ps, o, "n")
		mustPublish(t, ps, o, "n", o.String(), 0)
	}
	if err := ps.PurgeNode(ctx, bob, "n"); err != nil {
		t.Fatalf("PurgeNode(bob): %v", err)
	}
	if err := ps.DeleteNode(ctx, aliceOther, "n"); err != nil {
		t.Fatalf("DeleteNode(aliceOther): %v", err)
	}
	if ids := itemIDs(t, ps, alice, "n", 0); !slices.Equal(ids, []string{alice.String()}) {
		t.Errorf("alice's items = %v, want only her own", ids)
	}
}

func testPubSubDeleteAccount(t *testing.T, s storage.Store) {
	ps := pubsubOf(t, s)
	ctx := context.Background()
	mustCreate(t, s, alice)
	mustCreate(t, s, bob)
	mustCreateNode(t, ps, alice, "n")
	mustPublish(t, ps, alice, "n", "a", 0)
	mustCreateNode(t, ps, bob, "n")
	if err := s.DeleteAccount(ctx, alice); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if nodes, err := ps.ListNodes(ctx, alice); err != nil || len(nodes) != 0 {
		t.Errorf("ListNodes after DeleteAccount = %v, %v, want none", nodes, err)
	}
	if _, err := ps.GetItem(ctx, alice, "n", "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetItem after DeleteAccount = %v, want ErrNotFound", err)
	}
	if _, err := ps.GetNode(ctx, bob, "n"); err != nil {
		t.Errorf("another account's node after DeleteAccount: %v", err)
	}
}
