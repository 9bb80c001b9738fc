package xmpptest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	msasl "mellium.im/sasl"

	"tern/stanza"
)

// Login connects over STARTTLS, authenticates with SCRAM-SHA-256, binds
// resource and sends initial presence unless the resource name ends in
// "!" (which is stripped).
func (s *Server) Login(local, password, resource string) *Client {
	s.t.Helper()
	noPresence := strings.HasSuffix(resource, "!")
	resource = strings.TrimSuffix(resource, "!")
	c := s.Connect(local, password, resource)
	if !noPresence {
		c.Send("<presence/>")
		c.Barrier()
	}
	return c
}

// Connect logs in and binds without sending presence.
func (s *Server) Connect(local, password, resource string) *Client {
	s.t.Helper()
	c := Dial(s.t, s.Addr("c2s"), s.Domain())
	if err := c.Open(); err != nil {
		s.t.Fatalf("open stream: %v", err)
	}
	if c.Features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls") != nil {
		c.StartTLS()
	}
	if err := c.Auth(msasl.ScramSha256, local, password); err != nil {
		s.t.Fatalf("authenticate %s: %v", local, err)
	}
	if err := c.Bind(resource); err != nil {
		s.t.Fatalf("bind: %v", err)
	}
	return c
}

// Next returns the next element received after Bind, or an error after
// Timeout. Elements skipped by earlier Expect calls come first.
func (c *Client) Next() (*stanza.Stanza, error) {
	if len(c.backlog) > 0 {
		el := c.backlog[0]
		c.backlog = c.backlog[1:]
		return el, nil
	}
	return c.receive(Timeout)
}

func (c *Client) receive(d time.Duration) (*stanza.Stanza, error) {
	select {
	case r, ok := <-c.in:
		if !ok {
			return nil, errors.New("stream closed")
		}
		return r.el, r.err
	case <-time.After(d):
		return nil, context.DeadlineExceeded
	}
}

// Expect returns the first element that match accepts, keeping the
// others for later calls. It fails the test after Timeout.
func (c *Client) Expect(match func(*stanza.Stanza) bool) *stanza.Stanza {
	c.t.Helper()
	el, err := c.TryExpect(match)
	if err != nil {
		c.t.Fatalf("%s: %v", c.JID, err)
	}
	return el
}

// TryExpect is Expect returning an error instead of failing.
func (c *Client) TryExpect(match func(*stanza.Stanza) bool) (*stanza.Stanza, error) {
	for i, el := range c.backlog {
		if match(el) {
			c.backlog = append(c.backlog[:i], c.backlog[i+1:]...)
			return el, nil
		}
	}
	deadline := time.Now().Add(Timeout)
	for {
		el, err := c.receive(time.Until(deadline))
		if err != nil {
			return nil, fmt.Errorf("waiting for element: %w (unmatched: %s)", err, c.backlogString())
		}
		if match(el) {
			return el, nil
		}
		c.backlog = append(c.backlog, el)
	}
}

func (c *Client) backlogString() string {
	var parts []string
	for _, el := range c.backlog {
		parts = append(parts, el.String())
	}
	return strings.Join(parts, " ")
}

// Request sends an iq and returns its response.
func (c *Client) Request(iqXML, id string) *stanza.Stanza {
	c.t.Helper()
	c.Send(iqXML)
	return c.Expect(IsResponse(id))
}

// Barrier makes a round trip to the server, so everything this client sent
// before has been processed. Elements received meanwhile stay unread.
func (c *Client) Barrier() {
	c.t.Helper()
	id := fmt.Sprintf("barrier-%d", time.Now().UnixNano())
	c.Sendf("<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>", id)
	c.Expect(IsResponse(id))
}

// Sync makes a round trip to the server (an XEP-0199 ping), so every
// element the server sent before it has been received. It returns the
// elements received meanwhile that are still unread.
func (c *Client) Sync() []*stanza.Stanza {
	c.t.Helper()
	id := fmt.Sprintf("sync-%d", time.Now().UnixNano())
	c.Sendf("<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>", id)
	c.Expect(IsResponse(id))
	out := c.backlog
	c.backlog = nil
	return out
}

// IsResponse matches the iq response with the given id.
func IsResponse(id string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.IQ && s.ID == id && (s.Type == "result" || s.Type == "error")
	}
}

// IsMessage matches a message whose body contains text.
func IsMessage(text string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Message && strings.Contains(s.Child("", "body").Text(), text)
	}
}

// IsPresence matches a presence from the given JID (bare or full, as
// written) with the given type ("" for available).
func IsPresence(from, typ string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Presence && s.Type == typ && (s.RawFrom == from || s.From.String() == from)
	}
}

// IsStreamError matches a stream error.
func IsStreamError(s *stanza.Stanza) bool {
	return s.Name == "error" && s.Space == "http://etherx.jabber.org/streams"
}

// StreamErrorCondition returns the condition of a stream error element.
func StreamErrorCondition(s *stanza.Stanza) string {
	p, err := s.Payload()
	if err != nil {
		return ""
	}
	for _, e := range p.Elements() {
		if e.Name.Local != "text" {
			return e.Name.Local
		}
	}
	return ""
}

// ErrorCondition returns the stanza error condition of s, or "".
func ErrorCondition(s *stanza.Stanza) string {
	if e := stanza.ErrorOf(s); e != nil {
		return e.Condition
	}
	return ""
}
