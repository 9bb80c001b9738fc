package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func newManager(t *testing.T, dir string, domains []string, files map[string]FilePair) *Manager {
	t.Helper()
	m, err := NewManager(dir, domains, files)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m
}

func serialOf(t *testing.T, m *Manager, domain string) *big.Int {
	t.Helper()
	cert := m.Certificate(domain)
	if cert == nil || cert.Leaf == nil {
		t.Fatalf("Certificate(%q) = %v, want a certificate with a parsed leaf", domain, cert)
	}
	return cert.Leaf.SerialNumber
}

func TestGeneratedCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	before := time.Now()
	m := newManager(t, dir, []string{"example.com"}, nil)
	leaf := m.Certificate("example.com").Leaf

	if want := []string{"example.com", "*.example.com"}; !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNSNames = %v, want %v", leaf.DNSNames, want)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T is not ECDSA P-256", leaf.PublicKey)
	}
	if got := leaf.NotAfter.Sub(before); got < validity-time.Minute || got > validity+time.Minute {
		t.Errorf("valid for %v from now, want %v", got, validity)
	}
	if leaf.NotBefore.After(before) {
		t.Errorf("NotBefore %v is after creation time %v", leaf.NotBefore, before)
	}
	for _, eku := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if !slices.Contains(leaf.ExtKeyUsage, eku) {
			t.Errorf("ExtKeyUsage %v lacks %v", leaf.ExtKeyUsage, eku)
		}
	}
	for _, host := range []string{"example.com", "muc.example.com"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("certificate does not cover %s: %v", host, err)
		}
	}

	key, err := os.Stat(filepath.Join(dir, "example.com.key"))
	if err != nil {
		t.Fatal(err)
	}
	if mode := key.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
	if _, err := os.Stat(filepath.Join(dir, "example.com.crt")); err != nil {
		t.Errorf("certificate file: %v", err)
	}
	if d, err := os.Stat(dir); err != nil || d.Mode().Perm() != 0o700 {
		t.Errorf("directory = %v, %v; want mode 700", d.Mode(), err)
	}
}

func TestGeneratedReusedOnRestart(t *testing.T) {
	dir := t.TempDir()
	first := serialOf(t, newManager(t, dir, []string{"example.com"}, nil), "example.com")
	second := serialOf(t, newManager(t, dir, []string{"example.com"}, nil), "example.com")
	if first.Cmp(second) != 0 {
		t.Errorf("serial changed on restart: %v then %v", first, second)
	}

	if err := os.Remove(filepath.Join(dir, "example.com.crt")); err != nil {
		t.Fatal(err)
	}
	third := serialOf(t, newManager(t, dir, []string{"example.com"}, nil), "example.com")
	if third.Cmp(first) == 0 {
		t.Error("certificate file removed, but the old serial came back")
	}
}

