package component

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

const (
	// writeTimeout bounds each write to a component.
	writeTimeout = 30 * time.Second
	// closeTimeout is how long the final bytes of a stream may take to
	// be written before the connection is closed anyway.
	closeTimeout = 10 * time.Second
	// drainTimeout and maxDrain bound what the server reads and discards
	// after it has closed its side of the stream. Closing a socket with
	// unread input makes TCP send a reset, which can destroy the stream
	// error before the component has read it.
	drainTimeout = 2 * time.Second
	maxDrain     = 1 << 20
)

// errServerClosed ends the read loop once the server has closed the
// stream, so that nothing the component sends afterwards is routed.
var errServerClosed = errors.New("component: stream closed by the server")

// conn is one component connection. Its serve goroutine reads, and the
// writer goroutine of w writes everything, the stream header included.
type conn struct {
	srv *Server
	nc  net.Conn
	rd  *stream.Reader
	w   *stream.Writer

	// Set once by the reader goroutine under mu, when the header names a
	// configured domain (log then gains the domain). Other goroutines
	// read them under mu, or after ready is set.
	log      *slog.Logger
	streamID string
	slot     *slot

	// ready is set once the handshake reply is queued. Until then send
	// waits on mu, so no stanza is written before the reply.
	ready atomic.Bool

	halfCloseOnce sync.Once

	mu         sync.Mutex
	headerSent bool // guarded by mu
	closed     bool // guarded by mu
}

func newConn(s *Server, nc net.Conn) *conn {
	var b [8]byte
	rand.Read(b[:])
	c := &conn{srv: s, nc: nc}
	c.log = s.log.With("conn", hex.EncodeToString(b[:]), "remote", nc.RemoteAddr().String())
	c.rd = stream.NewReader(bufio.NewReaderSize(nc, 4096), s.preAuth)
	c.w = stream.NewWriter(nc, stream.WriterConfig{
		NS:           stanza.NSComponent,
		MaxQueue:     s.sendQueue,
		WriteTimeout: writeTimeout,
		SetDeadline:  nc.SetWriteDeadline,
	})
	return c
}

func (c *conn) serve() {
	c.log.Debug("component connection accepted")
	go func() {
		if err := c.w.Run(); err != nil {
			c.log.Debug("write to component failed", "err", err)
			c.nc.Close()
		}
	}()
	timer := time.AfterFunc(c.srv.handshakeTimeout, func() {
		if !c.ready.Load() {
			c.close(stream.ConnectionTimeout.WithText("handshake timed out"))
		}
	})
	defer timer.Stop()
	c.finish(c.run())
}

// run reads the stream until it ends: header, handshake, then stanzas.
func (c *conn) run() error {
	h, err := c.rd.ReadHeader()
	if err != nil {
		return err
	}
	if err := c.accept(h); err != nil {
		return err
	}
	if err := c.handshake(); err != nil {
		return err
	}
	for {
		el, err := c.rd.Next()
		if err != nil {
			return err
		}
		if c.isClosed() {
			return errServerClosed
		}
		if err := c.handle(el); err != nil {
			return err
		}
	}
}

// accept checks the component's stream header (XEP-0114 §3) and sends the
// server's header with a new stream id.
func (c *conn) accept(h stream.Header) error {
	if h.NS != stanza.NSComponent {
		return stream.InvalidNamespace.WithText("expected " + stanza.NSComponent)
	}
	d, err := jid.Parse(h.To)
	if h.To == "" || err != nil || d.Localpart() != "" || d.Resourcepart() != "" {
		return stream.HostUnknown.WithText("'to' must be the component's domain")
	}
	sl := c.srv.slots[d.Domainpart()]
	if sl == nil {
		c.log.Warn("component rejected: no service is configured for the domain", "domain", d.Domainpart())
		return stream.HostUnknown.WithText("no component is configured for this domain")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errServerClosed
	}
	c.log = c.log.With("domain", sl.domain)
	c.slot = sl
	c.streamID = stream.NewID()
	c.headerSent = true
	return c.w.SendRaw(c.appendHeader(nil))
}

