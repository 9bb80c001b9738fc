package xmpptest

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// Timeout bounds every wait of a test client.
const Timeout = 10 * time.Second

// Client is a raw XMPP client for tests: it sends what the test writes and
// returns each top-level element the server sends.
type Client struct {
	t      testing.TB
	Domain string
	JID    jid.JID
	Conn   net.Conn
	// Raw is the TCP connection under Conn.
	Raw      net.Conn
	TLS      *tls.ConnectionState
	Header   stream.Header
	Features *stanza.Element

	br      *bufio.Reader
	rd      *stream.Reader
	in      chan readResult
	backlog []*stanza.Stanza
	closed  bool
}

type readResult struct {
	el  *stanza.Stanza
	err error
}

// Dial connects to addr without opening a stream. The connection is
// closed when the test ends.
func Dial(t testing.TB, addr, domain string) *Client {
	t.Helper()
	return DialFrom(t, "", addr, domain)
}

// DialFrom is Dial from the local IP address localIP, or from any address
// when localIP is empty. On Linux every address in 127.0.0.0/8 is a
// loopback address, so a test can connect from 127.0.0.2 to a server on
// 127.0.0.1 to act as a second client address.
func DialFrom(t testing.TB, localIP, addr, domain string) *Client {
	t.Helper()
	d := net.Dialer{Timeout: Timeout}
	if localIP != "" {
		ip := net.ParseIP(localIP)
		if ip == nil {
			t.Fatalf("invalid local IP address %q", localIP)
		}
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %q: %v", addr, localIP, err)
	}
	c := &Client{t: t, Domain: domain, Conn: nc, Raw: nc}
	c.br = bufio.NewReader(nc)
	c.rd = stream.NewReader(c.br, stream.Limits{MaxSize: 1 << 24, MaxDepth: 1000})
	t.Cleanup(c.Close)
	return c
}

// DialTLS connects with direct TLS (XEP-0368).
func DialTLS(t testing.TB, addr, domain string) *Client {
	c := Dial(t, addr, domain)
	c.wrapTLS(domain)
	return c
}

func (c *Client) wrapTLS(serverName string) {
	c.t.Helper()
	tc := tls.Client(c.Conn, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(Timeout))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.TLS = &st
	c.Conn = tc
	c.br = bufio.NewReader(tc)
	c.rd.Reset(c.br)
}

// Kill resets the TCP connection without closing the stream or TLS, as
// when a phone loses its network.
func (c *Client) Kill() {
	if tc, ok := c.Raw.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.closed = true
	c.Raw.Close()
}

// StartReading reads elements in the background, as after Bind, for
// streams bound another way (such as stream management resumption).
func (c *Client) StartReading() { c.startReading() }

// Close closes the connection.
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

// Open sends a stream header and reads the server's header and features.
func (c *Client) Open() error {
	c.Sendf("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='%s' version='1.0'>", c.Domain)
	return c.ReadOpen()
}

// ReadOpen reads the server's stream header and features.
func (c *Client) ReadOpen() error {
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	h, err := c.rd.ReadHeader()
	if err != nil {
		return err
	}
	c.Header = h
	el, err := c.Read()
	if err != nil {
		return err
	}
	if el.Name != "features" {
		return fmt.Errorf("expected features, got %s", el)
	}
	c.Features, err = el.Payload()
	return err
}

// Read reads the next top-level element synchronously; use it before
// Bind. A stream error is returned as an element named "error" in the
// streams namespace.
func (c *Client) Read() (*stanza.Stanza, error) {
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	el, err := c.rd.Next()
	if err != nil {
		return nil, err
	}
	parseAddrs(el)
	return el, nil
}

// parseAddrs fills To and From from the raw attributes.
func parseAddrs(el *stanza.Stanza) {
	el.To, _ = jid.Parse(el.RawTo)
	el.From, _ = jid.Parse(el.RawFrom)
}

// StartTLS negotiates STARTTLS and reopens the stream.
func (c *Client) StartTLS() {
	c.t.Helper()
	c.Send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	el, err := c.Read()
	if err != nil || el.Name != "proceed" {
		c.t.Fatalf("starttls: got %v, %v", el, err)
	}
	c.wrapTLS(c.Domain)
	if err := c.Open(); err != nil {
		c.t.Fatalf("open after TLS: %v", err)
	}
}

// Mechanisms returns the SASL mechanisms in the current features.
func (c *Client) Mechanisms() []string {
	var out []string
	for _, m := range c.Features.Child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms").Elements() {
		out = append(out, m.Text())
	}
	return out
}

// Auth authenticates with a SCRAM mechanism using mellium.im/sasl's client
// and reopens the stream. It returns the SASL failure condition as an
// error.
func (c *Client) Auth(mech msasl.Mechanism, user, password string) error {
	opts := []msasl.Option{msasl.Credentials(func() ([]byte, []byte, []byte) {
		return []byte(user), []byte(password), nil
	})}
	if c.TLS != nil {
		opts = append(opts, msasl.TLSState(*c.TLS), msasl.RemoteMechanisms(c.Mechanisms()...))
	}
	neg := msasl.NewClient(mech, opts...)
	_, resp, err := neg.Step(nil)
	if err != nil {
		return err
	}
	c.Sendf("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>%s</auth>", mech.Name, base64.StdEncoding.EncodeToString(resp))
	for {
		el, err := c.Read()
		if err != nil {
			return err
		}
		p, _ := el.Payload()
		switch el.Name {
		case "challenge":
			data, _ := base64.StdEncoding.DecodeString(p.Text())
			_, resp, err = neg.Step(data)
			if err != nil {
				return err
			}
			c.Sendf("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>", base64.StdEncoding.EncodeToString(resp))
		case "success":
			data, _ := base64.StdEncoding.DecodeString(p.Text())
			if _, _, err := neg.Step(data); err != nil {
				return fmt.Errorf("server signature: %w", err)
			}
			c.rd.Reset(c.br)
			return c.Open()
		case "failure":
			if els := p.Elements(); len(els) > 0 {
				return errors.New(els[0].Name.Local)
			}
			return errors.New("failure")
		default:
			return fmt.Errorf("unexpected %s", el)
		}
	}
}

// Bind binds a resource (empty for a server-generated one) and starts
// reading in the background.
func (c *Client) Bind(resource string) error {
	if resource == "" {
		c.Send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
	} else {
		c.Sendf("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>", Escape(resource))
	}
	el, err := c.Read()
	if err != nil {
		return err
	}
	if el.Type != "result" {
		return fmt.Errorf("bind failed: %s", el)
	}
	j, err := jid.Parse(el.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind").Child("", "jid").Text())
	if err != nil {
		return err
	}
	c.JID = j
	c.startReading()
	return nil
}

// Escape escapes text for XML.
func Escape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", "\"", "&quot;")
	return r.Replace(s)
}

func (c *Client) startReading() {
	c.in = make(chan readResult, 1024)
	c.Conn.SetReadDeadline(time.Time{})
	go func() {
		for {
			el, err := c.rd.Next()
			if el != nil {
				parseAddrs(el)
			}
			c.in <- readResult{el, err}
			if err != nil {
				close(c.in)
				return
			}
		}
	}()
}

// ReadHeaderOnly reads the server's stream header without features.
func (c *Client) ReadHeaderOnly() (stream.Header, error) {
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	h, err := c.rd.ReadHeader()
	c.Header = h
	return h, err
}
