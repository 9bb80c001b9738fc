// Package componenttest is a raw external component client (XEP-0114) for
// tests: it writes the XML a test gives it and returns each top-level
// element the server sends.
package componenttest

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// Timeout bounds every wait of a client.
const Timeout = 10 * time.Second

// Client is one component connection.
type Client struct {
	t      testing.TB
	Conn   net.Conn
	Header stream.Header // the server's stream header, after Open
	rd     *stream.Reader
	closed bool
}

// Dial connects to addr without opening a stream. The connection is
// closed when the test ends.
func Dial(t testing.TB, addr string) *Client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &Client{t: t, Conn: nc}
	c.rd = stream.NewReader(bufio.NewReader(nc), stream.Limits{MaxSize: 1 << 24, MaxDepth: 1000})
	t.Cleanup(c.Close)
	return c
}

// Connect dials addr, opens a stream for domain and completes the
// handshake with secret, failing the test on any error.
func Connect(t testing.TB, addr, domain, secret string) *Client {
	t.Helper()
	c := Dial(t, addr)
	if err := c.Open(domain); err != nil {
		t.Fatalf("open component stream for %s: %v", domain, err)
	}
	if err := c.Handshake(secret); err != nil {
		t.Fatalf("handshake for %s: %v", domain, err)
	}
	return c
}

// Close closes the connection without closing the stream.
func (c *Client) Close() {
	if !c.closed {
		c.closed = true
		c.Conn.Close()
	}
}

// Send writes raw XML.
func (c *Client) Send(xml string) {
	c.t.Helper()
	c.Conn.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.Conn.Write([]byte(xml)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// Sendf writes formatted raw XML.
func (c *Client) Sendf(format string, args ...any) { c.Send(fmt.Sprintf(format, args...)) }

// Open sends a component stream header for domain and reads the server's
// header. A stream error that follows the header is returned by the next
// read.
func (c *Client) Open(domain string) error {
	c.Sendf("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='%s'>", domain)
	_, err := c.ReadHeader()
	return err
}

// ReadHeader reads the server's stream header and stores it in Header.
func (c *Client) ReadHeader() (stream.Header, error) {
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	h, err := c.rd.ReadHeader()
	if err != nil {
		return stream.Header{}, err
	}
	c.Header = h
	return h, nil
}

// Handshake sends the XEP-0114 digest of the stream id and secret and
// reads the reply: nil for an empty <handshake/>, a *stream.Error for a
// stream error.
func (c *Client) Handshake(secret string) error {
	c.Sendf("<handshake>%s</handshake>", Digest(c.Header.ID, secret))
	el, err := c.Read()
	if err != nil {
		return err
	}
	if el.Name != "handshake" || len(el.Inner) != 0 {
		return fmt.Errorf("expected an empty handshake, got %s", el)
	}
	return nil
}

// Digest returns the handshake value: the lowercase hex SHA-1 of the
// stream id followed by the secret.
func Digest(streamID, secret string) string {
	sum := sha1.Sum([]byte(streamID + secret))
	return hex.EncodeToString(sum[:])
}

// Read reads the next element and fills its To and From. A stream error
// is returned as a *stream.Error.
func (c *Client) Read() (*stanza.Stanza, error) {
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	el, err := c.rd.Next()
	if err != nil {
		return nil, err
	}
	if el.Space == stream.NS && el.Name == "error" {
		return nil, streamError(el)
	}
	el.To, _ = jid.Parse(el.RawTo)
	el.From, _ = jid.Parse(el.RawFrom)
	return el, nil
}

func streamError(el *stanza.Stanza) *stream.Error {
	se := &stream.Error{}
	p, err := el.Payload()
	if err != nil {
		return se
	}
	for _, e := range p.Elements() {
		if e.Name.Local == "text" {
			se.Text = e.Text()
		} else if se.Condition == "" {
			se.Condition = e.Name.Local
		}
	}
	return se
}

// Expect reads until an element that match accepts and returns it,
// failing the test on a stream error, the end of the stream or Timeout.
func (c *Client) Expect(match func(*stanza.Stanza) bool) *stanza.Stanza {
	c.t.Helper()
	for {
		el, err := c.Read()
		if err != nil {
			c.t.Fatalf("waiting for an element: %v", err)
		}
		if match(el) {
			return el
		}
	}
}

// ExpectStreamError reads until a stream error and returns its condition.
// It fails the test if the stream ends or Timeout passes first.
func (c *Client) ExpectStreamError() string {
	c.t.Helper()
	for {
		_, err := c.Read()
		if se := stream.AsError(err); se != nil {
			return se.Condition
		}
		if err != nil {
			c.t.Fatalf("waiting for a stream error: %v", err)
		}
	}
}

// ExpectClosed reads the next element and fails the test unless it is the
// server's closing tag. Then it closes the connection, as a component
// does once both streams are closed.
func (c *Client) ExpectClosed() {
	c.t.Helper()
	el, err := c.Read()
	if !errors.Is(err, stream.ErrClosed) {
		c.t.Fatalf("expected the closing tag, got %v, %v", el, err)
	}
	c.Close()
}
