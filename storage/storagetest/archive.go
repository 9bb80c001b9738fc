package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"tern/storage"
)

// RunArchive runs the storage.Archive part of the suite alone, which Run
// includes. The stores that open returns must implement
// storage.Archive.
func RunArchive(t *testing.T, open func(t *testing.T) storage.Store) {
	for _, st := range archiveTests {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			st.run(t, newStore(t, open))
		})
	}
}

var archiveTests = []subtest{
	{"RoundTrip", testArchiveRoundTrip},
	{"IDOrder", testArchiveIDOrder},
	{"With", testArchiveWith},
	{"TimeRange", testArchiveTimeRange},
	{"AfterBefore", testArchiveAfterBefore},
	{"UnknownBound", testArchiveUnknownBound},
	{"IDs", testArchiveIDs},
	{"MaxAndLast", testArchiveMaxAndLast},
	{"Count", testArchiveCount},
	{"Isolation", testArchiveIsolation},
	{"Remove", testArchiveRemove},
	{"Replace", testArchiveReplace},
	{"Expire", testArchiveExpire},
	{"Paging", testArchivePaging},
	{"DeleteAccount", testArchiveDeleteAccount},
	{"ConcurrentAppends", testArchiveConcurrentAppends},
	{"Canceled", testArchiveCanceled},
}

// archiveOf returns s as a storage.Archive or fails the test.
func archiveOf(t *testing.T, s storage.Store) storage.Archive {
	t.Helper()
	a, ok := s.(storage.Archive)
	if !ok {
		t.Fatalf("%T does not implement storage.Archive", s)
	}
	return a
}

// archiveStanza returns a message with the given body.
func archiveStanza(body string) []byte {
	return fmt.Appendf(nil, "<message xmlns='jabber:client' type='chat'><body>%s</body></message>", body)
}

// mustAppend archives a message with body at tm and returns its id.
func mustAppend(t *testing.T, a storage.Archive, o storage.Owner, with string, tm time.Time, body string) string {
	t.Helper()
	id, err := a.AppendArchive(context.Background(), o, storage.ArchivedMessage{With: with, Time: tm, Stanza: archiveStanza(body)})
	if err != nil {
		t.Fatalf("AppendArchive(%s, %s): %v", o, body, err)
	}
	if id == "" {
		t.Fatalf("AppendArchive(%s, %s) returned an empty id", o, body)
	}
	return id
}

// mustQuery runs a query or fails the test.
func mustQuery(t *testing.T, a storage.Archive, o storage.Owner, q storage.ArchiveQuery) storage.ArchivePage {
	t.Helper()
	p, err := a.QueryArchive(context.Background(), o, q)
	if err != nil {
		t.Fatalf("QueryArchive(%s, %+v): %v", o, q, err)
	}
	return p
}

// pageIDs returns the ids of a page's messages in order.
func pageIDs(p storage.ArchivePage) []string {
	ids := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		ids[i] = m.ID
	}
	return ids
}

// fillArchive appends n messages with alice's contacts, one second apart
// from fixedTime, and returns their ids. Message i is with
// "c<i%3>@example.net/r<i%2>" and has body "m<i>".
func fillArchive(t *testing.T, a storage.Archive, o storage.Owner, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		with := fmt.Sprintf("c%d@example.net/r%d", i%3, i%2)
		ids[i] = mustAppend(t, a, o, with, fixedTime.Add(time.Duration(i)*time.Second), fmt.Sprintf("m%d", i))
	}
	return ids
}

