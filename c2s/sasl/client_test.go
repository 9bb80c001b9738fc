package sasl

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/secure/precis"

	"tern/storage"
)

// scramClient is a SCRAM client written from RFC 5802 without the
// package's own helpers, so that the tests check the server against an
// independent implementation.
type scramClient struct {
	newHash  func() hash.Hash
	username string
	password string
	authzid  string
	flag     string // "n", "y" or "p=<type>"
	cbData   []byte // channel binding data for c=
	// cbHeader, when set, replaces the GS2 header inside c=.
	cbHeader string
	nonce    string
	// salted, when set, is used as SaltedPassword instead of PBKDF2.
	salted []byte
	// finalNonce, when set, replaces the combined nonce in
	// client-final-message; the proof is computed over it.
	finalNonce string

	gs2Header       string
	clientFirstBare string
	serverSignature []byte
}

// newClient returns a client for mechanism mech with the "n" flag.
func newClient(mech, username, password string) *scramClient {
	var h func() hash.Hash
	switch {
	case strings.HasPrefix(mech, "SCRAM-SHA-1"):
		h = sha1.New
	case strings.HasPrefix(mech, "SCRAM-SHA-256"):
		h = sha256.New
	case strings.HasPrefix(mech, "SCRAM-SHA-512"):
		h = sha512.New
	default:
		panic("newClient: not a SCRAM mechanism: " + mech)
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return &scramClient{
		newHash:  h,
		username: username,
		password: password,
		flag:     "n",
		nonce:    base64.RawURLEncoding.EncodeToString(nonce),
	}
}

func escapeName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// first returns client-first-message.
func (c *scramClient) first() []byte {
	c.gs2Header = c.flag + ","
	if c.authzid != "" {
		c.gs2Header += "a=" + escapeName(c.authzid)
	}
	c.gs2Header += ","
	c.clientFirstBare = "n=" + escapeName(c.username) + ",r=" + c.nonce
	return []byte(c.gs2Header + c.clientFirstBare)
}

// final checks server-first-message and returns client-final-message.
func (c *scramClient) final(serverFirst []byte) ([]byte, error) {
	attrs := map[string]string{}
	for field := range strings.SplitSeq(string(serverFirst), ",") {
		name, value, ok := strings.Cut(field, "=")
		if !ok {
			return nil, fmt.Errorf("server-first %q: field without '='", serverFirst)
		}
		attrs[name] = value
	}
	nonce := attrs["r"]
	if !strings.HasPrefix(nonce, c.nonce) || len(nonce) == len(c.nonce) {
		return nil, fmt.Errorf("server-first %q: nonce does not extend client nonce %q", serverFirst, c.nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(attrs["s"])
	if err != nil {
		return nil, fmt.Errorf("server-first %q: salt: %v", serverFirst, err)
	}
	iterations, err := strconv.Atoi(attrs["i"])
	if err != nil {
		return nil, fmt.Errorf("server-first %q: iterations: %v", serverFirst, err)
	}
	salted := c.salted
	if salted == nil {
		password, err := precis.OpaqueString.String(c.password)
		if err != nil {
			return nil, err
		}
		size := c.newHash().Size()
		if salted, err = pbkdf2.Key(c.newHash, password, salt, iterations, size); err != nil {
			return nil, err
		}
	}
	header := c.gs2Header
	if c.cbHeader != "" {
		header = c.cbHeader
	}
	cb := base64.StdEncoding.EncodeToString(append([]byte(header), c.cbData...))
	if c.finalNonce != "" {
		nonce = c.finalNonce
	}
	withoutProof := "c=" + cb + ",r=" + nonce
	authMessage := []byte(c.clientFirstBare + "," + string(serverFirst) + "," + withoutProof)

	clientKey := c.mac(salted, []byte("Client Key"))
	storedKey := c.newHash()
	storedKey.Write(clientKey)
	signature := c.mac(storedKey.Sum(nil), authMessage)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ signature[i]
	}
	c.serverSignature = c.mac(c.mac(salted, []byte("Server Key")), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks server-final-message.
func (c *scramClient) verify(serverFinal []byte) error {
	want := "v=" + base64.StdEncoding.EncodeToString(c.serverSignature)
	if string(serverFinal) != want {
		return fmt.Errorf("server-final %q, want %q", serverFinal, want)
	}
	return nil
}

func (c *scramClient) mac(key, data []byte) []byte {
	m := hmac.New(c.newHash, key)
	m.Write(data)
	return m.Sum(nil)
}

// errServerSignature marks a server signature the client rejected.
var errServerSignature = errors.New("server signature rejected")

// runSCRAM drives a whole exchange between c and a server with cfg and
// returns the exchange and the server's error. A server-final message that
// c cannot verify yields errServerSignature.
func runSCRAM(t testing.TB, cfg Config, mech string, c *scramClient) (*Exchange, error) {
	t.Helper()
	ex, err := Start(context.Background(), mech, cfg)
	if err != nil {
		return nil, err
	}
	serverFirst, done, err := ex.Step(c.first())
	if err != nil {
		return ex, err
	}
	if done {
		t.Fatalf("%s: exchange done after client-first", mech)
	}
	final, err := c.final(serverFirst)
	if err != nil {
		t.Fatalf("%s: client: %v", mech, err)
	}
	serverFinal, done, err := ex.Step(final)
	if err != nil {
		return ex, err
	}
	if !done {
		t.Fatalf("%s: exchange not done after client-final", mech)
	}
	if err := c.verify(serverFinal); err != nil {
		return ex, fmt.Errorf("%w: %v", errServerSignature, err)
	}
	return ex, nil
}

// wantCondition fails t unless err is a *Failure with the given condition;
// condition "" means err must be nil.
func wantCondition(t testing.TB, err error, condition string) {
	t.Helper()
	if condition == "" {
		if err != nil {
			t.Fatalf("error %v, want success", err)
		}
		return
	}
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v (%T), want *Failure %s", err, err, condition)
	}
	if f.Condition != condition {
		t.Fatalf("condition %q (%v), want %q", f.Condition, err, condition)
	}
}

// testPassword is the password of every test account.
const testPassword = "pencil"

// testKeys returns verifiers for testPassword, derived once.
var testKeys = sync.OnceValue(func() []storage.ScramKey {
	keys, err := NewKeys(testPassword, DefaultIterations, Hashes())
	if err != nil {
		panic(err)
	}
	return keys
})

// accounts is a Lookup over a map, recording the names it was called with.
type accounts struct {
	mu    sync.Mutex
	keys  map[string][]storage.ScramKey
	names []string
}

func newAccounts(names ...string) *accounts {
	a := &accounts{keys: map[string][]storage.ScramKey{}}
	for _, n := range names {
		a.keys[n] = testKeys()
	}
	return a
}

func (a *accounts) lookup(_ context.Context, username string) ([]storage.ScramKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.names = append(a.names, username)
	keys, ok := a.keys[username]
	if !ok {
		return nil, fmt.Errorf("account %q: %w", username, storage.ErrNotFound)
	}
	return keys, nil
}

// testConfig returns a Config for domain example.com with the account
// "alice" and the given TLS state and server certificate.
func testConfig(cs *tls.ConnectionState, cert *x509.Certificate) Config {
	return Config{
		TLS:               cs,
		ServerCertificate: cert,
		Lookup:            newAccounts("alice").lookup,
		Domain:            "example.com",
	}
}

// tlsSide is one end of a completed TLS handshake.
type tlsSide struct {
	server, client tls.ConnectionState
	cert           *x509.Certificate
}

// newCertificate returns a self-signed ECDSA P-256 certificate for
// localhost, signed with ECDSA-SHA256.
func newCertificate(t testing.TB) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert
}

// newTLS performs a TLS handshake of the given version over net.Pipe with
// a fresh self-signed certificate, verified by the client, and returns the
// state of both ends.
func newTLS(t testing.TB, version uint16) tlsSide {
	t.Helper()
	pair, cert := newCertificate(t)
	roots := x509.NewCertPool()
	roots.AddCert(cert)

	serverConn, clientConn := net.Pipe()
	t.Cleanup(func() {
		serverConn.Close()
		clientConn.Close()
	})
	server := tls.Server(serverConn, &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   version,
		MaxVersion:   version,
	})
	client := tls.Client(clientConn, &tls.Config{
		RootCAs:    roots,
		ServerName: "localhost",
		MinVersion: version,
		MaxVersion: version,
	})

	serverErr := make(chan error, 1)
	go func() { serverErr <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-serverErr; err != nil {
		t.Fatalf("server handshake: %v", err)
	}

	side := tlsSide{server: server.ConnectionState(), client: client.ConnectionState(), cert: cert}
	if side.server.Version != version {
		t.Fatalf("negotiated TLS version %#x, want %#x", side.server.Version, version)
	}
	return side
}

// exporter returns the client's tls-exporter binding data.
func (s tlsSide) exporter(t testing.TB) []byte {
	t.Helper()
	data, err := s.client.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// endPoint returns the client's tls-server-end-point binding data for the
// ECDSA-SHA256 certificate of newCertificate.
func (s tlsSide) endPoint() []byte {
	sum := sha256.Sum256(s.client.PeerCertificates[0].Raw)
	return sum[:]
}

func TestTLSSidesAgree(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		s := newTLS(t, v)
		got, ok := bindingData(Config{TLS: &s.server, ServerCertificate: s.cert}, TLSExporter)
		if !ok || !bytes.Equal(got, s.exporter(t)) {
			t.Errorf("TLS %#x: server tls-exporter %x (ok=%v), client %x", v, got, ok, s.exporter(t))
		}
		got, ok = bindingData(Config{TLS: &s.server, ServerCertificate: s.cert}, TLSServerEndPoint)
		if !ok || !bytes.Equal(got, s.endPoint()) {
			t.Errorf("TLS %#x: server tls-server-end-point %x (ok=%v), client %x", v, got, ok, s.endPoint())
		}
	}
}
