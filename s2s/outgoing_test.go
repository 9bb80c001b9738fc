package s2s_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/stream"
)

const (
	nsDialback        = "jabber:server:dialback"
	nsDialbackFeature = "urn:xmpp:features:dialback"
)

// acceptOutgoing plays the receiving server for a stream that Tern opens
// from local to remote, up to the point where Tern authenticates: it
// checks Tern's stream headers, accepts STARTTLS, and offers dialback. It
// returns the peer, the server name of Tern's TLS ClientHello and the id
// of the stream after TLS.
func acceptOutgoing(t *testing.T, l net.Listener, local, remote string) (p *peer, sni, id string) {
	t.Helper()
	p = accept(t, l)
	checkOutgoingHeader(t, p.readHeader(), local, remote)
	p.sendHeader(remote, local, "before-tls")
	p.send("<stream:features><starttls xmlns='%s'><required/></starttls></stream:features>", nsTLS)
	p.expect(nsTLS, "starttls")
	p.send("<proceed xmlns='%s'/>", nsTLS)
	cert, _ := selfSigned(t, remote)
	p.serverTLS(&tls.Config{
		Certificates: []tls.Certificate{*cert},
		ClientAuth:   tls.RequestClientCert,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			sni = hello.ServerName
			return nil, nil
		},
	})
	checkOutgoingHeader(t, p.readHeader(), local, remote)
	id = "after-tls-" + remote
	p.sendHeader(remote, local, id)
	p.send("<stream:features><dialback xmlns='%s'><errors/></dialback></stream:features>", nsDialbackFeature)
	return p, sni, id
}

func checkOutgoingHeader(t *testing.T, h stream.Header, local, remote string) {
	t.Helper()
	if h.NS != stanza.NSServer || h.From != local || h.To != remote || !h.Dialback {
		t.Fatalf("header = %+v, want jabber:server from %s to %s declaring dialback", h, local, remote)
	}
}

// expectDialbackResult reads Tern's dialback request and returns its key.
func expectDialbackResult(t *testing.T, p *peer, local, remote string) string {
	t.Helper()
	el := p.expect(nsDialback, "result")
	if el.RawFrom != local || el.RawTo != remote || el.Type != "" {
		t.Fatalf("dialback request = %s, want from %s to %s without type", el, local, remote)
	}
	p2, _ := el.Payload()
	if p2.Text() == "" {
		t.Fatalf("dialback request %s has no key", el)
	}
	return p2.Text()
}

func TestOutgoingSNIAndDialback(t *testing.T) {
	s := startServer(t, "a.test")
	l := listen(t)
	s.S2S().SetAddr("remote.test", l.Addr().String())
	s.AddUser("romeo", "secret1")
	romeo := s.Login("romeo", "secret1", "orchard")
	romeo.Send("<message to='juliet@remote.test' type='chat' id='o1'><body>queued</body></message>")

	p, sni, id := acceptOutgoing(t, l, "a.test", "remote.test")
	if sni != "remote.test" {
		t.Errorf("TLS server name = %q, want remote.test", sni)
	}
	key := expectDialbackResult(t, p, "a.test", "remote.test")

	// As the receiving server, check the key with Tern, the authoritative
	// server of a.test.
	v := dialPeer(t, s.Addr("s2s"))
	v.open("remote.test", "a.test")
	v.startTLS("remote.test", "a.test", nil)
	checks := []struct{ id, key, want string }{
		{id, key + "0", "invalid"},
		{"other-id", key, "invalid"},
		{id, key, "valid"},
	}
	for _, c := range checks {
		v.send("<db:verify from='remote.test' to='a.test' id='%s'>%s</db:verify>", c.id, c.key)
		el := v.expect(nsDialback, "verify")
		if el.Type != c.want || el.ID != c.id || el.RawFrom != "a.test" || el.RawTo != "remote.test" {
			t.Errorf("verify id %s: got %s, want type %s from a.test to remote.test", c.id, el, c.want)
		}
	}

	p.send("<db:result from='remote.test' to='a.test' type='valid'/>")
	m := p.expect(stanza.NSServer, "message")
	if m.RawFrom != "romeo@a.test/orchard" || m.RawTo != "juliet@remote.test" || m.ID != "o1" {
		t.Errorf("message = %s, want o1 from romeo@a.test/orchard to juliet@remote.test", m)
	}

	// Stopping the server ends both kinds of stream with system-shutdown.
	s.Stop()
	p.expectStreamError("system-shutdown")
	v.expectStreamError("system-shutdown")
}

func TestOutgoingDialbackRejected(t *testing.T) {
	s := startServer(t, "a.test")
	l := listen(t)
	s.S2S().SetAddr("remote.test", l.Addr().String())
	s.AddUser("romeo", "secret1")
	romeo := s.Login("romeo", "secret1", "orchard")
	romeo.Send("<message to='juliet@remote.test' type='chat' id='r1'><body>rejected</body></message>")

	p, _, _ := acceptOutgoing(t, l, "a.test", "remote.test")
	expectDialbackResult(t, p, "a.test", "remote.test")
	p.send("<db:result from='remote.test' to='a.test' type='invalid'/>")
	e := romeo.Expect(func(s *stanza.Stanza) bool { return s.Name == stanza.Message && s.ID == "r1" })
	if e.Type != "error" || xmpptest.ErrorCondition(e) != "remote-server-timeout" {
		t.Errorf("reply = %s, want a remote-server-timeout error", e)
	}
}

