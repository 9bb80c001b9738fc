package storagetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"tern/storage"
)

// RunRooms runs the storage.Rooms part of the suite alone; Run includes
// it. The stores that open returns must implement storage.Rooms.
func RunRooms(t *testing.T, open func(t *testing.T) storage.Store) {
	for _, st := range roomTests {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			st.run(t, newStore(t, open))
		})
	}
}

var roomTests = []subtest{
	{"NotFound", testRoomNotFound},
	{"RoundTrip", testRoomRoundTrip},
	{"CreateExists", testRoomCreateExists},
	{"CreatedDefault", testRoomCreatedDefault},
	{"Update", testRoomUpdate},
	{"Delete", testRoomDelete},
	{"List", testRoomList},
	{"Affiliations", testRoomAffiliations},
	{"AffiliationsLastWins", testRoomAffiliationsLastWins},
	{"AffiliatedRooms", testRoomAffiliatedRooms},
	{"NotAnAccount", testRoomNotAnAccount},
	{"Canceled", testRoomCanceled},
}

// Rooms used by the room tests: coven and heath share a service, and
// covenOther has coven's name on another service.
var (
	coven      = storage.Owner{Domain: "conference.example.com", Local: "coven"}
	heath      = storage.Owner{Domain: "conference.example.com", Local: "heath"}
	covenOther = storage.Owner{Domain: "conference.example.org", Local: "coven"}
)

// roomsOf returns s as a storage.Rooms or fails the test.
func roomsOf(t *testing.T, s storage.Store) storage.Rooms {
	t.Helper()
	r, ok := s.(storage.Rooms)
	if !ok {
		t.Fatalf("%T does not implement storage.Rooms", s)
	}
	return r
}

// sampleRoom returns a room with every field set.
func sampleRoom(o storage.Owner) storage.Room {
	return storage.Room{
		Owner:       o,
		Config:      allBytes(),
		Subject:     "Fire burn and cauldron bubble — ¡ñ!",
		SubjectBy:   "firstwitch",
		SubjectTime: fixedTime,
		Created:     fixedTime.Add(-time.Hour),
	}
}

// mustCreateRoom stores a room or fails the test.
func mustCreateRoom(t *testing.T, rs storage.Rooms, r storage.Room, affs ...storage.RoomAffiliation) {
	t.Helper()
	if err := rs.CreateRoom(context.Background(), r, affs); err != nil {
		t.Fatalf("CreateRoom(%s): %v", r.Owner, err)
	}
}

// equalRoom reports whether two rooms are the same after storage.
func equalRoom(a, b storage.Room) bool {
	return a.Owner == b.Owner && bytes.Equal(a.Config, b.Config) &&
		a.Subject == b.Subject && a.SubjectBy == b.SubjectBy &&
		a.SubjectTime.Equal(b.SubjectTime) && a.Created.Equal(b.Created)
}

func testRoomNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	_, getErr := rs.GetRoom(ctx, coven)
	_, affErr := rs.GetAffiliations(ctx, coven)
	member := []storage.RoomAffiliation{{JID: "a@example.com", Affiliation: "member"}}
	checks := []struct {
		name string
		err  error
	}{
		{"GetRoom", getErr},
		{"GetAffiliations", affErr},
		{"UpdateRoom", rs.UpdateRoom(ctx, sampleRoom(coven))},
		{"DeleteRoom", rs.DeleteRoom(ctx, coven)},
		{"SetAffiliations", rs.SetAffiliations(ctx, coven, member)},
	}
	for _, c := range checks {
		if !errors.Is(c.err, storage.ErrNotFound) {
			t.Errorf("%s of a missing room = %v, want ErrNotFound", c.name, c.err)
		}
	}
	if _, err := rs.GetRoom(ctx, coven); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateRoom or SetAffiliations created the room: GetRoom = %v", err)
	}
}

