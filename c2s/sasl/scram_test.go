package sasl

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"tern/storage"
)

// TestSCRAMVectors replays the example exchanges of RFC 5802 §5
// (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256).
func TestSCRAMVectors(t *testing.T) {
	tests := []struct {
		mech        string
		hash        hashFunc
		salt        string
		serverNonce string
		clientFirst string
		serverFirst string
		clientFinal string
		serverFinal string
	}{{
		mech:        ScramSHA1,
		hash:        sha1Hash,
		salt:        "QSXCR+Q6sek8bf92",
		serverNonce: "3rfcNHYJY1ZVvWVs7j",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	}, {
		mech:        ScramSHA256,
		hash:        sha256Hash,
		salt:        "W22ZaJ0SNY7soEsUEjb6gQ==",
		serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	}}
	for _, tt := range tests {
		t.Run(tt.mech, func(t *testing.T) {
			salt, _ := base64.StdEncoding.DecodeString(tt.salt)
			key, err := deriveKey(tt.hash, "pencil", salt, 4096)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Lookup: func(_ context.Context, name string) ([]storage.ScramKey, error) {
				if name != "user" {
					return nil, storage.ErrNotFound
				}
				return []storage.ScramKey{key}, nil
			}}
			ex, err := Start(context.Background(), tt.mech, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ex.scram.serverNonce = tt.serverNonce
			out, done, err := ex.Step([]byte(tt.clientFirst))
			if err != nil || done || string(out) != tt.serverFirst {
				t.Fatalf("server-first %q, done=%v, err=%v; want %q", out, done, err, tt.serverFirst)
			}
			out, done, err = ex.Step([]byte(tt.clientFinal))
			if err != nil || !done || string(out) != tt.serverFinal {
				t.Fatalf("server-final %q, done=%v, err=%v; want %q", out, done, err, tt.serverFinal)
			}
			if ex.Username() != "user" {
				t.Errorf("Username() = %q, want user", ex.Username())
			}
		})
	}
}

func TestSCRAMEveryMechanism(t *testing.T) {
	tls13 := newTLS(t, tls.VersionTLS13)
	tls12 := newTLS(t, tls.VersionTLS12)
	for _, side := range []struct {
		name string
		tls  tlsSide
	}{{"TLS1.3", tls13}, {"TLS1.2", tls12}} {
		cfg := testConfig(&side.tls.server, side.tls.cert)
		for _, mech := range []string{ScramSHA1, ScramSHA256, ScramSHA512} {
			t.Run(side.name+"/"+mech, func(t *testing.T) {
				ex, err := runSCRAM(t, cfg, mech, newClient(mech, "alice", testPassword))
				wantCondition(t, err, "")
				if ex.Username() != "alice" || ex.ChannelBinding() != "" {
					t.Errorf("Username() = %q, ChannelBinding() = %q; want alice and none", ex.Username(), ex.ChannelBinding())
				}
			})
			for _, cb := range []struct {
				name string
				data []byte
			}{{TLSExporter, side.tls.exporter(t)}, {TLSServerEndPoint, side.tls.endPoint()}} {
				plus := mech + "-PLUS"
				t.Run(side.name+"/"+plus+"/"+cb.name, func(t *testing.T) {
					c := newClient(plus, "alice", testPassword)
					c.flag, c.cbData = "p="+cb.name, cb.data
					ex, err := runSCRAM(t, cfg, plus, c)
					wantCondition(t, err, "")
					if ex.Username() != "alice" || ex.ChannelBinding() != cb.name {
						t.Errorf("Username() = %q, ChannelBinding() = %q; want alice and %s", ex.Username(), ex.ChannelBinding(), cb.name)
					}
				})
			}
		}
	}
}

func TestSCRAMWithoutTLS(t *testing.T) {
	for _, mech := range []string{ScramSHA1, ScramSHA256, ScramSHA512} {
		ex, err := runSCRAM(t, testConfig(nil, nil), mech, newClient(mech, "alice", testPassword))
		wantCondition(t, err, "")
		if ex.Username() != "alice" {
			t.Errorf("%s: Username() = %q, want alice", mech, ex.Username())
		}
	}
}