func testArchiveRoundTrip(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	stanza := append(archiveStanza("binary"), allBytes()...)
	id, err := a.AppendArchive(context.Background(), alice, storage.ArchivedMessage{
		With: "romeo@example.net/orchard", Time: fixedTime, Stanza: stanza,
	})
	if err != nil {
		t.Fatalf("AppendArchive: %v", err)
	}
	p := mustQuery(t, a, alice, storage.ArchiveQuery{})
	if len(p.Messages) != 1 {
		t.Fatalf("QueryArchive returned %d messages, want 1", len(p.Messages))
	}
	m := p.Messages[0]
	if m.ID != id {
		t.Errorf("ID = %q, want %q from AppendArchive", m.ID, id)
	}
	if m.With != "romeo@example.net/orchard" {
		t.Errorf("With = %q, want the full JID as stored", m.With)
	}
	if !m.Time.Equal(truncate(fixedTime)) || m.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", m.Time, truncate(fixedTime).UTC())
	}
	if !bytes.Equal(m.Stanza, stanza) {
		t.Errorf("Stanza changed in storage")
	}
	if !p.Complete || p.Count != 1 {
		t.Errorf("Complete, Count = %v, %d, want true, 1", p.Complete, p.Count)
	}

	before := time.Now().Add(-time.Second)
	mustAppend(t, a, alice, "romeo@example.net", time.Time{}, "now")
	p = mustQuery(t, a, alice, storage.ArchiveQuery{Last: true, Max: 1})
	if got := p.Messages[0].Time; got.Before(before) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("a zero Time was stored as %v, want the current time", got)
	}
}

// testArchiveIDOrder checks that ids are unique and sort in append order,
// also for messages appended with the same time or an earlier one.
func testArchiveIDOrder(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	var ids []string
	for i := range 20 {
		ids = append(ids, mustAppend(t, a, alice, "b@example.net", fixedTime, fmt.Sprint(i)))
	}
	ids = append(ids, mustAppend(t, a, alice, "b@example.net", fixedTime.Add(-time.Hour), "earlier"))
	if !slices.IsSorted(ids) {
		t.Errorf("ids do not sort in append order: %q", ids)
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("ids repeat: %q", ids)
	}
	if got := pageIDs(mustQuery(t, a, alice, storage.ArchiveQuery{})); !slices.Equal(got, ids) {
		t.Errorf("QueryArchive order = %q, want %q", got, ids)
	}
	// A removed message's id is not handed out again.
	last := ids[len(ids)-1]
	if err := a.RemoveArchived(context.Background(), alice, []string{last}); err != nil {
		t.Fatalf("RemoveArchived: %v", err)
	}
	if next := mustAppend(t, a, alice, "b@example.net", fixedTime, "after removal"); next <= last {
		t.Errorf("id after removing %q = %q, want a later one", last, next)
	}
}

func testArchiveWith(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 12)
	tests := []struct {
		with string
		want []int
	}{
		{"c0@example.net", []int{0, 3, 6, 9}},
		{"c0@example.net/r0", []int{0, 6}},
		{"c1@example.net/r0", []int{4, 10}},
		{"c2@example.net/r9", nil},
		{"nobody@example.net", nil},
		{"example.net", nil},
	}
	for _, tt := range tests {
		var want []string
		for _, i := range tt.want {
			want = append(want, ids[i])
		}
		p := mustQuery(t, a, alice, storage.ArchiveQuery{With: tt.with})
		if got := pageIDs(p); !slices.Equal(got, want) {
			t.Errorf("With %q = %q, want %q", tt.with, got, want)
		}
		if p.Count != len(want) {
			t.Errorf("With %q: Count = %d, want %d", tt.with, p.Count, len(want))
		}
	}
}

