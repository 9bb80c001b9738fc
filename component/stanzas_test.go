package component_test

import (
	"strings"
	"testing"

	"tern/component/componenttest"
	"tern/config"
	"tern/stanza"
)

// marker is a message the test sends to the component through the router
// after the stanza under test. Because the server writes in order, seeing
// it first proves that no reply to the stanza under test was written.
const marker = "marker"

func TestStanzaRules(t *testing.T) {
	ts := startServer(t)
	cases := []struct {
		name string
		xml  string
		// Exactly one of these is set: the stanza is routed, the stream
		// ends with a stream error, the stanza gets a stanza error, or
		// nothing happens.
		routed      bool
		streamError string
		stanzaError string
		ignored     bool
	}{
		{name: "message from user", xml: "<message from='bot@echo.localhost/r' to='romeo@localhost' type='chat'><body>hi</body></message>", routed: true},
		{name: "presence from domain", xml: "<presence from='echo.localhost' to='romeo@localhost/orchard'/>", routed: true},
		{name: "iq from domain", xml: "<iq type='get' id='q1' from='echo.localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", routed: true},
		{name: "to another domain", xml: "<message from='a@echo.localhost' to='x@remote.example'/>", routed: true},
		{name: "from case folded", xml: "<message from='a@ECHO.localhost' to='romeo@localhost'/>", routed: true},
		{name: "forged from", xml: "<message from='juliet@localhost' to='romeo@localhost'/>", streamError: "invalid-from"},
		{name: "other component's from", xml: "<message from='a@other.localhost' to='romeo@localhost'/>", streamError: "invalid-from"},
		{name: "subdomain from", xml: "<message from='a@sub.echo.localhost' to='romeo@localhost'/>", streamError: "invalid-from"},
		{name: "parent domain from", xml: "<message from='localhost' to='romeo@localhost'/>", streamError: "invalid-from"},
		{name: "missing from", xml: "<message to='romeo@localhost'/>", streamError: "invalid-from"},
		{name: "malformed from", xml: "<message from='a@' to='romeo@localhost'/>", streamError: "invalid-from"},
		{name: "missing to", xml: "<message from='a@echo.localhost' id='m1'/>", stanzaError: "jid-malformed"},
		{name: "malformed to", xml: "<message from='a@echo.localhost' to='@localhost' id='m1'/>", stanzaError: "jid-malformed"},
		{name: "missing to on error", xml: "<message from='a@echo.localhost' type='error'/>", ignored: true},
		{name: "bad message type", xml: "<message from='a@echo.localhost' to='romeo@localhost' type='bogus'/>", stanzaError: "bad-request"},
		{name: "bad iq type", xml: "<iq from='a@echo.localhost' to='localhost' id='q2'/>", stanzaError: "bad-request"},
		{name: "iq without id", xml: "<iq type='get' from='a@echo.localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", stanzaError: "bad-request"},
		{name: "unknown element", xml: "<foo from='a@echo.localhost' to='localhost'/>", streamError: "unsupported-stanza-type"},
		{name: "client namespace", xml: "<message xmlns='jabber:client' from='a@echo.localhost' to='romeo@localhost'/>", streamError: "unsupported-stanza-type"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
			c.Send(tc.xml)
			switch {
			case tc.routed:
				s := ts.router.nextRouted(t)
				if !strings.EqualFold(s.From.String(), s.RawFrom) {
					t.Errorf("case %d: from = %s, raw %s", i, s.From, s.RawFrom)
				}
				if s.To.String() != s.RawTo {
					t.Errorf("case %d: to = %s, raw %s", i, s.To, s.RawTo)
				}
			case tc.streamError != "":
				if got := c.ExpectStreamError(); got != tc.streamError {
					t.Errorf("case %d: stream error = %s, want %s", i, got, tc.streamError)
				}
				c.ExpectClosed()
			case tc.stanzaError != "":
				el := c.Expect(func(*stanza.Stanza) bool { return true })
				if el.Type != "error" {
					t.Fatalf("case %d: reply = %s, want an error", i, el)
				}
				if got := stanza.ErrorOf(el).Condition; got != tc.stanzaError {
					t.Errorf("case %d: stanza error = %s, want %s", i, got, tc.stanzaError)
				}
				if el.From.String() != "localhost" {
					t.Errorf("case %d: error from = %s, want localhost", i, el.From)
				}
				if el.To.String() != "a@echo.localhost" {
					t.Errorf("case %d: error to = %s, want a@echo.localhost", i, el.To)
				}
			case tc.ignored:
				if err := sendTo(t, ts, echoDomain, "a@echo.localhost", marker); err != nil {
					t.Fatalf("case %d: send marker: %v", i, err)
				}
				if el := c.Expect(func(*stanza.Stanza) bool { return true }); !hasBody(marker)(el) {
					t.Errorf("case %d: got %s before the marker", i, el)
				}
			}
			if tc.streamError == "" {
				// Close the stream so the next case can connect for the
				// same domain.
				c.Send("</stream:stream>")
				c.ExpectClosed()
			}
			select {
			case s := <-ts.router.routed:
				t.Errorf("case %d: unexpectedly routed %s", i, s)
			default:
			}
		})
	}
}

func TestRoutedStanzaKeepsContent(t *testing.T) {
	ts := startServer(t)
	c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	c.Send("<message from='bot@echo.localhost/r' to='romeo@localhost/orchard' type='chat' id='m7'>" +
		"<body>hello &amp; welcome</body><x xmlns='urn:example'><y/></x></message>")
	s := ts.router.nextRouted(t)
	if got := s.From.String(); got != "bot@echo.localhost/r" {
		t.Errorf("from = %s", got)
	}
	if got := s.To.String(); got != "romeo@localhost/orchard" {
		t.Errorf("to = %s", got)
	}
	if s.ID != "m7" || s.Type != "chat" {
		t.Errorf("id, type = %q, %q", s.ID, s.Type)
	}
	if got := s.Child("", "body").Text(); got != "hello & welcome" {
		t.Errorf("body = %q", got)
	}
	if s.Child("urn:example", "x") == nil {
		t.Errorf("extension element lost: %s", s)
	}
}

func TestSendToComponent(t *testing.T) {
	ts := startServer(t)
	c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	if err := sendTo(t, ts, echoDomain, "someone@echo.localhost", "ping me"); err != nil {
		t.Fatalf("send: %v", err)
	}
	el := c.Expect(hasBody("ping me"))
	if got := el.From.String(); got != "romeo@localhost/orchard" {
		t.Errorf("from = %s", got)
	}
	if got := el.To.String(); got != "someone@echo.localhost" {
		t.Errorf("to = %s", got)
	}
}

func TestLimits(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.C2S.MaxStanzaSize = 2 * config.KiB
		c.C2S.MaxElementDepth = 4
	})
	cases := []struct {
		name string
		xml  string
		want string
	}{
		{"too large", "<message from='a@echo.localhost' to='romeo@localhost'><body>" + strings.Repeat("x", 4096) + "</body></message>", "policy-violation"},
		{"too deep", "<message from='a@echo.localhost' to='romeo@localhost'><a xmlns='urn:example'><b><c><d/></c></b></a></message>", "policy-violation"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
			c.Send(tc.xml)
			if got := c.ExpectStreamError(); got != tc.want {
				t.Errorf("case %d: stream error = %s, want %s", i, got, tc.want)
			}
			c.ExpectClosed()
		})
	}
	// Within the limits.
	c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	c.Send("<message from='a@echo.localhost' to='romeo@localhost'><body>" + strings.Repeat("x", 1024) + "</body></message>")
	ts.router.nextRouted(t)
}
