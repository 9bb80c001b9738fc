package c2s

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"tern/stanza"
	"tern/stream"
)

// NSFraming is the namespace of RFC 7395's <open/> and <close/>.
const NSFraming = "urn:ietf:params:xml:ns:xmpp-framing"

// WebSocketHandler serves XMPP over WebSocket (RFC 7395). Browsers may
// connect only from the origins listed in http.websocket_allowed_origins;
// clients that send no Origin header (non-browsers) are accepted.
//
// A WebSocket stream counts as encrypted when the HTTP request came over
// TLS or from a loopback address (a reverse proxy on the same host that
// terminates TLS); otherwise, with tls.required, it must not authenticate.
func (s *Server) WebSocketHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:   []string{"xmpp"},
			OriginPatterns: s.cfg.HTTP.WebSocketAllowedOrigins,
		})
		if err != nil {
			return // Accept has written the HTTP error
		}
		if ws.Subprotocol() != "xmpp" {
			ws.Close(websocket.StatusProtocolError, "the xmpp subprotocol is required")
			return
		}
		ws.SetReadLimit(int64(s.cfg.C2S.MaxStanzaSize) * 2)
		nc := newWSConn(ws, r)
		c := newConn(s, nc, false)
		c.ws = true
		c.secure = r.TLS != nil || isLoopback(nc.RemoteAddr())
		if !s.conns.Run(c, (*conn).serve) {
			ws.Close(websocket.StatusGoingAway, "server shutting down")
		}
	})
}

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// wsConn presents a WebSocket as the byte stream the stream reader
// expects: <open/> becomes a stream header and <close/> the closing tag,
// while every other message passes through unchanged as it arrives. Each
// Write sends one message.
type wsConn struct {
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	local  net.Addr
	remote net.Addr

	mu       sync.Mutex
	pending  []byte    // translated bytes not yet read
	cur      io.Reader // the message being read
	deadline time.Time
}

func newWSConn(ws *websocket.Conn, r *http.Request) *wsConn {
	ctx, cancel := context.WithCancel(context.Background())
	remote, _ := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return &wsConn{ws: ws, ctx: ctx, cancel: cancel, local: local, remote: remote}
}

// maxFramingElement bounds an <open/> or <close/> message.
const maxFramingElement = 4096

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if len(c.pending) > 0 {
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			return n, nil
		}
		if c.cur != nil {
			n, err := c.cur.Read(p)
			if errors.Is(err, io.EOF) {
				c.cur = nil
				if n > 0 {
					return n, nil
				}
				continue
			}
			return n, err
		}
		if err := c.nextMessage(); err != nil {
			return 0, err
		}
	}
}

// nextMessage starts reading the next message, translating framing
// elements.
func (c *wsConn) nextMessage() error {
	_, r, err := c.ws.Reader(c.ctx)
	if err != nil {
		return err
	}
	head := make([]byte, 64)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("<open")) && !bytes.HasPrefix(trimmed, []byte("<close")) {
		c.pending = head
		c.cur = r
		return nil
	}
	rest, err := io.ReadAll(io.LimitReader(r, maxFramingElement))
	if err != nil {
		return err
	}
	c.pending = translateFraming(append(head, rest...))
	return nil
}

// translateFraming turns <open/> into a stream header and <close/> into
// the closing tag. Anything else that starts like them is passed on and
// rejected by the stream reader.
func translateFraming(msg []byte) []byte {
	el, err := stanza.ParseElement(msg, "")
	if err != nil || el.Name.Space != NSFraming {
		return msg
	}
	switch el.Name.Local {
	case "open":
		h := stream.Header{NS: stanza.NSClient, To: el.AttrValue("to"), From: el.AttrValue("from"),
			Version: el.AttrValue("version"), ID: el.AttrValue("id")}
		for _, a := range el.Attr {
			if a.Name.Local == "lang" {
				h.Lang = a.Value
			}
		}
		b := stream.AppendOpen(nil, h)
		// The reader takes the XML declaration only at the very start.
		return bytes.TrimPrefix(b, []byte("<?xml version='1.0'?>"))
	case "close":
		return []byte(stream.Close)
	}
	return msg
}

func (c *wsConn) Write(p []byte) (int, error) {
	if len(bytes.TrimSpace(p)) == 0 {
		return len(p), nil // whitespace keepalives have no meaning here
	}
	c.mu.Lock()
	deadline := c.deadline
	c.mu.Unlock()
	ctx := c.ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if err := c.ws.Write(ctx, websocket.MessageText, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error {
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	c.cancel()
	return err
}

func (c *wsConn) LocalAddr() net.Addr  { return c.local }
func (c *wsConn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline and SetReadDeadline are not supported for reads: the
// keepalive timer closes idle WebSocket streams instead.
func (c *wsConn) SetDeadline(t time.Time) error   { return c.SetWriteDeadline(t) }
func (c *wsConn) SetReadDeadline(time.Time) error { return nil }
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

// wsOpen returns the <open/> element the server sends (RFC 7395 §3.3.2).
func wsOpen(h stream.Header) []byte {
	el := stanza.NewElement(NSFraming, "open", "from", h.From, "id", h.ID, "version", h.Version)
	if h.Lang != "" {
		el.Attr = append(el.Attr, xml.Attr{Name: xml.Name{Space: xmlLangNS, Local: "lang"}, Value: h.Lang})
	}
	return el.AppendXML(nil, "")
}

const xmlLangNS = "http://www.w3.org/XML/1998/namespace"

var wsClose = []byte("<close xmlns='" + NSFraming + "'/>")

// declareStreamPrefix binds the stream: prefix on an element that stands
// alone in a WebSocket message.
func declareStreamPrefix(b []byte) []byte {
	s := string(b)
	for _, name := range []string{"<stream:error", "<stream:features"} {
		if strings.HasPrefix(s, name) {
			return []byte(name + " xmlns:stream='" + stream.NS + "'" + s[len(name):])
		}
	}
	return b
}
