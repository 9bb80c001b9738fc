package e2e

import (
	"fmt"
	"strings"
	"testing"

	"tern/component/componenttest"
	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
)

const nsAddress = "http://jabber.org/protocol/address"

// startMulticast starts a server without federation, so remote addresses
// bounce without any network access, with the given address limit and
// the users romeo, juliet, nurse, tybalt and mercutio.
func startMulticast(t *testing.T, maxAddresses int) *xmpptest.Server {
	t.Helper()
	s := xmpptest.Start(t, func(c *configT) {
		c.Multicast.MaxAddresses = maxAddresses
		c.S2S.Enabled = false
	})
	for _, u := range []string{"romeo", "juliet", "nurse", "tybalt", "mercutio"} {
		s.AddUser(u, "pw-"+u)
	}
	return s
}

// addressesOf returns the address elements of a received stanza as
// "type:jid" items, with "*" after those marked delivered.
func addressesOf(s *stanza.Stanza) string {
	h := s.Child(nsAddress, "addresses")
	if h == nil {
		return "(no header)"
	}
	var parts []string
	for _, a := range h.ChildrenNamed(nsAddress, "address") {
		p := a.AttrValue("type") + ":" + a.AttrValue("jid")
		if a.AttrValue("delivered") == "true" {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func TestMulticastDeliversOnceToEachAddress(t *testing.T) {
	s := startMulticast(t, 20)
	romeo := s.Login("romeo", "pw-romeo", "orchard")
	juliet := s.Login("juliet", "pw-juliet", "balcony")
	nurse := s.Login("nurse", "pw-nurse", "chamber")
	tybalt := s.Login("tybalt", "pw-tybalt", "street")
	mercutio := s.Login("mercutio", "pw-mercutio", "square")

	romeo.Send(`<message to='localhost' type='chat' id='mc1'>
<addresses xmlns='http://jabber.org/protocol/address'>
<address type='to' jid='juliet@localhost'/>
<address type='cc' jid='nurse@localhost'/>
<address type='to' jid='Juliet@localhost'/>
<address type='bcc' jid='tybalt@localhost'/>
<address type='bcc' jid='nurse@localhost'/>
<address type='bcc' jid='mercutio@localhost'/>
<address type='bcc' jid='tybalt@localhost'/>
<address type='to' jid='ghost@localhost'/>
<address type='cc' jid='friar@elsewhere.example'/>
<address type='replyto' jid='romeo@localhost'/>
</addresses><body>meet at the chapel</body></message>`)

	public := "to:juliet@localhost* cc:nurse@localhost* to:Juliet@localhost* to:ghost@localhost* cc:friar@elsewhere.example* replyto:romeo@localhost"
	bccHeader := func(own string) string {
		return "to:juliet@localhost* cc:nurse@localhost* to:Juliet@localhost* bcc:" + own +
			" to:ghost@localhost* cc:friar@elsewhere.example* replyto:romeo@localhost"
	}
	cases := []struct {
		c      *xmpptest.Client
		header string
	}{
		{juliet, public},
		{nurse, public},
		{tybalt, bccHeader("tybalt@localhost")},
		{mercutio, bccHeader("mercutio@localhost")},
	}
	for _, tc := range cases {
		m := tc.c.Expect(xmpptest.IsMessage("meet at the chapel"))
		if got := addressesOf(m); got != tc.header {
			t.Errorf("%s header:\n got %s\nwant %s", tc.c.JID, got, tc.header)
		}
		if m.From.String() != "romeo@localhost/orchard" || m.Type != "chat" {
			t.Errorf("%s got from %s type %s, want romeo's full JID and chat", tc.c.JID, m.From, m.Type)
		}
		if n := countMessages(tc.c, "meet at the chapel"); n != 0 {
			t.Errorf("%s got %d more copies", tc.c.JID, n)
		}
	}

	// The unknown local account and the unreachable remote one bounce,
	// each once.
	wantErrors := map[string]string{
		"ghost@localhost":         "service-unavailable",
		"friar@elsewhere.example": "remote-server-not-found",
	}
	for range len(wantErrors) {
		e := romeo.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.Type == "error" })
		want, ok := wantErrors[e.From.String()]
		if !ok {
			t.Errorf("unexpected error %s", e)
			continue
		}
		if got := xmpptest.ErrorCondition(e); got != want {
			t.Errorf("error from %s = %s, want %s", e.From, got, want)
		}
		delete(wantErrors, e.From.String())
	}
	for _, el := range romeo.Sync() {
		if el.Name == stanza.Message {
			t.Errorf("romeo got another message: %s", el)
		}
	}
}

func TestMulticastErrors(t *testing.T) {
	s := startMulticast(t, 3)
	romeo := s.Login("romeo", "pw-romeo", "orchard")
	juliet := s.Login("juliet", "pw-juliet", "balcony")
	tests := []struct {
		name  string
		addrs string
		want  string
	}{
		{"too many", "<address type='to' jid='juliet@localhost'/><address type='cc' jid='nurse@localhost'/>" +
			"<address type='cc' jid='tybalt@localhost'/><address type='bcc' jid='mercutio@localhost'/>", "not-acceptable"},
		{"too many with duplicates", strings.Repeat("<address type='to' jid='juliet@localhost'/>", 4), "not-acceptable"},
		{"malformed jid", "<address type='to' jid='juliet@localhost'/><address type='to' jid='@localhost'/>", "jid-malformed"},
		{"uri", "<address type='to' jid='juliet@localhost'/><address type='cc' uri='mailto:nurse@example.org'/>", "jid-malformed"},
		{"no type", "<address jid='juliet@localhost'/>", "bad-request"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("bad%d", i)
			romeo.Sendf("<message to='localhost' id='%s'><addresses xmlns='%s'>%s</addresses><body>rejected %d</body></message>", id, nsAddress, tt.addrs, i)
			e := romeo.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.ID == id })
			if e.Type != "error" || xmpptest.ErrorCondition(e) != tt.want {
				t.Errorf("response = %s, want a %s error", e, tt.want)
			}
			if e.From.String() != "localhost" {
				t.Errorf("error from %s, want the service localhost", e.From)
			}
			if n := countMessages(juliet, fmt.Sprintf("rejected %d", i)); n != 0 {
				t.Errorf("juliet got %d copies of a rejected stanza", n)
			}
		})
	}
}

