package mam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
	"tern/storage/sqlite"
)

var (
	juliet      = jid.MustParse("juliet@capulet.example")
	julietOwner = storage.Owner{Domain: "capulet.example", Local: "juliet"}
	base        = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

// newArchive opens a SQLite store with n messages in juliet's archive,
// one second apart, and returns it with their ids in order.
func newArchive(t *testing.T, n int) (storage.Archive, []string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tern.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	var ids []string
	for i := range n {
		id, err := st.AppendArchive(context.Background(), julietOwner, storage.ArchivedMessage{
			With:   "romeo@montague.example/orchard",
			Time:   base.Add(time.Duration(i) * time.Second),
			Stanza: fmt.Appendf(nil, "<message xmlns='jabber:client'><body>%d</body></message>", i),
		})
		if err != nil {
			t.Fatalf("AppendArchive: %v", err)
		}
		ids = append(ids, id)
	}
	return st, ids
}

func pageIDs(p Page) []string {
	var out []string
	for _, m := range p.Messages {
		out = append(out, m.ID)
	}
	return out
}

func TestRunPositions(t *testing.T) {
	a, ids := newArchive(t, 10)
	tests := []struct {
		name     string
		q        Query
		want     []string
		count    int
		index    int
		complete bool
	}{
		{"first page", Query{Max: 3}, ids[:3], 10, 0, false},
		{"after", Query{Max: 3, After: ids[2]}, ids[3:6], 10, 3, false},
		{"final page", Query{Max: 3, After: ids[6]}, ids[7:], 10, 7, true},
		{"last page", Query{Max: 3, Last: true}, ids[7:], 10, 7, false},
		{"before", Query{Max: 3, Before: ids[5], Last: true}, ids[2:5], 10, 2, false},
		{"first page backwards", Query{Max: 3, Before: ids[3], Last: true}, ids[:3], 10, 0, true},
		{"after-id filter", Query{Max: 2, AfterID: ids[5]}, ids[6:8], 4, 0, false},
		{"after-id then after", Query{Max: 2, AfterID: ids[5], After: ids[7]}, ids[8:], 4, 2, true},
		{"last page after after", Query{Max: 2, After: ids[3], Last: true}, ids[8:], 10, 8, false},
		{"between rsm bounds", Query{Max: 2, After: ids[1], Before: ids[6], Last: true}, ids[4:6], 10, -1, false},
		{"no max takes the cap", Query{Max: -1}, ids[:5], 10, 0, false},
		{"count only", Query{Max: 0}, nil, 10, -1, false},
		{"ids", Query{Max: -1, IDs: []string{ids[8], ids[1]}}, []string{ids[1], ids[8]}, 2, 0, true},
		{"no matches", Query{Max: 5, With: "nurse@capulet.example"}, nil, 0, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Run(context.Background(), a, julietOwner, tt.q, 5)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := pageIDs(p); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %q, want %q", got, tt.want)
			}
			if p.Count != tt.count || p.Index != tt.index || p.Complete != tt.complete {
				t.Errorf("count, index, complete = %d, %d, %v, want %d, %d, %v",
					p.Count, p.Index, p.Complete, tt.count, tt.index, tt.complete)
			}
		})
	}
}

func TestRunCapsPageSize(t *testing.T) {
	a, ids := newArchive(t, 10)
	for _, max := range []int{-1, 4, 100} {
		p, err := Run(context.Background(), a, julietOwner, Query{Max: max}, 4)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := pageIDs(p); !slices.Equal(got, ids[:4]) {
			t.Errorf("max %d with a cap of 4: ids = %q", max, got)
		}
	}
}

func TestRunUnknownIDs(t *testing.T) {
	a, ids := newArchive(t, 3)
	for _, q := range []Query{
		{After: "nope"}, {Before: "nope", Last: true}, {AfterID: "nope"}, {BeforeID: "nope"},
		{IDs: []string{ids[0], "nope"}},
		// A later RSM bound hides the unknown after-id from the storage
		// query, so only the check finds it.
		{AfterID: "0", After: ids[1]},
	} {
		_, err := Run(context.Background(), a, julietOwner, q, 10)
		var se *stanza.Error
		if !errors.As(err, &se) || se.Condition != "item-not-found" {
			t.Errorf("Run(%+v) = %v, want item-not-found", q, err)
		}
	}
}

