package disco_test

import (
	"context"
	"fmt"
	"testing"

	"tern/internal/xmpptest"
	"tern/modules/disco"
	"tern/stanza"
	"tern/storage"
)

func TestServerInfo(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	resp := c.Request(`<iq type='get' id='info1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "info1")
	if resp.Type != "result" {
		t.Fatalf("disco#info: got %s", resp)
	}
	q := resp.Child(disco.NSInfo, "query")
	if q == nil {
		t.Fatalf("disco#info result has no query: %s", resp)
	}
	if !hasIdentity(q, "server", "im", "Tern") {
		t.Errorf("identity server/im Tern missing: %s", q)
	}
	features := featureCounts(q)
	for _, f := range []string{disco.NSInfo, disco.NSItems, "urn:xmpp:ping"} {
		if features[f] != 1 {
			t.Errorf("feature %s listed %d times, want once", f, features[f])
		}
	}
}

func TestServerQueryErrors(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	tests := []struct {
		name string
		iq   string
		want string
	}{
		{"info unknown node", `<iq type='get' id='%s' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='nope'/></iq>`, "item-not-found"},
		{"items unknown node", `<iq type='get' id='%s' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='nope'/></iq>`, "item-not-found"},
		{"info set", `<iq type='set' id='%s' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "not-allowed"},
		{"wrong element", `<iq type='get' id='%s' to='localhost'><info xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "bad-request"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("err%d", i)
			resp := c.Request(fmt.Sprintf(tt.iq, id), id)
			if got := xmpptest.ErrorCondition(resp); got != tt.want {
				t.Errorf("condition = %q, want %q (%s)", got, tt.want, resp)
			}
		})
	}
}

func TestServerItemsEmpty(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	resp := c.Request(`<iq type='get' id='items1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "items1")
	if resp.Type != "result" {
		t.Fatalf("disco#items: got %s", resp)
	}
	if q := resp.Child(disco.NSItems, "query"); q == nil {
		t.Errorf("disco#items result has no query: %s", resp)
	}
}

// TestAccountAudience checks who may discover an account: the account
// itself and contacts with a 'from' or 'both' subscription in its roster.
func TestAccountAudience(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("juliet", "secret-juliet")
	s.AddUser("romeo", "secret-romeo")
	juliet := s.Login("juliet", "secret-juliet", "balcony")
	romeo := s.Login("romeo", "secret-romeo", "orchard")
	ctx := context.Background()
	julietOwner := storage.Owner{Domain: "localhost", Local: "juliet"}

	tests := []struct {
		name         string
		subscription string // romeo's subscription in juliet's roster; "" for no item
		ns           string
		node         string
		want         string // "result" or an error condition
	}{
		{"no roster item", "", disco.NSInfo, "", "service-unavailable"},
		{"subscription none", storage.SubNone, disco.NSInfo, "", "service-unavailable"},
		{"subscription to", storage.SubTo, disco.NSInfo, "", "service-unavailable"},
		{"subscription from", storage.SubFrom, disco.NSInfo, "", "result"},
		{"subscription both", storage.SubBoth, disco.NSInfo, "", "result"},
		{"items for stranger", "", disco.NSItems, "", "service-unavailable"},
		{"items for subscriber", storage.SubFrom, disco.NSItems, "", "result"},
		{"unknown node for subscriber", storage.SubBoth, disco.NSInfo, "x", "item-not-found"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _ = s.Store().DeleteRosterItem(ctx, julietOwner, "romeo@localhost")
			if tt.subscription != "" {
				item := storage.RosterItem{JID: "romeo@localhost", Subscription: tt.subscription, Listed: true}
				if _, err := s.Store().PutRosterItem(ctx, julietOwner, item); err != nil {
					t.Fatalf("put roster item: %v", err)
				}
			}
			id := fmt.Sprintf("acct%d", i)
			node := ""
			if tt.node != "" {
				node = fmt.Sprintf(" node='%s'", tt.node)
			}
			resp := romeo.Request(fmt.Sprintf(`<iq type='get' id='%s' to='juliet@localhost'><query xmlns='%s'%s/></iq>`, id, tt.ns, node), id)
			if got := outcome(resp); got != tt.want {
				t.Fatalf("outcome = %q, want %q (%s)", got, tt.want, resp)
			}
			if tt.want == "result" && tt.ns == disco.NSItems && len(resp.Child(disco.NSItems, "query").Elements()) != 0 {
				t.Errorf("account items not empty: %s", resp)
			}
		})
	}

	t.Run("own account", func(t *testing.T) {
		for i, to := range []string{"", " to='juliet@localhost'"} {
			id := fmt.Sprintf("own%d", i)
			resp := juliet.Request(fmt.Sprintf(`<iq type='get' id='%s'%s><query xmlns='%s'/></iq>`, id, to, disco.NSInfo), id)
			if resp.Type != "result" {
				t.Fatalf("own disco#info with%s: got %s", to, resp)
			}
			q := resp.Child(disco.NSInfo, "query")
			if !hasIdentity(q, "account", "registered", "") {
				t.Errorf("identity account/registered missing: %s", q)
			}
			if featureCounts(q)[disco.NSInfo] != 1 {
				t.Errorf("feature %s missing: %s", disco.NSInfo, q)
			}
		}
	})
}

func outcome(resp *stanza.Stanza) string {
	if resp.Type == "result" {
		return "result"
	}
	return xmpptest.ErrorCondition(resp)
}

func hasIdentity(q *stanza.Element, category, typ, name string) bool {
	for _, id := range q.ChildrenNamed(disco.NSInfo, "identity") {
		if id.AttrValue("category") == category && id.AttrValue("type") == typ && id.AttrValue("name") == name {
			return true
		}
	}
	return false
}

func featureCounts(q *stanza.Element) map[string]int {
	counts := make(map[string]int)
	for _, f := range q.ChildrenNamed(disco.NSInfo, "feature") {
		counts[f.AttrValue("var")]++
	}
	return counts
}