func testArchiveTimeRange(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 10)
	at := func(i int) time.Time { return fixedTime.Add(time.Duration(i) * time.Second) }
	tests := []struct {
		name       string
		start, end time.Time
		want       []string
	}{
		{"start inclusive", at(7), time.Time{}, ids[7:]},
		{"end inclusive", time.Time{}, at(2), ids[:3]},
		{"both", at(3), at(5), ids[3:6]},
		{"start between", at(3).Add(time.Microsecond), time.Time{}, ids[4:]},
		{"start below a microsecond", at(3).Add(time.Nanosecond), time.Time{}, ids[4:]},
		{"end between", time.Time{}, at(3).Add(-time.Microsecond), ids[:3]},
		{"start in UTC", at(8).UTC(), time.Time{}, ids[8:]},
		{"empty", at(6), at(5), nil},
	}
	for _, tt := range tests {
		got := pageIDs(mustQuery(t, a, alice, storage.ArchiveQuery{Start: tt.start, End: tt.end}))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ids = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func testArchiveAfterBefore(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 10)
	tests := []struct {
		name string
		q    storage.ArchiveQuery
		want []string
	}{
		{"after", storage.ArchiveQuery{AfterID: ids[6]}, ids[7:]},
		{"before", storage.ArchiveQuery{BeforeID: ids[3]}, ids[:3]},
		{"between", storage.ArchiveQuery{AfterID: ids[2], BeforeID: ids[6]}, ids[3:6]},
		{"adjacent", storage.ArchiveQuery{AfterID: ids[2], BeforeID: ids[3]}, nil},
		{"after last", storage.ArchiveQuery{AfterID: ids[9]}, nil},
		{"after with filter", storage.ArchiveQuery{AfterID: ids[1], With: "c1@example.net"}, []string{ids[4], ids[7]}},
		{"before last page", storage.ArchiveQuery{BeforeID: ids[8], Last: true, Max: 2}, ids[6:8]},
		{"after first page", storage.ArchiveQuery{AfterID: ids[1], Max: 2}, ids[2:4]},
	}
	for _, tt := range tests {
		got := pageIDs(mustQuery(t, a, alice, tt.q))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ids = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func testArchiveUnknownBound(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 3)
	bobID := mustAppend(t, a, bob, "c@example.net", fixedTime, "bob's")
	otherID := mustAppend(t, a, aliceOther, "c@example.net", fixedTime, "other alice's")
	for _, q := range []storage.ArchiveQuery{
		{AfterID: "no-such-id"},
		{BeforeID: "no-such-id"},
		{AfterID: ids[0], BeforeID: "no-such-id"},
		{AfterID: bobID},
		{BeforeID: otherID},
	} {
		_, err := a.QueryArchive(context.Background(), alice, q)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("QueryArchive(%+v) = %v, want ErrNotFound", q, err)
		}
	}
}

func testArchiveIDs(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 8)
	bobID := mustAppend(t, a, bob, "c@example.net", fixedTime, "bob's")
	tests := []struct {
		name string
		q    storage.ArchiveQuery
		want []string
	}{
		{"one", storage.ArchiveQuery{IDs: []string{ids[4]}}, ids[4:5]},
		{"in archive order", storage.ArchiveQuery{IDs: []string{ids[6], ids[1], ids[3]}}, []string{ids[1], ids[3], ids[6]}},
		{"unknown ignored", storage.ArchiveQuery{IDs: []string{"no-such-id", ids[2]}}, ids[2:3]},
		{"other owner's", storage.ArchiveQuery{IDs: []string{bobID}}, nil},
		{"with max", storage.ArchiveQuery{IDs: []string{ids[0], ids[5], ids[7]}, Max: 2}, []string{ids[0], ids[5]}},
		{"with filter", storage.ArchiveQuery{IDs: []string{ids[0], ids[1], ids[3]}, With: "c0@example.net"}, []string{ids[0], ids[3]}},
		{"empty list", storage.ArchiveQuery{IDs: []string{}}, ids},
	}
	for _, tt := range tests {
		got := pageIDs(mustQuery(t, a, alice, tt.q))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ids = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func testArchiveMaxAndLast(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 10)
	tests := []struct {
		name     string
		q        storage.ArchiveQuery
		want     []string
		complete bool
	}{
		{"first page", storage.ArchiveQuery{Max: 4}, ids[:4], false},
		{"last page", storage.ArchiveQuery{Max: 4, Last: true}, ids[6:], false},
		{"max equals matches", storage.ArchiveQuery{Max: 10}, ids, true},
		{"max above matches", storage.ArchiveQuery{Max: 11, Last: true}, ids, true},
		{"no max", storage.ArchiveQuery{}, ids, true},
		{"no max last", storage.ArchiveQuery{Last: true}, ids, true},
		{"final page forward", storage.ArchiveQuery{AfterID: ids[5], Max: 4}, ids[6:], true},
		{"final page backward", storage.ArchiveQuery{BeforeID: ids[4], Max: 4, Last: true}, ids[:4], true},
		{"page backward", storage.ArchiveQuery{BeforeID: ids[5], Max: 4, Last: true}, ids[1:5], false},
		{"no matches", storage.ArchiveQuery{With: "x@example.net", Max: 4}, nil, true},
	}
	for _, tt := range tests {
		p := mustQuery(t, a, alice, tt.q)
		if got := pageIDs(p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: ids = %q, want %q", tt.name, got, tt.want)
		}
		if p.Complete != tt.complete {
			t.Errorf("%s: Complete = %v, want %v", tt.name, p.Complete, tt.complete)
		}
	}
}

