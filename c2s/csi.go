package c2s

import (
	"tern/stanza"
	"tern/stream"
)

// nsCSI is the namespace of XEP-0352 Client State Indication.
const nsCSI = "urn:xmpp:csi:0"

// maxHeld bounds the stanzas held for an inactive client; beyond it they
// are flushed.
const maxHeld = 200

// csiState holds back presence and chat states while the client says it
// is inactive, and flushes them, in order, before the next stanza that
// matters or when the client becomes active.
type csiState struct {
	inactive bool
	held     []*stanza.Stanza
}

// hold reports whether st is held back; it keeps only the latest presence
// of each sender.
func (c *csiState) hold(st *stanza.Stanza) bool {
	if !c.inactive || !holdable(st) || len(c.held) >= maxHeld {
		return false
	}
	if st.Name == stanza.Presence {
		for i, h := range c.held {
			if h.Name == stanza.Presence && h.From.Equal(st.From) {
				c.held = append(c.held[:i], c.held[i+1:]...)
				break
			}
		}
	}
	c.held = append(c.held, st)
	return true
}

// flushFor returns the held stanzas that must go out before st.
func (c *csiState) flushFor(st *stanza.Stanza) []*stanza.Stanza {
	if len(c.held) == 0 {
		return nil
	}
	if c.inactive && st.Name == stanza.IQ {
		return nil // an iq can go ahead without the held updates
	}
	return c.takeHeld()
}

func (c *csiState) takeHeld() []*stanza.Stanza {
	out := c.held
	c.held = nil
	return out
}

// holdable reports whether a stanza can wait: availability presence and
// messages carrying nothing but chat states or similar notifications.
func holdable(st *stanza.Stanza) bool {
	switch st.Name {
	case stanza.Presence:
		return st.Type == "" || st.Type == "unavailable"
	case stanza.Message:
		if st.Type == "error" {
			return false
		}
		for _, c := range st.Children() {
			switch c.Name.Space {
			case "http://jabber.org/protocol/chatstates", "urn:xmpp:hints":
				continue
			}
			return false
		}
		return true
	}
	return false
}

func (s *session) handleCSI(el *stanza.Stanza) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch el.Name {
	case "inactive":
		s.csi.inactive = true
	case "active":
		s.csi.inactive = false
		for _, st := range s.csi.takeHeld() {
			if err := s.deliverLocked(st); err != nil {
				return err
			}
		}
	default:
		return stream.UnsupportedStanzaType
	}
	return nil
}
