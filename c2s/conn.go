package c2s

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// Namespaces of stream negotiation (RFC 6120).
const (
	nsTLS      = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL     = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind     = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession  = "urn:ietf:params:xml:ns:xmpp-session"
	nsCompress = "http://jabber.org/protocol/compress"
	nsPing     = "urn:xmpp:ping"
)

// conn is one client connection from accept to close. Its goroutine reads
// and negotiates; after bind a session with its own writer goroutine takes
// over delivery.
type conn struct {
	srv       *Server
	raw       net.Conn
	nc        net.Conn // raw, or the TLS connection over it
	br        *bufio.Reader
	rd        *stream.Reader
	id        string
	ip        string
	log       *slog.Logger
	directTLS bool
	ws        bool // WebSocket transport (RFC 7395)

	secure   bool
	tlsState *tls.ConnectionState
	cert     *x509.Certificate
	domain   string
	authed   bool
	user     string // normalized localpart after authentication
	sess     *session

	writeMu    sync.Mutex    // serializes direct writes before bind
	headerSent bool          // guarded by writeMu
	act        *activityConn // raw as the connection reads it
	tlsIn      *tlsReader    // the source of br after bind under TLS
	// bound is sess once bind or resumption has set it, for other
	// goroutines: sess is set on the goroutine that runs negotiation.
	bound     atomic.Pointer[session]
	authTimer *time.Timer // ends the stream if authentication takes too long; nil after bind
	closed    atomic.Bool
	finalSent atomic.Bool  // the closing elements were queued on the session writer
	lastRead  atomic.Int64 // unix nanoseconds of the last read
	saslFails int
}

func newConn(s *Server, nc net.Conn, directTLS bool) *conn {
	var b [8]byte
	rand.Read(b[:])
	ip, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	c := &conn{
		srv:       s,
		raw:       nc,
		id:        hex.EncodeToString(b[:]),
		ip:        ip,
		directTLS: directTLS,
	}
	c.act = newActivityConn(c, nc)
	c.nc = c.act
	c.log = connLogger(s.log, c.id, nc.RemoteAddr().String())
	c.lastRead.Store(time.Now().UnixNano())
	// Logged here on the accepting goroutine, because on the connection's
	// own goroutine the logger's calls would grow its small stack.
	c.log.Debug("connection accepted")
	return c
}

func (c *conn) limits() stream.Limits {
	l := stream.Limits{MaxSize: int(c.srv.cfg.C2S.MaxStanzaSizeBeforeAuth), MaxDepth: c.srv.cfg.C2S.MaxElementDepth}
	if c.authed {
		l.MaxSize = int(c.srv.cfg.C2S.MaxStanzaSize)
	}
	return l
}

func (c *conn) serve() {
	c.authTimer = time.AfterFunc(timeoutOr(c.srv.cfg.C2S.AuthTimeout, time.Minute), func() {
		if c.bound.Load() == nil {
			c.shutdown(stream.ConnectionTimeout.WithText("authentication timed out"))
		}
	})
	defer func() {
		if c.authTimer != nil {
			c.authTimer.Stop()
		}
	}()
	stopKeepalive := c.startKeepalive()
	defer stopKeepalive()

	err := c.run()
	c.finish(err)
}

// run reads and handles top-level elements until the stream ends.
func (c *conn) run() error {
	if c.directTLS {
		if err := offStack(c.handshake); err != nil {
			return err
		}
	}
	c.br = bufio.NewReaderSize(c.nc, readBufferSize)
	c.rd = stream.NewReader(c.br, c.limits())
	if err := c.openStream(); err != nil {
		return err
	}
	for {
		if c.sess != nil {
			c.enterSession()
			if err := c.waitInput(); err != nil {
				return err
			}
		}
		el, err := c.rd.Next()
		if err != nil {
			return err
		}
		if c.sess != nil {
			if err := c.handleStanza(el); err != nil {
				return err
			}
			continue
		}
		var restart bool
		err = offStack(func() (err error) {
			restart, err = c.negotiate(el)
			return err
		})
		if c.sess != nil {
			c.bound.Store(c.sess)
		}
		if err != nil {
			return err
		}
		if restart {
			c.rd.SetLimits(c.limits())
			if err := c.openStream(); err != nil {
				return err
			}
		}
	}
}

// handleStanza passes an element the client sent after bind to its
// session. Messages, most of the traffic, are handled on the connection's
// goroutine; other elements, which modules often answer from storage with
// deep call stacks, are handled by offStack.
func (c *conn) handleStanza(el *stanza.Stanza) error {
	if el.Name == stanza.Message {
		return c.sess.handle(el)
	}
	return offStack(func() error { return c.sess.handle(el) })
}

// readBufferSize is the size of a connection's own read buffer during
// negotiation; enterSession makes it smaller after bind.
const readBufferSize = 512

