package roster

import (
	"context"
	"errors"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

// directedKey is the session value holding the set of JIDs the session
// sent directed available presence to (RFC 6121 §4.6).
type directedKey struct{}

// unavailableKey is the session value holding the unavailable presence the
// client sent, broadcast when the session goes unavailable.
type unavailableKey struct{}

type directedSet struct {
	mu   sync.Mutex
	jids map[string]jid.JID
}

func isSubscriptionType(t string) bool {
	switch t {
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		return true
	}
	return false
}

// outboundPresence handles presence sent by a local session.
func (m *module) outboundPresence(ctx context.Context, ev *router.Event) router.Result {
	p := ev.Stanza
	sess := ev.Session
	if stanza.IsZero(p.To) {
		switch p.Type {
		case "":
			m.available(ctx, sess, p)
		case "unavailable":
			if router.Available(sess) {
				sess.SetValue(unavailableKey{}, p)
				sess.SetPresence(nil)
				m.host.FireSession(ctx, router.SessionUnavailable, sess)
			}
		}
		return router.Stop
	}
	if isSubscriptionType(p.Type) {
		m.outboundSubscription(ctx, p)
		return router.Stop
	}
	if p.Type == "" || p.Type == "unavailable" {
		m.trackDirected(ctx, sess, p)
	}
	return router.Continue
}

// available handles broadcast available presence (RFC 6121 §4.2, §4.4).
func (m *module) available(ctx context.Context, sess router.Session, p *stanza.Stanza) {
	initial := !router.Available(sess)
	p = p.Copy()
	sess.SetPresence(p)
	user := sess.JID().Bare()
	items, _, err := m.store.GetRoster(ctx, owner(user))
	if err != nil {
		m.log.Error("load roster for presence", "err", err, "jid", user.String())
	}
	for _, it := range items {
		if !hasFrom(it.Subscription) {
			continue
		}
		if c, err := jid.Parse(it.JID); err == nil {
			out := p.Copy()
			out.To = c
			m.host.Route(ctx, out)
		}
	}
	// The account's own available resources, this one included, see the
	// new presence.
	for _, s := range m.host.Sessions(user) {
		if router.Available(s) {
			out := p.Copy()
			out.To = s.JID()
			s.Deliver(out)
		}
	}
	if !initial {
		return
	}
	m.probeContacts(ctx, sess, items)
	for _, s := range m.host.Sessions(user) {
		if s != sess && router.Available(s) {
			out := s.Presence().Copy()
			out.To = sess.JID()
			sess.Deliver(out)
		}
	}
	m.redeliverRequests(sess, items)
	m.host.FireSession(ctx, router.SessionAvailable, sess)
}

// probeContacts asks for the presence of every contact the account is
// subscribed to (RFC 6121 §4.2.2).
func (m *module) probeContacts(ctx context.Context, sess router.Session, items []storage.RosterItem) {
	user := sess.JID().Bare()
	for _, it := range items {
		if !hasTo(it.Subscription) {
			continue
		}
		c, err := jid.Parse(it.JID)
		if err != nil {
			continue
		}
		m.host.Route(ctx, stanza.New(stanza.Presence, "probe", c, user))
	}
}

// redeliverRequests sends pending inbound subscription requests to a
// session that just became available (RFC 6121 §3.1.3).
func (m *module) redeliverRequests(sess router.Session, items []storage.RosterItem) {
	for _, it := range items {
		if !it.PendingIn {
			continue
		}
		c, err := jid.Parse(it.JID)
		if err != nil {
			continue
		}
		var req *stanza.Stanza
		if len(it.Stanza) > 0 {
			req, _ = stream.ParseStanza(it.Stanza)
		}
		if req == nil {
			req = stanza.New(stanza.Presence, "subscribe", sess.JID().Bare(), c)
		}
		req.To = sess.JID().Bare()
		sess.Deliver(req)
	}
}

// broadcastUnavailable runs when a session goes unavailable, by its own
// presence or because it ended.
func (m *module) broadcastUnavailable(ctx context.Context, sess router.Session) {
	p, _ := sess.Value(unavailableKey{}).(*stanza.Stanza)
	sess.SetValue(unavailableKey{}, nil)
	if p == nil {
		p = stanza.New(stanza.Presence, "unavailable", jid.JID{}, sess.JID())
	}
	p = p.Copy()
	p.From = sess.JID()
	user := sess.JID().Bare()
	sent := map[string]bool{}
	items, _, err := m.store.GetRoster(ctx, owner(user))
	if err != nil {
		m.log.Error("load roster for presence", "err", err, "jid", user.String())
	}
	for _, it := range items {
		if hasFrom(it.Subscription) {
			sent[it.JID] = true
			m.sendPresence(ctx, p, it.JID)
		}
	}
	if d, ok := sess.Value(directedKey{}).(*directedSet); ok {
		d.mu.Lock()
		for k, j := range d.jids {
			if !sent[k] && !sent[j.Bare().String()] {
				out := p.Copy()
				out.To = j
				m.host.Route(ctx, out)
			}
		}
		d.jids = nil
		d.mu.Unlock()
	}
	for _, s := range m.host.Sessions(user) {
		out := p.Copy()
		out.To = s.JID()
		if s != sess && router.Available(s) {
			s.Deliver(out)
		}
	}
}

func (m *module) sendPresence(ctx context.Context, p *stanza.Stanza, to string) {
	c, err := jid.Parse(to)
	if err != nil {
		return
	}
	out := p.Copy()
	out.To = c
	m.host.Route(ctx, out)
}

// sendUnavailableTo sends unavailable presence from each available
// resource of user to contact, as when the contact loses its subscription.
func (m *module) sendUnavailableTo(ctx context.Context, user, contact jid.JID) {
	for _, s := range m.host.Sessions(user) {
		if router.Available(s) {
			m.host.Route(ctx, stanza.New(stanza.Presence, "unavailable", contact, s.JID()))
		}
	}
}

// trackDirected records directed presence to entities that are not
// subscribed, so they get unavailable presence when the session ends.
func (m *module) trackDirected(ctx context.Context, sess router.Session, p *stanza.Stanza) {
	d, _ := sess.Value(directedKey{}).(*directedSet)
	if d == nil {
		d = &directedSet{}
		sess.SetValue(directedKey{}, d)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.Type == "unavailable" {
		delete(d.jids, p.To.String())
		return
	}
	if it, err := m.store.GetRosterItem(ctx, owner(sess.JID()), p.To.Bare().String()); err == nil && hasFrom(it.Subscription) {
		return
	}
	if d.jids == nil {
		d.jids = make(map[string]jid.JID)
	}
	d.jids[p.To.String()] = p.To
}

// inboundPresence handles presence addressed to a local account.
func (m *module) inboundPresence(ctx context.Context, ev *router.Event) router.Result {
	p := ev.Stanza
	switch {
	case isSubscriptionType(p.Type):
		m.inboundSubscription(ctx, p)
		return router.Stop
	case p.Type == "probe":
		m.answerProbe(ctx, p)
		return router.Stop
	}
	return router.Continue
}

// answerProbe replies to a presence probe with the current presence of
// each available resource, when the prober may see it (RFC 6121 §4.3.2).
func (m *module) answerProbe(ctx context.Context, p *stanza.Stanza) {
	user := p.To.Bare()
	if !p.From.Bare().Equal(user) {
		it, err := m.store.GetRosterItem(ctx, owner(user), p.From.Bare().String())
		if err != nil || !hasFrom(it.Subscription) {
			return
		}
	}
	found := false
	for _, s := range m.host.Sessions(user) {
		if pres := s.Presence(); pres != nil {
			found = true
			out := pres.Copy()
			out.From = s.JID()
			out.To = p.From
			m.host.Route(ctx, out)
		}
	}
	if !found {
		m.host.Route(ctx, stanza.New(stanza.Presence, "unavailable", p.From, user))
	}
}

func (m *module) loadItem(ctx context.Context, user jid.JID, contact string) (storage.RosterItem, error) {
	it, err := m.store.GetRosterItem(ctx, owner(user), contact)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.RosterItem{JID: contact, Subscription: storage.SubNone}, nil
	}
	return it, err
}
