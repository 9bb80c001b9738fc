package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"tern/storage"
)

var kvTests = []subtest{
	{"NotFound", testKVNotFound},
	{"PutGet", testKVPutGet},
	{"Replace", testKVReplace},
	{"Delete", testKVDelete},
	{"EmptyValue", testKVEmptyValue},
	{"Isolation", testKVIsolation},
}

func testKVNotFound(t *testing.T, s storage.Store) {
	if _, err := s.GetValue(context.Background(), alice, "vcard-temp"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetValue of missing key = %v, want ErrNotFound", err)
	}
}

func testKVPutGet(t *testing.T, s storage.Store) {
	ctx := context.Background()
	want := []byte("<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>")
	if err := s.PutValue(ctx, alice, "vcard-temp", want); err != nil {
		t.Fatalf("PutValue: %v", err)
	}
	got, err := s.GetValue(ctx, alice, "vcard-temp")
	if err != nil {
		t.Fatalf("GetValue: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("GetValue = %q, want %q", got, want)
	}
}

func testKVReplace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.PutValue(ctx, alice, "private:storage:bookmarks", []byte("<old/>")); err != nil {
		t.Fatalf("PutValue: %v", err)
	}
	if err := s.PutValue(ctx, alice, "private:storage:bookmarks", []byte("<new/>")); err != nil {
		t.Fatalf("second PutValue: %v", err)
	}
	got, err := s.GetValue(ctx, alice, "private:storage:bookmarks")
	if err != nil {
		t.Fatalf("GetValue: %v", err)
	}
	if string(got) != "<new/>" {
		t.Errorf("GetValue after replace = %q, want %q", got, "<new/>")
	}
}

func testKVDelete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.PutValue(ctx, alice, "a", []byte("1")); err != nil {
		t.Fatalf("PutValue(a): %v", err)
	}
	if err := s.PutValue(ctx, alice, "b", []byte("2")); err != nil {
		t.Fatalf("PutValue(b): %v", err)
	}
	if err := s.DeleteValue(ctx, alice, "a"); err != nil {
		t.Fatalf("DeleteValue: %v", err)
	}
	if _, err := s.GetValue(ctx, alice, "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetValue after delete = %v, want ErrNotFound", err)
	}
	if got, err := s.GetValue(ctx, alice, "b"); err != nil || string(got) != "2" {
		t.Errorf("GetValue of other key after delete = %q, %v, want %q", got, err, "2")
	}
	if err := s.DeleteValue(ctx, alice, "a"); err != nil {
		t.Errorf("DeleteValue of missing key = %v, want nil", err)
	}
	if err := s.DeleteValue(ctx, bob, "never"); err != nil {
		t.Errorf("DeleteValue for owner with no values = %v, want nil", err)
	}
}

func testKVEmptyValue(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, v := range [][]byte{nil, {}} {
		if err := s.PutValue(ctx, alice, "empty", v); err != nil {
			t.Fatalf("PutValue(%#v): %v", v, err)
		}
		got, err := s.GetValue(ctx, alice, "empty")
		if err != nil {
			t.Fatalf("GetValue of empty value (%#v) = %v, want stored", v, err)
		}
		if len(got) != 0 {
			t.Errorf("GetValue of empty value = %q", got)
		}
	}
}

func testKVIsolation(t *testing.T, s storage.Store) {
	ctx := context.Background()
	values := map[storage.Owner]string{alice: "alice", bob: "bob", aliceOther: "other"}
	for o, v := range values {
		if err := s.PutValue(ctx, o, "k", []byte(v)); err != nil {
			t.Fatalf("PutValue(%s): %v", o, err)
		}
	}
	if err := s.DeleteValue(ctx, bob, "k"); err != nil {
		t.Fatalf("DeleteValue(bob): %v", err)
	}
	for o, want := range map[storage.Owner]string{alice: "alice", aliceOther: "other"} {
		got, err := s.GetValue(ctx, o, "k")
		if err != nil {
			t.Errorf("GetValue(%s): %v", o, err)
			continue
		}
		if string(got) != want {
			t.Errorf("GetValue(%s) = %q, want %q", o, got, want)
		}
	}
}
