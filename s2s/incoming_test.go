package s2s_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"tern/config"
	"tern/internal/xmpptest"
	"tern/stream"
)

func startServer(t *testing.T, domains ...string) *xmpptest.Server {
	t.Helper()
	return xmpptest.Start(t, func(cfg *config.Config) { cfg.Server.Domains = domains })
}

func TestPreTLSFeaturesOnlyRequiredStartTLS(t *testing.T) {
	s := startServer(t, "a.test")
	p := dialPeer(t, s.Addr("s2s"))
	p.open("x.test", "a.test")
	els := p.features.Elements()
	if len(els) != 1 {
		t.Fatalf("features = %s, want only starttls", p.features)
	}
	if els[0].Name.Space != nsTLS || els[0].Name.Local != "starttls" {
		t.Fatalf("feature = %s, want starttls", els[0])
	}
	if els[0].Child(nsTLS, "required") == nil {
		t.Errorf("starttls = %s, want <required/>", els[0])
	}
	if !p.header.Dialback {
		t.Errorf("stream header does not declare the dialback namespace")
	}
	if p.header.ID == "" {
		t.Errorf("stream header has no id")
	}
}

func TestPreTLSElementsRejected(t *testing.T) {
	tests := []struct {
		name string
		send string
		// reply is the local name of the element sent in reply, in
		// namespace replyNS, with child condition; an empty reply means a
		// stream error with condition.
		reply, replyNS, condition string
	}{
		{"compress", "<compress xmlns='http://jabber.org/protocol/compress'><method>zlib</method></compress>",
			"failure", "http://jabber.org/protocol/compress", "setup-failed"},
		{"sasl auth", "<auth xmlns='" + nsSASL + "' mechanism='EXTERNAL'>=</auth>",
			"failure", nsSASL, "encryption-required"},
		{"message", "<message from='u@x.test' to='v@a.test'><body>hi</body></message>",
			"", "", "not-authorized"},
		{"dialback", "<db:result from='x.test' to='a.test'>abcd</db:result>",
			"", "", "not-authorized"},
	}
	s := startServer(t, "a.test")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialPeer(t, s.Addr("s2s"))
			p.open("x.test", "a.test")
			p.send("%s", tt.send)
			if tt.reply == "" {
				p.expectStreamError(tt.condition)
				return
			}
			el := p.next()
			if el.Space != tt.replyNS || el.Name != tt.reply {
				t.Fatalf("got %s, want %s in %s", el, tt.reply, tt.replyNS)
			}
			payload, _ := el.Payload()
			if payload.Child(tt.replyNS, tt.condition) == nil {
				t.Errorf("got %s, want condition %s", el, tt.condition)
			}
		})
	}
}

func TestHeaderUnknownDomain(t *testing.T) {
	s := startServer(t, "a.test")
	p := dialPeer(t, s.Addr("s2s"))
	p.sendHeader("x.test", "elsewhere.test", "")
	h := p.readHeader()
	if h.From == "elsewhere.test" {
		t.Errorf("header from = %q; the server claims a domain it does not serve", h.From)
	}
	p.expectStreamError("host-unknown")
}

func TestHeaderSecondDomain(t *testing.T) {
	s := startServer(t, "a.test", "c.test")
	for _, domain := range []string{"a.test", "c.test"} {
		p := dialPeer(t, s.Addr("s2s"))
		p.open("x.test", domain)
		if p.header.From != domain {
			t.Errorf("header from = %q, want %q", p.header.From, domain)
		}
		if p.header.To != "x.test" {
			t.Errorf("header to = %q, want x.test", p.header.To)
		}
	}
}

func TestHeaderWrongNamespace(t *testing.T) {
	s := startServer(t, "a.test")
	p := dialPeer(t, s.Addr("s2s"))
	p.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='%s' to='a.test' version='1.0'>", stream.NS)
	if h := p.readHeader(); h.From != "a.test" {
		t.Errorf("header from = %q, want a.test", h.From)
	}
	p.expectStreamError("invalid-namespace")
}

// externalPeer returns a peer authenticated as domain with SASL EXTERNAL,
// its certificate trusted by s.
func externalPeer(t *testing.T, s *xmpptest.Server, domain, local string) *peer {
	t.Helper()
	cert, pool := selfSigned(t, domain)
	s.S2S().TrustRoots(pool)
	p := dialPeer(t, s.Addr("s2s"))
	p.open(domain, local)
	p.startTLS(domain, local, cert)
	mechs := p.features.Child(nsSASL, "mechanisms")
	if mechs == nil || mechs.Child(nsSASL, "mechanism").Text() != "EXTERNAL" {
		t.Fatalf("features after TLS = %s, want SASL EXTERNAL", p.features)
	}
	p.send("<auth xmlns='%s' mechanism='EXTERNAL'>%s</auth>", nsSASL, base64.StdEncoding.EncodeToString([]byte(domain)))
	if el := p.next(); el.Name != "success" {
		t.Fatalf("auth: got %s, want success", el)
	}
	p.open(domain, local)
	return p
}