func TestGeneratedReplacedWhenUnusable(t *testing.T) {
	cases := []struct {
		name  string
		write func(t *testing.T, certPath, keyPath string)
	}{
		{"expiring", func(t *testing.T, certPath, keyPath string) {
			certPEM, keyPEM, err := createSelfSigned("example.com", time.Now().Add(-validity+renewBefore/2))
			if err != nil {
				t.Fatal(err)
			}
			writeFiles(t, certPath, certPEM, keyPath, keyPEM)
		}},
		{"other name", func(t *testing.T, certPath, keyPath string) {
			certPEM, keyPEM, err := createSelfSigned("other.example", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			writeFiles(t, certPath, certPEM, keyPath, keyPEM)
		}},
		{"garbage", func(t *testing.T, certPath, keyPath string) {
			writeFiles(t, certPath, []byte("not PEM"), keyPath, []byte("not PEM"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			certPath, keyPath := generatedPaths(dir, "example.com")
			tc.write(t, certPath, keyPath)
			leaf := newManager(t, dir, []string{"example.com"}, nil).Certificate("example.com").Leaf
			if !usable(leaf, "example.com", time.Now()) {
				t.Errorf("unusable certificate kept: %v until %v", leaf.DNSNames, leaf.NotAfter)
			}
		})
	}
}

func TestCertificateFromFiles(t *testing.T) {
	dir := t.TempDir()
	pair := writePair(t, dir, "a.example")
	want := readSerial(t, pair.CertFile)
	gen := filepath.Join(dir, "generated")
	m := newManager(t, gen, []string{"a.example", "b.example"}, map[string]FilePair{"a.example": pair})

	if got := serialOf(t, m, "a.example"); got.Cmp(want) != 0 {
		t.Errorf("a.example serial = %v, want the file's %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(gen, "a.example.crt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a certificate was generated for a domain with files: %v", err)
	}
	if _, err := os.Stat(filepath.Join(gen, "b.example.crt")); err != nil {
		t.Errorf("no certificate generated for b.example: %v", err)
	}
}

func TestCertificateLookup(t *testing.T) {
	m := newManager(t, t.TempDir(), []string{"a.example", "bücher.example", "127.0.0.1"}, nil)
	cases := []struct {
		query, want string // want "" for nil
	}{
		{"a.example", "a.example"},
		{"A.Example.", "a.example"},
		{"muc.a.example", "a.example"},
		{"x.muc.a.example", ""},
		{"bücher.example", "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"127.0.0.1", "127.0.0.1"},
		{"other.example", ""},
		{"", ""},
	}
	for _, tc := range cases {
		cert := m.Certificate(tc.query)
		got := ""
		if cert != nil {
			got = cert.Leaf.Subject.CommonName
		}
		if got != tc.want {
			t.Errorf("Certificate(%q) is for %q, want %q", tc.query, got, tc.want)
		}
	}
	ip := m.Certificate("127.0.0.1").Leaf
	if len(ip.DNSNames) != 0 || len(ip.IPAddresses) != 1 || !ip.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("IP certificate names: DNS %v, IP %v", ip.DNSNames, ip.IPAddresses)
	}
}

func TestNewManagerErrors(t *testing.T) {
	dir := t.TempDir()
	missing := FilePair{CertFile: filepath.Join(dir, "none.crt"), KeyFile: filepath.Join(dir, "none.key")}
	cases := []struct {
		name    string
		domains []string
		files   map[string]FilePair
	}{
		{"no domains", nil, nil},
		{"invalid domain", []string{"a b.example"}, nil},
		{"empty label", []string{"a..example"}, nil},
		{"duplicate", []string{"a.example", "A.EXAMPLE"}, nil},
		{"files for unknown domain", []string{"a.example"}, map[string]FilePair{"b.example": missing}},
		{"missing files", []string{"a.example"}, map[string]FilePair{"a.example": missing}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewManager(filepath.Join(dir, "gen"), tc.domains, tc.files)
			if err == nil || m != nil {
				t.Errorf("NewManager = %v, %v; want an error", m, err)
			}
		})
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	pair := writePair(t, dir, "a.example")
	m := newManager(t, filepath.Join(dir, "gen"), []string{"a.example"}, map[string]FilePair{"a.example": pair})
	old := serialOf(t, m, "a.example")

	replacement := writePair(t, t.TempDir(), "a.example")
	copyFile(t, replacement.CertFile, pair.CertFile)
	copyFile(t, replacement.KeyFile, pair.KeyFile)
	if err := m.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	renewed := serialOf(t, m, "a.example")
	if renewed.Cmp(old) == 0 {
		t.Fatal("Reload kept the old certificate")
	}

	if err := os.WriteFile(pair.CertFile, []byte("broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(); err == nil {
		t.Fatal("Reload with a broken file succeeded")
	}
	if got := serialOf(t, m, "a.example"); got.Cmp(renewed) != 0 {
		t.Errorf("failed Reload changed the certificate to serial %v", got)
	}
}

func writeFiles(t *testing.T, certPath string, certPEM []byte, keyPath string, keyPEM []byte) {
	t.Helper()
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writePair writes a new certificate for name into dir, as an operator's
// files would be, and returns their paths.
func writePair(t *testing.T, dir, name string) FilePair {
	t.Helper()
	certPEM, keyPEM, err := createSelfSigned(name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair := FilePair{CertFile: filepath.Join(dir, name+"-op.pem"), KeyFile: filepath.Join(dir, name+"-op.key")}
	writeFiles(t, pair.CertFile, certPEM, pair.KeyFile, keyPEM)
	return pair
}

func readSerial(t *testing.T, certFile string) *big.Int {
	t.Helper()
	block, _ := pem.Decode(mustRead(t, certFile))
	if block == nil {
		t.Fatalf("%s holds no PEM block", certFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.SerialNumber
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, mustRead(t, from), 0o600); err != nil {
		t.Fatal(err)
	}
}