func TestSCRAMWrongPassword(t *testing.T) {
	for _, mech := range []string{ScramSHA1, ScramSHA256, ScramSHA512} {
		ex, err := runSCRAM(t, testConfig(nil, nil), mech, newClient(mech, "alice", "pencil2"))
		wantCondition(t, err, NotAuthorized)
		if ex.Username() != "" {
			t.Errorf("%s: Username() = %q after failure", mech, ex.Username())
		}
	}
}

// serverFirstFor returns the server-first-message sent to username.
func serverFirstFor(t *testing.T, cfg Config, mech, username string) string {
	t.Helper()
	ex, err := Start(context.Background(), mech, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := ex.Step([]byte("n,,n=" + username + ",r=abc"))
	if err != nil {
		t.Fatalf("client-first for %s: %v", username, err)
	}
	return string(out)
}

// saltAndIterations strips the nonce from a server-first-message.
func saltAndIterations(serverFirst string) string {
	_, rest, _ := strings.Cut(serverFirst, ",")
	return rest
}

func TestSCRAMUnknownUser(t *testing.T) {
	cfg := testConfig(nil, nil)
	_, err := runSCRAM(t, cfg, ScramSHA256, newClient(ScramSHA256, "nobody", testPassword))
	wantCondition(t, err, NotAuthorized)

	known := serverFirstFor(t, cfg, ScramSHA256, "alice")
	first := serverFirstFor(t, cfg, ScramSHA256, "nobody")
	again := serverFirstFor(t, cfg, ScramSHA256, "nobody")
	other := serverFirstFor(t, cfg, ScramSHA256, "nobody2")
	if saltAndIterations(first) != saltAndIterations(again) {
		t.Errorf("unknown user got different salts: %q and %q", first, again)
	}
	if saltAndIterations(first) == saltAndIterations(other) {
		t.Errorf("two unknown users got the same salt: %q", first)
	}
	if len(first) != len(known) || !strings.HasSuffix(first, ",i=4096") {
		t.Errorf("unknown user's server-first %q does not look like %q", first, known)
	}

	cfg.FakeIterations = 10000
	if got := serverFirstFor(t, cfg, ScramSHA256, "nobody"); !strings.HasSuffix(got, ",i=10000") {
		t.Errorf("with FakeIterations 10000, server-first %q", got)
	}
}

func TestSCRAMFailuresLookAlike(t *testing.T) {
	_, unknown := runSCRAM(t, testConfig(nil, nil), ScramSHA1, newClient(ScramSHA1, "nobody", testPassword))
	_, wrong := runSCRAM(t, testConfig(nil, nil), ScramSHA1, newClient(ScramSHA1, "alice", "wrong"))
	if unknown == nil || wrong == nil || unknown.Error() != wrong.Error() {
		t.Errorf("unknown user error %v differs from wrong password error %v", unknown, wrong)
	}
}

func TestSCRAMMissingHash(t *testing.T) {
	keys := slices.DeleteFunc(slices.Clone(testKeys()), func(k storage.ScramKey) bool { return k.Hash == HashSHA512 })
	cfg := Config{Lookup: func(context.Context, string) ([]storage.ScramKey, error) { return keys, nil }}
	_, err := runSCRAM(t, cfg, ScramSHA512, newClient(ScramSHA512, "alice", testPassword))
	wantCondition(t, err, NotAuthorized)
	_, err = runSCRAM(t, cfg, ScramSHA256, newClient(ScramSHA256, "alice", testPassword))
	wantCondition(t, err, "")
}

// TestSCRAMKeyOfAddedHash covers an account created before its server
// added SHA-256 to Config.Hashes: SCRAM-SHA-256 must fail for it exactly as
// for a wrong password or an unknown user, while PLAIN and SCRAM-SHA-1
// still work.
func TestSCRAMKeyOfAddedHash(t *testing.T) {
	sha1Only := slices.DeleteFunc(slices.Clone(testKeys()), func(k storage.ScramKey) bool { return k.Hash != HashSHA1 })
	lookup := func(_ context.Context, username string) ([]storage.ScramKey, error) {
		if username != "alice" {
			return nil, storage.ErrNotFound
		}
		return sha1Only, nil
	}
	cfg := Config{Lookup: lookup, AllowPlain: true, Hashes: []string{HashSHA1, HashSHA256}}

	_, missing := runSCRAM(t, cfg, ScramSHA256, newClient(ScramSHA256, "alice", testPassword))
	wantCondition(t, missing, NotAuthorized)
	_, wrong := runSCRAM(t, testConfig(nil, nil), ScramSHA256, newClient(ScramSHA256, "alice", "wrong"))
	if missing.Error() != wrong.Error() {
		t.Errorf("missing key error %q differs from wrong password error %q", missing, wrong)
	}

	// The salt and iteration count shown are those of an unknown user of
	// the same name.
	unknown := cfg
	unknown.Lookup = func(context.Context, string) ([]storage.ScramKey, error) { return nil, storage.ErrNotFound }
	got := saltAndIterations(serverFirstFor(t, cfg, ScramSHA256, "alice"))
	want := saltAndIterations(serverFirstFor(t, unknown, ScramSHA256, "alice"))
	if got != want {
		t.Errorf("server-first for a missing key %q, for an unknown user %q", got, want)
	}

	_, err := runSCRAM(t, cfg, ScramSHA1, newClient(ScramSHA1, "alice", testPassword))
	wantCondition(t, err, "")
	_, err = runPlain(t, cfg, "\x00alice\x00"+testPassword)
	wantCondition(t, err, "")
}

func TestSCRAMLookupErrors(t *testing.T) {
	dbErr := errors.New("database is down")
	tests := []struct {
		name      string
		err       error
		keys      []storage.ScramKey
		condition string
	}{
		{"storage error", dbErr, nil, TemporaryAuthFailure},
		{"account disabled", &Failure{Condition: AccountDisabled}, nil, AccountDisabled},
		{"broken key", nil, []storage.ScramKey{{Hash: HashSHA1, Salt: []byte("s"), Iterations: 0}}, TemporaryAuthFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Lookup: func(context.Context, string) ([]storage.ScramKey, error) { return tt.keys, tt.err }}
			_, err := runSCRAM(t, cfg, ScramSHA1, newClient(ScramSHA1, "alice", testPassword))
			wantCondition(t, err, tt.condition)
			if tt.err == dbErr && !errors.Is(err, dbErr) {
				t.Errorf("error %v does not wrap the storage error", err)
			}
		})
	}
	_, err := runSCRAM(t, Config{}, ScramSHA1, newClient(ScramSHA1, "alice", testPassword))
	wantCondition(t, err, TemporaryAuthFailure)
}

