package roster

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// outboundSubscription applies a subscription presence the account sends
// and routes it on with the account's bare JID as 'from' (RFC 6121 §3).
func (m *module) outboundSubscription(ctx context.Context, p *stanza.Stanza) {
	user, contact := p.From.Bare(), p.To.Bare()
	if user.Equal(contact) {
		return
	}
	it, err := m.loadItem(ctx, user, contact.String())
	if err != nil {
		m.log.Error("load roster item", "err", err, "jid", user.String())
		return
	}
	before := stateOf(it)
	t, preApprove := outbound(before, p.Type)
	changed := t.next != before
	switch {
	case preApprove && !it.PreApproved:
		it.PreApproved = true
		it.Listed = true
		changed = true
	case p.Type == "unsubscribed" && it.PreApproved:
		it.PreApproved = false
		changed = true
	}
	t.next.apply(&it)
	if p.Type == "subscribe" || t.next.Sub != storage.SubNone {
		if !it.Listed {
			it.Listed = true
			changed = true
		}
	}
	if changed {
		if err := m.put(ctx, user, it); err != nil {
			m.log.Error("store roster item", "err", err, "jid", user.String())
			return
		}
	}
	if !t.forward {
		return
	}
	out := p.Copy()
	out.From = user
	out.To = contact
	m.host.Route(ctx, out)
	switch {
	case p.Type == "subscribed":
		m.sendCurrentPresence(ctx, user, contact)
	case p.Type == "unsubscribed" && hasFrom(before.Sub):
		m.sendUnavailableTo(ctx, user, contact)
	}
}

// sendCurrentPresence sends the presence of each available resource of
// user to a contact that just got a subscription (RFC 6121 §3.1.5).
func (m *module) sendCurrentPresence(ctx context.Context, user, contact jid.JID) {
	for _, s := range m.host.Sessions(user) {
		if pres := s.Presence(); pres != nil {
			out := pres.Copy()
			out.From = s.JID()
			out.To = contact
			m.host.Route(ctx, out)
		}
	}
}

// inboundSubscription applies a subscription presence a contact sends to
// the account and delivers it to the account's available resources when
// the state changed (RFC 6121 §3, Appendix A.3 and A.5).
func (m *module) inboundSubscription(ctx context.Context, p *stanza.Stanza) {
	user, contact := p.To.Bare(), p.From.Bare()
	if user.Equal(contact) {
		return
	}
	it, err := m.loadItem(ctx, user, contact.String())
	if err != nil {
		m.log.Error("load roster item", "err", err, "jid", user.String())
		return
	}
	before := stateOf(it)
	t, autoReply := inbound(before, p.Type, it.PreApproved)
	changed := t.next != before
	t.next.apply(&it)
	in := p.Copy()
	in.From = contact
	in.To = user
	if autoReply {
		if it.PreApproved {
			it.PreApproved = false
			changed = true
		}
		if changed {
			it.Listed = true
			if err := m.put(ctx, user, it); err != nil {
				m.log.Error("store roster item", "err", err, "jid", user.String())
			}
		}
		m.host.Route(ctx, stanza.New(stanza.Presence, "subscribed", contact, user))
		m.sendCurrentPresence(ctx, user, contact)
		return
	}
	if !t.forward {
		return
	}
	if p.Type == "subscribe" {
		it.Stanza = in.AppendXML(nil, "")
	} else if !it.PendingIn {
		it.Stanza = nil
	}
	if err := m.put(ctx, user, it); err != nil {
		m.log.Error("store roster item", "err", err, "jid", user.String())
		return
	}
	m.host.Deliver(ctx, in)
	if p.Type == "unsubscribed" && hasTo(before.Sub) {
		for _, s := range m.host.Sessions(user) {
			if router.Available(s) {
				s.Deliver(stanza.New(stanza.Presence, "unavailable", s.JID(), contact))
			}
		}
	}
}
