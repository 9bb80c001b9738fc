package s2s

import (
	"bufio"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tern/stanza"
	"tern/stream"
)

// inConn is one incoming server-to-server stream. Its goroutine reads and
// handles everything the peer sends; the only other writers are dialback
// verifications that finish in the background, so writes share writeMu.
type inConn struct {
	srv       *Server
	raw       net.Conn
	nc        net.Conn // raw, or the TLS connection over it; swapped under writeMu
	br        *bufio.Reader
	rd        *stream.Reader
	log       *slog.Logger
	directTLS bool

	secure   bool
	chain    []*x509.Certificate // the peer's certificate chain, leaf first
	local    string              // the stream's 'to': a domain served here
	peer     string              // the stream's 'from', empty if absent
	id       string              // the id of the current stream header
	saslDone bool

	mu      sync.Mutex
	authed  map[string]bool // remote domains authenticated on the stream; guarded by mu
	pending map[string]bool // remote domains in dialback verification; guarded by mu

	writeMu    sync.Mutex
	headerSent bool // guarded by writeMu
	closed     atomic.Bool
	lastRead   atomic.Int64 // unix nanoseconds of the last read
}

func newInConn(s *Server, nc net.Conn, directTLS bool) *inConn {
	c := &inConn{
		srv:       s,
		raw:       nc,
		directTLS: directTLS,
		authed:    make(map[string]bool),
		pending:   make(map[string]bool),
	}
	c.nc = &activityConn{Conn: nc, last: &c.lastRead}
	c.log = s.log.With("remote_addr", nc.RemoteAddr().String(), "dir", "in")
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// activityConn records the time of every successful read.
type activityConn struct {
	net.Conn
	last *atomic.Int64
}

func (a *activityConn) Read(p []byte) (int, error) {
	n, err := a.Conn.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	return n, err
}

func (c *inConn) serve() {
	c.log.Debug("connection accepted")
	authTimer := time.AfterFunc(timeoutOr(c.srv.cfg.C2S.AuthTimeout, time.Minute), func() {
		if !c.anyAuthed() {
			c.shutdown(stream.ConnectionTimeout.WithText("authentication timed out"))
		}
	})
	defer authTimer.Stop()
	stopIdle := c.watchIdle()
	defer stopIdle()
	err := c.run()
	c.finish(err)
}

func (c *inConn) run() error {
	if c.directTLS {
		if err := c.handshake(); err != nil {
			return err
		}
	}
	c.br = bufio.NewReaderSize(c.nc, 4096)
	c.rd = stream.NewReader(c.br, c.srv.limits(false))
	if err := c.openStream(); err != nil {
		return err
	}
	for {
		// A dialback verification that runs in the background may
		// authenticate a domain while Next waits for the element that
		// follows, so the larger limit applies from the request on.
		c.rd.SetLimits(c.srv.limits(c.authedOrPending()))
		el, err := c.rd.Next()
		if err != nil {
			return err
		}
		restart, err := c.handle(el)
		if err != nil {
			return err
		}
		if restart {
			if err := c.openStream(); err != nil {
				return err
			}
		}
	}
}

// openStream reads the peer's stream header and sends ours with the stream
// features (RFC 6120 §4.2, §4.3).
func (c *inConn) openStream() error {
	h, err := c.rd.ReadHeader()
	if err != nil {
		return err
	}
	local, peer, err := c.checkHeader(h)
	// The fields are written under writeMu because Shutdown may write a
	// stream error, and with it our header, from another goroutine.
	c.writeMu.Lock()
	c.local, c.peer = local, peer
	if err != nil {
		c.writeMu.Unlock()
		return err
	}
	c.id = stream.NewID()
	out := stream.AppendOpen(nil, c.header())
	c.headerSent = true
	c.writeMu.Unlock()
	out = c.features().AppendXML(out, "")
	return c.write(out)
}

// header returns our stream header. Its 'from' is the domain the peer
// requested, which is how a server with several domains responds
// (RFC 6120 §4.7.1). It has no 'from' while that domain is unknown.
func (c *inConn) header() stream.Header {
	return stream.Header{
		NS: stanza.NSServer, From: c.local, To: c.peer, ID: c.id,
		Version: "1.0", Dialback: c.srv.cfg.S2S.Dialback,
	}
}

// checkHeader validates the peer's stream header and returns its 'to' and
// 'from' domains. The 'to' is returned with an error too when it is a
// domain served here, so the stream error goes out under the domain the
// peer asked for.
func (c *inConn) checkHeader(h stream.Header) (local, peer string, err error) {
	to, ok := parseDomain(h.To)
	if !ok || !c.srv.serves(to) {
		return c.local, c.peer, stream.HostUnknown
	}
	if c.local != "" && to != c.local {
		return c.local, c.peer, stream.HostUnknown.WithText("the domain changed after a stream restart")
	}
	if h.NS != stanza.NSServer {
		return to, c.peer, stream.InvalidNamespace
	}
	if !strings.HasPrefix(h.Version, "1.") {
		return to, c.peer, stream.UnsupportedVersion
	}
	if h.From == "" {
		return to, c.peer, nil
	}
	from, ok := parseDomain(h.From)
	if !ok || (c.peer != "" && from != c.peer) {
		return to, c.peer, stream.InvalidFrom
	}
	return to, from, nil
}

// features returns the <stream:features/> element for the current state.
func (c *inConn) features() *stanza.Element {
	f := stanza.NewElement("", "stream:features")
	if c.tlsPending() {
		// RFC 6120 §5.3.1: with TLS required, offer nothing else.
		return f.Add(stanza.NewElement(nsTLS, "starttls").Add(stanza.NewElement(nsTLS, "required")))
	}
	if !c.secure {
		f.Add(stanza.NewElement(nsTLS, "starttls"))
	}
	if c.secure && !c.saslDone && c.srv.roots.verify(c.chain, c.peer) {
		mechs := stanza.NewElement(nsSASL, "mechanisms")
		f.Add(mechs.Add(stanza.NewElement(nsSASL, "mechanism").AddText("EXTERNAL")))
	}
	if c.srv.cfg.S2S.Dialback {
		// <errors/> announces that dialback errors are understood
		// (XEP-0220).
		f.Add(stanza.NewElement(nsDialbackFeature, "dialback").Add(stanza.NewElement(nsDialbackFeature, "errors")))
	}
	return f
}

func (c *inConn) tlsPending() bool { return !c.secure && c.srv.cfg.TLS.Required }

// write sends bytes from the reader goroutine or a dialback verification.
func (c *inConn) write(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.nc.Write(b)
	return err
}

func (c *inConn) send(el *stanza.Element) error { return c.write(el.AppendXML(nil, "")) }

// shutdown ends the stream with err from any goroutine.
func (c *inConn) shutdown(err *stream.Error) {
	if c.closed.Swap(true) {
		return
	}
	c.writeError(err)
	c.raw.Close()
}

// writeError sends a stream error, if any, and the closing tag, with our
// stream header first if none was sent yet (RFC 6120 §4.9.1.1).
func (c *inConn) writeError(err *stream.Error) {
	var b []byte
	c.writeMu.Lock()
	if !c.headerSent {
		c.id = stream.NewID()
		b = stream.AppendOpen(b, c.header())
		c.headerSent = true
	}
	c.writeMu.Unlock()
	if err != nil {
		b = err.AppendXML(b)
	}
	c.write(append(b, stream.Close...))
}

// finish closes the connection after run returned err.
func (c *inConn) finish(err error) {
	se := stream.AsError(err)
	switch {
	case se != nil:
		c.log.Debug("stream error", "condition", se.Condition, "text", se.Text)
	case errors.Is(err, stream.ErrClosed):
		c.log.Debug("stream closed by peer", "reason", err)
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		c.log.Debug("connection ended", "err", err)
	}
	if !c.closed.Swap(true) && (se != nil || errors.Is(err, stream.ErrClosed)) {
		c.writeError(se)
	}
	c.raw.Close()
}

// watchIdle closes the stream with a plain closing tag after nothing was
// read for the idle timeout. It returns a function that stops watching.
func (c *inConn) watchIdle() func() {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		idle := time.Since(time.Unix(0, c.lastRead.Load()))
		if timeout := c.srv.idleTimeout(); idle < timeout {
			t.Reset(timeout - idle)
			return
		}
		c.log.Debug("closing idle incoming stream", "idle", idle)
		go c.shutdown(nil)
	}
	mu.Lock()
	t = time.AfterFunc(c.srv.idleTimeout(), check)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

func (c *inConn) anyAuthed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.authed) > 0
}

// authedOrPending reports whether a domain is authenticated or in
// dialback verification on the stream.
func (c *inConn) authedOrPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.authed) > 0 || len(c.pending) > 0
}

func (c *inConn) isAuthed(domain string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authed[domain]
}

// authenticate records that the peer proved its domain remote on this
// stream, which goes to the local domain.
func (c *inConn) authenticate(local, remote, method string) {
	c.mu.Lock()
	c.authed[remote] = true
	delete(c.pending, remote)
	c.mu.Unlock()
	c.log.Info("incoming stream authenticated", "local", local, "remote", remote, "auth", method, "tls", c.secure)
}