func testRoomRoundTrip(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	want := sampleRoom(coven)
	mustCreateRoom(t, rs, want,
		storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"},
		storage.RoomAffiliation{JID: "example.net", Affiliation: "outcast", Reason: "spam"},
		storage.RoomAffiliation{JID: "nurse@example.com", Affiliation: "member", Nick: "Nurse"})
	got, err := rs.GetRoom(ctx, coven)
	if err != nil {
		t.Fatalf("GetRoom: %v", err)
	}
	want.SubjectTime, want.Created = truncate(want.SubjectTime), truncate(want.Created)
	if !equalRoom(got, want) {
		t.Errorf("GetRoom = %+v, want %+v", got, want)
	}
	if got.SubjectTime.Location() != time.UTC || got.Created.Location() != time.UTC {
		t.Errorf("times are not in UTC: %v, %v", got.SubjectTime, got.Created)
	}
	affs, err := rs.GetAffiliations(ctx, coven)
	if err != nil {
		t.Fatalf("GetAffiliations: %v", err)
	}
	wantAffs := []storage.RoomAffiliation{
		{JID: "example.net", Affiliation: "outcast", Reason: "spam"},
		{JID: "nurse@example.com", Affiliation: "member", Nick: "Nurse"},
		{JID: "romeo@example.com", Affiliation: "owner"},
	}
	if !slices.Equal(affs, wantAffs) {
		t.Errorf("GetAffiliations = %+v, want %+v", affs, wantAffs)
	}

	empty := storage.Room{Owner: heath, Created: fixedTime}
	mustCreateRoom(t, rs, empty)
	got, err = rs.GetRoom(ctx, heath)
	if err != nil {
		t.Fatalf("GetRoom(heath): %v", err)
	}
	if !got.SubjectTime.IsZero() || got.Subject != "" || len(got.Config) != 0 {
		t.Errorf("room with no subject = %+v, want zero subject fields and config", got)
	}
	if affs, err := rs.GetAffiliations(ctx, heath); err != nil || len(affs) != 0 {
		t.Errorf("GetAffiliations of a room without any = %v, %v", affs, err)
	}
}

func testRoomCreateExists(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	first := sampleRoom(coven)
	mustCreateRoom(t, rs, first, storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"})
	second := storage.Room{Owner: coven, Config: []byte("other")}
	err := rs.CreateRoom(ctx, second, []storage.RoomAffiliation{{JID: "tybalt@example.com", Affiliation: "owner"}})
	if !errors.Is(err, storage.ErrExists) {
		t.Fatalf("second CreateRoom = %v, want ErrExists", err)
	}
	got, err := rs.GetRoom(ctx, coven)
	if err != nil || !bytes.Equal(got.Config, first.Config) {
		t.Errorf("room after failed CreateRoom: config %q, %v; want the first", got.Config, err)
	}
	affs, err := rs.GetAffiliations(ctx, coven)
	if err != nil || len(affs) != 1 || affs[0].JID != "romeo@example.com" {
		t.Errorf("affiliations after failed CreateRoom = %+v, %v; want only romeo", affs, err)
	}
}

func testRoomCreatedDefault(t *testing.T, s storage.Store) {
	rs := roomsOf(t, s)
	before := time.Now().Add(-time.Second)
	mustCreateRoom(t, rs, storage.Room{Owner: coven})
	got, err := rs.GetRoom(context.Background(), coven)
	if err != nil {
		t.Fatalf("GetRoom: %v", err)
	}
	if got.Created.Before(before) || got.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", got.Created)
	}
}

