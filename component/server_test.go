package component_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"tern/component"
	"tern/component/componenttest"
	"tern/config"
)

func TestSendWithoutComponent(t *testing.T) {
	ts := startServer(t)
	if err := sendTo(t, ts, echoDomain, "a@echo.localhost", "x"); !isStanzaError(err, "service-unavailable") {
		t.Errorf("before connect: err = %v, want service-unavailable", err)
	}

	c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	if !ts.Connected(echoDomain) {
		t.Errorf("Connected(%s) = false after the handshake", echoDomain)
	}
	c.Send("</stream:stream>")
	// The server releases the domain before it sends its closing tag.
	c.ExpectClosed()
	if ts.Connected(echoDomain) {
		t.Errorf("Connected(%s) = true after the stream closed", echoDomain)
	}
	if err := sendTo(t, ts, echoDomain, "a@echo.localhost", "x"); !isStanzaError(err, "service-unavailable") {
		t.Errorf("after disconnect: err = %v, want service-unavailable", err)
	}
	if err := sendTo(t, ts, otherDomain, "a@other.localhost", "x"); !isStanzaError(err, "service-unavailable") {
		t.Errorf("other domain: err = %v, want service-unavailable", err)
	}

	again := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	if err := sendTo(t, ts, echoDomain, "a@echo.localhost", "back"); err != nil {
		t.Fatalf("send after reconnect: %v", err)
	}
	again.Expect(hasBody("back"))
}

func TestSlowComponent(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.C2S.SendQueue = 4 })
	c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	big := strings.Repeat("x", 64*1024)
	var err error
	sent := 0
	// The component reads nothing, so the socket buffers fill, the writer
	// blocks and the queue reaches its bound.
	for sent < 100000 {
		if err = sendTo(t, ts, echoDomain, "a@echo.localhost", big); err != nil {
			break
		}
		sent++
	}
	if !isStanzaError(err, "resource-constraint") {
		t.Fatalf("after %d stanzas: err = %v, want resource-constraint", sent, err)
	}
	if got := c.ExpectStreamError(); got != "policy-violation" {
		t.Errorf("stream error = %s, want policy-violation", got)
	}
}

func TestShutdown(t *testing.T) {
	ts := startServer(t)
	c := componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
	pending := componenttest.Dial(t, ts.addr)
	if err := pending.Open(otherDomain); err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(ctx) }()
	for _, cl := range []*componenttest.Client{c, pending} {
		if got := cl.ExpectStreamError(); got != "system-shutdown" {
			t.Errorf("stream error = %s, want system-shutdown", got)
		}
		cl.ExpectClosed()
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := <-ts.served; err != nil {
		t.Errorf("serve returned %v, want nil", err)
	}
	if n := ts.ConnCount(); n != 0 {
		t.Errorf("%d connections left after shutdown", n)
	}
}

func TestRegistration(t *testing.T) {
	ts := startServer(t)
	ts.router.mu.Lock()
	items := append([]string(nil), ts.router.items...)
	ts.router.mu.Unlock()
	if strings.Join(items, ",") != echoDomain+","+otherDomain {
		t.Errorf("disco items = %v, want [%s %s]", items, echoDomain, otherDomain)
	}
	ts.router.component(t, echoDomain)
	ts.router.component(t, otherDomain)
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name    string
		domain  string
		refused string // a domain the router rejects
	}{
		{"domain taken", echoDomain, echoDomain},
		{"domain taken after normalization", "ECHO.localhost.", echoDomain},
		{"JID with localpart", "a@" + echoDomain, ""},
		{"JID with resource", echoDomain + "/r", ""},
		{"empty", "", ""},
	}
	for i, tc := range cases {
		r := newFakeRouter()
		if tc.refused != "" {
			r.refused[tc.refused] = true
		}
		cfg := config.Default()
		cfg.Component.Services = []config.ComponentService{{Domain: tc.domain, Secret: echoSecret}}
		if _, err := component.New(cfg, r, testLogger()); err == nil {
			t.Errorf("case %d (%s): New succeeded", i, tc.name)
		}
	}
}

func TestNewNormalizesDomain(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Component.Services = []config.ComponentService{{Domain: "Echo.LocalHost.", Secret: echoSecret}}
	})
	ts.router.component(t, echoDomain)
	componenttest.Connect(t, ts.addr, echoDomain, echoSecret)
}

func TestServeAfterShutdown(t *testing.T) {
	ts := startServer(t)
	if err := ts.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	if err := ts.Serve(l); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve after Shutdown = %v, want %v", err, net.ErrClosed)
	}
}
