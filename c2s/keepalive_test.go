package c2s

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"tern/config"
	"tern/router"
	"tern/stanza"
	"tern/stream"
)

// answeringConn is a net.Conn for a client that replies at once. Each
// server write marks the connection as just read from, so the keepalive
// timer pings again every interval. It records the output and closes
// pinged at the first XEP-0199 ping.
type answeringConn struct {
	net.Conn // nil: the methods used are overridden below
	c        *conn

	mu      sync.Mutex
	out     bytes.Buffer
	pinged  chan struct{}
	sawPing bool
}

func (a *answeringConn) Write(b []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.out.Write(b)
	if !a.sawPing && bytes.Contains(a.out.Bytes(), []byte(nsPing)) {
		a.sawPing = true
		close(a.pinged)
	}
	a.c.lastRead.Store(time.Now().UnixNano())
	return len(b), nil
}

func (a *answeringConn) written() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.String()
}

func (a *answeringConn) SetWriteDeadline(time.Time) error { return nil }
func (a *answeringConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5222}
}
func (a *answeringConn) Close() error { return nil }

// readElements parses the top-level elements of a client stream body.
func readElements(t *testing.T, body string) []*stanza.Stanza {
	t.Helper()
	in := "<stream:stream xmlns='jabber:client' xmlns:stream='" + stream.NS + "'>" + body
	rd := stream.NewReader(bufio.NewReader(strings.NewReader(in)), stream.Limits{MaxSize: 1 << 16, MaxDepth: 16})
	if _, err := rd.ReadHeader(); err != nil {
		t.Fatalf("read header: %v", err)
	}
	var out []*stanza.Stanza
	for {
		el, err := rd.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read %q: %v", body, err)
		}
		out = append(out, el)
	}
}

// TestKeepalivePingsDuringBind binds a resource while the keepalive timer
// is pinging, as when a client binds just as its stream has been idle for
// keepalive_interval. The timer runs on its own goroutine, so under -race
// this also checks that it reads the bound session safely.
func TestKeepalivePingsDuringBind(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Domains = []string{"keepalive.test"}
	cfg.C2S.KeepaliveInterval = time.Millisecond
	cfg.C2S.PingTimeout = time.Hour
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(cfg, router.New(log, cfg.Server.Domains, nil), nil, noCertificates{}, log)

	ac := &answeringConn{pinged: make(chan struct{})}
	c := newConn(srv, ac, false)
	ac.c = c
	c.authed = true
	c.user = "alice"
	c.domain = "keepalive.test"

	stop := c.startKeepalive()
	defer stop()
	bind := readElements(t, "<iq type='set' id='b1'><bind xmlns='"+nsBind+"'><resource>r1</resource></bind></iq>")[0]
	if err := c.bindIQ(bind); err != nil {
		t.Fatalf("bind: %v", err)
	}
	// As run does after negotiate returns.
	c.bound.Store(c.sess)
	defer c.sess.end(nil)

	select {
	case <-ac.pinged:
	case <-time.After(10 * time.Second):
		t.Fatalf("no ping written within 10s; written: %q", ac.written())
	}
	stop()

	var ping *stanza.Stanza
	for _, el := range readElements(t, ac.written()) {
		if el.Name == stanza.IQ && el.Child(nsPing, "ping") != nil {
			ping = el
			break
		}
	}
	if ping == nil {
		t.Fatalf("no ping iq in %q", ac.written())
	}
	if ping.Type != "get" {
		t.Errorf("ping type = %q, want get", ping.Type)
	}
	if got := ping.RawTo; got != "alice@keepalive.test/r1" {
		t.Errorf("ping to = %q, want alice@keepalive.test/r1", got)
	}
	if got := ping.RawFrom; got != "keepalive.test" {
		t.Errorf("ping from = %q, want keepalive.test", got)
	}
}

// failingConn is a client connection whose writes fail, as at the write
// timeout of a client that stopped reading.
type failingConn struct {
	answeringConn
	closed chan struct{}
	once   sync.Once
}

func (f *failingConn) Write([]byte) (int, error) { return 0, errors.New("i/o timeout") }
func (f *failingConn) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// TestSessionWriteFailureClosesConnection checks that a failed write
// closes the connection, so that its reader ends the session and routes
// its messages again, instead of leaving a session that writes nothing.
func TestSessionWriteFailureClosesConnection(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Domains = []string{"write.test"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(cfg, router.New(log, cfg.Server.Domains, nil), nil, noCertificates{}, log)
	fc := &failingConn{closed: make(chan struct{})}
	c := newConn(srv, fc, false)

	w := c.newWriter()
	if err := w.SendRaw([]byte("<message/>")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fc.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open 5 s after a failed write")
	}
}
