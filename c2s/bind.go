package c2s

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// bindIQ handles the iqs allowed after authentication and before bind:
// resource binding (RFC 6120 §7) and the legacy session request
// (RFC 3921 §3, kept as a no-op for old clients).
func (c *conn) bindIQ(el *stanza.Stanza) error {
	children := el.Children()
	if el.Type != "set" || len(children) != 1 {
		return stream.NotAuthorized.WithText("bind a resource first")
	}
	switch children[0].Name.Space {
	case nsSession:
		return c.write(c.stanzaBytes(stanza.Result(el)))
	case nsBind:
	default:
		return stream.NotAuthorized.WithText("bind a resource first")
	}
	resource := children[0].Child(nsBind, "resource").Text()
	if resource == "" {
		resource = newResource()
	}
	full, err := jid.New(c.user, c.domain, resource)
	if err != nil || len(full.Resourcepart()) > 1023 {
		return c.write(c.stanzaBytes(stanza.ErrorReply(el, stanza.BadRequest.WithText("invalid resource"), jid.JID{})))
	}
	res := stanza.Result(el, stanza.NewElement(nsBind, "bind").Add(
		stanza.NewElement(nsBind, "jid").AddText(full.String())))
	s := c.newSession(full)
	// The result is queued before the session becomes reachable, so it
	// precedes anything routed to the new JID.
	if err := s.w.SendStanza(res); err != nil {
		return err
	}
	c.sess = s
	c.srv.router.Bind(context.Background(), s)
	c.log.Debug("resource bound")
	return nil
}

func newResource() string {
	var b [6]byte
	rand.Read(b[:])
	return "tern-" + hex.EncodeToString(b[:])
}
