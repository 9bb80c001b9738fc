package e2e

import (
	"context"
	"testing"

	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/storage"
)

// TestForgedFromNeverDelivered covers a client claiming another user's
// address in 'from' (RFC 6120 §8.1.2.1).
func TestForgedFromNeverDelivered(t *testing.T) {
	for _, from := range []string{"romeo@localhost/orchard", "romeo@localhost", "localhost", "juliet@localhost/other", "tybalt@example.org"} {
		t.Run(from, func(t *testing.T) {
			s := newPair(t)
			n := s.Login("nurse", "n-secret", "chamber")
			j := s.Login("juliet", "j-secret", "balcony")
			j.Sendf("<message from='%s' to='nurse@localhost' type='chat' id='f1'><body>forged</body></message>", from)
			if got := readStreamErrorBound(j); got != "invalid-from" {
				t.Errorf("stream error %q, want invalid-from", got)
			}
			for _, el := range n.Sync() {
				if el.Name == stanza.Message {
					t.Errorf("nurse received %s", el)
				}
			}
		})
	}
}

// readStreamErrorBound waits for a stream error on a bound client.
func readStreamErrorBound(c *xmpptest.Client) string {
	el, err := c.TryExpect(xmpptest.IsStreamError)
	if err != nil {
		return ""
	}
	return xmpptest.StreamErrorCondition(el)
}

func TestOwnFromAccepted(t *testing.T) {
	s := newPair(t)
	n := s.Login("nurse", "n-secret", "chamber")
	j := s.Login("juliet", "j-secret", "balcony")
	for _, from := range []string{"juliet@localhost/balcony", "juliet@localhost"} {
		j.Sendf("<message from='%s' to='nurse@localhost' type='chat'><body>own %s</body></message>", from, from)
		m := n.Expect(xmpptest.IsMessage("own " + from))
		if m.RawFrom != "juliet@localhost/balcony" {
			t.Errorf("from=%q, want the sender's full JID", m.RawFrom)
		}
	}
}

// TestRosterPushFromOtherUser: a roster push sent by one user to another
// arrives stamped with the sender's address, and requests on another
// account's behalf are refused (RFC 6121 §2.1.6).
func TestRosterPushFromOtherUser(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	j := s.Login("juliet", "j-secret", "balcony")
	ctx := context.Background()
	romeo := storage.Owner{Domain: "localhost", Local: "romeo"}

	j.Send("<iq type='set' to='romeo@localhost/orchard' id='f2'><query xmlns='jabber:iq:roster'><item jid='tybalt@example.org'/></query></iq>")
	got := r.Expect(func(el *stanza.Stanza) bool { return el.ID == "f2" })
	if got.RawFrom != "juliet@localhost/balcony" {
		t.Errorf("injected push from=%q, want juliet's full JID", got.RawFrom)
	}
	if _, err := s.Store().GetRosterItem(ctx, romeo, "tybalt@example.org"); err == nil {
		t.Error("romeo's roster changed")
	}

	resp := j.Request("<iq type='set' to='romeo@localhost' id='f3'><query xmlns='jabber:iq:roster'><item jid='tybalt@example.org'/></query></iq>", "f3")
	if resp.Type != "error" || !contains([]string{"forbidden", "service-unavailable"}, xmpptest.ErrorCondition(resp)) {
		t.Errorf("roster set on romeo's bare JID: %s", resp)
	}
	resp = j.Request("<iq type='get' to='romeo@localhost' id='f3g'><query xmlns='jabber:iq:roster'/></iq>", "f3g")
	if resp.Type != "error" {
		t.Errorf("roster get on romeo's bare JID: %s, want an error", resp)
	}
	for _, typ := range []string{"get", "set"} {
		payload := "<query xmlns='jabber:iq:privacy'/>"
		if typ == "set" {
			payload = "<query xmlns='jabber:iq:privacy'><list name='x'/></query>"
		}
		resp = j.Request("<iq type='"+typ+"' to='romeo@localhost' id='f4'>"+payload+"</iq>", "f4")
		if resp.Type != "error" || !contains([]string{"forbidden", "service-unavailable"}, xmpptest.ErrorCondition(resp)) {
			t.Errorf("privacy %s on romeo's behalf: %s", typ, resp)
		}
	}
	if items, _, _ := s.Store().GetRoster(ctx, romeo); len(items) != 0 {
		t.Errorf("romeo's roster: %+v, want empty", items)
	}
	if items, _, _ := s.Store().GetRoster(ctx, storage.Owner{Domain: "localhost", Local: "juliet"}); len(items) != 0 {
		t.Errorf("juliet's roster: %+v, want empty", items)
	}
}
