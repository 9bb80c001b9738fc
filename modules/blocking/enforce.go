package blocking

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
)

// errBlocked is the error a client gets for a stanza to a JID its account
// blocks. Its type is cancel, as in the example of XEP-0191 ("User Blocks
// Contact"), although RFC 6120 suggests modify for not-acceptable.
var errBlocked = &stanza.Error{
	Type:      stanza.ErrCancel,
	Condition: "not-acceptable",
	App:       stanza.NewElement(NSErrors, "blocked"),
}

// inbound runs on stanzas for a local account. It stops stanzas from JIDs
// the account blocks, and stanzas that a module routes on behalf of a
// local account to a recipient that account blocks.
func (m *module) inbound(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if stanza.IsZero(s.From) || s.To.Localpart() == "" {
		return router.Continue
	}
	user := s.To.Bare()
	if s.From.Bare().Equal(user) {
		return router.Continue
	}
	if m.checker.blocked(ctx, user, s.From) {
		m.rejectFromBlocked(ctx, s, user)
		return router.Stop
	}
	if s.Type != "error" && m.isLocalAccount(s.From) && m.checker.blocked(ctx, s.From.Bare(), s.To) {
		// The sender's own client cannot get here: the outbound hook
		// rejected its stanza already. What remains is presence and
		// notifications generated for the sender. Errors pass, so that
		// the rejections sent to a blocked entity reach it.
		if isRequest(s) {
			// Delivered, not routed: it comes from the blocked JID.
			m.host.Deliver(ctx, stanza.ErrorReply(s, errBlocked, jid.JID{}))
		}
		return router.Stop
	}
	return router.Continue
}

// rejectFromBlocked handles a stanza from a blocked JID as XEP-0191
// requires. Messages other than errors and iq requests get
// service-unavailable from the user's bare JID, the condition a
// nonexistent account gets too. Presence, errors and iq responses are
// dropped with no response.
func (m *module) rejectFromBlocked(ctx context.Context, s *stanza.Stanza, user jid.JID) {
	switch {
	case s.Name == stanza.Message && s.Type != "error", isRequest(s):
		m.host.Route(ctx, stanza.ErrorReply(s, stanza.ServiceUnavailable, user))
	}
}

// outbound runs on stanzas sent by a local client. A stanza to a JID the
// account blocks is not routed; the client gets errBlocked from that JID.
func (m *module) outbound(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if stanza.IsZero(s.To) {
		return router.Continue
	}
	user := s.From.Bare()
	if s.To.Bare().Equal(user) || !m.checker.blocked(ctx, user, s.To) {
		return router.Continue
	}
	if s.Type == "error" || (s.Name == stanza.IQ && !isRequest(s)) {
		return router.Stop // responses to a blocked JID are dropped
	}
	reply := stanza.ErrorReply(s, errBlocked, jid.JID{})
	reply.To = s.From
	// Delivered to the session directly: routed, the error would come
	// from the blocked JID and be dropped by the inbound hook.
	if ev.Session != nil {
		ev.Session.Deliver(reply)
	}
	return router.Stop
}

// isLocalAccount reports whether j belongs to an account on this server.
func (m *module) isLocalAccount(j jid.JID) bool {
	return j.Localpart() != "" && m.host.IsLocal(j.Domainpart())
}

// isRequest reports whether s is an iq get or set.
func isRequest(s *stanza.Stanza) bool {
	return s.Name == stanza.IQ && (s.Type == "get" || s.Type == "set")
}
