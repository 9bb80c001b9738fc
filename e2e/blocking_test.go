package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	msasl "mellium.im/sasl"

	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/storage"
)

const (
	nsBlocking       = "urn:xmpp:blocking"
	nsBlockingErrors = "urn:xmpp:blocking:errors"
)

// blockingIQ sends an iq of type typ whose child is <name/> with one item
// per JID, and returns the response.
func blockingIQ(c *xmpptest.Client, typ, id, name string, jids ...string) *stanza.Stanza {
	var items strings.Builder
	for _, j := range jids {
		items.WriteString("<item jid='" + j + "'/>")
	}
	return c.Request("<iq type='"+typ+"' id='"+id+"'><"+name+" xmlns='urn:xmpp:blocking'>"+
		items.String()+"</"+name+"></iq>", id)
}

// block blocks jids or fails the test.
func block(t *testing.T, c *xmpptest.Client, jids ...string) {
	t.Helper()
	if resp := blockingIQ(c, "set", "block", "block", jids...); resp.Type != "result" {
		t.Fatalf("block %v: %s", jids, resp)
	}
}

// blocklist fetches the list, which also subscribes c to pushes.
func blocklist(t *testing.T, c *xmpptest.Client) []string {
	t.Helper()
	resp := blockingIQ(c, "get", "list", "blocklist")
	list := resp.Child(nsBlocking, "blocklist")
	if resp.Type != "result" || list == nil {
		t.Fatalf("blocklist: %s", resp)
	}
	return itemJIDs(list)
}

func itemJIDs(el *stanza.Element) []string {
	jids := []string{}
	for _, it := range el.ChildrenNamed(nsBlocking, "item") {
		jids = append(jids, it.AttrValue("jid"))
	}
	return jids
}

// isBlockPush matches a push whose child is <name/> (block or unblock).
func isBlockPush(name string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.IQ && s.Type == "set" && s.Child(nsBlocking, name) != nil
	}
}

// fromAccount matches any stanza from the account bare.
func fromAccount(bare string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool { return s.From.Bare().String() == bare }
}

// expectNothingFrom fails the test for every stanza c received so far from
// the account bare.
func expectNothingFrom(t *testing.T, c *xmpptest.Client, bare, context string) {
	t.Helper()
	for _, el := range c.Sync() {
		if fromAccount(bare)(el) {
			t.Errorf("%s: %s received %s", context, c.JID, el)
		}
	}
}

// messageError sends a message from c to "to" and returns the error reply.
func messageError(t *testing.T, c *xmpptest.Client, to, id string) *stanza.Stanza {
	t.Helper()
	c.Send("<message to='" + to + "' type='chat' id='" + id + "'><body>hello</body></message>")
	reply := c.Expect(func(s *stanza.Stanza) bool { return s.Name == stanza.Message && s.ID == id })
	if reply.Type != "error" {
		t.Fatalf("message %s: got %s, want an error", id, reply)
	}
	return reply
}

// subscribeTo makes subscriber subscribed to the presence of the account
// that owner is logged in as, and waits for owner's presence to arrive.
func subscribeTo(t *testing.T, subscriber, owner *xmpptest.Client) {
	t.Helper()
	ownerBare := owner.JID.Bare().String()
	subscriber.Sendf("<presence to='%s' type='subscribe'/>", ownerBare)
	owner.Expect(xmpptest.IsPresence(subscriber.JID.Bare().String(), "subscribe"))
	owner.Sendf("<presence to='%s' type='subscribed'/>", subscriber.JID.Bare().String())
	subscriber.Expect(xmpptest.IsPresence(ownerBare, "subscribed"))
	subscriber.Expect(xmpptest.IsPresence(owner.JID.String(), ""))
}

