package s2s

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// stanza checks the addresses of a stanza the peer sent and routes it
// (RFC 6120 §8.1.1.2, §8.1.2.2). A 'from' outside the domains authenticated
// on this stream ends the stream with invalid-from. A 'to' outside the
// domains served here ends it with host-unknown.
func (c *inConn) stanza(el *stanza.Stanza) error {
	switch el.Name {
	case stanza.Message, stanza.Presence, stanza.IQ:
	default:
		return stream.UnsupportedStanzaType
	}
	if !c.anyAuthed() {
		return stream.NotAuthorized
	}

	if el.RawFrom == "" || el.RawTo == "" {
		return stream.ImproperAddressing
	}
	from, err := jid.Parse(el.RawFrom)
	if err != nil || !c.isAuthed(from.Domainpart()) {
		return stream.InvalidFrom
	}
	el.From = from

	ctx := context.Background()
	to, err := jid.Parse(el.RawTo)
	if err != nil {
		// The error comes from the stream's domain, since the address it
		// would come from is malformed.
		el.To = jid.MustParse(c.local)
		c.srv.router.Bounce(ctx, el, stanza.JIDMalformed)
		return nil
	}
	if !c.srv.serves(to.Domainpart()) {
		return stream.HostUnknown
	}
	el.To = to

	if se := checkStanza(el); se != nil {
		c.srv.router.Bounce(ctx, el, se)
		return nil
	}
	c.srv.router.Route(ctx, el)
	return nil
}

var validTypes = map[string]map[string]bool{
	stanza.Message:  {"": true, "normal": true, "chat": true, "groupchat": true, "headline": true, "error": true},
	stanza.Presence: {"": true, "unavailable": true, "subscribe": true, "subscribed": true, "unsubscribe": true, "unsubscribed": true, "probe": true, "error": true},
	stanza.IQ:       {"get": true, "set": true, "result": true, "error": true},
}

// checkStanza validates the type and id rules of RFC 6120 §8.2.
func checkStanza(el *stanza.Stanza) *stanza.Error {
	if !validTypes[el.Name][el.Type] {
		return stanza.BadRequest.WithText("invalid type")
	}
	if el.Name == stanza.IQ && el.ID == "" {
		return stanza.BadRequest.WithText("an iq needs an id")
	}
	return nil
}