// openStream reads the client's stream header and sends ours with the
// stream features (RFC 6120 §4.2, §4.3).
func (c *conn) openStream() error {
	h, err := c.rd.ReadHeader()
	if err != nil {
		return err
	}
	domain, err := c.checkHeader(h)
	if err != nil {
		return err
	}
	c.domain = domain
	ours := stream.Header{NS: stanza.NSClient, From: domain, ID: stream.NewID(), Version: "1.0", Lang: "en"}
	if c.ws {
		if err := c.writeHeader(wsOpen(ours)); err != nil {
			return err
		}
		return c.write(declareStreamPrefix(c.appendFeatures(nil)))
	}
	out := stream.AppendOpen(nil, ours)
	out = c.appendFeatures(out)
	return c.writeHeader(out)
}

// stanzaBytes serializes a stanza for this transport: WebSocket messages
// stand alone, so they declare the content namespace.
func (c *conn) stanzaBytes(s *stanza.Stanza) []byte {
	if c.ws {
		return s.AppendXML(nil, stanza.NSClient)
	}
	return s.AppendXML(nil, "")
}

// finalBytes returns what ends the stream after err: the stream error and
// the closing tag, as separate messages on WebSocket.
func (c *conn) finalBytes(err *stream.Error) [][]byte {
	var out [][]byte
	if c.ws {
		if err != nil {
			out = append(out, declareStreamPrefix(err.AppendXML(nil)))
		}
		return append(out, wsClose)
	}
	var b []byte
	if err != nil {
		b = err.AppendXML(b)
	}
	return append(out, append(b, stream.Close...))
}

func (c *conn) checkHeader(h stream.Header) (string, error) {
	if h.NS != stanza.NSClient {
		return "", stream.InvalidNamespace
	}
	if h.Version != "" && h.Version[0] != '1' {
		return "", stream.UnsupportedVersion
	}
	to := h.To
	if to == "" {
		to = c.srv.router.Domains()[0]
	}
	j, err := jid.Parse(to)
	if err != nil || j.Localpart() != "" || j.Resourcepart() != "" {
		return "", stream.HostUnknown
	}
	domain := j.Domainpart()
	if !c.srv.router.IsLocal(domain) {
		return "", stream.HostUnknown
	}
	if c.domain != "" && domain != c.domain {
		return "", stream.HostUnknown.WithText("the domain changed after a stream restart")
	}
	return domain, nil
}

// writeHeader writes the stream header, or a header and a stream error if
// the connection is being shut down meanwhile.
func (c *conn) writeHeader(b []byte) error {
	c.writeMu.Lock()
	c.headerSent = true
	c.writeMu.Unlock()
	return c.write(b)
}

// write sends bytes directly; it is used before bind, when no other
// goroutine writes.
func (c *conn) write(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	// The deadline bounds this write only: left set, it would expire while
	// the session idles and fail the session writer's writes.
	c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	defer c.nc.SetWriteDeadline(time.Time{})
	_, err := c.nc.Write(b)
	return err
}

// send writes an element during negotiation.
func (c *conn) send(el *stanza.Element) error { return c.write(el.AppendXML(nil, "")) }

// shutdown ends the stream with err from any goroutine.
func (c *conn) shutdown(err *stream.Error) {
	if c.closed.Load() {
		return
	}
	if s := c.bound.Load(); s != nil {
		if err == stream.ConnectionTimeout {
			// A dead connection: a resumable session waits for its client.
			s.dropConnection(c, err)
			return
		}
		s.closeWith(err)
		return
	}
	c.writeError(err)
	c.raw.Close()
}

// writeError sends a stream error and the closing tag, with our stream
// header first if none was sent yet (RFC 6120 §4.9.1.1).
func (c *conn) writeError(err *stream.Error) {
	c.writeMu.Lock()
	var parts [][]byte
	if !c.headerSent {
		from := c.domain
		if from == "" {
			from = c.srv.router.Domains()[0]
		}
		h := stream.Header{NS: stanza.NSClient, From: from, ID: stream.NewID(), Version: "1.0"}
		if c.ws {
			parts = append(parts, wsOpen(h))
		} else {
			parts = append(parts, stream.AppendOpen(nil, h))
		}
		c.headerSent = true
	}
	c.writeMu.Unlock()
	parts = append(parts, c.finalBytes(err)...)
	if !c.ws {
		c.write(bytes.Join(parts, nil))
		return
	}
	for _, p := range parts {
		c.write(p)
	}
}

// finish ends the connection after run returned err.
func (c *conn) finish(err error) {
	se := stream.AsError(err)
	switch {
	case se != nil:
		c.log.Debug("stream error", "condition", se.Condition, "text", se.Text)
	case errors.Is(err, stream.ErrClosed):
		c.log.Debug("stream closed by client")
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		c.log.Debug("connection ended", "err", err)
	}
	if c.sess != nil {
		c.sess.connectionEnded(c, se, errors.Is(err, stream.ErrClosed))
		return
	} else if !c.closed.Load() {
		if se != nil || errors.Is(err, stream.ErrClosed) {
			c.writeError(se)
			c.linger()
		}
	}
	c.closed.Store(true)
	c.raw.Close()
}

// linger closes the sending side and discards what the peer still sends
// for a moment, so that closing a socket with unread input does not reset
// the connection and destroy the stream error just written.
func (c *conn) linger() {
	if c.ws {
		return
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		tc.CloseWrite()
	}
	if cw, ok := c.raw.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.raw.SetReadDeadline(time.Now().Add(time.Second))
	io.CopyN(io.Discard, c.raw, 1<<20)
}