func TestResultMessageAndFin(t *testing.T) {
	stored := []byte("<message xmlns='jabber:client' from='romeo@montague.example/orchard'><body>a &amp; b</body>" +
		"<encrypted xmlns=\"urn:xmpp:omemo:2\"  ><payload>eA==</payload></encrypted></message>")
	m := storage.ArchivedMessage{ID: "id'1", Time: base.Add(1500 * time.Microsecond), Stanza: stored}
	to := jid.MustParse("juliet@capulet.example/balcony")
	var sent []*stanza.Stanza
	p := Page{Messages: []storage.ArchivedMessage{m, {ID: "id2", Time: base, Stanza: stored}}, Count: 7, Index: 3, Flip: true}
	SendResults(func(s *stanza.Stanza) { sent = append(sent, s) }, to, juliet, "q<1>", p)
	if len(sent) != 2 {
		t.Fatalf("SendResults sent %d messages, want 2", len(sent))
	}
	res := sent[1]
	if !res.To.Equal(to) || !res.From.Equal(juliet) {
		t.Errorf("result addressed from %s to %s", res.From, res.To)
	}
	if !bytes.Contains(res.Inner, stored) {
		t.Errorf("result does not carry the stored bytes: %s", res.Inner)
	}
	r := res.Child(NS, "result")
	if r.AttrValue("id") != "id'1" || r.AttrValue("queryid") != "q<1>" {
		t.Errorf("result attributes: %s", r)
	}
	if got := r.Child(NSForward, "forwarded").Child(stanza.NSDelay, "delay").AttrValue("stamp"); got != "2024-05-01T12:00:00.001500Z" {
		t.Errorf("delay stamp = %q", got)
	}
	if got := sent[0].Child(NS, "result").AttrValue("id"); got != "id2" {
		t.Errorf("flipped page sent %q first, want id2", got)
	}

	fin := p.Fin()
	set := fin.Child(NSRSM, "set")
	if fin.AttrValue("complete") != "false" || set.Child(NSRSM, "first").Text() != "id'1" ||
		set.Child(NSRSM, "first").AttrValue("index") != "3" || set.Child(NSRSM, "last").Text() != "id2" ||
		set.Child(NSRSM, "count").Text() != "7" {
		t.Errorf("Fin = %s", fin)
	}
	p.Backward = true
	if got := p.Fin().Child(NSRSM, "set").Child(NSRSM, "first"); got.HasAttr("index") {
		t.Errorf("Fin of a backward page gives <first/> an index: %s", got)
	}
	empty := Page{Complete: true, Count: -1, Index: -1}.Fin()
	if empty.AttrValue("complete") != "true" || len(empty.Child(NSRSM, "set").Elements()) != 0 {
		t.Errorf("Fin of an empty page = %s", empty)
	}
}

func TestMetadata(t *testing.T) {
	a, _ := newArchive(t, 0)
	md, err := Metadata(context.Background(), a, julietOwner)
	if err != nil || len(md.Elements()) != 0 {
		t.Fatalf("Metadata of an empty archive = %s, %v", md, err)
	}
	a, ids := newArchive(t, 4)
	md, err = Metadata(context.Background(), a, julietOwner)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	start, end := md.Child(NS, "start"), md.Child(NS, "end")
	if start.AttrValue("id") != ids[0] || start.AttrValue("timestamp") != "2024-05-01T12:00:00.000000Z" {
		t.Errorf("start = %s", start)
	}
	if end.AttrValue("id") != ids[3] || end.AttrValue("timestamp") != "2024-05-01T12:00:03.000000Z" {
		t.Errorf("end = %s", end)
	}
}

func TestExpireOnce(t *testing.T) {
	a, ids := newArchive(t, 5)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if n := ExpireOnce(context.Background(), a, base.Add(3*time.Second), log); n != 3 {
		t.Errorf("ExpireOnce deleted %d messages, want 3", n)
	}
	p, err := Run(context.Background(), a, julietOwner, Query{Max: -1}, 10)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := pageIDs(p); !slices.Equal(got, ids[3:]) {
		t.Errorf("archive after expiry = %q, want %q", got, ids[3:])
	}
}

func TestExpireEveryStopsWithContext(t *testing.T) {
	a, _ := newArchive(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// With ctx already done, the first round fails and the loop returns
	// instead of waiting an hour for the next one.
	ExpireEvery(ctx, a, time.Nanosecond, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
}