func TestMulticastOnlyForLocalUsers(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Component.Services = append(c.Component.Services, config.ComponentService{Domain: "bots.localhost", Secret: "bots-s3cret"})
	})
	s.AddUser("juliet", "pw-juliet")
	juliet := s.Login("juliet", "pw-juliet", "balcony")
	comp := componenttest.Connect(t, s.Addr("component"), "bots.localhost", "bots-s3cret")

	comp.Send("<message from='relay@bots.localhost' to='localhost' id='relay1'><addresses xmlns='" + nsAddress + "'>" +
		"<address type='to' jid='juliet@localhost'/></addresses><body>relayed spam</body></message>")
	e := comp.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.ID == "relay1" })
	if e.Type != "error" || xmpptest.ErrorCondition(e) != "forbidden" {
		t.Errorf("response = %s, want forbidden", e)
	}
	if n := countMessages(juliet, "relayed spam"); n != 0 {
		t.Errorf("juliet got %d relayed copies", n)
	}
}

func TestMulticastPresence(t *testing.T) {
	s := startMulticast(t, 20)
	romeo := s.Login("romeo", "pw-romeo", "orchard")
	juliet := s.Login("juliet", "pw-juliet", "balcony")
	nurse := s.Login("nurse", "pw-nurse", "chamber")

	romeo.Send("<presence to='localhost'><addresses xmlns='" + nsAddress + "'>" +
		"<address type='to' jid='juliet@localhost'/><address type='bcc' jid='nurse@localhost'/></addresses>" +
		"<status>in the orchard</status></presence>")
	for _, c := range []*xmpptest.Client{juliet, nurse} {
		p := c.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
		if p.Child("", "status").Text() != "in the orchard" {
			t.Errorf("%s got %s", c.JID, p)
		}
	}
	// The service sends unavailable presence to both when romeo leaves.
	romeo.Close()
	for _, c := range []*xmpptest.Client{juliet, nurse} {
		c.Expect(xmpptest.IsPresence("romeo@localhost/orchard", "unavailable"))
		for _, el := range c.Sync() {
			if xmpptest.IsPresence("romeo@localhost/orchard", "unavailable")(el) {
				t.Errorf("%s got a second unavailable presence", c.JID)
			}
		}
	}
}

func TestMulticastDiscoFeature(t *testing.T) {
	s := startMulticast(t, 20)
	romeo := s.Login("romeo", "pw-romeo", "orchard")
	resp := romeo.Request("<iq type='get' id='info' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "info")
	if !hasFeature(resp, nsAddress) {
		t.Errorf("server disco#info lacks %s: %s", nsAddress, resp)
	}
}
