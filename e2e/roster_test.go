package e2e

import (
	"context"
	"testing"

	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/storage"
)

const nsRoster = "jabber:iq:roster"

func isRosterPush(contact string) func(*stanza.Stanza) bool {
	return func(el *stanza.Stanza) bool {
		if el.Name != stanza.IQ || el.Type != "set" {
			return false
		}
		q := el.Child(nsRoster, "query")
		return q != nil && q.Child(nsRoster, "item").AttrValue("jid") == contact
	}
}

func getRoster(c *xmpptest.Client, ver string) *stanza.Stanza {
	q := "<query xmlns='jabber:iq:roster'/>"
	if ver != "-" {
		q = "<query xmlns='jabber:iq:roster' ver='" + ver + "'/>"
	}
	return c.Request("<iq type='get' id='rg'>"+q+"</iq>", "rg")
}

func TestRosterPushReachesAllInterestedResources(t *testing.T) {
	s := newPair(t)
	orchard := s.Login("romeo", "r-secret", "orchard")
	garden := s.Login("romeo", "r-secret", "garden")
	uninterested := s.Login("romeo", "r-secret", "bed")
	getRoster(orchard, "-")
	getRoster(garden, "-")

	resp := orchard.Request("<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='juliet@localhost' name='Juliet'/></query></iq>", "r1")
	if resp.Type != "result" {
		t.Fatalf("roster set: %s", resp)
	}
	for _, c := range []*xmpptest.Client{orchard, garden} {
		push := c.Expect(isRosterPush("juliet@localhost"))
		// B15: a push comes from the bare JID or has no 'from'; the item
		// states its subscription.
		if push.RawFrom != "" && push.RawFrom != "romeo@localhost" {
			t.Errorf("push to %s has from=%q", c.JID, push.RawFrom)
		}
		item := push.Child(nsRoster, "query").Child(nsRoster, "item")
		if item.AttrValue("subscription") != "none" || item.AttrValue("name") != "Juliet" {
			t.Errorf("pushed item: %s", item)
		}
	}
	for _, el := range uninterested.Sync() {
		if isRosterPush("juliet@localhost")(el) {
			t.Errorf("resource that never fetched its roster got a push")
		}
	}
	got := getRoster(orchard, "-")
	if got.RawFrom != "" && got.RawFrom != "romeo@localhost" {
		t.Errorf("roster result from=%q", got.RawFrom)
	}
}

func TestRosterVersioning(t *testing.T) {
	s := newPair(t)
	c := s.Login("romeo", "r-secret", "orchard")
	if c.Features == nil {
		t.Fatal("no features")
	}
	first := getRoster(c, "")
	ver := first.Child(nsRoster, "query").AttrValue("ver")
	if ver == "" {
		t.Fatalf("roster result carries no version: %s", first)
	}
	// Current version: empty result (RFC 6121 §2.6.3).
	same := getRoster(c, ver)
	if same.Type != "result" || len(same.Children()) != 0 {
		t.Errorf("roster get with current ver: %s, want an empty result", same)
	}
	c.Request("<iq type='set' id='r2'><query xmlns='jabber:iq:roster'><item jid='nurse@localhost'/></query></iq>", "r2")
	push := c.Expect(isRosterPush("nurse@localhost"))
	newVer := push.Child(nsRoster, "query").AttrValue("ver")
	if newVer == "" || newVer == ver {
		t.Errorf("push version %q, want a new one after %q", newVer, ver)
	}
	stale := getRoster(c, ver)
	q := stale.Child(nsRoster, "query")
	if q == nil || q.AttrValue("ver") != newVer || len(q.Elements()) != 1 {
		t.Errorf("roster get with stale ver: %s", stale)
	}
}

func TestRosterSetValidation(t *testing.T) {
	s := newPair(t)
	c := s.Login("romeo", "r-secret", "orchard")
	cases := []struct {
		name, query, cond string
	}{
		{"two items", "<item jid='a@localhost'/><item jid='b@localhost'/>", "bad-request"},
		{"bad jid", "<item jid='@localhost'/>", "jid-malformed"},
		{"empty group", "<item jid='a@localhost'><group/></item>", "not-acceptable"},
		{"duplicate group", "<item jid='a@localhost'><group>x</group><group>x</group></item>", "bad-request"},
		{"remove missing", "<item jid='ghost@localhost' subscription='remove'/>", "item-not-found"},
	}
	for i, tc := range cases {
		id := "v" + string(rune('a'+i))
		resp := c.Request("<iq type='set' id='"+id+"'><query xmlns='jabber:iq:roster'>"+tc.query+"</query></iq>", id)
		if got := xmpptest.ErrorCondition(resp); got != tc.cond {
			t.Errorf("%s: condition %q, want %q", tc.name, got, tc.cond)
		}
	}
}

