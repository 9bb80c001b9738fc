package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"tern/storage"
)

var offlineTests = []subtest{
	{"PushPop", testOfflinePushPop},
	{"Limit", testOfflineLimit},
	{"NoLimit", testOfflineNoLimit},
	{"PopEmpties", testOfflinePopEmpties},
	{"PopEmpty", testOfflinePopEmpty},
	{"Owners", testOfflineOwners},
}

// stanzas returns n distinct message stanzas.
func stanzas(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "<message id='m%d'><body>%d</body></message>", i, i)
	}
	return out
}

// checkMessages checks that msgs carry want, in order, with increasing IDs.
func checkMessages(t *testing.T, msgs []storage.OfflineMessage, want [][]byte) {
	t.Helper()
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		if !bytes.Equal(m.Stanza, want[i]) {
			t.Errorf("message %d = %q, want %q", i, m.Stanza, want[i])
		}
		if i > 0 && m.ID <= msgs[i-1].ID {
			t.Errorf("message %d has ID %d, want > %d", i, m.ID, msgs[i-1].ID)
		}
	}
}

func testOfflinePushPop(t *testing.T, s storage.Store) {
	ctx := context.Background()
	want := stanzas(5)
	before := truncate(time.Now())
	for _, st := range want {
		mustPush(t, s, alice, st)
	}
	after := time.Now()
	n, err := s.CountOffline(ctx, alice)
	if err != nil {
		t.Fatalf("CountOffline: %v", err)
	}
	if n != len(want) {
		t.Errorf("CountOffline = %d, want %d", n, len(want))
	}
	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("PopOffline: %v", err)
	}
	checkMessages(t, msgs, want)
	for i, m := range msgs {
		if m.Created.Before(before) || m.Created.After(after) {
			t.Errorf("message %d Created = %v, want between %v and %v", i, m.Created, before, after)
		}
	}
}

func testOfflineLimit(t *testing.T, s storage.Store) {
	ctx := context.Background()
	const limit = 3
	want := stanzas(limit + 1)
	for _, st := range want[:limit] {
		if err := s.PushOffline(ctx, alice, st, limit); err != nil {
			t.Fatalf("PushOffline below the limit: %v", err)
		}
	}

	err := s.PushOffline(ctx, alice, want[limit], limit)
	if !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("PushOffline at the limit = %v, want ErrLimit", err)
	}

	n, err := s.CountOffline(ctx, alice)
	if err != nil {
		t.Fatalf("CountOffline: %v", err)
	}
	if n != limit {
		t.Errorf("CountOffline after ErrLimit = %d, want %d", n, limit)
	}

	// Another owner's queue has its own limit.
	if err := s.PushOffline(ctx, bob, want[0], limit); err != nil {
		t.Errorf("PushOffline(bob): %v", err)
	}

	// A larger limit admits the message.
	if err := s.PushOffline(ctx, alice, want[limit], limit+1); err != nil {
		t.Errorf("PushOffline with a larger limit: %v", err)
	}

	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("PopOffline: %v", err)
	}
	checkMessages(t, msgs, want)

	// After popping, the queue takes messages again.
	if err := s.PushOffline(ctx, alice, want[0], limit); err != nil {
		t.Errorf("PushOffline after PopOffline: %v", err)
	}
}

func testOfflineNoLimit(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, limit := range []int{0, -1} {
		o := storage.Owner{Domain: "example.com", Local: fmt.Sprintf("limit%d", limit)}
		want := stanzas(20)
		for _, st := range want {
			if err := s.PushOffline(ctx, o, st, limit); err != nil {
				t.Fatalf("PushOffline with limit %d: %v", limit, err)
			}
		}
		n, err := s.CountOffline(ctx, o)
		if err != nil {
			t.Fatalf("CountOffline: %v", err)
		}
		if n != len(want) {
			t.Errorf("limit %d: CountOffline = %d, want %d", limit, n, len(want))
		}
	}
}

func testOfflinePopEmpties(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, st := range stanzas(3) {
		mustPush(t, s, alice, st)
	}
	if _, err := s.PopOffline(ctx, alice); err != nil {
		t.Fatalf("PopOffline: %v", err)
	}
	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("second PopOffline: %v", err)
	}
	if len(msgs) != 0 {
		t.Errorf("second PopOffline returned %d messages, want none", len(msgs))
	}
	n, err := s.CountOffline(ctx, alice)
	if err != nil {
		t.Fatalf("CountOffline: %v", err)
	}
	if n != 0 {
		t.Errorf("CountOffline after PopOffline = %d, want 0", n)
	}
}

func testOfflinePopEmpty(t *testing.T, s storage.Store) {
	ctx := context.Background()
	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("PopOffline of empty queue: %v", err)
	}
	if len(msgs) != 0 {
		t.Errorf("PopOffline of empty queue returned %d messages", len(msgs))
	}
	n, err := s.CountOffline(ctx, alice)
	if err != nil {
		t.Fatalf("CountOffline of empty queue: %v", err)
	}
	if n != 0 {
		t.Errorf("CountOffline of empty queue = %d, want 0", n)
	}
}

func testOfflineOwners(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustPush(t, s, alice, []byte("<message>alice</message>"))
	mustPush(t, s, bob, []byte("<message>bob</message>"))
	mustPush(t, s, aliceOther, []byte("<message>other</message>"))
	msgs, err := s.PopOffline(ctx, alice)
	if err != nil {
		t.Fatalf("PopOffline: %v", err)
	}
	checkMessages(t, msgs, [][]byte{[]byte("<message>alice</message>")})
	for _, o := range []storage.Owner{bob, aliceOther} {
		n, err := s.CountOffline(ctx, o)
		if err != nil {
			t.Fatalf("CountOffline(%s): %v", o, err)
		}
		if n != 1 {
			t.Errorf("CountOffline(%s) after alice's pop = %d, want 1", o, n)
		}
	}
}