// TestBlockedContact runs XEP-0191 end to end. romeo blocks nurse, who is
// subscribed to romeo's presence. From then on nurse receives nothing
// from romeo but errors, and romeo cannot reach nurse.
func TestBlockedContact(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	nurse := s.Login("nurse", "n-secret", "chamber")
	subscribeTo(t, nurse, romeo)
	if got := blocklist(t, romeo); len(got) != 0 {
		t.Fatalf("initial blocklist %v, want empty", got)
	}

	block(t, romeo, "nurse@localhost")
	push := romeo.Expect(isBlockPush("block"))
	if got := itemJIDs(push.Child(nsBlocking, "block")); !slices.Equal(got, []string{"nurse@localhost"}) {
		t.Errorf("push items %v", got)
	}
	// nurse receives romeo's unavailable presence.
	nurse.Expect(xmpptest.IsPresence("romeo@localhost/orchard", "unavailable"))

	// (a) A message while romeo is online bounces as if romeo had no
	// session.
	online := messageError(t, nurse, "romeo@localhost", "a1")
	expectNothingFrom(t, romeo, "nurse@localhost", "message from a blocked contact")

	// (e) romeo cannot write to nurse.
	reply := messageError(t, romeo, "nurse@localhost", "e1")
	if reply.RawFrom != "nurse@localhost" {
		t.Errorf("blocked error from %q, want nurse@localhost", reply.RawFrom)
	}
	errEl := reply.Child("", "error")
	if xmpptest.ErrorCondition(reply) != "not-acceptable" || errEl.Child(nsBlockingErrors, "blocked") == nil {
		t.Errorf("outbound to a blocked contact: %s, want not-acceptable with <blocked/>", reply)
	}
	// Neither directed nor broadcast presence from romeo reaches nurse.
	romeo.Send("<presence to='nurse@localhost'/>")
	if p := romeo.Expect(xmpptest.IsPresence("nurse@localhost", "error")); xmpptest.ErrorCondition(p) != "not-acceptable" {
		t.Errorf("directed presence to a blocked contact: %s, want not-acceptable", p)
	}
	romeo.Send("<presence><show>away</show></presence>")
	romeo.Barrier()

	// (c) Probes and subscription requests get no response at all, and
	// romeo receives none of them.
	nurse.Send("<presence to='romeo@localhost' type='probe'/>")
	nurse.Send("<presence to='romeo@localhost' type='subscribe'/>")
	nurse.Send("<iq to='romeo@localhost' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>")
	iqErr := nurse.Expect(xmpptest.IsResponse("v1"))
	if iqErr.RawFrom != "romeo@localhost" || xmpptest.ErrorCondition(iqErr) != "service-unavailable" {
		t.Errorf("iq to the blocking account: %s, want service-unavailable from romeo@localhost", iqErr)
	}
	nurse.Barrier()
	expectNothingFrom(t, nurse, "romeo@localhost", "after the block")
	expectNothingFrom(t, romeo, "nurse@localhost", "probe and subscribe from a blocked contact")

	// (b) The same error while romeo is offline, and nothing is stored.
	romeo.Close()
	waitSessions(t, s, 1)
	offline := messageError(t, nurse, "romeo@localhost", "b1")
	for _, e := range []*stanza.Stanza{online, offline} {
		if e.RawFrom != "romeo@localhost" {
			t.Errorf("error %s from %q, want romeo@localhost", e.ID, e.RawFrom)
		}
		if el := e.Child("", "error"); el.AttrValue("type") != "cancel" || xmpptest.ErrorCondition(e) != "service-unavailable" {
			t.Errorf("error %s: %s, want cancel service-unavailable", e.ID, el)
		}
	}
	if a, b := online.Child("", "error").String(), offline.Child("", "error").String(); a != b {
		t.Errorf("online and offline errors differ:\n%s\n%s", a, b)
	}
	n, err := s.Store().CountOffline(context.Background(), storage.Owner{Domain: "localhost", Local: "romeo"})
	if err != nil || n != 0 {
		t.Errorf("offline queue of romeo: %d, %v; want 0", n, err)
	}
	romeo = s.Login("romeo", "r-secret", "orchard")
	expectNothingFrom(t, romeo, "nurse@localhost", "login after a blocked message")

	expectNothingFrom(t, nurse, "romeo@localhost", "romeo's new login")
}

const nsTune = "http://jabber.org/protocol/tune"

// publishTune publishes a tune item to the account's PEP node.
func publishTune(t *testing.T, c *xmpptest.Client, id, title string) {
	t.Helper()
	resp := c.Request("<iq type='set' id='"+id+"'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"+
		"<publish node='"+nsTune+"'><item id='current'><tune xmlns='"+nsTune+"'><title>"+title+
		"</title></tune></item></publish></pubsub></iq>", id)
	if resp.Type != "result" {
		t.Fatalf("publish %q: %s", title, resp)
	}
}

// isTuneEvent matches a PEP notification of a tune with the given title.
func isTuneEvent(title string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		ev := s.Child("http://jabber.org/protocol/pubsub#event", "event")
		return s.Name == stanza.Message && ev != nil && strings.Contains(ev.String(), "<title>"+title+"</title>")
	}
}