func testRoomUpdate(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	orig := sampleRoom(coven)
	mustCreateRoom(t, rs, orig, storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"})
	next := storage.Room{Owner: coven, Config: []byte(`{"persistent":true}`), Subject: "new", SubjectBy: "",
		SubjectTime: fixedTime.Add(time.Minute), Created: fixedTime.Add(time.Hour)}
	if err := rs.UpdateRoom(ctx, next); err != nil {
		t.Fatalf("UpdateRoom: %v", err)
	}
	got, err := rs.GetRoom(ctx, coven)
	if err != nil {
		t.Fatalf("GetRoom: %v", err)
	}
	want := next
	want.SubjectTime, want.Created = truncate(next.SubjectTime), truncate(orig.Created)
	if !equalRoom(got, want) {
		t.Errorf("GetRoom after update = %+v, want %+v (Created kept)", got, want)
	}
	next.SubjectTime = time.Time{}
	if err := rs.UpdateRoom(ctx, next); err != nil {
		t.Fatalf("UpdateRoom clearing the subject time: %v", err)
	}
	if got, err := rs.GetRoom(ctx, coven); err != nil || !got.SubjectTime.IsZero() {
		t.Errorf("SubjectTime after clearing = %v, %v; want zero", got.SubjectTime, err)
	}
	if affs, err := rs.GetAffiliations(ctx, coven); err != nil || len(affs) != 1 {
		t.Errorf("affiliations after UpdateRoom = %+v, %v; want them kept", affs, err)
	}
}

func testRoomDelete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	mustCreateRoom(t, rs, sampleRoom(coven), storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"})
	mustCreateRoom(t, rs, sampleRoom(heath), storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "admin"})
	if err := rs.DeleteRoom(ctx, coven); err != nil {
		t.Fatalf("DeleteRoom: %v", err)
	}
	if _, err := rs.GetRoom(ctx, coven); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetRoom after delete = %v, want ErrNotFound", err)
	}
	if _, err := rs.GetRoom(ctx, heath); err != nil {
		t.Errorf("GetRoom of another room after delete = %v", err)
	}
	mustCreateRoom(t, rs, storage.Room{Owner: coven})
	if affs, err := rs.GetAffiliations(ctx, coven); err != nil || len(affs) != 0 {
		t.Errorf("affiliations of a re-created room = %+v, %v; want none", affs, err)
	}
	rooms, err := rs.AffiliatedRooms(ctx, coven.Domain, "romeo@example.com")
	want := []storage.AffiliatedRoom{{Room: "heath", Affiliation: "admin"}}
	if err != nil || !slices.Equal(rooms, want) {
		t.Errorf("AffiliatedRooms after delete = %+v, %v; want %+v", rooms, err, want)
	}
}

func testRoomList(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	names := []string{"zeta", "älpha", "alpha", "b"}
	for _, n := range names {
		mustCreateRoom(t, rs, storage.Room{Owner: storage.Owner{Domain: coven.Domain, Local: n}, Config: []byte(n)})
	}
	mustCreateRoom(t, rs, storage.Room{Owner: covenOther})
	rooms, err := rs.ListRooms(ctx, coven.Domain)
	if err != nil {
		t.Fatalf("ListRooms: %v", err)
	}
	var got []string
	for _, r := range rooms {
		got = append(got, r.Owner.Local)
		if string(r.Config) != r.Owner.Local || r.Owner.Domain != coven.Domain {
			t.Errorf("listed room %+v has the wrong service or config", r)
		}
	}
	want := []string{"alpha", "b", "zeta", "älpha"}
	if !slices.Equal(got, want) {
		t.Errorf("ListRooms = %v, want %v (byte order)", got, want)
	}
	if rooms, err := rs.ListRooms(ctx, "conference.example.net"); err != nil || len(rooms) != 0 {
		t.Errorf("ListRooms of a service without rooms = %v, %v", rooms, err)
	}
}

