package sasl

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"testing"

	"tern/storage"
)

// benchmarkSCRAMSHA1 runs whole SCRAM-SHA-1 exchanges against an account
// with 4096 iterations. With cacheSalted the client reuses its
// SaltedPassword, as real clients do after the first login, so the loop
// measures mostly the server.
func benchmarkSCRAMSHA1(b *testing.B, cacheSalted bool) {
	salt := []byte("0123456789abcdef")
	key, err := deriveKey(sha1Hash, testPassword, salt, 4096)
	if err != nil {
		b.Fatal(err)
	}
	keys := []storage.ScramKey{key}
	cfg := Config{Lookup: func(context.Context, string) ([]storage.ScramKey, error) { return keys, nil }}
	var salted []byte
	if cacheSalted {
		salted, err = pbkdf2.Key(sha1.New, testPassword, salt, 4096, sha1.Size)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		c := newClient(ScramSHA1, "alice", testPassword)
		c.salted = salted
		if _, err := runSCRAM(b, cfg, ScramSHA1, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSCRAMSHA1Exchange(b *testing.B) { benchmarkSCRAMSHA1(b, false) }

func BenchmarkSCRAMSHA1CachedClient(b *testing.B) { benchmarkSCRAMSHA1(b, true) }
