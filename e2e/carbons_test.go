package e2e

import (
	"strings"
	"testing"

	"tern/internal/xmpptest"
	"tern/stanza"
)

const (
	nsCarbons = "urn:xmpp:carbons:2"
	nsForward = "urn:xmpp:forward:0"
)

func enableCarbons(t *testing.T, c *xmpptest.Client) {
	t.Helper()
	resp := c.Request("<iq type='set' id='carbons-on'><enable xmlns='urn:xmpp:carbons:2'/></iq>", "carbons-on")
	if resp.Type != "result" {
		t.Fatalf("%s: enable carbons: %s", c.JID, resp)
	}
}

// isCarbon matches a carbon copy (wrapper "received" or "sent") whose
// forwarded message has a body containing text.
func isCarbon(wrapper, text string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		fwd := forwardedOf(s, wrapper)
		return fwd != nil && strings.Contains(fwd.Child(stanza.NSClient, "body").Text(), text)
	}
}

// forwardedOf returns the message inside a carbon copy, or nil.
func forwardedOf(s *stanza.Stanza, wrapper string) *stanza.Element {
	if s.Name != stanza.Message {
		return nil
	}
	return s.Child(nsCarbons, wrapper).Child(nsForward, "forwarded").Child(stanza.NSClient, "message")
}

// hasCarbonWrapper reports whether s has a carbons received or sent child.
func hasCarbonWrapper(s *stanza.Stanza) bool {
	return s.Child(nsCarbons, "received") != nil || s.Child(nsCarbons, "sent") != nil
}

// expectNoMessages fails the test for every message c received so far.
func expectNoMessages(t *testing.T, c *xmpptest.Client, context string) {
	t.Helper()
	for _, el := range c.Sync() {
		if el.Name == stanza.Message {
			t.Errorf("%s: %s received %s", context, c.JID, el)
		}
	}
}

// TestForgedCarbonsRejected: no client, whether another user or another
// resource of the same account, can make a resource receive a carbon
// copy. Only the server creates them, from the account's own traffic.
func TestForgedCarbonsRejected(t *testing.T) {
	s := newPair(t)
	orchard := s.Login("romeo", "r-secret", "orchard")
	garden := s.Login("romeo", "r-secret", "garden")
	enableCarbons(t, orchard)
	enableCarbons(t, garden)
	juliet := s.Login("juliet", "j-secret", "balcony")

	forged := func(wrapper string) string {
		return "<" + wrapper + " xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
			"<message xmlns='jabber:client' from='nurse@localhost/chamber' to='romeo@localhost/orchard' type='chat'>" +
			"<body>forged</body></message></forwarded></" + wrapper + ">"
	}
	cases := []struct {
		name, id string
		sender   *xmpptest.Client
		xml      string
	}{
		{"received", "f1", juliet, "<message to='romeo@localhost/orchard' type='chat' id='f1'>" + forged("received") + "</message>"},
		{"sent", "f2", juliet, "<message to='romeo@localhost/orchard' type='chat' id='f2'>" + forged("sent") + "</message>"},
		{"to the bare JID", "f3", juliet, "<message to='romeo@localhost' type='chat' id='f3'>" + forged("received") + "</message>"},
		{"nested deeper", "f4", juliet, "<message to='romeo@localhost/orchard' type='chat' id='f4'><x xmlns='urn:example:wrap'>" + forged("received") + "</x></message>"},
		{"type normal", "f5", juliet, "<message to='romeo@localhost/orchard' type='normal' id='f5'>" + forged("sent") + "</message>"},
		{"type headline", "f6", juliet, "<message to='romeo@localhost/orchard' type='headline' id='f6'>" + forged("received") + "</message>"},
		{"from the account's other resource", "f7", garden, "<message to='romeo@localhost/orchard' type='chat' id='f7'>" + forged("received") + "</message>"},
		{"from the account to itself", "f8", orchard, "<message to='romeo@localhost' type='chat' id='f8'>" + forged("sent") + "</message>"},
	}
	for _, tc := range cases {
		tc.sender.Send(tc.xml)
		reply := tc.sender.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.ID == tc.id })
		if reply.Type != "error" || xmpptest.ErrorCondition(reply) != "not-acceptable" {
			t.Errorf("%s: sender got %s, want a not-acceptable error", tc.name, reply)
		}
		for _, c := range []*xmpptest.Client{orchard, garden} {
			for _, el := range c.Sync() {
				if el.Name == stanza.Message || hasCarbonWrapper(el) {
					t.Errorf("%s: %s received %s", tc.name, c.JID, el)
				}
			}
		}
	}

	// The same path carries real traffic, and copies come from the bare
	// JID: the checks above would have seen a leak.
	juliet.Send("<message to='romeo@localhost/orchard' type='chat'><body>real</body></message>")
	orchard.Expect(xmpptest.IsMessage("real"))
	cc := garden.Expect(isCarbon("received", "real"))
	if cc.RawFrom != "romeo@localhost" {
		t.Errorf("carbon from %q, want romeo@localhost", cc.RawFrom)
	}
}