// testArchiveCount checks that Count ignores Max and Last but not the
// other constraints.
func testArchiveCount(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 10)
	tests := []struct {
		q    storage.ArchiveQuery
		want int
	}{
		{storage.ArchiveQuery{Max: 3}, 10},
		{storage.ArchiveQuery{Max: 3, Last: true}, 10},
		{storage.ArchiveQuery{With: "c2@example.net", Max: 1}, 3},
		{storage.ArchiveQuery{AfterID: ids[3], Max: 2}, 6},
		{storage.ArchiveQuery{BeforeID: ids[3], Max: 1, Last: true}, 3},
		{storage.ArchiveQuery{Start: fixedTime.Add(5 * time.Second), Max: 1}, 5},
		{storage.ArchiveQuery{IDs: []string{ids[1], ids[2]}, Max: 1}, 2},
	}
	for _, tt := range tests {
		if p := mustQuery(t, a, alice, tt.q); p.Count != tt.want {
			t.Errorf("QueryArchive(%+v): Count = %d, want %d", tt.q, p.Count, tt.want)
		}
	}
}

func testArchiveIsolation(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	owners := []storage.Owner{alice, bob, aliceOther}
	want := map[storage.Owner][]string{}
	for i := range 9 {
		o := owners[i%3]
		want[o] = append(want[o], mustAppend(t, a, o, "c@example.net", fixedTime, fmt.Sprint(i)))
	}
	for _, o := range owners {
		p := mustQuery(t, a, o, storage.ArchiveQuery{})
		if got := pageIDs(p); !slices.Equal(got, want[o]) {
			t.Errorf("archive of %s = %q, want %q", o, got, want[o])
		}
		if p.Count != 3 {
			t.Errorf("archive of %s: Count = %d, want 3", o, p.Count)
		}
	}
	p := mustQuery(t, a, storage.Owner{Domain: "example.com", Local: "carol"}, storage.ArchiveQuery{})
	if len(p.Messages) != 0 || p.Count != 0 || !p.Complete {
		t.Errorf("empty archive = %d messages, Count %d, Complete %v", len(p.Messages), p.Count, p.Complete)
	}
}

func testArchiveRemove(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 5)
	bobID := mustAppend(t, a, bob, "c@example.net", fixedTime, "bob's")
	if err := a.RemoveArchived(ctx, alice, []string{ids[1], ids[3], "no-such-id", bobID}); err != nil {
		t.Fatalf("RemoveArchived: %v", err)
	}
	want := []string{ids[0], ids[2], ids[4]}
	if got := pageIDs(mustQuery(t, a, alice, storage.ArchiveQuery{})); !slices.Equal(got, want) {
		t.Errorf("after RemoveArchived: ids = %q, want %q", got, want)
	}
	if got := pageIDs(mustQuery(t, a, bob, storage.ArchiveQuery{})); !slices.Equal(got, []string{bobID}) {
		t.Errorf("RemoveArchived on alice removed bob's message: %q", got)
	}
	if err := a.RemoveArchived(ctx, alice, nil); err != nil {
		t.Errorf("RemoveArchived with no ids = %v", err)
	}
	if _, err := a.QueryArchive(ctx, alice, storage.ArchiveQuery{AfterID: ids[1]}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AfterID of a removed message = %v, want ErrNotFound", err)
	}
}

