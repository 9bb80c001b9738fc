package e2e

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tern/component/componenttest"
	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/stream"
)

const (
	echoDomain = "echo.localhost"
	echoSecret = "echo-s3cret"
)

// startWithComponent starts a server that accepts a component for
// echo.localhost, with the user romeo.
func startWithComponent(t *testing.T) *xmpptest.Server {
	t.Helper()
	s := xmpptest.Start(t, func(c *config.Config) {
		c.Component.Services = append(c.Component.Services,
			config.ComponentService{Domain: echoDomain, Secret: echoSecret})
	})
	s.AddUser("romeo", "secret1")
	return s
}

func TestComponentHandshake(t *testing.T) {
	s := startWithComponent(t)
	cases := []struct {
		name     string
		domain   string
		secret   string
		wantCond string // "" for success
	}{
		{"success", echoDomain, echoSecret, ""},
		{"wrong secret", echoDomain, "wrong", "not-authorized"},
		{"unknown domain", "nope.localhost", echoSecret, "host-unknown"},
		{"server domain", "localhost", echoSecret, "host-unknown"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := componenttest.Dial(t, s.Addr("component"))
			if err := c.Open(tc.domain); err != nil {
				t.Fatalf("case %d: open: %v", i, err)
			}
			err := c.Handshake(tc.secret)
			if tc.wantCond == "" {
				if err != nil {
					t.Fatalf("case %d: handshake: %v", i, err)
				}
				c.Send("</stream:stream>")
				c.ExpectClosed()
				return
			}
			if se := stream.AsError(err); se == nil || se.Condition != tc.wantCond {
				t.Errorf("case %d: handshake error = %v, want %s", i, err, tc.wantCond)
			}
		})
	}
}

func TestComponentMessageRoundTrip(t *testing.T) {
	s := startWithComponent(t)
	comp := componenttest.Connect(t, s.Addr("component"), echoDomain, echoSecret)
	romeo := s.Login("romeo", "secret1", "orchard")

	romeo.Send("<message to='someone@echo.localhost' type='chat' id='m1'><body>hello component</body></message>")
	in := comp.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message })
	if got := in.From.String(); got != "romeo@localhost/orchard" {
		t.Errorf("component got from = %q, want romeo@localhost/orchard", got)
	}
	if got := in.To.String(); got != "someone@echo.localhost" {
		t.Errorf("component got to = %q, want someone@echo.localhost", got)
	}
	if got := in.Child("", "body").Text(); got != "hello component" {
		t.Errorf("component got body %q", got)
	}

	comp.Send("<message from='someone@echo.localhost' to='romeo@localhost/orchard' type='chat' id='r1'><body>hello romeo</body></message>")
	out := romeo.Expect(xmpptest.IsMessage("hello romeo"))
	if got := out.From.String(); got != "someone@echo.localhost" {
		t.Errorf("romeo got from = %q, want someone@echo.localhost", got)
	}
}

func TestComponentForgedFrom(t *testing.T) {
	s := startWithComponent(t)
	s.AddUser("juliet", "secret2")
	comp := componenttest.Connect(t, s.Addr("component"), echoDomain, echoSecret)
	romeo := s.Login("romeo", "secret1", "orchard")

	comp.Send("<message from='juliet@localhost/balcony' to='romeo@localhost/orchard' type='chat'><body>forged</body></message>")
	if got := comp.ExpectStreamError(); got != "invalid-from" {
		t.Errorf("stream error = %s, want invalid-from", got)
	}
	comp.ExpectClosed()
	for _, el := range romeo.Sync() {
		if xmpptest.IsMessage("forged")(el) {
			t.Errorf("romeo received the forged message %s", el)
		}
	}
}

func TestComponentDisconnectBounces(t *testing.T) {
	s := startWithComponent(t)
	romeo := s.Login("romeo", "secret1", "orchard")
	bounce := func(id string) {
		t.Helper()
		romeo.Sendf("<message to='someone@echo.localhost' type='chat' id='%s'><body>anyone?</body></message>", id)
		el := romeo.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.ID == id })
		if el.Type != "error" {
			t.Fatalf("%s: got %s, want an error", id, el)
		}
		if got := xmpptest.ErrorCondition(el); got != "service-unavailable" {
			t.Errorf("%s: error = %s, want service-unavailable", id, got)
		}
		if got := el.From.String(); got != "someone@echo.localhost" {
			t.Errorf("%s: error from = %s, want someone@echo.localhost", id, got)
		}
	}

	bounce("before-connect")

	comp := componenttest.Connect(t, s.Addr("component"), echoDomain, echoSecret)
	romeo.Send("<message to='someone@echo.localhost' type='chat' id='m1'><body>first</body></message>")
	comp.Expect(func(el *stanza.Stanza) bool { return el.ID == "m1" })
	comp.Send("</stream:stream>")
	// The server stops routing to the component before it closes its
	// side of the stream.
	comp.ExpectClosed()

	bounce("after-disconnect")
}

