// Package pgtest gives tests a private PostgreSQL database that is dropped
// when the test ends.
//
// The server is the one that TERN_TEST_POSTGRES names, as a postgres://
// URL of a role that may create databases, or by default
// postgres://postgres@127.0.0.1:5432/postgres. When it cannot be reached,
// tests are skipped, or fail if the environment variable CI is "true".
//
// Each database sorts text by an ICU en-US collation where the server
// supports it, so a test catches a query that relies on byte order
// without asking for COLLATE "C".
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server that tests use when TERN_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres"

// connectTimeout bounds each connection to the administrative database.
const connectTimeout = 10 * time.Second

// NewDatabase creates an empty database named tern_test_<random>, drops it
// (closing any connections still open) when t ends, and returns its
// connection URL.
func NewDatabase(t testing.TB) (dsn string) {
	t.Helper()
	admin := adminURL(t)
	name := "tern_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		unavailable(t, err)
	}
	defer conn.Close(context.Background())
	createDatabase(ctx, t, conn, name)
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	db := *admin
	db.Path = "/" + name
	return db.String()
}

// createDatabase creates the database name with a linguistic (ICU en-US)
// collation, as many production databases have, so that a query that
// needs byte order but lacks COLLATE "C" fails its test. Servers without
// ICU get their default collation.
func createDatabase(ctx context.Context, t testing.TB, conn *pgx.Conn, name string) {
	t.Helper()
	ident := pgx.Identifier{name}.Sanitize()
	_, err := conn.Exec(ctx, "CREATE DATABASE "+ident+
		" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
	if err == nil {
		return
	}
	t.Logf("pgtest: creating %s with the default collation, as ICU failed: %v", name, err)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
}

// adminURL returns the URL of the administrative database.
func adminURL(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv("TERN_TEST_POSTGRES")
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatal("pgtest: TERN_TEST_POSTGRES is not a postgres:// URL")
	}
	return u
}

// dropDatabase drops the database name, closing its connections first.
func dropDatabase(t testing.TB, admin *url.URL, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
		return
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	if err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

// unavailable skips t, or fails it when CI is "true", because the server
// cannot be reached.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("pgtest: PostgreSQL is required when CI=true but unreachable: %v", err)
	}
	t.Skipf("pgtest: skipping, PostgreSQL unreachable (start it or set TERN_TEST_POSTGRES): %v", err)
}

// randomHex returns n random bytes in hexadecimal.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