func TestExternalRoutesStanzas(t *testing.T) {
	s := startServer(t, "a.test")
	s.AddUser("juliet", "secret2")
	juliet := s.Login("juliet", "secret2", "balcony")
	p := externalPeer(t, s, "x.test", "a.test")
	p.send("<message from='romeo@x.test/orchard' to='juliet@a.test' type='chat'><body>over EXTERNAL</body></message>")
	m := juliet.Expect(xmpptest.IsMessage("over EXTERNAL"))
	if got := m.From.String(); got != "romeo@x.test/orchard" {
		t.Errorf("from = %q, want romeo@x.test/orchard", got)
	}
}

func TestExternalUntrustedCertificate(t *testing.T) {
	s := startServer(t, "a.test")
	cert, _ := selfSigned(t, "x.test")
	p := dialPeer(t, s.Addr("s2s"))
	p.open("x.test", "a.test")
	p.startTLS("x.test", "a.test", cert)
	if p.features.Child(nsSASL, "mechanisms") != nil {
		t.Errorf("features = %s; EXTERNAL offered for an untrusted certificate", p.features)
	}
	if p.features.Child("urn:xmpp:features:dialback", "dialback") == nil {
		t.Errorf("features = %s, want dialback", p.features)
	}
	p.send("<auth xmlns='%s' mechanism='EXTERNAL'>=</auth>", nsSASL)
	el := p.next()
	payload, _ := el.Payload()
	if el.Name != "failure" || payload.Child(nsSASL, "not-authorized") == nil {
		t.Errorf("auth: got %s, want failure with not-authorized", el)
	}
}

func TestStanzaAddressing(t *testing.T) {
	tests := []struct {
		name, stanza, condition string
	}{
		{"from an unauthenticated domain", "<message from='u@y.test' to='v@a.test'><body>x</body></message>", "invalid-from"},
		{"from a malformed address", "<message from='u@@x.test' to='v@a.test'><body>x</body></message>", "invalid-from"},
		{"to a domain not served", "<message from='u@x.test' to='v@elsewhere.test'><body>x</body></message>", "host-unknown"},
		{"without from", "<message to='v@a.test'><body>x</body></message>", "improper-addressing"},
		{"not a stanza", "<thing xmlns='jabber:server'/>", "unsupported-stanza-type"},
	}
	s := startServer(t, "a.test")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := externalPeer(t, s, "x.test", "a.test")
			p.send("%s", tt.stanza)
			p.expectStreamError(tt.condition)
		})
	}
}

func TestStanzaBeforeAuthentication(t *testing.T) {
	s := startServer(t, "a.test")
	p := dialPeer(t, s.Addr("s2s"))
	p.open("x.test", "a.test")
	p.startTLS("x.test", "a.test", nil)
	p.send("<message from='u@x.test' to='v@a.test'><body>x</body></message>")
	p.expectStreamError("not-authorized")
}

func TestShutdownEndsIncomingStreams(t *testing.T) {
	s := startServer(t, "a.test")
	p := externalPeer(t, s, "x.test", "a.test")
	s.Stop()
	p.expectStreamError("system-shutdown")
}

func TestDirectTLSListener(t *testing.T) {
	s := xmpptest.Start(t, func(cfg *config.Config) {
		cfg.Server.Domains = []string{"a.test"}
		cfg.S2S.DirectTLSListen = []string{"127.0.0.1:0"}
	})
	p := dialPeer(t, s.Addr("s2s-tls"))
	p.clientTLS("a.test", nil)
	p.open("x.test", "a.test")
	if p.features.Child(nsTLS, "starttls") != nil {
		t.Errorf("features = %s; STARTTLS offered on a TLS stream", p.features)
	}
	if p.features.Child("urn:xmpp:features:dialback", "dialback") == nil {
		t.Errorf("features = %s, want dialback", p.features)
	}
}

func TestStanzaSizeLimits(t *testing.T) {
	s := startServer(t, "a.test")
	s.AddUser("juliet", "secret2")
	juliet := s.Login("juliet", "secret2", "balcony")
	cfg := s.Config().C2S
	body := func(n int) string { return strings.Repeat("x", n) }

	// Before authentication, the smaller limit applies.
	p := dialPeer(t, s.Addr("s2s"))
	p.open("x.test", "a.test")
	p.send("<message from='u@x.test' to='juliet@a.test'><body>%s</body></message>", body(int(cfg.MaxStanzaSizeBeforeAuth)))
	p.expectStreamError("policy-violation")

	// After authentication, a stanza over that limit but under the
	// larger one is routed.
	p = externalPeer(t, s, "x.test", "a.test")
	p.send("<message from='u@x.test' to='juliet@a.test'><body>big %s</body></message>", body(int(cfg.MaxStanzaSizeBeforeAuth)))
	juliet.Expect(xmpptest.IsMessage("big xxx"))
	p.send("<message from='u@x.test' to='juliet@a.test'><body>%s</body></message>", body(int(cfg.MaxStanzaSize)))
	p.expectStreamError("policy-violation")
}
