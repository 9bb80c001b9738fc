package router

import (
	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// Session is a client session bound to a full JID on this node, as the
// router and the modules see it. The c2s package implements it.
type Session interface {
	// ID is a unique identifier of the session, used in logs.
	ID() string
	// JID returns the bound full JID.
	JID() jid.JID
	// Deliver queues s for the client. It never blocks; a session that
	// cannot take more applies its slow-consumer policy.
	Deliver(s *stanza.Stanza)
	// Presence returns the last available presence broadcast by the
	// session, or nil before initial presence and after unavailable.
	Presence() *stanza.Stanza
	// SetPresence records the session's current broadcast presence; nil
	// marks it unavailable.
	SetPresence(p *stanza.Stanza)
	// RosterRequested reports whether the client has fetched its roster,
	// which makes it an interested resource for roster pushes
	// (RFC 6121 §2.1.6).
	RosterRequested() bool
	// Close ends the session with a stream error, or a plain close when
	// err is nil.
	Close(err *stream.Error)
	// Value returns per-session state stored by a module under key.
	Value(key any) any
	// SetValue stores per-session state for a module.
	SetValue(key, value any)
}

// Available reports whether s has sent available presence.
func Available(s Session) bool { return s.Presence() != nil }

// Priority returns the priority of s's current presence, 0 when it has
// none. A session with a Priority method supplies it, so that its stored
// presence need not keep a parsed payload.
func Priority(s Session) int {
	if ps, ok := s.(interface{ Priority() int }); ok {
		return ps.Priority()
	}
	p := s.Presence()
	if p == nil {
		return 0
	}
	return p.Priority()
}