func TestSCRAMUsernames(t *testing.T) {
	tests := []struct {
		sent, lookup string
	}{
		{"alice", "alice"},
		{"Alice", "Alice"},
		{"a,b=c", "a,b=c"},
		{"\uff21lice", "Alice"}, // fullwidth A is width-mapped
	}
	for _, tt := range tests {
		t.Run(tt.sent, func(t *testing.T) {
			accts := newAccounts(tt.lookup)
			cfg := Config{Lookup: accts.lookup}
			ex, err := runSCRAM(t, cfg, ScramSHA256, newClient(ScramSHA256, tt.sent, testPassword))
			wantCondition(t, err, "")
			if !slices.Equal(accts.names, []string{tt.lookup}) {
				t.Errorf("Lookup called with %q, want %q", accts.names, tt.lookup)
			}
			if ex.Username() != tt.lookup {
				t.Errorf("Username() = %q, want %q", ex.Username(), tt.lookup)
			}
		})
	}
	_, err := runSCRAM(t, testConfig(nil, nil), ScramSHA256, newClient(ScramSHA256, "al ice", testPassword))
	wantCondition(t, err, NotAuthorized)
}

func TestSCRAMAuthzid(t *testing.T) {
	tests := []struct {
		username, authzid, domain string
		condition                 string
	}{
		{"alice", "alice@example.com", "example.com", ""},
		{"alice", "ALICE@Example.COM", "example.com", ""},
		{"al,ice", "al,ice@example.com", "example.com", ""},
		{"alice", "bob@example.com", "example.com", InvalidAuthzid},
		{"alice", "alice@example.com/phone", "example.com", InvalidAuthzid},
		{"alice", "alice@example.org", "example.com", InvalidAuthzid},
		{"alice", "alice", "example.com", InvalidAuthzid},
		{"alice", "alice@example.com", "", InvalidAuthzid},
	}
	for _, tt := range tests {
		t.Run(tt.username+"/"+tt.authzid, func(t *testing.T) {
			cfg := Config{Lookup: newAccounts(tt.username).lookup, Domain: tt.domain}
			c := newClient(ScramSHA1, tt.username, testPassword)
			c.authzid = tt.authzid
			_, err := runSCRAM(t, cfg, ScramSHA1, c)
			wantCondition(t, err, tt.condition)
		})
	}
}

