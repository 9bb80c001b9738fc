package upload

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSlotIDValid(t *testing.T) {
	for range 100 {
		id := newSlotID()
		if !validSlotID(id) {
			t.Fatalf("validSlotID(%q) = false for a new id", id)
		}
	}
	if a, b := newSlotID(), newSlotID(); a == b {
		t.Errorf("two new slot ids are equal: %q", a)
	}
}

func TestSlotIDRejectsPaths(t *testing.T) {
	id := newSlotID()
	bad := []string{
		"",
		"..",
		"../../../etc/passwd",
		id[:len(id)-1],
		id + "A",
		id[:len(id)-3] + "/..",
		id[:len(id)-2] + "\\a",
		id[:len(id)-1] + ".",
		id[:len(id)-5] + ".json",
		id[:len(id)-1] + "%",
		id[:len(id)-1] + "\x00",
	}
	for _, s := range bad {
		if validSlotID(s) {
			t.Errorf("validSlotID(%q) = true", s)
		}
	}
}

func TestTokenVerify(t *testing.T) {
	s := newSigner()
	id := newSlotID()
	tok := s.token(id)
	if !s.verify(id, tok) {
		t.Fatalf("verify(id, token(id)) = false")
	}
	if s.verify(newSlotID(), tok) {
		t.Errorf("token of one slot verifies another")
	}
	if s.verify(id, "") {
		t.Errorf("empty token verifies")
	}
	if s.verify(id, tok[:len(tok)-1]+"x") {
		t.Errorf("altered token verifies")
	}
	if newSigner().verify(id, tok) {
		t.Errorf("token verifies under another key")
	}
}

func TestCheckFilename(t *testing.T) {
	good := []string{"photo.jpg", "Screenshot 2026-12-04 at 10.00.00.png", "日本語.txt", "a..b", "...", ".hidden", strings.Repeat("a", 255)}
	for _, name := range good {
		if err := checkFilename(name); err != nil {
			t.Errorf("checkFilename(%q) = %v, want nil", name, err)
		}
	}
	bad := []string{
		"", ".", "..", "../x", "a/b", `..\x`, `a\b`, "/etc/passwd",
		"a\x00b", "a\nb", "a\x7fb", "\xff.jpg", "gpj\u202e.exe", strings.Repeat("a", 256),
	}
	for _, name := range bad {
		if err := checkFilename(name); err == nil {
			t.Errorf("checkFilename(%q) = nil, want an error", name)
		}
	}
}

