package component_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/component"
	"tern/config"
	"tern/router"
	"tern/stanza"
)

const (
	echoDomain  = "echo.localhost"
	echoSecret  = "s3cret"
	otherDomain = "other.localhost"
	otherSecret = "other-secret"
)

// fakeRouter records what the component server registers and routes.
type fakeRouter struct {
	mu      sync.Mutex
	comps   map[string]router.Component // guarded by mu
	items   []string                    // guarded by mu
	refused map[string]bool             // domains AddComponent rejects
	routed  chan *stanza.Stanza
}

func newFakeRouter() *fakeRouter {
	return &fakeRouter{
		comps:   make(map[string]router.Component),
		refused: make(map[string]bool),
		routed:  make(chan *stanza.Stanza, 100),
	}
}

func (r *fakeRouter) AddComponent(domain string, c router.Component) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refused[domain] || r.comps[domain] != nil {
		return false
	}
	r.comps[domain] = c
	return true
}

func (r *fakeRouter) AddItem(j, _ string) {
	r.mu.Lock()
	r.items = append(r.items, j)
	r.mu.Unlock()
}

func (r *fakeRouter) Route(_ context.Context, s *stanza.Stanza) { r.routed <- s }

func (r *fakeRouter) Domains() []string { return []string{"localhost"} }

func (r *fakeRouter) component(t *testing.T, domain string) router.Component {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.comps[domain]
	if c == nil {
		t.Fatalf("no component registered for %s", domain)
	}
	return c
}

// nextRouted returns the next stanza the server routed, failing after a
// timeout.
func (r *fakeRouter) nextRouted(t *testing.T) *stanza.Stanza {
	t.Helper()
	select {
	case s := <-r.routed:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no stanza routed")
		return nil
	}
}

// testServer is a component server on a loopback port.
type testServer struct {
	*component.Server
	router *fakeRouter
	addr   string
	served chan error // receives Serve's result
}

// startServer starts a server for echo.localhost and other.localhost with
// default limits changed by opts. It shuts down when the test ends.
func startServer(t *testing.T, opts ...func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Component.Services = []config.ComponentService{
		{Domain: echoDomain, Secret: echoSecret},
		{Domain: otherDomain, Secret: otherSecret},
	}
	for _, o := range opts {
		o(cfg)
	}
	r := newFakeRouter()
	srv, err := component.New(cfg, r, testLogger())
	if err != nil {
		t.Fatalf("new component server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ts := &testServer{Server: srv, router: r, addr: l.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		l.Close()
	})
	return ts
}

func testLogger() *slog.Logger {
	if os.Getenv("TERN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sendTo passes a message for the component through its router entry, as
// the router does for a stanza addressed to the component's domain.
func sendTo(t *testing.T, ts *testServer, domain, to, body string) error {
	t.Helper()
	m := stanza.New(stanza.Message, "chat", jid.MustParse(to), jid.MustParse("romeo@localhost/orchard"),
		stanza.NewElement(stanza.NSClient, "body").AddText(body))
	return ts.router.component(t, domain).Send(context.Background(), m)
}

// isStanzaError reports whether err is a stanza error with condition cond.
func isStanzaError(err error, cond string) bool {
	var se *stanza.Error
	return errors.As(err, &se) && se.Condition == cond
}

// hasBody matches a message whose body is text.
func hasBody(text string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Message && s.Child("", "body").Text() == text
	}
}