// appendHeader appends the server's stream header. Before a valid header
// has been read it carries no 'from', because the server cannot speak for
// a domain it does not know.
func (c *conn) appendHeader(b []byte) []byte {
	h := stream.Header{NS: stanza.NSComponent, ID: c.streamID}
	if c.slot != nil {
		h.From = c.slot.domain
	}
	if h.ID == "" {
		h.ID = stream.NewID()
	}
	return stream.AppendOpen(b, h)
}

// handshake reads the component's <handshake/> and checks its digest of
// the stream id and the domain's secret (XEP-0114 §3). On success the
// connection becomes the domain's route.
func (c *conn) handshake() error {
	el, err := c.rd.Next()
	if err != nil {
		return err
	}
	if el.Space != stanza.NSComponent || el.Name != "handshake" {
		return stream.NotAuthorized.WithText("the first element must be the handshake")
	}
	p, err := el.Payload()
	if err != nil {
		return stream.BadFormat
	}
	if !validDigest(p.Text(), c.streamID, c.slot.secret) {
		c.log.Warn("component handshake failed: wrong secret")
		return stream.NotAuthorized
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errServerClosed
	}
	if !c.slot.claim(c) {
		c.log.Warn("component rejected: the domain is already connected")
		return stream.Conflict.WithText("a component is already connected for this domain")
	}
	c.rd.SetLimits(c.srv.limits)
	if err := c.w.SendRaw([]byte("<handshake/>")); err != nil {
		c.slot.release(c)
		return err
	}
	c.ready.Store(true)
	c.log.Info("component connected")
	return nil
}

// digest returns the handshake value of XEP-0114 §3: the lowercase hex
// SHA-1 of the stream id followed by the secret.
func digest(streamID, secret string) string {
	sum := sha1.Sum([]byte(streamID + secret))
	return hex.EncodeToString(sum[:])
}

// validDigest compares a received handshake value with the expected one
// in constant time. Hex digits are accepted in either case.
func validDigest(got, streamID, secret string) bool {
	want := digest(streamID, secret)
	got = strings.ToLower(strings.TrimSpace(got))
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// close ends the stream from any goroutine. It stops routing the domain
// to c, then writes what is queued, se (if not nil) and the closing tag,
// preceded by the server's header if none was sent yet
// (RFC 6120 §4.9.1.1). Then it closes the sending side of the connection
// and lets the reader drain the rest.
func (c *conn) close(se *stream.Error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	sl := c.slot
	var b []byte
	if !c.headerSent {
		c.headerSent = true
		b = c.appendHeader(b)
	}
	reason := "closed by the server"
	if se != nil {
		reason = se.Condition
		b = se.AppendXML(b)
	}
	b = append(b, stream.Close...)
	c.mu.Unlock()

	c.unregister(sl, reason)
	c.w.Close(b)
	go func() {
		select {
		case <-c.w.Done():
			c.halfClose()
		case <-time.After(closeTimeout):
			c.nc.Close()
		}
	}()
}

// halfClose signals the end of the server's output (TCP FIN) and gives the
// component drainTimeout to close its side, after which reads fail.
func (c *conn) halfClose() {
	c.halfCloseOnce.Do(func() {
		if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite()
			c.nc.SetReadDeadline(time.Now().Add(drainTimeout))
			return
		}
		c.nc.Close()
	})
}

// unregister stops routing the domain of sl to c, if c completed the
// handshake, and logs the disconnection once.
func (c *conn) unregister(sl *slot, reason string) {
	if sl != nil && sl.release(c) {
		c.log.Info("component disconnected", "reason", reason)
	}
}

// finish ends the connection after run returned err: it releases the
// domain, closes the stream and waits for the connection to close.
func (c *conn) finish(err error) {
	se := stream.AsError(err)
	if se != nil {
		c.log.Debug("component stream error", "condition", se.Condition, "text", se.Text)
	}
	c.unregister(c.slot, endReason(err))
	c.close(se)
	<-c.w.Done()
	c.halfClose()
	io.Copy(io.Discard, io.LimitReader(c.nc, maxDrain))
	c.nc.Close()
}

// endReason describes for the log why the read loop ended with err.
func endReason(err error) string {
	if se := stream.AsError(err); se != nil {
		return se.Condition
	}
	switch {
	case errors.Is(err, stream.ErrClosed):
		return "closed by the component"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the component"
	case err != nil:
		return err.Error()
	}
	return "closed"
}
