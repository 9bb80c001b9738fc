package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"tern/storage"
)

var activityTests = []subtest{
	{"NotFound", testActivityNotFound},
	{"SetGet", testActivitySetGet},
	{"Replace", testActivityReplace},
	{"Owners", testActivityOwners},
}

func testActivityNotFound(t *testing.T, s storage.Store) {
	if _, err := s.GetLastActivity(context.Background(), alice); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetLastActivity of owner who never logged out = %v, want ErrNotFound", err)
	}
}

func testActivitySetGet(t *testing.T, s storage.Store) {
	ctx := context.Background()
	want := storage.LastActivity{Time: fixedTime, Status: "Gone fishing 🎣"}
	if err := s.SetLastActivity(ctx, alice, want); err != nil {
		t.Fatalf("SetLastActivity: %v", err)
	}
	got, err := s.GetLastActivity(ctx, alice)
	if err != nil {
		t.Fatalf("GetLastActivity: %v", err)
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("Time location = %v, want UTC", got.Time.Location())
	}
	if got.Status != want.Status {
		t.Errorf("Status = %q, want %q", got.Status, want.Status)
	}
}

func testActivityReplace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	first := storage.LastActivity{Time: fixedTime, Status: "first"}
	second := storage.LastActivity{Time: fixedTime.Add(time.Hour)}
	if err := s.SetLastActivity(ctx, alice, first); err != nil {
		t.Fatalf("SetLastActivity: %v", err)
	}
	if err := s.SetLastActivity(ctx, alice, second); err != nil {
		t.Fatalf("second SetLastActivity: %v", err)
	}
	got, err := s.GetLastActivity(ctx, alice)
	if err != nil {
		t.Fatalf("GetLastActivity: %v", err)
	}
	if !got.Time.Equal(second.Time) {
		t.Errorf("Time = %v, want %v", got.Time, second.Time)
	}
	if got.Status != "" {
		t.Errorf("Status = %q, want empty", got.Status)
	}
}

func testActivityOwners(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.SetLastActivity(ctx, alice, storage.LastActivity{Time: fixedTime, Status: "a"}); err != nil {
		t.Fatalf("SetLastActivity: %v", err)
	}
	for _, o := range []storage.Owner{bob, aliceOther} {
		if _, err := s.GetLastActivity(ctx, o); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetLastActivity(%s) = %v, want ErrNotFound", o, err)
		}
	}
}