func TestSCRAMEmptyInitialResponse(t *testing.T) {
	ex, err := Start(context.Background(), ScramSHA256, testConfig(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	out, done, err := ex.Step(nil)
	if out == nil || len(out) != 0 || done || err != nil {
		t.Fatalf("Step(nil) = %q, %v, %v; want empty challenge", out, done, err)
	}
	c := newClient(ScramSHA256, "alice", testPassword)
	serverFirst, _, err := ex.Step(c.first())
	if err != nil {
		t.Fatal(err)
	}
	final, err := c.final(serverFirst)
	if err != nil {
		t.Fatal(err)
	}
	serverFinal, done, err := ex.Step(final)
	if err != nil || !done {
		t.Fatalf("client-final: done=%v, err=%v", done, err)
	}
	if err := c.verify(serverFinal); err != nil {
		t.Error(err)
	}

	ex, _ = Start(context.Background(), ScramSHA256, testConfig(nil, nil))
	ex.Step(nil)
	_, _, err = ex.Step([]byte{})
	wantCondition(t, err, MalformedRequest)
}

func TestStepAfterEnd(t *testing.T) {
	ex, err := runSCRAM(t, testConfig(nil, nil), ScramSHA1, newClient(ScramSHA1, "alice", testPassword))
	wantCondition(t, err, "")
	_, done, err := ex.Step([]byte("n,,n=alice,r=abc"))
	wantCondition(t, err, MalformedRequest)
	if !done {
		t.Error("Step after success returned done=false")
	}
	if ex.Username() != "alice" {
		t.Errorf("Username() = %q after a late Step, want alice", ex.Username())
	}

	ex, err = runSCRAM(t, testConfig(nil, nil), ScramSHA1, newClient(ScramSHA1, "alice", "wrong"))
	wantCondition(t, err, NotAuthorized)
	_, _, err = ex.Step([]byte("c=biws,r=abc,p=AAAA"))
	wantCondition(t, err, MalformedRequest)
}

// TestSCRAMNonceMismatch sends a client-final-message whose proof is valid
// for the nonce it carries, but that nonce is not the one the server chose.
func TestSCRAMNonceMismatch(t *testing.T) {
	tests := []struct {
		name  string
		nonce func(c *scramClient, combined string) string
	}{
		{"client nonce only", func(c *scramClient, _ string) string { return c.nonce }},
		{"extended", func(_ *scramClient, combined string) string { return combined + "x" }},
		{"truncated", func(_ *scramClient, combined string) string { return combined[:len(combined)-1] }},
		{"other server nonce", func(c *scramClient, _ string) string { return c.nonce + newServerNonce() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := Start(context.Background(), ScramSHA256, testConfig(nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(ScramSHA256, "alice", testPassword)
			serverFirst, _, err := ex.Step(c.first())
			if err != nil {
				t.Fatal(err)
			}
			combined, _, _ := strings.Cut(strings.TrimPrefix(string(serverFirst), "r="), ",")
			c.finalNonce = tt.nonce(c, combined)
			final, err := c.final(serverFirst)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = ex.Step(final)
			wantCondition(t, err, NotAuthorized)
			if f, _ := asFailure(err); f.Text != "nonce mismatch" {
				t.Errorf("failure text %q, want nonce mismatch", f.Text)
			}
		})
	}
}