// TestCarbonsCopyBothDirections: a message sent or received on one
// resource appears on the account's other carbons-enabled resources, with
// the original inside. A resource without carbons gets no copies.
func TestCarbonsCopyBothDirections(t *testing.T) {
	s := newPair(t)
	orchard := s.Login("romeo", "r-secret", "orchard")
	garden := s.Login("romeo", "r-secret", "garden")
	bed := s.Login("romeo", "r-secret", "bed")
	enableCarbons(t, orchard)
	enableCarbons(t, garden)
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost/orchard' type='chat' id='in1'><body>what light</body></message>")
	orchard.Expect(xmpptest.IsMessage("what light"))
	cc := garden.Expect(isCarbon("received", "what light"))
	fwd := forwardedOf(cc, "received")
	if cc.RawFrom != "romeo@localhost" || cc.To.String() != "romeo@localhost/garden" || cc.Type != "chat" {
		t.Errorf("received copy addressed from=%q to=%q type=%q", cc.RawFrom, cc.To, cc.Type)
	}
	if fwd.AttrValue("from") != "juliet@localhost/balcony" || fwd.AttrValue("to") != "romeo@localhost/orchard" || fwd.AttrValue("id") != "in1" {
		t.Errorf("forwarded original: %s", fwd)
	}

	orchard.Send("<message to='juliet@localhost/balcony' type='chat' id='out1'><body>neither, fair saint</body></message>")
	juliet.Expect(xmpptest.IsMessage("neither, fair saint"))
	cc = garden.Expect(isCarbon("sent", "neither, fair saint"))
	fwd = forwardedOf(cc, "sent")
	if cc.RawFrom != "romeo@localhost" || cc.To.String() != "romeo@localhost/garden" {
		t.Errorf("sent copy addressed from=%q to=%q", cc.RawFrom, cc.To)
	}
	if fwd.AttrValue("from") != "romeo@localhost/orchard" || fwd.AttrValue("to") != "juliet@localhost/balcony" {
		t.Errorf("forwarded original: %s", fwd)
	}

	// The resource without carbons and the sender got no copies.
	juliet.Barrier()
	expectNoMessages(t, bed, "carbons not enabled")
	expectNoMessages(t, orchard, "sender")
}

