package sasl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"
)

func TestMechanisms(t *testing.T) {
	conn := newTLS(t, tls.VersionTLS13)
	scram := []string{ScramSHA512, ScramSHA256, ScramSHA1}
	plus := []string{ScramSHA512Plus, ScramSHA256Plus, ScramSHA1Plus}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no TLS", Config{}, scram},
		{"no TLS, PLAIN", Config{AllowPlain: true}, append(slices.Clone(scram), Plain)},
		{"TLS", Config{TLS: &conn.server}, slices.Concat(plus, scram)},
		{"TLS, PLAIN", Config{TLS: &conn.server, AllowPlain: true}, slices.Concat(plus, scram, []string{Plain})},
		{"TLS, certificate only", Config{TLS: &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}, ServerCertificate: conn.cert}, slices.Concat(plus, scram)},
		{"TLS, no binding", Config{TLS: &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}}, scram},
		{"TLS, handshake incomplete", Config{TLS: &tls.ConnectionState{}, ServerCertificate: conn.cert}, scram},
		{"TLS, PLAIN, SHA-256 only", Config{TLS: &conn.server, AllowPlain: true, Hashes: []string{HashSHA256}},
			[]string{ScramSHA256Plus, ScramSHA256, Plain}},
		{"no TLS, SHA-512 and SHA-1", Config{Hashes: []string{HashSHA512, HashSHA1}}, []string{ScramSHA512, ScramSHA1}},
		{"TLS, all hashes listed", Config{TLS: &conn.server, Hashes: []string{HashSHA1, HashSHA256, HashSHA512}}, slices.Concat(plus, scram)},
		{"unknown hash only", Config{AllowPlain: true, Hashes: []string{"MD5"}}, []string{Plain}},
	}
	for _, tt := range tests {
		if got := Mechanisms(tt.cfg); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Mechanisms() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestChannelBindingTypes(t *testing.T) {
	tls13 := newTLS(t, tls.VersionTLS13)
	tls12 := newTLS(t, tls.VersionTLS12)
	handMade := &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}
	ed25519 := &x509.Certificate{Raw: tls13.cert.Raw, SignatureAlgorithm: x509.PureEd25519}
	both := []string{TLSExporter, TLSServerEndPoint}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no TLS", Config{ServerCertificate: tls13.cert}, nil},
		{"TLS 1.3", Config{TLS: &tls13.server, ServerCertificate: tls13.cert}, both},
		{"TLS 1.2 with EMS", Config{TLS: &tls12.server, ServerCertificate: tls12.cert}, both},
		{"TLS 1.3, no certificate", Config{TLS: &tls13.server}, []string{TLSExporter}},
		{"TLS 1.3, Ed25519 certificate", Config{TLS: &tls13.server, ServerCertificate: ed25519}, []string{TLSExporter}},
		{"hand-made state", Config{TLS: handMade}, nil},
		{"hand-made state, certificate", Config{TLS: handMade, ServerCertificate: tls13.cert}, []string{TLSServerEndPoint}},
	}
	for _, tt := range tests {
		got := ChannelBindingTypes(tt.cfg)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ChannelBindingTypes() = %q, want %q", tt.name, got, tt.want)
		}
		if slices.Contains(got, TLSUnique) {
			t.Errorf("%s: ChannelBindingTypes() offers tls-unique", tt.name)
		}
	}
}

func TestEndPointHash(t *testing.T) {
	tests := []struct {
		alg  x509.SignatureAlgorithm
		want crypto.Hash // 0 for undefined
	}{
		{x509.MD5WithRSA, crypto.SHA256},
		{x509.SHA1WithRSA, crypto.SHA256},
		{x509.ECDSAWithSHA1, crypto.SHA256},
		{x509.DSAWithSHA1, crypto.SHA256},
		{x509.SHA256WithRSA, crypto.SHA256},
		{x509.ECDSAWithSHA256, crypto.SHA256},
		{x509.SHA256WithRSAPSS, crypto.SHA256},
		{x509.SHA384WithRSA, crypto.SHA384},
		{x509.ECDSAWithSHA384, crypto.SHA384},
		{x509.SHA384WithRSAPSS, crypto.SHA384},
		{x509.SHA512WithRSA, crypto.SHA512},
		{x509.ECDSAWithSHA512, crypto.SHA512},
		{x509.SHA512WithRSAPSS, crypto.SHA512},
		{x509.PureEd25519, 0},
		{x509.MD2WithRSA, 0},
		{x509.UnknownSignatureAlgorithm, 0},
	}
	for _, tt := range tests {
		cert := &x509.Certificate{Raw: []byte("certificate"), SignatureAlgorithm: tt.alg}
		h, ok := endPointHash(cert)
		if ok != (tt.want != 0) || h != tt.want {
			t.Errorf("%v: hash %v (ok=%v), want %v", tt.alg, h, ok, tt.want)
			continue
		}
		if !ok {
			continue
		}
		data, ok := bindingData(Config{TLS: &tls.ConnectionState{HandshakeComplete: true}, ServerCertificate: cert}, TLSServerEndPoint)
		d := tt.want.New()
		d.Write(cert.Raw)
		if !ok || !bytes.Equal(data, d.Sum(nil)) {
			t.Errorf("%v: binding data %x (ok=%v), want %x", tt.alg, data, ok, d.Sum(nil))
		}
	}
	if _, ok := endPointHash(nil); ok {
		t.Error("endPointHash(nil) reported a hash")
	}
}

