package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"tern/storage"
	"tern/storage/postgres/pgtest"
	"tern/storage/storagetest"
)

// withSchema returns dsn with search_path set to schema.
func withSchema(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse test DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// randomSchema returns a new schema name.
func randomSchema() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "s_" + hex.EncodeToString(b)
}

// openSchema opens a store in a new schema of the database at dsn and
// closes it when t ends.
func openSchema(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), withSchema(t, dsn, randomSchema()))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	storagetest.Run(t, func(t *testing.T) storage.Store { return openSchema(t, dsn) })
}

func TestSchemasIsolated(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	a := openSchema(t, dsn)
	defer a.Close()
	b := openSchema(t, dsn)
	defer b.Close()
	o := storage.Owner{Domain: "example.com", Local: "alice"}
	if err := a.CreateAccount(ctx, storage.Account{Owner: o}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if _, err := b.GetAccount(ctx, o); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAccount in another schema = %v, want ErrNotFound", err)
	}
	var schemas int
	err := a.pool.QueryRow(ctx, `SELECT COUNT(DISTINCT table_schema) FROM information_schema.tables
		WHERE table_name = 'accounts'`).Scan(&schemas)
	if err != nil {
		t.Fatalf("count schemas: %v", err)
	}
	if schemas != 2 {
		t.Errorf("accounts table is in %d schemas, want 2", schemas)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dsn := withSchema(t, pgtest.NewDatabase(t), "tern")
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	o := storage.Owner{Domain: "example.com", Local: "alice"}
	if err := s.CreateAccount(ctx, storage.Account{Owner: o}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	s.Close()
	s, err = Open(ctx, dsn)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	if _, err := s.GetAccount(ctx, o); err != nil {
		t.Errorf("GetAccount after reopen: %v", err)
	}
	v, err := schemaVersion(ctx, s.pool)
	if err != nil {
		t.Fatalf("schemaVersion: %v", err)
	}
	if v != len(migrations) {
		t.Errorf("schema version = %d, want %d", v, len(migrations))
	}
}

func TestConcurrentOpen(t *testing.T) {
	dsn := withSchema(t, pgtest.NewDatabase(t), "shared")
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			s, err := Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
}

func TestNewerSchemaRejected(t *testing.T) {
	ctx := context.Background()
	dsn := withSchema(t, pgtest.NewDatabase(t), "tern")
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = s.pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'future')", len(migrations)+1)
	s.Close()
	if err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	s, err = Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database with a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %q, want it to say the schema is newer", err)
	}
}

func TestOpenInvalidDSNHidesPassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://u:s3cret@127.0.0.1:5432/db?sslmode=bogus")
	if err == nil {
		t.Fatal("Open with an invalid DSN succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open error shows the password: %q", err)
	}
}

func TestFirstSchema(t *testing.T) {
	cases := []struct{ path, want string }{
		{"", ""},
		{"tern", "tern"},
		{"Tern, public", "tern"},
		{` "MixedCase" , public`, "MixedCase"},
		{`"a""b"`, `a"b`},
		{`"$user", public`, ""},
		{`$user`, ""},
	}
	for _, c := range cases {
		if got := firstSchema(c.path); got != c.want {
			t.Errorf("firstSchema(%q) = %q, want %q", c.path, got, c.want)
		}
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
	s := openSchema(b, pgtest.NewDatabase(b))
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
	s := openSchema(b, pgtest.NewDatabase(b))
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