func TestNormalizeContentType(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "application/octet-stream"},
		{"image/JPEG", "image/jpeg"},
		{"text/plain; charset=UTF-8", "text/plain; charset=UTF-8"},
	}
	for _, tc := range cases {
		got, err := normalizeContentType(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("normalizeContentType(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"image", "image/", "a b/c", "text/plain; charset", strings.Repeat("a", 250) + "/bcdefg"} {
		if got, err := normalizeContentType(in); err == nil {
			t.Errorf("normalizeContentType(%q) = %q, want an error", in, got)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	cases := []struct{ ctype, name, want string }{
		{"image/png", "a.png", "inline; filename=a.png"},
		{"video/mp4", "clip.mp4", "inline; filename=clip.mp4"},
		{"image/svg+xml", "x.svg", "attachment; filename=x.svg"},
		{"text/html", "page.html", "attachment; filename=page.html"},
		{"application/pdf", `a "b".pdf`, `attachment; filename="a \"b\".pdf"`},
		{"text/plain", "日本.txt", "attachment; filename*=utf-8''%E6%97%A5%E6%9C%AC.txt"},
	}
	for _, tc := range cases {
		if got := contentDisposition(tc.ctype, tc.name); got != tc.want {
			t.Errorf("contentDisposition(%q, %q) = %q, want %q", tc.ctype, tc.name, got, tc.want)
		}
	}
}

func TestDefaultBaseURL(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40001}
	cases := []struct {
		listen string
		bound  net.Addr
		want   string
	}{
		{"127.0.0.1:5280", nil, "http://127.0.0.1:5280"},
		{"127.0.0.1:0", bound, "http://127.0.0.1:40001"},
		{":5280", nil, "http://example.com:5280"},
		{"0.0.0.0:5280", nil, "http://example.com:5280"},
		{"[::]:5280", nil, "http://example.com:5280"},
		{"[::1]:5280", nil, "http://[::1]:5280"},
		{"files.example.org:8080", nil, "http://files.example.org:8080"},
	}
	for _, tc := range cases {
		if got := defaultBaseURL(tc.listen, tc.bound, "example.com"); got != tc.want {
			t.Errorf("defaultBaseURL(%q) = %q, want %q", tc.listen, got, tc.want)
		}
	}
}

func TestCleanupInterval(t *testing.T) {
	cases := []struct{ expiry, want time.Duration }{
		{0, time.Hour},
		{720 * time.Hour, time.Hour},
		{time.Hour, 30 * time.Minute},
		{time.Second, time.Second},
	}
	for _, tc := range cases {
		if got := cleanupInterval(tc.expiry); got != tc.want {
			t.Errorf("cleanupInterval(%v) = %v, want %v", tc.expiry, got, tc.want)
		}
	}
}

func testStore(t *testing.T, dir string) *store {
	t.Helper()
	st, err := openStore(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("openStore: %v", err)
	}
	return st
}

func TestStoreSlotOnce(t *testing.T) {
	dir := t.TempDir()
	st := testStore(t, dir)
	now := time.Now()
	meta := fileMeta{Owner: "romeo@localhost", Filename: "a.txt", Size: 5, ContentType: "text/plain"}
	id, err := st.reserve(meta, 0, now, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	s, err := st.begin(id, now)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if _, err := st.begin(id, now); !errors.Is(err, errSlotBusy) {
		t.Errorf("second begin during upload = %v, want errSlotBusy", err)
	}

	if err := st.save(s, strings.NewReader("hello!"), meta); !errors.Is(err, errTooLarge) {
		t.Fatalf("save of 6 bytes = %v, want errTooLarge", err)
	}
	s, err = st.begin(id, now)
	if err != nil {
		t.Fatalf("begin after a failed upload: %v", err)
	}
	if err := st.save(s, strings.NewReader("hell"), meta); !errors.Is(err, errTooShort) {
		t.Fatalf("save of 4 bytes = %v, want errTooShort", err)
	}

	s, _ = st.begin(id, now)
	if err := st.save(s, strings.NewReader("hello"), meta); err != nil {
		t.Fatalf("save: %v", err)
	}
	if _, err := st.begin(id, now); !errors.Is(err, errStored) {
		t.Errorf("begin after the upload = %v, want errStored", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, id))
	if err != nil || string(data) != "hello" {
		t.Errorf("stored content = %q, %v; want hello", data, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory has %d entries, want the content and its metadata", len(entries))
	}
}

func TestStoreSlotExpires(t *testing.T) {
	st := testStore(t, t.TempDir())
	now := time.Now()
	id, err := st.reserve(fileMeta{Owner: "romeo@localhost", Size: 1}, 0, now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.begin(id, now.Add(time.Minute)); !errors.Is(err, errSlotUnknown) {
		t.Errorf("begin after the slot expired = %v, want errSlotUnknown", err)
	}
	if _, err := st.begin(newSlotID(), now); !errors.Is(err, errSlotUnknown) {
		t.Errorf("begin of an unknown slot = %v, want errSlotUnknown", err)
	}
}

func TestStoreQuota(t *testing.T) {
	st := testStore(t, t.TempDir())
	now := time.Now()
	later := now.Add(time.Minute)
	meta := fileMeta{Owner: "romeo@localhost", Filename: "a", Size: 60}
	id, err := st.reserve(meta, 100, now, later)
	if err != nil {
		t.Fatalf("first reserve: %v", err)
	}
	if _, err := st.reserve(meta, 100, now, later); !errors.Is(err, errQuota) {
		t.Errorf("reserve beyond the quota with a pending slot = %v, want errQuota", err)
	}
	other := meta
	other.Owner = "juliet@localhost"
	if _, err := st.reserve(other, 100, now, later); err != nil {
		t.Errorf("another account's reserve = %v, want nil", err)
	}
	s, _ := st.begin(id, now)
	if err := st.save(s, bytes.NewReader(make([]byte, 60)), meta); err != nil {
		t.Fatal(err)
	}
	if _, err := st.reserve(meta, 100, now, later); !errors.Is(err, errQuota) {
		t.Errorf("reserve beyond the quota with a stored file = %v, want errQuota", err)
	}
	small := meta
	small.Size = 40
	if _, err := st.reserve(small, 100, now, later); err != nil {
		t.Errorf("reserve up to the quota = %v, want nil", err)
	}
}

func TestStoreTooManySlots(t *testing.T) {
	st := testStore(t, t.TempDir())
	now := time.Now()
	meta := fileMeta{Owner: "romeo@localhost", Size: 1}
	for i := range maxPendingSlots {
		if _, err := st.reserve(meta, 0, now, now.Add(time.Minute)); err != nil {
			t.Fatalf("reserve %d: %v", i, err)
		}
	}
	if _, err := st.reserve(meta, 0, now, now.Add(time.Minute)); !errors.Is(err, errTooManySlots) {
		t.Errorf("reserve beyond %d slots = %v, want errTooManySlots", maxPendingSlots, err)
	}
	if _, err := st.reserve(meta, 0, now.Add(time.Minute), now.Add(2*time.Minute)); err != nil {
		t.Errorf("reserve after the slots expired = %v, want nil", err)
	}
}

// saveFile stores content through a slot and returns its id.
func saveFile(t *testing.T, st *store, meta fileMeta, content string, now time.Time) string {
	t.Helper()
	meta.Size = int64(len(content))
	id, err := st.reserve(meta, 0, now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.begin(id, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.save(s, strings.NewReader(content), meta); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st := testStore(t, dir)
	now := time.Now().UTC().Truncate(time.Second)
	meta := fileMeta{Owner: "romeo@localhost", Filename: "a.txt", ContentType: "text/plain", Created: now, Expires: now.Add(time.Hour)}
	id := saveFile(t, st, meta, "kept", now)

	// Leftovers of an interrupted upload and an interrupted deletion,
	// and a file the store did not write.
	orphan := newSlotID()
	os.WriteFile(filepath.Join(dir, orphan), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, newSlotID()+partSuffix), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o600)

	st = testStore(t, dir)
	got, ok := st.file(id, now)
	if !ok {
		t.Fatalf("file %s not found after reopening", id)
	}
	if got.Filename != "a.txt" || got.Size != 4 || got.Owner != "romeo@localhost" || !got.Expires.Equal(meta.Expires) {
		t.Errorf("metadata after reopening = %+v", got)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{id, id + metaSuffix, "README"}
	if len(names) != len(want) {
		t.Errorf("directory after reopening = %v, want %v", names, want)
	}
	for _, n := range want {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s missing after reopening: %v", n, err)
		}
	}
}

func TestStoreDropsTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	st := testStore(t, dir)
	now := time.Now()
	id := saveFile(t, st, fileMeta{Owner: "romeo@localhost", Filename: "a"}, "content", now)
	if err := os.WriteFile(filepath.Join(dir, id), []byte("cont"), 0o600); err != nil {
		t.Fatal(err)
	}
	st = testStore(t, dir)
	if _, ok := st.file(id, now); ok {
		t.Errorf("a file whose size differs from its metadata was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("content of the dropped file still exists: %v", err)
	}
}

func TestStoreRemoveExpired(t *testing.T) {
	dir := t.TempDir()
	st := testStore(t, dir)
	now := time.Now()
	old := saveFile(t, st, fileMeta{Owner: "romeo@localhost", Filename: "old", Expires: now.Add(time.Hour)}, "old", now)
	keep := saveFile(t, st, fileMeta{Owner: "romeo@localhost", Filename: "new", Expires: now.Add(3 * time.Hour)}, "new", now)
	forever := saveFile(t, st, fileMeta{Owner: "romeo@localhost", Filename: "forever"}, "forever", now)

	later := now.Add(2 * time.Hour)
	if _, ok := st.file(old, later); ok {
		t.Errorf("an expired file is still served before cleanup")
	}
	if n := st.removeExpired(later); n != 1 {
		t.Errorf("removeExpired = %d, want 1", n)
	}
	for _, name := range []string{old, old + metaSuffix} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after expiry: %v", name, err)
		}
	}
	for _, id := range []string{keep, forever} {
		if _, ok := st.file(id, later); !ok {
			t.Errorf("file %s removed before its expiry", id)
		}
	}
}

func TestExpiryStops(t *testing.T) {
	st := testStore(t, t.TempDir())
	m := &module{store: st, log: slog.New(slog.DiscardHandler), now: time.Now}
	m.cfg.Expiry = time.Hour
	stop := m.startExpiry()
	done := make(chan struct{})
	go func() {
		stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return")
	}
}
