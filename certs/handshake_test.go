package certs

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
)

// serve accepts TLS connections on a loopback port with cfg, completes
// each handshake and closes the connection. It returns the address.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			// The client reports handshake failures; the server side only
			// has to take part.
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// handshake connects to addr with cfg and returns the connection state.
func handshake(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

func TestHandshakeChoosesBySNI(t *testing.T) {
	m := newManager(t, t.TempDir(), []string{"a.example", "b.example"}, nil)
	addr := serve(t, m.TLSConfig(tls.VersionTLS12))
	cases := []struct {
		serverName, want string
	}{
		{"a.example", "a.example"},
		{"b.example", "b.example"},
		{"B.Example", "b.example"},
		{"muc.b.example", "b.example"},
		{"x.muc.b.example", "a.example"},
		{"unknown.test", "a.example"},
		{"", "a.example"}, // no SNI: crypto/tls sends none for an empty name
	}
	for _, tc := range cases {
		state, err := handshake(addr, &tls.Config{ServerName: tc.serverName, InsecureSkipVerify: true})
		if err != nil {
			t.Errorf("server name %q: %v", tc.serverName, err)
			continue
		}
		if got := state.PeerCertificates[0].Subject.CommonName; got != tc.want {
			t.Errorf("server name %q got the certificate of %s, want %s", tc.serverName, got, tc.want)
		}
	}
}

func TestHandshakeVerifiesWithGeneratedRoot(t *testing.T) {
	m := newManager(t, t.TempDir(), []string{"a.example"}, nil)
	addr := serve(t, m.TLSConfig(tls.VersionTLS12))
	roots := newPool(m.Certificate("a.example").Leaf)
	for _, name := range []string{"a.example", "upload.a.example"} {
		if _, err := handshake(addr, &tls.Config{ServerName: name, RootCAs: roots}); err != nil {
			t.Errorf("verified handshake for %s: %v", name, err)
		}
	}
}

func TestHandshakeMinVersion(t *testing.T) {
	m := newManager(t, t.TempDir(), []string{"a.example"}, nil)
	cases := []struct {
		name        string
		serverMin   uint16
		clientMin   uint16
		clientMax   uint16
		wantFail    bool
		wantVersion uint16
	}{
		{"TLS 1.1 client", tls.VersionTLS12, tls.VersionTLS10, tls.VersionTLS11, true, 0},
		{"TLS 1.2 client", tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS12, false, tls.VersionTLS12},
		{"TLS 1.3 client", tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS13, false, tls.VersionTLS13},
		{"1.3 only, TLS 1.2 client", tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS12, true, 0},
		{"1.3 only, TLS 1.3 client", tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS13, false, tls.VersionTLS13},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, m.TLSConfig(tc.serverMin))
			state, err := handshake(addr, &tls.Config{
				ServerName: "a.example", InsecureSkipVerify: true,
				MinVersion: tc.clientMin, MaxVersion: tc.clientMax,
			})
			if tc.wantFail {
				if err == nil {
					t.Fatalf("handshake succeeded with version %x", state.Version)
				}
				// The server rejects the version with a protocol_version alert.
				if !strings.Contains(err.Error(), "protocol version not supported") {
					t.Errorf("handshake failed for another reason: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if state.Version != tc.wantVersion {
				t.Errorf("version = %x, want %x", state.Version, tc.wantVersion)
			}
		})
	}
}

func TestHandshakeALPN(t *testing.T) {
	m := newManager(t, t.TempDir(), []string{"a.example"}, nil)
	addr := serve(t, m.TLSConfig(tls.VersionTLS12))
	cases := []struct {
		offer []string
		want  string
	}{
		{[]string{"xmpp-client"}, "xmpp-client"},
		{[]string{"xmpp-server"}, "xmpp-server"},
		{nil, ""},
	}
	for _, tc := range cases {
		state, err := handshake(addr, &tls.Config{ServerName: "a.example", InsecureSkipVerify: true, NextProtos: tc.offer})
		if err != nil {
			t.Errorf("ALPN %v: %v", tc.offer, err)
			continue
		}
		if state.NegotiatedProtocol != tc.want {
			t.Errorf("ALPN %v negotiated %q, want %q", tc.offer, state.NegotiatedProtocol, tc.want)
		}
	}
}

func TestTLSConfigIsNewEachCall(t *testing.T) {
	m := newManager(t, t.TempDir(), []string{"a.example"}, nil)
	a := m.TLSConfig(tls.VersionTLS12)
	a.NextProtos[0] = "h2"
	if b := m.TLSConfig(tls.VersionTLS12); b.NextProtos[0] != ALPNClient {
		t.Errorf("TLSConfig shares NextProtos between calls: %v", b.NextProtos)
	}
}

func newPool(certs ...*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}
