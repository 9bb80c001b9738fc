package s2s_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/stream"
)

// Namespaces the tests write by hand.
const (
	nsTLS  = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL = "urn:ietf:params:xml:ns:xmpp-sasl"
)

// peer is a remote server played by a test, at either end of an s2s
// stream: it writes raw XML and reads what Tern sends.
type peer struct {
	t        *testing.T
	conn     net.Conn
	br       *bufio.Reader
	rd       *stream.Reader
	header   stream.Header // Tern's last stream header
	features *stanza.Element
}

func newPeer(t *testing.T, conn net.Conn) *peer {
	p := &peer{t: t, conn: conn}
	p.br = bufio.NewReader(conn)
	p.rd = stream.NewReader(p.br, stream.Limits{MaxSize: 1 << 20, MaxDepth: 100})
	t.Cleanup(func() { p.conn.Close() })
	return p
}

// dialPeer connects to an s2s listener.
func dialPeer(t *testing.T, addr string) *peer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, xmpptest.Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return newPeer(t, conn)
}

func (p *peer) send(format string, args ...any) {
	p.t.Helper()
	p.conn.SetWriteDeadline(time.Now().Add(xmpptest.Timeout))
	if _, err := fmt.Fprintf(p.conn, format, args...); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// sendHeader writes a jabber:server stream header declaring dialback.
func (p *peer) sendHeader(from, to, id string) {
	p.t.Helper()
	p.conn.SetWriteDeadline(time.Now().Add(xmpptest.Timeout))
	h := stream.Header{NS: stanza.NSServer, From: from, To: to, ID: id, Version: "1.0", Dialback: true}
	if _, err := p.conn.Write(stream.AppendOpen(nil, h)); err != nil {
		p.t.Fatalf("send header: %v", err)
	}
}

// open sends a header and reads Tern's header and features.
func (p *peer) open(from, to string) {
	p.t.Helper()
	p.sendHeader(from, to, "")
	p.readOpen()
}

// readHeader reads Tern's stream header.
func (p *peer) readHeader() stream.Header {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(xmpptest.Timeout))
	h, err := p.rd.ReadHeader()
	if err != nil {
		p.t.Fatalf("read stream header: %v", err)
	}
	p.header = h
	return h
}

// readOpen reads Tern's stream header and features.
func (p *peer) readOpen() {
	p.t.Helper()
	p.readHeader()
	el := p.next()
	if el.Space != stream.NS || el.Name != "features" {
		p.t.Fatalf("got %s, want stream features", el)
	}
	f, err := el.Payload()
	if err != nil {
		p.t.Fatalf("parse features: %v", err)
	}
	p.features = f
}

// read returns the next top-level element or the read error.
func (p *peer) read() (*stanza.Stanza, error) {
	p.conn.SetReadDeadline(time.Now().Add(xmpptest.Timeout))
	return p.rd.Next()
}

func (p *peer) next() *stanza.Stanza {
	p.t.Helper()
	el, err := p.read()
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	return el
}

// expect reads elements until one has the given namespace and name.
func (p *peer) expect(space, name string) *stanza.Stanza {
	p.t.Helper()
	for {
		el := p.next()
		if el.Space == space && el.Name == name {
			return el
		}
	}
}

// expectStreamError reads the next element and checks that it is a
// stream error with condition cond, followed by the end of the stream.
func (p *peer) expectStreamError(cond string) {
	p.t.Helper()
	el := p.next()
	if !xmpptest.IsStreamError(el) {
		p.t.Fatalf("got %s, want stream error %s", el, cond)
	}
	if got := xmpptest.StreamErrorCondition(el); got != cond {
		p.t.Fatalf("stream error = %s, want %s", got, cond)
	}
	if _, err := p.read(); err != stream.ErrClosed {
		p.t.Errorf("after the stream error: %v, want the closing tag", err)
	}
}

// clientTLS answers <proceed/> by starting TLS as the initiating server,
// presenting cert when it is not nil.
func (p *peer) clientTLS(serverName string, cert *tls.Certificate) {
	p.t.Helper()
	cfg := &tls.Config{ServerName: serverName, InsecureSkipVerify: true}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	p.handshake(tls.Client(p.conn, cfg))
}

// serverTLS starts TLS as the receiving server.
func (p *peer) serverTLS(cfg *tls.Config) {
	p.t.Helper()
	p.handshake(tls.Server(p.conn, cfg))
}

func (p *peer) handshake(tc *tls.Conn) {
	p.t.Helper()
	tc.SetDeadline(time.Now().Add(xmpptest.Timeout))
	if err := tc.Handshake(); err != nil {
		p.t.Fatalf("TLS handshake: %v", err)
	}
	tc.SetDeadline(time.Time{})
	p.conn = tc
	p.br = bufio.NewReader(tc)
	p.rd.Reset(p.br)
}

// startTLS negotiates STARTTLS as the initiating server and reopens the
// stream.
func (p *peer) startTLS(from, to string, cert *tls.Certificate) {
	p.t.Helper()
	p.send("<starttls xmlns='%s'/>", nsTLS)
	if el := p.next(); el.Name != "proceed" {
		p.t.Fatalf("starttls: got %s, want proceed", el)
	}
	p.clientTLS(to, cert)
	p.open(from, to)
}

// selfSigned returns a new self-signed certificate for domain and a pool
// that trusts it.
func selfSigned(t *testing.T, domain string) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: domain},
		DNSNames:     []string{domain},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// listen returns a loopback listener closed when the test ends.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// accept waits for one connection on l.
func accept(t *testing.T, l net.Listener) *peer {
	t.Helper()
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("accept: %v", r.err)
		}
		return newPeer(t, r.conn)
	case <-time.After(xmpptest.Timeout):
		t.Fatal("no connection from the server")
	}
	return nil
}
