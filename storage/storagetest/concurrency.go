package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"tern/storage"
)

var concurrencyTests = []subtest{
	{"Writes", testConcurrentWrites},
	{"OfflineLimit", testConcurrentOfflineLimit},
	{"CreateAccount", testConcurrentCreate},
}

const (
	writers           = 20 // goroutines writing at once
	pushesPerWriter   = 10
	contactsPerWriter = 5
)

// runWriters runs fn in n goroutines at once and returns their errors.
func runWriters(n int, fn func(w int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for w := range n {
		wg.Go(func() {
			<-start
			errs[w] = fn(w)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// writeShared pushes offline messages to alice and to a writer's own owner,
// and puts roster items into alice's roster. It checks that the versions
// returned to one writer increase.
func writeShared(ctx context.Context, s storage.Store, w int) error {
	own := storage.Owner{Domain: "example.com", Local: fmt.Sprintf("writer%d", w)}
	var last int64
	for i := range pushesPerWriter {
		stanza := fmt.Appendf(nil, "<message id='%d-%d'/>", w, i)
		if err := s.PushOffline(ctx, alice, stanza, 0); err != nil {
			return fmt.Errorf("PushOffline(alice): %w", err)
		}
		if err := s.PushOffline(ctx, own, stanza, 0); err != nil {
			return fmt.Errorf("PushOffline(%s): %w", own, err)
		}
		if i >= contactsPerWriter {
			continue
		}
		item := storage.RosterItem{JID: fmt.Sprintf("c%d-%d@example.net", w, i), Listed: true}
		v, err := s.PutRosterItem(ctx, alice, item)
		if err != nil {
			return fmt.Errorf("PutRosterItem: %w", err)
		}
		if v <= last {
			return fmt.Errorf("PutRosterItem returned version %d after %d", v, last)
		}
		last = v
	}
	return nil
}

func testConcurrentWrites(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for w, err := range runWriters(writers, func(w int) error { return writeShared(ctx, s, w) }) {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}

	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("PopOffline: %v", err)
	}
	if len(msgs) != writers*pushesPerWriter {
		t.Errorf("alice has %d offline messages, want %d", len(msgs), writers*pushesPerWriter)
	}

	seen := make(map[string]bool)
	for i, m := range msgs {
		seen[string(m.Stanza)] = true
		if i > 0 && m.ID <= msgs[i-1].ID {
			t.Errorf("message %d has ID %d, want > %d", i, m.ID, msgs[i-1].ID)
		}
	}
	if len(seen) != writers*pushesPerWriter {
		t.Errorf("alice has %d distinct messages, want %d", len(seen), writers*pushesPerWriter)
	}

	for w := range writers {
		own := storage.Owner{Domain: "example.com", Local: fmt.Sprintf("writer%d", w)}
		n, err := s.CountOffline(ctx, own)
		if err != nil || n != pushesPerWriter {
			t.Errorf("CountOffline(%s) = %d, %v, want %d", own, n, err, pushesPerWriter)
		}
	}

	items, ver, err := s.GetRoster(ctx, alice)
	if err != nil {
		t.Fatalf("GetRoster: %v", err)
	}
	if len(items) != writers*contactsPerWriter {
		t.Errorf("roster has %d items, want %d", len(items), writers*contactsPerWriter)
	}
	if ver < writers*contactsPerWriter {
		t.Errorf("roster version = %d after %d puts, want at least that many", ver, writers*contactsPerWriter)
	}
}

func testConcurrentOfflineLimit(t *testing.T, s storage.Store) {
	ctx := context.Background()
	const limit = 37

	var mu sync.Mutex
	stored := 0
	errs := runWriters(writers, func(w int) error {
		for i := range 5 {
			err := s.PushOffline(ctx, alice, fmt.Appendf(nil, "<m id='%d-%d'/>", w, i), limit)
			if errors.Is(err, storage.ErrLimit) {
				continue
			}
			if err != nil {
				return err
			}
			mu.Lock()
			stored++
			mu.Unlock()
		}
		return nil
	})

	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}

	if stored != limit {
		t.Errorf("%d pushes succeeded, want exactly the limit %d", stored, limit)
	}

	n, err := s.CountOffline(ctx, alice)
	if err != nil {
		t.Fatalf("CountOffline: %v", err)
	}
	if n != limit {
		t.Errorf("CountOffline = %d, want %d", n, limit)
	}

	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("PopOffline: %v", err)
	}
	if len(msgs) != limit {
		t.Errorf("PopOffline returned %d messages, want %d", len(msgs), limit)
	}
}

func testConcurrentCreate(t *testing.T, s storage.Store) {
	ctx := context.Background()
	errs := runWriters(writers, func(w int) error {
		keys := sampleKeys()
		keys[0].Iterations = w + 1
		return s.CreateAccount(ctx, storage.Account{Owner: alice, Keys: keys})
	})
	created := 0
	for w, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, storage.ErrExists):
			t.Errorf("writer %d: CreateAccount = %v, want nil or ErrExists", w, err)
		}
	}
	if created != 1 {
		t.Errorf("%d concurrent CreateAccount calls succeeded, want 1", created)
	}
	got, err := s.GetAccount(ctx, alice)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if len(got.Keys) != len(sampleKeys()) {
		t.Errorf("account has %d keys, want %d from one creator", len(got.Keys), len(sampleKeys()))
	}
}
