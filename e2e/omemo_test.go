package e2e

import (
	"strings"
	"testing"

	"tern/internal/xmpptest"
	"tern/stanza"
)

// omemoPayload is an OMEMO 2 message payload written with unusual but
// valid formatting (attribute quotes, whitespace, a character
// reference), so any re-serialization on the way would show.
const omemoPayload = `<encrypted xmlns='urn:xmpp:omemo:2'>` +
	`<header sid='27183'>` + "\n  " + `<keys jid="romeo@localhost"><key rid='31415' kex="true">Tm9uY2U&#x3D;</key></keys>` +
	`</header><payload>U2VjcmV0IG1lc3NhZ2U=</payload></encrypted>`

// TestOMEMOMessagePassesThroughUnchanged: an encrypted message with no
// body is delivered, carbon-copied to both accounts' other resources and
// archived, each time with the payload's bytes exactly as sent.
func TestOMEMOMessagePassesThroughUnchanged(t *testing.T) {
	s := newPair(t)
	orchard := s.Login("romeo", "r-secret", "orchard")
	garden := s.Login("romeo", "r-secret", "garden")
	balcony := s.Login("juliet", "j-secret", "balcony")
	chamber := s.Login("juliet", "j-secret", "chamber")
	for _, c := range []*xmpptest.Client{orchard, garden, balcony, chamber} {
		enableCarbons(t, c)
	}
	balcony.Send("<message to='romeo@localhost/orchard' type='chat' id='omemo1'>" + omemoPayload +
		"<store xmlns='urn:xmpp:hints'/></message>")

	hasPayload := func(s *stanza.Stanza) bool { return strings.Contains(string(s.Inner), omemoPayload) }
	isMsg := func(el *stanza.Stanza) bool { return el.Name == stanza.Message && el.Type != "error" }
	got := orchard.Expect(isMsg)
	if !hasPayload(got) {
		t.Errorf("delivered message changed the payload:\n%s", got.Inner)
	}
	if got.Child("urn:xmpp:sid:0", "stanza-id") == nil {
		t.Errorf("delivered message has no stanza-id: %s", got)
	}
	for _, c := range []struct {
		client  *xmpptest.Client
		wrapper string
	}{{garden, "received"}, {chamber, "sent"}} {
		carbon := c.client.Expect(func(el *stanza.Stanza) bool { return isMsg(el) && hasCarbonWrapper(el) })
		if carbon.Child(nsCarbons, c.wrapper) == nil {
			t.Errorf("%s: carbon is not a %s copy: %s", c.client.JID, c.wrapper, carbon)
		}
		if !hasPayload(carbon) {
			t.Errorf("%s: carbon copy changed the payload:\n%s", c.client.JID, carbon.Inner)
		}
	}

	for _, c := range []*xmpptest.Client{orchard, balcony} {
		c.Send("<iq type='set' id='mam-omemo'><query xmlns='urn:xmpp:mam:2' queryid='omemo'/></iq>")
		result := c.Expect(func(el *stanza.Stanza) bool {
			return el.Name == stanza.Message && el.Child("urn:xmpp:mam:2", "result") != nil
		})
		if !hasPayload(result) {
			t.Errorf("%s: archived message changed the payload:\n%s", c.JID, result.Inner)
		}
		if fin := c.Expect(xmpptest.IsResponse("mam-omemo")); fin.Type != "result" {
			t.Errorf("%s: archive query: %s", c.JID, fin)
		}
	}
}
