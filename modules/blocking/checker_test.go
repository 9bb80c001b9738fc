package blocking

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

func TestListMatches(t *testing.T) {
	l := newList([]string{
		"nurse@capulet.example",
		"tybalt@capulet.example/sword",
		"montague.example",
		"capulet.example/bot",
	})
	cases := []struct {
		jid  string
		want bool
	}{
		{"nurse@capulet.example", true},
		{"nurse@capulet.example/chamber", true},
		{"tybalt@capulet.example/sword", true},
		{"tybalt@capulet.example/dagger", false},
		{"tybalt@capulet.example", false},
		{"juliet@capulet.example/balcony", false},
		{"capulet.example", false},
		{"capulet.example/bot", true},
		{"capulet.example/other", false},
		{"juliet@capulet.example/bot", false},
		{"montague.example", true},
		{"romeo@montague.example/orchard", true},
		{"montague.example/bot", true},
		{"muc.montague.example", true},
		{"room@muc.montague.example/nick", true},
		{"notmontague.example", false},
		{"example", false},
	}
	for _, tc := range cases {
		if got := l.matches(jid.MustParse(tc.jid)); got != tc.want {
			t.Errorf("matches(%s) = %v, want %v", tc.jid, got, tc.want)
		}
	}
	if newList(nil).matches(jid.MustParse("a@b")) {
		t.Error("empty list matches a JID")
	}
}

func TestCovers(t *testing.T) {
	cases := []struct {
		entry, contact string
		want           bool
	}{
		{"nurse@capulet.example", "nurse@capulet.example", true},
		{"nurse@capulet.example/chamber", "nurse@capulet.example", true},
		{"nurse@capulet.example", "juliet@capulet.example", false},
		{"capulet.example", "nurse@capulet.example", true},
		{"capulet.example", "page@muc.capulet.example", true},
		{"capulet.example", "nurse@othercapulet.example", false},
		{"capulet.example/bot", "nurse@capulet.example", false},
	}
	for _, tc := range cases {
		if got := covers(jid.MustParse(tc.entry), jid.MustParse(tc.contact)); got != tc.want {
			t.Errorf("covers(%s, %s) = %v, want %v", tc.entry, tc.contact, got, tc.want)
		}
	}
}

// memStore is an in-memory Store; GetBlocklist fails while failing is set.
type memStore struct {
	storage.Roster // nil: the checker tests read no rosters
	mu             sync.Mutex
	lists          map[storage.Owner][]string
	reads          int
	failing        bool
}

func (s *memStore) GetBlocklist(_ context.Context, o storage.Owner) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.failing {
		return nil, errors.New("storage unavailable")
	}
	return slices.Clone(s.lists[o]), nil
}

func (s *memStore) Block(_ context.Context, o storage.Owner, jids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range jids {
		if !slices.Contains(s.lists[o], j) {
			s.lists[o] = append(s.lists[o], j)
		}
	}
	slices.Sort(s.lists[o])
	return nil
}

func (s *memStore) Unblock(_ context.Context, o storage.Owner, jids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(jids) == 0 {
		delete(s.lists, o)
		return nil
	}
	s.lists[o] = slices.DeleteFunc(s.lists[o], func(j string) bool { return slices.Contains(jids, j) })
	return nil
}

// nopSession is a session that drops what it receives.
type nopSession struct{ jid jid.JID }

func (s *nopSession) ID() string                 { return s.jid.String() }
func (s *nopSession) JID() jid.JID               { return s.jid }
func (s *nopSession) Deliver(*stanza.Stanza)     {}
func (s *nopSession) Presence() *stanza.Stanza   { return nil }
func (s *nopSession) SetPresence(*stanza.Stanza) {}
func (s *nopSession) RosterRequested() bool      { return false }
func (s *nopSession) Close(*stream.Error)        {}
func (s *nopSession) Value(any) any              { return nil }
func (s *nopSession) SetValue(any, any)          {}

func TestCheckerCache(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(log, []string{"localhost"}, nil)
	store := &memStore{lists: map[storage.Owner][]string{}}
	c := newChecker(r, store, log)
	romeo := storage.Owner{Domain: "localhost", Local: "romeo"}
	nurse := jid.MustParse("nurse@localhost/chamber")

	// An account with no session is read from storage every time.
	store.Block(ctx, romeo, []string{"nurse@localhost"})
	for range 2 {
		if !c.IsBlocked(ctx, romeo, nurse) {
			t.Fatal("offline account: nurse not blocked")
		}
	}
	if store.reads != 2 {
		t.Errorf("offline account: %d storage reads, want 2", store.reads)
	}

	// With a session the list is read once and then kept up to date.
	sess := &nopSession{jid.MustParse("romeo@localhost/orchard")}
	r.Bind(ctx, sess)
	store.reads = 0
	for range 3 {
		c.IsBlocked(ctx, romeo, nurse)
	}
	if store.reads != 1 {
		t.Errorf("online account: %d storage reads, want 1", store.reads)
	}
	if _, err := c.unblock(ctx, romeo, []string{"nurse@localhost"}); err != nil {
		t.Fatalf("unblock: %v", err)
	}
	if c.IsBlocked(ctx, romeo, nurse) {
		t.Error("nurse still blocked after unblock")
	}
	added, err := c.block(ctx, romeo, []string{"localhost", "localhost"})
	if err != nil || !slices.Equal(added, []string{"localhost"}) {
		t.Errorf("block = %q, %v; want [localhost]", added, err)
	}
	if !c.IsBlocked(ctx, romeo, nurse) {
		t.Error("domain block does not match nurse")
	}
	if store.reads != 1 {
		t.Errorf("changes re-read storage: %d reads, want 1", store.reads)
	}

	// Once the last session ends the cached list goes.
	r.Unbind(ctx, sess)
	c.evictIfOffline(ctx, sess)
	if _, ok := c.cached(romeo); ok {
		t.Error("list still cached after the last session ended")
	}
}

func TestCheckerFailsClosed(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := &memStore{lists: map[storage.Owner][]string{}, failing: true}
	c := newChecker(router.New(log, []string{"localhost"}, nil), store, log)
	if !c.IsBlocked(context.Background(), storage.Owner{Domain: "localhost", Local: "romeo"}, jid.MustParse("a@b")) {
		t.Error("IsBlocked = false on a storage error, want true")
	}
	var none *Checker
	if none.IsBlocked(context.Background(), storage.Owner{}, jid.MustParse("a@b")) {
		t.Error("nil Checker reports a block")
	}
}
