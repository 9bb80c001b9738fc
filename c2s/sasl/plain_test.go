package sasl

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"

	"tern/storage"
)

// runPlain sends msg as the PLAIN initial response.
func runPlain(t *testing.T, cfg Config, msg string) (*Exchange, error) {
	t.Helper()
	cfg.AllowPlain = true
	ex, err := Start(context.Background(), Plain, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, done, err := ex.Step([]byte(msg))
	if !done {
		t.Fatalf("PLAIN not done after one message")
	}
	if len(out) != 0 {
		t.Errorf("PLAIN returned additional data %q", out)
	}
	return ex, err
}

func TestPlain(t *testing.T) {
	conn := newTLS(t, tls.VersionTLS13)
	tests := []struct {
		name      string
		msg       string
		condition string
	}{
		{"success", "\x00alice\x00pencil", ""},
		{"authzid", "alice@example.com\x00alice\x00pencil", ""},
		{"wrong password", "\x00alice\x00pencil2", NotAuthorized},
		{"unknown user", "\x00nobody\x00pencil", NotAuthorized},
		{"other authzid", "bob@example.com\x00alice\x00pencil", InvalidAuthzid},
		{"full JID authzid", "alice@example.com/r\x00alice\x00pencil", InvalidAuthzid},
		{"no authcid", "\x00\x00pencil", MalformedRequest},
		{"no password", "\x00alice\x00", MalformedRequest},
		{"one NUL", "alice\x00pencil", MalformedRequest},
		{"three NULs", "\x00alice\x00pencil\x00", MalformedRequest},
		{"long password", "\x00alice\x00" + strings.Repeat("p", 1000), NotAuthorized},
		{"message too long", "\x00alice\x00" + strings.Repeat("p", maxMessageLength), MalformedRequest},
		{"invalid UTF-8", "\x00alice\x00pen\xffcil", MalformedRequest},
		{"space in username", "\x00al ice\x00pencil", NotAuthorized},
		{"control in password", "\x00alice\x00pen\x01cil", NotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := runPlain(t, testConfig(&conn.server, conn.cert), tt.msg)
			wantCondition(t, err, tt.condition)
			want := ""
			if tt.condition == "" {
				want = "alice"
			}
			if ex.Username() != want {
				t.Errorf("Username() = %q, want %q", ex.Username(), want)
			}
		})
	}
}

// TestPlainAttemptedUsername checks that a failed PLAIN login names the
// account it was tried against, which the per-account failure count needs.
func TestPlainAttemptedUsername(t *testing.T) {
	conn := newTLS(t, tls.VersionTLS13)
	tests := []struct {
		name, msg, want string
	}{
		{"wrong password", "\x00alice\x00pencil2", "alice"},
		{"unknown user", "\x00nobody\x00pencil", "nobody"},
		{"control in password", "\x00alice\x00pen\x01cil", "alice"},
		{"invalid username", "\x00al ice\x00pencil", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := runPlain(t, testConfig(&conn.server, conn.cert), tt.msg)
			wantCondition(t, err, NotAuthorized)
			if got := ex.AttemptedUsername(); got != tt.want {
				t.Errorf("AttemptedUsername() = %q, want %q", got, tt.want)
			}
			if got := ex.Username(); got != "" {
				t.Errorf("Username() = %q after a failure, want empty", got)
			}
		})
	}
}

func TestPlainPasswordPreparation(t *testing.T) {
	// NewKeys receives a decomposed "é" and a no-break space, and the client
	// sends the composed form and an ASCII space. OpaqueString maps both to
	// the same string.
	keys, err := NewKeys("caf\u0065\u0301\u00a0bar", 16, Hashes())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Lookup: func(context.Context, string) ([]storage.ScramKey, error) { return keys, nil }}
	_, err = runPlain(t, cfg, "\x00alice\x00caf\u00e9 bar")
	wantCondition(t, err, "")
}

