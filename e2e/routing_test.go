package e2e

import (
	"strings"
	"testing"

	"tern/internal/xmpptest"
	"tern/stanza"
)

// newPair starts a server with romeo and juliet.
func newPair(t *testing.T) *xmpptest.Server {
	t.Helper()
	s := xmpptest.Start(t)
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	s.AddUser("nurse", "n-secret")
	return s
}

func presenceWithPriority(c *xmpptest.Client, prio int) {
	c.Sendf("<presence><priority>%d</priority></presence>", prio)
	c.Sync()
}

func TestBareJIDMessageGoesToHighestPriority(t *testing.T) {
	s := newPair(t)
	high := s.Login("romeo", "r-secret", "high!")
	low := s.Login("romeo", "r-secret", "low!")
	presenceWithPriority(high, 10)
	presenceWithPriority(low, 5)
	j := s.Login("juliet", "j-secret", "balcony")

	j.Send("<message to='romeo@localhost' type='chat' id='p1'><body>to the highest</body></message>")
	high.Expect(xmpptest.IsMessage("to the highest"))
	for _, el := range low.Sync() {
		if el.Name == stanza.Message {
			t.Errorf("lower-priority resource received %s", el)
		}
	}
}

func TestEqualPrioritiesAllReceive(t *testing.T) {
	s := newPair(t)
	a := s.Login("romeo", "r-secret", "a!")
	b := s.Login("romeo", "r-secret", "b!")
	presenceWithPriority(a, 3)
	presenceWithPriority(b, 3)
	j := s.Login("juliet", "j-secret", "balcony")
	j.Send("<message to='romeo@localhost' type='chat'><body>both</body></message>")
	a.Expect(xmpptest.IsMessage("both"))
	b.Expect(xmpptest.IsMessage("both"))
}

func TestNegativePriorityGetsNoBareMessages(t *testing.T) {
	s := newPair(t)
	neg := s.Login("romeo", "r-secret", "shy!")
	presenceWithPriority(neg, -1)
	j := s.Login("juliet", "j-secret", "balcony")

	j.Send("<message to='romeo@localhost' type='chat'><body>stored for later</body></message>")
	j.Sync()
	for _, el := range neg.Sync() {
		if el.Name == stanza.Message {
			t.Fatalf("negative-priority resource received %s", el)
		}
	}
	// A full-JID message still reaches it (RFC 6121 §8.5.3.1).
	j.Send("<message to='romeo@localhost/shy' type='chat'><body>direct</body></message>")
	neg.Expect(xmpptest.IsMessage("direct"))
	// The bare-JID message went to offline storage and arrives with
	// non-negative presence.
	other := s.Login("romeo", "r-secret", "later")
	m := other.Expect(xmpptest.IsMessage("stored for later"))
	if m.Child(stanza.NSDelay, "delay") == nil {
		t.Errorf("offline message has no delay stamp: %s", m)
	}
}

func TestHeadlineGoesToAllNonNegative(t *testing.T) {
	s := newPair(t)
	a := s.Login("romeo", "r-secret", "a!")
	b := s.Login("romeo", "r-secret", "b!")
	presenceWithPriority(a, 1)
	presenceWithPriority(b, 7)
	j := s.Login("juliet", "j-secret", "balcony")
	j.Send("<message to='romeo@localhost' type='headline'><body>news</body></message>")
	a.Expect(xmpptest.IsMessage("news"))
	b.Expect(xmpptest.IsMessage("news"))
}

func TestFullJIDOfAbsentResource(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	j := s.Login("juliet", "j-secret", "balcony")

	t.Run("chat falls back to bare JID", func(t *testing.T) {
		j.Send("<message to='romeo@localhost/gone' type='chat'><body>fallback</body></message>")
		r.Expect(xmpptest.IsMessage("fallback"))
	})
	t.Run("iq gets service-unavailable", func(t *testing.T) {
		resp := j.Request("<iq type='get' to='romeo@localhost/gone' id='q1'><query xmlns='jabber:iq:version'/></iq>", "q1")
		if got := xmpptest.ErrorCondition(resp); got != "service-unavailable" {
			t.Errorf("condition = %q, want service-unavailable", got)
		}
	})
	t.Run("presence is dropped", func(t *testing.T) {
		j.Send("<presence to='romeo@localhost/gone'/>")
		for _, el := range r.Sync() {
			if el.Name == stanza.Presence && el.From.Resourcepart() == "balcony" {
				t.Errorf("presence to an absent resource reached %s: %s", r.JID, el)
			}
		}
	})
}

func TestIQToBareJIDAnsweredByServer(t *testing.T) {
	s := newPair(t)
	s.Login("romeo", "r-secret", "orchard")
	j := s.Login("juliet", "j-secret", "balcony")
	resp := j.Request("<iq type='get' to='romeo@localhost' id='p'><ping xmlns='urn:xmpp:ping'/></iq>", "p")
	if resp.Type != "result" || resp.From.String() != "romeo@localhost" {
		t.Errorf("ping to bare JID: %s", resp)
	}
	resp = j.Request("<iq type='get' to='romeo@localhost' id='u'><query xmlns='urn:example:unknown'/></iq>", "u")
	if got := xmpptest.ErrorCondition(resp); got != "service-unavailable" {
		t.Errorf("unknown namespace: condition = %q, want service-unavailable", got)
	}
}

func TestMessageToUnknownAccountBounces(t *testing.T) {
	s := newPair(t)
	j := s.Login("juliet", "j-secret", "balcony")
	j.Send("<message to='nobody@localhost' type='chat' id='x1'><body>hello?</body></message>")
	m := j.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.ID == "x1" })
	if m.Type != "error" || xmpptest.ErrorCondition(m) != "service-unavailable" {
		t.Errorf("got %s, want service-unavailable error", m)
	}
}

func TestOfflineLimitBounces(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.Offline.MaxMessages = 2 })
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	j := s.Login("juliet", "j-secret", "balcony")
	for i := 0; i < 3; i++ {
		j.Sendf("<message to='romeo@localhost' type='chat' id='o%d'><body>n%d</body></message>", i, i)
	}
	m := j.Expect(func(el *stanza.Stanza) bool { return el.ID == "o2" })
	if m.Type != "error" || xmpptest.ErrorCondition(m) != "service-unavailable" {
		t.Errorf("third message: got %s, want service-unavailable", m)
	}
	r := s.Login("romeo", "r-secret", "orchard")
	r.Expect(xmpptest.IsMessage("n0"))
	r.Expect(xmpptest.IsMessage("n1"))
	for _, el := range r.Sync() {
		if strings.Contains(el.String(), "n2") {
			t.Errorf("bounced message was also stored: %s", el)
		}
	}
}
