package e2e

import (
	"testing"

	"tern/internal/xmpptest"
)

func discoFeatures(t *testing.T, c *xmpptest.Client, to string) map[string]bool {
	t.Helper()
	resp := c.Request("<iq type='get' id='df' to='"+to+"'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "df")
	if resp.Type != "result" {
		t.Fatalf("disco#info on %s: %s", to, resp)
	}
	out := map[string]bool{}
	for _, f := range resp.Child("http://jabber.org/protocol/disco#info", "query").ChildrenNamed("", "feature") {
		out[f.AttrValue("var")] = true
	}
	return out
}

// TestDiscoAdvertisesFeatures checks that every protocol the server
// implements is advertised where clients look for it.
func TestDiscoAdvertisesFeatures(t *testing.T) {
	s := newPair(t)
	c := s.Login("romeo", "r-secret", "orchard")
	server := discoFeatures(t, c, "localhost")
	for _, f := range []string{
		"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
		"urn:xmpp:ping", "jabber:iq:version", "urn:xmpp:time", "jabber:iq:last",
		"urn:xmpp:carbons:2", "urn:xmpp:blocking", "urn:xmpp:sid:0",
		"http://jabber.org/protocol/commands", "http://jabber.org/protocol/address", "msgoffline",
	} {
		if !server[f] {
			t.Errorf("server disco#info lacks %s", f)
		}
	}
	account := discoFeatures(t, c, "romeo@localhost")
	for _, f := range []string{
		"urn:xmpp:mam:2", "urn:xmpp:mam:2#extended", "urn:xmpp:push:0",
		"http://jabber.org/protocol/pubsub#publish", "http://jabber.org/protocol/pubsub#publish-options",
	} {
		if !account[f] {
			t.Errorf("account disco#info lacks %s", f)
		}
	}
	for _, f := range []string{"urn:xmpp:sm:3", "urn:xmpp:csi:0", "urn:xmpp:features:rosterver"} {
		found := false
		for _, el := range c.Features.Elements() {
			if el.Name.Space == f {
				found = true
			}
		}
		if !found {
			t.Errorf("stream features lack %s", f)
		}
	}
}