func TestComponentListedInDisco(t *testing.T) {
	s := startWithComponent(t)
	romeo := s.Login("romeo", "secret1", "orchard")
	res := romeo.Request("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>", "d1")
	if res.Type != "result" {
		t.Fatalf("disco#items: %s", res)
	}
	found := false
	for _, it := range res.Child("http://jabber.org/protocol/disco#items", "query").Elements() {
		if it.AttrValue("jid") == echoDomain {
			found = true
		}
	}
	if !found {
		t.Errorf("%s missing from disco#items: %s", echoDomain, res)
	}
}

func TestComponentQueriesServer(t *testing.T) {
	s := startWithComponent(t)
	comp := componenttest.Connect(t, s.Addr("component"), echoDomain, echoSecret)
	comp.Send("<iq type='get' id='p1' from='echo.localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	res := comp.Expect(func(el *stanza.Stanza) bool { return el.ID == "p1" })
	if res.Type != "result" {
		t.Errorf("ping reply = %s, want a result", res)
	}
	if got := res.To.String(); got != echoDomain {
		t.Errorf("ping reply to = %s, want %s", got, echoDomain)
	}
}

func TestComponentServerShutdown(t *testing.T) {
	s := startWithComponent(t)
	comp := componenttest.Connect(t, s.Addr("component"), echoDomain, echoSecret)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.Stop()
	}()
	if got := comp.ExpectStreamError(); got != "system-shutdown" {
		t.Errorf("stream error = %s, want system-shutdown", got)
	}
	comp.ExpectClosed()
	<-stopped
}

// echoScript is an external component built on slixmpp's ComponentXMPP. It
// replies to each chat or normal message with "echo: " and the body, and
// prints a line once the server has accepted its handshake.
const echoScript = `
import logging
import sys

from slixmpp import ComponentXMPP


class Echo(ComponentXMPP):
    def __init__(self, jid, secret, host, port):
        super().__init__(jid, secret, host, port)
        self.add_event_handler("session_start", self.started)
        self.add_event_handler("message", self.echo)

    def started(self, _):
        print("session started", flush=True)

    def echo(self, msg):
        if msg["type"] in ("chat", "normal"):
            msg.reply("echo: " + msg["body"]).send()


def main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    jid, secret, host, port = sys.argv[1:5]
    xmpp = Echo(jid, secret, host, int(port))
    # The host is an IP address: no DNS lookup is needed or wanted.
    xmpp.use_aiodns = False
    xmpp.default_domain = host
    xmpp.connect()
    xmpp.loop.run_until_complete(xmpp.disconnected)


main()
`

// lockedBuffer collects a child process's stderr for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSlixmppComponentEcho(t *testing.T) {
	requireSlixmpp(t)
	s := startWithComponent(t)

	script := filepath.Join(t.TempDir(), "echo_component.py")
	if err := os.WriteFile(script, []byte(echoScript), 0o600); err != nil {
		t.Fatalf("write script: %v", err)
	}
	host, port, _ := strings.Cut(s.Addr("component"), ":")
	cmd := exec.Command(systemPython, script, echoDomain, echoSecret, host, port)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", systemPython, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "session started" {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(xmpptest.Timeout):
		t.Fatalf("slixmpp component did not complete the handshake; stderr:\n%s", stderr)
	}
	if !s.Components().Connected(echoDomain) {
		t.Fatalf("server does not list %s as connected", echoDomain)
	}

	romeo := s.Login("romeo", "secret1", "orchard")
	romeo.Send("<message to='bot@echo.localhost' type='chat' id='e1'><body>ping from romeo</body></message>")
	el, err := romeo.TryExpect(xmpptest.IsMessage("echo: ping from romeo"))
	if err != nil {
		t.Fatalf("no echo: %v; component stderr:\n%s", err, stderr)
	}
	if got := el.From.String(); got != "bot@echo.localhost" {
		t.Errorf("echo from = %q, want bot@echo.localhost", got)
	}
	if got := el.To.String(); got != "romeo@localhost/orchard" {
		t.Errorf("echo to = %q, want romeo@localhost/orchard", got)
	}
}