func TestStartRejects(t *testing.T) {
	conn := newTLS(t, tls.VersionTLS13)
	withTLS := Config{TLS: &conn.server, ServerCertificate: conn.cert}
	tests := []struct {
		mech      string
		cfg       Config
		condition string
	}{
		{"DIGEST-MD5", withTLS, InvalidMechanism},
		{"scram-sha-1", withTLS, InvalidMechanism},
		{"", withTLS, InvalidMechanism},
		{ScramSHA256Plus, Config{}, InvalidMechanism},
		{ScramSHA1Plus, Config{TLS: &conn.server}, ""},
		{Plain, Config{}, EncryptionRequired},
		{Plain, withTLS, InvalidMechanism},
		{Plain, Config{AllowPlain: true}, ""},
		{ScramSHA1, Config{}, ""},
		{ScramSHA1, Config{Hashes: []string{HashSHA256}}, InvalidMechanism},
		{ScramSHA1Plus, Config{TLS: &conn.server, Hashes: []string{HashSHA256}}, InvalidMechanism},
		{ScramSHA512, Config{Hashes: []string{HashSHA256}}, InvalidMechanism},
		{ScramSHA256, Config{Hashes: []string{HashSHA256}}, ""},
		{ScramSHA256Plus, Config{TLS: &conn.server, Hashes: []string{HashSHA256}}, ""},
	}
	for _, tt := range tests {
		ex, err := Start(context.Background(), tt.mech, tt.cfg)
		if tt.condition == "" {
			if err != nil || ex == nil || ex.Mechanism() != tt.mech {
				t.Errorf("Start(%q) = %v, %v; want an exchange", tt.mech, ex, err)
			}
			continue
		}
		if ex != nil {
			t.Errorf("Start(%q) returned an exchange with error %v", tt.mech, err)
		}
		wantCondition(t, err, tt.condition)
	}
}

func TestNewKeys(t *testing.T) {
	keys, err := NewKeys(testPassword, 4096, Hashes())
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, k := range keys {
		hashes = append(hashes, k.Hash)
		h := map[string]hashFunc{HashSHA1: sha1Hash, HashSHA256: sha256Hash, HashSHA512: sha512Hash}[k.Hash]
		if len(k.Salt) != 16 || k.Iterations != 4096 {
			t.Errorf("%s: salt of %d bytes, %d iterations; want 16 and 4096", k.Hash, len(k.Salt), k.Iterations)
		}
		if err := validKey(k, h); err != nil {
			t.Errorf("%s: %v", k.Hash, err)
		}
		again, _ := deriveKey(h, testPassword, k.Salt, k.Iterations)
		if !bytes.Equal(again.StoredKey, k.StoredKey) || !bytes.Equal(again.ServerKey, k.ServerKey) {
			t.Errorf("%s: keys do not match a fresh derivation", k.Hash)
		}
	}
	if !slices.Equal(hashes, []string{HashSHA1, HashSHA256, HashSHA512}) {
		t.Errorf("hashes %q", hashes)
	}
	if bytes.Equal(keys[0].Salt, keys[1].Salt) {
		t.Error("two hashes share a salt")
	}
	other, _ := NewKeys(testPassword, 4096, Hashes())
	if bytes.Equal(other[0].Salt, keys[0].Salt) {
		t.Error("two calls produced the same salt")
	}

	for _, iterations := range []int{0, -1} {
		if _, err := NewKeys(testPassword, iterations, Hashes()); err == nil {
			t.Errorf("NewKeys with %d iterations succeeded", iterations)
		}
	}
	if _, err := NewKeys("", 4096, Hashes()); err == nil {
		t.Error("NewKeys accepted an empty password")
	}
	if _, err := NewKeys("a\x00b", 4096, Hashes()); err == nil {
		t.Error("NewKeys accepted a password with a control character")
	}
	if keys, err := NewKeys(testPassword, 1, Hashes()); err != nil || keys[0].Iterations != 1 {
		t.Errorf("NewKeys with 1 iteration: %v", err)
	}
}

func TestNewKeysChosenHashes(t *testing.T) {
	tests := []struct {
		name   string
		hashes []string
		want   []string
	}{
		{"SHA-256 only", []string{HashSHA256}, []string{HashSHA256}},
		{"SHA-1 only", []string{HashSHA1}, []string{HashSHA1}},
		{"reordered", []string{HashSHA512, HashSHA1}, []string{HashSHA1, HashSHA512}},
		{"listed twice", []string{HashSHA256, HashSHA256}, []string{HashSHA256}},
		{"all", Hashes(), []string{HashSHA1, HashSHA256, HashSHA512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := NewKeys(testPassword, 16, tt.hashes)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, k.Hash)
				h, _ := selectHashes([]string{k.Hash})
				again, _ := deriveKey(h[0], testPassword, k.Salt, k.Iterations)
				if !bytes.Equal(again.StoredKey, k.StoredKey) || !bytes.Equal(again.ServerKey, k.ServerKey) {
					t.Errorf("%s: keys do not match a fresh derivation", k.Hash)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("key hashes %q, want %q", got, tt.want)
			}
		})
	}

	for _, hashes := range [][]string{nil, {}, {"MD5"}, {HashSHA256, "sha-512"}} {
		keys, err := NewKeys(testPassword, 16, hashes)
		if err == nil {
			t.Errorf("NewKeys with hashes %q succeeded with %d keys", hashes, len(keys))
		}
	}
}

func TestHashes(t *testing.T) {
	if got := Hashes(); !slices.Equal(got, []string{HashSHA1, HashSHA256, HashSHA512}) {
		t.Errorf("Hashes() = %q", got)
	}
	Hashes()[0] = "changed"
	if Hashes()[0] != HashSHA1 {
		t.Error("Hashes returns a shared slice")
	}
}