func TestPlainKeyPreference(t *testing.T) {
	only := func(hash string) []storage.ScramKey {
		return slices.DeleteFunc(slices.Clone(testKeys()), func(k storage.ScramKey) bool { return k.Hash != hash })
	}
	wrongSHA256, _ := NewKeys("other", 16, Hashes())
	tests := []struct {
		name      string
		keys      []storage.ScramKey
		condition string
	}{
		{"SHA-1 only", only(HashSHA1), ""},
		{"SHA-512 only", only(HashSHA512), ""},
		{"SHA-256 only", only(HashSHA256), ""},
		// SHA-256 is checked first, so a stale SHA-256 key wins.
		{"SHA-256 of another password", append(only(HashSHA1), wrongSHA256[1]), NotAuthorized},
		{"no keys", nil, NotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Lookup: func(context.Context, string) ([]storage.ScramKey, error) { return tt.keys, nil }}
			_, err := runPlain(t, cfg, "\x00alice\x00pencil")
			wantCondition(t, err, tt.condition)
		})
	}
}

func TestPlainHashOrder(t *testing.T) {
	names := func(hs []hashFunc) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.name)
		}
		return out
	}
	tests := []struct {
		hashes []string
		want   []string
	}{
		{nil, []string{HashSHA256, HashSHA1, HashSHA512}},
		{[]string{HashSHA512}, []string{HashSHA512, HashSHA256, HashSHA1}},
		{[]string{HashSHA512, HashSHA1}, []string{HashSHA1, HashSHA512, HashSHA256}},
		{[]string{HashSHA256}, []string{HashSHA256, HashSHA1, HashSHA512}},
	}
	for _, tt := range tests {
		if got := names(plainHashes(Config{Hashes: tt.hashes})); !slices.Equal(got, tt.want) {
			t.Errorf("plainHashes with Hashes %q = %q, want %q", tt.hashes, got, tt.want)
		}
	}

	// With only SHA-512 configured, its key is checked before a stale
	// SHA-256 key of another password.
	wrongSHA256, _ := NewKeys("other", 16, []string{HashSHA256})
	sha512Only := slices.DeleteFunc(slices.Clone(testKeys()), func(k storage.ScramKey) bool { return k.Hash != HashSHA512 })
	keys := append(wrongSHA256, sha512Only...)
	cfg := Config{
		Lookup: func(context.Context, string) ([]storage.ScramKey, error) { return keys, nil },
		Hashes: []string{HashSHA512},
	}
	_, err := runPlain(t, cfg, "\x00alice\x00pencil")
	wantCondition(t, err, "")
}

func TestPlainLookupError(t *testing.T) {
	dbErr := errors.New("database is down")
	cfg := Config{Lookup: func(context.Context, string) ([]storage.ScramKey, error) { return nil, dbErr }}
	_, err := runPlain(t, cfg, "\x00alice\x00pencil")
	wantCondition(t, err, TemporaryAuthFailure)
	if !errors.Is(err, dbErr) {
		t.Errorf("error %v does not wrap the storage error", err)
	}
}

func TestPlainEmptyInitialResponse(t *testing.T) {
	ex, err := Start(context.Background(), Plain, Config{AllowPlain: true, Lookup: newAccounts("alice").lookup})
	if err != nil {
		t.Fatal(err)
	}
	out, done, err := ex.Step(nil)
	if out == nil || len(out) != 0 || done || err != nil {
		t.Fatalf("Step(nil) = %q, %v, %v; want empty challenge", out, done, err)
	}
	_, done, err = ex.Step([]byte("\x00alice\x00pencil"))
	if !done {
		t.Error("not done after the PLAIN message")
	}
	wantCondition(t, err, "")

	ex, _ = Start(context.Background(), Plain, Config{AllowPlain: true})
	ex.Step(nil)
	_, _, err = ex.Step(nil)
	wantCondition(t, err, MalformedRequest)
}
