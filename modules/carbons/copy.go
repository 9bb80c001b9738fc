package carbons

import (
	"context"
	"slices"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
)

// errForged is the error a client gets for a message that carries a
// carbons wrapper.
var errForged = stanza.NotAcceptable.WithText("only the server creates carbon copies")

// dropForged drops a message for a local account that carries a carbons
// wrapper and does not come from the account's bare JID. It runs at
// router.OrderFirst, so the message is neither delivered nor stored
// offline nor archived, and its sender gets no response.
func (m *module) dropForged(_ context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if s.To.Localpart() == "" || s.From.Equal(s.To.Bare()) || !carriesCarbon(s) {
		return router.Continue
	}
	m.log.Debug("dropped a forged carbon copy", "to", s.To.Bare().String(), "from", s.From.String())
	return router.Stop
}

// rejectForged rejects a message a client sends that carries a carbons
// wrapper: clients, the account's own included, never create carbons.
func (m *module) rejectForged(_ context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if s.Type == "error" || !carriesCarbon(s) {
		return router.Continue
	}
	if ev.Session != nil {
		reply := stanza.ErrorReply(s, errForged, jid.MustParse(s.From.Domainpart()))
		reply.To = s.From
		ev.Session.Deliver(reply)
	}
	return router.Stop
}

// copyReceived sends <received/> copies of a message for a local account
// to the account's carbons-enabled sessions that do not get the original.
// It also removes a <private/> marker, which is meant for servers only.
func (m *module) copyReceived(_ context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if s.To.Localpart() == "" {
		return router.Continue
	}
	user := s.To.Bare()
	// A message between resources of one account is copied on the way
	// out, as <sent/>, and only then.
	if !s.From.Bare().Equal(user) && m.anyEnabled(user) && eligible(s, received) {
		m.distribute(user, s, "received", m.originalTargets(s))
	}
	stripPrivate(s)
	return router.Continue
}

// copySent sends <sent/> copies of a message a client sends to the
// account's other carbons-enabled sessions. Whether the sender has
// carbons enabled does not matter (XEP-0280, "Sending Messages").
func (m *module) copySent(_ context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if ev.Session == nil {
		return router.Continue
	}
	user := s.From.Bare()
	if !m.anyEnabled(user) || !eligible(s, sent) {
		return router.Continue
	}
	skip := []router.Session{ev.Session}
	if stanza.IsZero(s.To) || s.To.Bare().Equal(user) {
		// A message to the account itself: the sessions that get the
		// original need no copy.
		to := s.Copy()
		if stanza.IsZero(to.To) {
			to.To = user
		}
		skip = append(skip, m.originalTargets(to)...)
	}
	m.distribute(user, s, "sent", skip)
	return router.Continue
}

// anyEnabled reports whether a session of user has carbons enabled. It is
// checked before the message is parsed, because most accounts have none.
func (m *module) anyEnabled(user jid.JID) bool {
	if m.enabled.Load() == 0 {
		return false
	}
	for _, sess := range m.host.Sessions(user) {
		if enabled(sess) {
			return true
		}
	}
	return false
}

// distribute delivers s, wrapped in a carbons element named wrapper, to
// every available carbons-enabled session of user not in skip.
func (m *module) distribute(user jid.JID, s *stanza.Stanza, wrapper string, skip []router.Session) {
	var inner []byte
	for _, sess := range m.host.Sessions(user) {
		if !enabled(sess) || !router.Available(sess) || slices.Contains(skip, sess) {
			continue
		}
		if inner == nil {
			inner = wrap(s, wrapper)
		}
		sess.Deliver(&stanza.Stanza{
			Name: stanza.Message, Type: s.Type, To: sess.JID(), From: user, Inner: inner,
		})
	}
}

// wrap returns the content of a carbon copy of s: the original message
// inside <forwarded/> (XEP-0297) inside <received/> or <sent/>.
func wrap(s *stanza.Stanza, wrapper string) []byte {
	b := []byte("<" + wrapper + " xmlns='" + NS + "'><forwarded xmlns='" + NSForward + "'>")
	b = s.AppendXML(b, stanza.NSClient)
	return append(b, "</forwarded></"+wrapper+">"...)
}

// originalTargets returns the sessions the router delivers a message for
// a local account to, by the rules of RFC 6121 §8.5. That is the session
// bound to the addressed full JID. For a bare JID or an absent resource it
// is the available sessions with the highest non-negative priority.
func (m *module) originalTargets(s *stanza.Stanza) []router.Session {
	if s.To.Resourcepart() != "" {
		if sess := m.host.Session(s.To); sess != nil {
			return []router.Session{sess}
		}
	}
	var best []router.Session
	top := -1
	for _, sess := range m.host.Sessions(s.To.Bare()) {
		p := router.Priority(sess)
		switch {
		case !router.Available(sess) || p < 0:
		case p > top:
			top = p
			best = append(best[:0], sess)
		case p == top:
			best = append(best, sess)
		}
	}
	return best
}

// stripPrivate removes the <private/> marker from a message before
// delivery, as XEP-0280 ("Avoiding Carbons for a single message")
// recommends for the recipient's server.
func stripPrivate(s *stanza.Stanza) {
	if !plainBytes(s) {
		p, err := s.Payload()
		if err == nil && p.Child(NS, "private") != nil {
			p.RemoveChildren(NS, "private")
			s.SetPayload(p)
		}
	}
}