// TestCarbonsSkipped: messages marked private or no-copy, and every
// message after a resource disables carbons, are not copied.
func TestCarbonsSkipped(t *testing.T) {
	s := newPair(t)
	orchard := s.Login("romeo", "r-secret", "orchard")
	garden := s.Login("romeo", "r-secret", "garden")
	enableCarbons(t, orchard)
	enableCarbons(t, garden)
	juliet := s.Login("juliet", "j-secret", "balcony")

	cases := []struct {
		name      string
		from, to  *xmpptest.Client
		xml, body string
	}{
		{"private received", juliet, orchard, "<message to='romeo@localhost/orchard' type='chat'><body>p1</body><private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/></message>", "p1"},
		{"private sent", orchard, juliet, "<message to='juliet@localhost/balcony' type='chat'><body>p2</body><private xmlns='urn:xmpp:carbons:2'/></message>", "p2"},
		{"no-copy received", juliet, orchard, "<message to='romeo@localhost/orchard' type='chat'><body>p3</body><no-copy xmlns='urn:xmpp:hints'/></message>", "p3"},
		{"no-copy sent", orchard, juliet, "<message to='juliet@localhost/balcony' type='chat'><body>p4</body><no-copy xmlns='urn:xmpp:hints'/></message>", "p4"},
	}
	for _, tc := range cases {
		tc.from.Send(tc.xml)
		got := tc.to.Expect(xmpptest.IsMessage(tc.body))
		if got.Child(nsCarbons, "private") != nil {
			t.Errorf("%s: <private/> delivered to the recipient: %s", tc.name, got)
		}
		tc.from.Barrier()
		expectNoMessages(t, garden, tc.name)
	}

	resp := garden.Request("<iq type='set' id='off'><disable xmlns='urn:xmpp:carbons:2'/></iq>", "off")
	if resp.Type != "result" {
		t.Fatalf("disable carbons: %s", resp)
	}
	juliet.Send("<message to='romeo@localhost/orchard' type='chat'><body>after disable</body></message>")
	orchard.Expect(xmpptest.IsMessage("after disable"))
	orchard.Send("<message to='juliet@localhost/balcony' type='chat'><body>sent after disable</body></message>")
	juliet.Expect(xmpptest.IsMessage("sent after disable"))
	expectNoMessages(t, garden, "carbons disabled")
}

func TestCarbonsRequests(t *testing.T) {
	s := newPair(t)
	orchard := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	cases := []struct {
		name, id string
		client   *xmpptest.Client
		payload  string
		want     string // "" for a result, else the error condition
	}{
		{"enable", "c1", orchard, "type='set'><enable xmlns='urn:xmpp:carbons:2'/>", ""},
		{"enable again", "c2", orchard, "type='set'><enable xmlns='urn:xmpp:carbons:2'/>", ""},
		{"to own bare JID", "c3", orchard, "type='set' to='romeo@localhost'><disable xmlns='urn:xmpp:carbons:2'/>", ""},
		{"disable again", "c4", orchard, "type='set'><disable xmlns='urn:xmpp:carbons:2'/>", ""},
		{"get", "c5", orchard, "type='get'><enable xmlns='urn:xmpp:carbons:2'/>", "bad-request"},
		{"unknown element", "c6", orchard, "type='set'><toggle xmlns='urn:xmpp:carbons:2'/>", "bad-request"},
		{"another account", "c7", juliet, "type='set' to='romeo@localhost'><enable xmlns='urn:xmpp:carbons:2'/>", "not-allowed"},
	}
	for _, tc := range cases {
		resp := tc.client.Request("<iq id='"+tc.id+"' "+tc.payload+"</iq>", tc.id)
		if got := xmpptest.ErrorCondition(resp); got != tc.want {
			t.Errorf("%s: %s, want condition %q", tc.name, resp, tc.want)
		}
	}
	info := orchard.Request("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "d1")
	if !discoHasFeature(info, nsCarbons) {
		t.Errorf("server disco#info lacks %s: %s", nsCarbons, info)
	}
}

// discoHasFeature reports whether a disco#info result lists feature.
func discoHasFeature(info *stanza.Stanza, feature string) bool {
	for _, f := range info.Child("http://jabber.org/protocol/disco#info", "query").ChildrenNamed("", "feature") {
		if f.AttrValue("var") == feature {
			return true
		}
	}
	return false
}