func testArchiveReplace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 3)
	bobID := mustAppend(t, a, bob, "c@example.net", fixedTime, "bob's")
	tombstone := []byte("<message xmlns='jabber:client'><retracted xmlns='urn:xmpp:message-retract:1'/></message>")
	if err := a.ReplaceArchived(ctx, alice, ids[1], tombstone); err != nil {
		t.Fatalf("ReplaceArchived: %v", err)
	}
	p := mustQuery(t, a, alice, storage.ArchiveQuery{})
	if got := pageIDs(p); !slices.Equal(got, ids) {
		t.Errorf("ids after ReplaceArchived = %q, want %q", got, ids)
	}
	if !bytes.Equal(p.Messages[1].Stanza, tombstone) {
		t.Errorf("replaced stanza = %q, want %q", p.Messages[1].Stanza, tombstone)
	}
	if !bytes.Equal(p.Messages[0].Stanza, archiveStanza("m0")) {
		t.Errorf("ReplaceArchived changed another message: %q", p.Messages[0].Stanza)
	}
	if !p.Messages[1].Time.Equal(fixedTime.Add(time.Second)) || p.Messages[1].With != "c1@example.net/r1" {
		t.Errorf("ReplaceArchived changed the time or with: %+v", p.Messages[1])
	}
	for _, id := range []string{"no-such-id", bobID} {
		if err := a.ReplaceArchived(ctx, alice, id, tombstone); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("ReplaceArchived(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func testArchiveExpire(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	aliceIDs := fillArchive(t, a, alice, 5)
	bobIDs := fillArchive(t, a, bob, 5)
	n, err := a.ExpireArchive(context.Background(), fixedTime.Add(2*time.Second))
	if err != nil {
		t.Fatalf("ExpireArchive: %v", err)
	}
	if n != 4 {
		t.Errorf("ExpireArchive deleted %d messages, want 4 (two of each owner)", n)
	}
	for o, ids := range map[storage.Owner][]string{alice: aliceIDs, bob: bobIDs} {
		if got := pageIDs(mustQuery(t, a, o, storage.ArchiveQuery{})); !slices.Equal(got, ids[2:]) {
			t.Errorf("archive of %s after expiry = %q, want %q", o, got, ids[2:])
		}
	}
	if n, err := a.ExpireArchive(context.Background(), fixedTime); err != nil || n != 0 {
		t.Errorf("second ExpireArchive = %d, %v, want 0, nil", n, err)
	}
}

// testArchivePaging pages through 1,000 messages in pages of 50, forwards
// and backwards, and checks that every message comes exactly once, in
// order.
func testArchivePaging(t *testing.T, s storage.Store) {
	const total, size = 1000, 50
	a := archiveOf(t, s)
	var want []string
	for i := range total {
		want = append(want, mustAppend(t, a, alice, "c@example.net", fixedTime.Add(time.Duration(i)*time.Millisecond), fmt.Sprint(i)))
	}
	mustAppend(t, a, bob, "c@example.net", fixedTime, "bob's")

	var forward []string
	q := storage.ArchiveQuery{Max: size}
	for page := 0; ; page++ {
		p := mustQuery(t, a, alice, q)
		if len(p.Messages) != size || p.Count != total-page*size {
			t.Fatalf("forward page %d: %d messages, Count %d", page, len(p.Messages), p.Count)
		}
		forward = append(forward, pageIDs(p)...)
		if p.Complete != (page == total/size-1) {
			t.Fatalf("forward page %d: Complete = %v", page, p.Complete)
		}
		if p.Complete {
			break
		}
		q.AfterID = p.Messages[size-1].ID
	}
	if !slices.Equal(forward, want) {
		t.Errorf("paging forwards returned %d ids, not the %d appended in order", len(forward), total)
	}

	var backward []string
	q = storage.ArchiveQuery{Max: size, Last: true}
	for page := 0; ; page++ {
		p := mustQuery(t, a, alice, q)
		if len(p.Messages) != size {
			t.Fatalf("backward page %d: %d messages", page, len(p.Messages))
		}
		backward = append(pageIDs(p), backward...)
		if p.Complete != (page == total/size-1) {
			t.Fatalf("backward page %d: Complete = %v", page, p.Complete)
		}
		if p.Complete {
			break
		}
		q.BeforeID = p.Messages[0].ID
	}
	if !slices.Equal(backward, want) {
		t.Errorf("paging backwards returned %d ids, not the %d appended in order", len(backward), total)
	}
}

func testArchiveDeleteAccount(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := archiveOf(t, s)
	mustCreate(t, s, alice)
	mustCreate(t, s, bob)
	fillArchive(t, a, alice, 3)
	bobIDs := fillArchive(t, a, bob, 2)
	if err := s.DeleteAccount(ctx, alice); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if p := mustQuery(t, a, alice, storage.ArchiveQuery{}); len(p.Messages) != 0 || p.Count != 0 {
		t.Errorf("archive after DeleteAccount has %d messages, Count %d", len(p.Messages), p.Count)
	}
	if got := pageIDs(mustQuery(t, a, bob, storage.ArchiveQuery{})); !slices.Equal(got, bobIDs) {
		t.Errorf("DeleteAccount(alice) changed bob's archive: %q", got)
	}
}

func testArchiveConcurrentAppends(t *testing.T, s storage.Store) {
	const perWriter = 10
	ctx := context.Background()
	a := archiveOf(t, s)
	ids := make([][]string, writers)
	errs := runWriters(writers, func(w int) error {
		for i := range perWriter {
			id, err := a.AppendArchive(ctx, alice, storage.ArchivedMessage{
				With: "c@example.net", Stanza: archiveStanza(fmt.Sprintf("%d-%d", w, i)),
			})
			if err != nil {
				return err
			}
			ids[w] = append(ids[w], id)
		}
		return nil
	})
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	var all []string
	for w := range ids {
		if !slices.IsSorted(ids[w]) {
			t.Errorf("writer %d got ids out of order: %q", w, ids[w])
		}
		all = append(all, ids[w]...)
	}
	sort.Strings(all)
	if got := pageIDs(mustQuery(t, a, alice, storage.ArchiveQuery{})); !slices.Equal(got, all) {
		t.Errorf("archive holds %d ids, want the %d returned, unique", len(got), len(all))
	}
}

func testArchiveCanceled(t *testing.T, s storage.Store) {
	a := archiveOf(t, s)
	ids := fillArchive(t, a, alice, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"AppendArchive": func() error {
			_, err := a.AppendArchive(ctx, alice, storage.ArchivedMessage{Stanza: archiveStanza("late")})
			return err
		},
		"QueryArchive": func() error {
			_, err := a.QueryArchive(ctx, alice, storage.ArchiveQuery{})
			return err
		},
		"RemoveArchived":  func() error { return a.RemoveArchived(ctx, alice, ids[:1]) },
		"ReplaceArchived": func() error { return a.ReplaceArchived(ctx, alice, ids[1], []byte("<x/>")) },
		"ExpireArchive": func() error {
			_, err := a.ExpireArchive(ctx, time.Now())
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", name, err)
		}
	}
	p := mustQuery(t, a, alice, storage.ArchiveQuery{})
	if got := pageIDs(p); !slices.Equal(got, ids) {
		t.Errorf("archive after calls with a canceled context = %q, want %q", got, ids)
	}
	if !bytes.Equal(p.Messages[1].Stanza, archiveStanza("m1")) {
		t.Errorf("ReplaceArchived with a canceled context changed the message")
	}
}
