package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/storage"
	"tern/storage/storagetest"
)

// openTemp opens a store on a new file in t's temporary directory.
func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tern.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) })
}

func TestOpenRejectsMemory(t *testing.T) {
	for _, path := range []string{"", ":memory:"} {
		if s, err := Open(context.Background(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestOpenPathNeedingEscape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?x=1#frag%20", "tern.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer s.Close()
	if err := s.CreateAccount(context.Background(), storage.Account{Owner: storage.Owner{Domain: "d", Local: "l"}}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tern.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	o := storage.Owner{Domain: "example.com", Local: "alice"}
	if err := s.CreateAccount(ctx, storage.Account{Owner: o}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	if _, err := s.GetAccount(ctx, o); err != nil {
		t.Errorf("GetAccount after reopen: %v", err)
	}
	if v := readVersion(t, s); v != len(migrations) {
		t.Errorf("schema version after reopen = %d, want %d", v, len(migrations))
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	cases := []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.write, "journal_mode", "wal"},
		{s.write, "foreign_keys", "1"},
		{s.write, "busy_timeout", fmt.Sprint(busyTimeoutMillis)},
		{s.write, "synchronous", "1"},
		{s.read, "journal_mode", "wal"},
		{s.read, "query_only", "1"},
		{s.read, "busy_timeout", fmt.Sprint(busyTimeoutMillis)},
	}
	for _, c := range cases {
		var got string
		if err := c.db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Errorf("PRAGMA %s: %v", c.pragma, err)
			continue
		}
		if !strings.EqualFold(got, c.want) {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
}

func TestNewerSchemaRejected(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tern.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = s.write.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
		len(migrations)+1)
	if err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database with a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %q, want it to say the schema is newer", err)
	}
}

func TestCheckMigrations(t *testing.T) {
	cases := []struct {
		versions []int
		ok       bool
	}{
		{[]int{1, 2, 3}, true},
		{nil, true},
		{[]int{2}, false},
		{[]int{1, 3}, false},
		{[]int{1, 1}, false},
		{[]int{2, 1}, false},
	}
	for i, c := range cases {
		var ms []migration
		for _, v := range c.versions {
			ms = append(ms, migration{version: v, name: fmt.Sprint("m", v)})
		}
		if err := checkMigrations(ms); (err == nil) != c.ok {
			t.Errorf("case %d %v: checkMigrations = %v, want ok %v", i, c.versions, err, c.ok)
		}
	}
}

func TestMigrationsRecorded(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	if v := readVersion(t, s); v != len(migrations) {
		t.Errorf("schema version = %d, want %d", v, len(migrations))
	}
}

// readVersion returns the schema version recorded in s's database.
func readVersion(t *testing.T, s *Store) int {
	t.Helper()
	v, err := schemaVersion(context.Background(), s.read)
	if err != nil {
		t.Fatalf("read schema version: %v", err)
	}
	return v
}

// TestTwoStoresOneFile writes through two stores on one file at once, as
// ternctl does next to a running ternd: the busy timeout and BEGIN
// IMMEDIATE must keep SQLITE_BUSY from reaching the caller.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tern.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer s.Close()
		stores[i] = s
	}

	o := storage.Owner{Domain: "example.com", Local: "alice"}
	const writers, pushes = 8, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			s := stores[w%len(stores)]
			for i := range pushes {
				if err := s.PushOffline(ctx, o, fmt.Appendf(nil, "<m id='%d-%d'/>", w, i), 0); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}

	for range writers {
		if err := <-errs; err != nil {
			t.Errorf("PushOffline: %v", err)
		}
	}

	n, err := stores[0].CountOffline(ctx, o)
	if err != nil {
		t.Fatalf("CountOffline: %v", err)
	}
	if n != writers*pushes {
		t.Errorf("CountOffline = %d, want %d", n, writers*pushes)
	}
}

// benchKeys are SCRAM verifiers of the sizes a real account stores.
var benchKeys = []storage.ScramKey{
	{Hash: "SHA-1", Salt: make([]byte, 16), Iterations: 4096, StoredKey: make([]byte, 20), ServerKey: make([]byte, 20)},
	{Hash: "SHA-256", Salt: make([]byte, 16), Iterations: 4096, StoredKey: make([]byte, 32), ServerKey: make([]byte, 32)},
	{Hash: "SHA-512", Salt: make([]byte, 16), Iterations: 4096, StoredKey: make([]byte, 64), ServerKey: make([]byte, 64)},
}

// BenchmarkCreateAccount measures one CreateAccount call, each its own
// transaction. Run it with -benchtime=10000x for a bulk import of 10,000
// accounts.
func BenchmarkCreateAccount(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	defer s.Close()
	for i := 0; b.Loop(); i++ {
		a := storage.Account{Owner: storage.Owner{Domain: "example.com", Local: fmt.Sprint("user", i)}, Keys: benchKeys}
		if err := s.CreateAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateAccounts measures CreateAccounts with batches of 1,000
// accounts; ns/account is the time per account.
func BenchmarkCreateAccounts(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	defer s.Close()
	const batchSize = 1000
	batch := make([]storage.Account, batchSize)
	next := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = storage.Account{Owner: storage.Owner{Domain: "example.com", Local: fmt.Sprint("user", next)}, Keys: benchKeys}
			next++
		}
		if err := s.CreateAccounts(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(next), "ns/account")
}