// TestBlockedContactGetsNoPEPNotification: a contact whose presence
// subscription would let it see the account's PEP items gets no
// notification once the account blocks it.
func TestBlockedContactGetsNoPEPNotification(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	info := romeo.Request("<iq type='get' id='pep?' to='romeo@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "pep?")
	pep := false
	for _, id := range info.Child("http://jabber.org/protocol/disco#info", "query").ChildrenNamed("", "identity") {
		pep = pep || (id.AttrValue("category") == "pubsub" && id.AttrValue("type") == "pep")
	}
	if !pep {
		t.Skip("the server runs no PEP service (modules/pep)")
	}
	nurse := s.Login("nurse", "n-secret", "chamber")
	subscribeTo(t, nurse, romeo)
	publishTune(t, romeo, "p1", "before the block")

	// nurse announces interest in tunes (XEP-0115 caps with +notify) and
	// sends the result of the server's disco#info query. The last
	// published item arrives once the server knows the interest.
	nurse.Send("<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:example:nurse' ver='bm90LWEtaGFzaA=='/></presence>")
	q := nurse.Expect(func(s *stanza.Stanza) bool {
		return s.Name == stanza.IQ && s.Type == "get" && s.Child("http://jabber.org/protocol/disco#info", "query") != nil
	})
	nurse.Sendf("<iq type='result' id='%s' to='%s'><query xmlns='http://jabber.org/protocol/disco#info' node='%s'>"+
		"<identity category='client' type='pc'/><feature var='%s+notify'/></query></iq>",
		q.ID, q.RawFrom, q.Child("http://jabber.org/protocol/disco#info", "query").AttrValue("node"), nsTune)
	nurse.Expect(isTuneEvent("before the block"))

	block(t, romeo, "nurse@localhost")
	nurse.Expect(xmpptest.IsPresence("romeo@localhost/orchard", "unavailable"))
	publishTune(t, romeo, "p2", "after the block")
	romeo.Barrier()
	expectNothingFrom(t, nurse, "romeo@localhost", "PEP publish after the block")
}

// TestBlocklistPushesAndUnblock: changes reach every resource that fetched
// the list, unblock with items removes them, and an empty unblock removes
// every entry.
func TestBlocklistPushesAndUnblock(t *testing.T) {
	s := newPair(t)
	orchard := s.Login("romeo", "r-secret", "orchard")
	garden := s.Login("romeo", "r-secret", "garden")
	bed := s.Login("romeo", "r-secret", "bed")
	juliet := s.Login("juliet", "j-secret", "balcony")
	blocklist(t, orchard)
	blocklist(t, garden)

	block(t, orchard, "juliet@localhost", "nurse@localhost/chamber", "capulet.example")
	for _, c := range []*xmpptest.Client{orchard, garden} {
		push := c.Expect(isBlockPush("block"))
		want := []string{"juliet@localhost", "nurse@localhost/chamber", "capulet.example"}
		if got := itemJIDs(push.Child(nsBlocking, "block")); !slices.Equal(got, want) {
			t.Errorf("%s: block push %v, want %v", c.JID, got, want)
		}
		if push.RawFrom != "" {
			t.Errorf("push from %q, want no from", push.RawFrom)
		}
	}
	if got := blocklist(t, bed); !slices.Equal(got, []string{"capulet.example", "juliet@localhost", "nurse@localhost/chamber"}) {
		t.Errorf("blocklist %v", got)
	}
	messageError(t, juliet, "romeo@localhost", "j1")

	if resp := blockingIQ(orchard, "set", "u1", "unblock", "juliet@localhost"); resp.Type != "result" {
		t.Fatalf("unblock: %s", resp)
	}
	for _, c := range []*xmpptest.Client{orchard, garden, bed} {
		push := c.Expect(isBlockPush("unblock"))
		if got := itemJIDs(push.Child(nsBlocking, "unblock")); !slices.Equal(got, []string{"juliet@localhost"}) {
			t.Errorf("%s: unblock push %v", c.JID, got)
		}
	}
	juliet.Send("<message to='romeo@localhost/orchard' type='chat'><body>free again</body></message>")
	orchard.Expect(xmpptest.IsMessage("free again"))

	if resp := blockingIQ(garden, "set", "u2", "unblock"); resp.Type != "result" {
		t.Fatalf("unblock all: %s", resp)
	}
	for _, c := range []*xmpptest.Client{orchard, garden, bed} {
		push := c.Expect(isBlockPush("unblock"))
		if got := itemJIDs(push.Child(nsBlocking, "unblock")); len(got) != 0 {
			t.Errorf("%s: unblock-all push has items %v", c.JID, got)
		}
	}
	if got := blocklist(t, orchard); len(got) != 0 {
		t.Errorf("blocklist after unblock all: %v", got)
	}
}

// TestBlockingAfterUnblockRestoresPresence: unblocking a subscribed contact
// sends the contact romeo's current presence again.
func TestBlockingAfterUnblockRestoresPresence(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	nurse := s.Login("nurse", "n-secret", "chamber")
	subscribeTo(t, nurse, romeo)
	block(t, romeo, "nurse@localhost")
	nurse.Expect(xmpptest.IsPresence("romeo@localhost/orchard", "unavailable"))
	if resp := blockingIQ(romeo, "set", "u1", "unblock", "nurse@localhost"); resp.Type != "result" {
		t.Fatalf("unblock: %s", resp)
	}
	nurse.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
}

func TestBlockingRequests(t *testing.T) {
	s := newPair(t)
	romeo := s.Login("romeo", "r-secret", "orchard")
	juliet := s.Login("juliet", "j-secret", "balcony")
	cases := []struct {
		name, id string
		client   *xmpptest.Client
		iq       string
		want     string
	}{
		{"block without items", "r1", romeo, "type='set'><block xmlns='urn:xmpp:blocking'/>", "bad-request"},
		{"malformed JID", "r2", romeo, "type='set'><block xmlns='urn:xmpp:blocking'><item jid='@bad'/></block>", "jid-malformed"},
		{"block as get", "r3", romeo, "type='get'><block xmlns='urn:xmpp:blocking'><item jid='a@b'/></block>", "bad-request"},
		{"blocklist as set", "r4", romeo, "type='set'><blocklist xmlns='urn:xmpp:blocking'/>", "bad-request"},
		{"another account's list", "r5", juliet, "type='get' to='romeo@localhost'><blocklist xmlns='urn:xmpp:blocking'/>", "forbidden"},
		{"own bare JID", "r6", romeo, "type='get' to='romeo@localhost'><blocklist xmlns='urn:xmpp:blocking'/>", ""},
	}
	for _, tc := range cases {
		resp := tc.client.Request("<iq id='"+tc.id+"' "+tc.iq+"</iq>", tc.id)
		if got := xmpptest.ErrorCondition(resp); got != tc.want {
			t.Errorf("%s: %s, want condition %q", tc.name, resp, tc.want)
		}
	}
	info := romeo.Request("<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "d1")
	if !discoHasFeature(info, nsBlocking) {
		t.Errorf("server disco#info lacks %s: %s", nsBlocking, info)
	}
}

// loginAtDomain logs in an account of a domain other than the server's first.
func loginAtDomain(t *testing.T, s *xmpptest.Server, domain, local, password, resource string) *xmpptest.Client {
	t.Helper()
	c := xmpptest.Dial(t, s.Addr("c2s"), domain)
	if err := c.Open(); err != nil {
		t.Fatalf("open stream to %s: %v", domain, err)
	}
	c.StartTLS()
	if err := c.Auth(msasl.ScramSha256, local, password); err != nil {
		t.Fatalf("authenticate %s@%s: %v", local, domain, err)
	}
	if err := c.Bind(resource); err != nil {
		t.Fatalf("bind: %v", err)
	}
	c.Send("<presence/>")
	c.Barrier()
	return c
}

// TestBlockedDomain: a domain entry blocks every account of the domain and
// of its subdomains, and nothing else.
func TestBlockedDomain(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Server.Domains = []string{"localhost", "capulet.localhost", "vault.capulet.localhost"}
	})
	s.AddUser("romeo", "r-secret")
	s.AddUser("nurse", "n-secret")
	s.AddUserAt("capulet.localhost", "juliet", "j-secret")
	s.AddUserAt("vault.capulet.localhost", "tybalt", "t-secret")
	romeo := s.Login("romeo", "r-secret", "orchard")
	nurse := s.Login("nurse", "n-secret", "chamber")
	juliet := loginAtDomain(t, s, "capulet.localhost", "juliet", "j-secret", "balcony")
	tybalt := loginAtDomain(t, s, "vault.capulet.localhost", "tybalt", "t-secret", "crypt")

	block(t, romeo, "capulet.localhost")
	for _, c := range []*xmpptest.Client{juliet, tybalt} {
		if e := messageError(t, c, "romeo@localhost", "d1"); xmpptest.ErrorCondition(e) != "service-unavailable" {
			t.Errorf("%s: %s, want service-unavailable", c.JID, e)
		}
	}
	nurse.Send("<message to='romeo@localhost/orchard' type='chat'><body>not blocked</body></message>")
	romeo.Expect(xmpptest.IsMessage("not blocked"))
	if e := messageError(t, romeo, "juliet@capulet.localhost", "d2"); xmpptest.ErrorCondition(e) != "not-acceptable" {
		t.Errorf("romeo to juliet: %s, want not-acceptable", e)
	}
	// Resources of the blocking account still reach each other.
	garden := s.Login("romeo", "r-secret", "garden")
	garden.Send("<message to='romeo@localhost/orchard' type='chat'><body>own resource</body></message>")
	romeo.Expect(xmpptest.IsMessage("own resource"))
	expectNoMessages(t, juliet, "domain block")
}
