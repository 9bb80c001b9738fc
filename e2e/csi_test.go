package e2e

import (
	"testing"

	"tern/internal/xmpptest"
	"tern/stanza"
)

// TestCSIHoldsPresenceUntilAMessage: an inactive client gets no presence
// flood; the first message with a body arrives at once, preceded by the
// held presence in order (XEP-0352).
func TestCSIHoldsPresenceUntilAMessage(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	// Romeo subscribes to juliet and nurse so their presence reaches him.
	for _, other := range []struct{ user, pass string }{{"juliet", "j-secret"}, {"nurse", "n-secret"}} {
		c := s.Login(other.user, other.pass, "x")
		r.Sendf("<presence to='%s@localhost' type='subscribe'/>", other.user)
		c.Expect(xmpptest.IsPresence("romeo@localhost", "subscribe"))
		c.Sendf("<presence to='romeo@localhost' type='subscribed'/>")
		r.Expect(xmpptest.IsPresence(other.user+"@localhost/x", ""))
		c.Close()
		r.Expect(xmpptest.IsPresence(other.user+"@localhost/x", "unavailable"))
	}
	r.Sync()
	r.Send("<inactive xmlns='urn:xmpp:csi:0'/>")
	r.Barrier() // the server has processed <inactive/>
	j := s.Login("juliet", "j-secret", "balcony")
	n := s.Login("nurse", "n-secret", "chamber")
	for i := 0; i < 5; i++ {
		j.Sendf("<presence><status>juliet %d</status></presence>", i)
	}
	j.Barrier()
	n.Send("<presence><show>away</show></presence>")
	n.Barrier() // streams are independent: order nurse's presence before the chat state
	j.Send("<message to='romeo@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	j.Barrier()
	for _, el := range r.Sync() {
		t.Errorf("inactive client received %s", el)
	}

	j.Send("<message to='romeo@localhost' type='chat'><body>wake up</body></message>")
	var got []*stanza.Stanza
	for {
		el, err := r.Next()
		if err != nil {
			t.Fatalf("waiting for the message: %v (got %d stanzas)", err, len(got))
		}
		got = append(got, el)
		if el.Name == stanza.Message && el.Child("", "body") != nil {
			break
		}
	}
	var julietPresence, nursePresence int
	var lastJuliet string
	for _, el := range got {
		if el.Name != stanza.Presence {
			continue
		}
		switch el.From.Bare().String() {
		case "juliet@localhost":
			julietPresence++
			lastJuliet = el.Child("", "status").Text()
		case "nurse@localhost":
			nursePresence++
		}
	}
	if julietPresence != 1 || lastJuliet != "juliet 4" {
		t.Errorf("juliet's held presence: %d stanzas, last status %q; want only the latest", julietPresence, lastJuliet)
	}
	if nursePresence != 1 {
		t.Errorf("nurse's held presence: %d stanzas, want 1", nursePresence)
	}
	if got[len(got)-2].Name != stanza.Message {
		t.Errorf("chat state did not precede the message in order: %v", got)
	}

	// Becoming active flushes at once.
	n.Send("<presence><show>dnd</show></presence>")
	n.Barrier()
	r.Send("<active xmlns='urn:xmpp:csi:0'/>")
	r.Expect(func(el *stanza.Stanza) bool {
		return el.Name == stanza.Presence && el.Child("", "show").Text() == "dnd"
	})
}
