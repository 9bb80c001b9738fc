package component

import (
	"context"
	"errors"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// validTypes lists the 'type' values that RFC 6120 and RFC 6121 define for
// each stanza kind. The empty string is an absent attribute.
var validTypes = map[string]map[string]bool{
	stanza.Message:  {"": true, "normal": true, "chat": true, "groupchat": true, "headline": true, "error": true},
	stanza.Presence: {"": true, "unavailable": true, "subscribe": true, "subscribed": true, "unsubscribe": true, "unsubscribed": true, "probe": true, "error": true},
	stanza.IQ:       {"get": true, "set": true, "result": true, "error": true},
}

// handle checks and routes one element the component sent after the
// handshake. A returned error ends the stream, while a faulty stanza gets
// a stanza error instead.
func (c *conn) handle(el *stanza.Stanza) error {
	if el.Space != stanza.NSComponent || validTypes[el.Name] == nil {
		return stream.UnsupportedStanzaType
	}
	from, err := jid.Parse(el.RawFrom)
	if el.RawFrom == "" || err != nil || from.Domainpart() != c.slot.domain {
		// A component speaks only for addresses at its own domain. A
		// subdomain would be another service.
		return stream.InvalidFrom.WithText("'from' must be an address at " + c.slot.domain)
	}
	el.From = from
	if el.RawTo == "" {
		c.reply(el, stanza.JIDMalformed.WithText("'to' is required"))
		return nil
	}
	to, err := jid.Parse(el.RawTo)
	if err != nil {
		c.reply(el, stanza.JIDMalformed)
		return nil
	}
	el.To = to
	if se := checkStanza(el); se != nil {
		c.reply(el, se)
		return nil
	}
	c.srv.router.Route(context.Background(), el)
	return nil
}

// checkStanza validates the type, and the id that RFC 6120 §8.2.3 requires
// on an iq.
func checkStanza(el *stanza.Stanza) *stanza.Error {
	if !validTypes[el.Name][el.Type] {
		return stanza.BadRequest.WithText("invalid type")
	}
	if el.Name == stanza.IQ && el.ID == "" {
		return stanza.BadRequest.WithText("an iq needs an id")
	}
	return nil
}

// reply sends an error for el back to the component, from the server's
// first domain, since the stanza never left the server. A stanza of type
// error gets no reply (RFC 6120 §8.3.1).
func (c *conn) reply(el *stanza.Stanza, se *stanza.Error) {
	if el.Type == "error" {
		return
	}
	var server jid.JID
	if d := c.srv.router.Domains(); len(d) > 0 {
		server, _ = jid.Parse(d[0])
	}
	r := stanza.ErrorReply(el, se, server)
	r.To = el.From
	if err := c.send(r); err != nil {
		c.log.Debug("error reply not sent", "err", err)
	}
}

// send queues st for the component without blocking. A component that
// has let the queue fill up is a slow consumer: its stream is closed with
// policy-violation and st is refused with resource-constraint, so the
// router returns it to its sender. Stanzas already queued are written
// before the stream error, within closeTimeout.
func (c *conn) send(st *stanza.Stanza) error {
	if !c.ready.Load() {
		// The handshake holds mu until its reply is queued.
		c.mu.Lock()
		ready := c.ready.Load()
		c.mu.Unlock()
		if !ready {
			return stanza.ServiceUnavailable
		}
	}
	err := c.w.SendStanza(st)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, stream.ErrQueueFull):
		c.log.Warn("slow component; closing stream", "queue", c.srv.sendQueue)
		c.close(stream.PolicyViolation.WithText("too many unread stanzas"))
		return stanza.ResourceConstraint
	default:
		// The stream is closing, so the component will not read st.
		return stanza.ServiceUnavailable
	}
}