func TestOutgoingIdleClose(t *testing.T) {
	s := startServer(t, "a.test")
	s.S2S().SetIdleTimeout(200 * time.Millisecond)
	l := listen(t)
	s.S2S().SetAddr("remote.test", l.Addr().String())
	s.AddUser("romeo", "secret1")
	romeo := s.Login("romeo", "secret1", "orchard")
	romeo.Send("<message to='juliet@remote.test' type='chat' id='i1'><body>then idle</body></message>")

	p, _, _ := acceptOutgoing(t, l, "a.test", "remote.test")
	expectDialbackResult(t, p, "a.test", "remote.test")
	p.send("<db:result from='remote.test' to='a.test' type='valid'/>")
	p.expect(stanza.NSServer, "message")
	if _, err := p.read(); err != stream.ErrClosed {
		t.Fatalf("idle stream: read %v, want the closing tag", err)
	}
}

func TestIncomingDialback(t *testing.T) {
	for _, verdict := range []string{"valid", "invalid"} {
		t.Run(verdict, func(t *testing.T) {
			s := startServer(t, "a.test")
			s.AddUser("juliet", "secret2")
			juliet := s.Login("juliet", "secret2", "balcony")
			authoritative := listen(t)
			s.S2S().SetAddr("fake.test", authoritative.Addr().String())

			p := dialPeer(t, s.Addr("s2s"))
			p.open("fake.test", "a.test")
			p.startTLS("fake.test", "a.test", nil)
			streamID := p.header.ID
			p.send("<db:result from='fake.test' to='a.test'>k123</db:result>")

			v, _, _ := acceptOutgoing(t, authoritative, "a.test", "fake.test")
			req := v.expect(nsDialback, "verify")
			reqPayload, _ := req.Payload()
			if req.RawFrom != "a.test" || req.RawTo != "fake.test" || req.ID != streamID || reqPayload.Text() != "k123" {
				t.Fatalf("verify request = %s, want from a.test to fake.test id %s key k123", req, streamID)
			}
			v.send("<db:verify from='fake.test' to='a.test' id='%s' type='%s'/>", streamID, verdict)

			res := p.expect(nsDialback, "result")
			if res.Type != verdict || res.RawFrom != "a.test" || res.RawTo != "fake.test" {
				t.Fatalf("dialback result = %s, want type %s from a.test to fake.test", res, verdict)
			}
			if verdict == "invalid" {
				p.send("<message from='romeo@fake.test' to='juliet@a.test'><body>by dialback</body></message>")
				p.expectStreamError("not-authorized")
				return
			}
			// Larger than the limit before authentication, so it also shows
			// that the limit grows with dialback.
			padding := strings.Repeat("x", int(s.Config().C2S.MaxStanzaSizeBeforeAuth))
			p.send("<message from='romeo@fake.test' to='juliet@a.test'><body>by dialback %s</body></message>", padding)
			juliet.Expect(xmpptest.IsMessage("by dialback"))
		})
	}
}

// TestExternalBetweenServers runs two Tern servers with dialback disabled
// that trust both of their certificates, as servers sharing a private CA
// would, so only SASL EXTERNAL can authenticate their streams. A server
// tries EXTERNAL only when its own certificate verifies under its roots.
func TestExternalBetweenServers(t *testing.T) {
	noDialback := func(domain string) func(*config.Config) {
		return func(cfg *config.Config) {
			cfg.Server.Domains = []string{domain}
			cfg.S2S.Dialback = false
		}
	}
	a := xmpptest.Start(t, noDialback("a.test"))
	b := xmpptest.Start(t, noDialback("b.test"))
	pool := certPool(t, a, "a.test")
	pool.AddCert(readCert(t, b, "b.test"))
	a.S2S().TrustRoots(pool)
	b.S2S().TrustRoots(pool)
	a.S2S().SetAddr("b.test", b.Addr("s2s"))
	b.S2S().SetAddr("a.test", a.Addr("s2s"))
	a.AddUser("romeo", "secret1")
	b.AddUser("juliet", "secret2")
	romeo := a.Login("romeo", "secret1", "orchard")
	juliet := b.Login("juliet", "secret2", "balcony")

	romeo.Send("<message to='juliet@b.test' type='chat'><body>certified</body></message>")
	juliet.Expect(xmpptest.IsMessage("certified"))
	juliet.Send("<message to='romeo@a.test' type='chat'><body>certified too</body></message>")
	romeo.Expect(xmpptest.IsMessage("certified too"))
}

// certPool returns a pool with the self-signed certificate that s created
// for domain.
func certPool(t *testing.T, s *xmpptest.Server, domain string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(readCert(t, s, domain))
	return pool
}

// readCert returns the self-signed certificate that s created for domain.
func readCert(t *testing.T, s *xmpptest.Server, domain string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(s.Config().Path("certs/" + domain + ".crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM block in the certificate of %s", domain)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestFederationDisabled(t *testing.T) {
	s := xmpptest.Start(t, func(cfg *config.Config) {
		cfg.Server.Domains = []string{"a.test"}
		cfg.S2S.Enabled = false
	})
	if addrs := s.Addrs("s2s"); len(addrs) != 0 {
		t.Errorf("s2s listeners = %v, want none", addrs)
	}
	s.AddUser("romeo", "secret1")
	romeo := s.Login("romeo", "secret1", "orchard")
	romeo.Send("<message to='juliet@remote.test' type='chat' id='d1'><body>nowhere</body></message>")
	e := romeo.Expect(func(s *stanza.Stanza) bool { return s.Name == stanza.Message && s.ID == "d1" })
	if e.Type != "error" || xmpptest.ErrorCondition(e) != "remote-server-not-found" {
		t.Errorf("reply = %s, want a remote-server-not-found error", e)
	}
}