// TestSubscriptionHandshake runs the full mutual subscription of RFC 6121
// §3.1 between two online accounts and checks both rosters.
func TestSubscriptionHandshake(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	j := s.Login("juliet", "j-secret", "balcony")
	getRoster(r, "-")
	getRoster(j, "-")

	r.Send("<presence to='juliet@localhost' type='subscribe'/>")
	push := r.Expect(isRosterPush("juliet@localhost"))
	if item := push.Child(nsRoster, "query").Child(nsRoster, "item"); item.AttrValue("ask") != "subscribe" {
		t.Errorf("pending-out push: %s", item)
	}
	req := j.Expect(xmpptest.IsPresence("romeo@localhost", "subscribe"))
	if req.RawFrom != "romeo@localhost" {
		t.Errorf("subscription request from %q, want the bare JID", req.RawFrom)
	}
	j.Send("<presence to='romeo@localhost' type='subscribed'/>")
	j.Expect(isRosterPush("romeo@localhost"))
	r.Expect(xmpptest.IsPresence("juliet@localhost", "subscribed"))
	// Romeo now sees Juliet's presence.
	r.Expect(xmpptest.IsPresence("juliet@localhost/balcony", ""))

	j.Send("<presence to='romeo@localhost' type='subscribe'/>")
	r.Expect(xmpptest.IsPresence("juliet@localhost", "subscribe"))
	r.Send("<presence to='juliet@localhost' type='subscribed'/>")
	j.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))

	ctx := context.Background()
	ri, err := s.Store().GetRosterItem(ctx, storage.Owner{Domain: "localhost", Local: "romeo"}, "juliet@localhost")
	if err != nil || ri.Subscription != storage.SubBoth || ri.AskOut || ri.PendingIn {
		t.Errorf("romeo's item: %+v, %v; want both", ri, err)
	}
	ji, err := s.Store().GetRosterItem(ctx, storage.Owner{Domain: "localhost", Local: "juliet"}, "romeo@localhost")
	if err != nil || ji.Subscription != storage.SubBoth {
		t.Errorf("juliet's item: %+v, %v; want both", ji, err)
	}

	// Unavailable presence reaches the subscribed contact when a session
	// ends.
	j.Close()
	r.Expect(xmpptest.IsPresence("juliet@localhost/balcony", "unavailable"))
}

func TestSubscriptionRequestWaitsForLogin(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	r.Send("<presence to='juliet@localhost' type='subscribe'/>")
	r.Sync()
	j := s.Login("juliet", "j-secret", "balcony")
	j.Expect(xmpptest.IsPresence("romeo@localhost", "subscribe"))
}

func TestPreApproval(t *testing.T) {
	s := newPair(t)
	j := s.Login("juliet", "j-secret", "balcony")
	getRoster(j, "-")
	j.Send("<presence to='romeo@localhost' type='subscribed'/>")
	push := j.Expect(isRosterPush("romeo@localhost"))
	if push.Child(nsRoster, "query").Child(nsRoster, "item").AttrValue("approved") != "true" {
		t.Errorf("pre-approval push: %s", push)
	}
	r := s.Login("romeo", "r-secret", "orchard")
	r.Send("<presence to='juliet@localhost' type='subscribe'/>")
	r.Expect(xmpptest.IsPresence("juliet@localhost", "subscribed"))
	for _, el := range j.Sync() {
		if el.Name == stanza.Presence && el.Type == "subscribe" {
			t.Errorf("pre-approved request was delivered to juliet: %s", el)
		}
	}
}

func TestProbeAndDirectedPresence(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	n := s.Login("nurse", "n-secret", "chamber")
	// Directed presence to a non-contact, then the session ends: the
	// target gets unavailable (RFC 6121 §4.6.3).
	r.Send("<presence to='nurse@localhost'><status>psst</status></presence>")
	n.Expect(xmpptest.IsPresence("romeo@localhost/orchard", ""))
	r.Close()
	n.Expect(xmpptest.IsPresence("romeo@localhost/orchard", "unavailable"))

	// A probe from a non-subscriber is not answered.
	r2 := s.Login("romeo", "r-secret", "orchard")
	n.Send("<presence to='romeo@localhost' type='probe'/>")
	for _, el := range n.Sync() {
		if el.Name == stanza.Presence && el.From.Bare().String() == "romeo@localhost" {
			t.Errorf("probe from a non-subscriber answered: %s", el)
		}
	}
	_ = r2
}
