// Package multicast makes each server domain a multicast service of
// Extended Stanza Addressing (XEP-0033): a local user sends one message
// or presence to the domain with an <addresses/> header listing to, cc
// and bcc addresses, and the server delivers one copy to each distinct
// address, local or remote.
//
// Each copy keeps the sender's 'from', carries the to and cc addresses
// marked delivered='true', and leaves out every bcc address except the
// recipient's own. Other address types (replyto, replyroom, noreply) pass
// along unchanged. Remote recipients get one copy per address; the
// service does not look for multicast support on remote servers. The
// service remembers who got available presence from whom through it and
// sends them unavailable presence when the sender goes offline (XEP-0033
// §4.6).
package multicast

import (
	"context"
	"errors"
	"log/slog"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// NS is the namespace of the address header and the disco feature.
const NS = "http://jabber.org/protocol/address"

func init() {
	modules.Register(modules.Module{Name: "multicast", New: start})
}

type module struct {
	host     router.Host
	max      int
	log      *slog.Logger
	presence *presenceTracker
}

func start(env *modules.Env) error {
	m := &module{
		host:     env.Host,
		max:      env.Config.Multicast.MaxAddresses,
		log:      env.Host.Logger("multicast"),
		presence: newPresenceTracker(),
	}
	h := env.Host
	h.AddFeature(router.ScopeServer, NS)
	h.Hook(router.Inbound, stanza.Message, router.OrderFirst, m.inbound)
	h.Hook(router.Inbound, stanza.Presence, router.OrderFirst, m.inbound)
	h.OnSession(router.SessionUnavailable, m.sessionEnded)
	h.OnSession(router.SessionClosed, m.sessionEnded)
	return nil
}

// inbound handles message and presence stanzas addressed to a server
// domain that carry an address header.
func (m *module) inbound(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if s.To.Localpart() != "" || s.To.Resourcepart() != "" || s.Type == "error" {
		return router.Continue
	}
	header := s.Child(NS, "addresses")
	if header == nil {
		if s.Name == stanza.Presence && s.Type == "unavailable" {
			// XEP-0033 §4.6: unavailable presence to the service ends
			// the presence the sender multicast.
			m.sendUnavailable(ctx, s.From)
		}
		return router.Continue
	}
	if !m.mayUse(s.From) {
		m.reject(ctx, s, stanza.Forbidden.WithText("only local users may use this multicast service"))
		return router.Stop
	}
	p, err := parseHeader(header, m.max)
	if err != nil {
		m.reject(ctx, s, err)
		return router.Stop
	}
	m.deliver(ctx, s, p)
	return router.Stop
}

// mayUse reports whether from is a local user, the only senders the
// service relays for (XEP-0033 §3 lets a service limit its users).
func (m *module) mayUse(from jid.JID) bool {
	return from.Localpart() != "" && m.host.IsLocal(from.Domainpart())
}

// reject sends the error response to s's sender, from the service.
func (m *module) reject(ctx context.Context, s *stanza.Stanza, err error) {
	var e *stanza.Error
	if !errors.As(err, &e) {
		e = stanza.InternalServerError
	}
	m.log.Debug("multicast rejected", "from", s.From.String(), "condition", e.Condition)
	m.host.Route(ctx, stanza.ErrorReply(s, e, s.To))
}

// deliver routes one copy of s to each recipient of p, as the server
// routes any stanza, so unknown local accounts bounce and blocking and
// offline storage apply to each copy.
func (m *module) deliver(ctx context.Context, s *stanza.Stanza, p *plan) {
	root, err := s.Payload()
	if err != nil {
		return // the stream reader has parsed it already
	}
	var public *stanza.Stanza // the copy shared by to and cc recipients
	for _, r := range p.recipients {
		var c *stanza.Stanza
		if r.bcc < 0 && public != nil {
			c = public.Copy()
		} else {
			c = s.Copy()
			c.SetPayload(replaceChild(root, p.header, p.headerFor(r)))
			if r.bcc < 0 {
				public = c.Copy()
			}
		}
		c.To = r.jid
		m.host.Route(ctx, c)
	}
	if s.Name == stanza.Presence {
		m.presence.record(s.From, s.Type, p.recipients)
	}
	m.log.Debug("multicast delivered", "from", s.From.String(), "kind", s.Name, "recipients", len(p.recipients))
}

// replaceChild returns a shallow copy of root whose child old is replaced
// by repl.
func replaceChild(root, old, repl *stanza.Element) *stanza.Element {
	c := *root
	c.Children = make([]stanza.Node, len(root.Children))
	for i, n := range root.Children {
		if el, ok := n.(*stanza.Element); ok && el == old {
			c.Children[i] = repl
			continue
		}
		c.Children[i] = n
	}
	return &c
}

// sessionEnded sends unavailable presence to everyone the session sent
// available presence to through the service.
func (m *module) sessionEnded(ctx context.Context, sess router.Session) {
	m.sendUnavailable(ctx, sess.JID())
}

// sendUnavailable sends unavailable presence from sender to each entity
// that got its available presence through the service, and removes them
// from the tracker.
func (m *module) sendUnavailable(ctx context.Context, sender jid.JID) {
	for _, to := range m.presence.take(sender) {
		m.host.Route(ctx, stanza.New(stanza.Presence, "unavailable", to, sender))
	}
}