func testRoomAffiliations(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	mustCreateRoom(t, rs, storage.Room{Owner: coven}, storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"})
	mustCreateRoom(t, rs, storage.Room{Owner: covenOther}, storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"})
	err := rs.SetAffiliations(ctx, coven, []storage.RoomAffiliation{
		{JID: "juliet@example.com", Affiliation: "admin"},
		{JID: "nurse@example.com", Affiliation: "member", Nick: "nurse"},
		{JID: "tybalt@example.com", Affiliation: "outcast", Reason: "brawling"},
	})
	if err != nil {
		t.Fatalf("SetAffiliations: %v", err)
	}
	err = rs.SetAffiliations(ctx, coven, []storage.RoomAffiliation{
		{JID: "tybalt@example.com", Affiliation: "none"},
		{JID: "nurse@example.com", Affiliation: ""},
		{JID: "juliet@example.com", Affiliation: "owner"},
		{JID: "ghost@example.com", Affiliation: "none"},
	})
	if err != nil {
		t.Fatalf("second SetAffiliations: %v", err)
	}
	got, err := rs.GetAffiliations(ctx, coven)
	want := []storage.RoomAffiliation{
		{JID: "juliet@example.com", Affiliation: "owner"},
		{JID: "romeo@example.com", Affiliation: "owner"},
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("GetAffiliations = %+v, %v; want %+v", got, err, want)
	}
	other, err := rs.GetAffiliations(ctx, covenOther)
	if err != nil || len(other) != 1 {
		t.Errorf("affiliations of the same name on another service = %+v, %v; want romeo only", other, err)
	}
}

func testRoomAffiliationsLastWins(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	mustCreateRoom(t, rs, storage.Room{Owner: coven},
		storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "member"},
		storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"})
	err := rs.SetAffiliations(ctx, coven, []storage.RoomAffiliation{
		{JID: "juliet@example.com", Affiliation: "member"},
		{JID: "juliet@example.com", Affiliation: "none"},
		{JID: "nurse@example.com", Affiliation: "none"},
		{JID: "nurse@example.com", Affiliation: "admin", Reason: "trusted"},
	})
	if err != nil {
		t.Fatalf("SetAffiliations: %v", err)
	}
	got, err := rs.GetAffiliations(ctx, coven)
	want := []storage.RoomAffiliation{
		{JID: "nurse@example.com", Affiliation: "admin", Reason: "trusted"},
		{JID: "romeo@example.com", Affiliation: "owner"},
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("GetAffiliations = %+v, %v; want %+v", got, err, want)
	}
}

func testRoomAffiliatedRooms(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	owner := storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"}
	mustCreateRoom(t, rs, storage.Room{Owner: heath}, owner)
	mustCreateRoom(t, rs, storage.Room{Owner: coven}, storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "member"})
	mustCreateRoom(t, rs, storage.Room{Owner: covenOther}, owner)
	mustCreateRoom(t, rs, storage.Room{Owner: storage.Owner{Domain: coven.Domain, Local: "balcony"}},
		storage.RoomAffiliation{JID: "juliet@example.com", Affiliation: "owner"})
	got, err := rs.AffiliatedRooms(ctx, coven.Domain, "romeo@example.com")
	want := []storage.AffiliatedRoom{{Room: "coven", Affiliation: "member"}, {Room: "heath", Affiliation: "owner"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("AffiliatedRooms = %+v, %v; want %+v", got, err, want)
	}
	if got, err := rs.AffiliatedRooms(ctx, coven.Domain, "nobody@example.com"); err != nil || len(got) != 0 {
		t.Errorf("AffiliatedRooms of a JID without any = %+v, %v", got, err)
	}
}

// testRoomNotAnAccount checks that deleting an account whose key equals a
// room's leaves the room alone.
func testRoomNotAnAccount(t *testing.T, s storage.Store) {
	ctx := context.Background()
	rs := roomsOf(t, s)
	mustCreate(t, s, coven)
	mustCreateRoom(t, rs, sampleRoom(coven), storage.RoomAffiliation{JID: "romeo@example.com", Affiliation: "owner"})
	if err := s.DeleteAccount(ctx, coven); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if _, err := rs.GetRoom(ctx, coven); err != nil {
		t.Errorf("GetRoom after deleting an account with the same key = %v", err)
	}
	if affs, err := rs.GetAffiliations(ctx, coven); err != nil || len(affs) != 1 {
		t.Errorf("GetAffiliations after deleting an account with the same key = %+v, %v", affs, err)
	}
}

func testRoomCanceled(t *testing.T, s storage.Store) {
	rs := roomsOf(t, s)
	mustCreateRoom(t, rs, sampleRoom(coven))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rs.CreateRoom(ctx, sampleRoom(heath), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateRoom with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := rs.GetRoom(ctx, coven); !errors.Is(err, context.Canceled) {
		t.Errorf("GetRoom with a canceled context = %v, want context.Canceled", err)
	}
	if err := rs.SetAffiliations(ctx, coven, []storage.RoomAffiliation{{JID: "a@example.com", Affiliation: "member"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("SetAffiliations with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := rs.GetRoom(context.Background(), heath); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("room created with a canceled context: GetRoom = %v", err)
	}
}
