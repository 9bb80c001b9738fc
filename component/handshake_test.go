package component_test

import (
	"strings"
	"testing"
	"time"

	"tern/component/componenttest"
	"tern/config"
	"tern/stream"
)

func TestHandshake(t *testing.T) {
	ts := startServer(t)
	cases := []struct {
		name     string
		domain   string
		secret   string
		wantCond string // stream error condition; "" for success
	}{
		{"success", echoDomain, echoSecret, ""},
		{"second domain", otherDomain, otherSecret, ""},
		{"domain case folded", "Echo.LocalHost", echoSecret, ""},
		{"wrong secret", echoDomain, "wrong", "not-authorized"},
		{"other domain's secret", echoDomain, otherSecret, "not-authorized"},
		{"empty secret", echoDomain, "", "not-authorized"},
		{"unknown domain", "nope.localhost", echoSecret, "host-unknown"},
		{"server domain", "localhost", echoSecret, "host-unknown"},
		{"subdomain", "a." + echoDomain, echoSecret, "host-unknown"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := componenttest.Dial(t, ts.addr)
			if err := c.Open(tc.domain); err != nil {
				t.Fatalf("case %d: open: %v", i, err)
			}
			if c.Header.ID == "" {
				t.Errorf("case %d: server header has no id", i)
			}
			err := c.Handshake(tc.secret)
			if tc.wantCond == "" {
				if err != nil {
					t.Fatalf("case %d: handshake: %v", i, err)
				}
				if want := strings.ToLower(tc.domain); c.Header.From != want {
					t.Errorf("case %d: header from = %q, want %q", i, c.Header.From, want)
				}
				c.Send("</stream:stream>")
				c.ExpectClosed()
				return
			}
			se := stream.AsError(err)
			if se == nil || se.Condition != tc.wantCond {
				t.Fatalf("case %d: handshake error = %v, want %s", i, err, tc.wantCond)
			}
			c.ExpectClosed()
		})
	}
}

func TestHandshakeUppercaseDigest(t *testing.T) {
	ts := startServer(t)
	c := componenttest.Dial(t, ts.addr)
	if err := c.Open(echoDomain); err != nil {
		t.Fatalf("open: %v", err)
	}
	c.Sendf("<handshake>%s</handshake>", strings.ToUpper(componenttest.Digest(c.Header.ID, echoSecret)))
	el, err := c.Read()
	if err != nil {
		t.Fatalf("handshake reply: %v", err)
	}
	if el.Name != "handshake" {
		t.Errorf("reply = %s, want <handshake/>", el)
	}
}

func TestHandshakeNewStreamIDs(t *testing.T) {
	ts := startServer(t)
	a := componenttest.Dial(t, ts.addr)
	b := componenttest.Dial(t, ts.addr)
	for _, c := range []*componenttest.Client{a, b} {
		if err := c.Open(echoDomain); err != nil {
			t.Fatalf("open: %v", err)
		}
	}
	if a.Header.ID == b.Header.ID {
		t.Errorf("two streams got the same id %q", a.Header.ID)
	}
}

func TestHeaderRules(t *testing.T) {
	ts := startServer(t)
	const streamNS = "xmlns:stream='http://etherx.jabber.org/streams'"
	cases := []struct {
		name   string
		header string
		want   string
	}{
		{"client namespace", "<stream:stream xmlns='jabber:client' " + streamNS + " to='echo.localhost'>", "invalid-namespace"},
		{"server namespace", "<stream:stream xmlns='jabber:server' " + streamNS + " to='echo.localhost'>", "invalid-namespace"},
		{"wrong stream namespace", "<stream:stream xmlns='jabber:component:accept' xmlns:stream='urn:example' to='echo.localhost'>", "invalid-namespace"},
		{"no to", "<stream:stream xmlns='jabber:component:accept' " + streamNS + ">", "host-unknown"},
		{"to with localpart", "<stream:stream xmlns='jabber:component:accept' " + streamNS + " to='a@echo.localhost'>", "host-unknown"},
		{"to with resource", "<stream:stream xmlns='jabber:component:accept' " + streamNS + " to='echo.localhost/r'>", "host-unknown"},
		{"comment", "<!-- hi --><stream:stream xmlns='jabber:component:accept' " + streamNS + " to='echo.localhost'>", "restricted-xml"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := componenttest.Dial(t, ts.addr)
			c.Send(tc.header)
			// The server opens its own stream before the error.
			if _, err := c.ReadHeader(); err != nil {
				t.Fatalf("case %d: server header: %v", i, err)
			}
			if got := c.ExpectStreamError(); got != tc.want {
				t.Errorf("case %d: stream error = %s, want %s", i, got, tc.want)
			}
			c.ExpectClosed()
		})
	}
}

func TestStanzaBeforeHandshake(t *testing.T) {
	ts := startServer(t)
	cases := []string{
		"<message from='a@echo.localhost' to='romeo@localhost'><body>hi</body></message>",
		"<iq type='get' id='1' from='echo.localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
		"<presence from='echo.localhost' to='romeo@localhost'/>",
		"<handshake xmlns='urn:example'>00</handshake>",
	}
	for i, xml := range cases {
		c := componenttest.Dial(t, ts.addr)
		if err := c.Open(echoDomain); err != nil {
			t.Fatalf("case %d: open: %v", i, err)
		}
		c.Send(xml)
		if got := c.ExpectStreamError(); got != "not-authorized" {
			t.Errorf("case %d: stream error = %s, want not-authorized", i, got)
		}
		select {
		case s := <-ts.router.routed:
			t.Errorf("case %d: routed %s before the handshake", i, s)
		default:
		}
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.C2S.AuthTimeout = 50 * time.Millisecond })
	c := componenttest.Dial(t, ts.addr)
	if err := c.Open(echoDomain); err != nil {
		t.Fatalf("open: %v", err)
	}
	if got := c.ExpectStreamError(); got != "connection-timeout" {
		t.Errorf("stream error = %s, want connection-timeout", got)
	}
	c.ExpectClosed()
}

func TestSecondHandshakeRejected(t *testing.T) {
	ts := startServer(t)
	c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	c.Sendf("<handshake>%s</handshake>", componenttest.Digest(c.Header.ID, echoSecret))
	if got := c.ExpectStreamError(); got != "unsupported-stanza-type" {
		t.Errorf("stream error = %s, want unsupported-stanza-type", got)
	}
}

func TestConflictKeepsFirst(t *testing.T) {
	ts := startServer(t)
	first := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)

	second := componenttest.Dial(t, ts.addr)
	if err := second.Open(echoDomain); err != nil {
		t.Fatalf("open: %v", err)
	}
	err := second.Handshake(echoSecret)
	if se := stream.AsError(err); se == nil || se.Condition != "conflict" {
		t.Fatalf("second handshake error = %v, want conflict", err)
	}
	second.ExpectClosed()

	if err := sendTo(t, ts, echoDomain, "room@echo.localhost", "still here"); err != nil {
		t.Fatalf("send to first component: %v", err)
	}
	first.Expect(hasBody("still here"))
}
